/* The four-blob lab: a tiny network (Dense 2 relu, Dense 4 linear) learns
 * to tell four Gaussian blobs apart.
 *
 * The last layer stays linear: its outputs are logits, and the softmax is
 * folded into the cross-entropy (nn_softmax_cross_entropy), which is both
 * cheaper and numerically safer than a softmax layer followed by a log.
 * Probabilities, when wanted, come from nn_probabilities() afterwards. */
#include "lab_plot.h"

#include <string.h>

/* Prints the loss now and then instead of 200 progress lines. */
static int report_epoch(const nn_epoch_info *e, void *user) {
    (void)user;
    if (e->epoch == 1 || e->epoch % 50 == 0)
        printf("epoch %3d/%d  loss %.4f  accuracy %.4f\n", e->epoch, e->epochs, e->loss, e->accuracy);
    return 0; /* keep going */
}

int main(int argc, char **argv) {
    const char *plot_dir =
        lab_plot_only_args(argc, argv,
                           "Trains Dense(2, relu) -> Dense(4) on four Gaussian blobs and prints\n"
                           "the accuracy and the first layer's weights. --plot DIR also draws the decision\n"
                           "regions (blobs-regions.svg) and each hidden unit over the plane (blobs-units.svg).\n");
    /* the lab's data: 100 points around four centres, standard deviation 1 */
    const float centres[4 * 2] = {-5, 2, -2, -2, 1, 2, 5, -2};
    nn_dataset *train = nn_make_blobs(centres, 4, 2, 100, 1.0f, 2);
    lab_check(train != NULL, "make_blobs");

    nn_graph *g = nn_graph_new(1234);
    nn_node *x = nn_input(g, "x", NN_F32, NN_SHAPE(NN_BATCH, 2));
    nn_node *y = nn_input(g, "y", NN_I32, NN_SHAPE(NN_BATCH));
    nn_node *h = nn_dense(g, "L1", x, 2, NN_RELU);
    nn_node *logits = nn_dense(g, "L2", h, 4, NN_LINEAR);
    nn_node *loss = nn_softmax_cross_entropy(g, logits, y);
    lab_check_graph(g);
    nn_summary(g, stdout);

    nn_optimizer *adam = nn_adam(0.01f);
    nn_fit_opts opts = {.epochs = 200, .batch_size = 32, .optimizer = adam, .x = x, .y = y,
                        .verbose = 0, .on_epoch = report_epoch};
    if (nn_fit(g, loss, train, &opts, NULL) != NN_OK) lab_check_graph(g);

    nn_tensor *scores = nn_predict(g, x, logits, train->x, 32);
    if (!scores) lab_check_graph(g);
    printf("\naccuracy: %.4f (%" PRId64 " of %" PRId64 " points misclassified)\n",
           lab_accuracy(scores, train->y), nn_count_errors(scores, train->y), nn_dataset_size(train));
    printf("\nlayer 1, learned weights and biases:\n");
    lab_print_param(g, "L1/W");
    lab_print_param(g, "L1/b");

    if (plot_dir) {
        char path[4096];
        nn_plot_model m = {g, x, logits};
        nn_plot_boundary_opts regions = {.view = NN_VIEW_REGIONS};
        lab_plot_path(path, sizeof path, plot_dir, "blobs-regions.svg");
        lab_plot_done(nn_plot_boundary(path, NULL, &m, train->x, train->y, &regions, NULL), path);
        nn_plot_boundary_opts units = {.view = NN_VIEW_LAYER, .layer = h};
        lab_plot_path(path, sizeof path, plot_dir, "blobs-units.svg");
        lab_plot_done(nn_plot_boundary(path, NULL, &m, train->x, train->y, &units, NULL), path);
    }

    nn_tensor_free(scores);
    nn_optimizer_free(adam);
    nn_graph_free(g);
    nn_dataset_free(train);
    return 0;
}
