/* Metrics beyond loss and accuracy: top-k accuracy, the confusion matrix
 * and the macro precision, recall and F1 read from it, and the mean
 * absolute error of a regression. nn_fit accumulates them batch by batch
 * from the values its runs leave on the loss's inputs. */
#include "train_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void nn_macro_scores(const int64_t *cm, int k, double *precision, double *recall, double *f1) {
    double p_sum = 0, r_sum = 0, f_sum = 0;
    int counted = 0;
    for (int c = 0; cm && c < k; c++) {
        int64_t tp = cm[(size_t)c * k + c], actual = 0, predicted = 0;
        for (int j = 0; j < k; j++) {
            actual += cm[(size_t)c * k + j];
            predicted += cm[(size_t)j * k + c];
        }
        if (actual == 0 && predicted == 0) continue; /* a class seen nowhere */
        double p = predicted ? (double)tp / (double)predicted : 0.0;
        double r = actual ? (double)tp / (double)actual : 0.0;
        p_sum += p;
        r_sum += r;
        f_sum += p + r > 0 ? 2.0 * p * r / (p + r) : 0.0;
        counted++;
    }
    if (precision) *precision = counted ? p_sum / counted : NAN;
    if (recall) *recall = counted ? r_sum / counted : NAN;
    if (f1) *f1 = counted ? f_sum / counted : NAN;
}

/* 1 if label's score is among the top_k of the row: fewer than top_k
 * scores beat it (ties with it do not push it out). */
static int in_top_k(const float *z, int64_t cols, int32_t label, int top_k) {
    if (label < 0 || label >= cols) return 0;
    float s = z[label];
    int64_t above = 0;
    for (int64_t j = 0; j < cols; j++) above += z[j] > s;
    return above < top_k;
}

int64_t nn_top_k_correct(const nn_tensor *scores, const nn_tensor *labels, int top_k) {
    if (!scores || nn_tensor_dtype(scores) != NN_F32 || nn_tensor_shape(scores).rank != 2 || top_k < 1) {
        nn_set_error(NN_ERR_ARG, "top_k_correct: scores must be f32 [n, classes] and k >= 1");
        return -1;
    }
    nn_shape s = nn_tensor_shape(scores);
    if (!labels || nn_tensor_dtype(labels) != NN_I32 || nn_tensor_size(labels) != s.dim[0]) {
        nn_set_error(NN_ERR_SHAPE, "top_k_correct: labels must be i32 [%lld], one per row", (long long)s.dim[0]);
        return -1;
    }
    const float *z = nn_tensor_f32((nn_tensor *)scores);
    const int32_t *y = nn_tensor_i32((nn_tensor *)labels);
    int64_t hits = 0;
    for (int64_t r = 0; r < s.dim[0]; r++) hits += in_top_k(z + r * s.dim[1], s.dim[1], y[r], top_k);
    return hits;
}

static const char *const metric_names[] = {"top_k_accuracy", "precision", "recall", "f1", "confusion", "mae"};

const char *nn_metric_name(unsigned metric) {
    for (unsigned i = 0; i < sizeof metric_names / sizeof metric_names[0]; i++)
        if (metric == 1u << i) return metric_names[i];
    return NULL;
}

int nn_metric_from_name(const char *name) {
    for (unsigned i = 0; name && i < sizeof metric_names / sizeof metric_names[0]; i++)
        if (strcmp(metric_names[i], name) == 0) return (int)(1u << i);
    return 0;
}

static int64_t argmax_row(const float *z, int64_t cols) {
    int64_t best = 0;
    for (int64_t j = 1; j < cols; j++)
        if (z[j] > z[best]) best = j;
    return best;
}

nn_status nn_confusion_add(const nn_tensor *scores, const nn_tensor *labels, int64_t *cm) {
    if (!scores || nn_tensor_dtype(scores) != NN_F32 || nn_tensor_shape(scores).rank != 2 || !cm)
        return nn_set_error(NN_ERR_ARG, "confusion_add: scores must be f32 [n, classes] and cm not NULL");
    nn_shape s = nn_tensor_shape(scores);
    if (!labels || nn_tensor_dtype(labels) != NN_I32 || nn_tensor_size(labels) != s.dim[0])
        return nn_set_error(NN_ERR_SHAPE, "confusion_add: labels must be i32 [%lld], one per row", (long long)s.dim[0]);
    const int32_t *y = nn_tensor_i32((nn_tensor *)labels);
    for (int64_t r = 0; r < s.dim[0]; r++)
        if (y[r] < 0 || y[r] >= s.dim[1])
            return nn_set_error(NN_ERR_ARG, "confusion_add: label %d of row %lld is not a class of %lld", y[r],
                                (long long)r, (long long)s.dim[1]);
    const float *z = nn_tensor_f32((nn_tensor *)scores);
    for (int64_t r = 0; r < s.dim[0]; r++) cm[(size_t)y[r] * (size_t)s.dim[1] + argmax_row(z + r * s.dim[1], s.dim[1])]++;
    return NN_OK;
}

/* ---- the accumulator nn_fit keeps ---- */

/* The regression case: a loss whose prediction is values (its descriptor
 * says so), against f32 targets of the same shape. */
static int is_regression(const nn_node *loss) {
    return loss->kind == NN_NODE_OP && loss->op->output == NN_OUTPUT_VALUES && loss->n_in >= 2 &&
           loss->in[0]->dtype == NN_F32 && loss->in[1]->dtype == NN_F32 &&
           nn_shape_equal(loss->in[0]->shape, loss->in[1]->shape);
}

nn_status nn_metric_acc_init(nn_graph *g, nn_metric_acc *m, const nn_node *loss, unsigned want, int top_k) {
    memset(m, 0, sizeof *m);
    if (!want) return NN_OK;
    m->kind = nn_accuracy_kind(loss);
    m->top_k = top_k > 0 ? top_k : 5;
    unsigned classifier = NN_METRIC_TOP_K | NN_METRIC_PRECISION | NN_METRIC_RECALL | NN_METRIC_F1 | NN_METRIC_CONFUSION;
    if (m->kind == NN_ACC_SOFTMAX) {
        m->want = want & classifier;
        m->classes = (int)loss->in[0]->shape.dim[loss->in[0]->shape.rank - 1];
    } else if (m->kind == NN_ACC_BCE) {
        m->want = want & classifier & ~(unsigned)NN_METRIC_TOP_K;
        m->classes = 2;
    } else if (is_regression(loss)) {
        m->want = want & NN_METRIC_MAE;
    }
    if (!m->want)
        return nn_fail_run(g, NN_ERR_ARG, "fit: none of the metrics asked for applies to the loss '%s' (%s): top-k, "
                           "precision, recall, F1 and the confusion matrix need a classifier's loss, MAE a regression's",
                           loss->name, loss->kind == NN_NODE_OP ? loss->op->name : "not an op");
    if (m->classes > 4096)
        return nn_fail_run(g, NN_ERR_ARG, "fit: %d classes is too many for a confusion matrix (at most 4096)", m->classes);
    if (m->classes) {
        m->confusion = calloc((size_t)m->classes * (size_t)m->classes, sizeof *m->confusion);
        if (!m->confusion) return nn_fail_run(g, NN_ERR_NOMEM, "fit: out of memory for the confusion matrix");
    }
    return NN_OK;
}

void nn_metric_acc_reset(nn_metric_acc *m) {
    m->rows = m->top_hits = m->elems = 0;
    m->abs_err = 0;
    if (m->confusion) memset(m->confusion, 0, (size_t)m->classes * (size_t)m->classes * sizeof *m->confusion);
}

void nn_metric_acc_add(nn_metric_acc *m, const nn_node *loss) {
    if (!m->want) return;
    const nn_tensor *z = loss->in[0]->value, *t = loss->in[1]->value;
    if (!z || !t) return;
    const float *zd = z->data;
    if (m->kind == NN_ACC_SOFTMAX) {
        int64_t cols = m->classes, rows = z->size / cols;
        const int32_t *y = t->data;
        for (int64_t r = 0; r < rows; r++) {
            const float *row = zd + r * cols;
            if (m->want & NN_METRIC_TOP_K) m->top_hits += in_top_k(row, cols, y[r], m->top_k);
            if (m->confusion && y[r] >= 0 && y[r] < cols) m->confusion[(size_t)y[r] * cols + argmax_row(row, cols)]++;
        }
        m->rows += rows;
    } else if (m->kind == NN_ACC_BCE) {
        const float *td = t->data;
        for (int64_t i = 0; i < z->size; i++) m->confusion[(td[i] > 0.5f) * 2 + (zd[i] > 0.f)]++;
        m->rows += z->size;
    } else {
        const float *td = t->data;
        double s = 0;
        for (int64_t i = 0; i < z->size; i++) s += fabs((double)zd[i] - (double)td[i]);
        m->abs_err += s;
        m->elems += z->size;
    }
}

void nn_metric_acc_values(const nn_metric_acc *m, nn_metric_values *out) {
    memset(out, 0, sizeof *out);
    out->top_k_accuracy = out->precision = out->recall = out->f1 = out->mae = NAN;
    if (!m->want) return;
    if ((m->want & NN_METRIC_TOP_K) && m->rows) {
        out->top_k_accuracy = (double)m->top_hits / (double)m->rows;
        out->top_k = m->top_k;
    }
    if (m->confusion && m->rows) {
        double p, r, f;
        nn_macro_scores(m->confusion, m->classes, &p, &r, &f);
        if (m->want & NN_METRIC_PRECISION) out->precision = p;
        if (m->want & NN_METRIC_RECALL) out->recall = r;
        if (m->want & NN_METRIC_F1) out->f1 = f;
        if (m->want & NN_METRIC_CONFUSION) {
            out->classes = m->classes;
            out->confusion = m->confusion;
        }
    }
    if ((m->want & NN_METRIC_MAE) && m->elems) out->mae = m->abs_err / (double)m->elems;
}

void nn_metric_acc_free(nn_metric_acc *m) {
    free(m->confusion);
    m->confusion = NULL;
}
