/* Early stopping (Keras's EarlyStopping): watch a metric, stop after
 * `patience` epochs without an improvement of min_delta, and optionally put
 * back the weights of the best epoch when training ends. */
#include "train_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int known_monitor(const char *m) {
    return !strcmp(m, "loss") || !strcmp(m, "val_loss") || !strcmp(m, "accuracy") || !strcmp(m, "val_accuracy");
}

double nn_epoch_monitor(const nn_epoch_info *e, const char *m) {
    return !strcmp(m, "loss") ? e->loss
         : !strcmp(m, "val_loss") ? e->val_loss
         : !strcmp(m, "accuracy") ? e->accuracy : e->val_accuracy;
}

nn_status nn_stopper_init(nn_graph *g, nn_stopper *s, const nn_fit_opts *o, int have_val, int have_acc,
                          nn_node **params, int n_params) {
    memset(s, 0, sizeof *s);
    s->best = NAN;
    if (!o->monitor) {
        if (o->restore_best_weights)
            return nn_fail_run(g, NN_ERR_ARG, "fit: restore_best_weights needs a monitor (e.g. val_loss)");
        return NN_OK;
    }
    const char *m = o->monitor;
    if (!known_monitor(m))
        return nn_fail_run(g, NN_ERR_ARG, "fit: early stopping monitors loss, val_loss, accuracy or val_accuracy, not '%s'", m);
    if (!strncmp(m, "val_", 4) && !have_val)
        return nn_fail_run(g, NN_ERR_ARG, "fit: early stopping on '%s' needs a validation set or val_split", m);
    if (strstr(m, "accuracy") && !have_acc)
        return nn_fail_run(g, NN_ERR_ARG, "fit: early stopping on '%s' but the loss is not a classifier's", m);
    s->on = 1;
    s->monitor = m;
    s->maximise = strstr(m, "accuracy") != NULL;
    s->patience = o->patience > 0 ? o->patience : 0;
    s->min_delta = fabs(o->min_delta);
    s->best = s->maximise ? -INFINITY : INFINITY;
    if (o->restore_best_weights) {
        s->keep_best = 1;
        s->params = params;
        s->n = n_params;
        s->best_w = calloc((size_t)(n_params ? n_params : 1), sizeof *s->best_w);
        if (!s->best_w) return nn_fail_run(g, NN_ERR_NOMEM, "fit: out of memory for the best weights");
    }
    return NN_OK;
}

/* Copies the current weights as the best ones. */
static void snapshot(nn_stopper *s) {
    for (int i = 0; i < s->n; i++) {
        const nn_tensor *w = s->params[i]->tensor;
        if (!s->best_w[i] && !(s->best_w[i] = nn_tensor_new(NN_F32, w->shape))) {
            s->keep_best = 0; /* out of memory: keep training, restore nothing */
            return;
        }
        nn_tensor_copy(s->best_w[i], w);
    }
}

int nn_stopper_says_stop(nn_stopper *s, const nn_epoch_info *e) {
    if (!s->on) return 0;
    double v = nn_epoch_monitor(e, s->monitor);
    int better = s->maximise ? v - s->min_delta > s->best : v + s->min_delta < s->best;
    if (better && !isnan(v)) {
        s->best = v;
        s->best_epoch = e->epoch;
        s->wait = 0;
        if (s->keep_best) snapshot(s);
        return 0;
    }
    return ++s->wait >= s->patience;
}

int nn_stopper_restore(nn_stopper *s) {
    if (!s->keep_best || s->best_epoch == 0) return 0;
    for (int i = 0; i < s->n; i++) nn_tensor_copy(s->params[i]->tensor, s->best_w[i]);
    return 1;
}

void nn_stopper_free(nn_stopper *s) {
    for (int i = 0; s->best_w && i < s->n; i++) nn_tensor_free(s->best_w[i]);
    free(s->best_w);
    s->best_w = NULL;
}
