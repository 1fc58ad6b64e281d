/*
 * runlog_blobs: a training run logged to SQLite, interruptible and
 * resumable.
 *
 * Trains a 2-16-3 classifier on three Gaussian blobs with Adam and logs the
 * run (hyperparameters, the loss of every step, per-epoch metrics and a
 * checkpoint every epoch) into a run log. Ctrl-C stops at the current step:
 * the weights go into a 'signal' checkpoint, the run is marked interrupted
 * and the program exits with 130 (128 + SIGINT, as shells expect).
 * `--resume RUN` continues that run from its last epoch checkpoint and ends
 * with the same weights as a run that was never interrupted.
 *
 *   runlog_blobs [--db FILE] [--epochs N] [--name NAME] [--resume RUN]
 *                [--interrupt-at STEP] [--pace MS]
 *   nngraph runs FILE; nngraph show FILE:1
 *
 * --interrupt-at sends the program a SIGINT at that step, a Ctrl-C at a
 * known moment for tests and demos. --pace pauses MS milliseconds after
 * each epoch, so that a run lasts long enough to watch live in
 * `nngraph ui` (the UI's browser test does).
 */
#include "nngraph.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static volatile sig_atomic_t stop_requested;

/* Only sets a flag: the fit loop looks at it after every step. */
static void on_sigint(int sig) {
    (void)sig;
    stop_requested = 1;
}

static const char usage[] =
    "usage: runlog_blobs [--db FILE] [--epochs N] [--name NAME] [--resume RUN] [--interrupt-at STEP] [--pace MS]\n";

static long long interrupt_at;

static int maybe_interrupt(const nn_step_info *si, void *user) {
    (void)user;
    if (si->step == interrupt_at) raise(SIGINT);
    return 0;
}

static long pace_ms;

/* The pause of --pace after each epoch (cut short by Ctrl-C). */
static int pace(const nn_epoch_info *ei, void *user) {
    (void)ei, (void)user;
    struct timespec t = {pace_ms / 1000, (pace_ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
    return 0;
}

int main(int argc, char **argv) {
    const char *db = NN_RUNLOG_DEFAULT_PATH, *name = "blobs";
    int epochs = 20;
    long long resume = 0;
    for (int i = 1; i < argc; i++) {
        int has_value = i + 1 < argc;
        if (strcmp(argv[i], "--help") == 0) {
            fputs(usage, stdout);
            return 0;
        } else if (strcmp(argv[i], "--db") == 0 && has_value) {
            db = argv[++i];
        } else if (strcmp(argv[i], "--name") == 0 && has_value) {
            name = argv[++i];
        } else if (strcmp(argv[i], "--epochs") == 0 && has_value) {
            epochs = atoi(argv[++i]);
        } else if (strcmp(argv[i], "--resume") == 0 && has_value) {
            resume = atoll(argv[++i]);
        } else if (strcmp(argv[i], "--interrupt-at") == 0 && has_value) {
            interrupt_at = atoll(argv[++i]);
        } else if (strcmp(argv[i], "--pace") == 0 && has_value) {
            pace_ms = atol(argv[++i]);
        } else {
            fprintf(stderr, "runlog_blobs: bad argument '%s'\n%s", argv[i], usage);
            return 2;
        }
    }
    if (epochs < 1 || pace_ms < 0 || pace_ms > 60000) {
        fprintf(stderr, "runlog_blobs: %s\n", epochs < 1 ? "--epochs must be at least 1" : "--pace takes 0 to 60000 ms");
        return 2;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sigaction(SIGINT, &sa, NULL);

    const float centres[6] = {0.f, 0.f, 4.f, 4.f, -4.f, 4.f};
    nn_dataset *data = nn_make_blobs(centres, 3, 2, 600, 1.0f, 11);
    nn_graph *g = nn_graph_new(2024);
    nn_graph_set_threads(g, 1); /* one thread: the same weights bit for bit on resume */
    nn_node *x = nn_input(g, "x", NN_F32, NN_SHAPE(NN_BATCH, 2));
    nn_node *y = nn_input(g, "y", NN_I32, NN_SHAPE(NN_BATCH));
    nn_node *h = nn_dense(g, "L1", x, 16, NN_RELU);
    nn_node *loss = nn_softmax_cross_entropy(g, nn_dense(g, "L2", h, 3, NN_LINEAR), y);
    if (!data || nn_graph_status(g)) {
        fprintf(stderr, "runlog_blobs: %s\n", data ? nn_error_message(g) : nn_last_error());
        return 1;
    }
    nn_optimizer *adam = nn_adam(0.01f);
    nn_fit_opts o = {.epochs = epochs, .optimizer = adam, .verbose = 2, .on_step = maybe_interrupt,
                     .on_epoch = pace_ms ? pace : NULL};
    nn_runlog_fit_opts r = {.path = db, .run_name = name, .seed = 2024, .resume_run = resume,
                            .stop = &stop_requested};
    nn_fit_result res;
    nn_status s = nn_fit_logged(g, loss, data, &o, &r, &res);
    int code = 0;
    if (s == NN_ERR_INTERRUPTED) {
        fprintf(stderr, "runlog_blobs: %s\n", nn_last_error());
        code = 130;
    } else if (s != NN_OK) {
        fprintf(stderr, "runlog_blobs: %s\n", nn_last_error());
        code = 1;
    } else {
        printf("final loss %.6f, accuracy %.4f\n", res.loss, res.accuracy);
    }
    nn_optimizer_free(adam);
    nn_dataset_free(data);
    nn_graph_free(g);
    return code;
}
