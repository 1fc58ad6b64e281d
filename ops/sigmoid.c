/* sigmoid: 1 / (1 + exp(-x)), evaluated without overflow for large |x|;
 * its gradient dy * y * (1 - y) needs only the output. */
#include "ops.h"

#include <math.h>

extern const nn_op_def nn_op_sigmoid_grad;

static nn_status sigmoid_forward(nn_kernel_call *c) {
    const float *restrict x = NN_CF(c->in[0]);
    float *restrict y = NN_F(c->out);
    for (int64_t i = 0; i < c->out->size; i++) {
        /* exp of a non-positive number never overflows */
        float e = expf(-fabsf(x[i]));
        y[i] = x[i] >= 0.f ? 1.f / (1.f + e) : e / (1.f + e);
    }
    return NN_OK;
}

static nn_status sigmoid_grad(nn_graph *g, nn_node *node, nn_node *dy, const int *want, nn_node **dx) {
    (void)want;
    dx[0] = nn_grad_op(g, &nn_op_sigmoid_grad, node, dy);
    return g->status;
}

static nn_status sigmoid_grad_forward(nn_kernel_call *c) {
    const float *restrict y = NN_CF(c->in[0]), *restrict dy = NN_CF(c->in[1]);
    float *restrict dx = NN_F(c->out);
    for (int64_t i = 0; i < c->out->size; i++) dx[i] = dy[i] * y[i] * (1.f - y[i]);
    return NN_OK;
}

const nn_op_def nn_op_sigmoid = {
    .name = "sigmoid",
    .n_inputs = 1,
    .shape = nn_rule_like_input,
    .forward = sigmoid_forward,
    .grad = sigmoid_grad,
    .inplace_ok = NN_INPLACE(0),
    .role = NN_OP_ACTIVATION,
    .fusable = 1,
    .fused_act = NN_ACT_SIGMOID,
};
const nn_op_def nn_op_sigmoid_grad = {
    .name = "sigmoid_grad",
    .n_inputs = 2,
    .shape = nn_rule_pair,
    .forward = sigmoid_grad_forward,
    .inplace_ok = NN_INPLACE(0) | NN_INPLACE(1),
};

/* The ops this file defines, for the table (ops/meson.build). */
const nn_op_def *const nn_ops_sigmoid[] = {&nn_op_sigmoid, &nn_op_sigmoid_grad, NULL};

nn_node *nn_sigmoid(nn_graph *g, nn_node *x) { return nn_op_node(g, &nn_op_sigmoid, NULL, 1, &x, NULL, NULL); }
