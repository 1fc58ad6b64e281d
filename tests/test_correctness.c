/* Defects found by checking nngraph against PyTorch's autograd in double
 * (issue 11; tools/crosscheck repeats that check), each tested against a
 * double reference within a bound that follows from the computation
 * (testutil.h): the zero gradient of a batched node the loss does not use,
 * log_softmax at extreme logits, the gradients of broadcast operands over
 * many elements, and the dataset row named for a bad label during fit. */
#include "nngraph.h"
#include "testutil.h"

#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

/* ---- the zero gradient follows the run's batch size ---- */

static void check_zero_grad_at_batch(nn_graph *g, nn_node *z, nn_node *u, nn_node *const *outs, int64_t batch) {
    nn_tensor *tz = nn_tensor_new(NN_F32, NN_SHAPE(batch, 4)), *tu = nn_tensor_new(NN_F32, NN_SHAPE(batch, 4));
    for (int64_t i = 0; i < batch * 4; i++) {
        nn_tensor_f32(tz)[i] = (float)i - 3.5f;
        nn_tensor_f32(tu)[i] = 0.25f * (float)i - 1.f;
    }
    cr_assert_eq(nn_set_input(g, z, tz), NN_OK);
    cr_assert_eq(nn_set_input(g, u, tu), NN_OK);
    cr_assert_eq(nn_run(g, outs, 3), NN_OK, "%s", nn_error_message(g));
    const nn_tensor *dz = nn_value(outs[1]), *du = nn_value(outs[2]);
    cr_assert(nn_shape_equal(nn_tensor_shape(du), NN_SHAPE(batch, 4)), "du is not [%lld,4]", (long long)batch);
    cr_assert(nn_shape_equal(nn_tensor_shape(dz), NN_SHAPE(batch, 4)));
    for (int64_t i = 0; i < batch * 4; i++) {
        cr_assert_eq(nn_tensor_f32(du)[i], 0.f, "du[%lld] = %g", (long long)i, nn_tensor_f32(du)[i]);
        cr_assert_eq(nn_tensor_f32(dz)[i], 1.f);
    }
    nn_tensor_free(tz);
    nn_tensor_free(tu);
}

/* L = sum(z) (+ sum(step(u)) when through_step): u has an open batch
 * dimension and no gradient reaches it, so its gradient is a zero of the
 * batch each run has, not an error. */
static void check_unused_batched_input(int through_step) {
    nn_graph *g = nn_graph_new(1);
    nn_node *z = nn_input(g, "z", NN_F32, NN_SHAPE(NN_BATCH, 4));
    nn_node *u = nn_input(g, "u", NN_F32, NN_SHAPE(NN_BATCH, 4));
    nn_node *loss = nn_sum(g, z, NN_ALL_AXES);
    if (through_step) loss = nn_add(g, loss, nn_sum(g, nn_step(g, u), NN_ALL_AXES));
    nn_node *wrt[2] = {z, u}, *grads[2];
    cr_assert_eq(nn_grad(g, loss, wrt, 2, grads), NN_OK, "%s", nn_error_message(g));
    nn_node *outs[3] = {loss, grads[0], grads[1]};
    check_zero_grad_at_batch(g, z, u, outs, 3);
    check_zero_grad_at_batch(g, z, u, outs, 5);
    cr_assert_eq(nn_graph_status(g), NN_OK);
    nn_graph_free(g);
}

Test(autodiff, unused_batched_input_gets_zero_of_the_run_batch) { check_unused_batched_input(0); }
Test(autodiff, batched_input_behind_step_gets_zero_of_the_run_batch) { check_unused_batched_input(1); }

/* ---- log_softmax at extreme logits ---- */

/* log_softmax of one row and the gradient of sum(log_softmax(x) * R),
 * against double. Computed as (x - m) - log(s) with s the sum of
 * e^(x - m) <= n: each output is off by the rounding of x - m, of s (n
 * terms) and its log, and of the difference, so by gamma(n + 4) times
 * (|x - m| + |log s| + 1); the gradient R_j - p_j sum(R) inherits p_j
 * times that (p = e^y) and its own roundings. */
static void check_log_softmax_row(const float *row, int n) {
    nn_graph *g = nn_graph_new(1);
    nn_node *x = nn_param(g, "x", NN_SHAPE(1, n), nn_init_zeros());
    memcpy(nn_tensor_f32(nn_param_value(x)), row, (size_t)n * sizeof(float));
    nn_tensor *tr = nn_tensor_new(NN_F32, NN_SHAPE(1, n));
    for (int j = 0; j < n; j++) nn_tensor_f32(tr)[j] = (float)((j * 7) % 5) - 1.5f;
    nn_node *y = nn_log_softmax(g, x), *dx;
    nn_node *loss = nn_sum(g, nn_mul(g, y, nn_const(g, "R", tr)), NN_ALL_AXES);
    cr_assert_eq(nn_grad(g, loss, &x, 1, &dx), NN_OK, "%s", nn_error_message(g));
    nn_node *outs[2] = {y, dx};
    cr_assert_eq(nn_run(g, outs, 2), NN_OK, "%s", nn_error_message(g));
    const float *got = nn_tensor_f32(nn_value(y)), *dgot = nn_tensor_f32(nn_value(dx));
    const float *R = nn_tensor_f32(tr);
    double m = row[0], s = 0, rsum = 0, rabs = 0;
    for (int j = 1; j < n; j++) m = fmax(m, row[j]);
    for (int j = 0; j < n; j++) {
        s += exp((double)row[j] - m);
        rsum += R[j];
        rabs += fabs(R[j]);
    }
    double ls = log(s);
    for (int j = 0; j < n; j++) {
        double want = ((double)row[j] - m) - ls;
        double tol = tu_gamma(n + 4) * (fabs((double)row[j] - m) + fabs(ls) + 1);
        cr_assert(fabs(got[j] - want) <= tol, "log_softmax, %d values, at %d (x = %.9g): %.9g, want %.9g (bound %.2g)",
                  n, j, row[j], got[j], want, tol);
        double p = exp(want), dwant = R[j] - p * rsum;
        double dtol = tu_gamma(n + 4) * (fabs(R[j]) + p * rabs) + p * tol * rabs;
        cr_assert(fabs(dgot[j] - dwant) <= dtol, "gradient, %d values, at %d (x = %.9g): %.9g, want %.9g (bound %.2g)",
                  n, j, row[j], dgot[j], dwant, dtol);
    }
    nn_tensor_free(tr);
    nn_graph_free(g);
}

Test(precision, log_softmax_at_extreme_logits) {
    static const float pairs[][2] = {{1e4f, 1e4f}, {1e4f, 9999.f}, {-87.f, -88.f}, {3e4f, -3e4f},
                                     {-1e4f, -1e4f + 0.5f}, {0.5f, -0.25f}, {1e30f, 1e30f}};
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) check_log_softmax_row(pairs[i], 2);
    /* 65 values around 5000 */
    float row[65];
    nn_rng r;
    nn_rng_seed(&r, 3);
    for (int j = 0; j < 65; j++) row[j] = 5000.f + (float)(3.0 * nn_rng_normal(&r));
    check_log_softmax_row(row, 65);
}

/* ---- gradients of broadcast operands, summed over many elements ---- */

/* The gradient of the broadcast operand b of y = a (op) b, for the loss
 * sum(y * R), against double: R (or R * a for mul) summed over the
 * broadcast elements. A sum of n float32 terms taken in double, or
 * pairwise, is within gamma(log2 n + 3) of the sum of their magnitudes;
 * one running float32 sum over n terms is not (its bound grows with n,
 * and over 10^5 and more terms it drifts past that). */
static void check_broadcast_grad(nn_node *(*op)(nn_graph *, nn_node *, nn_node *), const char *name, int64_t rows,
                                 int64_t cols, nn_shape bshape) {
    nn_graph *g = nn_graph_new(7);
    nn_tensor *ta = nn_tensor_new(NN_F32, NN_SHAPE(rows, cols)), *tr = nn_tensor_new(NN_F32, NN_SHAPE(rows, cols));
    nn_rng rng;
    nn_rng_seed(&rng, 21);
    for (int64_t i = 0; i < rows * cols; i++) {
        nn_tensor_f32(ta)[i] = (float)(0.5 + nn_rng_uniform(&rng));
        nn_tensor_f32(tr)[i] = (float)(0.1 + nn_rng_uniform(&rng));
    }
    nn_node *a = nn_const(g, "a", ta), *b = nn_param(g, "b", bshape, nn_init_uniform(0.5f, 1.5f)), *db;
    nn_node *loss = nn_sum(g, nn_mul(g, op(g, a, b), nn_const(g, "R", tr)), NN_ALL_AXES);
    cr_assert_eq(nn_grad(g, loss, &b, 1, &db), NN_OK, "%s", nn_error_message(g));
    cr_assert_eq(nn_run(g, &db, 1), NN_OK, "%s", nn_error_message(g));
    const float *got = nn_tensor_f32(nn_value(db));
    int64_t nb = nn_tensor_size(nn_param_value(b)), per = rows * cols / nb;
    int is_mul = op == nn_mul;
    double sign = op == nn_sub ? -1 : 1;
    for (int64_t j = 0; j < nb; j++) {
        double want = 0, mag = 0;
        for (int64_t i = 0; i < rows * cols; i++) {
            if (i % nb != j) continue; /* b is [cols] or [1]: element i meets b[i % nb] */
            double t = (double)nn_tensor_f32(tr)[i] * (is_mul ? (double)nn_tensor_f32(ta)[i] : sign);
            want += t;
            mag += fabs(t);
        }
        double tol = tu_gamma(log2((double)per) + 3) * mag;
        cr_assert(fabs(got[j] - want) <= tol, "%s: gradient of b[%lld] over %lld terms: %.9g, want %.9g (off %.2g, bound %.2g)",
                  name, (long long)j, (long long)per, got[j], want, fabs(got[j] - want) / fabs(want), tol / fabs(want));
    }
    nn_tensor_free(ta);
    nn_tensor_free(tr);
    nn_graph_free(g);
}

Test(precision, broadcast_operand_gradients_summed_accurately) {
    /* a scalar over 10^6 elements, a bias over 2 x 10^5 rows */
    check_broadcast_grad(nn_add, "add scalar", 1000, 1000, NN_SHAPE(1));
    check_broadcast_grad(nn_add, "add bias", 200000, 3, NN_SHAPE(3));
    check_broadcast_grad(nn_sub, "sub bias", 200000, 3, NN_SHAPE(3));
    check_broadcast_grad(nn_mul, "mul scalar", 1000, 1000, NN_SHAPE(1));
    check_broadcast_grad(nn_mul, "mul bias", 200000, 3, NN_SHAPE(3));
}

/* ---- a bad label during fit is named by its dataset row ---- */

/* 12 rows, labels 0..9 but row 6's (10): in batches of 4 it is row 2 of
 * the second batch. */
static nn_dataset *dataset_with_bad_label(void) {
    enum { N = 12, C = 10 };
    nn_tensor *tx = nn_tensor_new(NN_F32, NN_SHAPE(N, 2)), *ty = nn_tensor_new(NN_I32, NN_SHAPE(N));
    for (int i = 0; i < N; i++) {
        nn_tensor_f32(tx)[2 * i] = (float)i;
        nn_tensor_f32(tx)[2 * i + 1] = 1.f;
        nn_tensor_i32(ty)[i] = i % C;
    }
    nn_tensor_i32(ty)[6] = C;
    nn_dataset *data = nn_dataset_new(tx, ty); /* takes tx and ty over */
    cr_assert_not_null(data, "%s", nn_last_error());
    return data;
}

static nn_graph *ten_class_net(nn_node **loss) {
    nn_graph *g = nn_graph_new(1);
    nn_node *x = nn_input(g, "x", NN_F32, NN_SHAPE(NN_BATCH, 2));
    nn_node *y = nn_input(g, "y", NN_I32, NN_SHAPE(NN_BATCH));
    *loss = nn_softmax_cross_entropy(g, nn_dense(g, "L", x, 10, NN_LINEAR), y);
    cr_assert_eq(nn_graph_status(g), NN_OK, "%s", nn_error_message(g));
    return g;
}

Test(fit, bad_label_named_by_its_dataset_row) {
    nn_dataset *data = dataset_with_bad_label();
    nn_node *loss;
    nn_graph *g = ten_class_net(&loss);
    nn_optimizer *sgd = nn_sgd(0.1f, 0.f);
    nn_fit_opts o = {.epochs = 1, .batch_size = 4, .no_shuffle = 1, .optimizer = sgd};
    cr_assert_neq(nn_fit(g, loss, data, &o, NULL), NN_OK);
    const char *msg = nn_error_message(g);
    cr_assert(strstr(msg, "label 10") && strstr(msg, "dataset row 6"), "message: %s", msg);
    /* shuffled, the row is still the dataset's */
    o.no_shuffle = 0;
    o.shuffle_seed = 5;
    cr_assert_neq(nn_fit(g, loss, data, &o, NULL), NN_OK);
    msg = nn_error_message(g);
    cr_assert(strstr(msg, "label 10") && strstr(msg, "dataset row 6"), "message: %s", msg);
    /* evaluation (fit's validation pass) names it the same way */
    cr_assert_neq(nn_evaluate(g, loss, data, NULL, NULL, 4, NULL, NULL), NN_OK);
    msg = nn_error_message(g);
    cr_assert(strstr(msg, "label 10") && strstr(msg, "dataset row 6"), "message: %s", msg);
    nn_optimizer_free(sgd);
    nn_graph_free(g);
    nn_dataset_free(data);
}
