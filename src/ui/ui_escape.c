/* The escaping every page relies on: HTML text, JSON strings and
 * numbers, and names inside link paths. */
#include "ui_pages.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ui_put_html(nn_strbuf *b, const char *s) {
    for (const char *p = s; p && *p; p++) {
        switch (*p) {
        case '&': nn_sb_puts(b, "&amp;"); break;
        case '<': nn_sb_puts(b, "&lt;"); break;
        case '>': nn_sb_puts(b, "&gt;"); break;
        case '"': nn_sb_puts(b, "&quot;"); break;
        case '\'': nn_sb_puts(b, "&#39;"); break;
        default:
            /* control characters show as U+FFFD, never as raw bytes */
            if ((unsigned char)*p < 0x20 && *p != '\n' && *p != '\t') nn_sb_puts(b, "\xEF\xBF\xBD");
            else nn_sb_append(b, p, 1);
        }
    }
}

void ui_put_json(nn_strbuf *b, const char *s) {
    nn_sb_puts(b, "\"");
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        if (*p == '"' || *p == '\\') nn_sb_printf(b, "\\%c", *p);
        else if (*p < 0x20 || *p == '<' || *p == '>' || *p == '&') nn_sb_printf(b, "\\u%04x", *p);
        else nn_sb_append(b, p, 1);
    }
    nn_sb_puts(b, "\"");
}

void ui_put_json_num(nn_strbuf *b, double v) {
    if (!isfinite(v)) nn_sb_puts(b, "null");
    else nn_sb_printf(b, "%.9g", v);
}

void ui_put_url_segment(nn_strbuf *b, const char *s) {
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        int plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || strchr("-._~", *p);
        if (plain) nn_sb_append(b, p, 1);
        else nn_sb_printf(b, "%%%c%c", hex[*p >> 4], hex[*p & 15]);
    }
}
