/* nngraph dot: a graph file as DOT text, or rendered through Graphviz's
 * libraries (svg, png, pdf, json). A file whose only fault is a shape
 * error is still drawn, the failing node marked, and the exit status is 1;
 * any other malformed file writes nothing. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "Usage: nngraph dot FILE.nng|DB:RUN|--db DB --run RUN [-T FORMAT] [-o OUT] [--layers] [--backward]\n"
    "                  [--rankdir TB|LR] [--title TEXT] [--loss NODE]\n\n"
    "Draws the graph. Without -T or -o, DOT text goes to stdout; -T renders in\n"
    "process with Graphviz (to stdout, or to OUT); -o alone takes the format from\n"
    "OUT's extension (.svg .png .pdf .json .dot .gv). OUT is written atomically.\n\n"
    "  -T, --format FMT  svg, png, pdf, json or dot (-Tpng works too)\n"
    "  -o, --output OUT  write to OUT instead of stdout\n"
    "  --layers          one box per scope (L1, L2, ...), like Keras plot_model\n"
    "  --level op|layer  the same choice by name (op is the default)\n"
    "  --backward        also draw the gradient nodes (dashed, red); a graph saved\n"
    "                    without them gets the loss's gradients built first\n"
    "  --rankdir TB|LR   top to bottom (default) or left to right\n"
    "  --title TEXT      first line of the graph's label (default: the file name)\n"
    "  --loss NODE       the node drawn as the loss (default: the last scalar sink)\n\n"
    "DB:RUN (or --db DB --run RUN) draws the graph a run log recorded for RUN (an\n"
    "id, uuid prefix or name).\n"
    "A file with a shape error is drawn with the failing node in red (exit 1).\n"
    "Example: nngraph dot digits.nng -o digits.svg\n";

static const char *format_from_path(const char *path) {
    static const char *const ext[][2] = {{".svg", "svg"}, {".png", "png"}, {".pdf", "pdf"},
                                         {".json", "json"}, {".dot", "dot"}, {".gv", "dot"}};
    size_t l = strlen(path);
    for (size_t i = 0; i < sizeof ext / sizeof *ext; i++) {
        size_t el = strlen(ext[i][0]);
        if (l > el && strcmp(path + l - el, ext[i][0]) == 0) return ext[i][1];
    }
    return NULL;
}

/* A saved forward graph has no gradient nodes: for --backward, build them
 * (the loss's gradient with respect to every parameter), as training
 * would. A graph that already has some is drawn as it is. */
static int add_gradients(nn_graph *g, const char *loss_name) {
    int n = nn_graph_num_nodes(g);
    for (int i = 0; i < n; i++)
        if (nn_node_is_grad(nn_graph_node(g, i))) return 0;
    nn_node *loss = cli_find_loss("dot", g, loss_name);
    if (!loss) return -1;
    int np = nn_graph_params(g, NULL, 0);
    nn_node **params = malloc(((size_t)np + 1) * sizeof *params), **grads = malloc(((size_t)np + 1) * sizeof *grads);
    int rc = 0;
    if (!params || !grads) {
        rc = -1;
        cli_fail("dot", "out of memory");
    } else {
        nn_graph_params(g, params, np);
        if (nn_grad(g, loss, params, np, grads) != NN_OK) {
            rc = -1;
            cli_fail("dot", "--backward: %s", nn_error_message(g));
        }
    }
    free(params);
    free(grads);
    return rc;
}

static int write_all(const char *data, size_t len, FILE *out) {
    return fwrite(data, 1, len, out) == len && fflush(out) == 0 ? 0 : -1;
}

enum { OPT_FORMAT = 1, OPT_OUTPUT, OPT_TITLE, OPT_LOSS, OPT_RANKDIR, OPT_LEVEL, OPT_LAYERS, OPT_BACKWARD };
static const cli_option options[] = {
    {"format", 'T', "FORMAT", OPT_FORMAT}, {"output", 'o', "OUT", OPT_OUTPUT}, {"title", 0, "TEXT", OPT_TITLE},
    {"loss", 0, "NODE", OPT_LOSS},         {"rankdir", 0, "TB|LR", OPT_RANKDIR}, {"level", 0, "op|layer", OPT_LEVEL},
    {"layers", 0, NULL, OPT_LAYERS},       {"backward", 0, NULL, OPT_BACKWARD}, CLI_SOURCE_OPTIONS,
    {NULL, 0, NULL, 0}};

static int run(int argc, char **argv) {
    const char *format = NULL, *out = NULL;
    cli_source src = {0};
    nn_dot_opts opts = {0};
    cli_args a;
    cli_args_init(&a, "dot", options, argc, argv);
    for (int opt; (opt = cli_next(&a)) != CLI_END;) {
        switch (opt) {
        case OPT_FORMAT: format = a.value; break;
        case OPT_OUTPUT: out = a.value; break;
        case OPT_TITLE: opts.title = a.value; break;
        case OPT_LOSS: opts.loss = a.value; break;
        case OPT_RANKDIR:
            if (strcmp(a.value, "LR") != 0 && strcmp(a.value, "TB") != 0)
                return cli_usage_error("dot", "--rankdir takes LR or TB, not '%s'", a.value);
            opts.rankdir_lr = strcmp(a.value, "LR") == 0;
            break;
        case OPT_LEVEL:
            if (strcmp(a.value, "op") != 0 && strcmp(a.value, "layer") != 0)
                return cli_usage_error("dot", "--level takes op or layer, not '%s'", a.value);
            opts.layers = strcmp(a.value, "layer") == 0;
            break;
        case OPT_LAYERS: opts.layers = 1; break;
        case OPT_BACKWARD: opts.backward = 1; break;
        default:
            if (!cli_source_arg("dot", &src, opt, a.value)) return CLI_USAGE;
        }
    }
    if (cli_source_resolve("dot", &src, NULL, 0)) return CLI_USAGE;
    const char *input = cli_source_path(&src);
    if (cli_safe_output("dot", out, &input, 1) != CLI_OK) return CLI_RUNTIME;
    if (!format && out) {
        format = format_from_path(out);
        if (!format) return cli_usage_error("dot", "cannot tell the format from '%s': add -T svg|png|pdf|json|dot", out);
    }
    if (format && strcmp(format, "svg") && strcmp(format, "png") && strcmp(format, "pdf") && strcmp(format, "json") &&
        strcmp(format, "dot"))
        return cli_usage_error("dot", "unknown format '%s' (svg, png, pdf, json, dot)", format);
    if (!opts.title) opts.title = cli_source_name(&src);

    nn_load_fault fault;
    nn_graph *g = cli_load_graph_partial("dot", &src, 1, &fault);
    if (!g) return CLI_RUNTIME;
    int status = CLI_OK;
    if (nn_graph_status(g) != NN_OK) {
        /* only a graph that is whole up to a refused op is worth drawing */
        if (nn_graph_status(g) != NN_ERR_SHAPE) {
            cli_fail("dot", "%s", nn_error_message(g));
            nn_graph_free(g);
            return CLI_RUNTIME;
        }
        opts.fault = &fault;
        status = CLI_RUNTIME;
    }
    if (opts.backward && status == CLI_OK && add_gradients(g, opts.loss) != 0) {
        nn_graph_free(g);
        return CLI_RUNTIME;
    }
    char *dot = nn_graph_dot_string(g, &opts);
    if (!dot) {
        nn_graph_free(g);
        return cli_fail("dot", "%s", nn_last_error());
    }
    char *data = dot;
    size_t len = strlen(dot);
    int rendered = format && strcmp(format, "dot") != 0;
    if (rendered && nn_dot_render(dot, format, &data, &len) != NN_OK) {
        free(dot);
        nn_graph_free(g);
        return cli_fail("dot", "%s", nn_last_error());
    }
    int ok;
    if (out) {
        ok = nn_write_file_atomic(out, data, len) == NN_OK;
        if (!ok) cli_fail("dot", "%s", nn_last_error());
    } else {
        ok = write_all(data, len, stdout) == 0;
        if (!ok) cli_fail("dot", "writing to stdout failed");
    }
    if (status != CLI_OK)
        cli_fail("dot", "%s (drawn with the failing node '%s' marked)", nn_error_message(g), fault.node);
    if (rendered) free(data);
    free(dot);
    nn_graph_free(g);
    return ok ? status : CLI_RUNTIME;
}

const cli_command cli_dot = {"dot", "draw a graph file (DOT text, or svg/png/pdf/json through Graphviz)", usage, run};
