/* Execution plans: for a set of wanted outputs and a batch size, the steps
 * to run in a topological order, their concrete shapes, their buffers in
 * one arena and the dependencies the scheduler follows. Compiled once,
 * cached on the graph, reused every step.
 *
 * Compiling does four things:
 *  1. marks the needed nodes and fixes their shapes at this batch size;
 *  2. fuses dense layers: a matmul whose only consumer is a bias add whose
 *     only consumer is relu/sigmoid/identity becomes one step (the graph
 *     is unchanged, only the plan differs); a matmul + bias add whose add
 *     feeds something else fuses without the activation;
 *  3. gives every step's output a block of the arena, reusing the blocks
 *     of values that died (liveness along the one-thread order), or the
 *     very buffer of its input when the op may run in place and the input
 *     dies here;
 *  4. records dependencies: a step waits for the producers of its inputs
 *     and, when it takes over a block, for every step that touched the
 *     block's previous value, so the reuse stays safe when steps run
 *     concurrently. */
#include "internal.h"
#include "plan.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

extern const nn_op_def nn_op_matmul, nn_op_add;

static void plan_free(nn_plan *p) {
    if (!p) return;
    nn_aligned_free(p->arena);
    free(p->out_ids);
    free(p->steps);
    free(p->bufs);
    free(p->succ_pool);
    free(p->clear);
    free(p->inputs);
    free(p->pending);
    free(p->ready);
    free(p);
}

void nn_plans_free(nn_graph *g) {
    while (g->plans) {
        nn_plan *next = g->plans->next;
        plan_free(g->plans);
        g->plans = next;
    }
}

void nn_plan_set_flags(nn_graph *g, int flags) {
    if (!g) return;
    nn_plans_free(g);
    g->plan_flags = flags;
}

int nn_plan_flags(const nn_graph *g) {
    int flags = g ? g->plan_flags : 0;
    const char *env = getenv("NNGRAPH_PLAN");
    if (env) {
        if (strstr(env, "nofuse")) flags |= NN_PLAN_NO_FUSE;
        if (strstr(env, "noinplace")) flags |= NN_PLAN_NO_INPLACE;
        if (strstr(env, "noreuse")) flags |= NN_PLAN_NO_REUSE;
    }
    return flags;
}

int nn_plan_cached(const nn_graph *g) {
    int n = 0;
    for (const nn_plan *p = g ? g->plans : NULL; p; p = p->next) n++;
    return n;
}

static int same_outputs(const nn_plan *p, nn_node *const *outputs, int n) {
    if (p->n_out != n) return 0;
    for (int i = 0; i < n; i++)
        if (p->out_ids[i] != outputs[i]->id) return 0;
    return 1;
}

static int plan_matches(const nn_plan *p, nn_node *const *outputs, int n, int64_t batch) {
    return p->batch == batch && same_outputs(p, outputs, n);
}

nn_plan *nn_plan_for_outputs(nn_graph *g, nn_node *const *outputs, int n) {
    for (nn_plan *p = g->plans; p; p = p->next)
        if (same_outputs(p, outputs, n)) return p;
    return NULL;
}

static size_t aligned_bytes(nn_shape s, nn_dtype dt) {
    size_t bytes = (size_t)nn_shape_size(s) * nn_dtype_size(dt);
    return (bytes + NN_ALIGN - 1) / NN_ALIGN * NN_ALIGN;
}

/* Scratch state of one compilation. */
typedef struct compiler {
    nn_graph *g;
    nn_plan *p;
    int n;             /* g->n_nodes */
    char *needed;      /* per node */
    char *is_out;      /* per node: a wanted output */
    int *n_cons;       /* per node: consumers among needed nodes */
    nn_shape *shapes;  /* per node, concrete */
    int *fused_mm;     /* per add node: the matmul it absorbs, or -1 */
    char *absorbed;    /* per node: folded into a fused step */
    int *step_of;      /* per node: its step, or -1 */
    /* blocks of the arena */
    int n_blocks;
    size_t *block_size;
    int *block_free;   /* 1: its value died */
    int **touch;       /* steps that touched the block's current value */
    int *n_touch, *cap_touch;
    int *block_of;     /* per step */
    /* dependency edges (from, to) */
    int *edges;
    int n_edges, cap_edges;
    int *mark;         /* per step: last step that added it as a dependency */
    int flags;         /* NN_PLAN_* in force */
} compiler;

static int push_int(int **arr, int *n, int *cap, int v) {
    if (*n == *cap) {
        int c = *cap ? *cap * 2 : 8;
        int *a = realloc(*arr, (size_t)c * sizeof *a);
        if (!a) return -1;
        *arr = a;
        *cap = c;
    }
    (*arr)[(*n)++] = v;
    return 0;
}

static int add_dep(compiler *c, int from, int to) {
    if (from < 0 || from == to || c->mark[from] == to) return 0;
    c->mark[from] = to;
    if (push_int(&c->edges, &c->n_edges, &c->cap_edges, from) || push_int(&c->edges, &c->n_edges, &c->cap_edges, to))
        return -1;
    return 0;
}

/* 1 if the matmul m may be folded into its only consumer. */
static int foldable_mm(const compiler *c, const nn_node *m) {
    return m->kind == NN_NODE_OP && m->op == &nn_op_matmul && c->n_cons[m->id] == 1 && !c->is_out[m->id];
}

/* Fusion pass: an add of [M,N] = matmul + bias [N] where the matmul feeds
 * only the add and is not wanted by itself; and relu's gradient
 * relu_grad(y, matmul) (the backward pass's dh = (dy W^T) where h > 0),
 * on the same condition. */
static void find_fusions(compiler *c) {
    for (int i = 0; i < c->n; i++) {
        c->fused_mm[i] = -1;
        nn_node *a = c->g->nodes[i];
        if (!c->needed[i] || a->kind != NN_NODE_OP) continue;
        if (a->op->fused_gate) {
            nn_node *m = a->in[1];
            if (foldable_mm(c, m) && a->in[0] != m && nn_shape_equal(c->shapes[m->id], c->shapes[i])) {
                c->fused_mm[i] = m->id;
                c->absorbed[m->id] = 1;
            }
            continue;
        }
        if (a->op != &nn_op_add) continue;
        for (int k = 0; k < 2; k++) {
            nn_node *m = a->in[k], *b = a->in[1 - k];
            if (!foldable_mm(c, m)) continue;
            nn_shape ms = c->shapes[m->id], bs = c->shapes[b->id];
            if (b->dtype != NN_F32 || bs.rank != 1 || bs.dim[0] != ms.dim[1]) continue;
            if (!nn_shape_equal(ms, c->shapes[i])) continue;
            c->fused_mm[i] = m->id;
            c->absorbed[m->id] = 1;
            break;
        }
    }
    /* an activation that is the add's only consumer joins the step */
    for (int i = 0; i < c->n; i++) {
        nn_node *r = c->g->nodes[i];
        if (!c->needed[i] || r->kind != NN_NODE_OP || !r->op->fusable) continue;
        nn_node *a = r->in[0];
        if (a->kind == NN_NODE_OP && a->op == &nn_op_add && c->fused_mm[a->id] >= 0 && c->n_cons[a->id] == 1 &&
            !c->is_out[a->id])
            c->absorbed[a->id] = 1;
    }
}

/* Takes a block of at least `bytes` for step s: the best-fitting free
 * block, else the largest free one grown, else a new one. */
static int take_block(compiler *c, int s, size_t bytes, int reuse) {
    int best = -1, largest = -1;
    for (int b = 0; reuse && b < c->n_blocks; b++) {
        if (!c->block_free[b]) continue;
        if (c->block_size[b] >= bytes && (best < 0 || c->block_size[b] < c->block_size[best])) best = b;
        if (largest < 0 || c->block_size[b] > c->block_size[largest]) largest = b;
    }
    int b = best >= 0 ? best : largest;
    if (b < 0) {
        b = c->n_blocks++;
        size_t *bs = realloc(c->block_size, (size_t)c->n_blocks * sizeof *bs);
        int *bf = bs ? realloc(c->block_free, (size_t)c->n_blocks * sizeof *bf) : NULL;
        if (bs) c->block_size = bs;
        if (bf) c->block_free = bf;
        int **t = bf ? realloc(c->touch, (size_t)c->n_blocks * sizeof *t) : NULL;
        if (t) c->touch = t;
        int *nt = t ? realloc(c->n_touch, (size_t)c->n_blocks * sizeof *nt) : NULL;
        if (nt) c->n_touch = nt;
        int *ct = nt ? realloc(c->cap_touch, (size_t)c->n_blocks * sizeof *ct) : NULL;
        if (ct) c->cap_touch = ct;
        if (!ct) return -1;
        c->block_size[b] = 0;
        c->touch[b] = NULL;
        c->n_touch[b] = c->cap_touch[b] = 0;
    } else {
        /* the new value may only be written once the old one's readers and
         * writer are done */
        for (int i = 0; i < c->n_touch[b]; i++)
            if (add_dep(c, c->touch[b][i], s)) return -1;
        c->n_touch[b] = 0;
    }
    if (c->block_size[b] < bytes) c->block_size[b] = bytes;
    c->block_free[b] = 0;
    c->block_of[s] = b;
    return push_int(&c->touch[b], &c->n_touch[b], &c->cap_touch[b], s) ? -1 : b;
}

static double step_cost(const nn_plan_step *st, const nn_shape *shapes) {
    nn_shape o = shapes[st->node->id];
    double out = (double)nn_shape_size(o);
    const nn_node *mm = st->mm ? st->mm : (st->node->op == &nn_op_matmul ? st->node : NULL);
    if (mm) {
        nn_shape a = shapes[mm->in[0]->id];
        double k = (double)a.dim[mm->iattr[0] ? 0 : 1];
        return 2.0 * out * k + (st->mm ? (st->act == NN_ACT_RELU_GATE ? out : 2.0 * out) : 0.0);
    }
    double in = 0;
    for (int k = 0; k < st->n_in; k++) {
        double sz = (double)nn_shape_size(shapes[st->in_node[k]->id]);
        if (sz > in) in = sz;
    }
    return in > out ? in : out;
}

static int compile_steps(compiler *c) {
    nn_plan *p = c->p;
    for (int i = 0; i < c->n; i++) {
        c->step_of[i] = -1;
        nn_node *node = c->g->nodes[i];
        if (!c->needed[i] || node->kind != NN_NODE_OP || c->absorbed[i]) continue;
        nn_plan_step *st = &p->steps[p->n_steps];
        st->node = node;
        nn_node *add = NULL;
        if (node->op->fusable && c->absorbed[node->in[0]->id]) {
            add = node->in[0];
            st->act = node->op->fused_act;
        } else if (node->op == &nn_op_add && c->fused_mm[i] >= 0) {
            add = node;
            st->act = NN_ACT_NONE;
        }
        if (node->op->fused_gate && c->fused_mm[i] >= 0) {
            nn_node *mm = c->g->nodes[c->fused_mm[i]];
            st->mm = mm;
            st->act = NN_ACT_RELU_GATE;
            st->n_in = 3;
            st->in_node[0] = mm->in[0];
            st->in_node[1] = mm->in[1];
            st->in_node[2] = node->in[0];
            p->n_fused++;
        } else if (add) {
            nn_node *mm = c->g->nodes[c->fused_mm[add->id]];
            st->mm = mm;
            st->n_in = 3;
            st->in_node[0] = mm->in[0];
            st->in_node[1] = mm->in[1];
            st->in_node[2] = add->in[0] == mm ? add->in[1] : add->in[0];
            p->n_fused++;
        } else {
            st->n_in = node->n_in;
            for (int k = 0; k < node->n_in; k++) st->in_node[k] = node->in[k];
        }
        for (int k = 0; k < st->n_in; k++) st->in_step[k] = c->step_of[st->in_node[k]->id];
        st->cost = step_cost(st, c->shapes);
        p->cost += st->cost;
        c->step_of[i] = p->n_steps++;
    }
    return 0;
}

/* Liveness and the arena: blocks, in-place and dependencies. */
static int plan_memory(compiler *c) {
    nn_plan *p = c->p;
    int flags = c->flags, S = p->n_steps;
    int *last_use = malloc((size_t)(S ? S : 1) * sizeof *last_use);
    if (!last_use) return -1;
    for (int s = 0; s < S; s++) last_use[s] = c->is_out[p->steps[s].node->id] ? INT_MAX : -1;
    for (int s = 0; s < S; s++)
        for (int k = 0; k < p->steps[s].n_in; k++) {
            int j = p->steps[s].in_step[k];
            if (j >= 0 && last_use[j] != INT_MAX && last_use[j] < s) last_use[j] = s;
        }
    for (int s = 0; s < S; s++) c->mark[s] = -1;
    int rc = 0;
    for (int s = 0; s < S && rc == 0; s++) {
        nn_plan_step *st = &p->steps[s];
        nn_node *node = st->node;
        size_t bytes = aligned_bytes(c->shapes[node->id], node->dtype);
        for (int k = 0; k < st->n_in; k++)
            if (add_dep(c, st->in_step[k], s)) rc = -1;
        /* in place over the first input the op allows (inplace_ok bit k:
         * input k) whose value dies here and has the output's shape */
        int j = -1, inplace = 0;
        for (int k = 0; !inplace && !st->mm && !(flags & NN_PLAN_NO_INPLACE) && k < st->n_in; k++) {
            j = st->in_step[k];
            inplace = (node->op->inplace_ok >> k & 1) && j >= 0 && last_use[j] == s &&
                      p->steps[j].node->dtype == node->dtype &&
                      nn_shape_equal(c->shapes[p->steps[j].node->id], c->shapes[node->id]);
            /* read twice by this step (x * x): the other read would see
             * the output half-written */
            for (int m = 0; inplace && m < st->n_in; m++)
                if (m != k && st->in_step[m] == j) inplace = 0;
        }
        if (inplace) {
            /* the input's readers other than this step must finish first;
             * later writers of the block then need wait only for this
             * step and its readers (the order is transitive), which keeps
             * a chain of in-place steps at one edge a step, not O(n^2) */
            int b = c->block_of[j];
            for (int i = 0; i < c->n_touch[b]; i++)
                if (add_dep(c, c->touch[b][i], s)) rc = -1;
            c->n_touch[b] = 0;
            c->block_of[s] = b;
            if (push_int(&c->touch[b], &c->n_touch[b], &c->cap_touch[b], s)) rc = -1;
            st->inplace = 1;
            p->n_inplace++;
        } else if (take_block(c, s, bytes, !(flags & NN_PLAN_NO_REUSE)) < 0) {
            rc = -1;
        }
        /* reading marks the input's block; a value read for the last time
         * frees its block for later steps (never for this step's output,
         * which is already placed) */
        for (int k = 0; k < st->n_in && rc == 0; k++) {
            int i = st->in_step[k];
            if (i < 0 || (st->inplace && i == j)) continue;
            int b = c->block_of[i];
            if (push_int(&c->touch[b], &c->n_touch[b], &c->cap_touch[b], s)) rc = -1;
            if (last_use[i] == s) c->block_free[b] = 1;
        }
    }
    free(last_use);
    if (rc) return -1;
    /* offsets: blocks one after another */
    size_t *offset = malloc((size_t)(c->n_blocks ? c->n_blocks : 1) * sizeof *offset);
    if (!offset) return -1;
    size_t total = 0;
    for (int b = 0; b < c->n_blocks; b++) {
        offset[b] = total;
        total += c->block_size[b];
    }
    p->arena_bytes = total;
    p->arena = nn_aligned_alloc(total ? total : NN_ALIGN);
    if (!p->arena) {
        free(offset);
        return -1;
    }
    for (int s = 0; s < S; s++) {
        nn_node *node = p->steps[s].node;
        nn_tensor_wrap(&p->bufs[s], node->dtype, c->shapes[node->id], (char *)p->arena + offset[c->block_of[s]]);
    }
    free(offset);
    /* successor lists from the edges */
    int E = c->n_edges / 2;
    p->succ_pool = malloc((size_t)(E ? E : 1) * sizeof *p->succ_pool);
    if (!p->succ_pool) return -1;
    for (int e = 0; e < E; e++) {
        p->steps[c->edges[2 * e]].n_succ++;
        p->steps[c->edges[2 * e + 1]].n_deps++;
    }
    int at = 0;
    for (int s = 0; s < S; s++) {
        p->steps[s].succ = p->succ_pool + at;
        at += p->steps[s].n_succ;
        p->steps[s].n_succ = 0;
    }
    for (int e = 0; e < E; e++) {
        nn_plan_step *from = &p->steps[c->edges[2 * e]];
        from->succ[from->n_succ++] = c->edges[2 * e + 1];
    }
    return 0;
}

static void compiler_free(compiler *c) {
    free(c->needed);
    free(c->is_out);
    free(c->n_cons);
    free(c->shapes);
    free(c->fused_mm);
    free(c->absorbed);
    free(c->step_of);
    for (int b = 0; b < c->n_blocks; b++) free(c->touch[b]);
    free(c->touch);
    free(c->n_touch);
    free(c->cap_touch);
    free(c->block_size);
    free(c->block_free);
    free(c->block_of);
    free(c->edges);
    free(c->mark);
}

static nn_plan *plan_compile(nn_graph *g, nn_node *const *outputs, int n, int64_t batch) {
    compiler c = {0};
    size_t N = (size_t)g->n_nodes;
    c.g = g;
    c.n = g->n_nodes;
    c.flags = nn_plan_flags(g);
    nn_plan *p = c.p = calloc(1, sizeof *p);
    c.needed = calloc(N, 1);
    c.is_out = calloc(N, 1);
    c.absorbed = calloc(N, 1);
    c.n_cons = calloc(N, sizeof *c.n_cons);
    c.shapes = calloc(N, sizeof *c.shapes);
    c.fused_mm = calloc(N, sizeof *c.fused_mm);
    c.step_of = calloc(N, sizeof *c.step_of);
    if (!p || !c.needed || !c.is_out || !c.absorbed || !c.n_cons || !c.shapes || !c.fused_mm || !c.step_of)
        goto nomem;
    p->batch = batch;
    p->n_out = n;
    p->out_ids = malloc((size_t)n * sizeof *p->out_ids);
    if (!p->out_ids) goto nomem;
    for (int i = 0; i < n; i++) {
        p->out_ids[i] = outputs[i]->id;
        c.is_out[outputs[i]->id] = 1;
    }
    /* ascending ids are a topological order (inputs precede consumers) */
    int n_ops = 0, n_inputs = 0;
    nn_mark_needed(g, outputs, n, c.needed);
    for (int i = 0; i < c.n; i++) {
        if (!c.needed[i]) continue;
        nn_node *node = g->nodes[i];
        if (node->kind == NN_NODE_OP) n_ops++;
        if (node->kind == NN_NODE_INPUT) n_inputs++;
        for (int k = 0; k < node->n_in; k++) c.n_cons[node->in[k]->id]++;
    }
    size_t S = (size_t)(n_ops ? n_ops : 1);
    p->steps = calloc(S, sizeof *p->steps);
    p->bufs = calloc(S, sizeof *p->bufs);
    p->clear = calloc(S, sizeof *p->clear);
    p->pending = calloc(S, sizeof *p->pending);
    p->ready = calloc(S, sizeof *p->ready);
    p->inputs = calloc((size_t)(n_inputs ? n_inputs : 1), sizeof *p->inputs);
    c.block_of = calloc(S, sizeof *c.block_of);
    c.mark = calloc(S, sizeof *c.mark);
    if (!p->steps || !p->bufs || !p->clear || !p->pending || !p->ready || !p->inputs || !c.block_of || !c.mark)
        goto nomem;
    for (int i = c.n - 1; i >= 0; i--)
        if (c.needed[i] && g->nodes[i]->kind == NN_NODE_INPUT) p->inputs[p->n_inputs++] = g->nodes[i];
    /* concrete shapes: the op shape rules run again with the batch fixed */
    for (int i = 0; i < c.n; i++) {
        if (!c.needed[i]) continue;
        nn_node *node = g->nodes[i];
        if (node->kind != NN_NODE_OP) {
            c.shapes[i] = nn_shape_bind_batch(node->shape, batch);
            continue;
        }
        nn_shape_ctx ctx = {0};
        char err[NN_ERRLEN] = "";
        ctx.node = node;
        ctx.n_in = node->n_in;
        ctx.err = err;
        for (int k = 0; k < node->n_in; k++) {
            ctx.in[k] = c.shapes[node->in[k]->id];
            ctx.in_dtype[k] = node->in[k]->dtype;
        }
        nn_dtype dt;
        nn_status s = node->op->shape(&ctx, &c.shapes[i], &dt);
        if (s != NN_OK) {
            compiler_free(&c);
            plan_free(p);
            nn_fail_run(g, s, "%s '%s': %s (batch %lld)", node->op->name, node->name, err, (long long)batch);
            return NULL;
        }
        p->naive_bytes += aligned_bytes(c.shapes[i], node->dtype);
        if (!c.is_out[i]) p->clear[p->n_clear++] = node;
    }
    if (!(c.flags & NN_PLAN_NO_FUSE)) find_fusions(&c);
    else
        for (int i = 0; i < c.n; i++) c.fused_mm[i] = -1;
    if (compile_steps(&c) || plan_memory(&c)) goto nomem;
    compiler_free(&c);
    return p;
nomem:
    compiler_free(&c);
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

nn_status nn_plan_stats(nn_graph *g, nn_node *const *outputs, int n, int64_t batch, nn_plan_info *info) {
    if (!g || !outputs || n <= 0 || batch < 1 || !info) return NN_ERR_ARG;
    for (int i = 0; i < n; i++)
        if (!outputs[i] || outputs[i]->id >= g->n_nodes || g->nodes[outputs[i]->id] != outputs[i])
            return nn_fail_run(g, NN_ERR_ARG, "plan stats: output %d is NULL or from another graph", i);
    nn_plan *p = nn_plan_get(g, outputs, n, batch);
    if (!p) return g->run_status ? g->run_status : NN_ERR_NOMEM;
    info->arena_bytes = p->arena_bytes;
    info->naive_bytes = p->naive_bytes;
    info->steps = p->n_steps;
    info->fused = p->n_fused;
    info->inplace = p->n_inplace;
    info->flops = p->cost;
    info->edges = 0;
    for (int s = 0; s < p->n_steps; s++) info->edges += p->steps[s].n_succ;
    info->runs_one = p->sched_n[0];
    info->runs_all = p->sched_n[1];
    info->time_one = p->sched_time[0];
    info->time_all = p->sched_time[1];
    return NN_OK;
}
