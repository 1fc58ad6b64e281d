/* softplus(x) = log(1 + e^x), computed as max(x, 0) + log1p(e^-|x|) so
 * that large |x| neither overflows nor loses the small term.
 * softplus_grad(x, dy) = dy sigmoid(x), in the same stable form. */
#include "ops.h"

#include <math.h>

extern const nn_op_def nn_op_softplus_grad;

static nn_status softplus_forward(nn_kernel_call *c) {
    const float *x = NN_CF(c->in[0]);
    float *y = NN_F(c->out);
    for (int64_t i = 0; i < c->out->size; i++) y[i] = fmaxf(x[i], 0.f) + log1pf(expf(-fabsf(x[i])));
    return NN_OK;
}

static nn_status softplus_grad_forward(nn_kernel_call *c) {
    const float *x = NN_CF(c->in[0]), *dy = NN_CF(c->in[1]);
    float *dx = NN_F(c->out);
    for (int64_t i = 0; i < c->out->size; i++) {
        float e = expf(-fabsf(x[i]));
        float s = x[i] >= 0.f ? 1.f / (1.f + e) : e / (1.f + e);
        dx[i] = dy[i] * s;
    }
    return NN_OK;
}

static nn_status softplus_grad(nn_graph *g, nn_node *node, nn_node *dy, const int *want, nn_node **dx) {
    (void)want;
    dx[0] = nn_grad_op(g, &nn_op_softplus_grad, node->in[0], dy);
    return g->status;
}

const nn_op_def nn_op_softplus = {
    .name = "softplus",
    .n_inputs = 1,
    .shape = nn_rule_like_input,
    .forward = softplus_forward,
    .grad = softplus_grad,
    .inplace_ok = NN_INPLACE(0),
    .role = NN_OP_ACTIVATION,
};
const nn_op_def nn_op_softplus_grad = {
    .name = "softplus_grad",
    .n_inputs = 2,
    .shape = nn_rule_pair,
    .forward = softplus_grad_forward,
    .inplace_ok = NN_INPLACE(1),
};

/* The ops this file defines, for the table (ops/meson.build). */
const nn_op_def *const nn_ops_softplus[] = {&nn_op_softplus, &nn_op_softplus_grad, NULL};


nn_node *nn_softplus(nn_graph *g, nn_node *x) { return nn_op_node(g, &nn_op_softplus, NULL, 1, &x, NULL, NULL); }
