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

/* ---- the option parser ---- */

void cli_args_init(cli_args *a, const char *cmd, const cli_option *opts, int argc, char **argv) {
    memset(a, 0, sizeof *a);
    a->cmd = cmd;
    a->opts = opts;
    a->argc = argc;
    a->argv = argv;
    a->i = 1;
}

/* Optimal string alignment distance (a swap of neighbours counts one),
 * for words up to 63 characters; longer ones are far from everything. */
static int edit_distance(const char *s, const char *t) {
    size_t m = strlen(s), n = strlen(t);
    if (m > 63 || n > 63) return 99;
    int d[64][64];
    for (size_t i = 0; i <= m; i++) d[i][0] = (int)i;
    for (size_t j = 0; j <= n; j++) d[0][j] = (int)j;
    for (size_t i = 1; i <= m; i++)
        for (size_t j = 1; j <= n; j++) {
            int cost = s[i - 1] != t[j - 1];
            int best = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < best) best = d[i][j - 1] + 1;
            if (d[i - 1][j - 1] + cost < best) best = d[i - 1][j - 1] + cost;
            if (i > 1 && j > 1 && s[i - 1] == t[j - 2] && s[i - 2] == t[j - 1] && d[i - 2][j - 2] + 1 < best)
                best = d[i - 2][j - 2] + 1;
            d[i][j] = best;
        }
    return d[m][n];
}

const char *cli_closest(const char *word, const char *const *words, int n) {
    const char *best = NULL;
    int best_d = 99;
    size_t wl = strlen(word);
    for (int i = 0; i < n; i++) {
        int dist = edit_distance(word, words[i]);
        /* a prefix counts as close: --epoch for --epochs, --lay for --layers */
        if (wl >= 2 && strncmp(words[i], word, wl) == 0) dist = 1;
        if (dist < best_d) best_d = dist, best = words[i];
    }
    /* a typo: at most 2 edits, and fewer than half the word */
    return best && best_d <= 2 && (size_t)best_d * 2 < (wl > 2 ? wl : 3) ? best : NULL;
}

static int unknown_option(cli_args *a, const char *name) {
    const char *names[64];
    int n = 0;
    for (const cli_option *o = a->opts; o->name && n < 62; o++)
        if (o->name[0]) names[n++] = o->name;
    names[n++] = "help";
    const char *close = name[0] && name[1] != 0 ? cli_closest(name, names, n) : NULL;
    /* options renamed when every command came to name a run log --db */
    for (int i = 0; i < n && !close; i++)
        if (strcmp(name, "log") == 0 && strcmp(names[i], "db") == 0) close = names[i];
    if (close) return cli_usage_error(a->cmd, "unknown option '%s'; did you mean '--%s'?", a->arg, close), CLI_BAD;
    return cli_usage_error(a->cmd, "unknown option '%s'", a->arg), CLI_BAD;
}

int cli_next(cli_args *a) {
    a->value = NULL;
    if (a->i >= a->argc) return CLI_END;
    char *arg = a->argv[a->i++];
    a->arg = arg;
    if (a->operands_only || arg[0] != '-' || arg[1] == 0) {
        a->value = arg;
        return CLI_OPERAND;
    }
    if (strcmp(arg, "--") == 0) {
        a->operands_only = 1;
        return cli_next(a);
    }
    const cli_option *opt = NULL;
    const char *attached = NULL;
    if (arg[1] == '-') {
        const char *name = arg + 2, *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        for (const cli_option *o = a->opts; o->name && !opt && len; o++)
            if (strlen(o->name) == len && strncmp(o->name, name, len) == 0) opt = o;
        if (!opt) {
            char bare[64];
            snprintf(bare, sizeof bare, "%.*s", (int)(len < 63 ? len : 63), name);
            return unknown_option(a, bare);
        }
        if (eq) attached = eq + 1;
    } else {
        for (const cli_option *o = a->opts; o->name && !opt; o++)
            if (o->short_name && o->short_name == arg[1]) opt = o;
        if (!opt) return unknown_option(a, arg + 1);
        if (arg[2]) attached = arg + 2; /* -Tpng */
    }
    if (!opt->value) {
        if (attached) return cli_usage_error(a->cmd, "option %.*s takes no value", (int)(attached - a->arg - (a->arg[1] == '-')), a->arg), CLI_BAD;
        return opt->id;
    }
    if (attached) {
        a->value = attached;
    } else if (a->i < a->argc) {
        a->value = a->argv[a->i++];
    } else {
        return cli_usage_error(a->cmd, "option %s needs a value (%s)", a->arg, opt->value), CLI_BAD;
    }
    return opt->id;
}

const char *cli_next_value(cli_args *a) {
    if (a->i >= a->argc || a->operands_only || a->argv[a->i][0] == '-') return NULL;
    return a->argv[a->i++];
}

/* ---- values ---- */

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

/* ---- graphs and runs by name ---- */

int cli_is_database(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    char head[16];
    int is_db = fread(head, 1, sizeof head, f) == sizeof head && memcmp(head, "SQLite format 3", 16) == 0;
    fclose(f);
    return is_db;
}

/* 1 if s could name a run: an id, or a name or uuid prefix that is no
 * existing file. */
static int looks_like_run(const char *s) {
    struct stat st;
    return s[0] && stat(s, &st) != 0;
}

int cli_source_operand(const char *cmd, cli_source *s, const char *arg) {
    if (!s->file) {
        s->file = arg;
        return 0;
    }
    const char *first = s->file;
    if (cli_is_database(first) && looks_like_run(arg))
        return cli_usage_error(cmd, "a run is named DB:RUN: write '%s:%s', not '%s %s'", first, arg, first, arg);
    if (cli_is_database(arg) && looks_like_run(first))
        return cli_usage_error(cmd, "a run is named DB:RUN: write '%s:%s' (the database first), not '%s %s'", arg,
                               first, first, arg);
    return cli_usage_error(cmd, "one graph or run at a time ('%s' and '%s')", first, arg);
}

int cli_source_arg(const char *cmd, cli_source *s, int opt, const char *value) {
    switch (opt) {
    case CLI_OPT_DB: s->db = value; return 1;
    case CLI_OPT_RUN: s->run = value; return 1;
    case CLI_OPERAND: return cli_source_operand(cmd, s, value) == 0;
    default: return 0;
    }
}

int cli_source_resolve(const char *cmd, cli_source *s, const char *default_db, int want_run) {
    struct stat st;
    if (s->file && s->run) return cli_usage_error(cmd, "give '%s' or --run, not both", s->file);
    if (s->file && stat(s->file, &st) == 0) {
        if (cli_is_database(s->file))
            return cli_usage_error(cmd, "'%s' is a run log: name one of its runs as %s:RUN (see 'nngraph runs %s')",
                                   s->file, s->file, s->file);
        if (want_run) return cli_usage_error(cmd, "'%s' is a file, not a run: name a run as DB:RUN", s->file);
        if (s->db) return cli_usage_error(cmd, "give '%s' or --db/--run, not both", s->file);
    } else if (s->file) {
        /* no such file: DB:RUN, split at the last colon; or a bare RUN */
        const char *colon = strrchr(s->file, ':');
        if (colon && colon != s->file && colon[1]) {
            size_t dl = (size_t)(colon - s->file);
            if (s->db) return cli_usage_error(cmd, "give '%s' or --db, not both", s->file);
            if (dl >= sizeof s->db_buf) return cli_usage_error(cmd, "database path too long");
            memcpy(s->db_buf, s->file, dl);
            s->db_buf[dl] = 0;
            s->db = s->db_buf;
            s->run = colon + 1;
            s->file = NULL;
        } else if (want_run) {
            s->run = s->file;
            s->file = NULL;
        }
    }
    if (!s->file) {
        if (!s->db) s->db = default_db;
        if (!s->run && !s->db) return cli_usage_error(cmd, "no graph file or run given");
        if (!s->run) return cli_usage_error(cmd, "which run? name it as DB:RUN or --run RUN (an id, uuid or name)");
        if (!s->db) return cli_usage_error(cmd, "--run needs --db DB (or name the run as DB:RUN)");
        snprintf(s->name, sizeof s->name, "%.2047s:%.2047s", s->db, s->run);
    }
    return 0;
}

/* The graph text the run log db recorded for run; NULL (error set) if the
 * database, the run or its graph is missing. */
static char *run_graph_text(const char *db, const char *run) {
    nn_runlog *log = nn_runlog_open(db, NN_RUNLOG_READONLY);
    if (!log) return NULL;
    int64_t id = 0;
    char *text = NULL;
    if (nn_runlog_find_run(log, run, &id) == NN_OK) text = nn_runlog_graph_text(log, id);
    /* keep the reason: closing a read-only log cannot fail, but may set it */
    char why[512];
    snprintf(why, sizeof why, "%s", nn_last_error());
    nn_runlog_close(log);
    if (!text) nn_set_error(NN_ERR_ARG, "%s", why);
    return text;
}

static nn_graph *load(const char *cmd, const cli_source *src, uint64_t seed, int partial, nn_load_fault *fault) {
    nn_graph *g;
    if (src->file) {
        g = partial ? nn_graph_load_partial(src->file, seed, fault) : nn_graph_load(src->file, seed);
    } else {
        char *text = run_graph_text(src->db, src->run);
        const char *name = cli_source_name(src);
        g = !text ? NULL
            : partial ? nn_graph_load_text_partial(text, strlen(text), name, seed, fault)
                      : nn_graph_load_text(text, strlen(text), name, seed);
        free(text);
    }
    if (!g) cli_fail(cmd, "%s", nn_last_error());
    return g;
}

nn_graph *cli_load_graph(const char *cmd, const cli_source *src, uint64_t seed) { return load(cmd, src, seed, 0, NULL); }

nn_graph *cli_load_graph_partial(const char *cmd, const cli_source *src, uint64_t seed, nn_load_fault *fault) {
    return load(cmd, src, seed, 1, fault);
}

const char *cli_source_path(const cli_source *src) { return src->file ? src->file : src->db; }

const char *cli_source_name(const cli_source *src) {
    if (src->file) {
        const char *slash = strrchr(src->file, '/');
        return slash ? slash + 1 : src->file;
    }
    return src->name; /* "DB:RUN", made by cli_source_resolve */
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
