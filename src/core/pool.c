/* The thread pool. One mutex guards everything shared: the list of
 * parallel-for jobs and the state of the task graph being run (dependency
 * counts and the ready queue). Work items are coarse (a whole step, or a chunk of
 * about a million flops), so one lock per item costs little next to the
 * item, and it keeps the waiting simple: threads with nothing to do block
 * on a condition variable and are woken only when work appears. */
#include "pool.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef nn_pfor_job pfor_job;

typedef struct dag_run {
    const nn_task_graph *tg;
    int *pending; /* per task: dependencies not yet done */
    int *queue;   /* ready tasks, each pushed once */
    int head, tail, remaining;
    nn_status st; /* the first failure */
    char err[NN_ERRLEN];
} dag_run;

struct nn_exec {
    int threads;
    int n_workers;
    pthread_t *workers;
    pthread_mutex_t mu;
    pthread_cond_t work_cv; /* work appeared, or a run ended, or shutdown */
    pthread_cond_t done_cv; /* a parallel-for chunk finished */
    int shutdown;
    pfor_job *jobs;
    dag_run *dag;
};

int nn_default_threads(void) {
    const char *env = getenv("NNGRAPH_THREADS");
    if (env && *env) {
        char *end;
        long v = strtol(env, &end, 10);
        if (*end == '\0' && v > 0 && v <= 1024) return (int)v;
    }
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    return cores > 0 ? (int)cores : 1;
}

int nn_exec_threads(const struct nn_exec *e) { return e ? e->threads : 1; }

/* With the mutex held: takes one chunk of the first job that has any
 * left, unlinking the job once its last chunk is taken. */
static pfor_job *take_chunk(struct nn_exec *e, int *chunk) {
    pfor_job *j = e->jobs;
    if (!j) return NULL;
    *chunk = j->next++;
    if (j->next == j->n_chunks) e->jobs = j->link;
    return j;
}

/* With the mutex held on entry and exit: runs one chunk unlocked. */
static void run_chunk(struct nn_exec *e, pfor_job *j, int chunk) {
    pthread_mutex_unlock(&e->mu);
    int64_t lo = (int64_t)chunk * j->chunk, hi = lo + j->chunk < j->n ? lo + j->chunk : j->n;
    j->fn(j->ctx, lo, hi);
    pthread_mutex_lock(&e->mu);
    /* j may be freed by its caller as soon as done reaches n_chunks and
     * the mutex is released: touch nothing after this */
    if (++j->done == j->n_chunks) pthread_cond_broadcast(&e->done_cv);
}

/* With the mutex held: marks task t done and queues the tasks it freed.
 * Returns how many became ready. */
static int finish_task(dag_run *d, int t) {
    const int *succ;
    int n_succ = d->tg->successors(d->tg->ctx, t, &succ), ready = 0;
    for (int i = 0; i < n_succ; i++)
        if (--d->pending[succ[i]] == 0) {
            d->queue[d->tail++] = succ[i];
            ready++;
        }
    d->remaining--;
    return ready;
}

/* With the mutex held on entry and exit: runs one ready task unlocked. */
static void run_task(struct nn_exec *e, dag_run *d) {
    int t = d->queue[d->head++];
    int failed = d->st != NN_OK;
    pthread_mutex_unlock(&e->mu);
    char err[NN_ERRLEN];
    err[0] = '\0';
    /* after a failure the remaining tasks are drained, not run */
    nn_status st = failed ? NN_OK : d->tg->run(d->tg->ctx, t, e, err);
    pthread_mutex_lock(&e->mu);
    if (st != NN_OK && d->st == NN_OK) {
        d->st = st;
        memcpy(d->err, err, sizeof d->err);
    }
    int ready = finish_task(d, t);
    /* this thread takes one of the freed tasks itself; wake others only
     * for the rest, and everyone when the run is over */
    if (d->remaining == 0 || ready > 2)
        pthread_cond_broadcast(&e->work_cv);
    else if (ready == 2)
        pthread_cond_signal(&e->work_cv);
}

static void *worker_main(void *arg) {
    struct nn_exec *e = arg;
    pthread_mutex_lock(&e->mu);
    while (!e->shutdown) {
        int chunk;
        pfor_job *j = take_chunk(e, &chunk);
        if (j)
            run_chunk(e, j, chunk);
        else if (e->dag && e->dag->head < e->dag->tail)
            run_task(e, e->dag);
        else
            pthread_cond_wait(&e->work_cv, &e->mu);
    }
    pthread_mutex_unlock(&e->mu);
    return NULL;
}

struct nn_exec *nn_exec_new(int threads) {
    struct nn_exec *e = calloc(1, sizeof *e);
    if (!e) return NULL;
    e->threads = threads < 1 ? 1 : threads;
    if (pthread_mutex_init(&e->mu, NULL)) {
        free(e);
        return NULL;
    }
    pthread_cond_init(&e->work_cv, NULL);
    pthread_cond_init(&e->done_cv, NULL);
    if (e->threads > 1) {
        e->workers = calloc((size_t)(e->threads - 1), sizeof *e->workers);
        if (!e->workers) {
            nn_exec_free(e);
            return NULL;
        }
        for (int i = 0; i < e->threads - 1; i++) {
            if (pthread_create(&e->workers[i], NULL, worker_main, e)) {
                nn_exec_free(e);
                return NULL;
            }
            e->n_workers++;
        }
    }
    return e;
}

void nn_exec_free(struct nn_exec *e) {
    if (!e) return;
    pthread_mutex_lock(&e->mu);
    e->shutdown = 1;
    pthread_cond_broadcast(&e->work_cv);
    pthread_mutex_unlock(&e->mu);
    for (int i = 0; i < e->n_workers; i++) pthread_join(e->workers[i], NULL);
    free(e->workers);
    pthread_cond_destroy(&e->work_cv);
    pthread_cond_destroy(&e->done_cv);
    pthread_mutex_destroy(&e->mu);
    free(e);
}

void nn_parallel_for(struct nn_exec *e, int64_t n, int64_t grain, nn_range_fn fn, void *ctx) {
    if (n <= 0) return;
    if (grain < 1) grain = 1;
    int64_t n_chunks = n / grain;
    if (!e || e->threads <= 1 || n_chunks <= 1) {
        fn(ctx, 0, n);
        return;
    }
    if (n_chunks > e->threads) n_chunks = e->threads;
    pfor_job j = {fn, ctx, n, (n + n_chunks - 1) / n_chunks, 0, 0, 0, NULL};
    j.n_chunks = (int)((n + j.chunk - 1) / j.chunk);
    pthread_mutex_lock(&e->mu);
    /* appended, so jobs posted earlier are served first */
    pfor_job **tail = &e->jobs;
    while (*tail) tail = &(*tail)->link;
    *tail = &j;
    pthread_cond_broadcast(&e->work_cv);
    while (j.next < j.n_chunks) {
        /* take this job's chunks (never another's: this call must return
         * as soon as its own work is done) */
        int chunk = j.next++;
        if (j.next == j.n_chunks) {
            pfor_job **at = &e->jobs;
            while (*at != &j) at = &(*at)->link;
            *at = j.link;
        }
        run_chunk(e, &j, chunk);
    }
    while (j.done < j.n_chunks) pthread_cond_wait(&e->done_cv, &e->mu);
    pthread_mutex_unlock(&e->mu);
}

/* An async piece is a parallel-for job of one chunk. */
static void run_async(void *ctx, int64_t lo, int64_t hi) {
    (void)lo, (void)hi;
    nn_async *a = ctx;
    a->fn(a->arg);
}

int nn_async_post(struct nn_exec *e, nn_async *a, void (*fn)(void *arg), void *arg) {
    a->posted = 0;
    if (!e || e->threads <= 1) return 0;
    a->e = e;
    a->fn = fn;
    a->arg = arg;
    a->job = (pfor_job){run_async, a, 1, 1, 1, 0, 0, NULL};
    pthread_mutex_lock(&e->mu);
    pfor_job **tail = &e->jobs;
    while (*tail) tail = &(*tail)->link;
    *tail = &a->job;
    pthread_cond_signal(&e->work_cv);
    pthread_mutex_unlock(&e->mu);
    a->posted = 1;
    return 1;
}

void nn_async_wait(nn_async *a) {
    if (!a->posted) return;
    struct nn_exec *e = a->e;
    pthread_mutex_lock(&e->mu);
    if (a->job.next < a->job.n_chunks) {
        /* nobody took it: unlink it and run it here */
        pfor_job **at = &e->jobs;
        while (*at != &a->job) at = &(*at)->link;
        *at = a->job.link;
        run_chunk(e, &a->job, a->job.next++);
    }
    while (a->job.done < a->job.n_chunks) pthread_cond_wait(&e->done_cv, &e->mu);
    pthread_mutex_unlock(&e->mu);
    a->posted = 0;
}

nn_status nn_pool_run_tasks(struct nn_exec *e, const nn_task_graph *tg, char *err) {
    dag_run d = {0};
    d.tg = tg;
    d.pending = tg->pending;
    d.queue = tg->queue;
    for (int t = 0; t < tg->n; t++) {
        d.pending[t] = tg->n_deps(tg->ctx, t);
        if (d.pending[t] == 0) d.queue[d.tail++] = t;
    }
    d.remaining = tg->n;
    pthread_mutex_lock(&e->mu);
    e->dag = &d;
    pthread_cond_broadcast(&e->work_cv);
    /* the calling thread works like the others until every task is done */
    while (d.remaining > 0) {
        int chunk;
        pfor_job *j = take_chunk(e, &chunk);
        if (j)
            run_chunk(e, j, chunk);
        else if (d.head < d.tail)
            run_task(e, &d);
        else
            pthread_cond_wait(&e->work_cv, &e->mu);
    }
    e->dag = NULL;
    pthread_mutex_unlock(&e->mu);
    if (d.st != NN_OK) memcpy(err, d.err, sizeof d.err);
    return d.st;
}
