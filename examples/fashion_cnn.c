/* A small convolutional network on Fashion-MNIST: conv 3x3x32 relu,
 * max-pool 2x2, conv 3x3x64 relu, max-pool 2x2, dense 128 relu with
 * dropout 0.25, dense 10, trained with batch 32 (Keras's default). Images
 * are NCHW; the IDX loader gives rows of 784 pixels, which the graph
 * reshapes to [B, 1, 28, 28]. */
#include "fashion.h"

static nn_node *cnn(nn_graph *g, nn_node *x, nn_init relu_init) {
    int64_t image[4] = {0, 1, 28, 28};
    nn_node *h = nn_reshape(g, x, 4, image);
    h = nn_conv2d_ex(g, "conv1", h, 32, 3, 3, NN_RELU, NULL, relu_init, nn_init_zeros());
    h = nn_max_pool2d(g, "pool1", h, 2);
    h = nn_conv2d_ex(g, "conv2", h, 64, 3, 3, NN_RELU, NULL, relu_init, nn_init_zeros());
    h = nn_max_pool2d(g, "pool2", h, 2);
    h = nn_flatten(g, "flatten", h);
    h = nn_dense_init(g, "dense", h, 128, NN_RELU, relu_init, nn_init_zeros());
    h = nn_dropout(g, "dropout", h, 0.25f);
    return nn_dense(g, "logits", h, 10, NN_LINEAR);
}

int main(int argc, char **argv) {
    /* The recipe, chosen on a validation split (the last 6,000 training
     * images, --val-split 0.1; docs/training.md#a-recipe-fashion-mnist):
     * Keras's defaults (Adam 0.001, batch 32, glorot_uniform) plus two
     * standard additions, pixels standardized to mean 0 and deviation 1
     * (torchvision's Normalize) and the learning rate on a cosine to 0
     * over the epochs (PyTorch's CosineAnnealingLR). Over 5 epochs they
     * lift the held-out accuracy from 0.909 (constant lr, raw pixels) to
     * 0.920; He initialisation did not help (0.916). */
    fashion_opts o = {.dir = FASHION_DIR, .epochs = 5, .batch = 32, .optimizer = "adam", .lr = 0.001,
                      .schedule = "cosine", .standardize = 1, .init = "glorot_uniform", .seed = 1234};
    return fashion_main(argc, argv, o, "a small CNN (conv 32, pool, conv 64, pool, dense 128 + dropout, 10)",
                        "fashion_cnn", cnn);
}
