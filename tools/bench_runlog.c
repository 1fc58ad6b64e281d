/*
 * bench_runlog: what the run log costs a real training run.
 *
 * Trains the digits network of examples/digits.c (400-25-15-10, relu,
 * softmax cross entropy, Adam 0.001, batch 32, the shipped 5,000 digits =
 * 157 steps an epoch) through nn_fit, in one process, four ways:
 *
 *   plain    nn_fit, no run log
 *   final    every step's loss, the epoch metrics, a checkpoint at the end only
 *            (checkpoint_every = -1)
 *   every10  the same with a checkpoint every 10 epochs (checkpoint_every = 10)
 *   every1   the same with a checkpoint every epoch (checkpoint_every = 0, the
 *            default)
 *
 * The modes take turns (plain, final, every10, every1, plain, ...) so all
 * see the same machine; the fastest repeat of each is kept (other processes
 * only ever add time). A logged run is timed whole, nn_runlog_attach (opening
 * the file, the run row, the hyperparameters) to nn_runlog_detach (the final
 * checkpoint, the run marked finished), and its ratio to the plain run is
 * the cost of logging. The run log's callbacks are also timed one by one
 * (wrapped after nn_runlog_attach), which gives the flush and the checkpoint
 * separately and a figure that machine noise between whole runs does not
 * drown. Checkpoints hold the weights and Adam's two moments: 3 x 10,575
 * floats, 127 KB.
 *
 *   bench_runlog [--epochs 40] [--repeat 5] [--threads 1] [--data DIR] [--db FILE]
 *                [--only final|every10|every1]
 *
 * Output: one `runlog mode=... seconds=...` line per mode (key=value, for
 * tools/bench.sh), then the ratios in words.
 */
#include "nngraph.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum { MODES = 4 };
static const char *const mode_names[MODES] = {"plain", "final", "every10", "every1"};
static const int mode_every[MODES] = {0, -1, 10, 0};

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Where the time of one logged run went. */
typedef struct costs {
    double total;      /* the whole run, attach to detach */
    double attach;     /* nn_runlog_attach: open, run row, hyperparameters */
    double detach;     /* nn_runlog_detach: final checkpoint (if due), finish, close */
    double steps;      /* the step callback, all steps */
    double flushes;    /* epoch callbacks without a checkpoint (commit or keep the metrics) */
    double ckpts;      /* epoch callbacks with a checkpoint, the last epoch's excepted */
    double final;      /* the last epoch's callback: the final checkpoint */
    int n_flushes, n_ckpts;
    int64_t n_steps;
} costs;

/* The run log's callbacks, wrapped to time them. */
typedef struct timed {
    nn_step_fn step;
    nn_epoch_fn epoch;
    void *user;
    int every; /* checkpoint_every as the log reads it */
    costs *c;
} timed;

static int timed_step(const nn_step_info *si, void *user) {
    timed *t = user;
    double t0 = now();
    int r = t->step(si, t->user);
    t->c->steps += now() - t0;
    t->c->n_steps++;
    return r;
}

static int timed_epoch(const nn_epoch_info *ei, void *user) {
    timed *t = user;
    int every = t->every == 0 ? 1 : t->every;
    /* the same rule as the log's: the last epoch's checkpoint is written here */
    int ckpt = (every > 0 && ei->epoch % every == 0) || ei->epoch == ei->epochs;
    double t0 = now();
    int r = t->epoch(ei, t->user);
    double dt = now() - t0;
    if (ei->epoch == ei->epochs) {
        t->c->final += dt;
    } else if (ckpt) {
        t->c->ckpts += dt;
        t->c->n_ckpts++;
    } else {
        t->c->flushes += dt;
        t->c->n_flushes++;
    }
    return r;
}

typedef struct model {
    nn_graph *g;
    nn_node *x, *y, *loss;
} model;

static int build(model *m, int threads) {
    m->g = nn_graph_new(1234);
    nn_graph_set_threads(m->g, threads);
    m->x = nn_input(m->g, "x", NN_F32, NN_SHAPE(NN_BATCH, 400));
    m->y = nn_input(m->g, "y", NN_I32, NN_SHAPE(NN_BATCH));
    nn_node *h = nn_dense(m->g, "L1", m->x, 25, NN_RELU);
    h = nn_dense(m->g, "L2", h, 15, NN_RELU);
    nn_node *logits = nn_dense(m->g, "L3", h, 10, NN_LINEAR);
    m->loss = nn_softmax_cross_entropy(m->g, logits, m->y);
    if (nn_graph_status(m->g) != NN_OK) {
        fprintf(stderr, "bench_runlog: %s\n", nn_error_message(m->g));
        return -1;
    }
    return 0;
}

/* One run of `mode`; returns its seconds (attach to detach for a logged
 * one), -1 on failure. */
static double train(int mode, const char *db, const nn_dataset *data, int epochs, int threads, costs *c,
                    double *final_loss) {
    model m;
    if (build(&m, threads) != 0) return -1;
    nn_optimizer *adam = nn_adam(0.001f);
    nn_fit_opts o = {.epochs = epochs, .batch_size = 32, .optimizer = adam, .x = m.x, .y = m.y,
                     .shuffle_seed = 1234};
    nn_fit_result res;
    nn_status s;
    double t0 = now(), t;
    if (mode == 0) {
        s = nn_fit(m.g, m.loss, data, &o, &res);
        t = now() - t0;
        if (s != NN_OK) fprintf(stderr, "bench_runlog: fit: %s\n", nn_error_message(m.g));
    } else {
        nn_runlog_fit_opts ro = {.path = db, .run_name = mode_names[mode], .seed = 1234,
                                 .checkpoint_every = mode_every[mode]};
        nn_runlog_fit *f = nn_runlog_attach(&o, m.g, m.loss, &ro);
        double ta = now();
        c->attach += ta - t0;
        if (!f) {
            fprintf(stderr, "bench_runlog: %s\n", nn_last_error());
            nn_optimizer_free(adam);
            nn_graph_free(m.g);
            return -1;
        }
        timed w = {o.on_step, o.on_epoch, o.user, mode_every[mode], c};
        o.on_step = timed_step;
        o.on_epoch = timed_epoch;
        o.user = &w;
        nn_status fs = nn_fit(m.g, m.loss, data, &o, &res);
        double td = now();
        s = nn_runlog_detach(f, fs);
        double tend = now();
        t = tend - t0;
        c->detach += tend - td;
        c->total += t;
        if (s != NN_OK) fprintf(stderr, "bench_runlog: %s\n", nn_last_error());
    }
    *final_loss = res.loss;
    nn_optimizer_free(adam);
    nn_graph_free(m.g);
    return s == NN_OK ? t : -1;
}

/* Each figure's least value over the repeats (other processes only ever
 * add time): `first` copies. */
static void keep_least(costs *best, const costs *one, int first) {
    if (first) {
        *best = *one;
        return;
    }
    double *b[] = {&best->total, &best->attach, &best->detach, &best->steps, &best->flushes, &best->ckpts, &best->final};
    const double o[] = {one->total, one->attach, one->detach, one->steps, one->flushes, one->ckpts, one->final};
    for (int i = 0; i < 7; i++)
        if (o[i] < *b[i]) *b[i] = o[i];
}

static void remove_db(const char *db) {
    static const char *const suffix[3] = {"", "-wal", "-shm"};
    for (int i = 0; i < 3; i++) {
        char p[4200];
        snprintf(p, sizeof p, "%s%s", db, suffix[i]);
        unlink(p);
    }
}

static int usage(void) {
    fprintf(stderr, "usage: bench_runlog [--epochs E] [--repeat R] [--threads T] [--data DIR] [--db FILE]\n"
                    "                    [--only final|every10|every1]\n"
                    "  digits through nn_fit without and with the run log (defaults: 40 epochs, 5 repeats,\n"
                    "  1 thread, examples/data, a temporary database that is removed afterwards; --only: the\n"
                    "  plain run and that mode, e.g. under a profiler)\n");
    return 2;
}

int main(int argc, char **argv) {
    int epochs = 40, repeat = 5, threads = 1, only = 0;
    const char *data_dir = "examples/data", *db = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage();
            return 0;
        }
        if (!v) return usage();
        if (strcmp(a, "--epochs") == 0) epochs = atoi(v);
        else if (strcmp(a, "--repeat") == 0) repeat = atoi(v);
        else if (strcmp(a, "--threads") == 0) threads = atoi(v);
        else if (strcmp(a, "--data") == 0) data_dir = v;
        else if (strcmp(a, "--db") == 0) db = v;
        else if (strcmp(a, "--only") == 0) {
            for (only = 1; only < MODES && strcmp(v, mode_names[only]) != 0; only++) {}
            if (only == MODES) return usage();
        }
        else return usage();
        i++;
    }
    if (epochs < 1 || repeat < 1 || threads < 1) return usage();
    char img[4096], lab[4096], tmp[64] = "";
    snprintf(img, sizeof img, "%s/digits20-train-images.idx3-ubyte.gz", data_dir);
    snprintf(lab, sizeof lab, "%s/digits20-train-labels.idx1-ubyte.gz", data_dir);
    nn_dataset *data = nn_load_idx_pair(img, lab);
    if (!data) {
        fprintf(stderr, "bench_runlog: %s (run from the source tree, or give --data DIR)\n", nn_last_error());
        return 1;
    }
    if (!db) {
        snprintf(tmp, sizeof tmp, "/tmp/bench_runlog.%ld.db", (long)getpid());
        db = tmp;
        remove_db(db);
    }
    costs c[MODES] = {{0}};
    double best[MODES] = {0}, loss[MODES] = {0};
    /* warm up the code paths and the file once */
    costs warm = {0};
    double l;
    if (train(0, db, data, 1, threads, &warm, &l) < 0 || train(3, db, data, 1, threads, &warm, &l) < 0) return 1;
    for (int r = 0; r < repeat; r++)
        for (int k = 0; k < MODES; k++) {
            if (only > 0 && k != 0 && k != only) continue;
            costs one = {0};
            double t = train(k, db, data, epochs, threads, &one, &loss[k]);
            if (t < 0) return 1;
            keep_least(&c[k], &one, r == 0);
            if (r == 0 || t < best[k]) best[k] = t;
        }
    int64_t steps = c[only ? only : 1].n_steps;
    for (int k = 0; k < MODES; k++) {
        if (only > 0 && k != 0 && k != only) continue;
        const costs *x = &c[k];
        printf("runlog mode=%s epochs=%d steps=%lld threads=%d seconds=%.4f us_per_step=%.2f ratio=%.4f", mode_names[k],
               epochs, (long long)steps, threads, best[k], 1e6 * best[k] / (double)steps, best[k] / best[0]);
        if (k > 0) {
            /* per_epoch_share: what grows with the run's length (steps, epoch
             * ends, checkpoints before the last), over the plain run's time;
             * fixed_ms: once a run (open and run row, final checkpoint,
             * finish and close) */
            double per_epoch = x->steps + x->flushes + x->ckpts, fixed = x->attach + x->final + x->detach;
            printf(" in_log_share=%.4f per_epoch_share=%.4f fixed_ms=%.2f step_us=%.3f flush_us=%.1f ckpt_us=%.1f "
                   "final_ckpt_us=%.0f attach_us=%.0f detach_us=%.0f",
                   (per_epoch + fixed) / x->total, per_epoch / best[0], 1e3 * fixed,
                   1e6 * x->steps / (double)x->n_steps, x->n_flushes ? 1e6 * x->flushes / x->n_flushes : 0.0,
                   x->n_ckpts ? 1e6 * x->ckpts / x->n_ckpts : 0.0, 1e6 * x->final, 1e6 * x->attach, 1e6 * x->detach);
        }
        printf(" final_loss=%.6f\n", loss[k]);
    }
    printf("digits 400-25-15-10, Adam, batch 32, %d epochs (%lld steps), %d thread(s), least of %d runs each:\n", epochs,
           (long long)steps, threads, repeat);
    printf("  without the run log: %.3f s (%.1f us/step, %.2f ms/epoch)\n", best[0], 1e6 * best[0] / (double)steps,
           1e3 * best[0] / epochs);
    for (int k = 1; k < MODES; k++) {
        if (only > 0 && k != only) continue;
        const costs *x = &c[k];
        double per_epoch = x->steps + x->flushes + x->ckpts, fixed = x->attach + x->final + x->detach;
        printf("  %-8s %.3f s: %+.1f%% of the plain run's time; in run-log calls: %.1f%% that grows with the run\n"
               "           + %.1f ms once a run (%.1f%% here: open and start %.1f, final checkpoint %.1f, finish and close %.1f)\n",
               mode_names[k], best[k], 100.0 * (best[k] / best[0] - 1), 100.0 * per_epoch / best[0], 1e3 * fixed,
               100.0 * fixed / best[0], 1e3 * x->attach, 1e3 * x->final, 1e3 * x->detach);
    }
    const costs *f = &c[1], *e = &c[3];
    if (only == 0)
        printf("  per step: %.2f us buffering the loss; per epoch end without a checkpoint: %.0f us (its %lld rows\n"
           "  written, with others, at a commit at most every 0.1 s or 1000 rows); per epoch checkpoint (weights\n"
           "  and Adam's moments, 127 KB, with the epoch's rows): %.0f us\n",
           1e6 * f->steps / (double)f->n_steps, f->n_flushes ? 1e6 * f->flushes / f->n_flushes : 0.0,
           (long long)(steps / epochs), e->n_ckpts ? 1e6 * e->ckpts / e->n_ckpts : 0.0);
    nn_dataset_free(data);
    if (tmp[0]) remove_db(tmp);
    return 0;
}
