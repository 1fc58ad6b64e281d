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

#endif
