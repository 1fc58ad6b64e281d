/* The executor: runs a plan's steps, on the calling thread in the plan's
 * order or through the graph's thread pool as dependencies allow.
 *
 * Where results may differ across thread counts: only in large matrix
 * products. Each step computes the same arithmetic whichever thread runs
 * it, reductions are never split, and products below twice NN_GEMM_GRAIN
 * flops (all of the digits network's) are one BLAS call on one thread. A
 * larger product is split into blocks of rows or columns, each one
 * single-threaded CBLAS call, and OpenBLAS may pick a different inner
 * kernel for a block of another size, so results there can differ in the
 * last bits (tests/test_sched.c allows a relative 1e-5).
 */
#include "internal.h"
#include "kernels.h"
#include "plan.h"
#include "pool.h"

#include <cblas.h>
#include <stdlib.h>
#include <string.h>

/* Below this many estimated flops a plan runs on the calling thread even
 * when threads are available: waking a thread costs several microseconds,
 * more than the digits network's whole step gains from it. */
#define NN_PAR_MIN_FLOPS 4e6

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
 * every wake-up, the first included: a whole core burnt while nngraph's
 * pool does the work. Its shutdown call (exported, not in cblas.h; weak so
 * that another CBLAS links too) stops them; they would be restarted on
 * demand if something asked OpenBLAS for threads again. */
extern int blas_thread_shutdown_(void) __attribute__((weak));

/* The pool for the graph's thread count, made on first use and again only
 * when the count changes. */
static struct nn_exec *graph_pool(nn_graph *g) {
    int threads = g->threads > 0 ? g->threads : nn_default_threads();
    if (g->exec && nn_exec_threads(g->exec) == threads) return g->exec;
    nn_exec_free(g->exec);
    /* our pool splits the large products into blocks, each one
     * single-threaded BLAS call: OpenBLAS's own threads would only compete
     * with ours (docs/performance.md) */
    openblas_set_num_threads(1);
    if (blas_thread_shutdown_) blas_thread_shutdown_();
    g->exec = nn_exec_new(threads);
    return g->exec;
}

nn_status nn_plan_execute(nn_graph *g, nn_plan *p) {
    struct nn_exec *e = graph_pool(g);
    if (!e) return nn_fail_run(g, NN_ERR_NOMEM, "run: cannot start the thread pool");
    nn_status st = NN_OK;
    p->row_ids = g->row_ids;
    p->on_value = g->on_value;
    p->on_value_user = g->on_value_user;
    if (nn_exec_threads(e) > 1 && p->cost >= NN_PAR_MIN_FLOPS) {
        st = nn_exec_run_plan(e, g, p);
    } else {
        char err[NN_ERRLEN];
        for (int s = 0; s < p->n_steps && st == NN_OK; s++)
            if ((st = step_task(p, s, e, err)) != NN_OK) nn_fail_run(g, st, "%s", err);
    }
    if (st != NN_OK) return st;
    for (int s = 0; s < p->n_steps; s++) p->steps[s].node->value = &p->bufs[s];
    /* buffers of values that are not outputs were reused: forget them */
    for (int i = 0; i < p->n_clear; i++) p->clear[i]->value = NULL;
    return NN_OK;
}
