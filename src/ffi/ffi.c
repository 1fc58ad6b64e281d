/* Custom ops from shared libraries: nn_ffi_op resolves the function,
 * checks what the graph declares against what the library declares,
 * prepares the libffi calls once, and gives the node op definitions of its
 * own (named "ffi:LIB:SYMBOL", so graph files and DOT name what is
 * called). The gradient rule builds one node calling the user's gradient
 * function, or finite differences of the forward function. */
#include "ffi_internal.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- shape rules ---- */

static nn_status rule_forward(nn_shape_ctx *c, nn_shape *out, nn_dtype *dt) {
    if (c->in_dtype[0] != NN_F32) return nn_errf(c->err, NN_ERR_ARG, "input must be f32");
    *out = c->in[0];
    *dt = NN_F32;
    return NN_OK;
}

/* (x, dy) -> dx: one shape throughout */
static nn_status rule_grad(nn_shape_ctx *c, nn_shape *out, nn_dtype *dt) {
    if (c->in_dtype[0] != NN_F32 || c->in_dtype[1] != NN_F32) return nn_errf(c->err, NN_ERR_ARG, "inputs must be f32");
    if (!nn_shape_equal(c->in[0], c->in[1]))
        return nn_errf(c->err, NN_ERR_SHAPE, "x and its output gradient must have one shape");
    *out = c->in[0];
    *dt = NN_F32;
    return NN_OK;
}

/* ---- bindings ---- */

void nn_ffi_binding_release(void *p) {
    nn_ffi_binding *b = p;
    if (!b || --b->refs > 0) return;
    nn_ffi_lib_close(b->lib);
    free(b->lib_path);
    free(b->symbol);
    free(b->grad_symbol);
    free(b->fwd_name);
    free(b->grad_name);
    free(b);
}

static int is_identifier(const char *s) {
    if (!s || !(isalpha((unsigned char)*s) || *s == '_')) return 0;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '_') return 0;
    return 1;
}

/* A path that fits in a graph file's op token "ffi:LIB:SYMBOL". */
static int path_is_clean(const char *s) {
    for (; *s; s++)
        if ((unsigned char)*s <= ' ' || *s == '"' || *s == 0x7f) return 0;
    return 1;
}

static ffi_type *ffi_type_of(nn_ffi_ctype t) {
    if (t.ptr) return &ffi_type_pointer;
    switch (t.base) {
    case NN_FFI_VOID: return &ffi_type_void;
    case NN_FFI_FLOAT: return &ffi_type_float;
    case NN_FFI_DOUBLE: return &ffi_type_double;
    case NN_FFI_INT32: return &ffi_type_sint32;
    case NN_FFI_INT64: return &ffi_type_sint64;
    }
    return &ffi_type_void;
}

static const char *prep_status(ffi_status s) {
    switch (s) {
    case FFI_BAD_TYPEDEF: return "bad type definition";
    case FFI_BAD_ABI: return "bad ABI";
    default: return "unknown libffi error";
    }
}

/* Converts the scalars to the types the callee takes. */
static int set_values(nn_ffi_binding *b, const double *scalars, char *err) {
    for (int i = 0; i < b->sig.n_scalars; i++) {
        double v = scalars[i];
        b->scalars[i] = v;
        switch (b->sig.scalar[i]) {
        case NN_FFI_FLOAT:
            if (isfinite(v) && fabs(v) > 3.4028234663852886e38)
                return nn_errf(err, NN_ERR_ARG, "scalar %d (%g) overflows float", i + 1, v), -1;
            b->values[i].f = (float)v;
            break;
        case NN_FFI_DOUBLE: b->values[i].d = v; break;
        case NN_FFI_INT32:
            if (!(v == floor(v) && v >= -2147483648.0 && v <= 2147483647.0))
                return nn_errf(err, NN_ERR_ARG, "scalar %d (%g) is not a whole number in int's range", i + 1, v), -1;
            b->values[i].i32 = (int32_t)v;
            break;
        case NN_FFI_INT64:
            if (!(v == floor(v) && fabs(v) <= 9007199254740992.0))
                return nn_errf(err, NN_ERR_ARG, "scalar %d (%g) is not a whole number within 2^53", i + 1, v), -1;
            b->values[i].i64 = (int64_t)v;
            break;
        default: return nn_errf(err, NN_ERR_ARG, "scalar %d has no type", i + 1), -1;
        }
    }
    return 0;
}

/* Resolves `symbol`: the library must declare it (nngraph_sig_<symbol>,
 * in the library itself) as `want`, and define it. Undeclared symbols are
 * refused before their address is even looked up. */
static int resolve(nn_ffi_binding *b, const char *symbol, const nn_ffi_proto *want, const char *what,
                   void (**fn)(void), char *err) {
    char why[NN_ERRLEN], have_text[160], want_text[160];
    const char *declared = nn_ffi_lib_declaration(b->lib, symbol, err);
    if (!declared) return -1;
    nn_ffi_proto have;
    if (nn_ffi_proto_parse(declared, &have, why) != 0) {
        nn_errf(err, NN_ERR_FFI, "library '%s' declares nngraph_sig_%s a signature nngraph cannot parse: %s",
                b->lib_path, symbol, why);
        return -1;
    }
    nn_ffi_proto_format(&have, have_text, sizeof have_text);
    nn_ffi_proto_format(want, want_text, sizeof want_text);
    if (strcmp(have_text, want_text) != 0) {
        nn_errf(err, NN_ERR_FFI, "the graph declares %s %s as %s, but library '%s' declares it %s (nngraph_sig_%s)",
                what, symbol, want_text, b->lib_path, have_text, symbol);
        return -1;
    }
    void *p = nn_ffi_lib_symbol(b->lib, symbol, err);
    if (!p) return -1;
    /* through a data pointer, as POSIX allows, into a function pointer */
    memcpy(fn, &p, sizeof p);
    return 0;
}

static int prepare(ffi_cif *cif, ffi_type **types, const nn_ffi_proto *p, const char *symbol, char *err) {
    for (int i = 0; i < p->n; i++) types[i] = ffi_type_of(p->p[i]);
    ffi_status s = ffi_prep_cif(cif, FFI_DEFAULT_ABI, (unsigned)p->n, ffi_type_of(p->ret), types);
    if (s != FFI_OK) return nn_errf(err, NN_ERR_FFI, "libffi cannot prepare the call of %s: %s", symbol, prep_status(s)), -1;
    return 0;
}

static char *op_name(const char *lib, const char *symbol) {
    size_t len = strlen(lib) + strlen(symbol) + 6;
    char *s = malloc(len);
    if (s) snprintf(s, len, "ffi:%s:%s", lib, symbol);
    return s;
}

static nn_status bind_steps(nn_ffi_binding *b, nn_ffi_source source, const char *signature,
                            const double *scalars, int n_scalars, char *err) {
    if (nn_ffi_sig_parse(signature, &b->sig, err) != 0) return NN_ERR_ARG;
    nn_ffi_proto fwd, grad;
    nn_ffi_sig_forward(&b->sig, &fwd);
    nn_ffi_sig_gradient(&b->sig, &grad);
    nn_ffi_proto_format(&fwd, b->sig_text, sizeof b->sig_text);
    if (n_scalars != b->sig.n_scalars)
        return nn_errf(err, NN_ERR_ARG, "signature %s takes %d scalar argument%s, %d given", b->sig_text,
                       b->sig.n_scalars, b->sig.n_scalars == 1 ? "" : "s", n_scalars);
    if (n_scalars > 0 && !scalars) return nn_errf(err, NN_ERR_ARG, "%d scalars declared but scalars is NULL", n_scalars);
    if (set_values(b, scalars, err) != 0) return NN_ERR_ARG;
    b->lib = source == NN_FFI_OPEN ? nn_ffi_lib_open(b->lib_path, err) : nn_ffi_lib_find(b->lib_path, err);
    if (!b->lib && source == NN_FFI_FIND_OR_PLACEHOLDER) {
        b->unresolved = 1; /* shown, never called: nothing to resolve */
        return NN_OK;
    }
    if (!b->lib) return NN_ERR_FFI;
    if (resolve(b, b->symbol, &fwd, "function", &b->fn, err) || prepare(&b->cif, b->types, &fwd, b->symbol, err))
        return NN_ERR_FFI;
    if (b->grad_symbol && (resolve(b, b->grad_symbol, &grad, "gradient function", &b->grad_fn, err) ||
                           prepare(&b->grad_cif, b->grad_types, &grad, b->grad_symbol, err)))
        return NN_ERR_FFI;
    return NN_OK;
}

static nn_status ffi_grad_rule(nn_graph *g, nn_node *node, nn_node *dy, const int *want, nn_node **dx);

/* The kernel of an op no loaded library declares. */
static nn_status unresolved_kernel(nn_kernel_call *c) {
    const nn_ffi_binding *b = c->node->opdata;
    return nn_errf(c->err, NN_ERR_FFI,
                   "unresolved ffi op %s: no loaded library declares it (load the library on purpose with --ops %s, "
                   "NNGRAPH_OPS or nn_ffi_load_library())",
                   c->node->op->name, b->lib_path);
}

nn_ffi_binding *nn_ffi_bind(nn_graph *g, const char *who, nn_ffi_source source, const char *lib_path,
                            const char *symbol, const char *signature, const double *scalars, int n_scalars,
                            const char *grad_symbol) {
    if (!g || g->status != NN_OK) return NULL;
    const char *w = who ? who : symbol && is_identifier(symbol) ? symbol : "?";
    if (!lib_path || !*lib_path)
        return (void *)nn_fail(g, NN_ERR_ARG, "ffi op '%s': the library path is empty or NULL", w);
    if (!path_is_clean(lib_path))
        return (void *)nn_fail(g, NN_ERR_ARG, "ffi op '%s': library path '%s' holds a space, quote or control "
                               "character (graph files name it in the op token ffi:LIB:SYMBOL)", w, lib_path);
    if (!is_identifier(symbol))
        return (void *)nn_fail(g, NN_ERR_ARG, "ffi op '%s': symbol '%s' is not a C identifier", w,
                               symbol ? symbol : "(null)");
    if (grad_symbol && !is_identifier(grad_symbol))
        return (void *)nn_fail(g, NN_ERR_ARG, "ffi op '%s': gradient symbol '%s' is not a C identifier", w, grad_symbol);
    if (n_scalars < 0 || n_scalars > NN_FFI_MAX_SCALARS)
        return (void *)nn_fail(g, NN_ERR_ARG, "ffi op '%s': %d scalars (0 to %d)", w, n_scalars, NN_FFI_MAX_SCALARS);
    nn_ffi_binding *b = calloc(1, sizeof *b);
    if (!b) return (void *)nn_fail(g, NN_ERR_NOMEM, "ffi op '%s': out of memory", w);
    b->refs = 1;
    b->lib_path = strdup(lib_path);
    b->symbol = strdup(symbol);
    b->grad_symbol = grad_symbol ? strdup(grad_symbol) : NULL;
    b->fwd_name = op_name(lib_path, symbol);
    b->grad_name = op_name(lib_path, grad_symbol ? grad_symbol : symbol);
    char err[NN_ERRLEN] = "";
    nn_status s = NN_ERR_NOMEM;
    if (!b->lib_path || !b->symbol || (grad_symbol && !b->grad_symbol) || !b->fwd_name || !b->grad_name)
        snprintf(err, sizeof err, "out of memory");
    else
        s = bind_steps(b, source, signature, scalars, n_scalars, err);
    if (s != NN_OK) {
        nn_fail(g, s, "ffi op '%s' (%s:%s): %s", w, lib_path, symbol, err);
        nn_ffi_binding_release(b);
        return NULL;
    }
    /* inplace_ok is a mask of inputs whose buffer the output may take: an
     * elementwise kernel reads x[i] (and dy[i]) before writing element i,
     * so it may run in place over either; a whole-tensor function was
     * promised distinct buffers */
    b->fwd_op = (nn_op_def){.name = b->fwd_name,
                            .n_inputs = 1,
                            .shape = rule_forward,
                            .forward = b->unresolved ? unresolved_kernel : nn_ffi_forward_kernel,
                            .grad = ffi_grad_rule,
                            .inplace_ok = b->sig.elementwise ? NN_INPLACE(0) : 0};
    b->grad_op = (nn_op_def){.name = b->grad_name,
                             .n_inputs = 2,
                             .shape = rule_grad,
                             .forward = b->unresolved ? unresolved_kernel
                                        : b->grad_fn   ? nn_ffi_grad_kernel
                                                       : nn_ffi_fd_grad_kernel,
                             .grad = NULL,
                             .inplace_ok = b->sig.elementwise ? NN_INPLACE(0) | NN_INPLACE(1) : 0};
    return b;
}

/* ---- nodes ---- */

nn_node *nn_ffi_make_node(nn_graph *g, nn_ffi_binding *b, nn_ffi_role role, const char *name, nn_node *x,
                          nn_node *dy) {
    if (!g || g->status != NN_OK) return NULL;
    if ((role == NN_FFI_GRAD && !b->grad_symbol) || (role == NN_FFI_FD_GRAD && b->grad_symbol))
        return nn_fail(g, NN_ERR_ARG, "ffi op '%s': a %s gradient node needs %s", b->symbol,
                       role == NN_FFI_GRAD ? "user" : "finite-difference",
                       role == NN_FFI_GRAD ? "a gradient symbol" : "no gradient symbol");
    nn_node *in[2] = {x, dy};
    int fwd = role == NN_FFI_FORWARD;
    if (!name) name = fwd ? b->symbol : b->grad_symbol ? b->grad_symbol : "fd_grad";
    nn_node *n = nn_op_node(g, fwd ? &b->fwd_op : &b->grad_op, name, fwd ? 1 : 2, in, NULL, NULL);
    if (!n) return NULL;
    n->opdata = b;
    n->opdata_free = nn_ffi_binding_release;
    b->refs++;
    if (role == NN_FFI_FD_GRAD && b->lib) {
        char msg[NN_ERRLEN];
        snprintf(msg, sizeof msg,
                 "ffi op %s:%s has no gradient function; its gradient ('%s') is computed by central finite "
                 "differences (approximate, and 2 calls of the op per element)",
                 b->lib_path, b->symbol, n->name);
        nn_ffi_warn_fd(b->lib, b->symbol, msg);
    }
    return n;
}

static nn_status ffi_grad_rule(nn_graph *g, nn_node *node, nn_node *dy, const int *want, nn_node **dx) {
    (void)want;
    nn_ffi_binding *b = node->opdata;
    dx[0] = nn_ffi_make_node(g, b, b->grad_symbol ? NN_FFI_GRAD : NN_FFI_FD_GRAD, NULL, node->in[0], dy);
    return g->status;
}

nn_node *nn_ffi_op(nn_graph *g, const char *lib_path, const char *symbol, const char *signature, nn_node *x,
                   const double *scalars, int n_scalars, const char *grad_symbol) {
    if (!g || g->status != NN_OK) return NULL;
    if (!x) return nn_fail(g, NN_ERR_ARG, "ffi op '%s': input is NULL", symbol ? symbol : "?");
    nn_ffi_binding *b = nn_ffi_bind(g, NULL, NN_FFI_OPEN, lib_path, symbol, signature, scalars, n_scalars, grad_symbol);
    if (!b) return NULL;
    nn_node *n = nn_ffi_make_node(g, b, NN_FFI_FORWARD, NULL, x, NULL);
    nn_ffi_binding_release(b); /* the node holds it now, or nobody */
    return n;
}

int nn_ffi_node_info(const nn_node *n, nn_ffi_info *info) {
    if (!n || n->kind != NN_NODE_OP || n->opdata_free != nn_ffi_binding_release || !n->opdata) return 0;
    const nn_ffi_binding *b = n->opdata;
    if (info) {
        memset(info, 0, sizeof *info);
        info->role = n->op == &b->fwd_op ? NN_FFI_FORWARD : b->grad_symbol ? NN_FFI_GRAD : NN_FFI_FD_GRAD;
        info->unresolved = b->unresolved;
        info->lib_path = b->lib_path;
        info->symbol = b->symbol;
        info->grad_symbol = b->grad_symbol;
        info->signature = b->sig_text;
        info->elementwise = b->sig.elementwise;
        info->n_scalars = b->sig.n_scalars;
        memcpy(info->scalars, b->scalars, sizeof info->scalars);
    }
    return 1;
}
