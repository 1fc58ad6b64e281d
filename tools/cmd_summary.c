/* nngraph summary: the Keras-like table of a graph's layers (its scopes),
 * output shapes and parameter counts. */
#include "cli.h"

static const char usage[] =
    "Usage: nngraph summary FILE.nng|DB:RUN|--db DB --run RUN\n\n"
    "Prints a Keras-like table: one row per layer (scope) with its kind,\n"
    "activation, output shape and parameter count, then the totals.\n\n"
    "  --db DB --run RUN  the graph a run log recorded for RUN (the same as DB:RUN)\n";

static const cli_option options[] = {CLI_SOURCE_OPTIONS, {NULL, 0, NULL, 0}};

static int run(int argc, char **argv) {
    cli_source src = {0};
    cli_args a;
    cli_args_init(&a, "summary", options, argc, argv);
    for (int opt; (opt = cli_next(&a)) != CLI_END;)
        if (!cli_source_arg("summary", &src, opt, a.value)) return CLI_USAGE;
    if (cli_source_resolve("summary", &src, NULL, 0)) return CLI_USAGE;
    nn_graph *g = cli_load_graph("summary", &src, 1);
    if (!g) return CLI_RUNTIME;
    printf("Model: \"%s\"\n", cli_source_name(&src));
    nn_summary(g, stdout);
    nn_graph_free(g);
    return fflush(stdout) == 0 ? CLI_OK : cli_fail("summary", "writing to stdout failed");
}

const cli_command cli_summary = {"summary", "the Keras-like table of layers, shapes and parameter counts", usage, run};
