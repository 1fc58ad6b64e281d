/* Benchmark (c): matrix products at every product shape of the digits and
 * Fashion networks (and two of the 784-2048-2048-10 grid), nngraph's
 * nn_gemm (tiny loops, its own register tiles, or CBLAS) against one
 * direct cblas_sgemm call with the same arguments. One line per shape:
 * GFLOP/s of each, their ratio, and the fraction of the shape's bound
 * nngraph reaches: the bound is the register tile's own speed on an
 * in-cache tile (the machine's multiply-add peak as far as the tile can
 * use it: bound_gflops on the summary line) times the share of vector
 * lanes the shape's columns fill (25 columns fill 25 of 32 lanes).
 *
 *   bench_matmul [--threads N] [--ms MILLISECONDS_PER_MEASUREMENT]
 *
 * Each side is measured in five alternating windows and its best window
 * is kept; with one thread the windows are of the thread's CPU time, so a
 * loaded machine disturbs them far less. With N > 1 nn_gemm runs on a pool of N threads and OpenBLAS is given N
 * threads too. */
#include "bench_util.h"
#include "kernels.h"
#include "pool.h"

#include "gemm_ukernel.h"

#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static volatile float sink;

/* With one thread, the thread's CPU time: on a machine other processes
 * load, wall time counts the time they hold the core, CPU time only what
 * the product costs (caches they evict still show). With a pool, wall
 * time (the pool's threads would not be counted). */
static int use_cpu_time;

static double clock_now(void) {
    if (!use_cpu_time) return bench_now();
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

typedef struct shape {
    const char *where;
    int M, N, K, ta, tb;
} shape;

static const shape shapes[] = {
    {"digits fwd L1", 32, 25, 400, 0, 0},   {"digits fwd L2", 32, 15, 25, 0, 0},
    {"digits fwd L3", 32, 10, 15, 0, 0},    {"digits dW1", 400, 25, 32, 1, 0},
    {"digits dW2", 25, 15, 32, 1, 0},       {"digits dh1", 32, 25, 15, 0, 1},
    {"digits dh2", 32, 15, 10, 0, 1},
    {"fashion fwd L1", 64, 256, 784, 0, 0}, {"fashion fwd L2", 64, 128, 256, 0, 0},
    {"fashion fwd L3", 64, 10, 128, 0, 0},  {"fashion dW1", 784, 256, 64, 1, 0},
    {"fashion dW2", 256, 128, 64, 1, 0},    {"fashion dW3", 128, 10, 64, 1, 0},
    {"fashion dh1", 64, 256, 128, 0, 1},    {"fashion dh2", 64, 128, 10, 0, 1},
    {"W2048 fwd L2", 256, 2048, 2048, 0, 0}, {"W2048 dW2", 2048, 2048, 256, 1, 0},
};

/* GFLOP/s of the best register tile on a full tile whose operands stay in
 * the first-level cache, over `ms` milliseconds: the most any product can
 * get from it. Measured in the same windows as each shape, so that the
 * fraction compares like with like on a loaded machine. */
static double tile_peak(double ms) {
    const nn_ukernel *uk = nn_ukernel_best();
    if (!uk) return 0;
    enum { KC = 256 };
    static float a[16 * KC], b[KC * 32], c[16 * 32];
    for (int i = 0; i < 16 * KC; i++) a[i] = 1e-3f * (float)(i % 7);
    for (int i = 0; i < KC * 32; i++) b[i] = 1e-3f * (float)(i % 5);
    nn_ukr_args u = {.kc = KC, .a = a, .rsa = KC, .csa = 1, .b = b, .ldb = uk->NR, .c = c, .ldc = 32,
                     .mr = uk->MR, .nr = uk->NR};
    double t0 = clock_now(), t;
    long reps = 0;
    do {
        for (int i = 0; i < 64; i++) uk->tile(&u);
        reps += 64;
        t = clock_now() - t0;
    } while (t < ms * 1e-3);
    sink = c[0];
    return 2.0 * uk->MR * uk->NR * KC * (double)reps / t * 1e-9;
}

/* The share of vector lanes N columns fill in tiles of NR. */
static double lane_share(int N) {
    const nn_ukernel *uk = nn_ukernel_best();
    int w = uk ? (uk->NR == 32 && N <= 16 ? 16 : uk->NR) : 16;
    int tiles = (N + w - 1) / w;
    return (double)N / (double)(tiles * w);
}


/* Repeats a product until `ms` milliseconds have passed; GFLOP/s. */
static double measure(struct nn_exec *e, const shape *s, const float *A, const float *B, float *C, double ms,
                      int direct) {
    double flops = 2.0 * s->M * s->N * s->K, t0 = clock_now(), t;
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
        t = clock_now() - t0;
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
    use_cpu_time = threads == 1;
    struct nn_exec *e = nn_exec_new(threads);
    if (!e) {
        fprintf(stderr, "%s: cannot start %d threads\n", argv[0], threads);
        return 1;
    }
    nn_rng r;
    nn_rng_seed(&r, 3);
    size_t big = 2048 * 2048;
    float *A = malloc(big * sizeof *A), *B = malloc(big * sizeof *B), *C = malloc(big * sizeof *C);
    if (!A || !B || !C) return 1;
    for (size_t i = 0; i < big; i++) {
        A[i] = (float)nn_rng_uniform(&r) - 0.5f;
        B[i] = (float)nn_rng_uniform(&r) - 0.5f;
    }
    double peak_all = 0, worst_frac = 1e9, sum_frac = 0;
    double worst = 1e9, sum_ratio = 0;
    int n = (int)(sizeof shapes / sizeof *shapes);
    for (int i = 0; i < n; i++) {
        const shape *s = &shapes[i];
        /* five short windows each, alternating, keeping each side's
         * best: other processes on the machine only ever slow a window */
        double direct = 0, own = 0, own1 = 0, peak = 0;
        for (int w = 0; w < 5; w++) {
            double pk = tile_peak(ms / 10);
            peak = pk > peak ? pk : peak;
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
        double frac = peak > 0 ? own1 / (peak * lane_share(s->N)) : 0;
        if (peak > peak_all) peak_all = peak;
        if (frac < worst_frac) worst_frac = frac;
        sum_frac += frac;
        printf("matmul threads=%d shape=%s M=%d N=%d K=%d ta=%d tb=%d nngraph_gflops=%.2f sgemm_gflops=%.2f "
               "ratio=%.3f nngraph_1thread_gflops=%.2f bound_fraction=%.2f\n",
               threads, s->where, s->M, s->N, s->K, s->ta, s->tb, own, direct, ratio, own1, frac);
    }
    printf("matmul threads=%d summary mean_ratio=%.3f worst_ratio=%.3f bound_gflops=%.1f mean_bound_fraction=%.2f "
           "worst_bound_fraction=%.2f\n",
           threads, sum_ratio / n, worst, peak_all, sum_frac / n, worst_frac);
    nn_exec_free(e);
    free(A);
    free(B);
    free(C);
    return 0;
}
