/* sub: a - b with numpy broadcasting; d/da = dy, d/db = -dy, each summed
 * over its broadcast dimensions. */
#include "ops.h"

static nn_status sub_forward(nn_kernel_call *c) { return nn_binary_forward(c, NN_BIN_SUB); }

static nn_status sub_grad(nn_graph *g, nn_node *node, nn_node *dy, const int *want, nn_node **dx) {
    if (want[0]) dx[0] = nn_sum_like(g, dy, node->in[0]);
    if (want[1]) dx[1] = nn_sum_like(g, nn_scale(g, dy, -1.f), node->in[1]);
    return g->status;
}

const nn_op_def nn_op_sub = {
    .name = "sub",
    .n_inputs = 2,
    .shape = nn_rule_broadcast,
    .forward = sub_forward,
    .grad = sub_grad,
    .inplace_ok = NN_INPLACE(0) | NN_INPLACE(1),
};

/* The ops this file defines, for the table (ops/meson.build). */
const nn_op_def *const nn_ops_sub[] = {&nn_op_sub, NULL};

nn_node *nn_sub(nn_graph *g, nn_node *a, nn_node *b) {
    nn_node *in[2] = {a, b};
    return nn_op_node(g, &nn_op_sub, NULL, 2, in, NULL, NULL);
}
