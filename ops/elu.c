/* elu(x): x where x > 0, alpha (e^x - 1) elsewhere (alpha fattr[0] > 0,
 * 1 in Keras and PyTorch). elu_grad(x, dy) reads x: the slope alpha e^x
 * could come from the output as y + alpha, but that cancels for x below
 * about -3 (tools/crosscheck measured 1e-5 relative error there, 90 times
 * PyTorch's). */
#include "ops.h"

#include <math.h>

extern const nn_op_def nn_op_elu_grad;

static nn_status alpha_ok(nn_shape_ctx *c) {
    float a = c->node->fattr[0];
    if (!(a > 0.f) || !isfinite(a)) return nn_errf(c->err, NN_ERR_ARG, "alpha %g must be positive and finite", (double)a);
    return NN_OK;
}

static nn_status elu_shape(nn_shape_ctx *c, nn_shape *out, nn_dtype *dt) {
    nn_status st = alpha_ok(c);
    return st != NN_OK ? st : nn_rule_like_input(c, out, dt);
}

static nn_status elu_grad_shape(nn_shape_ctx *c, nn_shape *out, nn_dtype *dt) {
    nn_status st = alpha_ok(c);
    return st != NN_OK ? st : nn_rule_pair(c, out, dt);
}

static nn_status elu_forward(nn_kernel_call *c) {
    const float *x = NN_CF(c->in[0]);
    float *y = NN_F(c->out);
    float a = c->node->fattr[0];
    for (int64_t i = 0; i < c->out->size; i++) y[i] = x[i] > 0.f ? x[i] : a * expm1f(x[i]);
    return NN_OK;
}

static nn_status elu_grad_forward(nn_kernel_call *c) {
    const float *x = NN_CF(c->in[0]), *dy = NN_CF(c->in[1]);
    float *dx = NN_F(c->out);
    float a = c->node->fattr[0];
    for (int64_t i = 0; i < c->out->size; i++) dx[i] = x[i] > 0.f ? dy[i] : a * expf(x[i]) * dy[i];
    return NN_OK;
}

static nn_status elu_grad(nn_graph *g, nn_node *node, nn_node *dy, const int *want, nn_node **dx) {
    (void)want;
    nn_node *in[2] = {node->in[0], dy};
    dx[0] = nn_op_node(g, &nn_op_elu_grad, NULL, 2, in, node->fattr, NULL);
    return g->status;
}

const nn_op_def nn_op_elu = {
    .name = "elu",
    .n_inputs = 1,
    .shape = elu_shape,
    .forward = elu_forward,
    .grad = elu_grad,
    .inplace_ok = NN_INPLACE(0),
    .attrs = {{"alpha", 'f', 0}},
    .role = NN_OP_ACTIVATION,
};
const nn_op_def nn_op_elu_grad = {
    .name = "elu_grad",
    .n_inputs = 2,
    .shape = elu_grad_shape,
    .forward = elu_grad_forward,
    .inplace_ok = NN_INPLACE(0) | NN_INPLACE(1),
    .attrs = {{"alpha", 'f', 0}},
};

/* The ops this file defines, for the table (ops/meson.build). */
const nn_op_def *const nn_ops_elu[] = {&nn_op_elu, &nn_op_elu_grad, NULL};


nn_node *nn_elu(nn_graph *g, nn_node *x, float alpha) {
    float fattr[NN_MAX_ATTRS] = {alpha};
    return nn_op_node(g, &nn_op_elu, NULL, 1, &x, fattr, NULL);
}
