/* ffi ops in graph files (nngraph/graphio.h): the op token is
 * ffi:LIB:SYMBOL and the node's own attributes are
 *
 *     forward:                 sig=SIG [args=V,V,...] [dfn=GRAD_SYMBOL]
 *     user gradient node:      role=grad fn=FORWARD_SYMBOL sig=SIG [args=...]   (SYMBOL: the gradient function)
 *     finite-difference node:  role=fd sig=SIG [args=...]                       (SYMBOL: the forward function)
 *
 * SIG is the canonical forward signature ("float(float,float)"), args the
 * scalars as the shortest decimals that read back as the same double.
 * Loading a node finds the library among those the user loaded on purpose
 * (never opening one) and resolves its declared symbols, with every check
 * nn_ffi_op makes. The family is registered through the public hook
 * nn_graphio_register_ops, in one of two variants: strict (an op no
 * loaded library declares fails the load) or, for tools that only show a
 * graph, with such ops as unresolved placeholders. */
#include "ffi_internal.h"

#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* Shortest "%.Ng" that strtod reads back to exactly v. */
static void format_double(double v, char *buf, size_t len) {
    for (int digits = 1; digits <= 17; digits++) {
        snprintf(buf, len, "%.*g", digits, v);
        if (isnan(v) || strtod(buf, NULL) == v) return;
    }
}

/* Appends to buf; *at keeps counting past cap so the caller can see the
 * text did not fit. */
#if defined(__GNUC__)
__attribute__((format(printf, 4, 5)))
#endif
static int put(char *buf, size_t cap, size_t *at, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(*at < cap ? buf + *at : NULL, *at < cap ? cap - *at : 0, fmt, ap);
    va_end(ap);
    if (n < 0) return -1;
    *at += (size_t)n;
    return 0;
}

static int ffi_format_attrs(const nn_node *node, char *buf, size_t cap) {
    nn_ffi_info info;
    if (!nn_ffi_node_info(node, &info)) {
        nn_set_error(NN_ERR_ARG, "node '%s': op %s is not an ffi op nngraph made", node->name, node->op->name);
        return -1;
    }
    size_t at = 0;
    int bad = 0;
    if (info.role == NN_FFI_GRAD) bad |= put(buf, cap, &at, " role=grad fn=%s", info.symbol);
    if (info.role == NN_FFI_FD_GRAD) bad |= put(buf, cap, &at, " role=fd");
    bad |= put(buf, cap, &at, " sig=%s", info.signature);
    for (int i = 0; i < info.n_scalars; i++) {
        char num[40];
        format_double(info.scalars[i], num, sizeof num);
        bad |= put(buf, cap, &at, "%s%s", i ? "," : " args=", num);
    }
    if (info.role == NN_FFI_FORWARD && info.grad_symbol) bad |= put(buf, cap, &at, " dfn=%s", info.grad_symbol);
    if (bad) {
        nn_set_error(NN_ERR_ARG, "node '%s': cannot format its ffi attributes", node->name);
        return -1;
    }
    return (int)at; /* past cap: the caller sees it did not fit */
}

/* args=V,V,...: strict decimals (inf and nan too, as the writer prints). */
static int parse_args(const char *v, double *out, int *n) {
    *n = 0;
    if (!*v) return 0;
    for (const char *p = v;;) {
        if (*n == NN_FFI_MAX_SCALARS) return -2;
        char *end;
        out[*n] = strtod(p, &end);
        if (end == p || (*end && *end != ',')) return -1;
        (*n)++;
        if (!*end) return 0;
        p = end + 1;
    }
}

static nn_node *ffi_build(nn_graph *g, nn_ffi_source source, const char *name, const char *op, nn_node *const *in,
                          int n_in, const char *const *keys, const char *const *values, int n_attrs) {
    /* ffi:LIB:SYMBOL, split at the last ':' (a path may hold ':') */
    const char *spec = op + 4, *colon = strrchr(spec, ':');
    if (strncmp(op, "ffi:", 4) != 0 || !colon || colon == spec || !colon[1])
        return nn_fail(g, NN_ERR_FORMAT, "node '%s': op '%s' is not ffi:LIB:SYMBOL", name, op);
    const char *sig = NULL, *args = NULL, *dfn = NULL, *role = NULL, *fn = NULL;
    for (int i = 0; i < n_attrs; i++) {
        const char **slot = strcmp(keys[i], "sig") == 0    ? &sig
                            : strcmp(keys[i], "args") == 0 ? &args
                            : strcmp(keys[i], "dfn") == 0  ? &dfn
                            : strcmp(keys[i], "role") == 0 ? &role
                            : strcmp(keys[i], "fn") == 0   ? &fn
                                                           : NULL;
        if (!slot)
            return nn_fail(g, NN_ERR_FORMAT, "node '%s': unknown attribute '%s' for an ffi op (sig, args, dfn, role, fn)",
                           name, keys[i]);
        *slot = values[i];
    }
    nn_ffi_role r = !role || strcmp(role, "forward") == 0 ? NN_FFI_FORWARD
                    : strcmp(role, "grad") == 0           ? NN_FFI_GRAD
                    : strcmp(role, "fd") == 0             ? NN_FFI_FD_GRAD
                                                          : (nn_ffi_role)-1;
    if ((int)r < 0) return nn_fail(g, NN_ERR_FORMAT, "node '%s': role=%s (forward, grad or fd)", name, role);
    if (!sig) return nn_fail(g, NN_ERR_FORMAT, "node '%s': an ffi op needs sig=SIGNATURE", name);
    int want_in = r == NN_FFI_FORWARD ? 1 : 2;
    if (n_in != want_in)
        return nn_fail(g, NN_ERR_FORMAT, "node '%s': wrong arity: an ffi %s node takes %d input%s (%s), the line gives %d",
                       name, r == NN_FFI_FORWARD ? "forward" : "gradient", want_in, want_in == 1 ? "" : "s",
                       want_in == 1 ? "x" : "x, dy", n_in);
    if (r == NN_FFI_GRAD && !fn)
        return nn_fail(g, NN_ERR_FORMAT, "node '%s': a role=grad ffi node needs fn=FORWARD_SYMBOL", name);
    if (r != NN_FFI_GRAD && fn)
        return nn_fail(g, NN_ERR_FORMAT, "node '%s': fn= belongs to role=grad nodes only", name);
    if (r != NN_FFI_FORWARD && dfn)
        return nn_fail(g, NN_ERR_FORMAT, "node '%s': dfn= belongs to forward ffi nodes only", name);
    double scalars[NN_FFI_MAX_SCALARS];
    int n_scalars;
    int pa = parse_args(args ? args : "", scalars, &n_scalars);
    if (pa == -2) return nn_fail(g, NN_ERR_FORMAT, "node '%s': args= holds more than %d values", name, NN_FFI_MAX_SCALARS);
    if (pa) return nn_fail(g, NN_ERR_FORMAT, "node '%s': args=%s is not a list of numbers V,V,...", name, args);
    size_t lib_len = (size_t)(colon - spec);
    char *lib = malloc(lib_len + 1);
    if (!lib) return nn_fail(g, NN_ERR_NOMEM, "node '%s': out of memory", name);
    memcpy(lib, spec, lib_len);
    lib[lib_len] = 0;
    const char *symbol = colon + 1;
    /* a user gradient node's op names the gradient function; its binding
     * is the forward op's */
    nn_ffi_binding *b = r == NN_FFI_GRAD
                            ? nn_ffi_bind(g, name, source, lib, fn, sig, scalars, n_scalars, symbol)
                            : nn_ffi_bind(g, name, source, lib, symbol, sig, scalars, n_scalars,
                                          r == NN_FFI_FORWARD ? dfn : NULL);
    free(lib);
    if (!b) return NULL;
    nn_node *n = nn_ffi_make_node(g, b, r, name, in[0], n_in > 1 ? in[1] : NULL);
    nn_ffi_binding_release(b);
    return n;
}

static nn_node *build_strict(nn_graph *g, const char *name, const char *op, nn_node *const *in, int n_in,
                             const char *const *keys, const char *const *values, int n_attrs) {
    return ffi_build(g, NN_FFI_FIND, name, op, in, n_in, keys, values, n_attrs);
}

static nn_node *build_showing(nn_graph *g, const char *name, const char *op, nn_node *const *in, int n_in,
                              const char *const *keys, const char *const *values, int n_attrs) {
    return ffi_build(g, NN_FFI_FIND_OR_PLACEHOLDER, name, op, in, n_in, keys, values, n_attrs);
}

/* what drawings and summaries say under an ffi op that nothing resolved */
static const char *ffi_note(const nn_node *node) {
    nn_ffi_info info;
    return nn_ffi_node_info(node, &info) && info.unresolved ? "unresolved ffi op" : NULL;
}

static const nn_op_text_family strict_family = {
    .prefix = "ffi:", .format_attrs = ffi_format_attrs, .build = build_strict, .note = ffi_note};
static const nn_op_text_family showing_family = {
    .prefix = "ffi:", .format_attrs = ffi_format_attrs, .build = build_showing, .note = ffi_note};

static pthread_mutex_t register_lock = PTHREAD_MUTEX_INITIALIZER;
static int registered;

nn_status nn_ffi_register_graph_ops(int show_unresolved) {
    pthread_mutex_lock(&register_lock);
    nn_status s = nn_graphio_register_ops(show_unresolved ? &showing_family : &strict_family);
    if (s == NN_OK) registered = 1;
    pthread_mutex_unlock(&register_lock);
    return s;
}

void nn_ffi_text_register_default(void) {
    pthread_mutex_lock(&register_lock);
    if (!registered && nn_graphio_register_ops(&strict_family) == NN_OK) registered = 1;
    pthread_mutex_unlock(&register_lock);
}
