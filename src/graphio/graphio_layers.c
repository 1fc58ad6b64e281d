/* Scopes seen as Keras layers: "L1/W, L1/b, L1/matmul, L1/add, L1/relu"
 * is a dense layer 400->25 with a relu. Shared by the DOT writer (cluster
 * titles, --layers boxes) and `nngraph summary`. */
#include "graphio_common.h"

#include <string.h>

extern const nn_op_def nn_op_matmul;

/* Length of the first scope of a name ("L1" in "L1/a/b"); 0 if none. */
static size_t scope_len(const char *name) {
    const char *slash = strchr(name, '/');
    return slash && slash != name ? (size_t)(slash - name) : 0;
}

static int in_scope(const nn_node *n, const char *scope, size_t len) {
    return !n->is_grad && scope_len(n->name) == len && strncmp(n->name, scope, len) == 0;
}

/* The activation a layer's op names, from its descriptor; NULL if none. */
static const char *activation_of(const nn_op_def *op) {
    if (op->role != NN_OP_ACTIVATION) return NULL;
    return op->activation ? op->activation : op->name;
}

/* Fills l for the scope scope[0..len) (a node's name, so never cut). */
static void describe(const nn_graph *g, nn_layer_info *l, const char *scope, size_t len) {
    strcpy(l->kind, "ops");
    strcpy(l->activation, "linear");
    l->first_node = -1;
    l->output_node = -1;
    for (int i = 0; i < g->n_nodes; i++) {
        const nn_node *n = g->nodes[i];
        if (!in_scope(n, scope, len)) continue;
        if (l->first_node < 0) l->first_node = i;
        l->last_node = i;
        if (n->kind == NN_NODE_PARAM) l->params += n->tensor->size;
        if (n->kind != NN_NODE_OP) continue;
        size_t ol = strlen(l->ops);
        if (ol + strlen(n->op->name) + 3 < sizeof l->ops)
            snprintf(l->ops + ol, sizeof l->ops - ol, "%s%s", ol ? ", " : "", n->op->name);
        const char *act = activation_of(n->op);
        if (act) snprintf(l->activation, sizeof l->activation, "%s", act);
        /* an op with a layer kind reading a param of the scope (its
         * weights) makes the scope a layer of that kind */
        for (int k = 0; n->op->layer_kind && k < n->n_in; k++)
            if (n->in[k]->kind == NN_NODE_PARAM && in_scope(n->in[k], scope, len) && strcmp(l->kind, "ops") == 0)
                snprintf(l->kind, sizeof l->kind, "%s", n->op->layer_kind);
        /* a matmul by a rank-2 param of the scope is the dense kernel */
        if (n->op == &nn_op_matmul && l->in_features == 0) {
            for (int k = 1; k >= 0; k--) {
                const nn_node *w = n->in[k];
                if (w->kind != NN_NODE_PARAM || w->shape.rank != 2 || !in_scope(w, scope, len)) continue;
                int trans = (int)n->iattr[k];
                /* x @ W: W is [in,out]; W @ x would read the other way */
                int flip = (k == 0) != (trans != 0);
                l->in_features = w->shape.dim[flip ? 1 : 0];
                l->out_features = w->shape.dim[flip ? 0 : 1];
                break;
            }
        }
    }
    /* the output: the last node of the scope that a node outside reads */
    for (int i = 0; i < g->n_nodes; i++) {
        const nn_node *n = g->nodes[i];
        if (n->is_grad || in_scope(n, scope, len)) continue;
        for (int k = 0; k < n->n_in; k++)
            if (in_scope(n->in[k], scope, len) && n->in[k]->id > l->output_node) l->output_node = n->in[k]->id;
    }
    if (l->output_node < 0) {
        for (int i = l->last_node; i >= l->first_node; i--)
            if (in_scope(g->nodes[i], scope, len) && g->nodes[i]->kind == NN_NODE_OP) {
                l->output_node = i;
                break;
            }
        if (l->output_node < 0) l->output_node = l->last_node;
    }
    l->out_shape = g->nodes[l->output_node]->shape;
    l->out_dtype = g->nodes[l->output_node]->dtype;
}

int nn_graph_layers(const nn_graph *g, nn_layer_info *out, int max) {
    int count = 0;
    for (int i = 0; g && i < g->n_nodes; i++) {
        const nn_node *n = g->nodes[i];
        size_t len = scope_len(n->name);
        if (n->is_grad || len == 0) continue;
        int seen = 0;
        for (int j = 0; j < i && !seen; j++) seen = in_scope(g->nodes[j], n->name, len);
        if (seen) continue;
        if (out && count < max) {
            nn_layer_info *l = &out[count];
            memset(l, 0, sizeof *l);
            snprintf(l->name, sizeof l->name, "%.*s", (int)len, n->name);
            describe(g, l, n->name, len);
        }
        count++;
    }
    return count;
}

void nn_layer_title(const nn_layer_info *l, char *buf, size_t len) {
    char count[32];
    nn_format_count(l->params, count, sizeof count);
    const char *unit = l->params == 1 ? "param" : "params";
    if (strcmp(l->kind, "dense") == 0)
        snprintf(buf, len, "%s · dense %lld→%lld · %s · %s %s", l->name, (long long)l->in_features,
                 (long long)l->out_features, l->activation, count, unit);
    else
        snprintf(buf, len, "%s · %s · %s %s", l->name, l->ops, count, unit);
}
