/* The evaluation behind nngraph's choice of product kernels (issue 17,
 * docs/performance.md): at the product shapes of the digits and Fashion
 * networks and of the 784-2048-2048-10 grid, GFLOP/s on one thread of
 *   - OpenBLAS (cblas_sgemm, with whatever OPENBLAS_CORETYPE says),
 *   - libxsmm 1.17 (JIT-generated small GEMMs; NULL = no kernel for the shape),
 *   - BLIS 0.9 (bli_sgemm with row/column strides),
 *   - nngraph's products (nn_gemm, the path NNGRAPH_GEMM selects).
 * Built only where libxsmm-dev and libblis-dev are installed (they are not
 * dependencies of the library). Each measurement is the best of five
 * alternating windows.
 *
 *   eval_gemm_libs [--ms MILLISECONDS] */
#include "bench_util.h"
#include "kernels.h"

#include <blis.h>
#include <cblas.h>
#include <libxsmm.h>

/* OpenBLAS's; blis.h brings its own cblas.h, which lacks it */
void openblas_set_num_threads(int);
#include <stdio.h>
#include <stdlib.h>

typedef struct shape {
    const char *where;
    int M, N, K, ta, tb;
} shape;

static const shape shapes[] = {
    {"digits fwd L1", 32, 25, 400, 0, 0}, {"digits fwd L2", 32, 15, 25, 0, 0}, {"digits fwd L3", 32, 10, 15, 0, 0},
    {"digits dW1", 400, 25, 32, 1, 0},    {"digits dW2", 25, 15, 32, 1, 0},    {"digits dh1", 32, 25, 15, 0, 1},
    {"fashion fwd L1", 64, 256, 784, 0, 0}, {"fashion fwd L2", 64, 128, 256, 0, 0},
    {"fashion fwd L3", 64, 10, 128, 0, 0}, {"fashion dW1", 784, 256, 64, 1, 0},
    {"fashion dW2", 256, 128, 64, 1, 0},  {"fashion dh1", 64, 256, 128, 0, 1},
    {"W2048 fwd L2", 256, 2048, 2048, 0, 0}, {"W2048 dW2", 2048, 2048, 256, 1, 0},
};

enum { OPENBLAS, XSMM, BLIS, NNGRAPH, N_IMPL };
static const char *names[N_IMPL] = {"openblas", "libxsmm", "blis", "nngraph"};
static volatile float sink;

static double measure(int impl, const shape *s, const float *A, const float *B, float *C, double ms,
                      libxsmm_smmfunction xk) {
    double t0 = bench_now(), t;
    long reps = 0;
    float one = 1.f, zero = 0.f;
    do {
        for (int i = 0; i < 4; i++) switch (impl) {
            case OPENBLAS:
                cblas_sgemm(CblasRowMajor, s->ta ? CblasTrans : CblasNoTrans, s->tb ? CblasTrans : CblasNoTrans, s->M,
                            s->N, s->K, 1.f, A, s->ta ? s->M : s->K, B, s->tb ? s->K : s->N, 0.f, C, s->N);
                break;
            case XSMM: xk(B, A, C); break;
            case BLIS:
                bli_sgemm(BLIS_NO_TRANSPOSE, BLIS_NO_TRANSPOSE, s->M, s->N, s->K, &one, (float *)A,
                          s->ta ? 1 : s->K, s->ta ? s->M : 1, (float *)B, s->tb ? 1 : s->N, s->tb ? s->K : 1, &zero, C,
                          s->N, 1);
                break;
            default: nn_gemm(NULL, A, B, C, s->M, s->N, s->K, s->ta, s->tb);
            }
        reps += 4;
        t = bench_now() - t0;
    } while (t < ms * 1e-3);
    sink = C[0];
    return 2.0 * s->M * s->N * s->K * (double)reps / t * 1e-9;
}

int main(int argc, char **argv) {
    if (argc > 1 && argv[1][0] == '-' && argv[1][1] == 'h') {
        printf("usage: %s [--ms MS]\n", argv[0]);
        return 0;
    }
    double ms = (double)bench_arg_long(argc, argv, "--ms", 50);
    openblas_set_num_threads(1);
    bli_thread_set_num_threads(1);
    libxsmm_init();
    size_t big = 2048 * 2048;
    float *A = malloc(big * sizeof *A), *B = malloc(big * sizeof *B), *C = malloc(big * sizeof *C);
    if (!A || !B || !C) return 1;
    for (size_t i = 0; i < big; i++) {
        A[i] = (float)((i * 7919) % 1000) / 1000.f - 0.5f;
        B[i] = (float)((i * 104729) % 1000) / 1000.f - 0.5f;
    }
    for (size_t i = 0; i < sizeof shapes / sizeof *shapes; i++) {
        const shape *s = &shapes[i];
        /* row-major C = op(A) op(B) is column-major C^T = op(B)^T op(A)^T */
        int flags = (s->tb ? LIBXSMM_GEMM_FLAG_TRANS_A : 0) | (s->ta ? LIBXSMM_GEMM_FLAG_TRANS_B : 0);
        libxsmm_blasint lda = s->tb ? s->K : s->N, ldb = s->ta ? s->M : s->K, ldc = s->N;
        float alpha = 1.f, beta = 0.f;
        libxsmm_smmfunction xk = libxsmm_smmdispatch(s->N, s->M, s->K, &lda, &ldb, &ldc, &alpha, &beta, &flags, NULL);
        double best[N_IMPL] = {0};
        for (int w = 0; w < 5; w++)
            for (int impl = 0; impl < N_IMPL; impl++) {
                if (impl == XSMM && !xk) continue;
                double g = measure(impl, s, A, B, C, ms / 5, xk);
                if (g > best[impl]) best[impl] = g;
            }
        printf("gemmlibs shape=\"%s\" M=%d N=%d K=%d ta=%d tb=%d", s->where, s->M, s->N, s->K, s->ta, s->tb);
        for (int impl = 0; impl < N_IMPL; impl++) printf(" %s_gflops=%.1f", names[impl], best[impl]);
        printf("\n");
    }
    libxsmm_finalize();
    free(A);
    free(B);
    free(C);
    return 0;
}
