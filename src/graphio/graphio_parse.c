/* The graph-file reader's lexical layer (see graphio_parse.h). */
#include "graphio_parse.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Column of byte `p` on the current line, counted in characters. */
int nn_gf_column(const nn_gf_parser *p, const char *at) {
    int col = 1;
    for (const char *c = p->line_start; c < at; c++)
        if (((unsigned char)*c & 0xc0) != 0x80) col++;
    return col;
}

int nn_gf_fail(nn_gf_parser *p, int col, const char *fmt, ...) {
    char msg[NN_ERRLEN];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (col > 0)
        nn_set_error(NN_ERR_FORMAT, "%s:%d:%d: %s", p->source, p->line, col, msg);
    else
        nn_set_error(NN_ERR_FORMAT, "%s:%d: %s", p->source, p->line, msg);
    if (p->fault) {
        p->fault->line = p->line;
        p->fault->column = col;
    }
    p->failed = 1;
    return -1;
}

/* Splits a mutable line into tokens at spaces and tabs. */
int nn_gf_tokenize(nn_gf_parser *p, char *line, nn_gf_token *tok, int *n) {
    const char *orig = p->line_start;
    *n = 0;
    char *c = line;
    while (*c) {
        while (*c == ' ' || *c == '\t') c++;
        if (!*c) break;
        if (*n == NN_GF_MAX_TOKENS) {
            nn_gf_fail(p, nn_gf_column(p, orig + (c - line)), "too many fields on one line (at most %d)", NN_GF_MAX_TOKENS);
            return -1;
        }
        nn_gf_token *t = &tok[(*n)++];
        t->col = nn_gf_column(p, orig + (c - line));
        t->quoted = 0;
        char *start = c;
        while (*c && *c != ' ' && *c != '\t') c++;
        if (*c) *c++ = 0;
        t->s = start;
        if (*start == '"') {
            size_t l = strlen(start);
            if (l < 2 || start[l - 1] != '"' || memchr(start + 1, '"', l - 2)) {
                nn_gf_fail(p, t->col, "unterminated or malformed quoted name %s", start);
                return -1;
            }
            start[l - 1] = 0;
            t->s = start + 1;
            t->quoted = 1;
        }
    }
    return 0;
}

/* Strict decimal integer; -1 on junk, -2 on overflow past `max`. */
int nn_gf_int(const char *s, int64_t min, int64_t max, int64_t *out) {
    const char *c = s;
    int neg = 0;
    if (*c == '-' || *c == '+') neg = *c++ == '-';
    if (!*c) return -1;
    int64_t v = 0;
    for (; *c; c++) {
        if (*c < '0' || *c > '9') return -1;
        if (v > (INT64_MAX - (*c - '0')) / 10) return -2;
        v = v * 10 + (*c - '0');
    }
    if (neg) v = -v;
    if (v < min || v > max) return -2;
    *out = v;
    return 0;
}

/* A float as the writer prints it (also inf, nan); -1 on junk, -2 when a
 * finite number does not fit a float. */
int nn_gf_float(const char *s, float *out) {
    char *end;
    errno = 0;
    float v = strtof(s, &end);
    if (end == s || *end) return -1;
    if (errno == ERANGE && isinf(v)) return -2;
    *out = v;
    return 0;
}

int nn_gf_shape(nn_gf_parser *p, const nn_gf_token *t, nn_shape *out) {
    const char *s = t->s;
    size_t l = strlen(s);
    if (t->quoted || l < 2 || s[0] != '[' || s[l - 1] != ']') {
        nn_gf_fail(p, t->col, "bad shape '%s': want [d0,d1,...] with B for the batch, [] for a scalar", s);
        return -1;
    }
    memset(out, 0, sizeof *out);
    if (l == 2) return 0;
    char buf[128];
    if (l - 2 >= sizeof buf) {
        nn_gf_fail(p, t->col, "bad shape: '%.40s...' is too long", s);
        return -1;
    }
    memcpy(buf, s + 1, l - 2);
    buf[l - 2] = 0;
    int commas = 0;
    for (const char *c = buf; *c; c++) commas += *c == ',';
    char *save = NULL;
    int rank = 0;
    for (char *d = buf;; d = NULL) {
        char *tokd = strtok_r(d, ",", &save);
        if (!tokd) break;
        int col = t->col + 1 + (int)(tokd - buf);
        if (rank == NN_MAX_RANK) {
            nn_gf_fail(p, t->col, "bad shape %s: rank above %d", s, NN_MAX_RANK);
            return -1;
        }
        int64_t v;
        if (strcmp(tokd, "B") == 0) {
            if (rank != 0) {
                nn_gf_fail(p, col, "bad shape %s: only the first dimension may be the batch B", s);
                return -1;
            }
            v = NN_BATCH;
        } else {
            int r = nn_gf_int(tokd, 1, NN_GF_MAX_DIM, &v);
            if (r == -2) {
                nn_gf_fail(p, col, "bad shape %s: dimension %s is out of range (1..%lld)", s, tokd, (long long)NN_GF_MAX_DIM);
                return -1;
            }
            if (r != 0) {
                nn_gf_fail(p, col, "bad shape %s: dimension '%s' is not a positive integer or B", s, tokd);
                return -1;
            }
        }
        out->dim[rank++] = v;
    }
    /* "[3,,4]" and "[3,]" leave empty fields strtok skips: count commas */
    if (commas != rank - 1) {
        nn_gf_fail(p, t->col, "bad shape %s: empty dimension", s);
        return -1;
    }
    out->rank = rank;
    return 0;
}

/* Elements of a fixed shape, or -1 past NN_GF_MAX_ELEMS. */
int64_t nn_gf_elems(nn_shape s) {
    int64_t n = 1;
    for (int i = 0; i < s.rank; i++) {
        if (s.dim[i] <= 0 || n > NN_GF_MAX_ELEMS / s.dim[i]) return -1;
        n *= s.dim[i];
    }
    return n;
}


/* init=NAME or NAME(a) or NAME(a,b). */
int nn_gf_init(nn_gf_parser *p, int col, const char *v, nn_init *out) {
    char name[64];
    const char *paren = strchr(v, '(');
    size_t nl = paren ? (size_t)(paren - v) : strlen(v);
    if (nl >= sizeof name) nl = sizeof name - 1;
    memcpy(name, v, nl);
    name[nl] = 0;
    int kind = nn_init_from_name(name);
    if (kind < 0) {
        nn_gf_fail(p, col, "unknown initialiser '%s' (zeros, ones, constant(a), uniform(a,b), normal(a,b), "
                           "glorot_uniform, he_normal, glorot_normal, he_uniform, lecun_normal)", name);
        return -1;
    }
    int want = kind == NN_INIT_CONSTANT ? 1 : (kind == NN_INIT_UNIFORM || kind == NN_INIT_NORMAL) ? 2 : 0;
    float args[2] = {0, 0};
    int got = 0;
    if (paren) {
        size_t l = strlen(paren);
        if (paren[l - 1] != ')') {
            nn_gf_fail(p, col, "initialiser %s: missing ')'", v);
            return -1;
        }
        char buf[128];
        if (l - 2 >= sizeof buf) {
            nn_gf_fail(p, col, "initialiser %s: arguments too long", name);
            return -1;
        }
        memcpy(buf, paren + 1, l - 2);
        buf[l - 2] = 0;
        char *save = NULL;
        for (char *a = strtok_r(buf, ",", &save); a; a = strtok_r(NULL, ",", &save)) {
            if (got == 2 || nn_gf_float(a, &args[got]) != 0) {
                nn_gf_fail(p, col, "initialiser %s: bad or extra argument '%s'", name, a);
                return -1;
            }
            got++;
        }
    }
    if (got != want) {
        nn_gf_fail(p, col, "initialiser %s takes %d argument%s, got %d", name, want, want == 1 ? "" : "s", got);
        return -1;
    }
    *out = (nn_init){(nn_init_kind)kind, args[0], args[1]};
    return 0;
}

int nn_gf_reserve(nn_gf_parser *p, int col, int64_t elems) {
    p->tensor_bytes += (uint64_t)elems * 4;
    if (p->unterminated && p->tensor_bytes > NN_GF_UNTERMINATED_BYTES)
        return nn_gf_fail(p, col, "truncated file: no 'end N' line at the end, and its tensors need more than %llu "
                          "bytes (a file is built only once it is whole)",
                          (unsigned long long)NN_GF_UNTERMINATED_BYTES);
    if (nn_check_memory(p->tensor_bytes, p->source, "the graph's parameters and constants") != NN_OK) {
        char why[NN_ERRLEN];
        snprintf(why, sizeof why, "%s", nn_last_error());
        return nn_gf_fail(p, col, "%s", why);
    }
    return 0;
}

/* fill=V or value=V,V,... into a new tensor of dtype/shape. */
nn_tensor *nn_gf_const(nn_gf_parser *p, int col, const char *key, const char *v, nn_dtype dt, nn_shape s) {
    int64_t n = nn_gf_elems(s);
    if (n < 0) {
        nn_gf_fail(p, col, "constant too large (at most %lld elements)", (long long)NN_GF_MAX_ELEMS);
        return NULL;
    }
    if (nn_gf_reserve(p, col, n) != 0) return NULL;
    nn_tensor *x = nn_tensor_new(dt, s);
    if (!x) {
        nn_gf_fail(p, col, "out of memory");
        return NULL;
    }
    int fill = strcmp(key, "fill") == 0;
    int64_t i = 0;
    const char *c = v;
    while (1) {
        const char *end = strchr(c, ',');
        size_t l = end ? (size_t)(end - c) : strlen(c);
        char num[64];
        if (l >= sizeof num) l = sizeof num - 1;
        memcpy(num, c, l);
        num[l] = 0;
        if (i >= (fill ? 1 : n)) {
            nn_gf_fail(p, col, "%s: more than %lld value%s", key, (long long)(fill ? 1 : n), n == 1 ? "" : "s");
            nn_tensor_free(x);
            return NULL;
        }
        int r;
        if (dt == NN_F32) {
            float f = 0;
            r = nn_gf_float(num, &f);
            ((float *)nn_tensor_data(x))[i] = f;
        } else {
            int64_t k = 0;
            r = nn_gf_int(num, INT32_MIN, INT32_MAX, &k);
            ((int32_t *)nn_tensor_data(x))[i] = (int32_t)k;
        }
        if (r != 0) {
            nn_gf_fail(p, col, "%s: value %lld '%s' is %s", key, (long long)i,
                    num, r == -2 ? "out of range" : dt == NN_F32 ? "not a number" : "not an integer");
            nn_tensor_free(x);
            return NULL;
        }
        i++;
        if (!end) break;
        c = end + 1;
    }
    if (!fill && i != n) {
        nn_gf_fail(p, col, "value: %lld value%s for a shape of %lld elements", (long long)i, i == 1 ? "" : "s",
                (long long)n);
        nn_tensor_free(x);
        return NULL;
    }
    if (fill) {
        size_t es = nn_dtype_size(dt);
        for (int64_t k = 1; k < n; k++) memcpy((char *)nn_tensor_data(x) + k * (int64_t)es, nn_tensor_data(x), es);
    }
    return x;
}

/* The line where `name` is defined after the current line, or 0. */
int nn_gf_defined_later(const nn_gf_parser *p, const char *name) {
    const char *c = p->line_start;
    const char *end = p->text + p->len;
    int line = p->line;
    size_t nl = strlen(name);
    while (c < end) {
        const char *eol = memchr(c, '\n', (size_t)(end - c));
        if (!eol) eol = end;
        if (line > p->line) {
            const char *s = c;
            while (s < eol && (*s == ' ' || *s == '\t')) s++;
            if (s < eol && *s == '"') s++; /* a last line of blanks ends the text */
            if ((size_t)(eol - s) > nl && memcmp(s, name, nl) == 0 &&
                (s[nl] == ' ' || s[nl] == '\t' || s[nl] == '"'))
                return line;
        }
        c = eol + 1;
        line++;
    }
    return 0;
}
