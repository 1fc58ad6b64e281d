/* nngraph train: trains a graph file's parameters on IDX data with nn_fit,
 * without writing C. Progress goes to stderr, the final metrics to stdout,
 * the trained weights to -o (a weights file, docs/graph-format.md). */
#include "cli.h"

#include <math.h>
#include <string.h>

static const char usage[] =
    "Usage: nngraph train FILE.nng --data IMAGES LABELS [-o WEIGHTS] [options]\n\n"
    "Trains the parameters of the graph on IDX files (gzip or raw) with minibatch\n"
    "gradient descent, then prints the final loss and accuracy on stdout.\n\n"
    "  --data IMAGES LABELS  training data (images become rows scaled to 0..1)\n"
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
    "  --quiet               no progress on stderr\n";

typedef struct train_args {
    const char *file, *images, *labels, *out, *weights, *loss, *x, *y, *optimizer;
    long long epochs, batch, seed, threads;
    double lr, momentum;
    int quiet;
} train_args;

static int parse(int argc, char **argv, train_args *a) {
    const char *v;
    for (int i = 1; i < argc; i++) {
        int r = 0;
        if (strcmp(argv[i], "--data") == 0) {
            if (i + 2 >= argc) return cli_usage_error("train", "--data needs two paths: IMAGES LABELS");
            a->images = argv[++i];
            a->labels = argv[++i];
        } else if ((r = cli_opt("train", argc, argv, &i, "-o", &a->out)) != 0 ||
                   (r = cli_opt("train", argc, argv, &i, "--output", &a->out)) != 0 ||
                   (r = cli_opt("train", argc, argv, &i, "--weights", &a->weights)) != 0 ||
                   (r = cli_opt("train", argc, argv, &i, "--loss", &a->loss)) != 0 ||
                   (r = cli_opt("train", argc, argv, &i, "--x", &a->x)) != 0 ||
                   (r = cli_opt("train", argc, argv, &i, "--y", &a->y)) != 0) {
            if (r < 0) return CLI_USAGE;
        } else if ((r = cli_opt("train", argc, argv, &i, "--optimizer", &a->optimizer)) != 0) {
            if (r < 0) return CLI_USAGE;
            if (strcmp(a->optimizer, "adam") && strcmp(a->optimizer, "sgd"))
                return cli_usage_error("train", "--optimizer takes adam or sgd, not '%s'", a->optimizer);
        } else if ((r = cli_opt("train", argc, argv, &i, "--epochs", &v)) != 0) {
            if (r < 0 || cli_int("train", "--epochs", v, 1, 1000000, &a->epochs)) return CLI_USAGE;
        } else if ((r = cli_opt("train", argc, argv, &i, "--batch", &v)) != 0) {
            if (r < 0 || cli_int("train", "--batch", v, 1, 1 << 20, &a->batch)) return CLI_USAGE;
        } else if ((r = cli_opt("train", argc, argv, &i, "--seed", &v)) != 0) {
            if (r < 0 || cli_int("train", "--seed", v, 0, (long long)INT64_MAX, &a->seed)) return CLI_USAGE;
        } else if ((r = cli_opt("train", argc, argv, &i, "--threads", &v)) != 0) {
            if (r < 0 || cli_int("train", "--threads", v, 1, 1024, &a->threads)) return CLI_USAGE;
        } else if ((r = cli_opt("train", argc, argv, &i, "--lr", &v)) != 0) {
            if (r < 0 || cli_double("train", "--lr", v, 0, 1e6, &a->lr)) return CLI_USAGE;
            if (a->lr == 0) return cli_usage_error("train", "--lr must be above 0");
        } else if ((r = cli_opt("train", argc, argv, &i, "--momentum", &v)) != 0) {
            if (r < 0 || cli_double("train", "--momentum", v, 0, 0.999999, &a->momentum)) return CLI_USAGE;
        } else if (strcmp(argv[i], "--quiet") == 0) {
            a->quiet = 1;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            return cli_usage_error("train", "unknown option '%s'", argv[i]);
        } else if (a->file) {
            return cli_usage_error("train", "one graph file at a time ('%s' and '%s')", a->file, argv[i]);
        } else {
            a->file = argv[i];
        }
    }
    if (!a->file) return cli_usage_error("train", "no graph file given");
    if (!a->images) return cli_usage_error("train", "no training data: give --data IMAGES LABELS");
    return CLI_OK;
}

static int train(const train_args *a) {
    nn_graph *g = cli_load_graph("train", a->file, (uint64_t)a->seed);
    if (!g) return CLI_RUNTIME;
    int status = CLI_RUNTIME;
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
    data = nn_load_idx_pair(a->images, a->labels);
    if (!data) {
        cli_fail("train", "%s", nn_last_error());
        goto done;
    }
    nn_shape xs = nn_node_shape(x), ds = nn_tensor_shape(data->x);
    if (xs.rank != ds.rank || (xs.rank == 2 && xs.dim[1] != ds.dim[1])) {
        char a1[64], a2[64];
        cli_fail("train", "the data's images are %s but the graph's input '%s' is %s", nn_shape_str(ds, a1, sizeof a1),
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
    fo.verbose = a->quiet ? 0 : 1;
    fo.shuffle_seed = (uint64_t)a->seed;
    nn_fit_result res;
    if (nn_fit(g, loss, data, &fo, &res) != NN_OK) {
        cli_fail("train", "%s", nn_error_message(g)[0] ? nn_error_message(g) : nn_last_error());
        goto done;
    }
    printf("epochs %d  steps %lld  loss %.6g", res.epochs_run, (long long)res.steps, res.loss);
    if (!isnan(res.accuracy)) printf("  accuracy %.4f", res.accuracy);
    printf("  seconds %.3f\n", res.seconds);
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
    a.x = "x";
    a.y = "y";
    int r = parse(argc, argv, &a);
    return r != CLI_OK ? r : train(&a);
}

const cli_command cli_train = {"train", "train a graph file's parameters on IDX data (nn_fit)", usage, run};
