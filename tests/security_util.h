/* Helpers shared by the hardening suites (test_security.c,
 * test_security_files.c): a temporary directory per test, the nngraph
 * command run in it, and a crafted graph text expected to be refused. Each
 * file that includes this gets its own directory and output buffers. */
#ifndef NN_TEST_SECURITY_UTIL_H
#define NN_TEST_SECURITY_UTIL_H

#include "nngraph.h"
#include "testutil.h"

#include <criterion/criterion.h>
#include <stdarg.h>
#include <string.h>

extern char **environ;

static char dir[64];
static char out[1 << 16], err[1 << 14];

static inline void setup(void) { tu_mkdtemp(dir, sizeof dir, "/tmp/nng_sec_XXXXXX"); }
static inline void teardown(void) { tu_rmtree(dir); }

/* The path of `name` in the test's directory. */
static inline const char *in_dir(const char *name) { return tu_path(dir, name); }

/* Runs the nngraph command in the test's directory; stdout and stderr land
 * in out and err; returns its exit status. */
static inline int nngraph(const char *arg, ...) {
    va_list ap;
    va_start(ap, arg);
    int rc = tu_vrun(NNGRAPH_EXE, environ, dir, out, sizeof out, err, sizeof err, arg, ap);
    va_end(ap);
    return rc;
}

/* Loads graph text, expecting failure with every fragment in the message. */
static inline void expect_refused(const char *text, const char *frag1, const char *frag2) {
    nn_graph *g = nn_graph_load_text(text, strlen(text), "crafted.nng", 1);
    cr_assert_null(g, "loaded:\n%s", text);
    cr_assert(strstr(nn_last_error(), frag1), "want '%s' in: %s", frag1, nn_last_error());
    if (frag2) cr_assert(strstr(nn_last_error(), frag2), "want '%s' in: %s", frag2, nn_last_error());
}

#endif
