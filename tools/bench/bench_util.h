/* Small helpers shared by the benchmark programs: a monotonic clock, the
 * process's peak resident set, argument parsing and the network and
 * training loop of the training benchmarks. */
#ifndef NN_BENCH_UTIL_H
#define NN_BENCH_UTIL_H

#include "nngraph.h"

#include <stdint.h>

/* Seconds on a monotonic clock. */
double bench_now(void);
/* CPU seconds of this process (all its threads) so far: on a loaded
 * machine, the work done, without the time other processes took. */
double bench_cpu_now(void);
/* Peak resident set size of this process so far, in KiB (ru_maxrss). */
long bench_peak_rss_kib(void);
/* The value of "--name V" in argv as an integer, or `dflt`; exits with
 * status 2 and a message on a malformed value (benchmarks are programs,
 * not library code). */
long bench_arg_long(int argc, char **argv, const char *name, long dflt);
/* The value of "--name V" in argv, or `dflt`. */
const char *bench_arg_str(int argc, char **argv, const char *name, const char *dflt);

/* An MLP built from core ops: dense layers x W + b with relu between and
 * linear logits, softmax cross-entropy. With `grads`, also the gradient
 * of every parameter: outs[0] is the loss, outs[1..] the gradients. */
typedef struct bench_mlp {
    nn_graph *g;
    nn_node *x, *y, *loss;
    int n_params;
    nn_node *params[16], *grads[16], *outs[17];
} bench_mlp;

/* dims[0] inputs, dims[n_layers] classes. Returns 0, or -1 after printing
 * the graph's error. */
int bench_mlp_build(bench_mlp *m, const int *dims, int n_layers, uint64_t seed, int threads, int grads);

/* One training epoch over x [n, features], y [n] in shuffled batches (the
 * last one partial): nn_gather_rows, nn_run of the loss and gradients,
 * nn_optimizer_step. Returns the mean loss, NaN on failure (after printing
 * the error). */
double bench_train_epoch(bench_mlp *m, nn_optimizer *opt, const nn_tensor *x, const nn_tensor *y, int batch,
                         nn_rng *rng, int64_t *steps);

#endif
