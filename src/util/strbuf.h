/* A growable NUL-terminated string, for the writers of text and binary
 * files (graph files, DOT, weights, run-log checkpoints). */
#ifndef NN_STRBUF_H
#define NN_STRBUF_H

#include <stdarg.h>
#include <stddef.h>

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

/* The shortest text that reads back as v (as a float when as_float, else
 * a double), written the way people write numbers: 40, 0.001, 2.5e-08,
 * 1e+20 (positional unless the exponent is below -4 or past the digits a
 * float or double holds). For graph files, run-log parameters, the CLI. */
void nn_format_number(double v, int as_float, char *buf, size_t len);

#endif
