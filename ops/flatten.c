/* flatten(x): [N, d1, d2, ...] -> [N, d1 d2 ...], the same elements in
 * row-major order (Keras's Flatten; the open batch dimension stays). Its
 * own op rather than a reshape so that layer tables say Flatten. The
 * gradient reshapes dy back to x's shape. */
#include "ops.h"

#include <string.h>

static nn_status flatten_shape(nn_shape_ctx *c, nn_shape *out, nn_dtype *dt) {
    nn_shape x = c->in[0];
    if (x.rank < 1) return nn_errf(c->err, NN_ERR_SHAPE, "input must have a batch axis");
    if (c->in_dtype[0] != NN_F32 && c->in_dtype[0] != NN_I32) return nn_errf(c->err, NN_ERR_ARG, "unknown dtype");
    int64_t rest = 1;
    for (int i = 1; i < x.rank; i++) {
        if (x.dim[i] <= 0) return nn_errf(c->err, NN_ERR_SHAPE, "dimension %d must be a fixed positive size", i);
        rest *= x.dim[i];
    }
    *out = NN_SHAPE(x.dim[0], rest);
    *dt = c->in_dtype[0];
    return NN_OK;
}

static nn_status flatten_forward(nn_kernel_call *c) {
    if (c->out->data != c->in[0]->data)
        memcpy(c->out->data, c->in[0]->data, (size_t)c->out->size * nn_dtype_size(c->out->dtype));
    return NN_OK;
}

static nn_status flatten_grad(nn_graph *g, nn_node *node, nn_node *dy, const int *want, nn_node **dx) {
    (void)want;
    nn_shape x = node->in[0]->shape;
    int64_t dims[NN_MAX_RANK] = {0}; /* 0 keeps dy's batch dimension */
    for (int i = 1; i < x.rank; i++) dims[i] = x.dim[i];
    dx[0] = nn_reshape(g, dy, x.rank, dims);
    return g->status;
}

const nn_op_def nn_op_flatten = {
    .name = "flatten",
    .n_inputs = 1,
    .shape = flatten_shape,
    .forward = flatten_forward,
    .grad = flatten_grad,
    .inplace_ok = NN_INPLACE(0), /* the same bytes under another shape */
    .layer_kind = "Flatten",
};

/* The ops this file defines, for the table (ops/meson.build). */
const nn_op_def *const nn_ops_flatten[] = {&nn_op_flatten, NULL};

nn_node *nn_flatten_op(nn_graph *g, nn_node *x) { return nn_op_node(g, &nn_op_flatten, NULL, 1, &x, NULL, NULL); }
