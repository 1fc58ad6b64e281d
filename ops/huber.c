/* huber(pred, target): the mean over all elements of
 *   r^2 / 2            where |r| <= delta
 *   delta (|r| - delta/2) elsewhere,     r = pred - target,
 * delta fattr[0] > 0 (Keras's Huber default 1). Quadratic near zero,
 * linear in the tails, so outliers pull less than under mse. Gradient:
 * clamp(r, -delta, delta) / N for pred, its negative for target. */
#include "ops.h"

#include <math.h>

extern const nn_op_def nn_op_huber_grad;

static nn_status delta_ok(nn_shape_ctx *c) {
    float d = c->node->fattr[0];
    if (!(d > 0.f) || !isfinite(d)) return nn_errf(c->err, NN_ERR_ARG, "delta %g must be positive and finite", (double)d);
    return NN_OK;
}

static nn_status huber_shape(nn_shape_ctx *c, nn_shape *out, nn_dtype *dt) {
    nn_status st = delta_ok(c);
    return st != NN_OK ? st : nn_rule_pair_loss(c, out, dt, "prediction and target");
}

static nn_status huber_grad_shape(nn_shape_ctx *c, nn_shape *out, nn_dtype *dt) {
    nn_status st = delta_ok(c);
    return st != NN_OK ? st : nn_rule_pair_loss_grad(c, out, dt, "prediction and target");
}

static nn_status huber_forward(nn_kernel_call *c) {
    const float *p = NN_CF(c->in[0]), *t = NN_CF(c->in[1]);
    int64_t n = c->in[0]->size;
    double d = c->node->fattr[0], total = 0.0;
    for (int64_t i = 0; i < n; i++) {
        double r = fabs((double)p[i] - (double)t[i]);
        total += r <= d ? 0.5 * r * r : d * (r - 0.5 * d);
    }
    NN_F(c->out)[0] = (float)(total / (double)n);
    return NN_OK;
}

static nn_status huber_grad_forward(nn_kernel_call *c) {
    const float *p = NN_CF(c->in[0]), *t = NN_CF(c->in[1]);
    float *dp = NN_F(c->out);
    int64_t n = c->in[0]->size;
    float d = c->node->fattr[0], scale = NN_CF(c->in[2])[0] / (float)n;
    for (int64_t i = 0; i < n; i++) {
        float r = p[i] - t[i];
        r = r > d ? d : r < -d ? -d : r;
        dp[i] = scale * r;
    }
    return NN_OK;
}

static nn_status huber_grad(nn_graph *g, nn_node *node, nn_node *dy, const int *want, nn_node **dx) {
    nn_node *in[3] = {node->in[0], node->in[1], dy};
    nn_node *dp = nn_op_node(g, &nn_op_huber_grad, NULL, 3, in, node->fattr, NULL);
    if (want[0]) dx[0] = dp;
    if (want[1]) dx[1] = nn_scale(g, dp, -1.f);
    return g->status;
}

const nn_op_def nn_op_huber = {
    .name = "huber",
    .n_inputs = 2,
    .shape = huber_shape,
    .forward = huber_forward,
    .grad = huber_grad,
    .attrs = {{"delta", 'f', 0}},
    .role = NN_OP_LOSS,
    .output = NN_OUTPUT_VALUES,
};
const nn_op_def nn_op_huber_grad = {
    .name = "huber_grad",
    .n_inputs = 3,
    .shape = huber_grad_shape,
    .forward = huber_grad_forward,
    .attrs = {{"delta", 'f', 0}},
};

/* The ops this file defines, for the table (ops/meson.build). */
const nn_op_def *const nn_ops_huber[] = {&nn_op_huber, &nn_op_huber_grad, NULL};


nn_node *nn_huber(nn_graph *g, nn_node *pred, nn_node *target, float delta) {
    nn_node *in[2] = {pred, target};
    float fattr[NN_MAX_ATTRS] = {delta};
    return nn_op_node(g, &nn_op_huber, NULL, 2, in, fattr, NULL);
}
