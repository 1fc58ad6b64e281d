/* Op libraries on the command line: --ops LIB (any subcommand, repeatable)
 * and NNGRAPH_OPS=LIB:LIB, the only ways the nngraph command loads code
 * besides its own. A graph file or run log never does (SECURITY.md). */
#include "cli.h"

#include <string.h>

int cli_load_ops(const char *cmd, int *argc, char **argv, int show_unresolved) {
    if (nn_ffi_register_graph_ops(show_unresolved) != NN_OK) return cli_fail(cmd, "%s", nn_last_error());
    if (nn_ffi_load_env() != NN_OK) return cli_fail(cmd, "%s", nn_last_error());
    int kept = 1;
    for (int i = 1; i < *argc; i++) {
        const char *lib = NULL;
        if (strcmp(argv[i], "--") == 0) {
            while (i < *argc) argv[kept++] = argv[i++];
            break;
        }
        if (strncmp(argv[i], "--ops=", 6) == 0) {
            lib = argv[i] + 6;
        } else if (strcmp(argv[i], "--ops") == 0) {
            if (i + 1 >= *argc) return cli_usage_error(cmd, "option --ops needs a library path");
            lib = argv[++i];
        } else {
            argv[kept++] = argv[i];
            continue;
        }
        if (nn_ffi_load_library(lib) != NN_OK) return cli_fail(cmd, "--ops %s: %s", lib, nn_last_error());
    }
    argv[kept] = NULL;
    *argc = kept;
    return CLI_OK;
}
