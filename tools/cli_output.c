/* Outputs that would destroy an input (cli.h): every subcommand that
 * writes a file checks it here first. */
#include "cli.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

int cli_safe_output(const char *cmd, const char *out, const char *const *inputs, int n_inputs) {
    if (!out || strcmp(out, "-") == 0) return CLI_OK;
    struct stat so;
    int out_exists = stat(out, &so) == 0;
    for (int i = 0; i < n_inputs; i++) {
        struct stat si;
        if (!inputs[i]) continue;
        int same = strcmp(inputs[i], out) == 0 ||
                   (out_exists && stat(inputs[i], &si) == 0 && si.st_dev == so.st_dev && si.st_ino == so.st_ino);
        if (same) {
            fprintf(stderr, "nngraph %s: refusing to write %s: the command reads it (%s); choose another output file\n",
                    cmd, out, inputs[i]);
            return CLI_RUNTIME;
        }
    }
    if (!out_exists) return CLI_OK;
    /* a run log holds a history a weights file or picture would replace */
    char head[16] = {0};
    FILE *f = fopen(out, "rb");
    size_t n = f ? fread(head, 1, sizeof head, f) : 0;
    if (f) fclose(f);
    if (n == sizeof head && memcmp(head, "SQLite format 3", 16) == 0) {
        fprintf(stderr, "nngraph %s: refusing to overwrite %s: it is an SQLite database (a run log?); choose another "
                "output file\n", cmd, out);
        return CLI_RUNTIME;
    }
    return CLI_OK;
}
