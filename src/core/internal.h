/*
 * Internal structures shared by src/ and ops/. Not installed; users see
 * only the opaque types of include/nngraph.h.
 */
#ifndef NN_INTERNAL_H
#define NN_INTERNAL_H

#include "nngraph.h"

#include <stdarg.h>

#define NN_MAX_INPUTS 5 /* batch_norm: x, gamma, beta and the running statistics */
#if NN_MAX_INPUTS > NN_FAULT_INPUTS
#error "nn_fault (core.h) must hold every input of an op"
#endif
#define NN_MAX_ATTRS 8  /* conv2d: stride, padding, dilation (2 each), groups, mode */
#define NN_MAX_OP_ATTRS (2 * NN_MAX_ATTRS) /* named: every iattr and fattr */
#define NN_ERRLEN 512
#define NN_ALIGN 64

struct nn_tensor {
    nn_dtype dtype;
    nn_shape shape;
    int64_t size;
    void *data;
    int owns; /* 1: data is ours to free */
};

/* Initialises a tensor header over borrowed memory (no allocation). */
void nn_tensor_wrap(nn_tensor *t, nn_dtype dt, nn_shape shape, void *data);
/* 64-byte aligned allocation, zero-filled; free with nn_aligned_free. */
void *nn_aligned_alloc(size_t bytes);
/* The same without the zero fill, for memory the caller overwrites
 * completely (a loaded data set: the fill was 8-12% of a digits process). */
void *nn_aligned_alloc_uninit(size_t bytes);
/* A tensor like nn_tensor_new's, its data not zeroed: for loaders and
 * copies that write every element. */
nn_tensor *nn_tensor_new_uninit(nn_dtype dt, nn_shape shape);
/* A tensor taking over `data` (from malloc, at least the shape's bytes;
 * freed with the tensor); NULL, data untouched, on a bad shape or no
 * memory for the header. */
nn_tensor *nn_tensor_adopt(nn_dtype dt, nn_shape shape, void *data);
/* dst[i] = src[i] / 255.0f: unorm bytes (NN_U8) to floats. */
void nn_u8_to_f32(const uint8_t *restrict src, float *restrict dst, size_t n);
void nn_aligned_free(void *p);

typedef struct nn_op_def nn_op_def;
typedef struct nn_kernel_call nn_kernel_call;

/* What an op's shape rule sees: its node (for attributes) and the shapes
 * and dtypes of its inputs. Shapes may hold NN_BATCH when the graph is
 * built and are concrete when a plan is compiled; rules treat NN_BATCH as
 * a dimension like any other (equal only to itself). */
typedef struct nn_shape_ctx {
    const nn_node *node;
    int n_in;
    nn_shape in[NN_MAX_INPUTS];
    nn_dtype in_dtype[NN_MAX_INPUTS];
    char *err; /* on failure, write a message here (NN_ERRLEN bytes) */
} nn_shape_ctx;

/* One kernel invocation: concrete tensors, ready to compute. */
struct nn_kernel_call {
    const nn_node *node;
    int n_in;
    const nn_tensor *in[NN_MAX_INPUTS];
    nn_tensor *out;
    struct nn_exec *exec; /* thread pool for splitting work; may be NULL */
    char *err;            /* on failure, write a message here (NN_ERRLEN) */
    int training;         /* the graph's mode for this run (1: training) */
    uint64_t seed;        /* this run's random seed (nn_graph.runs mixed
                             with the graph's generator); a kernel mixes in
                             its own stream */
    const int64_t *row_ids; /* the dataset row of each batch row, or NULL
                               (nn_row_name words a row for a message) */
};

/* The bit of nn_op_def.inplace_ok for input k. */
#define NN_INPLACE(k) (1 << (k))

/* What a fused product step applies as it stores: a bias and then an
 * activation (NONE, RELU, SIGMOID: inputs A, B, bias), or relu's gradient
 * (RELU_GATE, a plan-only step: inputs A, B and relu's output y; the
 * product where y > 0, else 0). */
typedef enum nn_act { NN_ACT_NONE = 0, NN_ACT_RELU, NN_ACT_SIGMOID, NN_ACT_RELU_GATE } nn_act;

/* What an op is, for the code that reads graphs rather than computing
 * them (layer tables, DOT, summaries, predict, the fusion pass). */
typedef enum nn_op_role {
    NN_OP_COMPUTE = 0, /* computes a value; nothing more to know */
    NN_OP_ACTIVATION,  /* elementwise activation: names its layer's activation */
    NN_OP_LOSS,        /* a scalar loss of (model output, targets): input 0 is
                          what the model predicts */
} nn_op_role;

/* How the model output feeding a loss (the loss's input 0) is read as a
 * prediction: by predict, accuracy and `nngraph predict`. */
typedef enum nn_output_kind {
    NN_OUTPUT_NONE = 0, /* not a loss */
    NN_OUTPUT_CLASSES,  /* logits over the last axis: the class is the argmax */
    NN_OUTPUT_BINARY,   /* one logit per target: positive means class 1 */
    NN_OUTPUT_VALUES,   /* the values themselves (regression) */
} nn_output_kind;

/* A named attribute of an op, as graph files write it (`key=value`):
 * `kind` 'i' (0/1 flag in iattr, written when nonzero), 'n' (integer in
 * iattr, always written), 'f' (float in fattr, always written), 'a'
 * (axis in iattr: a number or "all", always written) or 'p' (a padding
 * mode in iattr: explicit, same or valid; ops/window.c); `index` into
 * iattr or fattr. */
typedef struct nn_op_attr {
    const char *key; /* NULL ends a list shorter than NN_MAX_OP_ATTRS */
    char kind;
    int index;
} nn_op_attr;

/* An op: everything nngraph knows about it, in one place. One descriptor
 * (or a forward and a gradient one) per file in ops/, written with
 * designated initialisers; fields left out are 0/NULL, which is the
 * right default for each. docs/adding-an-op.md walks through one. */
struct nn_op_def {
    const char *name; /* its name in graph files, DOT, errors */
    int n_inputs;     /* exact arity */
    /* Sets *out and *out_dtype from the inputs; returns NN_OK or an error
     * after writing ctx->err (without the op/node prefix, added by the
     * caller). */
    nn_status (*shape)(nn_shape_ctx *ctx, nn_shape *out, nn_dtype *out_dtype);
    /* Computes c->out from c->in; returns NN_OK or writes c->err. */
    nn_status (*forward)(nn_kernel_call *c);
    /* Builds gradient nodes: given dy (the gradient of the node's output),
     * sets dx[i] for each input i with want[i] set (NULL: no gradient
     * flows). NULL rule: the op is not differentiable. */
    nn_status (*grad)(nn_graph *g, nn_node *node, nn_node *dy, const int *want, nn_node **dx);
    /* In-place rule: NN_INPLACE(k) set means out may share the buffer of
     * in[k] when that input dies here (every output element reads only the
     * same element of in[k]). */
    int inplace_ok;
    /* The attributes graph files name; an attribute missing here is lost
     * on save, so every iattr/fattr the op reads is listed. */
    nn_op_attr attrs[NN_MAX_OP_ATTRS];
    nn_op_role role;
    /* NN_OP_ACTIVATION: its name in layer tables (NULL: the op's name;
     * identity says "linear", as Keras does). */
    const char *activation;
    /* 1: the plan may fold this activation into a preceding dense step
     * (matmul + bias), applying fused_act there. */
    int fusable;
    nn_act fused_act;
    /* 1: a gradient op g(y, dy) the plan may fold into the product that
     * computes dy (input 1) when that product feeds only it: relu's
     * gradient, the product kept where y > 0 (NN_ACT_RELU_GATE). */
    int fused_gate;
    /* NN_OP_LOSS: how its input 0 reads as a prediction. */
    nn_output_kind output;
    /* A layer (scope) holding this op is a layer of this kind in layer
     * tables and summaries ("dense" for matmul); NULL: says nothing. */
    const char *layer_kind;
};

struct nn_node {
    int id; /* index in the graph's node array: stable, creation order */
    nn_graph *graph; /* the graph holding it (its pool serves the
                        optimizer's step over its parameters) */
    char *name;
    nn_node_kind kind;
    const nn_op_def *op; /* NULL unless kind == NN_NODE_OP */
    int n_in;
    nn_node *in[NN_MAX_INPUTS];
    nn_dtype dtype;
    nn_shape shape; /* may hold NN_BATCH in dim[0] */
    float fattr[NN_MAX_ATTRS];
    int64_t iattr[NN_MAX_ATTRS];
    void *opdata;                  /* op-specific data (e.g. ffi binding) */
    void (*opdata_free)(void *);   /* frees opdata with the graph */
    nn_tensor *tensor;             /* param/const storage (owned) */
    nn_init init;                  /* param initialiser */
    const nn_tensor *value;        /* current value: bound input, param,
                                      or the last run's buffer */
    int is_grad;                   /* made by nn_grad */
    int frozen;                    /* a param the optimizers leave alone
                                      (batch norm's running statistics) */
    const nn_node *grad_of;        /* for a param's gradient: the param */
};

struct nn_plan;

struct nn_graph {
    nn_node **nodes;
    int n_nodes, cap_nodes;
    /* name -> node, open addressing over the node array (index + 1) */
    int *name_slots;
    int name_cap;
    char scope[256];
    int scope_len[16];
    int scope_depth;
    nn_rng rng;
    nn_status status;     /* sticky build error */
    nn_status run_status; /* last run's error */
    char err[NN_ERRLEN];
    int has_fault; /* 1: fault describes the build error */
    nn_fault fault;
    int building_grad; /* nodes made now are gradient nodes */
    uint64_t runs;     /* runs started: each run's random seed mixes it
                          with the generator's state, which it leaves as
                          it is (a graph without dropout keeps the
                          sequence of draws it always had) */
    int training;      /* 1: training mode (dropout drops, batch norm uses
                          and updates batch statistics); 0: evaluation */
    int threads;
    int plan_flags;        /* NN_PLAN_* (plan.h): optimisations switched off */
    struct nn_plan *plans; /* cached plans, a list */
    struct nn_exec *exec;  /* thread pool, made on first run */
    struct nn_attachment *attachments; /* layers' state (nn_graph_attach) */
    /* while nn_fit or nn_evaluate runs a batch: the dataset row of each of
     * its rows, so that a kernel's error names the row the user can find;
     * else NULL */
    const int64_t *row_ids;
    nn_value_fn on_value; /* nn_graph_on_value: called after each step */
    void *on_value_user;
};

/* The 64-bit mix of splitmix64: a counter-based stream of random bits
 * (run seeds and dropout's masks, drawn in any order and on any
 * thread). */
static inline uint64_t nn_mix64(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Records a build error (keeps the first); returns NULL for convenience. */
nn_node *nn_fail(nn_graph *g, nn_status s, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
/* Records a run error (replaces an earlier run error, never a build error). */
nn_status nn_fail_run(nn_graph *g, nn_status s, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
/* vsnprintf into a kernel's or shape rule's err buffer; returns s. */
nn_status nn_errf(char *err, nn_status s, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Makes an op node: checks arity, inputs, runs the shape rule, names it.
 * fattr/iattr may be NULL (zeros). The building block of every nn_<op>(). */
nn_node *nn_op_node(nn_graph *g, const nn_op_def *op, const char *name, int n_in, nn_node *const *in,
                    const float *fattr, const int64_t *iattr);
/* State a layer above core keeps with a graph (fit's gradients, found
 * again by a later fit), under a key of that layer's own (the address of
 * one of its statics): core stores it and frees it with the graph, and
 * knows nothing more. Attaching under a key already used frees the old
 * data first. NN_ERR_NOMEM (data freed) if the entry cannot be made. */
nn_status nn_graph_attach(nn_graph *g, const void *key, void *data, void (*free_fn)(void *));
/* The data attached under key, or NULL. */
void *nn_graph_attachment(const nn_graph *g, const void *key);

/* Sets need[i] = 1 for every node the n outputs depend on, the outputs
 * included (need has g->n_nodes entries; others are left as they are).
 * The one walk behind plans, runs and fit: inputs precede their consumers
 * in creation order, so one backward sweep from the highest output is
 * enough. Returns the highest output id, -1 if n is 0. */
int nn_mark_needed(const nn_graph *g, nn_node *const *outputs, int n, char *need);
/* Adds a node (any kind) under a unique name derived from `base` within
 * the open scope. Takes ownership of nothing; returns NULL on failure. */
nn_node *nn_graph_add_node(nn_graph *g, nn_node_kind kind, const char *base);

/* The number of named attributes of op (its attrs up to the first NULL key). */
static inline int nn_op_attr_count(const nn_op_def *op) {
    int n = 0;
    while (n < NN_MAX_OP_ATTRS && op->attrs[n].key) n++;
    return n;
}

/* Op registry (ops/registry.c): the ops listed in ops/meson.build, then
 * any registered at run time. */
const nn_op_def *nn_op_find(const char *name);
int nn_op_count(void);
const nn_op_def *nn_op_at(int i);
/* Adds an op that is not in the table (a test's, or an embedder's own):
 * from now on graph files, DOT, summaries and `check` know it by name. The
 * descriptor must outlive every graph using it. Refuses a name already
 * taken or a descriptor without name, arity, shape rule or kernel
 * (NN_ERR_ARG, with nn_last_error() saying why). Not thread-safe: register
 * before building graphs. */
nn_status nn_op_register(const nn_op_def *op);

/* Execution plans (src/plan.c) and the executor (src/exec.c). */
struct nn_plan *nn_plan_get(nn_graph *g, nn_node *const *outputs, int n, int64_t batch);
nn_status nn_plan_execute(nn_graph *g, struct nn_plan *p);
void nn_plans_free(nn_graph *g);

/* s with every open batch dimension set to `batch`: the concrete shape a
 * node has in a run (plans) or in a gradient audit. */
static inline nn_shape nn_shape_bind_batch(nn_shape s, int64_t batch) {
    for (int i = 0; i < s.rank; i++)
        if (s.dim[i] == NN_BATCH) s.dim[i] = batch;
    return s;
}

#endif
