/* Trains a small network whose activations come from a shared library
 * loaded at run time (examples/ops/myops.c) through nngraph's libffi ops:
 * 2 -> 16 (swish) -> 16 (leaky relu, alpha 0.1) -> 2 classes on the
 * square set (data.h), Adam, minibatches of 32. Prints the falling loss, one
 * line an epoch.
 *
 *     ffi_train [PATH/TO/libmyops.so]
 *
 * Without an argument it loads the library meson built next to it. */
#include "nngraph.h"

#include <stdio.h>
#include <string.h>

#ifndef NN_MYOPS_PATH
#define NN_MYOPS_PATH "libmyops.so"
#endif

static int print_epoch(const nn_epoch_info *e, void *user) {
    (void)user;
    printf("epoch %2d/%d  loss %.4f  accuracy %5.1f%%\n", e->epoch, e->epochs, e->loss, 100.0 * e->accuracy);
    return 0;
}

int main(int argc, char **argv) {
    if (argc > 2 || (argc == 2 && argv[1][0] == '-')) {
        fprintf(stderr, "usage: ffi_train [PATH/TO/libmyops.so]\n");
        return argc == 2 && strcmp(argv[1], "--help") == 0 ? 0 : 2;
    }
    const char *lib = argc > 1 ? argv[1] : NN_MYOPS_PATH;
    /* the two-class square: not linearly separable */
    nn_dataset *train = nn_make_square(1000, 7);
    if (!train) {
        fprintf(stderr, "ffi_train: %s\n", nn_last_error());
        return 1;
    }
    nn_graph *g = nn_graph_new(42);
    nn_node *x = nn_input(g, "x", NN_F32, NN_SHAPE(NN_BATCH, 2));
    nn_node *y = nn_input(g, "y", NN_I32, NN_SHAPE(NN_BATCH));
    /* the activations are the library's: a forward and a gradient function
     * each, with the signatures the library also declares */
    nn_node *h = nn_dense(g, "L1", x, 16, NN_LINEAR);
    h = nn_ffi_op(g, lib, "swish", "float swish(float x)", h, NULL, 0, "swish_grad");
    h = nn_dense(g, "L2", h, 16, NN_LINEAR);
    double alpha = 0.1;
    h = nn_ffi_op(g, lib, "leaky_relu", "float leaky_relu(float x, float alpha)", h, &alpha, 1, "leaky_relu_grad");
    nn_node *logits = nn_dense(g, "L3", h, 2, NN_LINEAR);
    nn_node *loss = nn_softmax_cross_entropy(g, logits, y);
    if (nn_graph_status(g) != NN_OK) {
        fprintf(stderr, "ffi_train: %s\n", nn_error_message(g));
        nn_graph_free(g);
        nn_dataset_free(train);
        return 1;
    }
    nn_optimizer *adam = nn_adam(0.01f);
    nn_fit_opts opts = {.epochs = 20, .batch_size = 32, .optimizer = adam, .on_epoch = print_epoch};
    nn_fit_result r;
    nn_status s = nn_fit(g, loss, train, &opts, &r);
    if (s != NN_OK)
        fprintf(stderr, "ffi_train: %s\n", nn_error_message(g));
    else
        printf("%lld steps in %.2f s; final loss %.4f, accuracy %.1f%%\n", (long long)r.steps, r.seconds, r.loss,
               100.0 * r.accuracy);
    nn_optimizer_free(adam);
    nn_graph_free(g);
    nn_dataset_free(train);
    return s == NN_OK ? 0 : 1;
}
