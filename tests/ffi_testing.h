/* Shared by the ffi suites (test_ffi.c, test_ffi_graphio.c): the example op
 * library's path (ffi_test_paths.h, written by meson), gradient checks,
 * and a warning handler that counts instead of printing. */
#ifndef NN_FFI_TESTING_H
#define NN_FFI_TESTING_H

#include "nngraph.h"
#include "gradcheck.h"
#include "ffi_test_paths.h"

#include <criterion/criterion.h>
#include <stdio.h>

#define LIB NN_MYOPS_PATH

/* Warnings are counted instead of printed (each Criterion test runs in
 * its own process, so the counters start at zero). */
static int n_warnings;
static char last_warning[512];
static inline void count_warning(const char *msg, void *user) {
    (void)user;
    n_warnings++;
    snprintf(last_warning, sizeof last_warning, "%s", msg);
}
static inline void quiet(void) {
    n_warnings = 0;
    last_warning[0] = 0;
    nn_ffi_set_warning_handler(count_warning, NULL);
}
static inline void loud(void) { nn_ffi_set_warning_handler(NULL, NULL); }

#endif
