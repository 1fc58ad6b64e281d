/* leaky_relu(x): x where x > 0, alpha x elsewhere (alpha fattr[0]; Keras's
 * LeakyReLU default is 0.3, PyTorch's 0.01). leaky_relu_grad(x, dy) reads
 * x, so alpha may be any finite number. */
#include "ops.h"
#include "kernels.h"

#include <math.h>

extern const nn_op_def nn_op_leaky_relu_grad;

static nn_status leaky_shape(nn_shape_ctx *c, nn_shape *out, nn_dtype *dt) {
    if (!isfinite(c->node->fattr[0])) return nn_errf(c->err, NN_ERR_ARG, "alpha must be finite");
    return nn_rule_like_input(c, out, dt);
}

static nn_status leaky_grad_shape(nn_shape_ctx *c, nn_shape *out, nn_dtype *dt) {
    if (!isfinite(c->node->fattr[0])) return nn_errf(c->err, NN_ERR_ARG, "alpha must be finite");
    return nn_rule_pair(c, out, dt);
}

NN_VECTOR_CLONES static nn_status leaky_forward(nn_kernel_call *c) {
    const float *x = NN_CF(c->in[0]);
    float *y = NN_F(c->out);
    float a = c->node->fattr[0];
    for (int64_t i = 0; i < c->out->size; i++) y[i] = x[i] > 0.f ? x[i] : a * x[i];
    return NN_OK;
}

NN_VECTOR_CLONES static nn_status leaky_grad_forward(nn_kernel_call *c) {
    const float *x = NN_CF(c->in[0]), *dy = NN_CF(c->in[1]);
    float *dx = NN_F(c->out);
    float a = c->node->fattr[0];
    for (int64_t i = 0; i < c->out->size; i++) dx[i] = x[i] > 0.f ? dy[i] : a * dy[i];
    return NN_OK;
}

static nn_status leaky_grad(nn_graph *g, nn_node *node, nn_node *dy, const int *want, nn_node **dx) {
    (void)want;
    nn_node *in[2] = {node->in[0], dy};
    dx[0] = nn_op_node(g, &nn_op_leaky_relu_grad, NULL, 2, in, node->fattr, NULL);
    return g->status;
}

const nn_op_def nn_op_leaky_relu = {
    .name = "leaky_relu",
    .n_inputs = 1,
    .shape = leaky_shape,
    .forward = leaky_forward,
    .grad = leaky_grad,
    .inplace_ok = NN_INPLACE(0),
    .attrs = {{"alpha", 'f', 0}},
    .role = NN_OP_ACTIVATION,
};
const nn_op_def nn_op_leaky_relu_grad = {
    .name = "leaky_relu_grad",
    .n_inputs = 2,
    .shape = leaky_grad_shape,
    .forward = leaky_grad_forward,
    .inplace_ok = NN_INPLACE(1),
    .attrs = {{"alpha", 'f', 0}},
};

/* The ops this file defines, for the table (ops/meson.build). */
const nn_op_def *const nn_ops_leaky_relu[] = {&nn_op_leaky_relu, &nn_op_leaky_relu_grad, NULL};


nn_node *nn_leaky_relu(nn_graph *g, nn_node *x, float alpha) {
    float fattr[NN_MAX_ATTRS] = {alpha};
    return nn_op_node(g, &nn_op_leaky_relu, NULL, 1, &x, fattr, NULL);
}
