/* A hostile op library for the trust tests (tests/test_ffi_graphio.c):
 * loading it runs a constructor that leaves a file "EVIL_RAN" in the
 * working directory, so a test can tell whether anything dlopen()ed it.
 * It also declares an op whose function lives in a dependency (libm's
 * cosf), which must be refused, and defines a function it does not
 * declare. */
#include <fcntl.h>
#include <math.h>
#include <unistd.h>

__attribute__((constructor)) static void evil_constructor(void) {
    int fd = open("EVIL_RAN", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) close(fd);
}

/* declared, and defined here: callable once the user loads the library */
__attribute__((visibility("default"))) const char nngraph_sig_negate[] = "float negate(float x)";
__attribute__((visibility("default"))) float negate(float x) { return -x; }

/* defined, not declared: refused */
__attribute__((visibility("default"))) float undeclared(float x) { return x * cosf(x); }

/* declared here, but the symbol resolves into libm: refused */
__attribute__((visibility("default"))) const char nngraph_sig_cosf[] = "float cosf(float x)";
