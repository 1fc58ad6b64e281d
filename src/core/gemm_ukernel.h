/* The register-blocked inner kernels of nngraph's own matrix product
 * (gemm.c): one tile of C, up to MR rows by NR columns, over kc terms of
 * the sum, held in vector registers from the first term to the store.
 *
 * Written with intrinsics under a target attribute each (AVX-512F, and
 * AVX2 with FMA) and chosen at run time from the CPU, like the
 * NN_VECTOR_CLONES loops: the compiler cannot vectorise a register tile
 * by itself. Both compute every element of C as the same chain of fused
 * multiply-adds in the order k = 0, 1, ..., so the AVX2 and AVX-512
 * kernels, any tile position and any split of C across threads give bit
 * for bit the same result. */
#ifndef NN_GEMM_UKERNEL_H
#define NN_GEMM_UKERNEL_H

#include <stdint.h>

/* One tile: C[r, j] (r < mr, j < nr) = bias[j] + (load_c ? C[r, j] : 0)
 * + sum over k < kc of a(r, k) b(k, j), then max(., 0) when relu, then
 * with a gate, gate[r * ldg + j] > 0 ? C[r, j] : 0 (relu's gradient,
 * gate = relu's output). a(r, k) is a[r * rsa + k * csa] (any layout of
 * A); row k of the tile's B is the nr floats at b + k * ldb. bias and
 * gate may be NULL. */
typedef struct nn_ukr_args {
    int64_t kc;
    const float *a;
    int64_t rsa, csa;
    const float *b;
    int64_t ldb;
    float *c;
    int64_t ldc;
    const float *bias;
    const float *gate;
    int64_t ldg;
    int mr, nr;
    int load_c, relu;
} nn_ukr_args;

/* A kernel and its tile: mr <= MR and nr <= NR in every call. */
typedef struct nn_ukernel {
    const char *name;
    int MR, NR;
    void (*tile)(const nn_ukr_args *u);
} nn_ukernel;

/* The best kernel this CPU runs (AVX-512F, else AVX2+FMA), or NULL
 * (another architecture, or neither extension). */
const nn_ukernel *nn_ukernel_best(void);
/* The AVX2+FMA kernel if the CPU has those, else NULL (for tests and
 * benchmarks that compare the two). */
const nn_ukernel *nn_ukernel_avx2(void);

#endif
