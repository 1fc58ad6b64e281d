/* Small helpers shared by the benchmark programs: a monotonic clock, the
 * process's peak resident set, argument parsing and the network builder
 * used by the training benchmarks. */
#ifndef NN_BENCH_UTIL_H
#define NN_BENCH_UTIL_H

#include "nngraph.h"

#include <stdint.h>

/* Seconds on a monotonic clock. */
double bench_now(void);
/* Peak resident set size of this process so far, in KiB (ru_maxrss). */
long bench_peak_rss_kib(void);
/* The value of "--name V" in argv as an integer, or `dflt`; exits with
 * status 2 and a message on a malformed value (benchmarks are programs,
 * not library code). */
long bench_arg_long(int argc, char **argv, const char *name, long dflt);

/* An MLP built from core ops: dense layers act(x W + b) with relu between
 * and linear logits, softmax cross-entropy, and the gradient of every
 * parameter. outs[0] is the loss, outs[1..] the gradients. */
typedef struct bench_mlp {
    nn_graph *g;
    nn_node *x, *y, *loss;
    int n_params;
    nn_node *params[16], *grads[16], *outs[17];
} bench_mlp;

/* dims[0] inputs, dims[n_layers] classes. Returns 0, or -1 after printing
 * the graph's error. */
int bench_mlp_build(bench_mlp *m, const int *dims, int n_layers, uint64_t seed, int threads);

/* Adam over every parameter of m (Keras's defaults: beta1 0.9, beta2
 * 0.999, eps 1e-7), one fused loop per parameter. */
typedef struct bench_adam {
    float lr, beta1, beta2, eps;
    int64_t t;
    float *m[16], *v[16];
} bench_adam;

int bench_adam_init(bench_adam *a, const bench_mlp *m, float lr);
void bench_adam_step(bench_adam *a, const bench_mlp *m);
void bench_adam_free(bench_adam *a, const bench_mlp *m);

/* One training epoch over x [n, features], y [n] in shuffled batches
 * (the last one partial); returns the mean loss, NaN on failure (after
 * printing the error). */
double bench_train_epoch(bench_mlp *m, bench_adam *a, const nn_tensor *x, const nn_tensor *y, int batch,
                         nn_rng *rng, int64_t *steps);

#endif
