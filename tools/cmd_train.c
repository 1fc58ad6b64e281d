/* nngraph train: trains a graph file's parameters on IDX data with nn_fit,
 * without writing C. Progress goes to stderr, the final metrics to stdout,
 * the trained weights to -o (a weights file, docs/graph-format.md). */
#include "cli.h"
#include "cli_dist.h"

#include <math.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "Usage: nngraph train FILE.nng|DB:RUN (--data IMAGES LABELS | --csv FILE | --npy X Y) [-o WEIGHTS] [options]\n\n"
    "Trains the parameters of the graph on IDX, CSV or NumPy data with minibatch\n"
    "gradient descent, then prints the final loss and accuracy on stdout.\n\n"
    "  --data IMAGES LABELS  IDX files, gzip or raw (images become rows scaled to 0..1)\n"
    "  --npy X Y             NumPy .npy files: features (as f32, not scaled) and\n"
    "                        targets (integers: class labels; floats: values)\n"
    "  --csv FILE            numeric CSV (a header row is skipped); the label column\n"
    "                        gives class labels if the graph's y is i32, targets if f32\n"
    "  --label-col N         the CSV's label column, 0-based, -1 the last (default)\n"
    "  -o, --output WEIGHTS  write the trained weights here (atomically)\n"
    "  --weights FILE        start from these weights instead of the initialisers\n"
    "  --epochs N            passes over the data (default 10)\n"
    "  --batch N             minibatch size (default 32)\n"
    "  --optimizer NAME      sgd, adam, adamw or rmsprop (default adam; Keras's rules\n"
    "                        and defaults, docs/training.md)\n"
    "  --lr X                learning rate (default 0.01 for sgd, 0.001 for the others)\n"
    "  --momentum X          sgd and rmsprop momentum (default 0)\n"
    "  --nesterov            sgd: Nesterov momentum (needs --momentum)\n"
    "  --rho X               rmsprop: decay of the mean square (default 0.9)\n"
    "  --epsilon X           adam, adamw, rmsprop (default 1e-7)\n"
    "  --adam-epsilon FORM   keras (default) or torch: where adam puts epsilon\n"
    "  --weight-decay X      adamw: decoupled (default 0.004); others: L2 added to\n"
    "                        the gradient (default 0)\n"
    "  --clip-norm X         scale the gradients to a global L2 norm of at most X\n"
    "  --clip-value X        clip each gradient element to [-X, X]\n"
    "  --lr-schedule S       step[:EPOCHS[:GAMMA]], exponential[:GAMMA],\n"
    "                        cosine[:WARMUP[:MIN_LR]], plateau[:PATIENCE[:FACTOR[:MIN_LR]]]\n"
    "  --val-split F         hold out the last fraction F of the rows for validation\n"
    "  --patience N          stop after N epochs without improvement of val_loss (or\n"
    "                        of loss without --val-split)\n"
    "  --restore-best        with --patience: end with the best epoch's weights\n"
    "  --metrics LIST        comma-separated: top_k_accuracy, precision, recall, f1,\n"
    "                        confusion, mae: the last epoch's on stdout, each\n"
    "                        epoch's in the run log with --db\n"
    "  --top-k K             k of top_k_accuracy (default 5)\n"
    "  --seed N              seed of the initial weights and shuffles (default 1)\n"
    "  --threads N           worker threads (default: the machine's cores; under\n"
    "                        mpirun, the cores shared among the host's ranks)\n"
    "  --loss NODE           the loss (default: the last scalar output)\n"
    "  --x NAME, --y NAME    input nodes fed with images and labels (default x, y)\n"
    "  --db DB               record the run in this run log (SQLite): hyperparameters,\n"
    "                        every step's loss, epoch metrics, a checkpoint an epoch\n"
    "  --run-name NAME       the run's name in the log (default: the graph file's name)\n"
    "  --experiment NAME     the experiment the run belongs to (groups runs in the log)\n"
    "  --checkpoint-every N  epochs between checkpoints in the log (default 1)\n"
    "  --resume RUN          continue run RUN of the --db database from its last\n"
    "                        checkpoint (weights, optimizer state, shuffle order)\n"
    "                        up to --epochs in all; same graph file, same seed\n"
    "  -q, --quiet           no progress on stderr\n\n"
    "Ctrl-C during a logged run writes a checkpoint, marks the run interrupted\n"
    "and exits 130; --resume picks it up.\n"
    "Under mpirun (mpirun -np N nngraph train ...) every process trains on its\n"
    "shard of each global batch of N * --batch rows and the gradients are averaged\n"
    "(docs/scale-out.md); rank 0 prints, writes -o and the run log. A rank that\n"
    "fails ends the job; a wait on the others gives up after NNGRAPH_DIST_TIMEOUT\n"
    "seconds (default 120).\n";

typedef struct train_args {
    cli_source src; /* the graph: a file or DB:RUN */
    const char *images, *labels, *csv, *npy_x, *npy_y, *out, *log, *run_name, *experiment, *weights, *loss, *x, *y;
    const char *optimizer, *adam_epsilon;
    long long epochs, batch, seed, threads, label_col, checkpoint_every, resume, patience, top_k;
    double lr, momentum, rho, epsilon, weight_decay, clip_norm, clip_value, val_split;
    int quiet, nesterov, restore_best;
    nn_lr_schedule schedule;
    int have_schedule;
    unsigned metrics;
} train_args;

/* The options that take a number in a range, as one table. */
typedef struct number_opt {
    const char *name;
    size_t offset; /* of the double in train_args */
    double min, max;
} number_opt;

static const number_opt number_opts[] = {
    {"--lr", offsetof(train_args, lr), 1e-12, 1e6},
    {"--momentum", offsetof(train_args, momentum), 0, 0.999999},
    {"--rho", offsetof(train_args, rho), 1e-6, 0.999999},
    {"--epsilon", offsetof(train_args, epsilon), 1e-30, 1},
    {"--weight-decay", offsetof(train_args, weight_decay), 0, 1e6},
    {"--clip-norm", offsetof(train_args, clip_norm), 1e-12, 1e12},
    {"--clip-value", offsetof(train_args, clip_value), 1e-12, 1e12},
    {"--val-split", offsetof(train_args, val_split), 1e-6, 0.999999},
};

/* "f1,precision" into NN_METRIC_* bits. */
static int parse_metrics(const char *list, unsigned *out) {
    char name[64];
    for (const char *p = list; *p;) {
        size_t n = strcspn(p, ",");
        if (n == 0 || n >= sizeof name) return cli_usage_error("train", "--metrics: empty or overlong name in '%s'", list);
        memcpy(name, p, n);
        name[n] = 0;
        int bit = nn_metric_from_name(name);
        if (!bit)
            return cli_usage_error("train", "--metrics: unknown metric '%s' (known: top_k_accuracy, precision, recall, "
                                   "f1, confusion, mae)", name);
        *out |= (unsigned)bit;
        p += n + (p[n] == ',');
    }
    return CLI_OK;
}

/* The last epoch's extra metrics, kept for the final report (the confusion
 * matrix is valid only during the callback, so it is copied). */
typedef struct last_metrics {
    nn_metric_values train, val;
    int64_t *confusion;
    int classes;
    const char *split;
} last_metrics;

static int keep_metrics(const nn_epoch_info *e, void *user) {
    last_metrics *m = user;
    m->train = e->metrics;
    m->val = e->val_metrics;
    const nn_metric_values *src = e->val_metrics.confusion ? &e->val_metrics : &e->metrics;
    if (src->confusion) {
        size_t bytes = (size_t)src->classes * (size_t)src->classes * sizeof *m->confusion;
        int64_t *copy = m->classes == src->classes ? m->confusion : realloc(m->confusion, bytes);
        if (copy) {
            memcpy(copy, src->confusion, bytes);
            m->confusion = copy;
            m->classes = src->classes;
            m->split = src == &e->val_metrics ? "val" : "train";
        }
    }
    return 0;
}

static void print_metric_values(const nn_metric_values *m, const char *prefix) {
    const struct {
        const char *name;
        double v;
    } kv[] = {{"top_k_accuracy", m->top_k_accuracy}, {"precision", m->precision}, {"recall", m->recall},
              {"f1", m->f1}, {"mae", m->mae}};
    for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++)
        if (!isnan(kv[i].v)) printf("  %s%s %.4f", prefix, kv[i].name, kv[i].v);
}

static void print_confusion(const last_metrics *m) {
    if (!m->confusion) return;
    printf("confusion matrix (%s, last epoch; rows: true class, columns: predicted):\n     ", m->split);
    for (int q = 0; q < m->classes; q++) printf(" %6d", q);
    for (int t = 0; t < m->classes; t++) {
        printf("\n%4d ", t);
        for (int q = 0; q < m->classes; q++) printf(" %6lld", (long long)m->confusion[(size_t)t * m->classes + q]);
    }
    putchar('\n');
}

/* Set by Ctrl-C during a logged run (or SIGTERM from mpirun): the run log
 * checkpoints and stops. */
static volatile sig_atomic_t interrupted;
static void on_sigint(int sig) {
    (void)sig;
    interrupted = 1;
}

enum {
    OPT_DATA = 1, OPT_NPY, OPT_LR_SCHEDULE, OPT_METRICS, OPT_PATIENCE, OPT_TOP_K, OPT_ADAM_EPSILON, OPT_NESTEROV,
    OPT_RESTORE_BEST, OPT_LABEL_COL, OPT_OUTPUT, OPT_CSV, OPT_DB, OPT_RUN_NAME, OPT_EXPERIMENT, OPT_WEIGHTS, OPT_LOSS,
    OPT_X, OPT_Y, OPT_OPTIMIZER, OPT_EPOCHS, OPT_CHECKPOINT_EVERY, OPT_RESUME, OPT_BATCH, OPT_SEED, OPT_THREADS,
    OPT_QUIET,
    OPT_NUMBER = 100 /* + the index in number_opts */
};
static const cli_option options[] = {
    {"data", 0, "IMAGES LABELS", OPT_DATA},
    {"npy", 0, "X Y", OPT_NPY},
    {"csv", 0, "FILE", OPT_CSV},
    {"label-col", 0, "N", OPT_LABEL_COL},
    {"output", 'o', "WEIGHTS", OPT_OUTPUT},
    {"weights", 0, "FILE", OPT_WEIGHTS},
    {"epochs", 0, "N", OPT_EPOCHS},
    {"batch", 0, "N", OPT_BATCH},
    {"optimizer", 0, "NAME", OPT_OPTIMIZER},
    {"lr", 0, "X", OPT_NUMBER + 0},
    {"momentum", 0, "X", OPT_NUMBER + 1},
    {"rho", 0, "X", OPT_NUMBER + 2},
    {"epsilon", 0, "X", OPT_NUMBER + 3},
    {"weight-decay", 0, "X", OPT_NUMBER + 4},
    {"clip-norm", 0, "X", OPT_NUMBER + 5},
    {"clip-value", 0, "X", OPT_NUMBER + 6},
    {"val-split", 0, "F", OPT_NUMBER + 7},
    {"nesterov", 0, NULL, OPT_NESTEROV},
    {"adam-epsilon", 0, "FORM", OPT_ADAM_EPSILON},
    {"lr-schedule", 0, "S", OPT_LR_SCHEDULE},
    {"patience", 0, "N", OPT_PATIENCE},
    {"restore-best", 0, NULL, OPT_RESTORE_BEST},
    {"metrics", 0, "LIST", OPT_METRICS},
    {"top-k", 0, "K", OPT_TOP_K},
    {"seed", 0, "N", OPT_SEED},
    {"threads", 0, "N", OPT_THREADS},
    {"loss", 0, "NODE", OPT_LOSS},
    {"x", 0, "NAME", OPT_X},
    {"y", 0, "NAME", OPT_Y},
    {"db", 0, "DB", OPT_DB},
    {"run-name", 0, "NAME", OPT_RUN_NAME},
    {"experiment", 0, "NAME", OPT_EXPERIMENT},
    {"checkpoint-every", 0, "N", OPT_CHECKPOINT_EVERY},
    {"resume", 0, "RUN", OPT_RESUME},
    {"quiet", 'q', NULL, OPT_QUIET},
    {NULL, 0, NULL, 0},
};

static int parse(int argc, char **argv, train_args *a) {
    cli_args p;
    cli_args_init(&p, "train", options, argc, argv);
    for (int opt; (opt = cli_next(&p)) != CLI_END;) {
        const char *v = p.value;
        if (opt >= OPT_NUMBER && opt < OPT_NUMBER + (int)(sizeof number_opts / sizeof number_opts[0])) {
            const number_opt *o = &number_opts[opt - OPT_NUMBER];
            if (cli_double("train", o->name, v, o->min, o->max, (double *)((char *)a + o->offset))) return CLI_USAGE;
            continue;
        }
        switch (opt) {
        case OPT_DATA:
        case OPT_NPY: {
            int npy = opt == OPT_NPY;
            *(npy ? &a->npy_x : &a->images) = v;
            if (!(*(npy ? &a->npy_y : &a->labels) = cli_next_value(&p)))
                return cli_usage_error("train", "%s needs two paths: %s", npy ? "--npy" : "--data",
                                       npy ? "X Y" : "IMAGES LABELS");
            break;
        }
        case OPT_LR_SCHEDULE:
            if (nn_lr_schedule_parse(v, &a->schedule) != NN_OK)
                return cli_usage_error("train", "--lr-schedule: %s", nn_last_error());
            a->have_schedule = 1;
            break;
        case OPT_METRICS:
            if (parse_metrics(v, &a->metrics) != CLI_OK) return CLI_USAGE;
            break;
        case OPT_PATIENCE:
            if (cli_int("train", "--patience", v, 1, 1000000, &a->patience)) return CLI_USAGE;
            break;
        case OPT_TOP_K:
            if (cli_int("train", "--top-k", v, 1, 1000000, &a->top_k)) return CLI_USAGE;
            break;
        case OPT_ADAM_EPSILON:
            a->adam_epsilon = v;
            if (strcmp(v, "keras") && strcmp(v, "torch"))
                return cli_usage_error("train", "--adam-epsilon takes keras or torch, not '%s'", v);
            break;
        case OPT_NESTEROV: a->nesterov = 1; break;
        case OPT_RESTORE_BEST: a->restore_best = 1; break;
        case OPT_LABEL_COL:
            if (cli_int("train", "--label-col", v, -1000000, 1000000, &a->label_col)) return CLI_USAGE;
            break;
        case OPT_OUTPUT: a->out = v; break;
        case OPT_CSV: a->csv = v; break;
        case OPT_DB: a->log = v; break;
        case OPT_RUN_NAME: a->run_name = v; break;
        case OPT_EXPERIMENT: a->experiment = v; break;
        case OPT_WEIGHTS: a->weights = v; break;
        case OPT_LOSS: a->loss = v; break;
        case OPT_X: a->x = v; break;
        case OPT_Y: a->y = v; break;
        case OPT_OPTIMIZER: {
            a->optimizer = v;
            nn_optimizer *probe = nn_optimizer_from_name(v, NULL);
            if (!probe) return cli_usage_error("train", "--optimizer: %s", nn_last_error());
            nn_optimizer_free(probe);
            break;
        }
        case OPT_EPOCHS:
            if (cli_int("train", "--epochs", v, 1, 1000000, &a->epochs)) return CLI_USAGE;
            break;
        case OPT_CHECKPOINT_EVERY:
            if (cli_int("train", "--checkpoint-every", v, 1, 1000000, &a->checkpoint_every)) return CLI_USAGE;
            break;
        case OPT_RESUME:
            if (cli_int("train", "--resume", v, 1, (long long)INT64_MAX, &a->resume)) return CLI_USAGE;
            break;
        case OPT_BATCH:
            if (cli_int("train", "--batch", v, 1, 1 << 20, &a->batch)) return CLI_USAGE;
            break;
        case OPT_SEED:
            if (cli_int("train", "--seed", v, 0, (long long)INT64_MAX, &a->seed)) return CLI_USAGE;
            break;
        case OPT_THREADS:
            if (cli_int("train", "--threads", v, 1, 1024, &a->threads)) return CLI_USAGE;
            break;
        case OPT_QUIET: a->quiet = 1; break;
        case CLI_OPERAND:
            if (cli_source_operand("train", &a->src, v)) return CLI_USAGE;
            break;
        default: return CLI_USAGE;
        }
    }
    if (cli_source_resolve("train", &a->src, NULL, 0)) return CLI_USAGE;
    if (!a->images && !a->csv && !a->npy_x)
        return cli_usage_error("train", "no training data: give --data IMAGES LABELS, --csv FILE or --npy X Y");
    if (!!a->images + !!a->csv + !!a->npy_x > 1) return cli_usage_error("train", "give one of --data, --csv and --npy");
    if (a->restore_best && !a->patience) return cli_usage_error("train", "--restore-best needs --patience N");
    if ((a->resume || a->checkpoint_every) && !a->log)
        return cli_usage_error("train", "--resume and --checkpoint-every need --db DB");
    return CLI_OK;
}

static int train(const train_args *a, cli_dist *dist) {
    const char *inputs[] = {cli_source_path(&a->src), a->weights, a->images, a->labels, a->csv, a->npy_x, a->npy_y, a->log};
    if (cli_safe_output("train", a->out, inputs, 8) != CLI_OK) return CLI_RUNTIME;
    nn_graph *g = cli_load_graph("train", &a->src, (uint64_t)a->seed);
    if (!g) return CLI_RUNTIME;
    int status = CLI_RUNTIME, rank = cli_dist_rank(dist);
    nn_dataset *data = NULL;
    nn_optimizer *opt = NULL;
    last_metrics lm = {0};
    nn_node *loss = cli_find_loss("train", g, a->loss);
    nn_node *x = loss ? cli_find_input("train", g, a->x, "features") : NULL;
    nn_node *y = x ? cli_find_input("train", g, a->y, "labels") : NULL;
    if (!y) goto done;
    if (a->weights && nn_weights_load(g, a->weights) != NN_OK) {
        cli_fail("train", "%s", nn_last_error());
        goto done;
    }
    data = a->csv     ? nn_load_csv(a->csv, (int)a->label_col, nn_node_dtype(y) == NN_I32)
           : a->npy_x ? nn_load_npy_pair(a->npy_x, a->npy_y)
                      : nn_load_idx_pair(a->images, a->labels);
    if (!data) {
        cli_fail("train", "%s", nn_last_error());
        goto done;
    }
    nn_shape xs = nn_node_shape(x), ds = nn_tensor_shape(data->x);
    if (xs.rank != ds.rank || (xs.rank == 2 && xs.dim[1] != ds.dim[1])) {
        char a1[64], a2[64];
        cli_fail("train", "the data's features are %s but the graph's input '%s' is %s", nn_shape_str(ds, a1, sizeof a1),
                 nn_node_name(x), nn_shape_str(xs, a2, sizeof a2));
        goto done;
    }
    /* under mpirun the ranks of a host share its cores */
    int threads = a->threads ? (int)a->threads : cli_dist_threads(dist);
    if (threads) nn_graph_set_threads(g, threads);
    nn_optimizer_opts oo = {.lr = (float)a->lr,
                            .momentum = (float)a->momentum,
                            .nesterov = a->nesterov,
                            .rho = (float)a->rho,
                            .epsilon = (float)a->epsilon,
                            .epsilon_form = a->adam_epsilon && !strcmp(a->adam_epsilon, "torch") ? NN_EPSILON_TORCH
                                                                                                  : NN_EPSILON_KERAS,
                            .weight_decay = (float)a->weight_decay,
                            .clip_norm = (float)a->clip_norm,
                            .clip_value = (float)a->clip_value};
    opt = nn_optimizer_from_name(a->optimizer ? a->optimizer : NN_OPTIMIZER_DEFAULT, &oo);
    if (!opt) {
        cli_fail("train", "%s", nn_last_error());
        goto done;
    }
    nn_fit_opts fo = {0};
    fo.epochs = (int)a->epochs;
    fo.batch_size = (int)a->batch;
    fo.optimizer = opt;
    fo.x = x;
    fo.y = y;
    fo.verbose = a->quiet || rank != 0 ? 0 : 1;
    fo.shuffle_seed = (uint64_t)a->seed;
    fo.val_split = a->val_split;
    fo.lr_schedule = a->have_schedule ? &a->schedule : NULL;
    fo.metrics = a->metrics;
    fo.top_k = (int)a->top_k;
    if (a->patience) {
        fo.monitor = a->val_split > 0 ? "val_loss" : "loss";
        fo.patience = (int)a->patience;
        fo.restore_best_weights = a->restore_best;
    }
    if (a->metrics) {
        fo.on_epoch = keep_metrics;
        fo.user = &lm;
    }
    cli_dist_fit_opts(dist, &fo, &interrupted);
    nn_fit_result res;
    nn_status fs;
    if (dist) {
        signal(SIGINT, on_sigint);
        signal(SIGTERM, on_sigint);
    }
    if (a->log && rank == 0) {
        nn_runlog_fit_opts ro = {0};
        ro.path = a->log;
        ro.run_name = a->run_name ? a->run_name : cli_source_name(&a->src);
        ro.experiment = a->experiment;
        ro.seed = (uint64_t)a->seed;
        ro.checkpoint_every = (int)a->checkpoint_every;
        ro.resume_run = a->resume;
        ro.stop = &interrupted;
        cli_dist_log_hook(dist, &fo);
        nn_runlog_fit *logged = nn_runlog_attach(&fo, g, loss, &ro);
        if (!logged) {
            cli_fail("train", "%s", nn_last_error());
            goto done;
        }
        if (cli_dist_log_start(dist, nn_runlog_fit_log(logged), (int)a->batch) != CLI_OK) {
            nn_runlog_detach(logged, NN_ERR_ARG);
            goto done;
        }
        int64_t run_id = nn_runlog_fit_run(logged);
        signal(SIGINT, on_sigint);
        fs = nn_runlog_detach(logged, nn_fit(g, loss, data, &fo, &res));
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        if (fs == NN_ERR_INTERRUPTED && dist && nn_error_message(g)[0]) {
            /* a wait on the other ranks was given up: the run is marked failed */
            fprintf(stderr, "\nnngraph train: %s; run %lld in %s continues from its last checkpoint with --db %s --resume "
                    "%lld\n",
                    nn_error_message(g), (long long)run_id, a->log, a->log, (long long)run_id);
            status = 130;
            goto done;
        }
        if (fs == NN_ERR_INTERRUPTED) {
            fprintf(stderr, "\nnngraph train: interrupted; run %lld checkpointed in %s (continue with --db %s --resume %lld)\n",
                    (long long)run_id, a->log, a->log, (long long)run_id);
            status = 130;
            goto done;
        }
    } else {
        fs = nn_fit(g, loss, data, &fo, &res);
    }
    if (dist && fs == NN_ERR_INTERRUPTED) { /* rank 0 of a logged run said it above */
        if (rank != 0 || !a->log) cli_fail("train", "%s", nn_error_message(g)[0] ? nn_error_message(g) : nn_last_error());
        status = 130;
        goto done;
    }
    if (dist && fs == NN_OK && interrupted) {
        if (rank == 0) fprintf(stderr, "\nnngraph train: interrupted at step %lld\n", (long long)res.steps);
        status = 130;
        goto done;
    }

    if (fs != NN_OK) {
        /* the run log reports through nn_last_error, a failed fit on g */
        cli_fail("train", "%s", fs == NN_ERR_DB || !nn_error_message(g)[0] ? nn_last_error() : nn_error_message(g));
        goto done;
    }
    if (rank != 0) { /* rank 0 reports and writes the weights */
        status = CLI_OK;
        goto done;
    }
    printf("epochs %d  steps %lld  loss %.6g", res.epochs_run, (long long)res.steps, res.loss);
    if (!isnan(res.accuracy)) printf("  accuracy %.4f", res.accuracy);
    if (!isnan(res.val_loss)) printf("  val_loss %.6g", res.val_loss);
    if (!isnan(res.val_accuracy)) printf("  val_accuracy %.4f", res.val_accuracy);
    if (a->metrics) {
        print_metric_values(&lm.train, "");
        print_metric_values(&lm.val, "val_");
    }
    if (res.restored) printf("  restored epoch %d", res.best_epoch);
    printf("  seconds %.3f\n", res.seconds);
    /* checked again: the file may have appeared while training */
    if (a->out && cli_safe_output("train", a->out, inputs, 8) != CLI_OK) goto done;
    print_confusion(&lm);
    if (a->out && nn_weights_save(g, a->out) != NN_OK) {
        cli_fail("train", "%s", nn_last_error());
        goto done;
    }
    status = fflush(stdout) == 0 ? CLI_OK : cli_fail("train", "writing to stdout failed");
done:
    free(lm.confusion);
    nn_optimizer_free(opt);
    nn_dataset_free(data);
    nn_graph_free(g);
    return status;
}

static int run(int argc, char **argv) {
    train_args a = {0};
    a.epochs = 10;
    a.batch = 32;
    a.seed = 1;
    a.label_col = -1;
    a.x = "x";
    a.y = "y";
    int r = parse(argc, argv, &a);
    if (r != CLI_OK) return r;
    cli_dist *dist = NULL;
    if ((r = cli_dist_open("train", &dist)) != CLI_OK) return r;
    return cli_dist_close(dist, train(&a, dist));
}

const cli_command cli_train = {"train", "train a graph file's parameters on IDX data (nn_fit)", usage, run};
