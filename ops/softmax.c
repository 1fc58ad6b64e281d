/* softmax along the last axis. The row maximum is subtracted before exp so
 * logits like [1000, 1001, 1002] stay finite. Gradient from the output:
 * dx = y * (dy - sum(dy * y)) per row. */
#include "ops.h"

#include <math.h>

extern const nn_op_def nn_op_softmax_grad;

static nn_status softmax_forward(nn_kernel_call *c) {
    int64_t rows, cols;
    nn_rows_of(c->in[0], &rows, &cols);
    for (int64_t r = 0; r < rows; r++) nn_softmax_row(NN_CF(c->in[0]) + r * cols, NN_F(c->out) + r * cols, cols, 1.f);
    return NN_OK;
}

static nn_status softmax_grad(nn_graph *g, nn_node *node, nn_node *dy, const int *want, nn_node **dx) {
    (void)want;
    dx[0] = nn_grad_op(g, &nn_op_softmax_grad, node, dy);
    return g->status;
}

static nn_status softmax_grad_forward(nn_kernel_call *c) {
    int64_t rows, cols;
    nn_rows_of(c->in[0], &rows, &cols);
    for (int64_t r = 0; r < rows; r++) {
        const float *y = NN_CF(c->in[0]) + r * cols, *dy = NN_CF(c->in[1]) + r * cols;
        float *dx = NN_F(c->out) + r * cols;
        float dot = 0.f;
        for (int64_t j = 0; j < cols; j++) dot += dy[j] * y[j];
        for (int64_t j = 0; j < cols; j++) dx[j] = y[j] * (dy[j] - dot);
    }
    return NN_OK;
}

static nn_status softmax_shape(nn_shape_ctx *c, nn_shape *out, nn_dtype *dt) {
    if (c->in[0].rank < 1) return nn_errf(c->err, NN_ERR_SHAPE, "needs at least one axis");
    return nn_rule_like_input(c, out, dt);
}

const nn_op_def nn_op_softmax = {
    .name = "softmax",
    .n_inputs = 1,
    .shape = softmax_shape,
    .forward = softmax_forward,
    .grad = softmax_grad,
    .role = NN_OP_ACTIVATION,
};
const nn_op_def nn_op_softmax_grad = {
    .name = "softmax_grad",
    .n_inputs = 2,
    .shape = nn_rule_pair,
    .forward = softmax_grad_forward,
};

/* The ops this file defines, for the table (ops/meson.build). */
const nn_op_def *const nn_ops_softmax[] = {&nn_op_softmax, &nn_op_softmax_grad, NULL};

nn_node *nn_softmax(nn_graph *g, nn_node *x) { return nn_op_node(g, &nn_op_softmax, NULL, 1, &x, NULL, NULL); }
