/* Softmax regression: one linear layer and a softmax over three blobs.
 *
 * Each class k gets a score z_k = x . w_k + b_k; softmax turns the scores
 * into probabilities. Classes i and j tie where z_i = z_j, that is on the
 * line (w_i - w_j) . x + (b_i - b_j) = 0: the difference of the two weight
 * columns is the normal of that decision boundary, pointing towards i. */
#include "lab_plot.h"

#include <math.h>
#include <string.h>

int main(int argc, char **argv) {
    const char *plot_dir = lab_plot_only_args(argc, argv,
                                              "Trains softmax regression on three blobs and prints its decision "
                                              "boundaries.\n--plot DIR also draws them (softmax-regions.svg).\n");
    enum { K = 3 };
    const float centres[K * 2] = {0, 3, -3, -2, 3, -2};
    nn_dataset *d = nn_make_blobs(centres, K, 2, 150, 1.0f, 11);
    lab_check(d != NULL, "make_blobs");

    nn_graph *g = nn_graph_new(7);
    nn_node *x = nn_input(g, "x", NN_F32, NN_SHAPE(NN_BATCH, 2));
    nn_node *y = nn_input(g, "y", NN_I32, NN_SHAPE(NN_BATCH));
    nn_node *logits = nn_dense(g, "L1", x, K, NN_LINEAR);
    nn_node *loss = nn_softmax_cross_entropy(g, logits, y); /* softmax inside, from logits */
    lab_check_graph(g);

    nn_optimizer *adam = nn_adam(0.05f);
    nn_fit_opts opts = {.epochs = 100, .batch_size = 32, .optimizer = adam, .x = x, .y = y};
    nn_fit_result fit;
    if (nn_fit(g, loss, d, &opts, &fit) != NN_OK) lab_check_graph(g);

    nn_tensor *scores = nn_predict(g, x, logits, d->x, 64);
    if (!scores) lab_check_graph(g);
    printf("final loss %.4f, accuracy %.4f\n\n", fit.loss, lab_accuracy(scores, d->y));
    lab_print_param(g, "L1/W");
    lab_print_param(g, "L1/b");

    const float *W = nn_tensor_f32(nn_param_value(nn_graph_find(g, "L1/W"))); /* [2, K] */
    const float *b = nn_tensor_f32(nn_param_value(nn_graph_find(g, "L1/b")));
    printf("\ndecision boundaries (w_i - w_j) . x + (b_i - b_j) = 0:\n");
    for (int i = 0; i < K; i++)
        for (int j = i + 1; j < K; j++) {
            float nx = W[0 * K + i] - W[0 * K + j], ny = W[1 * K + i] - W[1 * K + j], c = b[i] - b[j];
            float len = sqrtf(nx * nx + ny * ny);
            printf("  classes %d|%d: normal (%8.4f, %8.4f), unit (%7.4f, %7.4f), offset %8.4f\n", i, j, nx, ny,
                   nx / len, ny / len, c);
        }

    /* the probabilities at the three centres */
    nn_tensor *pts = nn_tensor_from(NN_F32, NN_SHAPE(K, 2), centres);
    nn_tensor *z = nn_predict(g, x, logits, pts, K);
    nn_tensor *p = z ? nn_probabilities(z) : NULL;
    lab_check(p != NULL, "probabilities");
    printf("\n  centre          P(0)    P(1)    P(2)\n");
    for (int i = 0; i < K; i++) {
        printf("  (%4.1f, %4.1f) ", centres[2 * i], centres[2 * i + 1]);
        for (int k = 0; k < K; k++) printf("  %.4f", nn_tensor_f32(p)[i * K + k]);
        printf("\n");
    }

    if (plot_dir) {
        char path[4096];
        nn_plot_model m = {g, x, logits};
        lab_plot_path(path, sizeof path, plot_dir, "softmax-regions.svg");
        lab_plot_done(nn_plot_boundary(path, NULL, &m, d->x, d->y, NULL, NULL), path);
    }

    nn_tensor_free(p);
    nn_tensor_free(z);
    nn_tensor_free(pts);
    nn_tensor_free(scores);
    nn_optimizer_free(adam);
    nn_graph_free(g);
    nn_dataset_free(d);
    return 0;
}
