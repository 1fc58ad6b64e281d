/* Curves of logged runs: loss and accuracy (train and validation) per
 * epoch or step from a run log, one run or several overlaid, the legend
 * naming each run and the hyperparameters that differ between them.
 * Shared by `nngraph plot curves` and the run pages of `nngraph ui`. */
#include "plot_internal.h"
#include "nngraph/runlog.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One run's curves and its legend name. */
typedef struct run_curves {
    char name[200];
    nn_metric_point *pts[4]; /* train loss, val loss, train accuracy, val accuracy */
    int n[4];
    double *x[4], *y[4];
    nn_param_kv *kv;
    int nkv;
} run_curves;

static const char *param_of(const run_curves *r, const char *key) {
    for (int i = 0; i < r->nkv; i++)
        if (strcmp(r->kv[i].key, key) == 0) return r->kv[i].value;
    return "-";
}

/* Appends "key=value" of the hyperparameters whose values differ between
 * runs (at most four, "shape:" entries left out) to each run's name. */
static void name_differences(run_curves *r, int n) {
    int shown = 0;
    for (int i = 0; i < r[0].nkv && shown < 4; i++) {
        const char *key = r[0].kv[i].key;
        if (strncmp(key, "shape:", 6) == 0) continue;
        int differs = 0;
        for (int j = 1; j < n; j++) differs |= strcmp(param_of(&r[j], key), r[0].kv[i].value) != 0;
        if (!differs) continue;
        shown++;
        for (int j = 0; j < n; j++) {
            size_t len = strlen(r[j].name);
            snprintf(r[j].name + len, sizeof r[j].name - len, " %.40s=%.40s", key, param_of(&r[j], key));
        }
    }
}

nn_status nn_plot_run_curves(const char *path, const nn_plot_opts *opts, nn_runlog *log, const int64_t *runs, int n,
                             const nn_plot_run_opts *ro) {
    nn_plot_run_opts none = {0};
    if (!ro) ro = &none;
    if (!log || !runs || n < 1 || n > NN_PLOT_MAX_RUNS)
        return nn_set_error(NN_ERR_ARG, "%s: curves of 1 to %d runs, not %d", path, NN_PLOT_MAX_RUNS, n);
    static const char *const keys[4] = {"loss", "loss", "accuracy", "accuracy"};
    static const char *const splits[4] = {"train", "val", "train", "val"};
    run_curves *rc = calloc((size_t)n, sizeof *rc);
    nn_plot_series *loss = calloc((size_t)n * 2, sizeof *loss), *acc = calloc((size_t)n * 2, sizeof *acc);
    char(*labels)[240] = calloc((size_t)n * 4, sizeof *labels);
    nn_status s = NN_OK;
    if (!rc || !loss || !acc || !labels) {
        s = nn_set_error(NN_ERR_NOMEM, "%s: out of memory", path);
        goto done;
    }
    for (int j = 0; j < n && s == NN_OK; j++) {
        run_curves *r = &rc[j];
        nn_run_row row;
        s = nn_runlog_get_run(log, runs[j], &row);
        if (s == NN_OK) s = nn_runlog_params(log, runs[j], &r->kv, &r->nkv);
        if (s != NN_OK) break;
        snprintf(r->name, sizeof r->name, "run %lld%s%.100s", (long long)row.id, row.name[0] ? " " : "", row.name);
        for (int c = 0; c < 4 && s == NN_OK; c++) {
            s = nn_runlog_curve(log, runs[j], keys[c], splits[c], !ro->steps, &r->pts[c], &r->n[c]);
            if (s != NN_OK) break;
            r->x[c] = malloc(sizeof(double) * (size_t)(r->n[c] + 1));
            r->y[c] = malloc(sizeof(double) * (size_t)(r->n[c] + 1));
            if (!r->x[c] || !r->y[c]) {
                s = nn_set_error(NN_ERR_NOMEM, "%s: out of memory", path);
                break;
            }
            for (int i = 0; i < r->n[c]; i++) r->x[c][i] = (double)r->pts[c][i].at, r->y[c][i] = r->pts[c][i].value;
            if (ro->smooth > 0) nn_plot_smooth(r->y[c], r->n[c], ro->smooth, r->y[c]);
        }
    }
    if (s != NN_OK) goto done;
    if (n > 1) name_differences(rc, n);
    int nl = 0, na = 0;
    for (int j = 0; j < n; j++)
        for (int c = 0; c < 4; c++) {
            if (rc[j].n[c] == 0) continue;
            char *label = labels[j * 4 + c];
            snprintf(label, sizeof labels[0], "%s%s%s", n > 1 ? rc[j].name : "", n > 1 ? " " : "",
                     c % 2 ? "validation" : "train");
            nn_plot_series series = {label, rc[j].x[c], rc[j].y[c], rc[j].n[c], j, c % 2};
            if (c < 2) loss[nl++] = series;
            else acc[na++] = series;
        }
    if (nl == 0 && na == 0) {
        s = nn_set_error(NN_ERR_ARG, "%s: nothing logged %s yet", path, ro->steps ? "per step" : "per epoch");
        goto done;
    }
    const char *xl = ro->steps ? "step" : "epoch";
    char title[256];
    if (n == 1) snprintf(title, sizeof title, "Training curves of %s", rc[0].name);
    else snprintf(title, sizeof title, "Training curves of %d runs", n);
    nn_plot_panel panels[2] = {
        {title, xl, ro->log_y ? "loss (log scale)" : "loss", loss, nl, ro->log_y},
        {"Accuracy", xl, "accuracy (fraction correct)", acc, na, 0},
    };
    s = nn_plot_curves(path, opts, panels, na ? 2 : 1);
done:
    for (int j = 0; rc && j < n; j++) {
        for (int c = 0; c < 4; c++) free(rc[j].pts[c]), free(rc[j].x[c]), free(rc[j].y[c]);
        free(rc[j].kv);
    }
    free(rc), free(loss), free(acc), free(labels);
    return s;
}
