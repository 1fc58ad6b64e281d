/* DOT text of a graph, for Graphviz. Two pictures:
 *   - op level (default): one node per graph node, scopes (L1, L2, ...) as
 *     clusters titled like Keras layers, tensor shapes on the edges,
 *     inputs / params / consts / the loss each in their own style;
 *   - layer level (opts->layers): each scope collapsed into one box with
 *     its kind, activation, output shape and parameter count, like Keras's
 *     plot_model(show_shapes=True).
 * Gradient nodes appear only with opts->backward, dashed and red.
 * Node ids are the node names (DOT quoted strings), never pointers or
 * counters, so the same graph always gives the same bytes and pictures of
 * two graphs diff well. */
#include "graphio_common.h"

#include <stdlib.h>
#include <string.h>

/* Colours and shapes in one place, so the legend of the picture is
 * readable from the code. */
#define STYLE_INPUT "shape=parallelogram, style=filled, fillcolor=\"#cfe2f3\", color=\"#3d85c6\""
#define STYLE_PARAM "shape=cylinder, style=filled, fillcolor=\"#fff2cc\", color=\"#bf9000\""
#define STYLE_CONST "shape=note, style=filled, fillcolor=\"#eeeeee\", color=\"#999999\", fontsize=10"
#define STYLE_OP "shape=box, style=\"rounded,filled\", fillcolor=white"
#define STYLE_LOSS "shape=doubleoctagon, style=filled, fillcolor=\"#f4cccc\", color=\"#cc0000\""
#define STYLE_GRAD "shape=box, style=\"rounded,dashed,filled\", fillcolor=\"#fce5cd\", color=\"#cc4125\", fontcolor=\"#990000\""
#define STYLE_LAYER "shape=box, style=\"rounded,filled\", fillcolor=\"#d9ead3\", color=\"#38761d\""
#define STYLE_FAILED "shape=box, style=\"filled,bold\", fillcolor=\"#ff9999\", color=\"#cc0000\", penwidth=2"
#define STYLE_CLUSTER "style=\"rounded,filled\", fillcolor=\"#f3f6fa\", color=\"#6d9eeb\""
#define EDGE_GRAD "style=dashed, color=\"#cc4125\", fontcolor=\"#990000\""
#define EDGE_PARAM "color=\"#bf9000\""

/* Appends s as the inside of a DOT quoted string. */
static void put_escaped(nn_strbuf *sb, const char *s) {
    for (; *s; s++) {
        if (*s == '"' || *s == '\\') nn_sb_append(sb, "\\", 1);
        nn_sb_append(sb, s, 1);
    }
}

static void put_id(nn_strbuf *sb, const char *name) {
    nn_sb_puts(sb, "\"");
    put_escaped(sb, name);
    nn_sb_puts(sb, "\"");
}

/* ---- the scope of a node ---- */

static size_t top_scope_len(const char *name) {
    const char *slash = strchr(name, '/');
    return slash && slash != name ? (size_t)(slash - name) : 0;
}

/* Index of the layer (scope) holding a forward node, or -1. */
static int layer_of(const char *name, int is_grad, const nn_layer_info *layers, int n_layers) {
    size_t len = top_scope_len(name);
    if (is_grad || !len) return -1;
    for (int i = 0; i < n_layers; i++)
        if (strlen(layers[i].name) == len && strncmp(layers[i].name, name, len) == 0) return i;
    return -1;
}

/* ---- the failing node of a graph in error ---- */

/* The fault the graph recorded when a builder refused a node, as the
 * picture's failed node; 0 if it recorded none. */
static int fault_of_graph(const nn_graph *g, nn_load_fault *f) {
    const nn_fault *gf = nn_graph_fault(g);
    memset(f, 0, sizeof *f);
    if (!gf) return 0;
    snprintf(f->op, sizeof f->op, "%s", gf->op);
    snprintf(f->node, sizeof f->node, "%s", gf->node);
    f->n_inputs = gf->n_inputs < NN_FAULT_INPUTS ? gf->n_inputs : NN_FAULT_INPUTS;
    for (int k = 0; k < f->n_inputs; k++) snprintf(f->inputs[k], sizeof f->inputs[k], "%s", gf->inputs[k]);
    return 1;
}

/* ---- labels ---- */

static void put_count(nn_strbuf *sb, int64_t n, const char *one, const char *many) {
    char c[32];
    nn_sb_printf(sb, "%s %s", nn_format_count(n, c, sizeof c), n == 1 ? one : many);
}

/* The node's name inside its cluster: "matmul" for "L1/matmul". */
static const char *short_name(const char *name, int in_cluster) {
    return in_cluster ? name + top_scope_len(name) + 1 : name;
}

/* A gradient node's name says what it differentiates: "grad/L3/matmul/
 * matmul_2" is made for the forward node L3/matmul. Inside its ∇ cluster
 * the label drops what the cluster already says: the last part
 * ("matmul_2"), then "∂ add" only when the forward node's name adds
 * something (a sum_like of add). */
static void put_grad_label(nn_strbuf *sb, const nn_node *n, size_t scope_len) {
    const char *rest = n->name + scope_len, *last = strrchr(rest, '/');
    last = last ? last + 1 : rest;
    nn_sb_puts(sb, "label=\"");
    put_escaped(sb, last);
    /* the forward node: the part before the last one, if any */
    const char *fwd_end = last > rest ? last - 1 : rest, *fwd = fwd_end;
    while (fwd > rest && fwd[-1] != '/') fwd--;
    size_t fl = (size_t)(fwd_end - fwd);
    if (fl && strncmp(last, fwd, fl) != 0) {
        nn_sb_puts(sb, "\\n∂ ");
        nn_sb_append(sb, fwd, fl);
    }
    if (n->kind == NN_NODE_CONST && n->tensor->size == 1 && n->dtype == NN_F32) {
        char v[32];
        nn_format_float(((const float *)n->tensor->data)[0], v, sizeof v);
        nn_sb_printf(sb, " = %s", v);
    }
    nn_sb_puts(sb, "\"");
}

static void put_node_label(nn_strbuf *sb, const nn_node *n, int in_cluster, int is_loss) {
    char sh[96];
    const char *nm = short_name(n->name, in_cluster);
    nn_shape_str(n->shape, sh, sizeof sh);
    nn_sb_puts(sb, "label=\"");
    put_escaped(sb, nm);
    switch (n->kind) {
    case NN_NODE_INPUT:
        nn_sb_printf(sb, "\\ninput %s %s", nn_dtype_name(n->dtype), sh);
        break;
    case NN_NODE_PARAM:
        nn_sb_printf(sb, "\\n%s\\n", sh);
        put_count(sb, n->tensor->size, "param", "params");
        break;
    case NN_NODE_CONST:
        if (n->tensor->size == 1 && n->dtype == NN_F32) {
            char v[32];
            nn_format_float(((const float *)n->tensor->data)[0], v, sizeof v);
            nn_sb_printf(sb, "\\nconst %s = %s", sh, v);
        } else {
            nn_sb_printf(sb, "\\nconst %s %s", nn_dtype_name(n->dtype), sh);
        }
        break;
    case NN_NODE_OP:
        if (strcmp(nm, n->op->name) != 0) {
            nn_sb_puts(sb, "\\n");
            put_escaped(sb, n->op->name);
        }
        const nn_op_text_family *fam = nn_graphio_family_for(n->op->name);
        const char *note = fam && fam->note ? fam->note(n) : NULL;
        if (note) {
            nn_sb_puts(sb, "\\n");
            put_escaped(sb, note);
        }
        if (is_loss && strcmp(nm, "loss") != 0) nn_sb_puts(sb, "\\nloss");
        break;
    }
    nn_sb_puts(sb, "\"");
}

static void put_edge(nn_strbuf *sb, const char *from, const char *to, const nn_node *src, const char *style) {
    char sh[96];
    nn_sb_puts(sb, "  ");
    put_id(sb, from);
    nn_sb_puts(sb, " -> ");
    put_id(sb, to);
    nn_shape_str(src->shape, sh, sizeof sh);
    nn_sb_printf(sb, " [label=\"%s%s\"", sh, src->dtype == NN_I32 ? " i32" : "");
    if (style && *style) nn_sb_printf(sb, ", %s", style);
    nn_sb_puts(sb, "];\n");
}

/* ---- the picture ---- */

typedef struct dot_ctx {
    const nn_graph *g;
    const nn_dot_opts *o;
    nn_strbuf *sb;
    nn_layer_info *layers;
    int n_layers;
    const nn_node *loss;
    nn_load_fault fault;
    int has_fault;
    int *layer; /* layer of each node, -1 if none */
    int *grad_layer; /* of a gradient node: the layer it differentiates, -1 the loss's group, -2 not a gradient */
} dot_ctx;

/* The layer a gradient node belongs to by its name ("grad/L2/..."), -1
 * for the others (the loss's gradient and its seed). */
static int grad_layer_of(const nn_node *n, const nn_layer_info *layers, int n_layers) {
    if (!n->is_grad) return -2;
    if (strncmp(n->name, "grad/", 5) != 0) return -1;
    const char *rest = n->name + 5;
    size_t sl = top_scope_len(rest);
    for (int i = 0; sl && i < n_layers; i++)
        if (strlen(layers[i].name) == sl && strncmp(layers[i].name, rest, sl) == 0) return i;
    return -1;
}

/* A gradient edge is written head first with dir=back: the arrow still
 * points from the earlier gradient to the later one, but dot ranks the
 * later one higher, so the backward pass reads bottom-up beside the
 * forward one. Edges from forward nodes into gradients do not rank. */
static void put_grad_edge(dot_ctx *c, const char *from, const char *to, const nn_node *src) {
    char sh[96];
    nn_shape_str(src->shape, sh, sizeof sh);
    nn_sb_puts(c->sb, "  ");
    if (src->is_grad) {
        put_id(c->sb, to);
        nn_sb_puts(c->sb, " -> ");
        put_id(c->sb, from);
        nn_sb_printf(c->sb, " [label=\"%s\", dir=back, %s];\n", sh, EDGE_GRAD);
    } else {
        put_id(c->sb, from);
        nn_sb_puts(c->sb, " -> ");
        put_id(c->sb, to);
        /* lighter: the values a gradient reads, not the backward flow */
        nn_sb_printf(c->sb, " [label=\"%s%s\", constraint=false, style=dashed, color=\"#e0a890\", fontcolor=\"#b06040\"];\n",
                     sh, src->dtype == NN_I32 ? " i32" : "");
    }
}

static int drawn(const dot_ctx *c, const nn_node *n) { return !n->is_grad || c->o->backward; }

static void put_op_node(dot_ctx *c, const nn_node *n, const char *indent) {
    int in_cluster = c->layer[n->id] >= 0;
    const char *style = n->is_grad ? STYLE_GRAD
                      : n == c->loss ? STYLE_LOSS
                      : n->kind == NN_NODE_INPUT ? STYLE_INPUT
                      : n->kind == NN_NODE_PARAM ? STYLE_PARAM
                      : n->kind == NN_NODE_CONST ? STYLE_CONST : STYLE_OP;
    nn_sb_puts(c->sb, indent);
    put_id(c->sb, n->name);
    nn_sb_printf(c->sb, " [%s, ", style);
    if (n->is_grad && !c->o->layers) {
        int gl = c->grad_layer[n->id];
        put_grad_label(c->sb, n, gl >= 0 ? 5 + strlen(c->layers[gl].name) + 1 : strncmp(n->name, "grad/", 5) ? 0 : 5);
    } else {
        put_node_label(c->sb, n, in_cluster, n == c->loss);
    }
    nn_sb_puts(c->sb, "];\n");
}

static void put_fault_node(dot_ctx *c, const char *indent) {
    const nn_load_fault *f = &c->fault;
    nn_sb_puts(c->sb, indent);
    put_id(c->sb, f->node);
    nn_sb_printf(c->sb, " [%s, label=\"", STYLE_FAILED);
    put_escaped(c->sb, f->node);
    if (f->op[0]) {
        nn_sb_puts(c->sb, "\\n");
        put_escaped(c->sb, f->op);
    }
    nn_sb_puts(c->sb, "\\nFAILED");
    if (f->line) nn_sb_printf(c->sb, " (line %d)", f->line);
    nn_sb_puts(c->sb, "\", tooltip=\"");
    put_escaped(c->sb, c->g->err);
    nn_sb_puts(c->sb, "\"];\n");
}

/* The id a node is drawn under: its own name, or its layer's box. */
static const char *drawn_id(const dot_ctx *c, const nn_node *n, char *buf, size_t len) {
    if (!c->o->layers) return n->name;
    int l = c->layer[n->id];
    if (l >= 0) {
        /* "L2/": the scope itself, which no node of the graph is named */
        snprintf(buf, len, "%s/", c->layers[l].name);
        return buf;
    }
    if (n->is_grad && strncmp(n->name, "grad/", 5) == 0) {
        /* gradients are boxed by the layer they differentiate: "grad/L2" */
        const char *rest = n->name + 5;
        size_t sl = top_scope_len(rest);
        if (sl && strchr(rest + sl + 1, '/')) {
            snprintf(buf, len, "grad/%.*s/", (int)sl, rest);
            return buf;
        }
        return "grad/";
    }
    return n->name;
}

static void put_layer_box(dot_ctx *c, const nn_layer_info *l) {
    char sh[96];
    nn_shape_str(l->out_shape, sh, sizeof sh);
    char id[NN_MAX_NAME + 8];
    snprintf(id, sizeof id, "%s/", l->name);
    nn_sb_puts(c->sb, "  ");
    put_id(c->sb, id);
    int has_loss = c->loss && c->layer[c->loss->id] == (int)(l - c->layers);
    nn_sb_printf(c->sb, " [%s, label=\"", has_loss ? STYLE_LOSS : STYLE_LAYER);
    put_escaped(c->sb, l->name);
    if (strcmp(l->kind, "dense") == 0)
        nn_sb_printf(c->sb, "\\ndense %lld→%lld · %s", (long long)l->in_features, (long long)l->out_features,
                     l->activation);
    else {
        nn_sb_puts(c->sb, "\\n");
        put_escaped(c->sb, l->ops);
    }
    nn_sb_printf(c->sb, "\\noutput %s %s\\n", nn_dtype_name(l->out_dtype), sh);
    put_count(c->sb, l->params, "param", "params");
    if (has_loss) nn_sb_puts(c->sb, "\\nloss");
    nn_sb_puts(c->sb, "\"];\n");
}

/* Layer mode: one box per scope, one per gradient group, the rest as in
 * the op picture; edges between different boxes, each pair once. */
static void put_layers(dot_ctx *c) {
    const nn_graph *g = c->g;
    char ida[NN_MAX_NAME + 16], idb[NN_MAX_NAME + 16];
    for (int l = 0; l < c->n_layers; l++) put_layer_box(c, &c->layers[l]);
    nn_strbuf seen = {0}; /* "\nfrom\x01to\n..." of edges already drawn */
    nn_sb_puts(&seen, "\n");
    for (int i = 0; i < g->n_nodes; i++) {
        const nn_node *n = g->nodes[i];
        if (!drawn(c, n) || c->layer[i] >= 0) continue;
        const char *id = drawn_id(c, n, ida, sizeof ida);
        if (id == n->name) {
            put_op_node(c, n, "  ");
            continue;
        }
        /* a gradient group: drawn once, at its first node */
        int first = 1;
        for (int j = 0; j < i && first; j++)
            first = !(g->nodes[j]->is_grad && strcmp(drawn_id(c, g->nodes[j], idb, sizeof idb), id) == 0);
        if (!first) continue;
        int ops = 0;
        for (int j = i; j < g->n_nodes; j++)
            ops += g->nodes[j]->is_grad && strcmp(drawn_id(c, g->nodes[j], idb, sizeof idb), id) == 0;
        nn_sb_puts(c->sb, "  ");
        put_id(c->sb, id);
        nn_sb_printf(c->sb, " [%s, label=\"", STYLE_GRAD);
        if (strcmp(id, "grad/") == 0) {
            /* the loss's own gradient and the seed: they differentiate the loss */
            nn_sb_puts(c->sb, "∇ ");
            put_escaped(c->sb, c->loss ? c->loss->name : "loss");
        } else {
            char scope[NN_MAX_NAME + 16];
            snprintf(scope, sizeof scope, "%.*s", (int)strlen(id) - 6, id + 5);
            nn_sb_puts(c->sb, "∇ ");
            put_escaped(c->sb, scope);
        }
        nn_sb_puts(c->sb, "\\n");
        put_count(c->sb, ops, "node", "nodes");
        nn_sb_puts(c->sb, "\"];\n");
    }
    if (c->has_fault) put_fault_node(c, "  ");
    for (int i = 0; i < g->n_nodes; i++) {
        const nn_node *n = g->nodes[i];
        if (!drawn(c, n)) continue;
        const char *to = drawn_id(c, n, idb, sizeof idb);
        for (int k = 0; k < n->n_in; k++) {
            const char *from = drawn_id(c, n->in[k], ida, sizeof ida);
            if (strcmp(from, to) == 0) continue;
            nn_strbuf key = {0};
            nn_sb_printf(&key, "\n%s\x01%s\n", from, to);
            int dup = key.data && seen.data && strstr(seen.data, key.data);
            if (!dup) {
                nn_sb_puts(&seen, key.data ? key.data + 1 : "");
                if (seen.failed || key.failed) c->sb->failed = 1;
                if (n->is_grad) put_grad_edge(c, from, to, n->in[k]);
                else put_edge(c->sb, from, to, n->in[k], NULL);
            }
            nn_sb_free(&key);
        }
    }
    nn_sb_free(&seen);
}

/* Op mode: clusters per scope, every node, every edge. */
static void put_ops(dot_ctx *c) {
    const nn_graph *g = c->g;
    int fault_layer = c->has_fault ? layer_of(c->fault.node, 0, c->layers, c->n_layers) : -1;
    for (int l = 0; l < c->n_layers; l++) {
        char title[512];
        nn_layer_title(&c->layers[l], title, sizeof title);
        nn_sb_puts(c->sb, "  subgraph ");
        char cid[NN_MAX_NAME + 16];
        snprintf(cid, sizeof cid, "cluster_%s", c->layers[l].name);
        put_id(c->sb, cid);
        nn_sb_printf(c->sb, " {\n    graph [%s, label=\"", STYLE_CLUSTER);
        put_escaped(c->sb, title);
        nn_sb_puts(c->sb, "\"];\n");
        for (int i = 0; i < g->n_nodes; i++)
            if (c->layer[i] == l) put_op_node(c, g->nodes[i], "    ");
        if (fault_layer == l) put_fault_node(c, "    ");
        nn_sb_puts(c->sb, "  }\n");
    }
    /* with the backward pass: each layer's gradients in a cluster of their
     * own, "∇ L2", and the loss's in "∇ loss" */
    for (int l = -1; c->o->backward && l < c->n_layers; l++) {
        int any = 0;
        for (int i = 0; i < g->n_nodes && !any; i++) any = c->grad_layer[i] == l;
        if (!any) continue;
        char cid[NN_MAX_NAME + 16];
        snprintf(cid, sizeof cid, "cluster_grad/%s", l >= 0 ? c->layers[l].name : "loss");
        nn_sb_puts(c->sb, "  subgraph ");
        put_id(c->sb, cid);
        nn_sb_printf(c->sb, " {\n    graph [style=\"rounded,dashed\", color=\"#cc4125\", fontcolor=\"#990000\", label=\"∇ ");
        put_escaped(c->sb, l >= 0 ? c->layers[l].name : c->loss ? c->loss->name : "loss");
        nn_sb_puts(c->sb, "\"];\n");
        for (int i = 0; i < g->n_nodes; i++)
            if (c->grad_layer[i] == l) put_op_node(c, g->nodes[i], "    ");
        nn_sb_puts(c->sb, "  }\n");
    }
    for (int i = 0; i < g->n_nodes; i++)
        if (c->layer[i] < 0 && !g->nodes[i]->is_grad) put_op_node(c, g->nodes[i], "  ");
    if (c->has_fault && fault_layer < 0) put_fault_node(c, "  ");
    /* the backward pass starts level with the loss: its seed ranks below
     * the loss, the gradients climb from there beside their layers */
    for (int i = 0; c->o->backward && c->loss && i < g->n_nodes; i++)
        if (g->nodes[i]->is_grad && g->nodes[i]->n_in == 0) {
            nn_sb_puts(c->sb, "  ");
            put_id(c->sb, c->loss->name);
            nn_sb_puts(c->sb, " -> ");
            put_id(c->sb, g->nodes[i]->name);
            nn_sb_puts(c->sb, " [style=invis];\n");
        }
    for (int i = 0; i < g->n_nodes; i++) {
        const nn_node *n = g->nodes[i];
        if (!drawn(c, n)) continue;
        for (int k = 0; k < n->n_in; k++) {
            if (n->is_grad) put_grad_edge(c, n->in[k]->name, n->name, n->in[k]);
            else put_edge(c->sb, n->in[k]->name, n->name, n->in[k], n->in[k]->kind == NN_NODE_PARAM ? EDGE_PARAM : NULL);
        }
        if (n->grad_of && c->o->backward) {
            /* the gradient points back at its parameter, without pulling
             * the layout around */
            nn_sb_puts(c->sb, "  ");
            put_id(c->sb, n->name);
            nn_sb_puts(c->sb, " -> ");
            put_id(c->sb, n->grad_of->name);
            nn_sb_printf(c->sb, " [style=dotted, color=\"#cc4125\", label=\"∇\", constraint=false];\n");
        }
    }
}

static void put_fault_edges(dot_ctx *c) {
    char buf[NN_MAX_NAME + 16];
    for (int k = 0; k < c->fault.n_inputs; k++) {
        const nn_node *in = nn_graph_find(c->g, c->fault.inputs[k]);
        if (in && drawn(c, in)) put_edge(c->sb, drawn_id(c, in, buf, sizeof buf), c->fault.node, in, "color=\"#cc0000\"");
    }
}

char *nn_graph_dot_string(const nn_graph *g, const nn_dot_opts *opts) {
    if (!g) {
        nn_set_error(NN_ERR_ARG, "dot: graph is NULL");
        return NULL;
    }
    nn_dot_opts defaults = {0};
    dot_ctx c = {g, opts ? opts : &defaults, NULL, NULL, 0, NULL, {0}, 0, NULL, NULL};
    nn_strbuf sb = {0};
    c.sb = &sb;
    int n_layers = nn_graph_layers(g, NULL, 0);
    c.layers = calloc((size_t)n_layers + 1, sizeof *c.layers);
    c.layer = calloc((size_t)g->n_nodes + 1, sizeof *c.layer);
    c.grad_layer = calloc((size_t)g->n_nodes + 1, sizeof *c.grad_layer);
    if (!c.layers || !c.layer || !c.grad_layer) {
        free(c.layers);
        free(c.layer);
        free(c.grad_layer);
        nn_set_error(NN_ERR_NOMEM, "dot: out of memory");
        return NULL;
    }
    c.n_layers = nn_graph_layers(g, c.layers, n_layers);
    for (int i = 0; i < g->n_nodes; i++) {
        c.layer[i] = layer_of(g->nodes[i]->name, g->nodes[i]->is_grad, c.layers, c.n_layers);
        c.grad_layer[i] = grad_layer_of(g->nodes[i], c.layers, c.n_layers);
    }
    c.loss = c.o->loss ? nn_graph_find(g, c.o->loss) : nn_graph_guess_loss(g);
    if (c.o->fault && c.o->fault->node[0]) {
        c.fault = *c.o->fault;
        c.has_fault = 1;
    } else {
        c.has_fault = fault_of_graph(g, &c.fault);
    }
    /* a fault named like an existing node would merge with it */
    if (c.has_fault && nn_graph_find(g, c.fault.node)) {
        char renamed[sizeof c.fault.node];
        snprintf(renamed, sizeof renamed, "%.200s (failed)", c.fault.node);
        memcpy(c.fault.node, renamed, sizeof renamed);
    }

    char count[32];
    nn_sb_puts(&sb, "digraph nngraph {\n  graph [");
    nn_sb_printf(&sb, "rankdir=%s, labelloc=t, fontname=\"Helvetica\", fontsize=16, nodesep=0.3, ranksep=0.4, label=\"",
                 c.o->rankdir_lr ? "LR" : "TB");
    put_escaped(&sb, c.o->title ? c.o->title : "nngraph");
    nn_sb_printf(&sb, "\\n%s %s", nn_format_count(nn_graph_param_count(g), count, sizeof count),
                 nn_graph_param_count(g) == 1 ? "param" : "params");
    if (c.n_layers) nn_sb_printf(&sb, " · %d layer%s", c.n_layers, c.n_layers == 1 ? "" : "s");
    if (g->status != NN_OK) {
        nn_sb_puts(&sb, "\\nERROR: ");
        put_escaped(&sb, g->err);
    }
    nn_sb_puts(&sb, "\"];\n  node [fontname=\"Helvetica\", fontsize=11];\n"
                    "  edge [fontname=\"Helvetica\", fontsize=9, color=\"#555555\"];\n");
    if (c.o->layers)
        put_layers(&c);
    else
        put_ops(&c);
    if (c.has_fault) put_fault_edges(&c);
    nn_sb_puts(&sb, "}\n");
    free(c.layers);
    free(c.layer);
    free(c.grad_layer);
    if (sb.failed) {
        nn_sb_free(&sb);
        nn_set_error(NN_ERR_NOMEM, "dot: out of memory");
        return NULL;
    }
    return sb.data;
}

nn_status nn_graph_dot(const nn_graph *g, FILE *out, const nn_dot_opts *opts) {
    if (!out) return nn_set_error(NN_ERR_ARG, "dot: output stream is NULL");
    char *text = nn_graph_dot_string(g, opts);
    if (!text) return NN_ERR_ARG;
    size_t len = strlen(text);
    int ok = fwrite(text, 1, len, out) == len && fflush(out) == 0;
    free(text);
    return ok ? NN_OK : nn_set_error(NN_ERR_IO, "dot: write failed");
}
