/* reshape(x): the same elements in row-major order under a new shape of
 * rank iattr[4] (1..4) with dimensions iattr[0..3]: a dimension 0 keeps
 * x's dimension at that index (how the open batch dimension passes
 * through), one dimension -1 is inferred from the element count. Its
 * gradient is dy reshaped back to x's shape. */
#include "ops.h"

#include <string.h>

#define RESHAPE_RANK 4 /* iattr slot of the rank */

static nn_status reshape_shape(nn_shape_ctx *c, nn_shape *out, nn_dtype *dt) {
    const int64_t *a = c->node->iattr;
    nn_shape x = c->in[0];
    int64_t rank = a[RESHAPE_RANK];
    if (rank < 1 || rank > NN_MAX_RANK) return nn_errf(c->err, NN_ERR_ARG, "rank %lld is outside 1..%d", (long long)rank, NN_MAX_RANK);
    nn_shape s = {0};
    s.rank = (int)rank;
    int infer = -1;
    int64_t known = 1, total = 1;
    int batch_in = 0, batch_out = 0;
    for (int i = 0; i < x.rank; i++) {
        if (x.dim[i] == NN_BATCH) batch_in = 1;
        else total *= x.dim[i];
    }
    for (int i = 0; i < NN_MAX_RANK; i++) {
        int64_t d = a[i];
        if (i >= rank) {
            if (d != 0) return nn_errf(c->err, NN_ERR_ARG, "dimension %d is given beyond the rank %lld", i, (long long)rank);
            continue;
        }
        if (d == 0) {
            if (i >= x.rank) return nn_errf(c->err, NN_ERR_ARG, "dimension %d is 0 (keep) but the input has rank %d", i, x.rank);
            d = x.dim[i];
        } else if (d == -1) {
            if (infer >= 0) return nn_errf(c->err, NN_ERR_ARG, "more than one dimension is -1");
            infer = i;
            continue;
        } else if (d < 0 || d > INT32_MAX) {
            return nn_errf(c->err, NN_ERR_ARG, "dimension %d is %lld (a size, 0 to keep, or -1 to infer)", i, (long long)d);
        }
        s.dim[i] = d;
        if (d == NN_BATCH) batch_out = 1;
        else known *= d;
    }
    if (batch_in != batch_out)
        return nn_errf(c->err, NN_ERR_SHAPE, "the open batch dimension must stay where it is (keep it with 0)");
    if (infer >= 0) {
        if (known == 0 || total % known) {
            char b[64];
            return nn_errf(c->err, NN_ERR_SHAPE, "%s has no size for the -1 dimension", nn_shape_str(x, b, sizeof b));
        }
        s.dim[infer] = total / known;
        known *= s.dim[infer];
    }
    if (known != total) {
        char b[64], o[64];
        return nn_errf(c->err, NN_ERR_SHAPE, "cannot reshape %s (%lld elements) to %s", nn_shape_str(x, b, sizeof b),
                       (long long)total, nn_shape_str(s, o, sizeof o));
    }
    if (c->in_dtype[0] != NN_F32 && c->in_dtype[0] != NN_I32) return nn_errf(c->err, NN_ERR_ARG, "unknown dtype");
    *out = s;
    *dt = c->in_dtype[0];
    return NN_OK;
}

static nn_status reshape_forward(nn_kernel_call *c) {
    if (c->out->data != c->in[0]->data)
        memcpy(c->out->data, c->in[0]->data, (size_t)c->out->size * nn_dtype_size(c->out->dtype));
    return NN_OK;
}

static nn_status reshape_grad(nn_graph *g, nn_node *node, nn_node *dy, const int *want, nn_node **dx) {
    (void)want;
    nn_shape x = node->in[0]->shape;
    int64_t dims[NN_MAX_RANK] = {0};
    for (int i = 0; i < x.rank; i++) dims[i] = x.dim[i] == NN_BATCH ? 0 : x.dim[i];
    dx[0] = nn_reshape(g, dy, x.rank, dims);
    return g->status;
}

/* in place: the bytes are the same, only the shape changes */
const nn_op_def nn_op_reshape = {
    .name = "reshape",
    .n_inputs = 1,
    .shape = reshape_shape,
    .forward = reshape_forward,
    .grad = reshape_grad,
    .inplace_ok = NN_INPLACE(0),
    .attrs = {{"rank", 'n', 4}, {"d0", 'n', 0}, {"d1", 'n', 1}, {"d2", 'n', 2}, {"d3", 'n', 3}},
    .layer_kind = "Reshape",
};

/* The ops this file defines, for the table (ops/meson.build). */
const nn_op_def *const nn_ops_reshape[] = {&nn_op_reshape, NULL};


nn_node *nn_reshape(nn_graph *g, nn_node *x, int rank, const int64_t *dims) {
    int64_t iattr[NN_MAX_ATTRS] = {0};
    if (rank < 1 || rank > NN_MAX_RANK || !dims) {
        if (g && g->status == NN_OK) nn_fail(g, NN_ERR_ARG, "reshape: rank %d is outside 1..%d or dims is NULL", rank, NN_MAX_RANK);
        return NULL;
    }
    memcpy(iattr, dims, (size_t)rank * sizeof *dims);
    iattr[RESHAPE_RANK] = rank;
    return nn_op_node(g, &nn_op_reshape, NULL, 1, &x, NULL, iattr);
}
