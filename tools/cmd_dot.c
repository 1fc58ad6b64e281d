/* nngraph dot: a graph file as DOT text, or rendered through Graphviz's
 * libraries (svg, png, pdf, json). A file whose only fault is a shape
 * error is still drawn, the failing node marked, and the exit status is 1;
 * any other malformed file writes nothing. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "Usage: nngraph dot FILE.nng|DB:RUN|--db DB --run RUN [-T svg|png|pdf|json|dot] [-o OUT] [--layers] [--backward]\n"
    "                  [--rankdir TB|LR] [--title TEXT] [--loss NODE]\n\n"
    "Draws the graph. Without -T or -o, DOT text goes to stdout; -T renders in\n"
    "process with Graphviz (to stdout, or to OUT); -o alone takes the format from\n"
    "OUT's extension (.svg .png .pdf .json .dot .gv). OUT is written atomically.\n\n"
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

static int run(int argc, char **argv) {
    const char *file = NULL, *format = NULL, *out = NULL, *v, *db = NULL, *run_id = NULL;
    char spec[4096];
    nn_dot_opts opts = {0};
    for (int i = 1; i < argc; i++) {
        int r;
        if ((r = cli_opt("dot", argc, argv, &i, "-T", &format)) != 0 ||
            (r = cli_opt("dot", argc, argv, &i, "-o", &out)) != 0 ||
            (r = cli_opt("dot", argc, argv, &i, "--output", &out)) != 0 ||
            (r = cli_opt("dot", argc, argv, &i, "--title", &opts.title)) != 0 ||
            (r = cli_opt("dot", argc, argv, &i, "--loss", &opts.loss)) != 0 ||
            (r = cli_opt("dot", argc, argv, &i, "--db", &db)) != 0 ||
            (r = cli_opt("dot", argc, argv, &i, "--run", &run_id)) != 0) {
            if (r < 0) return CLI_USAGE;
        } else if ((r = cli_opt("dot", argc, argv, &i, "--rankdir", &v)) != 0) {
            if (r < 0) return CLI_USAGE;
            if (strcmp(v, "LR") != 0 && strcmp(v, "TB") != 0)
                return cli_usage_error("dot", "--rankdir takes LR or TB, not '%s'", v);
            opts.rankdir_lr = strcmp(v, "LR") == 0;
        } else if ((r = cli_opt("dot", argc, argv, &i, "--level", &v)) != 0) {
            if (r < 0) return CLI_USAGE;
            if (strcmp(v, "op") != 0 && strcmp(v, "layer") != 0)
                return cli_usage_error("dot", "--level takes op or layer, not '%s'", v);
            opts.layers = strcmp(v, "layer") == 0;
        } else if (strcmp(argv[i], "--layers") == 0) {
            opts.layers = 1;
        } else if (strcmp(argv[i], "--backward") == 0) {
            opts.backward = 1;
        } else if (cli_graph_file_arg("dot", argv[i], &file) != 0) {
            return CLI_USAGE;
        }
    }
    if (db || run_id) {
        /* --db DB --run RUN is the spelled-out form of DB:RUN */
        if (!db || !run_id) return cli_usage_error("dot", "--db and --run go together");
        if (file) return cli_usage_error("dot", "give a graph file or --db/--run, not both");
        if ((size_t)snprintf(spec, sizeof spec, "%s:%s", db, run_id) >= sizeof spec)
            return cli_usage_error("dot", "--db path too long");
        file = spec;
    }
    if (!file) return cli_usage_error("dot", "no graph file given");
    if (cli_safe_output("dot", out, &file, 1) != CLI_OK) return CLI_RUNTIME;
    if (!format && out) {
        format = format_from_path(out);
        if (!format) return cli_usage_error("dot", "cannot tell the format from '%s': add -T svg|png|pdf|json|dot", out);
    }
    if (format && strcmp(format, "svg") && strcmp(format, "png") && strcmp(format, "pdf") && strcmp(format, "json") &&
        strcmp(format, "dot"))
        return cli_usage_error("dot", "unknown format '%s' (svg, png, pdf, json, dot)", format);
    if (!opts.title) {
        const char *slash = strrchr(file, '/');
        opts.title = slash ? slash + 1 : file;
    }

    nn_load_fault fault;
    nn_graph *g = cli_load_graph_partial("dot", file, 1, &fault);
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
