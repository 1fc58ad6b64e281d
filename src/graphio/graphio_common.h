/* Shared by the graph-file writer, reader and the DOT writer: a growable
 * text buffer, registered op families, and the checks a name must pass to
 * be written. */
#ifndef NN_GRAPHIO_COMMON_H
#define NN_GRAPHIO_COMMON_H

#include "internal.h"

#include <stdarg.h>

/* A growable NUL-terminated string; `failed` sticks after an allocation
 * fails so callers check once at the end. */
typedef struct nn_strbuf {
    char *data;
    size_t len, cap;
    int failed;
} nn_strbuf;

void nn_sb_append(nn_strbuf *sb, const char *s, size_t n);
void nn_sb_puts(nn_strbuf *sb, const char *s);
void nn_sb_printf(nn_strbuf *sb, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
void nn_sb_free(nn_strbuf *sb);

/* The registered family whose prefix starts `op_token`, or NULL. */
const nn_op_text_family *nn_graphio_family_for(const char *op_token);

/* 1 if s is valid UTF-8 without control characters (bytes < 0x20, 0x7f). */
int nn_text_clean(const char *s);
/* 1 if the name must be written in double quotes ('=' inside, or '#' or
 * '"' first). */
int nn_name_needs_quotes(const char *name);


/* Shortest text that reads back as the same float ("%.9g"). */
void nn_format_float(float v, char *buf, size_t len);

#endif
