/* Kernels the planner calls directly (fused steps) and ops share: the
 * matrix product with its BLAS and tiny-shape paths, split across the
 * pool's threads by rows. */
#ifndef NN_KERNELS_H
#define NN_KERNELS_H

#include "internal.h"

/* Products with M*N*K below this use nngraph's own loops: for the tiny
 * layers of small networks a BLAS call costs more than the arithmetic
 * (measured with tools/bench/bench_matmul; see docs/performance.md). */
#define NN_GEMM_TINY 32768

/* C[M,N] = op(A) op(B): A is [M,K] ([K,M] when ta), B is [K,N] ([N,K] when
 * tb). Rows of C are split across e's threads when the product is large;
 * each row is computed the same way whatever the split. */
void nn_gemm(struct nn_exec *e, const float *A, const float *B, float *C, int64_t M, int64_t N, int64_t K, int ta,
             int tb);

/* The fused dense step: out = act(op(A) op(B) + bias), bias [N] added to
 * every row, act 0 none, 1 relu, 2 sigmoid. Bias and activation run over
 * each chunk of rows right after its product, while it is in cache, with
 * the same arithmetic as the separate add and activation kernels (so fused
 * and unfused results are bit-equal). */
void nn_dense_forward(struct nn_exec *e, const float *A, const float *B, const float *bias, float *C, int64_t M,
                      int64_t N, int64_t K, int ta, int tb, int act);

/* Elementwise chunks: threads split loops of at least this many elements. */
#define NN_ELEMWISE_GRAIN 65536

#endif
