/* Fuzz target: the UI's router (src/ui) on arbitrary request paths and
 * compare lists, over a small run log made once per process whose run
 * name and tag hold markup. Input: the path, then optionally '\n' and the
 * `runs` query argument. Every answer must be a known status, and no HTML
 * answer may carry the markup unescaped. */
#include "fuzz.h"
#include "nngraph/runlog.h"
#include "ui_pages.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char marker[] = "<b id=fuzz>";

/* The libraries the pictures go through keep caches they never free
 * (fontconfig, pango, cairo, PLplot's driver table through libltdl,
 * Graphviz); LeakSanitizer reads this hook, so a leak report names ours.
 * The same list as tools/nngraph.c's. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void) {
    return "leak:libfontconfig.so\nleak:libpango\nleak:libcairo\nleak:libplplot.so\nleak:libltdl.so\n"
           "leak:libgvplugin_dot_layout.so\nleak:libgvplugin_pango.so\nleak:gmalloc\nleak:grealloc\n";
}

/* Two logged runs (curves, a checkpoint, a graph, tags, notes). */
static void make_log(const char *path) {
    nn_graph *g = nn_graph_new(1);
    nn_node *x = nn_input(g, "x", NN_F32, NN_SHAPE(NN_BATCH, 2));
    nn_node *logits = nn_dense(g, "L1", x, 2, NN_LINEAR);
    nn_node *y = nn_input(g, "y", NN_I32, NN_SHAPE(NN_BATCH));
    nn_softmax_cross_entropy(g, logits, y);
    char *text = nn_graph_to_text(g);
    nn_runlog *log = nn_runlog_open(path, 0);
    if (!log || !text) fuzz_fail("cannot make the run log: %s", nn_last_error());
    for (int r = 0; r < 2; r++) {
        nn_run_info info = {.name = r ? "second" : marker, .graph_text = text, .no_git = 1, .notes = marker};
        int64_t id;
        if (nn_runlog_start(log, &info, &id) != NN_OK) fuzz_fail("start: %s", nn_last_error());
        nn_runlog_param(log, "optimizer", r ? "sgd" : marker);
        for (int e = 1; e <= 3; e++) {
            nn_runlog_epoch_metric(log, "loss", "train", e, 1.0 / e);
            nn_runlog_epoch_metric(log, "accuracy", "val", e, 0.5 + 0.1 * e);
        }
        nn_node *params[2];
        nn_graph_params(g, params, 2);
        nn_ckpt_item items[2] = {{nn_node_name(params[0]), NN_ROLE_PARAM, nn_param_value(params[0]), NULL},
                                 {nn_node_name(params[1]), NN_ROLE_PARAM, nn_param_value(params[1]), NULL}};
        nn_runlog_checkpoint(log, 30, 3, "final", items, 2, NULL);
        nn_runlog_tag(log, id, "who", marker);
        if (nn_runlog_finish(log, "finished", NULL) != NN_OK) fuzz_fail("finish: %s", nn_last_error());
    }
    nn_runlog_close(log);
    free(text);
    nn_graph_free(g);
}

/* This process's run log, next to the other targets' scratch files. */
static const char *log_path(void) {
    static char path[256];
    if (!path[0]) {
        const char *tmp = getenv("TMPDIR");
        if (!tmp || !*tmp) tmp = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
        snprintf(path, sizeof path, "%s/nngraph-fuzz-ui-%ld.db", tmp, (long)getpid());
    }
    return path;
}

static void remove_log(void) {
    char path[300];
    const char *suffixes[3] = {"", "-wal", "-shm"};
    for (int i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s%s", log_path(), suffixes[i]);
        unlink(path);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static ui_ctx ctx;
    if (!ctx.log) {
        fuzz_setup_graph_reading();
        const char *db = log_path();
        remove_log();
        make_log(db);
        atexit(remove_log);
        ctx.log = nn_runlog_open(db, NN_RUNLOG_READONLY);
        ctx.db_label = marker;
        if (!ctx.log) fuzz_fail("cannot open the run log: %s", nn_last_error());
    }
    if (size > 4096) return 0;
    char in[4097];
    memcpy(in, data, size);
    in[size] = 0;
    char *nl = strchr(in, '\n'), *runs = NULL;
    if (nl) *nl = 0, runs = nl + 1;
    ui_response r;
    ui_route(&ctx, in, runs, &r);
    if (r.status != 200 && r.status != 400 && r.status != 404 && r.status != 500)
        fuzz_fail("status %d for '%s'", r.status, in);
    if (strncmp(r.content_type, "text/html", 9) == 0 && r.body.data && strstr(r.body.data, marker))
        fuzz_fail("'%s': the page carries the markup unescaped", in);
    nn_sb_free(&r.body);
    return 0;
}
