/* DOT export and Graphviz rendering: the DOT text parsed back with cgraph
 * (nodes, edges, clusters, labels), rendered SVG checked for well-formed
 * XML, the other formats' signatures, the failing node of a broken graph,
 * deterministic output, render errors. */
#include "nngraph.h"

#include "graphviz_lsan.h"
#include "testutil.h"

#include <cgraph.h>
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The digits network (testutil.h): 17 nodes, 16 edges. */
static nn_graph *digits(void) { return tu_digits_net(1234, NULL, NULL, NULL); }

static int count_clusters(Agraph_t *g) {
    int n = 0;
    for (Agraph_t *s = agfstsubg(g); s; s = agnxtsubg(s)) n += strncmp(agnameof(s), "cluster", 7) == 0;
    return n;
}

static Agraph_t *parse(const char *dot) {
    Agraph_t *a = agmemread(dot);
    cr_assert(a, "cgraph cannot parse:\n%s", dot);
    return a;
}

static const char *node_attr(Agraph_t *a, const char *node, const char *attr) {
    Agnode_t *n = agnode(a, (char *)node, 0);
    cr_assert(n, "no node '%s'", node);
    return agget(n, (char *)attr);
}

Test(dot, op_level_counts_clusters_and_labels) {
    nn_graph *g = digits();
    nn_dot_opts o = {0};
    o.title = "digits";
    char *dot = nn_graph_dot_string(g, &o);
    cr_assert(dot, "%s", nn_last_error());
    Agraph_t *a = parse(dot);
    cr_assert_eq(agnnodes(a), 17);
    cr_assert_eq(agnedges(a), 16);
    cr_assert_eq(count_clusters(a), 3);
    Agraph_t *c1 = agsubg(a, "cluster_L1", 0);
    cr_assert(c1);
    cr_assert_str_eq(agget(c1, "label"), "L1 · dense 400→25 · relu · 10,025 params");
    cr_assert_str_eq(agget(agsubg(a, "cluster_L3", 0), "label"), "L3 · dense 15→10 · linear · 160 params");
    cr_assert_eq(agnnodes(c1), 5); /* W, b, matmul, add, relu */
    cr_assert_str_eq(agget(a, "label"), "digits\\n10,575 params · 3 layers");
    cr_assert_str_eq(agget(a, "rankdir"), "TB");
    /* params drawn apart with their element counts; inputs and loss marked */
    cr_assert_str_eq(node_attr(a, "L1/W", "label"), "W\\n[400,25]\\n10,000 params");
    cr_assert_str_eq(node_attr(a, "L1/W", "shape"), "cylinder");
    cr_assert_str_eq(node_attr(a, "x", "shape"), "parallelogram");
    cr_assert_str_eq(node_attr(a, "y", "label"), "y\\ninput i32 [B]");
    cr_assert_str_eq(node_attr(a, "softmax_cross_entropy", "shape"), "doubleoctagon");
    cr_assert(strstr(node_attr(a, "softmax_cross_entropy", "label"), "loss"));
    cr_assert_str_eq(node_attr(a, "L1/matmul", "shape"), "box");
    /* shapes on the edges */
    Agedge_t *e = agedge(a, agnode(a, "x", 0), agnode(a, "L1/matmul", 0), NULL, 0);
    cr_assert(e);
    cr_assert_str_eq(agget(e, "label"), "[B,400]");
    e = agedge(a, agnode(a, "y", 0), agnode(a, "softmax_cross_entropy", 0), NULL, 0);
    cr_assert_str_eq(agget(e, "label"), "[B] i32");
    agclose(a);
    free(dot);
    nn_graph_free(g);
}

/* The whole text of a small picture, byte for byte: ids from names, the
 * order of the file, nothing from pointers or the clock. */
Test(dot, golden_text) {
    const char *text = "nngraph-graph 1\n"
                       "x input f32 [B,2]\n"
                       "L1/W param f32 [2,1] init=ones\n"
                       "L1/matmul matmul f32 [B,1] x L1/W\n"
                       "loss mean f32 [] L1/matmul axis=all\n"
                       "end 4\n";
    const char *want =
    "digraph nngraph {\n"
    "  graph [rankdir=TB, labelloc=t, fontname=\"Helvetica\", fontsize=16, nodesep=0.3, ranksep=0.4, label=\"tiny\\n2 params · 1 layer\"];\n"
    "  node [fontname=\"Helvetica\", fontsize=11];\n"
    "  edge [fontname=\"Helvetica\", fontsize=9, color=\"#555555\"];\n"
    "  subgraph \"cluster_L1\" {\n"
    "    graph [style=\"rounded,filled\", fillcolor=\"#f3f6fa\", color=\"#6d9eeb\", label=\"L1 · dense 2→1 · linear · 2 params\"];\n"
    "    \"L1/W\" [shape=cylinder, style=filled, fillcolor=\"#fff2cc\", color=\"#bf9000\", label=\"W\\n[2,1]\\n2 params\"];\n"
    "    \"L1/matmul\" [shape=box, style=\"rounded,filled\", fillcolor=white, label=\"matmul\"];\n"
    "  }\n"
    "  \"x\" [shape=parallelogram, style=filled, fillcolor=\"#cfe2f3\", color=\"#3d85c6\", label=\"x\\ninput f32 [B,2]\"];\n"
    "  \"loss\" [shape=doubleoctagon, style=filled, fillcolor=\"#f4cccc\", color=\"#cc0000\", label=\"loss\\nmean\"];\n"
    "  \"x\" -> \"L1/matmul\" [label=\"[B,2]\"];\n"
    "  \"L1/W\" -> \"L1/matmul\" [label=\"[2,1]\", color=\"#bf9000\"];\n"
    "  \"L1/matmul\" -> \"loss\" [label=\"[B,1]\"];\n"
    "}\n";
    nn_graph *g = nn_graph_load_text(text, strlen(text), "tiny.nng", 1);
    cr_assert(g, "%s", nn_last_error());
    nn_dot_opts o = {0};
    o.title = "tiny";
    char *dot = nn_graph_dot_string(g, &o);
    cr_assert_str_eq(dot, want);
    free(dot);
    nn_graph_free(g);
}

Test(dot, deterministic_and_rankdir) {
    nn_graph *g1 = digits(), *g2 = digits();
    char *a = nn_graph_dot_string(g1, NULL), *b = nn_graph_dot_string(g2, NULL);
    cr_assert_str_eq(a, b);
    nn_dot_opts o = {0};
    o.rankdir_lr = 1;
    char *c = nn_graph_dot_string(g1, &o);
    cr_assert(strstr(c, "rankdir=LR") && strstr(a, "rankdir=TB"));
    cr_assert(strstr(a, "label=\"nngraph\\n10,575 params"));
    free(a);
    free(b);
    free(c);
    nn_graph_free(g1);
    nn_graph_free(g2);
}

Test(dot, layers_collapse_scopes) {
    nn_graph *g = digits();
    nn_dot_opts o = {0};
    o.layers = 1;
    char *dot = nn_graph_dot_string(g, &o);
    Agraph_t *a = parse(dot);
    /* x, y, L1/, L2/, L3/, the loss; x->L1, L1->L2, L2->L3, L3->loss, y->loss */
    cr_assert_eq(agnnodes(a), 6, "%s", dot);
    cr_assert_eq(agnedges(a), 5);
    cr_assert_eq(count_clusters(a), 0);
    cr_assert_str_eq(node_attr(a, "L1/", "label"), "L1\\ndense 400→25 · relu\\noutput f32 [B,25]\\n10,025 params");
    Agedge_t *e = agedge(a, agnode(a, "L2/", 0), agnode(a, "L3/", 0), NULL, 0);
    cr_assert(e);
    cr_assert_str_eq(agget(e, "label"), "[B,15]");
    agclose(a);
    free(dot);
    nn_graph_free(g);
}

/* Two reads of x inside L1 are one edge x -> L1/, the first edge drawn
 * included. */
Test(dot, layer_edges_once) {
    nn_graph *g = nn_graph_new(1);
    nn_node *x = nn_input(g, "x", NN_F32, NN_SHAPE(NN_BATCH, 3));
    nn_scope_push(g, "L1");
    nn_node *W = nn_param(g, "W", NN_SHAPE(3, 3), nn_init_ones());
    nn_node *v = nn_param(g, "v", NN_SHAPE(3), nn_init_ones());
    nn_add(g, nn_matmul(g, x, W), nn_mul(g, x, v));
    nn_scope_pop(g);
    nn_dot_opts o = {0};
    o.layers = 1;
    char *dot = nn_graph_dot_string(g, &o);
    Agraph_t *a = parse(dot);
    cr_assert_eq(agnnodes(a), 2);
    cr_assert_eq(agnedges(a), 1, "%s", dot);
    agclose(a);
    free(dot);
    nn_graph_free(g);
}

/* A loss made inside a scope marks its layer's box. */
Test(dot, layer_holding_the_loss) {
    nn_graph *g = nn_graph_new(1);
    nn_node *x = nn_input(g, "x", NN_F32, NN_SHAPE(NN_BATCH, 3));
    nn_node *t = nn_input(g, "t", NN_F32, NN_SHAPE(NN_BATCH, 2));
    nn_node *z = nn_dense(g, "L1", x, 2, NN_LINEAR);
    nn_scope_push(g, "objective");
    nn_mse(g, z, t);
    nn_scope_pop(g);
    nn_dot_opts o = {0};
    o.layers = 1;
    char *dot = nn_graph_dot_string(g, &o);
    Agraph_t *a = parse(dot);
    cr_assert_str_eq(node_attr(a, "objective/", "label"), "objective\\nmse\\noutput f32 []\\n0 params\\nloss");
    cr_assert_str_eq(node_attr(a, "objective/", "shape"), "doubleoctagon");
    cr_assert_str_eq(node_attr(a, "L1/", "shape"), "box");
    agclose(a);
    free(dot);
    nn_graph_free(g);
}

Test(dot, backward_adds_gradient_nodes) {
    nn_graph *g = digits();
    nn_node *loss = nn_graph_find(g, "softmax_cross_entropy");
    nn_node *params[6], *grads[6];
    cr_assert_eq(nn_graph_params(g, params, 6), 6);
    cr_assert_eq(nn_grad(g, loss, params, 6, grads), NN_OK);
    int n = nn_graph_num_nodes(g), edges = 0;
    for (int i = 0; i < n; i++) edges += nn_node_num_inputs(nn_graph_node(g, i));
    /* without --backward, the picture is the forward graph only */
    char *fwd = nn_graph_dot_string(g, NULL);
    Agraph_t *a = parse(fwd);
    cr_assert_eq(agnnodes(a), 17);
    cr_assert_eq(agnedges(a), 16);
    agclose(a);
    nn_dot_opts o = {0};
    o.backward = 1;
    char *dot = nn_graph_dot_string(g, &o);
    a = parse(dot);
    cr_assert_eq(agnnodes(a), n);
    /* every input edge, plus one dotted edge from each gradient to its
     * param and an invisible one that ranks the seed below the loss */
    cr_assert_eq(agnedges(a), edges + 6 + 1);
    /* three layers, and beside each its gradients' cluster, plus the loss's */
    cr_assert_eq(count_clusters(a), 3 + 3 + 1);
    Agraph_t *g3 = agsubg(a, "cluster_grad/L3", 0);
    cr_assert(g3, "%s", dot);
    cr_assert_str_eq(agget(g3, "label"), "∇ L3");
    cr_assert(agsubnode(g3, agnode(a, "grad/L3/matmul/matmul", 0), 0));
    cr_assert(agsubg(a, "cluster_grad/loss", 0));
    /* a name is said once: the cluster says L3, the label the rest */
    cr_assert_str_eq(node_attr(a, "grad/L3/matmul/matmul", "label"), "matmul");
    cr_assert_str_eq(node_attr(a, "grad/L3/add/sum_like", "label"), "sum_like\\n∂ add");
    for (Agnode_t *u = agfstnode(a); u; u = agnxtnode(a, u))
        cr_assert(!strstr(agget(u, "label"), "grad/"), "label repeats the path: %s", agget(u, "label"));
    /* the backward flow runs bottom-up: a gradient edge is written from
     * the later gradient to the earlier one and drawn back */
    Agedge_t *back = agedge(a, agnode(a, "grad/L2/relu/relu_grad", 0), agnode(a, "grad/L3/matmul/matmul", 0), NULL, 0);
    cr_assert(back, "%s", dot);
    cr_assert_str_eq(agget(back, "dir"), "back");
    cr_assert_str_eq(agget(back, "label"), "[B,15]", "gradient edges carry shapes");
    Agnode_t *gn = agnode(a, (char *)nn_node_name(grads[0]), 0);
    cr_assert(gn);
    cr_assert(strstr(agget(gn, "style"), "dashed"));
    Agedge_t *e = agedge(a, gn, agnode(a, "L1/W", 0), NULL, 0);
    cr_assert(e);
    cr_assert_str_eq(agget(e, "style"), "dotted");
    agclose(a);
    /* layer mode groups the gradients by layer */
    o.layers = 1;
    char *lay = nn_graph_dot_string(g, &o);
    a = parse(lay);
    cr_assert(agnode(a, "grad/L1/", 0), "%s", lay);
    cr_assert(agnode(a, "grad/L3/", 0));
    /* no "outside layers" box: the loss's gradients are named by the loss */
    cr_assert(!strstr(lay, "outside"), "%s", lay);
    cr_assert(strstr(node_attr(a, "grad/", "label"), "∇ softmax_cross_entropy"), "%s", node_attr(a, "grad/", "label"));
    /* each pair of boxes is joined once */
    int pairs = 0;
    for (Agnode_t *u = agfstnode(a); u; u = agnxtnode(a, u))
        for (Agedge_t *e1 = agfstout(a, u); e1; e1 = agnxtout(a, e1)) {
            pairs++;
            for (Agedge_t *e2 = agnxtout(a, e1); e2; e2 = agnxtout(a, e2))
                cr_assert(aghead(e1) != aghead(e2), "two edges %s -> %s", agnameof(u), agnameof(aghead(e1)));
        }
    cr_assert_eq(pairs, agnedges(a));
    agclose(a);
    free(lay);
    free(fwd);
    free(dot);
    nn_graph_free(g);
}

static const char shape_error_file[] = "nngraph-graph 1\n"
                                       "x input f32 [B,4]\n"
                                       "L1/W param f32 [4,3] init=glorot_uniform\n"
                                       "L1/matmul matmul f32 [B,3] x L1/W\n"
                                       "L2/W param f32 [5,2] init=zeros\n"
                                       "L2/matmul matmul f32 [B,2] L1/matmul L2/W\n"
                                       "end 5\n";

Test(dot, shape_error_draws_the_failing_node) {
    nn_load_fault f;
    nn_graph *g = nn_graph_load_text_partial(shape_error_file, strlen(shape_error_file), "bad.nng", 1, &f);
    cr_assert(g);
    cr_assert_eq(nn_graph_status(g), NN_ERR_SHAPE);
    nn_dot_opts o = {0};
    o.fault = &f;
    char *dot = nn_graph_dot_string(g, &o);
    Agraph_t *a = parse(dot);
    cr_assert_eq(agnnodes(a), 5); /* 4 built + the failed one */
    cr_assert_eq(agnedges(a), 4); /* x, L1/W -> L1/matmul; L1/matmul, L2/W -> failed */
    Agraph_t *c2 = agsubg(a, "cluster_L2", 0);
    cr_assert(c2);
    Agnode_t *bad = agnode(c2, "L2/matmul", 0);
    cr_assert(bad, "%s", dot);
    cr_assert_str_eq(agget(bad, "label"), "L2/matmul\\nmatmul\\nFAILED (line 6)");
    cr_assert_str_eq(agget(bad, "fillcolor"), "#ff9999");
    cr_assert(strstr(agget(bad, "tooltip"), "inner dimensions differ (3 vs 5)"));
    cr_assert(agedge(a, agnode(a, "L2/W", 0), bad, NULL, 0));
    cr_assert(strstr(agget(a, "label"), "ERROR: bad.nng:6:11: matmul 'L2/matmul'"), "%s", agget(a, "label"));
    agclose(a);
    free(dot);
    nn_graph_free(g);
}

/* A graph built in C that failed: the failing node is read back from the
 * graph's error message. */
Test(dot, failing_builder_without_fault_record) {
    nn_graph *g = nn_graph_new(1);
    nn_node *x = nn_input(g, "x", NN_F32, NN_SHAPE(NN_BATCH, 4));
    nn_node *b = nn_param(g, "b", NN_SHAPE(3), nn_init_zeros());
    nn_add(g, x, b);
    cr_assert_eq(nn_graph_status(g), NN_ERR_SHAPE);
    char *dot = nn_graph_dot_string(g, NULL);
    Agraph_t *a = parse(dot);
    cr_assert_eq(agnnodes(a), 3);
    cr_assert_eq(agnedges(a), 2);
    Agnode_t *bad = agnode(a, "add", 0);
    cr_assert(bad, "%s", dot);
    cr_assert(strstr(agget(bad, "label"), "FAILED"));
    agclose(a);
    free(dot);
    nn_graph_free(g);
}

/* A small XML well-formedness check: every tag closed in order, one root,
 * declarations, comments and CDATA skipped, attribute quotes balanced. */
static int xml_well_formed(const char *s, char *why, size_t len) {
    const char *stack[256];
    size_t stack_len[256];
    int depth = 0, roots = 0;
    for (const char *c = s; *c; c++) {
        if (*c != '<') continue;
        if (strncmp(c, "<?", 2) == 0 || strncmp(c, "<!--", 4) == 0 || strncmp(c, "<!", 2) == 0) {
            const char *end = strncmp(c, "<!--", 4) == 0 ? strstr(c, "-->") : strchr(c, '>');
            if (!end) return snprintf(why, len, "unterminated declaration"), 0;
            c = end;
            continue;
        }
        const char *end = c + 1;
        char quote = 0;
        for (; *end && (quote || *end != '>'); end++)
            if (*end == '"' || *end == '\'') quote = quote == *end ? 0 : quote ? quote : *end;
        if (!*end) return snprintf(why, len, "unterminated tag"), 0;
        int closing = c[1] == '/', empty = end[-1] == '/';
        const char *name = c + 1 + closing;
        size_t nl = strcspn(name, " \t\r\n/>");
        if (closing) {
            if (!depth || stack_len[depth - 1] != nl || strncmp(stack[depth - 1], name, nl))
                return snprintf(why, len, "mismatched </%.*s>", (int)nl, name), 0;
            depth--;
        } else if (!empty) {
            if (depth == 256) return snprintf(why, len, "too deep"), 0;
            if (depth == 0) roots++;
            stack[depth] = name;
            stack_len[depth++] = nl;
        } else if (depth == 0) {
            roots++;
        }
        c = end;
    }
    if (depth) return snprintf(why, len, "%d unclosed tags", depth), 0;
    if (roots != 1) return snprintf(why, len, "%d root elements", roots), 0;
    return 1;
}

static int count_of(const char *s, const char *needle) {
    int n = 0;
    for (const char *p = strstr(s, needle); p; p = strstr(p + 1, needle)) n++;
    return n;
}

Test(render, svg_well_formed_with_every_node) {
    nn_graph *g = digits();
    char *dot = nn_graph_dot_string(g, NULL), *svg;
    size_t len;
    cr_assert_eq(nn_dot_render(dot, "svg", &svg, &len), NN_OK, "%s", nn_last_error());
    cr_assert(len > 100);
    cr_assert_eq(strlen(svg), len);
    cr_assert(strncmp(svg, "<?xml", 5) == 0 || strncmp(svg, "<svg", 4) == 0);
    const char *tail = svg + len;
    while (tail > svg && (tail[-1] == '\n' || tail[-1] == ' ')) tail--;
    cr_assert(tail - svg >= 6 && strncmp(tail - 6, "</svg>", 6) == 0);
    char why[128] = "";
    cr_assert(xml_well_formed(svg, why, sizeof why), "%s", why);
    cr_assert_eq(count_of(svg, "class=\"node\""), 17);
    cr_assert_eq(count_of(svg, "class=\"edge\""), 16);
    cr_assert_eq(count_of(svg, "class=\"cluster\""), 3);
    cr_assert(strstr(svg, "10,025 params"));
    free(svg);
    free(dot);
    nn_graph_free(g);
}

Test(render, png_pdf_json_signatures) {
    nn_graph *g = digits();
    nn_dot_opts o = {0};
    o.layers = 1;
    char *dot = nn_graph_dot_string(g, &o), *data;
    size_t len;
    cr_assert_eq(nn_dot_render(dot, "png", &data, &len), NN_OK, "%s", nn_last_error());
    cr_assert(len > 8 && memcmp(data, "\x89PNG\r\n\x1a\n", 8) == 0);
    free(data);
    cr_assert_eq(nn_dot_render(dot, "pdf", &data, &len), NN_OK, "%s", nn_last_error());
    cr_assert(len > 5 && memcmp(data, "%PDF-", 5) == 0);
    free(data);
    cr_assert_eq(nn_dot_render(dot, "json", &data, &len), NN_OK, "%s", nn_last_error());
    cr_assert(data[0] == '{' && strstr(data, "\"objects\"") && strstr(data, "\"name\": \"L1\\/\""), "%.300s", data);
    free(data);
    free(dot);
    nn_graph_free(g);
}

Test(render, errors_are_reported_not_printed) {
    char *data = (char *)1;
    size_t len = 7;
    cr_assert_eq(nn_dot_render("digraph { a -> ", "svg", &data, &len), NN_ERR_FORMAT);
    cr_assert_null(data);
    cr_assert_eq(len, 0);
    cr_assert(strstr(nn_last_error(), "cannot parse the DOT text"), "%s", nn_last_error());
    cr_assert(strstr(nn_last_error(), "syntax error"), "%s", nn_last_error());
    cr_assert_eq(nn_dot_render("digraph { a }", "gif", &data, &len), NN_ERR_ARG);
    cr_assert(strstr(nn_last_error(), "unknown format 'gif'"));
    cr_assert_eq(nn_dot_render(NULL, "svg", &data, &len), NN_ERR_ARG);
}

Test(render, to_file_atomically) {
    char dir[] = "/tmp/nng_dot_XXXXXX", path[128], nodir[160];
    cr_assert(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/net.svg", dir);
    snprintf(nodir, sizeof nodir, "%s/missing/net.svg", dir);
    nn_graph *g = digits();
    cr_assert_eq(nn_graph_render_file(g, NULL, "svg", path), NN_OK, "%s", nn_last_error());
    struct stat st;
    cr_assert_eq(stat(path, &st), 0);
    cr_assert(st.st_size > 100);
    cr_assert_eq(st.st_mode & 0777, 0644);
    cr_assert_eq(nn_graph_render_file(g, NULL, "svg", nodir), NN_ERR_IO);
    cr_assert(strstr(nn_last_error(), "missing/net.svg"));
    cr_assert_neq(nn_graph_render_file(g, NULL, "gif", path), NN_OK);
    cr_assert_eq(stat(path, &st), 0); /* the old picture stays */
    unlink(path);
    rmdir(dir);
    nn_graph_free(g);
}
