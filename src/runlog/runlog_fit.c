/* Run log: logging a fit through nn_fit's callbacks, checkpoints of the
 * training state, resuming from them, and ending the run from the fit's
 * status. */
#include "runlog_fit_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


/* The parameters `loss` depends on, in creation order: the set and order
 * nn_fit attaches to the optimizer, so a state restored before nn_fit is
 * kept by its attach. */
static int needed_params(nn_graph *g, nn_node *loss, nn_node ***out) {
    int n = nn_graph_num_nodes(g), edges = 1;
    for (int i = 0; i < n; i++) edges += nn_node_num_inputs(nn_graph_node(g, i));
    /* a node is pushed once per edge into it at most, plus the loss */
    nn_node **stack = malloc((size_t)edges * sizeof *stack), **seen = malloc((size_t)(n ? n : 1) * sizeof *seen);
    *out = malloc((size_t)(n ? n : 1) * sizeof **out);
    if (!stack || !seen || !*out) {
        free(stack);
        free(seen);
        free(*out);
        *out = NULL;
        return -1;
    }
    int top = 0, n_seen = 0, k = 0;
    stack[top++] = loss;
    while (top > 0) {
        nn_node *x = stack[--top];
        int dup = 0;
        for (int i = 0; i < n_seen && !dup; i++) dup = seen[i] == x;
        if (dup || n_seen == n) continue;
        seen[n_seen++] = x;
        for (int i = 0; i < nn_node_num_inputs(x) && top < edges; i++) stack[top++] = nn_node_input(x, i);
    }
    for (int i = 0; i < n; i++) {
        nn_node *x = nn_graph_node(g, i);
        if (nn_node_kind_of(x) != NN_NODE_PARAM) continue;
        for (int j = 0; j < n_seen; j++)
            if (seen[j] == x) {
                (*out)[k++] = x;
                break;
            }
    }
    free(stack);
    free(seen);
    return k;
}

/* Records a logging failure: under NN_RUNLOG_CONTINUE logging stops and
 * training goes on; under NN_RUNLOG_STOP the fit is asked to stop.
 * Returns what the callback should return. */
static int db_failed(nn_runlog_fit *f, nn_status s) {
    if (!f->dead) {
        f->dead = 1;
        f->db_status = s;
        snprintf(f->db_error, sizeof f->db_error, "%s", nn_last_error());
    }
    return f->ro.on_db_error == NN_RUNLOG_STOP;
}

static nn_ckpt_role slot_role(const char *slot) {
    if (strcmp(slot, "adam_m") == 0) return NN_ROLE_ADAM_M;
    if (strcmp(slot, "adam_v") == 0) return NN_ROLE_ADAM_V;
    return NN_ROLE_STATE;
}

/* The checkpoint name of a slot: the parameter's name for Adam's moments
 * (their role says which), "NAME#slot" for other optimizer state. */
static void slot_item_name(const nn_node *p, const char *slot, char *buf, size_t len) {
    if (slot_role(slot) != NN_ROLE_STATE) snprintf(buf, len, "%s", nn_node_name(p));
    else snprintf(buf, len, "%s#%s", nn_node_name(p), slot);
}

/* Writes a checkpoint of the whole training state. */
static nn_status write_checkpoint(nn_runlog_fit *f, const char *reason, const nn_rng *rng) {
    int slots = nn_optimizer_num_slots(f->opt);
    int cap = f->n_params * (1 + slots) + 2;
    nn_ckpt_item *items = calloc((size_t)cap, sizeof *items);
    char (*names)[160] = calloc((size_t)cap, sizeof *names);
    nn_tensor *steps = nn_tensor_new(NN_I32, NN_SHAPE(2));
    if (!items || !names || !steps) {
        free(items);
        free(names);
        nn_tensor_free(steps);
        return nn_set_error(NN_ERR_NOMEM, "%s: out of memory writing a checkpoint", nn_runlog_path(f->log));
    }
    int n = 0;
    for (int i = 0; i < f->n_params; i++)
        items[n++] = (nn_ckpt_item){nn_node_name(f->params[i]), NN_ROLE_PARAM, nn_param_value(f->params[i]), NULL};
    for (int i = 0; i < f->n_params; i++)
        for (int s = 0; s < slots; s++) {
            nn_tensor *t = nn_optimizer_slot(f->opt, f->params[i], s);
            if (!t) continue; /* SGD without momentum keeps no velocity */
            const char *slot = nn_optimizer_slot_name(f->opt, s);
            slot_item_name(f->params[i], slot, names[n], sizeof names[n]);
            items[n] = (nn_ckpt_item){names[n], slot_role(slot), t, NULL};
            n++;
        }
    uint64_t count = (uint64_t)nn_optimizer_steps(f->opt);
    nn_tensor_i32(steps)[0] = (int32_t)(uint32_t)(count & 0xffffffffu);
    nn_tensor_i32(steps)[1] = (int32_t)(uint32_t)(count >> 32);
    items[n++] = (nn_ckpt_item){"optimizer_steps", NN_ROLE_STATE, steps, NULL};
    if (rng) items[n++] = (nn_ckpt_item){"shuffle", NN_ROLE_RNG, NULL, rng};
    nn_status s = nn_runlog_checkpoint(f->log, (int64_t)count, f->last_epoch, reason, items, n, NULL);
    if (s == NN_OK) f->last_ckpt_epoch = f->last_epoch;
    free(items);
    free(names);
    nn_tensor_free(steps);
    return s;
}

/* Puts a checkpoint's state back: weights, optimizer slots and steps, the
 * shuffle generator. Everything is checked before anything changes. */
static nn_status restore(nn_runlog_fit *f, const nn_checkpoint *c) {
    /* check_resume_hparams has made sure the state is this optimizer's */
    const char *path = nn_runlog_path(f->log);
    const nn_tensor *steps = nn_checkpoint_find(c, "optimizer_steps", NN_ROLE_STATE);
    if (!steps || nn_tensor_dtype(steps) != NN_I32 || nn_tensor_size(steps) != 2)
        return nn_set_error(NN_ERR_DB, "%s: checkpoint %lld has no optimizer_steps: not a fit's checkpoint", path,
                            (long long)nn_checkpoint_id(c));
    if (nn_checkpoint_rng(c, "shuffle", &f->shuffle) != NN_OK)
        return nn_set_error(NN_ERR_DB, "%s: checkpoint %lld has no shuffle generator", path,
                            (long long)nn_checkpoint_id(c));
    if (nn_optimizer_attach(f->opt, f->params, f->n_params) != NN_OK) return NN_ERR_NOMEM;
    int slots = nn_optimizer_num_slots(f->opt);
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < f->n_params; i++)
            for (int s = 0; s < slots; s++) {
                nn_tensor *dst = nn_optimizer_slot(f->opt, f->params[i], s);
                if (!dst) continue;
                const char *slot = nn_optimizer_slot_name(f->opt, s);
                char name[160];
                slot_item_name(f->params[i], slot, name, sizeof name);
                const nn_tensor *src = nn_checkpoint_find(c, name, slot_role(slot));
                if (!src || nn_tensor_size(src) != nn_tensor_size(dst))
                    return nn_set_error(NN_ERR_ARG,
                                        "%s: checkpoint %lld has no %s state of the right size for parameter '%s' "
                                        "(was it made with another optimizer?)",
                                        path, (long long)nn_checkpoint_id(c), slot, nn_node_name(f->params[i]));
                if (pass == 1) nn_tensor_copy(dst, src);
            }
    nn_status s = nn_checkpoint_apply(c, f->g);
    if (s != NN_OK) return s;
    const int32_t *w = nn_tensor_i32(steps);
    nn_optimizer_set_steps(f->opt, (int64_t)((uint64_t)(uint32_t)w[0] | ((uint64_t)(uint32_t)w[1] << 32)));
    return NN_OK;
}

static int on_step(const nn_step_info *si, void *user) {
    nn_runlog_fit *f = user;
    f->last_step = si->step;
    f->at_epoch_end = 0;
    int stop = 0;
    if (!f->dead) {
        nn_status s = NN_OK;
        if (f->ro.log_steps >= 0 && (f->ro.log_steps <= 1 || si->step % f->ro.log_steps == 0))
            s = nn_runlog_step_metric(f->log, "loss", "train", si->step, si->loss);
        /* at most one write a second: a long epoch still looks alive */
        if (s == NN_OK) s = nn_runlog_heartbeat(f->log);
        if (s != NN_OK) stop = db_failed(f, s);
    }
    if (!stop && f->user_step) stop = f->user_step(si, f->user);
    /* checked last, so that a stop asked for during the caller's callback
     * is seen at this very step */
    if (f->ro.stop && *f->ro.stop) {
        f->interrupted = 1;
        stop = 1;
    }
    return stop;
}

/* Whether an epoch that writes no checkpoint commits its metrics now
 * (nn_runlog_fit_opts.commit_secs). */
static int commit_due(const nn_runlog_fit *f) {
    double every = f->ro.commit_secs == 0 ? 0.1 : f->ro.commit_secs;
    if (every < 0 || f->epochs_seen == 1) return 1;
    /* commit before another epoch like this one would overflow the buffer
     * (which would write part of an epoch) */
    int rows_per_epoch = f->log->n_rows - f->rows_before;
    if (f->log->n_rows + rows_per_epoch > f->log->flush_steps) return 1;
    return rl_now() - f->last_commit >= every;
}

/* The extra metrics of one split (those asked for and defined). */
static nn_status log_metric_values(nn_runlog_fit *f, const nn_metric_values *m, const char *split, int64_t epoch) {
    struct {
        const char *key;
        double v;
    } kv[] = {{"top_k_accuracy", m->top_k_accuracy}, {"precision", m->precision}, {"recall", m->recall},
              {"f1", m->f1}, {"mae", m->mae}};
    nn_status s = NN_OK;
    for (size_t i = 0; i < sizeof kv / sizeof kv[0] && s == NN_OK; i++)
        if (!isnan(kv[i].v)) s = nn_runlog_epoch_metric(f->log, kv[i].key, split, epoch, kv[i].v);
    /* the confusion matrix as one metric a cell, "confusion/TRUE/PREDICTED" */
    for (int t = 0; t < m->classes && m->confusion && s == NN_OK; t++)
        for (int p = 0; p < m->classes && s == NN_OK; p++) {
            char key[48];
            snprintf(key, sizeof key, "confusion/%d/%d", t, p);
            s = nn_runlog_epoch_metric(f->log, key, split, epoch, (double)m->confusion[(size_t)t * m->classes + p]);
        }
    return s;
}

static nn_status log_epoch(nn_runlog_fit *f, const nn_epoch_info *ei) {
    struct {
        const char *key, *split;
        double v;
    } m[6] = {{"loss", "train", ei->loss},
              {"accuracy", "train", ei->accuracy},
              {"loss", "val", ei->val_loss},
              {"accuracy", "val", ei->val_accuracy},
              {"time", "train", ei->seconds},
              {"lr", "train", rl_float_decimal(ei->lr)}};
    nn_status s = NN_OK;
    /* a NaN loss is logged (it is news); a NaN accuracy only means "none" */
    for (int i = 0; i < 6 && s == NN_OK; i++)
        if (i == 0 || !isnan(m[i].v)) s = nn_runlog_epoch_metric(f->log, m[i].key, m[i].split, ei->epoch, m[i].v);
    if (s == NN_OK) s = log_metric_values(f, &ei->metrics, "train", ei->epoch);
    if (s == NN_OK) s = log_metric_values(f, &ei->val_metrics, "val", ei->epoch);
    if (s != NN_OK) return s;
    int every = f->ro.checkpoint_every == 0 ? 1 : f->ro.checkpoint_every;
    int last = ei->epoch == ei->epochs;
    f->epochs_seen++;
    if ((every > 0 && ei->epoch % every == 0) || last) s = write_checkpoint(f, last ? "final" : "epoch", ei->rng);
    else if (commit_due(f)) s = nn_runlog_flush(f->log); /* the epochs' metrics in one transaction */
    else {
        f->rows_before = f->log->n_rows; /* kept for a later epoch's commit */
        return NN_OK;
    }
    if (s == NN_OK) {
        f->last_commit = rl_now();
        f->rows_before = 0;
    }
    return s;
}

static int on_epoch(const nn_epoch_info *ei, void *user) {
    nn_runlog_fit *f = user;
    f->last_epoch = ei->epoch;
    f->last_step = ei->step;
    f->at_epoch_end = 1;
    if (ei->rng) {
        f->last_rng = *ei->rng;
        f->have_rng = 1;
    }
    int stop = 0;
    if (!f->dead) {
        nn_status s = log_epoch(f, ei);
        if (s != NN_OK) stop = db_failed(f, s);
    }
    if (!stop && f->user_epoch) stop = f->user_epoch(ei, f->user);
    if (f->ro.stop && *f->ro.stop) {
        f->interrupted = 2;
        stop = 1;
    }
    return stop;
}


static void fit_free(nn_runlog_fit *f) {
    if (!f) return;
    nn_runlog_close(f->log);
    nn_optimizer_free(f->owned_opt);
    free(f->params);
    free(f);
}

/* nn_runlog_attach that also gives the failure's status. */
static nn_runlog_fit *attach(nn_fit_opts *opts, nn_graph *g, nn_node *loss, const nn_runlog_fit_opts *ro,
                             nn_status *status) {
    if (!opts || !g || !loss) {
        *status = nn_set_error(NN_ERR_ARG, "run log attach: opts, graph and loss are needed");
        return NULL;
    }
    nn_runlog_fit *f = calloc(1, sizeof *f);
    if (!f) {
        *status = nn_set_error(NN_ERR_NOMEM, "run log attach: out of memory");
        return NULL;
    }
    f->ro = ro ? *ro : (nn_runlog_fit_opts){0};
    f->g = g;
    f->epochs = opts->epochs > 0 ? opts->epochs : 1;
    f->n_params = needed_params(g, loss, &f->params);
    if (f->n_params < 0) {
        free(f);
        *status = nn_set_error(NN_ERR_NOMEM, "run log attach: out of memory");
        return NULL;
    }
    f->opt = opts->optimizer;
    if (!f->opt && !(f->opt = f->owned_opt = nn_optimizer_default())) {
        fit_free(f);
        *status = NN_ERR_NOMEM;
        return NULL;
    }
    const char *path = f->ro.path ? f->ro.path : NN_RUNLOG_DEFAULT_PATH;
    nn_runlog_opts lo = {.flags = f->ro.open_flags, .busy_timeout_ms = f->ro.busy_timeout_ms};
    f->log = nn_runlog_open_opts(path, &lo);
    if (!f->log) {
        fit_free(f);
        *status = NN_ERR_DB;
        return NULL;
    }
    nn_status s;
    /* the run's row and its hyperparameters go in one transaction: one
     * commit instead of one per parameter, and a run whose start failed
     * leaves nothing behind */
    int in_txn = 0;
    if (f->ro.resume_run > 0) {
        nn_checkpoint *c = NULL;
        s = nn_runlog_resume(f->log, f->ro.resume_run, -1, &c);
        if (s == NN_OK) {
            s = rl_fit_check_resume(f, opts);
            if (s == NN_OK) s = restore(f, c);
            f->last_epoch = (int)nn_checkpoint_epoch(c);
            f->last_step = nn_checkpoint_step(c);
            f->last_ckpt_epoch = f->last_epoch;
            int epochs = opts->epochs > 0 ? opts->epochs : 1;
            if (s == NN_OK && f->last_epoch >= epochs)
                s = nn_set_error(NN_ERR_ARG, "%s: resume: run %lld has %d epochs already; ask for more than %d",
                                 path, (long long)f->ro.resume_run, f->last_epoch, f->last_epoch);
            if (s != NN_OK) {
                /* leave the run as it was found: not running in our name */
                char msg[512];
                snprintf(msg, sizeof msg, "%s", nn_last_error());
                nn_runlog_finish(f->log, "interrupted", msg);
                nn_set_error(s, "%s", msg);
            }
        }
        nn_checkpoint_free(c);
    } else {
        /* the graph as a graph file, so that a run can be drawn and its
         * weights used again; a graph the text format cannot hold is
         * recorded without it */
        char *text = f->ro.graph_text ? NULL : nn_graph_to_text(g);
        nn_run_info info = {.name = f->ro.run_name,
                            .experiment = f->ro.experiment,
                            .notes = f->ro.notes,
                            .seed = f->ro.seed,
                            .threads = nn_graph_threads(g),
                            .command_line = f->ro.command_line,
                            .graph_text = f->ro.graph_text ? f->ro.graph_text : text};
        s = rl_begin(f->log, "starting a run");
        in_txn = s == NN_OK;
        if (s == NN_OK) s = nn_runlog_start(f->log, &info, NULL);
        free(text);
    }
    if (s == NN_OK && !in_txn) {
        s = rl_begin(f->log, "logging the hyperparameters");
        in_txn = s == NN_OK;
    }
    if (s == NN_OK) s = rl_fit_log_hparams(f, opts);
    if (s == NN_OK && in_txn) s = rl_commit(f->log, "starting a run");
    if (s != NN_OK && in_txn) {
        rl_rollback(f->log);
        if (f->ro.resume_run <= 0) f->log->run = 0; /* its row went with the rollback */
    }
    if (s != NN_OK) {
        if (nn_runlog_current(f->log)) {
            char msg[512];
            snprintf(msg, sizeof msg, "%s", nn_last_error());
            nn_runlog_finish(f->log, "failed", msg);
            nn_set_error(s, "%s", msg);
        }
        fit_free(f);
        *status = s;
        return NULL;
    }
    f->user_step = opts->on_step;
    f->user_epoch = opts->on_epoch;
    f->user = opts->user;
    opts->on_step = on_step;
    opts->on_epoch = on_epoch;
    opts->user = f;
    opts->optimizer = f->opt;
    if (f->ro.resume_run > 0) {
        opts->initial_epoch = f->last_epoch;
        opts->shuffle_state = &f->shuffle;
    }
    *status = NN_OK;
    return f;
}

nn_runlog_fit *nn_runlog_attach(nn_fit_opts *opts, nn_graph *g, nn_node *loss, const nn_runlog_fit_opts *ro) {
    nn_status s;
    return attach(opts, g, loss, ro, &s);
}

nn_status nn_runlog_detach(nn_runlog_fit *f, nn_status fit_status) {
    if (!f) return nn_set_error(NN_ERR_ARG, "run log detach: NULL");
    nn_status ret = fit_status;
    char why[600] = "";
    if (fit_status != NN_OK) snprintf(why, sizeof why, "%s", nn_error_message(f->g)[0] ? nn_error_message(f->g)
                                                                                         : nn_last_error());
    long long run = (long long)nn_runlog_current(f->log);
    /* a stop flag set after the callbacks last looked, and the fit ended
     * early: in a data-parallel fit, the ranks agreed to stop because the
     * signal reached another rank first; an interruption all the same */
    if (!f->interrupted && fit_status == NN_OK && f->ro.stop && *f->ro.stop && f->last_epoch < f->epochs)
        f->interrupted = f->at_epoch_end ? 2 : 1;
    if (f->dead && f->ro.on_db_error == NN_RUNLOG_STOP) {
        /* the log failed: try to say so in it, then report the log's error */
        nn_runlog_finish(f->log, "failed", f->db_error);
        ret = nn_set_error(NN_ERR_DB, "%s (training stopped at epoch %d, step %lld)", f->db_error, f->last_epoch,
                           (long long)f->last_step);
    } else if (f->dead) {
        nn_runlog_finish(f->log, fit_status == NN_OK ? "finished" : "failed", why[0] ? why : NULL);
        if (fit_status != NN_OK) nn_set_error(fit_status, "%s", why);
    } else if (f->interrupted && fit_status == NN_OK) {
        nn_status s = write_checkpoint(f, "signal", f->have_rng ? &f->last_rng : NULL);
        char msg[256];
        if (f->interrupted == 2)
            snprintf(msg, sizeof msg, "interrupted after epoch %d, step %lld", f->last_epoch, (long long)f->last_step);
        else
            snprintf(msg, sizeof msg, "interrupted in epoch %d, at step %lld", f->last_epoch + 1,
                     (long long)f->last_step);
        if (s == NN_OK) s = nn_runlog_finish(f->log, "interrupted", msg);
        ret = s != NN_OK ? s
                         : nn_set_error(NN_ERR_INTERRUPTED,
                                        "%s: run %lld %s; a 'signal' checkpoint holds its weights; resuming restarts "
                                        "from epoch %d's checkpoint",
                                        nn_runlog_path(f->log), run, msg, f->last_ckpt_epoch);
    } else if (fit_status == NN_OK) {
        nn_status s = NN_OK;
        /* checkpoint_every < 0, or stopped early: the final state still goes in */
        if (f->last_ckpt_epoch != f->last_epoch) s = write_checkpoint(f, "final", f->have_rng ? &f->last_rng : NULL);
        if (s == NN_OK) s = nn_runlog_finish(f->log, "finished", NULL);
        ret = s;
    } else {
        /* a NaN loss, a failed kernel: the message names the step and op */
        if (fit_status == NN_ERR_NUMERIC && f->ro.log_steps >= 0)
            nn_runlog_step_metric(f->log, "loss", "train", f->last_step + 1, strstr(why, "loss is Inf") ? INFINITY : NAN);
        nn_runlog_finish(f->log, "failed", why);
        nn_set_error(fit_status, "%s", why);
    }
    /* closing may fail too (rows it cannot flush): keep the first reason */
    char msg[600];
    snprintf(msg, sizeof msg, "%s", nn_last_error());
    fit_free(f);
    if (ret != NN_OK) nn_set_error(ret, "%s", msg);
    return ret;
}

int64_t nn_runlog_fit_run(const nn_runlog_fit *f) { return f ? nn_runlog_current(f->log) : 0; }

nn_runlog *nn_runlog_fit_log(nn_runlog_fit *f) { return f ? f->log : NULL; }

const char *nn_runlog_fit_error(const nn_runlog_fit *f) { return f ? f->db_error : ""; }

nn_status nn_fit_logged(nn_graph *g, nn_node *loss, const nn_dataset *train, const nn_fit_opts *opts,
                        const nn_runlog_fit_opts *ro, nn_fit_result *result) {
    nn_fit_opts o = opts ? *opts : (nn_fit_opts){0};
    nn_status s;
    nn_runlog_fit *f = attach(&o, g, loss, ro, &s);
    if (!f) return s;
    return nn_runlog_detach(f, nn_fit(g, loss, train, &o, result));
}
