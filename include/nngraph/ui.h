/*
 * nngraph/ui.h: the run history in the browser (`nngraph ui`). An add-on
 * library (src/ui, meson dependency `nngraph_ui_dep`, with GNU
 * libmicrohttpd and the plot library): the core does not depend on it.
 *
 * The run log is opened read-only (SQLITE_OPEN_READONLY). The server
 * answers GET and HEAD only; no page writes, deletes or runs anything,
 * and it serves nothing but the pages it renders: the runs table (/), a
 * run (/run/ID, with /run/ID/graph.svg, /run/ID/weights/epoch-E.nnw and
 * one parameter as NumPy's .npy at /run/ID/weights/epoch-E/NAME.npy),
 * /compare?runs=1,2 (2 to 5 runs) and /runs.json. Run names, tags and
 * notes are escaped wherever they appear. Bad requests get 4xx.
 */
#ifndef NNGRAPH_UI_H
#define NNGRAPH_UI_H

#include "core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Serves run log `db` on host:port (an IPv4 address; port 0 picks a free
 * one) until SIGINT or SIGTERM, printing the URL on stderr when ready.
 * Blocks those two signals in the calling thread. NN_ERR_ARG for a bad
 * address, NN_ERR_IO when the port cannot be bound, NN_ERR_DB for the
 * database. */
nn_status nn_ui_serve(const char *db, const char *host, int port);
/* Writes the same pages as static files into `dir` (created if
 * missing): index.html, run-ID.html, run-ID-graph.svg and each run's last
 * checkpoint's weights as run-ID-epoch-E.nnw and, one file a parameter,
 * run-ID-epoch-E-NAME.npy (NAME with anything but letters, digits, '-'
 * and '.' as '_'). */
nn_status nn_ui_export(const char *db, const char *dir);

#ifdef __cplusplus
}
#endif
#endif
