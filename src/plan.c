/* Execution plans: for a set of wanted outputs and a batch size, the nodes
 * to run in topological order, their concrete shapes and their buffers.
 * Compiled once, cached on the graph, reused every step. */
#include "internal.h"
#include "plan.h"

#include <stdlib.h>
#include <string.h>

static void plan_free(nn_plan *p) {
    if (!p) return;
    nn_aligned_free(p->arena);
    free(p->out_ids);
    free(p->steps);
    free(p->bufs);
    free(p);
}

void nn_plans_free(nn_graph *g) {
    while (g->plans) {
        nn_plan *next = g->plans->next;
        plan_free(g->plans);
        g->plans = next;
    }
}

static int plan_matches(const nn_plan *p, nn_node *const *outputs, int n, int64_t batch) {
    if (p->n_out != n || p->batch != batch) return 0;
    for (int i = 0; i < n; i++)
        if (p->out_ids[i] != outputs[i]->id) return 0;
    return 1;
}

static nn_shape concrete(nn_shape s, int64_t batch) {
    for (int i = 0; i < s.rank; i++)
        if (s.dim[i] == NN_BATCH) s.dim[i] = batch;
    return s;
}

static nn_plan *plan_compile(nn_graph *g, nn_node *const *outputs, int n, int64_t batch) {
    nn_plan *p = calloc(1, sizeof *p);
    char *needed = calloc((size_t)g->n_nodes, 1);
    nn_shape *shapes = calloc((size_t)g->n_nodes, sizeof *shapes);
    if (!p || !needed || !shapes) goto nomem;
    p->batch = batch;
    p->n_out = n;
    p->out_ids = malloc((size_t)n * sizeof *p->out_ids);
    if (!p->out_ids) goto nomem;
    for (int i = 0; i < n; i++) {
        p->out_ids[i] = outputs[i]->id;
        needed[outputs[i]->id] = 1;
    }
    /* inputs always precede their consumers in creation order, so one
     * backward sweep marks everything needed and ascending ids are a
     * topological order */
    int n_ops = 0;
    for (int i = g->n_nodes - 1; i >= 0; i--) {
        if (!needed[i]) continue;
        nn_node *node = g->nodes[i];
        if (node->kind == NN_NODE_OP) n_ops++;
        for (int k = 0; k < node->n_in; k++) needed[node->in[k]->id] = 1;
    }
    p->steps = malloc((size_t)(n_ops ? n_ops : 1) * sizeof *p->steps);
    p->bufs = calloc((size_t)(n_ops ? n_ops : 1), sizeof *p->bufs);
    if (!p->steps || !p->bufs) goto nomem;
    /* concrete shapes: the op shape rules run again with the batch fixed */
    size_t offset = 0;
    size_t *offsets = calloc((size_t)(n_ops ? n_ops : 1), sizeof *offsets);
    if (!offsets) goto nomem;
    for (int i = 0; i < g->n_nodes; i++) {
        if (!needed[i]) continue;
        nn_node *node = g->nodes[i];
        if (node->kind != NN_NODE_OP) {
            shapes[i] = concrete(node->shape, batch);
            continue;
        }
        nn_shape_ctx ctx = {0};
        char err[NN_ERRLEN] = "";
        ctx.node = node;
        ctx.n_in = node->n_in;
        ctx.err = err;
        for (int k = 0; k < node->n_in; k++) {
            ctx.in[k] = shapes[node->in[k]->id];
            ctx.in_dtype[k] = node->in[k]->dtype;
        }
        nn_dtype dt;
        nn_status s = node->op->shape(&ctx, &shapes[i], &dt);
        if (s != NN_OK) {
            free(offsets);
            free(needed);
            free(shapes);
            plan_free(p);
            nn_fail_run(g, s, "%s '%s': %s (batch %lld)", node->op->name, node->name, err, (long long)batch);
            return NULL;
        }
        int step = p->n_steps++;
        p->steps[step] = node;
        size_t bytes = (size_t)nn_shape_size(shapes[i]) * nn_dtype_size(node->dtype);
        bytes = (bytes + NN_ALIGN - 1) / NN_ALIGN * NN_ALIGN;
        offsets[step] = offset;
        offset += bytes;
        nn_tensor_wrap(&p->bufs[step], node->dtype, shapes[i], NULL);
    }
    p->arena_bytes = offset;
    p->naive_bytes = offset;
    p->arena = nn_aligned_alloc(offset ? offset : NN_ALIGN);
    if (!p->arena) {
        free(offsets);
        goto nomem;
    }
    for (int s = 0; s < p->n_steps; s++) p->bufs[s].data = (char *)p->arena + offsets[s];
    free(offsets);
    free(needed);
    free(shapes);
    return p;
nomem:
    free(needed);
    free(shapes);
    plan_free(p);
    nn_fail_run(g, NN_ERR_NOMEM, "out of memory compiling a plan");
    return NULL;
}

nn_plan *nn_plan_get(nn_graph *g, nn_node *const *outputs, int n, int64_t batch) {
    for (nn_plan *p = g->plans; p; p = p->next)
        if (plan_matches(p, outputs, n, batch)) return p;
    nn_plan *p = plan_compile(g, outputs, n, batch);
    if (!p) return NULL;
    p->next = g->plans;
    g->plans = p;
    return p;
}
