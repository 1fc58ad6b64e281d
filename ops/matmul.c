/* matmul: C = op(A) @ op(B) for 2-D tensors, op = transpose when the
 * node's flag is set (iattr[0] for A, iattr[1] for B).
 *
 * The transposes are flags, not nodes, because the gradients need exactly
 * these products: for C = A B, dA = dC B^T and dB = A^T dC. */
#include "ops.h"
#include "kernels.h"
#include "pool.h"

#include <cblas.h>
#include <math.h>
#include <string.h>

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

/* Rows [r0,r1) of C[M,N] = op(A) op(B), nngraph's own loops for tiny
 * shapes. Without tb the innermost loop walks a row of B and a row of C
 * contiguously (the compiler vectorises it); with tb each element is a dot
 * product of two contiguous rows, summed in 8 lanes so it vectorises
 * without reassociating a single running sum. */
NN_VECTOR_CLONES static void tiny_rows(const float *restrict A, const float *restrict B, float *restrict C, int64_t M, int64_t N,
                      int64_t K, int ta, int tb, int64_t r0, int64_t r1) {
    if (!tb) {
        for (int64_t i = r0; i < r1; i++) {
            float *restrict ci = C + i * N;
            for (int64_t j = 0; j < N; j++) ci[j] = 0.f;
            for (int64_t k = 0; k < K; k++) {
                float a = ta ? A[k * M + i] : A[i * K + k];
                const float *restrict bk = B + k * N;
                for (int64_t j = 0; j < N; j++) ci[j] += a * bk[j];
            }
        }
        return;
    }
    for (int64_t i = r0; i < r1; i++)
        for (int64_t j = 0; j < N; j++) {
            const float *restrict bj = B + j * K;
            float lane[8] = {0};
            int64_t k = 0;
            if (!ta) {
                const float *restrict ai = A + i * K;
                for (; k + 8 <= K; k += 8)
                    for (int l = 0; l < 8; l++) lane[l] += ai[k + l] * bj[k + l];
                for (; k < K; k++) lane[0] += ai[k] * bj[k];
            } else {
                for (; k < K; k++) lane[k & 7] += A[k * M + i] * bj[k];
            }
            C[i * N + j] = ((lane[0] + lane[1]) + (lane[2] + lane[3])) + ((lane[4] + lane[5]) + (lane[6] + lane[7]));
        }
}

/* C[r0:r1, c0:c1] through CBLAS: a block of rows of op(A) and a block of
 * columns of op(B) are sub-matrices with the full matrices' leading
 * dimensions. */
static void blas_block(const float *A, const float *B, float *C, int64_t M, int64_t N, int64_t K, int ta, int tb,
                       int64_t r0, int64_t r1, int64_t c0, int64_t c1) {
    const float *a = ta ? A + r0 : A + r0 * K;
    const float *b = tb ? B + c0 * K : B + c0;
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, (blasint)(r1 - r0),
                (blasint)(c1 - c0), (blasint)K, 1.f, a, (blasint)(ta ? M : K), b, (blasint)(tb ? K : N), 0.f,
                C + r0 * N + c0, (blasint)N);
}

/* y[r, c0:c1] = act(y[r, c0:c1] + bias[c0:c1]) for rows [r0,r1): the
 * add's and the activation's arithmetic, on a block still in cache. */
NN_VECTOR_CLONES static void bias_act(float *restrict C, const float *restrict bias, int64_t N, int64_t r0,
                                      int64_t r1, int64_t c0, int64_t c1, int act) {
    for (int64_t i = r0; i < r1; i++) {
        float *restrict y = C + i * N;
        for (int64_t c = c0; c < c1; c++) y[c] = y[c] + bias[c];
        if (act == 1)
            for (int64_t c = c0; c < c1; c++) y[c] = y[c] < 0.f ? 0.f : y[c]; /* NaN stays NaN, as in relu.c */
        else if (act == 2)
            for (int64_t c = c0; c < c1; c++) {
                float e = expf(-fabsf(y[c]));
                y[c] = y[c] >= 0.f ? 1.f / (1.f + e) : e / (1.f + e);
            }
    }
}

typedef struct gemm_job {
    const float *A, *B, *bias;
    float *C;
    int64_t M, N, K;
    int ta, tb, act, tiny;
    int by_cols; /* chunks are blocks of columns, not of rows */
} gemm_job;

static void gemm_chunk(void *ctx, int64_t lo, int64_t hi) {
    const gemm_job *j = ctx;
    int64_t r0 = j->by_cols ? 0 : lo, r1 = j->by_cols ? j->M : hi;
    int64_t c0 = j->by_cols ? lo : 0, c1 = j->by_cols ? hi : j->N;
    if (j->tiny)
        tiny_rows(j->A, j->B, j->C, j->M, j->N, j->K, j->ta, j->tb, r0, r1);
    else
        blas_block(j->A, j->B, j->C, j->M, j->N, j->K, j->ta, j->tb, r0, r1, c0, c1);
    if (j->bias) bias_act(j->C, j->bias, j->N, r0, r1, c0, c1, j->act);
}

static void gemm_run(struct nn_exec *e, gemm_job *j) {
    if (j->M <= 0 || j->N <= 0) return;
    /* K = 0 (an empty sum, zeros) also takes the own loops */
    j->tiny = j->M * j->N * j->K < NN_GEMM_TINY;
    /* Split the longer side of C: every chunk packs (copies into BLAS's
     * blocked layout) all of the operand along the side that is not
     * split, so splitting the rows of a [128,512] output would pack the
     * whole [512,512] weight twice. */
    j->by_cols = !j->tiny && j->N > j->M;
    int64_t len = j->by_cols ? j->N : j->M, other = j->by_cols ? j->M : j->N;
    /* a chunk is worth a blocked thread's wake-up (several microseconds)
     * only with about a million floating-point operations in it; the
     * digits network's products (at most 640,000) stay on one thread */
    int64_t grain = NN_GEMM_GRAIN / (2 * other * (j->K ? j->K : 1)) + 1;
    nn_parallel_for(e, len, grain, gemm_chunk, j);
}

void nn_gemm(struct nn_exec *e, const float *A, const float *B, float *C, int64_t M, int64_t N, int64_t K, int ta,
             int tb) {
    gemm_job j = {A, B, NULL, C, M, N, K, ta, tb, 0, 0, 0};
    gemm_run(e, &j);
}

void nn_dense_forward(struct nn_exec *e, const float *A, const float *B, const float *bias, float *C, int64_t M,
                      int64_t N, int64_t K, int ta, int tb, int act) {
    gemm_job j = {A, B, bias, C, M, N, K, ta, tb, act, 0, 0};
    gemm_run(e, &j);
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
