/* A multilayer perceptron on Fashion-MNIST: dense 256 relu, dropout 0.2,
 * dense 128 relu, dropout 0.2, dense 10. */
#include "fashion.h"

int main(int argc, char **argv) {
    fashion_opts o = {.dir = FASHION_DIR, .epochs = 15, .batch = 64, .seed = 1234};
    int rc = fashion_args(argc, argv, &o, "an MLP (dense 256, dropout, dense 128, dropout, 10)");
    if (rc) return rc - 1;
    nn_graph *g = nn_graph_new(o.seed);
    if (o.threads) nn_graph_set_threads(g, o.threads);
    nn_node *x = nn_input(g, "x", NN_F32, NN_SHAPE(NN_BATCH, 784));
    nn_node *y = nn_input(g, "y", NN_I32, NN_SHAPE(NN_BATCH));
    nn_node *h = nn_dense(g, "dense1", x, 256, NN_RELU);
    h = nn_dropout(g, "dropout1", h, 0.2f);
    h = nn_dense(g, "dense2", h, 128, NN_RELU);
    h = nn_dropout(g, "dropout2", h, 0.2f);
    nn_node *logits = nn_dense(g, "logits", h, 10, NN_LINEAR);
    nn_node *loss = nn_softmax_cross_entropy(g, logits, y);
    lab_check_graph(g);
    rc = fashion_train(g, x, y, logits, loss, &o, "fashion_mlp");
    nn_graph_free(g);
    return rc;
}
