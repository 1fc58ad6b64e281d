/* nngraph runs [DB] [--json]: every run of a run log, one a line. */
#include "cmd_runlog.h"
#include "nngraph.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const char nn_cmd_runs_summary[] = "list the runs of a run log (SQLite)";
const char nn_cmd_runs_usage[] =
    "usage: nngraph runs [DB] [--json]\n"
    "List the runs of a run log (default " NN_RUNLOG_DEFAULT_PATH "): id, name, status, epochs,\n"
    "final loss and accuracy, duration. A run whose process died reads 'interrupted'.\n"
    "  --json   one JSON object a run (JSON Lines)\n"
    "  --help   this text\n";

static void print_json(const nn_run_row *r) {
    putchar('{');
    nnc_json_run_fields(stdout, r);
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

static void fmt_num(double v, const char *fmt, char *buf, size_t len) {
    if (isnan(v)) snprintf(buf, len, "-");
    else snprintf(buf, len, fmt, v);
}

int nn_cmd_runs(int argc, char **argv) {
    const char *db = NULL;
    int json = 0;
    for (int i = 1; i < argc; i++) {
        if (nnc_is_help(argv[i])) {
            fputs(nn_cmd_runs_usage, stdout);
            return 0;
        } else if (strcmp(argv[i], "--json") == 0) {
            json = 1;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "nngraph runs: unknown option '%s'\n%s", argv[i], nn_cmd_runs_usage);
            return 2;
        } else if (db) {
            fprintf(stderr, "nngraph runs: one database at a time ('%s' and '%s')\n%s", db, argv[i], nn_cmd_runs_usage);
            return 2;
        } else {
            db = argv[i];
        }
    }
    if (!db) db = NN_RUNLOG_DEFAULT_PATH;
    nn_runlog *log = nn_runlog_open(db, NN_RUNLOG_READONLY);
    if (!log) {
        fprintf(stderr, "nngraph runs: %s\n", nn_last_error());
        return 1;
    }
    nn_run_row *rows = NULL;
    int n = 0;
    if (nn_runlog_list(log, &rows, &n) != NN_OK) {
        fprintf(stderr, "nngraph runs: %s\n", nn_last_error());
        nn_runlog_close(log);
        return 1;
    }
    if (!json) printf("%4s  %-20s %-11s %6s %10s %8s %10s\n", "id", "name", "status", "epochs", "loss", "acc",
                      "duration");
    for (int i = 0; i < n; i++) {
        const nn_run_row *r = &rows[i];
        if (json) {
            print_json(r);
            continue;
        }
        char loss[24], acc[24], dur[24];
        fmt_num(r->final_loss, "%.4g", loss, sizeof loss);
        fmt_num(r->final_accuracy, "%.4f", acc, sizeof acc);
        nnc_duration(r->duration_s, dur, sizeof dur);
        char name[64], status[32];
        printf("%4lld  %-20.20s %-11s %6lld %10s %8s %10s\n", (long long)r->id,
               r->name[0] ? nnc_clean(r->name, name, sizeof name) : "-", nnc_clean(r->status, status, sizeof status),
               (long long)r->epochs, loss, acc, dur);
    }
    if (!json && n == 0) fprintf(stderr, "nngraph runs: %s holds no runs yet\n", db);
    free(rows);
    nn_runlog_close(log);
    return 0;
}
