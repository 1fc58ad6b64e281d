/* Graphs: nodes, unique names within scopes, inputs, parameters, constants
 * and the generic op-node constructor every op builder goes through. */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

nn_graph *nn_graph_new(uint64_t seed) {
    nn_graph *g = calloc(1, sizeof *g);
    if (!g) return NULL;
    nn_rng_seed(&g->rng, seed);
    g->threads = 0; /* 0: decided on first run (the machine's cores) */
    return g;
}

static void node_free(nn_node *n) {
    if (!n) return;
    if (n->opdata_free) n->opdata_free(n->opdata);
    nn_tensor_free(n->tensor);
    free(n->name);
    free(n);
}

void nn_exec_free(struct nn_exec *e);

/* One layer's state kept with the graph (nn_graph_attach). */
typedef struct nn_attachment {
    const void *key;
    void *data;
    void (*free_fn)(void *);
    struct nn_attachment *next;
} nn_attachment;

nn_status nn_graph_attach(nn_graph *g, const void *key, void *data, void (*free_fn)(void *)) {
    nn_attachment *a = g->attachments;
    while (a && a->key != key) a = a->next;
    if (!a) {
        a = calloc(1, sizeof *a);
        if (!a) {
            if (free_fn) free_fn(data);
            return NN_ERR_NOMEM;
        }
        a->key = key;
        a->next = g->attachments;
        g->attachments = a;
    } else if (a->free_fn) {
        a->free_fn(a->data);
    }
    a->data = data;
    a->free_fn = free_fn;
    return NN_OK;
}

void *nn_graph_attachment(const nn_graph *g, const void *key) {
    for (const nn_attachment *a = g->attachments; a; a = a->next)
        if (a->key == key) return a->data;
    return NULL;
}

void nn_graph_free(nn_graph *g) {
    if (!g) return;
    while (g->attachments) {
        nn_attachment *a = g->attachments;
        g->attachments = a->next;
        if (a->free_fn) a->free_fn(a->data);
        free(a);
    }
    nn_plans_free(g);
    nn_exec_free(g->exec);
    for (int i = 0; i < g->n_nodes; i++) node_free(g->nodes[i]);
    free(g->nodes);
    free(g->name_slots);
    free(g);
}

nn_rng *nn_graph_rng(nn_graph *g) { return g ? &g->rng : NULL; }

int nn_graph_set_training(nn_graph *g, int training) {
    if (!g) return 0;
    int old = g->training;
    g->training = training != 0;
    return old;
}

int nn_graph_training(const nn_graph *g) { return g ? g->training : 0; }

/* ---- names: an open-addressing table of node indices ---- */

static uint64_t name_hash(const char *s) {
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static int name_lookup(const nn_graph *g, const char *name) {
    if (!g->name_cap) return -1;
    size_t mask = (size_t)g->name_cap - 1;
    for (size_t i = name_hash(name) & mask;; i = (i + 1) & mask) {
        int slot = g->name_slots[i];
        if (slot == 0) return -1;
        if (strcmp(g->nodes[slot - 1]->name, name) == 0) return slot - 1;
    }
}

static void name_insert(nn_graph *g, int index) {
    size_t mask = (size_t)g->name_cap - 1;
    size_t i = name_hash(g->nodes[index]->name) & mask;
    while (g->name_slots[i]) i = (i + 1) & mask;
    g->name_slots[i] = index + 1;
}

static int names_grow(nn_graph *g) {
    /* keep the table at most half full */
    if (2 * (g->n_nodes + 1) <= g->name_cap) return 0;
    int cap = g->name_cap ? g->name_cap * 2 : 64;
    int *slots = calloc((size_t)cap, sizeof *slots);
    if (!slots) return -1;
    free(g->name_slots);
    g->name_slots = slots;
    g->name_cap = cap;
    for (int i = 0; i < g->n_nodes; i++) name_insert(g, i);
    return 0;
}

nn_node *nn_graph_find(const nn_graph *g, const char *name) {
    if (!g || !name) return NULL;
    int i = name_lookup(g, name);
    return i < 0 ? NULL : g->nodes[i];
}

nn_status nn_scope_push(nn_graph *g, const char *scope) {
    if (!g || !scope || !*scope) return NN_ERR_ARG;
    size_t cur = strlen(g->scope), add = strlen(scope);
    if (g->scope_depth >= (int)(sizeof g->scope_len / sizeof *g->scope_len) ||
        cur + add + 2 > sizeof g->scope) {
        nn_fail(g, NN_ERR_ARG, "scope '%s': scopes nested too deep or too long", scope);
        return NN_ERR_ARG;
    }
    g->scope_len[g->scope_depth++] = (int)cur;
    if (cur) g->scope[cur++] = '/';
    memcpy(g->scope + cur, scope, add + 1);
    return NN_OK;
}

void nn_scope_pop(nn_graph *g) {
    if (!g || g->scope_depth == 0) return;
    g->scope[g->scope_len[--g->scope_depth]] = 0;
}

/* "scope/base", made unique by a suffix "_2", "_3", ... if taken. */
static char *unique_name(const nn_graph *g, const char *base) {
    size_t len = strlen(g->scope) + strlen(base) + 24;
    char *name = malloc(len);
    if (!name) return NULL;
    if (g->scope[0])
        snprintf(name, len, "%s/%s", g->scope, base);
    else
        snprintf(name, len, "%s", base);
    size_t stem = strlen(name);
    for (int k = 2; name_lookup(g, name) >= 0; k++) snprintf(name + stem, len - stem, "_%d", k);
    return name;
}

nn_node *nn_graph_add_node(nn_graph *g, nn_node_kind kind, const char *base) {
    if (!g || g->status != NN_OK) return NULL;
    if (!base || !*base) return nn_fail(g, NN_ERR_ARG, "a node needs a non-empty name");
    if (strchr(base, ' ') || strchr(base, '\n') || strchr(base, '\t') || strchr(base, '"'))
        return nn_fail(g, NN_ERR_ARG, "node name '%s' has a space, tab, newline or quote", base);
    if (g->n_nodes == g->cap_nodes) {
        int cap = g->cap_nodes ? g->cap_nodes * 2 : 32;
        nn_node **nodes = realloc(g->nodes, (size_t)cap * sizeof *nodes);
        if (!nodes) return nn_fail(g, NN_ERR_NOMEM, "out of memory adding node '%s'", base);
        g->nodes = nodes;
        g->cap_nodes = cap;
    }
    if (names_grow(g)) return nn_fail(g, NN_ERR_NOMEM, "out of memory adding node '%s'", base);
    nn_node *n = calloc(1, sizeof *n);
    if (!n) return nn_fail(g, NN_ERR_NOMEM, "out of memory adding node '%s'", base);
    n->graph = g;
    n->name = unique_name(g, base);
    if (!n->name) {
        free(n);
        return nn_fail(g, NN_ERR_NOMEM, "out of memory adding node '%s'", base);
    }
    size_t name_len = strlen(n->name);
    if (name_len >= NN_MAX_NAME) {
        nn_fail(g, NN_ERR_ARG, "node name '%.60s...' is %zu bytes long (scope included); names are at most %d bytes",
                n->name, name_len, NN_MAX_NAME - 1);
        free(n->name);
        free(n);
        return NULL;
    }
    n->kind = kind;
    n->id = g->n_nodes;
    n->is_grad = g->building_grad;
    g->nodes[g->n_nodes++] = n;
    name_insert(g, n->id);
    return n;
}

static int shape_ok(nn_shape s, int allow_batch) {
    if (s.rank < 0 || s.rank > NN_MAX_RANK) return 0;
    for (int i = 0; i < s.rank; i++) {
        if (s.dim[i] == NN_BATCH && i == 0 && allow_batch) continue;
        if (s.dim[i] <= 0) return 0;
    }
    return 1;
}

nn_node *nn_input(nn_graph *g, const char *name, nn_dtype dt, nn_shape shape) {
    char sh[64];
    if (!g || g->status != NN_OK) return NULL;
    if (dt != NN_F32 && dt != NN_I32) return nn_fail(g, NN_ERR_ARG, "input '%s': unknown dtype %d", name ? name : "?", (int)dt);
    if (!shape_ok(shape, 1))
        return nn_fail(g, NN_ERR_SHAPE, "input '%s': bad shape %s (rank 0..4, dims > 0, only the first may be NN_BATCH)",
                       name ? name : "?", nn_shape_str(shape, sh, sizeof sh));
    nn_node *n = nn_graph_add_node(g, NN_NODE_INPUT, name ? name : "input");
    if (!n) return NULL;
    n->dtype = dt;
    n->shape = shape;
    return n;
}

nn_node *nn_param(nn_graph *g, const char *name, nn_shape shape, nn_init init) {
    char sh[64];
    if (!g || g->status != NN_OK) return NULL;
    if (!shape_ok(shape, 0))
        return nn_fail(g, NN_ERR_SHAPE, "param '%s': bad shape %s (rank 0..4, dims > 0)", name ? name : "?",
                       nn_shape_str(shape, sh, sizeof sh));
    nn_tensor *t = nn_tensor_new(NN_F32, shape);
    if (!t) return nn_fail(g, NN_ERR_NOMEM, "param '%s': out of memory", name ? name : "?");
    if (nn_tensor_init(t, init, &g->rng) != NN_OK) {
        nn_tensor_free(t);
        return nn_fail(g, NN_ERR_ARG, "param '%s': unknown initialiser %d", name ? name : "?", (int)init.kind);
    }
    nn_node *n = nn_graph_add_node(g, NN_NODE_PARAM, name ? name : "param");
    if (!n) {
        nn_tensor_free(t);
        return NULL;
    }
    n->dtype = NN_F32;
    n->shape = shape;
    n->tensor = t;
    n->value = t;
    n->init = init;
    return n;
}

nn_node *nn_const(nn_graph *g, const char *name, const nn_tensor *value) {
    if (!g || g->status != NN_OK) return NULL;
    if (!value) return nn_fail(g, NN_ERR_ARG, "const '%s': value is NULL", name ? name : "?");
    nn_tensor *t = nn_tensor_clone(value);
    if (!t) return nn_fail(g, NN_ERR_NOMEM, "const '%s': out of memory", name ? name : "?");
    nn_node *n = nn_graph_add_node(g, NN_NODE_CONST, name ? name : "const");
    if (!n) {
        nn_tensor_free(t);
        return NULL;
    }
    n->dtype = t->dtype;
    n->shape = t->shape;
    n->tensor = t;
    n->value = t;
    return n;
}

nn_node *nn_scalar(nn_graph *g, float v) {
    nn_tensor t;
    nn_tensor_wrap(&t, NN_F32, NN_SCALAR, &v);
    return nn_const(g, "scalar", &t);
}

/* Belongs to g: guards against nodes of another graph, which C cannot. */
static int owns_node(const nn_graph *g, const nn_node *n) {
    return n->id >= 0 && n->id < g->n_nodes && g->nodes[n->id] == n;
}

nn_node *nn_op_node(nn_graph *g, const nn_op_def *op, const char *name, int n_in, nn_node *const *in,
                    const float *fattr, const int64_t *iattr) {
    if (!g || g->status != NN_OK) return NULL;
    if (n_in != op->n_inputs || n_in > NN_MAX_INPUTS)
        return nn_fail(g, NN_ERR_ARG, "%s: takes %d inputs, got %d", op->name, op->n_inputs, n_in);
    nn_shape_ctx ctx = {0};
    char err[NN_ERRLEN] = "";
    for (int i = 0; i < n_in; i++) {
        if (!in[i]) return nn_fail(g, NN_ERR_ARG, "%s: input %d is NULL", op->name, i);
        if (!owns_node(g, in[i]))
            return nn_fail(g, NN_ERR_ARG, "%s: input %d belongs to another graph", op->name, i);
        ctx.in[i] = in[i]->shape;
        ctx.in_dtype[i] = in[i]->dtype;
    }
    ctx.n_in = n_in;
    ctx.err = err;
    /* the rule sees the attributes through a scratch node */
    nn_node scratch = {0};
    scratch.op = op;
    scratch.n_in = n_in;
    for (int i = 0; i < n_in; i++) scratch.in[i] = in[i];
    if (fattr) memcpy(scratch.fattr, fattr, sizeof scratch.fattr);
    if (iattr) memcpy(scratch.iattr, iattr, sizeof scratch.iattr);
    ctx.node = &scratch;
    nn_shape out;
    nn_dtype dt = NN_F32;
    nn_status s = op->shape(&ctx, &out, &dt);
    if (s != NN_OK) {
        char a[64], b[64];
        const char *who = name ? name : op->name;
        nn_fault *f = &g->fault;
        memset(f, 0, sizeof *f);
        snprintf(f->op, sizeof f->op, "%s", op->name);
        snprintf(f->node, sizeof f->node, "%.120s%s%.128s", g->scope, g->scope[0] ? "/" : "", who);
        f->n_inputs = n_in < NN_FAULT_INPUTS ? n_in : NN_FAULT_INPUTS;
        for (int i = 0; i < f->n_inputs; i++) {
            snprintf(f->inputs[i], sizeof f->inputs[i], "%s", in[i]->name);
            f->input_shapes[i] = in[i]->shape;
            f->input_dtypes[i] = in[i]->dtype;
        }
        g->has_fault = 1; /* g had no error: this one is the first */
        if (n_in >= 2)
            return nn_fail(g, s, "%s '%s%s%s': %s (inputs '%s' %s and '%s' %s)", op->name, g->scope,
                           g->scope[0] ? "/" : "", who, err, in[0]->name, nn_shape_str(in[0]->shape, a, sizeof a),
                           in[1]->name, nn_shape_str(in[1]->shape, b, sizeof b));
        return nn_fail(g, s, "%s '%s%s%s': %s (input '%s' %s)", op->name, g->scope, g->scope[0] ? "/" : "", who,
                       err, in[0]->name, nn_shape_str(in[0]->shape, a, sizeof a));
    }
    nn_node *n = nn_graph_add_node(g, NN_NODE_OP, name ? name : op->name);
    if (!n) return NULL;
    n->op = op;
    n->n_in = n_in;
    for (int i = 0; i < n_in; i++) n->in[i] = in[i];
    memcpy(n->fattr, scratch.fattr, sizeof n->fattr);
    memcpy(n->iattr, scratch.iattr, sizeof n->iattr);
    n->shape = out;
    n->dtype = dt;
    return n;
}

/* ---- accessors ---- */

const char *nn_node_name(const nn_node *n) { return n ? n->name : NULL; }
nn_node_kind nn_node_kind_of(const nn_node *n) { return n->kind; }

const char *nn_node_op(const nn_node *n) {
    if (!n) return NULL;
    switch (n->kind) {
    case NN_NODE_INPUT: return "input";
    case NN_NODE_PARAM: return "param";
    case NN_NODE_CONST: return "const";
    case NN_NODE_OP: return n->op->name;
    }
    return "?";
}

nn_shape nn_node_shape(const nn_node *n) { return n->shape; }
nn_dtype nn_node_dtype(const nn_node *n) { return n->dtype; }
int nn_node_num_inputs(const nn_node *n) { return n ? n->n_in : 0; }
nn_node *nn_node_input(const nn_node *n, int i) { return n && i >= 0 && i < n->n_in ? n->in[i] : NULL; }
int nn_node_is_grad(const nn_node *n) { return n ? n->is_grad : 0; }
nn_tensor *nn_param_value(nn_node *n) { return n ? n->tensor : NULL; }
nn_init nn_param_init(const nn_node *n) { return n->init; }

nn_status nn_param_set_trainable(nn_node *n, int trainable) {
    if (!n || n->kind != NN_NODE_PARAM) return nn_set_error(NN_ERR_ARG, "set_trainable: not a param");
    n->frozen = !trainable;
    return NN_OK;
}

int nn_param_trainable(const nn_node *n) { return n && n->kind == NN_NODE_PARAM && !n->frozen; }
int nn_graph_num_nodes(const nn_graph *g) { return g ? g->n_nodes : 0; }
nn_node *nn_graph_node(const nn_graph *g, int i) { return g && i >= 0 && i < g->n_nodes ? g->nodes[i] : NULL; }

int nn_graph_params(const nn_graph *g, nn_node **out, int max) {
    int k = 0;
    for (int i = 0; g && i < g->n_nodes; i++) {
        if (g->nodes[i]->kind != NN_NODE_PARAM) continue;
        if (out && k < max) out[k] = g->nodes[i];
        k++;
    }
    return k;
}

int64_t nn_graph_param_count(const nn_graph *g) {
    int64_t total = 0;
    for (int i = 0; g && i < g->n_nodes; i++)
        if (g->nodes[i]->kind == NN_NODE_PARAM) total += g->nodes[i]->tensor->size;
    return total;
}

/* ---- what outputs need ---- */

int nn_mark_needed(const nn_graph *g, nn_node *const *outputs, int n, char *need) {
    int top = -1;
    for (int i = 0; i < n; i++) {
        need[outputs[i]->id] = 1;
        if (outputs[i]->id > top) top = outputs[i]->id;
    }
    for (int i = top; i >= 0; i--)
        if (need[i])
            for (int k = 0; k < g->nodes[i]->n_in; k++) need[g->nodes[i]->in[k]->id] = 1;
    return top;
}

/* ---- what a graph's ops are for ---- */

/* 1 for each node a forward (not gradient) node reads; NULL if out of memory. */
static char *forward_reads(const nn_graph *g) {
    char *read = calloc((size_t)g->n_nodes + 1, 1);
    for (int i = 0; read && i < g->n_nodes; i++)
        if (!g->nodes[i]->is_grad)
            for (int k = 0; k < g->nodes[i]->n_in; k++) read[g->nodes[i]->in[k]->id] = 1;
    return read;
}

nn_node *nn_graph_guess_loss(const nn_graph *g) {
    char *read = forward_reads(g);
    if (!read) return NULL;
    nn_node *loss = NULL;
    for (int i = 0; i < g->n_nodes; i++) {
        nn_node *n = g->nodes[i];
        if (n->kind == NN_NODE_OP && !n->is_grad && !read[i] && n->shape.rank == 0) loss = n;
    }
    free(read);
    return loss;
}

nn_node *nn_graph_guess_output(const nn_graph *g) {
    nn_node *loss = NULL;
    for (int i = 0; i < g->n_nodes; i++) {
        nn_node *n = g->nodes[i];
        if (n->kind == NN_NODE_OP && !n->is_grad && n->op->role == NN_OP_LOSS) loss = n;
    }
    if (loss) return loss->in[0];
    for (int i = g->n_nodes - 1; i >= 0; i--) {
        nn_node *n = g->nodes[i];
        if (n->kind == NN_NODE_OP && !n->is_grad && n->shape.rank > 0) return n;
    }
    return NULL;
}
