/*
 * nngraph core: tensors, random numbers, graphs, ops, reverse-mode autodiff
 * and execution.
 *
 * Read this header top to bottom: it is the manual for building a graph by
 * hand. Layers, optimizers and the fit loop sit on top (nngraph/train.h).
 *
 * Error model. Builder functions never abort and never exit. A graph keeps
 * its first error (sticky, like cairo): once a builder fails, the graph
 * remembers why, the failing call returns NULL, and every later builder that
 * is handed that NULL (or called on a graph in error) returns NULL too. So a
 * user can build a whole graph and check once with nn_graph_status().
 *
 * Names. Everything public starts with nn_ / NN_. nanomsg (which Criterion
 * and other libraries link) also uses nn_ for nn_socket, nn_bind, nn_close,
 * nn_send, nn_recv, nn_poll, nn_term, nn_device, nn_errno, nn_strerror and
 * nn_*msg: nngraph never defines those names.
 */
#ifndef NNGRAPH_CORE_H
#define NNGRAPH_CORE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* What this header declares is the library's API: the shared library
 * exports it and hides everything else (-fvisibility=hidden). */
#if defined(__GNUC__)
#pragma GCC visibility push(default)
#endif

#define NN_VERSION_STRING "0.1.0"

/* ------------------------------------------------------------------ */
/* Status codes                                                        */
/* ------------------------------------------------------------------ */

typedef enum nn_status {
    NN_OK = 0,
    NN_ERR_ARG,      /* a bad argument: NULL, wrong dtype, bad rank, ... */
    NN_ERR_SHAPE,    /* shapes do not fit an op's rule */
    NN_ERR_NOMEM,    /* an allocation failed */
    NN_ERR_RUNTIME,  /* a kernel failed while running (e.g. label out of range) */
    NN_ERR_IO,       /* a file could not be read or written */
    NN_ERR_FORMAT,   /* a file's content is malformed */
    NN_ERR_STATE,    /* the call does not fit the object's state */
    NN_ERR_NUMERIC,  /* a NaN or Inf where a finite number is needed (loss) */
    NN_ERR_DB,       /* the run-log database failed (locked, corrupt, full, foreign) */
    NN_ERR_FFI,      /* a foreign op could not be loaded or called */
    NN_ERR_INTERRUPTED /* stopped by a signal (Ctrl-C) */
} nn_status;

/* A short English name of a status code ("shape error", ...). */
const char *nn_status_name(nn_status s);

/* Functions that work without a graph (file loaders, the run log, ...)
 * return a status or NULL and leave the reason here, per thread, until the
 * next failure: "digits.idx: bad magic 0x00000000 (want 0x00000803)".
 * The message of the last failure on this thread; "" if none yet. */
const char *nn_last_error(void);
/* Sets the calling thread's last error; returns s (for `return nn_set_error(...)`). */
nn_status nn_set_error(nn_status s, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* ------------------------------------------------------------------ */
/* Shapes and dtypes                                                   */
/* ------------------------------------------------------------------ */

#define NN_MAX_RANK 4

/* The memory limit: the most bytes one file may make nngraph allocate (a
 * whole-file read, a graph file's parameters and constants together, a
 * data set, a weights file or checkpoint). Sizes read from a file are
 * checked against it, and against the bytes actually present, before
 * anything is allocated; past it a load fails with NN_ERR_NOMEM and a
 * message saying how to raise it. Process-wide; 0 restores the default
 * (NN_DEFAULT_MEMORY_LIMIT, 1 GiB). The nngraph command sets it from
 * --max-memory or NNGRAPH_MAX_MEMORY. */
#define NN_DEFAULT_MEMORY_LIMIT ((uint64_t)1 << 30)
void nn_set_memory_limit(uint64_t bytes);
uint64_t nn_memory_limit(void);
/* NN_OK if `bytes` (what `what` of `source` needs) fits the memory limit;
 * else NN_ERR_NOMEM with "SOURCE: WHAT needs N bytes, over the memory
 * limit of M (raise it with --max-memory, NNGRAPH_MAX_MEMORY or
 * nn_set_memory_limit())". */
nn_status nn_check_memory(uint64_t bytes, const char *source, const char *what);

/* Longest name of a node or saved tensor, in bytes, plus its NUL: every
 * builder, writer and reader accepts the same names (at most 1023 bytes),
 * so whatever is written can be read back. */
#define NN_MAX_NAME 1024

/* A dimension left open when a graph is built and fixed when it runs: the
 * batch. Only the first dimension of an input may be open; ops carry it
 * through (a [NN_BATCH,400] x [400,25] matmul is [NN_BATCH,25]). */
#define NN_BATCH ((int64_t)-1)

typedef enum nn_dtype {
    NN_F32 = 0, /* float, row-major */
    NN_I32 = 1, /* int32_t, used for class labels */
    NN_U8 = 2   /* uint8_t in unorm form: byte v stands for v / 255.0f (IDX
                 * images, kept as bytes); only datasets hold it: gathering
                 * rows into an f32 tensor, nn_predict and nn_evaluate
                 * convert it, graph inputs are f32 */
} nn_dtype;

/* A shape by value: rank 0 is a scalar. */
typedef struct nn_shape {
    int rank;
    int64_t dim[NN_MAX_RANK];
} nn_shape;

#define NN_SHAPE_NARGS_(...) NN_SHAPE_NARGS_I_(__VA_ARGS__, 4, 3, 2, 1, 0)
#define NN_SHAPE_NARGS_I_(a, b, c, d, n, ...) n
/* NN_SHAPE(32, 400) is the shape [32,400]; NN_SHAPE() is not allowed, use
 * NN_SCALAR for rank 0. */
#define NN_SHAPE(...) ((nn_shape){NN_SHAPE_NARGS_(__VA_ARGS__), {__VA_ARGS__}})
#define NN_SCALAR ((nn_shape){0, {0}})

/* Number of elements (1 for a scalar); -1 if a dimension is open. */
int64_t nn_shape_size(nn_shape s);
/* 1 if both shapes have the same rank and dimensions. */
int nn_shape_equal(nn_shape a, nn_shape b);
/* Writes "[32,400]" (open dims as "B") into buf; returns buf. */
char *nn_shape_str(nn_shape s, char *buf, size_t len);
/* "f32", "i32" or "u8". */
const char *nn_dtype_name(nn_dtype dt);
/* Size in bytes of one element. */
size_t nn_dtype_size(nn_dtype dt);

/* ------------------------------------------------------------------ */
/* Tensors                                                             */
/* ------------------------------------------------------------------ */

/* A dense row-major tensor with 64-byte aligned storage. */
typedef struct nn_tensor nn_tensor;

/* A new zero-filled tensor; NULL if the shape has an open or negative
 * dimension or memory runs out. */
nn_tensor *nn_tensor_new(nn_dtype dt, nn_shape shape);
/* A new tensor holding a copy of `data` (nn_shape_size(shape) elements). */
nn_tensor *nn_tensor_from(nn_dtype dt, nn_shape shape, const void *data);
/* A deep copy; NULL on allocation failure. */
nn_tensor *nn_tensor_clone(const nn_tensor *t);
/* Frees a tensor made by nn_tensor_new/from/clone; NULL is a no-op. */
void nn_tensor_free(nn_tensor *t);

/* A tensor's dtype, shape and element count. */
nn_dtype nn_tensor_dtype(const nn_tensor *t);
nn_shape nn_tensor_shape(const nn_tensor *t);
int64_t nn_tensor_size(const nn_tensor *t);
/* Element data; NULL if the dtype does not match. */
float *nn_tensor_f32(const nn_tensor *t);
int32_t *nn_tensor_i32(const nn_tensor *t);
/* Raw element data whatever the dtype. */
void *nn_tensor_data(const nn_tensor *t);
/* Copies src's elements into dst; NN_ERR_SHAPE unless dtype and size match. */
nn_status nn_tensor_copy(nn_tensor *dst, const nn_tensor *src);
/* Prints a tensor (at most `max_elems` values, 0 = all) for humans. */
void nn_tensor_print(const nn_tensor *t, FILE *out, int64_t max_elems);

/* ------------------------------------------------------------------ */
/* Random numbers and initialisers                                     */
/* ------------------------------------------------------------------ */

/* xoshiro256** state; same seed, same numbers on every platform. */
typedef struct nn_rng {
    uint64_t s[4];
} nn_rng;

/* Seeds the generator (splitmix64 spreads the seed over the state). */
void nn_rng_seed(nn_rng *r, uint64_t seed);
/* The next 64 random bits. */
uint64_t nn_rng_u64(nn_rng *r);
/* Uniform in [0,1). */
double nn_rng_uniform(nn_rng *r);
/* Standard normal (Box-Muller). */
double nn_rng_normal(nn_rng *r);
/* Uniform integer in [0,n). */
uint64_t nn_rng_below(nn_rng *r, uint64_t n);
/* Fisher-Yates shuffle of idx[0..n). */
void nn_rng_shuffle(nn_rng *r, int64_t *idx, int64_t n);

typedef enum nn_init_kind {
    NN_INIT_ZEROS = 0,
    NN_INIT_ONES,
    NN_INIT_CONSTANT,       /* a */
    NN_INIT_UNIFORM,        /* uniform in [a,b) */
    NN_INIT_NORMAL,         /* mean a, standard deviation b */
    NN_INIT_GLOROT_UNIFORM, /* uniform +-sqrt(6/(fan_in+fan_out)) (Keras default) */
    NN_INIT_HE_NORMAL,      /* truncated normal, std sqrt(2/fan_in) (Keras) */
    NN_INIT_GLOROT_NORMAL,  /* truncated normal, std sqrt(2/(fan_in+fan_out)) */
    NN_INIT_HE_UNIFORM,     /* uniform +-sqrt(6/fan_in) */
    NN_INIT_LECUN_NORMAL    /* truncated normal, std sqrt(1/fan_in) */
} nn_init_kind;

typedef struct nn_init {
    nn_init_kind kind;
    float a, b;
} nn_init;

#define nn_init_zeros() ((nn_init){NN_INIT_ZEROS, 0.f, 0.f})
#define nn_init_ones() ((nn_init){NN_INIT_ONES, 0.f, 0.f})
#define nn_init_constant(v) ((nn_init){NN_INIT_CONSTANT, (v), 0.f})
#define nn_init_uniform(lo, hi) ((nn_init){NN_INIT_UNIFORM, (lo), (hi)})
#define nn_init_normal(mean, std) ((nn_init){NN_INIT_NORMAL, (mean), (std)})
#define nn_init_glorot_uniform() ((nn_init){NN_INIT_GLOROT_UNIFORM, 0.f, 0.f})
#define nn_init_he_normal() ((nn_init){NN_INIT_HE_NORMAL, 0.f, 0.f})
#define nn_init_glorot_normal() ((nn_init){NN_INIT_GLOROT_NORMAL, 0.f, 0.f})
#define nn_init_he_uniform() ((nn_init){NN_INIT_HE_UNIFORM, 0.f, 0.f})
#define nn_init_lecun_normal() ((nn_init){NN_INIT_LECUN_NORMAL, 0.f, 0.f})

/* Fills t (f32) by `init`. Fan-in is dim[0] and fan-out dim[1] for a
 * rank-2 weight [in,out] (Keras's convention); for rank 1 both are dim[0];
 * for a rank-4 convolution kernel [out, in, kh, kw] (conv2d's layout)
 * fan-in is in*kh*kw and fan-out out*kh*kw. */
nn_status nn_tensor_init(nn_tensor *t, nn_init init, nn_rng *rng);
/* The initialiser's name ("glorot_uniform", ...), and back; -1 if unknown. */
const char *nn_init_name(nn_init_kind k);
int nn_init_from_name(const char *name);

/* ------------------------------------------------------------------ */
/* Graphs and nodes                                                    */
/* ------------------------------------------------------------------ */

typedef struct nn_graph nn_graph;
typedef struct nn_node nn_node;

typedef enum nn_node_kind {
    NN_NODE_INPUT = 0, /* bound by the caller before each run */
    NN_NODE_PARAM,     /* a trainable tensor owned by the graph */
    NN_NODE_CONST,     /* a fixed tensor owned by the graph */
    NN_NODE_OP         /* computed from its inputs */
} nn_node_kind;

/* A new empty graph whose parameters are initialised from `seed`. */
nn_graph *nn_graph_new(uint64_t seed);
/* Frees the graph, its nodes, parameters, plans and cached buffers. */
void nn_graph_free(nn_graph *g);

/* The graph's first error (NN_OK if none). Build errors are sticky; a
 * failed run also sets it until the next successful run. */
nn_status nn_graph_status(const nn_graph *g);
/* Text of the first error, naming op, node and shapes; "" if none. */
const char *nn_error_message(const nn_graph *g);
/* The op node a builder refused, beside the graph's error message: what a
 * picture of the broken graph marks (nn_graph_dot draws it in red). */
#define NN_FAULT_INPUTS 5 /* the most inputs an op takes (batch_norm) */
typedef struct nn_fault {
    char op[64];              /* the op's name */
    char node[256];           /* the name the node would have had, scope included */
    int n_inputs;
    char inputs[NN_FAULT_INPUTS][256];      /* the input nodes' names */
    nn_shape input_shapes[NN_FAULT_INPUTS]; /* and their shapes */
    nn_dtype input_dtypes[NN_FAULT_INPUTS];
} nn_fault;
/* The fault behind the graph's build error; NULL when there is no build
 * error or it is not an op's refusal (a NULL input, out of memory). */
const nn_fault *nn_graph_fault(const nn_graph *g);
/* Forgets a run error (build errors stay). */
void nn_graph_clear_run_error(nn_graph *g);
/* The graph's random generator (initialisers, shuffles, dropout). */
nn_rng *nn_graph_rng(nn_graph *g);
/* Training (1) or evaluation (0, the default) mode for the following runs,
 * as in PyTorch's module.train()/eval(): in training mode dropout drops
 * and batch norm normalises by the batch and updates its running
 * statistics; in evaluation mode dropout is the identity and batch norm
 * uses the running statistics. nn_fit runs its steps in training mode and
 * its validation in evaluation mode; nn_evaluate and nn_predict run in
 * evaluation mode; each restores the mode it found. Returns the old mode. */
int nn_graph_set_training(nn_graph *g, int training);
int nn_graph_training(const nn_graph *g);

/* Scopes prefix the names of nodes made while they are open: with scope
 * "L1" open, a matmul is named "L1/matmul". Scopes nest ("a/b"). */
nn_status nn_scope_push(nn_graph *g, const char *scope);
void nn_scope_pop(nn_graph *g);

/* An input of the given dtype and shape; the first dimension may be
 * NN_BATCH. */
nn_node *nn_input(nn_graph *g, const char *name, nn_dtype dt, nn_shape shape);
/* A trainable f32 parameter of a fixed shape, initialised now from the
 * graph's generator. */
nn_node *nn_param(nn_graph *g, const char *name, nn_shape shape, nn_init init);
/* A constant holding a copy of `value`. */
nn_node *nn_const(nn_graph *g, const char *name, const nn_tensor *value);
/* A scalar f32 constant. */
nn_node *nn_scalar(nn_graph *g, float v);

/* Node accessors. nn_node_shape may have NN_BATCH as its first dim. */
const char *nn_node_name(const nn_node *n);
nn_node_kind nn_node_kind_of(const nn_node *n);
/* The op's name ("matmul", ...), or "input"/"param"/"const". */
const char *nn_node_op(const nn_node *n);
nn_shape nn_node_shape(const nn_node *n);
nn_dtype nn_node_dtype(const nn_node *n);
int nn_node_num_inputs(const nn_node *n);
nn_node *nn_node_input(const nn_node *n, int i);
/* 1 if the node was added by nn_grad (part of the backward graph). */
int nn_node_is_grad(const nn_node *n);
/* The tensor of a param or const (mutable, e.g. for optimizers or loading
 * weights); NULL for other nodes. */
nn_tensor *nn_param_value(nn_node *n);
/* The initialiser a param was made with. */
nn_init nn_param_init(const nn_node *n);
/* A param is trainable (default) or frozen: nn_fit leaves a frozen param
 * to its ops (batch norm's running statistics), and the summary counts it
 * as non-trainable. The graph file writes `trainable=0`. */
nn_status nn_param_set_trainable(nn_node *n, int trainable);
int nn_param_trainable(const nn_node *n);

/* Iteration over all nodes in creation order (a topological order). */
int nn_graph_num_nodes(const nn_graph *g);
nn_node *nn_graph_node(const nn_graph *g, int i);
/* The node with that name, or NULL. */
nn_node *nn_graph_find(const nn_graph *g, const char *name);
/* The parameters in creation order; returns their count. `out` may be
 * NULL to only count. */
int nn_graph_params(const nn_graph *g, nn_node **out, int max);
/* Total number of parameter elements. */
int64_t nn_graph_param_count(const nn_graph *g);
/* The loss, as tools take it when none is named: the last forward op with
 * a scalar output that no forward node reads (so a weighted sum of losses
 * wins over its terms); NULL if there is none or memory ran out. */
nn_node *nn_graph_guess_loss(const nn_graph *g);
/* What the model predicts with, when no output is named: input 0 of the
 * last loss op (an op whose descriptor says it is a loss, e.g. the logits
 * of softmax_cross_entropy); without a loss, the last forward op with a
 * non-scalar output; NULL if none. */
nn_node *nn_graph_guess_output(const nn_graph *g);

/* ------------------------------------------------------------------ */
/* Ops                                                                 */
/* ------------------------------------------------------------------ */
/* Every op returns its new node, or NULL after recording an error on g.
 * `name` arguments are optional (NULL: the op's name in the open scope). */

/* Matrix product of 2-D tensors: op(a) @ op(b), where op transposes when
 * the flag is set. [M,K] x [K,N] -> [M,N]. */
nn_node *nn_matmul(nn_graph *g, nn_node *a, nn_node *b);
nn_node *nn_matmul_t(nn_graph *g, nn_node *a, nn_node *b, int trans_a, int trans_b);

/* Elementwise with numpy broadcasting (right-aligned; a dimension of 1 or
 * a missing one stretches), e.g. [B,25] + [25] adds a bias row. */
nn_node *nn_add(nn_graph *g, nn_node *a, nn_node *b);
nn_node *nn_sub(nn_graph *g, nn_node *a, nn_node *b);
nn_node *nn_mul(nn_graph *g, nn_node *a, nn_node *b);
/* alpha * x. */
nn_node *nn_scale(nn_graph *g, nn_node *x, float alpha);

/* Activations, elementwise. */
/* max(x, 0). Its derivative at 0 is taken as 0 (the gradient passes only
 * where x > 0), as in PyTorch (torch.relu) and TensorFlow/Keras. */
nn_node *nn_relu(nn_graph *g, nn_node *x);
nn_node *nn_sigmoid(nn_graph *g, nn_node *x);
nn_node *nn_tanh(nn_graph *g, nn_node *x);
nn_node *nn_identity(nn_graph *g, nn_node *x); /* Keras's "linear" */
/* 1 where x >= 0, else 0 (the perceptron's). It passes no gradient: what
 * reaches x through it is zero (its derivative wherever it exists).
 * PyTorch's torch.heaviside refuses to differentiate ("derivative not
 * implemented"); in TensorFlow/Keras a step made by a cast has no
 * gradient (None), which optimizers skip. */
nn_node *nn_step(nn_graph *g, nn_node *x);

/* Along the last axis, max-subtracted so large logits stay finite. */
nn_node *nn_softmax(nn_graph *g, nn_node *x);
nn_node *nn_log_softmax(nn_graph *g, nn_node *x);

/* Losses: all return a scalar, the mean over the batch (or elements). */
/* logits [B,C] f32, labels [B] i32 in [0,C): mean of
 * logsumexp(z) - z[label], computed together (never exp/divide/log). */
nn_node *nn_softmax_cross_entropy(nn_graph *g, nn_node *logits, nn_node *labels);
/* logits and targets of one shape, targets in [0,1]: mean of the stable
 * max(z,0) - z*y + log(1+exp(-|z|)). Targets are data and get no gradient
 * (zero if asked for); PyTorch's binary_cross_entropy_with_logits and
 * TensorFlow's sigmoid_cross_entropy_with_logits give them -z/N. Build
 * the loss from ops where targets must learn. */
nn_node *nn_bce_with_logits(nn_graph *g, nn_node *logits, nn_node *targets);
/* mean((pred - target)^2) over all elements. */
nn_node *nn_mse(nn_graph *g, nn_node *pred, nn_node *target);

/* Reductions. NN_ALL_AXES reduces to a scalar; otherwise the axis is
 * removed ([B,10] summed over axis 1 is [B]). Negative axes count from
 * the end. */
#define NN_ALL_AXES 127
nn_node *nn_sum(nn_graph *g, nn_node *x, int axis);
nn_node *nn_mean(nn_graph *g, nn_node *x, int axis);

/* ---- Images (NCHW: x is [N, C, H, W]) and shapes ---- */

/* Padding of the window ops: explicit (pad_h/pad_w on both sides; 0 is
 * Keras's "valid"), "same" (out = ceil(in / stride), the odd padding
 * element after, as in Keras) or "valid" (none). */
typedef enum nn_padding { NN_PADDING_EXPLICIT = 0, NN_PADDING_SAME = 1, NN_PADDING_VALID = 2 } nn_padding;

/* Convolution settings; zeros mean the defaults (stride 1, no padding,
 * dilation 1, one group). */
typedef struct nn_conv2d_opts {
    int stride_h, stride_w;
    nn_padding padding;
    int pad_h, pad_w;         /* NN_PADDING_EXPLICIT only */
    int dilation_h, dilation_w;
    int groups;               /* divides C and Cout */
} nn_conv2d_opts;

/* conv2d: x [N, C, H, W], kernel [Cout, C/groups, kh, kw] (PyTorch's
 * layout), bias [Cout] -> [N, Cout, OH, OW]; cross-correlation as in
 * PyTorch and Keras. opts may be NULL. */
nn_node *nn_conv2d_op(nn_graph *g, nn_node *x, nn_node *kernel, nn_node *bias, const nn_conv2d_opts *opts);

/* Pooling settings; zeros mean a 2x2 window, stride the window, no
 * padding (Keras's MaxPooling2D()). */
typedef struct nn_pool2d_opts {
    int pool_h, pool_w;
    int stride_h, stride_w;
    nn_padding padding;
    int pad_h, pad_w; /* NN_PADDING_EXPLICIT only, smaller than the window */
} nn_pool2d_opts;

/* The maximum, or the mean of the cells inside the image, of each window:
 * [N, C, H, W] -> [N, C, OH, OW]. opts may be NULL. */
nn_node *nn_max_pool2d_op(nn_graph *g, nn_node *x, const nn_pool2d_opts *opts);
nn_node *nn_avg_pool2d_op(nn_graph *g, nn_node *x, const nn_pool2d_opts *opts);
/* The mean of every plane: [N, C, H, W] -> [N, C]. */
nn_node *nn_global_avg_pool(nn_graph *g, nn_node *x);

/* x's elements under a new shape of `rank` dims: dims[i] 0 keeps x's
 * dimension i (the open batch dimension passes so), one -1 is inferred. */
nn_node *nn_reshape(nn_graph *g, nn_node *x, int rank, const int64_t *dims);
/* [N, ...] -> [N, everything else] (Keras's Flatten). */
nn_node *nn_flatten_op(nn_graph *g, nn_node *x);
/* Axes permuted: out.dim[i] = x.dim[perm[i]], perm of x's rank entries;
 * the open batch dimension stays first. */
nn_node *nn_transpose(nn_graph *g, nn_node *x, const int *perm);
/* a and b joined along axis (negative counts from the end). */
nn_node *nn_concat(nn_graph *g, nn_node *a, nn_node *b, int axis);
/* Elements [start, start + len) of x along axis. */
nn_node *nn_slice(nn_graph *g, nn_node *x, int axis, int64_t start, int64_t len);

/* ---- Regularisation and normalisation ---- */

/* Inverted dropout: in training mode (nn_graph_set_training) each element
 * is zeroed with probability rate in [0, 1) and the others scaled by
 * 1/(1-rate); the identity in evaluation mode. Masks come from the
 * graph's generator. */
nn_node *nn_dropout_op(nn_graph *g, nn_node *x, float rate);
/* Batch normalisation over axis 1 of x [N, C] or [N, C, H, W]: gamma,
 * beta, running_mean and running_var are [C] (the running ones frozen
 * params). Training mode normalises by the batch's statistics and moves
 * the running ones: running = momentum running + (1 - momentum) batch;
 * evaluation mode uses the running ones. */
nn_node *nn_batch_norm_op(nn_graph *g, nn_node *x, nn_node *gamma, nn_node *beta, nn_node *running_mean,
                          nn_node *running_var, float momentum, float epsilon);
/* Layer normalisation over the last axis (length D); gamma, beta [D]. */
nn_node *nn_layer_norm(nn_graph *g, nn_node *x, nn_node *gamma, nn_node *beta, float epsilon);

/* ---- More activations and a robust loss ---- */

/* x for x > 0, alpha x elsewhere. */
nn_node *nn_leaky_relu(nn_graph *g, nn_node *x, float alpha);
/* x for x > 0, alpha (e^x - 1) elsewhere; alpha > 0. */
nn_node *nn_elu(nn_graph *g, nn_node *x, float alpha);
/* x Phi(x), the exact (erf) form. */
nn_node *nn_gelu(nn_graph *g, nn_node *x);
/* log(1 + e^x), stable for large |x|. */
nn_node *nn_softplus(nn_graph *g, nn_node *x);
/* The mean Huber loss of pred - target (quadratic within delta, linear
 * beyond); delta > 0 (Keras's default 1). */
nn_node *nn_huber(nn_graph *g, nn_node *pred, nn_node *target, float delta);

/* ------------------------------------------------------------------ */
/* Reverse-mode autodiff                                               */
/* ------------------------------------------------------------------ */

/* Adds to g the gradient nodes of the scalar `loss` with respect to each
 * of wrt[0..n), and stores them in grads[0..n). Gradients are ordinary
 * nodes (nn_node_is_grad() says 1), built from each op's gradient rule and
 * summed where a node feeds several consumers. A node that does not
 * influence the loss gets a zero of its shape: a constant, or for a node
 * with an open batch dimension a zero of each run's batch. Calling it
 * again for the same loss reuses nothing: call it once per loss. */
nn_status nn_grad(nn_graph *g, nn_node *loss, nn_node *const *wrt, int n, nn_node **grads);

/* ------------------------------------------------------------------ */
/* Running                                                             */
/* ------------------------------------------------------------------ */

/* Binds an input for the following runs. The tensor is borrowed (it must
 * live until the run) and must match the input's dtype and shape, the open
 * batch dimension excepted. All bound open dims must agree at run time. */
nn_status nn_set_input(nn_graph *g, nn_node *input, const nn_tensor *value);

/* Computes the given nodes (and what they need). The execution plan for
 * this set of outputs and batch size is compiled once and cached. After a
 * successful run nn_value() of each output holds its value until the next
 * run. */
nn_status nn_run(nn_graph *g, nn_node *const *outputs, int n);

/* The value of a node computed by the last run that included it, or the
 * tensor of a param/const, or the bound tensor of an input; NULL if none. */
const nn_tensor *nn_value(const nn_node *n);
/* Convenience: the first element of a scalar or any f32 value. */
float nn_value_scalar(const nn_node *n);

/* Worker threads used by runs (default, or 0: the machine's cores, or the
 * environment variable NNGRAPH_THREADS; 1 gives a deterministic order).
 * At most NN_MAX_THREADS; more is NN_ERR_ARG. */
#define NN_MAX_THREADS 1024
nn_status nn_graph_set_threads(nn_graph *g, int threads);
/* The thread count runs use: the one set, else the default it resolves to. */
int nn_graph_threads(const nn_graph *g);
/* Called after a run has computed `node`'s value, from the thread that
 * computed it, before the run returns: what lets a caller act on a value
 * (e.g. send a gradient to other processes) while the rest of the run goes
 * on. The value is final unless the node is an in-place input of a later
 * step; an output of the run is final. NULL: no hook (the default). */
typedef void (*nn_value_fn)(void *user, const nn_node *node, const nn_tensor *value);
void nn_graph_on_value(nn_graph *g, nn_value_fn fn, void *user);

#if defined(__GNUC__)
#pragma GCC visibility pop
#endif

#ifdef __cplusplus
}
#endif
#endif
