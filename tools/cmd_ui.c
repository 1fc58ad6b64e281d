/* nngraph ui DB: the run history in the browser, served by GNU
 * libmicrohttpd from the run log opened read-only; or, with --export DIR,
 * the same pages written as static files. Pages: src/ui. */
#include "cli.h"
#include "ui.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

static const char usage[] =
    "Usage: nngraph ui [DB] [--port N] [--host ADDR] | nngraph ui [DB] --export DIR\n\n"
    "Serves the run log DB (default " NN_RUNLOG_DEFAULT_PATH ") as web pages: every run in a table\n"
    "(sortable, filterable, refreshed every 3 s while you watch), one page per run\n"
    "(curves, hyperparameters, tags, notes, checkpoints with their weights as .nnw,\n"
    "the graph) and /compare?runs=1,2 for 2 to 5 runs. The database is opened\n"
    "read-only; no page writes, deletes or runs anything. Ctrl-C stops.\n\n"
    "  --port N      TCP port (default 8765; 0: any free port, printed)\n"
    "  --host ADDR   IPv4 address to listen on (default 127.0.0.1, this machine only;\n"
    "                0.0.0.0 serves every network the machine is on)\n"
    "  --export DIR  write index.html, run-ID.html, graphs and each run's last\n"
    "                weights into DIR instead of serving\n";

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
        ub_puts(&r.body, "405: this server only reads (GET)\n");
        *upload_size = 0;
    } else {
        ui_route(c, url, MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "runs"), &r);
    }
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(r.body.len, r.body.data ? r.body.data : (void *)"", MHD_RESPMEM_MUST_COPY);
    ub_free(&r.body);
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

static int serve(ui_ctx *c, const char *host, long long port) {
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)port);
    if (strcmp(host, "localhost") == 0) host = "127.0.0.1";
    if (inet_pton(AF_INET, host, &addr.sin_addr) != 1)
        return cli_usage_error("ui", "--host wants an IPv4 address such as 127.0.0.1, not '%s'", host);
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
    if (!d) return cli_fail("ui", "cannot listen on %s:%lld (in use? try --port 0)", host, port);
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    unsigned bound = info ? info->port : (unsigned)port;
    fprintf(stderr, "nngraph ui: serving %s at http://%s:%u/ (read-only; Ctrl-C stops)\n", c->db_label, host, bound);
    fflush(stderr);
    int sig = 0;
    sigwait(&stop, &sig);
    MHD_stop_daemon(d);
    fprintf(stderr, "nngraph ui: stopped\n");
    return CLI_OK;
}

static int run(int argc, char **argv) {
    const char *db = NULL, *host = "127.0.0.1", *export_dir = NULL, *v;
    long long port = 8765;
    for (int i = 1; i < argc; i++) {
        int r;
        if ((r = cli_opt("ui", argc, argv, &i, "--host", &host)) != 0 ||
            (r = cli_opt("ui", argc, argv, &i, "--export", &export_dir)) != 0) {
            if (r < 0) return CLI_USAGE;
        } else if ((r = cli_opt("ui", argc, argv, &i, "--port", &v)) != 0) {
            if (r < 0 || cli_int("ui", "--port", v, 0, 65535, &port)) return CLI_USAGE;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            return cli_usage_error("ui", "unknown option '%s'", argv[i]);
        } else if (db) {
            return cli_usage_error("ui", "one run log at a time ('%s' and '%s')", db, argv[i]);
        } else {
            db = argv[i];
        }
    }
    if (!db) db = NN_RUNLOG_DEFAULT_PATH;
    nn_runlog *log = nn_runlog_open(db, NN_RUNLOG_READONLY);
    if (!log) return cli_fail("ui", "%s", nn_last_error());
    ui_ctx c = {log, db, 0};
    int status;
    if (export_dir) {
        status = ui_export(&c, export_dir) == NN_OK ? CLI_OK : cli_fail("ui", "%s", nn_last_error());
        if (status == CLI_OK) fprintf(stderr, "nngraph ui: wrote the pages of %s to %s/index.html\n", db, export_dir);
    } else {
        status = serve(&c, host, port);
    }
    nn_runlog_close(log);
    return status;
}

const cli_command cli_ui = {"ui", "the run history as web pages (local server or --export DIR)", usage, run};
