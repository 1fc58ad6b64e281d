/* step: 1 where x >= 0, else 0 (the perceptron's activation). Its
 * derivative is zero wherever it exists, so no gradient flows through it;
 * the perceptron trains by its own learning rule instead. */
#include "ops.h"

static nn_status step_forward(nn_kernel_call *c) {
    const float *restrict x = NN_CF(c->in[0]);
    float *restrict y = NN_F(c->out);
    for (int64_t i = 0; i < c->out->size; i++) y[i] = x[i] >= 0.f ? 1.f : 0.f;
    return NN_OK;
}

static nn_status step_grad(nn_graph *g, nn_node *node, nn_node *dy, const int *want, nn_node **dx) {
    (void)node;
    (void)dy;
    (void)want;
    dx[0] = NULL; /* zero: nothing flows back */
    return g->status;
}

const nn_op_def nn_op_step = {
    .name = "step",
    .n_inputs = 1,
    .shape = nn_rule_like_input,
    .forward = step_forward,
    .grad = step_grad,
    .inplace_ok = NN_INPLACE(0),
    .role = NN_OP_ACTIVATION,
};

/* The ops this file defines, for the table (ops/meson.build). */
const nn_op_def *const nn_ops_step[] = {&nn_op_step, NULL};

nn_node *nn_step(nn_graph *g, nn_node *x) { return nn_op_node(g, &nn_op_step, NULL, 1, &x, NULL, NULL); }
