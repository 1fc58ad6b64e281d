/* nngraph-runlog: the run-log subcommands (runs, show, export) as a
 * program of their own, until and besides the `nngraph` command's
 * dispatcher: `nngraph-runlog runs DB` is `nngraph runs DB`. */
#include "cmd_runlog.h"
#include "nngraph.h"

#include <signal.h>
#include <string.h>

static const char usage[] = "usage: nngraph-runlog runs|show|export ... (each with --help)\n";

int main(int argc, char **argv) {
    signal(SIGXFSZ, SIG_IGN); /* as in nngraph.c: a failed write, not a kill */
    if (argc < 2) {
        fputs(usage, stderr);
        return 2;
    }
    if (nnc_is_help(argv[1])) {
        fputs(usage, stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("nngraph %s\n", NN_VERSION_STRING);
        return 0;
    }
    if (strcmp(argv[1], "runs") == 0) return nn_cmd_runs(argc - 1, argv + 1);
    if (strcmp(argv[1], "show") == 0) return nn_cmd_show(argc - 1, argv + 1);
    if (strcmp(argv[1], "export") == 0) return nn_cmd_export(argc - 1, argv + 1);
    fprintf(stderr, "nngraph-runlog: unknown subcommand '%s'\n%s", argv[1], usage);
    return 2;
}
