/* layer_norm(x, gamma, beta): each row of x (over its last axis, length D)
 * normalised to mean 0 and variance 1 (biased), then gamma * xhat + beta,
 * gamma and beta [D]; epsilon fattr[0] (Keras 1e-3, PyTorch 1e-5). The
 * same in training and evaluation. layer_norm_grad(x, dy, gamma) gives dx,
 * dgamma or dbeta (iattr[0] = 0, 1, 2):
 *   dx = (1 / (D sigma)) (D g - sum(g) - xhat sum(g xhat)),  g = gamma dy. */
#include "ops.h"

#include <math.h>
#include <string.h>

extern const nn_op_def nn_op_layer_norm_grad;

static nn_status ln_check(nn_shape_ctx *c, int skip) {
    for (int i = 0; i < c->n_in; i++)
        if (c->in_dtype[i] != NN_F32) return nn_errf(c->err, NN_ERR_ARG, "inputs must be f32");
    nn_shape x = c->in[0];
    if (x.rank < 1) return nn_errf(c->err, NN_ERR_SHAPE, "input must have at least one axis");
    int64_t d = x.dim[x.rank - 1];
    if (d <= 0) return nn_errf(c->err, NN_ERR_SHAPE, "the last axis must be a fixed positive size");
    for (int i = 1; i < c->n_in; i++) {
        if (i == skip) continue;
        if (c->in[i].rank != 1 || c->in[i].dim[0] != d)
            return nn_errf(c->err, NN_ERR_SHAPE, "input %d must be [%lld], one value a feature", i, (long long)d);
    }
    float eps = c->node->fattr[0];
    if (!(eps > 0.f) || !isfinite(eps)) return nn_errf(c->err, NN_ERR_ARG, "epsilon %g must be positive", (double)eps);
    return NN_OK;
}

static nn_status ln_shape(nn_shape_ctx *c, nn_shape *out, nn_dtype *dt) {
    nn_status st = ln_check(c, -1);
    *out = c->in[0];
    *dt = NN_F32;
    return st;
}

static void row_stats(const float *v, int64_t d, float eps, double *mean, double *istd) {
    double s = 0.0, s2 = 0.0;
    for (int64_t j = 0; j < d; j++) s += v[j];
    double m = s / (double)d;
    for (int64_t j = 0; j < d; j++) s2 += (v[j] - m) * (v[j] - m);
    *mean = m;
    *istd = 1.0 / sqrt(s2 / (double)d + (double)eps);
}

static nn_status ln_forward(nn_kernel_call *c) {
    int64_t rows, d;
    nn_rows_of(c->in[0], &rows, &d);
    const float *gamma = NN_CF(c->in[1]), *beta = NN_CF(c->in[2]);
    for (int64_t r = 0; r < rows; r++) {
        const float *v = NN_CF(c->in[0]) + r * d;
        float *y = NN_F(c->out) + r * d;
        double mean, istd;
        row_stats(v, d, c->node->fattr[0], &mean, &istd);
        for (int64_t j = 0; j < d; j++) y[j] = (float)(gamma[j] * (v[j] - mean) * istd + beta[j]);
    }
    return NN_OK;
}

static nn_status ln_grad_shape(nn_shape_ctx *c, nn_shape *out, nn_dtype *dt) {
    nn_status st = ln_check(c, 1);
    if (st != NN_OK) return st;
    if (!nn_shape_equal(c->in[0], c->in[1])) return nn_errf(c->err, NN_ERR_SHAPE, "x and dy must have one shape");
    int64_t which = c->node->iattr[0];
    if (which < 0 || which > 2) return nn_errf(c->err, NN_ERR_ARG, "unknown gradient %lld (0 dx, 1 dgamma, 2 dbeta)", (long long)which);
    *out = which == 0 ? c->in[0] : NN_SHAPE(c->in[0].dim[c->in[0].rank - 1]);
    *dt = NN_F32;
    return NN_OK;
}

static nn_status ln_grad_forward(nn_kernel_call *c) {
    int64_t rows, d;
    nn_rows_of(c->in[0], &rows, &d);
    const float *gamma = NN_CF(c->in[2]);
    int64_t which = c->node->iattr[0];
    float *o = NN_F(c->out);
    if (which != 0) memset(o, 0, (size_t)d * sizeof *o);
    for (int64_t r = 0; r < rows; r++) {
        const float *v = NN_CF(c->in[0]) + r * d, *dy = NN_CF(c->in[1]) + r * d;
        double mean, istd;
        row_stats(v, d, c->node->fattr[0], &mean, &istd);
        if (which == 1) {
            for (int64_t j = 0; j < d; j++) o[j] += (float)(dy[j] * (v[j] - mean) * istd);
            continue;
        }
        if (which == 2) {
            for (int64_t j = 0; j < d; j++) o[j] += dy[j];
            continue;
        }
        double sg = 0.0, sgx = 0.0;
        for (int64_t j = 0; j < d; j++) {
            double g = (double)gamma[j] * dy[j];
            sg += g;
            sgx += g * (v[j] - mean) * istd;
        }
        for (int64_t j = 0; j < d; j++) {
            double g = (double)gamma[j] * dy[j], xhat = (v[j] - mean) * istd;
            o[r * d + j] = (float)(istd * (g - sg / (double)d - xhat * sgx / (double)d));
        }
    }
    return NN_OK;
}

static nn_status ln_grad(nn_graph *g, nn_node *node, nn_node *dy, const int *want, nn_node **dx) {
    nn_node *in[3] = {node->in[0], dy, node->in[1]};
    for (int which = 0; which < 3; which++) {
        if (!want[which]) continue;
        int64_t iattr[NN_MAX_ATTRS] = {which};
        dx[which] = nn_op_node(g, &nn_op_layer_norm_grad, NULL, 3, in, node->fattr, iattr);
    }
    return g->status;
}

const nn_op_def nn_op_layer_norm = {
    .name = "layer_norm",
    .n_inputs = 3,
    .shape = ln_shape,
    .forward = ln_forward,
    .grad = ln_grad,
    .attrs = {{"epsilon", 'f', 0}},
    .layer_kind = "LayerNormalization",
};
const nn_op_def nn_op_layer_norm_grad = {
    .name = "layer_norm_grad",
    .n_inputs = 3,
    .shape = ln_grad_shape,
    .forward = ln_grad_forward,
    .attrs = {{"epsilon", 'f', 0}, {"wrt", 'n', 0}},
};

/* The ops this file defines, for the table (ops/meson.build). */
const nn_op_def *const nn_ops_layer_norm[] = {&nn_op_layer_norm, &nn_op_layer_norm_grad, NULL};


nn_node *nn_layer_norm(nn_graph *g, nn_node *x, nn_node *gamma, nn_node *beta, float epsilon) {
    nn_node *in[3] = {x, gamma, beta};
    float fattr[NN_MAX_ATTRS] = {epsilon};
    return nn_op_node(g, &nn_op_layer_norm, NULL, 3, in, fattr, NULL);
}
