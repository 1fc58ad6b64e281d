/* softsign(x) = x / (1 + |x|), gradient dy / (1 + |x|)^2 = dy (1 - |y|)^2.
 * A test-only op: tests/test_registry.c registers it with nn_op_register
 * to prove that an activation is one file (plus one line in the table of
 * ops/meson.build, or that call) and shows up everywhere by itself. */
#include "ops.h"

#include <math.h>

extern const nn_op_def nn_op_softsign_grad;

static nn_status softsign_forward(nn_kernel_call *c) {
    const float *restrict x = NN_CF(c->in[0]);
    float *restrict y = NN_F(c->out);
    for (int64_t i = 0; i < c->out->size; i++) y[i] = x[i] / (1.f + fabsf(x[i]));
    return NN_OK;
}

static nn_status softsign_grad(nn_graph *g, nn_node *node, nn_node *dy, const int *want, nn_node **dx) {
    (void)want;
    dx[0] = nn_grad_op(g, &nn_op_softsign_grad, node, dy);
    return g->status;
}

/* from the output: 1 + |x| = 1 / (1 - |y|) */
static nn_status softsign_grad_forward(nn_kernel_call *c) {
    const float *restrict y = NN_CF(c->in[0]), *restrict dy = NN_CF(c->in[1]);
    float *restrict dx = NN_F(c->out);
    for (int64_t i = 0; i < c->out->size; i++) {
        float s = 1.f - fabsf(y[i]);
        dx[i] = dy[i] * s * s;
    }
    return NN_OK;
}

const nn_op_def nn_op_softsign = {
    .name = "softsign",
    .n_inputs = 1,
    .shape = nn_rule_like_input,
    .forward = softsign_forward,
    .grad = softsign_grad,
    .inplace_ok = NN_INPLACE(0),
    .role = NN_OP_ACTIVATION,
};
const nn_op_def nn_op_softsign_grad = {
    .name = "softsign_grad",
    .n_inputs = 2,
    .shape = nn_rule_pair,
    .forward = softsign_grad_forward,
    .inplace_ok = NN_INPLACE(0) | NN_INPLACE(1),
};

const nn_op_def *const nn_ops_softsign[] = {&nn_op_softsign, &nn_op_softsign_grad, NULL};

nn_node *nn_softsign(nn_graph *g, nn_node *x) { return nn_op_node(g, &nn_op_softsign, NULL, 1, &x, NULL, NULL); }
