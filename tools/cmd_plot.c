/* nngraph plot: pictures of training curves and of trained models
 * (src/plot, PLplot's cairo driver). One entry point, four kinds:
 * curves, boundary, weights, confusion. */
#include "cli.h"
#include "nngraph/plot.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "Usage: nngraph plot KIND ... [-o FILE] [-T svg|png|pdf] [--size WxH] [--title TEXT]\n\n"
    "Pictures as SVG, PNG or PDF (by -o's extension or -T; default KIND.svg).\n\n"
    "  nngraph plot curves DB:RUN[,RUN...] [--steps] [--smooth W] [--log]\n"
    "      loss and accuracy (train and validation) per epoch of one run or several\n"
    "      overlaid; the legend names each run and the hyperparameters that differ.\n"
    "      --steps plots the loss of every step, --smooth W (0..0.999) smooths it.\n"
    "  nngraph plot boundary MODEL [--weights W] --data POINTS.csv [--label-col N]\n"
    "                        [--unit L1:0 | --layer L1 | --transformed L1] [--grid N]\n"
    "      a 2-input classifier's decision regions over the data, the points by class;\n"
    "      --unit one hidden unit's activation, --layer every unit of a layer,\n"
    "      --transformed the data as that layer sees it. For a 1-input model: the\n"
    "      fitted curve over the data (CSV x,y).\n"
    "  nngraph plot weights MODEL [--weights W] --layer L1 --image 20x20\n"
    "      a layer's weights as one image per unit (e.g. the digits network's filters).\n"
    "  nngraph plot confusion MODEL [--weights W] (--data IMAGES LABELS | --csv FILE)\n"
    "      the confusion matrix with its counts.\n\n"
    "MODEL is a graph file (.nng) with --weights, or DB:RUN (the run's graph and its\n"
    "last checkpoint; --epoch E for another). CSV labels are the last column unless\n"
    "--label-col N says. --x NAME the input (default x), --output NODE the scores\n"
    "(default: the loss's logits). Layers are named by scope (L1) or node (L1/relu).\n";

/* Everything the four kinds parse. */
typedef struct plot_args {
    const char *kind, *spec, *out, *format, *title, *weights, *data, *labels, *csv, *xname, *output;
    const char *unit, *layer, *transformed, *image;
    long long label_col, grid, epoch;
    double smooth;
    int steps, log_y, width, height;
} plot_args;

enum {
    OPT_DATA = 1, OPT_OUTPUT, OPT_FORMAT, OPT_TITLE, OPT_WEIGHTS, OPT_CSV, OPT_X, OPT_OUT_NODE, OPT_UNIT, OPT_LAYER,
    OPT_TRANSFORMED, OPT_IMAGE, OPT_LABEL_COL, OPT_GRID, OPT_EPOCH, OPT_SMOOTH, OPT_SIZE, OPT_STEPS, OPT_LOG_Y
};
static const cli_option options[] = {
    {"data", 0, "FILE [LABELS]", OPT_DATA}, {"", 'o', "FILE", OPT_OUTPUT}, /* -o only: --output is the node */
    {"format", 'T', "FORMAT", OPT_FORMAT},  {"title", 0, "TEXT", OPT_TITLE},
    {"weights", 0, "FILE", OPT_WEIGHTS},    {"csv", 0, "FILE", OPT_CSV},
    {"x", 0, "NAME", OPT_X},                {"output", 0, "NODE", OPT_OUT_NODE},
    {"unit", 0, "L:K", OPT_UNIT},           {"layer", 0, "L", OPT_LAYER},
    {"transformed", 0, "L", OPT_TRANSFORMED}, {"image", 0, "WxH", OPT_IMAGE},
    {"label-col", 0, "N", OPT_LABEL_COL},   {"grid", 0, "N", OPT_GRID},
    {"epoch", 0, "E", OPT_EPOCH},           {"smooth", 0, "W", OPT_SMOOTH},
    {"size", 0, "WxH", OPT_SIZE},           {"steps", 0, NULL, OPT_STEPS},
    {"log", 0, NULL, OPT_LOG_Y},            {NULL, 0, NULL, 0},
};

/* argv[0] is the kind. */
static int parse(int argc, char **argv, plot_args *a) {
    cli_args p;
    cli_args_init(&p, "plot", options, argc, argv);
    for (int opt; (opt = cli_next(&p)) != CLI_END;) {
        const char *v = p.value;
        switch (opt) {
        case OPT_DATA:
            a->data = v;
            a->labels = cli_next_value(&p);
            break;
        case OPT_OUTPUT: a->out = v; break;
        case OPT_FORMAT: a->format = v; break;
        case OPT_TITLE: a->title = v; break;
        case OPT_WEIGHTS: a->weights = v; break;
        case OPT_CSV: a->csv = v; break;
        case OPT_X: a->xname = v; break;
        case OPT_OUT_NODE: a->output = v; break;
        case OPT_UNIT: a->unit = v; break;
        case OPT_LAYER: a->layer = v; break;
        case OPT_TRANSFORMED: a->transformed = v; break;
        case OPT_IMAGE: a->image = v; break;
        case OPT_LABEL_COL:
            if (cli_int("plot", "--label-col", v, -1000000, 1000000, &a->label_col)) return CLI_USAGE;
            break;
        case OPT_GRID:
            if (cli_int("plot", "--grid", v, 10, 2000, &a->grid)) return CLI_USAGE;
            break;
        case OPT_EPOCH:
            if (cli_int("plot", "--epoch", v, 0, 1LL << 40, &a->epoch)) return CLI_USAGE;
            break;
        case OPT_SMOOTH:
            if (cli_double("plot", "--smooth", v, 0, 0.999, &a->smooth)) return CLI_USAGE;
            break;
        case OPT_SIZE:
            if (sscanf(v, "%dx%d", &a->width, &a->height) != 2 || a->width < 100 || a->height < 100 ||
                a->width > 8000 || a->height > 8000)
                return cli_usage_error("plot", "--size wants WxH between 100x100 and 8000x8000, not '%s'", v);
            break;
        case OPT_STEPS: a->steps = 1; break;
        case OPT_LOG_Y: a->log_y = 1; break;
        case CLI_OPERAND:
            if (a->spec) return cli_usage_error("plot", "one model or run list at a time ('%s' and '%s')", a->spec, v);
            a->spec = v;
            break;
        default: return CLI_USAGE;
        }
    }
    return CLI_OK;
}

/* ---- curves ----------------------------------------------------------------- */

static int plot_curves(const plot_args *a, const nn_plot_opts *po) {
    if (!a->spec) return cli_usage_error("plot", "curves: give DB:RUN[,RUN...]");
    const char *colon = strrchr(a->spec, ':');
    if (!colon || colon == a->spec || !colon[1])
        return cli_usage_error("plot", "curves: '%s' is not DB:RUN[,RUN...] (e.g. nngraph.db:3,4)", a->spec);
    char db[1024], runs[1024];
    if ((size_t)(colon - a->spec) >= sizeof db || strlen(colon + 1) >= sizeof runs)
        return cli_usage_error("plot", "curves: '%s' is too long", a->spec);
    snprintf(db, sizeof db, "%.*s", (int)(colon - a->spec), a->spec);
    snprintf(runs, sizeof runs, "%s", colon + 1);
    int64_t ids[NN_PLOT_MAX_RUNS];
    int n = 0;
    nn_runlog *log = nn_runlog_open(db, NN_RUNLOG_READONLY);
    if (!log) return cli_fail("plot", "%s", nn_last_error());
    nn_status s = NN_OK;
    char *save = NULL;
    for (char *tok = strtok_r(runs, ",", &save); s == NN_OK && tok; tok = strtok_r(NULL, ",", &save)) {
        if (n == NN_PLOT_MAX_RUNS) {
            nn_runlog_close(log);
            return cli_usage_error("plot", "curves: at most %d runs at once", NN_PLOT_MAX_RUNS);
        }
        s = nn_runlog_find_run(log, tok, &ids[n++]);
    }
    nn_plot_run_opts ro = {a->steps, a->smooth, a->log_y};
    if (s == NN_OK) s = nn_plot_run_curves(a->out, po, log, ids, n, &ro);
    if (s != NN_OK) cli_fail("plot", "%s%s", nn_last_error(), a->steps || s != NN_ERR_ARG ? "" : " (try --steps)");
    nn_runlog_close(log);
    return s == NN_OK ? CLI_OK : CLI_RUNTIME;
}

/* ---- models ------------------------------------------------------------- */

/* The graph with its weights: --weights FILE, or the checkpoint of the
 * DB:RUN the graph came from. */
static nn_graph *load_model(const plot_args *a) {
    if (!a->spec) return cli_usage_error("plot", "%s: give the model (a graph file or DB:RUN)", a->kind), NULL;
    cli_source src = {.file = a->spec};
    if (cli_source_resolve("plot", &src, NULL, 0)) return NULL;
    nn_graph *g = cli_load_graph("plot", &src, 1);
    if (!g) return NULL;
    nn_status s = NN_OK;
    if (a->weights) {
        s = nn_weights_load(g, a->weights);
    } else {
        if (src.file) {
            cli_usage_error("plot", "%s: give --weights FILE (or the model as DB:RUN)", a->spec);
            nn_graph_free(g);
            return NULL;
        }
        const char *db = src.db;
        nn_runlog *log = nn_runlog_open(db, NN_RUNLOG_READONLY);
        int64_t run = 0;
        nn_checkpoint *c = NULL;
        s = log ? nn_runlog_find_run(log, src.run, &run) : NN_ERR_DB;
        if (s == NN_OK && !(c = nn_runlog_load_checkpoint(log, run, a->epoch >= 0 ? a->epoch : -1))) s = NN_ERR_ARG;
        if (s == NN_OK) s = nn_checkpoint_apply(c, g);
        nn_checkpoint_free(c);
        char why[512];
        snprintf(why, sizeof why, "%s", nn_last_error());
        nn_runlog_close(log);
        if (s != NN_OK) nn_set_error(s, "%s", why);
    }
    if (s != NN_OK) {
        cli_fail("plot", "%s", nn_last_error());
        nn_graph_free(g);
        return NULL;
    }
    return g;
}

/* A layer by node name ("L1/relu") or scope ("L1": its output node). */
static nn_node *find_layer(nn_graph *g, const char *name, const char *opt) {
    nn_node *n = nn_graph_find(g, name);
    if (n) return n;
    nn_layer_info layers[64];
    int k = nn_graph_layers(g, layers, 64);
    for (int i = 0; i < k && i < 64; i++)
        if (strcmp(layers[i].name, name) == 0) return nn_graph_node(g, layers[i].output_node);
    char list[512] = "";
    for (int i = 0; i < k && i < 64; i++) {
        size_t len = strlen(list);
        snprintf(list + len, sizeof list - len, "%s%.60s", i ? ", " : "", layers[i].name);
    }
    cli_fail("plot", "%s: no layer or node named '%s' (layers: %s)", opt, name, list);
    return NULL;
}

/* The trainable matrix of a layer: a parameter's name, or the scope's
 * rank-2 parameter (a dense layer's W). */
static nn_node *find_weight(nn_graph *g, const char *name) {
    nn_node *n = nn_graph_find(g, name);
    if (n && nn_node_kind_of(n) == NN_NODE_PARAM) return n;
    size_t len = strlen(name);
    for (int i = 0; i < nn_graph_num_nodes(g); i++) {
        nn_node *p = nn_graph_node(g, i);
        const char *pn = nn_node_name(p);
        if (nn_node_kind_of(p) == NN_NODE_PARAM && nn_node_shape(p).rank == 2 && strncmp(pn, name, len) == 0 &&
            pn[len] == '/')
            return p;
    }
    cli_fail("plot", "--layer: no weight matrix named '%s' or under scope '%s/'", name, name);
    return NULL;
}

static int plot_model(const plot_args *a, const nn_plot_opts *po) {
    int kind_boundary = strcmp(a->kind, "boundary") == 0, kind_weights = strcmp(a->kind, "weights") == 0;
    if (kind_boundary && !a->data && !a->csv) return cli_usage_error("plot", "boundary: give --data POINTS.csv");
    if (kind_weights && (!a->layer || !a->image))
        return cli_usage_error("plot", "weights: give --layer L1 and --image ROWSxCOLS");
    if (!kind_boundary && !kind_weights && !a->data && !a->csv)
        return cli_usage_error("plot", "confusion: give --data IMAGES LABELS or --csv FILE");
    int views = (a->unit != NULL) + (a->layer != NULL && kind_boundary) + (a->transformed != NULL);
    if (views > 1) return cli_usage_error("plot", "boundary: one of --unit, --layer, --transformed");
    int rows = 0, cols = 0;
    if (kind_weights && (sscanf(a->image, "%dx%d", &rows, &cols) != 2 || rows < 1 || cols < 1))
        return cli_usage_error("plot", "--image wants ROWSxCOLS (e.g. 20x20), not '%s'", a->image);
    nn_graph *g = load_model(a);
    if (!g) return CLI_RUNTIME;
    int status = CLI_RUNTIME;
    nn_dataset *d = NULL;
    nn_tensor *scores = NULL;
    if (kind_weights) {
        nn_node *w = find_weight(g, a->layer);
        if (w && nn_plot_weights(a->out, po, nn_param_value(w), rows, cols, nn_node_name(w)) == NN_OK) status = CLI_OK;
        else if (w) cli_fail("plot", "%s", nn_last_error());
        goto done;
    }
    nn_node *x = cli_find_input("plot", g, a->xname, "features");
    nn_node *o = x ? cli_find_output("plot", g, a->output) : NULL;
    if (!o) goto done;
    const char *csv = a->csv ? a->csv : (kind_boundary ? a->data : NULL);
    int regression = kind_boundary && nn_node_shape(x).rank == 2 && nn_node_shape(x).dim[1] == 1;
    if (csv) d = nn_load_csv(csv, (int)a->label_col, !regression);
    else d = nn_load_idx_pair(a->data, a->labels ? a->labels : "");
    if (!d) {
        cli_fail("plot", "%s", nn_last_error());
        goto done;
    }
    nn_plot_model m = {g, x, o};
    nn_status s;
    if (regression) {
        s = nn_plot_regression(a->out, po, &m, d->x, d->y, NULL);
    } else if (kind_boundary) {
        nn_plot_boundary_opts b = {0};
        char layer[256] = "";
        if (a->unit) {
            const char *colon = strrchr(a->unit, ':');
            long long u = 0;
            if (!colon || (size_t)(colon - a->unit) >= sizeof layer) {
                status = cli_usage_error("plot", "--unit wants LAYER:UNIT (e.g. L1:0), not '%s'", a->unit);
                goto done;
            }
            if (cli_int("plot", "--unit", colon + 1, 0, 1 << 20, &u)) {
                status = CLI_USAGE;
                goto done;
            }
            snprintf(layer, sizeof layer, "%.*s", (int)(colon - a->unit), a->unit);
            b.view = NN_VIEW_UNIT, b.unit = (int)u;
        } else if (a->layer) {
            snprintf(layer, sizeof layer, "%s", a->layer);
            b.view = NN_VIEW_LAYER;
        } else if (a->transformed) {
            snprintf(layer, sizeof layer, "%s", a->transformed);
            b.view = NN_VIEW_TRANSFORMED;
        }
        if (layer[0] && !(b.layer = find_layer(g, layer, a->unit ? "--unit" : a->layer ? "--layer" : "--transformed")))
            goto done;
        b.grid = (int)a->grid;
        s = nn_plot_boundary(a->out, po, &m, d->x, nn_tensor_dtype(d->y) == NN_I32 ? d->y : NULL, &b, NULL);
    } else {
        scores = nn_predict(g, x, o, d->x, 256);
        if (!scores) {
            cli_fail("plot", "%s", nn_graph_status(g) ? nn_error_message(g) : nn_last_error());
            goto done;
        }
        nn_shape ss = nn_tensor_shape(scores);
        int k = ss.rank == 2 && ss.dim[1] > 1 ? (int)ss.dim[1] : 2;
        int64_t *counts = calloc((size_t)k * (size_t)k, sizeof *counts);
        s = !counts ? nn_set_error(NN_ERR_NOMEM, "out of memory") : nn_plot_confusion_counts(scores, d->y, counts, k);
        if (s == NN_OK) s = nn_plot_confusion(a->out, po, counts, k);
        free(counts);
    }
    if (s != NN_OK) cli_fail("plot", "%s", nn_last_error());
    else status = CLI_OK;
done:
    nn_tensor_free(scores);
    if (d) nn_dataset_free(d);
    nn_graph_free(g);
    return status;
}

static int run(int argc, char **argv) {
    if (argc < 2) return cli_usage_error("plot", "give a kind: curves, boundary, weights or confusion");
    plot_args a = {.kind = argv[1], .xname = "x", .label_col = -1, .epoch = -1};
    static const char *const kinds[] = {"curves", "boundary", "weights", "confusion"};
    int known = 0;
    for (int i = 0; i < 4; i++) known |= strcmp(a.kind, kinds[i]) == 0;
    if (!known) return cli_usage_error("plot", "unknown kind '%s' (curves, boundary, weights, confusion)", a.kind);
    int r = parse(argc - 1, argv + 1, &a);
    if (r != CLI_OK) return r;
    char out[64];
    if (!a.out) {
        snprintf(out, sizeof out, "%s.%s", a.kind, a.format ? a.format : "svg");
        a.out = out;
    }
    if (!nn_plot_format(a.out, a.format)) return cli_usage_error("plot", "%s", nn_last_error());
    nn_plot_opts po = {a.format, a.width, a.height, a.title};
    int status = strcmp(a.kind, "curves") == 0 ? plot_curves(&a, &po) : plot_model(&a, &po);
    if (status == CLI_OK) fprintf(stderr, "wrote %s\n", a.out);
    return status;
}

const cli_command cli_plot = {"plot", "pictures: training curves, decision regions, weights, confusion", usage, run};
