/* nngraph ui DB: the run history in the browser, or with --export DIR
 * the same pages as static files (nngraph/ui.h, src/ui). */
#include "cli.h"
#include "nngraph/ui.h"

#include <stdio.h>
#include <string.h>

static const char usage[] =
    "Usage: nngraph ui [DB|--db DB] [--port N] [--host ADDR] | nngraph ui [DB] --export DIR\n\n"
    "Serves the run log DB (default " NN_RUNLOG_DEFAULT_PATH ") as web pages: every run in a table\n"
    "(sortable, filterable, refreshed every 3 s while you watch), one page per run\n"
    "(curves, hyperparameters, tags, notes, checkpoints with their weights as .nnw,\n"
    "the graph) and /compare?runs=1,2 for 2 to 5 runs. The database is opened\n"
    "read-only; no page writes, deletes or runs anything. Ctrl-C stops.\n\n"
    "  --port N      TCP port (default 8765; 0: any free port, printed)\n"
    "  --host ADDR   IPv4 address to listen on (default 127.0.0.1, this machine only;\n"
    "                0.0.0.0 serves every network the machine is on)\n"
    "  --export DIR  write index.html, run-ID.html, graphs and each run's last\n"
    "                weights into DIR instead of serving\n";

enum { OPT_DB = 1, OPT_PORT, OPT_HOST, OPT_EXPORT };
static const cli_option options[] = {{"db", 0, "DB", OPT_DB},        {"port", 0, "N", OPT_PORT},
                                     {"host", 0, "ADDR", OPT_HOST},  {"export", 0, "DIR", OPT_EXPORT},
                                     {NULL, 0, NULL, 0}};

static int run(int argc, char **argv) {
    const char *db = NULL, *host = "127.0.0.1", *export_dir = NULL;
    long long port = 8765;
    cli_args a;
    cli_args_init(&a, "ui", options, argc, argv);
    for (int opt; (opt = cli_next(&a)) != CLI_END;) {
        switch (opt) {
        case OPT_HOST: host = a.value; break;
        case OPT_EXPORT: export_dir = a.value; break;
        case OPT_PORT:
            if (cli_int("ui", "--port", a.value, 0, 65535, &port)) return CLI_USAGE;
            break;
        case OPT_DB:
        case CLI_OPERAND:
            if (db) return cli_usage_error("ui", "one run log at a time ('%s' and '%s')", db, a.value);
            db = a.value;
            break;
        default: return CLI_USAGE;
        }
    }
    if (!db) db = NN_RUNLOG_DEFAULT_PATH;
    if (export_dir) {
        if (nn_ui_export(db, export_dir) != NN_OK) return cli_fail("ui", "%s", nn_last_error());
        fprintf(stderr, "nngraph ui: wrote the pages of %s to %s/index.html\n", db, export_dir);
        return CLI_OK;
    }
    nn_status s = nn_ui_serve(db, host, (int)port);
    if (s == NN_ERR_ARG) return cli_usage_error("ui", "%s", nn_last_error());
    return s == NN_OK ? CLI_OK : cli_fail("ui", "%s", nn_last_error());
}

const cli_command cli_ui = {"ui", "the run history as web pages (local server or --export DIR)", usage, run};
