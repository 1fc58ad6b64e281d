/* The handwritten-digits assignment: a 400-25-15-10 network (relu, relu,
 * linear) trained with Adam on 5,000 real 20x20 MNIST digits.
 *
 * Prints the model summary, the progress of every epoch (on stderr), the
 * training errors out of 5,000, and the logits and probabilities of one
 * image. With --test IMAGES LABELS (or --holdout F) it also reports the
 * accuracy on data the network never trained on. */
#include "lab_plot.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <time.h>

#ifndef NN_EXAMPLES_DATA
#define NN_EXAMPLES_DATA "examples/data"
#endif

typedef struct options {
    const char *train_images, *train_labels;
    const char *test_images, *test_labels;
    const char *graph_file, *weights_file; /* --graph, --weights: for the nngraph command */
    const char *db;                        /* --db: the SQLite run log */
    const char *plot_dir;                  /* --plot: where the pictures go */
    const char *experiment;                /* --experiment: the run's group in --db */
    double holdout;
    int epochs, threads, image;
    uint64_t seed;
} options;

static void usage(FILE *out, const char *prog) {
    fprintf(out,
            "usage: %s [options]\n"
            "Trains a 400-25-15-10 network (relu, relu, linear; Adam 0.001, batch 32)\n"
            "on handwritten digits in IDX files and reports its errors.\n\n"
            "  --train IMAGES LABELS  training data (default: the shipped 5,000 digits in\n"
            "                         " NN_EXAMPLES_DATA ")\n"
            "  --test IMAGES LABELS   also report the accuracy on this data\n"
            "  --holdout F            hold out a fraction F (0 < F < 1) of the training\n"
            "                         data, shuffled, and report the accuracy on it\n"
            "  --epochs N             passes over the training data (default 40)\n"
            "  --threads N            worker threads (default: the machine's cores)\n"
            "  --seed N               seed of the weights and shuffles (default 1234)\n"
            "  --image K              which training image to show (default 0)\n"
            "  --graph FILE           write the network as a graph file (.nng) for the\n"
            "                         nngraph command: nngraph dot FILE -o digits.svg\n"
            "  --weights FILE         write the trained weights (for nngraph predict)\n"
            "  --db FILE              log the run (hyperparameters, metrics, weights every\n"
            "                         epoch) to this SQLite file: nngraph runs FILE;\n"
            "                         Ctrl-C then checkpoints, marks the run interrupted\n"
            "                         and exits 130\n"
            "  --experiment NAME      the experiment the --db run belongs to\n"
            "  --plot DIR             draw the curves, the first layer's 25 filters and\n"
            "                         the confusion matrix (digits-*.svg) into DIR\n"
            "  --help                 this text\n",
            prog);
}

/* Parses a whole integer argument in [lo, hi]; -1 (and a message) if not. */
static int parse_int(const char *prog, const char *opt, const char *s, long lo, long hi, long *out) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi) {
        fprintf(stderr, "%s: %s wants an integer from %ld to %ld, got '%s'\n", prog, opt, lo, hi, s);
        return -1;
    }
    *out = v;
    return 0;
}

/* Fills o from argv; returns 0, or the exit code (0 after --help, 2 on a
 * usage error) plus one. */
static int parse_args(int argc, char **argv, options *o) {
    const char *prog = argv[0];
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int left = argc - i - 1;
        long v;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout, prog);
            return 1;
        } else if (lab_plot_arg(argc, argv, &i, &o->plot_dir)) {
            continue;
        } else if (!strcmp(a, "--train") || !strcmp(a, "--test")) {
            if (left < 2) {
                fprintf(stderr, "%s: %s needs two paths: IMAGES LABELS\n", prog, a);
                return 3;
            }
            if (!strcmp(a, "--train")) o->train_images = argv[i + 1], o->train_labels = argv[i + 2];
            else o->test_images = argv[i + 1], o->test_labels = argv[i + 2];
            i += 2;
        } else if (!strcmp(a, "--graph") || !strcmp(a, "--weights") || !strcmp(a, "--db") ||
                   !strcmp(a, "--experiment")) {
            if (left < 1) {
                fprintf(stderr, "%s: %s needs a path\n", prog, a);
                return 3;
            }
            if (!strcmp(a, "--graph")) o->graph_file = argv[++i];
            else if (!strcmp(a, "--db")) o->db = argv[++i];
            else if (!strcmp(a, "--experiment")) o->experiment = argv[++i];
            else o->weights_file = argv[++i];
        } else if (!strcmp(a, "--holdout")) {
            char *end = NULL;
            if (left >= 1) o->holdout = strtod(argv[i + 1], &end);
            if (left < 1 || end == argv[i + 1] || *end || !(o->holdout > 0 && o->holdout < 1)) {
                fprintf(stderr, "%s: --holdout wants a fraction between 0 and 1\n", prog);
                return 3;
            }
            i++;
        } else if (!strcmp(a, "--epochs") || !strcmp(a, "--threads") || !strcmp(a, "--seed") ||
                   !strcmp(a, "--image")) {
            if (left < 1) {
                fprintf(stderr, "%s: %s needs a value\n", prog, a);
                return 3;
            }
            int is_epochs = !strcmp(a, "--epochs"), is_threads = !strcmp(a, "--threads");
            long lo = is_epochs || is_threads ? 1 : 0, hi = is_threads ? 1024 : 2147483647L;
            if (parse_int(prog, a, argv[++i], lo, hi, &v)) return 3;
            if (is_epochs) o->epochs = (int)v;
            else if (is_threads) o->threads = (int)v;
            else if (!strcmp(a, "--seed")) o->seed = (uint64_t)v;
            else o->image = (int)v;
        } else {
            fprintf(stderr, "%s: unknown argument '%s' (try --help)\n", prog, a);
            return 3;
        }
    }
    if (o->holdout > 0 && o->test_images) {
        fprintf(stderr, "%s: give --test or --holdout, not both\n", prog);
        return 3;
    }
    return 0;
}

/* Set by Ctrl-C while a logged run trains: the run log then writes a
 * checkpoint and marks the run interrupted instead of losing it. */
static volatile sig_atomic_t interrupted;
static void on_sigint(int sig) {
    (void)sig;
    interrupted = 1;
}

/* Errors of the network on d, by argmax of the logits. */
static int64_t count_errors(nn_graph *g, nn_node *x, nn_node *logits, const nn_dataset *d) {
    nn_tensor *scores = nn_predict(g, x, logits, d->x, 256);
    if (!scores) lab_check_graph(g);
    int64_t errors = nn_count_errors(scores, d->y);
    nn_tensor_free(scores);
    return errors;
}

/* Draws a square grey-scale image in characters, darker for more ink. */
static void draw_image(const float *px, int side) {
    static const char ramp[] = " .:-=+*#%@";
    for (int r = 0; r < side; r++) {
        printf("    ");
        for (int c = 0; c < side; c++) {
            int level = (int)(px[r * side + c] * 9.0f + 0.5f);
            putchar(ramp[level < 0 ? 0 : level > 9 ? 9 : level]);
            putchar(ramp[level < 0 ? 0 : level > 9 ? 9 : level]);
        }
        putchar('\n');
    }
}

/* The logits, the softmax probabilities and the verdict for one image. */
static void show_image(nn_graph *g, nn_node *x, nn_node *logits, const nn_dataset *d, int k) {
    int64_t features = nn_tensor_shape(d->x).dim[1];
    nn_tensor *one = nn_tensor_new(NN_F32, NN_SHAPE(1, features));
    int64_t idx = k;
    lab_check(one && nn_gather_rows(d->x, &idx, 1, one) == NN_OK, "image");
    nn_tensor *z = nn_predict(g, x, logits, one, 1);
    if (!z) lab_check_graph(g);
    nn_tensor *p = nn_probabilities(z);
    nn_tensor *cls = nn_argmax(z);
    lab_check(p && cls, "probabilities");
    printf("\nimage %d (label %d):\n", k, nn_tensor_i32(d->y)[k]);
    int side = 0;
    while ((int64_t)(side + 1) * (side + 1) <= features) side++;
    if ((int64_t)side * side == features) draw_image(nn_tensor_f32(one), side);
    printf("  class   logit    probability\n");
    for (int c = 0; c < nn_tensor_shape(z).dim[1]; c++)
        printf("  %5d %8.3f    %.6f\n", c, nn_tensor_f32(z)[c], nn_tensor_f32(p)[c]);
    printf("  predicted: %d (probability %.4f)\n", nn_tensor_i32(cls)[0],
           nn_tensor_f32(p)[nn_tensor_i32(cls)[0]]);
    nn_tensor_free(cls);
    nn_tensor_free(p);
    nn_tensor_free(z);
    nn_tensor_free(one);
}

/* --plot DIR: the curves, the first layer's filters and the confusion
 * matrix on the test set (the training set without one). */
static void plot_digits(const options *o, nn_graph *g, nn_node *x, nn_node *logits, const nn_dataset *d,
                        const lab_history *h) {
    char path[4096];
    lab_plot_path(path, sizeof path, o->plot_dir, "digits-curves.svg");
    lab_plot_done(lab_plot_history(path, h, "Digits 400-25-15-10: training curves"), path);
    int64_t pixels = nn_tensor_shape(d->x).dim[1];
    int side = 1;
    while ((int64_t)(side + 1) * (side + 1) <= pixels) side++;
    lab_plot_path(path, sizeof path, o->plot_dir, "digits-weights.svg");
    if ((int64_t)side * side == pixels)
        lab_plot_done(nn_plot_weights(path, NULL, nn_param_value(nn_graph_find(g, "L1/W")), side, side, "L1/W"), path);
    nn_tensor *scores = nn_predict(g, x, logits, d->x, 256);
    if (!scores) lab_check_graph(g);
    int64_t counts[10 * 10];
    lab_check(nn_plot_confusion_counts(scores, d->y, counts, 10) == NN_OK, "confusion");
    lab_plot_path(path, sizeof path, o->plot_dir, "digits-confusion.svg");
    nn_plot_opts co = {.title = NULL};
    lab_plot_done(nn_plot_confusion(path, &co, counts, 10), path);
    nn_tensor_free(scores);
}

int main(int argc, char **argv) {
    options o = {.train_images = NN_EXAMPLES_DATA "/digits20-train-images.idx3-ubyte.gz",
                 .train_labels = NN_EXAMPLES_DATA "/digits20-train-labels.idx1-ubyte.gz",
                 .epochs = 40, .seed = 1234};
    int rc = parse_args(argc, argv, &o);
    if (rc) return rc - 1;

    nn_dataset *train = nn_load_idx_pair(o.train_images, o.train_labels);
    lab_check(train != NULL, "training data");
    nn_dataset *test = NULL;
    if (o.test_images) {
        test = nn_load_idx_pair(o.test_images, o.test_labels);
        lab_check(test != NULL, "test data");
    } else if (o.holdout > 0) {
        nn_dataset *all = train;
        lab_check(nn_dataset_split(all, o.holdout, o.seed, &train, &test) == NN_OK, "--holdout");
        nn_dataset_free(all);
    }
    int64_t n = nn_dataset_size(train), features = nn_tensor_shape(train->x).dim[1];
    if (test && nn_tensor_shape(test->x).dim[1] != features) {
        fprintf(stderr, "error: test images have %" PRId64 " pixels, training images %" PRId64 "\n",
                nn_tensor_shape(test->x).dim[1], features);
        return 1;
    }
    if (o.image >= n) {
        fprintf(stderr, "error: --image %d: the training data has %" PRId64 " images\n", o.image, n);
        return 2;
    }

    nn_graph *g = nn_graph_new(o.seed);
    if (o.threads) nn_graph_set_threads(g, o.threads);
    nn_node *x = nn_input(g, "x", NN_F32, NN_SHAPE(NN_BATCH, features));
    nn_node *y = nn_input(g, "y", NN_I32, NN_SHAPE(NN_BATCH));
    nn_node *h = nn_dense(g, "L1", x, 25, NN_RELU);
    h = nn_dense(g, "L2", h, 15, NN_RELU);
    nn_node *logits = nn_dense(g, "L3", h, 10, NN_LINEAR);
    nn_node *loss = nn_softmax_cross_entropy(g, logits, y);
    lab_check_graph(g);
    /* the forward graph only: nn_fit adds the gradient nodes later */
    if (o.graph_file && nn_graph_save(g, o.graph_file) != NN_OK) {
        fprintf(stderr, "error: %s\n", nn_last_error());
        return 1;
    }
    nn_summary(g, stdout);
    fflush(stdout); /* the summary before the progress on stderr */

    nn_optimizer *adam = nn_adam(0.001f);
    nn_fit_opts opts = {.epochs = o.epochs, .batch_size = 32, .optimizer = adam, .x = x, .y = y,
                        .verbose = 1, .shuffle_seed = o.seed};
    lab_history history = {0};
    if (o.plot_dir) opts.on_epoch = lab_history_epoch, opts.user = &history;
    nn_fit_result fit;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (o.db) {
        signal(SIGINT, on_sigint);
        nn_runlog_fit_opts log = {.path = o.db, .run_name = "digits", .experiment = o.experiment, .seed = o.seed,
                                  .stop = &interrupted};
        nn_status st = nn_fit_logged(g, loss, train, &opts, &log, &fit);
        if (st == NN_ERR_INTERRUPTED) {
            fprintf(stderr, "\ninterrupted: checkpoint written to %s (nngraph runs %s)\n", o.db, o.db);
            return 130;
        }
        if (st != NN_OK) {
            fprintf(stderr, "error: %s\n", nn_graph_status(g) ? nn_error_message(g) : nn_last_error());
            return 1;
        }
    } else if (nn_fit(g, loss, train, &opts, &fit) != NN_OK) {
        lab_check_graph(g);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    int status = 0; /* a failed write still shows the results, then exits 1 */
    if (o.weights_file && nn_weights_save(g, o.weights_file) != NN_OK) {
        fprintf(stderr, "error: %s\n", nn_last_error());
        status = 1;
    }
    double seconds = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);

    printf("\ntrained %d epochs (%" PRId64 " steps) in %.2f s\n", fit.epochs_run, fit.steps, seconds);
    printf("training errors: %" PRId64 " out of %" PRId64 "\n", count_errors(g, x, logits, train), n);
    if (test) {
        int64_t errors = count_errors(g, x, logits, test), m = nn_dataset_size(test);
        printf("test errors: %" PRId64 " out of %" PRId64 "\n", errors, m);
        printf("test accuracy: %.4f\n", 1.0 - (double)errors / (double)m);
    }
    show_image(g, x, logits, train, o.image);
    if (o.plot_dir) plot_digits(&o, g, x, logits, test ? test : train, &history);
    lab_history_free(&history);

    nn_optimizer_free(adam);
    nn_graph_free(g);
    nn_dataset_free(train);
    nn_dataset_free(test);
    if (fflush(stdout) != 0) status = 1;
    return status;
}
