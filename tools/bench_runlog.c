/*
 * bench_runlog: what logging every step to the run log costs.
 *
 * Trains the digits network shape (400-25-15-10, relu, softmax cross
 * entropy, batch 32, 5000 synthetic samples = 157 steps an epoch) with
 * plain SGD twice, the same seed each time: once without logging, once
 * logging every step's loss, the epoch's loss and time, and a checkpoint of
 * every parameter each epoch. Prints both times and the overhead. The
 * training loop is written out here (graph, nn_grad, nn_run, SGD) so the
 * figure isolates the run log's cost.
 *
 *   bench_runlog [EPOCHS] [DB]     (defaults: 10, a temporary file)
 */
#include "nngraph.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum { N = 5000, IN = 400, BATCH = 32, CLASSES = 10 };

/* Seconds spent inside run-log calls during the logged runs: a figure that
 * the machine's noise between two whole runs does not drown. */
static double in_log, in_log_steps;

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

typedef struct net {
    nn_graph *g;
    nn_node *x, *y, *loss;
    nn_node *params[6], *grads[6];
} net;

static nn_node *dense(nn_graph *g, const char *scope, nn_node *x, int in, int out, int relu, nn_node **p) {
    char wn[32], bn[32];
    snprintf(wn, sizeof wn, "%s/W", scope);
    snprintf(bn, sizeof bn, "%s/b", scope);
    p[0] = nn_param(g, wn, NN_SHAPE(in, out), nn_init_glorot_uniform());
    p[1] = nn_param(g, bn, NN_SHAPE(out), nn_init_zeros());
    nn_node *h = nn_add(g, nn_matmul(g, x, p[0]), p[1]);
    return relu ? nn_relu(g, h) : h;
}

static int build(net *n) {
    n->g = nn_graph_new(1234);
    nn_graph_set_threads(n->g, 1);
    n->x = nn_input(n->g, "x", NN_F32, NN_SHAPE(NN_BATCH, IN));
    n->y = nn_input(n->g, "y", NN_I32, NN_SHAPE(NN_BATCH));
    nn_node *h = dense(n->g, "L1", n->x, IN, 25, 1, &n->params[0]);
    h = dense(n->g, "L2", h, 25, 15, 1, &n->params[2]);
    h = dense(n->g, "L3", h, 15, CLASSES, 0, &n->params[4]);
    n->loss = nn_softmax_cross_entropy(n->g, h, n->y);
    if (nn_grad(n->g, n->loss, n->params, 6, n->grads) != NN_OK || nn_graph_status(n->g)) {
        fprintf(stderr, "bench_runlog: %s\n", nn_error_message(n->g));
        return -1;
    }
    return 0;
}

/* One run of `epochs` epochs; logs into `log` when not NULL. */
static double train(nn_runlog *log, int epochs, const nn_tensor *xs, const nn_tensor *ys, double *final_loss) {
    net n;
    if (build(&n) != 0) return -1;
    nn_node *outs[7] = {n.loss, n.grads[0], n.grads[1], n.grads[2], n.grads[3], n.grads[4], n.grads[5]};
    if (log) {
        nn_runlog_start(log, &(nn_run_info){.name = "bench", .seed = 1234, .threads = 1}, NULL);
        nn_runlog_param(log, "optimizer", "sgd");
        nn_runlog_param_num(log, "lr", 0.1);
        nn_runlog_param_num(log, "batch_size", BATCH);
        nn_runlog_param_num(log, "epochs", epochs);
    }
    double t0 = now();
    int64_t step = 0;
    double epoch_loss = 0;
    for (int e = 1; e <= epochs; e++) {
        double te = now(), sum = 0;
        int batches = 0;
        for (int64_t start = 0; start < N; start += BATCH) {
            int64_t b = N - start < BATCH ? N - start : BATCH;
            nn_tensor *xb = nn_tensor_from(NN_F32, NN_SHAPE(b, IN), nn_tensor_f32(xs) + start * IN);
            nn_tensor *yb = nn_tensor_from(NN_I32, NN_SHAPE(b), nn_tensor_i32(ys) + start);
            nn_set_input(n.g, n.x, xb);
            nn_set_input(n.g, n.y, yb);
            if (nn_run(n.g, outs, 7) != NN_OK) {
                fprintf(stderr, "bench_runlog: %s\n", nn_error_message(n.g));
                return -1;
            }
            for (int p = 0; p < 6; p++) {
                float *w = nn_tensor_f32(nn_param_value(n.params[p]));
                const float *gr = nn_tensor_f32(nn_value(n.grads[p]));
                for (int64_t i = 0; i < nn_tensor_size(nn_param_value(n.params[p])); i++) w[i] -= 0.1f * gr[i];
            }
            double l = nn_value_scalar(n.loss);
            sum += l;
            batches++;
            step++;
            if (log) {
                double tl = now();
                nn_runlog_step_metric(log, "loss", NULL, step, l);
                in_log += now() - tl;
                in_log_steps += now() - tl;
            }
            nn_tensor_free(xb);
            nn_tensor_free(yb);
        }
        epoch_loss = sum / batches;
        if (log) {
            double tl = now();
            nn_runlog_epoch_metric(log, "loss", NULL, e, epoch_loss);
            nn_runlog_epoch_metric(log, "time", NULL, e, now() - te);
            nn_ckpt_item items[6];
            for (int p = 0; p < 6; p++)
                items[p] = (nn_ckpt_item){nn_node_name(n.params[p]), NN_ROLE_PARAM, nn_param_value(n.params[p]), NULL};
            if (nn_runlog_checkpoint(log, step, e, "epoch", items, 6, NULL) != NN_OK)
                fprintf(stderr, "bench_runlog: %s\n", nn_last_error());
            in_log += now() - tl;
        }
    }
    if (log) nn_runlog_finish(log, "finished", NULL);
    double t = now() - t0;
    *final_loss = epoch_loss;
    nn_graph_free(n.g);
    return t;
}

int main(int argc, char **argv) {
    int epochs = argc > 1 ? atoi(argv[1]) : 10;
    if (epochs < 1) {
        fprintf(stderr, "usage: bench_runlog [EPOCHS] [DB]\n");
        return 2;
    }
    char tmp[64] = "";
    const char *db = argc > 2 ? argv[2] : NULL;
    if (!db) {
        snprintf(tmp, sizeof tmp, "/tmp/bench_runlog.%ld.db", (long)getpid());
        db = tmp;
    }
    /* synthetic digits: class c lights up features near 40*c */
    nn_tensor *xs = nn_tensor_new(NN_F32, NN_SHAPE(N, IN)), *ys = nn_tensor_new(NN_I32, NN_SHAPE(N));
    nn_rng r;
    nn_rng_seed(&r, 5);
    for (int i = 0; i < N; i++) {
        int c = (int)nn_rng_below(&r, CLASSES);
        nn_tensor_i32(ys)[i] = c;
        for (int j = 0; j < IN; j++)
            nn_tensor_f32(xs)[i * IN + j] = (float)(0.3 * nn_rng_normal(&r) + (j / 40 == c ? 1.0 : 0.0));
    }
    nn_runlog *log = nn_runlog_open(db, 0);
    if (!log) {
        fprintf(stderr, "bench_runlog: %s\n", nn_last_error());
        return 1;
    }
    double l0, l1;
    /* warm up once, then alternate so both see the same machine state */
    train(NULL, 1, xs, ys, &l0);
    double plain = 0, logged = 0, logged_sum = 0;
    enum { REPS = 5 };
    for (int rep = 0; rep < REPS; rep++) {
        double a = train(NULL, epochs, xs, ys, &l0), b = train(log, epochs, xs, ys, &l1);
        if (a < 0 || b < 0) return 1;
        if (rep == 0 || a < plain) plain = a;
        if (rep == 0 || b < logged) logged = b;
        logged_sum += b;
    }
    int64_t steps = (int64_t)epochs * ((N + BATCH - 1) / BATCH);
    printf("digits 400-25-15-10, batch %d, %d epochs, %lld steps (best of %d)\n", BATCH, epochs, (long long)steps, REPS);
    printf("  without run log: %8.3f s  (%.1f us/step)  final loss %.6f\n", plain, 1e6 * plain / steps, l0);
    printf("  with run log:    %8.3f s  (%.1f us/step)  final loss %.6f\n", logged, 1e6 * logged / steps, l1);
    printf("  whole-run difference: %+.2f%% (noisy on a shared machine)\n", 100.0 * (logged - plain) / plain);
    printf("  inside run-log calls: %.2f us per step (every step's loss, the epoch's metrics and\n"
           "  a checkpoint of all 10,575 weights each epoch) = %.2f%% of the logged runs' time\n",
           1e6 * in_log / (REPS * (double)steps), 100.0 * in_log / logged_sum);
    printf("  of which buffering the step losses: %.2f us per step; the epoch's transaction\n"
           "  (its 157 step rows, metrics and a 42 KB checkpoint): %.0f us per epoch\n",
           1e6 * in_log_steps / (REPS * (double)steps), 1e6 * (in_log - in_log_steps) / (REPS * (double)epochs));
    nn_runlog_close(log);
    if (tmp[0]) {
        char p[80];
        unlink(tmp);
        snprintf(p, sizeof p, "%s-wal", tmp);
        unlink(p);
        snprintf(p, sizeof p, "%s-shm", tmp);
        unlink(p);
    }
    nn_tensor_free(xs);
    nn_tensor_free(ys);
    return 0;
}
