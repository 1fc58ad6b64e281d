/* The run-history pages behind `nngraph ui` (tools/cmd_ui.c serves them
 * over HTTP, or writes them as static files): HTML, JSON and pictures
 * rendered from a run log opened read-only. No page writes anything.
 * Every text from the database (names, tags, notes, parameters, errors)
 * is user input and is escaped where it is written. */
#ifndef NN_UI_PAGES_H
#define NN_UI_PAGES_H

#include "nngraph/runlog.h"
#include "nngraph/strbuf.h"

#include <stddef.h>

/* s with & < > " ' escaped for HTML text and quoted attributes. */
void ui_put_html(nn_strbuf *b, const char *s);
/* s as a JSON string (quotes included); < > & as \u escapes, so the JSON
 * can sit inside a <script> element. */
void ui_put_json(nn_strbuf *b, const char *s);
/* A number as JSON (null for NaN or an infinity). */
void ui_put_json_num(nn_strbuf *b, double v);
/* s as one segment of a URL path: percent-encoded (RFC 3986) but for
 * letters, digits and - . _ ~, so a '/' in s cannot split it and a
 * browser cannot fold it away as ".."; also safe in a quoted HTML
 * attribute. */
void ui_put_url_segment(nn_strbuf *b, const char *s);

/* What the pages are rendered for: the live server (links like /run/3)
 * or a static export (links like run-3.html). */
typedef struct ui_ctx {
    nn_runlog *log;
    const char *db_label; /* the database's name as shown */
    int exported;         /* 1: static files: file links, no live refresh */
} ui_ctx;

/* One response. */
typedef struct ui_response {
    int status;               /* 200, 400, 404, 405, 500 */
    const char *content_type; /* "text/html; charset=utf-8", ... */
    const char *filename;     /* a download's name (Content-Disposition), or NULL */
    char filename_buf[96];
    nn_strbuf body;
} ui_response;

/* Renders GET `path` with the query argument `runs` (the compare page's
 * list, "1,2,3"; NULL if absent). Unknown paths give 404, malformed ids
 * 400; never a crash. Free the body with nn_sb_free. */
void ui_route(ui_ctx *c, const char *path, const char *runs, ui_response *r);

/* Writes the runs page (index.html) and every run's page, graph picture
 * and last checkpoint's weights into `dir` (created if missing). */
nn_status ui_export(ui_ctx *c, const char *dir);

/* The pages' shared style and script (ui_assets.c). */
extern const char ui_css[], ui_js[];

#endif
