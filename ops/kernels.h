/* Kernels the planner calls directly (fused steps) and ops share: the
 * matrix product with its BLAS and tiny-shape paths, split across the
 * pool's threads by blocks of rows or columns. */
#ifndef NN_KERNELS_H
#define NN_KERNELS_H

#include "internal.h"

/* Products with M*N*K below this use nngraph's own loops, larger ones
 * CBLAS. OpenBLAS 0.3.21 has small-matrix kernels that reach 40-90 GFLOP/s
 * even at the digits network's [32,25]x[25,15] (tools/bench/bench_matmul,
 * docs/performance.md), so only products of a few hundred flops, where the
 * call itself dominates, stay here. */
#define NN_GEMM_TINY 512

/* Hot loops are compiled for the baseline x86-64 and, selected at load
 * time by the CPU, for x86-64-v3 (AVX2, FMA) and v4 (AVX-512). Not under
 * the sanitizers, whose builds gain nothing from it. Use them on static
 * functions only: GCC exports the dispatcher of any other from the shared
 * library whatever its visibility (tools/check-layers.py would say so). */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_ADDRESS__) &&            \
    !defined(__OPTIMIZE_SIZE__) && defined(__OPTIMIZE__)
#define NN_VECTOR_CLONES __attribute__((target_clones("default", "arch=x86-64-v3", "arch=x86-64-v4")))
#else
#define NN_VECTOR_CLONES
#endif

/* C[M,N] = op(A) op(B): A is [M,K] ([K,M] when ta), B is [K,N] ([N,K] when
 * tb). When the product has several NN_GEMM_GRAIN flops, C is split across
 * e's threads along its longer side, one single-threaded CBLAS call a
 * block. */
void nn_gemm(struct nn_exec *e, const float *A, const float *B, float *C, int64_t M, int64_t N, int64_t K, int ta,
             int tb);

/* The fused dense step: out = act(op(A) op(B) + bias), bias [N] added to
 * every row, act 0 none, 1 relu, 2 sigmoid. Bias and activation run over
 * each chunk of rows right after its product, while it is in cache, with
 * the same arithmetic as the separate add and activation kernels (so fused
 * and unfused results are bit-equal). */
void nn_dense_forward(struct nn_exec *e, const float *A, const float *B, const float *bias, float *C, int64_t M,
                      int64_t N, int64_t K, int ta, int tb, int act);

/* Flops in the smallest chunk of a product given to another thread. */
#define NN_GEMM_GRAIN 1000000

#endif
