/* ui_buf: growing buffers and the escaping every page relies on. */
#include "ui_pages.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ub_put(ui_buf *b, const void *data, size_t n) {
    if (b->failed || n == 0) return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n + 1) cap *= 2;
        char *grown = realloc(b->data, cap);
        if (!grown) {
            b->failed = 1;
            return;
        }
        b->data = grown, b->cap = cap;
    }
    memcpy(b->data + b->len, data, n);
    b->len += n;
    b->data[b->len] = 0;
}

void ub_puts(ui_buf *b, const char *s) { ub_put(b, s, strlen(s)); }

void ub_printf(ui_buf *b, const char *fmt, ...) {
    char small[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if ((size_t)n < sizeof small) {
        ub_put(b, small, (size_t)n);
        return;
    }
    char *big = malloc((size_t)n + 1);
    if (!big) {
        b->failed = 1;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    ub_put(b, big, (size_t)n);
    free(big);
}

void ub_html(ui_buf *b, const char *s) {
    for (const char *p = s; p && *p; p++) {
        switch (*p) {
        case '&': ub_puts(b, "&amp;"); break;
        case '<': ub_puts(b, "&lt;"); break;
        case '>': ub_puts(b, "&gt;"); break;
        case '"': ub_puts(b, "&quot;"); break;
        case '\'': ub_puts(b, "&#39;"); break;
        default:
            /* control characters show as U+FFFD, never as raw bytes */
            if ((unsigned char)*p < 0x20 && *p != '\n' && *p != '\t') ub_puts(b, "\xEF\xBF\xBD");
            else ub_put(b, p, 1);
        }
    }
}

void ub_json(ui_buf *b, const char *s) {
    ub_puts(b, "\"");
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        if (*p == '"' || *p == '\\') ub_printf(b, "\\%c", *p);
        else if (*p < 0x20 || *p == '<' || *p == '>' || *p == '&') ub_printf(b, "\\u%04x", *p);
        else ub_put(b, p, 1);
    }
    ub_puts(b, "\"");
}

void ub_json_num(ui_buf *b, double v) {
    if (!isfinite(v)) ub_puts(b, "null");
    else ub_printf(b, "%.9g", v);
}

void ub_free(ui_buf *b) {
    free(b->data);
    memset(b, 0, sizeof *b);
}
