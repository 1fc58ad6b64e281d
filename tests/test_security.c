/* Hardening (issue 12): crafted files and calls that used to crash, lose
 * data or give silently wrong numbers. Each test names the failure it
 * guards against; the trust model of ffi ops is tested in
 * test_ffi_graphio.c (suite trust). */
#include "testutil.h"
#include "internal.h"
#include "ops.h"

#include <criterion/criterion.h>
#include <sqlite3.h>
#include <zlib.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <grp.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static char dir[64];
static char out[1 << 16], err[1 << 14];

static void setup(void) { tu_mkdtemp(dir, sizeof dir, "/tmp/nng_sec_XXXXXX"); }
static void teardown(void) { tu_rmtree(dir); }

static const char *in_dir(const char *name) { return tu_path(dir, name); }

static int nngraph(const char *arg, ...) {
    va_list ap;
    va_start(ap, arg);
    int rc = tu_vrun(NNGRAPH_EXE, environ, dir, out, sizeof out, err, sizeof err, arg, ap);
    va_end(ap);
    return rc;
}

/* Loads graph text, expecting failure with every fragment in the message. */
static void expect_refused(const char *text, const char *frag1, const char *frag2) {
    nn_graph *g = nn_graph_load_text(text, strlen(text), "crafted.nng", 1);
    cr_assert_null(g, "loaded:\n%s", text);
    cr_assert(strstr(nn_last_error(), frag1), "want '%s' in: %s", frag1, nn_last_error());
    if (frag2) cr_assert(strstr(nn_last_error(), frag2), "want '%s' in: %s", frag2, nn_last_error());
}

TestSuite(names, .init = setup, .fini = teardown);

/* A scope of 128+ bytes was cut at 127 in the layer table, and describe()
 * then read g->nodes[-1] (SIGSEGV in `nngraph dot`). */
Test(names, long_scope_names_are_kept_whole) {
    char scope[301];
    memset(scope, 's', 300);
    scope[300] = 0;
    char text[2048];
    snprintf(text, sizeof text,
             "nngraph-graph 1\nx input f32 [B,3]\n%s/W param f32 [3,2] init=zeros\n%s/matmul matmul f32 [B,2] x %s/W\n"
             "end 3\n",
             scope, scope, scope);
    nn_graph *g = nn_graph_load_text(text, strlen(text), "long.nng", 1);
    cr_assert_not_null(g, "%s", nn_last_error());
    nn_layer_info l;
    cr_assert_eq(nn_graph_layers(g, &l, 1), 1);
    cr_assert_str_eq(l.name, scope);
    cr_assert_str_eq(l.kind, "dense");
    cr_assert_eq(l.output_node, 2);
    nn_dot_opts o = {0};
    o.layers = 1;
    char *dot = nn_graph_dot_string(g, &o);
    cr_assert(dot && strstr(dot, scope));
    free(dot);
    nn_graph_free(g);
    tu_write_file(in_dir("long.nng"), text, strlen(text));
    cr_assert_eq(nngraph("dot", in_dir("long.nng"), NULL), 0, "%s", err);
    cr_assert_eq(nngraph("dot", "--layers", in_dir("long.nng"), NULL), 0, "%s", err);
    cr_assert_eq(nngraph("summary", in_dir("long.nng"), NULL), 0, "%s", err);
}

/* Names of 512+ bytes were written to weights files and then refused when
 * read ("bad name length 603"); at 65,536 the checkpoint's 16-bit length
 * wrapped. Every builder, writer and reader now takes the same names. */
Test(names, every_name_a_graph_holds_saves_and_loads) {
    for (int len = 600; len <= NN_MAX_NAME - 1; len += NN_MAX_NAME - 1 - 600) {
        char *name = malloc((size_t)len + 1);
        memset(name, 'w', (size_t)len);
        name[len] = 0;
        nn_graph *g = nn_graph_new(1);
        nn_node *w = nn_param(g, name, NN_SHAPE(2), nn_init_uniform(-1.f, 1.f));
        cr_assert_not_null(w, "%d bytes: %s", len, nn_error_message(g));
        cr_assert_eq(nn_weights_save(g, in_dir("w.bin")), NN_OK, "%s", nn_last_error());
        float before = nn_tensor_f32(nn_param_value(w))[1];
        nn_graph *h = nn_graph_new(2);
        nn_node *w2 = nn_param(h, name, NN_SHAPE(2), nn_init_zeros());
        cr_assert_eq(nn_weights_load(h, in_dir("w.bin")), NN_OK, "%d bytes: %s", len, nn_last_error());
        cr_assert_eq(nn_tensor_f32(nn_param_value(w2))[1], before);
        nn_graph_free(g);
        nn_graph_free(h);
        free(name);
    }
    /* one byte more is refused where the name is made */
    char name[NN_MAX_NAME + 1];
    memset(name, 'w', NN_MAX_NAME);
    name[NN_MAX_NAME] = 0;
    nn_graph *g = nn_graph_new(1);
    cr_assert_null(nn_param(g, name, NN_SHAPE(2), nn_init_zeros()));
    cr_assert(strstr(nn_error_message(g), "is 1024 bytes long") && strstr(nn_error_message(g), "at most 1023"), "%s",
              nn_error_message(g));
    nn_graph_free(g);
    /* a scope makes the name longer: the whole name counts */
    g = nn_graph_new(1);
    char scope[201];
    memset(scope, 's', 200);
    scope[200] = 0;
    cr_assert_eq(nn_scope_push(g, scope), NN_OK, "%s", nn_error_message(g));
    name[900] = 0;
    cr_assert_null(nn_param(g, name, NN_SHAPE(2), nn_init_zeros()));
    cr_assert(strstr(nn_error_message(g), "is 1101 bytes long"), "%s", nn_error_message(g));
    nn_graph_free(g);
}

/* nn_input with rank 5 read past the shape while writing its own error. */
Test(names, input_of_rank_five_is_refused_cleanly) {
    nn_graph *g = nn_graph_new(1);
    nn_shape s = {5, {2, 2, 2, 2}};
    cr_assert_null(nn_input(g, "x", NN_F32, s));
    cr_assert(strstr(nn_error_message(g), "bad shape [rank 5]"), "%s", nn_error_message(g));
    nn_graph_free(g);
    char buf[64];
    nn_shape neg = {-1, {0}};
    cr_assert_str_eq(nn_shape_str(neg, buf, sizeof buf), "[rank -1]");
}

/* ---- every op's shape rule checks what its kernel relies on ---- */

#define HEAD "nngraph-graph 1\nx input f32 [B,3]\n"

/* expand's axis was never checked: axis=1000 or -4 overflowed a stack
 * buffer, axis=3 on rank 2 gave zeros; dy's shape was never checked (a
 * heap over-read). */
Test(shape_rules, expand_checks_axis_and_dy) {
    expect_refused(HEAD "dy input f32 [B]\ne expand f32 [B,3] dy x axis=1000\nend 3\n", "crafted.nng:4:", "axis");
    /* past the reader's range check, the rule itself refuses */
    nn_graph *b = nn_graph_new(1);
    nn_node *bx = nn_input(b, "x", NN_F32, NN_SHAPE(2, 3)), *bdy = nn_input(b, "dy", NN_F32, NN_SHAPE(2));
    cr_assert_null(nn_expand_like(b, bdy, bx, 1000, 0));
    cr_assert(strstr(nn_error_message(b), "axis 1000 is outside the input's 2 axes"), "%s", nn_error_message(b));
    nn_graph_free(b);
    expect_refused(HEAD "dy input f32 [B]\ne expand f32 [B,3] dy x axis=-4\nend 3\n", "axis -4 is outside", NULL);
    expect_refused(HEAD "dy input f32 [B]\ne expand f32 [B,3] dy x axis=3\nend 3\n", "axis 3 is outside", NULL);
    expect_refused(HEAD "dy input f32 [7]\ne expand f32 [B,3] dy x axis=1\nend 3\n",
                   "dy [7] is not x [B,3] reduced over the axis ([B])", NULL);
    expect_refused(HEAD "dy input f32 [B,3]\ne expand f32 [B,3] dy x axis=all\nend 3\n", "is not x [B,3] reduced",
                   NULL);
    /* the ones the gradient of sum and mean build still load and run */
    static const char ok[] = HEAD "dy input f32 [B]\ne expand f32 [B,3] dy x axis=1 mean=1\nend 3\n";
    nn_graph *g = nn_graph_load_text(ok, strlen(ok), "ok.nng", 1);
    cr_assert_not_null(g, "%s", nn_last_error());
    float xv[6] = {0}, dyv[2] = {3, 6};
    nn_tensor *tx = nn_tensor_from(NN_F32, NN_SHAPE(2, 3), xv), *td = nn_tensor_from(NN_F32, NN_SHAPE(2), dyv);
    nn_set_input(g, nn_graph_find(g, "x"), tx);
    nn_set_input(g, nn_graph_find(g, "dy"), td);
    nn_node *e = nn_graph_find(g, "e");
    cr_assert_eq(nn_run(g, &e, 1), NN_OK, "%s", nn_error_message(g));
    cr_assert_eq(nn_tensor_f32(nn_value(e))[0], 1.f);
    cr_assert_eq(nn_tensor_f32(nn_value(e))[5], 2.f);
    nn_tensor_free(tx);
    nn_tensor_free(td);
    nn_graph_free(g);
}

/* softmax_cross_entropy_grad never checked the labels' shape: a heap
 * over-read reading one label per row. */
Test(shape_rules, loss_gradients_check_their_inputs) {
    expect_refused(HEAD "y input i32 [2]\nd const f32 [] fill=1\n"
                        "g softmax_cross_entropy_grad f32 [B,3] x y d\nend 4\n",
                   "crafted.nng:5:", "labels must be [batch] with the logits' batch");
    expect_refused(HEAD "y input i32 [B,3]\nd const f32 [] fill=1\n"
                        "g softmax_cross_entropy_grad f32 [B,3] x y d\nend 4\n",
                   "labels must be [batch]", NULL);
    expect_refused("nngraph-graph 1\nx input f32 [B,3,2]\ny input i32 [B]\nd const f32 [] fill=1\n"
                   "g softmax_cross_entropy_grad f32 [B,3,2] x y d\nend 4\n",
                   "logits must be [batch, classes]", NULL);
    expect_refused(HEAD "y input f32 [B]\nd const f32 [] fill=1\n"
                        "g softmax_cross_entropy_grad f32 [B,3] x y d\nend 4\n",
                   "labels must be i32", NULL);
    /* targets read as floats must be floats */
    expect_refused(HEAD "y input i32 [B,3]\nd const f32 [] fill=1\ng bce_with_logits_grad f32 [B,3] x y d\nend 4\n",
                   "must be f32", NULL);
    expect_refused(HEAD "y input i32 [B,3]\nd const f32 [] fill=1\ng mse_grad f32 [B,3] x y d\nend 4\n",
                   "must be f32", NULL);
}

/* Every op of the registry can be named in a file. Each is built on
 * inputs of every combination of a few shapes and both dtypes; whatever a
 * rule accepts must run without reading or writing out of bounds (the
 * sanitizer build checks that) and give a finite or NaN result. */
Test(shape_rules, every_op_runs_on_whatever_its_rule_accepts) {
    static const nn_shape shapes[] = {{0, {0}}, {1, {1}}, {1, {2}}, {1, {3}}, {2, {2, 3}}, {2, {3, 2}}, {2, {1, 3}},
                                      {3, {2, 1, 3}}};
    const int ns = (int)(sizeof shapes / sizeof *shapes);
    int accepted = 0;
    for (int op = 0; op < nn_op_count(); op++) {
        const nn_op_def *def = nn_op_at(op);
        const char *name = def->name;
        int arity = def->n_inputs;
        /* both dtypes for up to 3 inputs; f32 only beyond (batch_norm's 5
         * would be a million graphs) */
        int dtypes = arity > 3 ? 1 : 2;
        int combos = 1;
        for (int k = 0; k < arity; k++) combos *= ns * dtypes;
        for (int c = 0; c < combos; c++) {
            nn_graph *g = nn_graph_new(1);
            nn_node *in[NN_MAX_INPUTS];
            nn_tensor *vals[NN_MAX_INPUTS] = {0};
            int rest = c, n = 0;
            for (int k = 0; k < arity; k++) {
                nn_shape s = shapes[rest % ns];
                nn_dtype dt = (rest / ns) % dtypes ? NN_I32 : NN_F32;
                rest /= ns * dtypes;
                char nm[8];
                snprintf(nm, sizeof nm, "in%d", k);
                in[k] = nn_input(g, nm, dt, s);
                vals[k] = nn_tensor_new(dt, s);
                if (dt == NN_F32)
                    for (int64_t i = 0; i < nn_tensor_size(vals[k]); i++) nn_tensor_f32(vals[k])[i] = 0.5f;
                nn_set_input(g, in[k], vals[k]);
                n++;
            }
            nn_node *y = nn_op_node(g, def, NULL, arity, in, NULL, NULL);
            if (y) {
                accepted++;
                /* a kernel may refuse values (labels out of range), with a reason */
                if (nn_run(g, &y, 1) != NN_OK)
                    cr_assert(strlen(nn_error_message(g)) > 0, "op %s case %d failed silently", name, c);
            }
            for (int k = 0; k < n; k++) nn_tensor_free(vals[k]);
            nn_graph_free(g);
        }
    }
    cr_assert_gt(accepted, 100);
}

/* ---- the run log's readers ---- */

TestSuite(runlog_output, .init = setup, .fini = teardown);

/* A run whose name, error and a hyperparameter hold terminal escapes, and
 * whose losses are +-1.7e308 (finite: the curve's span overflowed to inf,
 * its width became NaN, then a negative memset in `nngraph show`). */
static void write_hostile_log(const char *db) {
    nn_runlog *log = nn_runlog_open(db, 0);
    cr_assert_not_null(log, "%s", nn_last_error());
    nn_run_info info = {.name = "evil\x1b]0;pwned\x07\x1b[2J", .command_line = "x"};
    cr_assert_eq(nn_runlog_start(log, &info, NULL), NN_OK, "%s", nn_last_error());
    cr_assert_eq(nn_runlog_param(log, "optimizer", "adam\x1b[31m\xc2\x9b" "31m"), NN_OK);
    cr_assert_eq(nn_runlog_epoch_metric(log, "loss", "train", 1, 1.7e308), NN_OK);
    cr_assert_eq(nn_runlog_epoch_metric(log, "loss", "train", 2, -1.7e308), NN_OK);
    cr_assert_eq(nn_runlog_epoch_metric(log, "loss", "train", 3, 0.0), NN_OK);
    cr_assert_eq(nn_runlog_flush(log), NN_OK);
    cr_assert_eq(nn_runlog_finish(log, "failed", "boom\x1b[1A\r"), NN_OK, "%s", nn_last_error());
    nn_runlog_close(log);
}

static void assert_no_controls(const char *text) {
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        cr_assert(*p >= 0x20 || *p == '\n', "control byte 0x%02x in:\n%s", *p, text);
        cr_assert(*p != 0x7f && !(p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f), "control in:\n%s", text);
    }
}

Test(runlog_output, show_and_runs_print_no_escapes_and_survive_huge_losses) {
    const char *db = in_dir("runs.db");
    write_hostile_log(db);
    cr_assert_eq(nngraph("show", "--db", db, "--run", "1", NULL), 0, "%s", err);
    assert_no_controls(out);
    cr_assert(strstr(out, "evil?]0;pwned??[2J") && strstr(out, "boom?[1A?") && strstr(out, "adam?[31m?31m"), "%s",
              out);
    /* the curve: the largest loss gets the full bar, the smallest one '#' */
    const char *big = strstr(out, "1.7e+308"), *small = strstr(out, "-1.7e+308");
    cr_assert(big && small, "%s", out);
    cr_assert(strstr(big, "########################################"), "%s", out);
    cr_assert_eq(nngraph("runs", db, NULL), 0, "%s", err);
    assert_no_controls(out);
    cr_assert(strstr(out, "evil?]0;pwned"), "%s", out);
    /* JSON escapes them instead */
    cr_assert_eq(nngraph("show", "--db", db, "--run", "1", "--json", NULL), 0, "%s", err);
    assert_no_controls(out);
    cr_assert(strstr(out, "evil\\u001b]0;pwned\\u0007"), "%s", out);
}

/* ---- unbounded memory ---- */

TestSuite(memory, .init = setup, .fini = teardown);

/* A 127-byte graph file made `summary` allocate 3 GiB (three 1 GiB
 * parameters); now the total is held to the memory limit, and a file
 * without its end line builds nothing big before failing. */
Test(memory, graph_file_parameters_are_held_to_the_limit) {
    static const char three_gib[] = "nngraph-graph 1\na param f32 [16384,16384] init=zeros\n"
                                    "b param f32 [16384,16384] init=zeros\nc param f32 [16384,16384] init=zeros\nend 3\n";
    expect_refused(three_gib, "crafted.nng:3:", "the graph's parameters and constants needs 2147483648 bytes, over "
                                                "the memory limit of 1073741824 (raise it with --max-memory");
    /* cut short: refused at the first big tensor, long before the limit */
    static const char cut[] = "nngraph-graph 1\na param f32 [1024,1024] init=zeros\nb param f32 [2] init=zeros\n";
    expect_refused(cut, "crafted.nng:2:", "truncated file: no 'end N' line at the end");
    /* the limit can be lowered and raised */
    static const char small[] = "nngraph-graph 1\na param f32 [1024,256] init=zeros\nend 1\n";
    nn_set_memory_limit(1 << 20);
    nn_graph *g = nn_graph_load_text(small, strlen(small), "crafted.nng", 1);
    cr_assert_not_null(g, "%s", nn_last_error());
    nn_graph_free(g);
    nn_set_memory_limit((1 << 20) - 1);
    expect_refused(small, "over the memory limit of 1048575", NULL);
    nn_set_memory_limit(0);
    cr_assert_eq(nn_memory_limit(), NN_DEFAULT_MEMORY_LIMIT);
    /* the command takes the limit as an option */
    tu_write_file(in_dir("small.nng"), small, strlen(small));
    cr_assert_eq(nngraph("summary", "--max-memory", "1000000", in_dir("small.nng"), NULL), 1);
    cr_assert(strstr(err, "over the memory limit of 1000000"), "%s", err);
    cr_assert_eq(nngraph("summary", "--max-memory=2M", in_dir("small.nng"), NULL), 0, "%s", err);
    cr_assert_eq(nngraph("summary", "--max-memory", "lots", in_dir("small.nng"), NULL), 2);
}

/* `summary /dev/zero` read without end. */
Test(memory, endless_files_stop_at_the_limit) {
    nn_set_memory_limit(1 << 22);
    cr_assert_null(nn_graph_load("/dev/zero", 1));
    cr_assert(strstr(nn_last_error(), "/dev/zero: the file is larger than the memory limit of 4194304"), "%s",
              nn_last_error());
    cr_assert_null(nn_load_csv("/dev/zero", -1, 1));
    cr_assert(strstr(nn_last_error(), "/dev/zero: a line longer than the memory limit"), "%s", nn_last_error());
    nn_set_memory_limit(0);
    cr_assert_eq(nngraph("summary", "--max-memory", "4M", "/dev/zero", NULL), 1);
    cr_assert(strstr(err, "larger than the memory limit"), "%s", err);
}

/* A 510 KB gzip IDX file made nn_load_idx peak at 2.6 GB. */
Test(memory, gzip_bomb_is_refused_before_inflating) {
    /* 600 MB of zero bytes declared and present, a few hundred KB gzipped */
    unsigned char head[16] = {0, 0, 8, 3, 0, 0, 0x75, 0x30, 0, 0, 0x13, 0x88, 0, 0, 0, 4};
    /* 30000 x 5000 x 4 = 600,000,000 */
    gzFile f = gzopen(in_dir("bomb.idx.gz"), "wb9");
    cr_assert(f);
    gzwrite(f, head, sizeof head);
    static unsigned char zeros[1 << 20];
    for (int i = 0; i < 572; i++) gzwrite(f, zeros, sizeof zeros);
    gzclose(f);
    struct stat st;
    stat(in_dir("bomb.idx.gz"), &st);
    cr_assert_lt(st.st_size, 1 << 20, "%lld bytes", (long long)st.st_size);
    cr_assert_null(nn_load_idx(in_dir("bomb.idx.gz")));
    cr_assert(strstr(nn_last_error(), "30000x5000x4 values needs 3000000000 bytes, over the memory limit"), "%s",
              nn_last_error());
}

/* nn_graph_set_threads(g, 100000) took 44 s and 2.2 GB before failing. */
Test(memory, thread_count_is_capped) {
    nn_graph *g = nn_graph_new(1);
    cr_assert_eq(nn_graph_set_threads(g, 100000), NN_ERR_ARG);
    cr_assert(strstr(nn_last_error(), "100000 threads, at most 1024"), "%s", nn_last_error());
    cr_assert_eq(nn_graph_set_threads(g, NN_MAX_THREADS), NN_OK);
    nn_graph_free(g);
}

/* ---- silent wrong numbers ---- */

TestSuite(numbers, .init = setup, .fini = teardown);

/* ReLU turned NaN into 0: nn_fit trained on all-NaN features and returned
 * OK. NaN propagates now (as torch.relu does), and the fit's non-finite
 * check stops it. */
Test(numbers, relu_propagates_nan_so_fit_refuses_nan_data) {
    nn_graph *g = nn_graph_new(1);
    nn_node *x = nn_input(g, "x", NN_F32, NN_SHAPE(NN_BATCH, 2));
    nn_node *r = nn_relu(g, x);
    float v[4] = {NAN, -1.f, 2.f, -0.f};
    nn_tensor *t = nn_tensor_from(NN_F32, NN_SHAPE(2, 2), v);
    nn_set_input(g, x, t);
    cr_assert_eq(nn_run(g, &r, 1), NN_OK);
    cr_assert(isnan(nn_tensor_f32(nn_value(r))[0]));
    cr_assert_eq(nn_tensor_f32(nn_value(r))[1], 0.f);
    cr_assert_eq(nn_tensor_f32(nn_value(r))[2], 2.f);
    nn_tensor_free(t);
    nn_graph_free(g);
    nn_node *loss;
    g = tu_digits_net(1, &x, NULL, &loss);
    nn_tensor *feats = nn_tensor_new(NN_F32, NN_SHAPE(64, 400));
    for (int i = 0; i < 64 * 400; i++) nn_tensor_f32(feats)[i] = NAN;
    nn_tensor *labels = nn_tensor_new(NN_I32, NN_SHAPE(64));
    nn_dataset *d = nn_dataset_new(feats, labels);
    nn_fit_opts o = {0};
    o.epochs = 1;
    cr_assert_neq(nn_fit(g, loss, d, &o, NULL), NN_OK, "fit on NaN features succeeded");
    cr_assert(strstr(nn_error_message(g), "NaN"), "%s", nn_error_message(g));
    nn_dataset_free(d);
    nn_graph_free(g);
}

/* A CSV value of 1e300 passed the finite check and became inf. */
Test(numbers, csv_values_must_fit_a_float) {
    static const char csv[] = "a,b,label\n1,2,0\n3,1e300,1\n";
    tu_write_file(in_dir("big.csv"), csv, strlen(csv));
    cr_assert_null(nn_load_csv(in_dir("big.csv"), -1, 1));
    cr_assert(strstr(nn_last_error(), "big.csv: line 3 (data row 2), column 2: '1e300' is outside float's range"),
              "%s", nn_last_error());
    static const char ok[] = "a,b,label\n1,3.4e38,0\n3,-1e-300,1\n";
    tu_write_file(in_dir("ok.csv"), ok, strlen(ok));
    nn_dataset *d = nn_load_csv(in_dir("ok.csv"), -1, 1);
    cr_assert_not_null(d, "%s", nn_last_error());
    nn_dataset_free(d);
}

/* ---- files that lose data ---- */

TestSuite(files, .init = setup, .fini = teardown);

static const char small_net[] = "nngraph-graph 1\nx input f32 [B,2]\ny input i32 [B]\n"
                                "L1/W param f32 [2,3] init=glorot_uniform\nL1/b param f32 [3] init=zeros\n"
                                "L1/matmul matmul f32 [B,3] x L1/W\nL1/add add f32 [B,3] L1/matmul L1/b\n"
                                "loss softmax_cross_entropy f32 [] L1/add y\nend 7\n";

static void write_small_data(void) {
    tu_write_file(in_dir("net.nng"), small_net, strlen(small_net));
    FILE *f = fopen(in_dir("rows.csv"), "w");
    fprintf(f, "a,b,label\n");
    for (int i = 0; i < 24; i++) fprintf(f, "%d,%d,%d\n", i % 3, (i * 7) % 5, i % 3);
    fclose(f);
}

/* `train --db X -o X` and `export X:1 -o X` replaced the whole run log
 * with a weights file and exited 0. */
Test(files, outputs_never_overwrite_a_run_log_or_an_input) {
    write_small_data();
    const char *db = in_dir("runs.db"), *net = in_dir("net.nng"), *csv = in_dir("rows.csv");
    cr_assert_eq(nngraph("train", net, "--csv", csv, "--epochs", "2", "--quiet", "--db", db, "-o", db, NULL), 1);
    cr_assert(strstr(err, "refusing to write") && strstr(err, "the command reads it"), "%s", err);
    cr_assert_eq(nngraph("train", net, "--csv", csv, "--epochs", "2", "--quiet", "--db", db, NULL), 0, "%s", err);
    char head[16] = {0};
    FILE *f = fopen(db, "rb");
    cr_assert(f && fread(head, 1, 16, f) == 16);
    fclose(f);
    cr_assert_eq(memcmp(head, "SQLite format 3", 16), 0);
    /* the same file under another name, and a run log named as output */
    cr_assert_eq(nngraph("export", "--db", db, "--run", "1", "-o", db, NULL), 1);
    cr_assert(strstr(err, "refusing to write"), "%s", err);
    char other[300];
    snprintf(other, sizeof other, "%s/./runs.db", dir);
    cr_assert_eq(nngraph("export", "--db", db, "--run", "1", "-o", other, NULL), 1);
    cr_assert(strstr(err, "the command reads it"), "%s", err);
    cr_assert_eq(nngraph("train", net, "--csv", csv, "--epochs", "1", "--quiet", "-o", db, NULL), 1);
    cr_assert(strstr(err, "refusing to overwrite") && strstr(err, "SQLite database"), "%s", err);
    cr_assert_eq(nngraph("train", net, "--csv", csv, "--epochs", "1", "--quiet", "-o", csv, NULL), 1);
    cr_assert_eq(nngraph("dot", "-o", net, "-T", "dot", net, NULL), 1);
    cr_assert(strstr(err, "refusing to write"), "%s", err);
    /* the log is whole: its run still shows */
    cr_assert_eq(nngraph("show", "--db", db, "--run", "1", NULL), 0, "%s", err);
    /* and ordinary outputs still work */
    cr_assert_eq(nngraph("export", "--db", db, "--run", "1", "-o", in_dir("w.bin"), NULL), 0, "%s", err);
}

/* The atomic writer always set mode 0644: under umask 077 outputs became
 * world-readable, and a 0600 file overwritten became 0644. */
Test(files, atomic_writes_respect_the_umask_and_keep_a_files_mode) {
    nn_graph *g = nn_graph_load_text(small_net, strlen(small_net), "net.nng", 1);
    cr_assert_not_null(g);
    mode_t old = umask(077);
    cr_assert_eq(nn_graph_save(g, in_dir("new.nng")), NN_OK);
    struct stat st;
    cr_assert_eq(stat(in_dir("new.nng"), &st), 0);
    cr_assert_eq(st.st_mode & 0777, 0600, "mode %o under umask 077", st.st_mode & 0777);
    umask(022);
    cr_assert_eq(nn_weights_save(g, in_dir("w.bin")), NN_OK);
    stat(in_dir("w.bin"), &st);
    cr_assert_eq(st.st_mode & 0777, 0644, "mode %o under umask 022", st.st_mode & 0777);
    /* an existing file keeps its mode when replaced */
    chmod(in_dir("w.bin"), 0600);
    cr_assert_eq(nn_weights_save(g, in_dir("w.bin")), NN_OK);
    stat(in_dir("w.bin"), &st);
    cr_assert_eq(st.st_mode & 0777, 0600, "mode %o after replacing a 0600 file", st.st_mode & 0777);
    chmod(in_dir("new.nng"), 0640);
    cr_assert_eq(nn_graph_save(g, in_dir("new.nng")), NN_OK);
    stat(in_dir("new.nng"), &st);
    cr_assert_eq(st.st_mode & 0777, 0640);
    umask(old);
    nn_graph_free(g);
}

/* Runs argv (NULL-terminated) as an unprivileged user when we are root
 * (permissions do not bind root), in `cwd`; returns the exit status and
 * leaves stderr in err. */
static int run_unprivileged(const char *cwd, char *const *argv) {
    char errpath[300];
    snprintf(errpath, sizeof errpath, "/tmp/nng_sec_err_%ld", (long)getpid());
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open(errpath, O_WRONLY | O_CREAT | O_TRUNC, 0666);
        if (fd >= 0) dup2(fd, 2);
        int nul = open("/dev/null", O_WRONLY);
        if (nul >= 0) dup2(nul, 1);
        if (geteuid() == 0 && (setgroups(0, NULL) != 0 || setgid(65534) != 0 || setuid(65534) != 0)) _exit(126);
        if (chdir(cwd) != 0) _exit(125);
        execv(argv[0], argv);
        _exit(127);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    tu_slurp(errpath, err, sizeof err);
    unlink(errpath);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* `runs`, `show`, `export` and `dot DB:RUN` failed in a read-only
 * directory ("database is read-only"): readers open the log read-only,
 * and without a writable directory for SQLite's WAL index, as immutable. */
Test(files, readers_work_in_a_read_only_directory) {
    write_small_data();
    char ro[300];
    snprintf(ro, sizeof ro, "%s/ro", dir);
    mkdir(ro, 0755);
    char db[320];
    snprintf(db, sizeof db, "%s/runs.db", ro);
    cr_assert_eq(nngraph("train", in_dir("net.nng"), "--csv", in_dir("rows.csv"), "--epochs", "2", "--quiet", "--db",
                         db, NULL),
                 0, "%s", err);
    chmod(db, 0644);
    chmod(dir, 0755);
    chmod(ro, 0555);
    char *runs[] = {NNGRAPH_EXE, "runs", "runs.db", NULL};
    char *show[] = {NNGRAPH_EXE, "show", "runs.db:1", NULL};
    char *dot[] = {NNGRAPH_EXE, "dot", "runs.db:1", NULL};
    char wout[320];
    snprintf(wout, sizeof wout, "/tmp/nng_sec_w_%ld.bin", (long)getpid());
    char *exp[] = {NNGRAPH_EXE, "export", "runs.db:1", "-o", wout, NULL};
    cr_assert_eq(run_unprivileged(ro, runs), 0, "runs: %s", err);
    cr_assert_eq(run_unprivileged(ro, show), 0, "show: %s", err);
    cr_assert_eq(run_unprivileged(ro, dot), 0, "dot: %s", err);
    cr_assert_eq(run_unprivileged(ro, exp), 0, "export: %s", err);
    unlink(wout);
    chmod(ro, 0755);
}

/* --resume silently took a different --optimizer, --lr or --batch and
 * overwrote the run's recorded hyperparameters. */
Test(files, resume_refuses_other_hyperparameters) {
    write_small_data();
    const char *db = in_dir("runs.db"), *net = in_dir("net.nng"), *csv = in_dir("rows.csv");
    cr_assert_eq(nngraph("train", net, "--csv", csv, "--epochs", "2", "--quiet", "--db", db, "--lr", "0.01", NULL), 0,
                 "%s", err);
    /* as if killed after its last checkpoint */
    sqlite3 *sq;
    cr_assert_eq(sqlite3_open(db, &sq), SQLITE_OK);
    cr_assert_eq(sqlite3_exec(sq, "UPDATE run SET status = 'interrupted'", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(sq);
    cr_assert_eq(nngraph("train", net, "--csv", csv, "--epochs", "3", "--quiet", "--db", db, "--resume", "1", "--lr",
                         "0.02", NULL),
                 1);
    cr_assert(strstr(err, "resume: run 1 was trained with lr = 0.01, this resume asks for 0.02"), "%s", err);
    cr_assert_eq(nngraph("train", net, "--csv", csv, "--epochs", "3", "--quiet", "--db", db, "--resume", "1", "--lr",
                         "0.01", "--optimizer", "sgd", NULL),
                 1);
    cr_assert(strstr(err, "optimizer = adam, this resume asks for sgd"), "%s", err);
    cr_assert_eq(nngraph("train", net, "--csv", csv, "--epochs", "3", "--quiet", "--db", db, "--resume", "1", "--lr",
                         "0.01", "--batch", "8", NULL),
                 1);
    cr_assert(strstr(err, "batch_size = 32, this resume asks for 8"), "%s", err);
    /* the recorded ones are unchanged, and the same ones resume */
    cr_assert_eq(nngraph("show", "--db", db, "--run", "1", NULL), 0);
    cr_assert(strstr(out, "lr ") && strstr(out, "0.01"), "%s", out);
    cr_assert_eq(nngraph("train", net, "--csv", csv, "--epochs", "3", "--quiet", "--db", db, "--resume", "1", "--lr",
                         "0.01", NULL),
                 0, "%s", err);
}

/* `ulimit -f` killed the process with SIGXFSZ and left *.tmp.XXXXXX. A
 * full file system fails the same way: the old file survives whole. */
Test(files, file_size_limit_is_an_error_and_leaves_no_temporary) {
    write_small_data();
    tu_write_file(in_dir("big.svg"), "old", 3);
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "cd %s && ulimit -f 1 && exec %s dot -T svg -o big.svg net.nng 2>err.txt", dir,
             NNGRAPH_EXE);
    int rc = system(cmd);
    cr_assert(WIFEXITED(rc) && WEXITSTATUS(rc) == 1, "status %d", rc);
    tu_slurp(in_dir("err.txt"), err, sizeof err);
    cr_assert(strstr(err, "big.svg: write failed: File too large"), "%s", err);
    snprintf(cmd, sizeof cmd, "ls %s | grep -c tmp > %s/n.txt", dir, dir);
    (void)system(cmd);
    tu_slurp(in_dir("n.txt"), out, sizeof out);
    cr_assert_eq(atoi(out), 0, "a temporary file was left behind");
    tu_slurp(in_dir("big.svg"), out, sizeof out);
    cr_assert_str_eq(out, "old");
}

/* A checkpoint tensor name of 65,536 bytes wrapped the checkpoint file's
 * 16-bit length (a corrupt file); 512+ bytes were written to weights files
 * and refused on reading. A name read from a log that no reader would
 * take is refused when writing. */
Test(files, exports_refuse_names_no_reader_takes) {
    write_small_data();
    const char *db = in_dir("runs.db");
    cr_assert_eq(nngraph("train", in_dir("net.nng"), "--csv", in_dir("rows.csv"), "--epochs", "1", "--quiet", "--db",
                         db, NULL),
                 0, "%s", err);
    sqlite3 *sq;
    cr_assert_eq(sqlite3_open(db, &sq), SQLITE_OK);
    cr_assert_eq(sqlite3_exec(sq, "UPDATE tensor SET name = printf('%.*c', 65537, 'w') WHERE name = 'L1/b'", NULL, NULL,
                              NULL),
                 SQLITE_OK, "%s", sqlite3_errmsg(sq));
    sqlite3_close(sq);
    cr_assert_eq(nngraph("export", "--db", db, "--run", "1", "--full", "-o", in_dir("c.nngc"), NULL), 1);
    cr_assert(strstr(err, "is 65537 bytes; names are at most 1023"), "%s", err);
    cr_assert_eq(nngraph("export", "--db", db, "--run", "1", "-o", in_dir("w.nngw"), NULL), 1);
    cr_assert(strstr(err, "is 65537 bytes; names are at most 1023"), "%s", err);
    cr_assert_neq(access(in_dir("c.nngc"), F_OK), 0);
}
