/* The thread pool: made once per graph (on its first run, again only when
 * the thread count changes). It runs a plan's steps as their dependency
 * counts reach zero and splits large kernels into chunks (parallel_for).
 * Waiting threads block on condition variables; nothing spins. */
#ifndef NN_POOL_H
#define NN_POOL_H

#include "internal.h"

struct nn_plan;

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

/* Runs every step of p: a step starts when the steps it depends on are
 * done. Returns the first failing step's status (its message on g). */
nn_status nn_exec_run_plan(struct nn_exec *e, nn_graph *g, struct nn_plan *p);

/* The default thread count: NNGRAPH_THREADS if set to a positive number,
 * else the machine's online cores. */
int nn_default_threads(void);



/* Runs step s of p (exec.c): binds its inputs, calls its kernel. On
 * failure writes the reason, naming op and node, into err (NN_ERRLEN). */
nn_status nn_step_run(struct nn_plan *p, int s, struct nn_exec *e, char *err);
#endif
