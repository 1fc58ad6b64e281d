/*
 * nngraph/strbuf.h: a growable byte string, NUL-terminated after its
 * bytes. The library builds its files (graph text, DOT, weights,
 * checkpoints) in it; programs and the add-on libraries over nngraph
 * (src/ui's pages) use the same one rather than each growing its own.
 *
 * Error model: an allocation failure sets `failed`, which sticks; later
 * appends do nothing, so a writer appends freely and checks once at the
 * end. A zeroed nn_strbuf is empty and ready: nn_strbuf sb = {0};
 */
#ifndef NNGRAPH_STRBUF_H
#define NNGRAPH_STRBUF_H

#include <stdarg.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* What this header declares is the library's API: the shared library
 * exports it and hides everything else (-fvisibility=hidden). */
#if defined(__GNUC__)
#pragma GCC visibility push(default)
#endif

typedef struct nn_strbuf {
    char *data;  /* NULL until something is appended; then len bytes and a NUL */
    size_t len;  /* bytes held, not counting the NUL */
    size_t cap;  /* bytes allocated */
    int failed;  /* 1 once an allocation failed (sticky) */
} nn_strbuf;

/* Appends n bytes of s (which may hold NULs). */
void nn_sb_append(nn_strbuf *sb, const void *s, size_t n);
/* Appends the NUL-terminated string s. */
void nn_sb_puts(nn_strbuf *sb, const char *s);
/* Appends printf-formatted text (any length). */
void nn_sb_printf(nn_strbuf *sb, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* Frees the bytes and leaves sb empty (zeroed) for reuse. */
void nn_sb_free(nn_strbuf *sb);

#if defined(__GNUC__)
#pragma GCC visibility pop
#endif

#ifdef __cplusplus
}
#endif
#endif
