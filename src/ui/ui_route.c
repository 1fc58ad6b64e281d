/* The UI's router: which page or file a GET path asks for, the pictures
 * (curves through the plot layer, the graph through Graphviz), weight
 * downloads, the runs as JSON, and the static export. */
#include "ui_internal.h"
#include "nngraph.h"
#include "nngraph/plot.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char html_type[] = "text/html; charset=utf-8";

/* A fresh temporary path (the file exists, empty); 0 on failure. */
static int temp_path(char *buf, size_t len) {
    const char *tmp = getenv("TMPDIR");
    snprintf(buf, len, "%s/nngraph-ui.XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
    int fd = mkstemp(buf);
    if (fd < 0) return 0;
    close(fd);
    return 1;
}

/* A whole file into memory (malloc'ed, NUL-terminated). */
static char *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *data = NULL;
    size_t n = 0, cap = 0, got;
    char chunk[65536];
    while ((got = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (n + got + 1 > cap) {
            cap = (n + got + 1) * 2;
            char *grown = realloc(data, cap);
            if (!grown) {
                free(data);
                fclose(f);
                return NULL;
            }
            data = grown;
        }
        memcpy(data + n, chunk, got);
        n += got;
    }
    fclose(f);
    if (!data) data = calloc(1, 1);
    else data[n] = 0;
    if (len) *len = n;
    return data;
}

char *ui_curves_svg(ui_ctx *c, const int64_t *runs, int n) {
    char path[256];
    if (!temp_path(path, sizeof path)) return NULL;
    nn_plot_opts o = {.format = "svg", .width = 900, .height = 640};
    char *svg = NULL;
    if (nn_plot_run_curves(path, &o, c->log, runs, n, NULL) == NN_OK) svg = slurp(path, NULL);
    unlink(path);
    if (svg && strncmp(svg, "<?xml", 5) == 0) {
        /* inlined in HTML: the XML declaration goes */
        char *end = strstr(svg, "?>");
        if (end) memmove(svg, end + 2, strlen(end + 2) + 1);
    }
    return svg;
}

/* The run's graph drawn by layers (nngraph dot --layers) as SVG. */
static nn_status graph_svg(ui_ctx *c, int64_t id, nn_strbuf *out) {
    char *text = nn_runlog_graph_text(c->log, id);
    if (!text) return NN_ERR_ARG;
    char source[64];
    snprintf(source, sizeof source, "run %lld", (long long)id);
    nn_graph *g = nn_graph_load_text(text, strlen(text), source, 1);
    free(text);
    if (!g) return NN_ERR_FORMAT;
    nn_dot_opts o = {.layers = 1, .title = source};
    char *dot = nn_graph_dot_string(g, &o), *data = NULL;
    size_t len = 0;
    nn_status s = dot ? nn_dot_render(dot, "svg", &data, &len) : NN_ERR_FORMAT;
    if (s == NN_OK) nn_sb_append(out, data, len);
    free(data);
    free(dot);
    nn_graph_free(g);
    return s;
}

/* The parameters of the run's checkpoint at `epoch` as a weights file. */
static nn_status weights_file(ui_ctx *c, int64_t id, int64_t epoch, nn_strbuf *out) {
    nn_checkpoint *ck = nn_runlog_load_checkpoint(c->log, id, epoch);
    if (!ck) return NN_ERR_ARG;
    char path[256];
    nn_status s = temp_path(path, sizeof path) ? nn_checkpoint_save(ck, path, 1) : NN_ERR_IO;
    nn_checkpoint_free(ck);
    size_t len = 0;
    char *data = s == NN_OK ? slurp(path, &len) : NULL;
    if (s == NN_OK && !data) s = nn_set_error(NN_ERR_IO, "reading the weights back failed");
    if (data) nn_sb_append(out, data, len);
    free(data);
    unlink(path);
    return s;
}

/* Every run as JSON: an array of objects, for scripts. */
static void runs_json(ui_ctx *c, nn_strbuf *b) {
    nn_run_row *rows = NULL;
    int n = 0;
    nn_runlog_list(c->log, &rows, &n);
    nn_sb_puts(b, "[");
    for (int i = 0; i < n; i++) {
        const nn_run_row *r = &rows[i];
        nn_sb_printf(b, "%s{\"id\":%lld,\"epochs\":%lld,\"steps\":%lld", i ? ",\n" : "", (long long)r->id,
                  (long long)r->epochs, (long long)r->steps);
        const char *texts[4][2] = {{"name", r->name}, {"experiment", r->experiment}, {"status", r->status},
                                   {"start_time", r->start_time}};
        for (int k = 0; k < 4; k++) {
            nn_sb_printf(b, ",\"%s\":", texts[k][0]);
            ui_put_json(b, texts[k][1]);
        }
        const char *keys[5] = {"duration_s", "final_loss", "final_accuracy", "final_val_loss", "final_val_accuracy"};
        double nums[5] = {r->duration_s, r->final_loss, r->final_accuracy, r->final_val_loss, r->final_val_accuracy};
        for (int k = 0; k < 5; k++) {
            nn_sb_printf(b, ",\"%s\":", keys[k]);
            ui_put_json_num(b, nums[k]);
        }
        nn_sb_puts(b, ",\"tags\":{");
        nn_param_kv *kv = NULL;
        int nkv = 0;
        nn_runlog_tags(c->log, r->id, &kv, &nkv);
        for (int k = 0; k < nkv; k++) {
            if (k) nn_sb_puts(b, ",");
            ui_put_json(b, kv[k].key);
            nn_sb_puts(b, ":");
            ui_put_json(b, kv[k].value);
        }
        free(kv);
        nn_sb_puts(b, "}}");
    }
    nn_sb_puts(b, "]\n");
    free(rows);
}

/* A whole non-negative decimal id, or -1. */
static int64_t parse_id(const char *s, size_t len) {
    if (len == 0 || len > 15) return -1;
    int64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

static void error_page(ui_response *r, int status, const char *what) {
    nn_sb_free(&r->body);
    r->status = status;
    r->content_type = html_type;
    r->filename = NULL; /* an error is a page, not a download */
    nn_sb_printf(&r->body, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>%d</title></head>"
                        "<body><h1>%d</h1><p>", status, status);
    ui_put_html(&r->body, what);
    nn_sb_puts(&r->body, "</p><p><a href=\"/\">all runs</a></p></body></html>\n");
}

/* runs=1,2,3: 2 to UI_MAX_COMPARE ids that exist; 0 after an error page. */
static int compare_ids(ui_ctx *c, const char *arg, int64_t *ids, ui_response *r) {
    int n = 0;
    const char *p = arg ? arg : "";
    while (*p) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        int64_t id = parse_id(p, len);
        if (id < 0) return error_page(r, 400, "runs= wants run ids separated by commas, e.g. runs=1,2"), 0;
        if (n == UI_MAX_COMPARE) return error_page(r, 400, "compare 2 to 5 runs at once"), 0;
        ids[n++] = id;
        p += len + (comma ? 1 : 0);
    }
    if (n < 2) return error_page(r, 400, "compare 2 to 5 runs: /compare?runs=1,2"), 0;
    for (int i = 0; i < n; i++) {
        nn_run_row row;
        if (nn_runlog_get_run(c->log, ids[i], &row) != NN_OK) return error_page(r, 404, "no such run"), 0;
    }
    return n;
}

/* One parameter of the run's checkpoint at `epoch` as a .npy file;
 * NN_ERR_ARG if there is no such checkpoint or parameter. */
static nn_status param_npy(ui_ctx *c, int64_t id, int64_t epoch, const char *name, nn_strbuf *out) {
    nn_checkpoint *ck = nn_runlog_load_checkpoint(c->log, id, epoch);
    if (!ck) return NN_ERR_ARG;
    nn_status s = NN_ERR_ARG;
    for (int i = 0; i < nn_checkpoint_count(ck); i++) {
        if (nn_checkpoint_role(ck, i) != NN_ROLE_PARAM || strcmp(nn_checkpoint_name(ck, i), name) != 0) continue;
        size_t len;
        void *bytes = nn_npy_bytes(nn_checkpoint_tensor(ck, i), &len);
        s = bytes ? NN_OK : NN_ERR_NOMEM;
        if (bytes) nn_sb_append(out, bytes, len);
        free(bytes);
        break;
    }
    nn_checkpoint_free(ck);
    return s;
}

/* s with anything but letters, digits, '-' and '.' as '_', cut to fit. */
static void file_safe(const char *s, char *buf, size_t len) {
    size_t n = 0;
    for (const char *p = s; *p && n + 1 < len; p++, n++)
        buf[n] = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '-' || *p == '.'
                     ? *p
                     : '_';
    if (len) buf[n] = 0;
}

void ui_npy_file_name(const nn_checkpoint *ck, int k, char *buf, size_t len) {
    char mine[48], other[48];
    file_safe(nn_checkpoint_name(ck, k), mine, sizeof mine);
    int clash = 0;
    for (int i = 0; i < k && !clash; i++) {
        file_safe(nn_checkpoint_name(ck, i), other, sizeof other);
        clash = nn_checkpoint_role(ck, i) == NN_ROLE_PARAM && strcmp(mine, other) == 0;
    }
    if (clash) snprintf(buf, len, "run-%lld-epoch-%lld-%s-%d.npy", (long long)nn_checkpoint_run(ck),
                        (long long)nn_checkpoint_epoch(ck), mine, k);
    else snprintf(buf, len, "run-%lld-epoch-%lld-%s.npy", (long long)nn_checkpoint_run(ck),
                  (long long)nn_checkpoint_epoch(ck), mine);
}

/* A download's file name: the run, the epoch and (for a .npy) the
 * parameter. */
static void download_name(ui_response *r, int64_t id, int64_t epoch, const char *param, const char *ext) {
    char safe[48] = "";
    if (param) file_safe(param, safe, sizeof safe);
    snprintf(r->filename_buf, sizeof r->filename_buf, "run%lld-epoch%lld%s%s.%s", (long long)id, (long long)epoch,
             param ? "-" : "", safe, ext);
    r->filename = r->filename_buf;
}

/* /run/ID/weights/epoch-E.nnw (every parameter) or
 * /run/ID/weights/epoch-E/NAME.npy (one), `rest` being what follows
 * "epoch-" (NAME arrives URL-decoded, and may hold '/'). */
static void weights_route(ui_ctx *c, int64_t id, const char *rest, ui_response *r) {
    size_t digits = strspn(rest, "0123456789");
    int64_t epoch = parse_id(rest, digits);
    const char *tail = rest + digits;
    size_t tail_len = strlen(tail);
    r->content_type = "application/octet-stream";
    if (epoch >= 0 && strcmp(tail, ".nnw") == 0) {
        download_name(r, id, epoch, NULL, "nnw");
        if (weights_file(c, id, epoch, &r->body) != NN_OK) error_page(r, 404, "no checkpoint at that epoch");
    } else if (epoch >= 0 && tail[0] == '/' && tail_len > 5 && strcmp(tail + tail_len - 4, ".npy") == 0) {
        char name[256];
        if (tail_len - 5 >= sizeof name) return error_page(r, 404, "no such parameter");
        snprintf(name, sizeof name, "%.*s", (int)(tail_len - 5), tail + 1);
        download_name(r, id, epoch, name, "npy");
        nn_status s = param_npy(c, id, epoch, name, &r->body);
        if (s == NN_ERR_ARG) error_page(r, 404, "no checkpoint at that epoch, or no parameter of that name in it");
        else if (s != NN_OK) error_page(r, 500, nn_last_error());
    } else {
        error_page(r, 404, "no such page");
    }
}

void ui_route(ui_ctx *c, const char *path, const char *runs, ui_response *r) {
    memset(r, 0, sizeof *r);
    r->status = 200;
    r->content_type = html_type;
    if (strcmp(path, "/") == 0 || strcmp(path, "/index.html") == 0) {
        ui_page_runs(c, &r->body);
    } else if (strcmp(path, "/runs.json") == 0) {
        r->content_type = "application/json";
        runs_json(c, &r->body);
    } else if (strcmp(path, "/compare") == 0) {
        int64_t ids[UI_MAX_COMPARE];
        int n = compare_ids(c, runs, ids, r);
        if (n && ui_page_compare(c, ids, n, &r->body) != NN_OK) error_page(r, 500, nn_last_error());
    } else if (strncmp(path, "/run/", 5) == 0) {
        const char *p = path + 5, *slash = strchr(p, '/');
        int64_t id = parse_id(p, slash ? (size_t)(slash - p) : strlen(p));
        nn_run_row row;
        if (id < 0) return error_page(r, 400, "a run id is a whole number: /run/3");
        if (nn_runlog_get_run(c->log, id, &row) != NN_OK) return error_page(r, 404, "no such run");
        const char *rest = slash ? slash : "";
        if (!rest[0]) {
            ui_page_run(c, id, &r->body);
        } else if (strcmp(rest, "/graph.svg") == 0) {
            r->content_type = "image/svg+xml";
            if (graph_svg(c, id, &r->body) != NN_OK) error_page(r, 404, "this run recorded no drawable graph");
        } else if (strncmp(rest, "/weights/epoch-", 15) == 0) {
            weights_route(c, id, rest + 15, r);
        } else {
            error_page(r, 404, "no such page");
        }
    } else {
        error_page(r, 404, "no such page");
    }
    if (r->body.failed) error_page(r, 500, "out of memory");
}

/* Writes b to dir/name; 0 on failure (error set). */
static int write_out(const char *dir, const char *name, const nn_strbuf *b) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (nn_write_file_atomic(path, b->data ? b->data : "", b->len) != NN_OK) return 0;
    return 1;
}

/* Each parameter of run id's checkpoint at `epoch` as a .npy file in dir,
 * named as the exported run page links it. */
static nn_status export_npy(ui_ctx *c, int64_t id, int64_t epoch, const char *dir) {
    nn_checkpoint *ck = nn_runlog_load_checkpoint(c->log, id, epoch);
    if (!ck) return NN_ERR_DB;
    nn_status s = NN_OK;
    for (int k = 0; s == NN_OK && k < nn_checkpoint_count(ck); k++) {
        if (nn_checkpoint_role(ck, k) != NN_ROLE_PARAM) continue;
        char file[128], path[4096];
        ui_npy_file_name(ck, k, file, sizeof file);
        snprintf(path, sizeof path, "%s/%s", dir, file);
        s = nn_save_npy(path, nn_checkpoint_tensor(ck, k));
    }
    nn_checkpoint_free(ck);
    return s;
}

nn_status ui_export(ui_ctx *c, const char *dir) {
    if (mkdir(dir, 0777) != 0 && errno != EEXIST)
        return nn_set_error(NN_ERR_IO, "%s: cannot make the directory: %s", dir, strerror(errno));
    c->exported = 1;
    nn_strbuf b = {0};
    ui_page_runs(c, &b);
    int ok = !b.failed && write_out(dir, "index.html", &b);
    nn_sb_free(&b);
    nn_run_row *rows = NULL;
    int n = 0;
    nn_status s = ok ? nn_runlog_list(c->log, &rows, &n) : NN_ERR_IO;
    for (int i = 0; s == NN_OK && i < n; i++) {
        char name[96];
        int64_t id = rows[i].id;
        ui_page_run(c, id, &b);
        snprintf(name, sizeof name, "run-%lld.html", (long long)id);
        if (b.failed || !write_out(dir, name, &b)) s = NN_ERR_IO;
        nn_sb_free(&b);
        if (s == NN_OK && graph_svg(c, id, &b) == NN_OK) {
            snprintf(name, sizeof name, "run-%lld-graph.svg", (long long)id);
            if (!write_out(dir, name, &b)) s = NN_ERR_IO;
        }
        nn_sb_free(&b);
        nn_ckpt_row *ck = NULL;
        int nck = 0;
        if (s == NN_OK && nn_runlog_checkpoints(c->log, id, &ck, &nck) == NN_OK && nck > 0 &&
            weights_file(c, id, ck[nck - 1].epoch, &b) == NN_OK) {
            snprintf(name, sizeof name, "run-%lld-epoch-%lld.nnw", (long long)id, (long long)ck[nck - 1].epoch);
            if (!write_out(dir, name, &b)) s = NN_ERR_IO;
            if (s == NN_OK) s = export_npy(c, id, ck[nck - 1].epoch, dir);
        }
        nn_sb_free(&b);
        free(ck);
    }
    free(rows);
    c->exported = 0;
    return s;
}
