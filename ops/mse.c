/* mse(pred, target): mean((pred - target)^2) over all elements.
 * Gradient: 2 (pred - target) / N for pred, its negative for target. */
#include "ops.h"

extern const nn_op_def nn_op_mse_grad;

static nn_status mse_shape(nn_shape_ctx *c, nn_shape *out, nn_dtype *dt) {
    return nn_rule_pair_loss(c, out, dt, "prediction and target");
}

static nn_status mse_forward(nn_kernel_call *c) {
    const float *p = NN_CF(c->in[0]), *t = NN_CF(c->in[1]);
    int64_t n = c->in[0]->size;
    double total = 0.0;
    for (int64_t i = 0; i < n; i++) {
        double d = (double)p[i] - (double)t[i];
        total += d * d;
    }
    NN_F(c->out)[0] = (float)(total / (double)n);
    return NN_OK;
}

static nn_status mse_grad(nn_graph *g, nn_node *node, nn_node *dy, const int *want, nn_node **dx) {
    nn_node *dp = nn_grad_op3(g, &nn_op_mse_grad, node->in[0], node->in[1], dy);
    if (want[0]) dx[0] = dp;
    if (want[1]) dx[1] = nn_scale(g, dp, -1.f);
    return g->status;
}

static nn_status mse_grad_forward(nn_kernel_call *c) {
    const float *p = NN_CF(c->in[0]), *t = NN_CF(c->in[1]);
    float *dp = NN_F(c->out);
    int64_t n = c->in[0]->size;
    float scale = 2.f * NN_CF(c->in[2])[0] / (float)n;
    for (int64_t i = 0; i < n; i++) dp[i] = scale * (p[i] - t[i]);
    return NN_OK;
}

static nn_status mse_grad_shape(nn_shape_ctx *c, nn_shape *out, nn_dtype *dt) {
    return nn_rule_pair_loss_grad(c, out, dt, "prediction and target");
}

const nn_op_def nn_op_mse = {
    .name = "mse",
    .n_inputs = 2,
    .shape = mse_shape,
    .forward = mse_forward,
    .grad = mse_grad,
    .role = NN_OP_LOSS,
    .output = NN_OUTPUT_VALUES,
};
const nn_op_def nn_op_mse_grad = {
    .name = "mse_grad",
    .n_inputs = 3,
    .shape = mse_grad_shape,
    .forward = mse_grad_forward,
};

/* The ops this file defines, for the table (ops/meson.build). */
const nn_op_def *const nn_ops_mse[] = {&nn_op_mse, &nn_op_mse_grad, NULL};

nn_node *nn_mse(nn_graph *g, nn_node *pred, nn_node *target) {
    nn_node *in[2] = {pred, target};
    return nn_op_node(g, &nn_op_mse, NULL, 2, in, NULL, NULL);
}
