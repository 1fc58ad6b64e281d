/* ffi ops in graph files and pictures: byte-exact round trips of forward,
 * user-gradient and finite-difference nodes, DOT and SVG, rebuilding one op
 * alone (the gradient audit), load errors with file, line and cause, and
 * the nngraph command (check, dot, summary, train) on such files. */
#include "ffi_testing.h"
#include "testutil.h"

#include <dlfcn.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Graphviz (the render test) keeps font caches for the life of the process
 * in fontconfig and its plugins; LeakSanitizer reports them at exit. They
 * are not nngraph's: suppressed here, for this suite only. */
#define GRAPHVIZ_LEAKS                                                                                                 \
    "leak:libfontconfig.so\nleak:libgvc.so\nleak:libcgraph.so\nleak:libcairo.so\nleak:libpango\n"                         \
    "leak:libglib-2.0.so\nleak:libgobject-2.0.so\nleak:libexpat.so\nleak:libfreetype.so\n"                               \
    "leak:libharfbuzz.so\nleak:libpixman\nleak:libgvplugin\n"
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void) { return GRAPHVIZ_LEAKS; }

/* ---- graph files and DOT ---- */

/* A graph with every kind of ffi node: forward with a user gradient,
 * forward without (finite differences), whole-tensor, and their gradient
 * nodes. */
static nn_graph *ffi_graph(nn_node **loss_out, nn_node **grad_out) {
    nn_graph *g = nn_graph_new(5);
    nn_node *x = nn_input(g, "x", NN_F32, NN_SHAPE(NN_BATCH, 3));
    nn_node *w = nn_param(g, "L1/W", NN_SHAPE(3, 4), nn_init_uniform(-1.f, 1.f));
    nn_node *h = nn_matmul(g, x, w);
    double alpha = 0.1, beta = 1.0 / 3.0, eps = 1e-6;
    nn_scope_push(g, "L1");
    h = nn_ffi_op(g, LIB, "leaky_relu", "float(float,float)", h, &alpha, 1, "leaky_relu_grad");
    nn_scope_pop(g);
    h = nn_ffi_op(g, LIB, "softplus", "float(float,double)", h, &beta, 1, NULL);
    h = nn_ffi_op(g, LIB, "l2_normalize", "void(const float*,float*,int64_t,double)", h, &eps, 1, "l2_normalize_grad");
    nn_node *loss = nn_sum(g, h, NN_ALL_AXES), *dw;
    nn_grad(g, loss, &w, 1, &dw);
    cr_assert_eq(nn_graph_status(g), NN_OK, "%s", nn_error_message(g));
    *loss_out = loss;
    *grad_out = dw;
    return g;
}

static void run_with(nn_graph *g, const char *input, nn_node *const *outs, int n) {
    static const float v[6] = {0.5f, -1.f, 2.f, -0.25f, 1.5f, 0.75f};
    nn_tensor *t = nn_tensor_from(NN_F32, NN_SHAPE(2, 3), v);
    cr_assert_eq(nn_set_input(g, nn_graph_find(g, input), t), NN_OK);
    cr_assert_eq(nn_run(g, outs, n), NN_OK, "%s", nn_error_message(g));
    nn_tensor_free(t);
}

Test(graphfile, ffi_ops_round_trip, .init = quiet, .fini = loud) {
    nn_node *loss, *dw;
    nn_graph *g = ffi_graph(&loss, &dw);
    char *text = nn_graph_to_text(g);
    cr_assert_not_null(text, "%s", nn_last_error());
    /* the lines say what is called, with what */
    cr_assert(strstr(text, "L1/leaky_relu ffi:" LIB ":leaky_relu f32 [B,4] matmul sig=float(float,float) args=0.1 "
                           "dfn=leaky_relu_grad\n"),
              "%s", text);
    cr_assert(strstr(text, " ffi:" LIB ":softplus f32 [B,4] L1/leaky_relu sig=float(float,double) "
                           "args=0.3333333333333333\n"),
              "%s", text);
    cr_assert(strstr(text, " ffi:" LIB ":leaky_relu_grad f32 [B,4] matmul grad/softplus/fd_grad "), "%s", text);
    cr_assert(strstr(text, "role=grad fn=leaky_relu sig=float(float,float) args=0.1 grad=1"), "%s", text);
    cr_assert(strstr(text, " ffi:" LIB ":softplus f32 [B,4] L1/leaky_relu "), "%s", text);
    cr_assert(strstr(text, "role=fd sig=float(float,double) args=0.3333333333333333 grad=1"), "%s", text);
    cr_assert(strstr(text, "sig=void(float*,float*,int64_t,double) args=1e-06 dfn=l2_normalize_grad"),
              "%s", text);
    nn_graph *h = nn_graph_load_text(text, strlen(text), "ffi.nng", 5);
    cr_assert_not_null(h, "%s", nn_last_error());
    char *again = nn_graph_to_text(h);
    cr_assert_str_eq(again, text, "save(load(f)) differs");
    /* same weights (same seed), same values: the loaded graph calls the
     * same functions with the same scalars */
    nn_node *outs[2] = {loss, dw};
    run_with(g, "x", outs, 2);
    nn_node *outs2[2] = {nn_graph_find(h, nn_node_name(loss)), nn_graph_find(h, nn_node_name(dw))};
    run_with(h, "x", outs2, 2);
    cr_assert_eq(nn_value_scalar(outs2[0]), nn_value_scalar(loss));
    for (int i = 0; i < 12; i++) cr_assert_eq(nn_tensor_f32(nn_value(outs2[1]))[i], nn_tensor_f32(nn_value(dw))[i]);
    nn_ffi_info info;
    cr_assert(nn_ffi_node_info(nn_graph_find(h, "L1/leaky_relu"), &info));
    cr_assert(info.role == NN_FFI_FORWARD && info.scalars[0] == 0.1 && strcmp(info.grad_symbol, "leaky_relu_grad") == 0);
    free(text);
    free(again);
    nn_graph_free(g);
    nn_graph_free(h);
}

Test(graphfile, ffi_ops_render_and_rebuild, .init = quiet, .fini = loud) {
    nn_node *loss, *dw;
    nn_graph *g = ffi_graph(&loss, &dw);
    nn_dot_opts opts = {0};
    opts.backward = 1;
    char *dot = nn_graph_dot_string(g, &opts);
    cr_assert_not_null(dot, "%s", nn_last_error());
    cr_assert(strstr(dot, "leaky_relu") && strstr(dot, "l2_normalize_grad"), "%s", dot);
    char *svg;
    size_t len;
    cr_assert_eq(nn_dot_render(dot, "svg", &svg, &len), NN_OK, "%s", nn_last_error());
    cr_assert(len > 100 && strstr(svg, "<svg"));
    free(svg);
    free(dot);
    /* one op rebuilt alone in another graph (what the gradient audit does) */
    nn_graph *h = nn_graph_new(1);
    nn_node *x = nn_param(h, "x", NN_SHAPE(2, 2), nn_init_uniform(0.2f, 1.f));
    nn_node *y = nn_node_rebuild(h, nn_graph_find(g, "L1/leaky_relu"), "act", &x);
    cr_assert_not_null(y, "%s", nn_error_message(h));
    cr_assert_str_eq(nn_node_op(y), "ffi:" LIB ":leaky_relu");
    CHECK_GRAD(h, gc_project(h, y, 3));
    nn_graph_free(h);
    nn_graph_free(g);
}

/* Loads `body` after the header and checks the error names the line and
 * the problem. */
static void expect_load_error(const char *body, const char *frag1, const char *frag2) {
    char text[2048];
    snprintf(text, sizeof text, "nngraph-graph 1\nx input f32 [B,3]\n%s\nend 2\n", body);
    nn_graph *g = nn_graph_load_text(text, strlen(text), "bad.nng", 1);
    cr_assert_null(g, "loaded: %s", body);
    cr_assert(strstr(nn_last_error(), frag1), "want '%s' in: %s", frag1, nn_last_error());
    if (frag2) cr_assert(strstr(nn_last_error(), frag2), "want '%s' in: %s", frag2, nn_last_error());
}

static void load_myops(void) { cr_assert_eq(nn_ffi_load_library(LIB), NN_OK, "%s", nn_last_error()); }

Test(graphfile, ffi_errors_name_file_line_and_cause, .init = load_myops) {
    expect_load_error("y ffi:/nonexistent/libx.so:f f32 [B,3] x sig=float(float)", "bad.nng:3:",
                      "no loaded op library is '/nonexistent/libx.so'");
    expect_load_error("y ffi:/nonexistent/libx.so:f f32 [B,3] x sig=float(float)", "--ops /nonexistent/libx.so",
                      "nn_ffi_load_library()");
    expect_load_error("y ffi:" LIB ":nope f32 [B,3] x sig=float(float)", "bad.nng:3:",
                      "does not declare an op 'nope'");
    expect_load_error("y ffi:" LIB ":swish f32 [B,3] x", "bad.nng:3:", "needs sig=SIGNATURE");
    expect_load_error("y ffi:" LIB ":swish f32 [B,3] x sig=float(float,float) args=1",
                      "the graph declares function swish as float(float,float)", NULL);
    expect_load_error("y ffi:" LIB ":leaky_relu f32 [B,3] x sig=float(float,float) args=0.1,0.2",
                      "takes 1 scalar argument, 2 given", NULL);
    expect_load_error("y ffi:" LIB ":leaky_relu f32 [B,3] x sig=float(float,float) args=0.1x",
                      "args=0.1x is not a list of numbers", NULL);
    expect_load_error("y ffi:" LIB ":swish f32 [B,3] x sig=float(float) colour=red", "unknown attribute 'colour'",
                      NULL);
    expect_load_error("y ffi:" LIB ":swish f32 [B,3] x x sig=float(float)", "wrong arity", NULL);
    expect_load_error("y ffi:" LIB ":swish f32 [B,3] x sig=float(float) role=sideways", "role=sideways", NULL);
    expect_load_error("y ffi:swish f32 [B,3] x sig=float(float)", "is not ffi:LIB:SYMBOL", NULL);
    expect_load_error("y ffi:" LIB ":swish_grad f32 [B,3] x x sig=float(float) role=grad", "needs fn=FORWARD_SYMBOL",
                      NULL);
    expect_load_error("y ffi:" LIB ":swish f32 [B,3] x sig=float(float", "cannot parse signature", NULL);
}

/* ---- trust: a graph file is data ---- */

/* 1 if the dynamic loader has `path` open in this process. */
static int is_open(const char *path) {
    void *h = dlopen(path, RTLD_NOW | RTLD_NOLOAD);
    if (h) dlclose(h);
    return h != NULL;
}

/* Each trust test runs in a directory of its own, where the hostile
 * library's constructor would leave EVIL_RAN. */
static char trust_dir[64];
static void trust_setup(void) {
    tu_mkdtemp(trust_dir, sizeof trust_dir, "/tmp/nng_trust_XXXXXX");
    cr_assert_eq(chdir(trust_dir), 0);
}
static void trust_teardown(void) { tu_rmtree(trust_dir); }
TestSuite(trust, .init = trust_setup, .fini = trust_teardown);

static const char evil_graph[] = "nngraph-graph 1\nx input f32 [B,3]\n"
                                 "y ffi:" NN_EVIL_OPS_PATH ":negate f32 [B,3] x sig=float(float)\n"
                                 "s sum f32 [] y axis=all\nend 3\n";

Test(trust, loading_a_graph_never_opens_a_library) {
    /* no family registered: the op is unknown, and the message says how */
    cr_assert_null(nn_graph_load_text(evil_graph, strlen(evil_graph), "evil.nng", 1));
    cr_assert(strstr(nn_last_error(), "evil.nng:3:") && strstr(nn_last_error(), "no op family 'ffi:'") &&
                  strstr(nn_last_error(), "--ops"),
              "%s", nn_last_error());
    /* registered strict: the library is not loaded, so the load fails */
    cr_assert_eq(nn_ffi_register_graph_ops(0), NN_OK);
    cr_assert_null(nn_graph_load_text(evil_graph, strlen(evil_graph), "evil.nng", 1));
    cr_assert(strstr(nn_last_error(), "no loaded op library is '" NN_EVIL_OPS_PATH "'") &&
                  strstr(nn_last_error(), "none is loaded") && strstr(nn_last_error(), "--ops " NN_EVIL_OPS_PATH),
              "%s", nn_last_error());
    cr_assert_not(is_open(NN_EVIL_OPS_PATH), "a graph file made nngraph dlopen a library");
    cr_assert_neq(access("EVIL_RAN", F_OK), 0, "the library's constructor ran");
}

Test(trust, unresolved_ops_are_shown_saved_and_never_run) {
    cr_assert_eq(nn_ffi_register_graph_ops(1), NN_OK);
    nn_graph *g = nn_graph_load_text(evil_graph, strlen(evil_graph), "evil.nng", 1);
    cr_assert_not_null(g, "%s", nn_last_error());
    cr_assert_not(is_open(NN_EVIL_OPS_PATH));
    nn_ffi_info info;
    nn_node *y = nn_graph_find(g, "y");
    cr_assert(nn_ffi_node_info(y, &info) && info.unresolved && strcmp(info.symbol, "negate") == 0);
    /* saved back as read */
    char *text = nn_graph_to_text(g);
    cr_assert(text && strstr(text, "y ffi:" NN_EVIL_OPS_PATH ":negate f32 [B,3] x sig=float(float)\n"), "%s", text);
    free(text);
    /* drawn as what it is */
    char *dot = nn_graph_dot_string(g, NULL);
    cr_assert(dot && strstr(dot, "unresolved ffi op"), "%s", dot);
    free(dot);
    /* its gradient builds (for pictures), and running fails with the reason */
    nn_node *x = nn_graph_find(g, "x"), *s = nn_graph_find(g, "s"), *dx;
    cr_assert_eq(nn_grad(g, s, &x, 1, &dx), NN_OK, "%s", nn_error_message(g));
    float v[6] = {1, 2, 3, 4, 5, 6};
    nn_tensor *t = nn_tensor_from(NN_F32, NN_SHAPE(2, 3), v);
    nn_set_input(g, x, t);
    cr_assert_neq(nn_run(g, &s, 1), NN_OK);
    cr_assert(strstr(nn_error_message(g), "unresolved ffi op ffi:" NN_EVIL_OPS_PATH ":negate") &&
                  strstr(nn_error_message(g), "--ops"),
              "%s", nn_error_message(g));
    nn_tensor_free(t);
    nn_graph_free(g);
    cr_assert_not(is_open(NN_EVIL_OPS_PATH));
    cr_assert_neq(access("EVIL_RAN", F_OK), 0);
}

Test(trust, loaded_on_purpose_by_path_or_file_name) {
    cr_assert_eq(nn_ffi_load_library(NN_EVIL_OPS_PATH), NN_OK, "%s", nn_last_error());
    cr_assert(is_open(NN_EVIL_OPS_PATH));
    unlink("EVIL_RAN"); /* the user chose to run it */
    nn_graph *g = nn_graph_load_text(evil_graph, strlen(evil_graph), "evil.nng", 1);
    cr_assert_not_null(g, "%s", nn_last_error());
    nn_node *x = nn_graph_find(g, "x"), *s = nn_graph_find(g, "s");
    float v[6] = {1, 2, 3, 4, 5, 6};
    nn_tensor *t = nn_tensor_from(NN_F32, NN_SHAPE(2, 3), v);
    nn_set_input(g, x, t);
    cr_assert_eq(nn_run(g, &s, 1), NN_OK, "%s", nn_error_message(g));
    cr_assert_eq(nn_value_scalar(s), -21.f);
    nn_tensor_free(t);
    nn_graph_free(g);
    /* a graph written elsewhere names it by another directory */
    static const char moved[] = "nngraph-graph 1\nx input f32 [B,3]\n"
                                "y ffi:/somewhere/else/libevil_ops.so:negate f32 [B,3] x sig=float(float)\nend 2\n";
    g = nn_graph_load_text(moved, strlen(moved), "moved.nng", 1);
    cr_assert_not_null(g, "%s", nn_last_error());
    nn_graph_free(g);
    /* unloaded: graph files cannot name it any more, and it is closed */
    cr_assert_eq(nn_ffi_unload_library(NN_EVIL_OPS_PATH), NN_OK);
    cr_assert_not(is_open(NN_EVIL_OPS_PATH));
    cr_assert_null(nn_graph_load_text(evil_graph, strlen(evil_graph), "evil.nng", 1));
    cr_assert_eq(nn_ffi_unload_library(NN_EVIL_OPS_PATH), NN_ERR_ARG);
}

/* Loads a one-op graph calling SYMBOL of LIBRARY and checks the refusal. */
static void expect_refused(const char *library, const char *symbol, const char *sig, const char *why) {
    char text[512];
    snprintf(text, sizeof text, "nngraph-graph 1\nx input f32 [B,3]\ny ffi:%s:%s f32 [B,3] x sig=%s\nend 2\n",
             library, symbol, sig);
    cr_assert_null(nn_graph_load_text(text, strlen(text), "refused.nng", 1), "%s:%s loaded", library, symbol);
    cr_assert(strstr(nn_last_error(), why), "want '%s' in: %s", why, nn_last_error());
}

Test(trust, only_declared_ops_of_the_library_itself) {
    /* even a library loaded on purpose exposes only what it declares */
    cr_assert_eq(nn_ffi_load_library("libc.so.6"), NN_OK, "%s", nn_last_error());
    expect_refused("libc.so.6", "system", "float(float)", "does not declare an op 'system'");
    expect_refused("libc.so.6", "free", "void(float*,float*,int64_t)", "does not declare an op 'free'");
    cr_assert_eq(nn_ffi_load_library(NN_EVIL_OPS_PATH), NN_OK, "%s", nn_last_error());
    expect_refused(NN_EVIL_OPS_PATH, "undeclared", "float(float)", "does not declare an op 'undeclared'");
    /* a declaration whose function comes from a dependency (libm) */
    expect_refused(NN_EVIL_OPS_PATH, "cosf", "float(float)", "symbol 'cosf' is not defined in the library itself");
    /* the program's own calls obey the same rule */
    nn_graph *g = nn_graph_new(1);
    nn_node *x = nn_input(g, "x", NN_F32, NN_SHAPE(3));
    cr_assert_null(nn_ffi_op(g, "libc.so.6", "system", "float(float)", x, NULL, 0, NULL));
    cr_assert(strstr(nn_error_message(g), "does not declare an op 'system'"), "%s", nn_error_message(g));
    nn_graph_free(g);
}

/* ---- the nngraph command on graph files with ffi ops ---- */

extern char **environ;

static char tmpdir[64];
static char out[1 << 15], err[1 << 14];

/* The environment of the spawned command: ours, plus (in a sanitizer build)
 * the same Graphviz suppressions for its LeakSanitizer, from a file. */
static char lsan_opt[200];
static char *child_env[256];

static void cli_setup(void) {
    tu_mkdtemp(tmpdir, sizeof tmpdir, "/tmp/nng_ffi_XXXXXX");
    char supp[128];
    snprintf(supp, sizeof supp, "%s/lsan.supp", tmpdir);
    tu_write_file(supp, GRAPHVIZ_LEAKS, strlen(GRAPHVIZ_LEAKS));
    int n = 0;
    for (char **e = environ; *e && n < 254; e++)
        if (strncmp(*e, "LSAN_OPTIONS=", 13) != 0) child_env[n++] = *e;
    snprintf(lsan_opt, sizeof lsan_opt, "LSAN_OPTIONS=suppressions=%s", supp);
    child_env[n++] = lsan_opt;
    child_env[n] = NULL;
}

static void cli_teardown(void) { tu_rmtree(tmpdir); }

static const char *in_tmp(const char *name) { return tu_path(tmpdir, name); }

/* Runs nngraph with the NULL-terminated arguments, stdout and stderr into
 * out/err; the exit status, or -1 if it died of a signal. */
static int nngraph(const char *arg, ...) {
    va_list ap;
    va_start(ap, arg);
    int rc = tu_vrun(NN_FFI_NNGRAPH_EXE, child_env, tmpdir, out, sizeof out, err, sizeof err, arg, ap);
    va_end(ap);
    return rc;
}

/* Writes a network IN -> 8 (swish) -> 8 (leaky relu, then softplus without
 * a gradient) -> 10 classes with ffi activations from the example library. */
static const char *write_net(const char *name, int in, const char *lib) {
    const char *path = in_tmp(name);
    FILE *f = fopen(path, "wb");
    cr_assert(f);
    fprintf(f,
            "nngraph-graph 1\nx input f32 [B,%d]\ny input i32 [B]\n"
            "L1/W param f32 [%d,8] init=glorot_uniform\nL1/b param f32 [8] init=zeros\n"
            "L1/matmul matmul f32 [B,8] x L1/W\nL1/add add f32 [B,8] L1/matmul L1/b\n"
            "L1/swish ffi:%s:swish f32 [B,8] L1/add sig=float(float) dfn=swish_grad\n"
            "L2/W param f32 [8,8] init=glorot_uniform\nL2/b param f32 [8] init=zeros\n"
            "L2/matmul matmul f32 [B,8] L1/swish L2/W\nL2/add add f32 [B,8] L2/matmul L2/b\n"
            "L2/leaky ffi:%s:leaky_relu f32 [B,8] L2/add sig=float(float,float) args=0.1 dfn=leaky_relu_grad\n"
            "L2/soft ffi:%s:softplus f32 [B,8] L2/leaky sig=float(float,double) args=2\n"
            "L3/W param f32 [8,10] init=glorot_uniform\nL3/b param f32 [10] init=zeros\n"
            "L3/matmul matmul f32 [B,10] L2/soft L3/W\nL3/add add f32 [B,10] L3/matmul L3/b\n"
            "loss softmax_cross_entropy f32 [] L3/add y\nend 18\n",
            in, in, lib, lib, lib);
    fclose(f);
    return path;
}

TestSuite(ffi_cli, .init = cli_setup, .fini = cli_teardown);

Test(ffi_cli, check_dot_and_summary) {
    const char *net = write_net("net.nng", 4, LIB);
    cr_assert_eq(nngraph("check", "--ops", LIB, net, NULL), 0, "%s%s", out, err);
    /* every ffi op audited and passing, by its full op name */
    cr_assert(strstr(out, "ffi:" LIB ":swish") && strstr(out, "ffi:" LIB ":leaky_relu") &&
                  strstr(out, "ffi:" LIB ":softplus"),
              "%s", out);
    cr_assert_null(strstr(out, "FAIL"), "%s", out);
    cr_assert_eq(nngraph("dot", net, NULL), 0, "%s", err);
    cr_assert(strstr(out, "ffi:" LIB ":leaky_relu") && strstr(out, "\"L2/soft\" -> \"L3/matmul\""), "%s", out);
    cr_assert_eq(nngraph("dot", "-T", "svg", "-o", in_tmp("net.svg"), net, NULL), 0, "%s", err);
    tu_slurp(in_tmp("net.svg"), out, sizeof out);
    cr_assert(strstr(out, "<svg") && strstr(out, "swish"));
    cr_assert_eq(nngraph("summary", net, NULL), 0, "%s", err);
    cr_assert(strstr(out, "L1") && strstr(out, "Total params: 202"), "%s", out);
}

Test(ffi_cli, train_on_digits) {
    const char *net = write_net("digits.nng", 400, LIB);
    cr_assert_eq(nngraph("train", "--ops", LIB, net, "--data", NN_EXAMPLES_DATA "/digits20-train-images.idx3-ubyte.gz",
                         NN_EXAMPLES_DATA "/digits20-train-labels.idx1-ubyte.gz", "--epochs", "3", "--lr", "0.01",
                         "--quiet", "-o", in_tmp("w.bin"), NULL),
                 0, "%s", err);
    double loss = -1, acc = -1;
    const char *l = strstr(out, "loss "), *a = strstr(out, "accuracy ");
    cr_assert(l && a, "%s", out);
    loss = strtod(l + 5, NULL);
    acc = strtod(a + 9, NULL);
    /* ln 10 = 2.30 at the start; three epochs of Adam learn the digits */
    cr_assert(loss < 1.0 && acc > 0.7, "loss %g accuracy %g: %s", loss, acc, out);
    /* softplus has no gradient function: one warning on stderr */
    cr_assert(strstr(err, "softplus has no gradient function"), "%s", err);
}

Test(ffi_cli, missing_library_is_a_clear_runtime_failure) {
    const char *net = write_net("bad.nng", 4, "/nonexistent/libmyops.so");
    cr_assert_eq(nngraph("train", net, "--csv", "a.csv", NULL), 1);
    cr_assert(strstr(err, "bad.nng:8:") && strstr(err, "no loaded op library is '/nonexistent/libmyops.so'") &&
                  strstr(err, "--ops /nonexistent/libmyops.so"),
              "%s", err);
    cr_assert_eq(nngraph("check", "--ops", "/nonexistent/libmyops.so", net, NULL), 1);
    cr_assert(strstr(err, "--ops /nonexistent/libmyops.so: load ops: cannot load library"), "%s", err);
    /* the graph names another directory: the loaded library of that file
     * name serves */
    cr_assert_eq(nngraph("check", "--ops", LIB, net, NULL), 0, "%s", err);
    cr_assert(strstr(out, "ffi:/nonexistent/libmyops.so:swish") && !strstr(out, "unresolved"), "%s", out);
}

Test(ffi_cli, showing_a_graph_runs_no_code) {
    cr_assert_eq(chdir(tmpdir), 0); /* where the library would leave EVIL_RAN */
    const char *net = write_net("evil.nng", 4, NN_EVIL_OPS_PATH);
    cr_assert_eq(nngraph("summary", net, NULL), 0, "%s", err);
    cr_assert(strstr(out, "Total params: 202"), "%s", out);
    cr_assert_eq(nngraph("dot", net, NULL), 0, "%s", err);
    cr_assert(strstr(out, "unresolved ffi op"), "%s", out);
    cr_assert_eq(nngraph("check", net, NULL), 0, "%s", err);
    cr_assert(strstr(out, "unresolved ffi op (not checked"), "%s", out);
    cr_assert_eq(nngraph("train", net, "--csv", "a.csv", NULL), 1);
    cr_assert(strstr(err, "no loaded op library"), "%s", err);
    /* the same graph stored in a run log: `dot DB:RUN` */
    char text[4096];
    tu_slurp(net, text, sizeof text);
    nn_runlog *log = nn_runlog_open(in_tmp("runs.db"), 0);
    cr_assert_not_null(log, "%s", nn_last_error());
    nn_run_info ri = {.name = "evil", .graph_text = text, .command_line = "x"};
    cr_assert_eq(nn_runlog_start(log, &ri, NULL), NN_OK, "%s", nn_last_error());
    nn_runlog_close(log);
    char spec[256];
    snprintf(spec, sizeof spec, "%s:1", in_tmp("runs.db"));
    cr_assert_eq(nngraph("dot", spec, NULL), 0, "%s", err);
    cr_assert(strstr(out, "unresolved ffi op"), "%s", out);
    cr_assert_neq(access(in_tmp("EVIL_RAN"), F_OK), 0, "a graph file ran a library's constructor");
    /* loaded on purpose it does run: the test's own check that it can */
    cr_assert_eq(nngraph("summary", "--ops", NN_EVIL_OPS_PATH, write_net("my.nng", 4, LIB), NULL), 0, "%s", err);
    cr_assert_eq(access(in_tmp("EVIL_RAN"), F_OK), 0);
}

Test(ffi_cli, ops_from_the_environment) {
    const char *net = write_net("net.nng", 4, LIB);
    char var[512];
    snprintf(var, sizeof var, "NNGRAPH_OPS=/nonexistent/libz.so:%s", LIB);
    int n = 0;
    while (child_env[n]) n++;
    child_env[n] = var;
    child_env[n + 1] = NULL;
    cr_assert_eq(nngraph("check", net, NULL), 1);
    cr_assert(strstr(err, "NNGRAPH_OPS: load ops: cannot load library '/nonexistent/libz.so'"), "%s", err);
    snprintf(var, sizeof var, "NNGRAPH_OPS=%s", LIB);
    cr_assert_eq(nngraph("check", net, NULL), 0, "%s", err);
    cr_assert(!strstr(out, "unresolved") && strstr(out, "ffi:" LIB ":swish"), "%s", out);
    child_env[n] = NULL;
}
