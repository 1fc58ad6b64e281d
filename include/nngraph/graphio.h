/*
 * nngraph/graphio.h: graph files (.nng), DOT export and Graphviz rendering.
 *
 * The graph file
 * --------------
 * UTF-8 text, one node per line in creation (topological) order:
 *
 *     nngraph-graph 1
 *     # comments and blank lines are ignored
 *     x           input   f32 [B,400]
 *     L1/W        param   f32 [400,25]  init=glorot_uniform
 *     L1/b        param   f32 [25]      init=zeros
 *     L1/matmul   matmul  f32 [B,25]    x L1/W
 *     L1/add      add     f32 [B,25]    L1/matmul L1/b
 *     half        const   f32 []        fill=0.5
 *     s           scale   f32 [B,25]    L1/add alpha=0.5
 *     end 7
 *
 * A node line is NAME OP DTYPE SHAPE, then the inputs by name, then
 * key=value attributes. OP is an op of the registry, or input, param,
 * const. SHAPE is [d0,d1,...] with B for the open batch dimension and []
 * for a scalar. A name that holds '=' or starts with '#' is written in
 * double quotes ("a=b"); names never hold spaces or quotes.
 * Attributes: op attributes by name (matmul trans_a=1 trans_b=1, scale
 * alpha=, sum/mean/expand axis=N|all, expand mean=1; other ops' raw
 * attributes as f0..f3 / i0..i3), a parameter's init=NAME or
 * NAME(a) / NAME(a,b) (uniform(-0.1,0.1)), a constant's fill=V (every
 * element V) or value=V,V,... (row-major), grad=1 on gradient nodes and
 * grad_of=PARAM on a parameter's gradient. The last line, `end N`, counts
 * the nodes, so a truncated file is detected.
 *
 * Weights do not travel in the file: parameters are initialised again from
 * their initialisers with the loader's seed; trained values go to a
 * weights file (nn_weights_save below) or the run log. The format in full,
 * with the weights file and the `nngraph` command: docs/graph-format.md.
 *
 * Custom op families (ffi:LIB:SYMBOL ops) plug in through
 * nn_graphio_register_ops(): they write and read their own attributes.
 */
#ifndef NNGRAPH_GRAPHIO_H
#define NNGRAPH_GRAPHIO_H

#include "core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What this header declares is the library's API: the shared library
 * exports it and hides everything else (-fvisibility=hidden). */
#if defined(__GNUC__)
#pragma GCC visibility push(default)
#endif

/* The format version written on the first line ("nngraph-graph 1"). */
#define NN_GRAPH_FORMAT_VERSION 1

/* ------------------------------------------------------------------ */
/* Saving                                                              */
/* ------------------------------------------------------------------ */

/* The graph as graph-file text, NUL-terminated, to free(); NULL on error
 * (reason in nn_last_error(): a graph in error, a name that is not valid
 * UTF-8 or holds control characters, out of memory). */
char *nn_graph_to_text(const nn_graph *g);
/* Writes the text to `out`. The whole text is made first, so an error
 * writes nothing. */
nn_status nn_graph_save_text(const nn_graph *g, FILE *out);
/* Writes the file atomically: a temporary file in the same directory,
 * flushed, then renamed over `path`. On error nothing is written and an
 * existing file is left as it was. */
nn_status nn_graph_save(const nn_graph *g, const char *path);
/* Writes any bytes to `path` the same atomic way (used for rendered
 * pictures and weights). */
nn_status nn_write_file_atomic(const char *path, const void *data, size_t len);

/* ------------------------------------------------------------------ */
/* Loading                                                             */
/* ------------------------------------------------------------------ */

/* Where a load failed. `node`, `op` and `inputs` describe the failing
 * line's node when the line got that far (empty strings otherwise), so a
 * picture can mark it. */
typedef struct nn_load_fault {
    int line, column; /* 1-based; 0 when not tied to a place */
    char node[NN_MAX_NAME];
    char op[NN_MAX_NAME];
    int n_inputs;
    char inputs[NN_FAULT_INPUTS][NN_MAX_NAME];
} nn_load_fault;

/* Rebuilds a graph from a file through the ordinary builders (so every
 * shape is checked again), parameters initialised from their initialisers
 * with `seed`. NULL on any error, with "FILE:LINE:COL: reason" in
 * nn_last_error(); nothing half-built is returned. */
nn_graph *nn_graph_load(const char *path, uint64_t seed);
/* The same from text in memory; `source` names it in messages. */
nn_graph *nn_graph_load_text(const char *text, size_t len, const char *source, uint64_t seed);
/* For pictures of broken files: like nn_graph_load, but when a node line
 * fails, returns the graph with the nodes read before it, its sticky error
 * set to the message (nn_graph_status() != NN_OK), and `fault` (may be
 * NULL) filled in. NULL only when no graph can be made at all (the file
 * cannot be read, a bad first line, out of memory). */
nn_graph *nn_graph_load_partial(const char *path, uint64_t seed, nn_load_fault *fault);
nn_graph *nn_graph_load_text_partial(const char *text, size_t len, const char *source, uint64_t seed,
                                     nn_load_fault *fault);

/* ------------------------------------------------------------------ */
/* Weights files                                                        */
/* ------------------------------------------------------------------ */
/* The values of a graph's parameters, apart from the graph file. Binary,
 * little-endian (docs/graph-format.md):
 *
 *     "NNGW"  u32 version (1)  u32 count
 *     count times:  u32 name_len, name (UTF-8, no NUL)
 *                   u32 dtype (0 = f32)  u32 rank  rank x u64 dims
 *                   u64 data_bytes  data (f32 LE, row-major)
 *                   u32 crc32 (zlib's, of the data bytes)
 *
 * Tensors are written in parameter creation order; a reader matches them
 * by name. */

/* Writes every parameter's current value, atomically (temp + rename). */
nn_status nn_weights_save(const nn_graph *g, const char *path);
/* Sets every parameter of g from the file. All or nothing: the file is
 * checked whole (magic, version, truncation, checksums, each name a
 * parameter of g with the same shape, none missing, none twice, no
 * trailing bytes) before any value changes; the error names the file and
 * the tensor. */
nn_status nn_weights_load(nn_graph *g, const char *path);
/* The same from bytes in memory; `source` names them in messages. */
nn_status nn_weights_load_data(nn_graph *g, const void *data, size_t len, const char *source);

/* ------------------------------------------------------------------ */
/* Op families outside the registry (custom ops)                        */
/* ------------------------------------------------------------------ */

/* A family of ops whose names start with `prefix` (e.g. "ffi:"), with
 * op-specific data the generic attributes cannot hold. */
typedef struct nn_op_text_family {
    const char *prefix;
    /* Writes the node's own attributes as " key=value" tokens (each
     * starting with a space; values without spaces or quotes) into buf of
     * `cap` bytes; returns the length written, or -1 after
     * nn_set_error(). */
    int (*format_attrs)(const nn_node *node, char *buf, size_t cap);
    /* Builds the node `name` of op `op` (the full op token) on `in`, from
     * the line's own attributes (keys[i]=values[i], grad/grad_of
     * excluded); returns the node, or NULL after recording the reason on
     * g (a builder failing does that). */
    nn_node *(*build)(nn_graph *g, const char *name, const char *op, nn_node *const *in, int n_in,
                      const char *const *keys, const char *const *values, int n_attrs);
    /* Optional: a short note drawings and summaries add under the node's
     * op (e.g. "unresolved ffi op"), or NULL for none. */
    const char *(*note)(const nn_node *node);
} nn_op_text_family;

/* Registers a family (the struct must outlive its use; at most 8
 * families). Registering the same prefix again replaces it. Not thread
 * safe: register at start-up. */
nn_status nn_graphio_register_ops(const nn_op_text_family *family);

/* Makes in `dst` a node of the same op and attributes as `src` (any graph)
 * on the inputs `in`, named `name`: the way tools rebuild one op alone
 * (the gradient audit). NULL after recording the reason on dst. */
nn_node *nn_node_rebuild(nn_graph *dst, const nn_node *src, const char *name, nn_node *const *in);

/* ------------------------------------------------------------------ */
/* Gradient audit (`nngraph check`)                                     */
/* ------------------------------------------------------------------ */

/* The result of checking one op node's gradient rule. */
typedef struct nn_gradcheck_report {
    char op[64], node[256];
    int no_gradient_rule;        /* 1: the op has none (gradient helpers) */
    int inputs_without_gradient; /* bit k: the rule gives input k none
                                    (targets, labels, shape donors) */
    int checked, failures;       /* elements compared / past tolerance */
    double worst_rel;            /* worst |a - n| / max(|n|, 1e-3) */
    double worst_ratio;          /* worst |a - n| / (1e-4 + 1e-2 |n|); > 1 fails */
    char detail[256];            /* the worst element */
} nn_gradcheck_report;

/* Rebuilds `node` (any graph) alone on random inputs of its input shapes,
 * the open batch dimension set to `batch` (< 1: 3), f32 inputs drawn with
 * |v| in [0.2,1] (away from relu/step kinks), i32 inputs as class labels
 * below the last dimension of input 0. Compares the gradient nn_grad
 * builds for loss = sum(out * R) (R random) with central differences of
 * the same loss summed in double, step 1e-3 max(1,|x|) and, where that
 * disagrees, 1e-2 and 1e-1 times max(1,|x|) (float32 rounding of long
 * sums swamps a small step), on at most 48 elements per input. An element
 * fails when no step agrees: |a - n| > 1e-4 + 1e-2 |n|. NN_OK with the report filled in (failures > 0 means
 * the rule is wrong); an error status if the op cannot be built or run. */
nn_status nn_gradcheck_node(const nn_node *node, int64_t batch, uint64_t seed, nn_gradcheck_report *report);
/* 1 if the audit would treat the two op nodes alike (same op, attributes,
 * input shapes and dtypes), so checking one stands for both. */
int nn_gradcheck_same_case(const nn_node *a, const nn_node *b);

/* ------------------------------------------------------------------ */
/* DOT and rendering                                                   */
/* ------------------------------------------------------------------ */

typedef struct nn_dot_opts {
    int layers;          /* 1: one box per scope (Keras plot_model style) */
    int backward;        /* 1: also draw gradient nodes */
    int rankdir_lr;      /* 1: left to right; 0: top to bottom (Keras's
                            plot_model default) */
    const char *title;   /* graph label's first line; NULL: "nngraph" */
    const char *loss;    /* name of the loss node; NULL: guessed (a scalar
                            sink of the forward graph) */
    const nn_load_fault *fault; /* a node to draw as failed (from
                            nn_graph_load_partial); NULL: derived from the
                            graph's error message, if any */
} nn_dot_opts;

/* DOT text of the graph, to free(); NULL on error (nn_last_error()).
 * opts may be NULL (defaults). Output depends only on the graph: node ids
 * are the node names, so the text diffs well. */
char *nn_graph_dot_string(const nn_graph *g, const nn_dot_opts *opts);
/* The same written to `out`. */
nn_status nn_graph_dot(const nn_graph *g, FILE *out, const nn_dot_opts *opts);

/* Lays out DOT text with Graphviz (dot layout, in process) and renders it
 * in `format` ("svg", "png", "pdf", "json", ...). *data is malloc'ed, to
 * free(); *len its size. */
nn_status nn_dot_render(const char *dot_text, const char *format, char **data, size_t *len);
/* Renders the graph straight to a file, atomically (temp + rename). */
nn_status nn_graph_render_file(const nn_graph *g, const nn_dot_opts *opts, const char *format, const char *path);

/* ------------------------------------------------------------------ */
/* Layers: scopes seen as Keras layers (for dot, summary)               */
/* ------------------------------------------------------------------ */

/* One top-level scope ("L1" for L1/W, L1/matmul, ...) of the forward
 * graph, described like a Keras layer. */
typedef struct nn_layer_info {
    char name[NN_MAX_NAME]; /* the scope, whole */
    char kind[32];        /* "dense", or "ops" when no dense pattern */
    char activation[32];  /* relu, sigmoid, tanh, softmax, step, linear */
    int64_t in_features, out_features; /* of the dense matmul; 0 if none */
    nn_shape out_shape;   /* shape of the layer's output node */
    nn_dtype out_dtype;
    int64_t params;       /* parameter elements in the scope */
    char ops[256];        /* the ops in order, "matmul, add, relu" */
    int first_node, last_node; /* node index range of the layer's nodes */
    int output_node;      /* index of the output node */
} nn_layer_info;

/* Fills up to `max` layers (non-gradient nodes grouped by their first
 * scope, in order of first appearance); returns the count (may exceed
 * max). */
int nn_graph_layers(const nn_graph *g, nn_layer_info *out, int max);
/* The one-line cluster title: "L1 · dense 400→25 · relu · 10,025 params". */
void nn_layer_title(const nn_layer_info *l, char *buf, size_t len);
/* n with thousands separators: 10025 -> "10,025". */
char *nn_format_count(int64_t n, char *buf, size_t len);

#if defined(__GNUC__)
#pragma GCC visibility pop
#endif

#ifdef __cplusplus
}
#endif
#endif
