/* mul: elementwise a * b with numpy broadcasting; d/da = dy * b and
 * d/db = dy * a, each summed over its broadcast dimensions. */
#include "ops.h"

static nn_status mul_forward(nn_kernel_call *c) { return nn_binary_forward(c, NN_BIN_MUL); }

static nn_status mul_grad(nn_graph *g, nn_node *node, nn_node *dy, const int *want, nn_node **dx) {
    if (want[0]) dx[0] = nn_sum_like(g, nn_mul(g, dy, node->in[1]), node->in[0]);
    if (want[1]) dx[1] = nn_sum_like(g, nn_mul(g, dy, node->in[0]), node->in[1]);
    return g->status;
}

const nn_op_def nn_op_mul = {
    .name = "mul",
    .n_inputs = 2,
    .shape = nn_rule_broadcast,
    .forward = mul_forward,
    .grad = mul_grad,
    .inplace_ok = NN_INPLACE(0) | NN_INPLACE(1),
};

/* The ops this file defines, for the table (ops/meson.build). */
const nn_op_def *const nn_ops_mul[] = {&nn_op_mul, NULL};

nn_node *nn_mul(nn_graph *g, nn_node *a, nn_node *b) {
    nn_node *in[2] = {a, b};
    return nn_op_node(g, &nn_op_mul, NULL, 2, in, NULL, NULL);
}
