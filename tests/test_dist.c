/* Data-parallel training over MPI, run under `mpirun -np 2` and `-np 3`
 * (tests/meson.build). A plain MPI program, not a Criterion suite:
 * Criterion forks every test, and an MPI process must not fork.
 *
 * Equivalence: N ranks with local batch b must end where one process with
 * batch N*b ends, up to float rounding. Both are compared with a reference
 * in double precision (softmax regression trained by plain SGD, written out
 * here), within a bound derived from the arithmetic (see bound_step):
 * neither float run may be further from the exact result than float
 * summation allows, and training must move the weights far more than that
 * bound, so that a wrong split (a dropped shard, an unweighted mean of an
 * uneven shard) fails. */
#define _GNU_SOURCE /* sched_getaffinity, CPU_COUNT */
#include "nngraph.h"
#include "nngraph/dist.h"
#include "../src/dist/dist_internal.h" /* the progress thread's rule */
#include "graphviz_lsan.h" /* also Open MPI's leaks */

#include <math.h>
#include <sched.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int rank, size, failures;

#define CHECK(cond, ...)                                                              \
    do {                                                                              \
        if (!(cond)) {                                                                \
            failures++;                                                               \
            fprintf(stderr, "rank %d: %s:%d: check failed: %s: ", rank, __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                             \
            fputc('\n', stderr);                                                      \
        }                                                                             \
    } while (0)

enum { FEATURES = 6, CLASSES = 3 };

/* n rows of features in [-1, 1] and labels from a fixed linear rule with
 * noise: the same on every rank. */
static nn_dataset *make_data(int64_t n, uint64_t seed) {
    nn_tensor *x = nn_tensor_new(NN_F32, NN_SHAPE(n, FEATURES)), *y = nn_tensor_new(NN_I32, NN_SHAPE(n));
    nn_rng r;
    nn_rng_seed(&r, seed);
    float *xv = nn_tensor_f32(x);
    int32_t *yv = nn_tensor_data(y);
    for (int64_t i = 0; i < n; i++) {
        double s = 0;
        for (int j = 0; j < FEATURES; j++) {
            xv[i * FEATURES + j] = (float)(2 * nn_rng_uniform(&r) - 1);
            s += xv[i * FEATURES + j] * (j % 2 ? 1 : -1);
        }
        yv[i] = (int32_t)((s + nn_rng_uniform(&r) > 0.5) + (s > 1.0));
    }
    return nn_dataset_new(x, y);
}

/* Softmax regression: logits = x W + b. */
static nn_graph *make_net(uint64_t seed, int classes, nn_node **loss) {
    nn_graph *g = nn_graph_new(seed);
    nn_node *x = nn_input(g, "x", NN_F32, NN_SHAPE(NN_BATCH, FEATURES));
    nn_node *y = nn_input(g, "y", NN_I32, NN_SHAPE(NN_BATCH));
    nn_node *z = nn_dense(g, "L1", x, classes, NN_LINEAR);
    *loss = nn_softmax_cross_entropy(g, z, y);
    nn_graph_set_threads(g, 1);
    return g;
}

/* The parameters W [FEATURES*CLASSES] then b [CLASSES], as doubles. */
static void params_of(nn_graph *g, double *w) {
    const float *W = nn_tensor_f32(nn_param_value(nn_graph_find(g, "L1/W")));
    const float *b = nn_tensor_f32(nn_param_value(nn_graph_find(g, "L1/b")));
    for (int k = 0; k < FEATURES * CLASSES; k++) w[k] = W[k];
    for (int k = 0; k < CLASSES; k++) w[FEATURES * CLASSES + k] = b[k];
}
#define N_W (FEATURES * CLASSES + CLASSES)

/* One SGD step of the reference on rows idx[0..R), in double. Returns the
 * 2-norm of a bound on how far a float computation of this step's gradient
 * can be from the exact one. Per element, with u = 2^-24:
 *   - the gradient sums R terms x_ij dz_ik (dz = (p - onehot) / R); a float
 *     sum in any order is within (R + 4) u sum_i |x_ij dz_ik| of the exact
 *     one (Higham's gamma, plus the product and the 1/R);
 *   - each p_ik carries the error of the float logits, z = x W + b summed
 *     over FEATURES + 1 terms, so |dz| <= (FEATURES + 2) u max_k sum_j
 *     |x_ij w_jk| + |b_k|, which moves p_ik by at most 2 p_ik |dz|, plus
 *     the softmax's own few roundings (8 u p_ik). */
static double bound_step(const nn_dataset *d, const int64_t *idx, int64_t R, double *w, double lr) {
    const float *x = nn_tensor_f32(d->x);
    const int32_t *y = nn_tensor_data(d->y);
    const double u = ldexp(1.0, -24);
    double g[N_W] = {0}, e[N_W] = {0};
    for (int64_t r = 0; r < R; r++) {
        const float *xi = x + idx[r] * FEATURES;
        double z[CLASSES], m = -INFINITY, s = 0, zmag = 0;
        for (int k = 0; k < CLASSES; k++) {
            double mag = fabs(w[FEATURES * CLASSES + k]);
            z[k] = w[FEATURES * CLASSES + k];
            for (int j = 0; j < FEATURES; j++) {
                z[k] += xi[j] * w[j * CLASSES + k];
                mag += fabs(xi[j] * w[j * CLASSES + k]);
            }
            if (z[k] > m) m = z[k];
            if (mag > zmag) zmag = mag;
        }
        double p_err = 2 * (FEATURES + 2) * u * zmag + 8 * u;
        for (int k = 0; k < CLASSES; k++) s += exp(z[k] - m);
        for (int k = 0; k < CLASSES; k++) {
            double p = exp(z[k] - m) / s, dz = (p - (y[idx[r]] == k)) / (double)R;
            double term = (double)(R + 4) * u * fabs(dz) + p_err * p / (double)R;
            for (int j = 0; j < FEATURES; j++) {
                g[j * CLASSES + k] += xi[j] * dz;
                e[j * CLASSES + k] += fabs(xi[j]) * term;
            }
            g[FEATURES * CLASSES + k] += dz;
            e[FEATURES * CLASSES + k] += term;
        }
    }
    double norm = 0;
    for (int k = 0; k < N_W; k++) {
        w[k] -= lr * g[k];
        norm += e[k] * e[k];
    }
    return sqrt(norm);
}

static double norm2(const double *w) {
    double s = 0;
    for (int k = 0; k < N_W; k++) s += w[k] * w[k];
    return sqrt(s);
}

/* The 2-norm Lipschitz constant of any batch's gradient: the softmax cross
 * entropy's Hessian in the logits is at most 1/2, so the loss's is at most
 * 1/2 max_i (|x_i|^2 + 1) (the 1: the bias). Gradient descent with
 * lr * L <= 2 on a convex loss never moves two points apart, so an error in
 * the weights does not grow from step to step: it only adds up. */
static double lipschitz(const nn_dataset *d) {
    const float *x = nn_tensor_f32(d->x);
    double row = 0;
    for (int64_t i = 0; i < nn_dataset_size(d); i++) {
        double r = 1;
        for (int j = 0; j < FEATURES; j++) r += (double)x[i * FEATURES + j] * x[i * FEATURES + j];
        if (r > row) row = r;
    }
    return 0.5 * row;
}

/* Trains alone (batch N*b) and with the group (batch b) from the same
 * initial weights; checks both against the double reference. */
static void check_equivalence(nn_dist *dist, int64_t n, int b, int epochs, const char *what) {
    int f0 = failures;
    const double lr = 0.5;
    const uint64_t shuffle = 99;
    nn_dataset *d = make_data(n, 7);
    nn_node *loss_a, *loss_d;
    nn_graph *alone = make_net(5, CLASSES, &loss_a), *group = make_net(5, CLASSES, &loss_d);
    double w0[N_W], ref[N_W], wa[N_W], wd[N_W];
    params_of(alone, w0);
    memcpy(ref, w0, sizeof ref);

    nn_optimizer *oa = nn_sgd((float)lr, 0), *od = nn_sgd((float)lr, 0);
    nn_fit_opts fa = {.epochs = epochs, .batch_size = b * size, .optimizer = oa, .shuffle_seed = shuffle};
    nn_fit_opts fd = {.epochs = epochs, .batch_size = b, .optimizer = od, .shuffle_seed = shuffle};
    nn_dist_fit_opts(dist, &fd);
    nn_fit_result ra, rd;
    nn_status sa = nn_fit(alone, loss_a, d, &fa, &ra);
    nn_status sd = nn_fit(group, loss_d, d, &fd, &rd);
    CHECK(sa == NN_OK && sd == NN_OK, "%s: fits failed: %s / %s", what, nn_error_message(alone), nn_error_message(group));
    params_of(alone, wa);
    params_of(group, wd);

    /* the reference: the same shuffles (fit's order: identity, then
     * nn_rng_shuffle each epoch) and global batches, in double */
    int64_t *idx = malloc((size_t)n * sizeof *idx), B = (int64_t)b * size, steps = 0;
    nn_rng r;
    nn_rng_seed(&r, shuffle);
    double L = lipschitz(d), D = 0, moved = 0;
    CHECK(lr * L <= 2, "%s: lr %g * L %g > 2: the bound below does not hold", what, lr, L);
    for (int e = 0; e < epochs; e++) {
        for (int64_t i = 0; i < n; i++) idx[i] = i;
        nn_rng_shuffle(&r, idx, n);
        for (int64_t first = 0; first < n; first += B, steps++) {
            int64_t R = n - first < B ? n - first : B;
            double before = norm2(ref), e_k = bound_step(d, idx + first, R, ref, lr), after = norm2(ref);
            /* the error so far (not amplified: see lipschitz), plus the
             * gradient's rounding times lr, plus the update's own: w - lr*g
             * rounds twice, each by u times a value at most |w| + |lr g|,
             * and |lr g| <= |w_before| + |w_after| */
            D += lr * e_k + 2 * ldexp(1.0, -24) * 2 * (before + after);
        }
    }
    double err_a = 0, err_d = 0;
    for (int k = 0; k < N_W; k++) {
        err_a += (wa[k] - ref[k]) * (wa[k] - ref[k]);
        err_d += (wd[k] - ref[k]) * (wd[k] - ref[k]);
        moved += (ref[k] - w0[k]) * (ref[k] - w0[k]);
    }
    err_a = sqrt(err_a), err_d = sqrt(err_d), moved = sqrt(moved);
    CHECK(ra.steps == steps && rd.steps == steps, "%s: %lld and %lld steps, expected %lld", what, (long long)ra.steps,
          (long long)rd.steps, (long long)steps);
    CHECK(err_a <= D, "%s: one process is %.3g from the reference, bound %.3g", what, err_a, D);
    CHECK(err_d <= D, "%s: %d ranks are %.3g from the reference, bound %.3g", what, size, err_d, D);
    CHECK(moved > 100 * D, "%s: training moved the weights by %.3g only (bound %.3g): the test could not fail", what,
          moved, D);
    /* the epoch's metrics are the global batch's: equal to one process's
     * up to rounding in the last step's loss */
    CHECK(fabs(ra.loss - rd.loss) <= 1e-5 * fabs(ra.loss) + 1e-6 && ra.accuracy == rd.accuracy,
          "%s: epoch metrics %g/%g vs %g/%g", what, ra.loss, ra.accuracy, rd.loss, rd.accuracy);
    if (rank == 0 && failures == f0)
        printf("ok  equivalence %s: %d ranks %.2g and one process %.2g from the double reference (bound %.2g, "
               "weights moved %.2g)\n", what, size, err_d, err_a, D, moved);
    free(idx);
    nn_optimizer_free(oa);
    nn_optimizer_free(od);
    nn_graph_free(alone);
    nn_graph_free(group);
    nn_dataset_free(d);
}

/* Rank 1 builds a different graph: every rank gets a clear error. */
static void check_different_graphs(nn_dist *dist) {
    int f0 = failures;
    nn_dataset *d = make_data(40, 7);
    nn_node *loss;
    nn_graph *g = make_net(5, rank == 1 ? CLASSES + 1 : CLASSES, &loss);
    nn_fit_opts o = {.epochs = 1, .batch_size = 4};
    nn_dist_fit_opts(dist, &o);
    double t0 = MPI_Wtime();
    nn_status st = nn_fit(g, loss, d, &o, NULL);
    const char *msg = nn_error_message(g);
    CHECK(st == NN_ERR_ARG, "different graphs: status %d (%s)", st, msg);
    CHECK(strstr(msg, "rank 1's graph differs from rank 0's"), "different graphs: message '%s'", msg);
    CHECK(MPI_Wtime() - t0 < 5, "different graphs: took %.1f s", MPI_Wtime() - t0);
    if (rank == 0 && failures == f0)
        printf("ok  different graphs: %s\n", msg);
    nn_graph_free(g);
    nn_dataset_free(d);
}

/* The automatic choice of a progress thread: the rule on its own, then
 * that a fit applies it with this host's figures (every rank of the test
 * runs here) and the graph's thread count, and that 0 / 1 override it. */
static void check_progress_choice(nn_dist *dist, int provided) {
    int f0 = failures;
    static const struct { int online, allowed, ranks, threads, free; } rule[] = {
        {2, 2, 2, 1, 0},   /* 2 ranks on 2 cores: none free (measured: polling wins) */
        {2, 2, 1, 1, 1},   /* 1 rank, 1 thread on 2 cores */
        {2, 2, 1, 2, 0},   /* 1 rank with 2 threads fills them */
        {4, 4, 2, 1, 1},   /* 2 ranks on 4 cores, unbound */
        {4, 4, 2, 2, 0},   /* ... with 2 threads each: full */
        {4, 1, 2, 1, 0},   /* bound to 1 core each: the thread cannot leave it */
        {4, 2, 2, 1, 1},   /* bound to 2 cores each */
        {64, 16, 64, 1, 0}, /* bound to a socket shared by 16 ranks: host full */
        {64, 64, 32, 1, 1},
        {0, 0, 0, 0, 0},   /* unknown figures: 1 core, 1 rank, 1 thread */
    };
    for (size_t i = 0; i < sizeof rule / sizeof *rule; i++)
        CHECK(nn_dist_progress_has_core(rule[i].online, rule[i].allowed, rule[i].ranks, rule[i].threads) == rule[i].free,
              "progress rule %zu: %d cores online, %d allowed, %d ranks, %d threads: expected %d", i, rule[i].online,
              rule[i].allowed, rule[i].ranks, rule[i].threads, rule[i].free);
    int online = (int)sysconf(_SC_NPROCESSORS_ONLN), allowed = online;
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) == 0) allowed = CPU_COUNT(&set);
    nn_dataset *d = make_data(40, 7);
    for (int choice = -1; choice <= 1; choice++)
        for (int threads = 1; threads <= 2; threads++) {
            nn_node *loss;
            nn_graph *g = make_net(5, CLASSES, &loss);
            nn_graph_set_threads(g, threads);
            nn_dist_set_progress_thread(dist, choice);
            nn_fit_opts o = {.epochs = 1, .batch_size = 4};
            nn_dist_fit_opts(dist, &o);
            CHECK(nn_fit(g, loss, d, &o, NULL) == NN_OK, "progress choice: %s", nn_error_message(g));
            int want = provided >= MPI_THREAD_SERIALIZED &&
                       (choice < 0 ? nn_dist_progress_has_core(online, allowed, size, threads) : choice);
            CHECK(nn_dist_progress_thread(dist) == want,
                  "progress choice %d, %d threads, %d cores online, %d allowed, %d ranks: thread %d, expected %d",
                  choice, threads, online, allowed, size, nn_dist_progress_thread(dist), want);
            nn_graph_free(g);
        }
    nn_dataset_free(d);
    /* the threads a rank runs by default: the host's cores among its
     * ranks (every rank of these tests is on this host), within its mask */
    int share = online / size < allowed ? online / size : allowed;
    CHECK(nn_dist_threads_per_rank(dist) == (share > 0 ? share : 1), "threads per rank %d, expected %d of %d cores, %d ranks",
          nn_dist_threads_per_rank(dist), share > 0 ? share : 1, online, size);
    if (rank == 0 && failures == f0)
        printf("ok  progress thread choice (here: %d cores online, %d allowed to rank 0, %d ranks)\n", online, allowed,
               size);
}

/* The last rank fails before its fit (it could not load its data) and
 * says so with nn_dist_fit_abandon: the others' nn_fit fails at once with
 * its message, no weight changed; the handle stays usable. */
static void check_abandon(nn_dist *dist) {
    int f0 = failures;
    nn_dataset *d = make_data(40, 7);
    nn_node *loss;
    nn_graph *g = make_net(5, CLASSES, &loss);
    double before[N_W], after[N_W];
    params_of(g, before);
    int begun = nn_dist_fits_begun(dist);
    double t0 = MPI_Wtime();
    nn_status st;
    const char *msg;
    if (rank == size - 1) {
        st = nn_dist_fit_abandon(dist, NN_ERR_IO, "cannot open data.idx");
        msg = nn_last_error();
    } else {
        nn_fit_opts o = {.epochs = 1, .batch_size = 4};
        nn_dist_fit_opts(dist, &o);
        st = nn_fit(g, loss, d, &o, NULL);
        msg = nn_error_message(g);
    }
    char want[128];
    snprintf(want, sizeof want, "rank %d of %d could not start: cannot open data.idx", size - 1, size);
    CHECK(st == NN_ERR_IO, "abandon: status %d (%s)", st, msg);
    CHECK(strstr(msg, rank == size - 1 ? "cannot open data.idx" : want) != NULL, "abandon: message '%s'", msg);
    CHECK(MPI_Wtime() - t0 < 5, "abandon: took %.1f s", MPI_Wtime() - t0);
    CHECK(nn_dist_fits_begun(dist) == begun + 1, "abandon: fits begun %d, was %d", nn_dist_fits_begun(dist), begun);
    params_of(g, after);
    CHECK(memcmp(before, after, sizeof before) == 0, "abandon: the weights changed");
    if (rank == 0 && failures == f0) printf("ok  a rank abandons before its fit: %s\n", msg);
    nn_graph_free(g);
    nn_dataset_free(d);
}

/* Bad data in the last rank's first shard (a NaN feature, or a label out
 * of range): every rank fails at step 1, the message naming that rank and
 * the problem, and no rank's weights change. */
static void check_failing_rank(nn_dist *dist, int bad_label) {
    int f0 = failures, b = 4;
    const char *what = bad_label ? "bad label" : "NaN";
    nn_dataset *d = make_data(40, 7);
    int64_t row = (int64_t)b * (size - 1);
    if (rank == size - 1) {
        if (bad_label) ((int32_t *)nn_tensor_data(d->y))[row] = 99;
        else nn_tensor_f32(d->x)[row * FEATURES] = NAN;
    }
    nn_node *loss;
    nn_graph *g = make_net(5, CLASSES, &loss);
    double before[N_W], after[N_W];
    params_of(g, before);
    nn_fit_opts o = {.epochs = 2, .batch_size = b, .no_shuffle = 1};
    nn_dist_fit_opts(dist, &o);
    nn_fit_result res;
    nn_status st = nn_fit(g, loss, d, &o, &res);
    const char *msg = nn_error_message(g);
    char want[128], detail[64];
    snprintf(want, sizeof want, "rank %d of %d failed: ", size - 1, size);
    /* the row is the dataset's: the shard's first row */
    if (bad_label) snprintf(detail, sizeof detail, "label 99 in dataset row %lld", (long long)row);
    else snprintf(detail, sizeof detail, "the loss is NaN at epoch 1, step 1");
    CHECK(st == (bad_label ? NN_ERR_RUNTIME : NN_ERR_NUMERIC), "%s: status %d (%s)", what, st, msg);
    CHECK(strstr(msg, detail) != NULL && (rank == size - 1 || strstr(msg, want) != NULL), "%s: message '%s'", what,
          msg);
    params_of(g, after);
    CHECK(memcmp(before, after, sizeof before) == 0, "%s: the weights changed", what);
    CHECK(res.steps == 0, "%s: %lld steps ran", what, (long long)res.steps);
    if (rank == 0 && failures == f0) printf("ok  failing rank, %s: %s\n", what, msg);
    nn_graph_free(g);
    nn_dataset_free(d);
}

/* Resume: rank 0 logs 2 epochs, then resumes the run to 4; the other ranks
 * start from other weights each time and must get rank 0's. The result
 * equals 4 epochs in one go exactly: the same arithmetic in the same order. */
static volatile sig_atomic_t resume_stop;
static int stop_after_2(const nn_epoch_info *ei, void *user) {
    (void)user;
    if (ei->epoch == 2) resume_stop = 1;
    return 0;
}

static void check_resume(nn_dist *dist, const char *db) {
    int f0 = failures;
    nn_dataset *d = make_data(45, 11);
    double straight[N_W], resumed[N_W];
    int64_t run = 0;
    for (int phase = 0; phase < 3; phase++) {
        nn_node *loss;
        nn_graph *g = make_net(phase == 0 || rank == 0 ? 5 : 100 + (uint64_t)rank * 10 + phase, CLASSES, &loss);
        nn_optimizer *opt = nn_adam(0.01f);
        nn_fit_opts o = {.epochs = 4, .batch_size = 4, .optimizer = opt, .shuffle_seed = 3};
        /* phase 1: rank 0 is interrupted (as by Ctrl-C) after epoch 2 and
         * the others must stop with it */
        if (phase == 1 && rank == 0) o.on_epoch = stop_after_2;
        nn_dist_fit_opts(dist, &o);
        nn_status st;
        if (phase > 0 && rank == 0) {
            nn_runlog_fit_opts ro = {.path = db, .run_name = "dist-resume", .resume_run = phase == 2 ? run : 0,
                                     .stop = &resume_stop};
            resume_stop = 0;
            st = nn_fit_logged(g, loss, d, &o, &ro, NULL);
            if (phase == 1) {
                CHECK(st == NN_ERR_INTERRUPTED, "resume: phase 1 ended with %d: %s", st, nn_last_error());
                st = NN_OK;
            }
            if (phase == 1) {
                nn_runlog *log = nn_runlog_open(db, 0);
                nn_run_row *rows = NULL;
                int n = 0;
                if (log && nn_runlog_list(log, &rows, &n) == NN_OK)
                    for (int i = 0; i < n; i++) run = rows[i].id > run ? rows[i].id : run;
                free(rows);
                nn_runlog_close(log);
            }
        } else {
            nn_fit_result res;
            st = nn_fit(g, loss, d, &o, &res);
            if (phase == 1) CHECK(res.epochs_run == 2, "resume: rank %d ran %d epochs, not 2", rank, res.epochs_run);
        }
        CHECK(st == NN_OK, "resume phase %d: %s / %s", phase, nn_error_message(g), nn_last_error());
        if (phase == 0) params_of(g, straight);
        if (phase == 2) params_of(g, resumed);
        nn_optimizer_free(opt);
        nn_graph_free(g);
    }
    double diff = 0;
    for (int k = 0; k < N_W; k++) diff = fmax(diff, fabs(straight[k] - resumed[k]));
    CHECK(diff == 0, "resume: the resumed run ends %.3g from the straight one", diff);
    if (rank == 0 && failures == f0) printf("ok  resume: 2 epochs + resume to 4 equals 4 epochs on every rank\n");
    nn_dataset_free(d);
}

/* Sharded evaluation equals the whole set's. */
static void check_evaluate(nn_dist *dist) {
    int f0 = failures;
    nn_dataset *d = make_data(37, 13);
    nn_node *loss;
    nn_graph *g = make_net(5, CLASSES, &loss);
    double l1, a1, l2, a2;
    nn_status s1 = nn_evaluate(g, loss, d, NULL, NULL, 8, &l1, &a1);
    nn_status s2 = nn_dist_evaluate(dist, g, loss, d, NULL, NULL, 8, &l2, &a2);
    CHECK(s1 == NN_OK && s2 == NN_OK, "evaluate: %s", nn_error_message(g));
    /* a mean of 37 losses, summed in another grouping: a few units in the
     * last place of each term */
    CHECK(fabs(l1 - l2) <= 40 * ldexp(1.0, -24) * fabs(l1) && fabs(a1 - a2) < 1e-12, "evaluate: %g/%g vs %g/%g", l1,
          a1, l2, a2);
    nn_status ps;
    nn_tensor *all = nn_predict(g, nn_graph_find(g, "x"), nn_node_input(loss, 0), d->x, 8);
    nn_tensor *got = nn_dist_predict(dist, g, nn_graph_find(g, "x"), nn_node_input(loss, 0), d->x, 5, &ps);
    CHECK(ps == NN_OK && (rank == 0) == (got != NULL), "predict: status %d", ps);
    if (got) {
        const float *p = nn_tensor_f32(all), *q = nn_tensor_f32(got);
        double worst = 0;
        for (int64_t i = 0; i < 37 * CLASSES; i++) worst = fmax(worst, fabs(p[i] - q[i]));
        /* the same rows through the same kernels: the same floats */
        CHECK(worst == 0, "predict: gathered predictions differ by %g", worst);
    }
    if (rank == 0 && failures == f0)
        printf("ok  sharded evaluate and predict\n");
    nn_tensor_free(all);
    nn_tensor_free(got);
    nn_graph_free(g);
    nn_dataset_free(d);
}

/* Rank 0 never joins: the others' fit fails after the timeout with a
 * message saying what it waited for, and the handle refuses more work.
 * Last, on a handle of its own: a given-up collective stays pending. */
static void check_timeout(void) {
    int f0 = failures;
    nn_dist *d2 = nn_dist_new(MPI_COMM_WORLD);
    nn_dist_set_timeout(d2, 1);
    if (rank != 0) {
        nn_dataset *d = make_data(20, 7);
        nn_node *loss;
        nn_graph *g = make_net(5, CLASSES, &loss);
        nn_fit_opts o = {.epochs = 1, .batch_size = 4};
        nn_dist_fit_opts(d2, &o);
        double t0 = MPI_Wtime();
        nn_status st = nn_fit(g, loss, d, &o, NULL);
        double took = MPI_Wtime() - t0;
        char first[512];
        snprintf(first, sizeof first, "%s", nn_error_message(g));
        CHECK(st == NN_ERR_RUNTIME && strstr(nn_error_message(g), "the start of training (every rank must call nn_fit) "
                                                                  "still waiting after 1 s"),
              "timeout: status %d: %s", st, nn_error_message(g));
        CHECK(took < 5, "timeout: took %.1f s", took);
        st = nn_fit(g, loss, d, &o, NULL);
        CHECK(st == NN_ERR_STATE && strstr(nn_error_message(g), "an earlier collective of this nn_dist failed"),
              "timeout: a second fit gave %d: %s", st, nn_error_message(g));
        if (rank == 1 && failures == f0) printf("ok  timeout: %s\n", first);
        nn_graph_free(g);
        nn_dataset_free(d);
    }
    nn_dist_free(d2);
}

/* An MPI error is an nngraph error, not an abort: a null communicator. */
static void check_mpi_error(void) {
    int f0 = failures;
    nn_dist *bad = nn_dist_new(MPI_COMM_NULL);
    CHECK(bad == NULL && strstr(nn_last_error(), "MPI failed in MPI_Comm_dup"), "null communicator: %s",
          nn_last_error());
    nn_dist_free(bad);
    if (rank == 0 && failures == f0) printf("ok  MPI error: %s\n", nn_last_error());
}

int main(int argc, char **argv) {
    /* serialized: fits may run the progress thread (dist_np2 forces it);
     * dist_np3 turns it off (NNGRAPH_DIST_PROGRESS=0) and so tests the
     * polling path */
    int provided = 0;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_SERIALIZED, &provided);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    /* errors outside any communicator of ours go to the world's handler */
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    check_mpi_error();
    nn_dist *dist = nn_dist_new(MPI_COMM_WORLD);
    if (!dist) {
        fprintf(stderr, "rank %d: %s\n", rank, nn_last_error());
        return 1;
    }
    check_progress_choice(dist, provided);
    {
        /* dist_np2 forces the thread (NNGRAPH_DIST_PROGRESS=1), dist_np3
         * forbids it: the two paths are both tested on any machine */
        const char *env = getenv("NNGRAPH_DIST_PROGRESS");
        int want = env && !strcmp(env, "1") ? 1 : env && !strcmp(env, "0") ? 0 : -1;
        int on = nn_dist_set_progress_thread(dist, want);
        CHECK(on == (provided >= MPI_THREAD_SERIALIZED ? want : 0), "progress thread %d, wanted %d, thread level %d", on,
              want, provided);
        if (rank == 0) printf("ok  progress thread %s\n", on > 0 ? "on" : on < 0 ? "automatic" : "off (the value hook polls)");
    }
    nn_dist_set_timeout(dist, 30);
    int b = 5;
    /* full batches, then a last partial one split unevenly */
    check_equivalence(dist, (int64_t)b * size * 4 + size + 1, b, 3, "partial uneven batch");
    /* a last batch of one row: every rank but the last has an empty shard */
    check_equivalence(dist, (int64_t)b * size * 3 + 1, b, 2, "empty shards");
    /* fewer rows than ranks: rank 0 never computes a gradient */
    check_equivalence(dist, size - 1, b, 10, "a rank with no rows at all");
    check_evaluate(dist);
    check_different_graphs(dist);
    check_abandon(dist);
    check_failing_rank(dist, 0);
    check_failing_rank(dist, 1);
    char db[256];
    snprintf(db, sizeof db, "%s/dist-np%d.db", argc > 1 ? argv[1] : ".", size);
    if (rank == 0) remove(db);
    check_resume(dist, db);
    if (rank == 0) remove(db);
    nn_dist_free(dist);
    check_timeout();
    int all = 0;
    MPI_Allreduce(&failures, &all, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    if (rank == 0) printf("%s: %d failed checks over %d ranks\n", all ? "FAIL" : "PASS", all, size);
    MPI_Finalize();
    return all ? 1 : 0;
}
