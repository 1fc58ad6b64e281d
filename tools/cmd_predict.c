/* nngraph predict: runs a trained graph (graph file + weights file) over
 * IDX images and prints one prediction a line on stdout; with labels, the
 * accuracy goes to stderr. */
#include "cli.h"
#include "cli_dist.h"

#include <string.h>

static const char usage[] =
    "Usage: nngraph predict FILE.nng|DB:RUN --weights WEIGHTS (--data IMAGES [LABELS] | --csv FILE) [options]\n\n"
    "Prints the predicted class of each image (argmax of the output), one a line.\n"
    "With LABELS, also prints the accuracy on stderr.\n\n"
    "  --weights FILE   trained weights (from 'nngraph train -o')\n"
    "  --data IMAGES [LABELS]  IDX files (gzip or raw)\n"
    "  --csv FILE       numeric CSV rows of features (a header row is skipped)\n"
    "  --label-col N    the CSV's class-label column (0-based, -1 the last); none by default\n"
    "  --output NODE    the node to read (default: the loss's logits)\n"
    "  --scores         print the output row (comma-separated) instead of the class\n"
    "  --batch N        rows per run (default 256)\n"
    "  --x NAME         the input fed with the images (default x)\n"
    "  --db DB --run RUN  the graph a run log recorded for RUN (the same as DB:RUN)\n\n"
    "Under mpirun (mpirun -np N nngraph predict ...) each process predicts a\n"
    "contiguous share of the rows; rank 0 gathers them and prints them all, in order.\n";

enum { OPT_WEIGHTS = 1, OPT_DATA, OPT_CSV, OPT_LABEL_COL, OPT_OUTPUT, OPT_SCORES, OPT_BATCH, OPT_X };
static const cli_option options[] = {
    {"weights", 0, "FILE", OPT_WEIGHTS}, {"data", 0, "IMAGES [LABELS]", OPT_DATA}, {"csv", 0, "FILE", OPT_CSV},
    {"label-col", 0, "N", OPT_LABEL_COL}, {"output", 0, "NODE", OPT_OUTPUT},          {"scores", 0, NULL, OPT_SCORES},
    {"batch", 0, "N", OPT_BATCH},         {"x", 0, "NAME", OPT_X},                    CLI_SOURCE_OPTIONS,
    {NULL, 0, NULL, 0}};

static int predict(const cli_source *src, const char *weights, const char *images, const char *labels,
                   const char *csv, const char *output, const char *xname, long long batch, long long label_col,
                   int scores, cli_dist *dist);

static int run(int argc, char **argv) {
    const char *weights = NULL, *images = NULL, *csv = NULL, *labels = NULL, *output = NULL, *xname = "x";
    cli_source src = {0};
    long long batch = 256, label_col = NN_CSV_NO_LABEL;
    int scores = 0;
    cli_args a;
    cli_args_init(&a, "predict", options, argc, argv);
    for (int opt; (opt = cli_next(&a)) != CLI_END;) {
        switch (opt) {
        case OPT_WEIGHTS: weights = a.value; break;
        case OPT_DATA:
            images = a.value;
            labels = cli_next_value(&a);
            break;
        case OPT_CSV: csv = a.value; break;
        case OPT_LABEL_COL:
            if (cli_int("predict", "--label-col", a.value, -1000000, 1000000, &label_col)) return CLI_USAGE;
            break;
        case OPT_OUTPUT: output = a.value; break;
        case OPT_SCORES: scores = 1; break;
        case OPT_BATCH:
            if (cli_int("predict", "--batch", a.value, 1, 1 << 20, &batch)) return CLI_USAGE;
            break;
        case OPT_X: xname = a.value; break;
        default:
            if (!cli_source_arg("predict", &src, opt, a.value)) return CLI_USAGE;
        }
    }
    if (cli_source_resolve("predict", &src, NULL, 0)) return CLI_USAGE;
    if (!weights) return cli_usage_error("predict", "no --weights given (train with 'nngraph train -o WEIGHTS')");
    if (!images && !csv) return cli_usage_error("predict", "no data: give --data IMAGES [LABELS] or --csv FILE");
    if (images && csv) return cli_usage_error("predict", "give --data or --csv, not both");

    cli_dist *dist = NULL;
    int r = cli_dist_open("predict", &dist);
    if (r != CLI_OK) return r;
    return cli_dist_close(dist, predict(&src, weights, images, labels, csv, output, xname, batch, label_col, scores, dist));
}

static int predict(const cli_source *src, const char *weights, const char *images, const char *labels,
                   const char *csv, const char *output, const char *xname, long long batch, long long label_col,
                   int scores, cli_dist *dist) {
    int status = CLI_RUNTIME;
    nn_tensor *x_data = NULL, *y_data = NULL, *out = NULL, *cls = NULL;
    nn_dataset *pair = NULL;
    nn_graph *g = cli_load_graph("predict", src, 1);
    if (!g) return CLI_RUNTIME;
    nn_node *x = cli_find_input("predict", g, xname, "features");
    nn_node *o = x ? cli_find_output("predict", g, output) : NULL;
    if (!o) goto done;
    if (nn_weights_load(g, weights) != NN_OK) {
        cli_fail("predict", "%s", nn_last_error());
        goto done;
    }
    if (csv) {
        pair = nn_load_csv(csv, (int)label_col, 1);
        if (pair) x_data = pair->x, y_data = pair->y;
    } else if (labels) {
        pair = nn_load_idx_pair(images, labels);
        if (pair) x_data = pair->x, y_data = pair->y;
    } else {
        x_data = nn_load_idx(images);
    }
    if (!x_data) {
        cli_fail("predict", "%s", nn_last_error());
        goto done;
    }
    nn_status ps;
    if (cli_dist_threads(dist)) nn_graph_set_threads(g, cli_dist_threads(dist)); /* the host's ranks share its cores */
    out = cli_dist_predict(dist, g, x, o, x_data, (int)batch, &ps);
    if (ps != NN_OK) {
        cli_fail("predict", "%s", nn_graph_status(g) && nn_error_message(g)[0] ? nn_error_message(g) : nn_last_error());
        goto done;
    }
    if (cli_dist_rank(dist) != 0) { /* rank 0 has every row and prints */
        status = CLI_OK;
        goto done;
    }
    nn_shape s = nn_tensor_shape(out);
    int64_t rows = s.rank ? s.dim[0] : 1, cols = rows ? nn_tensor_size(out) / rows : 0;
    const float *val = nn_tensor_f32(out);
    if (!scores) cls = nn_argmax(out);
    if (!scores && !cls) {
        cli_fail("predict", "%s", nn_last_error());
        goto done;
    }
    for (int64_t r = 0; r < rows; r++) {
        if (scores) {
            for (int64_t c = 0; c < cols; c++) printf("%s%.6g", c ? "," : "", (double)val[r * cols + c]);
            printf("\n");
        } else {
            printf("%d\n", (int)nn_tensor_i32(cls)[r]);
        }
    }
    if (y_data) {
        int64_t errors = nn_count_errors(out, y_data);
        if (errors < 0) {
            cli_fail("predict", "%s", nn_last_error());
            goto done;
        }
        fprintf(stderr, "accuracy %.4f (%lld of %lld right)\n", rows ? (double)(rows - errors) / (double)rows : 0.0,
                (long long)(rows - errors), (long long)rows);
    }
    status = fflush(stdout) == 0 ? CLI_OK : cli_fail("predict", "writing to stdout failed");
done:
    nn_tensor_free(cls);
    nn_tensor_free(out);
    if (pair)
        nn_dataset_free(pair);
    else
        nn_tensor_free(x_data);
    nn_graph_free(g);
    return status;
}

const cli_command cli_predict = {"predict", "predict with a trained graph (graph file + weights) on IDX images", usage,
                                 run};
