/* mean over one axis or all of them; the gradient broadcasts dy / count
 * back. */
#include "ops.h"

static nn_status mean_forward(nn_kernel_call *c) {
    nn_reduce_forward(c, 1);
    return NN_OK;
}

static nn_status mean_grad(nn_graph *g, nn_node *node, nn_node *dy, const int *want, nn_node **dx) {
    (void)want;
    dx[0] = nn_expand_like(g, dy, node->in[0], (int)node->iattr[0], 1);
    return g->status;
}

const nn_op_def nn_op_mean = {
    .name = "mean",
    .n_inputs = 1,
    .shape = nn_rule_reduce,
    .forward = mean_forward,
    .grad = mean_grad,
    .attrs = {{"axis", 'a', 0}},
};

/* The ops this file defines, for the table (ops/meson.build). */
const nn_op_def *const nn_ops_mean[] = {&nn_op_mean, NULL};

nn_node *nn_mean(nn_graph *g, nn_node *x, int axis) { return nn_reduce_node(g, &nn_op_mean, x, axis); }
