/* relu: max(x, 0). Its gradient passes dy where the output is positive,
 * so relu'(0) = 0, as in PyTorch and TensorFlow;
 * relu_grad reads the output y rather than x so relu can run in place. */
#include "ops.h"
#include "kernels.h"

extern const nn_op_def nn_op_relu_grad;

static nn_status relu_forward(nn_kernel_call *c) {
    const float *restrict x = NN_CF(c->in[0]);
    float *restrict y = NN_F(c->out);
    /* NaN stays NaN (as in PyTorch), so the loss shows it */
    for (int64_t i = 0; i < c->out->size; i++) y[i] = x[i] < 0.f ? 0.f : x[i];
    return NN_OK;
}

static nn_status relu_grad(nn_graph *g, nn_node *node, nn_node *dy, const int *want, nn_node **dx) {
    (void)want;
    dx[0] = nn_grad_op(g, &nn_op_relu_grad, node, dy);
    return g->status;
}

/* relu_grad(y, dy) = dy where y > 0, else 0. Cloned for AVX2/AVX-512:
 * a select a lane, the same result in every clone. */
NN_VECTOR_CLONES static nn_status relu_grad_forward(nn_kernel_call *c) {
    const float *restrict y = NN_CF(c->in[0]), *restrict dy = NN_CF(c->in[1]);
    float *restrict dx = NN_F(c->out);
    for (int64_t i = 0; i < c->out->size; i++) {
        /* both loads unconditional, so the select vectorises instead of a
         * branch that mispredicts on every other element */
        float yi = y[i], di = dy[i];
        dx[i] = yi > 0.f ? di : 0.f;
    }
    return NN_OK;
}

const nn_op_def nn_op_relu = {
    .name = "relu",
    .n_inputs = 1,
    .shape = nn_rule_like_input,
    .forward = relu_forward,
    .grad = relu_grad,
    .inplace_ok = NN_INPLACE(0),
    .role = NN_OP_ACTIVATION,
    .fusable = 1,
    .fused_act = NN_ACT_RELU,
};
const nn_op_def nn_op_relu_grad = {
    .name = "relu_grad",
    .n_inputs = 2,
    .shape = nn_rule_pair,
    .forward = relu_grad_forward,
    .inplace_ok = NN_INPLACE(0) | NN_INPLACE(1),
    .fused_gate = 1,
};

/* The ops this file defines, for the table (ops/meson.build). */
const nn_op_def *const nn_ops_relu[] = {&nn_op_relu, &nn_op_relu_grad, NULL};

nn_node *nn_relu(nn_graph *g, nn_node *x) { return nn_op_node(g, &nn_op_relu, NULL, 1, &x, NULL, NULL); }
