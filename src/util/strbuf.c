/* A growable text buffer (strbuf.h). */
#include "strbuf.h"
#include "nngraph.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void nn_sb_append(nn_strbuf *sb, const void *s, size_t n) {
    if (sb->failed) return;
    if (sb->len + n + 1 > sb->cap) {
        size_t cap = sb->cap ? sb->cap : 256;
        while (cap < sb->len + n + 1) cap *= 2;
        char *d = realloc(sb->data, cap);
        if (!d) {
            sb->failed = 1;
            return;
        }
        sb->data = d;
        sb->cap = cap;
    }
    if (n) memcpy(sb->data + sb->len, s, n);
    sb->len += n;
    sb->data[sb->len] = 0;
}

void nn_sb_puts(nn_strbuf *sb, const char *s) { nn_sb_append(sb, s, strlen(s)); }

void nn_sb_printf(nn_strbuf *sb, const char *fmt, ...) {
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) {
        sb->failed = 1;
        return;
    }
    if ((size_t)n < sizeof small) {
        nn_sb_append(sb, small, (size_t)n);
        return;
    }
    char *big = malloc((size_t)n + 1);
    if (!big) {
        sb->failed = 1;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    nn_sb_append(sb, big, (size_t)n);
    free(big);
}

void nn_sb_free(nn_strbuf *sb) {
    free(sb->data);
    memset(sb, 0, sizeof *sb);
}

char *nn_format_count(int64_t n, char *buf, size_t len) {
    char digits[32];
    int neg = n < 0;
    snprintf(digits, sizeof digits, "%lld", (long long)(neg ? -n : n));
    size_t nd = strlen(digits), k = 0;
    char out[48];
    if (neg) out[k++] = '-';
    for (size_t i = 0; i < nd; i++) {
        if (i && (nd - i) % 3 == 0) out[k++] = ',';
        out[k++] = digits[i];
    }
    out[k] = 0;
    snprintf(buf, len, "%s", out);
    return buf;
}

void nn_format_number(double v, int as_float, char *buf, size_t len) {
    if (!buf || !len) return;
    int max_digits = as_float ? 9 : 17, digits = max_digits;
    for (int d = 1; d <= max_digits; d++) {
        snprintf(buf, len, "%.*g", d, v);
        if (!isfinite(v) || (as_float ? strtof(buf, NULL) == (float)v : strtod(buf, NULL) == v)) {
            digits = d;
            break;
        }
    }
    if (!isfinite(v) || v == 0) return;
    /* %g writes 40 as 4e+01 at one digit: give it the digits up to the
     * decimal point, as long as that is exact (below 10^max_digits) */
    char sci[48];
    snprintf(sci, sizeof sci, "%.*e", digits - 1, v);
    int exponent = atoi(strchr(sci, 'e') + 1);
    if (exponent >= digits && exponent < max_digits) snprintf(buf, len, "%.*g", exponent + 1, v);
}
