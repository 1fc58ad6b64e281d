/* Benchmark (d): the scheduler's overhead per node. A chain of `nodes`
 * tiny ops (x*1.0001 on a [4] tensor, so the kernels' arithmetic is a few
 * nanoseconds) is run many times through nn_run; the time per run divided
 * by the chain's length is what binding, plan lookup and dispatch cost a
 * node. Also: the same chain with the kernels called by hand (the floor),
 * so the difference is the scheduler's alone; and the chain run through
 * the thread pool's dependency-counting path (which nn_run takes for
 * plans of at least a few MFLOP), whose per-node cost is a lock, the
 * dependency counts and the ready queue.
 *
 *   bench_sched [--nodes N] [--runs R] [--threads T] */
#include "bench_util.h"
#include "plan.h"
#include "pool.h"

#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
    if (argc > 1 && argv[1][0] == '-' && argv[1][1] == 'h') {
        printf("usage: %s [--nodes N] [--runs R] [--threads T]\n", argv[0]);
        return 0;
    }
    int nodes = (int)bench_arg_long(argc, argv, "--nodes", 1000);
    int runs = (int)bench_arg_long(argc, argv, "--runs", 2000);
    int threads = (int)bench_arg_long(argc, argv, "--threads", 1);
    if (nodes < 1 || runs < 1 || threads < 1) {
        fprintf(stderr, "%s: nodes, runs and threads must be positive\n", argv[0]);
        return 2;
    }
    nn_graph *g = nn_graph_new(1);
    nn_graph_set_threads(g, threads);
    nn_node *x = nn_input(g, "x", NN_F32, NN_SHAPE(4));
    nn_node *h = x;
    for (int i = 0; i < nodes; i++) h = nn_scale(g, h, 1.0001f);
    if (nn_graph_status(g) != NN_OK) {
        fprintf(stderr, "%s\n", nn_error_message(g));
        return 1;
    }
    nn_tensor *tx = nn_tensor_from(NN_F32, NN_SHAPE(4), (float[]){1, 2, 3, 4});
    nn_set_input(g, x, tx);
    if (nn_run(g, &h, 1) != NN_OK) { /* compiles the plan: not timed */
        fprintf(stderr, "%s\n", nn_error_message(g));
        return 1;
    }
    /* the best of five windows of each: other processes only add time */
    double per_run = 1e30, floor_run = 1e30, pool_run = 1e30;
    struct nn_plan *plan = nn_plan_get(g, &h, 1, 1);
    float v[4] = {1, 2, 3, 4};
    for (int w = 0; w < 5; w++) {
        double t0 = bench_now();
        for (int r = 0; r < runs; r++) nn_run(g, &h, 1);
        double t = (bench_now() - t0) / runs;
        per_run = t < per_run ? t : per_run;
        /* the floor: the same arithmetic in a plain loop */
        t0 = bench_now();
        for (int r = 0; r < runs; r++)
            for (int i = 0; i < nodes; i++)
                for (int k = 0; k < 4; k++) ((volatile float *)v)[k] = v[k] * 1.0001f;
        t = (bench_now() - t0) / runs;
        floor_run = t < floor_run ? t : floor_run;
        t0 = bench_now();
        for (int r = 0; r < runs; r++) nn_exec_run_plan(g->exec, g, plan);
        t = (bench_now() - t0) / runs;
        pool_run = t < pool_run ? t : pool_run;
    }
    printf("sched threads=%d nodes=%d runs=%d us_per_run=%.2f ns_per_node=%.1f arithmetic_ns_per_node=%.1f "
           "overhead_ns_per_node=%.1f pool_path_ns_per_node=%.1f\n",
           threads, nodes, runs, 1e6 * per_run, 1e9 * per_run / nodes, 1e9 * floor_run / nodes,
           1e9 * (per_run - floor_run) / nodes, 1e9 * (pool_run - floor_run) / nodes);
    nn_tensor_free(tx);
    nn_graph_free(g);
    return 0;
}
