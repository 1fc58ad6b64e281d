/* nn_summary: a Keras-like table of the layers of a graph.
 *
 * A graph has no layer objects: a layer is the group of nodes made under
 * one top-level scope ("L1/W", "L1/matmul", "L1/relu"). Its output is the
 * last op of the group, its parameters the params of the group. Params made
 * outside any scope get a row of their own; the gradient nodes (scope
 * "grad/...") and scope-less ops such as the loss are not layers. */
#include "internal.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

typedef struct layer_row {
    char name[NN_MAX_NAME];
    const nn_node *output; /* last forward op of the scope, or the param */
    int64_t params;
    const char *kind;      /* an op's layer kind ("dense"), or NULL */
} layer_row;

/* "(None, 25)": Keras writes the open batch dimension as None */
static const char *keras_shape(nn_shape s, char *buf, size_t len) {
    size_t k = 0;
    k += (size_t)snprintf(buf + k, len - k, "(");
    for (int i = 0; i < s.rank && k < len; i++) {
        if (s.dim[i] == NN_BATCH)
            k += (size_t)snprintf(buf + k, len - k, "%sNone", i ? ", " : "");
        else
            k += (size_t)snprintf(buf + k, len - k, "%s%lld", i ? ", " : "", (long long)s.dim[i]);
    }
    if (k < len) snprintf(buf + k, len - k, s.rank == 1 ? ",)" : ")");
    return buf;
}

static int find_row(layer_row *rows, int n, const char *name) {
    for (int i = 0; i < n; i++)
        if (!strcmp(rows[i].name, name)) return i;
    return -1;
}

void nn_summary(const nn_graph *g, FILE *out) {
    if (!g || !out) return;
    layer_row *rows = calloc((size_t)(g->n_nodes ? g->n_nodes : 1), sizeof *rows);
    if (!rows) {
        fprintf(out, "(summary: out of memory)\n");
        return;
    }
    int n_rows = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        const nn_node *node = g->nodes[i];
        if (node->is_grad || node->kind == NN_NODE_INPUT) continue;
        const char *slash = strchr(node->name, '/');
        char scope[NN_MAX_NAME];
        if (slash) {
            size_t len = (size_t)(slash - node->name);
            if (len >= sizeof scope) len = sizeof scope - 1;
            memcpy(scope, node->name, len);
            scope[len] = 0;
        } else if (node->kind == NN_NODE_PARAM) {
            snprintf(scope, sizeof scope, "%s", node->name);
        } else {
            continue; /* the loss, constants, ops outside layers */
        }
        int r = find_row(rows, n_rows, scope);
        if (r < 0) {
            r = n_rows++;
            snprintf(rows[r].name, sizeof rows[r].name, "%s", scope);
        }
        layer_row *row = &rows[r];
        if (node->kind == NN_NODE_PARAM) {
            row->params += node->tensor->size;
            if (!row->output) row->output = node;
        } else if (node->kind == NN_NODE_OP) {
            row->output = node;
            if (node->op->layer_kind && !row->kind) row->kind = node->op->layer_kind;
        }
    }
    const char *rule = "_________________________________________________________________";
    const char *dbl = "=================================================================";
    fprintf(out, "%s\n %-28s %-25s %s\n%s\n", rule, "Layer (type)", "Output Shape", "Param #", dbl);
    char label[192], sh[96], num[40], kind[64];
    for (int r = 0; r < n_rows; r++) {
        const layer_row *row = &rows[r];
        /* Keras capitalises layer types: "dense" reads "Dense" */
        snprintf(kind, sizeof kind, "%s", row->kind ? row->kind : "");
        kind[0] = (char)toupper((unsigned char)kind[0]);
        const char *type = row->kind ? kind
                         : row->output && row->output->kind == NN_NODE_PARAM ? "Param"
                         : row->output ? row->output->op->name : "?";
        snprintf(label, sizeof label, "%s (%s)", row->name, type);
        fprintf(out, " %-28s %-25s %s\n", label, row->output ? keras_shape(row->output->shape, sh, sizeof sh) : "?",
                nn_format_count(row->params, num, sizeof num));
        if (r + 1 < n_rows) fprintf(out, "\n");
    }
    /* every param is in a row (its scope's or its own), so this equals
     * the sum of the rows */
    int64_t total = nn_graph_param_count(g), frozen = 0;
    for (int i = 0; i < g->n_nodes; i++)
        if (g->nodes[i]->kind == NN_NODE_PARAM && g->nodes[i]->frozen) frozen += g->nodes[i]->tensor->size;
    fprintf(out, "%s\n", dbl);
    fprintf(out, "Total params: %s (%.2f KB)\n", nn_format_count(total, num, sizeof num), (double)total * 4.0 / 1024.0);
    fprintf(out, "Trainable params: %s\n", nn_format_count(total - frozen, num, sizeof num));
    fprintf(out, "Non-trainable params: %s\n%s\n", nn_format_count(frozen, num, sizeof num), rule);
    free(rows);
}
