/* The executor: runs a plan's steps, on the calling thread in the plan's
 * order or through the graph's thread pool as dependencies allow, as each
 * plan has measured to be faster (sched_choose below).
 *
 * Where results may differ across thread counts: nowhere on CPUs with
 * AVX2 or AVX-512. Each step computes the same arithmetic whichever thread
 * runs it, reductions are never split, and nngraph's own product kernels
 * compute every element the same way however C is split (gemm_ukernel.h).
 * Only on the BLAS path (other CPUs, or NNGRAPH_GEMM=blas) is a large
 * product split into single-threaded CBLAS calls on blocks, for which
 * OpenBLAS may pick a different inner kernel, so the last bits may differ
 * there (tests/test_sched.c allows a relative 1e-5).
 */
#include "internal.h"
#include "kernels.h"
#include "plan.h"
#include "pool.h"

#include <cblas.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Below this many estimated flops a plan that runs on threads runs its
 * steps in order (its large products still split), not as a graph of
 * steps: waking a thread costs several microseconds, more than running
 * small steps side by side gains. */
#define NN_PAR_MIN_FLOPS 4e6

/* Whether threads pay for a plan is measured, not guessed: what a wake-up
 * costs against a product's time depends on the CPU, the kernels, and
 * above all on whether another process holds the other cores (on a
 * shared machine a woken worker may wait milliseconds for a core). Each
 * plan of a multi-threaded graph keeps the smoothed wall time of its runs
 * on one thread and on all; the first SCHED_WARM runs of each kind
 * alternate (the plan's very first run, which touches its arena for the
 * first time, is not counted), then the faster kind runs, and every
 * SCHED_PROBE-th run tries the other so a change of load is noticed. The
 * warm-up ends early when one run of each kind differs by more than
 * SCHED_DECISIVE: threads that double a wide network's speed need no more
 * evidence, and each further run of the slower kind costs the whole
 * difference (3 of a 16-step fit's runs on one thread made 2 threads
 * 1.48x instead of 2x faster at W = 2048). The very first run, which is not
 * timed, runs on all threads for the same reason. Both kinds compute the
 * same arithmetic, so the choice never changes a result (see the top of
 * this file for BLAS-path products). Plans too small to split anything
 * always run on one thread. */
#define SCHED_WARM 3
#define SCHED_PROBE 64
#define SCHED_DECISIVE 1.5
#define SCHED_MIN_FLOPS (2.0 * NN_GEMM_GRAIN)

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* 1: run p on all threads this time; 0: on the calling thread. */
static int sched_choose(const nn_plan *p) {
    if (p->sched_runs == 0) return 1;
    double one = p->sched_time[0], all = p->sched_time[1];
    int decided = p->sched_n[0] > 0 && p->sched_n[1] > 0 && (one > SCHED_DECISIVE * all || all > SCHED_DECISIVE * one);
    if ((p->sched_n[0] < SCHED_WARM || p->sched_n[1] < SCHED_WARM) && !decided) return p->sched_n[1] < p->sched_n[0];
    int best = p->sched_time[1] < p->sched_time[0];
    return p->sched_runs % SCHED_PROBE == 0 ? !best : best;
}

static void sched_record(nn_plan *p, int all, double secs) {
    if (p->sched_runs++ == 0) return; /* the first run pays for first touches */
    int64_t n = p->sched_n[all]++;
    /* the mean of the first samples, then an average weighted to the
     * recent ones (a quarter for the newest). A sample counts at most
     * twice the estimate: one run preempted by another process must not
     * flip the choice, a lasting slowdown still moves it within a few runs */
    double w = n < 4 ? 1.0 / (double)(n + 1) : 0.25;
    if (n >= SCHED_WARM && secs > 2 * p->sched_time[all]) secs = 2 * p->sched_time[all];
    p->sched_time[all] += w * (secs - p->sched_time[all]);
}

/* Runs step s of p: binds its inputs, calls its kernel (or the fused
 * dense kernel). On failure writes the reason, naming op and node, into
 * err (NN_ERRLEN). */
static nn_status step_run(nn_plan *p, int s, struct nn_exec *e, char *err) {
    nn_plan_step *st = &p->steps[s];
    const nn_tensor *in[NN_MAX_INPUTS];
    for (int k = 0; k < st->n_in; k++)
        in[k] = st->in_step[k] >= 0 ? &p->bufs[st->in_step[k]] : st->in_node[k]->value;
    nn_tensor *out = &p->bufs[s];
    if (st->mm) {
        int ta = (int)st->mm->iattr[0], tb = (int)st->mm->iattr[1];
        int64_t M = out->shape.dim[0], N = out->shape.dim[1], K = in[0]->shape.dim[ta ? 0 : 1];
        if (st->act == NN_ACT_RELU_GATE)
            nn_gemm_relu_gate(e, (const float *)in[0]->data, (const float *)in[1]->data, (const float *)in[2]->data,
                              (float *)out->data, M, N, K, ta, tb);
        else
            nn_dense_forward(e, (const float *)in[0]->data, (const float *)in[1]->data, (const float *)in[2]->data,
                             (float *)out->data, M, N, K, ta, tb, (int)st->act);
        return NN_OK;
    }
    nn_kernel_call c = {0};
    c.node = st->node;
    c.n_in = st->n_in;
    for (int k = 0; k < st->n_in; k++) c.in[k] = in[k];
    c.out = out;
    c.exec = e;
    c.training = p->training;
    c.seed = p->seed;
    c.row_ids = p->row_ids;
    char msg[NN_ERRLEN];
    msg[0] = '\0'; /* not the whole buffer: this runs for every step */
    c.err = msg;
    nn_status rc = st->node->op->forward(&c);
    if (rc != NN_OK) nn_errf(err, rc, "%s '%s': %s", st->node->op->name, st->node->name, msg);
    return rc;
}

/* ---- a plan as the pool's task graph ---- */

static int step_deps(void *plan, int s) { return ((nn_plan *)plan)->steps[s].n_deps; }

static int step_successors(void *plan, int s, const int **succ) {
    const nn_plan_step *st = &((nn_plan *)plan)->steps[s];
    *succ = st->succ;
    return st->n_succ;
}

/* Runs step s, then tells the graph's value hook (nn_graph_on_value),
 * from this thread, that the step's value is ready. */
static nn_status step_task(void *plan, int s, struct nn_exec *e, char *err) {
    nn_plan *p = plan;
    nn_status st = step_run(p, s, e, err);
    if (st == NN_OK && p->on_value) p->on_value(p->on_value_user, p->steps[s].node, &p->bufs[s]);
    return st;
}

nn_status nn_exec_run_plan(struct nn_exec *e, nn_graph *g, nn_plan *p) {
    /* the plan's own scratch: nothing is allocated per run */
    nn_task_graph tg = {p->n_steps, p, step_deps, step_successors, step_task, p->pending, p->ready};
    char err[NN_ERRLEN];
    nn_status st = nn_pool_run_tasks(e, &tg, err);
    return st == NN_OK ? NN_OK : nn_fail_run(g, st, "%s", err);
}

/* OpenBLAS (the pthread build Debian ships) starts its own threads when
 * it loads, and they spin in sched_yield for about 2^28 cycles after
 * every wake-up, the first included: a core burnt for the first 0.1 s of
 * every process, while nngraph loads its data. Its shutdown call
 * (exported, not in cblas.h; weak so that another CBLAS links too) stops
 * them as soon as nngraph is loaded. Nothing the user configured changes:
 * OpenBLAS starts them again, with the same count, the next time someone
 * asks it for a threaded product. */
extern int blas_thread_shutdown_(void) __attribute__((weak));

__attribute__((constructor)) static void quiet_blas_threads(void) {
    if (blas_thread_shutdown_) blas_thread_shutdown_();
}

/* The pool for the graph's thread count, made on first use and again only
 * when the count changes. */
static struct nn_exec *graph_pool(nn_graph *g) {
    int threads = g->threads > 0 ? g->threads : nn_default_threads();
    if (g->exec && nn_exec_threads(g->exec) == threads) return g->exec;
    nn_exec_free(g->exec);
    g->exec = nn_exec_new(threads);
    return g->exec;
}

nn_status nn_plan_execute(nn_graph *g, nn_plan *p) {
    struct nn_exec *e = graph_pool(g);
    if (!e) return nn_fail_run(g, NN_ERR_NOMEM, "run: cannot start the thread pool");
    nn_status st = NN_OK;
    p->training = g->training;
    /* a fresh seed a run, fixed by the graph's seed, without drawing from
     * the generator: graphs without dropout keep their sequence of draws */
    p->seed = nn_mix64(g->rng.s[0] ^ nn_mix64(++g->runs));
    p->row_ids = g->row_ids;
    p->on_value = g->on_value;
    p->on_value_user = g->on_value_user;
    /* Products that go to BLAS (CPUs without AVX2, or NNGRAPH_GEMM=blas)
     * are split into blocks by our pool, one single-threaded call each:
     * OpenBLAS's own threads would only compete with ours. So OpenBLAS runs
     * on one thread for the length of such a run and gets the user's count
     * back after it, for the user's other calls. Runs that cannot reach
     * BLAS leave OpenBLAS alone: setting its count restarts the threads
     * the constructor stopped. */
    int blas_threads = nn_gemm_may_use_blas() ? openblas_get_num_threads() : 1;
    if (blas_threads != 1) openblas_set_num_threads(1);
    int measured = nn_exec_threads(e) > 1 && p->cost >= SCHED_MIN_FLOPS;
    int all = measured && sched_choose(p);
    double t0 = measured ? now_s() : 0;
    if (all && p->cost >= NN_PAR_MIN_FLOPS) {
        st = nn_exec_run_plan(e, g, p);
    } else {
        /* on the calling thread; products split across the pool only when
         * the plan runs on all threads */
        char err[NN_ERRLEN];
        for (int s = 0; s < p->n_steps && st == NN_OK; s++)
            if ((st = step_task(p, s, all ? e : NULL, err)) != NN_OK) nn_fail_run(g, st, "%s", err);
    }
    if (measured && st == NN_OK) sched_record(p, all, now_s() - t0);
    if (blas_threads != 1) openblas_set_num_threads(blas_threads);
    if (st != NN_OK) return st;
    for (int s = 0; s < p->n_steps; s++) p->steps[s].node->value = &p->bufs[s];
    /* buffers of values that are not outputs were reused: forget them */
    for (int i = 0; i < p->n_clear; i++) p->clear[i]->value = NULL;
    return NN_OK;
}
