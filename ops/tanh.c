/* tanh, with the gradient dy * (1 - y^2) from the output. */
#include "ops.h"

#include <math.h>

extern const nn_op_def nn_op_tanh_grad;

static nn_status tanh_forward(nn_kernel_call *c) {
    const float *restrict x = NN_CF(c->in[0]);
    float *restrict y = NN_F(c->out);
    for (int64_t i = 0; i < c->out->size; i++) y[i] = tanhf(x[i]);
    return NN_OK;
}

static nn_status tanh_grad(nn_graph *g, nn_node *node, nn_node *dy, const int *want, nn_node **dx) {
    (void)want;
    dx[0] = nn_grad_op(g, &nn_op_tanh_grad, node, dy);
    return g->status;
}

static nn_status tanh_grad_forward(nn_kernel_call *c) {
    const float *restrict y = NN_CF(c->in[0]), *restrict dy = NN_CF(c->in[1]);
    float *restrict dx = NN_F(c->out);
    for (int64_t i = 0; i < c->out->size; i++) dx[i] = dy[i] * (1.f - y[i] * y[i]);
    return NN_OK;
}

const nn_op_def nn_op_tanh = {
    .name = "tanh",
    .n_inputs = 1,
    .shape = nn_rule_like_input,
    .forward = tanh_forward,
    .grad = tanh_grad,
    .inplace_ok = NN_INPLACE(0),
    .role = NN_OP_ACTIVATION,
};
const nn_op_def nn_op_tanh_grad = {
    .name = "tanh_grad",
    .n_inputs = 2,
    .shape = nn_rule_pair,
    .forward = tanh_grad_forward,
    .inplace_ok = NN_INPLACE(0) | NN_INPLACE(1),
};

/* The ops this file defines, for the table (ops/meson.build). */
const nn_op_def *const nn_ops_tanh[] = {&nn_op_tanh, &nn_op_tanh_grad, NULL};

nn_node *nn_tanh(nn_graph *g, nn_node *x) { return nn_op_node(g, &nn_op_tanh, NULL, 1, &x, NULL, NULL); }
