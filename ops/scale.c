/* scale: alpha * x for a constant alpha (fattr[0]); d/dx = alpha * dy. */
#include "ops.h"

static nn_status scale_forward(nn_kernel_call *c) {
    const float *restrict x = NN_CF(c->in[0]);
    float *restrict y = NN_F(c->out);
    float alpha = c->node->fattr[0];
    for (int64_t i = 0; i < c->out->size; i++) y[i] = alpha * x[i];
    return NN_OK;
}

static nn_status scale_grad(nn_graph *g, nn_node *node, nn_node *dy, const int *want, nn_node **dx) {
    (void)want;
    dx[0] = nn_scale(g, dy, node->fattr[0]);
    return g->status;
}

const nn_op_def nn_op_scale = {
    .name = "scale",
    .n_inputs = 1,
    .shape = nn_rule_like_input,
    .forward = scale_forward,
    .grad = scale_grad,
    .inplace_ok = NN_INPLACE(0),
    .attrs = {{"alpha", 'f', 0}},
};

/* The ops this file defines, for the table (ops/meson.build). */
const nn_op_def *const nn_ops_scale[] = {&nn_op_scale, NULL};

nn_node *nn_scale(nn_graph *g, nn_node *x, float alpha) {
    float fattr[NN_MAX_ATTRS] = {alpha};
    return nn_op_node(g, &nn_op_scale, NULL, 1, &x, fattr, NULL);
}
