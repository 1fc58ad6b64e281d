/* The graph-file reader's lexical layer: the parser state, tokens,
 * numbers, shapes, initialisers and constant values, each error placed by
 * line and column. Used by graphio_load.c only. */
#ifndef NN_GRAPHIO_PARSE_H
#define NN_GRAPHIO_PARSE_H

#include "graphio_common.h"

#define NN_GF_MAX_TOKENS 64
/* Larger tensors in a text file are a mistake, not a model: 2^28 floats
 * is 1 GiB. */
#define NN_GF_MAX_ELEMS ((int64_t)1 << 28)
#define NN_GF_MAX_DIM ((int64_t)INT32_MAX)

typedef struct nn_gf_token {
    char *s;   /* NUL-terminated, quotes removed */
    int col;   /* 1-based column of its first character */
    int quoted;
} nn_gf_token;

typedef struct nn_gf_parser {
    const char *source;
    const char *text;
    size_t len;
    uint64_t seed;
    int line; /* current line, 1-based */
    const char *line_start;
    nn_graph *g;
    int *node_line; /* line of each node, by node id */
    nn_load_fault *fault;
    int failed;
    int unterminated;      /* the text's last line is no 'end N': build nothing big */
    uint64_t tensor_bytes; /* parameters and constants so far */
} nn_gf_parser;

/* A file without its 'end N' line builds tensors of at most this many
 * bytes in all before it fails as truncated. */
#define NN_GF_UNTERMINATED_BYTES ((uint64_t)1 << 20)

/* Counts a parameter or constant of `elems` elements (4 bytes each) against
 * the memory limit, and against NN_GF_UNTERMINATED_BYTES for a file cut
 * short; 0, or -1 after the error at column col. */
int nn_gf_reserve(nn_gf_parser *p, int col, int64_t elems);

/* Column of byte `at` on the current line, counted in characters. */
int nn_gf_column(const nn_gf_parser *p, const char *at);
/* Records "SOURCE:LINE:COL: message" in nn_last_error(); returns -1. */
int nn_gf_fail(nn_gf_parser *p, int col, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
/* Splits a mutable copy of the current line into tokens (quotes removed). */
int nn_gf_tokenize(nn_gf_parser *p, char *line, nn_gf_token *tok, int *n);
/* Strict decimal integer in [min,max]: 0, -1 on junk, -2 out of range. */
int nn_gf_int(const char *s, int64_t min, int64_t max, int64_t *out);
/* A float as the writer prints it (inf, nan too): 0, -1 junk, -2 overflow. */
int nn_gf_float(const char *s, float *out);
/* [d0,d1,...] with B first for the batch; [] a scalar. */
int nn_gf_shape(nn_gf_parser *p, const nn_gf_token *t, nn_shape *out);
/* Elements of a fixed shape, or -1 past NN_GF_MAX_ELEMS. */
int64_t nn_gf_elems(nn_shape s);
/* init=NAME, NAME(a) or NAME(a,b); `col` places errors. */
int nn_gf_init(nn_gf_parser *p, int col, const char *v, nn_init *out);
/* fill=V or value=V,V,... as a new tensor of dtype/shape. */
nn_tensor *nn_gf_const(nn_gf_parser *p, int col, const char *key, const char *v, nn_dtype dt, nn_shape s);
/* The line where `name` is defined after the current line, or 0. */
int nn_gf_defined_later(const nn_gf_parser *p, const char *name);

#endif
