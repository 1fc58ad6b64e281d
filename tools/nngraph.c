/* nngraph: the command line. `nngraph SUBCOMMAND [OPTIONS]`, one file per
 * subcommand (cmd_*.c). Exit codes: 0 ok, 1 runtime failure, 2 usage. */
#include "cli.h"

#include <signal.h>
#include <string.h>

/* Graphviz 2.43's dot layout and fontconfig keep allocations they never
 * free; LeakSanitizer (sanitizer builds only) reads this hook, so a leak
 * report names our leaks, not theirs. Ignored by ordinary builds. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void) {
    return "leak:libgvplugin_dot_layout.so\nleak:libfontconfig.so\nleak:libpango\nleak:libcairo\n"
           "leak:libgvplugin_pango.so\n"
           /* PLplot (nngraph plot, the UI's curves): plinit's driver table, libltdl */
           "leak:libplplot.so\nleak:libltdl.so\n"
           /* without frame pointers in libgvc the unwinder stops at
            * Graphviz's own allocator, which nngraph never calls itself */
           "leak:gmalloc\nleak:grealloc\n"
           /* Open MPI under mpirun (nngraph train): what it keeps past
            * MPI_Finalize (tests/graphviz_lsan.h) */
           "leak:libmpi.so\nleak:libopen-pal.so\nleak:libopen-rte.so\nleak:libpmix.so\nleak:libhwloc.so\n"
           "leak:libevent\nleak:/openmpi/\nleak:libmpich.so\n";
}

static const cli_command *const commands[] = {&cli_dot,     &cli_summary, &cli_check, &cli_train,
                                              &cli_predict, &cli_runs,    &cli_show,  &cli_export,
                                              &cli_plot,    &cli_tag,     &cli_ui};
#define N_COMMANDS ((int)(sizeof commands / sizeof *commands))

static void usage(void) {
    FILE *out = stdout;
    fprintf(out, "Usage: nngraph SUBCOMMAND [OPTIONS]\n\n"
                 "Graph files (.nng) and run logs from the command line: draw, summarise, check,\n"
                 "train, predict; list, show, export, tag, plot and browse logged runs. A graph\n"
                 "is a FILE.nng or the graph a run log recorded, DB:RUN (or --db DB --run RUN),\n"
                 "everywhere.\n\n"
                 "Subcommands:\n");
    for (int i = 0; i < N_COMMANDS; i++) fprintf(out, "  %-9s %s\n", commands[i]->name, commands[i]->summary);
    fprintf(out, "\nOptions:\n  -h, --help     this help ('nngraph SUBCOMMAND --help' for one subcommand)\n"
                 "  --version      print the version\n"
                 "  --ops LIB      load the custom op library LIB (repeatable; also NNGRAPH_OPS=LIB:LIB):\n"
                 "                 graph files may call the ops it declares, and nothing else\n"
                 "  --max-memory SIZE  most memory one file may make nngraph allocate (default 1G;\n"
                 "                 K, M, G, T suffixes; also NNGRAPH_MAX_MEMORY)\n\n"
                 "Exit status: 0 ok, 1 runtime failure, 2 usage error. Data goes to stdout,\n"
                 "messages to stderr. The graph file format: docs/graph-format.md.\n");
}

static int unknown_subcommand(const char *sub) {
    const char *names[N_COMMANDS];
    for (int i = 0; i < N_COMMANDS; i++) names[i] = commands[i]->name;
    const char *close = cli_closest(sub, names, N_COMMANDS);
    if (close) return cli_usage_error(NULL, "unknown subcommand '%s'; did you mean '%s'?", sub, close);
    return cli_usage_error(NULL, "unknown subcommand '%s' (see the list in 'nngraph --help')", sub);
}

int main(int argc, char **argv) {
    /* past `ulimit -f` a write fails with EFBIG, reported, its temporary
     * file removed, instead of the signal killing the process midway */
    signal(SIGXFSZ, SIG_IGN);
    if (argc < 2) return cli_usage_error(NULL, "no subcommand given");
    const char *sub = argv[1];
    if (strcmp(sub, "-h") == 0 || strcmp(sub, "--help") == 0 || strcmp(sub, "help") == 0) {
        if (argc > 2 && strcmp(sub, "help") == 0)
            for (int i = 0; i < N_COMMANDS; i++)
                if (strcmp(argv[2], commands[i]->name) == 0) {
                    fputs(commands[i]->usage, stdout);
                    return CLI_OK;
                }
        if (argc > 2 && strcmp(sub, "help") == 0) return unknown_subcommand(argv[2]);
        usage();
        return CLI_OK;
    }
    if (strcmp(sub, "--version") == 0 || strcmp(sub, "-V") == 0) {
        printf("nngraph %s\n", NN_VERSION_STRING);
        return CLI_OK;
    }
    for (int i = 0; i < N_COMMANDS; i++)
        if (strcmp(sub, commands[i]->name) == 0) {
            if (cli_wants_help(argc - 1, argv + 1)) {
                fputs(commands[i]->usage, stdout);
                return CLI_OK;
            }
            /* showing a graph never needs its custom ops' code */
            const char *name = commands[i]->name;
            int shows = !strcmp(name, "dot") || !strcmp(name, "summary") || !strcmp(name, "check");
            int sub_argc = argc - 1;
            int r = cli_load_ops(name, &sub_argc, argv + 1, shows);
            if (r != CLI_OK) return r;
            return commands[i]->run(sub_argc, argv + 1);
        }
    if (sub[0] == '-') return cli_usage_error(NULL, "unknown option '%s'", sub);
    return unknown_subcommand(sub);
}
