/* nngraph ui DB: the run history in the browser, or with --export DIR
 * the same pages as static files (nngraph/ui.h, src/ui). */
#include "cli.h"
#include "nngraph/ui.h"

#include <stdio.h>
#include <string.h>

static const char usage[] =
    "Usage: nngraph ui [DB] [--port N] [--host ADDR] | nngraph ui [DB] --export DIR\n\n"
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

static int run(int argc, char **argv) {
    const char *db = NULL, *host = "127.0.0.1", *export_dir = NULL, *v;
    long long port = 8765;
    for (int i = 1; i < argc; i++) {
        int r;
        if ((r = cli_opt("ui", argc, argv, &i, "--host", &host)) != 0 ||
            (r = cli_opt("ui", argc, argv, &i, "--export", &export_dir)) != 0) {
            if (r < 0) return CLI_USAGE;
        } else if ((r = cli_opt("ui", argc, argv, &i, "--port", &v)) != 0) {
            if (r < 0 || cli_int("ui", "--port", v, 0, 65535, &port)) return CLI_USAGE;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            return cli_usage_error("ui", "unknown option '%s'", argv[i]);
        } else if (db) {
            return cli_usage_error("ui", "one run log at a time ('%s' and '%s')", db, argv[i]);
        } else {
            db = argv[i];
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
