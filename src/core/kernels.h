/* Kernels the planner calls directly (fused steps) and ops share: the
 * matrix product (gemm.c: tiny loops, nngraph's own register-tiled
 * kernels, or BLAS, by shape), split across the pool's threads by blocks
 * of rows or columns, and the vector-clone attribute of hot loops. */
#ifndef NN_KERNELS_H
#define NN_KERNELS_H

#include "internal.h"

/* Products with M*N*K below this use plain loops: a few hundred flops,
 * where any call's set-up dominates. */
#define NN_GEMM_TINY 512

/* Hot loops are compiled for the baseline x86-64 and, selected at load
 * time by the CPU, for x86-64-v3 (AVX2, FMA) and v4 (AVX-512). Not under
 * the sanitizers, whose builds gain nothing from it (and under
 * ThreadSanitizer the dispatchers, instrumented, would run before its
 * runtime is up: a crash at load). Use them on static
 * functions only: GCC exports the dispatcher of any other from the shared
 * library whatever its visibility (tools/check-layers.py would say so). */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_ADDRESS__) &&            \
    !defined(__SANITIZE_THREAD__) && !defined(__OPTIMIZE_SIZE__) && defined(__OPTIMIZE__)
#define NN_VECTOR_CLONES __attribute__((target_clones("default", "arch=x86-64-v3", "arch=x86-64-v4")))
#else
#define NN_VECTOR_CLONES
#endif

/* C[M,N] = op(A) op(B): A is [M,K] ([K,M] when ta), B is [K,N] ([N,K] when
 * tb). When the product has several NN_GEMM_GRAIN flops, C is split across
 * e's threads along its longer side, each block one thread's work. */
void nn_gemm(struct nn_exec *e, const float *A, const float *B, float *C, int64_t M, int64_t N, int64_t K, int ta,
             int tb);

/* The fused dense step: out = act(op(A) op(B) + bias), bias [N] added to
 * every row, act 0 none, 1 relu, 2 sigmoid. Bias and activation run over
 * each chunk of rows right after its product, while it is in cache, with
 * the same arithmetic as the separate add and activation kernels (so fused
 * and unfused results are bit-equal). */
void nn_dense_forward(struct nn_exec *e, const float *A, const float *B, const float *bias, float *C, int64_t M,
                      int64_t N, int64_t K, int ta, int tb, int act);

/* Forces the path of every later product above the tiny size: "own"
 * (register tiles, AVX-512 where the CPU has it; BLAS where it has
 * neither AVX-512 nor AVX2), "avx2" (the AVX2 tiles), "blas" (CBLAS), or
 * "auto"/NULL (by shape, the default). Read from NNGRAPH_GEMM on the
 * first product unless called before; for benchmarks and tests. Returns
 * 0 for an unknown name (then "auto"). Not thread-safe: call it before
 * running anything. */
int nn_gemm_force_path(const char *name);

/* Whether products above the tiny size may call BLAS (no AVX2 on this
 * CPU, or the BLAS path forced): the executor then keeps OpenBLAS to one
 * thread while it runs. */
int nn_gemm_may_use_blas(void);

/* The fused gradient step through a relu: C = relu_grad(gate, op(A) op(B)),
 * each element of the product kept where gate (relu's output, [M,N]) is
 * positive and 0 elsewhere, applied as the product is stored (the same
 * select as the relu_grad kernel, so fused and unfused are bit-equal). */
void nn_gemm_relu_gate(struct nn_exec *e, const float *A, const float *B, const float *gate, float *C, int64_t M,
                       int64_t N, int64_t K, int ta, int tb);

/* Flops in the smallest chunk of a product given to another thread. */
#define NN_GEMM_GRAIN 1000000

#endif
