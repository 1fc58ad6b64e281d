/* add: a + b with numpy broadcasting. The gradient of each input is dy
 * summed over the dimensions along which that input was broadcast. */
#include "ops.h"

static nn_status add_forward(nn_kernel_call *c) { return nn_binary_forward(c, NN_BIN_ADD); }

static nn_status add_grad(nn_graph *g, nn_node *node, nn_node *dy, const int *want, nn_node **dx) {
    if (want[0]) dx[0] = nn_sum_like(g, dy, node->in[0]);
    if (want[1]) dx[1] = nn_sum_like(g, dy, node->in[1]);
    return g->status;
}

const nn_op_def nn_op_add = {
    .name = "add",
    .n_inputs = 2,
    .shape = nn_rule_broadcast,
    .forward = add_forward,
    .grad = add_grad,
    .inplace_ok = NN_INPLACE(0) | NN_INPLACE(1),
};

/* The ops this file defines, for the table (ops/meson.build). */
const nn_op_def *const nn_ops_add[] = {&nn_op_add, NULL};

nn_node *nn_add(nn_graph *g, nn_node *a, nn_node *b) {
    nn_node *in[2] = {a, b};
    return nn_op_node(g, &nn_op_add, NULL, 2, in, NULL, NULL);
}
