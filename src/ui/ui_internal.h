/* Shared by the UI's page renderers (ui_pages.c) and its router
 * (ui_route.c). Internal to src/ui. */
#ifndef NN_UI_INTERNAL_H
#define NN_UI_INTERNAL_H

/* The compare page takes 2 to this many runs. */
#define UI_MAX_COMPARE 5

#include "ui_pages.h"

/* Link targets, live or exported. */
void ui_link_run(const ui_ctx *c, nn_strbuf *b, int64_t id);
void ui_link_home(const ui_ctx *c, nn_strbuf *b);

/* The file name a static export gives parameter k of checkpoint ck
 * (run-ID-epoch-E-NAME.npy, NAME with anything but letters, digits, '-'
 * and '.' as '_'; the index added when an earlier parameter's name
 * reads the same that way). */
void ui_npy_file_name(const nn_checkpoint *ck, int k, char *buf, size_t len);

/* The curves of `n` runs as an SVG document (malloc'ed text without its
 * XML declaration, to inline); NULL with nn_last_error() if nothing is
 * logged yet or drawing failed. */
char *ui_curves_svg(ui_ctx *c, const int64_t *runs, int n);

/* Pages: a complete HTML document into b. NN_ERR_ARG for a run that does
 * not exist (nothing written then). */
void ui_page_runs(ui_ctx *c, nn_strbuf *b);
nn_status ui_page_run(ui_ctx *c, int64_t id, nn_strbuf *b);
nn_status ui_page_compare(ui_ctx *c, const int64_t *runs, int n, nn_strbuf *b);

#endif
