/* Helpers shared by several test suites: running a program as a child
 * process with its output captured, reading a small file whole, temporary
 * directories, and the digits network that several suites build. */
#ifndef NN_TESTUTIL_H
#define NN_TESTUTIL_H

#include "nngraph.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* Reads at most cap-1 bytes of the file into buf and terminates it; a file
 * that cannot be opened reads as "". */
void tu_slurp(const char *path, char *buf, size_t cap);

/* Runs exe (posix_spawn, argv[0] = exe) with the NULL-terminated arguments
 * from `first` and `rest`, in the environment env. Its stdout and stderr go
 * to the files "stdout" and "stderr" in dir and are then read into out and
 * err (cap bytes each, terminated). Returns the exit status, or -1 if the
 * child died of a signal. A spawn failure fails the current test. */
int tu_vrun(const char *exe, char *const *env, const char *dir, char *out, size_t out_cap, char *err, size_t err_cap,
            const char *first, va_list rest);

/* tu_vrun with the NULL-terminated arguments given here, in this
 * process's environment. */
int tu_run(const char *exe, const char *dir, char *out, size_t out_cap, char *err, size_t err_cap, const char *first,
           ...);

/* "DIR/NAME" in one of 32 buffers used in turn (so several can be live in
 * one call). */
const char *tu_path(const char *dir, const char *name);

/* Writes n bytes to path (created or truncated), failing the current test
 * if it cannot. */
void tu_write_file(const char *path, const void *bytes, size_t n);

/* Makes a fresh directory from the mkdtemp template in dir (cap bytes),
 * failing the current test if it cannot. */
void tu_mkdtemp(char *dir, size_t cap, const char *template_);

/* Removes dir and everything in it, failing the current test if it cannot. */
void tu_rmtree(const char *dir);

/* Tolerances that follow from the computation. A float32 result is
 * compared with a double reference within a bound built from float32's
 * unit roundoff u = 2^-24 and the magnitudes the result was computed
 * from, as LAPACK's testers and Higham's error analysis do: a sum or dot
 * product of n terms, rounded n times, is off by at most gamma(n) times
 * the sum of the terms' absolute values, whichever order or blocking a
 * BLAS kernel picks. A wrong kernel is off by the magnitudes themselves. */
#define TU_U32 (1.0 / 16777216.0)
/* gamma(n) = n u / (1 - n u) for float32's u: the relative bound of n
 * successive roundings. */
double tu_gamma(double n);
/* The probabilistic counterpart (Higham and Mary, 2019): with rounding
 * errors modelled as independent and of mean zero, n roundings stay
 * within 8 sqrt(n) u with probability above 1 - 2n e^-32. Errors carried
 * in from n independently rounded operands are combined the same way, in
 * quadrature. Tighter than gamma(n) by sqrt(n)/8, so it catches subtler
 * wrong results; a deterministic test either passes or fails for a given
 * BLAS kernel, and the suite runs under several (.ci/run). */
double tu_prob_gamma(double n);

/* The digits network with the graph seed `seed`: x [B,400] -> L1 (25 relu)
 * -> L2 (15 relu) -> L3 (10 linear) -> softmax cross-entropy with y [B]
 * i32; 17 nodes, 10,575 parameters. x, the logits and the loss are stored
 * through the pointers that are not NULL. */
nn_graph *tu_digits_net(uint64_t seed, nn_node **x, nn_node **logits, nn_node **loss);

/* The lab's four Gaussian blobs: centres [-5,2], [-2,-2], [1,2], [5,-2],
 * standard deviation `std`, n samples labelled by blob (sample i in blob
 * i % 4): x f32 [n,2], y i32 [n]. */
nn_dataset *tu_blobs(int n, uint64_t seed, float std);

/* A classifier for the blobs, graph seed `seed`, one thread: x [B,2] ->
 * L1 (Dense `hidden` relu) -> L2 (Dense 4 linear) -> softmax cross-entropy
 * with y i32 [B]. */
nn_graph *tu_blobs_model(uint64_t seed, int hidden, nn_node **loss, nn_node **logits);

#endif
