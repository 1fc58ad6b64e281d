/* Shared by the training sources (fit.c, progress.c, predict.c): not
 * installed. */
#ifndef NN_TRAIN_INTERNAL_H
#define NN_TRAIN_INTERNAL_H

#include "internal.h"

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

/* ---- metrics (predict.c) ---- */

typedef enum nn_acc_kind { NN_ACC_NONE, NN_ACC_SOFTMAX, NN_ACC_BCE } nn_acc_kind;

/* What accuracy means for this loss: argmax of the logits against class
 * labels (softmax_cross_entropy), or logit > 0 against target > 0.5
 * (bce_with_logits); NONE for other losses. */
nn_acc_kind nn_accuracy_kind(const nn_node *loss);
/* Correct predictions in the last run's values of the loss's inputs, and
 * how many were judged (rows, or elements for BCE). */
void nn_accuracy_count(const nn_node *loss, nn_acc_kind kind, int64_t *correct, int64_t *total);

#endif
