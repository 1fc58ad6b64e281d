/* expand(dy, x): dy, which is x reduced over axis iattr[0], broadcast back
 * to x's shape, times 1/len when iattr[1] (mean) is set. The gradient of
 * sum and mean; x is read for its shape only. Its own gradient is the
 * matching reduction. */
#include "ops.h"

/* Any graph file can name expand: the rule checks all the kernel relies
 * on (the axis is one of x's, dy is x reduced over it). */
static nn_status expand_shape(nn_shape_ctx *c, nn_shape *out, nn_dtype *dt) {
    if (c->in_dtype[0] != NN_F32) return nn_errf(c->err, NN_ERR_ARG, "input must be f32");
    nn_shape want;
    if (nn_reduced_shape(c->in[1], c->node->iattr[0], &want, c->err) != NN_OK) return NN_ERR_SHAPE;
    if (!nn_shape_equal(want, c->in[0])) {
        char a[96], b[96], w[96];
        return nn_errf(c->err, NN_ERR_SHAPE, "dy %s is not x %s reduced over the axis (%s)",
                       nn_shape_str(c->in[0], a, sizeof a), nn_shape_str(c->in[1], b, sizeof b),
                       nn_shape_str(want, w, sizeof w));
    }
    *out = c->in[1];
    *dt = NN_F32;
    return NN_OK;
}

static nn_status expand_forward(nn_kernel_call *c) {
    int64_t outer, len, inner;
    nn_axis_split(c->out->shape, (int)c->node->iattr[0], &outer, &len, &inner);
    float scale = c->node->iattr[1] ? 1.f / (float)len : 1.f;
    const float *dy = NN_CF(c->in[0]);
    float *dx = NN_F(c->out);
    for (int64_t o = 0; o < outer; o++)
        for (int64_t l = 0; l < len; l++)
            for (int64_t i = 0; i < inner; i++) dx[(o * len + l) * inner + i] = scale * dy[o * inner + i];
    return NN_OK;
}

static nn_status expand_grad(nn_graph *g, nn_node *node, nn_node *dy, const int *want, nn_node **dx) {
    int axis = (int)node->iattr[0];
    if (want[0]) dx[0] = node->iattr[1] ? nn_mean(g, dy, axis) : nn_sum(g, dy, axis);
    return g->status;
}

const nn_op_def nn_op_expand = {
    .name = "expand",
    .n_inputs = 2,
    .shape = expand_shape,
    .forward = expand_forward,
    .grad = expand_grad,
    .attrs = {{"axis", 'a', 0}, {"mean", 'i', 1}},
};

/* The ops this file defines, for the table (ops/meson.build). */
const nn_op_def *const nn_ops_expand[] = {&nn_op_expand, NULL};

nn_node *nn_expand_like(nn_graph *g, nn_node *dy, nn_node *x, int axis, int mean) {
    nn_node *in[2] = {dy, x};
    int64_t iattr[NN_MAX_ATTRS] = {axis, mean != 0};
    return nn_op_node(g, &nn_op_expand, NULL, 2, in, NULL, iattr);
}
