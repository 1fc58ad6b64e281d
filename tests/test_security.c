/* Hardening (issue 12), crafted graphs and values: names, shapes and
 * numbers that used to crash or give silently wrong results. Each test
 * names the failure it guards against. Files and resources (the run log's
 * readers, memory limits, outputs that lose data) are in
 * test_security_files.c; the trust model of ffi ops is tested in
 * test_ffi_graphio.c (suite trust). */
#include "security_util.h"
#include "internal.h"
#include "ops.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
                char nm[16];
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
