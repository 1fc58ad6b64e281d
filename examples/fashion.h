/* What the two Fashion-MNIST examples share: options, the data (Debian's
 * dataset-fashion-mnist), training with Adam and optional run logging,
 * the test accuracy and the time. Each example builds its own network
 * from x [B, 784] and y [B] and hands over its logits and loss. */
#ifndef NN_FASHION_H
#define NN_FASHION_H

#include "lab.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <string.h>
#include <time.h>

#define FASHION_DIR "/usr/share/datasets/fashion-mnist"

typedef struct fashion_opts {
    const char *dir;        /* --data: the four IDX files */
    const char *db;         /* --db: the run log */
    const char *graph_file; /* --graph: the network as a graph file */
    int epochs, threads, batch;
    long limit;             /* --limit: train on the first N images only */
    int no_val;             /* --no-val: no validation pass each epoch */
    int bench;              /* --bench: also a key=value line for tools/bench */
    const char *schedule;   /* --lr-schedule: nn_lr_schedule_parse's form; NULL constant */
    const char *optimizer;  /* --optimizer: adam or adamw (nn_optimizer_from_name) */
    double lr;              /* --lr: the (peak) learning rate */
    double val_split;       /* --val-split: hold out this fraction of train for validation */
    int standardize;        /* --standardize / --no-standardize: pixels to mean 0, deviation 1 */
    const char *init;       /* --init: the relu layers' weight initialiser (nn_init_name) */
    uint64_t seed;
} fashion_opts;

static void fashion_usage(FILE *out, const char *prog, const char *what, const fashion_opts *o) {
    fprintf(out,
            "usage: %s [options]\n"
            "Trains %s\n"
            "on Fashion-MNIST (60,000 training and 10,000 test images of clothes, 10\n"
            "classes) and reports the test accuracy and the training time.\n\n"
            "  --data DIR          the IDX files (default " FASHION_DIR ",\n"
            "                      from Debian's dataset-fashion-mnist)\n"
            "  --epochs N          passes over the training data (default %d)\n"
            "  --batch N           batch size (default %d)\n"
            "  --optimizer NAME    adam or adamw (default %s)\n"
            "  --lr X              the (peak) learning rate (default %g)\n"
            "  --lr-schedule S     constant, cosine[:WARMUP[:MIN_LR]], step[:EPOCHS[:GAMMA]],\n"
            "                      exponential[:GAMMA] or plateau[:PATIENCE[:FACTOR[:MIN_LR]]],\n"
            "                      set at the start of each epoch (default %s)\n"
            "  --cosine            the same as --lr-schedule cosine\n"
            "  --standardize / --no-standardize\n"
            "                      shift and scale the pixels in the graph to the training\n"
            "                      images' mean 0 and deviation 1, or feed them as 0..1\n"
            "                      (default: %s)\n"
            "  --init NAME         the relu layers' weights: glorot_uniform, he_normal,\n"
            "                      he_uniform, glorot_normal or lecun_normal (default\n"
            "                      %s; the logits layer keeps glorot_uniform)\n"
            "  --val-split F       validate on the last fraction F of the training images\n"
            "                      (Keras's validation_split; for choosing a recipe) instead\n"
            "                      of on the test images; the test accuracy is then measured\n"
            "                      once, at the end\n"
            "  --no-val            no validation pass after every epoch\n"
            "  --limit N           train on the first N images only (a quick look)\n"
            "  --bench             also print a key=value line (tools/bench/fashion.sh)\n"
            "  --threads N         worker threads (default: the machine's cores)\n"
            "  --seed N            seed of the weights, shuffles and dropout (default %llu)\n"
            "  --graph FILE        write the network as a graph file: nngraph dot FILE -o net.svg\n"
            "  --db FILE           log the run to this SQLite run log: nngraph runs FILE\n"
            "  --help              this text\n",
            prog, what, o->epochs, o->batch, o->optimizer, o->lr, o->schedule ? o->schedule : "constant",
            o->standardize ? "standardize" : "0..1", o->init, (unsigned long long)o->seed);
}

/* Fills o from argv; 0 to go on, else the exit code plus one. */
static int fashion_args(int argc, char **argv, fashion_opts *o, const char *what) {
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fashion_usage(stdout, argv[0], what, o);
            return 1;
        }
        if (!strcmp(a, "--no-val") || !strcmp(a, "--bench")) {
            *(a[2] == 'n' ? &o->no_val : &o->bench) = 1;
            continue;
        }
        if (!strcmp(a, "--cosine")) {
            o->schedule = "cosine";
            continue;
        }
        if (!strcmp(a, "--standardize") || !strcmp(a, "--no-standardize")) {
            o->standardize = a[2] == 's';
            continue;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "%s: %s needs a value (try --help)\n", argv[0], a);
            return 3;
        }
        const char *v = argv[++i];
        if (!strcmp(a, "--data")) o->dir = v;
        else if (!strcmp(a, "--db")) o->db = v;
        else if (!strcmp(a, "--graph")) o->graph_file = v;
        else if (!strcmp(a, "--optimizer")) o->optimizer = v;
        else if (!strcmp(a, "--init")) o->init = v;
        else if (!strcmp(a, "--lr-schedule")) o->schedule = v;
        else if (!strcmp(a, "--lr") || !strcmp(a, "--val-split")) {
            char *end;
            errno = 0;
            double f = strtod(v, &end);
            int is_lr = !strcmp(a, "--lr");
            if (errno || end == v || *end || !(is_lr ? f > 0.0 && f <= 10.0 : f > 0.0 && f < 1.0)) {
                fprintf(stderr, "%s: %s wants a number in %s, got '%s'\n", argv[0], a, is_lr ? "(0, 10]" : "(0, 1)",
                        v);
                return 3;
            }
            *(is_lr ? &o->lr : &o->val_split) = f;
        } else if (!strcmp(a, "--epochs") || !strcmp(a, "--threads") || !strcmp(a, "--seed") ||
                   !strcmp(a, "--batch") || !strcmp(a, "--limit")) {
            char *end;
            errno = 0;
            long n = strtol(v, &end, 10);
            if (errno || end == v || *end || n < (strcmp(a, "--seed") ? 1 : 0) || n > 1000000000L) {
                fprintf(stderr, "%s: %s wants a positive integer, got '%s'\n", argv[0], a, v);
                return 3;
            }
            if (!strcmp(a, "--epochs")) o->epochs = (int)n;
            else if (!strcmp(a, "--threads")) o->threads = (int)n;
            else if (!strcmp(a, "--batch")) o->batch = (int)n;
            else if (!strcmp(a, "--limit")) o->limit = n;
            else o->seed = (uint64_t)n;
        } else {
            fprintf(stderr, "%s: unknown argument '%s' (try --help)\n", argv[0], a);
            return 3;
        }
    }
    return 0;
}

static nn_dataset *fashion_load(const char *dir, const char *part) {
    char images[1024], labels[1024];
    snprintf(images, sizeof images, "%s/%s-images-idx3-ubyte.gz", dir, part);
    snprintf(labels, sizeof labels, "%s/%s-labels-idx1-ubyte.gz", dir, part);
    nn_dataset *d = nn_load_idx_pair(images, labels);
    if (!d) {
        fprintf(stderr, "error: %s\n(install Debian's dataset-fashion-mnist: tools/setup-deps.sh, or pass --data DIR)\n",
                nn_last_error());
        exit(1);
    }
    return d;
}

static volatile sig_atomic_t fashion_interrupted;
static void fashion_on_sigint(int sig) {
    (void)sig;
    fashion_interrupted = 1;
}

static double fashion_clock(clockid_t id) {
    struct timespec t;
    clock_gettime(id, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static double fashion_now(void) { return fashion_clock(CLOCK_MONOTONIC); }

/* The training and test sets; with --limit only the first N training
 * images (a copy of N rows, the whole set freed). */
static void fashion_data(const fashion_opts *o, nn_dataset **train_out, nn_dataset **test_out) {
    nn_dataset *train = fashion_load(o->dir, "train"), *test = fashion_load(o->dir, "t10k");
    if (o->limit && o->limit < nn_dataset_size(train)) {
        nn_shape xs = nn_tensor_shape(train->x);
        xs.dim[0] = o->limit;
        nn_tensor *x_part = nn_tensor_new(NN_F32, xs), *y_part = nn_tensor_new(NN_I32, NN_SHAPE(o->limit));
        int64_t *rows = malloc((size_t)o->limit * sizeof *rows);
        lab_check(x_part && y_part && rows, "--limit");
        for (int64_t i = 0; i < o->limit; i++) rows[i] = i;
        lab_check(nn_gather_rows(train->x, rows, o->limit, x_part) == NN_OK &&
                      nn_gather_rows(train->y, rows, o->limit, y_part) == NN_OK,
                  "--limit");
        free(rows);
        nn_dataset_free(train);
        train = nn_dataset_new(x_part, y_part);
        lab_check(train != NULL, "--limit");
    }
    *train_out = train;
    *test_out = test;
}

/* x standardized in the graph: (x - mean) / deviation, the mean and
 * deviation of all pixels of the first `rows` training images (the ones
 * trained on, not the held-out or test ones). This is torchvision's
 * Normalize((0.286,), (0.353,)) for Fashion-MNIST, kept in the graph as
 * Keras's Normalization layer is, so a saved graph takes raw 0..1 pixels.
 * Why: inputs centred at 0 with deviation 1 are what the initialisers'
 * variance rules assume; raw pixels (mean 0.29) shift every first-layer
 * pre-activation the same way. */
static nn_node *fashion_standardize(nn_graph *g, nn_node *x, const nn_dataset *train, int64_t rows) {
    const nn_tensor *t = train->x;
    int64_t n = rows * (nn_tensor_size(t) / nn_dataset_size(train));
    const uint8_t *b = nn_tensor_dtype(t) == NN_U8 ? nn_tensor_data(t) : NULL; /* unorm: byte / 255 */
    const float *f = b ? NULL : nn_tensor_f32(t);
    double sum = 0.0, sq = 0.0;
    for (int64_t i = 0; i < n; i++) {
        double v = b ? b[i] / 255.0 : f[i];
        sum += v;
        sq += v * v;
    }
    double mean = sum / (double)n, sd = sqrt(sq / (double)n - mean * mean);
    if (!(sd > 0.0)) sd = 1.0;
    printf("standardized: (x - %.4f) / %.4f, over the pixels of %lld training images\n", mean, sd, (long long)rows);
    nn_tensor *shift = nn_tensor_new(NN_F32, NN_SHAPE(1));
    lab_check(shift != NULL, "standardize");
    nn_tensor_f32(shift)[0] = (float)(-mean / sd);
    nn_node *h = nn_add(g, nn_scale(g, x, (float)(1.0 / sd)), nn_const(g, "standardize_shift", shift));
    nn_tensor_free(shift);
    return h;
}

/* Trains (logged with --db), then prints the time and the test accuracy
 * (evaluation mode: no dropout); returns the exit code. */
static int fashion_train(nn_graph *g, nn_node *x, nn_node *y, nn_node *logits, nn_node *loss, const fashion_opts *o,
                         const char *run_name, nn_dataset *train, nn_dataset *test, nn_optimizer *opt,
                         const nn_lr_schedule *schedule) {
    if (o->graph_file && nn_graph_save(g, o->graph_file) != NN_OK) {
        fprintf(stderr, "error: %s\n", nn_last_error());
        return 1;
    }
    nn_summary(g, stdout);
    fflush(stdout);
    /* Without --val-split the test set doubles as validation data, as in
     * Keras's examples, so every epoch shows where the accuracy stands
     * (never trained on, and not for choosing a recipe: --val-split). */
    nn_fit_opts fo = {.epochs = o->epochs, .batch_size = o->batch, .optimizer = opt, .x = x, .y = y, .verbose = 1,
                      .shuffle_seed = o->seed, .val = o->no_val || o->val_split > 0 ? NULL : test,
                      .val_split = o->no_val ? 0.0 : o->val_split, .lr_schedule = schedule};
    nn_fit_result fit;
    /* the process's CPU time too: on a shared machine, the 1-thread figure
     * that other processes disturb least (tools/bench/fashion.sh) */
    double t0 = fashion_now(), cpu0 = fashion_clock(CLOCK_PROCESS_CPUTIME_ID);
    if (o->db) {
        signal(SIGINT, fashion_on_sigint);
        nn_runlog_fit_opts log = {.path = o->db, .run_name = run_name, .seed = o->seed, .stop = &fashion_interrupted};
        nn_status st = nn_fit_logged(g, loss, train, &fo, &log, &fit);
        if (st == NN_ERR_INTERRUPTED) {
            fprintf(stderr, "\ninterrupted: checkpoint written to %s (nngraph runs %s)\n", o->db, o->db);
            return 130;
        }
        if (st != NN_OK) {
            fprintf(stderr, "error: %s\n", nn_graph_status(g) ? nn_error_message(g) : nn_last_error());
            return 1;
        }
    } else if (nn_fit(g, loss, train, &fo, &fit) != NN_OK) {
        lab_check_graph(g);
    }
    double seconds = fashion_now() - t0, cpu_seconds = fashion_clock(CLOCK_PROCESS_CPUTIME_ID) - cpu0;
    /* nn_fit's split: the first (1 - val_split) of the rows are trained on */
    int64_t trained = fo.val_split > 0 ? (int64_t)((double)nn_dataset_size(train) * (1.0 - fo.val_split))
                                       : nn_dataset_size(train);
    nn_tensor *scores = nn_predict(g, x, logits, test->x, 500);
    if (!scores) lab_check_graph(g);
    int64_t errors = nn_count_errors(scores, test->y), m = nn_dataset_size(test);
    printf("\ntrained %d epochs (%lld steps, %lld images) in %.1f s, %.0f images/s, %d thread%s\n", fit.epochs_run,
           (long long)fit.steps, (long long)trained, seconds, (double)fit.epochs_run * (double)trained / seconds, nn_graph_threads(g),
           nn_graph_threads(g) == 1 ? "" : "s");
    printf("test accuracy: %.4f\n", 1.0 - (double)errors / (double)m);
    if (o->bench)
        printf("impl=nngraph net=%s threads=%d epochs=%d samples=%lld batch=%d seconds=%.3f cpu_seconds=%.3f "
               "samples_per_s=%.0f last_loss=%.4f test_accuracy=%.4f\n",
               run_name + strlen("fashion_"), nn_graph_threads(g), fit.epochs_run, (long long)trained, o->batch,
               fit.seconds, cpu_seconds, (double)fit.epochs_run * (double)trained / fit.seconds, fit.loss,
               1.0 - (double)errors / (double)m);
    nn_tensor_free(scores);
    return 0;
}

/* The whole program: options (defaults in `o`), the graph with inputs x
 * [B, 784] and y [B], the network build() makes from x (its logits), the
 * softmax cross-entropy, training and the report. Returns the exit code. */
static int fashion_main(int argc, char **argv, fashion_opts o, const char *what, const char *run_name,
                        nn_node *(*build)(nn_graph *g, nn_node *x, nn_init relu_init)) {
    int rc = fashion_args(argc, argv, &o, what);
    if (rc) return rc - 1;
    nn_lr_schedule schedule = {0};
    if (o.schedule && nn_lr_schedule_parse(o.schedule, &schedule) != NN_OK) {
        fprintf(stderr, "%s: --lr-schedule: %s\n", argv[0], nn_last_error());
        return 2;
    }
    nn_optimizer *opt = nn_optimizer_from_name(o.optimizer, &(nn_optimizer_opts){.lr = (float)o.lr});
    if (!opt) {
        fprintf(stderr, "%s: --optimizer: %s\n", argv[0], nn_last_error());
        return 2;
    }
    int init = nn_init_from_name(o.init);
    if (init < NN_INIT_GLOROT_UNIFORM) {
        fprintf(stderr, "%s: --init: '%s' is not a fan-based initialiser (glorot_uniform, glorot_normal, he_normal, "
                "he_uniform, lecun_normal)\n", argv[0], o.init);
        return 2;
    }
    nn_dataset *train, *test;
    fashion_data(&o, &train, &test);
    nn_graph *g = nn_graph_new(o.seed);
    if (o.threads) nn_graph_set_threads(g, o.threads);
    nn_node *x = nn_input(g, "x", NN_F32, NN_SHAPE(NN_BATCH, 784));
    nn_node *y = nn_input(g, "y", NN_I32, NN_SHAPE(NN_BATCH));
    int64_t trained = (int64_t)((double)nn_dataset_size(train) * (1.0 - (o.no_val ? 0.0 : o.val_split)));
    nn_node *logits = build(g, o.standardize ? fashion_standardize(g, x, train, trained) : x,
                            (nn_init){(nn_init_kind)init, 0.f, 0.f});
    nn_node *loss = nn_softmax_cross_entropy(g, logits, y);
    lab_check_graph(g);
    rc = fashion_train(g, x, y, logits, loss, &o, run_name, train, test, opt, o.schedule ? &schedule : NULL);
    nn_graph_free(g);
    nn_optimizer_free(opt);
    nn_dataset_free(train);
    nn_dataset_free(test);
    return rc;
}

#endif
