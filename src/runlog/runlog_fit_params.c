/* Run log: the hyperparameters a logged fit records when its run starts,
 * and the check that a resume asks for the same ones. */
#include "runlog_fit_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Optimizer hyperparameters are floats: log the shortest decimal that reads
 * back to the same float (0.9, not 0.89999997615814209). */
double rl_float_decimal(double v) {
    float want = (float)v;
    char text[32];
    for (int prec = 1; prec <= 9; prec++) {
        snprintf(text, sizeof text, "%.*g", prec, (double)want);
        if ((float)strtod(text, NULL) == want) return strtod(text, NULL);
    }
    return v;
}

/* What nn_fit does beyond the optimizer: the schedule, early stopping,
 * the metrics asked for. Logged only when set, so that a plain run's
 * hyperparameters stay as they were. */
static nn_status log_fit_extras(nn_runlog_fit *f, const nn_fit_opts *o) {
    nn_status s = NN_OK;
    if (o->lr_schedule) {
        char text[96];
        nn_lr_schedule_str(o->lr_schedule, text, sizeof text);
        s = nn_runlog_param(f->log, "lr_schedule", text);
    }
    if (s == NN_OK && o->monitor) {
        s = nn_runlog_param(f->log, "monitor", o->monitor);
        if (s == NN_OK) s = nn_runlog_param_num(f->log, "patience", o->patience);
        if (s == NN_OK && o->min_delta != 0) s = nn_runlog_param_num(f->log, "min_delta", o->min_delta);
        if (s == NN_OK) s = nn_runlog_param(f->log, "restore_best_weights", o->restore_best_weights ? "true" : "false");
    }
    if (s == NN_OK && o->metrics) {
        char list[128] = "";
        for (unsigned bit = 1; nn_metric_name(bit); bit <<= 1)
            if (o->metrics & bit) {
                if (list[0]) strcat(list, ",");
                strcat(list, nn_metric_name(bit));
            }
        s = nn_runlog_param(f->log, "metrics", list);
        if (s == NN_OK && (o->metrics & NN_METRIC_TOP_K)) s = nn_runlog_param_num(f->log, "top_k", o->top_k > 0 ? o->top_k : 5);
    }
    return s;
}

nn_status rl_fit_log_hparams(nn_runlog_fit *f, const nn_fit_opts *o) {
    nn_status s = nn_runlog_param(f->log, "optimizer", nn_optimizer_name(f->opt));
    const char *keys[8];
    double vals[8];
    int n = nn_optimizer_hparams(f->opt, keys, vals, 8);
    for (int i = 0; i < n && s == NN_OK; i++) s = nn_runlog_param_num(f->log, keys[i], rl_float_decimal(vals[i]));
    if (s == NN_OK) s = nn_runlog_param_num(f->log, "batch_size", o->batch_size > 0 ? o->batch_size : 32);
    if (s == NN_OK) s = nn_runlog_param_num(f->log, "epochs", o->epochs > 0 ? o->epochs : 1);
    if (s == NN_OK) s = nn_runlog_param_num(f->log, "val_split", o->val_split);
    if (s == NN_OK) s = nn_runlog_param(f->log, "shuffle", o->no_shuffle ? "false" : "true");
    if (s == NN_OK) s = nn_runlog_param_num(f->log, "checkpoint_every", f->ro.checkpoint_every ? f->ro.checkpoint_every : 1);
    if (s == NN_OK) s = log_fit_extras(f, o);
    int64_t count = 0;
    for (int i = 0; i < f->n_params && s == NN_OK; i++) {
        char key[160], shape[96];
        snprintf(key, sizeof key, "shape:%s", nn_node_name(f->params[i]));
        nn_shape_str(nn_tensor_shape(nn_param_value(f->params[i])), shape, sizeof shape);
        count += nn_tensor_size(nn_param_value(f->params[i]));
        s = nn_runlog_param(f->log, key, shape);
    }
    if (s == NN_OK) s = nn_runlog_param_num(f->log, "param_count", (double)count);
    return s;
}

/* One recorded hyperparameter against what this resume asks for: 0, or
 * -1 after the error. A run's history is one configuration; changing the
 * optimizer, a rate or the batch midway would silently mix two. */
static int same_param(const nn_param_kv *kv, int n, const char *key, const char *text, double num, int is_num,
                      const char *path, int64_t run) {
    for (int i = 0; i < n; i++) {
        if (strcmp(kv[i].key, key) != 0) continue;
        int same = is_num ? kv[i].is_num && kv[i].num == num : strcmp(kv[i].value, text) == 0;
        if (same) return 0;
        char want[64];
        if (is_num)
            snprintf(want, sizeof want, "%.9g", num);
        else
            snprintf(want, sizeof want, "%s", text);
        nn_set_error(NN_ERR_ARG,
                     "%s: resume: run %lld was trained with %s = %s, this resume asks for %s; resume it with the "
                     "same hyperparameters, or start a new run",
                     path, (long long)run, key, kv[i].value, want);
        return -1;
    }
    return 0; /* not recorded (an older log): nothing to compare */
}

/* The hyperparameters log_hparams records, except the epoch count (a
 * resume asks for more) and the checkpoint interval, compared with the
 * run's. */
nn_status rl_fit_check_resume(nn_runlog_fit *f, const nn_fit_opts *o) {
    nn_param_kv *kv = NULL;
    int n = 0;
    nn_status s = nn_runlog_params(f->log, f->ro.resume_run, &kv, &n);
    if (s != NN_OK) return s;
    const char *path = nn_runlog_path(f->log);
    int64_t run = f->ro.resume_run;
    int bad = same_param(kv, n, "optimizer", nn_optimizer_name(f->opt), 0, 0, path, run);
    const char *keys[8];
    double vals[8];
    int nh = nn_optimizer_hparams(f->opt, keys, vals, 8);
    for (int i = 0; i < nh && !bad; i++) bad = same_param(kv, n, keys[i], NULL, rl_float_decimal(vals[i]), 1, path, run);
    if (!bad) bad = same_param(kv, n, "batch_size", NULL, o->batch_size > 0 ? o->batch_size : 32, 1, path, run);
    if (!bad) bad = same_param(kv, n, "val_split", NULL, o->val_split, 1, path, run);
    if (!bad) bad = same_param(kv, n, "shuffle", o->no_shuffle ? "false" : "true", 0, 0, path, run);
    if (!bad) {
        char sched[96] = "constant";
        if (o->lr_schedule) nn_lr_schedule_str(o->lr_schedule, sched, sizeof sched);
        bad = same_param(kv, n, "lr_schedule", sched, 0, 0, path, run);
    }
    free(kv);
    return bad ? NN_ERR_ARG : NN_OK;
}

