/* A sigmoid neuron: logistic regression on two overlapping blobs.
 *
 * Unlike the perceptron's step, the sigmoid is smooth, so the neuron can
 * be trained by gradient descent on the binary cross-entropy, and its
 * output reads as a probability. The loss takes the logit z = x . w + b
 * (nn_bce_with_logits), which stays finite where a separate sigmoid and
 * log would overflow; the sigmoid node serves predictions. */
#include "lab.h"

#include <string.h>

static int report_epoch(const nn_epoch_info *e, void *user) {
    (void)user;
    if (e->epoch == 1 || e->epoch % 25 == 0) printf("epoch %3d/%d  loss %.4f\n", e->epoch, e->epochs, e->loss);
    return 0;
}

int main(int argc, char **argv) {
    if (argc > 1) {
        int help = !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h");
        fprintf(help ? stdout : stderr, "usage: %s\nTrains one sigmoid neuron on two blobs.\n", argv[0]);
        return help ? 0 : 2;
    }
    const float centres[2 * 2] = {1, 4, 4, 1};
    nn_dataset *blobs = nn_make_blobs(centres, 2, 2, 200, 1.2f, 6);
    lab_check(blobs != NULL, "make_blobs");
    nn_dataset *d = lab_binary_targets(blobs); /* y as f32 [n,1] for the loss */

    nn_graph *g = nn_graph_new(42);
    nn_node *x = nn_input(g, "x", NN_F32, NN_SHAPE(NN_BATCH, 2));
    nn_node *y = nn_input(g, "y", NN_F32, NN_SHAPE(NN_BATCH, 1));
    nn_node *z = nn_dense(g, "neuron", x, 1, NN_LINEAR);
    nn_node *prob = nn_sigmoid(g, z);
    nn_node *loss = nn_bce_with_logits(g, z, y);
    lab_check_graph(g);

    nn_optimizer *sgd = nn_sgd(0.1f, 0.0f);
    nn_fit_opts opts = {.epochs = 100, .batch_size = 32, .optimizer = sgd, .x = x, .y = y,
                        .on_epoch = report_epoch};
    if (nn_fit(g, loss, d, &opts, NULL) != NN_OK) lab_check_graph(g);

    nn_tensor *logits = nn_predict(g, x, z, d->x, 64);
    if (!logits) lab_check_graph(g);
    printf("\naccuracy: %.4f\n", lab_accuracy(logits, blobs->y));
    const float *w = nn_tensor_f32(nn_param_value(nn_graph_find(g, "neuron/W")));
    float b = nn_tensor_f32(nn_param_value(nn_graph_find(g, "neuron/b")))[0];
    printf("weights w = (%.4f, %.4f), bias b = %.4f\n", w[0], w[1], b);
    if (w[1] != 0) printf("decision boundary (probability 0.5): x2 = %.4f * x1 %+.4f\n", -w[0] / w[1], -b / w[1]);

    /* probabilities of class 1 at the two centres and half-way */
    const float probe[3 * 2] = {1, 4, 2.5f, 2.5f, 4, 1};
    nn_tensor *pts = nn_tensor_from(NN_F32, NN_SHAPE(3, 2), probe);
    nn_tensor *p = nn_predict(g, x, prob, pts, 3);
    if (!p) lab_check_graph(g);
    printf("\n  point           P(class 1)\n");
    for (int i = 0; i < 3; i++) printf("  (%4.1f, %4.1f)   %.4f\n", probe[2 * i], probe[2 * i + 1], nn_tensor_f32(p)[i]);

    nn_tensor_free(p);
    nn_tensor_free(pts);
    nn_tensor_free(logits);
    nn_optimizer_free(sgd);
    nn_graph_free(g);
    nn_dataset_free(d);
    nn_dataset_free(blobs);
    return 0;
}
