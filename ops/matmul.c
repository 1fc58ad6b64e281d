/* matmul: C = op(A) @ op(B) for 2-D tensors, op = transpose when the
 * node's flag is set (iattr[0] for A, iattr[1] for B).
 *
 * The transposes are flags, not nodes, because the gradients need exactly
 * these products: for C = A B, dA = dC B^T and dB = A^T dC. */
#include "ops.h"
#include "kernels.h"

extern const nn_op_def nn_op_matmul;

static nn_status matmul_shape(nn_shape_ctx *c, nn_shape *out, nn_dtype *dt) {
    int ta = (int)c->node->iattr[0], tb = (int)c->node->iattr[1];
    if (c->in_dtype[0] != NN_F32 || c->in_dtype[1] != NN_F32) return nn_errf(c->err, NN_ERR_ARG, "inputs must be f32");
    if (c->in[0].rank != 2 || c->in[1].rank != 2) return nn_errf(c->err, NN_ERR_SHAPE, "inputs must be 2-D");
    int64_t m = c->in[0].dim[ta ? 1 : 0], ka = c->in[0].dim[ta ? 0 : 1];
    int64_t kb = c->in[1].dim[tb ? 1 : 0], n = c->in[1].dim[tb ? 0 : 1];
    if (ka != kb)
        return nn_errf(c->err, NN_ERR_SHAPE, "inner dimensions differ (%s%lld vs %s%lld)", ka == NN_BATCH ? "B:" : "",
                       (long long)ka, kb == NN_BATCH ? "B:" : "", (long long)kb);
    *out = NN_SHAPE(m, n);
    *dt = NN_F32;
    return NN_OK;
}

static nn_status matmul_forward(nn_kernel_call *c) {
    int ta = (int)c->node->iattr[0], tb = (int)c->node->iattr[1];
    const nn_tensor *a = c->in[0];
    int64_t M = c->out->shape.dim[0], N = c->out->shape.dim[1], K = a->shape.dim[ta ? 0 : 1];
    nn_gemm(c->exec, NN_CF(a), NN_CF(c->in[1]), NN_F(c->out), M, N, K, ta, tb);
    return NN_OK;
}

static nn_status matmul_grad(nn_graph *g, nn_node *node, nn_node *dy, const int *want, nn_node **dx) {
    nn_node *A = node->in[0], *B = node->in[1];
    int ta = (int)node->iattr[0], tb = (int)node->iattr[1];
    /* each case is C = op(A) op(B) differentiated and rewritten so that no
     * explicit transpose is needed */
    if (want[0]) {
        if (!ta)
            dx[0] = tb ? nn_matmul_t(g, dy, B, 0, 0) : nn_matmul_t(g, dy, B, 0, 1);
        else
            dx[0] = tb ? nn_matmul_t(g, B, dy, 1, 1) : nn_matmul_t(g, B, dy, 0, 1);
    }
    if (want[1]) {
        if (!tb)
            dx[1] = ta ? nn_matmul_t(g, A, dy, 0, 0) : nn_matmul_t(g, A, dy, 1, 0);
        else
            dx[1] = ta ? nn_matmul_t(g, dy, A, 1, 1) : nn_matmul_t(g, dy, A, 1, 0);
    }
    return g->status;
}

const nn_op_def nn_op_matmul = {
    .name = "matmul",
    .n_inputs = 2,
    .shape = matmul_shape,
    .forward = matmul_forward,
    .grad = matmul_grad,
    .attrs = {{"trans_a", 'i', 0}, {"trans_b", 'i', 1}},
    .layer_kind = "dense",
};

/* The ops this file defines, for the table (ops/meson.build). */
const nn_op_def *const nn_ops_matmul[] = {&nn_op_matmul, NULL};

nn_node *nn_matmul_t(nn_graph *g, nn_node *a, nn_node *b, int trans_a, int trans_b) {
    nn_node *in[2] = {a, b};
    int64_t iattr[NN_MAX_ATTRS] = {trans_a != 0, trans_b != 0};
    return nn_op_node(g, &nn_op_matmul, NULL, 2, in, NULL, iattr);
}

nn_node *nn_matmul(nn_graph *g, nn_node *a, nn_node *b) { return nn_matmul_t(g, a, b, 0, 0); }
