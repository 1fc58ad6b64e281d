/* The cost of a custom op called through libffi, against the built-in relu,
 * over 10^6 elements: the same function (leaky relu with alpha 0 is relu)
 * called per element through libffi, once per tensor through libffi, and
 * per element through a plain C function pointer (what the call costs
 * without libffi). Forward pass only, then forward + gradient.
 *
 *     ffi_bench PATH/TO/libmyops.so [REPEATS]
 *
 * Prints one line per variant: best time of REPEATS runs (default 20) and
 * nanoseconds per element. Single-threaded. */
#include "nngraph.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { ROWS = 1000, COLS = 1000, N = ROWS * COLS };

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Best wall time of `reps` runs of the outputs (one warm-up first, which
 * compiles the plan). */
static double best_run(nn_graph *g, nn_node **outs, int n, int reps) {
    if (nn_run(g, outs, n) != NN_OK) return -1;
    double best = 1e30;
    for (int r = 0; r < reps; r++) {
        double t0 = now();
        if (nn_run(g, outs, n) != NN_OK) return -1;
        double dt = now() - t0;
        if (dt < best) best = dt;
    }
    return best;
}

static void report(const char *what, double seconds, double base) {
    printf("%-46s %8.3f ms  %6.2f ns/element  %6.1fx relu\n", what, 1e3 * seconds, 1e9 * seconds / N,
           base > 0 ? seconds / base : 1.0);
}

int main(int argc, char **argv) {
    if (argc < 2 || argc > 3 || strcmp(argv[1], "--help") == 0) {
        fprintf(stderr, "usage: ffi_bench PATH/TO/libmyops.so [REPEATS]\n");
        return argc >= 2 && strcmp(argv[1], "--help") == 0 ? 0 : 2;
    }
    const char *lib = argv[1];
    int reps = argc > 2 ? atoi(argv[2]) : 20;
    if (reps < 1) {
        fprintf(stderr, "ffi_bench: REPEATS must be a positive integer, not '%s'\n", argv[2]);
        return 2;
    }
    nn_graph *g = nn_graph_new(1);
    nn_graph_set_threads(g, 1);
    nn_node *x = nn_param(g, "x", NN_SHAPE(ROWS, COLS), nn_init_uniform(-1.f, 1.f));
    double zero = 0.0;
    nn_node *relu = nn_relu(g, x);
    nn_node *elem = nn_ffi_op(g, lib, "leaky_relu", "float(float,float)", x, &zero, 1, "leaky_relu_grad");
    nn_node *tens = nn_ffi_op(g, lib, "leaky_relu_tensor", "void(const float*,float*,int64_t,float)", x, &zero, 1,
                              "leaky_relu_tensor_grad");
    nn_node *swish = nn_ffi_op(g, lib, "swish", "float(float)", x, NULL, 0, "swish_grad");
    nn_node *sig = nn_mul(g, x, nn_sigmoid(g, x)); /* swish from built-in ops */
    nn_node *losses[5], *grads[5], *fwd[5] = {relu, elem, tens, swish, sig};
    for (int i = 0; i < 5; i++) {
        losses[i] = nn_sum(g, fwd[i], NN_ALL_AXES);
        nn_grad(g, losses[i], &x, 1, &grads[i]);
    }
    if (nn_graph_status(g) != NN_OK) {
        fprintf(stderr, "ffi_bench: %s\n", nn_error_message(g));
        nn_graph_free(g);
        return 1;
    }
    printf("10^6 elements ([%d,%d] f32), best of %d runs, 1 thread\n\nforward:\n", ROWS, COLS, reps);
    double base = best_run(g, &relu, 1, reps);
    report("relu (built-in)", base, base);
    report("ffi leaky_relu(x, 0), per element", best_run(g, &elem, 1, reps), base);
    report("ffi leaky_relu_tensor(in, out, n, 0), per tensor", best_run(g, &tens, 1, reps), base);
    report("ffi swish(x), per element", best_run(g, &swish, 1, reps), base);
    report("x * sigmoid(x) (built-in ops)", best_run(g, &sig, 1, reps), base);

    /* the same per-element calls without libffi: the floor for any
     * per-element foreign call */
    void *h = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
    if (h) {
        float (*fn)(float, float);
        void *p = dlsym(h, "leaky_relu");
        memcpy(&fn, &p, sizeof fn);
        const float *xv = nn_tensor_f32(nn_param_value(x));
        float *y = malloc(sizeof(float) * N);
        double best = 1e30;
        for (int r = 0; r <= reps && y && fn; r++) {
            double t0 = now();
            for (int i = 0; i < N; i++) y[i] = fn(xv[i], 0.f);
            double dt = now() - t0;
            if (r && dt < best) best = dt;
        }
        report("plain C pointer call leaky_relu, per element", best, base);
        free(y);
        dlclose(h);
    }

    printf("\nforward + gradient (dx of sum(f(x))):\n");
    nn_node *pair[2];
    double b2 = 0;
    const char *names[5] = {"relu (built-in)", "ffi leaky_relu + leaky_relu_grad, per element",
                            "ffi leaky_relu_tensor + _grad, per tensor", "ffi swish + swish_grad, per element",
                            "x * sigmoid(x) (built-in ops)"};
    for (int i = 0; i < 5; i++) {
        pair[0] = losses[i];
        pair[1] = grads[i];
        double t = best_run(g, pair, 2, reps);
        if (i == 0) b2 = t;
        report(names[i], t, b2);
    }
    nn_graph_free(g);
    return 0;
}
