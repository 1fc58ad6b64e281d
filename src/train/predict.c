/* Prediction and evaluation: running a trained graph over a whole dataset
 * in batches, and the post-processing the labs do on logits (softmax
 * probabilities outside the model, argmax classes, error counts). */
#include "train_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

nn_acc_kind nn_accuracy_kind(const nn_node *loss) {
    if (!loss || loss->kind != NN_NODE_OP) return NN_ACC_NONE;
    switch (loss->op->output) {
    case NN_OUTPUT_CLASSES: return NN_ACC_SOFTMAX;
    case NN_OUTPUT_BINARY: return NN_ACC_BCE;
    default: return NN_ACC_NONE; /* values (regression) have no accuracy */
    }
}

static int64_t row_argmax(const float *z, int64_t cols) {
    int64_t best = 0;
    for (int64_t j = 1; j < cols; j++)
        if (z[j] > z[best]) best = j; /* ties: the first, like numpy */
    return best;
}

void nn_accuracy_count(const nn_node *loss, nn_acc_kind kind, int64_t *correct, int64_t *total) {
    *correct = *total = 0;
    const nn_tensor *z = loss->in[0]->value, *t = loss->in[1]->value;
    if (!z || !t) return;
    int64_t c = 0;
    if (kind == NN_ACC_SOFTMAX) {
        int64_t cols = z->shape.dim[z->shape.rank - 1], rows = z->size / cols;
        const float *zd = z->data;
        const int32_t *labels = t->data;
        for (int64_t r = 0; r < rows; r++) c += row_argmax(zd + r * cols, cols) == labels[r];
        *total = rows;
    } else if (kind == NN_ACC_BCE) {
        const float *zd = z->data, *td = t->data;
        for (int64_t i = 0; i < z->size; i++) c += (zd[i] > 0.f) == (td[i] > 0.5f);
        *total = z->size;
    }
    *correct = c;
}

/* A tensor header over rows [first, first+rows) of t, without a copy. */
static const uint8_t *rows_of_u8(const nn_tensor *t, int64_t first) {
    return (const uint8_t *)t->data + (size_t)(first * (t->size / t->shape.dim[0]));
}

static void rows_of(nn_tensor *view, const nn_tensor *t, int64_t first, int64_t rows) {
    nn_shape s = t->shape;
    int64_t row_elems = t->size / s.dim[0];
    s.dim[0] = rows;
    nn_tensor_wrap(view, t->dtype, s, (char *)t->data + (size_t)(first * row_elems) * nn_dtype_size(t->dtype));
}

/* Rows [first, first+rows) of t for an input: a view of t, or for u8
 * images their conversion into *conv (f32, made on first use with room
 * for `batch` rows; the caller frees it). NULL when memory runs out. */
static nn_tensor *batch_rows(nn_tensor *view, nn_tensor **conv, const nn_tensor *t, int64_t first, int64_t rows,
                             int64_t batch) {
    rows_of(view, t, first, rows);
    if (t->dtype != NN_U8) return view;
    if (!*conv) {
        nn_shape s = t->shape;
        s.dim[0] = batch;
        if (!(*conv = nn_tensor_new_uninit(NN_F32, s))) return NULL;
    }
    nn_shape s = view->shape;
    nn_tensor_wrap(view, NN_F32, s, (*conv)->data);
    nn_u8_to_f32(rows_of_u8(t, first), view->data, (size_t)view->size);
    return view;
}

static nn_status check_input(nn_graph *g, nn_node *in, const nn_tensor *t, const char *who) {
    char a[64], b[64];
    if (!in || in->kind != NN_NODE_INPUT)
        return nn_fail_run(g, NN_ERR_ARG, "%s: '%s' is not an input node", who, in ? in->name : "NULL");
    if (!t || t->shape.rank < 1 || t->shape.dim[0] < 1)
        return nn_fail_run(g, NN_ERR_ARG, "%s: no rows to feed to input '%s'", who, in->name);
    /* u8 images feed an f32 input, converted batch by batch */
    int fits = (in->dtype == t->dtype || (in->dtype == NN_F32 && t->dtype == NN_U8)) && in->shape.rank == t->shape.rank && in->shape.dim[0] == NN_BATCH;
    for (int i = 1; fits && i < in->shape.rank; i++) fits = in->shape.dim[i] == t->shape.dim[i];
    if (!fits)
        return nn_fail_run(g, NN_ERR_SHAPE, "%s: input '%s' is %s%s, the data is %s%s", who, in->name,
                           nn_dtype_name(in->dtype), nn_shape_str(in->shape, a, sizeof a), nn_dtype_name(t->dtype),
                           nn_shape_str(t->shape, b, sizeof b));
    return NN_OK;
}

nn_tensor *nn_predict(nn_graph *g, nn_node *x_input, nn_node *out, const nn_tensor *x, int batch_size) {
    char a[64];
    if (!g) {
        nn_set_error(NN_ERR_ARG, "predict: graph is NULL");
        return NULL;
    }
    if (g->status != NN_OK) return NULL;
    if (check_input(g, x_input, x, "predict") != NN_OK) return NULL;
    if (!out || out->shape.rank < 1 || out->shape.dim[0] != NN_BATCH) {
        nn_fail_run(g, NN_ERR_SHAPE, "predict: output '%s' %s has no batch dimension to fill row by row",
                    out ? out->name : "NULL", out ? nn_shape_str(out->shape, a, sizeof a) : "");
        return NULL;
    }
    if (batch_size <= 0) batch_size = 32;
    int64_t n = x->shape.dim[0];
    nn_shape rs = out->shape;
    rs.dim[0] = n;
    nn_tensor *result = nn_tensor_new(out->dtype, rs);
    if (!result) {
        nn_fail_run(g, NN_ERR_NOMEM, "predict: out of memory for %lld rows", (long long)n);
        return NULL;
    }
    size_t row_bytes = (size_t)(result->size / n) * nn_dtype_size(out->dtype);
    nn_tensor *conv = NULL; /* u8 images converted a batch at a time */
    for (int64_t first = 0; first < n; first += batch_size) {
        int64_t rows = n - first < batch_size ? n - first : batch_size;
        nn_tensor view, *xb = batch_rows(&view, &conv, x, first, rows, batch_size);
        nn_status st = xb ? nn_set_input(g, x_input, xb) : nn_fail_run(g, NN_ERR_NOMEM, "predict: out of memory");
        if (st == NN_OK) {
            int was = nn_graph_set_training(g, 0);
            st = nn_run(g, &out, 1);
            nn_graph_set_training(g, was);
        }
        if (st != NN_OK) {
            x_input->value = NULL;
            nn_tensor_free(result);
            nn_tensor_free(conv);
            return NULL;
        }
        memcpy((char *)result->data + (size_t)first * row_bytes, out->value->data, (size_t)rows * row_bytes);
    }
    x_input->value = NULL; /* the view dies here: leave no dangling binding */
    nn_tensor_free(conv);
    return result;
}

nn_status nn_evaluate(nn_graph *g, nn_node *loss, const nn_dataset *data, nn_node *x, nn_node *y, int batch_size,
                      double *loss_out, double *accuracy_out) {
    return nn_evaluate_acc(g, loss, data, x, y, batch_size, loss_out, accuracy_out, NULL);
}

nn_status nn_evaluate_acc(nn_graph *g, nn_node *loss, const nn_dataset *data, nn_node *x, nn_node *y, int batch_size,
                          double *loss_out, double *accuracy_out, nn_metric_acc *metrics) {
    if (loss_out) *loss_out = NAN;
    if (accuracy_out) *accuracy_out = NAN;
    if (!g) return nn_set_error(NN_ERR_ARG, "evaluate: graph is NULL");
    if (g->status != NN_OK) return g->status;
    if (!loss || loss->shape.rank != 0 || loss->dtype != NN_F32)
        return nn_fail_run(g, NN_ERR_ARG, "evaluate: the loss must be an f32 scalar node");
    if (!data || !data->x) return nn_fail_run(g, NN_ERR_ARG, "evaluate: the dataset is NULL or has no features");
    if (!x) x = nn_graph_find(g, "x");
    if (!y) y = nn_graph_find(g, "y");
    nn_status st = check_input(g, x, data->x, "evaluate");
    if (st != NN_OK) return st;
    int feed_y = y && data->y;
    if (feed_y && (st = check_input(g, y, data->y, "evaluate")) != NN_OK) return st;
    if (batch_size <= 0) batch_size = 32;
    nn_acc_kind acc = feed_y ? nn_accuracy_kind(loss) : NN_ACC_NONE;
    if (!feed_y) metrics = NULL;
    /* the logits (or the regression's prediction) are an output too, so a
     * planner that recycles buffers keeps them for the metrics */
    int keep_prediction = acc != NN_ACC_NONE || (metrics && metrics->want);
    nn_node *outs[2] = {loss, keep_prediction ? loss->in[0] : NULL};
    int n_outs = keep_prediction ? 2 : 1;
    int64_t n = data->x->shape.dim[0], correct = 0, judged = 0;
    double sum = 0.0;
    /* the dataset row of each batch row, for the kernels' error messages */
    int64_t *row_ids = malloc((size_t)batch_size * sizeof *row_ids);
    if (!row_ids) return nn_fail_run(g, NN_ERR_NOMEM, "evaluate: out of memory");
    nn_tensor *conv = NULL; /* u8 images converted a batch at a time */
    for (int64_t first = 0; first < n && st == NN_OK; first += batch_size) {
        int64_t rows = n - first < batch_size ? n - first : batch_size;
        nn_tensor xv, yv, *xb = batch_rows(&xv, &conv, data->x, first, rows, batch_size);
        st = xb ? nn_set_input(g, x, xb) : nn_fail_run(g, NN_ERR_NOMEM, "evaluate: out of memory");
        if (st == NN_OK && feed_y) {
            rows_of(&yv, data->y, first, rows);
            st = nn_set_input(g, y, &yv);
        }
        for (int64_t r = 0; r < rows; r++) row_ids[r] = first + r;
        g->row_ids = row_ids;
        if (st == NN_OK) {
            int was = nn_graph_set_training(g, 0);
            st = nn_run(g, outs, n_outs);
            nn_graph_set_training(g, was);
        }
        g->row_ids = NULL;
        if (st != NN_OK) break;
        sum += (double)nn_value_scalar(loss) * (double)rows;
        if (acc != NN_ACC_NONE) {
            int64_t c, t;
            nn_accuracy_count(loss, acc, &c, &t);
            correct += c;
            judged += t;
        }
        if (metrics) nn_metric_acc_add(metrics, loss);
    }
    free(row_ids);
    x->value = NULL;
    if (feed_y) y->value = NULL;
    nn_tensor_free(conv);
    if (st != NN_OK) return st;
    if (loss_out) *loss_out = sum / (double)n;
    if (accuracy_out && judged) *accuracy_out = (double)correct / (double)judged;
    return NN_OK;
}

nn_tensor *nn_probabilities(const nn_tensor *logits) {
    if (!logits || logits->dtype != NN_F32 || logits->shape.rank != 2 || logits->size < 1) {
        nn_set_error(NN_ERR_ARG, "probabilities: logits must be a non-empty f32 [n, classes] tensor");
        return NULL;
    }
    nn_tensor *p = nn_tensor_new(NN_F32, logits->shape);
    if (!p) {
        nn_set_error(NN_ERR_NOMEM, "probabilities: out of memory");
        return NULL;
    }
    int64_t cols = logits->shape.dim[1], rows = logits->shape.dim[0];
    for (int64_t r = 0; r < rows; r++) {
        const float *z = (const float *)logits->data + r * cols;
        float *q = (float *)p->data + r * cols;
        /* max-subtracted: exp of a logit of 1000 would overflow */
        float m = z[row_argmax(z, cols)];
        double s = 0.0;
        for (int64_t j = 0; j < cols; j++) s += q[j] = expf(z[j] - m);
        for (int64_t j = 0; j < cols; j++) q[j] = (float)(q[j] / s);
    }
    return p;
}

nn_tensor *nn_argmax(const nn_tensor *scores) {
    if (!scores || scores->dtype != NN_F32 || scores->shape.rank < 1 || scores->size < 1) {
        nn_set_error(NN_ERR_ARG, "argmax: scores must be a non-empty f32 tensor");
        return NULL;
    }
    int64_t cols = scores->shape.dim[scores->shape.rank - 1], rows = scores->size / cols;
    nn_tensor *out = nn_tensor_new(NN_I32, NN_SHAPE(rows));
    if (!out) {
        nn_set_error(NN_ERR_NOMEM, "argmax: out of memory");
        return NULL;
    }
    for (int64_t r = 0; r < rows; r++)
        ((int32_t *)out->data)[r] = (int32_t)row_argmax((const float *)scores->data + r * cols, cols);
    return out;
}

int64_t nn_count_errors(const nn_tensor *scores, const nn_tensor *labels) {
    if (!scores || scores->dtype != NN_F32 || scores->shape.rank != 2) {
        nn_set_error(NN_ERR_ARG, "count_errors: scores must be f32 [n, classes]");
        return -1;
    }
    if (!labels || labels->dtype != NN_I32 || labels->shape.rank != 1 || labels->shape.dim[0] != scores->shape.dim[0]) {
        nn_set_error(NN_ERR_SHAPE, "count_errors: labels must be i32 [%lld], one per row of the scores",
                     (long long)scores->shape.dim[0]);
        return -1;
    }
    int64_t cols = scores->shape.dim[1], errors = 0;
    for (int64_t r = 0; r < scores->shape.dim[0]; r++)
        errors += row_argmax((const float *)scores->data + r * cols, cols) != ((const int32_t *)labels->data)[r];
    return errors;
}
