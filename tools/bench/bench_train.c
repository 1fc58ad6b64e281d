/* Training benchmarks (a) and (b) of docs/performance.md: a network built
 * from core ops, trained with Adam on random data of the benchmark's
 * shape, timed over the training loop only. Prints one line of key=value
 * pairs for tools/bench.sh.
 *
 *   bench_train --net digits|mlp [--threads N] [--epochs E] [--samples S]
 *
 * digits: 400-25-15-10, batch 32, Adam 1e-3, 40 epochs over 5,000 samples.
 * mlp:    784-512-512-10, batch 128, Adam 1e-3, 1 epoch over 60,000. */
#include "bench_util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
    const char *net = "digits";
    for (int i = 1; i + 1 < argc; i++)
        if (strcmp(argv[i], "--net") == 0) net = argv[i + 1];
    if (argc > 1 && strcmp(argv[1], "--help") == 0) {
        printf("usage: %s --net digits|mlp [--threads N] [--epochs E] [--samples S]\n", argv[0]);
        return 0;
    }
    static const int digits[] = {400, 25, 15, 10}, mlp[] = {784, 512, 512, 10};
    int is_digits = strcmp(net, "digits") == 0;
    if (!is_digits && strcmp(net, "mlp") != 0) {
        fprintf(stderr, "%s: --net wants digits or mlp, got '%s'\n", argv[0], net);
        return 2;
    }
    const int *dims = is_digits ? digits : mlp;
    int threads = (int)bench_arg_long(argc, argv, "--threads", 1);
    int epochs = (int)bench_arg_long(argc, argv, "--epochs", is_digits ? 40 : 1);
    int64_t samples = bench_arg_long(argc, argv, "--samples", is_digits ? 5000 : 60000);
    int batch = (int)bench_arg_long(argc, argv, "--batch", is_digits ? 32 : 128);
    if (threads < 1 || samples < 1 || batch < 1) {
        fprintf(stderr, "%s: threads, samples and batch must be positive\n", argv[0]);
        return 2;
    }

    /* random inputs in [0,1) like pixel intensities, random labels */
    nn_rng rng;
    nn_rng_seed(&rng, 2024);
    nn_tensor *x = nn_tensor_new(NN_F32, NN_SHAPE(samples, dims[0]));
    nn_tensor *y = nn_tensor_new(NN_I32, NN_SHAPE(samples));
    if (!x || !y) {
        fprintf(stderr, "%s: out of memory for the data\n", argv[0]);
        return 1;
    }
    for (int64_t i = 0; i < nn_tensor_size(x); i++) nn_tensor_f32(x)[i] = (float)nn_rng_uniform(&rng);
    for (int64_t i = 0; i < samples; i++) nn_tensor_i32(y)[i] = (int32_t)nn_rng_below(&rng, (uint64_t)dims[3]);

    bench_mlp m;
    bench_adam adam;
    if (bench_mlp_build(&m, dims, 3, 1234, threads) || bench_adam_init(&adam, &m, 1e-3f)) return 1;
    int64_t steps = 0;
    double first = NAN, last = NAN, t0 = bench_now();
    for (int e = 0; e < epochs; e++) {
        last = bench_train_epoch(&m, &adam, x, y, batch, &rng, &steps);
        if (isnan(last)) return 1;
        if (e == 0) first = last;
    }
    double secs = bench_now() - t0;
    printf("impl=nngraph net=%s threads=%d epochs=%d samples=%lld batch=%d seconds=%.4f steps=%lld "
           "us_per_step=%.2f samples_per_s=%.0f first_loss=%.4f last_loss=%.4f peak_rss_kib=%ld\n",
           net, threads, epochs, (long long)samples, batch, secs, (long long)steps, 1e6 * secs / (double)steps,
           (double)samples * epochs / secs, first, last, bench_peak_rss_kib());
    bench_adam_free(&adam, &m);
    nn_graph_free(m.g);
    nn_tensor_free(x);
    nn_tensor_free(y);
    return 0;
}
