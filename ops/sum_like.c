/* sum_like(dy, x): dy summed over the dimensions along which x was
 * broadcast, giving x's shape: the gradient of a broadcast input (a bias
 * row added to every row of a batch gets the column sums of dy). x is read
 * for its shape only. The sums are taken in double, as sum and mean take
 * theirs: a scalar broadcast over 10^6 elements summed in float drifts by
 * several 1e-6 relative, where float32 can hold the sum to 6e-8. */
#include "ops.h"


static nn_status sum_like_shape(nn_shape_ctx *c, nn_shape *out, nn_dtype *dt) {
    nn_shape b;
    if (c->in_dtype[0] != NN_F32) return nn_errf(c->err, NN_ERR_ARG, "input must be f32");
    if (nn_broadcast_shape(c->in[1], c->in[0], &b, c->err) != NN_OK || !nn_shape_equal(b, c->in[0]))
        return nn_errf(c->err, NN_ERR_SHAPE, "the target shape does not broadcast to the input's");
    *out = c->in[1];
    *dt = NN_F32;
    return NN_OK;
}

/* Columns summed over the rows of dy [rows, cols], a block of columns at
 * a time so the double accumulators stay on the stack. */
static void column_sums(const float *dy, float *dx, int64_t rows, int64_t cols) {
    enum { BLOCK = 256 };
    double acc[BLOCK];
    for (int64_t c0 = 0; c0 < cols; c0 += BLOCK) {
        int64_t n = cols - c0 < BLOCK ? cols - c0 : BLOCK;
        for (int64_t j = 0; j < n; j++) acc[j] = 0.0;
        for (int64_t r = 0; r < rows; r++) {
            const float *row = dy + r * cols + c0;
            for (int64_t j = 0; j < n; j++) acc[j] += row[j];
        }
        for (int64_t j = 0; j < n; j++) dx[c0 + j] = (float)acc[j];
    }
}

static nn_status sum_like_forward(nn_kernel_call *c) {
    const float *dy = NN_CF(c->in[0]);
    float *dx = NN_F(c->out);
    int64_t cols = c->in[0]->shape.rank ? c->in[0]->shape.dim[c->in[0]->shape.rank - 1] : 1;
    if (c->out->size == cols && c->out->shape.rank >= 1 && c->out->shape.dim[c->out->shape.rank - 1] == cols) {
        /* the bias case: column sums */
        column_sums(dy, dx, c->in[0]->size / cols, cols);
        return NN_OK;
    }
    /* Each element of dx gathers the elements of dy it was broadcast to:
     * dy's dimensions (padded to 4) split into those dx keeps (stride in
     * dx nonzero) and those it was broadcast along (stride 0). */
    int64_t d[4], s[4], ys[4], keep[4], over[4];
    nn_broadcast_strides(c->out->shape, c->in[0]->shape, d, s);
    ys[3] = 1;
    for (int k = 2; k >= 0; k--) ys[k] = ys[k + 1] * d[k + 1];
    for (int k = 0; k < 4; k++) {
        int broadcast = s[k] == 0 && d[k] > 1;
        keep[k] = broadcast ? 1 : d[k];
        over[k] = broadcast ? d[k] : 1;
    }
    for (int64_t a0 = 0; a0 < keep[0]; a0++)
        for (int64_t a1 = 0; a1 < keep[1]; a1++)
            for (int64_t a2 = 0; a2 < keep[2]; a2++)
                for (int64_t a3 = 0; a3 < keep[3]; a3++) {
                    const float *base = dy + a0 * ys[0] + a1 * ys[1] + a2 * ys[2] + a3 * ys[3];
                    double acc = 0.0;
                    for (int64_t b0 = 0; b0 < over[0]; b0++)
                        for (int64_t b1 = 0; b1 < over[1]; b1++)
                            for (int64_t b2 = 0; b2 < over[2]; b2++) {
                                const float *p = base + b0 * ys[0] + b1 * ys[1] + b2 * ys[2];
                                for (int64_t b3 = 0; b3 < over[3]; b3++) acc += p[b3];
                            }
                    dx[a0 * s[0] + a1 * s[1] + a2 * s[2] + a3 * s[3]] = (float)acc;
                }
    return NN_OK;
}

const nn_op_def nn_op_sum_like = {
    .name = "sum_like",
    .n_inputs = 2,
    .shape = sum_like_shape,
    .forward = sum_like_forward,
};

/* The ops this file defines, for the table (ops/meson.build). */
const nn_op_def *const nn_ops_sum_like[] = {&nn_op_sum_like, NULL};

nn_node *nn_sum_like(nn_graph *g, nn_node *dy, nn_node *like) {
    if (dy && like && nn_shape_equal(dy->shape, like->shape)) return dy;
    nn_node *in[2] = {dy, like};
    return nn_op_node(g, &nn_op_sum_like, NULL, 2, in, NULL, NULL);
}
