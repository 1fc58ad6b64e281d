/* log_softmax along the last axis: (x - max) - log(sum(exp(x - max))), so
 * no exp overflows and no log of 0 is taken. The shift is subtracted
 * first: x - max is exact for the values that matter (Sterbenz), where
 * x - (max + log s) would round the log-sum-exp at the magnitude of the
 * maximum (3e-4 off at logits of 1e4; PyTorch subtracts in the same order).
 * The sums are taken in double. Gradient from the output:
 * dx = dy - exp(y) * sum(dy) per row. */
#include "ops.h"

#include <math.h>

extern const nn_op_def nn_op_log_softmax_grad;

static nn_status log_softmax_forward(nn_kernel_call *c) {
    int64_t rows, cols;
    nn_rows_of(c->in[0], &rows, &cols);
    for (int64_t r = 0; r < rows; r++) {
        const float *x = NN_CF(c->in[0]) + r * cols;
        float *y = NN_F(c->out) + r * cols;
        float m = nn_row_max(x, cols);
        double s = 0.0;
        for (int64_t j = 0; j < cols; j++) s += expf(x[j] - m);
        float log_s = (float)log(s);
        for (int64_t j = 0; j < cols; j++) y[j] = (x[j] - m) - log_s;
    }
    return NN_OK;
}

static nn_status log_softmax_grad(nn_graph *g, nn_node *node, nn_node *dy, const int *want, nn_node **dx) {
    (void)want;
    dx[0] = nn_grad_op(g, &nn_op_log_softmax_grad, node, dy);
    return g->status;
}

static nn_status log_softmax_grad_forward(nn_kernel_call *c) {
    int64_t rows, cols;
    nn_rows_of(c->in[0], &rows, &cols);
    for (int64_t r = 0; r < rows; r++) {
        const float *y = NN_CF(c->in[0]) + r * cols, *dy = NN_CF(c->in[1]) + r * cols;
        float *dx = NN_F(c->out) + r * cols;
        double s = 0.0;
        for (int64_t j = 0; j < cols; j++) s += dy[j];
        float sf = (float)s;
        for (int64_t j = 0; j < cols; j++) dx[j] = dy[j] - expf(y[j]) * sf;
    }
    return NN_OK;
}

static nn_status log_softmax_shape(nn_shape_ctx *c, nn_shape *out, nn_dtype *dt) {
    if (c->in[0].rank < 1) return nn_errf(c->err, NN_ERR_SHAPE, "needs at least one axis");
    return nn_rule_like_input(c, out, dt);
}

const nn_op_def nn_op_log_softmax = {
    .name = "log_softmax",
    .n_inputs = 1,
    .shape = log_softmax_shape,
    .forward = log_softmax_forward,
    .grad = log_softmax_grad,
    .role = NN_OP_ACTIVATION,
};
const nn_op_def nn_op_log_softmax_grad = {
    .name = "log_softmax_grad",
    .n_inputs = 2,
    .shape = nn_rule_pair,
    .forward = log_softmax_grad_forward,
};

/* The ops this file defines, for the table (ops/meson.build). */
const nn_op_def *const nn_ops_log_softmax[] = {&nn_op_log_softmax, &nn_op_log_softmax_grad, NULL};

nn_node *nn_log_softmax(nn_graph *g, nn_node *x) {
    return nn_op_node(g, &nn_op_log_softmax, NULL, 1, &x, NULL, NULL);
}
