/* Shared by the libFuzzer targets in tests/fuzz/ (docs/fuzzing.md): the
 * entry point each defines, a private scratch file for the readers that
 * take a path, and the memory limit every target runs under (small, so a
 * crafted size is refused quickly instead of exhausting the fuzzer). */
#ifndef NN_FUZZ_H
#define NN_FUZZ_H

#include "nngraph.h"

#include <stddef.h>
#include <stdint.h>

/* What a target checks of one input; 0 always (a finding aborts). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The memory limit targets set: 64 MiB. */
#define FUZZ_MEMORY_LIMIT ((uint64_t)64 << 20)

/* The memory limit of the data readers' targets: 4 MiB, past any seed,
 * so that a header declaring megabytes is refused fast. */
#define FUZZ_DATA_MEMORY_LIMIT ((uint64_t)4 << 20)

/* Once per process: the memory limit FUZZ_MEMORY_LIMIT, and ffi ops in
 * graph text loading as unresolved placeholders (no library is opened). */
void fuzz_setup_graph_reading(void);

/* Writes data to this process's scratch file (in $TMPDIR, else /dev/shm,
 * else /tmp; made once, removed at exit) and returns its path. suffix:
 * "", ".gz", ".csv" or ".db". */
const char *fuzz_scratch(const uint8_t *data, size_t size, const char *suffix);

/* The scratch file's path for `suffix`, without writing it. */
const char *fuzz_scratch_path(const char *suffix);

/* Aborts with a message: a finding (libFuzzer saves the input). */
void fuzz_fail(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2), noreturn))
#endif
    ;

#endif
