/* Binding inputs and running: the user-facing side of execution. */
#include "internal.h"
#include "plan.h"
#include "pool.h"

#include <stdlib.h>

nn_status nn_set_input(nn_graph *g, nn_node *input, const nn_tensor *value) {
    char a[64], b[64];
    if (!g || !input || !value) return NN_ERR_ARG;
    if (input->kind != NN_NODE_INPUT)
        return nn_fail_run(g, NN_ERR_ARG, "bind: '%s' is a %s, not an input", input->name, nn_node_op(input));
    if (value->dtype != input->dtype)
        return nn_fail_run(g, NN_ERR_ARG, "bind: input '%s' is %s, the tensor is %s", input->name,
                           nn_dtype_name(input->dtype), nn_dtype_name(value->dtype));
    int fits = value->shape.rank == input->shape.rank;
    for (int i = 0; fits && i < input->shape.rank; i++)
        if (input->shape.dim[i] != NN_BATCH && input->shape.dim[i] != value->shape.dim[i]) fits = 0;
    if (input->shape.rank > 0 && input->shape.dim[0] == NN_BATCH && value->shape.dim[0] < 1) fits = 0;
    if (!fits)
        return nn_fail_run(g, NN_ERR_SHAPE, "bind: input '%s' is %s, the tensor is %s", input->name,
                           nn_shape_str(input->shape, a, sizeof a), nn_shape_str(value->shape, b, sizeof b));
    input->value = value;
    return NN_OK;
}

nn_status nn_run(nn_graph *g, nn_node *const *outputs, int n) {
    if (!g) return NN_ERR_ARG;
    if (g->status != NN_OK) return g->status;
    nn_graph_clear_run_error(g);
    if (!outputs || n <= 0) return nn_fail_run(g, NN_ERR_ARG, "run: no outputs given");
    for (int i = 0; i < n; i++) {
        if (!outputs[i]) return nn_fail_run(g, NN_ERR_ARG, "run: output %d is NULL", i);
        if (outputs[i]->id >= g->n_nodes || g->nodes[outputs[i]->id] != outputs[i])
            return nn_fail_run(g, NN_ERR_ARG, "run: output %d belongs to another graph", i);
    }
    /* the inputs these outputs need: from a plan already compiled for
     * them (any batch size), else by walking the graph back once */
    struct nn_plan *known = nn_plan_for_outputs(g, outputs, n);
    nn_node **inputs = known ? known->inputs : NULL;
    int n_inputs = known ? known->n_inputs : 0;
    if (!known) {
        char *needed = calloc((size_t)g->n_nodes, 1);
        inputs = malloc((size_t)g->n_nodes * sizeof *inputs);
        if (!needed || !inputs) {
            free(needed);
            free(inputs);
            return nn_fail_run(g, NN_ERR_NOMEM, "run: out of memory");
        }
        for (int i = nn_mark_needed(g, outputs, n, needed); i >= 0; i--)
            if (needed[i] && g->nodes[i]->kind == NN_NODE_INPUT) inputs[n_inputs++] = g->nodes[i];
        free(needed);
    }
    /* the batch: every needed input with an open first dim must agree */
    int64_t batch = -1;
    const nn_node *batch_from = NULL;
    nn_status st = NN_OK;
    for (int i = 0; i < n_inputs && st == NN_OK; i++) {
        nn_node *node = inputs[i];
        if (!node->value) {
            st = nn_fail_run(g, NN_ERR_STATE, "run: input '%s' is not bound (nn_set_input)", node->name);
            break;
        }
        if (node->shape.rank == 0 || node->shape.dim[0] != NN_BATCH) continue;
        int64_t b = node->value->shape.dim[0];
        if (batch >= 0 && b != batch)
            st = nn_fail_run(g, NN_ERR_SHAPE, "run: inputs '%s' and '%s' have batch sizes %lld and %lld",
                             batch_from->name, node->name, (long long)batch, (long long)b);
        batch = b;
        batch_from = node;
    }
    if (!known) free(inputs);
    if (st != NN_OK) return st;
    struct nn_plan *p = nn_plan_get(g, outputs, n, batch < 0 ? 1 : batch);
    if (!p) return g->run_status ? g->run_status : NN_ERR_NOMEM;
    return nn_plan_execute(g, p);
}

const nn_tensor *nn_value(const nn_node *n) { return n ? n->value : NULL; }

float nn_value_scalar(const nn_node *n) {
    const nn_tensor *t = nn_value(n);
    if (!t || t->dtype != NN_F32 || t->size < 1) return 0.f / 0.f;
    return ((const float *)t->data)[0];
}

nn_status nn_graph_set_threads(nn_graph *g, int threads) {
    if (!g || threads < 0) return NN_ERR_ARG;
    /* each worker is a thread with its own stack: a count from a file or a
     * typo must not take minutes and gigabytes before failing */
    if (threads > NN_MAX_THREADS)
        return nn_set_error(NN_ERR_ARG, "set threads: %d threads, at most %d", threads, NN_MAX_THREADS);
    g->threads = threads;
    return NN_OK;
}

int nn_graph_threads(const nn_graph *g) {
    if (!g) return 0;
    return g->threads > 0 ? g->threads : nn_default_threads();
}

void nn_graph_on_value(nn_graph *g, nn_value_fn fn, void *user) {
    if (!g) return;
    g->on_value = fn;
    g->on_value_user = user;
}
