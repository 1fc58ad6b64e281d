/* Training benchmarks (a) and (b) of docs/performance.md: a network built
 * from core ops, trained with Adam (nn_optimizer) and timed over the
 * training loop only. Prints one line of key=value pairs for
 * tools/bench.sh.
 *
 *   bench_train --net digits|fashion|mlp [--threads N] [--epochs E] [--samples S]
 *               [--width W] [--batch B] [--loop core|fit] [--data DIR | --data random]
 *
 * digits: 400-25-15-10, batch 32, Adam 1e-3, 40 epochs over the 5,000
 *         digits of DIR/digits20-train-*.gz (default examples/data), or
 *         random data of that shape with --data random.
 * fashion: 784-256-128-10, batch 64, Adam 1e-3, 1 epoch over the 60,000
 *         Fashion-MNIST training images of DIR/train-*-idx*-ubyte.gz
 *         (default /usr/share/datasets/fashion-mnist, Debian's
 *         dataset-fashion-mnist).
 * mlp:    784-W-W-10 (--width, default 512), batch 128, Adam 1e-3, 1 epoch
 *         over 60,000 random samples.
 * Random data: inputs uniform in [0,1) like pixel intensities, labels
 * argmax((x - 0.5) T) of a random linear teacher T, so there is something
 * to learn (torch_train.py makes its data the same way).
 * --loop core (default) is the loop a user writes with the core API:
 * nn_gather_rows, nn_run of the loss and all gradients, nn_optimizer_step;
 * --loop fit trains through nn_fit instead (quiet). */
#include "bench_util.h"
#include "plan.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static nn_dataset *random_data(int64_t samples, int features, int classes) {
    nn_rng rng;
    nn_rng_seed(&rng, 2024);
    nn_tensor *x = nn_tensor_new(NN_F32, NN_SHAPE(samples, features));
    nn_tensor *y = nn_tensor_new(NN_I32, NN_SHAPE(samples));
    float *teacher = malloc((size_t)features * classes * sizeof *teacher);
    if (!x || !y || !teacher || classes > 16) {
        nn_tensor_free(x);
        nn_tensor_free(y);
        free(teacher);
        return NULL;
    }
    for (int64_t i = 0; i < nn_tensor_size(x); i++) nn_tensor_f32(x)[i] = (float)nn_rng_uniform(&rng);
    for (int i = 0; i < features * classes; i++) teacher[i] = (float)nn_rng_normal(&rng);
    for (int64_t i = 0; i < samples; i++) {
        float score[16] = {0};
        const float *xi = nn_tensor_f32(x) + i * features;
        for (int k = 0; k < features; k++)
            for (int c = 0; c < classes; c++) score[c] += (xi[k] - 0.5f) * teacher[k * classes + c];
        int best = 0;
        for (int c = 1; c < classes; c++) best = score[c] > score[best] ? c : best;
        nn_tensor_i32(y)[i] = best;
    }
    free(teacher);
    return nn_dataset_new(x, y);
}

int main(int argc, char **argv) {
    if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        printf("usage: %s --net digits|mlp [--threads N] [--epochs E] [--samples S] [--loop core|fit]\n"
               "       [--width W] [--batch B] [--data DIR|random]\n",
               argv[0]);
        return 0;
    }
    const char *net = bench_arg_str(argc, argv, "--net", "digits");
    const char *loop = bench_arg_str(argc, argv, "--loop", "core");
    int is_digits = strcmp(net, "digits") == 0, is_fashion = strcmp(net, "fashion") == 0;
    int use_fit = strcmp(loop, "fit") == 0;
    if (!is_digits && !is_fashion && strcmp(net, "mlp") != 0) {
        fprintf(stderr, "%s: --net wants digits, fashion or mlp, got '%s'\n", argv[0], net);
        return 2;
    }
    if (!use_fit && strcmp(loop, "core") != 0) {
        fprintf(stderr, "%s: --loop wants core or fit, got '%s'\n", argv[0], loop);
        return 2;
    }
    int width = (int)bench_arg_long(argc, argv, "--width", 512);
    const int digits[] = {400, 25, 15, 10}, fashion[] = {784, 256, 128, 10}, mlp[] = {784, width, width, 10};
    const int *dims = is_digits ? digits : is_fashion ? fashion : mlp;
    int threads = (int)bench_arg_long(argc, argv, "--threads", 1);
    int epochs = (int)bench_arg_long(argc, argv, "--epochs", is_digits ? 40 : 1);
    int64_t samples = bench_arg_long(argc, argv, "--samples", is_digits ? 5000 : 60000);
    int batch = (int)bench_arg_long(argc, argv, "--batch", is_digits ? 32 : is_fashion ? 64 : 128);
    const char *data = bench_arg_str(argc, argv, "--data",
                                     is_digits ? "examples/data" : is_fashion ? "/usr/share/datasets/fashion-mnist" : "random");
    if (threads < 1 || samples < 1 || batch < 1 || width < 1) {
        fprintf(stderr, "%s: threads, samples, width and batch must be positive\n", argv[0]);
        return 2;
    }

    nn_dataset *set;
    if (strcmp(data, "random") == 0) {
        set = random_data(samples, dims[0], dims[3]);
    } else {
        char img[1024], lab[1024];
        const char *stem = is_fashion ? "train" : "digits20-train";
        snprintf(img, sizeof img, "%s/%s-images%sidx3-ubyte.gz", data, stem, is_fashion ? "-" : ".");
        snprintf(lab, sizeof lab, "%s/%s-labels%sidx1-ubyte.gz", data, stem, is_fashion ? "-" : ".");
        set = nn_load_idx_pair(img, lab);
        if (set && nn_tensor_shape(set->x).dim[1] != dims[0]) {
            fprintf(stderr, "%s: %s has %lld features, the network wants %d\n", argv[0], img,
                    (long long)nn_tensor_shape(set->x).dim[1], dims[0]);
            return 1;
        }
        if (set) samples = nn_dataset_size(set);
    }
    if (!set) {
        fprintf(stderr, "%s: no data: %s\n", argv[0], nn_last_error());
        return 1;
    }

    bench_mlp m;
    if (bench_mlp_build(&m, dims, 3, 1234, threads, !use_fit)) return 1;
    nn_optimizer *opt = nn_adam(1e-3f);
    if (!opt || (!use_fit && nn_optimizer_attach(opt, m.params, m.n_params) != NN_OK)) {
        fprintf(stderr, "%s: optimizer: %s\n", argv[0], nn_last_error());
        return 1;
    }
    int64_t steps = 0;
    double first = NAN, last = NAN, t0 = bench_now(), c0 = bench_cpu_now();
    if (use_fit) {
        nn_fit_result res;
        nn_fit_opts fo = {.epochs = epochs, .batch_size = batch, .optimizer = opt, .x = m.x, .y = m.y,
                          .shuffle_seed = 7};
        if (nn_fit(m.g, m.loss, set, &fo, &res) != NN_OK) {
            fprintf(stderr, "%s: fit: %s\n", argv[0], nn_error_message(m.g));
            return 1;
        }
        steps = res.steps;
        last = res.loss;
    } else {
        nn_rng rng;
        nn_rng_seed(&rng, 7);
        for (int e = 0; e < epochs; e++) {
            last = bench_train_epoch(&m, opt, set->x, set->y, batch, &rng, &steps);
            if (isnan(last)) return 1;
            if (e == 0) first = last;
        }
    }
    double secs = bench_now() - t0, cpu_secs = bench_cpu_now() - c0;
    /* the training step's plan at the full batch size (core loop only:
     * nn_fit makes its own gradient nodes) */
    nn_plan_info plan = {0};
    if (!use_fit) nn_plan_stats(m.g, m.outs, m.n_params + 1, batch, &plan);
    printf("impl=nngraph net=%s width=%d loop=%s data=%s threads=%d epochs=%d samples=%lld batch=%d seconds=%.4f "
           "cpu_seconds=%.4f steps=%lld us_per_step=%.2f samples_per_s=%.0f first_loss=%.4f last_loss=%.4f peak_rss_kib=%ld",
           net, dims[1], loop, strcmp(data, "random") ? (is_fashion ? "fashion" : "digits20") : "random", threads, epochs, (long long)samples, batch,
           secs, cpu_secs, (long long)steps, 1e6 * secs / (double)steps, (double)samples * epochs / secs, first, last,
           bench_peak_rss_kib());
    if (!use_fit)
        printf(" plan_steps=%d plan_fused=%d plan_inplace=%d arena_bytes=%zu naive_bytes=%zu runs_one=%lld runs_all=%lld "
               "plan_us_one=%.1f plan_us_all=%.1f",
               plan.steps, plan.fused, plan.inplace, plan.arena_bytes, plan.naive_bytes, (long long)plan.runs_one,
               (long long)plan.runs_all, 1e6 * plan.time_one, 1e6 * plan.time_all);
    printf("\n");
    nn_optimizer_free(opt);
    nn_graph_free(m.g);
    nn_dataset_free(set);
    return 0;
}
