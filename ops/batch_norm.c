/* batch_norm(x, gamma, beta, running_mean, running_var): per-channel
 * normalisation of x [N, C] or [N, C, H, W] (channel axis 1, NCHW), then
 * gamma * xhat + beta. fattr[0] momentum, fattr[1] epsilon (Keras's
 * defaults 0.99 and 1e-3 come from nn_batch_norm).
 *
 * Training mode: xhat uses the batch's mean and (biased) variance, and
 * the kernel moves the running statistics towards them,
 *   running = momentum * running + (1 - momentum) * batch
 * (Keras's convention; PyTorch's momentum is 1 minus this). The running
 * statistics are frozen params (nn_param_set_trainable), so the optimizer
 * leaves them alone and the weights file keeps them. Evaluation mode: xhat
 * uses the running statistics, which stay as they are.
 *
 * batch_norm_grad(x, dy, gamma, running_mean, running_var) gives one of
 * dx, dgamma, dbeta, d running_mean, d running_var (iattr[0] = 0..4),
 * each from the same per-channel sums, in the run's mode: with batch
 * statistics
 *   dx = gamma / (M sigma) (M dy - sum(dy) - xhat sum(dy xhat))
 * (M the elements a channel) and the running statistics do not matter;
 * with running ones dx = gamma dy / sigma, and the running statistics
 * have gradients too (nn_fit never asks: they are frozen, but a gradient
 * audit of the op in evaluation mode does). */
#include "ops.h"

#include <math.h>

extern const nn_op_def nn_op_batch_norm_grad;

enum { BN_DX = 0, BN_DGAMMA, BN_DBETA, BN_DMEAN, BN_DVAR };

/* The shape facts both ops check: x [N, C(, H, W)] and four [C] vectors
 * at inputs 1.. (skipping `skip`, the gradient's dy). */
static nn_status bn_check(nn_shape_ctx *c, int xi, int skip) {
    const float *f = c->node->fattr;
    for (int i = 0; i < c->n_in; i++)
        if (c->in_dtype[i] != NN_F32) return nn_errf(c->err, NN_ERR_ARG, "inputs must be f32");
    nn_shape x = c->in[xi];
    if (x.rank != 2 && x.rank != 4) return nn_errf(c->err, NN_ERR_SHAPE, "input must be [N, C] or [N, C, H, W], it has rank %d", x.rank);
    if (x.dim[1] <= 0) return nn_errf(c->err, NN_ERR_SHAPE, "the channel dimension must be a fixed positive size");
    for (int i = 0; i < c->n_in; i++) {
        if (i == xi || i == skip) continue;
        if (c->in[i].rank != 1 || c->in[i].dim[0] != x.dim[1])
            return nn_errf(c->err, NN_ERR_SHAPE, "input %d must be [%lld], one value a channel", i, (long long)x.dim[1]);
    }
    if (!(f[0] >= 0.f && f[0] <= 1.f)) return nn_errf(c->err, NN_ERR_ARG, "momentum %g is outside [0, 1]", (double)f[0]);
    if (!(f[1] > 0.f) || !isfinite(f[1])) return nn_errf(c->err, NN_ERR_ARG, "epsilon %g must be positive", (double)f[1]);
    return NN_OK;
}

static nn_status bn_shape(nn_shape_ctx *c, nn_shape *out, nn_dtype *dt) {
    nn_status st = bn_check(c, 0, -1);
    *out = c->in[0];
    *dt = NN_F32;
    return st;
}

/* x as [N, C, P]. */
static void bn_dims(const nn_tensor *x, int64_t *n, int64_t *ch, int64_t *p) {
    *n = x->shape.dim[0];
    *ch = x->shape.dim[1];
    *p = x->shape.rank == 4 ? x->shape.dim[2] * x->shape.dim[3] : 1;
}

/* Channel k's batch mean and biased variance, summed in double. */
static void channel_moments(const float *x, int64_t n, int64_t ch, int64_t p, int64_t k, double *mean, double *var) {
    double s = 0.0, s2 = 0.0;
    for (int64_t i = 0; i < n; i++) {
        const float *v = x + (i * ch + k) * p;
        for (int64_t j = 0; j < p; j++) s += v[j];
    }
    double m = s / (double)(n * p);
    for (int64_t i = 0; i < n; i++) {
        const float *v = x + (i * ch + k) * p;
        for (int64_t j = 0; j < p; j++) s2 += (v[j] - m) * (v[j] - m);
    }
    *mean = m;
    *var = s2 / (double)(n * p);
}

/* The statistics channel k is normalised with in this run. */
static void channel_stats(const nn_kernel_call *c, const nn_tensor *x, int64_t k, double *mean, double *var,
                          double *istd) {
    int64_t n, ch, p;
    bn_dims(x, &n, &ch, &p);
    if (c->training) {
        channel_moments(NN_CF(x), n, ch, p, k, mean, var);
    } else {
        /* a variance below zero (only an edited weights file can hold one)
         * counts as zero rather than making every output NaN */
        *mean = NN_CF(c->in[3])[k];
        *var = NN_CF(c->in[4])[k] > 0.f ? NN_CF(c->in[4])[k] : 0.0;
    }
    *istd = 1.0 / sqrt(*var + (double)c->node->fattr[1]);
}

static nn_status bn_forward(nn_kernel_call *c) {
    const nn_tensor *x = c->in[0];
    int64_t n, ch, p;
    bn_dims(x, &n, &ch, &p);
    const float *gamma = NN_CF(c->in[1]), *beta = NN_CF(c->in[2]);
    /* the running statistics are the frozen params' own tensors, which
     * the op updates in training mode */
    float *rmean = (float *)c->in[3]->data, *rvar = (float *)c->in[4]->data;
    float mom = c->node->fattr[0];
    for (int64_t k = 0; k < ch; k++) {
        double mean, var, istd;
        channel_stats(c, x, k, &mean, &var, &istd);
        if (c->training) {
            rmean[k] = (float)(mom * rmean[k] + (1.0 - mom) * mean);
            rvar[k] = (float)(mom * rvar[k] + (1.0 - mom) * var);
        }
        float a = (float)(gamma[k] * istd), b = (float)(beta[k] - gamma[k] * istd * mean);
        for (int64_t i = 0; i < n; i++) {
            const float *v = NN_CF(x) + (i * ch + k) * p;
            float *y = NN_F(c->out) + (i * ch + k) * p;
            for (int64_t j = 0; j < p; j++) y[j] = a * v[j] + b;
        }
    }
    return NN_OK;
}

static nn_status bn_grad_shape(nn_shape_ctx *c, nn_shape *out, nn_dtype *dt) {
    nn_status st = bn_check(c, 0, 1);
    if (st != NN_OK) return st;
    if (!nn_shape_equal(c->in[0], c->in[1])) return nn_errf(c->err, NN_ERR_SHAPE, "x and dy must have one shape");
    int64_t which = c->node->iattr[0];
    if (which < BN_DX || which > BN_DVAR)
        return nn_errf(c->err, NN_ERR_ARG, "unknown gradient %lld (0 dx, 1 dgamma, 2 dbeta, 3 and 4 the running mean and variance)",
                       (long long)which);
    *out = which == BN_DX ? c->in[0] : NN_SHAPE(c->in[0].dim[1]);
    *dt = NN_F32;
    return NN_OK;
}

static nn_status bn_grad_forward(nn_kernel_call *c) {
    const nn_tensor *x = c->in[0];
    int64_t n, ch, p;
    bn_dims(x, &n, &ch, &p);
    const float *dy = NN_CF(c->in[1]), *gamma = NN_CF(c->in[2]);
    int64_t which = c->node->iattr[0];
    double m = (double)(n * p);
    for (int64_t k = 0; k < ch; k++) {
        double mean, var, istd, sdy = 0.0, sdyx = 0.0;
        channel_stats(c, x, k, &mean, &var, &istd);
        for (int64_t i = 0; i < n; i++) {
            const float *v = NN_CF(x) + (i * ch + k) * p, *d = dy + (i * ch + k) * p;
            for (int64_t j = 0; j < p; j++) {
                sdy += d[j];
                sdyx += d[j] * (v[j] - mean) * istd;
            }
        }
        if (which == BN_DGAMMA) NN_F(c->out)[k] = (float)sdyx;
        if (which == BN_DBETA) NN_F(c->out)[k] = (float)sdy;
        /* y = gamma (x - mean) istd + beta with istd = (var + eps)^-1/2 */
        if (which == BN_DMEAN) NN_F(c->out)[k] = c->training ? 0.f : (float)(-gamma[k] * istd * sdy);
        if (which == BN_DVAR)
            NN_F(c->out)[k] = c->training || !(NN_CF(c->in[4])[k] > 0.f) ? 0.f : (float)(-0.5 * gamma[k] * istd * istd * sdyx);
        if (which != BN_DX) continue;
        double scale = gamma[k] * istd;
        for (int64_t i = 0; i < n; i++) {
            const float *v = NN_CF(x) + (i * ch + k) * p, *d = dy + (i * ch + k) * p;
            float *o = NN_F(c->out) + (i * ch + k) * p;
            for (int64_t j = 0; j < p; j++) {
                double xhat = (v[j] - mean) * istd;
                o[j] = (float)(c->training ? scale * (d[j] - sdy / m - xhat * sdyx / m) : scale * d[j]);
            }
        }
    }
    return NN_OK;
}

static nn_status bn_grad(nn_graph *g, nn_node *node, nn_node *dy, const int *want, nn_node **dx) {
    nn_node *in[5] = {node->in[0], dy, node->in[1], node->in[3], node->in[4]};
    for (int which = BN_DX; which <= BN_DVAR; which++) {
        if (!want[which]) continue;
        int64_t iattr[NN_MAX_ATTRS] = {which};
        dx[which] = nn_op_node(g, &nn_op_batch_norm_grad, NULL, 5, in, node->fattr, iattr);
    }
    return g->status;
}

const nn_op_def nn_op_batch_norm = {
    .name = "batch_norm",
    .n_inputs = 5,
    .shape = bn_shape,
    .forward = bn_forward,
    .grad = bn_grad,
    .attrs = {{"momentum", 'f', 0}, {"epsilon", 'f', 1}},
    .layer_kind = "BatchNormalization",
};
const nn_op_def nn_op_batch_norm_grad = {
    .name = "batch_norm_grad",
    .n_inputs = 5,
    .shape = bn_grad_shape,
    .forward = bn_grad_forward,
    .attrs = {{"momentum", 'f', 0}, {"epsilon", 'f', 1}, {"wrt", 'n', 0}},
};

/* The ops this file defines, for the table (ops/meson.build). */
const nn_op_def *const nn_ops_batch_norm[] = {&nn_op_batch_norm, &nn_op_batch_norm_grad, NULL};


nn_node *nn_batch_norm_op(nn_graph *g, nn_node *x, nn_node *gamma, nn_node *beta, nn_node *running_mean,
                          nn_node *running_var, float momentum, float epsilon) {
    nn_node *in[5] = {x, gamma, beta, running_mean, running_var};
    float fattr[NN_MAX_ATTRS] = {momentum, epsilon};
    return nn_op_node(g, &nn_op_batch_norm, NULL, 5, in, fattr, NULL);
}
