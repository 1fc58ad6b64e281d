/* concat(a, b): a and b joined along axis iattr[0] (negative counts from
 * the end); every other dimension must agree. More inputs: chain it. Its
 * gradient cuts dy back apart with slice. */
#include "ops.h"

#include <string.h>

extern const nn_op_def nn_op_slice;

static nn_status concat_shape(nn_shape_ctx *c, nn_shape *out, nn_dtype *dt) {
    nn_shape a = c->in[0], b = c->in[1];
    if (c->in_dtype[0] != c->in_dtype[1]) return nn_errf(c->err, NN_ERR_ARG, "inputs must have one dtype");
    if (a.rank != b.rank || a.rank < 1) return nn_errf(c->err, NN_ERR_SHAPE, "inputs must have one rank, at least 1");
    int axis = nn_norm_axis((int)c->node->iattr[0], a.rank);
    if (axis < 0 || axis == NN_ALL_AXES)
        return nn_errf(c->err, NN_ERR_ARG, "axis %lld is outside the %d axes", (long long)c->node->iattr[0], a.rank);
    for (int i = 0; i < a.rank; i++)
        if (i != axis && a.dim[i] != b.dim[i]) {
            char sa[64], sb[64];
            return nn_errf(c->err, NN_ERR_SHAPE, "%s and %s differ outside axis %d", nn_shape_str(a, sa, sizeof sa),
                           nn_shape_str(b, sb, sizeof sb), axis);
        }
    if (a.dim[axis] == NN_BATCH || b.dim[axis] == NN_BATCH)
        return nn_errf(c->err, NN_ERR_SHAPE, "cannot join along the open batch dimension");
    *out = a;
    out->dim[axis] = a.dim[axis] + b.dim[axis];
    *dt = c->in_dtype[0];
    return NN_OK;
}

static nn_status concat_forward(nn_kernel_call *c) {
    const nn_tensor *a = c->in[0], *b = c->in[1];
    int axis = nn_norm_axis((int)c->node->iattr[0], a->shape.rank);
    int64_t outer, la, lb, inner;
    nn_axis_split(a->shape, axis, &outer, &la, &inner);
    nn_axis_split(b->shape, axis, &outer, &lb, &inner);
    size_t es = nn_dtype_size(a->dtype), ra = (size_t)(la * inner) * es, rb = (size_t)(lb * inner) * es;
    char *o = c->out->data;
    for (int64_t i = 0; i < outer; i++) {
        memcpy(o, (const char *)a->data + (size_t)i * ra, ra);
        memcpy(o + ra, (const char *)b->data + (size_t)i * rb, rb);
        o += ra + rb;
    }
    return NN_OK;
}

static nn_status concat_grad(nn_graph *g, nn_node *node, nn_node *dy, const int *want, nn_node **dx) {
    int axis = nn_norm_axis((int)node->iattr[0], dy->shape.rank);
    int64_t la = node->in[0]->shape.dim[axis], lb = node->in[1]->shape.dim[axis];
    if (want[0]) dx[0] = nn_slice(g, dy, axis, 0, la);
    if (want[1]) dx[1] = nn_slice(g, dy, axis, la, lb);
    return g->status;
}

const nn_op_def nn_op_concat = {
    .name = "concat",
    .n_inputs = 2,
    .shape = concat_shape,
    .forward = concat_forward,
    .grad = concat_grad,
    .attrs = {{"axis", 'a', 0}},
};

/* The ops this file defines, for the table (ops/meson.build). */
const nn_op_def *const nn_ops_concat[] = {&nn_op_concat, NULL};


nn_node *nn_concat(nn_graph *g, nn_node *a, nn_node *b, int axis) {
    nn_node *in[2] = {a, b};
    int64_t iattr[NN_MAX_ATTRS] = {axis};
    return nn_op_node(g, &nn_op_concat, NULL, 2, in, NULL, iattr);
}
