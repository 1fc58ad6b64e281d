/* A multilayer perceptron on Fashion-MNIST: dense 256 relu, dropout 0.2,
 * dense 128 relu, dropout 0.2, dense 10. */
#include "fashion.h"

static nn_node *mlp(nn_graph *g, nn_node *x, nn_init relu_init) {
    nn_node *h = nn_dense_init(g, "dense1", x, 256, NN_RELU, relu_init, nn_init_zeros());
    h = nn_dropout(g, "dropout1", h, 0.2f);
    h = nn_dense_init(g, "dense2", h, 128, NN_RELU, relu_init, nn_init_zeros());
    h = nn_dropout(g, "dropout2", h, 0.2f);
    return nn_dense(g, "logits", h, 10, NN_LINEAR);
}

int main(int argc, char **argv) {
    /* The CNN's recipe (fashion_cnn.c; chosen on --val-split 0.1): Adam
     * 0.001 with the lr on a cosine to 0 and standardized pixels. Over 10
     * epochs it lifts the held-out accuracy from 0.881 (constant lr, raw
     * pixels) to 0.895; over 5 and 7 epochs it gave 0.884 and 0.889. */
    fashion_opts o = {.dir = FASHION_DIR, .epochs = 10, .batch = 64, .optimizer = "adam", .lr = 0.001,
                      .schedule = "cosine", .standardize = 1, .init = "glorot_uniform", .seed = 1234};
    return fashion_main(argc, argv, o, "an MLP (dense 256, dropout, dense 128, dropout, 10)", "fashion_mlp", mlp);
}
