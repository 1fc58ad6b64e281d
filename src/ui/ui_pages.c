/* The HTML pages: every run in a table, one run, and 2-5 runs compared.
 * All database text goes through ui_put_html. */
#include "ui_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ui_link_run(const ui_ctx *c, nn_strbuf *b, int64_t id) {
    nn_sb_printf(b, c->exported ? "run-%lld.html" : "/run/%lld", (long long)id);
}
void ui_link_home(const ui_ctx *c, nn_strbuf *b) { nn_sb_puts(b, c->exported ? "index.html" : "/"); }

static void page_head(const ui_ctx *c, nn_strbuf *b, const char *title, int live) {
    nn_sb_puts(b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
               "<meta name=\"viewport\" content=\"width=device-width\">"
               /* no icon: otherwise the browser asks for /favicon.ico, a 404 in its console */
               "<link rel=\"icon\" href=\"data:,\"><title>");
    ui_put_html(b, title);
    nn_sb_puts(b, " - nngraph</title><style>");
    nn_sb_puts(b, ui_css);
    nn_sb_printf(b, "</style><script>%s</script></head>\n<body data-live=\"%d\">\n", ui_js, live && !c->exported);
    nn_sb_puts(b, "<p class=\"muted\"><a href=\"");
    ui_link_home(c, b);
    nn_sb_puts(b, "\">all runs</a> &middot; run log ");
    ui_put_html(b, c->db_label);
    nn_sb_puts(b, c->exported ? " (exported copy)" : " (read-only)");
    nn_sb_puts(b, "</p>\n");
}

static void num_cell(nn_strbuf *b, double v, const char *fmt) {
    nn_sb_puts(b, "<td class=\"n\" data-v=\"");
    if (isfinite(v)) nn_sb_printf(b, "%.9g\">", v), nn_sb_printf(b, fmt, v);
    else nn_sb_puts(b, "\">-");
    nn_sb_puts(b, "</td>");
}

static void text_cell(nn_strbuf *b, const char *s) {
    nn_sb_puts(b, "<td>");
    ui_put_html(b, s);
    nn_sb_puts(b, "</td>");
}

static void duration_text(double s, char *buf, size_t len) {
    if (!isfinite(s) || s < 0) snprintf(buf, len, "-");
    else if (s < 60) snprintf(buf, len, "%.1f s", s);
    else if (s < 3600) snprintf(buf, len, "%d min %02d s", (int)(s / 60), (int)fmod(s, 60));
    else snprintf(buf, len, "%d h %02d min", (int)(s / 3600), (int)fmod(s / 60, 60));
}

/* The hyperparameters a runs table shows, when a run has them. */
static const char *const key_params[] = {"optimizer", "lr", "batch_size", "epochs"};
enum { N_KEY_PARAMS = 4 };

static void tags_html(nn_strbuf *b, const nn_param_kv *kv, int n) {
    for (int i = 0; i < n; i++) {
        nn_sb_puts(b, "<span class=\"tag\">");
        ui_put_html(b, kv[i].key);
        nn_sb_puts(b, "=");
        ui_put_html(b, kv[i].value);
        nn_sb_puts(b, "</span>");
    }
}

void ui_page_runs(ui_ctx *c, nn_strbuf *b) {
    nn_run_row *rows = NULL;
    int n = 0;
    nn_status s = nn_runlog_list(c->log, &rows, &n);
    page_head(c, b, "Runs", 1);
    nn_sb_puts(b, "<h1>Runs</h1>\n");
    if (s != NN_OK) {
        nn_sb_puts(b, "<p class=\"status-failed\">Cannot list the runs: ");
        ui_put_html(b, nn_last_error());
        nn_sb_puts(b, "</p></body></html>\n");
        return;
    }
    nn_sb_puts(b, "<input id=\"filter\" type=\"search\" placeholder=\"filter: name, status, tag, experiment...\">");
    if (!c->exported)
        nn_sb_puts(b, " <button id=\"compare\" onclick=\"var s=[].map.call(document.querySelectorAll("
                   "'input.pick:checked'),function(e){return e.value;});if(s.length<2||s.length>5)"
                   "alert('Pick 2 to 5 runs');else location.href='/compare?runs='+s.join(',');\">"
                   "Compare selected</button>");
    nn_sb_printf(b, " <span class=\"muted\">%d run%s; click a heading to sort</span>\n", n, n == 1 ? "" : "s");
    nn_sb_puts(b, "<table id=\"runs\"><thead><tr><th></th><th>id</th><th>name</th><th>experiment</th><th>tags</th><th>status</th>"
               "<th>started (UTC)</th><th>duration</th><th>epochs</th><th>loss</th><th>accuracy</th>"
               "<th>val loss</th><th>val accuracy</th>");
    for (int k = 0; k < N_KEY_PARAMS; k++) nn_sb_printf(b, "<th>%s</th>", key_params[k]);
    nn_sb_puts(b, "</tr></thead>\n<tbody id=\"live\">\n");
    for (int i = n - 1; i >= 0; i--) { /* newest first */
        const nn_run_row *r = &rows[i];
        nn_sb_printf(b, "<tr><td><input class=\"pick\" type=\"checkbox\" value=\"%lld\"></td>", (long long)r->id);
        nn_sb_printf(b, "<td class=\"n\" data-v=\"%lld\">%lld</td><td><a href=\"", (long long)r->id, (long long)r->id);
        ui_link_run(c, b, r->id);
        nn_sb_puts(b, "\">");
        ui_put_html(b, r->name[0] ? r->name : "(no name)");
        nn_sb_puts(b, "</a></td>");
        text_cell(b, r->experiment);
        nn_param_kv *kv = NULL;
        int nkv = 0;
        nn_runlog_tags(c->log, r->id, &kv, &nkv);
        nn_sb_puts(b, "<td class=\"tags\">");
        tags_html(b, kv, nkv);
        nn_sb_puts(b, "</td>");
        free(kv);
        kv = NULL, nkv = 0;
        nn_sb_puts(b, "<td class=\"status-");
        ui_put_html(b, r->status); /* a run log is user input, its status too */
        nn_sb_puts(b, "\">");
        ui_put_html(b, r->status);
        nn_sb_puts(b, "</td>");
        /* "2026-11-30 06:32:13": the ISO time to the second, sortable as text */
        char when[24];
        snprintf(when, sizeof when, "%.19s", r->start_time);
        if (when[10] == 'T') when[10] = ' ';
        text_cell(b, when);
        char dur[32];
        duration_text(r->duration_s, dur, sizeof dur);
        nn_sb_printf(b, "<td class=\"n\" data-v=\"%.3f\">%s</td>", isfinite(r->duration_s) ? r->duration_s : -1.0, dur);
        nn_sb_printf(b, "<td class=\"n\">%lld</td>", (long long)r->epochs);
        num_cell(b, r->final_loss, "%.4g");
        num_cell(b, r->final_accuracy, "%.4f");
        num_cell(b, r->final_val_loss, "%.4g");
        num_cell(b, r->final_val_accuracy, "%.4f");
        nn_runlog_params(c->log, r->id, &kv, &nkv);
        for (int k = 0; k < N_KEY_PARAMS; k++) {
            const char *v = "";
            for (int j = 0; j < nkv; j++)
                if (strcmp(kv[j].key, key_params[k]) == 0) v = kv[j].value;
            text_cell(b, v);
        }
        nn_sb_puts(b, "</tr>\n");
        free(kv);
    }
    nn_sb_puts(b, "</tbody></table>\n</body></html>\n");
    free(rows);
}

/* A two-column table row. */
static void field(nn_strbuf *b, const char *name, const char *value) {
    nn_sb_printf(b, "<tr><th>%s</th><td>", name);
    ui_put_html(b, value);
    nn_sb_puts(b, "</td></tr>\n");
}

static void curves_block(ui_ctx *c, nn_strbuf *b, const int64_t *runs, int n) {
    char *svg = ui_curves_svg(c, runs, n);
    nn_sb_puts(b, "<div class=\"picture\" id=\"curves\">");
    if (svg) nn_sb_puts(b, svg);
    else nn_sb_puts(b, "<p class=\"muted\">No curves yet: nothing logged per epoch.</p>");
    nn_sb_puts(b, "</div>\n");
    free(svg);
}

nn_status ui_page_run(ui_ctx *c, int64_t id, nn_strbuf *b) {
    nn_run_row r;
    nn_status s = nn_runlog_get_run(c->log, id, &r);
    if (s != NN_OK) return s;
    char title[160], dur[32], text[256];
    snprintf(title, sizeof title, "Run %lld %s", (long long)id, r.name);
    page_head(c, b, title, strcmp(r.status, "running") == 0);
    nn_sb_puts(b, "<h1>");
    ui_put_html(b, title);
    nn_sb_puts(b, "</h1>\n<div id=\"live\">\n<table>\n");
    nn_sb_puts(b, "<tr><th>status</th><td class=\"status-");
    ui_put_html(b, r.status);
    nn_sb_puts(b, "\">");
    ui_put_html(b, r.status);
    if (r.error[0]) nn_sb_puts(b, ": "), ui_put_html(b, r.error);
    nn_sb_puts(b, "</td></tr>\n");
    field(b, "experiment", r.experiment[0] ? r.experiment : "-");
    field(b, "uuid", r.uuid);
    field(b, "started (UTC)", r.start_time);
    field(b, "ended (UTC)", r.end_time[0] ? r.end_time : "-");
    duration_text(r.duration_s, dur, sizeof dur);
    field(b, "duration", dur);
    snprintf(text, sizeof text, "%lld epochs, %lld steps", (long long)r.epochs, (long long)r.steps);
    field(b, "progress", text);
    snprintf(text, sizeof text, "%llu", (unsigned long long)r.seed);
    field(b, "seed", text);
    snprintf(text, sizeof text, "%d", r.threads);
    field(b, "threads", text);
    field(b, "nngraph version", r.version);
    field(b, "host", r.host);
    snprintf(text, sizeof text, "%s%s", r.git_commit[0] ? r.git_commit : "unknown",
             r.git_dirty == 1 ? " (uncommitted changes)" : r.git_dirty == 0 ? " (clean)" : "");
    field(b, "git commit", text);
    if (r.parent_run_id > 0) {
        nn_sb_printf(b, "<tr><th>parent</th><td><a href=\"");
        ui_link_run(c, b, r.parent_run_id);
        nn_sb_printf(b, "\">run %lld</a> at step %lld</td></tr>\n", (long long)r.parent_run_id, (long long)r.parent_step);
    }
    nn_param_kv *kv = NULL;
    int nkv = 0;
    nn_runlog_tags(c->log, id, &kv, &nkv);
    nn_sb_puts(b, "<tr><th>tags</th><td>");
    tags_html(b, kv, nkv);
    nn_sb_puts(b, nkv ? "</td></tr>\n" : "-</td></tr>\n");
    free(kv);
    nn_sb_puts(b, "</table>\n");
    char *notes = nn_runlog_notes(c->log, id);
    if (notes && notes[0]) {
        nn_sb_puts(b, "<h2>Notes</h2><pre class=\"notes\">");
        ui_put_html(b, notes);
        nn_sb_puts(b, "</pre>\n");
    }
    free(notes);
    nn_sb_puts(b, "<h2>Curves</h2>\n");
    curves_block(c, b, &id, 1);
    nn_metric_last *m = NULL;
    int nm = 0;
    nn_runlog_last_metrics(c->log, id, &m, &nm);
    nn_sb_puts(b, "<h2>Latest metrics</h2>\n<table><thead><tr><th>metric</th><th>split</th><th>per</th><th>at</th>"
               "<th>value</th></tr></thead><tbody>\n");
    for (int i = 0; i < nm; i++) {
        nn_sb_puts(b, "<tr>");
        text_cell(b, m[i].key);
        text_cell(b, m[i].split);
        text_cell(b, m[i].per_epoch ? "epoch" : "step");
        nn_sb_printf(b, "<td class=\"n\">%lld</td>", (long long)m[i].at);
        num_cell(b, m[i].value, "%.6g");
        nn_sb_puts(b, "</tr>\n");
    }
    nn_sb_puts(b, "</tbody></table>\n</div>\n");
    free(m);

    kv = NULL, nkv = 0;
    nn_runlog_params(c->log, id, &kv, &nkv);
    nn_sb_printf(b, "<h2>Hyperparameters (%d)</h2>\n<table><tbody>\n", nkv);
    for (int i = 0; i < nkv; i++) {
        nn_sb_puts(b, "<tr><th>");
        ui_put_html(b, kv[i].key);
        nn_sb_puts(b, "</th><td>");
        ui_put_html(b, kv[i].value);
        nn_sb_puts(b, "</td></tr>\n");
    }
    nn_sb_puts(b, "</tbody></table>\n");
    free(kv);

    nn_ckpt_row *ck = NULL;
    int nck = 0;
    nn_runlog_checkpoints(c->log, id, &ck, &nck);
    /* the parameters' names, the same at every checkpoint of a run: from
     * the last one */
    nn_checkpoint *last = nck ? nn_runlog_load_checkpoint(c->log, id, ck[nck - 1].epoch) : NULL;
    nn_sb_printf(b, "<h2>Checkpoints (%d)</h2>\n", nck);
    if (c->exported && nck) nn_sb_puts(b, "<p class=\"muted\">This copy holds the last checkpoint's weights.</p>\n");
    nn_sb_puts(b, "<table><thead><tr><th>epoch</th><th>step</th><th>reason</th><th>time (UTC)</th><th>weights</th>"
                  "<th title=\"one NumPy array a parameter (numpy.load)\">.npy</th></tr></thead><tbody>\n");
    for (int i = 0; i < nck; i++) {
        nn_sb_printf(b, "<tr><td class=\"n\">%lld</td><td class=\"n\">%lld</td>", (long long)ck[i].epoch,
                     (long long)ck[i].step);
        text_cell(b, ck[i].reason);
        text_cell(b, ck[i].time);
        int here = !c->exported || i == nck - 1; /* an export holds the last checkpoint's files only */
        if (!here) {
            nn_sb_puts(b, "<td class=\"muted\" colspan=\"2\">on the live server</td></tr>\n");
            continue;
        }
        if (!c->exported)
            nn_sb_printf(b, "<td><a href=\"/run/%lld/weights/epoch-%lld.nnw\" download>.nnw</a> (%lld bytes)</td><td>",
                         (long long)id, (long long)ck[i].epoch, (long long)ck[i].bytes);
        else
            nn_sb_printf(b, "<td><a href=\"run-%lld-epoch-%lld.nnw\" download>.nnw</a> (%lld bytes)</td><td>",
                         (long long)id, (long long)ck[i].epoch, (long long)ck[i].bytes);
        for (int k = 0, shown = 0; last && k < nn_checkpoint_count(last); k++) {
            if (nn_checkpoint_role(last, k) != NN_ROLE_PARAM) continue;
            const char *name = nn_checkpoint_name(last, k);
            nn_sb_puts(b, shown++ ? " <a href=\"" : "<a href=\"");
            if (!c->exported) {
                nn_sb_printf(b, "/run/%lld/weights/epoch-%lld/", (long long)id, (long long)ck[i].epoch);
                ui_put_url_segment(b, name);
                nn_sb_puts(b, ".npy");
            } else {
                char file[128];
                ui_npy_file_name(last, k, file, sizeof file);
                nn_sb_puts(b, file); /* letters, digits and - . _ only */
            }
            nn_sb_puts(b, "\" download>");
            ui_put_html(b, name);
            nn_sb_puts(b, "</a>");
        }
        nn_sb_puts(b, "</td></tr>\n");
    }
    nn_checkpoint_free(last);
    nn_sb_puts(b, "</tbody></table>\n");
    free(ck);
    nn_sb_puts(b, "<h2>Graph</h2>\n<div class=\"picture\"><img alt=\"the run's graph (nngraph dot --layers)\" src=\"");
    nn_sb_printf(b, c->exported ? "run-%lld-graph.svg" : "/run/%lld/graph.svg", (long long)id);
    nn_sb_puts(b, "\"></div>\n</body></html>\n");
    return NN_OK;
}

nn_status ui_page_compare(ui_ctx *c, const int64_t *runs, int n, nn_strbuf *b) {
    nn_run_row *rows = calloc((size_t)n, sizeof *rows);
    nn_param_kv **kv = calloc((size_t)n, sizeof *kv);
    int *nkv = calloc((size_t)n, sizeof *nkv);
    nn_status s = rows && kv && nkv ? NN_OK : nn_set_error(NN_ERR_NOMEM, "compare: out of memory");
    for (int j = 0; s == NN_OK && j < n; j++) {
        s = nn_runlog_get_run(c->log, runs[j], &rows[j]);
        if (s == NN_OK) s = nn_runlog_params(c->log, runs[j], &kv[j], &nkv[j]);
    }
    if (s == NN_OK) {
        page_head(c, b, "Compare runs", 0);
        nn_sb_printf(b, "<h1>%d runs compared</h1>\n<div id=\"live\">\n", n);
        curves_block(c, b, runs, n);
        nn_sb_puts(b, "<h2>What differs</h2>\n<table><thead><tr><th></th>");
        for (int j = 0; j < n; j++) {
            nn_sb_puts(b, "<th><a href=\"");
            ui_link_run(c, b, runs[j]);
            nn_sb_printf(b, "\">run %lld ", (long long)runs[j]);
            ui_put_html(b, rows[j].name);
            nn_sb_puts(b, "</a></th>");
        }
        nn_sb_puts(b, "</tr></thead><tbody>\n");
        /* every key any run has, once, where the values are not all equal */
        for (int j = 0; j < n; j++)
            for (int i = 0; i < nkv[j]; i++) {
                const char *key = kv[j][i].key;
                int seen_before = 0, differs = 0;
                const char *vals[UI_MAX_COMPARE];
                for (int q = 0; q < n; q++) {
                    vals[q] = NULL;
                    for (int p = 0; p < nkv[q]; p++)
                        if (strcmp(kv[q][p].key, key) == 0) vals[q] = kv[q][p].value;
                    if (q < j && vals[q]) seen_before = 1;
                }
                for (int q = 1; q < n; q++)
                    differs |= !vals[q] != !vals[0] || (vals[q] && vals[0] && strcmp(vals[q], vals[0]));
                if (seen_before || !differs) continue;
                nn_sb_puts(b, "<tr><th>");
                ui_put_html(b, key);
                nn_sb_puts(b, "</th>");
                for (int q = 0; q < n; q++) text_cell(b, vals[q] ? vals[q] : "-");
                nn_sb_puts(b, "</tr>\n");
            }
        const char *names[4] = {"final loss", "final accuracy", "final val loss", "final val accuracy"};
        for (int k = 0; k < 4; k++) {
            nn_sb_printf(b, "<tr><th>%s</th>", names[k]);
            for (int q = 0; q < n; q++) {
                double v = k == 0 ? rows[q].final_loss : k == 1 ? rows[q].final_accuracy
                           : k == 2 ? rows[q].final_val_loss : rows[q].final_val_accuracy;
                num_cell(b, v, "%.4g");
            }
            nn_sb_puts(b, "</tr>\n");
        }
        nn_sb_puts(b, "</tbody></table>\n</div>\n</body></html>\n");
    }
    for (int j = 0; kv && j < n; j++) free(kv[j]);
    free(rows), free(kv), free(nkv);
    return s;
}
