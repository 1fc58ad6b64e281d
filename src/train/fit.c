/* The fit loop: epochs of shuffled minibatches, one graph run (loss and
 * every gradient together) and one optimizer update per batch, metrics,
 * validation, callbacks and early stopping.
 *
 * Speed matters here more than anywhere: the labs' networks are small, so
 * a step is tens of microseconds and any per-step overhead shows. Every
 * buffer (batch tensors, the index permutation, the output list) is made
 * once before the first epoch; a step only copies its rows, binds two
 * tensors, runs the cached plan and updates the weights in place. */
#include "train_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- setup helpers ---- */

/* 1 if t (f32) holds a NaN or an infinity. */
static int has_nonfinite(const nn_tensor *t) {
    if (!t || t->dtype != NN_F32) return 0;
    const float *v = t->data;
    for (int64_t i = 0; i < t->size; i++)
        if (!isfinite(v[i])) return 1;
    return 0;
}

/* Where a non-finite loss came from, for the error message: the first
 * parameter the loss needs that holds a NaN or Inf, else the first op (in
 * build order) whose output does. Plans keep only their outputs, so the
 * forward graph runs once more with every op it needs as an output; this
 * costs one forward pass, and only when training has already failed.
 * Writes "" if nothing is found. */
static void explain_nonfinite(nn_graph *g, nn_node *loss, char *buf, size_t len) {
    buf[0] = 0;
    char *need = calloc((size_t)g->n_nodes, 1);
    if (need) nn_mark_needed(g, &loss, 1, need);
    nn_node **ops = need ? malloc((size_t)(loss->id + 1) * sizeof *ops) : NULL;
    int n_ops = 0;
    for (int i = 0; ops && i <= loss->id; i++) {
        nn_node *n = g->nodes[i];
        if (!need[i]) continue;
        if (n->kind == NN_NODE_PARAM && has_nonfinite(n->tensor)) {
            snprintf(buf, len, "; parameter '%s' holds a NaN or Inf", n->name);
            break;
        }
        if (n->kind == NN_NODE_OP) ops[n_ops++] = n;
    }
    if (ops && !buf[0] && nn_run(g, ops, n_ops) == NN_OK) {
        for (int i = 0; i < n_ops; i++)
            if (has_nonfinite(nn_value(ops[i]))) {
                snprintf(buf, len, "; the first op with a NaN or Inf output is %s '%s'", ops[i]->op->name,
                         ops[i]->name);
                break;
            }
    }
    free(ops);
    free(need);
}

/* The input `name` (or the given node), checked against the data it will
 * be fed: same dtype, an open batch dimension, the same trailing dims. */
static nn_status resolve_input(nn_graph *g, nn_node **node, const char *name, const nn_tensor *data,
                               const char *what) {
    char a[64], b[64];
    nn_node *n = *node ? *node : nn_graph_find(g, name);
    if (!n)
        return nn_fail_run(g, NN_ERR_ARG, "fit: no input node '%s' for the %s (name it \"%s\" or set opts.%s)", name,
                           what, name, name);
    if (n->kind != NN_NODE_INPUT) return nn_fail_run(g, NN_ERR_ARG, "fit: '%s' is a %s, not an input", n->name, nn_node_op(n));
    if (!data) return nn_fail_run(g, NN_ERR_ARG, "fit: the loss needs input '%s' but the dataset has no %s", n->name, what);
    /* u8 images are converted to f32 as each batch is gathered */
    int fits = (n->dtype == data->dtype || (n->dtype == NN_F32 && data->dtype == NN_U8)) && n->shape.rank == data->shape.rank && n->shape.rank >= 1 &&
               n->shape.dim[0] == NN_BATCH;
    for (int i = 1; fits && i < n->shape.rank; i++) fits = n->shape.dim[i] == data->shape.dim[i];
    if (!fits)
        return nn_fail_run(g, NN_ERR_SHAPE, "fit: input '%s' is %s%s but the dataset's %s are %s%s (the first dimension "
                           "must be NN_BATCH)", n->name, nn_dtype_name(n->dtype), nn_shape_str(n->shape, a, sizeof a),
                           what, nn_dtype_name(data->dtype), nn_shape_str(data->shape, b, sizeof b));
    *node = n;
    return NN_OK;
}

/* nn_fit's gradients, kept with the graph (nn_graph_attach) so that a
 * later fit of the same loss finds them instead of differentiating twice:
 * the loss and the range of node ids nn_grad made for it. */
typedef struct fit_grads {
    int loss_id;
    int begin, end;
} fit_grads;

static const char fit_grads_key; /* its address is the attachment's key */

/* The gradients of loss with respect to params: those a previous fit of
 * the same loss made, or new ones. */
static nn_status gradients(nn_graph *g, nn_node *loss, nn_node **params, int n, nn_node **grads) {
    fit_grads *known = nn_graph_attachment(g, &fit_grads_key);
    if (known && known->loss_id == loss->id) {
        int found = 0;
        for (int i = 0; i < n; i++) {
            grads[i] = NULL;
            for (int j = known->begin; j < known->end && j < g->n_nodes; j++)
                if (g->nodes[j]->grad_of == params[i]) grads[i] = g->nodes[j];
            found += grads[i] != NULL;
        }
        if (found == n) return NN_OK;
    }
    int begin = g->n_nodes;
    nn_status st = nn_grad(g, loss, params, n, grads);
    if (st != NN_OK) return st;
    fit_grads *made = malloc(sizeof *made);
    if (!made) return nn_fail_run(g, NN_ERR_NOMEM, "fit: out of memory");
    *made = (fit_grads){loss->id, begin, g->n_nodes};
    if (nn_graph_attach(g, &fit_grads_key, made, free) != NN_OK) return nn_fail_run(g, NN_ERR_NOMEM, "fit: out of memory");
    return NN_OK;
}

/* ---- the loop ---- */

typedef struct fit_state {
    nn_graph *g;
    nn_node *loss, *x, *y;
    nn_acc_kind acc;
    int n_params;  /* the trainable params, params[0..n_params) */
    int n_state;   /* and the frozen ones after them (batch norm's running
                      statistics): what restore_best_weights keeps */
    nn_node **params, **outputs; /* outputs: loss, [logits,] the gradients */
    const nn_tensor **grad_values; /* the gradients' values after a run, for the optimizer */
    int n_outputs, grad_off;     /* grad_off: where the gradients start */
    nn_optimizer *opt, *owned_opt;
    nn_batches bat; /* the batch buffers */
    int64_t *idx;
    int64_t n_train, batch, batches;
    nn_dataset val_view; /* the held-out tail for val_split */
    nn_tensor val_x, val_y;
    const nn_dataset *val;
    const nn_fit_dist *dist; /* data parallelism, or NULL */
    /* callbacks of our own: early stopping, the lr schedule, metrics */
    nn_stopper stop;
    nn_plateau plateau;
    double base_lr;
    nn_metric_acc train_metrics, val_metrics;
} fit_state;

static void fit_state_free(fit_state *s) {
    /* the batch buffers die here: leave no input bound to them */
    if (s->x) s->x->value = NULL;
    if (s->y) s->y->value = NULL;
    free(s->params);
    free(s->outputs);
    free(s->grad_values);
    nn_optimizer_free(s->owned_opt);
    nn_batches_free(&s->bat);
    free(s->idx);
    nn_stopper_free(&s->stop);
    nn_metric_acc_free(&s->train_metrics);
    nn_metric_acc_free(&s->val_metrics);
}

/* Early stopping, the schedule and the metrics, checked against what the
 * fit has; failures on g. */
static nn_status callbacks_setup(fit_state *s, nn_graph *g, const nn_fit_opts *o) {
    nn_status st = nn_stopper_init(g, &s->stop, o, s->val != NULL, s->acc != NN_ACC_NONE, s->params, s->n_state);
    if (st != NN_OK) return st;
    s->base_lr = nn_optimizer_lr(s->opt);
    if (o->lr_schedule) {
        if (nn_lr_schedule_check(o->lr_schedule) != NN_OK) return nn_fail_run(g, NN_ERR_ARG, "fit: %s", nn_last_error());
        nn_plateau_init(&s->plateau, o->lr_schedule, s->val != NULL);
        const char *m = s->plateau.s.monitor;
        if (s->plateau.on && !strncmp(m, "val_", 4) && !s->val)
            return nn_fail_run(g, NN_ERR_ARG, "fit: the plateau schedule monitors '%s' but there is no validation set", m);
        if (s->plateau.on && strstr(m, "accuracy") && s->acc == NN_ACC_NONE)
            return nn_fail_run(g, NN_ERR_ARG, "fit: the plateau schedule monitors '%s' but the loss is not a classifier's", m);
    }
    if (o->metrics && !s->y)
        return nn_fail_run(g, NN_ERR_ARG, "fit: metrics need targets (an input y the loss depends on)");
    /* each process would count only its own rows, and the validation pass
     * over processes takes no accumulator */
    if (o->metrics && s->dist)
        return nn_fail_run(g, NN_ERR_ARG, "fit: extra metrics are not computed across processes (nn_fit_opts.dist); "
                           "evaluate them after training on one process");
    st = nn_metric_acc_init(g, &s->train_metrics, s->loss, o->metrics, o->top_k);
    if (st == NN_OK && s->val) st = nn_metric_acc_init(g, &s->val_metrics, s->loss, o->metrics, o->top_k);
    return st;
}

/* The learning rate of the coming epoch: the schedule's, or (plateau, or
 * no schedule) whatever the optimizer has. */
static double epoch_lr(fit_state *s, const nn_fit_opts *o, int epoch) {
    const nn_lr_schedule *sc = o->lr_schedule;
    if (sc && sc->kind != NN_LR_CONSTANT && sc->kind != NN_LR_PLATEAU)
        nn_optimizer_set_lr(s->opt, (float)nn_lr_schedule_at(sc, s->base_lr, epoch, o->epochs));
    return nn_optimizer_lr(s->opt);
}

static nn_status fit_setup(fit_state *s, nn_graph *g, nn_node *loss, const nn_dataset *train, nn_fit_opts *o) {
    char *need = calloc((size_t)g->n_nodes, 1);
    if (need) nn_mark_needed(g, &loss, 1, need);
    if (!need) return nn_fail_run(g, NN_ERR_NOMEM, "fit: out of memory");
    nn_status st = resolve_input(g, &s->x, "x", train->x, "features");
    int wants_y = 0;
    if (st == NN_OK && !need[s->x->id]) st = nn_fail_run(g, NN_ERR_ARG, "fit: the loss does not depend on input '%s'", s->x->name);
    if (st == NN_OK) {
        nn_node *y = s->y ? s->y : nn_graph_find(g, "y");
        wants_y = y && y->id < g->n_nodes && need[y->id];
        if (s->y && !wants_y) st = nn_fail_run(g, NN_ERR_ARG, "fit: the loss does not depend on input '%s'", s->y->name);
        if (st == NN_OK && wants_y) st = resolve_input(g, &s->y, "y", train->y, "targets");
    }
    if (!wants_y) s->y = NULL;
    for (int i = 0; st == NN_OK && i < g->n_nodes; i++)
        if (need[i] && g->nodes[i]->kind == NN_NODE_INPUT && g->nodes[i] != s->x && g->nodes[i] != s->y)
            st = nn_fail_run(g, NN_ERR_ARG, "fit: the loss needs input '%s', which fit does not feed (only x and y)",
                             g->nodes[i]->name);
    int n_params = 0, n_state = 0;
    /* frozen params (batch norm's running statistics) are their ops' to
     * update, not the optimizer's; they follow the trainable ones */
    for (int i = 0; i < g->n_nodes; i++)
        if (need[i] && g->nodes[i]->kind == NN_NODE_PARAM) {
            n_state++;
            n_params += !g->nodes[i]->frozen;
        }
    if (st == NN_OK && n_params == 0) st = nn_fail_run(g, NN_ERR_ARG, "fit: the loss '%s' depends on no parameter", loss->name);
    s->params = malloc((size_t)(n_state ? n_state : 1) * sizeof *s->params);
    s->outputs = malloc((size_t)(n_params + 2) * sizeof *s->outputs);
    s->grad_values = malloc((size_t)(n_params ? n_params : 1) * sizeof *s->grad_values);
    if (st == NN_OK && (!s->params || !s->outputs || !s->grad_values)) st = nn_fail_run(g, NN_ERR_NOMEM, "fit: out of memory");
    for (int i = 0, k = 0, f = n_params; st == NN_OK && i < g->n_nodes; i++)
        if (need[i] && g->nodes[i]->kind == NN_NODE_PARAM) s->params[g->nodes[i]->frozen ? f++ : k++] = g->nodes[i];
    free(need);
    if (st != NN_OK) return st;
    s->n_params = n_params;
    s->n_state = n_state;

    /* one run computes the loss, the logits (an output, so that a planner
     * recycling buffers keeps them for the accuracy) and every gradient,
     * which go straight into the output list */
    s->acc = s->y ? nn_accuracy_kind(loss) : NN_ACC_NONE;
    s->outputs[0] = loss;
    s->grad_off = 1;
    if (s->acc != NN_ACC_NONE || (s->y && o->metrics)) s->outputs[s->grad_off++] = loss->in[0];
    st = gradients(g, loss, s->params, n_params, s->outputs + s->grad_off);
    if (st != NN_OK) return st;
    s->n_outputs = n_params + s->grad_off;

    s->opt = o->optimizer;
    if (!s->opt) {
        s->opt = s->owned_opt = nn_optimizer_default();
        if (!s->opt) return nn_fail_run(g, NN_ERR_NOMEM, "fit: out of memory");
    }
    if (nn_optimizer_attach(s->opt, s->params, n_params) != NN_OK)
        return nn_fail_run(g, NN_ERR_NOMEM, "fit: %s", nn_last_error());

    /* training rows, and Keras's validation split: the last rows */
    int64_t n = nn_dataset_size(train);
    s->n_train = n;
    s->val = o->val;
    if (!s->val && o->val_split > 0.0) {
        if (o->val_split >= 1.0)
            return nn_fail_run(g, NN_ERR_ARG, "fit: val_split must be in [0,1), got %g", o->val_split);
        s->n_train = (int64_t)((double)n * (1.0 - o->val_split));
        if (s->n_train < 1 || s->n_train >= n)
            return nn_fail_run(g, NN_ERR_ARG, "fit: val_split %g of %lld samples leaves an empty part", o->val_split,
                               (long long)n);
        nn_row_view(&s->val_x, train->x, s->n_train, n - s->n_train);
        s->val_view.x = &s->val_x;
        if (train->y) {
            nn_row_view(&s->val_y, train->y, s->n_train, n - s->n_train);
            s->val_view.y = &s->val_y;
        }
        s->val = &s->val_view;
    }
    if (s->val && (!s->val->x || (s->y && !s->val->y) || nn_dataset_size(s->val) < 1))
        return nn_fail_run(g, NN_ERR_ARG, "fit: the validation set is empty or lacks targets");
    /* s->batch is the global batch; this process's share is at most
     * batch_size rows (nn_fit_shard) */
    int64_t world = s->dist ? s->dist->size : 1, global = (int64_t)o->batch_size * world;
    s->batch = global < s->n_train ? global : s->n_train;
    s->batches = (s->n_train + s->batch - 1) / s->batch;
    int64_t local_rows = (s->batch + world - 1) / world;
    nn_status made = nn_batches_init(&s->bat, train, local_rows, s->y != NULL);
    s->idx = malloc((size_t)s->n_train * sizeof *s->idx);
    if (made != NN_OK || !s->idx) return nn_fail_run(g, NN_ERR_NOMEM, "fit: out of memory for the batches");
    return NN_OK;
}

/* The order of the epoch's rows: 0..n-1, shuffled. Starting again from the
 * identity each epoch makes an epoch's order depend on the generator's
 * state alone, so a resumed run can reproduce it. */
static void epoch_order(fit_state *s, nn_rng *rng, int shuffle) {
    for (int64_t i = 0; i < s->n_train; i++) s->idx[i] = i;
    if (shuffle) nn_rng_shuffle(rng, s->idx, s->n_train);
}

/* A NaN or Inf loss: the error, naming the step and where it came from. */
static nn_status nonfinite_loss(fit_state *s, nn_progress *prog, int epoch, int64_t b, double batch_loss) {
    nn_progress_break(prog);
    char where[256];
    explain_nonfinite(s->g, s->loss, where, sizeof where);
    nn_status st = nn_fail_run(s->g, NN_ERR_NUMERIC,
                               "fit: the loss is %s at epoch %d, step %lld (batch %lld/%lld)%s; the weights are left "
                               "as they were before this step (try a lower learning rate or check the data)",
                               isnan(batch_loss) ? "NaN" : "Inf", epoch, (long long)(nn_optimizer_steps(s->opt) + 1),
                               (long long)(b + 1), (long long)s->batches, where);
    nn_set_error(st, "%s", nn_error_message(s->g));
    return st;
}

/* ---- data parallelism: the calls into nn_fit_opts.dist ---- */

void nn_fit_shard(int64_t rows, int rank, int size, int64_t *first, int64_t *count) {
    if (size < 1 || rank < 0 || rank >= size) {
        *first = 0;
        *count = rows;
        return;
    }
    int64_t lo = rows * rank / size, hi = rows * (rank + 1) / size;
    *first = lo;
    *count = hi - lo;
}

/* Announces this process's setup (st) and takes rank 0's starting state. */
static nn_status dist_begin(fit_state *s, nn_status st, nn_rng *rng, int *initial_epoch) {
    nn_node *const *grads = s->outputs ? s->outputs + s->grad_off : NULL;
    if (st != NN_OK) nn_set_error(st, "%s", nn_error_message(s->g));
    nn_fit_dist_start start = {st, s->g, s->params, grads, s->n_params, s->opt, rng, initial_epoch, s->n_train,
                               s->bat.x[0] ? s->bat.x[0]->shape.dim[0] : 0};
    nn_status agreed = s->dist->begin(s->dist->ctx, &start);
    if (agreed != NN_OK && st == NN_OK) nn_fail_run(s->g, agreed, "fit: %s", nn_last_error());
    return st != NN_OK ? st : agreed;
}

/* The step's sums over every process: the global batch's mean loss, rows,
 * and accuracy counts replace this process's. A failure anywhere fails the
 * step everywhere (before any weight changes). */
static nn_status dist_step_end(fit_state *s, nn_status st, int64_t mine, double *batch_loss, int64_t *rows,
                               int64_t *correct, int64_t *judged) {
    nn_fit_sums sums = {*batch_loss * (double)mine, (double)mine, (double)*correct, (double)*judged};
    if (st != NN_OK) nn_set_error(st, "%s", nn_error_message(s->g)); /* what the others are told */
    nn_status agreed = s->dist->step_end(s->dist->ctx, st, &sums);
    if (agreed != NN_OK && st == NN_OK) nn_fail_run(s->g, agreed, "fit: %s", nn_last_error());
    if (st != NN_OK || agreed != NN_OK) return st != NN_OK ? st : agreed;
    *batch_loss = sums.rows > 0 ? sums.loss / sums.rows : NAN;
    *rows = (int64_t)sums.rows;
    *correct = (int64_t)sums.correct;
    *judged = (int64_t)sums.judged;
    return NN_OK;
}

/* Whether any process asked to stop (its callbacks, a signal). */
static nn_status dist_agree_stop(fit_state *s, int *stopped) {
    nn_status st = s->dist->agree_stop(s->dist->ctx, stopped);
    if (st != NN_OK) nn_fail_run(s->g, st, "fit: %s", nn_last_error());
    return st;
}

nn_status nn_fit(nn_graph *g, nn_node *loss, const nn_dataset *train, const nn_fit_opts *opts, nn_fit_result *result) {
    char sh[64];
    if (!g) return nn_set_error(NN_ERR_ARG, "fit: graph is NULL");
    if (g->status != NN_OK) return g->status;
    if (!loss || loss->id >= g->n_nodes || g->nodes[loss->id] != loss)
        return nn_fail_run(g, NN_ERR_ARG, "fit: the loss is NULL or not a node of this graph");
    if (loss->dtype != NN_F32 || loss->shape.rank != 0)
        return nn_fail_run(g, NN_ERR_SHAPE, "fit: the loss '%s' must be an f32 scalar, it is %s%s", loss->name,
                           nn_dtype_name(loss->dtype), nn_shape_str(loss->shape, sh, sizeof sh));
    if (!train || !train->x || nn_dataset_size(train) < 1)
        return nn_fail_run(g, NN_ERR_ARG, "fit: the training set is NULL or empty");
    nn_fit_opts o = opts ? *opts : (nn_fit_opts){0};
    if (o.epochs <= 0) o.epochs = 1;
    if (o.batch_size <= 0) o.batch_size = 32;
    if (o.initial_epoch < 0) o.initial_epoch = 0;
    if (result) {
        memset(result, 0, sizeof *result);
        result->loss = result->accuracy = result->val_loss = result->val_accuracy = NAN;
    }

    fit_state s = {0};
    s.g = g;
    s.loss = loss;
    s.x = o.x;
    s.y = o.y;
    s.dist = o.dist;
    nn_status st = fit_setup(&s, g, loss, train, &o);
    if (st == NN_OK) st = callbacks_setup(&s, g, &o);

    nn_rng rng;
    if (st != NN_OK) {
    } else if (o.shuffle_state) {
        rng = *o.shuffle_state;
    } else {
        nn_rng_seed(&rng, o.shuffle_seed ? o.shuffle_seed : nn_rng_u64(&g->rng));
        for (int e = 0; e < o.initial_epoch && !o.no_shuffle; e++) epoch_order(&s, &rng, 1);
    }
    if (s.dist) st = dist_begin(&s, st, &rng, &o.initial_epoch);
    if (st != NN_OK) {
        fit_state_free(&s);
        return st;
    }
    nn_progress prog;
    nn_progress_init(&prog, o.progress, o.verbose, o.epochs, s.batches);
    int64_t last_rows = s.n_train - (s.batches - 1) * s.batch;

    double fit_start = nn_now();
    nn_epoch_info ei = {0};
    ei.val_loss = ei.val_accuracy = NAN;
    int stopped = 0, epochs_run = 0;
    int64_t steps_run = 0;
    for (int epoch = o.initial_epoch + 1; epoch <= o.epochs && st == NN_OK && !stopped; epoch++) {
        epoch_order(&s, &rng, !o.no_shuffle);
        ei.lr = epoch_lr(&s, &o, epoch);
        if (o.lr_schedule) prog.lr = ei.lr; /* Keras shows the rate once a schedule sets it */
        nn_metric_acc_reset(&s.train_metrics);
        nn_metric_acc_reset(&s.val_metrics);
        nn_progress_epoch_begin(&prog, epoch);
        double epoch_start = nn_now(), loss_sum = 0.0;
        int64_t seen = 0, correct = 0, judged = 0;
        for (int64_t b = 0; b < s.batches && st == NN_OK; b++) {
            /* the global batch, and this process's rows of it */
            int64_t first = b * s.batch, rows = b + 1 < s.batches ? s.batch : last_rows, mine = rows;
            if (s.dist) {
                int64_t skip;
                nn_fit_shard(rows, s.dist->rank, s.dist->size, &skip, &mine);
                first += skip;
                if ((st = s.dist->step_begin(s.dist->ctx, mine, rows)) != NN_OK) {
                    nn_fail_run(g, st, "fit: %s", nn_last_error());
                    break;
                }
            }
            /* headers over the batch buffers (a partial batch uses their first rows) */
            nn_tensor xt, yt;
            if (mine > 0 && (st = nn_batches_get(&s.bat, b, s.idx + first, mine, &xt, &yt)) != NN_OK)
                nn_fail_run(g, st, "fit: %s", nn_last_error());
            if (st == NN_OK && mine > 0) st = nn_set_input(g, s.x, &xt);
            if (st == NN_OK && mine > 0 && s.y) st = nn_set_input(g, s.y, &yt);
            /* the next batch, gathered by an idle pool thread during this
             * step (one process: a shard's rows are known only at its step) */
            if (st == NN_OK && !s.dist && b + 1 < s.batches)
                nn_batches_prefetch(&s.bat, g->exec, b + 1, s.idx + first + rows,
                                    b + 2 < s.batches ? s.batch : last_rows);
            g->row_ids = s.idx + first; /* errors name the dataset's rows */
            if (st == NN_OK && mine > 0) {
                /* the step runs in training mode (dropout, batch
                 * statistics); validation and callbacks see the mode the
                 * caller left */
                int was = nn_graph_set_training(g, 1);
                st = nn_run(g, s.outputs, s.n_outputs);
                nn_graph_set_training(g, was);
            }
            g->row_ids = NULL;
            double batch_loss = st == NN_OK && mine > 0 ? nn_value_scalar(loss) : 0.0;
            if (st == NN_OK && !isfinite(batch_loss)) st = nonfinite_loss(&s, &prog, epoch, b, batch_loss);
            int64_t c = 0, t = 0;
            if (st == NN_OK && mine > 0 && s.acc != NN_ACC_NONE) nn_accuracy_count(loss, s.acc, &c, &t);
            /* with other processes: every one learns whether any failed, and
             * the sums become the global batch's */
            if (s.dist) st = dist_step_end(&s, st, mine, &batch_loss, &rows, &c, &t);
            if (st != NN_OK) break;
            correct += c;
            judged += t;
            if (mine > 0) nn_metric_acc_add(&s.train_metrics, loss);
            loss_sum += batch_loss * (double)rows;
            seen += rows;
            for (int i = 0; i < s.n_params; i++) s.grad_values[i] = nn_value(s.outputs[s.grad_off + i]);
            st = nn_optimizer_update(s.opt, s.grad_values, s.n_params);
            /* the next batch is in before any callback can touch the graph */
            nn_batches_wait(&s.bat);
            if (st != NN_OK) {
                nn_fail_run(g, st, "fit: %s", nn_last_error());
                break;
            }
            steps_run++;
            double acc_now = judged ? (double)correct / (double)judged : NAN;
            nn_progress_step(&prog, b + 1, loss_sum / (double)seen, acc_now);
            if (o.on_step) {
                nn_step_info si = {epoch, nn_optimizer_steps(s.opt), b + 1, s.batches, batch_loss};
                stopped = o.on_step(&si, o.user) != 0;
            }
            if (s.dist && (st = dist_agree_stop(&s, &stopped)) != NN_OK) break;
            if (stopped) break;
        }
        /* a batch gathered for a step that did not run is dropped */
        nn_batches_wait(&s.bat);
        s.bat.pending = -1;
        if (st != NN_OK) break;
        ei.epoch = epoch;
        ei.epochs = o.epochs;
        ei.step = nn_optimizer_steps(s.opt);
        ei.loss = seen ? loss_sum / (double)seen : NAN;
        ei.accuracy = judged ? (double)correct / (double)judged : NAN;
        if (s.val && !stopped) {
            st = s.dist ? s.dist->evaluate(s.dist->ctx, g, loss, s.val, s.x, s.y, o.batch_size, &ei.val_loss,
                                           &ei.val_accuracy)
                        : nn_evaluate_acc(g, loss, s.val, s.x, s.y, o.batch_size, &ei.val_loss, &ei.val_accuracy,
                                          &s.val_metrics);
            if (st != NN_OK) break;
        }
        if (s.dist && (st = s.dist->epoch_end(s.dist->ctx, epoch)) != NN_OK) {
            nn_fail_run(g, st, "fit: %s", nn_last_error());
            break;
        }
        nn_metric_acc_values(&s.train_metrics, &ei.metrics);
        nn_metric_acc_values(&s.val_metrics, &ei.val_metrics);
        ei.seconds = nn_now() - epoch_start;
        ei.graph = g;
        ei.optimizer = s.opt;
        ei.rng = &rng;
        epochs_run++;
        if (stopped) {
            nn_progress_break(&prog);
            break;
        }
        nn_progress_epoch_end(&prog, ei.loss, ei.accuracy, ei.val_loss, ei.val_accuracy);
        if (o.on_epoch && o.on_epoch(&ei, o.user)) stopped = 1;
        if (!stopped && nn_stopper_says_stop(&s.stop, &ei)) {
            stopped = 1;
            if (o.verbose > 0)
                fprintf(prog.out ? prog.out : stderr, "Early stopping: %s did not improve for %d epoch%s (best %.4f at epoch %d)\n",
                        s.stop.monitor, s.stop.wait, s.stop.wait == 1 ? "" : "s", s.stop.best, s.stop.best_epoch);
        }
        if (s.plateau.on) {
            double next = nn_plateau_epoch_end(&s.plateau, nn_epoch_monitor(&ei, s.plateau.s.monitor), ei.lr);
            if (next != ei.lr) {
                nn_optimizer_set_lr(s.opt, (float)next);
                if (o.verbose > 0)
                    fprintf(prog.out ? prog.out : stderr, "Reducing the learning rate to %g: %s did not improve for %d epochs\n",
                            (double)nn_optimizer_lr(s.opt), s.plateau.s.monitor, s.plateau.s.patience);
            }
        }
        if (s.dist && (st = dist_agree_stop(&s, &stopped)) != NN_OK) break;
    }
    int restored = st == NN_OK && nn_stopper_restore(&s.stop);
    if (restored && o.verbose > 0)
        fprintf(prog.out ? prog.out : stderr, "Restoring the weights of epoch %d (%s %.4f)\n", s.stop.best_epoch,
                s.stop.monitor, s.stop.best);
    if (s.dist) s.dist->end(s.dist->ctx, st);
    if (st != NN_OK) nn_progress_break(&prog); /* the error message starts on a line of its own */
    if (result) {
        result->epochs_run = epochs_run;
        result->steps = steps_run;
        result->loss = ei.loss;
        result->accuracy = ei.accuracy;
        result->val_loss = ei.val_loss;
        result->val_accuracy = ei.val_accuracy;
        result->seconds = nn_now() - fit_start;
        result->stopped_early = stopped;
        result->best_epoch = s.stop.best_epoch;
        result->best = s.stop.best_epoch ? s.stop.best : NAN;
        result->restored = restored;
    }
    if (epochs_run == 0 && result) result->loss = result->accuracy = NAN;
    fit_state_free(&s);
    return st;
}
