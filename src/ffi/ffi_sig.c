/* Signatures of custom ops: C prototypes parsed into types, classified as
 * one of the two op forms, and written back in a canonical form. The
 * grammar is the small part of C a user would write for these functions:
 *
 *     proto := type [name] '(' [ 'void' | param {',' param} ] ')'
 *     param := type [name]
 *     type  := {'const'} base {'const'} {'*' {'const' | 'restrict'}}
 *     base  := float | double | int | int32_t | int64_t | void
 */
#include "ffi_internal.h"

#include <ctype.h>
#include <string.h>

typedef struct lexer {
    const char *text, *p;
    char tok[64]; /* current token: identifier, or one of ( ) , * ; "" at end */
    int col;      /* 1-based column of the current token */
} lexer;

/* Advances to the next token; -1 on a character the grammar lacks. */
static int next(lexer *lx, char *err) {
    while (isspace((unsigned char)*lx->p)) lx->p++;
    lx->col = (int)(lx->p - lx->text) + 1;
    if (!*lx->p) {
        lx->tok[0] = 0;
        return 0;
    }
    if (strchr("(),*", *lx->p)) {
        lx->tok[0] = *lx->p++;
        lx->tok[1] = 0;
        return 0;
    }
    if (isalpha((unsigned char)*lx->p) || *lx->p == '_') {
        size_t n = 0;
        while (isalnum((unsigned char)lx->p[n]) || lx->p[n] == '_') n++;
        if (n >= sizeof lx->tok) {
            nn_errf(err, NN_ERR_ARG, "column %d: name too long", lx->col);
            return -1;
        }
        memcpy(lx->tok, lx->p, n);
        lx->tok[n] = 0;
        lx->p += n;
        return 0;
    }
    nn_errf(err, NN_ERR_ARG, "column %d: unexpected '%c'", lx->col, *lx->p);
    return -1;
}

static int is_ident(const char *t) { return isalpha((unsigned char)t[0]) || t[0] == '_'; }

static int base_of(const char *t, nn_ffi_base *b) {
    static const struct {
        const char *name;
        nn_ffi_base base;
    } names[] = {{"void", NN_FFI_VOID},   {"float", NN_FFI_FLOAT},   {"double", NN_FFI_DOUBLE},
                 {"int", NN_FFI_INT32},   {"int32_t", NN_FFI_INT32}, {"int64_t", NN_FFI_INT64}};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        if (strcmp(t, names[i].name) == 0) {
            *b = names[i].base;
            return 1;
        }
    return 0;
}

static int parse_type(lexer *lx, nn_ffi_ctype *t, char *err) {
    memset(t, 0, sizeof *t);
    while (strcmp(lx->tok, "const") == 0) {
        t->konst = 1;
        if (next(lx, err)) return -1;
    }
    if (!base_of(lx->tok, &t->base)) {
        if (!lx->tok[0]) return nn_errf(err, NN_ERR_ARG, "column %d: a type is missing at the end", lx->col), -1;
        nn_errf(err, NN_ERR_ARG, "column %d: unknown type '%s' (float, double, int, int32_t, int64_t or void)",
                lx->col, lx->tok);
        return -1;
    }
    if (next(lx, err)) return -1;
    for (;;) {
        if (strcmp(lx->tok, "restrict") == 0 || strcmp(lx->tok, "__restrict") == 0) {
            /* says in and out do not overlap, which nngraph promises */
        } else if (strcmp(lx->tok, "const") == 0) {
            /* "float const *" qualifies the float; "float * const" the
             * pointer itself, which the callee cannot tell */
            if (!t->ptr) t->konst = 1;
        } else if (strcmp(lx->tok, "*") == 0) {
            t->ptr++;
        } else {
            return 0;
        }
        if (next(lx, err)) return -1;
    }
}

/* An optional name after a type. */
static int skip_name(lexer *lx, char *err) {
    if (is_ident(lx->tok) && strcmp(lx->tok, "const") != 0 && !base_of(lx->tok, &(nn_ffi_base){0}))
        return next(lx, err);
    return 0;
}

int nn_ffi_proto_parse(const char *text, nn_ffi_proto *out, char *err) {
    if (!text) return nn_errf(err, NN_ERR_ARG, "the signature is NULL"), -1;
    lexer lx = {text, text, "", 1};
    memset(out, 0, sizeof *out);
    if (next(&lx, err) || parse_type(&lx, &out->ret, err) || skip_name(&lx, err)) return -1;
    if (strcmp(lx.tok, "(") != 0) {
        nn_errf(err, NN_ERR_ARG, "column %d: expected '(' after the return type, found %s%s%s", lx.col,
                lx.tok[0] ? "'" : "", lx.tok[0] ? lx.tok : "the end", lx.tok[0] ? "'" : "");
        return -1;
    }
    if (next(&lx, err)) return -1;
    if (strcmp(lx.tok, ")") != 0) {
        for (;;) {
            if (out->n == NN_FFI_MAX_PARAMS) {
                nn_errf(err, NN_ERR_ARG, "column %d: more than %d parameters", lx.col, NN_FFI_MAX_PARAMS);
                return -1;
            }
            nn_ffi_ctype *t = &out->p[out->n];
            if (parse_type(&lx, t, err) || skip_name(&lx, err)) return -1;
            out->n++;
            if (strcmp(lx.tok, ",") == 0) {
                if (next(&lx, err)) return -1;
                continue;
            }
            if (strcmp(lx.tok, ")") == 0) break;
            nn_errf(err, NN_ERR_ARG, "column %d: expected ',' or ')', found %s%s%s", lx.col, lx.tok[0] ? "'" : "",
                    lx.tok[0] ? lx.tok : "the end", lx.tok[0] ? "'" : "");
            return -1;
        }
    }
    if (next(&lx, err)) return -1;
    if (lx.tok[0]) {
        nn_errf(err, NN_ERR_ARG, "column %d: unexpected '%s' after ')'", lx.col, lx.tok);
        return -1;
    }
    /* "(void)" is C's empty parameter list */
    if (out->n == 1 && out->p[0].base == NN_FFI_VOID && !out->p[0].ptr) out->n = 0;
    for (int i = 0; i < out->n; i++)
        if (out->p[i].base == NN_FFI_VOID && !out->p[i].ptr) {
            nn_errf(err, NN_ERR_ARG, "parameter %d has type void", i + 1);
            return -1;
        }
    return 0;
}

static const char *base_name(nn_ffi_base b) {
    switch (b) {
    case NN_FFI_VOID: return "void";
    case NN_FFI_FLOAT: return "float";
    case NN_FFI_DOUBLE: return "double";
    case NN_FFI_INT32: return "int32_t";
    case NN_FFI_INT64: return "int64_t";
    }
    return "?";
}

static size_t put_type(char *buf, size_t len, size_t at, nn_ffi_ctype t) {
    int n = snprintf(at < len ? buf + at : NULL, at < len ? len - at : 0, "%s%.*s", base_name(t.base), t.ptr,
                     "****************");
    return at + (n > 0 ? (size_t)n : 0);
}

void nn_ffi_proto_format(const nn_ffi_proto *p, char *buf, size_t len) {
    if (!len) return;
    size_t at = put_type(buf, len, 0, p->ret);
    if (at + 1 < len) buf[at] = '(';
    at++;
    for (int i = 0; i < p->n; i++) {
        if (i) {
            if (at + 1 < len) buf[at] = ',';
            at++;
        }
        at = put_type(buf, len, at, p->p[i]);
    }
    if (at + 1 < len) buf[at] = ')';
    at++;
    buf[at < len ? at : len - 1] = 0;
}

static int is_scalar(nn_ffi_ctype t) { return !t.ptr && t.base != NN_FFI_VOID; }
static int is_float(nn_ffi_ctype t) { return !t.ptr && t.base == NN_FFI_FLOAT; }
static int is_float_ptr(nn_ffi_ctype t) { return t.ptr == 1 && t.base == NN_FFI_FLOAT; }

int nn_ffi_sig_parse(const char *text, nn_ffi_sig *out, char *err) {
    char why[NN_ERRLEN];
    nn_ffi_proto p;
    if (nn_ffi_proto_parse(text, &p, why) != 0) {
        nn_errf(err, NN_ERR_ARG, "cannot parse signature '%s': %s", text ? text : "(null)", why);
        return -1;
    }
    memset(out, 0, sizeof *out);
    int first;
    static const char forms[] = "an op is float f(float x, scalars...) or void f(const float *in, float *out, "
                                "int64_t n, scalars...)";
    if (is_float(p.ret)) {
        if (p.n < 1 || !is_float(p.p[0])) {
            nn_errf(err, NN_ERR_ARG, "signature '%s': an elementwise op takes float x first (%s)", text, forms);
            return -1;
        }
        out->elementwise = 1;
        first = 1;
    } else if (p.ret.base == NN_FFI_VOID && !p.ret.ptr) {
        if (p.n < 3 || !is_float_ptr(p.p[0]) || !is_float_ptr(p.p[1]) || p.p[2].ptr || p.p[2].base != NN_FFI_INT64) {
            nn_errf(err, NN_ERR_ARG, "signature '%s': a whole-tensor op takes (const float *in, float *out, int64_t n) "
                    "first (%s)", text, forms);
            return -1;
        }
        if (p.p[1].konst) {
            nn_errf(err, NN_ERR_ARG, "signature '%s': the output pointer (parameter 2) must not be const", text);
            return -1;
        }
        out->elementwise = 0;
        first = 3;
    } else {
        nn_errf(err, NN_ERR_ARG, "signature '%s': returns neither float nor void (%s)", text, forms);
        return -1;
    }
    for (int i = first; i < p.n; i++) {
        if (!is_scalar(p.p[i])) {
            nn_errf(err, NN_ERR_ARG, "signature '%s': parameter %d must be a scalar (float, double, int, int64_t); "
                    "pointers are only the in and out of a whole-tensor op", text, i + 1);
            return -1;
        }
        if (i - first >= NN_FFI_MAX_SCALARS) {
            nn_errf(err, NN_ERR_ARG, "signature '%s': more than %d scalar parameters", text, NN_FFI_MAX_SCALARS);
            return -1;
        }
        out->scalar[out->n_scalars++] = p.p[i].base;
    }
    return 0;
}

void nn_ffi_sig_forward(const nn_ffi_sig *s, nn_ffi_proto *p) {
    memset(p, 0, sizeof *p);
    if (s->elementwise) {
        p->ret.base = NN_FFI_FLOAT;
        p->p[p->n++].base = NN_FFI_FLOAT;
    } else {
        p->ret.base = NN_FFI_VOID;
        p->p[p->n++] = (nn_ffi_ctype){NN_FFI_FLOAT, 1, 1};
        p->p[p->n++] = (nn_ffi_ctype){NN_FFI_FLOAT, 1, 0};
        p->p[p->n++].base = NN_FFI_INT64;
    }
    for (int i = 0; i < s->n_scalars; i++) p->p[p->n++].base = s->scalar[i];
}

void nn_ffi_sig_gradient(const nn_ffi_sig *s, nn_ffi_proto *p) {
    if (s->elementwise) {
        nn_ffi_sig_forward(s, p);
        return;
    }
    /* void g(const float *x, const float *dy, float *dx, int64_t n, ...) */
    memset(p, 0, sizeof *p);
    p->ret.base = NN_FFI_VOID;
    p->p[p->n++] = (nn_ffi_ctype){NN_FFI_FLOAT, 1, 1};
    p->p[p->n++] = (nn_ffi_ctype){NN_FFI_FLOAT, 1, 1};
    p->p[p->n++] = (nn_ffi_ctype){NN_FFI_FLOAT, 1, 0};
    p->p[p->n++].base = NN_FFI_INT64;
    for (int i = 0; i < s->n_scalars; i++) p->p[p->n++].base = s->scalar[i];
}

nn_status nn_ffi_signature_check(const char *signature, char *canon, size_t len) {
    char err[NN_ERRLEN];
    nn_ffi_sig s;
    if (nn_ffi_sig_parse(signature, &s, err) != 0) return nn_set_error(NN_ERR_ARG, "%s", err);
    if (canon && len) {
        nn_ffi_proto p;
        nn_ffi_sig_forward(&s, &p);
        nn_ffi_proto_format(&p, canon, len);
    }
    return NN_OK;
}
