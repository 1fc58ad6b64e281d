/*
 * nngraph/ffi.h: custom ops from shared libraries, called through libffi.
 *
 * A user writes an op in C in their own shared library, declares its C
 * signature to nngraph as a string, and uses it in a graph without
 * rebuilding nngraph. nngraph dlopen()s the library, dlsym()s the symbol,
 * and builds the call with libffi from the declared signature (one
 * ffi_prep_cif per node, at build time; ffi_call when the node runs).
 * docs/ffi.md has a walk-through and the cost of the call.
 *
 * The ABI: two forms of op
 * ------------------------
 * 1. Elementwise: called once per element.
 *
 *        float f(float x, S1 s1, S2 s2, ...);
 *        signature "float(float,float)" for float leaky_relu(float x, float alpha)
 *
 *    Gradient (optional): a function with the SAME signature that returns
 *    the derivative f'(x) at x (given the same scalars); nngraph multiplies
 *    it by the incoming gradient: dx[i] = dy[i] * g(x[i], s1, ...).
 *
 * 2. Whole tensor: called once per run with the whole input.
 *
 *        void f(const float *in, float *out, int64_t n, S1 s1, ...);
 *        signature "void(const float*,float*,int64_t,float)"
 *
 *    `in` and `out` hold n floats each and never overlap; the output has
 *    the input's shape (row-major, the batch first). The op need not be
 *    elementwise (it sees the whole tensor).
 *    Gradient (optional): the vector-Jacobian product
 *
 *        void g(const float *x, const float *dy, float *dx, int64_t n, S1 s1, ...);
 *
 *    which writes dx[j] = sum_i dy[i] * d out[i] / d x[j] (all n of them).
 *
 * Scalar parameters S1.. (at most NN_FFI_MAX_SCALARS) may be float,
 * double, int (int32_t) or int64_t. Their values are fixed when the node is
 * built (passed as doubles; integer ones must be whole numbers in range).
 *
 * Signature strings are C prototypes: whitespace, a function name,
 * parameter names, `const` and `restrict` are optional, so
 * "float(float,float)" and "float leaky_relu(float x, float alpha)" say the
 * same. The canonical form (what graph files hold) drops all of those:
 * "void(float*,float*,int64_t,float)".
 *
 * Declaring the op in the library (required). The library exports, for
 * every function nngraph may call, a string named nngraph_sig_<symbol>:
 *
 *        const char nngraph_sig_leaky_relu[] = "float leaky_relu(float x, float alpha)";
 *
 * A symbol without its declaration (defined in the library itself, not in
 * a library it depends on) is refused, so a graph cannot call libc's
 * system() or free() through an op library. nngraph checks the signature
 * the graph declares against the declaration and refuses a mismatch
 * (NN_ERR_FFI, naming both).
 *
 * Trust: a graph file is data. Loading one never loads a library: an
 * ffi:LIB:SYMBOL op resolves only against libraries the user loaded on
 * purpose (nn_ffi_load_library, the nngraph command's --ops LIB and
 * NNGRAPH_OPS, or the program's own nn_ffi_op call), matched by path or,
 * failing that, by file name. Otherwise the load fails, naming the op and
 * how to load its library; tools that only show a graph register the
 * family with nn_ffi_register_graph_ops(1) and get such ops as unresolved
 * placeholders. SECURITY.md states the model.
 *
 * No gradient function: the gradient is computed by central finite
 * differences of the forward function (step 4e-3 * max(1,|x|), the cube
 * root of float's epsilon), with a warning through the warning handler
 * below, once per library and symbol while the library stays loaded. For
 * a whole-tensor op that costs 2n calls of the op, so it is refused above
 * NN_FFI_FD_MAX_ELEMS elements.
 *
 * Errors (the graph's sticky error, status NN_ERR_FFI unless said): a
 * library that cannot be loaded (with dlerror()'s text), a missing symbol
 * or gradient symbol, a signature that does not parse or is neither form
 * (NN_ERR_ARG), a scalar count that differs from the signature's
 * (NN_ERR_ARG), a non-integer value for an integer scalar (NN_ERR_ARG), a
 * signature that differs from the library's nngraph_sig_<symbol>, a symbol
 * the library does not declare. nngraph cannot catch a crash inside the
 * user's own code.
 *
 * Libraries are opened once per process and path, shared by all nodes
 * that use them, and dlclose()d when the last graph using them is freed
 * and no nn_ffi_load_library holds them. Paths follow dlopen(3): with a
 * '/', relative to the working directory; without, the loader's search
 * path (LD_LIBRARY_PATH, ...).
 *
 * Graph files (nngraph/graphio.h) name a custom op `ffi:LIB:SYMBOL` with
 * attributes sig=SIGNATURE, args=V,V,... and dfn=GRAD_SYMBOL (absent:
 * finite differences); gradient nodes carry role=grad fn=FORWARD_SYMBOL or
 * role=fd. docs/ffi.md lists the attributes.
 */
#ifndef NNGRAPH_FFI_H
#define NNGRAPH_FFI_H

#include "core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What this header declares is the library's API: the shared library
 * exports it and hides everything else (-fvisibility=hidden). */
#if defined(__GNUC__)
#pragma GCC visibility push(default)
#endif

/* Most scalar parameters an ffi op may take. */
#define NN_FFI_MAX_SCALARS 8
/* Largest whole-tensor op whose gradient finite differences will compute
 * (it costs 2n calls of the op over n elements: 16384 is ~0.5 s a step). */
#define NN_FFI_FD_MAX_ELEMS 16384

/* y = f(x) for the function `symbol` of the shared library `lib_path`,
 * declared by `signature` (the two forms above), with the scalar
 * parameters scalars[0..n_scalars) (NULL when n_scalars is 0).
 * `grad_symbol` names the gradient function in the same library, or NULL
 * for finite differences. x is f32 of any shape (the batch may be open);
 * y has x's shape. The node is named after the symbol in the open scope.
 * NULL after recording the reason on g. */
nn_node *nn_ffi_op(nn_graph *g, const char *lib_path, const char *symbol, const char *signature, nn_node *x,
                   const double *scalars, int n_scalars, const char *grad_symbol);

/* What an ffi node calls, for tools (dot, summary, graph files). */
typedef enum nn_ffi_role {
    NN_FFI_FORWARD = 0, /* y = f(x) */
    NN_FFI_GRAD,        /* dx from (x, dy) through the user's gradient function */
    NN_FFI_FD_GRAD      /* dx from (x, dy) by finite differences of f */
} nn_ffi_role;

typedef struct nn_ffi_info {
    nn_ffi_role role;
    const char *lib_path;    /* as given */
    const char *symbol;      /* the forward function */
    const char *grad_symbol; /* NULL: finite differences */
    const char *signature;   /* canonical: "float(float,float)" */
    int elementwise;         /* 1: float f(float,...); 0: whole tensor */
    int n_scalars;
    double scalars[NN_FFI_MAX_SCALARS];
    int unresolved; /* 1: read from a file while no loaded library declared
                       it; shown and saved, never run */
} nn_ffi_info;

/* Fills *info (strings owned by the node) and returns 1 if n is an ffi
 * node (forward or gradient), else 0. */
int nn_ffi_node_info(const nn_node *n, nn_ffi_info *info);

/* Checks and canonicalises a signature string without loading anything:
 * writes the canonical form to canon (may be NULL) and returns NN_OK, or
 * NN_ERR_ARG with the reason in nn_last_error(). */
nn_status nn_ffi_signature_check(const char *signature, char *canon, size_t len);

/* Loads an op library on purpose (dlopen: its constructors run), so graph
 * files may name its declared ops. It stays loaded until
 * nn_ffi_unload_library (or the process ends); loading a path twice is
 * once. Also registers the ffi op family for graph files (strict) unless
 * one is registered. NN_ERR_FFI with dlerror()'s text on failure. */
nn_status nn_ffi_load_library(const char *path);
/* Drops the hold nn_ffi_load_library took; the library closes once no
 * graph uses it. NN_ERR_ARG if the path was not loaded. */
nn_status nn_ffi_unload_library(const char *path);
/* Loads every library named in the environment variable NNGRAPH_OPS
 * (paths separated by ':'); NN_OK when it is unset or empty. Stops at
 * the first that fails. */
nn_status nn_ffi_load_env(void);
/* Registers the ffi op family (ops ffi:LIB:SYMBOL) with the graph file
 * reader and writer (nn_graphio_register_ops). show_unresolved 0: a graph
 * naming an op no loaded library declares fails to load, with a message
 * saying how to load it (the default, registered by nn_ffi_load_library
 * and nn_ffi_op). 1: for tools that only show a graph (summary, dot,
 * check): such an op loads as an unresolved placeholder of the declared
 * shape (nn_ffi_info.unresolved), which saves back as read and whose run
 * fails; no library is ever opened either way. Register at start-up. */
nn_status nn_ffi_register_graph_ops(int show_unresolved);

/* Warnings (finite differences in place of a missing gradient function)
 * go to this handler; NULL restores the default, one line on stderr
 * ("nngraph: warning: ..."). The handler may be called from any thread
 * that builds gradients. */
typedef void (*nn_ffi_warning_fn)(const char *message, void *user);
void nn_ffi_set_warning_handler(nn_ffi_warning_fn fn, void *user);

#if defined(__GNUC__)
#pragma GCC visibility pop
#endif

#ifdef __cplusplus
}
#endif
#endif
