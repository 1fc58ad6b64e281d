/* Rendering DOT through Graphviz's libraries in this process (libgvc for
 * layout and output plugins, cgraph for parsing), never by running the
 * `dot` program: no PATH lookup, no temporary files, errors come back as
 * nngraph errors instead of text on our stderr. */
#include "graphio_common.h"

#include <gvc.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* Graphviz reports through a global callback; collect its messages so the
 * library stays silent and the caller gets the reason. Graphviz is not
 * thread safe anyway, so one buffer serves. */
static char gv_messages[1024];

static int collect_gv_message(char *msg) {
    size_t have = strlen(gv_messages);
    if (have + 1 < sizeof gv_messages) snprintf(gv_messages + have, sizeof gv_messages - have, "%s", msg);
    return 0;
}

/* The collected messages on one line, without Graphviz's trailing newline. */
static const char *gv_reason(void) {
    size_t l = strlen(gv_messages);
    while (l && (gv_messages[l - 1] == '\n' || gv_messages[l - 1] == ' ')) gv_messages[--l] = 0;
    for (char *c = gv_messages; *c; c++)
        if (*c == '\n') *c = ' ';
    return gv_messages[0] ? gv_messages : "no reason given";
}

static int known_format(const char *format) {
    static const char *const formats[] = {"svg", "png", "pdf", "json", "dot", "xdot", "plain", "ps", NULL};
    for (int i = 0; formats[i]; i++)
        if (strcmp(formats[i], format) == 0) return 1;
    return 0;
}

/* One Graphviz context for the process, made on first use and kept: the
 * pango plugin of Graphviz 2.43 caches a font name that a freed context
 * leaves dangling (a use-after-free on the next context's first label),
 * and plugin loading is the slow part anyway. Graphviz is not thread
 * safe, so renders take turns. */
static GVC_t *gv_context;
static pthread_mutex_t gv_lock = PTHREAD_MUTEX_INITIALIZER;

static nn_status render_locked(const char *dot_text, const char *format, char **data, size_t *len);

nn_status nn_dot_render(const char *dot_text, const char *format, char **data, size_t *len) {
    pthread_mutex_lock(&gv_lock);
    nn_status st = render_locked(dot_text, format, data, len);
    pthread_mutex_unlock(&gv_lock);
    return st;
}

static nn_status render_locked(const char *dot_text, const char *format, char **data, size_t *len) {
    if (data) *data = NULL;
    if (len) *len = 0;
    if (!dot_text || !format || !data || !len)
        return nn_set_error(NN_ERR_ARG, "render: dot text, format, data and len are required");
    if (!known_format(format))
        return nn_set_error(NN_ERR_ARG, "render: unknown format '%s' (svg, png, pdf, json, dot, xdot, plain, ps)",
                            format);
    gv_messages[0] = 0;
    agusererrf old_f = agseterrf(collect_gv_message);
    agerrlevel_t old_level = agseterr(AGERR);
    nn_status st = NN_OK;
    if (!gv_context) gv_context = gvContext();
    GVC_t *gvc = gv_context;
    Agraph_t *g = NULL;
    char *out = NULL;
    unsigned int out_len = 0;
    if (!gvc) {
        st = nn_set_error(NN_ERR_NOMEM, "render: cannot create a Graphviz context");
        goto done;
    }
    g = agmemread(dot_text);
    if (!g) {
        st = nn_set_error(NN_ERR_FORMAT, "render: Graphviz cannot parse the DOT text: %s", gv_reason());
        goto done;
    }
    if (gvLayout(gvc, g, "dot") != 0) {
        st = nn_set_error(NN_ERR_RUNTIME, "render: Graphviz layout failed: %s", gv_reason());
        goto done;
    }
    if (gvRenderData(gvc, g, format, &out, &out_len) != 0 || !out) {
        st = nn_set_error(NN_ERR_RUNTIME, "render: Graphviz cannot render %s (is its plugin installed?): %s", format,
                          gv_reason());
        goto done;
    }
    *data = malloc((size_t)out_len + 1);
    if (!*data) {
        st = nn_set_error(NN_ERR_NOMEM, "render: out of memory");
        goto done;
    }
    memcpy(*data, out, out_len);
    (*data)[out_len] = 0; /* text formats can be used as strings */
    *len = out_len;
done:
    if (out) gvFreeRenderData(out);
    if (g) {
        gvFreeLayout(gvc, g);
        agclose(g);
    }
    agseterr(old_level);
    agseterrf(old_f);
    return st;
}

nn_status nn_graph_render_file(const nn_graph *g, const nn_dot_opts *opts, const char *format, const char *path) {
    if (!path || !format) return nn_set_error(NN_ERR_ARG, "render: format and path are required");
    char *dot = nn_graph_dot_string(g, opts);
    if (!dot) return NN_ERR_ARG;
    char *data;
    size_t len;
    nn_status st = nn_dot_render(dot, format, &data, &len);
    free(dot);
    if (st != NN_OK) return st;
    st = nn_write_file_atomic(path, data, len);
    free(data);
    return st;
}
