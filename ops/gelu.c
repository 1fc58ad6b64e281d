/* gelu(x): x Phi(x), Phi the standard normal CDF, in its exact erf form
 * (PyTorch's default, Keras's approximate=False). gelu_grad(x, dy) =
 * dy (Phi(x) + x phi(x)), phi the normal density. Phi(x) is computed as
 * erfc(-x/sqrt2)/2: the textbook (1 + erf(x/sqrt2))/2 cancels to nothing
 * in float for x below about -3. */
#include "ops.h"

#include <math.h>

extern const nn_op_def nn_op_gelu_grad;

static nn_status gelu_forward(nn_kernel_call *c) {
    const float *x = NN_CF(c->in[0]);
    float *y = NN_F(c->out);
    for (int64_t i = 0; i < c->out->size; i++) y[i] = 0.5f * x[i] * erfcf(-x[i] * (float)M_SQRT1_2);
    return NN_OK;
}

static nn_status gelu_grad_forward(nn_kernel_call *c) {
    const float *x = NN_CF(c->in[0]), *dy = NN_CF(c->in[1]);
    float *dx = NN_F(c->out);
    const float inv_sqrt_2pi = 0.3989422804014327f;
    for (int64_t i = 0; i < c->out->size; i++) {
        float cdf = 0.5f * erfcf(-x[i] * (float)M_SQRT1_2);
        float pdf = inv_sqrt_2pi * expf(-0.5f * x[i] * x[i]);
        dx[i] = dy[i] * (cdf + x[i] * pdf);
    }
    return NN_OK;
}

static nn_status gelu_grad(nn_graph *g, nn_node *node, nn_node *dy, const int *want, nn_node **dx) {
    (void)want;
    dx[0] = nn_grad_op(g, &nn_op_gelu_grad, node->in[0], dy);
    return g->status;
}

const nn_op_def nn_op_gelu = {
    .name = "gelu",
    .n_inputs = 1,
    .shape = nn_rule_like_input,
    .forward = gelu_forward,
    .grad = gelu_grad,
    .inplace_ok = NN_INPLACE(0),
    .role = NN_OP_ACTIVATION,
};
const nn_op_def nn_op_gelu_grad = {
    .name = "gelu_grad",
    .n_inputs = 2,
    .shape = nn_rule_pair,
    .forward = gelu_grad_forward,
    .inplace_ok = NN_INPLACE(1),
};

/* The ops this file defines, for the table (ops/meson.build). */
const nn_op_def *const nn_ops_gelu[] = {&nn_op_gelu, &nn_op_gelu_grad, NULL};


nn_node *nn_gelu(nn_graph *g, nn_node *x) { return nn_op_node(g, &nn_op_gelu, NULL, 1, &x, NULL, NULL); }
