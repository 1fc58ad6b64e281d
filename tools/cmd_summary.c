/* nngraph summary: the Keras-like table of a graph file's layers (its
 * scopes), output shapes and parameter counts. */
#include "cli.h"

#include <string.h>

static const char usage[] =
    "Usage: nngraph summary FILE.nng\n\n"
    "Prints a Keras-like table: one row per layer (scope) with its kind,\n"
    "activation, output shape and parameter count, then the totals.\n";

static int run(int argc, char **argv) {
    const char *file = NULL;
    for (int i = 1; i < argc; i++)
        if (cli_graph_file_arg("summary", argv[i], &file) != 0) return CLI_USAGE;
    if (!file) return cli_usage_error("summary", "no graph file given");
    nn_graph *g = cli_load_graph("summary", file, 1);
    if (!g) return CLI_RUNTIME;
    const char *slash = strrchr(file, '/');
    printf("Model: \"%s\"\n", slash ? slash + 1 : file);
    nn_summary(g, stdout);
    nn_graph_free(g);
    return fflush(stdout) == 0 ? CLI_OK : cli_fail("summary", "writing to stdout failed");
}

const cli_command cli_summary = {"summary", "the Keras-like table of layers, shapes and parameter counts", usage, run};
