/* Error recording: the sticky build error and the last run's error. */
#include "internal.h"

#include <stdio.h>
#include <string.h>

nn_node *nn_fail(nn_graph *g, nn_status s, const char *fmt, ...) {
    if (!g || g->status != NN_OK) return NULL; /* keep the first error */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(g->err, sizeof g->err, fmt, ap);
    va_end(ap);
    g->status = s;
    return NULL;
}

nn_status nn_fail_run(nn_graph *g, nn_status s, const char *fmt, ...) {
    if (!g) return s;
    if (g->status != NN_OK) return g->status; /* a build error wins */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(g->err, sizeof g->err, fmt, ap);
    va_end(ap);
    g->run_status = s;
    return s;
}

nn_status nn_errf(char *err, nn_status s, const char *fmt, ...) {
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, NN_ERRLEN, fmt, ap);
        va_end(ap);
    }
    return s;
}

nn_status nn_graph_status(const nn_graph *g) {
    if (!g) return NN_ERR_ARG;
    return g->status != NN_OK ? g->status : g->run_status;
}

const char *nn_error_message(const nn_graph *g) {
    if (!g) return "graph is NULL";
    return nn_graph_status(g) == NN_OK ? "" : g->err;
}

const nn_fault *nn_graph_fault(const nn_graph *g) {
    return g && g->status != NN_OK && g->has_fault ? &g->fault : NULL;
}

void nn_graph_clear_run_error(nn_graph *g) {
    if (g && g->status == NN_OK && g->run_status != NN_OK) {
        g->run_status = NN_OK;
        g->err[0] = 0;
    }
}
