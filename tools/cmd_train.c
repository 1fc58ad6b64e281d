/* nngraph train: trains a graph file's parameters on IDX data with nn_fit,
 * without writing C. Progress goes to stderr, the final metrics to stdout,
 * the trained weights to -o (a weights file, docs/graph-format.md). */
#include "cli.h"
#include "cli_dist.h"

#include <math.h>
#include <signal.h>
#include <string.h>

static const char usage[] =
    "Usage: nngraph train FILE.nng|DB:RUN (--data IMAGES LABELS | --csv FILE) [-o WEIGHTS] [options]\n\n"
    "Trains the parameters of the graph on IDX or CSV data with minibatch\n"
    "gradient descent, then prints the final loss and accuracy on stdout.\n\n"
    "  --data IMAGES LABELS  IDX files, gzip or raw (images become rows scaled to 0..1)\n"
    "  --csv FILE            numeric CSV (a header row is skipped); the label column\n"
    "                        gives class labels if the graph's y is i32, targets if f32\n"
    "  --label-col N         the CSV's label column, 0-based, -1 the last (default)\n"
    "  -o, --output WEIGHTS  write the trained weights here (atomically)\n"
    "  --weights FILE        start from these weights instead of the initialisers\n"
    "  --epochs N            passes over the data (default 10)\n"
    "  --batch N             minibatch size (default 32)\n"
    "  --lr X                learning rate (default 0.001 for adam, 0.01 for sgd)\n"
    "  --optimizer adam|sgd  (default adam, Keras's defaults)\n"
    "  --momentum X          sgd momentum (default 0)\n"
    "  --seed N              seed of the initial weights and shuffles (default 1)\n"
    "  --threads N           worker threads (default: the machine's cores)\n"
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
    "(docs/scale-out.md); rank 0 prints, writes -o and the run log.\n";

typedef struct train_args {
    cli_source src; /* the graph: a file or DB:RUN */
    const char *images, *labels, *csv, *out, *log, *run_name, *experiment, *weights, *loss, *x, *y, *optimizer;
    long long epochs, batch, seed, threads, label_col, checkpoint_every, resume;
    double lr, momentum;
    int quiet;
} train_args;

/* Set by Ctrl-C during a logged run (or SIGTERM from mpirun): the run log
 * checkpoints and stops. */
static volatile sig_atomic_t interrupted;
static void on_sigint(int sig) {
    (void)sig;
    interrupted = 1;
}

enum {
    OPT_DATA = 1, OPT_CSV, OPT_LABEL_COL, OPT_OUTPUT, OPT_WEIGHTS, OPT_EPOCHS, OPT_BATCH, OPT_LR, OPT_OPTIMIZER,
    OPT_MOMENTUM, OPT_SEED, OPT_THREADS, OPT_LOSS, OPT_X, OPT_Y, OPT_DB, OPT_RUN_NAME, OPT_CHECKPOINT_EVERY,
    OPT_RESUME, OPT_QUIET, OPT_EXPERIMENT
};
static const cli_option options[] = {
    {"data", 0, "IMAGES LABELS", OPT_DATA},
    {"csv", 0, "FILE", OPT_CSV},
    {"label-col", 0, "N", OPT_LABEL_COL},
    {"output", 'o', "WEIGHTS", OPT_OUTPUT},
    {"weights", 0, "FILE", OPT_WEIGHTS},
    {"epochs", 0, "N", OPT_EPOCHS},
    {"batch", 0, "N", OPT_BATCH},
    {"lr", 0, "X", OPT_LR},
    {"optimizer", 0, "adam|sgd", OPT_OPTIMIZER},
    {"momentum", 0, "X", OPT_MOMENTUM},
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
        switch (opt) {
        case OPT_DATA:
            a->images = v;
            if (!(a->labels = cli_next_value(&p))) return cli_usage_error("train", "--data needs two paths: IMAGES LABELS");
            break;
        case OPT_CSV: a->csv = v; break;
        case OPT_LABEL_COL:
            if (cli_int("train", "--label-col", v, -1000000, 1000000, &a->label_col)) return CLI_USAGE;
            break;
        case OPT_OUTPUT: a->out = v; break;
        case OPT_WEIGHTS: a->weights = v; break;
        case OPT_EPOCHS:
            if (cli_int("train", "--epochs", v, 1, 1000000, &a->epochs)) return CLI_USAGE;
            break;
        case OPT_BATCH:
            if (cli_int("train", "--batch", v, 1, 1 << 20, &a->batch)) return CLI_USAGE;
            break;
        case OPT_LR:
            if (cli_double("train", "--lr", v, 0, 1e6, &a->lr)) return CLI_USAGE;
            if (a->lr == 0) return cli_usage_error("train", "--lr must be above 0");
            break;
        case OPT_OPTIMIZER:
            a->optimizer = v;
            if (strcmp(v, "adam") && strcmp(v, "sgd"))
                return cli_usage_error("train", "--optimizer takes adam or sgd, not '%s'", v);
            break;
        case OPT_MOMENTUM:
            if (cli_double("train", "--momentum", v, 0, 0.999999, &a->momentum)) return CLI_USAGE;
            break;
        case OPT_SEED:
            if (cli_int("train", "--seed", v, 0, (long long)INT64_MAX, &a->seed)) return CLI_USAGE;
            break;
        case OPT_THREADS:
            if (cli_int("train", "--threads", v, 1, 1024, &a->threads)) return CLI_USAGE;
            break;
        case OPT_LOSS: a->loss = v; break;
        case OPT_X: a->x = v; break;
        case OPT_Y: a->y = v; break;
        case OPT_DB: a->log = v; break;
        case OPT_RUN_NAME: a->run_name = v; break;
        case OPT_EXPERIMENT: a->experiment = v; break;
        case OPT_CHECKPOINT_EVERY:
            if (cli_int("train", "--checkpoint-every", v, 1, 1000000, &a->checkpoint_every)) return CLI_USAGE;
            break;
        case OPT_RESUME:
            if (cli_int("train", "--resume", v, 1, (long long)INT64_MAX, &a->resume)) return CLI_USAGE;
            break;
        case OPT_QUIET: a->quiet = 1; break;
        case CLI_OPERAND:
            if (cli_source_operand("train", &a->src, v)) return CLI_USAGE;
            break;
        default: return CLI_USAGE;
        }
    }
    if (cli_source_resolve("train", &a->src, NULL, 0)) return CLI_USAGE;
    if (!a->images && !a->csv) return cli_usage_error("train", "no training data: give --data IMAGES LABELS or --csv FILE");
    if (a->images && a->csv) return cli_usage_error("train", "give --data or --csv, not both");
    if ((a->resume || a->checkpoint_every) && !a->log)
        return cli_usage_error("train", "--resume and --checkpoint-every need --db DB");
    return CLI_OK;
}

static int train(const train_args *a, cli_dist *dist) {
    const char *inputs[] = {cli_source_path(&a->src), a->weights, a->images, a->labels, a->csv, a->log};
    if (cli_safe_output("train", a->out, inputs, 6) != CLI_OK) return CLI_RUNTIME;
    nn_graph *g = cli_load_graph("train", &a->src, (uint64_t)a->seed);
    if (!g) return CLI_RUNTIME;
    int status = CLI_RUNTIME, rank = cli_dist_rank(dist);
    nn_dataset *data = NULL;
    nn_optimizer *opt = NULL;
    nn_node *loss = cli_find_loss("train", g, a->loss);
    nn_node *x = loss ? cli_find_input("train", g, a->x, "features") : NULL;
    nn_node *y = x ? cli_find_input("train", g, a->y, "labels") : NULL;
    if (!y) goto done;
    if (a->weights && nn_weights_load(g, a->weights) != NN_OK) {
        cli_fail("train", "%s", nn_last_error());
        goto done;
    }
    data = a->csv ? nn_load_csv(a->csv, (int)a->label_col, nn_node_dtype(y) == NN_I32)
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
    if (a->threads) nn_graph_set_threads(g, (int)a->threads);
    int sgd = a->optimizer && strcmp(a->optimizer, "sgd") == 0;
    float lr = (float)(a->lr > 0 ? a->lr : sgd ? 0.01 : 0.001);
    opt = sgd ? nn_sgd(lr, (float)a->momentum) : nn_adam(lr);
    if (!opt) {
        cli_fail("train", "out of memory");
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
    printf("  seconds %.3f\n", res.seconds);
    /* checked again: the file may have appeared while training */
    if (a->out && cli_safe_output("train", a->out, inputs, 6) != CLI_OK) goto done;
    if (a->out && nn_weights_save(g, a->out) != NN_OK) {
        cli_fail("train", "%s", nn_last_error());
        goto done;
    }
    status = fflush(stdout) == 0 ? CLI_OK : cli_fail("train", "writing to stdout failed");
done:
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
