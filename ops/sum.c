/* sum over one axis or all of them; the gradient broadcasts dy back. */
#include "ops.h"

static nn_status sum_forward(nn_kernel_call *c) {
    nn_reduce_forward(c, 0);
    return NN_OK;
}

static nn_status sum_grad(nn_graph *g, nn_node *node, nn_node *dy, const int *want, nn_node **dx) {
    (void)want;
    dx[0] = nn_expand_like(g, dy, node->in[0], (int)node->iattr[0], 0);
    return g->status;
}

const nn_op_def nn_op_sum = {
    .name = "sum",
    .n_inputs = 1,
    .shape = nn_rule_reduce,
    .forward = sum_forward,
    .grad = sum_grad,
    .attrs = {{"axis", 'a', 0}},
};

/* The ops this file defines, for the table (ops/meson.build). */
const nn_op_def *const nn_ops_sum[] = {&nn_op_sum, NULL};

nn_node *nn_sum(nn_graph *g, nn_node *x, int axis) { return nn_reduce_node(g, &nn_op_sum, x, axis); }
