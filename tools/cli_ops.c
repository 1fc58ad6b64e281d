/* Options every subcommand takes, handled before it runs (SECURITY.md):
 * --ops LIB (repeatable) and NNGRAPH_OPS=LIB:LIB, the only ways the nngraph
 * command loads code besides its own (a graph file or run log never
 * does); --max-memory SIZE and NNGRAPH_MAX_MEMORY, the memory limit on
 * what one file may make it allocate. */
#include "cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* SIZE: a whole number of bytes with an optional K, M, G or T (powers of
 * 1024); 0 on success. */
static int parse_size(const char *s, uint64_t *out) {
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (end == s || errno == ERANGE || *s == '-') return -1;
    int shift = 0;
    if (*end) {
        const char *units = "KMGT", *u = strchr(units, *end);
        if (!u || end[1]) return -1;
        shift = 10 * (int)(u - units + 1);
    }
    if (v == 0 || v > (UINT64_MAX >> shift)) return -1;
    *out = (uint64_t)v << shift;
    return 0;
}

int cli_load_ops(const char *cmd, int *argc, char **argv, int show_unresolved) {
    if (nn_ffi_register_graph_ops(show_unresolved) != NN_OK) return cli_fail(cmd, "%s", nn_last_error());
    if (nn_ffi_load_env() != NN_OK) return cli_fail(cmd, "%s", nn_last_error());
    const char *env = getenv("NNGRAPH_MAX_MEMORY");
    uint64_t limit;
    if (env && *env) {
        if (parse_size(env, &limit) != 0)
            return cli_usage_error(cmd, "NNGRAPH_MAX_MEMORY wants a size such as 4G or 512M, not '%s'", env);
        nn_set_memory_limit(limit);
    }
    int kept = 1;
    for (int i = 1; i < *argc; i++) {
        const char *lib = NULL;
        if (strcmp(argv[i], "--") == 0) {
            while (i < *argc) argv[kept++] = argv[i++];
            break;
        }
        const char *mem = strncmp(argv[i], "--max-memory=", 13) == 0 ? argv[i] + 13
                          : strcmp(argv[i], "--max-memory") == 0 && i + 1 < *argc ? argv[++i]
                                                                                : NULL;
        if (mem || strcmp(argv[i], "--max-memory") == 0) {
            if (!mem || parse_size(mem, &limit) != 0)
                return cli_usage_error(cmd, "--max-memory wants a size such as 4G or 512M, not '%s'", mem ? mem : "");
            nn_set_memory_limit(limit);
            continue;
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
