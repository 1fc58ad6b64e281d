/* softmax_cross_entropy(logits [B,C], labels [B] i32): the mean over the
 * batch of -log softmax(z)[label] = logsumexp(z) - z[label].
 *
 * Softmax and the log are fused through log-sum-exp: a naive
 * exp/divide/log chain overflows for logits near 1000 and takes log(0) for
 * a confidently wrong row. The gradient is (softmax(z) - onehot) / B. */
#include "ops.h"

#include <math.h>

extern const nn_op_def nn_op_softmax_cross_entropy_grad;

static nn_status sce_shape(nn_shape_ctx *c, nn_shape *out, nn_dtype *dt) {
    if (c->in_dtype[0] != NN_F32) return nn_errf(c->err, NN_ERR_ARG, "logits must be f32");
    if (c->in_dtype[1] != NN_I32) return nn_errf(c->err, NN_ERR_ARG, "labels must be i32 class indices");
    if (c->in[0].rank != 2) return nn_errf(c->err, NN_ERR_SHAPE, "logits must be [batch, classes]");
    if (c->in[1].rank != 1 || c->in[1].dim[0] != c->in[0].dim[0])
        return nn_errf(c->err, NN_ERR_SHAPE, "labels must be [batch] with the logits' batch");
    *out = NN_SCALAR;
    *dt = NN_F32;
    return NN_OK;
}

static nn_status check_label(nn_kernel_call *c, int64_t r, int32_t label, int64_t cols) {
    char row[64];
    if (label < 0 || label >= cols)
        return nn_errf(c->err, NN_ERR_RUNTIME, "label %d in %s is outside the classes [0,%lld)", (int)label,
                       nn_row_name(c, r, row, sizeof row), (long long)cols);
    return NN_OK;
}

/* Logits shifted by their row's maximum are exponentiated in blocks of
 * this many values: whole rows at a time when they fit, so that one
 * vectorised nn_exp_shifted call covers many short rows (a classifier's
 * rows are often 10 wide: a call a row spent more in its tail than in its
 * vectors). */
#define SCE_BLOCK 1024

/* The sum over rows [r0, r0+n) of logsumexp(z) - z[label], max-shifted,
 * the exponentials summed in double. Rows of at most SCE_BLOCK values. */
static double block_loss(const float *z, const int32_t *labels, int64_t r0, int64_t n, int64_t cols) {
    float e[SCE_BLOCK], m[SCE_BLOCK];
    for (int64_t i = 0; i < n; i++) {
        const float *zr = z + (r0 + i) * cols;
        m[i] = nn_row_max(zr, cols);
        for (int64_t j = 0; j < cols; j++) e[i * cols + j] = zr[j] - m[i];
    }
    nn_exp_nonpos_inplace(e, n * cols);
    double total = 0.0;
    for (int64_t i = 0; i < n; i++) {
        double s = 0.0;
        for (int64_t j = 0; j < cols; j++) s += (double)e[i * cols + j];
        total += (double)m[i] + log(s) - (double)z[(r0 + i) * cols + labels[r0 + i]];
    }
    return total;
}

/* The same for one row longer than SCE_BLOCK, in blocks of it. */
static double long_row_loss(const float *z, int32_t label, int64_t cols) {
    float m = nn_row_max(z, cols), e[SCE_BLOCK];
    double s = 0.0;
    for (int64_t j0 = 0; j0 < cols; j0 += SCE_BLOCK) {
        int64_t n = cols - j0 < SCE_BLOCK ? cols - j0 : SCE_BLOCK;
        nn_exp_shifted(z + j0, m, e, n);
        for (int64_t j = 0; j < n; j++) s += (double)e[j];
    }
    return (double)m + log(s) - (double)z[label];
}

/* The exponentials are nn_exp_nonpos (ops.h), not glibc's double exp,
 * which cost several times as much and made the loss the most expensive
 * step of the digits network after its two large products
 * (docs/performance.md); the loss's value may differ from the old one in
 * the last bits, the gradient (nn_softmax_row) is unchanged. */
static nn_status sce_forward(nn_kernel_call *c) {
    int64_t rows, cols;
    nn_rows_of(c->in[0], &rows, &cols);
    const int32_t *labels = NN_CI(c->in[1]);
    const float *z = NN_CF(c->in[0]);
    for (int64_t r = 0; r < rows; r++)
        if (check_label(c, r, labels[r], cols) != NN_OK) return NN_ERR_RUNTIME;
    double total = 0.0;
    if (cols <= SCE_BLOCK) {
        int64_t per = SCE_BLOCK / cols;
        for (int64_t r0 = 0; r0 < rows; r0 += per) total += block_loss(z, labels, r0, rows - r0 < per ? rows - r0 : per, cols);
    } else {
        for (int64_t r = 0; r < rows; r++) total += long_row_loss(z + r * cols, labels[r], cols);
    }
    NN_F(c->out)[0] = (float)(total / (double)rows);
    return NN_OK;
}

static nn_status sce_grad(nn_graph *g, nn_node *node, nn_node *dy, const int *want, nn_node **dx) {
    if (want[0]) dx[0] = nn_grad_op3(g, &nn_op_softmax_cross_entropy_grad, node->in[0], node->in[1], dy);
    /* labels are integers: no gradient */
    return g->status;
}

static nn_status sce_grad_forward(nn_kernel_call *c) {
    int64_t rows, cols;
    nn_rows_of(c->in[0], &rows, &cols);
    const int32_t *labels = NN_CI(c->in[1]);
    float scale = NN_CF(c->in[2])[0] / (float)rows;
    for (int64_t r = 0; r < rows; r++) {
        const float *z = NN_CF(c->in[0]) + r * cols;
        float *dz = NN_F(c->out) + r * cols;
        if (check_label(c, r, labels[r], cols) != NN_OK) return NN_ERR_RUNTIME;
        nn_softmax_row(z, dz, cols, scale);
        dz[labels[r]] -= scale;
    }
    return NN_OK;
}

/* (logits, labels, dy): the kernel reads one label per row of the logits */
static nn_status sce_grad_shape(nn_shape_ctx *c, nn_shape *out, nn_dtype *dt) {
    nn_shape loss;
    nn_dtype loss_dt;
    nn_status s = sce_shape(c, &loss, &loss_dt);
    if (s != NN_OK) return s;
    return nn_rule_loss_grad(c, out, dt);
}

const nn_op_def nn_op_softmax_cross_entropy = {
    .name = "softmax_cross_entropy",
    .n_inputs = 2,
    .shape = sce_shape,
    .forward = sce_forward,
    .grad = sce_grad,
    .role = NN_OP_LOSS,
    .output = NN_OUTPUT_CLASSES,
};
const nn_op_def nn_op_softmax_cross_entropy_grad = {
    .name = "softmax_cross_entropy_grad",
    .n_inputs = 3,
    .shape = sce_grad_shape,
    .forward = sce_grad_forward,
};

/* The ops this file defines, for the table (ops/meson.build). */
const nn_op_def *const nn_ops_softmax_cross_entropy[] = {&nn_op_softmax_cross_entropy, &nn_op_softmax_cross_entropy_grad, NULL};

nn_node *nn_softmax_cross_entropy(nn_graph *g, nn_node *logits, nn_node *labels) {
    nn_node *in[2] = {logits, labels};
    return nn_op_node(g, &nn_op_softmax_cross_entropy, NULL, 2, in, NULL, NULL);
}
