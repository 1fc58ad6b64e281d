/* Regression: fitting the parabola y = -(x-0.5)^2 + 0.25 on [0,1].
 *
 * A linear neuron can only draw a straight line; the best line through a
 * symmetric bump is flat at its mean, with a mean squared error of 1/180
 * (about 0.0056). Ten ReLU units build a piecewise-linear curve with up
 * to ten kinks, enough to follow the bump closely. */
#include "lab_plot.h"

#include <string.h>

/* Trains x -> [hidden relu units] -> linear output on MSE; returns the
 * model's predictions for d->x (caller frees). With a picture path, draws
 * the fitted curve over the data there. */
static nn_tensor *fit_model(const nn_dataset *d, int hidden, const char *picture) {
    nn_graph *g = nn_graph_new(5);
    nn_node *x = nn_input(g, "x", NN_F32, NN_SHAPE(NN_BATCH, 1));
    nn_node *y = nn_input(g, "y", NN_F32, NN_SHAPE(NN_BATCH, 1));
    nn_node *h = hidden ? nn_dense(g, "hidden", x, hidden, NN_RELU) : x;
    nn_node *out = nn_dense(g, "out", h, 1, NN_LINEAR);
    nn_node *loss = nn_mse(g, out, y);
    lab_check_graph(g);
    nn_optimizer *adam = nn_adam(0.01f);
    /* 101 points: every step sees them all (full-batch), which suits a
     * smooth fit better than noisy minibatches */
    nn_fit_opts opts = {.epochs = 1000, .batch_size = (int)nn_dataset_size(d), .optimizer = adam, .x = x, .y = y};
    if (nn_fit(g, loss, d, &opts, NULL) != NN_OK) lab_check_graph(g);
    nn_tensor *pred = nn_predict(g, x, out, d->x, 128);
    if (!pred) lab_check_graph(g);
    if (picture) {
        nn_plot_model m = {g, x, out};
        char title[64];
        snprintf(title, sizeof title, hidden ? "%d ReLU units fitted to the parabola" : "A linear neuron fitted to the parabola",
                 hidden);
        nn_plot_opts o = {.title = title};
        lab_plot_done(nn_plot_regression(picture, &o, &m, d->x, d->y, NULL), picture);
    }
    nn_optimizer_free(adam);
    nn_graph_free(g);
    return pred;
}

static double mse(const nn_tensor *pred, const nn_tensor *target) {
    double s = 0;
    int64_t n = nn_tensor_size(target);
    for (int64_t i = 0; i < n; i++) {
        double e = (double)nn_tensor_f32(pred)[i] - nn_tensor_f32(target)[i];
        s += e * e;
    }
    return s / (double)n;
}

int main(int argc, char **argv) {
    const char *plot_dir = lab_plot_only_args(argc, argv,
                                              "Fits a parabola with a linear neuron and with 10 ReLU units.\n"
                                              "--plot DIR also draws both fitted curves over the data\n"
                                              "(regression-linear.svg, regression-relu.svg).\n");
    nn_dataset *d = nn_make_parabola(101);
    lab_check(d != NULL, "make_parabola");
    char line_svg[4096], relu_svg[4096];
    if (plot_dir) {
        lab_plot_path(line_svg, sizeof line_svg, plot_dir, "regression-linear.svg");
        lab_plot_path(relu_svg, sizeof relu_svg, plot_dir, "regression-relu.svg");
    }
    nn_tensor *line = fit_model(d, 0, plot_dir ? line_svg : NULL);
    nn_tensor *relu = fit_model(d, 10, plot_dir ? relu_svg : NULL);

    printf("     x   target   linear   10 relu\n");
    for (int64_t i = 0; i <= 100; i += 10)
        printf("  %4.2f  %7.4f  %7.4f  %7.4f\n", nn_tensor_f32(d->x)[i], nn_tensor_f32(d->y)[i],
               nn_tensor_f32(line)[i], nn_tensor_f32(relu)[i]);
    printf("\nlinear neuron:     MSE %.6f\n", mse(line, d->y));
    printf("10 ReLU units:     MSE %.6f\n", mse(relu, d->y));

    nn_tensor_free(line);
    nn_tensor_free(relu);
    nn_dataset_free(d);
    return 0;
}
