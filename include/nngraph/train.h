/*
 * nngraph training: dense layers, optimizers, the fit loop, prediction and
 * the Keras-like summary.
 *
 * Contract for the other areas (the run log hangs on the callbacks and the
 * optimizer state; the graph-file CLI drives nn_fit): the names below are
 * stable; fields may be added at the end of the structs.
 */
#ifndef NNGRAPH_TRAIN_H
#define NNGRAPH_TRAIN_H

#include "core.h"
#include "data.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What this header declares is the library's API: the shared library
 * exports it and hides everything else (-fvisibility=hidden). */
#if defined(__GNUC__)
#pragma GCC visibility push(default)
#endif

/* ---- Layers ---------------------------------------------------------- */

typedef enum nn_activation {
    NN_LINEAR = 0, /* identity: Keras's "linear" */
    NN_RELU,
    NN_SIGMOID,
    NN_TANH,
    NN_SOFTMAX
} nn_activation;

/* The activation's name as Keras spells it: "linear", "relu", ... */
const char *nn_activation_name(nn_activation a);
/* "relu" -> NN_RELU ...; -1 if unknown. */
int nn_activation_from_name(const char *name);

/* A dense layer act(x W + b) with x [batch, in]: parameters `scope`/W
 * [in, units] (glorot-uniform) and `scope`/b [units] (zeros), ops named under
 * the scope. NULL and the graph's sticky error on misuse. */
nn_node *nn_dense(nn_graph *g, const char *scope, nn_node *x, int units, nn_activation act);
/* The same with chosen initialisers. */
nn_node *nn_dense_init(nn_graph *g, const char *scope, nn_node *x, int units, nn_activation act,
                       nn_init w_init, nn_init b_init);

/* Image layers, NCHW (x [batch, channels, height, width]), with Keras's
 * defaults; each makes its nodes under `scope`, which must be new, and
 * returns NULL with the graph's sticky error on misuse. */

/* Conv2D: filters kernel_size x kernel_size, stride 1, no padding
 * ("valid"), bias; parameters `scope`/W [filters, channels, k, k]
 * (glorot-uniform) and `scope`/b [filters] (zeros); then act. */
nn_node *nn_conv2d(nn_graph *g, const char *scope, nn_node *x, int filters, int kernel_size, nn_activation act);
/* The same with a kh x kw kernel, stride, padding, dilation and groups
 * (opts may be NULL) and chosen initialisers. */
nn_node *nn_conv2d_ex(nn_graph *g, const char *scope, nn_node *x, int filters, int kh, int kw, nn_activation act,
                      const nn_conv2d_opts *opts, nn_init w_init, nn_init b_init);
/* MaxPooling2D: pool_size x pool_size windows, stride pool_size, "valid". */
nn_node *nn_max_pool2d(nn_graph *g, const char *scope, nn_node *x, int pool_size);
/* Flatten: [batch, ...] -> [batch, features]. */
nn_node *nn_flatten(nn_graph *g, const char *scope, nn_node *x);
/* Dropout(rate): inverted dropout, active only in training mode (nn_fit's
 * steps); the identity when evaluating and predicting. */
nn_node *nn_dropout(nn_graph *g, const char *scope, nn_node *x, float rate);
/* BatchNormalization() over axis 1 of [batch, features] or NCHW images:
 * `scope`/gamma (ones), beta (zeros), and the frozen moving_mean (zeros)
 * and moving_variance (ones); momentum 0.99, epsilon 1e-3. */
nn_node *nn_batch_norm(nn_graph *g, const char *scope, nn_node *x);

/* ---- Optimizers ------------------------------------------------------ */

typedef struct nn_optimizer nn_optimizer;

/* Where Adam puts epsilon. Keras's form (the default) adds it outside the
 * bias-corrected root: w -= alpha_t * m / (sqrt(v) + eps) with alpha_t =
 * lr*sqrt(1-beta2^t)/(1-beta1^t). PyTorch's adds it to the corrected root:
 * w -= lr/(1-beta1^t) * m / (sqrt(v)/sqrt(1-beta2^t) + eps). They agree
 * when sqrt(v) is much larger than eps; at eps 1e-3 the first steps can
 * differ by a factor of two. Pick the form of the framework whose numbers
 * you want to reproduce. */
typedef enum nn_epsilon_form { NN_EPSILON_KERAS = 0, NN_EPSILON_TORCH = 1 } nn_epsilon_form;

/* Options of nn_optimizer_from_name. Zero-initialise and set what you need:
 * a zero field means the default given here. */
typedef struct nn_optimizer_opts {
    float lr;                     /* 0: the optimizer's default (sgd 0.01, others 0.001) */
    float momentum;               /* sgd and rmsprop, in [0,1); default 0 */
    int nesterov;                 /* sgd with momentum > 0: Nesterov's momentum */
    float beta1, beta2;           /* adam, adamw: defaults 0.9 and 0.999 */
    float rho;                    /* rmsprop's decay of the mean square: default 0.9 */
    float epsilon;                /* adam, adamw, rmsprop: default 1e-7 (Keras) */
    nn_epsilon_form epsilon_form; /* adam, adamw: default NN_EPSILON_KERAS */
    /* adamw: decoupled decay w -= lr*weight_decay*w each step (default
     * 0.004, Keras's); sgd, adam, rmsprop: PyTorch's L2 term, g +=
     * weight_decay*w before the update (default 0) */
    float weight_decay;
    float clip_norm;              /* > 0: scale all gradients so their global L2 norm is <= this */
    float clip_value;             /* > 0: clip each gradient element to [-clip_value, clip_value] */
} nn_optimizer_opts;

/* The optimizer nn_fit and the run log use when none is given. */
#define NN_OPTIMIZER_DEFAULT "adam"

/* An optimizer by name: "sgd", "adam", "adamw" or "rmsprop" (Keras's
 * update rules; docs/training.md writes each out). opts may be NULL (all
 * defaults). NULL and nn_last_error() naming the field on a bad value or an
 * unknown name (the message lists the known ones). */
nn_optimizer *nn_optimizer_from_name(const char *name, const nn_optimizer_opts *opts);
/* NN_OPTIMIZER_DEFAULT with its defaults: Adam, lr 0.001. */
nn_optimizer *nn_optimizer_default(void);
/* The known names, comma separated, for help texts and messages. */
const char *nn_optimizer_names(void);

/* Plain SGD (momentum 0) or SGD with momentum: v = momentum*v - lr*g; w += v.
 * lr 0 is allowed (a frozen optimizer). */
nn_optimizer *nn_sgd(float lr, float momentum);
/* Adam with Keras's defaults: beta1 0.9, beta2 0.999, epsilon 1e-7, bias
 * correction. Keras's update rule at step t = 1, 2, ...:
 *   alpha_t = lr * sqrt(1 - beta2^t) / (1 - beta1^t)
 *   m += (g - m)(1 - beta1);  v += (g^2 - v)(1 - beta2)
 *   w -= alpha_t * m / (sqrt(v) + epsilon)
 * Hyperparameters are taken as the decimals they were written as (0.999f
 * means 0.999), as in Keras. NULL and nn_last_error() on a bad value. */
/* Where epsilon sits (docs/correctness.md): this is Keras's form, epsilon
 * added to sqrt(v) with the bias corrections folded into alpha_t.
 * torch.optim.Adam adds it to the corrected root sqrt(v / (1 - beta2^t)),
 * so Keras's epsilon equals PyTorch's times sqrt(1 - beta2^t). The two
 * agree where sqrt(v) is large next to epsilon and differ most on the
 * first steps: at step 1 with |g| well under epsilon, Keras's step is
 * sqrt(1 - beta2) = 0.032 times PyTorch's. */
nn_optimizer *nn_adam(float lr);
nn_optimizer *nn_adam_ex(float lr, float beta1, float beta2, float epsilon);
void nn_optimizer_free(nn_optimizer *opt);

/* The optimizer's name, "sgd", "adam", "adamw" or "rmsprop" (NULL for NULL). */
const char *nn_optimizer_name(const nn_optimizer *opt);
/* The learning rate, and a new one for the following steps (e.g. a
 * schedule set from an epoch callback). */
float nn_optimizer_lr(const nn_optimizer *opt);
void nn_optimizer_set_lr(nn_optimizer *opt, float lr);

/* Creates the per-parameter state (zeros) for params[0..n). Called by
 * nn_fit; call it yourself before nn_optimizer_step otherwise. Attaching
 * the same parameters in the same order again keeps the state and the step
 * count (a second fit continues; restored slots survive); other parameters
 * start afresh. */
nn_status nn_optimizer_attach(nn_optimizer *opt, nn_node *const *params, int n);
/* One update of every attached parameter from its gradient grads[i] (f32,
 * as many elements as the parameter; same order as attached). Clipping and
 * weight decay, when set, apply to a copy: grads are not changed. */
nn_status nn_optimizer_update(nn_optimizer *opt, const nn_tensor *const *grads, int n);
/* The same, from the current values of the gradient nodes grads[i]. */
nn_status nn_optimizer_step(nn_optimizer *opt, nn_node *const *grads, int n);

/* State for checkpoints and resume: each attached parameter has
 * nn_optimizer_num_slots() state tensors (SGD with momentum: "velocity";
 * Adam and AdamW: "adam_m", "adam_v"; RMSprop: "rms", and "momentum" when
 * it has momentum), and the optimizer counts its steps. */
int nn_optimizer_num_slots(const nn_optimizer *opt);
const char *nn_optimizer_slot_name(const nn_optimizer *opt, int slot);
/* The state tensor of param (attached) for `slot`, writable; NULL if none. */
nn_tensor *nn_optimizer_slot(nn_optimizer *opt, const nn_node *param, int slot);
int64_t nn_optimizer_steps(const nn_optimizer *opt);
void nn_optimizer_set_steps(nn_optimizer *opt, int64_t steps);
/* Hyperparameters as "key=value" pairs, for logs: writes up to max pairs
 * of keys/values (pointers valid while opt lives); returns the count (at
 * most 12). The optimizer's own keys always (adam: lr, beta1, beta2,
 * epsilon, torch_epsilon 0/1); nesterov, weight_decay, clip_norm and
 * clip_value only when they are on. */
int nn_optimizer_hparams(const nn_optimizer *opt, const char **keys, double *values, int max);

/* ---- Learning-rate schedules -------------------------------------------- */

typedef enum nn_lr_schedule_kind {
    NN_LR_CONSTANT = 0, /* the optimizer's lr throughout */
    NN_LR_STEP,         /* lr * gamma^floor((epoch-1) / step_epochs) (PyTorch's StepLR) */
    NN_LR_EXPONENTIAL,  /* lr * gamma^(epoch-1) (PyTorch's ExponentialLR) */
    /* warmup: lr * epoch / warmup_epochs for the first warmup_epochs; then
     * min_lr + (lr - min_lr) * (1 + cos(pi * k / span)) / 2, k = epochs
     * since the warmup, span = decay_epochs or the rest of the fit
     * (PyTorch's CosineAnnealingLR after a linear warmup) */
    NN_LR_COSINE,
    /* Keras's ReduceLROnPlateau: lr *= factor (not below min_lr) once
     * `monitor` has not improved by min_delta for `patience` epochs, then
     * `cooldown` epochs without counting */
    NN_LR_PLATEAU
} nn_lr_schedule_kind;

/* A schedule, applied at the start of every epoch to the optimizer's lr as
 * it was when nn_fit began. Zero fields take the defaults given. */
typedef struct nn_lr_schedule {
    nn_lr_schedule_kind kind;
    int step_epochs;     /* step: default 10 */
    double gamma;        /* step: default 0.1; exponential: default 0.9 */
    int warmup_epochs;   /* cosine: default 0 */
    int decay_epochs;    /* cosine: default 0 = the rest of the fit */
    double min_lr;       /* cosine, plateau: the floor, default 0 */
    const char *monitor; /* plateau: default "val_loss" with a validation set, else "loss" */
    double factor;       /* plateau: default 0.1 */
    int patience;        /* plateau: default 10 */
    double min_delta;    /* plateau: default 1e-4 */
    int cooldown;        /* plateau: default 0 */
} nn_lr_schedule;

/* The learning rate of epoch `epoch` (1-based) of `epochs` for a base lr;
 * for plateau, the base (its reductions depend on the metrics). */
double nn_lr_schedule_at(const nn_lr_schedule *s, double base_lr, int epoch, int epochs);
/* NN_OK, or nn_last_error() naming the bad field. */
nn_status nn_lr_schedule_check(const nn_lr_schedule *s);
/* Parses the command line's form: "constant", "step[:EPOCHS[:GAMMA]]",
 * "exponential[:GAMMA]" (or "exp"), "cosine[:WARMUP[:MIN_LR]]",
 * "plateau[:PATIENCE[:FACTOR[:MIN_LR]]]". */
nn_status nn_lr_schedule_parse(const char *text, nn_lr_schedule *out);
/* The same form with every default filled in ("cosine:0:0"); returns what
 * snprintf returns. */
int nn_lr_schedule_str(const nn_lr_schedule *s, char *buf, size_t len);

/* ---- Metrics ----------------------------------------------------------- */

/* Extra metrics nn_fit computes per epoch (nn_fit_opts.metrics, a mask). For
 * a classifier (softmax_cross_entropy; bce_with_logits counts as two
 * classes): top-k accuracy, macro precision, recall and F1, and the
 * confusion matrix; for a regression loss whose prediction has the
 * targets' shape: the mean absolute error. */
enum {
    NN_METRIC_TOP_K = 1 << 0,
    NN_METRIC_PRECISION = 1 << 1,
    NN_METRIC_RECALL = 1 << 2,
    NN_METRIC_F1 = 1 << 3,
    NN_METRIC_CONFUSION = 1 << 4,
    NN_METRIC_MAE = 1 << 5
};

/* A metric's name as logged: "top_k_accuracy", "precision", "recall",
 * "f1", "confusion", "mae" (NULL if metric is not one NN_METRIC_* bit). */
const char *nn_metric_name(unsigned metric);
/* The NN_METRIC_* bit of a name; 0 if unknown. */
int nn_metric_from_name(const char *name);

/* One epoch's extra metrics on one split; NaN (or classes 0) for those not
 * asked for or not defined for the loss. */
typedef struct nn_metric_values {
    double top_k_accuracy;   /* fraction of rows whose label is among the k largest scores */
    int top_k;
    double precision, recall, f1; /* macro averages (see nn_macro_scores) */
    double mae;
    int classes;             /* the confusion matrix is classes x classes */
    const int64_t *confusion; /* [true class][predicted class]; valid during the callback */
} nn_metric_values;

/* Macro precision, recall and F1 of a k x k confusion matrix cm[true][pred]
 * (scikit-learn's average='macro'): per class p = TP/(TP+FP), r =
 * TP/(TP+FN), f1 = 2pr/(p+r), each 0 where its denominator is 0, averaged
 * over the classes that occur as a label or a prediction. Any output may be
 * NULL; all NaN if the matrix is empty. */
void nn_macro_scores(const int64_t *cm, int k, double *precision, double *recall, double *f1);
/* Adds the rows of scores [n, k] to the confusion matrix cm (k x k,
 * [label][argmax], not cleared first) against labels (i32 [n], each in
 * [0, k)); NN_OK, or nn_last_error() on bad shapes or a label out of range. */
nn_status nn_confusion_add(const nn_tensor *scores, const nn_tensor *labels, int64_t *cm);
/* Rows of scores [n, k] whose label (i32 [n]) is among the top_k scores (a
 * tie with the k-th counts as in); -1 and nn_last_error() on bad shapes. */
int64_t nn_top_k_correct(const nn_tensor *scores, const nn_tensor *labels, int top_k);

/* ---- Fit ------------------------------------------------------------- */

/* Passed to the step callback after every optimizer step. */
typedef struct nn_step_info {
    int epoch;            /* 1-based */
    int64_t step;         /* global step count, 1-based */
    int64_t batch;        /* 1-based batch within the epoch */
    int64_t batches;      /* batches per epoch (the last partial one counts) */
    double loss;          /* the batch's loss */
} nn_step_info;

/* Passed to the epoch callback at the end of every epoch. Validation
 * fields are NaN without a validation set; accuracy is NaN for a loss that
 * is not a classifier's. */
typedef struct nn_epoch_info {
    int epoch, epochs;
    int64_t step;         /* global step count at the end of the epoch */
    double loss, accuracy;
    double val_loss, val_accuracy;
    double seconds;       /* wall time of the epoch */
    nn_graph *graph;
    nn_optimizer *optimizer;
    nn_rng *rng;          /* the shuffle generator (state for resume) */
    double lr;            /* the learning rate of the epoch's steps (at its first step) */
    nn_metric_values metrics, val_metrics; /* nn_fit_opts.metrics, train and validation */
} nn_epoch_info;

/* Return non-zero to stop training (nn_fit then returns NN_OK early). */
typedef int (*nn_step_fn)(const nn_step_info *info, void *user);
typedef int (*nn_epoch_fn)(const nn_epoch_info *info, void *user);

/* ---- Data parallelism: how nn_fit runs as one of several processes ---- */

/* Sums over one step's global batch (or one evaluation) that data-parallel
 * training adds up over processes: the loss weighted by rows, the rows,
 * and the accuracy's correct and judged counts. */
typedef struct nn_fit_sums {
    double loss, rows, correct, judged;
} nn_fit_sums;

/* What the fit shares with the other processes when it starts. */
typedef struct nn_fit_dist_start {
    nn_status status;          /* this process's setup: a failure is announced */
    nn_graph *graph;
    nn_node *const *params;    /* the trained parameters, in the optimizer's order */
    nn_node *const *grads;     /* their gradient nodes, same order */
    int n_params;
    nn_optimizer *optimizer;
    nn_rng *shuffle;           /* the shuffle generator: rank 0's wins */
    int *initial_epoch;        /* rank 0's wins (it may have resumed) */
    int64_t n_train;           /* must agree */
    int64_t local_batch;       /* rows per process in a full global batch */
} nn_fit_dist_start;

/* The hooks nn_fit calls when nn_fit_opts.dist is set. A transport fills
 * them (nn_dist_fit_opts() in nngraph/dist.h, over MPI); nn_fit itself
 * knows nothing of processes beyond rank and size. Every hook is a
 * collective: all processes call it in the same order. Errors come back
 * as a status with nn_last_error() naming the rank that failed. */
typedef struct nn_fit_dist {
    void *ctx;
    int rank, size;
    /* Rank 0's parameters, optimizer state, shuffle generator and
     * initial epoch are copied to every process; graphs and data sizes are
     * checked to match. */
    nn_status (*begin)(void *ctx, const nn_fit_dist_start *start);
    /* Before a step's run: this process computes `local` of the step's
     * `global` rows (0: an empty shard, no run); its gradients are weighted
     * by local/global, so that their sum is the global batch's gradient. */
    nn_status (*step_begin)(void *ctx, int64_t local, int64_t global);
    /* After the run: `local` is the run's status (its message in
     * nn_last_error()); waits for the gradients' sums, which replace each
     * gradient's value, and turns *sums into the sums over all processes. */
    nn_status (*step_end)(void *ctx, nn_status local, nn_fit_sums *sums);
    /* *stop becomes 1 if any process asked to stop. */
    nn_status (*agree_stop)(void *ctx, int *stop);
    /* Evaluation with each process taking a shard of data's rows; the
     * results are the whole set's, on every process. */
    nn_status (*evaluate)(void *ctx, nn_graph *g, nn_node *loss, const nn_dataset *data, nn_node *x, nn_node *y,
                          int batch_size, double *loss_out, double *accuracy_out);
    /* At the end of every epoch, before the epoch callback (statistics). */
    nn_status (*epoch_end)(void *ctx, int epoch);
    /* When the fit returns, whatever its status (not a collective). */
    void (*end)(void *ctx, nn_status status);
} nn_fit_dist;

/* The rows [*first, *first + *count) of a global batch of `rows` that
 * process `rank` of `size` computes: contiguous, sizes differing by at most
 * one, the larger shards last; empty when rows < size for some ranks. */
void nn_fit_shard(int64_t rows, int rank, int size, int64_t *first, int64_t *count);

typedef struct nn_fit_opts {
    int epochs;               /* default 1 */
    int batch_size;           /* default 32 */
    nn_optimizer *optimizer;  /* borrowed; default Adam(0.001) owned by fit */
    nn_node *x, *y;           /* inputs fed from the dataset; default nodes "x", "y" */
    const nn_dataset *val;    /* optional validation set */
    double val_split;         /* or: hold out this fraction of train (last rows, like Keras) */
    int verbose;              /* 0 quiet; 1 progress bar (in place on a TTY); 2 a line an epoch */
    FILE *progress;           /* where progress goes; default stderr */
    uint64_t shuffle_seed;    /* default: drawn from the graph's generator */
    int no_shuffle;
    int initial_epoch;        /* resume: epochs already done */
    /* Early stopping: monitor "loss", "val_loss", "accuracy" or
     * "val_accuracy"; stop after `patience` epochs without an improvement
     * of at least min_delta. NULL: off. */
    const char *monitor;
    int patience;
    double min_delta;
    nn_step_fn on_step;
    nn_epoch_fn on_epoch;
    void *user;
    /* Resume: the shuffle generator's state saved from nn_epoch_info.rng
     * at the end of epoch initial_epoch (copied, not kept). NULL: the
     * generator is seeded from shuffle_seed (or the graph) and advanced
     * past initial_epoch epochs, which gives the same order when the seed
     * is the same. */
    const nn_rng *shuffle_state;
    /* Data parallelism: NULL trains alone. Set (nn_dist_fit_opts()), every
     * process of the group runs nn_fit with the same graph and data;
     * batch_size is then the batch of one process and the global batch is
     * batch_size * size (DistributedDataParallel's convention: the same
     * learning rate applies to the larger batch). */
    const nn_fit_dist *dist;
    /* Early stopping: put back the weights of the best epoch of `monitor`
     * when training ends (Keras 3), whether it stopped early or not. */
    int restore_best_weights;
    /* The learning rate by epoch; NULL: constant (or as callbacks set it). */
    const nn_lr_schedule *lr_schedule;
    unsigned metrics; /* NN_METRIC_* mask of extra metrics, per epoch */
    int top_k;        /* NN_METRIC_TOP_K's k; default 5 */
} nn_fit_opts;

/* What a fit did. */
typedef struct nn_fit_result {
    int epochs_run;
    int64_t steps;
    double loss, accuracy;        /* last epoch (mean over its batches) */
    double val_loss, val_accuracy;
    double seconds;
    int stopped_early;
    int best_epoch;   /* early stopping: the best epoch of the monitor (0: none) */
    double best;      /* its value (NaN: none) */
    int restored;     /* 1 if the best epoch's weights were put back */
} nn_fit_result;

/* Trains the parameters that `loss` depends on over `train`, minibatch by
 * minibatch: epochs initial_epoch+1 .. epochs, each a fresh shuffle of the
 * training rows (the last partial batch included), one run of the loss and
 * all gradients and one optimizer step per batch. The gradient nodes are
 * made on the first fit of a loss and reused by later fits of it. Errors
 * (bad shapes, missing inputs, unknown monitor) are recorded on the graph
 * (nn_error_message) before any step. A NaN or Inf loss stops training
 * with NN_ERR_NUMERIC and a message naming the epoch, the step and the
 * first parameter or op holding a NaN or Inf (the weights stay as before
 * that step). Returns with x and y unbound. `result` may be
 * NULL. */
nn_status nn_fit(nn_graph *g, nn_node *loss, const nn_dataset *train, const nn_fit_opts *opts,
                 nn_fit_result *result);

/* ---- Predict, evaluate, summary ---------------------------------------- */

/* Runs `out` over all rows of x in batches; returns a new tensor
 * [n, out features...] (caller frees) or NULL. */
nn_tensor *nn_predict(nn_graph *g, nn_node *x_input, nn_node *out, const nn_tensor *x,
                      int batch_size);
/* Evaluates `loss` over all rows of `data` in batches (forward only, no
 * update): the mean loss (rows weighted, so it is the whole set's mean for
 * a mean loss) and, for softmax_cross_entropy or bce_with_logits, the
 * accuracy (NaN otherwise). x and y: the inputs to feed (NULL: the nodes
 * named "x" and "y"). batch_size <= 0 means 32. Either output may be NULL. */
nn_status nn_evaluate(nn_graph *g, nn_node *loss, const nn_dataset *data, nn_node *x, nn_node *y, int batch_size,
                      double *loss_out, double *accuracy_out);
/* Row-wise softmax of logits [n, k] into a new tensor. */
nn_tensor *nn_probabilities(const nn_tensor *logits);
/* Row-wise argmax of [n, k] into a new i32 [n]. */
nn_tensor *nn_argmax(const nn_tensor *scores);
/* Number of rows whose argmax differs from labels (i32 [n]); -1 on error. */
int64_t nn_count_errors(const nn_tensor *scores, const nn_tensor *labels);

/* Prints a Keras-like table of layers (scopes), output shapes and
 * parameter counts, with the total. */
void nn_summary(const nn_graph *g, FILE *out);

#if defined(__GNUC__)
#pragma GCC visibility pop
#endif

#ifdef __cplusplus
}
#endif
#endif
