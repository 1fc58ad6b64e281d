/* The `nngraph` command, run as a child process (posix_spawn): exit codes
 * 0/1/2, data on stdout and messages on stderr, nothing written for a
 * malformed file, a shape error still drawn, train -> weights -> predict on
 * a small learnable IDX data set. Also the gradient audit behind `check`,
 * including an op whose gradient rule is wrong. */
#include "nngraph.h"
#include "internal.h"
#include "ops.h"
#include "testutil.h"

#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef NNGRAPH_EXE
#error "meson passes the path of the built nngraph as NNGRAPH_EXE"
#endif

extern char **environ;

static char dir[64];
static char out[1 << 16], err[1 << 14];

static void setup(void) { tu_mkdtemp(dir, sizeof dir, "/tmp/nng_cli_XXXXXX"); }

static void teardown(void) { tu_rmtree(dir); }

static const char *at(const char *name) { return tu_path(dir, name); }

/* Runs nngraph with the NULL-terminated arguments; stdout and stderr land
 * in out/err. Returns the exit status, or -1 if it died of a signal. */
static int nngraph(const char *arg, ...) {
    va_list ap;
    va_start(ap, arg);
    int rc = tu_vrun(NNGRAPH_EXE, environ, dir, out, sizeof out, err, sizeof err, arg, ap);
    va_end(ap);
    return rc;
}

static void write_text(const char *path, const char *text) { tu_write_file(path, text, strlen(text)); }

static int exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

static const char net[] = "nngraph-graph 1\n"
                          "x input f32 [B,4]\n"
                          "y input i32 [B]\n"
                          "L1/W param f32 [4,2] init=glorot_uniform\n"
                          "L1/b param f32 [2] init=zeros\n"
                          "L1/matmul matmul f32 [B,2] x L1/W\n"
                          "L1/add add f32 [B,2] L1/matmul L1/b\n"
                          "loss softmax_cross_entropy f32 [] L1/add y\n"
                          "end 7\n";

TestSuite(cli, .init = setup, .fini = teardown);

Test(cli, help_version_and_usage_errors) {
    cr_assert_eq(nngraph("--help", NULL), 0);
    cr_assert(strstr(out, "Usage: nngraph SUBCOMMAND"));
    cr_assert(strstr(out, "dot") && strstr(out, "summary") && strstr(out, "check") && strstr(out, "train") &&
              strstr(out, "predict"));
    cr_assert_eq(nngraph("--version", NULL), 0);
    cr_assert_str_eq(out, "nngraph " NN_VERSION_STRING "\n");
    /* a usage error is one line and where to look */
    cr_assert_eq(nngraph(NULL), 2);
    cr_assert_str_eq(err, "nngraph: no subcommand given\nTry 'nngraph --help'.\n");
    cr_assert_eq(nngraph("frobnicate", NULL), 2);
    cr_assert(strstr(err, "unknown subcommand 'frobnicate'"));
    cr_assert_eq(nngraph("sumary", "x.nng", NULL), 2);
    cr_assert_str_eq(err, "nngraph: unknown subcommand 'sumary'; did you mean 'summary'?\nTry 'nngraph --help'.\n");
    cr_assert_str_eq(out, "");
    const char *subs[] = {"dot", "summary", "check", "train", "predict"};
    for (int i = 0; i < 5; i++) {
        cr_assert_eq(nngraph(subs[i], "--help", NULL), 0, "%s --help", subs[i]);
        cr_assert(strncmp(out, "Usage: nngraph ", 15) == 0, "%s", out);
        cr_assert_eq(nngraph(subs[i], NULL), 2, "%s without a file", subs[i]);
        cr_assert(strstr(err, "no graph file or run given"), "%s", err);
        cr_assert_eq(nngraph(subs[i], "--bogus", NULL), 2);
        cr_assert(strstr(err, "unknown option '--bogus'"), "%s", err);
        char try_line[64];
        snprintf(try_line, sizeof try_line, "\nTry 'nngraph %s --help'.\n", subs[i]);
        cr_assert(strstr(err, try_line) && strchr(err, '\n') + 1 == strstr(err, try_line) + 1, "%s", err);
        cr_assert_eq(nngraph(subs[i], "x.nng", "--seeed", "3", NULL), 2);
        cr_assert(strstr(err, "did you mean '--seed'?") || strcmp(subs[i], "dot") == 0 ||
                      strcmp(subs[i], "summary") == 0 || strcmp(subs[i], "predict") == 0,
                  "%s: %s", subs[i], err);
    }
}

Test(cli, dot_text_and_renders) {
    const char *g = at("net.nng");
    write_text(g, net);
    cr_assert_eq(nngraph("dot", g, NULL), 0, "%s", err);
    cr_assert(strncmp(out, "digraph nngraph {", 17) == 0);
    cr_assert(strstr(out, "label=\"L1 · dense 4→2 · linear · 10 params\""), "%s", out);
    cr_assert(strstr(out, "label=\"net.nng\\n10 params"));
    cr_assert_eq(nngraph("dot", g, "--layers", "--rankdir", "LR", "--title", "tiny", NULL), 0);
    cr_assert(strstr(out, "rankdir=LR") && strstr(out, "\"L1/\" [") && strstr(out, "label=\"tiny\\n"));
    /* --backward on a forward-only file builds the gradients to draw */
    cr_assert_eq(nngraph("dot", g, "--backward", NULL), 0, "%s", err);
    cr_assert(strstr(out, "\"grad/L1/matmul/matmul\"") && strstr(out, "-> \"L1/W\" [style=dotted"), "%s", out);
    cr_assert_eq(nngraph("dot", g, "-o", at("net.svg"), NULL), 0, "%s", err);
    cr_assert_str_eq(out, "");
    tu_slurp(at("net.svg"), out, sizeof out);
    cr_assert(strstr(out, "<svg") && strstr(out, "</svg>"));
    cr_assert_eq(nngraph("dot", g, "-T", "json", NULL), 0);
    cr_assert(out[0] == '{' && strstr(out, "\"objects\""));
    cr_assert_eq(nngraph("dot", g, "-T", "png", "-o", at("net.picture"), NULL), 0);
    tu_slurp(at("net.picture"), out, sizeof out);
    cr_assert(memcmp(out, "\x89PNG", 4) == 0);
    /* Graphviz's own spelling, -Tpng, and the long one */
    cr_assert_eq(nngraph("dot", g, "-Tpng", "-o", at("net2.picture"), NULL), 0, "%s", err);
    tu_slurp(at("net2.picture"), out, sizeof out);
    cr_assert(memcmp(out, "\x89PNG", 4) == 0);
    cr_assert_eq(nngraph("dot", g, "--format=json", NULL), 0, "%s", err);
    cr_assert(out[0] == '{');
    cr_assert_eq(nngraph("dot", g, "--layrs", NULL), 2);
    cr_assert(strstr(err, "unknown option '--layrs'; did you mean '--layers'?"), "%s", err);
    /* usage errors write nothing */
    cr_assert_eq(nngraph("dot", g, "-T", "gif", "-o", at("x.gif"), NULL), 2);
    cr_assert(strstr(err, "unknown format 'gif'"));
    cr_assert_eq(nngraph("dot", g, "-o", at("x.bmp"), NULL), 2);
    cr_assert(strstr(err, "cannot tell the format"));
    cr_assert_eq(nngraph("dot", g, "--rankdir", "XY", NULL), 2);
    cr_assert_eq(nngraph("dot", g, "-T", NULL), 2);
    cr_assert(strstr(err, "option -T needs a value"));
    cr_assert(!exists(at("x.gif")) && !exists(at("x.bmp")));
}

Test(cli, malformed_files_write_nothing) {
    const char *bad = at("bad.nng"), *svg = at("bad.svg");
    write_text(bad, "nngraph-graph 1\nx input f32 [B,4]\ny frobnicate f32 [B,4] x\nend 2\n");
    const char *subs[] = {"dot", "summary", "check"};
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(nngraph(subs[i], bad, NULL), 1, "%s", subs[i]);
        cr_assert(strstr(err, "bad.nng:3:3: unknown op 'frobnicate'"), "%s", err);
        cr_assert_str_eq(out, "");
    }
    cr_assert_eq(nngraph("dot", bad, "-o", svg, NULL), 1);
    cr_assert(!exists(svg));
    cr_assert_eq(nngraph("dot", at("missing.nng"), NULL), 1);
    cr_assert(strstr(err, "missing.nng: cannot open"), "%s", err);
}

Test(cli, shape_error_is_drawn_and_fails) {
    const char *bad = at("shape.nng"), *svg = at("shape.svg");
    write_text(bad, "nngraph-graph 1\nx input f32 [B,4]\nW param f32 [5,2] init=zeros\nh matmul f32 [B,2] x W\nend 3\n");
    cr_assert_eq(nngraph("dot", bad, "-o", svg, NULL), 1);
    cr_assert(strstr(err, "shape.nng:4:3: matmul 'h': inner dimensions differ (4 vs 5)"), "%s", err);
    cr_assert(strstr(err, "failing node 'h' marked"));
    tu_slurp(svg, out, sizeof out);
    cr_assert(strstr(out, "FAILED (line 4)") && strstr(out, "</svg>"), "%s", out);
    cr_assert_eq(nngraph("summary", bad, NULL), 1);
}

Test(cli, summary_and_check) {
    const char *g = at("net.nng");
    write_text(g, net);
    cr_assert_eq(nngraph("summary", g, NULL), 0, "%s", err);
    cr_assert(strstr(out, "Model: \"net.nng\""));
    cr_assert(strstr(out, "L1 (Dense)") && strstr(out, "(None, 2)") && strstr(out, "Total params: 10"), "%s", out);
    cr_assert_eq(nngraph("check", g, "--seed", "7", NULL), 0, "%s", err);
    cr_assert(strstr(out, "worst rel err"));
    const char *ops[] = {"matmul ", "add ", "softmax_cross_entropy "};
    for (int i = 0; i < 3; i++) {
        const char *row = strstr(out, ops[i]);
        cr_assert(row, "%s", out);
        cr_assert(strstr(row, " ok\n"), "%s", out);
    }
    cr_assert_eq(nngraph("check", g, "--batch", "0", NULL), 2);
    cr_assert(strstr(err, "--batch wants a whole number from 1 to 4096, not '0'"), "%s", err);
}

/* 64 2x2 images: class 1 when the top-left pixel is bright. */
static void write_idx(const char *images, const char *labels, int n) {
    FILE *fi = fopen(images, "wb"), *fl = fopen(labels, "wb");
    unsigned char hi[16] = {0, 0, 8, 3, 0, 0, 0, (unsigned char)n, 0, 0, 0, 2, 0, 0, 0, 2};
    unsigned char hl[8] = {0, 0, 8, 1, 0, 0, 0, (unsigned char)n};
    fwrite(hi, 1, 16, fi);
    fwrite(hl, 1, 8, fl);
    nn_rng r;
    nn_rng_seed(&r, 5);
    for (int i = 0; i < n; i++) {
        unsigned char px[4];
        for (int k = 0; k < 4; k++) px[k] = (unsigned char)nn_rng_below(&r, 256);
        unsigned char label = px[0] >= 128;
        fwrite(px, 1, 4, fi);
        fwrite(&label, 1, 1, fl);
    }
    fclose(fi);
    fclose(fl);
}

Test(cli, train_then_predict) {
    const char *g = at("net.nng"), *img = at("img.idx"), *lab = at("lab.idx"), *w = at("net.weights");
    write_text(g, net);
    write_idx(img, lab, 64);
    cr_assert_eq(nngraph("train", g, "--data", img, lab, "--epochs", "60", "--batch", "8", "--lr", "0.05", "--seed",
                         "3", "--threads", "1", "--quiet", "-o", w, NULL),
                 0, "%s", err);
    cr_assert(strncmp(out, "epochs 60  steps 480  loss ", 27) == 0, "%s", out);
    cr_assert_null(strstr(out, "f1"), "no extra metrics unless asked: %s", out);
    cr_assert(exists(w));
    cr_assert_eq(nngraph("predict", g, "--weights", w, "--data", img, lab, NULL), 0, "%s", err);
    /* one class a line, and they match the rule the labels follow */
    FILE *f = fopen(img, "rb");
    unsigned char px[16 + 64 * 4];
    cr_assert_eq(fread(px, 1, sizeof px, f), sizeof px);
    fclose(f);
    int right = 0, lines = 0;
    for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n"), lines++)
        right += atoi(line) == (px[16 + lines * 4] >= 128);
    cr_assert_eq(lines, 64);
    cr_assert_geq(right, 58, "%d of 64 right", right);
    cr_assert(strstr(err, "accuracy "), "%s", err);
    cr_assert_eq(nngraph("predict", g, "--weights", w, "--data", img, "--scores", NULL), 0, "%s", err);
    int commas = 0, rows = 0;
    for (const char *c = out; *c; c++) commas += *c == ',', rows += *c == '\n';
    cr_assert_eq(rows, 64);
    cr_assert_eq(commas, 64); /* two scores a row */
    /* errors: usage (2) and runtime (1) */
    cr_assert_eq(nngraph("predict", g, "--data", img, NULL), 2);
    cr_assert(strstr(err, "no --weights given"));
    cr_assert_eq(nngraph("train", g, "--epochs", "3", NULL), 2);
    cr_assert(strstr(err, "no training data"));
    cr_assert_eq(nngraph("train", g, "--data", img, NULL), 2);
    cr_assert(strstr(err, "--data needs two paths"));
    cr_assert_eq(nngraph("train", g, "--data", img, lab, "--epochs", "0", NULL), 2);
    cr_assert_eq(nngraph("train", g, "--data", img, lab, "--optimizer", "adagrad", NULL), 2);
    cr_assert(strstr(err, "unknown optimizer 'adagrad' (known: sgd, adam, adamw, rmsprop)"), "%s", err);
    cr_assert_eq(nngraph("train", g, "--data", img, lab, "--lr-schedule", "linear", NULL), 2);
    cr_assert(strstr(err, "--lr-schedule: lr schedule 'linear': unknown"), "%s", err);
    cr_assert_eq(nngraph("train", g, "--data", img, lab, "--metrics", "f1,auc", NULL), 2);
    cr_assert(strstr(err, "unknown metric 'auc'"), "%s", err);
    cr_assert_eq(nngraph("train", g, "--data", img, lab, "--restore-best", NULL), 2);
    cr_assert(strstr(err, "--restore-best needs --patience"), "%s", err);
    cr_assert_eq(nngraph("train", g, "--data", img, lab, "--val-split", "1", NULL), 2);
    cr_assert(strstr(err, "--val-split"), "%s", err);
    cr_assert_eq(nngraph("train", g, "--data", img, lab, "--optimizer", "sgd", "--nesterov", NULL), 1);
    cr_assert(strstr(err, "Nesterov momentum needs sgd with momentum > 0"), "%s", err);
    cr_assert_eq(nngraph("train", g, "--data", img, at("nope.idx"), NULL), 1);
    cr_assert(strstr(err, "nope.idx"), "%s", err);
    cr_assert_eq(nngraph("predict", g, "--weights", at("nope.w"), "--data", img, NULL), 1);
    cr_assert(strstr(err, "nope.w: cannot open"), "%s", err);
    /* weights of another architecture: refused by name and shape */
    const char *g3 = at("net3.nng");
    char other[sizeof net];
    snprintf(other, sizeof other, "%s", net);
    *strstr(other, "[4,2] init") = 0;
    char text[1024];
    snprintf(text, sizeof text,
             "%s[4,3] init=zeros\nL1/b param f32 [3] init=zeros\nL1/matmul matmul f32 [B,3] x L1/W\n"
             "L1/add add f32 [B,3] L1/matmul L1/b\nloss softmax_cross_entropy f32 [] L1/add y\nend 7\n",
             other);
    write_text(g3, text);
    cr_assert_eq(nngraph("predict", g3, "--weights", w, "--data", img, NULL), 1, "%s", err);
    cr_assert(strstr(err, "parameter 'L1/W' is [4,2] in the file but [4,3] in the graph"), "%s", err);
    cr_assert_str_eq(out, "");
    /* images whose size does not fit the input */
    const char *g5 = at("net5.nng");
    write_text(g5, "nngraph-graph 1\nx input f32 [B,5]\ny input i32 [B]\nW param f32 [5,2] init=zeros\n"
                   "z matmul f32 [B,2] x W\nloss softmax_cross_entropy f32 [] z y\nend 5\n");
    cr_assert_eq(nngraph("train", g5, "--data", img, lab, "--quiet", NULL), 1);
    cr_assert(strstr(err, "the data's features are [64,4] but the graph's input 'x' is [B,5]"), "%s", err);
}

/* ---- the gradient audit ---- */

/* Ops that double their input, each with a wrong gradient rule. */
static nn_status double_forward(nn_kernel_call *c) {
    const float *x = c->in[0]->data;
    float *y = c->out->data;
    for (int64_t i = 0; i < c->out->size; i++) y[i] = 2.f * x[i];
    return NN_OK;
}
static nn_status double_shape(nn_shape_ctx *c, nn_shape *out, nn_dtype *dt) {
    *out = c->in[0];
    *dt = NN_F32;
    return NN_OK;
}
/* wrong_double's rule forgets the 2 */
static nn_status double_wrong_grad(nn_graph *g, nn_node *node, nn_node *dy, const int *want, nn_node **dx) {
    (void)g, (void)node;
    if (want[0]) dx[0] = dy;
    return NN_OK;
}
/* narrow_double's sums the rows away: a gradient smaller than its input,
 * as expand's was for the dy its rule took before it checked dy */
static nn_status double_narrow_grad(nn_graph *g, nn_node *node, nn_node *dy, const int *want, nn_node **dx) {
    (void)node;
    if (want[0]) dx[0] = nn_sum(g, dy, 1);
    return g->status;
}
static const nn_op_def wrong_double = {.name = "wrong_double", .n_inputs = 1, .shape = double_shape,
                                       .forward = double_forward, .grad = double_wrong_grad};
static const nn_op_def narrow_double = {.name = "narrow_double", .n_inputs = 1, .shape = double_shape,
                                        .forward = double_forward, .grad = double_narrow_grad};

/* The audit of op on x [batch 4, cols], seed 1. */
static nn_gradcheck_report audit_double(const nn_op_def *op, int64_t cols) {
    nn_graph *g = nn_graph_new(1);
    nn_node *x = nn_input(g, "x", NN_F32, NN_SHAPE(NN_BATCH, cols));
    nn_node *d = nn_op_node(g, op, NULL, 1, &x, NULL, NULL);
    cr_assert(d, "%s", nn_error_message(g));
    nn_gradcheck_report r;
    cr_assert_eq(nn_gradcheck_node(d, 4, 1, &r), NN_OK, "%s", nn_last_error());
    nn_graph_free(g);
    return r;
}

Test(gradcheck, finds_a_wrong_rule) {
    nn_gradcheck_report r = audit_double(&wrong_double, 5);
    cr_assert_str_eq(r.op, "wrong_double");
    cr_assert_eq(r.checked, 20);
    cr_assert_eq(r.failures, 20);
    cr_assert(r.worst_rel > 0.49 && r.worst_rel < 0.51, "%g", r.worst_rel); /* analytic is half the truth */
    cr_assert(strstr(r.detail, "analytic"));
}

Test(gradcheck, passes_real_rules_and_skips_what_has_none) {
    nn_graph *g = nn_graph_new(1);
    nn_node *x = nn_input(g, "x", NN_F32, NN_SHAPE(NN_BATCH, 5));
    nn_node *t = nn_input(g, "t", NN_F32, NN_SHAPE(NN_BATCH, 5));
    nn_node *y = nn_input(g, "y", NN_I32, NN_SHAPE(NN_BATCH));
    nn_node *W = nn_param(g, "W", NN_SHAPE(5, 3), nn_init_glorot_uniform());
    nn_node *cases[] = {nn_matmul_t(g, x, W, 0, 0), nn_relu(g, x), nn_softmax(g, x), nn_bce_with_logits(g, x, t),
                        nn_softmax_cross_entropy(g, x, y), nn_mean(g, x, 1)};
    for (int i = 0; i < 6; i++) {
        nn_gradcheck_report r;
        cr_assert_eq(nn_gradcheck_node(cases[i], 3, 2, &r), NN_OK, "%s", nn_last_error());
        cr_assert_gt(r.checked, 0, "%s", r.op);
        cr_assert_eq(r.failures, 0, "%s: %s", r.op, r.detail);
        cr_assert_lt(r.worst_ratio, 1.0);
    }
    nn_gradcheck_report r;
    nn_gradcheck_node(cases[3], 3, 2, &r);
    cr_assert_eq(r.inputs_without_gradient, 2); /* bce's targets */
    cr_assert_eq(r.checked, 15);
    /* a gradient helper op (relu_grad) has no rule of its own */
    nn_node *dx, *h = nn_relu(g, nn_matmul(g, x, W));
    cr_assert_eq(nn_grad(g, nn_sum(g, h, NN_ALL_AXES), &W, 1, &dx), NN_OK, "%s", nn_error_message(g));
    int helper = -1;
    for (int i = 0; i < nn_graph_num_nodes(g); i++)
        if (!strcmp(nn_node_op(nn_graph_node(g, i)), "relu_grad")) helper = i;
    cr_assert_geq(helper, 0);
    cr_assert_eq(nn_gradcheck_node(nn_graph_node(g, helper), 3, 2, &r), NN_OK);
    cr_assert_eq(r.no_gradient_rule, 1);
    cr_assert_eq(r.checked, 0);
    cr_assert_eq(nn_gradcheck_node(x, 3, 2, &r), NN_ERR_ARG);
    /* a long inner dimension: float32 rounding of the sums must not read as
     * a wrong rule, whatever the seed */
    nn_node *wide = nn_input(g, "wide", NN_F32, NN_SHAPE(NN_BATCH, 784));
    nn_node *W2 = nn_param(g, "W2", NN_SHAPE(784, 512), nn_init_glorot_uniform());
    nn_node *big = nn_matmul(g, wide, W2);
    for (uint64_t seed = 1; seed <= 4; seed++) {
        cr_assert_eq(nn_gradcheck_node(big, 3, seed, &r), NN_OK, "%s", nn_last_error());
        cr_assert_eq(r.failures, 0, "seed %d: %s", (int)seed, r.detail);
    }
    nn_graph_free(g);
}

/* A gradient rule that gives the wrong shape is reported (nn_grad names the
 * op when the gradient is built), never read past (an [4] gradient read as
 * [4,20] would run 256 bytes past its block). */
Test(gradcheck, reports_a_gradient_of_the_wrong_shape) {
    nn_gradcheck_report r = audit_double(&narrow_double, 20);
    cr_assert_eq(r.failures, 1, "%s", r.detail);
    cr_assert_eq(r.checked, 0);
    cr_assert(strstr(r.detail, "the gradient rule of narrow_double ('op') gives input 0 ('in0') a gradient f32[4], the input is f32[4,20]"),
              "%s", r.detail);
}

/* expand's gradient (the matching reduction of its output's) has dy's
 * shape in every case its rule accepts: each axis and all, sum and mean,
 * with and without a batch dimension. The registry test once built
 * expand(dy [3,4], x [3,4], axis 0), which the rule took before it checked
 * dy; its gradient was [4] for a [3,4] dy. That case is now refused. */
Test(gradcheck, expand_gradient_has_the_shape_of_dy) {
    nn_graph *g = nn_graph_new(1);
    nn_node *xs[2] = {nn_input(g, "x2", NN_F32, NN_SHAPE(NN_BATCH, 4)), nn_param(g, "x3", NN_SHAPE(2, 3, 4), nn_init_zeros())};
    int cases = 0;
    for (int k = 0; k < 2; k++)
        for (int axis = -1; axis < xs[k]->shape.rank; axis++)
            for (int mean = 0; mean < 2; mean++) {
                int a = axis < 0 ? NN_ALL_AXES : axis;
                nn_node *e = nn_expand_like(g, nn_sum(g, xs[k], a), xs[k], a, mean);
                cr_assert(e, "%s", nn_error_message(g));
                nn_gradcheck_report r;
                cr_assert_eq(nn_gradcheck_node(e, 3, 5, &r), NN_OK, "%s", nn_last_error());
                cr_assert_eq(r.failures, 0, "x %d axis %d mean %d: %s", k, a, mean, r.detail);
                /* every element of dy compared, none of x (a shape donor) */
                cr_assert_eq(r.checked, nn_shape_size(nn_shape_bind_batch(e->in[0]->shape, 3)), "axis %d", a);
                cr_assert_eq(r.inputs_without_gradient, 2);
                cases++;
            }
    cr_assert_eq(cases, 14);
    nn_graph_free(g);
    nn_graph *old = nn_graph_new(1);
    nn_node *m = nn_param(old, "m", NN_SHAPE(3, 4), nn_init_zeros());
    cr_assert_null(nn_expand_like(old, m, m, 0, 0));
    cr_assert(strstr(nn_error_message(old), "dy [3,4] is not x [3,4] reduced over the axis ([4])"), "%s",
              nn_error_message(old));
    nn_graph_free(old);
}

/* The same network on CSV rows: a header, four features, the label last. */
Test(cli, csv_train_then_predict) {
    const char *g = at("net.nng"), *csv = at("rows.csv"), *w = at("csv.weights");
    write_text(g, net);
    FILE *f = fopen(csv, "w");
    fprintf(f, "a,b,c,d,label\n");
    nn_rng r;
    nn_rng_seed(&r, 9);
    int labels[48];
    for (int i = 0; i < 48; i++) {
        double v[4];
        for (int k = 0; k < 4; k++) v[k] = nn_rng_uniform(&r);
        labels[i] = v[0] > v[3];
        fprintf(f, "%.4f,%.4f,%.4f,%.4f,%d\n", v[0], v[1], v[2], v[3], labels[i]);
    }
    fclose(f);
    cr_assert_eq(nngraph("train", g, "--csv", csv, "--epochs", "150", "--batch", "8", "--lr", "0.05", "--quiet",
                         "--threads", "1", "-o", w, NULL),
                 0, "%s", err);
    cr_assert(strstr(out, "accuracy "), "%s", out);
    cr_assert_eq(nngraph("predict", g, "--weights", w, "--csv", csv, "--label-col", "-1", NULL), 0, "%s", err);
    int right = 0, lines = 0;
    for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n"), lines++) right += atoi(line) == labels[lines];
    cr_assert_eq(lines, 48);
    cr_assert_geq(right, 43, "%d of 48 right", right);
    cr_assert(strstr(err, "accuracy "), "%s", err);
    cr_assert_eq(nngraph("train", g, "--csv", csv, "--data", csv, csv, NULL), 2);
    cr_assert(strstr(err, "give one of --data, --csv and --npy"), "%s", err);
}

/* The training options of issue 14 reach the fit and the run log: the LR of
 * every epoch, the metrics and the confusion matrix show in nngraph show. */
Test(cli, schedule_patience_and_metrics_are_logged_and_shown) {
    const char *g = at("net.nng"), *img = at("img.idx"), *lab = at("lab.idx"), *db = at("runs.db");
    write_text(g, net);
    write_idx(img, lab, 64);
    cr_assert_eq(nngraph("train", g, "--data", img, lab, "--epochs", "4", "--batch", "8", "--optimizer", "rmsprop",
                         "--lr", "0.02", "--lr-schedule", "step:1:0.5", "--val-split", "0.25", "--patience", "3",
                         "--restore-best", "--metrics", "f1,confusion", "--weight-decay", "0.001", "--clip-norm", "5",
                         "--threads", "1", "--quiet", "--db", db, NULL),
                 0, "%s", err);
    cr_assert(strstr(out, "val_loss ") && strstr(out, "  val_f1 ") && strstr(out, "restored epoch "), "%s", out);
    cr_assert(strstr(out, "\nconfusion matrix (val, last epoch; rows: true class, columns: predicted):\n"), "%s", out);
    cr_assert_eq(nngraph("show", "--db", db, "--run", "1", NULL), 0, "%s", err);
    cr_assert(strstr(out, "optimizer            rmsprop"), "%s", out);
    cr_assert(strstr(out, "lr_schedule          step:1:0.5"), "%s", out);
    cr_assert(strstr(out, "restore_best_weights true"), "%s", out);
    cr_assert(strstr(out, "with the learning rate it used"), "%s", out);
    /* 0.02 halved each epoch: 0.02, 0.01, 0.005, 0.0025 */
    const char *lrs[] = {"lr 0.02 ", "lr 0.01 ", "lr 0.005 ", "lr 0.0025 "};
    for (int i = 0; i < 4; i++) cr_assert(strstr(out, lrs[i]), "%s missing:\n%s", lrs[i], out);
    cr_assert(strstr(out, "confusion matrix (val, epoch 4; rows: true class, columns: predicted)"), "%s", out);
    cr_assert(strstr(out, "val_f1"), "%s", out);
    cr_assert_null(strstr(out, "confusion/0/0"), "cells are printed as a matrix, not as metrics");
    cr_assert_eq(nngraph("show", "--db", db, "--run", "1", "--json", NULL), 0, "%s", err);
    const char *curve = strstr(out, "\"lr_curve\":{\"source\":\"logged\",\"points\":[");
    cr_assert(curve, "%s", out);
    curve = strstr(curve, "[[") + 1;
    for (int e = 1; e <= 4; e++) {
        int at;
        double lr;
        cr_assert_eq(sscanf(curve, "[%d,%lf]", &at, &lr), 2, "%s", curve);
        cr_assert_eq(at, e);
        cr_assert_float_eq(lr, 0.02 / (1 << (e - 1)), 1e-12, "epoch %d: %.17g", e, lr);
        curve = strchr(curve + 1, '[');
    }
}

/* A run logged before the LR was logged per epoch (no 'lr' metric): show
 * falls back to the lr hyperparameter and says so. */
Test(cli, show_falls_back_to_the_lr_hyperparameter_for_older_runs) {
    const char *db = at("old.db");
    nn_runlog *log = nn_runlog_open(db, 0);
    cr_assert_not_null(log, "%s", nn_last_error());
    nn_run_info info = {.name = "old"};
    cr_assert_eq(nn_runlog_start(log, &info, NULL), NN_OK, "%s", nn_last_error());
    cr_assert_eq(nn_runlog_param_num(log, "lr", 0.125), NN_OK);
    for (int e = 1; e <= 2; e++) cr_assert_eq(nn_runlog_epoch_metric(log, "loss", "train", e, 1.0 / e), NN_OK);
    cr_assert_eq(nn_runlog_finish(log, "finished", NULL), NN_OK, "%s", nn_last_error());
    nn_runlog_close(log);
    cr_assert_eq(nngraph("show", "--db", db, "--run", "old", NULL), 0, "%s", err);
    cr_assert(strstr(out, "with the run's lr hyperparameter (the run predates per-epoch lr logging)"), "%s", out);
    cr_assert(strstr(out, "lr 0.125"), "%s", out);
    cr_assert_eq(nngraph("show", "--db", db, "--run", "old", "--json", NULL), 0, "%s", err);
    cr_assert(strstr(out, "\"lr_curve\":{\"source\":\"hyperparameter\",\"points\":[[1,0.125],[2,0.125]]}"), "%s", out);
}

/* train --db records the run; its graph is then drawn from DB:RUN. */
Test(cli, logged_run_drawn_from_the_log) {
    const char *g = at("net.nng"), *img = at("img.idx"), *lab = at("lab.idx"), *db = at("runs.db");
    write_text(g, net);
    write_idx(img, lab, 64);
    cr_assert_eq(nngraph("train", g, "--data", img, lab, "--epochs", "2", "--quiet", "--db", db, "--run-name",
                         "tiny", NULL),
                 0, "%s", err);
    char spec[200];
    snprintf(spec, sizeof spec, "%s:tiny", db);
    cr_assert_eq(nngraph("dot", spec, NULL), 0, "%s", err);
    cr_assert(strstr(out, "L1 · dense 4→2 · linear · 10 params"), "%s", out);
    /* the spelled-out form draws the same picture */
    char *colon_form = strdup(out);
    cr_assert_eq(nngraph("dot", "--db", db, "--run", "tiny", NULL), 0, "%s", err);
    cr_assert_str_eq(out, colon_form);
    free(colon_form);
    cr_assert_eq(nngraph("dot", "--db", db, NULL), 2);
    cr_assert(strstr(err, "which run? name it as DB:RUN or --run RUN"), "%s", err);
    /* the database alone, or a run after it, gets the DB:RUN hint */
    cr_assert_eq(nngraph("summary", db, NULL), 2);
    cr_assert(strstr(err, "is a run log: name one of its runs as"), "%s", err);
    cr_assert_eq(nngraph("summary", db, "tiny", NULL), 2);
    cr_assert(strstr(err, "a run is named DB:RUN: write '"), "%s", err);
    cr_assert_eq(nngraph("summary", spec, NULL), 0, "%s", err);
    cr_assert(strstr(out, "Total params: 10"));
    snprintf(spec, sizeof spec, "%s:99", db);
    cr_assert_eq(nngraph("dot", spec, NULL), 1);
    cr_assert(strstr(err, "no run '99'"), "%s", err);
    cr_assert_str_eq(out, "");
    snprintf(spec, sizeof spec, "%s:1", at("missing.db"));
    cr_assert_eq(nngraph("dot", spec, NULL), 1);
    cr_assert(strstr(err, "missing.db"), "%s", err);
}
