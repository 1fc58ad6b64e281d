/* Reverse-mode autodiff: gradients become ordinary nodes of the graph.
 *
 * One sweep from the loss back to the parameters, in reverse creation order
 * (a reverse topological order). Each op's gradient rule receives the
 * gradient of its output and builds nodes for the gradients of the inputs
 * that lead to a wanted parameter; where a node feeds several consumers the
 * contributions are summed with add nodes. */
#include "internal.h"
#include "ops.h"

#include <stdlib.h>
#include <string.h>

static int has_open_batch(nn_shape s) {
    for (int k = 0; k < s.rank; k++)
        if (s.dim[k] == NN_BATCH) return 1;
    return 0;
}

nn_status nn_grad(nn_graph *g, nn_node *loss, nn_node *const *wrt, int n, nn_node **grads) {
    char sh[64];
    if (!g) return NN_ERR_ARG;
    if (g->status != NN_OK) return g->status;
    if (!loss || !grads || (n > 0 && !wrt) || n < 0) {
        nn_fail(g, NN_ERR_ARG, "grad: loss, wrt or grads is NULL");
        return g->status;
    }
    if (loss->shape.rank != 0 || loss->dtype != NN_F32) {
        nn_fail(g, NN_ERR_SHAPE, "grad: loss '%s' must be an f32 scalar, it is %s%s", loss->name,
                nn_dtype_name(loss->dtype), nn_shape_str(loss->shape, sh, sizeof sh));
        return g->status;
    }
    int count = g->n_nodes; /* nodes made below are not swept */
    /* leads[i]: node i is a wanted node or depends on one */
    char *leads = calloc((size_t)count, 1);
    nn_node **acc = calloc((size_t)count, sizeof *acc);
    if (!leads || !acc) {
        free(leads);
        free(acc);
        nn_fail(g, NN_ERR_NOMEM, "grad: out of memory");
        return g->status;
    }
    for (int i = 0; i < n; i++) {
        if (!wrt[i] || wrt[i]->id >= count || g->nodes[wrt[i]->id] != wrt[i]) {
            free(leads);
            free(acc);
            nn_fail(g, NN_ERR_ARG, "grad: wrt[%d] is NULL or not a node of this graph", i);
            return g->status;
        }
        leads[wrt[i]->id] = 1;
    }
    for (int i = 0; i < count; i++)
        for (int k = 0; k < g->nodes[i]->n_in && !leads[i]; k++)
            if (leads[g->nodes[i]->in[k]->id]) leads[i] = 1;

    g->building_grad = 1;
    nn_scope_push(g, "grad");
    acc[loss->id] = nn_scalar(g, 1.0f);
    for (int i = loss->id; i >= 0 && g->status == NN_OK; i--) {
        nn_node *node = g->nodes[i];
        nn_node *dy = acc[i];
        if (!dy || node->kind != NN_NODE_OP || !leads[i]) continue;
        int want[NN_MAX_INPUTS] = {0};
        nn_node *dx[NN_MAX_INPUTS] = {0};
        int any = 0;
        for (int k = 0; k < node->n_in; k++) any |= want[k] = leads[node->in[k]->id];
        if (!any) continue;
        if (!node->op->grad) {
            nn_fail(g, NN_ERR_ARG, "grad: op %s ('%s') has no gradient rule", node->op->name, node->name);
            break;
        }
        /* gradient nodes are named after what they differentiate:
         * "grad/L1/matmul/matmul_t" */
        if (nn_scope_push(g, node->name) != NN_OK) break;
        nn_status st = node->op->grad(g, node, dy, want, dx);
        nn_scope_pop(g);
        if (st != NN_OK || g->status != NN_OK) {
            if (g->status == NN_OK)
                nn_fail(g, st, "grad: the gradient rule of %s ('%s') failed", node->op->name, node->name);
            break;
        }
        /* a rule that returns a misfit gradient is caught here, naming the
         * op, rather than later as a mysterious mismatch in an add node or
         * the optimizer (ops from libraries can carry rules of any quality) */
        for (int k = 0; k < node->n_in && g->status == NN_OK; k++) {
            if (!want[k] || !dx[k]) continue;
            nn_node *x = node->in[k];
            if (dx[k]->dtype != x->dtype || !nn_shape_equal(dx[k]->shape, x->shape)) {
                char gs[64];
                nn_fail(g, NN_ERR_SHAPE, "grad: the gradient rule of %s ('%s') gives input %d ('%s') a gradient %s%s, the input is %s%s",
                        node->op->name, node->name, k, x->name, nn_dtype_name(dx[k]->dtype),
                        nn_shape_str(dx[k]->shape, gs, sizeof gs), nn_dtype_name(x->dtype),
                        nn_shape_str(x->shape, sh, sizeof sh));
            }
        }
        if (g->status != NN_OK) break;
        for (int k = 0; k < node->n_in; k++) {
            if (!want[k] || !dx[k]) continue;
            int j = node->in[k]->id;
            acc[j] = acc[j] ? nn_add(g, acc[j], dx[k]) : dx[k];
        }
    }
    for (int i = 0; i < n && g->status == NN_OK; i++) {
        nn_node *gr = acc[wrt[i]->id];
        if (!gr && has_open_batch(wrt[i]->shape)) {
            /* no path from this node to the loss, and its batch is open:
             * a zero of its shape at each run, so of the run's batch */
            gr = nn_expand_like(g, nn_scalar(g, 0.f), wrt[i], NN_ALL_AXES, 0);
        } else if (!gr) {
            /* no path from this node to the loss: its gradient is 0 */
            nn_tensor *zero = nn_tensor_new(NN_F32, wrt[i]->shape);
            if (!zero) {
                nn_fail(g, NN_ERR_NOMEM, "grad: out of memory");
                break;
            }
            gr = nn_const(g, "zero", zero);
            nn_tensor_free(zero);
        }
        if (gr) gr->grad_of = wrt[i];
        grads[i] = gr;
    }
    nn_scope_pop(g);
    g->building_grad = 0;
    free(leads);
    free(acc);
    if (g->status != NN_OK)
        for (int i = 0; i < n; i++) grads[i] = NULL;
    return g->status;
}
