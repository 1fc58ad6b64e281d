/* Scheduler: execution plans (arena reuse, in-place, fusion, the plan
 * cache) and the thread pool, on the digits network 400-25-15-10 built from
 * core ops. Results are checked against a plain double-precision reference
 * written here, so a plan that shares a buffer too early, fuses wrongly or
 * runs a step before its inputs are ready gives wrong numbers, not just
 * different ones. */
#include "nngraph.h"
#include "testutil.h"
#include "plan.h"
#include "pool.h"
#include "kernels.h"
#include "../ops/ops.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { IN = 400, H1 = 25, H2 = 15, OUT = 10, NPARAM = 6, NOUT = NPARAM + 1 };

typedef struct net {
    nn_graph *g;
    nn_node *x, *y, *loss;
    nn_node *params[NPARAM], *grads[NPARAM];
    nn_node *outs[NOUT]; /* loss, then the gradients */
} net;

/* The digits network. Biases start random (not zero) so that a wrong
 * bias add or its gradient shows. */
static net net_new(uint64_t seed) {
    net n = {0};
    nn_graph *g = n.g = nn_graph_new(seed);
    n.x = nn_input(g, "x", NN_F32, NN_SHAPE(NN_BATCH, IN));
    n.y = nn_input(g, "y", NN_I32, NN_SHAPE(NN_BATCH));
    const int64_t dims[4] = {IN, H1, H2, OUT};
    nn_node *h = n.x;
    for (int l = 0; l < 3; l++) {
        nn_node *W = nn_param(g, NULL, NN_SHAPE(dims[l], dims[l + 1]), nn_init_glorot_uniform());
        nn_node *b = nn_param(g, NULL, NN_SHAPE(dims[l + 1]), nn_init_uniform(-0.2f, 0.2f));
        n.params[2 * l] = W;
        n.params[2 * l + 1] = b;
        h = nn_add(g, nn_matmul(g, h, W), b);
        if (l < 2) h = nn_relu(g, h);
    }
    n.loss = nn_softmax_cross_entropy(g, h, n.y);
    cr_assert_eq(nn_grad(g, n.loss, n.params, NPARAM, n.grads), NN_OK, "%s", nn_error_message(g));
    n.outs[0] = n.loss;
    for (int i = 0; i < NPARAM; i++) n.outs[i + 1] = n.grads[i];
    return n;
}

/* A batch of `rows` samples: inputs in [0,1) like pixel intensities. */
static void batch_new(int rows, uint64_t seed, nn_tensor **tx, nn_tensor **ty) {
    *tx = nn_tensor_new(NN_F32, NN_SHAPE(rows, IN));
    *ty = nn_tensor_new(NN_I32, NN_SHAPE(rows));
    nn_rng r;
    nn_rng_seed(&r, seed);
    for (int i = 0; i < rows * IN; i++) nn_tensor_f32(*tx)[i] = (float)nn_rng_uniform(&r);
    for (int i = 0; i < rows; i++) nn_tensor_i32(*ty)[i] = (int32_t)nn_rng_below(&r, OUT);
}

static void bind(net *n, nn_tensor *tx, nn_tensor *ty) {
    cr_assert_eq(nn_set_input(n->g, n->x, tx), NN_OK);
    cr_assert_eq(nn_set_input(n->g, n->y, ty), NN_OK);
}

/* Copies of every output's values after a run. */
typedef struct snapshot {
    float *v[NOUT];
    int64_t len[NOUT];
} snapshot;

static snapshot run_and_copy(net *n) {
    cr_assert_eq(nn_run(n->g, n->outs, NOUT), NN_OK, "%s", nn_error_message(n->g));
    snapshot s;
    for (int i = 0; i < NOUT; i++) {
        const nn_tensor *t = nn_value(n->outs[i]);
        cr_assert_not_null(t);
        s.len[i] = nn_tensor_size(t);
        s.v[i] = malloc((size_t)s.len[i] * sizeof(float));
        memcpy(s.v[i], nn_tensor_f32(t), (size_t)s.len[i] * sizeof(float));
    }
    return s;
}

static void snapshot_free(snapshot *s) {
    for (int i = 0; i < NOUT; i++) free(s->v[i]);
}

static int bit_equal(const snapshot *a, const snapshot *b) {
    for (int i = 0; i < NOUT; i++)
        if (a->len[i] != b->len[i] || memcmp(a->v[i], b->v[i], (size_t)a->len[i] * sizeof(float))) return 0;
    return 1;
}

/* Every output of the network in double, with the bound on a float32
 * result's error (testutil.h): the loss and the gradients, element by
 * element. */
typedef struct reference {
    double *v[NOUT], *tol[NOUT];
    int64_t len[NOUT];
} reference;

/* The worst |got - exact| / bound over all outputs; <= 1 agrees. */
static double worst_ratio(const snapshot *got, const reference *ref, char *where, size_t cap) {
    double worst = 0;
    for (int i = 0; i < NOUT; i++) {
        cr_assert_eq(got->len[i], ref->len[i]);
        for (int64_t k = 0; k < got->len[i]; k++) {
            double diff = fabs((double)got->v[i][k] - ref->v[i][k]);
            double r = diff == 0 ? 0 : diff / ref->tol[i][k]; /* a bound of 0: exactly 0 (a dead unit) */
            if (!(r <= worst)) {
                worst = isnan(r) ? INFINITY : r;
                snprintf(where, cap, "output %d element %lld: %.9g, reference %.9g, bound %.3g", i, (long long)k,
                         got->v[i][k], ref->v[i][k], ref->tol[i][k]);
            }
        }
    }
    return worst;
}

static void reference_free(reference *r) {
    for (int i = 0; i < NOUT; i++) {
        free(r->v[i]);
        free(r->tol[i]);
    }
}

/* The network's loss and gradients in double, written out by hand:
 * forward, softmax cross-entropy, then the chain rule layer by layer.
 * Beside each value runs its error bound for a float32 computation
 * (first order, as in Higham's analysis): a dot product of n terms adds
 * gamma(n+1) times the sum of its terms' magnitudes, and the errors of its
 * operands come through weighted by the other operand's magnitudes. ReLU
 * passes errors unchanged (it is 1-Lipschitz); where a pre-activation is
 * within its own bound of 0 the float run may take the other side of the
 * kink, so the gradient through it may be off by its whole value. The
 * softmax moves by at most the logits' worst error. The bound is doubled
 * for the second-order terms and the final rounding to float. */
static double sq(double x) { return x * x; }

static reference reference_of(const net *n, const nn_tensor *tx, const nn_tensor *ty) {
    int B = (int)nn_tensor_shape(tx).dim[0];
    const int dims[4] = {IN, H1, H2, OUT};
    const float *W[3], *b[3];
    for (int l = 0; l < 3; l++) {
        W[l] = nn_tensor_f32(nn_param_value(n->params[2 * l]));
        b[l] = nn_tensor_f32(nn_param_value(n->params[2 * l + 1]));
    }
    /* per layer: activations, their error bounds, whether the relu before
     * them is undecided, the deltas and their bounds */
    double *act[4], *eact[4], *delta[4], *edelta[4];
    char *kink[4];
    for (int l = 0; l < 4; l++) {
        size_t len = (size_t)B * dims[l];
        act[l] = calloc(len, sizeof(double));
        eact[l] = calloc(len, sizeof(double));
        delta[l] = calloc(len, sizeof(double));
        edelta[l] = calloc(len, sizeof(double));
        kink[l] = calloc(len, 1);
    }
    for (int i = 0; i < B * IN; i++) act[0][i] = nn_tensor_f32(tx)[i];
    for (int l = 0; l < 3; l++)
        for (int r = 0; r < B; r++)
            for (int j = 0; j < dims[l + 1]; j++) {
                double s = b[l][j], mag = fabs(b[l][j]), carried = 0;
                for (int k = 0; k < dims[l]; k++) {
                    double w = W[l][k * dims[l + 1] + j], a = act[l][r * dims[l] + k];
                    s += a * w;
                    mag += fabs(a * w);
                    carried += sq(eact[l][r * dims[l] + k] * w);
                }
                int at = r * dims[l + 1] + j;
                eact[l + 1][at] = tu_prob_gamma(dims[l] + 1) * mag + sqrt(carried);
                kink[l + 1][at] = l < 2 && fabs(s) <= eact[l + 1][at];
                act[l + 1][at] = (l < 2 && s < 0) ? 0 : s;
            }
    reference ref;
    for (int i = 0; i < NOUT; i++) {
        ref.len[i] = i == 0 ? 1 : nn_tensor_size(nn_param_value(n->params[i - 1]));
        ref.v[i] = calloc((size_t)ref.len[i], sizeof(double));
        ref.tol[i] = calloc((size_t)ref.len[i], sizeof(double));
    }
    double loss = 0, eloss = 0;
    for (int r = 0; r < B; r++) {
        const double *z = act[3] + r * OUT;
        double m = z[0], sum = 0, ez = 0;
        for (int j = 1; j < OUT; j++) m = z[j] > m ? z[j] : m;
        for (int j = 0; j < OUT; j++) sum += exp(z[j] - m);
        for (int j = 0; j < OUT; j++) ez = fmax(ez, eact[3][r * OUT + j]);
        int label = nn_tensor_i32(ty)[r];
        loss += m + log(sum) - z[label];
        eloss += 2 * ez + tu_prob_gamma(OUT + 4) * (fabs(m) + log(sum) + fabs(z[label]));
        for (int j = 0; j < OUT; j++) {
            double p = exp(z[j] - m) / sum;
            delta[3][r * OUT + j] = (p - (j == label)) / B;
            edelta[3][r * OUT + j] = (ez + tu_prob_gamma(OUT + 6) * (p + 1)) / B;
        }
    }
    ref.v[0][0] = loss / B;
    ref.tol[0][0] = eloss / B;
    for (int l = 2; l >= 0; l--) {
        int in = dims[l], out = dims[l + 1];
        double *dW = ref.v[1 + 2 * l], *db = ref.v[2 + 2 * l];
        double *edW = ref.tol[1 + 2 * l], *edb = ref.tol[2 + 2 * l];
        for (int k = 0; k < in; k++)
            for (int j = 0; j < out; j++) {
                double g = 0, mag = 0, carried = 0;
                for (int r = 0; r < B; r++) {
                    double a = act[l][r * in + k], d = delta[l + 1][r * out + j];
                    g += a * d;
                    mag += fabs(a * d);
                    carried += sq(eact[l][r * in + k] * d) + sq(a * edelta[l + 1][r * out + j]);
                }
                dW[k * out + j] = g;
                edW[k * out + j] = tu_prob_gamma(B) * mag + sqrt(carried);
            }
        for (int j = 0; j < out; j++) {
            double g = 0, mag = 0, carried = 0;
            for (int r = 0; r < B; r++) {
                g += delta[l + 1][r * out + j];
                mag += fabs(delta[l + 1][r * out + j]);
                carried += sq(edelta[l + 1][r * out + j]);
            }
            db[j] = g;
            edb[j] = tu_prob_gamma(B) * mag + sqrt(carried);
        }
        if (l == 0) break;
        for (int r = 0; r < B; r++)
            for (int k = 0; k < in; k++) {
                double g = 0, mag = 0, carried = 0;
                for (int j = 0; j < out; j++) {
                    double w = W[l][k * out + j];
                    g += delta[l + 1][r * out + j] * w;
                    mag += fabs(delta[l + 1][r * out + j] * w);
                    carried += sq(edelta[l + 1][r * out + j] * w);
                }
                double e = tu_prob_gamma(out + 1) * mag + sqrt(carried);
                int at = r * in + k;
                delta[l][at] = act[l][at] > 0 ? g : 0; /* through the relu */
                edelta[l][at] = kink[l][at] ? fabs(g) + e : e;
            }
    }
    for (int i = 0; i < NOUT; i++)
        for (int64_t k = 0; k < ref.len[i]; k++) ref.tol[i][k] = 2 * (ref.tol[i][k] + TU_U32 * fabs(ref.v[i][k]));
    for (int l = 0; l < 4; l++) {
        free(act[l]);
        free(eact[l]);
        free(delta[l]);
        free(edelta[l]);
        free(kink[l]);
    }
    return ref;
}

/* Fails the current test unless every output of the run is within its
 * bound of the double reference. */
static void check_against_reference(const snapshot *got, const net *n, const nn_tensor *tx, const nn_tensor *ty,
                                    const char *what) {
    reference ref = reference_of(n, tx, ty);
    char where[256] = "";
    double w = worst_ratio(got, &ref, where, sizeof where);
    cr_assert(w <= 1, "%s vs double reference: worst ratio %g at %s", what, w, where);
    reference_free(&ref);
}

Test(scheduler, plan_matches_reference_and_repeats_bit_for_bit) {
    net n = net_new(11);
    nn_graph_set_threads(n.g, 1);
    nn_tensor *tx, *ty;
    batch_new(32, 5, &tx, &ty);
    bind(&n, tx, ty);
    snapshot first = run_and_copy(&n);
    check_against_reference(&first, &n, tx, ty, "plan");
    cr_assert(first.v[0][0] > 1.0f && first.v[0][0] < 5.0f, "loss %g", first.v[0][0]);
    /* the cached plan, run again and again over the same arena */
    for (int i = 0; i < 25; i++) {
        snapshot again = run_and_copy(&n);
        cr_assert(bit_equal(&first, &again), "run %d differs from the first", i + 2);
        snapshot_free(&again);
    }
    cr_assert_eq(nn_plan_cached(n.g), 1);
    snapshot_free(&first);
    nn_tensor_free(tx);
    nn_tensor_free(ty);
    nn_graph_free(n.g);
}

/* Two threads against one. Where they may differ: only in matrix products
 * large enough to be split (NN_GEMM_GRAIN flops), which the pool cuts into
 * blocks of rows or columns, one CBLAS call each; the BLAS may pick a
 * different inner kernel or blocking for a block of another size
 * (OPENBLAS_CORETYPE chooses among several) and round differently. So
 * neither is compared with the other: at batch 512 (about 30 MFLOP a
 * step, so the pool runs the steps as a graph of dependencies and splits
 * the products) each run, and each repeated 2-thread run, must be within
 * the float32 error bound of the double reference. */
Test(scheduler, two_threads_equal_one) {
    nn_tensor *tx, *ty;
    batch_new(512, 6, &tx, &ty);
    for (int t = 0; t < 2; t++) {
        net n = net_new(12);
        cr_assert_eq(nn_graph_set_threads(n.g, t + 1), NN_OK);
        cr_assert_eq(nn_graph_threads(n.g), t + 1);
        bind(&n, tx, ty);
        nn_plan_info info;
        cr_assert_eq(nn_plan_stats(n.g, n.outs, NOUT, 512, &info), NN_OK);
        cr_assert(info.flops > 2e7, "flops %g", info.flops);
        for (int i = 0; i < (t ? 10 : 1); i++) {
            snapshot got = run_and_copy(&n);
            char what[64];
            snprintf(what, sizeof what, "%d thread(s), run %d", t + 1, i + 1);
            check_against_reference(&got, &n, tx, ty, what);
            snapshot_free(&got);
        }
        nn_graph_free(n.g);
    }
    nn_tensor_free(tx);
    nn_tensor_free(ty);
}

Test(scheduler, arena_smaller_than_naive_sum) {
    net n = net_new(13);
    nn_plan_info info;
    cr_assert_eq(nn_plan_stats(n.g, n.outs, NOUT, 32, &info), NN_OK, "%s", nn_error_message(n.g));
    /* naive: one 64-byte aligned buffer per op node at batch 32; the
     * forward alone holds [32,25] x3, [32,15] x3, [32,10] x3 */
    cr_assert(info.naive_bytes >= (size_t)32 * (3 * 25 + 3 * 15 + 3 * 10) * 4);
    cr_assert(info.arena_bytes > 0);
    cr_assert(info.arena_bytes < info.naive_bytes, "arena %zu vs naive %zu", info.arena_bytes, info.naive_bytes);
    cr_assert_eq(info.fused, 5, "three dense layers and two relu gradients (into their products) fuse, got %d",
                 info.fused);
    /* unfused, the relu gradients overwrite their input instead */
    nn_plan_set_flags(n.g, NN_PLAN_NO_FUSE);
    nn_plan_info unfused;
    cr_assert_eq(nn_plan_stats(n.g, n.outs, NOUT, 32, &unfused), NN_OK);
    cr_assert_geq(unfused.inplace, 2, "relu gradients may overwrite their input");
    cr_assert_gt(unfused.steps, info.steps);
    /* 2*B*(400*25+25*15+15*10) for the forward products; about as much
     * back, as the input's gradient of the first layer is not needed (the
     * elementwise steps add a few percent) */
    double fwd = 2.0 * 32 * (IN * H1 + H1 * H2 + H2 * OUT);
    cr_assert(info.flops > 2.0 * fwd && info.flops < 2.3 * fwd, "flops %g", info.flops);
    /* with reuse switched off every step has its own block again */
    nn_plan_set_flags(n.g, NN_PLAN_NO_REUSE | NN_PLAN_NO_INPLACE | NN_PLAN_NO_FUSE);
    nn_plan_info plain;
    cr_assert_eq(nn_plan_stats(n.g, n.outs, NOUT, 32, &plain), NN_OK);
    cr_assert_eq(plain.arena_bytes, plain.naive_bytes);
    cr_assert_eq(plain.fused, 0);
    cr_assert_eq(plain.inplace, 0);
    cr_assert_gt(plain.steps, info.steps);
    nn_graph_free(n.g);
}

/* Every combination of the optimisations gives the same numbers. The fused
 * dense step does the add's and the activation's arithmetic in the same
 * order as the separate kernels, and at batch 32 no product is split
 * between threads, so the results are bit-equal, not just close. */
Test(scheduler, fused_and_unfused_agree) {
    nn_tensor *tx, *ty;
    batch_new(32, 7, &tx, &ty);
    snapshot base = {0};
    for (int flags = 0; flags < 8; flags++) {
        net n = net_new(14);
        nn_graph_set_threads(n.g, flags & 1 ? 2 : 1);
        nn_plan_set_flags(n.g, flags);
        bind(&n, tx, ty);
        snapshot s = run_and_copy(&n);
        if (flags == 0)
            base = s;
        else {
            cr_assert(bit_equal(&s, &base), "flags %d differ from the fully optimised plan", flags);
            snapshot_free(&s);
        }
        nn_graph_free(n.g);
    }
    snapshot_free(&base);
    nn_tensor_free(tx);
    nn_tensor_free(ty);
}

Test(scheduler, env_switches_fusion_off) {
    net n = net_new(15);
    setenv("NNGRAPH_PLAN", "nofuse,noinplace", 1);
    nn_plan_info info;
    cr_assert_eq(nn_plan_stats(n.g, n.outs, NOUT, 32, &info), NN_OK);
    unsetenv("NNGRAPH_PLAN");
    cr_assert_eq(info.fused, 0);
    cr_assert_eq(info.inplace, 0);
    cr_assert_eq(nn_plan_flags(n.g), 0);
    nn_graph_free(n.g);
}

/* A long chain of in-place steps shares one buffer; each step depends on
 * its predecessor only (the arena reuse must not add an edge from every
 * earlier user of the buffer: that made the pool's work quadratic). */
Test(scheduler, inplace_chain_has_linear_dependencies) {
    nn_graph *g = nn_graph_new(1);
    nn_node *x = nn_input(g, "x", NN_F32, NN_SHAPE(NN_BATCH, 3));
    nn_node *h = nn_scale(g, x, 2.f); /* x itself is the caller's: not overwritten */
    for (int i = 0; i < 199; i++) h = nn_relu(g, nn_sub(g, h, nn_scalar(g, 0.5f)));
    nn_plan_info info;
    cr_assert_eq(nn_plan_stats(g, &h, 1, 4, &info), NN_OK, "%s", nn_error_message(g));
    cr_assert_eq(info.steps, 399);
    cr_assert_eq(info.inplace, 398);
    cr_assert_eq(info.edges, 398, "edges %d", info.edges);
    cr_assert_eq(info.arena_bytes, 64u); /* one [4,3] block, 64-byte aligned */
    nn_graph_free(g);
}

/* The last partial batch of an epoch (5000 = 156*32 + 8) gets its own
 * plan; going back to 32 finds the first one again. */
Test(scheduler, new_batch_size_gets_its_own_cached_plan) {
    net n = net_new(16);
    nn_graph_set_threads(n.g, 1);
    nn_tensor *tx32, *ty32, *tx8, *ty8;
    batch_new(32, 8, &tx32, &ty32);
    batch_new(8, 9, &tx8, &ty8);
    bind(&n, tx32, ty32);
    snapshot a = run_and_copy(&n);
    cr_assert_eq(nn_plan_cached(n.g), 1);
    bind(&n, tx8, ty8);
    snapshot b = run_and_copy(&n);
    cr_assert_eq(nn_plan_cached(n.g), 2);
    check_against_reference(&b, &n, tx8, ty8, "batch 8");
    bind(&n, tx32, ty32);
    snapshot c = run_and_copy(&n);
    cr_assert_eq(nn_plan_cached(n.g), 2);
    cr_assert(bit_equal(&a, &c));
    /* other outputs at a known batch: a third plan */
    cr_assert_eq(nn_run(n.g, &n.loss, 1), NN_OK);
    cr_assert_eq(nn_plan_cached(n.g), 3);
    cr_assert_eq(nn_value_scalar(n.loss), a.v[0][0]);
    snapshot_free(&a);
    snapshot_free(&b);
    snapshot_free(&c);
    nn_tensor_free(tx32);
    nn_tensor_free(ty32);
    nn_tensor_free(tx8);
    nn_tensor_free(ty8);
    nn_graph_free(n.g);
}

/* A kernel failing inside a multi-threaded run: the run stops with the
 * op's message, the pool is left usable, and a good run works after. */
Test(scheduler, failing_step_under_threads_is_reported) {
    net n = net_new(17);
    nn_graph_set_threads(n.g, 2);
    nn_tensor *tx, *ty;
    batch_new(512, 10, &tx, &ty);
    nn_tensor_i32(ty)[300] = OUT; /* a label outside the classes */
    bind(&n, tx, ty);
    cr_assert_eq(nn_run(n.g, n.outs, NOUT), NN_ERR_RUNTIME);
    const char *msg = nn_error_message(n.g);
    cr_assert(strstr(msg, "softmax_cross_entropy") && strstr(msg, "row 300"), "message: %s", msg);
    nn_tensor_i32(ty)[300] = 3;
    cr_assert_eq(nn_run(n.g, n.outs, NOUT), NN_OK, "%s", nn_error_message(n.g));
    cr_assert(isfinite(nn_value_scalar(n.loss)));
    nn_tensor_free(tx);
    nn_tensor_free(ty);
    nn_graph_free(n.g);
}

/* Independent branches and a value read by many consumers: x feeds four
 * chains whose results are summed; with several threads the chains run
 * at the same time and their buffers are reused between them. */
Test(scheduler, wide_graph_with_shared_input) {
    for (int threads = 1; threads <= 3; threads++) {
        nn_graph *g = nn_graph_new(1);
        nn_graph_set_threads(g, threads);
        nn_node *x = nn_input(g, "x", NN_F32, NN_SHAPE(NN_BATCH, 300));
        nn_node *acc = NULL;
        for (int b = 0; b < 4; b++) {
            nn_node *h = x;
            for (int k = 0; k < 5; k++) h = nn_relu(g, nn_scale(g, nn_sub(g, h, nn_scalar(g, 0.25f)), 1.5f));
            acc = acc ? nn_add(g, acc, nn_scale(g, h, (float)(b + 1))) : h;
        }
        nn_node *total = nn_sum(g, acc, NN_ALL_AXES);
        cr_assert_eq(nn_graph_status(g), NN_OK, "%s", nn_error_message(g));
        nn_tensor *tx = nn_tensor_new(NN_F32, NN_SHAPE(4000, 300));
        for (int64_t i = 0; i < nn_tensor_size(tx); i++) nn_tensor_f32(tx)[i] = (float)(i % 7) * 0.5f;
        nn_set_input(g, x, tx);
        cr_assert_eq(nn_run(g, &total, 1), NN_OK, "%s", nn_error_message(g));
        /* each chain maps v to f(v) = relu(1.5 (v - 0.25)) five times;
         * the sum weights them 1 + 2 + 3 + 4 = 10 (chain 0 unscaled: 1) */
        double expect = 0;
        const int64_t total_n = 4000 * 300;
        for (int v = 0; v < 7; v++) {
            double f = v * 0.5;
            for (int k = 0; k < 5; k++) f = f > 0.25 ? 1.5 * (f - 0.25) : 0;
            int64_t count = total_n / 7 + (v < total_n % 7);
            expect += f * 10.0 * (double)count;
        }
        double got = nn_value_scalar(total);
        /* every term (all >= 0) went through 5 x 3 roundings in its chain,
         * a scale and up to 4 adds; the sum itself is taken in double */
        cr_assert(fabs(got - expect) <= tu_gamma(21) * expect, "threads %d: %g vs %g", threads, got, expect);
        nn_tensor_free(tx);
        nn_graph_free(g);
    }
}
