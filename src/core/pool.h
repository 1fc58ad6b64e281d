/* The thread pool: made once per graph (on its first run, again only when
 * the thread count changes). It knows three kinds of work and nothing of
 * what the work is: a graph of tasks, each started when the tasks it
 * depends on are done (exec.c runs a plan's steps as one), ranges split
 * into chunks (parallel_for, which kernels use), and single pieces run
 * while the caller goes on (nn_async: nn_fit's next batch). Waiting
 * threads block on condition variables; nothing spins. */
#ifndef NN_POOL_H
#define NN_POOL_H

#include "internal.h"

/* A pool of `threads` threads in all: the caller of a run counts as one,
 * so threads - 1 workers are started. NULL if a thread cannot start. */
struct nn_exec *nn_exec_new(int threads);
void nn_exec_free(struct nn_exec *e);
/* Threads in all (1 for a NULL pool). */
int nn_exec_threads(const struct nn_exec *e);

/* Calls fn(ctx, lo, hi) over [0, n) split into at most one chunk per
 * thread, each chunk at least `grain` items; runs inline when one chunk
 * suffices or e is NULL. The caller works on chunks too and returns when
 * every chunk is done. Chunks must not depend on each other. */
typedef void (*nn_range_fn)(void *ctx, int64_t lo, int64_t hi);
void nn_parallel_for(struct nn_exec *e, int64_t n, int64_t grain, nn_range_fn fn, void *ctx);

/* One chunk-split job of nn_parallel_for, or an nn_async's single piece;
 * the pool's: callers do not touch the fields. */
typedef struct nn_pfor_job {
    nn_range_fn fn;
    void *ctx;
    int64_t n, chunk;
    int n_chunks, next, done; /* guarded by the pool's mutex */
    struct nn_pfor_job *link;
} nn_pfor_job;

/* Work handed to an idle pool thread while the caller goes on with its
 * own (the next batch gathered during a training step): the caller owns
 * the struct, posts it, and collects it before touching what it writes. */
typedef struct nn_async {
    nn_pfor_job job;
    struct nn_exec *e;
    void (*fn)(void *arg);
    void *arg;
    int posted;
} nn_async;

/* Posts fn(arg) for a pool thread to run. Returns 1, or 0 without posting
 * anything when the pool has no other thread (e NULL or one thread): then
 * the caller does the work itself. */
int nn_async_post(struct nn_exec *e, nn_async *a, void (*fn)(void *arg), void *arg);
/* Returns once a posted a's work is done, running it on this thread if no
 * pool thread has started it; at once for an a not posted (or already
 * collected). */
void nn_async_wait(nn_async *a);

/* n tasks with dependencies: task t starts once n_deps(t) tasks naming
 * it among their successors have finished. */
typedef struct nn_task_graph {
    int n;
    void *ctx; /* passed to the callbacks */
    /* how many tasks must finish before t may start */
    int (*n_deps)(void *ctx, int t);
    /* the tasks waiting for t: returns their count, *succ points at them */
    int (*successors)(void *ctx, int t, const int **succ);
    /* runs t, which may use e for parallel_for; on failure returns the
     * status after writing why into err (NN_ERRLEN bytes) */
    nn_status (*run)(void *ctx, int t, struct nn_exec *e, char *err);
    int *pending, *queue; /* scratch of n ints each, the caller's: a run
                             allocates nothing */
} nn_task_graph;

/* Runs every task of tg as its dependencies finish, on the pool's threads
 * and the caller's. After a failure the tasks not yet started are skipped.
 * Returns NN_OK, or the first failure's status with its message in err
 * (NN_ERRLEN bytes). */
nn_status nn_pool_run_tasks(struct nn_exec *e, const nn_task_graph *tg, char *err);

/* The default thread count: NNGRAPH_THREADS if set to a positive number,
 * else the machine's online cores. */
int nn_default_threads(void);

#endif
