/* The compiled execution plan (see plan.c); shared by plan.c, exec.c and
 * the tools that report on plans. */
#ifndef NN_PLAN_H
#define NN_PLAN_H

#include "internal.h"

typedef struct nn_plan {
    struct nn_plan *next; /* the graph's cache list */
    int n_out;
    int *out_ids; /* the wanted outputs, the cache key with batch */
    int64_t batch;
    int n_steps;
    nn_node **steps;   /* op nodes in topological order */
    nn_tensor *bufs;   /* bufs[i]: output of steps[i], inside arena */
    void *arena;
    size_t arena_bytes; /* planned */
    size_t naive_bytes; /* one buffer per op */
} nn_plan;

#endif
