/* Shared by the training sources (fit.c, progress.c, predict.c): not
 * installed. */
#ifndef NN_TRAIN_INTERNAL_H
#define NN_TRAIN_INTERNAL_H

#include "internal.h"
#include "pool.h"

/* ---- the progress line (progress.c) ---- */

typedef struct nn_progress {
    FILE *out;
    int verbose;      /* 0 quiet, 1 bar, 2 a line an epoch */
    int tty;          /* redraw in place with \r */
    int epoch, epochs;
    int64_t batches;
    double start;     /* epoch start, seconds */
    double last_draw; /* seconds */
    int drawn_len;    /* characters of the line on screen (TTY) */
    int line_open;    /* a TTY line was drawn without its newline */
    double lr;        /* shown at the epoch's end when not NaN (a schedule is on) */
} nn_progress;

/* Monotonic seconds. */
double nn_now(void);
void nn_progress_init(nn_progress *p, FILE *out, int verbose, int epochs, int64_t batches);
void nn_progress_epoch_begin(nn_progress *p, int epoch);
/* During an epoch: redraws the line in place on a TTY (at most ~10 times a
 * second); nothing off a TTY. loss/accuracy are running means (accuracy
 * NaN if none). */
void nn_progress_step(nn_progress *p, int64_t batch, double loss, double accuracy);
/* The epoch's final line (val_* NaN when there is no validation). */
void nn_progress_epoch_end(nn_progress *p, double loss, double accuracy, double val_loss, double val_accuracy);
/* Ends a half-drawn TTY line (before an error message or an early stop). */
void nn_progress_break(nn_progress *p);

/* ---- nn_fit's batches (batches.c) ---- */

/* The batch buffers (two pairs when the next batch is gathered by a pool
 * thread during a step), and that gather's state. */
typedef struct nn_batches {
    const nn_dataset *train;
    int with_y;             /* targets are gathered too */
    nn_tensor *x[2], *y[2]; /* pair 1 is made on the first prefetch */
    int cur;                /* the pair the current step reads */
    int off;                /* 1: no second pair (out of memory) */
    int64_t pending;        /* the batch being gathered into the other pair, or -1 */
    /* the gather handed to the pool thread */
    nn_async async;
    nn_tensor next_x, next_y;
    const int64_t *next_idx;
    int64_t next_rows;
    nn_status next_st;
} nn_batches;

/* A tensor header over rows [first, first+rows) of t: no copy. */
void nn_row_view(nn_tensor *view, const nn_tensor *t, int64_t first, int64_t rows);
/* One pair of buffers of `rows` rows shaped like train's x (f32 for u8
 * images) and, with_y, its y. NN_ERR_NOMEM if they cannot be made (no
 * message set); nn_batches_free in any case. */
nn_status nn_batches_init(nn_batches *bb, const nn_dataset *train, int64_t rows, int with_y);
/* Waits for a gather still running, frees the buffers. */
void nn_batches_free(nn_batches *bb);
/* Batch b, rows idx[0..n) of the dataset, as headers xt (and yt with
 * targets) over the current buffers: the pair a pool thread gathered when
 * nn_batches_prefetch posted b, else gathered here. Errors as
 * nn_gather_rows's. */
nn_status nn_batches_get(nn_batches *bb, int64_t b, const int64_t *idx, int64_t n, nn_tensor *xt, nn_tensor *yt);
/* Posts the gather of batch b (rows idx[0..n)) into the other buffers to
 * a thread of e, when e has one besides the caller's; else does nothing
 * (nn_batches_get gathers it then). idx must stay as it is until the
 * gather is collected (nn_batches_get or nn_batches_wait). */
void nn_batches_prefetch(nn_batches *bb, struct nn_exec *e, int64_t b, const int64_t *idx, int64_t n);
/* Returns once a posted gather is done (the buffers are then the caller's
 * alone). */
void nn_batches_wait(nn_batches *bb);

/* ---- metrics (predict.c) ---- */

typedef enum nn_acc_kind { NN_ACC_NONE, NN_ACC_SOFTMAX, NN_ACC_BCE } nn_acc_kind;

/* What accuracy means for this loss: argmax of the logits against class
 * labels (softmax_cross_entropy), or logit > 0 against target > 0.5
 * (bce_with_logits); NONE for other losses. */
nn_acc_kind nn_accuracy_kind(const nn_node *loss);
/* Correct predictions in the last run's values of the loss's inputs, and
 * how many were judged (rows, or elements for BCE). */
void nn_accuracy_count(const nn_node *loss, nn_acc_kind kind, int64_t *correct, int64_t *total);

/* ---- reduce-on-plateau (schedule.c) ---- */

typedef struct nn_plateau {
    int on, maximise, wait, cooldown_left;
    double best;
    nn_lr_schedule s; /* defaults filled in, monitor set */
} nn_plateau;

void nn_plateau_init(nn_plateau *p, const nn_lr_schedule *s, int have_val);
/* Feeds an epoch's value of the monitor; returns the lr for the next epoch. */
double nn_plateau_epoch_end(nn_plateau *p, double value, double lr);

/* The value of "loss", "val_loss", "accuracy" or "val_accuracy" in e. */
double nn_epoch_monitor(const nn_epoch_info *e, const char *monitor);

/* ---- early stopping and the best weights (earlystop.c) ---- */

typedef struct nn_stopper {
    int on, maximise, patience, wait, best_epoch;
    double best, min_delta;
    const char *monitor;
    int keep_best;       /* restore_best_weights */
    int n;               /* parameters snapshotted */
    nn_node **params;    /* borrowed */
    nn_tensor **best_w;  /* the best epoch's copies */
} nn_stopper;

/* Checks the monitor against what the fit has (a validation set, a
 * classifier's accuracy); the failure is recorded on g. */
nn_status nn_stopper_init(nn_graph *g, nn_stopper *s, const nn_fit_opts *o, int have_val, int have_acc,
                          nn_node **params, int n_params);
/* Keras's rule at an epoch's end: 1 once `patience` epochs in a row did
 * not beat the best by min_delta. Snapshots the weights of a new best. */
int nn_stopper_says_stop(nn_stopper *s, const nn_epoch_info *e);
/* Puts back the best epoch's weights (if asked for and any); 1 if it did. */
int nn_stopper_restore(nn_stopper *s);
void nn_stopper_free(nn_stopper *s);

/* ---- extra metrics (metrics.c) ---- */

typedef struct nn_metric_acc {
    unsigned want;        /* NN_METRIC_* that apply to this loss */
    nn_acc_kind kind;
    int top_k, classes;
    int64_t rows, top_hits, elems;
    double abs_err;
    int64_t *confusion;   /* classes x classes */
} nn_metric_acc;

/* Sets up for `loss` (what applies of `want`); failures on g. */
nn_status nn_metric_acc_init(nn_graph *g, nn_metric_acc *m, const nn_node *loss, unsigned want, int top_k);
void nn_metric_acc_reset(nn_metric_acc *m);
/* Adds the last run's values of the loss's prediction and targets. */
void nn_metric_acc_add(nn_metric_acc *m, const nn_node *loss);
/* The metrics so far (confusion points into m). */
void nn_metric_acc_values(const nn_metric_acc *m, nn_metric_values *out);
void nn_metric_acc_free(nn_metric_acc *m);

/* nn_evaluate that also feeds the accumulator (NULL: none). */
nn_status nn_evaluate_acc(nn_graph *g, nn_node *loss, const nn_dataset *data, nn_node *x, nn_node *y, int batch_size,
                          double *loss_out, double *accuracy_out, nn_metric_acc *acc);

#endif
