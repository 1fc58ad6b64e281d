/* Helpers of the benchmark programs (see bench_util.h). */
#include "bench_util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

double bench_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

double bench_cpu_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

long bench_peak_rss_kib(void) {
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0) return -1;
    return ru.ru_maxrss; /* KiB on Linux */
}

const char *bench_arg_str(int argc, char **argv, const char *name, const char *dflt) {
    for (int i = 1; i + 1 < argc; i++)
        if (strcmp(argv[i], name) == 0) return argv[i + 1];
    return dflt;
}

long bench_arg_long(int argc, char **argv, const char *name, long dflt) {
    const char *s = bench_arg_str(argc, argv, name, NULL);
    if (!s) return dflt;
    char *end;
    long v = strtol(s, &end, 10);
    if (*s == '\0' || *end != '\0' || v < 0) {
        fprintf(stderr, "%s: %s wants a non-negative integer, got '%s'\n", argv[0], name, s);
        exit(2);
    }
    return v;
}

int bench_mlp_build(bench_mlp *m, const int *dims, int n_layers, uint64_t seed, int threads, int grads) {
    memset(m, 0, sizeof *m);
    nn_graph *g = m->g = nn_graph_new(seed);
    if (!g) return -1;
    nn_graph_set_threads(g, threads);
    m->x = nn_input(g, "x", NN_F32, NN_SHAPE(NN_BATCH, dims[0]));
    m->y = nn_input(g, "y", NN_I32, NN_SHAPE(NN_BATCH));
    nn_node *h = m->x;
    for (int l = 0; l < n_layers && l < 8; l++) {
        char name[32];
        snprintf(name, sizeof name, "L%d", l + 1);
        nn_scope_push(g, name);
        nn_node *W = nn_param(g, "W", NN_SHAPE(dims[l], dims[l + 1]), nn_init_glorot_uniform());
        nn_node *b = nn_param(g, "b", NN_SHAPE(dims[l + 1]), nn_init_zeros());
        h = nn_add(g, nn_matmul(g, h, W), b);
        if (l + 1 < n_layers) h = nn_relu(g, h);
        nn_scope_pop(g);
        m->params[m->n_params++] = W;
        m->params[m->n_params++] = b;
    }
    m->loss = nn_softmax_cross_entropy(g, h, m->y);
    if (grads) nn_grad(g, m->loss, m->params, m->n_params, m->grads);
    if (nn_graph_status(g) != NN_OK) {
        fprintf(stderr, "building the network: %s\n", nn_error_message(g));
        return -1;
    }
    m->outs[0] = m->loss;
    for (int i = 0; i < m->n_params; i++) m->outs[i + 1] = m->grads[i];
    return 0;
}

double bench_train_epoch(bench_mlp *m, nn_optimizer *opt, const nn_tensor *x, const nn_tensor *y, int batch,
                         nn_rng *rng, int64_t *steps) {
    int64_t n = nn_tensor_shape(x).dim[0], feat = nn_tensor_shape(x).dim[1];
    int64_t *idx = malloc((size_t)n * sizeof *idx);
    nn_tensor *bx = nn_tensor_new(NN_F32, NN_SHAPE(batch, feat)), *by = nn_tensor_new(NN_I32, NN_SHAPE(batch));
    nn_tensor *tx = NULL, *ty = NULL;
    double total = 0;
    if (!idx || !bx || !by) goto fail;
    for (int64_t i = 0; i < n; i++) idx[i] = i;
    nn_rng_shuffle(rng, idx, n);
    for (int64_t at = 0; at < n; at += batch) {
        int64_t rows = n - at < batch ? n - at : batch;
        nn_tensor *cx = bx, *cy = by;
        if (rows < batch) {
            /* the last partial batch: its own tensors (and its own plan) */
            cx = tx = nn_tensor_new(NN_F32, NN_SHAPE(rows, feat));
            cy = ty = nn_tensor_new(NN_I32, NN_SHAPE(rows));
            if (!tx || !ty) goto fail;
        }
        if (nn_gather_rows(x, idx + at, rows, cx) != NN_OK || nn_gather_rows(y, idx + at, rows, cy) != NN_OK) {
            fprintf(stderr, "gathering a batch: %s\n", nn_last_error());
            goto fail;
        }
        nn_set_input(m->g, m->x, cx);
        nn_set_input(m->g, m->y, cy);
        if (nn_run(m->g, m->outs, m->n_params + 1) != NN_OK) {
            fprintf(stderr, "training step: %s\n", nn_error_message(m->g));
            goto fail;
        }
        total += nn_value_scalar(m->loss) * (double)rows;
        if (nn_optimizer_step(opt, m->grads, m->n_params) != NN_OK) {
            fprintf(stderr, "optimizer step: %s\n", nn_last_error());
            goto fail;
        }
        ++*steps;
    }
    free(idx);
    nn_tensor_free(bx);
    nn_tensor_free(by);
    nn_tensor_free(tx);
    nn_tensor_free(ty);
    return total / (double)n;
fail:
    free(idx);
    nn_tensor_free(bx);
    nn_tensor_free(by);
    nn_tensor_free(tx);
    nn_tensor_free(ty);
    return NAN;
}
