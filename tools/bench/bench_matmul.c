/* Benchmark (c): matrix products at the shapes of the training benchmarks,
 * nngraph's nn_gemm (own loops for tiny shapes, CBLAS split by rows for
 * large ones) against one direct cblas_sgemm call with the same
 * arguments. One line per shape: GFLOP/s of each and their ratio.
 *
 *   bench_matmul [--threads N] [--ms MILLISECONDS_PER_MEASUREMENT]
 *
 * Each side is measured in five alternating windows and its best window
 * is kept. With N > 1 nn_gemm runs on a pool of N threads and OpenBLAS is given N
 * threads too. */
#include "bench_util.h"
#include "kernels.h"
#include "pool.h"

#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct shape {
    const char *where;
    int M, N, K, ta, tb;
} shape;

static const shape shapes[] = {
    {"digits fwd L1", 32, 25, 400, 0, 0},   {"digits fwd L2", 32, 15, 25, 0, 0},
    {"digits fwd L3", 32, 10, 15, 0, 0},    {"digits dW1", 400, 25, 32, 1, 0},
    {"digits dW2", 25, 15, 32, 1, 0},       {"digits dh1", 32, 25, 15, 0, 1},
    {"mlp fwd L1", 128, 512, 784, 0, 0},    {"mlp fwd L2", 128, 512, 512, 0, 0},
    {"mlp fwd L3", 128, 10, 512, 0, 0},     {"mlp dW1", 784, 512, 128, 1, 0},
    {"mlp dW2", 512, 512, 128, 1, 0},       {"mlp dh1", 128, 512, 512, 0, 1},
};

static volatile float sink;

/* Repeats a product until `ms` milliseconds have passed; GFLOP/s. */
static double measure(struct nn_exec *e, const shape *s, const float *A, const float *B, float *C, double ms,
                      int direct) {
    double flops = 2.0 * s->M * s->N * s->K, t0 = bench_now(), t;
    long reps = 0;
    do {
        for (int i = 0; i < 16; i++) {
            if (direct)
                cblas_sgemm(CblasRowMajor, s->ta ? CblasTrans : CblasNoTrans, s->tb ? CblasTrans : CblasNoTrans,
                            s->M, s->N, s->K, 1.f, A, s->ta ? s->M : s->K, B, s->tb ? s->K : s->N, 0.f, C, s->N);
            else
                nn_gemm(e, A, B, C, s->M, s->N, s->K, s->ta, s->tb);
        }
        reps += 16;
        t = bench_now() - t0;
    } while (t < ms * 1e-3);
    sink = C[0];
    return flops * (double)reps / t * 1e-9;
}

int main(int argc, char **argv) {
    if (argc > 1 && argv[1][0] == '-' && argv[1][1] == 'h') {
        printf("usage: %s [--threads N] [--ms MS]\n", argv[0]);
        return 0;
    }
    int threads = (int)bench_arg_long(argc, argv, "--threads", 1);
    double ms = (double)bench_arg_long(argc, argv, "--ms", 60);
    if (threads < 1) threads = 1;
    struct nn_exec *e = nn_exec_new(threads);
    if (!e) {
        fprintf(stderr, "%s: cannot start %d threads\n", argv[0], threads);
        return 1;
    }
    nn_rng r;
    nn_rng_seed(&r, 3);
    size_t big = 784 * 512;
    float *A = malloc(big * sizeof *A), *B = malloc(big * sizeof *B), *C = malloc(big * sizeof *C);
    if (!A || !B || !C) return 1;
    for (size_t i = 0; i < big; i++) {
        A[i] = (float)nn_rng_uniform(&r) - 0.5f;
        B[i] = (float)nn_rng_uniform(&r) - 0.5f;
    }
    double worst = 1e9, sum_ratio = 0;
    int n = (int)(sizeof shapes / sizeof *shapes);
    for (int i = 0; i < n; i++) {
        const shape *s = &shapes[i];
        /* five short windows each, alternating, keeping each side's
         * best: other processes on the machine only ever slow a window */
        double direct = 0, own = 0, own1 = 0;
        for (int w = 0; w < 5; w++) {
            openblas_set_num_threads(threads);
            double d = measure(NULL, s, A, B, C, ms / 5, 1);
            openblas_set_num_threads(1); /* nn_gemm's chunks are one thread each */
            double o = measure(e, s, A, B, C, ms / 5, 0);
            double o1 = threads > 1 ? measure(NULL, s, A, B, C, ms / 5, 0) : o;
            direct = d > direct ? d : direct;
            own = o > own ? o : own;
            own1 = o1 > own1 ? o1 : own1;
        }
        double ratio = own / direct;
        if (ratio < worst) worst = ratio;
        sum_ratio += ratio;
        printf("matmul threads=%d shape=%s M=%d N=%d K=%d ta=%d tb=%d nngraph_gflops=%.2f sgemm_gflops=%.2f "
               "ratio=%.3f nngraph_1thread_gflops=%.2f\n",
               threads, s->where, s->M, s->N, s->K, s->ta, s->tb, own, direct, ratio, own1);
    }
    printf("matmul threads=%d summary mean_ratio=%.3f worst_ratio=%.3f\n", threads, sum_ratio / n, worst);
    nn_exec_free(e);
    free(A);
    free(B);
    free(C);
    return 0;
}
