/* Custom ops through libffi, shared between src/ffi*.c: parsed
 * signatures, the per-op binding (library, symbols, prepared calls) and
 * the op definitions its nodes point to. */
#ifndef NN_FFI_INTERNAL_H
#define NN_FFI_INTERNAL_H

#include "internal.h"

#include <ffi.h>

/* Parameter types a signature may use. */
typedef enum nn_ffi_base {
    NN_FFI_VOID = 0,
    NN_FFI_FLOAT,
    NN_FFI_DOUBLE,
    NN_FFI_INT32,
    NN_FFI_INT64
} nn_ffi_base;

typedef struct nn_ffi_ctype {
    nn_ffi_base base;
    int ptr;   /* levels of '*' */
    int konst; /* declared const (dropped by the canonical form) */
} nn_ffi_ctype;

/* A parsed C prototype: return type and parameters, names dropped. */
#define NN_FFI_MAX_PARAMS (4 + NN_FFI_MAX_SCALARS)
typedef struct nn_ffi_proto {
    nn_ffi_ctype ret;
    int n;
    nn_ffi_ctype p[NN_FFI_MAX_PARAMS];
} nn_ffi_proto;

/* Parses a prototype ("float leaky_relu(float x, float alpha)"); 0, or -1
 * with the reason in err (NN_ERRLEN bytes). */
int nn_ffi_proto_parse(const char *text, nn_ffi_proto *out, char *err);
/* The canonical text "float(float,float)". */
void nn_ffi_proto_format(const nn_ffi_proto *p, char *buf, size_t len);

/* A forward signature: one of the two forms, and its scalar types. */
typedef struct nn_ffi_sig {
    int elementwise; /* 1: float f(float x, ...); 0: void f(const float*, float*, int64_t, ...) */
    int n_scalars;
    nn_ffi_base scalar[NN_FFI_MAX_SCALARS];
} nn_ffi_sig;

/* Parses and classifies a forward signature; 0, or -1 with err set. */
int nn_ffi_sig_parse(const char *text, nn_ffi_sig *out, char *err);
/* The prototype of the op's forward function, and of its gradient
 * function (same as forward for elementwise; the VJP form for tensors). */
void nn_ffi_sig_forward(const nn_ffi_sig *s, nn_ffi_proto *p);
void nn_ffi_sig_gradient(const nn_ffi_sig *s, nn_ffi_proto *p);

/* A loaded library, shared (counted) by every binding that uses it. */
typedef struct nn_ffi_lib nn_ffi_lib;

/* One scalar argument as the callee receives it. */
typedef union nn_ffi_value {
    float f;
    double d;
    int32_t i32;
    int64_t i64;
} nn_ffi_value;

/* Everything one nn_ffi_op call resolved: shared (counted) by the forward
 * node and its gradient node, freed with the last of them. */
typedef struct nn_ffi_binding {
    int refs;
    nn_ffi_lib *lib; /* NULL: unresolved (read from a file, no library loaded declares it) */
    char *lib_path, *symbol, *grad_symbol; /* grad_symbol NULL: finite differences */
    int unresolved; /* only drawn, summarised and saved: its kernels fail */
    nn_ffi_sig sig;
    char sig_text[128]; /* canonical */
    double scalars[NN_FFI_MAX_SCALARS];
    nn_ffi_value values[NN_FFI_MAX_SCALARS];
    void (*fn)(void);
    void (*grad_fn)(void);
    ffi_cif cif, grad_cif;
    ffi_type *types[NN_FFI_MAX_PARAMS], *grad_types[NN_FFI_MAX_PARAMS];
    nn_op_def fwd_op, grad_op; /* their names: "ffi:LIB:SYMBOL" */
    char *fwd_name, *grad_name;
} nn_ffi_binding;

/* How nn_ffi_bind finds the library. */
typedef enum nn_ffi_source {
    NN_FFI_OPEN,           /* the program's own nn_ffi_op call: open it (a request on purpose) */
    NN_FFI_FIND,           /* a graph file: only a library already loaded */
    NN_FFI_FIND_OR_PLACEHOLDER /* a graph file shown, not run: an unresolved op when none is loaded */
} nn_ffi_source;

/* Builds a binding: opens or finds the library, resolves and checks the
 * declared symbols, prepares the calls. NULL after recording the reason on
 * g (the node name `who` prefixes messages). */
nn_ffi_binding *nn_ffi_bind(nn_graph *g, const char *who, nn_ffi_source source, const char *lib_path,
                            const char *symbol, const char *signature, const double *scalars, int n_scalars,
                            const char *grad_symbol);
void nn_ffi_binding_release(void *binding);

/* Makes a node of a binding (taking one reference on success): the
 * forward op on {x}, or a gradient op (NN_FFI_GRAD / NN_FFI_FD_GRAD) on
 * {x, dy}. Releases nothing on failure. */
nn_node *nn_ffi_make_node(nn_graph *g, nn_ffi_binding *b, nn_ffi_role role, const char *name, nn_node *x,
                          nn_node *dy);

/* The kernels (src/ffi_kernels.c). */
nn_status nn_ffi_forward_kernel(nn_kernel_call *c);
nn_status nn_ffi_grad_kernel(nn_kernel_call *c);
nn_status nn_ffi_fd_grad_kernel(nn_kernel_call *c);

/* The libraries (src/ffi_lib.c). Open: dlopen on the program's request
 * (one reference). Find: a library already open, by its path or, failing
 * that, its unique file name; never dlopen (one reference). Both NULL
 * with the reason in err. */
nn_ffi_lib *nn_ffi_lib_open(const char *path, char *err);
nn_ffi_lib *nn_ffi_lib_find(const char *path, char *err);
void nn_ffi_lib_close(nn_ffi_lib *lib);
/* The library's own declaration nngraph_sig_<symbol> (defined in the
 * library itself), or NULL with err set: undeclared symbols are refused. */
const char *nn_ffi_lib_declaration(const nn_ffi_lib *lib, const char *symbol, char *err);
/* The address of `symbol`, defined in the library itself; NULL with err. */
void *nn_ffi_lib_symbol(const nn_ffi_lib *lib, const char *symbol, char *err);
/* Registers the strict ffi op family for graph files unless one was
 * registered already (src/ffi_text.c). */
void nn_ffi_text_register_default(void);
/* Emits the finite-difference warning for `symbol`, once per library. */
void nn_ffi_warn_fd(nn_ffi_lib *lib, const char *symbol, const char *message);

#endif
