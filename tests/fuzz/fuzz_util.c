/* Helpers of the fuzz targets (fuzz.h). */
#include "fuzz.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char scratch[4][256];

static void remove_scratch(void) {
    for (int i = 0; i < 4; i++)
        if (scratch[i][0]) unlink(scratch[i]);
}

const char *fuzz_scratch_path(const char *suffix) {
    static int registered;
    int slot = 0;
    const char *names[4] = {"", ".gz", ".csv", ".db"};
    for (int i = 0; i < 4; i++)
        if (strcmp(suffix, names[i]) == 0) slot = i;
    if (!scratch[slot][0]) {
        /* in memory where there is a tmpfs: a file is written per input */
        const char *tmp = getenv("TMPDIR");
        if (!tmp || !*tmp) tmp = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
        snprintf(scratch[slot], sizeof scratch[slot], "%s/nngraph-fuzz-%ld%s", tmp, (long)getpid(), suffix);
        if (!registered) atexit(remove_scratch), registered = 1;
    }
    return scratch[slot];
}

const char *fuzz_scratch(const uint8_t *data, size_t size, const char *suffix) {
    const char *path = fuzz_scratch_path(suffix);
    FILE *f = fopen(path, "wb");
    if (!f) fuzz_fail("cannot write %s", path);
    if (size && fwrite(data, 1, size, f) != size) fuzz_fail("cannot write %s", path);
    fclose(f);
    return path;
}

void fuzz_setup_graph_reading(void) {
    static int ready;
    if (ready) return;
    nn_set_memory_limit(FUZZ_MEMORY_LIMIT);
    nn_ffi_register_graph_ops(1);
    ready = 1;
}

void fuzz_fail(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "fuzz finding: ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    abort();
}
