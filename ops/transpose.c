/* transpose(x): the axes of x permuted, out.dim[i] = x.dim[perm[i]] with
 * perm in iattr[0..rank) (PyTorch's permute, NumPy's transpose). The open
 * batch dimension stays first. Its gradient is the inverse permutation. */
#include "ops.h"

static nn_status transpose_shape(nn_shape_ctx *c, nn_shape *out, nn_dtype *dt) {
    const int64_t *perm = c->node->iattr;
    nn_shape x = c->in[0];
    int seen[NN_MAX_RANK] = {0};
    for (int i = 0; i < NN_MAX_RANK; i++) {
        if (i >= x.rank) {
            if (perm[i] != 0) return nn_errf(c->err, NN_ERR_ARG, "axis %d is given beyond the input's rank %d", i, x.rank);
            continue;
        }
        if (perm[i] < 0 || perm[i] >= x.rank || seen[perm[i]]++)
            return nn_errf(c->err, NN_ERR_ARG, "the axes are not a permutation of 0..%d", x.rank - 1);
    }
    if (x.rank > 0 && x.dim[0] == NN_BATCH && perm[0] != 0)
        return nn_errf(c->err, NN_ERR_SHAPE, "the open batch dimension must stay first (axis 0 maps to 0)");
    if (c->in_dtype[0] != NN_F32 && c->in_dtype[0] != NN_I32) return nn_errf(c->err, NN_ERR_ARG, "unknown dtype");
    nn_shape s = x;
    for (int i = 0; i < x.rank; i++) s.dim[i] = x.dim[perm[i]];
    *out = s;
    *dt = c->in_dtype[0];
    return NN_OK;
}

static nn_status transpose_forward(nn_kernel_call *c) {
    const nn_shape x = c->in[0]->shape;
    const int64_t *perm = c->node->iattr;
    /* padded to rank 4 on the left; st[i]: x's stride along output axis i */
    int64_t xs[NN_MAX_RANK], dim[4] = {1, 1, 1, 1}, st[4] = {0, 0, 0, 0};
    int64_t acc = 1;
    for (int i = x.rank - 1; i >= 0; i--) {
        xs[i] = acc;
        acc *= x.dim[i];
    }
    int lead = 4 - x.rank;
    for (int i = 0; i < x.rank; i++) {
        dim[lead + i] = x.dim[perm[i]];
        st[lead + i] = xs[perm[i]];
    }
    /* f32 and i32 alike: 4-byte elements, copied as bits */
    const uint32_t *src = c->in[0]->data;
    uint32_t *dst = c->out->data;
    for (int64_t a = 0; a < dim[0]; a++)
        for (int64_t b = 0; b < dim[1]; b++)
            for (int64_t d = 0; d < dim[2]; d++) {
                const uint32_t *s = src + a * st[0] + b * st[1] + d * st[2];
                for (int64_t e = 0; e < dim[3]; e++) *dst++ = s[e * st[3]];
            }
    return NN_OK;
}

static nn_status transpose_grad(nn_graph *g, nn_node *node, nn_node *dy, const int *want, nn_node **dx) {
    (void)want;
    int inv[NN_MAX_RANK] = {0};
    int rank = node->in[0]->shape.rank;
    for (int i = 0; i < rank; i++) inv[node->iattr[i]] = i;
    dx[0] = nn_transpose(g, dy, inv);
    return g->status;
}

const nn_op_def nn_op_transpose = {
    .name = "transpose",
    .n_inputs = 1,
    .shape = transpose_shape,
    .forward = transpose_forward,
    .grad = transpose_grad,
    .attrs = {{"perm0", 'n', 0}, {"perm1", 'n', 1}, {"perm2", 'n', 2}, {"perm3", 'n', 3}},
};

/* The ops this file defines, for the table (ops/meson.build). */
const nn_op_def *const nn_ops_transpose[] = {&nn_op_transpose, NULL};


nn_node *nn_transpose(nn_graph *g, nn_node *x, const int *perm) {
    int64_t iattr[NN_MAX_ATTRS] = {0};
    if (!perm) {
        if (g && g->status == NN_OK) nn_fail(g, NN_ERR_ARG, "transpose: perm is NULL");
        return NULL;
    }
    int rank = x ? x->shape.rank : 0;
    for (int i = 0; i < rank; i++) iattr[i] = perm[i];
    return nn_op_node(g, &nn_op_transpose, NULL, 1, &x, NULL, iattr);
}
