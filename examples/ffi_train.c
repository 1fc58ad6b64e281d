/* Trains a small network whose activations come from a shared library
 * loaded at run time (examples/ops/myops.c) through nngraph's libffi ops:
 * 2 -> 16 (swish) -> 16 (leaky relu, alpha 0.1) -> 3 classes, on three
 * Gaussian blobs, full-batch gradient descent. Prints the falling loss.
 *
 *     ffi_train [PATH/TO/libmyops.so]
 */
#include "nngraph.h"

#include <stdio.h>
#include <stdlib.h>

#ifndef NN_MYOPS_PATH
#define NN_MYOPS_PATH "libmyops.so"
#endif

enum { N_PER_CLASS = 100, N_CLASSES = 3, N = N_PER_CLASS * N_CLASSES, HIDDEN = 16, STEPS = 300 };

/* Three blobs around (-2,0), (2,0), (0,2.5), standard deviation 0.8. */
static void make_blobs(nn_rng *rng, float *x, int32_t *y) {
    static const float centre[N_CLASSES][2] = {{-2.f, 0.f}, {2.f, 0.f}, {0.f, 2.5f}};
    for (int i = 0; i < N; i++) {
        int c = i % N_CLASSES;
        y[i] = c;
        x[2 * i] = centre[c][0] + 0.8f * (float)nn_rng_normal(rng);
        x[2 * i + 1] = centre[c][1] + 0.8f * (float)nn_rng_normal(rng);
    }
}

static nn_node *dense(nn_graph *g, const char *scope, nn_node *x, int in, int out) {
    nn_scope_push(g, scope);
    nn_node *w = nn_param(g, "W", NN_SHAPE(in, out), nn_init_glorot_uniform());
    nn_node *b = nn_param(g, "b", NN_SHAPE(out), nn_init_zeros());
    nn_node *y = nn_add(g, nn_matmul(g, x, w), b);
    nn_scope_pop(g);
    return y;
}

int main(int argc, char **argv) {
    if (argc > 1 && (argv[1][0] == '-')) {
        fprintf(stderr, "usage: ffi_train [PATH/TO/libmyops.so]\n");
        return 2;
    }
    const char *lib = argc > 1 ? argv[1] : NN_MYOPS_PATH;
    nn_graph *g = nn_graph_new(42);
    float *xs = malloc(sizeof(float) * 2 * N);
    int32_t *ys = malloc(sizeof(int32_t) * N);
    if (!g || !xs || !ys) {
        fprintf(stderr, "ffi_train: out of memory\n");
        return 1;
    }
    make_blobs(nn_graph_rng(g), xs, ys);

    nn_node *x = nn_input(g, "x", NN_F32, NN_SHAPE(NN_BATCH, 2));
    nn_node *y = nn_input(g, "y", NN_I32, NN_SHAPE(NN_BATCH));
    nn_node *h = dense(g, "L1", x, 2, HIDDEN);
    h = nn_ffi_op(g, lib, "swish", "float(float)", h, NULL, 0, "swish_grad");
    h = dense(g, "L2", h, HIDDEN, HIDDEN);
    double alpha = 0.1;
    h = nn_ffi_op(g, lib, "leaky_relu", "float(float,float)", h, &alpha, 1, "leaky_relu_grad");
    nn_node *logits = dense(g, "L3", h, HIDDEN, N_CLASSES);
    nn_node *loss = nn_softmax_cross_entropy(g, logits, y);
    nn_node *params[6], *grads[6];
    int n_params = nn_graph_params(g, params, 6);
    nn_grad(g, loss, params, n_params, grads);
    if (nn_graph_status(g) != NN_OK) {
        fprintf(stderr, "ffi_train: %s\n", nn_error_message(g));
        nn_graph_free(g);
        free(xs);
        free(ys);
        return 1;
    }

    nn_tensor *tx = nn_tensor_from(NN_F32, NN_SHAPE(N, 2), xs);
    nn_tensor *ty = nn_tensor_from(NN_I32, NN_SHAPE(N), ys);
    nn_set_input(g, x, tx);
    nn_set_input(g, y, ty);
    nn_node *outputs[7] = {loss};
    for (int i = 0; i < n_params; i++) outputs[1 + i] = grads[i];
    const float lr = 0.3f;
    int rc = 0;
    for (int step = 0; step <= STEPS; step++) {
        if (nn_run(g, outputs, 1 + n_params) != NN_OK) {
            fprintf(stderr, "ffi_train: step %d: %s\n", step, nn_error_message(g));
            rc = 1;
            break;
        }
        if (step % 30 == 0) printf("step %3d  loss %.4f\n", step, nn_value_scalar(loss));
        /* plain gradient descent: p -= lr * dp */
        for (int i = 0; i < n_params; i++) {
            float *p = nn_tensor_f32(nn_param_value(params[i]));
            const float *d = nn_tensor_f32(nn_value(grads[i]));
            for (int64_t k = 0; k < nn_tensor_size(nn_param_value(params[i])); k++) p[k] -= lr * d[k];
        }
    }
    if (rc == 0 && nn_run(g, &logits, 1) == NN_OK) {
        const float *z = nn_tensor_f32(nn_value(logits));
        int correct = 0;
        for (int i = 0; i < N; i++) {
            int best = 0;
            for (int c = 1; c < N_CLASSES; c++)
                if (z[i * N_CLASSES + c] > z[i * N_CLASSES + best]) best = c;
            correct += best == ys[i];
        }
        printf("training accuracy %.1f%% (%d of %d)\n", 100.0 * correct / N, correct, N);
    }
    nn_tensor_free(tx);
    nn_tensor_free(ty);
    nn_graph_free(g);
    free(xs);
    free(ys);
    return rc;
}
