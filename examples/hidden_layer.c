/* Why a hidden layer: the two-class square that no line separates.
 *
 * Class 0 fills the small square [0,2.3]^2; class 1 the band [0,4]^2
 * minus [0,3)^2 around it. One sigmoid neuron draws a single straight
 * boundary and must misclassify a corner. A hidden layer of 3 ReLU units
 * bends the boundary and succeeds. A hidden layer of 3 *linear* units
 * does not help: a linear map of a linear map is linear, so that network
 * is still one straight line. */
#include "lab_plot.h"

#include <string.h>

/* Trains x -> [hidden units of `act`] -> one logit with BCE; returns the
 * training accuracy. hidden 0 means the bare neuron. */
static double train_model(const nn_dataset *d, const nn_tensor *labels, int hidden, nn_activation act,
                          const char *plot_dir, const char *picture) {
    nn_graph *g = nn_graph_new(3);
    nn_node *x = nn_input(g, "x", NN_F32, NN_SHAPE(NN_BATCH, 2));
    nn_node *y = nn_input(g, "y", NN_F32, NN_SHAPE(NN_BATCH, 1));
    nn_node *h = hidden ? nn_dense(g, "hidden", x, hidden, act) : x;
    nn_node *z = nn_dense(g, "out", h, 1, NN_LINEAR); /* the sigmoid is inside the loss */
    nn_node *loss = nn_bce_with_logits(g, z, y);
    lab_check_graph(g);
    nn_optimizer *adam = nn_adam(0.02f);
    nn_fit_opts opts = {.epochs = 300, .batch_size = 32, .optimizer = adam, .x = x, .y = y};
    if (nn_fit(g, loss, d, &opts, NULL) != NN_OK) lab_check_graph(g);
    nn_tensor *logits = nn_predict(g, x, z, d->x, 128);
    if (!logits) lab_check_graph(g);
    double acc = lab_accuracy(logits, labels);
    if (plot_dir) {
        /* the regions in the input plane and, with a hidden layer, the
         * data as that layer sees it */
        char path[4096], name[64];
        nn_plot_model m = {g, x, z};
        snprintf(name, sizeof name, "%s-regions.svg", picture);
        lab_plot_path(path, sizeof path, plot_dir, name);
        lab_plot_done(nn_plot_boundary(path, NULL, &m, d->x, labels, NULL, NULL), path);
        if (hidden) {
            nn_plot_boundary_opts t = {.view = NN_VIEW_TRANSFORMED, .layer = h};
            snprintf(name, sizeof name, "%s-transformed.svg", picture);
            lab_plot_path(path, sizeof path, plot_dir, name);
            lab_plot_done(nn_plot_boundary(path, NULL, &m, d->x, labels, &t, NULL), path);
        }
    }
    nn_tensor_free(logits);
    nn_optimizer_free(adam);
    nn_graph_free(g);
    return acc;
}

int main(int argc, char **argv) {
    const char *plot_dir = lab_plot_only_args(argc, argv,
                                              "Compares a sigmoid neuron, a ReLU hidden layer and a linear hidden layer\n"
                                              "on a set no straight line separates. --plot DIR also draws each model's\n"
                                              "regions and the data as each hidden layer sees it (hidden-*.svg).\n");
    nn_dataset *square = nn_make_square(400, 1);
    lab_check(square != NULL, "make_square");
    nn_dataset *d = lab_binary_targets(square);

    double neuron = train_model(d, square->y, 0, NN_LINEAR, plot_dir, "hidden-neuron");
    double relu = train_model(d, square->y, 3, NN_RELU, plot_dir, "hidden-relu");
    double linear = train_model(d, square->y, 3, NN_LINEAR, plot_dir, "hidden-linear");
    printf("sigmoid neuron alone:               accuracy %.4f\n", neuron);
    printf("hidden layer, 3 ReLU units:         accuracy %.4f\n", relu);
    printf("hidden layer, 3 linear units:       accuracy %.4f\n", linear);
    printf("\nthe ReLU layer %s; the linear layer is no better than one neuron (%+.4f)\n",
           relu > 0.97 ? "separates the classes" : "did NOT separate the classes", linear - neuron);

    nn_dataset_free(d);
    nn_dataset_free(square);
    return 0;
}
