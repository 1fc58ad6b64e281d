/* Graph files: save/load round trips over every op (byte-identical second
 * save, same weights from the same seed), and each kind of malformed file
 * rejected with its line, column and reason, nothing half-built returned
 * and nothing written. */
#include "nngraph.h"
#include "internal.h"
#include "strbuf.h"
#include "testutil.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A graph that uses every forward op, then nn_grad for the gradient-only
 * ops (relu_grad, ..., expand, sum_like). Names are chosen to exercise
 * quoting ("a=b") and UTF-8 (é). */
static nn_graph *every_op_graph(uint64_t seed) {
    nn_graph *g = nn_graph_new(seed);
    nn_node *x = nn_input(g, "x", NN_F32, NN_SHAPE(NN_BATCH, 4));
    nn_node *y = nn_input(g, "y", NN_I32, NN_SHAPE(NN_BATCH));
    nn_node *t = nn_input(g, "t", NN_F32, NN_SHAPE(NN_BATCH, 3));
    nn_scope_push(g, "L1");
    nn_node *W = nn_param(g, "W", NN_SHAPE(4, 3), nn_init_glorot_uniform());
    nn_node *b = nn_param(g, "b", NN_SHAPE(3), nn_init_zeros());
    nn_node *h = nn_relu(g, nn_add(g, nn_matmul(g, x, W), b));
    nn_scope_pop(g);
    nn_scope_push(g, "L2");
    nn_node *W2 = nn_param(g, "W", NN_SHAPE(3, 3), nn_init_uniform(-0.1f, 0.1f));
    nn_node *V = nn_param(g, "V", NN_SHAPE(3, 3), nn_init_normal(0.f, 0.05f));
    nn_node *c = nn_param(g, "c", NN_SHAPE(3), nn_init_constant(0.25f));
    nn_node *o = nn_param(g, "o", NN_SHAPE(3), nn_init_ones());
    nn_node *he = nn_param(g, "he", NN_SHAPE(3, 3), nn_init_he_normal());
    nn_node *z = nn_matmul_t(g, h, W2, 0, 1);
    z = nn_sub(g, nn_mul(g, z, o), c);
    z = nn_add(g, z, nn_matmul_t(g, nn_matmul_t(g, h, he, 0, 1), nn_matmul_t(g, V, he, 1, 0), 0, 1));
    nn_scope_pop(g);
    float cv[] = {0.5f, -1.25f, 3e-8f};
    nn_tensor *ct = nn_tensor_from(NN_F32, NN_SHAPE(3), cv);
    nn_node *k = nn_const(g, "a=b", ct);
    nn_tensor_free(ct);
    nn_node *s = nn_sigmoid(g, nn_add(g, z, k));
    nn_node *th = nn_tanh(g, nn_scale(g, s, 0.1f));
    nn_node *id = nn_identity(g, th);
    nn_node *sm = nn_softmax(g, id);
    nn_node *ls = nn_log_softmax(g, nn_mul(g, sm, nn_scalar(g, 2.f)));
    nn_node *st = nn_step(g, ls);
    nn_node *rows = nn_sum(g, nn_mul(g, ls, st), 1);
    nn_node *l1 = nn_mean(g, rows, NN_ALL_AXES);
    nn_node *l2 = nn_softmax_cross_entropy(g, z, y);
    nn_node *l3 = nn_bce_with_logits(g, z, t);
    nn_node *l4 = nn_mse(g, th, t);
    nn_node *l5 = nn_mean(g, nn_sum(g, nn_scale(g, z, -0.5f), -1), 0);
    /* the image and normalisation ops: a branch from an image input */
    nn_node *im = nn_input(g, "im", NN_F32, NN_SHAPE(NN_BATCH, 2, 6, 6));
    nn_scope_push(g, "C1");
    nn_node *K = nn_param(g, "K", NN_SHAPE(3, 2, 3, 3), nn_init_he_uniform());
    nn_node *kb = nn_param(g, "kb", NN_SHAPE(3), nn_init_zeros());
    nn_node *K2 = nn_param(g, "K2", NN_SHAPE(3, 3, 3, 3), nn_init_glorot_normal());
    nn_node *lg = nn_param(g, "lg", NN_SHAPE(3), nn_init_ones());
    nn_node *lb = nn_param(g, "lb", NN_SHAPE(3), nn_init_lecun_normal());
    nn_conv2d_opts same = {.padding = NN_PADDING_SAME};
    nn_node *conv = nn_leaky_relu(g, nn_conv2d_op(g, im, K, kb, &same), 0.2f);
    nn_scope_pop(g);
    nn_node *bn = nn_batch_norm(g, "BN", conv);
    nn_node *mp = nn_max_pool2d_op(g, nn_conv2d_op(g, bn, K2, kb, &same), NULL); /* [B,3,3,3] */
    nn_pool2d_opts avg = {.pool_h = 3, .pool_w = 3, .stride_h = 1, .stride_w = 1, .padding = NN_PADDING_SAME};
    nn_node *av = nn_elu(g, nn_avg_pool2d_op(g, mp, &avg), 1.f);
    int perm[4] = {0, 2, 3, 1};
    nn_node *fl = nn_flatten_op(g, nn_dropout_op(g, nn_transpose(g, av, perm), 0.25f)); /* [B,27] */
    nn_node *sl = nn_slice(g, nn_concat(g, nn_global_avg_pool(g, av), z, 1), 1, 1, 3); /* [B,3] */
    nn_node *ln = nn_softplus(g, nn_gelu(g, nn_layer_norm(g, sl, lg, lb, 1e-3f)));
    nn_node *l6 = nn_add(g, nn_huber(g, ln, t, 1.f), nn_mean(g, fl, NN_ALL_AXES));
    nn_scope_push(g, "é");
    nn_node *loss = nn_add(g, nn_add(g, nn_add(g, nn_add(g, l1, l2), nn_add(g, l3, l4)), l5), l6);
    nn_scope_pop(g);
    nn_node *params[14] = {W, b, W2, V, c, o, he, K, kb, K2, lg, lb, nn_graph_find(g, "BN/gamma"),
                           nn_graph_find(g, "BN/beta")},
            *grads[14];
    nn_grad(g, loss, params, 14, grads);
    return g;
}

static char *text_of(const nn_graph *g) {
    char *s = nn_graph_to_text(g);
    cr_assert(s, "save failed: %s", nn_last_error());
    return s;
}

Test(roundtrip, every_op_same_bytes_same_weights) {
    nn_graph *g = every_op_graph(42);
    cr_assert_eq(nn_graph_status(g), NN_OK, "%s", nn_error_message(g));
    char *t1 = text_of(g);
    /* every op of the registry appears on some line */
    for (int i = 0; i < nn_op_count(); i++) {
        char needle[64];
        snprintf(needle, sizeof needle, " %s f32 ", nn_op_at(i)->name);
        cr_expect(strstr(t1, needle), "op %s missing from the round-trip graph", nn_op_at(i)->name);
    }
    cr_assert(strncmp(t1, "nngraph-graph 1\n", 16) == 0);
    cr_assert(strstr(t1, "\"a=b\" const f32 [3] value=0.5,-1.25,3e-08\n"), "%s", t1);
    cr_assert(strstr(t1, "L2/matmul matmul f32 [B,3] L1/relu L2/W trans_b=1\n"), "%s", t1);
    cr_assert(strstr(t1, "L2/W param f32 [3,3] init=uniform(-0.1,0.1)\n"));
    cr_assert(strstr(t1, "L2/c param f32 [3] init=constant(0.25)\n"));
    cr_assert(strstr(t1, " grad=1"));
    cr_assert(strstr(t1, " grad_of=L1/W\n"));
    cr_assert(strstr(t1, "é/add"));

    nn_graph *g2 = nn_graph_load_text(t1, strlen(t1), "rt.nng", 42);
    cr_assert(g2, "%s", nn_last_error());
    char *t2 = text_of(g2);
    cr_assert_str_eq(t1, t2);
    cr_assert_eq(nn_graph_num_nodes(g2), nn_graph_num_nodes(g));
    /* same seed, same initialisers, same creation order: same weights */
    nn_node *p1[32], *p2[32];
    int n1 = nn_graph_params(g, p1, 32), n2 = nn_graph_params(g2, p2, 32);
    cr_assert_eq(n1, 16); /* batch norm's running statistics too, frozen */
    cr_assert(strstr(t1, "BN/moving_mean param f32 [3] init=zeros trainable=0\n"), "%s", t1);
    cr_assert_eq(n1, n2);
    for (int i = 0; i < n1; i++) {
        const nn_tensor *a = nn_param_value(p1[i]), *b = nn_param_value(p2[i]);
        cr_assert_str_eq(nn_node_name(p1[i]), nn_node_name(p2[i]));
        cr_assert(memcmp(nn_tensor_data(a), nn_tensor_data(b), (size_t)nn_tensor_size(a) * 4) == 0);
    }
    /* gradient flags and links survive */
    for (int i = 0; i < nn_graph_num_nodes(g); i++) {
        nn_node *a = nn_graph_node(g, i), *b = nn_graph_node(g2, i);
        cr_assert_eq(nn_node_is_grad(a), nn_node_is_grad(b), "%s", nn_node_name(a));
        cr_assert_eq(a->grad_of ? a->grad_of->id : -1, b->grad_of ? b->grad_of->id : -1);
        cr_assert(memcmp(a->fattr, b->fattr, sizeof a->fattr) == 0 && memcmp(a->iattr, b->iattr, sizeof a->iattr) == 0);
    }
    free(t1);
    free(t2);
    nn_graph_free(g);
    nn_graph_free(g2);
}

/* The loaded graph computes what the original computes. */
Test(roundtrip, loaded_graph_runs_the_same) {
    nn_graph *g = every_op_graph(7);
    char *t = text_of(g);
    nn_graph *g2 = nn_graph_load_text(t, strlen(t), "rt.nng", 7);
    cr_assert(g2, "%s", nn_last_error());
    float xv[8] = {0.5f, -1, 2, 0.25f, 1, 1, -0.5f, 3}, tv[6] = {0, 1, 0.5f, 1, 0, 0.25f}, imv[144];
    for (int i = 0; i < 144; i++) imv[i] = (float)((i * 37) % 19) / 19.f - 0.4f;
    int32_t yv[2] = {2, 0};
    nn_tensor *xt = nn_tensor_from(NN_F32, NN_SHAPE(2, 4), xv), *tt = nn_tensor_from(NN_F32, NN_SHAPE(2, 3), tv);
    nn_tensor *imt = nn_tensor_from(NN_F32, NN_SHAPE(2, 2, 6, 6), imv);
    nn_tensor *yt = nn_tensor_from(NN_I32, NN_SHAPE(2), yv);
    float out[2];
    nn_graph *gs[2] = {g, g2};
    for (int k = 0; k < 2; k++) {
        nn_set_input(gs[k], nn_graph_find(gs[k], "x"), xt);
        nn_set_input(gs[k], nn_graph_find(gs[k], "y"), yt);
        nn_set_input(gs[k], nn_graph_find(gs[k], "t"), tt);
        nn_set_input(gs[k], nn_graph_find(gs[k], "im"), imt);
        /* training mode: dropout draws its masks from the graph's seed */
        nn_graph_set_training(gs[k], 1);
        nn_graph_set_threads(gs[k], 1);
        nn_node *last = nn_graph_node(gs[k], nn_graph_num_nodes(gs[k]) - 1);
        cr_assert_eq(nn_run(gs[k], &last, 1), NN_OK, "%s", nn_error_message(gs[k]));
        out[k] = nn_tensor_f32(nn_value(last))[0];
    }
    cr_assert_eq(out[0], out[1]);
    nn_tensor_free(xt);
    nn_tensor_free(yt);
    nn_tensor_free(tt);
    nn_tensor_free(imt);
    free(t);
    nn_graph_free(g);
    nn_graph_free(g2);
}

static char tmpdir[64];

static void make_tmpdir(void) { tu_mkdtemp(tmpdir, sizeof tmpdir, "/tmp/nng_test_XXXXXX"); }

static int dir_entries(const char *path) {
    DIR *d = opendir(path);
    int n = 0;
    for (struct dirent *e; (e = readdir(d));) n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

static char *slurp(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    static char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    return strdup(buf);
}

Test(files, save_load_file_and_failed_save_writes_nothing) {
    make_tmpdir();
    char path[128];
    snprintf(path, sizeof path, "%s/net.nng", tmpdir);
    nn_graph *g = every_op_graph(3);
    cr_assert_eq(nn_graph_save(g, path), NN_OK, "%s", nn_last_error());
    nn_graph *g2 = nn_graph_load(path, 3);
    cr_assert(g2, "%s", nn_last_error());
    char *a = text_of(g), *b = slurp(path);
    cr_assert_str_eq(a, b);
    /* a graph in error is refused, the old file stays, no temp file left */
    nn_graph *bad = nn_graph_new(1);
    nn_node *x = nn_input(bad, "x", NN_F32, NN_SHAPE(2, 3));
    nn_matmul(bad, x, x);
    cr_assert_neq(nn_graph_save(bad, path), NN_OK);
    cr_assert(strstr(nn_last_error(), "matmul"), "%s", nn_last_error());
    char *c = slurp(path);
    cr_assert_str_eq(a, c);
    cr_assert_eq(dir_entries(tmpdir), 1);
    /* a missing directory: an I/O error naming the path */
    char nodir[160];
    snprintf(nodir, sizeof nodir, "%s/no/such.nng", tmpdir);
    cr_assert_eq(nn_graph_save(g, nodir), NN_ERR_IO);
    cr_assert(strstr(nn_last_error(), "no/such.nng"));
    cr_assert_null(nn_graph_load(nodir, 1));
    cr_assert(strstr(nn_last_error(), "cannot open"), "%s", nn_last_error());
    unlink(path);
    rmdir(tmpdir);
    free(a);
    free(b);
    free(c);
    nn_graph_free(g);
    nn_graph_free(g2);
    nn_graph_free(bad);
}

/* ---- malformed files ---- */

#define HEADER "nngraph-graph 1\n"
#define XW                                                                                                             \
    "x input f32 [B,4]\n"                                                                                              \
    "W param f32 [4,3] init=glorot_uniform\n"

/* Loads `text`, expects failure with "bad.nng:LINE:" and `what` in the
 * message, and checks the partial loader agrees on the line. */
static void expect_bad(const char *text, int line, const char *what) {
    nn_graph *g = nn_graph_load_text(text, strlen(text), "bad.nng", 1);
    cr_assert_null(g, "accepted:\n%s", text);
    char want[64];
    snprintf(want, sizeof want, "bad.nng:%d:", line);
    const char *msg = nn_last_error();
    cr_assert(strncmp(msg, want, strlen(want)) == 0, "want line %d, got: %s", line, msg);
    cr_assert(strstr(msg, what), "want '%s' in: %s", what, msg);
    nn_load_fault f;
    nn_graph *pg = nn_graph_load_text_partial(text, strlen(text), "bad.nng", 1, &f);
    if (pg) {
        cr_assert_neq(nn_graph_status(pg), NN_OK);
        cr_assert(strstr(nn_error_message(pg), what));
        nn_graph_free(pg);
    }
    cr_assert_eq(f.line, line);
}

Test(malformed, unknown_op) {
    expect_bad(HEADER XW "y convolve f32 [B,3] x W\nend 3\n", 4, "bad.nng:4:3: unknown op 'convolve'");
}

Test(malformed, wrong_arity) {
    expect_bad(HEADER XW "y matmul f32 [B,3] x\nend 3\n", 4, "wrong arity: op matmul takes 2 inputs, the line gives 1");
    expect_bad(HEADER XW "y relu f32 [B,4] x W\nend 3\n", 4, "4:20: wrong arity: op relu takes 1 input, the line gives 2");
    expect_bad(HEADER XW "y input f32 [B,4] x\nend 3\n", 4, "an input node takes no inputs");
    expect_bad(HEADER XW "y add f32 [B,4] x x x x x\nend 3\n", 4, "wrong arity");
}

Test(malformed, dangling_input) {
    expect_bad(HEADER XW "y matmul f32 [B,3] x W2\nend 3\n", 4, "4:22: dangling input 'W2': no node of that name");
}

Test(malformed, cycle_and_forward_reference) {
    expect_bad(HEADER "x input f32 [B,3]\n"
                      "a add f32 [B,3] x b\n"
                      "b add f32 [B,3] a x\n"
                      "end 3\n",
               3, "input 'b' is defined on line 4");
    expect_bad(HEADER "x input f32 [B,3]\na relu f32 [B,3] a\nend 2\n", 3, "input 'a' is defined on line 3");
}

Test(malformed, bad_shape) {
    expect_bad(HEADER "x input f32 [B,4\nend 1\n", 2, "bad shape '[B,4'");
    expect_bad(HEADER "x input f32 [4,B]\nend 1\n", 2, "only the first dimension may be the batch");
    expect_bad(HEADER "x input f32 [4,,3]\nend 1\n", 2, "empty dimension");
    expect_bad(HEADER "x input f32 [0,3]\nend 1\n", 2, "2:14: bad shape [0,3]: dimension 0 is out of range");
    expect_bad(HEADER "x input f32 [2,x]\nend 1\n", 2, "dimension 'x' is not a positive integer");
    expect_bad(HEADER "x input f32 [1,2,3,4,5]\nend 1\n", 2, "rank above 4");
    /* the shape the file states must be the one the op computes */
    expect_bad(HEADER XW "y matmul f32 [B,4] x W\nend 3\n", 4, "the file says f32 [B,4] but matmul gives f32 [B,3]");
    /* shapes that do not fit the op: the builder's message */
    expect_bad(HEADER XW "y matmul f32 [B,3] W x\nend 3\n", 4, "matmul");
    expect_bad(HEADER "x input i64 [3]\nend 1\n", 2, "unknown dtype 'i64'");
}

Test(malformed, truncated) {
    expect_bad(HEADER XW "y matmul\n", 4, "4:9: truncated line");
    expect_bad(HEADER XW, 3, "truncated file: no 'end 2' line");
    expect_bad(HEADER XW "end 3\n", 4, "4:5: 'end 3' but the file has 2 nodes");
    expect_bad(HEADER XW "end 2\ny relu f32 [B,4] x\n", 5, "text after the 'end' line");
    expect_bad("", 1, "empty file");
    expect_bad("nngraph-graph 2\nend 0\n", 1, "version 2 is not supported");
    expect_bad("digraph {\n", 1, "not a graph file");
    expect_bad(HEADER "\"x input f32 [3]\nend 1\n", 2, "unterminated or malformed quoted name");
}

Test(malformed, huge_numbers) {
    expect_bad(HEADER "x input f32 [B,99999999999999999999999]\nend 1\n", 2, "is out of range");
    expect_bad(HEADER "x input f32 [B,3000000000]\nend 1\n", 2, "dimension 3000000000 is out of range");
    expect_bad(HEADER "W param f32 [65536,65536] init=zeros\nend 1\n", 2, "param too large");
    expect_bad(HEADER "c const f32 [3] fill=1e999\nend 1\n", 2, "fill: value 0 '1e999' is out of range");
    expect_bad(HEADER "c const i32 [2] value=1,4294967296\nend 1\n", 2, "value 1 '4294967296' is out of range");
    expect_bad(HEADER "x input f32 [B,3]\ns sum f32 [B] x axis=99999999999\nend 2\n", 3, "3:22: attribute axis: '99999999999' is out of range");
    expect_bad(HEADER "x input f32 [B,3]\ns scale f32 [B,3] x alpha=1e40\nend 2\n", 3, "out of range");
    expect_bad(HEADER "end 99999999999\n", 2, "the last line must be 'end N'");
    expect_bad(HEADER "W param f32 [3] init=uniform(0,1e39)\nend 1\n", 2, "bad or extra argument '1e39'");
}

Test(malformed, other_errors_name_their_column) {
    expect_bad(HEADER "x input f32 [3]\nx input f32 [3]\nend 2\n", 3, "duplicate node name 'x' (first defined on line 2)");
    expect_bad(HEADER "W param f32 [3] init=xavier\nend 1\n", 2, "2:17: unknown initialiser 'xavier'");
    expect_bad(HEADER "W param f32 [3]\nend 1\n", 2, "has no init=");
    expect_bad(HEADER "c const f32 [3] value=1,2\nend 1\n", 2, "value: 2 values for a shape of 3 elements");
    expect_bad(HEADER "c const f32 [2] value=1,zz\nend 1\n", 2, "'zz' is not a number");
    expect_bad(HEADER "x input f32 [B,3]\ns sum f32 [B] x axis=1 keep=1\nend 2\n", 3, "unknown attribute 'keep' for op sum");
    expect_bad(HEADER "x input f32 [3] init=zeros\nend 1\n", 2, "unknown attribute 'init' for an input node");
    expect_bad(HEADER "x input f32 [3] grad_of=x\nend 1\n", 2, "grad_of: 'x' is not a param");
    expect_bad(HEADER "x input f32 [3]\x01\nend 1\n", 2, "not UTF-8 text");
    expect_bad(HEADER "x input f32 [3]\n\xff\nend 1\n", 3, "not UTF-8 text");
}

/* A partial load keeps the nodes before the bad line and names the
 * failing node, its op and inputs, so a picture can mark it. */
Test(malformed, partial_load_describes_the_fault) {
    const char *text = HEADER XW "h matmul f32 [B,3] x W\n"
                                 "bad add f32 [B,3] h x\n"
                                 "end 4\n";
    nn_load_fault f;
    nn_graph *g = nn_graph_load_text_partial(text, strlen(text), "p.nng", 1, &f);
    cr_assert(g);
    cr_assert_eq(nn_graph_num_nodes(g), 3);
    cr_assert_eq(nn_graph_status(g), NN_ERR_SHAPE, "%s", nn_error_message(g));
    cr_assert(strstr(nn_error_message(g), "p.nng:5:"), "%s", nn_error_message(g));
    cr_assert_eq(f.line, 5);
    cr_assert_str_eq(f.node, "bad");
    cr_assert_str_eq(f.op, "add");
    cr_assert_eq(f.n_inputs, 2);
    cr_assert_str_eq(f.inputs[0], "h");
    cr_assert_str_eq(f.inputs[1], "x");
    /* the graph in error is not saved */
    cr_assert_null(nn_graph_to_text(g));
    nn_graph_free(g);
    cr_assert_null(nn_graph_load_text_partial("nope\n", 5, "p.nng", 1, &f));
}

/* Comments, blank lines, tabs and CRLF line ends are accepted; the writer
 * normalises them away. */
Test(format, lenient_whitespace_and_comments) {
    const char *text = "nngraph-graph 1\r\n# a comment\r\n\r\n  x\tinput  f32\t[B,2]\r\n"
                       "W param f32 [2,2] init=ones\nh matmul f32 [B,2] x W\nend 3";
    nn_graph *g = nn_graph_load_text(text, strlen(text), "ws.nng", 1);
    cr_assert(g, "%s", nn_last_error());
    char *t = text_of(g);
    cr_assert_str_eq(t, "nngraph-graph 1\n# 3 nodes, 4 parameters\nx input f32 [B,2]\n"
                        "W param f32 [2,2] init=ones\nh matmul f32 [B,2] x W\nend 3\n");
    free(t);
    nn_graph_free(g);
}

Test(layers, dense_titles) {
    nn_graph *g = nn_graph_new(1);
    nn_node *x = nn_input(g, "x", NN_F32, NN_SHAPE(NN_BATCH, 400));
    nn_scope_push(g, "L1");
    nn_node *W = nn_param(g, "W", NN_SHAPE(400, 25), nn_init_glorot_uniform());
    nn_node *b = nn_param(g, "b", NN_SHAPE(25), nn_init_zeros());
    nn_node *h = nn_relu(g, nn_add(g, nn_matmul(g, x, W), b));
    nn_scope_pop(g);
    nn_scope_push(g, "L2");
    nn_node *W2 = nn_param(g, "W", NN_SHAPE(25, 10), nn_init_glorot_uniform());
    nn_node *z = nn_matmul(g, h, W2);
    nn_scope_pop(g);
    nn_softmax(g, z);
    nn_layer_info l[4];
    cr_assert_eq(nn_graph_layers(g, l, 4), 2);
    char title[256];
    nn_layer_title(&l[0], title, sizeof title);
    cr_assert_str_eq(title, "L1 · dense 400→25 · relu · 10,025 params");
    nn_layer_title(&l[1], title, sizeof title);
    cr_assert_str_eq(title, "L2 · dense 25→10 · linear · 250 params");
    cr_assert_eq(l[0].out_shape.dim[1], 25);
    char buf[32];
    cr_assert_str_eq(nn_format_count(1234567, buf, sizeof buf), "1,234,567");
    cr_assert_str_eq(nn_format_count(-999, buf, sizeof buf), "-999");
    nn_graph_free(g);
}

/* Numbers in graph files and run-log parameters read as people write
 * them, and read back to the same value. */
Test(graphio, numbers_are_written_as_written) {
    const double values[] = {40, 0.001, 1e-8, 1e20, 0.1, 1500, -7, 2.5e-8, 1e16, 0.3};
    const char *as_double[] = {"40", "0.001", "1e-08", "1e+20", "0.1", "1500", "-7", "2.5e-08",
                               "10000000000000000", "0.3"};
    const char *as_float[] = {"40", "0.001", "1e-08", "1e+20", "0.1", "1500", "-7", "2.5e-08", "1e+16", "0.3"};
    char buf[48];
    for (int i = 0; i < 10; i++) {
        nn_format_number(values[i], 0, buf, sizeof buf);
        cr_assert_str_eq(buf, as_double[i]);
        cr_assert_eq(strtod(buf, NULL), values[i]);
        nn_format_number(values[i], 1, buf, sizeof buf);
        cr_assert_str_eq(buf, as_float[i]);
        cr_assert_eq(strtof(buf, NULL), (float)values[i]);
    }
    /* a graph file says alpha=40, not 4e+01 */
    nn_graph *g = nn_graph_new(1);
    nn_scale(g, nn_input(g, "x", NN_F32, NN_SHAPE(2)), 40.f);
    char *text = nn_graph_to_text(g);
    cr_assert(strstr(text, " alpha=40\n"), "%s", text);
    free(text);
    nn_graph_free(g);
}

/* ---- weights files ---- */

static nn_graph *small_net(uint64_t seed, int hidden) {
    nn_graph *g = nn_graph_new(seed);
    nn_node *x = nn_input(g, "x", NN_F32, NN_SHAPE(NN_BATCH, 4));
    nn_scope_push(g, "L1");
    nn_node *W = nn_param(g, "W", NN_SHAPE(4, hidden), nn_init_glorot_uniform());
    nn_node *b = nn_param(g, "b", NN_SHAPE(hidden), nn_init_uniform(-1.f, 1.f));
    nn_add(g, nn_matmul(g, x, W), b);
    nn_scope_pop(g);
    return g;
}

static void param_values(nn_graph *g, const char *name, float *out, int n) {
    memcpy(out, nn_tensor_f32(nn_param_value(nn_graph_find(g, name))), (size_t)n * sizeof *out);
}

static char *read_bytes(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    cr_assert(f);
    char *buf = malloc(4096);
    *len = fread(buf, 1, 4096, f);
    fclose(f);
    return buf;
}

Test(weights, round_trip_and_layout) {
    make_tmpdir();
    char path[128];
    snprintf(path, sizeof path, "%s/w.bin", tmpdir);
    nn_graph *a = small_net(1, 3), *b = small_net(2, 3);
    float wa[12], wb[12], ba[3], bb[3];
    param_values(a, "L1/W", wa, 12);
    param_values(b, "L1/W", wb, 12);
    cr_assert(memcmp(wa, wb, sizeof wa) != 0); /* different seeds */
    cr_assert_eq(nn_weights_save(a, path), NN_OK, "%s", nn_last_error());
    cr_assert_eq(nn_weights_load(b, path), NN_OK, "%s", nn_last_error());
    param_values(b, "L1/W", wb, 12);
    param_values(a, "L1/b", ba, 3);
    param_values(b, "L1/b", bb, 3);
    cr_assert(memcmp(wa, wb, sizeof wa) == 0 && memcmp(ba, bb, sizeof ba) == 0);
    /* the documented layout, byte by byte */
    size_t len;
    unsigned char *d = (unsigned char *)read_bytes(path, &len);
    size_t want = 12 + (4 + 4 + 4 + 4 + 16 + 8 + 48 + 4) + (4 + 4 + 4 + 4 + 8 + 8 + 12 + 4);
    cr_assert_eq(len, want);
    cr_assert(memcmp(d, "NNGW\1\0\0\0\2\0\0\0", 12) == 0);
    cr_assert(memcmp(d + 12, "\4\0\0\0L1/W\0\0\0\0\2\0\0\0\4\0\0\0\0\0\0\0\3\0\0\0\0\0\0\0\60\0\0\0\0\0\0\0", 40) == 0);
    cr_assert(memcmp(d + 52, wa, 48) == 0);
    free(d);
    unlink(path);
    rmdir(tmpdir);
    nn_graph_free(a);
    nn_graph_free(b);
}

/* Each damaged or mismatched file is refused whole: no value changes. */
static void expect_refused(nn_graph *g, const void *data, size_t len, nn_status st, const char *what) {
    float before[12], after[12];
    param_values(g, "L1/W", before, 12);
    cr_assert_eq(nn_weights_load_data(g, data, len, "w.bin"), st, "%s", nn_last_error());
    cr_assert(strstr(nn_last_error(), what), "want '%s' in: %s", what, nn_last_error());
    cr_assert(strncmp(nn_last_error(), "w.bin", 5) == 0);
    param_values(g, "L1/W", after, 12);
    cr_assert(memcmp(before, after, sizeof before) == 0);
}

Test(weights, damaged_or_mismatched_files) {
    make_tmpdir();
    char path[128];
    snprintf(path, sizeof path, "%s/w.bin", tmpdir);
    nn_graph *a = small_net(1, 3), *b = small_net(2, 3), *other = small_net(3, 5);
    cr_assert_eq(nn_weights_save(a, path), NN_OK);
    size_t len;
    char *d = read_bytes(path, &len);
    expect_refused(b, d, len - 1, NN_ERR_FORMAT, "truncated weights file (while reading L1/b)");
    expect_refused(b, d, 10, NN_ERR_FORMAT, "truncated weights file (while reading the header)");
    char *x = malloc(len + 1);
    memcpy(x, d, len);
    x[60] ^= 0x10; /* a bit of L1/W's data */
    expect_refused(b, x, len, NN_ERR_FORMAT, "tensor 'L1/W': checksum mismatch");
    memcpy(x, d, len);
    x[0] = 'X';
    expect_refused(b, x, len, NN_ERR_FORMAT, "not an nngraph weights file");
    memcpy(x, d, len);
    x[4] = 9;
    expect_refused(b, x, len, NN_ERR_FORMAT, "version 9 is not supported");
    memcpy(x, d, len);
    x[len] = 0;
    expect_refused(b, x, len + 1, NN_ERR_FORMAT, "1 unexpected bytes after the last tensor");
    memcpy(x, d, len);
    x[8] = 1; /* claims one tensor: L1/b is then missing */
    expect_refused(b, x, 12 + 92, NN_ERR_FORMAT, "parameter 'L1/b' of the graph is missing");
    memcpy(x, d, len);
    x[19] = 'X'; /* "L1/X" */
    expect_refused(b, x, len, NN_ERR_FORMAT, "tensor 'L1/X' is not a parameter of the graph");
    /* another architecture: names match, shapes do not */
    float before[20];
    param_values(other, "L1/W", before, 20);
    cr_assert_eq(nn_weights_load(other, path), NN_ERR_SHAPE);
    cr_assert(strstr(nn_last_error(), "parameter 'L1/W' is [4,3] in the file but [4,5] in the graph"), "%s",
              nn_last_error());
    float after[20];
    param_values(other, "L1/W", after, 20);
    cr_assert(memcmp(before, after, sizeof before) == 0);
    cr_assert_eq(nn_weights_load(b, "/nonexistent/w.bin"), NN_ERR_IO);
    free(x);
    free(d);
    unlink(path);
    rmdir(tmpdir);
    nn_graph_free(a);
    nn_graph_free(b);
    nn_graph_free(other);
}
