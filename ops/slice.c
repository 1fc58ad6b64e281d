/* slice(x): elements [start, start+len) of x along axis iattr[0]
 * (iattr[1] start, iattr[2] len); the gradient helper of concat. Its own
 * gradient places dy back with zeros around it (slice_grad(x, dy)). */
#include "ops.h"

#include <string.h>

extern const nn_op_def nn_op_slice_grad;

static nn_status slice_check(nn_shape_ctx *c, nn_shape x, nn_shape *out) {
    const int64_t *a = c->node->iattr;
    int axis = nn_norm_axis((int)a[0], x.rank);
    if (x.rank < 1 || axis < 0 || axis == NN_ALL_AXES)
        return nn_errf(c->err, NN_ERR_ARG, "axis %lld is outside the %d axes", (long long)a[0], x.rank);
    if (x.dim[axis] == NN_BATCH) return nn_errf(c->err, NN_ERR_SHAPE, "cannot slice the open batch dimension");
    if (a[1] < 0 || a[2] < 1 || a[1] > x.dim[axis] || a[2] > x.dim[axis] - a[1])
        return nn_errf(c->err, NN_ERR_ARG, "[%lld, %lld+%lld) is outside axis %d's %lld elements", (long long)a[1],
                       (long long)a[1], (long long)a[2], axis, (long long)x.dim[axis]);
    *out = x;
    out->dim[axis] = a[2];
    return NN_OK;
}

static nn_status slice_shape(nn_shape_ctx *c, nn_shape *out, nn_dtype *dt) {
    if (c->in_dtype[0] != NN_F32 && c->in_dtype[0] != NN_I32) return nn_errf(c->err, NN_ERR_ARG, "unknown dtype");
    *dt = c->in_dtype[0];
    return slice_check(c, c->in[0], out);
}

/* Copies between x and its slice: `to_slice` x -> slice, else back. */
static void slice_copy(const nn_node *node, const nn_tensor *x, char *full, char *part, int to_slice) {
    int axis = nn_norm_axis((int)node->iattr[0], x->shape.rank);
    int64_t outer, len, inner;
    nn_axis_split(x->shape, axis, &outer, &len, &inner);
    size_t es = nn_dtype_size(x->dtype), row = (size_t)(len * inner) * es, sub = (size_t)(node->iattr[2] * inner) * es;
    size_t skip = (size_t)(node->iattr[1] * inner) * es;
    for (int64_t i = 0; i < outer; i++) {
        char *f = full + (size_t)i * row + skip, *p = part + (size_t)i * sub;
        if (to_slice) memcpy(p, f, sub);
        else memcpy(f, p, sub);
    }
}

static nn_status slice_forward(nn_kernel_call *c) {
    slice_copy(c->node, c->in[0], c->in[0]->data, c->out->data, 1);
    return NN_OK;
}

static nn_status slice_grad(nn_graph *g, nn_node *node, nn_node *dy, const int *want, nn_node **dx) {
    (void)want;
    nn_node *in[2] = {node->in[0], dy};
    dx[0] = nn_op_node(g, &nn_op_slice_grad, NULL, 2, in, NULL, node->iattr);
    return g->status;
}

/* slice_grad(x, dy): zeros of x's shape with dy where the slice was. */
static nn_status slice_grad_shape(nn_shape_ctx *c, nn_shape *out, nn_dtype *dt) {
    nn_shape s;
    if (c->in_dtype[0] != NN_F32 || c->in_dtype[1] != NN_F32) return nn_errf(c->err, NN_ERR_ARG, "inputs must be f32");
    nn_status st = slice_check(c, c->in[0], &s);
    if (st != NN_OK) return st;
    if (!nn_shape_equal(s, c->in[1])) return nn_errf(c->err, NN_ERR_SHAPE, "the output gradient is not the slice's shape");
    *out = c->in[0];
    *dt = NN_F32;
    return NN_OK;
}

static nn_status slice_grad_forward(nn_kernel_call *c) {
    memset(c->out->data, 0, (size_t)c->out->size * sizeof(float));
    slice_copy(c->node, c->out, c->out->data, c->in[1]->data, 0);
    return NN_OK;
}

const nn_op_def nn_op_slice = {
    .name = "slice",
    .n_inputs = 1,
    .shape = slice_shape,
    .forward = slice_forward,
    .grad = slice_grad,
    .attrs = {{"axis", 'a', 0}, {"start", 'n', 1}, {"len", 'n', 2}},
};
const nn_op_def nn_op_slice_grad = {
    .name = "slice_grad",
    .n_inputs = 2,
    .shape = slice_grad_shape,
    .forward = slice_grad_forward,
    .attrs = {{"axis", 'a', 0}, {"start", 'n', 1}, {"len", 'n', 2}},
};

/* The ops this file defines, for the table (ops/meson.build). */
const nn_op_def *const nn_ops_slice[] = {&nn_op_slice, &nn_op_slice_grad, NULL};


nn_node *nn_slice(nn_graph *g, nn_node *x, int axis, int64_t start, int64_t len) {
    int64_t iattr[NN_MAX_ATTRS] = {axis, start, len};
    return nn_op_node(g, &nn_op_slice, NULL, 1, &x, NULL, iattr);
}
