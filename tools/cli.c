/* Helpers shared by the subcommands (see cli.h). */
#include "cli.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static void vreport(const char *cmd, const char *fmt, va_list ap) {
    fprintf(stderr, "nngraph%s%s: ", cmd ? " " : "", cmd ? cmd : "");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

int cli_usage_error(const char *cmd, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vreport(cmd, fmt, ap);
    va_end(ap);
    fprintf(stderr, "Try 'nngraph %s%s--help'.\n", cmd ? cmd : "", cmd ? " " : "");
    return CLI_USAGE;
}

int cli_graph_file_arg(const char *cmd, const char *arg, const char **file) {
    if (arg[0] == '-' && arg[1]) return cli_usage_error(cmd, "unknown option '%s'", arg);
    if (*file) return cli_usage_error(cmd, "one graph file at a time ('%s' and '%s')", *file, arg);
    *file = arg;
    return 0;
}

static char last_failure[1024];

int cli_fail(const char *cmd, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    va_list again;
    va_copy(again, ap);
    vreport(cmd, fmt, ap);
    vsnprintf(last_failure, sizeof last_failure, fmt, again);
    va_end(again);
    va_end(ap);
    return CLI_RUNTIME;
}

const char *cli_last_failure(void) { return last_failure; }

int cli_wants_help(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0) break;
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) return 1;
    }
    return 0;
}

int cli_opt(const char *cmd, int argc, char **argv, int *i, const char *name, const char **value) {
    const char *a = argv[*i];
    size_t nl = strlen(name);
    if (strncmp(a, name, nl) != 0) return 0;
    if (a[nl] == '=' && name[1] == '-') {
        *value = a + nl + 1;
        return 1;
    }
    if (a[nl] != 0) return 0;
    if (*i + 1 >= argc) {
        cli_usage_error(cmd, "option %s needs a value", name);
        return -1;
    }
    *value = argv[++*i];
    return 1;
}

int cli_int(const char *cmd, const char *name, const char *s, long long min, long long max, long long *out) {
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (end == s || *end || errno == ERANGE || v < min || v > max) {
        cli_usage_error(cmd, "%s wants a whole number from %lld to %lld, not '%s'", name, min, max, s);
        return -1;
    }
    *out = v;
    return 0;
}

int cli_double(const char *cmd, const char *name, const char *s, double min, double max, double *out) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end || errno == ERANGE || !isfinite(v) || v < min || v > max) {
        cli_usage_error(cmd, "%s wants a number from %g to %g, not '%s'", name, min, max, s);
        return -1;
    }
    *out = v;
    return 0;
}

/* The graph text of DB:RUN from the run log; NULL (error set) if the
 * database, the run or its graph is missing. */
static char *run_graph_text(const char *spec) {
    const char *colon = strrchr(spec, ':');
    char db[1024];
    if (!colon || colon == spec || !colon[1] || (size_t)(colon - spec) >= sizeof db) {
        nn_set_error(NN_ERR_IO, "%s: cannot open: %s", spec, strerror(ENOENT));
        return NULL;
    }
    snprintf(db, sizeof db, "%.*s", (int)(colon - spec), spec);
    nn_runlog *log = nn_runlog_open(db, NN_RUNLOG_READONLY);
    if (!log) return NULL;
    int64_t run = 0;
    char *text = NULL;
    if (nn_runlog_find_run(log, colon + 1, &run) == NN_OK) text = nn_runlog_graph_text(log, run);
    /* keep the reason: closing a read-only log cannot fail, but may set it */
    char why[512];
    snprintf(why, sizeof why, "%s", nn_last_error());
    nn_runlog_close(log);
    if (!text) nn_set_error(NN_ERR_ARG, "%s", why);
    return text;
}

static nn_graph *load(const char *cmd, const char *spec, uint64_t seed, int partial, nn_load_fault *fault) {
    struct stat st;
    nn_graph *g;
    if (stat(spec, &st) == 0 || !strchr(spec, ':')) {
        g = partial ? nn_graph_load_partial(spec, seed, fault) : nn_graph_load(spec, seed);
    } else {
        char *text = run_graph_text(spec);
        g = !text ? NULL
            : partial ? nn_graph_load_text_partial(text, strlen(text), spec, seed, fault)
                      : nn_graph_load_text(text, strlen(text), spec, seed);
        free(text);
    }
    if (!g) cli_fail(cmd, "%s", nn_last_error());
    return g;
}

nn_graph *cli_load_graph(const char *cmd, const char *spec, uint64_t seed) { return load(cmd, spec, seed, 0, NULL); }

nn_graph *cli_load_graph_partial(const char *cmd, const char *spec, uint64_t seed, nn_load_fault *fault) {
    return load(cmd, spec, seed, 1, fault);
}

nn_node *cli_find_loss(const char *cmd, nn_graph *g, const char *name) {
    if (name) {
        nn_node *l = nn_graph_find(g, name);
        if (!l) cli_fail(cmd, "--loss: no node named '%s'", name);
        else if (nn_node_shape(l).rank != 0 || nn_node_kind_of(l) != NN_NODE_OP)
            return cli_fail(cmd, "--loss: '%s' is not a scalar op", name), NULL;
        return l;
    }
    nn_node *loss = nn_graph_guess_loss(g);
    if (!loss) cli_fail(cmd, "the graph has no scalar output to use as the loss (name one with --loss)");
    return loss;
}

nn_node *cli_find_output(const char *cmd, nn_graph *g, const char *name) {
    if (name) {
        nn_node *o = nn_graph_find(g, name);
        if (!o) cli_fail(cmd, "--output: no node named '%s'", name);
        return o;
    }
    nn_node *out = nn_graph_guess_output(g);
    if (out) return out;
    cli_fail(cmd, "the graph has no output to predict with (name one with --output)");
    return NULL;
}

nn_node *cli_find_input(const char *cmd, nn_graph *g, const char *name, const char *role) {
    nn_node *x = nn_graph_find(g, name);
    if (!x || nn_node_kind_of(x) != NN_NODE_INPUT) {
        cli_fail(cmd, "the graph has no input node '%s' for the %s (name it with --%s)", name, role,
                 strcmp(role, "features") == 0 ? "x" : "y");
        return NULL;
    }
    return x;
}
