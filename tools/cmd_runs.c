/* nngraph runs [DB] [--json]: every run of a run log, one a line. */
#include "cli.h"
#include "cmd_runlog.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "Usage: nngraph runs [DB|--db DB] [--json]\n\n"
    "Lists the runs of a run log (default " NN_RUNLOG_DEFAULT_PATH "): id, name, status, epochs,\n"
    "final loss and accuracy, duration, experiment, git commit (+dirty: uncommitted\n"
    "changes), tags and the first line of the notes (nngraph tag sets them). A run\n"
    "whose process died reads 'interrupted'.\n"
    "Name one of them elsewhere as DB:RUN (nngraph show " NN_RUNLOG_DEFAULT_PATH ":1).\n\n"
    "  --db DB   the run log (the same as giving DB)\n"
    "  --json    one JSON object a run (JSON Lines)\n";

static void print_json(const nn_run_row *r, const nn_param_kv *tags, int ntags, const char *notes) {
    putchar('{');
    nnc_json_run_fields(stdout, r);
    nnc_json_tags_notes(stdout, tags, ntags, notes);
    printf(",\"final_loss\":");
    nnc_json_num(stdout, r->final_loss);
    printf(",\"best_loss\":");
    nnc_json_num(stdout, r->best_loss);
    printf(",\"final_accuracy\":");
    nnc_json_num(stdout, r->final_accuracy);
    printf(",\"final_val_loss\":");
    nnc_json_num(stdout, r->final_val_loss);
    printf(",\"final_val_accuracy\":");
    nnc_json_num(stdout, r->final_val_accuracy);
    printf(",\"parent_run_id\":");
    if (r->parent_run_id > 0) printf("%lld", (long long)r->parent_run_id);
    else printf("null");
    printf(",\"version\":");
    nnc_json_str(stdout, r->version);
    printf("}\n");
}

/* The tags as "key=value, ..." then " | " and the notes' first line, cut
 * to TAGS_WIDTH characters with "..."; cleaned for the terminal. */
enum { TAGS_WIDTH = 60 };
static void tags_and_notes(const nn_param_kv *tags, int ntags, const char *notes, char *out, size_t len) {
    char text[1024] = "", clean[1024];
    size_t at = 0;
    for (int i = 0; i < ntags && at < sizeof text; i++)
        at += (size_t)snprintf(text + at, sizeof text - at, "%s%s=%s", i ? ", " : "", tags[i].key, tags[i].value);
    size_t first_line = strcspn(notes, "\r\n");
    if (first_line && at < sizeof text)
        snprintf(text + at, sizeof text - at, "%s%.*s", ntags ? " | " : "", (int)first_line, notes);
    nnc_clean(text, clean, sizeof clean);
    if (strlen(clean) > TAGS_WIDTH) snprintf(out, len, "%.*s...", TAGS_WIDTH - 3, clean);
    else snprintf(out, len, "%s", clean);
}

static void fmt_num(double v, const char *fmt, char *buf, size_t len) {
    if (isnan(v)) snprintf(buf, len, "-");
    else snprintf(buf, len, fmt, v);
}

enum { OPT_DB = 1, OPT_JSON };
static const cli_option options[] = {{"db", 0, "DB", OPT_DB}, {"json", 0, NULL, OPT_JSON}, {NULL, 0, NULL, 0}};

static int run(int argc, char **argv) {
    const char *db = NULL;
    int json = 0;
    cli_args a;
    cli_args_init(&a, "runs", options, argc, argv);
    for (int opt; (opt = cli_next(&a)) != CLI_END;) {
        switch (opt) {
        case OPT_JSON: json = 1; break;
        case OPT_DB:
        case CLI_OPERAND:
            if (db) return cli_usage_error("runs", "one database at a time ('%s' and '%s')", db, a.value);
            db = a.value;
            break;
        default: return CLI_USAGE;
        }
    }
    if (!db) db = NN_RUNLOG_DEFAULT_PATH;
    nn_runlog *log = nn_runlog_open(db, NN_RUNLOG_READONLY);
    if (!log) return cli_fail("runs", "%s", nn_last_error());
    nn_run_row *rows = NULL;
    int n = 0;
    if (nn_runlog_list(log, &rows, &n) != NN_OK) {
        cli_fail("runs", "%s", nn_last_error());
        nn_runlog_close(log);
        return CLI_RUNTIME;
    }
    if (!json)
        printf("%4s  %-20s %-11s %6s %10s %8s %10s  %-14s %-14s %s\n", "id", "name", "status", "epochs", "loss", "acc",
               "duration", "experiment", "git", "tags | notes");
    nn_status s = NN_OK;
    for (int i = 0; i < n && s == NN_OK; i++) {
        const nn_run_row *r = &rows[i];
        nn_param_kv *tags = NULL;
        int ntags = 0;
        char *notes = NULL;
        if ((s = nnc_tags_notes(log, r->id, &tags, &ntags, &notes)) != NN_OK) break;
        if (json) {
            print_json(r, tags, ntags, notes);
        } else {
            char loss[24], acc[24], dur[24], extra[TAGS_WIDTH + 8], git[32];
            fmt_num(r->final_loss, "%.4g", loss, sizeof loss);
            fmt_num(r->final_accuracy, "%.4f", acc, sizeof acc);
            nnc_duration(r->duration_s, dur, sizeof dur);
            tags_and_notes(tags, ntags, notes, extra, sizeof extra);
            char name[64], status[32], experiment[64];
            printf("%4lld  %-20.20s %-11s %6lld %10s %8s %10s  %-14.14s %-14s %s\n", (long long)r->id,
                   r->name[0] ? nnc_clean(r->name, name, sizeof name) : "-", nnc_clean(r->status, status, sizeof status),
                   (long long)r->epochs, loss, acc, dur,
                   r->experiment[0] ? nnc_clean(r->experiment, experiment, sizeof experiment) : "-",
                   nnc_git_short(r, git, sizeof git), extra);
        }
        free(tags);
        free(notes);
    }
    if (s != NN_OK) cli_fail("runs", "%s", nn_last_error());
    if (!json && n == 0) fprintf(stderr, "nngraph runs: %s holds no runs yet\n", db);
    free(rows);
    nn_runlog_close(log);
    return s == NN_OK ? CLI_OK : CLI_RUNTIME;
}

const cli_command cli_runs = {"runs", "list the runs of a run log (SQLite)", usage, run};
