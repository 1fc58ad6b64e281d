/* The compiled execution plan (see plan.c); shared by plan.c, exec.c,
 * pool.c and the tools that report on plans. */
#ifndef NN_PLAN_H
#define NN_PLAN_H

#include "internal.h"

/* One unit of work: an op node's kernel, or a fused dense layer
 * act(op(A) op(B) + bias) standing for a matmul, an add and an activation. */
typedef struct nn_plan_step {
    nn_node *node;      /* the node whose value the step produces */
    const nn_node *mm;  /* fused: the matmul (its transpose flags); else NULL */
    nn_act act;         /* fused: the activation */
    int n_in;
    nn_node *in_node[NN_MAX_INPUTS]; /* fused: A, B, bias */
    int in_step[NN_MAX_INPUTS];      /* the step producing input k; -1: the
                                        node's own value (input/param/const) */
    int inplace;        /* 1: the output overwrites input 0's buffer */
    double cost;        /* estimated floating-point operations */
    int n_deps;         /* steps that must finish before this one */
    int n_succ;
    int *succ;          /* steps waiting for this one (into plan->succ_pool) */
} nn_plan_step;

typedef struct nn_plan {
    struct nn_plan *next; /* the graph's cache list */
    int n_out;
    int *out_ids; /* the wanted outputs, the cache key with batch */
    int64_t batch;
    int n_steps;
    nn_plan_step *steps;    /* in a topological order: the one-thread order */
    nn_tensor *bufs;   /* bufs[i]: output of steps[i], inside arena */
    int *succ_pool;
    void *arena;
    size_t arena_bytes; /* planned: liveness-based reuse and in-place */
    size_t naive_bytes; /* one buffer per op node, as if nothing were shared */
    int n_fused, n_inplace;
    double cost;        /* sum of the steps' costs */
    int n_clear;
    nn_node **clear;    /* nodes whose value is dropped after a run: their
                           buffers are reused, or they were fused away */
    int n_inputs;
    nn_node **inputs;   /* the input nodes the plan reads, by descending id:
                           a run checks their binding and batch from this
                           list instead of walking the graph */
    int training;         /* the graph's mode, set by each run */
    uint64_t seed;        /* the run's random seed, set by each run */
    int *pending, *ready; /* scratch of one pool run (dependency counts and
                             the ready queue), allocated with the plan */
    const int64_t *row_ids; /* the graph's row_ids for the run under way */
    nn_value_fn on_value;   /* the graph's value hook for the run under way */
    void *on_value_user;
    /* what threads measured to be worth for this plan (exec.c): the
     * smoothed time of a run on one thread [0] and on all [1], how many
     * runs each had, and runs in all */
    double sched_time[2];
    int64_t sched_n[2], sched_runs;
} nn_plan;

/* A cached plan for exactly these outputs at any batch size, or NULL:
 * its input list serves every batch size. */
nn_plan *nn_plan_for_outputs(nn_graph *g, nn_node *const *outputs, int n);

/* Plan flags (nn_graph.plan_flags): switch optimisations off to compare. */
#define NN_PLAN_NO_FUSE 1
#define NN_PLAN_NO_INPLACE 2
#define NN_PLAN_NO_REUSE 4

/* What a plan looks like, for tests, benchmarks and reports. */
typedef struct nn_plan_info {
    size_t arena_bytes, naive_bytes;
    int steps, fused, inplace;
    double flops;
    int edges; /* dependency edges between steps (what the pool follows) */
    /* the thread choice so far (multi-threaded graphs): runs on one thread
     * and on all, and their smoothed times in seconds (0 before any) */
    int64_t runs_one, runs_all;
    double time_one, time_all;
} nn_plan_info;

/* Compiles (or finds) the plan for these outputs at this batch size and
 * describes it. */
nn_status nn_plan_stats(nn_graph *g, nn_node *const *outputs, int n, int64_t batch, nn_plan_info *info);
/* Sets NN_PLAN_* flags for plans compiled from now on (drops cached plans).
 * The environment can switch the same optimisations off for a whole
 * process without recompiling: NNGRAPH_PLAN="nofuse,noinplace,noreuse"
 * (any subset, comma-separated) adds those flags to every graph's. */
void nn_plan_set_flags(nn_graph *g, int flags);
/* The flags plans are compiled with: the graph's, plus NNGRAPH_PLAN's. */
int nn_plan_flags(const nn_graph *g);
/* How many plans the graph has cached (one per outputs and batch size). */
int nn_plan_cached(const nn_graph *g);

/* Runs every step of p on the pool e (exec.c): a step starts when the
 * steps it depends on are done. Returns the first failing step's status
 * (its message on g). */
nn_status nn_exec_run_plan(struct nn_exec *e, nn_graph *g, nn_plan *p);

#endif
