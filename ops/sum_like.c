/* sum_like(dy, x): dy summed over the dimensions along which x was
 * broadcast, giving x's shape: the gradient of a broadcast input (a bias
 * row added to every row of a batch gets the column sums of dy). x is read
 * for its shape only. */
#include "ops.h"

#include <string.h>

static nn_status sum_like_shape(nn_shape_ctx *c, nn_shape *out, nn_dtype *dt) {
    nn_shape b;
    if (c->in_dtype[0] != NN_F32) return nn_errf(c->err, NN_ERR_ARG, "input must be f32");
    if (nn_broadcast_shape(c->in[1], c->in[0], &b, c->err) != NN_OK || !nn_shape_equal(b, c->in[0]))
        return nn_errf(c->err, NN_ERR_SHAPE, "the target shape does not broadcast to the input's");
    *out = c->in[1];
    *dt = NN_F32;
    return NN_OK;
}

static nn_status sum_like_forward(nn_kernel_call *c) {
    const float *dy = NN_CF(c->in[0]);
    float *dx = NN_F(c->out);
    int64_t cols = c->in[0]->shape.rank ? c->in[0]->shape.dim[c->in[0]->shape.rank - 1] : 1;
    memset(dx, 0, (size_t)c->out->size * sizeof *dx);
    if (c->out->size == cols && c->out->shape.rank >= 1 && c->out->shape.dim[c->out->shape.rank - 1] == cols) {
        /* the bias case: column sums */
        for (int64_t r = 0; r < c->in[0]->size / cols; r++)
            for (int64_t j = 0; j < cols; j++) dx[j] += dy[r * cols + j];
        return NN_OK;
    }
    int64_t d[4], s[4];
    nn_broadcast_strides(c->out->shape, c->in[0]->shape, d, s);
    int64_t k = 0;
    for (int64_t i0 = 0; i0 < d[0]; i0++)
        for (int64_t i1 = 0; i1 < d[1]; i1++)
            for (int64_t i2 = 0; i2 < d[2]; i2++)
                for (int64_t i3 = 0; i3 < d[3]; i3++, k++) dx[i0 * s[0] + i1 * s[1] + i2 * s[2] + i3 * s[3]] += dy[k];
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
