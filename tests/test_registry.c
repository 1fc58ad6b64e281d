/* The op registry: every op, built-in or registered, round-trips through
 * the graph file, DOT, the layer table, the Keras-style summary and the
 * gradient audit behind `nngraph check` (in process, and the built-in ops
 * also through the nngraph command), with no list outside its descriptor
 * to update. A test-only op (tests/ops/softsign.c, an activation) is one
 * file and one nn_op_register call, and shows up everywhere by itself; the
 * built-in huber (ops/huber.c) stands for a loss with an attribute. */
#include "nngraph.h"
#include "internal.h"
#include "testutil.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#ifndef NNGRAPH_EXE
#error "meson passes the path of the built nngraph as NNGRAPH_EXE"
#endif

extern const nn_op_def *const nn_ops_softsign[];
nn_node *nn_softsign(nn_graph *g, nn_node *x);

static int builtin_count;

static void register_test_ops(void) {
    builtin_count = nn_op_count();
    for (const nn_op_def *const *op = nn_ops_softsign; *op; op++) cr_assert_eq(nn_op_register(*op), NN_OK);
}

TestSuite(registry, .init = register_test_ops);

/* ---- one graph around any op ---- */

/* The inputs an op may take; the first combination its shape rule accepts
 * is the test case. A new op whose inputs none of these fit fails
 * `every_op_round_trips` by name: add the spec it needs here. */
typedef enum spec { MATRIX, ROW, SCALAR, LABELS, MATRIX_T, BATCH, IMAGE, KERNEL, CONV_OUT, PAIR, CHANNELS, N_SPECS } spec;

static nn_node *make_input(nn_graph *g, spec s, int k) {
    char name[16];
    snprintf(name, sizeof name, "in%d", k);
    switch (s) {
    case MATRIX: return nn_param(g, name, NN_SHAPE(3, 4), nn_init_glorot_uniform());
    case ROW: return nn_param(g, name, NN_SHAPE(4), nn_init_glorot_uniform());
    case SCALAR: return nn_scalar(g, 0.75f);
    case LABELS: {
        int32_t lab[3] = {0, 3, 1};
        nn_tensor *t = nn_tensor_new(NN_I32, NN_SHAPE(3));
        memcpy(nn_tensor_data(t), lab, sizeof lab);
        nn_node *n = nn_const(g, name, t);
        nn_tensor_free(t);
        return n;
    }
    case MATRIX_T: return nn_param(g, name, NN_SHAPE(4, 3), nn_init_glorot_uniform());
    case BATCH: return nn_input(g, name, NN_F32, NN_SHAPE(NN_BATCH, 4));
    /* the image ops, with image_attrs below: NCHW images, a 3x3 kernel
     * (which is also a 2x2 pool's output), the convolution's output, and
     * a global pool's [N, C], and one value a channel (a bias) */
    case IMAGE: return nn_param(g, name, NN_SHAPE(2, 2, 6, 6), nn_init_glorot_uniform());
    case KERNEL: return nn_param(g, name, NN_SHAPE(2, 2, 3, 3), nn_init_glorot_uniform());
    case CONV_OUT: return nn_param(g, name, NN_SHAPE(2, 2, 1, 1), nn_init_glorot_uniform());
    case PAIR: return nn_param(g, name, NN_SHAPE(2, 2), nn_init_glorot_uniform());
    case CHANNELS: return nn_param(g, name, NN_SHAPE(2), nn_init_glorot_uniform());
    default: return NULL;
    }
}

/* Integer attributes for the ops whose zeros are not valid (a stride, a
 * rank, a permutation); every other op gets zeros. */
static void int_attrs(const nn_op_def *op, int64_t *iattr) {
    static const struct {
        const char *prefix;
        int64_t v[NN_MAX_ATTRS];
    } table[] = {
        /* stride 2, no padding, dilation (a pool's window) 2, one group */
        {"conv2d", {2, 2, 0, 0, 2, 2, 1, 0}},
        {"max_pool2d", {2, 2, 0, 0, 2, 2, 1, 0}},
        {"avg_pool2d", {2, 2, 0, 0, 2, 2, 1, 0}},
        {"reshape", {0, -1, 0, 0, 2}}, /* flatten */
        {"transpose", {1, 0}},
        {"slice", {0, 0, 3}},
    };
    memset(iattr, 0, NN_MAX_ATTRS * sizeof *iattr);
    for (size_t i = 0; i < sizeof table / sizeof *table; i++)
        if (!strncmp(op->name, table[i].prefix, strlen(table[i].prefix))) memcpy(iattr, table[i].v, sizeof table[i].v);
}

/* A graph holding op as "L1/<op name>" over inputs in scope L1, or NULL if
 * no combination of specs fits; *node is the op's node. */
static nn_graph *graph_around(const nn_op_def *op, nn_node **node) {
    int combos = 1;
    for (int k = 0; k < op->n_inputs; k++) combos *= N_SPECS;
    float fattr[NN_MAX_ATTRS] = {0.5f, 0.5f, 0.5f, 0.5f}; /* scale alpha, huber delta, ... */
    int64_t iattr[NN_MAX_ATTRS];
    int_attrs(op, iattr);
    for (int c = 0; c < combos; c++) {
        nn_graph *g = nn_graph_new(7);
        nn_scope_push(g, "L1");
        nn_node *in[NN_MAX_INPUTS];
        for (int k = 0, rest = c; k < op->n_inputs; k++, rest /= N_SPECS) in[k] = make_input(g, rest % N_SPECS, k);
        *node = nn_op_node(g, op, NULL, op->n_inputs, in, fattr, iattr);
        nn_scope_pop(g);
        if (*node && nn_graph_status(g) == NN_OK) return g;
        nn_graph_free(g);
    }
    return NULL;
}

static char *read_stream(FILE *f) {
    long n = ftell(f);
    rewind(f);
    char *s = calloc((size_t)n + 1, 1);
    cr_assert(s && fread(s, 1, (size_t)n, f) == (size_t)n);
    return s;
}

static char dir[64], out[1 << 15], err[1 << 14];

/* Runs the nngraph command in dir; stdout and stderr land in out and err. */
#define nngraph(...) tu_run(NNGRAPH_EXE, dir, out, sizeof out, err, sizeof err, __VA_ARGS__)

/* Everything one op's descriptor promises, checked on its graph. */
static void check_op(const nn_op_def *op, int builtin) {
    nn_node *node;
    nn_graph *g = graph_around(op, &node);
    cr_assert(g, "op %s: no input combination in test_registry.c fits its shape rule; add one", op->name);

    /* the graph file: its text reads back to the same text, attributes named */
    char *text = nn_graph_to_text(g);
    cr_assert(text, "op %s: %s", op->name, nn_last_error());
    cr_assert(strstr(text, op->name), "op %s missing from\n%s", op->name, text);
    for (int a = 0; a < nn_op_attr_count(op); a++) {
        char key[64];
        snprintf(key, sizeof key, " %s=", op->attrs[a].key);
        if (op->attrs[a].kind != 'i') cr_assert(strstr(text, key), "op %s: attribute %s not written:\n%s", op->name, key, text);
    }
    nn_graph *back = nn_graph_load_text(text, strlen(text), "registry", 7);
    cr_assert(back, "op %s: %s\n%s", op->name, nn_last_error(), text);
    char *again = nn_graph_to_text(back);
    cr_assert_str_eq(again, text, "op %s", op->name);
    nn_node *node_back = nn_graph_find(back, node->name);
    cr_assert(node_back && node_back->op == op, "op %s", op->name);
    cr_assert(!memcmp(node_back->fattr, node->fattr, sizeof node->fattr) &&
              !memcmp(node_back->iattr, node->iattr, sizeof node->iattr), "op %s: attributes changed", op->name);

    /* DOT, both views */
    nn_dot_opts opts = {0};
    char *dot = nn_graph_dot_string(back, &opts);
    cr_assert(dot && strstr(dot, op->name), "op %s: %s", op->name, dot ? dot : nn_last_error());
    opts.layers = 1;
    char *dot_layers = nn_graph_dot_string(back, &opts);
    cr_assert(dot_layers, "op %s: %s", op->name, nn_last_error());

    /* the layer table names the activation and the layer kind the descriptor gives */
    nn_layer_info layer;
    cr_assert_eq(nn_graph_layers(back, &layer, 1), 1, "op %s", op->name);
    if (op->role == NN_OP_ACTIVATION)
        cr_assert_str_eq(layer.activation, op->activation ? op->activation : op->name, "op %s", op->name);
    else
        cr_assert_str_eq(layer.activation, "linear", "op %s", op->name);
    if (op->layer_kind && node->in[0]->kind == NN_NODE_PARAM)
        cr_assert_str_eq(layer.kind, op->layer_kind, "op %s", op->name);

    /* the summary has the layer's row */
    FILE *f = tmpfile();
    nn_summary(back, f);
    char *sum = read_stream(f);
    fclose(f);
    cr_assert(strstr(sum, "L1 (") && strstr(sum, "Total params:"), "op %s:\n%s", op->name, sum);

    /* the gradient audit */
    nn_gradcheck_report rep;
    cr_assert_eq(nn_gradcheck_node(node_back, 3, 11, &rep), NN_OK, "op %s: %s", op->name, nn_last_error());
    cr_assert_eq(rep.no_gradient_rule, op->grad == NULL, "op %s", op->name);
    cr_assert_eq(rep.failures, 0, "op %s: %s", op->name, rep.detail);

    /* and the command, for the ops it knows (the test's own are registered
     * only in this process) */
    if (builtin) {
        char path[128];
        snprintf(path, sizeof path, "%s/%s.nng", dir, op->name);
        tu_write_file(path, text, strlen(text));
        cr_assert_eq(nngraph("check", path, NULL), 0, "op %s:\n%s%s", op->name, out, err);
        cr_assert(strstr(out, op->name), "op %s:\n%s", op->name, out);
        cr_assert_eq(nngraph("summary", path, NULL), 0, "op %s: %s", op->name, err);
        cr_assert_eq(nngraph("dot", path, NULL), 0, "op %s: %s", op->name, err);
        cr_assert(strstr(out, op->name), "op %s", op->name);
    }
    free(sum);
    free(dot_layers);
    free(dot);
    free(again);
    free(text);
    nn_graph_free(back);
    nn_graph_free(g);
}

Test(registry, every_op_round_trips) {
    tu_mkdtemp(dir, sizeof dir, "/tmp/nng_registry_XXXXXX");
    cr_assert_gt(builtin_count, 20);
    for (int i = 0; i < nn_op_count(); i++) {
        const nn_op_def *op = nn_op_at(i);
        cr_assert_eq(nn_op_find(op->name), op, "two ops named %s", op->name);
        check_op(op, i < builtin_count);
    }
    tu_rmtree(dir);
}

/* ---- the test-only ops compute what they say ---- */

Test(registry, softsign_is_an_activation_everywhere) {
    nn_graph *g = nn_graph_new(1);
    nn_node *x = nn_input(g, "x", NN_F32, NN_SHAPE(NN_BATCH, 3));
    nn_scope_push(g, "L1");
    nn_node *w = nn_param(g, "W", NN_SHAPE(3, 2), nn_init_glorot_uniform());
    nn_node *y = nn_softsign(g, nn_matmul(g, x, w));
    nn_scope_pop(g);
    cr_assert(y, "%s", nn_error_message(g));
    nn_layer_info l;
    cr_assert_eq(nn_graph_layers(g, &l, 1), 1);
    cr_assert_str_eq(l.activation, "softsign");
    cr_assert_str_eq(l.kind, "dense");
    cr_assert_eq(l.in_features, 3);
    cr_assert_eq(l.out_features, 2);
    /* values: x / (1 + |x|) */
    float xv[3] = {-3.f, 0.f, 1.f}, wv[6] = {1, 0, 0, 1, 0, 0};
    memcpy(nn_tensor_data(nn_param_value(w)), wv, sizeof wv);
    nn_tensor *xt = nn_tensor_new(NN_F32, NN_SHAPE(1, 3));
    memcpy(nn_tensor_data(xt), xv, sizeof xv);
    cr_assert_eq(nn_set_input(g, x, xt), NN_OK);
    cr_assert_eq(nn_run(g, &y, 1), NN_OK, "%s", nn_error_message(g));
    const float *yv = nn_tensor_f32(nn_value(y));
    cr_assert_float_eq(yv[0], -0.75f, 1e-7f);
    cr_assert_float_eq(yv[1], 0.f, 1e-7f);
    nn_tensor_free(xt);
    nn_graph_free(g);
}

Test(registry, huber_keeps_its_delta_and_value) {
    nn_graph *g = nn_graph_new(1);
    float pv[4] = {0.f, 0.5f, 3.f, -2.f}, tv[4] = {0.f, 0.f, 0.f, 0.f};
    nn_tensor *pt = nn_tensor_new(NN_F32, NN_SHAPE(4)), *tt = nn_tensor_new(NN_F32, NN_SHAPE(4));
    memcpy(nn_tensor_data(pt), pv, sizeof pv);
    memcpy(nn_tensor_data(tt), tv, sizeof tv);
    nn_node *p = nn_const(g, "p", pt), *t = nn_const(g, "t", tt);
    nn_node *loss = nn_huber(g, p, t, 1.5f);
    cr_assert(loss, "%s", nn_error_message(g));
    char *text = nn_graph_to_text(g);
    cr_assert(strstr(text, "huber f32 [] p t delta=1.5\n"), "%s", text);
    nn_graph *back = nn_graph_load_text(text, strlen(text), "huber", 1);
    cr_assert(back, "%s", nn_last_error());
    nn_node *l2 = nn_graph_find(back, "huber");
    cr_assert_eq(nn_run(back, &l2, 1), NN_OK, "%s", nn_error_message(back));
    /* 0, 0.5^2/2 = 0.125, 1.5 (3 - 0.75) = 3.375, 1.5 (2 - 0.75) = 1.875 */
    cr_assert_float_eq(nn_value_scalar(l2), 5.375f / 4.f, 1e-6f);
    cr_assert_eq(nn_graph_guess_output(back), nn_graph_find(back, "p"));
    cr_assert_eq(nn_graph_guess_loss(back), l2);
    /* a graph file without the attribute fails to build, naming it */
    nn_graph *bad = nn_graph_load_text("nngraph-graph 1\np input f32 [2]\nt input f32 [2]\nh huber f32 [] p t\nend 3\n",
                                       66, "bad.nng", 1);
    cr_assert_null(bad);
    cr_assert(strstr(nn_last_error(), "delta 0 must be positive"), "%s", nn_last_error());
    free(text);
    nn_graph_free(back);
    nn_tensor_free(pt);
    nn_tensor_free(tt);
    nn_graph_free(g);
}

Test(registry, register_refuses_duplicates_and_half_descriptors) {
    extern const nn_op_def nn_op_relu;
    cr_assert_eq(nn_op_register(&nn_op_relu), NN_ERR_ARG);
    cr_assert(strstr(nn_last_error(), "relu: an op of that name exists"), "%s", nn_last_error());
    static const nn_op_def no_kernel = {.name = "no_kernel", .n_inputs = 1};
    cr_assert_eq(nn_op_register(&no_kernel), NN_ERR_ARG);
    cr_assert_null(nn_op_find("no_kernel"));
}
