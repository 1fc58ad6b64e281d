/* The HTTP server of nngraph/ui.h: GNU libmicrohttpd, one polling
 * thread (which alone touches the run log and the plotting library),
 * answering GET and HEAD from the page renderers (ui_route). */
#include "nngraph/ui.h"
#include "ui_pages.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

/* One request, answered at once: GET and HEAD only, no request body. */
static enum MHD_Result answer(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                              const char *version, const char *upload_data, size_t *upload_size, void **state) {
    (void)version, (void)upload_data, (void)state;
    ui_ctx *c = cls;
    ui_response r;
    int allowed = strcmp(method, MHD_HTTP_METHOD_GET) == 0 || strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
    if (!allowed || *upload_size) {
        memset(&r, 0, sizeof r);
        r.status = MHD_HTTP_METHOD_NOT_ALLOWED;
        r.content_type = "text/plain; charset=utf-8";
        nn_sb_puts(&r.body, "405: this server only reads (GET)\n");
        *upload_size = 0;
    } else {
        ui_route(c, url, MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "runs"), &r);
    }
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(r.body.len, r.body.data ? r.body.data : (void *)"", MHD_RESPMEM_MUST_COPY);
    nn_sb_free(&r.body);
    if (!resp) return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r.content_type);
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    /* inline script and style are the pages' own; nothing loads from
     * elsewhere, and the curves' embedded bitmaps are data: URLs */
    MHD_add_response_header(resp, "Content-Security-Policy",
                            "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
                            "img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'");
    if (!allowed) MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
    if (r.filename) {
        char disp[160];
        snprintf(disp, sizeof disp, "attachment; filename=\"%s\"", r.filename);
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_DISPOSITION, disp);
    }
    enum MHD_Result ok = MHD_queue_response(conn, (unsigned)r.status, resp);
    MHD_destroy_response(resp);
    return ok;
}

static nn_status serve(ui_ctx *c, const char *host, int port) {
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)port);
    if (strcmp(host, "localhost") == 0) host = "127.0.0.1";
    if (inet_pton(AF_INET, host, &addr.sin_addr) != 1)
        return nn_set_error(NN_ERR_ARG, "--host wants an IPv4 address such as 127.0.0.1, not '%s'", host);
    /* the server thread inherits this mask; the main thread waits for the
     * signals with sigwait */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    struct MHD_Daemon *d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, 0, NULL, NULL, answer,
                                            c, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
                                            MHD_OPTION_CONNECTION_LIMIT, (unsigned)64, MHD_OPTION_CONNECTION_TIMEOUT,
                                            (unsigned)30, MHD_OPTION_END);
    if (!d) {
        pthread_sigmask(SIG_UNBLOCK, &stop, NULL);
        return nn_set_error(NN_ERR_IO, "cannot listen on %s:%d (in use? try --port 0)", host, port);
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    unsigned bound = info ? info->port : (unsigned)port;
    fprintf(stderr, "nngraph ui: serving %s at http://%s:%u/ (read-only; Ctrl-C stops)\n", c->db_label, host, bound);
    fflush(stderr);
    int sig = 0;
    sigwait(&stop, &sig);
    MHD_stop_daemon(d);
    fprintf(stderr, "nngraph ui: stopped\n");
    return NN_OK;
}

/* Opens db read-only for the pages. */
static nn_status open_ctx(ui_ctx *c, const char *db) {
    c->log = nn_runlog_open(db, NN_RUNLOG_READONLY);
    c->db_label = db;
    c->exported = 0;
    return c->log ? NN_OK : NN_ERR_DB;
}

nn_status nn_ui_serve(const char *db, const char *host, int port) {
    if (!db || !host || port < 0 || port > 65535) return nn_set_error(NN_ERR_ARG, "ui: bad database, host or port");
    ui_ctx c;
    nn_status s = open_ctx(&c, db);
    if (s == NN_OK) s = serve(&c, host, port);
    nn_runlog_close(c.log);
    return s;
}

nn_status nn_ui_export(const char *db, const char *dir) {
    if (!db || !dir) return nn_set_error(NN_ERR_ARG, "ui: export: NULL argument");
    ui_ctx c;
    nn_status s = open_ctx(&c, db);
    if (s == NN_OK) s = ui_export(&c, dir);
    nn_runlog_close(c.log);
    return s;
}

