/* The products module (src/core/gemm.c): every path (tiny loops, the
 * AVX-512 and AVX2 register tiles, CBLAS) against a double reference at
 * shapes that reach each edge of the tiling (row and column tails, several
 * blocks of K, several packed column blocks, transposed B packed on the
 * stack and on the heap), with and without the fused bias and activation;
 * and the own path's promises: the same bits on 1 and 2 threads, with
 * the AVX2 and AVX-512 tiles, and fused or not. */
#include "kernels.h"
#include "pool.h"
#include "gemm_ukernel.h"
#include "nngraph.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const int shapes[][3] = {
    {3, 4, 5},     /* tiny loops */
    {32, 25, 400}, /* digits layer 1: B in place, a column tail */
    {17, 33, 700}, /* three blocks of K, row and column tails */
    {8, 600, 500}, /* wide: packed, split by columns */
    {600, 8, 500}, /* tall: split by rows */
    {9, 1100, 40}, /* more columns than one packed block */
    {13, 70, 3},   /* small packed B (stack) */
    {64, 200, 300},
    {300, 70, 400}, /* transposed A packed into row panels (M >= 256, several column tiles) */
    {1, 1, 1000},
};
enum { N_SHAPES = sizeof shapes / sizeof *shapes };

typedef struct prob {
    int M, N, K, ta, tb;
    float *A, *B, *bias;
} prob;

static prob prob_new(int si, int t, nn_rng *r) {
    prob p = {shapes[si][0], shapes[si][1], shapes[si][2], t & 1, t >> 1, NULL, NULL, NULL};
    p.A = malloc((size_t)p.M * p.K * sizeof *p.A);
    p.B = malloc((size_t)p.K * p.N * sizeof *p.B);
    p.bias = malloc((size_t)p.N * sizeof *p.bias);
    cr_assert(p.A && p.B && p.bias);
    for (int i = 0; i < p.M * p.K; i++) p.A[i] = (float)nn_rng_uniform(r) - 0.5f;
    for (int i = 0; i < p.K * p.N; i++) p.B[i] = (float)nn_rng_uniform(r) - 0.5f;
    for (int i = 0; i < p.N; i++) p.bias[i] = (float)nn_rng_uniform(r) - 0.5f;
    return p;
}

static void prob_free(prob *p) {
    free(p->A);
    free(p->B);
    free(p->bias);
}

/* Checks C (act 0 without bias: the plain product) or the fused dense
 * output against the double reference. A float sum of K products, in any
 * order, is within gamma_K * sum |a b| of the exact value (gamma_K = K u /
 * (1 - K u), u = 2^-24); the bias add and the activation add one rounding
 * of the result each, and relu and sigmoid do not enlarge an error. */
static void check(const prob *p, const float *C, int with_bias, int act, const char *what) {
    const double u = ldexp(1.0, -24), gamma = p->K * u / (1 - p->K * u);
    for (int i = 0; i < p->M; i++)
        for (int j = 0; j < p->N; j++) {
            double ref = 0, mag = 0;
            for (int k = 0; k < p->K; k++) {
                double x = (double)(p->ta ? p->A[k * p->M + i] : p->A[i * p->K + k]) *
                           (p->tb ? p->B[j * p->K + k] : p->B[k * p->N + j]);
                ref += x;
                mag += fabs(x);
            }
            double tol = gamma * mag;
            if (with_bias) {
                ref += p->bias[j];
                tol += u * (fabs(ref) + tol);
            }
            if (act == 1) ref = ref > 0 ? ref : 0;
            if (act == 2) {
                ref = 1 / (1 + exp(-ref));
                tol = tol / 4 + 4 * u; /* sigmoid's slope is at most 1/4; expf within a few ulp */
            }
            tol += u * fabs(ref) + 1e-30;
            float got = C[i * p->N + j];
            cr_assert(fabs(got - ref) <= tol, "%s M%d N%d K%d ta%d tb%d act%d at (%d,%d): %.9g vs %.9g (tol %.3g)", what,
                      p->M, p->N, p->K, p->ta, p->tb, act, i, j, got, ref, tol);
        }
}

static void all_paths_match_double(const char *path) {
    cr_assert(nn_gemm_force_path(path));
    struct nn_exec *pool = nn_exec_new(2);
    cr_assert_not_null(pool);
    nn_rng r;
    nn_rng_seed(&r, 5);
    for (int si = 0; si < N_SHAPES; si++)
        for (int t = 0; t < 4; t++) {
            prob p = prob_new(si, t, &r);
            float *C = malloc((size_t)p.M * p.N * sizeof *C);
            cr_assert_not_null(C);
            for (int threads = 1; threads <= 2; threads++) {
                struct nn_exec *e = threads == 1 ? NULL : pool;
                nn_gemm(e, p.A, p.B, C, p.M, p.N, p.K, p.ta, p.tb);
                check(&p, C, 0, 0, path);
                for (int act = 0; act <= 2; act++) {
                    nn_dense_forward(e, p.A, p.B, p.bias, C, p.M, p.N, p.K, p.ta, p.tb, act);
                    check(&p, C, 1, act, path);
                }
                /* relu's gradient fused: the product where the gate is
                 * positive, exactly 0 elsewhere (the gate is the product
                 * itself shifted, so both cases occur in every row) */
                float *gate = malloc((size_t)p.M * p.N * sizeof *gate), *G = malloc((size_t)p.M * p.N * sizeof *G);
                cr_assert(gate && G);
                for (int i = 0; i < p.M * p.N; i++) gate[i] = C[i] - p.bias[i % p.N];
                nn_gemm_relu_gate(e, p.A, p.B, gate, G, p.M, p.N, p.K, p.ta, p.tb);
                nn_gemm(e, p.A, p.B, C, p.M, p.N, p.K, p.ta, p.tb);
                for (int i = 0; i < p.M * p.N; i++) {
                    if (gate[i] > 0.f)
                        cr_assert_eq(G[i], C[i], "%s gate at %d: the product's value", path, i);
                    else
                        cr_assert(G[i] == 0.f && !signbit(G[i]), "%s gate at %d: %g, not +0", path, i, G[i]);
                }
                free(gate);
                free(G);
            }
            free(C);
            prob_free(&p);
        }
    nn_exec_free(pool);
    nn_gemm_force_path(NULL);
}

Test(gemm, own_tiles_match_double) { all_paths_match_double("own"); }
Test(gemm, avx2_tiles_match_double) {
    if (!nn_ukernel_avx2()) cr_skip_test("no AVX2 on this CPU");
    all_paths_match_double("avx2");
}
Test(gemm, blas_matches_double) { all_paths_match_double("blas"); }

/* The own path computes each element as one chain of fused multiply-adds
 * in k order whatever the tile, the split across threads or the vector
 * width: so 1 and 2 threads, the AVX2 and AVX-512 tiles, and the fused
 * bias and relu against a separate add and relu give the same bits. */
Test(gemm, own_path_is_bit_reproducible) {
    if (!nn_ukernel_best()) cr_skip_test("no AVX2 or AVX-512 on this CPU");
    struct nn_exec *pool = nn_exec_new(2);
    cr_assert_not_null(pool);
    nn_rng r;
    nn_rng_seed(&r, 9);
    for (int si = 1; si < N_SHAPES; si++)
        for (int t = 0; t < 4; t++) {
            prob p = prob_new(si, t, &r);
            size_t n = (size_t)p.M * p.N;
            float *one = malloc(n * sizeof *one), *two = malloc(n * sizeof *two), *sep = malloc(n * sizeof *sep);
            cr_assert(one && two && sep);
            nn_gemm_force_path("own");
            nn_dense_forward(NULL, p.A, p.B, p.bias, one, p.M, p.N, p.K, p.ta, p.tb, 1);
            nn_dense_forward(pool, p.A, p.B, p.bias, two, p.M, p.N, p.K, p.ta, p.tb, 1);
            cr_assert(!memcmp(one, two, n * sizeof *one), "1 and 2 threads differ at M%d N%d K%d", p.M, p.N, p.K);
            nn_gemm(pool, p.A, p.B, sep, p.M, p.N, p.K, p.ta, p.tb);
            for (size_t i = 0; i < n; i++) {
                float y = sep[i] + p.bias[i % (size_t)p.N];
                sep[i] = y < 0.f ? 0.f : y; /* relu.c's: NaN and -0 stay */
            }
            cr_assert(!memcmp(one, sep, n * sizeof *one), "fused and separate differ at M%d N%d K%d", p.M, p.N, p.K);
            if (nn_ukernel_avx2()) {
                nn_gemm_force_path("avx2");
                nn_dense_forward(pool, p.A, p.B, p.bias, two, p.M, p.N, p.K, p.ta, p.tb, 1);
                cr_assert(!memcmp(one, two, n * sizeof *one), "AVX2 and AVX-512 differ at M%d N%d K%d", p.M, p.N, p.K);
            }
            free(one);
            free(two);
            free(sep);
            prob_free(&p);
        }
    nn_gemm_force_path(NULL);
    nn_exec_free(pool);
}

Test(gemm, unknown_path_name_is_refused) {
    cr_assert_eq(nn_gemm_force_path("fastest"), 0);
    cr_assert_eq(nn_gemm_force_path("auto"), 1);
}

/* A run leaves OpenBLAS's thread count as the user set it, on the BLAS
 * path (set to one for the run, then restored) and on the own path. */
extern void openblas_set_num_threads(int);
extern int openblas_get_num_threads(void);

Test(gemm, run_keeps_the_users_openblas_threads) {
    static const char *paths[] = {"blas", "own"};
    for (int i = 0; i < 2; i++) {
        nn_gemm_force_path(paths[i]);
        openblas_set_num_threads(2);
        nn_graph *g = nn_graph_new(1);
        nn_tensor *a = nn_tensor_new(NN_F32, NN_SHAPE(64, 64)), *b = nn_tensor_new(NN_F32, NN_SHAPE(64, 64));
        nn_node *c = nn_matmul(g, nn_const(g, "a", a), nn_const(g, "b", b));
        cr_assert_eq(nn_run(g, &c, 1), NN_OK, "%s", nn_error_message(g));
        cr_assert_eq(openblas_get_num_threads(), 2, "path %s", paths[i]);
        nn_graph_free(g);
        nn_tensor_free(a);
        nn_tensor_free(b);
    }
    nn_gemm_force_path(NULL);
}
