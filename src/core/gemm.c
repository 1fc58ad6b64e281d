/* The products module: every matrix product nngraph computes (the matmul
 * op, the fused dense step of plans) goes through nn_gemm or
 * nn_dense_forward here. Three paths, chosen by shape:
 *
 * - tiny: a few hundred flops, where any call's overhead dominates: plain
 *   loops the compiler vectorises;
 * - own: nngraph's register-tiled kernels (gemm_ukernel.c) for AVX-512
 *   or AVX2, B packed into column panels when it is transposed or wide;
 *   with the bias and relu of a fused dense step applied as each tile is
 *   stored;
 * - blas: one single-threaded cblas_sgemm a block, where the CPU has
 *   neither extension or the shape measured faster there.
 *
 * The own path exists because OpenBLAS's speed depends on the kernel it
 * picks for the CPU, and environments that set OPENBLAS_CORETYPE=Haswell
 * (a common guard against old OpenBLAS builds mis-detecting new CPUs)
 * halve it on AVX-512 machines; the own kernels do not depend on it
 * (docs/performance.md has the measurements and the crossovers). */
#include "kernels.h"
#include "gemm_ukernel.h"
#include "pool.h"

#include <cblas.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* Rows [r0,r1) of C[M,N] = op(A) op(B), nngraph's own loops for tiny
 * shapes. Without tb the innermost loop walks a row of B and a row of C
 * contiguously (the compiler vectorises it); with tb each element is a dot
 * product of two contiguous rows, summed in 8 lanes so it vectorises
 * without reassociating a single running sum. */
NN_VECTOR_CLONES static void tiny_rows(const float *restrict A, const float *restrict B, float *restrict C, int64_t M,
                                       int64_t N, int64_t K, int ta, int tb, int64_t r0, int64_t r1) {
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
 * add's and the activation's arithmetic, on a block still in cache.
 * Without bias only the activation. */
NN_VECTOR_CLONES static void bias_act(float *restrict C, const float *restrict bias, int64_t N, int64_t r0,
                                      int64_t r1, int64_t c0, int64_t c1, int act) {
    for (int64_t i = r0; i < r1; i++) {
        float *restrict y = C + i * N;
        if (bias)
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

/* C[r, c] = gate[r, c] > 0 ? C[r, c] : 0 over a block: relu_grad's
 * select after a product that did not apply it itself. */
NN_VECTOR_CLONES static void gate_block(float *restrict C, const float *restrict gate, int64_t N, int64_t r0,
                                        int64_t r1, int64_t c0, int64_t c1) {
    for (int64_t i = r0; i < r1; i++)
        for (int64_t c = c0; c < c1; c++) {
            float g = gate[i * N + c], y = C[i * N + c];
            C[i * N + c] = g > 0.f ? y : 0.f;
        }
}

/* The own path's blocking. The sum over K runs in blocks of at most
 * KC_MAX terms (C is reloaded between blocks), so that a panel of packed
 * B (kc x NR floats, 32 KB at 256 x 32) stays in the first-level cache
 * while the row tiles of A pass over it; columns are packed NC at a
 * time. B is used in place when it is neither transposed nor wide (the
 * digits network's products), packing costing more than it saves there. */
#define KC_MAX 320
#define NC 512
#define MC 96
#define PACK_N_MIN 64
/* A transposed A is read a row of M floats apart per term; from this M on
 * (1 KB and more) the terms of a tile fall on a few cache sets and evict
 * each other, so A's block is packed into panels of MR rows (measured:
 * 2048x2048x256 went from 0.76 to 0.93 of OpenBLAS's AVX-512 speed) */
#define PACK_TA_M 256
/* packing buffers up to this many floats live on the stack */
#define STACK_PACK 4096

/* B's columns [j0, j0+nc), terms [k0, k0+kc) into panels of NR columns:
 * panel p holds kc rows of NR floats, zero beyond the last column. */
static void pack_b(float *dst, const float *B, int64_t ldb, int tb, int64_t k0, int64_t kc, int64_t j0, int64_t nc,
                   int NR) {
    for (int64_t p = 0; p * NR < nc; p++) {
        float *panel = dst + p * kc * NR;
        int64_t w = nc - p * NR < NR ? nc - p * NR : NR, j = j0 + p * NR;
        if (!tb) {
            for (int64_t k = 0; k < kc; k++) {
                memcpy(panel + k * NR, B + (k0 + k) * ldb + j, (size_t)w * sizeof(float));
                for (int64_t x = w; x < NR; x++) panel[k * NR + x] = 0.f;
            }
        } else {
            for (int64_t x = 0; x < NR; x++) {
                const float *src = B + (j + x) * ldb + k0;
                if (x < w)
                    for (int64_t k = 0; k < kc; k++) panel[k * NR + x] = src[k];
                else
                    for (int64_t k = 0; k < kc; k++) panel[k * NR + x] = 0.f;
            }
        }
    }
}

/* Rows [i0, i0+mc) of op(A) = A^T (A is [K,M]), terms [k0, k0+kc), into
 * panels of MR rows: panel p holds kc columns of MR floats (zero past mc). */
static void pack_at(float *dst, const float *A, int64_t M, int64_t i0, int64_t mc, int64_t k0, int64_t kc, int MR) {
    for (int64_t p = 0; p * MR < mc; p++) {
        float *panel = dst + p * kc * MR;
        int64_t h = mc - p * MR < MR ? mc - p * MR : MR;
        for (int64_t k = 0; k < kc; k++) {
            const float *src = A + (k0 + k) * M + i0 + p * MR;
            for (int64_t r = 0; r < MR; r++) panel[k * MR + r] = r < h ? src[r] : 0.f;
        }
    }
}

/* C[r0:r1, c0:c1] (C is [M,N]) through the register tiles, with the
 * bias (may be NULL), relu and the gate (may be NULL; [M,N] like C)
 * applied at the last block of K. Returns 0 when a packing buffer cannot
 * be allocated (the caller takes BLAS). */
static int own_block(const nn_ukernel *uk, const float *A, const float *B, const float *bias, const float *gate,
                     float *C, int64_t M, int64_t N, int64_t K, int ta, int tb, int relu, int64_t r0, int64_t r1,
                     int64_t c0, int64_t c1) {
    const int MR = uk->MR, NR = uk->NR;
    const int64_t rows = r1 - r0, cols = c1 - c0;
    const float *a0 = ta ? A + r0 : A + r0 * K;
    const int64_t rsa = ta ? 1 : K, csa = ta ? M : 1;
    const int64_t nblk = (K + KC_MAX - 1) / KC_MAX, kstep = (K + nblk - 1) / nblk;
    const int pack = tb || cols > PACK_N_MIN;
    const int64_t nc_max = cols < NC ? cols : NC;
    const int64_t npanel = (nc_max + NR - 1) / NR;
    size_t need = pack ? (size_t)(kstep < K ? kstep : K) * (size_t)(npanel * NR) : 0;
    float stackbuf[STACK_PACK] __attribute__((aligned(64)));
    float *buf = stackbuf, *abuf = NULL;
    if (need > STACK_PACK && !(buf = aligned_alloc(64, (need * sizeof(float) + 63) / 64 * 64))) return 0;
    /* packing pays only when the panels serve more than one column tile */
    const int pack_a = ta && M >= PACK_TA_M && cols > NR;
    if (pack_a) {
        size_t an = (size_t)((MC + MR - 1) / MR * MR) * (size_t)(kstep < K ? kstep : K);
        if (!(abuf = aligned_alloc(64, (an * sizeof(float) + 63) / 64 * 64))) {
            if (buf != stackbuf) free(buf);
            return 0;
        }
    }
    nn_ukr_args u;
    u.c = NULL;
    u.ldc = N;
    u.ldg = N;
    u.rsa = rsa;
    u.csa = csa;
    for (int64_t jc = 0; jc < cols; jc += NC) {
        int64_t nc = cols - jc < NC ? cols - jc : NC;
        for (int64_t k0 = 0; k0 < K; k0 += kstep) {
            int64_t kc = K - k0 < kstep ? K - k0 : kstep;
            int last = k0 + kc == K;
            if (pack) pack_b(buf, B, tb ? K : N, tb, k0, kc, c0 + jc, nc, NR);
            u.kc = kc;
            u.load_c = k0 > 0;
            u.relu = last && relu;
            for (int64_t ic = 0; ic < rows; ic += MC) {
                int64_t mc = rows - ic < MC ? rows - ic : MC;
                if (pack_a) pack_at(abuf, A, M, r0 + ic, mc, k0, kc, MR);
                for (int64_t jr = 0; jr < nc; jr += NR) {
                    u.nr = (int)(nc - jr < NR ? nc - jr : NR);
                    u.bias = last && bias ? bias + c0 + jc + jr : NULL;
                    if (pack) {
                        u.b = buf + (jr / NR) * kc * NR;
                        u.ldb = NR;
                    } else {
                        u.b = B + k0 * N + c0 + jc + jr;
                        u.ldb = N;
                    }
                    for (int64_t ir = 0; ir < mc; ir += MR) {
                        u.mr = (int)(mc - ir < MR ? mc - ir : MR);
                        if (pack_a) {
                            u.a = abuf + (ir / MR) * kc * MR;
                            u.rsa = 1;
                            u.csa = MR;
                        } else {
                            u.a = a0 + (ic + ir) * rsa + k0 * csa;
                        }
                        u.c = C + (r0 + ic + ir) * N + c0 + jc + jr;
                        u.gate = last && gate ? gate + (u.c - C) : NULL;
                        uk->tile(&u);
                    }
                }
            }
        }
    }
    if (buf != stackbuf) free(buf);
    free(abuf);
    return 1;
}

enum { PATH_TINY, PATH_OWN, PATH_BLAS };

/* The kernel of the own path (NULL: none on this CPU) and a forced path
 * (-1 none); set once, on the first product, from NNGRAPH_GEMM unless
 * nn_gemm_force_path came first (pthread_once: graphs on several user
 * threads may start at once). */
static const nn_ukernel *own_kernel;
static int forced_path = -1, configured;
static pthread_once_t env_once = PTHREAD_ONCE_INIT;

static void configure_from_env(void) {
    if (!configured) nn_gemm_force_path(getenv("NNGRAPH_GEMM"));
}

int nn_gemm_force_path(const char *name) {
    int ok = 1;
    own_kernel = nn_ukernel_best();
    forced_path = -1;
    if (!name || !*name || !strcmp(name, "auto"))
        ;
    else if (!strcmp(name, "own"))
        forced_path = PATH_OWN;
    else if (!strcmp(name, "blas"))
        forced_path = PATH_BLAS;
    else if (!strcmp(name, "avx2")) {
        forced_path = PATH_OWN;
        own_kernel = nn_ukernel_avx2();
    } else
        ok = 0;
    configured = 1;
    return ok;
}

/* The path for a product of this shape on this CPU. Measured with
 * tools/bench/bench_matmul and eval_gemm_libs (docs/performance.md): the
 * register tiles beat OpenBLAS's Haswell kernels at every shape of the
 * digits, Fashion and 784-W-W-10 networks (1.13x to 2.18x) and come to
 * 0.63x to 1.51x of its AVX-512 kernels (mean 1.07x; narrow outputs are
 * the slow end). Above the tiny size every product takes them when the
 * CPU has AVX2 or AVX-512: one path whatever OpenBLAS detects, with the
 * epilogues folded in, and results independent of how C is split across
 * threads. */
static int choose_path(int64_t M, int64_t N, int64_t K) {
    if (M * N * K < NN_GEMM_TINY) return PATH_TINY;
    pthread_once(&env_once, configure_from_env);
    if (!own_kernel) return PATH_BLAS;
    return forced_path >= 0 ? forced_path : PATH_OWN;
}

int nn_gemm_may_use_blas(void) {
    pthread_once(&env_once, configure_from_env);
    return !own_kernel || forced_path == PATH_BLAS;
}

typedef struct gemm_job {
    const float *A, *B, *bias, *gate;
    float *C;
    int64_t M, N, K;
    int ta, tb, act, path;
    int by_cols; /* chunks are blocks of columns, not of rows */
    const nn_ukernel *uk;
} gemm_job;

static void gemm_chunk(void *ctx, int64_t lo, int64_t hi) {
    const gemm_job *j = ctx;
    int64_t r0 = j->by_cols ? 0 : lo, r1 = j->by_cols ? j->M : hi;
    int64_t c0 = j->by_cols ? lo : 0, c1 = j->by_cols ? hi : j->N;
    if (j->path == PATH_OWN && own_block(j->uk, j->A, j->B, j->bias, j->gate, j->C, j->M, j->N, j->K, j->ta, j->tb,
                                         j->act == 1, r0, r1, c0, c1)) {
        if (j->act == 2) bias_act(j->C, NULL, j->N, r0, r1, c0, c1, 2);
        return;
    }
    if (j->path == PATH_TINY)
        tiny_rows(j->A, j->B, j->C, j->M, j->N, j->K, j->ta, j->tb, r0, r1);
    else
        blas_block(j->A, j->B, j->C, j->M, j->N, j->K, j->ta, j->tb, r0, r1, c0, c1);
    if (j->bias || j->act) bias_act(j->C, j->bias, j->N, r0, r1, c0, c1, j->act);
    if (j->gate) gate_block(j->C, j->gate, j->N, r0, r1, c0, c1);
}

static void gemm_run(struct nn_exec *e, gemm_job *j) {
    if (j->M <= 0 || j->N <= 0) return;
    /* K = 0 (an empty sum, zeros) also takes the tiny loops */
    j->path = choose_path(j->M, j->N, j->K);
    j->uk = own_kernel;
    /* Split the longer side of C: every chunk packs (copies into BLAS's
     * blocked layout) all of the operand along the side that is not
     * split, so splitting the rows of a [128,512] output would pack the
     * whole [512,512] weight twice. */
    j->by_cols = j->path != PATH_TINY && j->N > j->M;
    int64_t len = j->by_cols ? j->N : j->M, other = j->by_cols ? j->M : j->N;
    /* a chunk is worth a blocked thread's wake-up (several microseconds)
     * only with about a million floating-point operations in it; the
     * digits network's products (at most 640,000) stay on one thread */
    int64_t grain = NN_GEMM_GRAIN / (2 * other * (j->K ? j->K : 1)) + 1;
    nn_parallel_for(e, len, grain, gemm_chunk, j);
}

void nn_gemm(struct nn_exec *e, const float *A, const float *B, float *C, int64_t M, int64_t N, int64_t K, int ta,
             int tb) {
    gemm_job j = {A, B, NULL, NULL, C, M, N, K, ta, tb, 0, 0, 0, NULL};
    gemm_run(e, &j);
}

void nn_gemm_relu_gate(struct nn_exec *e, const float *A, const float *B, const float *gate, float *C, int64_t M,
                       int64_t N, int64_t K, int ta, int tb) {
    gemm_job j = {A, B, NULL, gate, C, M, N, K, ta, tb, 0, 0, 0, NULL};
    gemm_run(e, &j);
}

void nn_dense_forward(struct nn_exec *e, const float *A, const float *B, const float *bias, float *C, int64_t M,
                      int64_t N, int64_t K, int ta, int tb, int act) {
    gemm_job j = {A, B, bias, NULL, C, M, N, K, ta, tb, act, 0, 0, NULL};
    gemm_run(e, &j);
}
