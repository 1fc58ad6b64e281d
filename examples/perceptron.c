/* The perceptron: Rosenblatt's learning rule on two separable blobs.
 *
 * The neuron outputs step(x . w + b), 1 or 0. The step has no useful
 * gradient, so there is no loss to descend: after each misclassified point
 * the rule moves the weights towards it (w += lr * (target - output) * x),
 * and stops once an epoch makes no mistake. The graph computes only the
 * forward pass; the update is written out by hand on the parameters. */
#include "lab.h"

#include <string.h>

int main(int argc, char **argv) {
    if (argc > 1) {
        int help = !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h");
        fprintf(help ? stdout : stderr, "usage: %s\nTrains a perceptron on two blobs with the perceptron rule.\n",
                argv[0]);
        return help ? 0 : 2;
    }
    /* two blobs, far enough apart to be separable by a line (not one
     * through the origin: the bias has work to do) */
    const float centres[2 * 2] = {1, 3, 4, 2};
    nn_dataset *d = nn_make_blobs(centres, 2, 2, 100, 0.7f, 5);
    lab_check(d != NULL, "make_blobs");
    int64_t n = nn_dataset_size(d);

    nn_graph *g = nn_graph_new(1);
    nn_node *x = nn_input(g, "x", NN_F32, NN_SHAPE(NN_BATCH, 2));
    nn_node *w = nn_param(g, "w", NN_SHAPE(2, 1), nn_init_zeros());
    nn_node *b = nn_param(g, "b", NN_SHAPE(1), nn_init_zeros());
    nn_node *out = nn_step(g, nn_add(g, nn_matmul(g, x, w), b));
    lab_check_graph(g);
    float *wv = nn_tensor_f32(nn_param_value(w)), *bv = nn_tensor_f32(nn_param_value(b));
    const float lr = 0.1f;

    nn_tensor *row = nn_tensor_new(NN_F32, NN_SHAPE(1, 2));
    lab_check(row != NULL, "tensor");
    int epoch, max_epochs = 100;
    for (epoch = 1; epoch <= max_epochs; epoch++) {
        int mistakes = 0;
        for (int64_t i = 0; i < n; i++) {
            lab_check(nn_gather_rows(d->x, &i, 1, row) == NN_OK, "row");
            if (nn_set_input(g, x, row) != NN_OK || nn_run(g, &out, 1) != NN_OK) lab_check_graph(g);
            float o = nn_value_scalar(out), t = (float)nn_tensor_i32(d->y)[i];
            if (o == t) continue;
            /* the rule: nudge the boundary so that this point moves to its side */
            const float *p = nn_tensor_f32(row);
            wv[0] += lr * (t - o) * p[0];
            wv[1] += lr * (t - o) * p[1];
            bv[0] += lr * (t - o);
            mistakes++;
        }
        printf("epoch %2d: %d mistakes\n", epoch, mistakes);
        if (mistakes == 0) break;
    }

    /* the whole set in one batch with the final weights */
    if (nn_set_input(g, x, d->x) != NN_OK || nn_run(g, &out, 1) != NN_OK) lab_check_graph(g);
    int64_t right = 0;
    for (int64_t i = 0; i < n; i++) right += nn_tensor_f32(nn_value(out))[i] == (float)nn_tensor_i32(d->y)[i];
    printf("\n%s after %d epochs; accuracy %.4f\n", epoch <= max_epochs ? "converged" : "not converged",
           epoch <= max_epochs ? epoch : max_epochs, (double)right / (double)n);
    printf("weights w = (%.4f, %.4f), bias b = %.4f\n", wv[0], wv[1], bv[0]);
    if (wv[1] != 0)
        printf("decision boundary: x2 = %.4f * x1 %+.4f\n", -wv[0] / wv[1], -bv[0] / wv[1]);

    nn_tensor_free(row);
    nn_graph_free(g);
    nn_dataset_free(d);
    return 0;
}
