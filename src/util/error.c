/* Status names, the calling thread's last error (nn_last_error), which
 * every layer reports through. */
#include "nngraph/core.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>

const char *nn_status_name(nn_status s) {
    switch (s) {
    case NN_OK: return "ok";
    case NN_ERR_ARG: return "bad argument";
    case NN_ERR_SHAPE: return "shape error";
    case NN_ERR_NOMEM: return "out of memory";
    case NN_ERR_RUNTIME: return "runtime error";
    case NN_ERR_IO: return "i/o error";
    case NN_ERR_FORMAT: return "format error";
    case NN_ERR_STATE: return "bad state";
    case NN_ERR_NUMERIC: return "numeric error";
    case NN_ERR_DB: return "database error";
    case NN_ERR_FFI: return "foreign op error";
    case NN_ERR_INTERRUPTED: return "interrupted";
    }
    return "unknown status";
}

/* as long as a graph's error text (NN_ERRLEN, core/internal.h) */
static _Thread_local char last_error[512];

const char *nn_last_error(void) { return last_error; }

nn_status nn_set_error(nn_status s, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    return s;
}

/* ---- the memory limit ---- */

/* 0: the default; read and set from any thread */
static _Atomic uint64_t memory_limit;

void nn_set_memory_limit(uint64_t bytes) { memory_limit = bytes; }

uint64_t nn_memory_limit(void) {
    uint64_t m = memory_limit;
    return m ? m : NN_DEFAULT_MEMORY_LIMIT;
}

nn_status nn_check_memory(uint64_t bytes, const char *source, const char *what) {
    uint64_t limit = nn_memory_limit();
    if (bytes <= limit) return NN_OK;
    return nn_set_error(NN_ERR_NOMEM,
                        "%s: %s needs %llu bytes, over the memory limit of %llu (raise it with --max-memory, "
                        "NNGRAPH_MAX_MEMORY or nn_set_memory_limit())",
                        source, what, (unsigned long long)bytes, (unsigned long long)limit);
}
