/* identity: y = x (Keras's "linear" activation); the gradient is dy. */
#include "ops.h"

#include <string.h>

static nn_status identity_forward(nn_kernel_call *c) {
    if (c->out->data != c->in[0]->data) memcpy(c->out->data, c->in[0]->data, (size_t)c->out->size * sizeof(float));
    return NN_OK;
}

static nn_status identity_grad(nn_graph *g, nn_node *node, nn_node *dy, const int *want, nn_node **dx) {
    (void)node;
    (void)want;
    dx[0] = dy;
    return g->status;
}

const nn_op_def nn_op_identity = {
    .name = "identity",
    .n_inputs = 1,
    .shape = nn_rule_like_input,
    .forward = identity_forward,
    .grad = identity_grad,
    .inplace_ok = NN_INPLACE(0),
    .role = NN_OP_ACTIVATION,
    .activation = "linear",
    .fusable = 1,
    .fused_act = NN_ACT_NONE,
};

/* The ops this file defines, for the table (ops/meson.build). */
const nn_op_def *const nn_ops_identity[] = {&nn_op_identity, NULL};

nn_node *nn_identity(nn_graph *g, nn_node *x) { return nn_op_node(g, &nn_op_identity, NULL, 1, &x, NULL, NULL); }
