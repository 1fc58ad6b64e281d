/* Kernels: the matrix product's paths and splits, the vectorised
 * exponential and the softmax cross-entropy loss, each against double
 * within a bound that follows from the computation (testutil.h), so the
 * suite passes whichever BLAS kernel runs. */
#include "nngraph.h"
#include "testutil.h"
#include "pool.h"
#include "kernels.h"
#include "../ops/ops.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* nn_gemm against a double reference for every transpose combination, on
 * shapes that take the own loops (tiny), one BLAS call, and BLAS split
 * across two threads by rows (M > N) and by columns (N > M); the fused
 * dense kernel adds the bias and the relu on each block. */
Test(kernels, gemm_paths_and_splits) {
    static const int shapes[][3] = {{3, 4, 5}, {32, 25, 400}, {600, 8, 500}, {8, 600, 500}};
    struct nn_exec *pool = nn_exec_new(2);
    cr_assert_not_null(pool);
    nn_rng r;
    nn_rng_seed(&r, 5);
    for (int si = 0; si < 4; si++)
        for (int t = 0; t < 4; t++) {
            int M = shapes[si][0], N = shapes[si][1], K = shapes[si][2], ta = t & 1, tb = t >> 1;
            float *A = malloc((size_t)M * K * sizeof *A), *B = malloc((size_t)K * N * sizeof *B);
            float *C = malloc((size_t)M * N * sizeof *C), *D = malloc((size_t)M * N * sizeof *D);
            float *bias = malloc((size_t)N * sizeof *bias);
            for (int i = 0; i < M * K; i++) A[i] = (float)nn_rng_uniform(&r) - 0.5f;
            for (int i = 0; i < K * N; i++) B[i] = (float)nn_rng_uniform(&r) - 0.5f;
            for (int i = 0; i < N; i++) bias[i] = (float)nn_rng_uniform(&r) - 0.5f;
            nn_gemm(pool, A, B, C, M, N, K, ta, tb);
            nn_dense_forward(pool, A, B, bias, D, M, N, K, ta, tb, 1);
            for (int i = 0; i < M; i++)
                for (int j = 0; j < N; j++) {
                    double ref = 0, mag = 0;
                    for (int k = 0; k < K; k++) {
                        double t = (double)(ta ? A[k * M + i] : A[i * K + k]) * (tb ? B[j * K + k] : B[k * N + j]);
                        ref += t;
                        mag += fabs(t);
                    }
                    /* K products and sums, the bias add, the rounding to float */
                    double tol = tu_prob_gamma(K + 2) * (mag + fabs(bias[j]));
                    cr_assert(fabs(C[i * N + j] - ref) <= tol, "M%d N%d K%d ta%d tb%d at (%d,%d): %g vs %g", M, N,
                              K, ta, tb, i, j, C[i * N + j], ref);
                    double dense = ref + bias[j] > 0 ? ref + bias[j] : 0;
                    cr_assert(fabs(D[i * N + j] - dense) <= tol, "dense M%d N%d K%d ta%d tb%d at (%d,%d)", M, N, K,
                              ta, tb, i, j);
                }
            free(A);
            free(B);
            free(C);
            free(D);
            free(bias);
        }
    nn_exec_free(pool);
}

/* The error of a float against the exact value, in units of the last
 * place of a float of the exact value's size. */
static double ulps_off(float got, double exact) {
    int e;
    frexp(exact, &e);
    return fabs((double)got - exact) / ldexp(1.0, e - 24);
}

/* nn_exp_nonpos against the double exp on every 127th float of [-87, 0]
 * (about 8.7 million, all exponents), within the 2 ulp its header
 * promises; its edges; and the vectorised nn_exp_shifted equal to it
 * element for element at lengths with and without a vector tail. */
Test(kernels, exp_nonpos_within_2_ulp) {
    double worst = 0;
    float worst_at = 0;
    int64_t checked = 0;
    for (float x = -0.f; x >= -87.f;) {
        double u = ulps_off(nn_exp_nonpos(x), exp((double)x));
        if (u > worst) worst = u, worst_at = x;
        checked++;
        union { float f; uint32_t u; } next = {.f = x};
        next.u += 127;
        x = next.f;
    }
    cr_assert_gt(checked, 8000000);
    cr_assert(worst <= 2.0, "%.3f ulp at %.9g", worst, worst_at);
    cr_assert_eq(nn_exp_nonpos(0.f), 1.f);
    cr_assert_eq(nn_exp_nonpos(-INFINITY), 0.f);
    cr_assert_eq(nn_exp_nonpos(-100.f), 0.f);
    cr_assert(isnan(nn_exp_nonpos(NAN)));
    float x[37], y[37];
    for (int n = 1; n <= 37; n += 6) {
        for (int i = 0; i < n; i++) x[i] = 3.f - 0.77f * (float)i;
        nn_exp_shifted(x, 3.f, y, n);
        for (int i = 0; i < n; i++) cr_assert_eq(y[i], nn_exp_nonpos(x[i] - 3.f), "n %d at %d", n, i);
        for (int i = 0; i < n; i++) x[i] -= 3.f;
        nn_exp_nonpos_inplace(x, n);
        for (int i = 0; i < n; i++) cr_assert_eq(x[i], y[i], "in place, n %d at %d", n, i);
    }
}

/* The softmax cross-entropy loss against a double reference, on rows with
 * small, large (near 1000: exp would overflow without the max shift) and
 * confidently wrong logits; 70 classes (the rows split over several of
 * the loss's exponential blocks) and 1,100 (a row longer than a block). */
static void check_sce_loss(int C) {
    enum { B = 5 };
    nn_graph *g = nn_graph_new(3);
    nn_node *z = nn_input(g, "z", NN_F32, NN_SHAPE(B, C)), *y = nn_input(g, "y", NN_I32, NN_SHAPE(B));
    nn_node *loss = nn_softmax_cross_entropy(g, z, y);
    nn_tensor *zt = nn_tensor_new(NN_F32, NN_SHAPE(B, C)), *yt = nn_tensor_new(NN_I32, NN_SHAPE(B));
    float *zv = nn_tensor_f32(zt);
    int32_t *yv = nn_tensor_i32(yt);
    nn_rng r;
    nn_rng_seed(&r, 9);
    for (int i = 0; i < B * C; i++) zv[i] = (float)(4.0 * nn_rng_normal(&r));
    for (int j = 0; j < C; j++) zv[1 * C + j] += 1000.f;
    zv[2 * C + 7] = 60.f; /* row 2 is sure of class 7 but labelled 0 */
    for (int b = 0; b < B; b++) yv[b] = (b * 13) % C;
    cr_assert_eq(nn_set_input(g, z, zt), NN_OK);
    cr_assert_eq(nn_set_input(g, y, yt), NN_OK);
    cr_assert_eq(nn_run(g, &loss, 1), NN_OK, "%s", nn_error_message(g));
    double ref = 0;
    for (int b = 0; b < B; b++) {
        double m = -INFINITY, s = 0;
        for (int j = 0; j < C; j++) m = fmax(m, zv[b * C + j]);
        for (int j = 0; j < C; j++) s += exp(zv[b * C + j] - m);
        ref += m + log(s) - zv[b * C + yv[b]];
    }
    ref /= B;
    cr_assert(ref > 10, "the wrong row dominates: %g", ref);
    /* the loss is summed in double from exponentials within 2 ulp: what
     * remains is the rounding of each row's log-sum-exp and of the mean
     * to float */
    cr_assert(fabs(nn_value_scalar(loss) - ref) <= tu_gamma(4) * ref, "%d classes: %.9g vs %.9g", C,
              nn_value_scalar(loss), ref);
    nn_tensor_free(zt);
    nn_tensor_free(yt);
    nn_graph_free(g);
}

Test(kernels, softmax_cross_entropy_loss_matches_double) {
    check_sce_loss(70);
    check_sce_loss(1100);
}
