/* nngraph show DB:RUN [--json]: one run's record, hyperparameters, final
 * metrics and a small text loss curve. */
#include "cli.h"
#include "cmd_runlog.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "Usage: nngraph show DB:RUN|RUN|--db DB --run RUN [--json]\n\n"
    "Shows one run of a run log: its record (experiment and git commit included),\n"
    "tags and notes (nngraph tag sets them), hyperparameters, latest metrics, the\n"
    "last confusion matrix if one was logged, and the training loss curve with the\n"
    "learning rate each epoch used. RUN is an id, a uuid (or a unique prefix) or a\n"
    "name (its latest run); a bare RUN is looked up in " NN_RUNLOG_DEFAULT_PATH " (or --db).\n\n"
    "  --db DB --run RUN  the run, spelled out (the same as DB:RUN)\n"
    "  --json             the run as one JSON object (curve included)\n";

enum { CURVE_ROWS = 20, BAR_WIDTH = 40 };

/* The loss per epoch, or per step when the run logged no epoch yet. */
static nn_status loss_curve(nn_runlog *log, int64_t id, nn_metric_point **pts, int *n, int *per_epoch) {
    *per_epoch = 1;
    nn_status s = nn_runlog_curve(log, id, "loss", "train", 1, pts, n);
    if (s == NN_OK && *n == 0) {
        free(*pts);
        *per_epoch = 0;
        s = nn_runlog_curve(log, id, "loss", "train", 0, pts, n);
    }
    return s;
}

/* The bar of value v on a curve from lo to hi (all finite): 1 to
 * BAR_WIDTH. Halved first, so that hi - lo cannot overflow (losses of
 * +-1.7e308 are finite). */
static int bar_width(double v, double lo, double hi) {
    double span = hi / 2 - lo / 2;
    if (!(span > 0)) return 1;
    double frac = (v / 2 - lo / 2) / span;
    if (!(frac >= 0)) frac = 0;
    if (frac > 1) frac = 1;
    return 1 + (int)((BAR_WIDTH - 1) * frac);
}

/* The learning rate per epoch. Runs logged before nngraph logged it (the
 * 'lr' epoch metric) fall back to the 'lr' hyperparameter, which was then
 * the rate of every epoch unless a callback changed it: *logged says which. */
static nn_status lr_curve(nn_runlog *log, int64_t id, const nn_param_kv *kv, int nkv, nn_metric_point **pts, int *n,
                          int *logged, double *constant) {
    *logged = 1;
    *constant = NAN;
    nn_status s = nn_runlog_curve(log, id, "lr", "train", 1, pts, n);
    if (s == NN_OK && *n == 0) {
        *logged = 0;
        for (int i = 0; i < nkv; i++)
            if (strcmp(kv[i].key, "lr") == 0 && kv[i].is_num) *constant = kv[i].num;
    }
    return s;
}

/* The lr of epoch `at` (NaN if none). */
static double lr_at(const nn_metric_point *lr, int n, int logged, double constant, int64_t at) {
    if (!logged) return constant;
    for (int i = 0; i < n; i++)
        if (lr[i].at == at) return lr[i].value;
    return NAN;
}

/* At most CURVE_ROWS rows, evenly sampled, the last one always shown; a
 * bar scaled between the curve's smallest and largest finite values. */
typedef struct lr_info {
    nn_metric_point *p;
    int n, logged;
    double constant;
} lr_info;

static void print_curve(const nn_metric_point *p, int n, int per_epoch, const lr_info *lr) {
    if (n == 0) {
        printf("\nloss curve: nothing logged yet\n");
        return;
    }
    double lo = INFINITY, hi = -INFINITY;
    for (int i = 0; i < n; i++)
        if (isfinite(p[i].value)) {
            if (p[i].value < lo) lo = p[i].value;
            if (p[i].value > hi) hi = p[i].value;
        }
    int show_lr = per_epoch && (lr->n > 0 || !isnan(lr->constant));
    printf("\nloss per %s (train)%s:\n", per_epoch ? "epoch" : "step",
           !show_lr ? "" : lr->logged ? ", with the learning rate it used"
                                      : ", with the run's lr hyperparameter (the run predates per-epoch lr logging)");
    int rows = n < CURVE_ROWS ? n : CURVE_ROWS;
    for (int r = 0; r < rows; r++) {
        int i = rows == 1 ? n - 1 : (int)((int64_t)r * (n - 1) / (rows - 1));
        char bar[BAR_WIDTH + 1];
        int w = isfinite(p[i].value) ? bar_width(p[i].value, lo, hi) : 0;
        memset(bar, '#', (size_t)w);
        bar[w] = 0;
        if (show_lr)
            printf("%8lld  %12.6g  lr %-10.4g  %s\n", (long long)p[i].at, p[i].value,
                   lr_at(lr->p, lr->n, lr->logged, lr->constant, p[i].at), isfinite(p[i].value) ? bar : "(not finite)");
        else
            printf("%8lld  %12.6g  %s\n", (long long)p[i].at, p[i].value, isfinite(p[i].value) ? bar : "(not finite)");
    }
}

/* The latest confusion matrix ("confusion/T/P" epoch metrics), of the
 * validation split when there is one. */
static void print_confusion(const nn_metric_last *m, int nm) {
    const char *split = NULL;
    int classes = 0;
    int64_t epoch = 0;
    for (int pass = 0; pass < 2 && !split; pass++)
        for (int i = 0; i < nm; i++)
            if (strncmp(m[i].key, "confusion/", 10) == 0 && strcmp(m[i].split, pass == 0 ? "val" : "train") == 0)
                split = pass == 0 ? "val" : "train";
    if (!split) return;
    for (int i = 0; i < nm; i++) {
        int t, q;
        if (strcmp(m[i].split, split) == 0 && sscanf(m[i].key, "confusion/%d/%d", &t, &q) == 2) {
            if (t + 1 > classes) classes = t + 1;
            if (m[i].at > epoch) epoch = m[i].at;
        }
    }
    if (classes > 32) {
        printf("\nconfusion matrix (%s): %d classes, too many to print; see nngraph export\n", split, classes);
        return;
    }
    printf("\nconfusion matrix (%s, epoch %lld; rows: true class, columns: predicted):\n     ", split, (long long)epoch);
    for (int q = 0; q < classes; q++) printf(" %6d", q);
    for (int t = 0; t < classes; t++) {
        printf("\n%4d ", t);
        for (int q = 0; q < classes; q++) {
            char key[48];
            snprintf(key, sizeof key, "confusion/%d/%d", t, q);
            double v = NAN;
            for (int i = 0; i < nm; i++)
                if (strcmp(m[i].split, split) == 0 && strcmp(m[i].key, key) == 0 && m[i].at == epoch) v = m[i].value;
            printf(" %6.0f", v);
        }
    }
    putchar('\n');
}

/* The tags, one a line, and the notes, line by line, each indented;
 * nothing for a run that has neither. */
static void print_tags_notes(const nn_param_kv *tags, int ntags, const char *notes) {
    char key[256], value[1024];
    if (ntags) printf("\ntags:\n");
    for (int i = 0; i < ntags; i++)
        printf("  %-20s %s\n", nnc_clean(tags[i].key, key, sizeof key), nnc_clean(tags[i].value, value, sizeof value));
    if (!notes[0]) return;
    printf("\nnotes:\n");
    for (const char *line = notes; *line;) {
        size_t n = strcspn(line, "\n");
        char text[1024];
        snprintf(text, sizeof text, "%.*s", (int)(n < sizeof text ? n : sizeof text - 1), line);
        text[strcspn(text, "\r")] = 0;
        printf("  %s\n", nnc_clean(text, value, sizeof value));
        line += n + (line[n] == '\n');
    }
}

static void print_text(const nn_run_row *r, const nn_param_kv *tags, int ntags, const char *notes,
                       const nn_param_kv *kv, int nkv, const nn_metric_last *m, int nm,
                       const nn_metric_point *p, int np, int per_epoch, const lr_info *lr) {
    char dur[24], c1[1024], c2[1024], c3[256];
    nnc_duration(r->duration_s, dur, sizeof dur);
    /* everything read from the log is cleaned of control characters */
    printf("run %lld  %s\n", (long long)r->id, r->name[0] ? nnc_clean(r->name, c1, sizeof c1) : "(no name)");
    printf("  uuid       %s\n  status     %s%s%s\n", nnc_clean(r->uuid, c3, sizeof c3),
           nnc_clean(r->status, c2, sizeof c2), r->error[0] ? ": " : "", nnc_clean(r->error, c1, sizeof c1));
    printf("  started    %s\n  ended      %s\n  duration   %s\n", r->start_time, r->end_time[0] ? r->end_time : "-",
           dur);
    printf("  epochs     %lld (%lld steps)\n  seed       %llu\n  threads    %d\n  version    %s\n  host       %s\n",
           (long long)r->epochs, (long long)r->steps, (unsigned long long)r->seed, r->threads,
           nnc_clean(r->version, c2, sizeof c2), nnc_clean(r->host, c1, sizeof c1));
    if (r->parent_run_id > 0)
        printf("  parent     run %lld at step %lld\n", (long long)r->parent_run_id, (long long)r->parent_step);
    printf("  experiment %s\n", r->experiment[0] ? nnc_clean(r->experiment, c1, sizeof c1) : "-");
    if (r->git_commit[0])
        printf("  git        %s%s\n", nnc_clean(r->git_commit, c3, sizeof c3),
               r->git_dirty == 1 ? " (uncommitted changes)" : r->git_dirty == 0 ? " (clean)" : "");
    else printf("  git        -\n");
    print_tags_notes(tags, ntags, notes);
    printf("\nhyperparameters:\n");
    if (nkv == 0) printf("  (none)\n");
    for (int i = 0; i < nkv; i++)
        printf("  %-20s %s\n", nnc_clean(kv[i].key, c3, sizeof c3), nnc_clean(kv[i].value, c1, sizeof c1));
    printf("\nlatest metrics:\n");
    if (nm == 0) printf("  (none)\n");
    for (int i = 0; i < nm; i++) {
        if (strncmp(m[i].key, "confusion/", 10) == 0) continue; /* printed as a matrix below */
        char name[80];
        snprintf(name, sizeof name, "%s%s%s", strcmp(m[i].split, "train") ? m[i].split : "",
                 strcmp(m[i].split, "train") ? "_" : "", m[i].key);
        printf("  %-20s %-12.6g (%s %lld)\n", nnc_clean(name, c3, sizeof c3), m[i].value, m[i].per_epoch ? "epoch" : "step", (long long)m[i].at);
    }
    print_confusion(m, nm);
    print_curve(p, np, per_epoch, lr);
}

static void print_json(const nn_run_row *r, const nn_param_kv *tags, int ntags, const char *notes, const nn_param_kv *kv,
                       int nkv, const nn_metric_last *m, int nm, const nn_metric_point *p, int np, int per_epoch,
                       const lr_info *lr) {
    putchar('{');
    nnc_json_run_fields(stdout, r);
    nnc_json_tags_notes(stdout, tags, ntags, notes);
    printf(",\"params\":{");
    for (int i = 0; i < nkv; i++) {
        if (i) putchar(',');
        nnc_json_str(stdout, kv[i].key);
        putchar(':');
        if (kv[i].is_num) nnc_json_num(stdout, kv[i].num);
        else nnc_json_str(stdout, kv[i].value);
    }
    printf("},\"metrics\":[");
    for (int i = 0; i < nm; i++) {
        printf("%s{\"metric\":", i ? "," : "");
        nnc_json_str(stdout, m[i].key);
        printf(",\"split\":\"%s\",\"per\":\"%s\",\"at\":%lld,\"value\":", m[i].split, m[i].per_epoch ? "epoch" : "step",
               (long long)m[i].at);
        nnc_json_num(stdout, m[i].value);
        putchar('}');
    }
    printf("],\"loss_curve\":{\"per\":\"%s\",\"points\":[", per_epoch ? "epoch" : "step");
    for (int i = 0; i < np; i++) {
        printf("%s[%lld,", i ? "," : "", (long long)p[i].at);
        nnc_json_num(stdout, p[i].value);
        putchar(']');
    }
    printf("]},\"lr_curve\":{\"source\":\"%s\",\"points\":[", lr->logged ? "logged" : "hyperparameter");
    for (int i = 0, k = 0; per_epoch && i < np; i++) {
        double v = lr_at(lr->p, lr->n, lr->logged, lr->constant, p[i].at);
        if (isnan(v)) continue;
        printf("%s[%lld,", k++ ? "," : "", (long long)p[i].at);
        nnc_json_num(stdout, v);
        putchar(']');
    }
    printf("]}}\n");
}

enum { OPT_JSON = 1 };
static const cli_option options[] = {{"json", 0, NULL, OPT_JSON}, CLI_SOURCE_OPTIONS, {NULL, 0, NULL, 0}};

static int run(int argc, char **argv) {
    cli_source src = {0};
    int json = 0;
    cli_args a;
    cli_args_init(&a, "show", options, argc, argv);
    for (int opt; (opt = cli_next(&a)) != CLI_END;) {
        if (opt == OPT_JSON) json = 1;
        else if (!cli_source_arg("show", &src, opt, a.value)) return CLI_USAGE;
    }
    if (cli_source_resolve("show", &src, NN_RUNLOG_DEFAULT_PATH, 1)) return CLI_USAGE;
    const char *db = src.db, *spec = src.run;
    nn_runlog *log = nn_runlog_open(db, NN_RUNLOG_READONLY);
    if (!log) return cli_fail("show", "%s", nn_last_error());
    int64_t id = 0;
    nn_run_row row;
    nn_param_kv *kv = NULL, *tags = NULL;
    char *notes = NULL;
    int ntags = 0;
    nn_metric_last *m = NULL;
    nn_metric_point *p = NULL;
    int nkv = 0, nm = 0, np = 0, per_epoch = 1;
    lr_info lr = {0};
    nn_status s = nn_runlog_find_run(log, spec, &id);
    if (s == NN_OK) s = nn_runlog_get_run(log, id, &row);
    if (s == NN_OK) s = nnc_tags_notes(log, id, &tags, &ntags, &notes);
    if (s == NN_OK) s = nn_runlog_params(log, id, &kv, &nkv);
    if (s == NN_OK) s = nn_runlog_last_metrics(log, id, &m, &nm);
    if (s == NN_OK) s = loss_curve(log, id, &p, &np, &per_epoch);
    if (s == NN_OK) s = lr_curve(log, id, kv, nkv, &lr.p, &lr.n, &lr.logged, &lr.constant);
    if (s != NN_OK) cli_fail("show", "%s", nn_last_error());
    else if (json) print_json(&row, tags, ntags, notes, kv, nkv, m, nm, p, np, per_epoch, &lr);
    else print_text(&row, tags, ntags, notes, kv, nkv, m, nm, p, np, per_epoch, &lr);
    free(tags);
    free(notes);
    free(lr.p);
    free(kv);
    free(m);
    free(p);
    nn_runlog_close(log);
    return s == NN_OK ? CLI_OK : CLI_RUNTIME;
}

const cli_command cli_show = {"show", "show one logged run: params, metrics, loss curve", usage, run};
