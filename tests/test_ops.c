/* Every op: gradients against central differences (tolerances in
 * gradcheck.h), forward values against hand-computed ones, stability. */
#include "nngraph.h"
#include "gradcheck.h"
#include "testutil.h"

#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

typedef nn_node *(*unary_fn)(nn_graph *, nn_node *);

static void check_unary(unary_fn f, float lo, float hi) {
    nn_graph *g = nn_graph_new(11);
    nn_node *x = gc_param(g, "x", NN_SHAPE(4, 5), lo, hi);
    nn_node *loss = gc_project(g, f(g, x), 5);
    CHECK_GRAD(g, loss);
    nn_graph_free(g);
}

/* ReLU's kink at 0 is avoided by sampling |x| >= 0.1 */
static nn_node *relu_away_from_kink(nn_graph *g, nn_node *x) {
    return nn_relu(g, x);
}

Test(grad, relu) {
    nn_graph *g = nn_graph_new(11);
    nn_node *x = gc_param(g, "x", NN_SHAPE(4, 5), 0.1f, 1.f);
    float *v = nn_tensor_f32(nn_param_value(x));
    for (int i = 0; i < 20; i += 2) v[i] = -v[i]; /* half negative, none near 0 */
    CHECK_GRAD(g, gc_project(g, relu_away_from_kink(g, x), 5));
    nn_graph_free(g);
}
Test(grad, sigmoid) { check_unary(nn_sigmoid, -4.f, 4.f); }
Test(grad, tanh) { check_unary(nn_tanh, -2.f, 2.f); }
Test(grad, identity) { check_unary(nn_identity, -2.f, 2.f); }
Test(grad, softmax) { check_unary(nn_softmax, -3.f, 3.f); }
Test(grad, log_softmax) { check_unary(nn_log_softmax, -3.f, 3.f); }

static nn_node *scale_by_3(nn_graph *g, nn_node *x) { return nn_scale(g, x, -3.f); }
Test(grad, scale) { check_unary(scale_by_3, -2.f, 2.f); }

static nn_node *sum_axis1(nn_graph *g, nn_node *x) { return nn_sum(g, x, 1); }
static nn_node *sum_axis0(nn_graph *g, nn_node *x) { return nn_sum(g, x, 0); }
static nn_node *mean_all(nn_graph *g, nn_node *x) { return nn_mean(g, x, NN_ALL_AXES); }
static nn_node *mean_last(nn_graph *g, nn_node *x) { return nn_mean(g, x, -1); }
Test(grad, sum) {
    check_unary(sum_axis1, -2.f, 2.f);
    check_unary(sum_axis0, -2.f, 2.f);
}
Test(grad, mean) {
    check_unary(mean_all, -2.f, 2.f);
    check_unary(mean_last, -2.f, 2.f);
}

Test(grad, step_is_zero) {
    nn_graph *g = nn_graph_new(1);
    nn_node *x = gc_param(g, "x", NN_SHAPE(3), -1.f, 1.f);
    nn_node *loss = nn_sum(g, nn_step(g, x), NN_ALL_AXES), *dx;
    cr_assert_eq(nn_grad(g, loss, &x, 1, &dx), NN_OK);
    cr_assert_eq(nn_run(g, &dx, 1), NN_OK);
    for (int i = 0; i < 3; i++) cr_assert_eq(nn_tensor_f32(nn_value(dx))[i], 0.f);
    nn_graph_free(g);
}

Test(forward, step) {
    nn_graph *g = nn_graph_new(1);
    float v[] = {-2.f, 0.f, 0.5f};
    nn_tensor *t = nn_tensor_from(NN_F32, NN_SHAPE(3), v);
    nn_node *y = nn_step(g, nn_const(g, "x", t));
    cr_assert_eq(nn_run(g, &y, 1), NN_OK);
    const float *o = nn_tensor_f32(nn_value(y));
    cr_assert(o[0] == 0.f && o[1] == 1.f && o[2] == 1.f);
    nn_tensor_free(t);
    nn_graph_free(g);
}

typedef nn_node *(*binary_fn)(nn_graph *, nn_node *, nn_node *);

static void check_binary(binary_fn f, nn_shape sa, nn_shape sb) {
    nn_graph *g = nn_graph_new(12);
    nn_node *a = gc_param(g, "a", sa, -2.f, 2.f);
    nn_node *b = gc_param(g, "b", sb, -2.f, 2.f);
    CHECK_GRAD(g, gc_project(g, f(g, a, b), 6));
    nn_graph_free(g);
}

Test(grad, add_broadcasting) {
    check_binary(nn_add, NN_SHAPE(4, 3), NN_SHAPE(4, 3));
    check_binary(nn_add, NN_SHAPE(4, 3), NN_SHAPE(3));     /* bias row */
    check_binary(nn_add, NN_SHAPE(3), NN_SHAPE(4, 3));     /* bias first */
    check_binary(nn_add, NN_SHAPE(4, 1), NN_SHAPE(1, 3));  /* outer */
    check_binary(nn_add, NN_SHAPE(2, 4, 3), NN_SHAPE(4, 1));
    check_binary(nn_add, NN_SHAPE(4, 3), NN_SHAPE(1));     /* scalar-like */
}
Test(grad, sub_broadcasting) {
    check_binary(nn_sub, NN_SHAPE(4, 3), NN_SHAPE(4, 3));
    check_binary(nn_sub, NN_SHAPE(4, 3), NN_SHAPE(3));
    check_binary(nn_sub, NN_SHAPE(4, 1), NN_SHAPE(1, 3));
}
Test(grad, mul_broadcasting) {
    check_binary(nn_mul, NN_SHAPE(4, 3), NN_SHAPE(4, 3));
    check_binary(nn_mul, NN_SHAPE(4, 3), NN_SHAPE(3));
    check_binary(nn_mul, NN_SHAPE(2, 1, 3), NN_SHAPE(4, 1));
}
Test(grad, matmul_all_transposes) {
    check_binary(nn_matmul, NN_SHAPE(4, 3), NN_SHAPE(3, 5));
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++) {
            nn_graph *g = nn_graph_new(13);
            nn_node *a = gc_param(g, "a", ta ? NN_SHAPE(3, 4) : NN_SHAPE(4, 3), -2.f, 2.f);
            nn_node *b = gc_param(g, "b", tb ? NN_SHAPE(5, 3) : NN_SHAPE(3, 5), -2.f, 2.f);
            CHECK_GRAD(g, gc_project(g, nn_matmul_t(g, a, b, ta, tb), 6));
            nn_graph_free(g);
        }
}

Test(forward, matmul_values) {
    nn_graph *g = nn_graph_new(1);
    float av[] = {1, 2, 3, 4, 5, 6}, bv[] = {7, 8, 9, 10, 11, 12};
    nn_tensor *ta = nn_tensor_from(NN_F32, NN_SHAPE(2, 3), av), *tb = nn_tensor_from(NN_F32, NN_SHAPE(3, 2), bv);
    nn_node *c = nn_matmul(g, nn_const(g, "a", ta), nn_const(g, "b", tb));
    cr_assert_eq(nn_run(g, &c, 1), NN_OK);
    const float *o = nn_tensor_f32(nn_value(c));
    float want[] = {58, 64, 139, 154};
    for (int i = 0; i < 4; i++) cr_assert_float_eq(o[i], want[i], 1e-4);
    nn_tensor_free(ta);
    nn_tensor_free(tb);
    nn_graph_free(g);
}

static nn_graph *const_graph(nn_node **x, const float *v, nn_shape s) {
    nn_graph *g = nn_graph_new(1);
    nn_tensor *t = nn_tensor_from(NN_F32, s, v);
    *x = nn_param(g, "x", s, nn_init_zeros());
    nn_tensor_copy(nn_param_value(*x), t);
    nn_tensor_free(t);
    return g;
}

Test(forward, softmax_by_hand) {
    float v[] = {1, 2, 3, 4};
    nn_node *x;
    nn_graph *g = const_graph(&x, v, NN_SHAPE(1, 4));
    nn_node *y = nn_softmax(g, x);
    cr_assert_eq(nn_run(g, &y, 1), NN_OK);
    float want[] = {0.0321f, 0.0871f, 0.2369f, 0.6439f};
    for (int i = 0; i < 4; i++) cr_assert_float_eq(nn_tensor_f32(nn_value(y))[i], want[i], 1e-4);
    nn_graph_free(g);
}

/* logits [[1,2,3],[1,1,1]], labels [2,0]:
 * row 0: lse = 3 + log(1 + e^-1 + e^-2) = 3.40761, loss 0.40761
 * row 1: log 3 = 1.09861; mean 0.75311 */
Test(forward, softmax_cross_entropy_by_hand) {
    float v[] = {1, 2, 3, 1, 1, 1};
    nn_node *x;
    nn_graph *g = const_graph(&x, v, NN_SHAPE(2, 3));
    int32_t lab[] = {2, 0};
    nn_tensor *tl = nn_tensor_from(NN_I32, NN_SHAPE(2), lab);
    nn_node *loss = nn_softmax_cross_entropy(g, x, nn_const(g, "labels", tl));
    cr_assert_eq(nn_run(g, &loss, 1), NN_OK);
    cr_assert_float_eq(nn_value_scalar(loss), 0.75311f, 1e-5);
    CHECK_GRAD(g, loss);
    nn_tensor_free(tl);
    nn_graph_free(g);
}

Test(forward, softmax_cross_entropy_bad_label) {
    float v[] = {1, 2, 3};
    nn_node *x;
    nn_graph *g = const_graph(&x, v, NN_SHAPE(1, 3));
    int32_t lab[] = {7};
    nn_tensor *tl = nn_tensor_from(NN_I32, NN_SHAPE(1), lab);
    nn_node *loss = nn_softmax_cross_entropy(g, x, nn_const(g, "labels", tl));
    cr_assert_eq(nn_run(g, &loss, 1), NN_ERR_RUNTIME);
    cr_assert(strstr(nn_error_message(g), "label 7") != NULL, "%s", nn_error_message(g));
    nn_tensor_free(tl);
    nn_graph_free(g);
}

/* z = [2, -1, 0], y = [1, 0, 1]:
 * log(1+e^-2) = 0.126928, log(1+e^-1) = 0.313262, log 2 = 0.693147;
 * mean = 0.377779 */
Test(forward, bce_with_logits_by_hand) {
    float v[] = {2, -1, 0}, t[] = {1, 0, 1};
    nn_node *x;
    nn_graph *g = const_graph(&x, v, NN_SHAPE(3));
    nn_tensor *tt = nn_tensor_from(NN_F32, NN_SHAPE(3), t);
    nn_node *loss = nn_bce_with_logits(g, x, nn_const(g, "t", tt));
    cr_assert_eq(nn_run(g, &loss, 1), NN_OK);
    cr_assert_float_eq(nn_value_scalar(loss), 0.377779f, 1e-5);
    CHECK_GRAD(g, loss);
    nn_tensor_free(tt);
    nn_graph_free(g);
}

/* pred [1,2,3], target [1,0,5]: (0 + 4 + 4)/3 */
Test(forward, mse_by_hand) {
    float v[] = {1, 2, 3}, t[] = {1, 0, 5};
    nn_node *x;
    nn_graph *g = const_graph(&x, v, NN_SHAPE(3));
    nn_tensor *tt = nn_tensor_from(NN_F32, NN_SHAPE(3), t);
    nn_node *loss = nn_mse(g, x, nn_const(g, "t", tt));
    cr_assert_eq(nn_run(g, &loss, 1), NN_OK);
    cr_assert_float_eq(nn_value_scalar(loss), 8.f / 3.f, 1e-6);
    nn_tensor_free(tt);
    nn_graph_free(g);
}

Test(grad, mse_both_sides) {
    nn_graph *g = nn_graph_new(14);
    nn_node *p = gc_param(g, "p", NN_SHAPE(3, 2), -2.f, 2.f), *t = gc_param(g, "t", NN_SHAPE(3, 2), -2.f, 2.f);
    CHECK_GRAD(g, nn_mse(g, p, t));
    nn_graph_free(g);
}

Test(grad, softmax_cross_entropy_random) {
    nn_graph *g = nn_graph_new(15);
    nn_node *z = gc_param(g, "z", NN_SHAPE(5, 4), -3.f, 3.f);
    int32_t lab[] = {0, 3, 1, 2, 3};
    nn_tensor *tl = nn_tensor_from(NN_I32, NN_SHAPE(5), lab);
    CHECK_GRAD(g, nn_softmax_cross_entropy(g, z, nn_const(g, "labels", tl)));
    nn_tensor_free(tl);
    nn_graph_free(g);
}

Test(grad, bce_with_logits_random) {
    nn_graph *g = nn_graph_new(16);
    nn_node *z = gc_param(g, "z", NN_SHAPE(4, 2), -4.f, 4.f);
    float t[] = {1, 0, 0, 1, 1, 1, 0, 0};
    nn_tensor *tt = nn_tensor_from(NN_F32, NN_SHAPE(4, 2), t);
    CHECK_GRAD(g, nn_bce_with_logits(g, z, nn_const(g, "t", tt)));
    nn_tensor_free(tt);
    nn_graph_free(g);
}

/* Stability: huge logits give finite, correct values and gradients. */
Test(stability, softmax_family_large_logits) {
    float rows[2][3] = {{1000, 1001, 1002}, {-1000, 0, 1000}};
    for (int r = 0; r < 2; r++) {
        nn_node *x;
        nn_graph *g = const_graph(&x, rows[r], NN_SHAPE(1, 3));
        nn_node *sm = nn_softmax(g, x), *ls = nn_log_softmax(g, x);
        int32_t lab[] = {0};
        nn_tensor *tl = nn_tensor_from(NN_I32, NN_SHAPE(1), lab);
        nn_node *ce = nn_softmax_cross_entropy(g, x, nn_const(g, "labels", tl));
        nn_node *dx;
        cr_assert_eq(nn_grad(g, ce, &x, 1, &dx), NN_OK);
        nn_node *outs[4] = {sm, ls, ce, dx};
        cr_assert_eq(nn_run(g, outs, 4), NN_OK);
        const float *s = nn_tensor_f32(nn_value(sm)), *l = nn_tensor_f32(nn_value(ls));
        const float *d = nn_tensor_f32(nn_value(dx));
        /* reference from the shifted logits, in double; the bounds count
         * float32 roundings (testutil.h): the shift, 3 exponentials
         * summed, the log or division, the subtraction */
        double m = rows[r][2], z = 0, bound = tu_gamma(3 + 4);
        for (int j = 0; j < 3; j++) z += exp(rows[r][j] - m);
        for (int j = 0; j < 3; j++) {
            double p = exp(rows[r][j] - m) / z, lp = (rows[r][j] - m) - log(z);
            cr_assert(isfinite(s[j]) && isfinite(l[j]) && isfinite(d[j]));
            cr_assert_float_eq(s[j], p, bound * (p + 1));
            cr_assert_float_eq(l[j], lp, bound * (fabs(rows[r][j] - m) + fabs(log(z)) + 1));
            cr_assert_float_eq(d[j], p - (j == 0), bound * (p + 1));
        }
        double want_ce = -((rows[r][0] - m) - log(z));
        cr_assert(isfinite(nn_value_scalar(ce)));
        /* summed in double: the log-sum-exp's and the mean's roundings */
        cr_assert_float_eq(nn_value_scalar(ce), want_ce, tu_gamma(4) * (want_ce + 1));
        nn_tensor_free(tl);
        nn_graph_free(g);
    }
}

Test(stability, bce_large_logits) {
    float v[] = {1000, -1000, 0}, t[] = {0, 0, 1};
    nn_node *x;
    nn_graph *g = const_graph(&x, v, NN_SHAPE(3));
    nn_tensor *tt = nn_tensor_from(NN_F32, NN_SHAPE(3), t);
    nn_node *loss = nn_bce_with_logits(g, x, nn_const(g, "t", tt)), *dx;
    cr_assert_eq(nn_grad(g, loss, &x, 1, &dx), NN_OK);
    nn_node *outs[2] = {loss, dx};
    cr_assert_eq(nn_run(g, outs, 2), NN_OK);
    /* (1000 + 0 + log 2) / 3 */
    /* summed in double, rounded once to float */
    cr_assert_float_eq(nn_value_scalar(loss), (1000.0 + log(2.0)) / 3.0, tu_gamma(2) * 334);
    const float *d = nn_tensor_f32(nn_value(dx));
    /* (sigmoid(z) - y) / 3: the sigmoid, the difference, the division */
    cr_assert_float_eq(d[0], 1.0 / 3, tu_gamma(4));
    cr_assert_float_eq(d[1], 0.f, tu_gamma(4));
    cr_assert_float_eq(d[2], -0.5 / 3, tu_gamma(4));
    nn_tensor_free(tt);
    nn_graph_free(g);
}
