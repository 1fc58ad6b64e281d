/* Writes the seed corpora of the fuzz targets from real files (run once,
 * by hand: the output is committed under tests/fuzz/corpus; docs/fuzzing.md):
 *
 *     make_seeds OUT_DIR DIGITS_IMAGES.gz DIGITS_LABELS.gz
 *
 * graph: the digits network with and without its gradient nodes, a small
 * network of every op family and an ffi graph; weights: its weights file
 * and a run log's checkpoint exports; runlog: a run log of a short logged
 * fit; idx: the first images and labels of the digits, raw and gzipped;
 * csv: a data set written as CSV; ffi_sig: signatures of both forms. */
#include "nngraph.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sqlite3.h>
#include <zlib.h>

static const char *out_dir;

static void put(const char *target, const char *name, const void *data, size_t len) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", out_dir, target);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/%s/%s", out_dir, target, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, len, f) != len) {
        fprintf(stderr, "make_seeds: cannot write %s\n", path);
        exit(1);
    }
    fclose(f);
}

static void put_file(const char *target, const char *name, const char *src) {
    FILE *f = fopen(src, "rb");
    if (!f) return;
    static char buf[1 << 22];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    put(target, name, buf, n);
}

static void put_graph(const char *name, nn_graph *g) {
    char *t = nn_graph_to_text(g);
    if (!t) {
        fprintf(stderr, "make_seeds: %s: %s\n", name, nn_last_error());
        exit(1);
    }
    put("graph", name, t, strlen(t));
    free(t);
}

/* IDX of the first n items of a file, raw and gzipped. */
static void put_idx(const char *name, const char *src, int n, int item) {
    gzFile f = gzopen(src, "rb");
    if (!f) return;
    unsigned char head[16], *body = malloc((size_t)n * (size_t)item);
    int hl = item == 1 ? 8 : 16;
    gzread(f, head, (unsigned)hl);
    gzread(f, body, (unsigned)(n * item));
    gzclose(f);
    head[4] = head[5] = head[6] = 0;
    head[7] = (unsigned char)n;
    size_t len = (size_t)hl + (size_t)n * (size_t)item;
    unsigned char *all = malloc(len);
    memcpy(all, head, (size_t)hl);
    memcpy(all + hl, body, (size_t)n * (size_t)item);
    char nm[256];
    snprintf(nm, sizeof nm, "%s.idx", name);
    put("idx", nm, all, len);
    char path[1024];
    snprintf(path, sizeof path, "%s/idx/%s.idx.gz", out_dir, name);
    gzFile z = gzopen(path, "wb9");
    gzwrite(z, all, (unsigned)len);
    gzclose(z);
    free(all);
    free(body);
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: make_seeds OUT_DIR DIGITS_IMAGES.gz DIGITS_LABELS.gz\n");
        return 2;
    }
    out_dir = argv[1];
    mkdir(out_dir, 0755);
    /* the digits network, forward and with gradients */
    nn_graph *g = nn_graph_new(7);
    nn_node *x = nn_input(g, "x", NN_F32, NN_SHAPE(NN_BATCH, 400));
    nn_node *y = nn_input(g, "y", NN_I32, NN_SHAPE(NN_BATCH));
    nn_node *h = nn_dense(g, "L1", x, 8, NN_RELU);
    h = nn_dense(g, "L2", h, 8, NN_RELU);
    h = nn_dense(g, "L3", h, 10, NN_LINEAR);
    nn_node *loss = nn_softmax_cross_entropy(g, h, y);
    put_graph("digits.nng", g);
    nn_node *params[16], *grads[16];
    int np = nn_graph_params(g, params, 16);
    nn_grad(g, loss, params, np, grads);
    put_graph("digits_grad.nng", g);
    nn_weights_save(g, "seed.nngw");
    put_file("weights", "digits.nngw", "seed.nngw");
    /* every op family, with gradients */
    nn_graph *o = nn_graph_new(3);
    nn_node *a = nn_input(o, "a", NN_F32, NN_SHAPE(NN_BATCH, 4));
    nn_node *t = nn_input(o, "t", NN_F32, NN_SHAPE(NN_BATCH, 4));
    nn_node *w = nn_param(o, "w", NN_SHAPE(4), nn_init_uniform(-1.f, 1.f));
    nn_node *s = nn_add(o, nn_mul(o, a, w), nn_scale(o, w, 0.5f));
    s = nn_sub(o, nn_tanh(o, nn_sigmoid(o, s)), nn_log_softmax(o, nn_softmax(o, s)));
    s = nn_mean(o, nn_sum(o, s, 1), NN_ALL_AXES);
    nn_node *l2 = nn_add(o, nn_add(o, s, nn_mse(o, a, t)), nn_bce_with_logits(o, nn_identity(o, a), t));
    nn_node *gw;
    nn_grad(o, l2, &w, 1, &gw);
    put_graph("ops.nng", o);
    /* a logged fit of a small net on blobs (small files fuzz fast): the run
     * log, its exports */
    nn_graph *bg = nn_graph_new(5);
    nn_node *bx = nn_input(bg, "x", NN_F32, NN_SHAPE(NN_BATCH, 2));
    nn_node *by = nn_input(bg, "y", NN_I32, NN_SHAPE(NN_BATCH));
    nn_node *bl = nn_softmax_cross_entropy(bg, nn_dense(bg, "L2", nn_dense(bg, "L1", bx, 4, NN_RELU), 3, NN_LINEAR), by);
    static const float centres[6] = {0, 0, 3, 3, -3, 3};
    nn_dataset *blobs = nn_make_blobs(centres, 3, 2, 60, 0.5f, 3);
    nn_dataset *d = nn_load_idx_pair(argv[2], argv[3]);
    if (d && blobs) {
        remove("seed.db");
        nn_fit_opts fo = {0};
        fo.epochs = 3;
        nn_runlog_fit_opts lo = {.path = "seed.db", .run_name = "blobs", .seed = 5};
        nn_runlog *log = NULL;
        if (nn_fit_logged(bg, bl, blobs, &fo, &lo, NULL) == NN_OK && (log = nn_runlog_open("seed.db", 0))) {
            nn_checkpoint *c = nn_runlog_load_checkpoint(log, 1, -1);
            if (c) {
                nn_checkpoint_save(c, "seed.nngc", 0);
                put_file("weights", "run.nngc", "seed.nngc");
                nn_checkpoint_save(c, "seed2.nngw", 1);
                put_file("weights", "run.nngw", "seed2.nngw");
                nn_checkpoint_free(c);
            }
        }
        nn_runlog_close(log);
        /* small is fast: the fuzzer writes and opens the whole file per
         * input, so keep a few metrics and the last checkpoint, in 512-byte
         * pages, without the WAL */
        sqlite3 *db;
        if (sqlite3_open("seed.db", &db) == SQLITE_OK)
            sqlite3_exec(db,
                         "PRAGMA foreign_keys=ON; PRAGMA journal_mode=DELETE; DELETE FROM step_metric WHERE step > 4;"
                         "DELETE FROM checkpoint WHERE id <> (SELECT max(id) FROM checkpoint);"
                         "PRAGMA page_size=512; VACUUM;",
                         NULL, NULL, NULL);
        sqlite3_close(db);
        put_file("runlog", "run.db", "seed.db");
        /* a CSV of the first rows */
        char csv[4096]; /* 20 rows of 4 features and a label */
        size_t at = 0;
        at += (size_t)snprintf(csv + at, sizeof csv - at, "f1,f2,f3,f4,label\n");
        for (int r = 0; r < 20; r++) {
            /* the pair loader keeps pixels as bytes (data.h): v / 255 */
            const unsigned char *xr = (const unsigned char *)nn_tensor_data(d->x) + r * 400 + 150;
            at += (size_t)snprintf(csv + at, sizeof csv - at, "%g,%g,%g,%g,%d\n", xr[0] / 255.0f, xr[1] / 255.0f, xr[2] / 255.0f,
                                  xr[3] / 255.0f, nn_tensor_i32(d->y)[r]);
        }
        put("csv", "digits.csv", csv, at);
        static const char odd[] = "\xEF\xBB\xBF" "a, \"b\" ,c\r\n1,2.5e-3,3\r\n\r\n-4,5,6e7\r\n";
        put("csv", "quoted_crlf.csv", odd, sizeof odd - 1);
    }
    nn_dataset_free(d);
    nn_dataset_free(blobs);
    nn_graph_free(bg);
    put_idx("images", argv[2], 3, 400);
    put_idx("labels", argv[3], 3, 1);
    static const char *const sigs[] = {"float(float)", "float leaky_relu(float x, float alpha)",
                                       "void(const float *restrict in, float *out, int64_t n, double eps)",
                                       "float clip_int(float x, int lo, int64_t hi)",
                                       "void g(const float*,const float*,float*,int64_t,float,double,int,int64_t)"};
    for (int i = 0; i < 5; i++) {
        char nm[32];
        snprintf(nm, sizeof nm, "sig%d", i);
        put("ffi_sig", nm, sigs[i], strlen(sigs[i]));
    }
    /* an ffi graph (unresolved: the library is named, never loaded) */
    static const char ffi[] = "nngraph-graph 1\nx input f32 [B,3]\n"
                              "y ffi:./libmyops.so:leaky_relu f32 [B,3] x sig=float(float,float) args=0.1 "
                              "dfn=leaky_relu_grad\ns sum f32 [] y axis=all\n"
                              "d ffi:./libmyops.so:leaky_relu_grad f32 [B,3] x x role=grad fn=leaky_relu "
                              "sig=float(float,float) args=0.1 grad=1\nend 4\n";
    put("graph", "ffi.nng", ffi, sizeof ffi - 1);
    remove("seed.nngw");
    remove("seed.nngc");
    remove("seed2.nngw");
    remove("seed.db");
    nn_graph_free(g);
    nn_graph_free(o);
    return 0;
}
