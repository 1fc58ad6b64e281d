/* Sharded evaluation and prediction (each rank a contiguous shard of the
 * rows, the results on rank 0 or everywhere), and the run log's record of
 * a data-parallel fit. */
#include "dist_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* A header over rows [first, first+rows) of t: no copy. */
static void rows_view(nn_tensor *view, const nn_tensor *t, int64_t first, int64_t rows) {
    nn_shape s = t->shape;
    int64_t row_elems = s.dim[0] ? t->size / s.dim[0] : 0;
    s.dim[0] = rows;
    nn_tensor_wrap(view, t->dtype, s, (char *)t->data + (size_t)(first * row_elems) * nn_dtype_size(t->dtype));
}

enum { EV_LOSS, EV_ROWS, EV_ACC, EV_ACC_ROWS, EV_STATUS };

nn_status nn_dist_evaluate(nn_dist *d, nn_graph *g, nn_node *loss, const nn_dataset *data, nn_node *x, nn_node *y,
                           int batch_size, double *loss_out, double *accuracy_out) {
    if (loss_out) *loss_out = NAN;
    if (accuracy_out) *accuracy_out = NAN;
    if (nn_dist_usable(d) != NN_OK) return nn_dist_usable(d);
    double *sb = calloc((size_t)d->size + EV_STATUS, sizeof *sb);
    if (!sb) return nn_set_error(NN_ERR_NOMEM, "dist: out of memory");
    nn_status local = NN_OK;
    char why[NN_ERRLEN] = "";
    if (!data || !data->x || data->x->shape.rank < 1) {
        local = nn_set_error(NN_ERR_ARG, "evaluate: the dataset is NULL or has no features");
    } else {
        int64_t first, count;
        nn_fit_shard(data->x->shape.dim[0], d->rank, d->size, &first, &count);
        if (count > 0) {
            nn_tensor xv, yv;
            rows_view(&xv, data->x, first, count);
            if (data->y) rows_view(&yv, data->y, first, count);
            nn_dataset shard = {&xv, data->y ? &yv : NULL};
            double l = NAN, a = NAN;
            local = nn_evaluate(g, loss, &shard, x, y, batch_size, &l, &a);
            sb[EV_LOSS] = l * (double)count;
            sb[EV_ROWS] = (double)count;
            if (!isnan(a)) {
                sb[EV_ACC] = a * (double)count;
                sb[EV_ACC_ROWS] = (double)count;
            }
        }
    }
    if (local != NN_OK)
        snprintf(why, sizeof why, "%s", x && g && nn_error_message(g)[0] ? nn_error_message(g) : nn_last_error());
    sb[EV_STATUS + d->rank] = local;
    nn_status st = nn_dist_allreduce(d, sb, d->size + EV_STATUS, MPI_DOUBLE, MPI_SUM, "the evaluation's allreduce");
    if (st == NN_OK) st = nn_dist_agree_failure(d, sb + EV_STATUS, local, why);
    if (st == NN_OK) {
        if (loss_out) *loss_out = sb[EV_ROWS] > 0 ? sb[EV_LOSS] / sb[EV_ROWS] : NAN;
        if (accuracy_out) *accuracy_out = sb[EV_ACC_ROWS] > 0 ? sb[EV_ACC] / sb[EV_ACC_ROWS] : NAN;
    }
    nn_dist_drop(d, sb);
    return st;
}

nn_status nn_dist_evaluate_hook(void *ctx, nn_graph *g, nn_node *loss, const nn_dataset *data, nn_node *x,
                                nn_node *y, int batch_size, double *loss_out, double *accuracy_out) {
    return nn_dist_evaluate(ctx, g, loss, data, x, y, batch_size, loss_out, accuracy_out);
}

nn_tensor *nn_dist_predict(nn_dist *d, nn_graph *g, nn_node *x_input, nn_node *out, const nn_tensor *x,
                           int batch_size, nn_status *status) {
    nn_status dummy;
    if (!status) status = &dummy;
    if ((*status = nn_dist_usable(d)) != NN_OK) return NULL;
    nn_tensor *part = NULL, *all = NULL;
    /* sizes and displacements, then this rank's size (heap: see broken) */
    int *counts = calloc((size_t)d->size * 2 + 1, sizeof *counts);
    double *sb = calloc((size_t)d->size, sizeof *sb);
    nn_status local = NN_OK;
    char why[NN_ERRLEN] = "";
    int64_t first = 0, count = 0, row_bytes = 0;
    if (!counts || !sb) {
        local = nn_set_error(NN_ERR_NOMEM, "dist: out of memory");
    } else if (!x) {
        /* this rank failed before: its message goes to the others */
        local = NN_ERR_ARG;
        if (!nn_last_error()[0]) nn_set_error(NN_ERR_ARG, "predict: x is NULL");
    } else if (x->shape.rank < 1 || !out) {
        local = nn_set_error(NN_ERR_ARG, "predict: x has no rows or the output node is NULL");
    } else {
        nn_fit_shard(x->shape.dim[0], d->rank, d->size, &first, &count);
        if (count > 0) {
            nn_tensor xv;
            rows_view(&xv, x, first, count);
            part = nn_predict(g, x_input, out, &xv, batch_size);
            if (!part) local = g && g->run_status ? g->run_status : NN_ERR_RUNTIME;
            else row_bytes = (int64_t)nn_dtype_size(part->dtype) * (part->size / count);
            if (part && (int64_t)count * row_bytes > INT32_MAX)
                local = nn_set_error(NN_ERR_ARG, "dist predict: a shard of over 2 GiB of predictions");
        }
    }
    if (local != NN_OK)
        snprintf(why, sizeof why, "%s", x && g && nn_error_message(g)[0] ? nn_error_message(g) : nn_last_error());
    nn_status st;
    if (!sb) {
        /* cannot even agree: the others will time out */
        *status = local;
        free(counts);
        return NULL;
    }
    sb[d->rank] = local;
    st = nn_dist_allreduce(d, sb, d->size, MPI_DOUBLE, MPI_SUM, "the prediction's status");
    if (st == NN_OK) st = nn_dist_agree_failure(d, sb, local, why);
    /* every shard's size in bytes (an empty shard: 0), then the rows */
    int *my_bytes = counts + 2 * d->size, row_bytes_all = 0;
    *my_bytes = (int)(count * row_bytes);
    MPI_Request r;
    if (st == NN_OK)
        st = nn_dist_check(d, MPI_Igather(my_bytes, 1, MPI_INT, counts, 1, MPI_INT, 0, d->comm, &r), "MPI_Igather");
    if (st == NN_OK) st = nn_dist_wait(d, &r, 1, "the gather of the predictions' sizes");
    /* the row size, from a rank with rows (through the status buffer) */
    sb[0] = (double)row_bytes;
    if (st == NN_OK) st = nn_dist_allreduce(d, sb, 1, MPI_DOUBLE, MPI_MAX, "the predictions' row size");
    row_bytes_all = (int)sb[0];
    if (st == NN_OK && d->rank == 0) {
        int *displs = counts + d->size;
        for (int q = 1; q < d->size; q++) displs[q] = displs[q - 1] + counts[q - 1];
        nn_shape s = nn_node_shape(out);
        s.dim[0] = x->shape.dim[0];
        if (part) s = part->shape, s.dim[0] = x->shape.dim[0];
        all = nn_tensor_new(part ? part->dtype : nn_node_dtype(out), s);
        if (!all || (int64_t)all->size * (int64_t)nn_dtype_size(all->dtype) != x->shape.dim[0] * (int64_t)row_bytes_all)
            st = nn_set_error(NN_ERR_NOMEM, "dist predict: out of memory for the gathered predictions");
    }
    if (st == NN_OK)
        st = nn_dist_check(d, MPI_Igatherv(part ? part->data : NULL, *my_bytes, MPI_BYTE, all ? all->data : NULL, counts,
                                           counts + d->size, MPI_BYTE, 0, d->comm, &r), "MPI_Igatherv");
    if (st == NN_OK) st = nn_dist_wait(d, &r, 1, "the gather of the predictions");
    if (d->broken) nn_dist_drop(d, part); /* its data may still be read: the header too */
    else nn_tensor_free(part);
    nn_dist_drop(d, counts);
    nn_dist_drop(d, sb);
    *status = st;
    if (st != NN_OK) {
        nn_tensor_free(all);
        return NULL;
    }
    return all;
}

/* ---- the run log ---- */

nn_status nn_dist_log_params(const nn_dist *d, nn_runlog *log, int local_batch) {
    if (!d || !log || d->rank != 0) return NN_OK;
    nn_status st = nn_runlog_param_num(log, "world_size", d->size);
    if (st == NN_OK) st = nn_runlog_param(log, "hosts", nn_dist_hosts(d));
    if (st == NN_OK) st = nn_runlog_param_num(log, "local_batch", local_batch);
    if (st == NN_OK) st = nn_runlog_param_num(log, "global_batch", (double)local_batch * d->size);
    if (st == NN_OK)
        st = nn_runlog_param(log, "lr_scaling",
                             "none: each step applies the learning rate to the mean gradient of the global batch "
                             "(world_size * local_batch rows), as DistributedDataParallel does");
    return st;
}

nn_status nn_dist_log_epoch(const nn_dist *d, nn_runlog *log, int epoch) {
    if (!d || !log || d->rank != 0 || !d->all) return NN_OK;
    nn_status st = NN_OK;
    for (int q = 0; q < d->size && st == NN_OK; q++) {
        char key[3][48];
        snprintf(key[0], sizeof key[0], "rank%d/samples_per_sec", q);
        snprintf(key[1], sizeof key[1], "rank%d/comm_wait", q);
        snprintf(key[2], sizeof key[2], "rank%d/comm_hidden", q);
        const nn_dist_stats *s = &d->all[q];
        st = nn_runlog_epoch_metric(log, key[0], "train", epoch, s->seconds > 0 ? s->samples / s->seconds : 0);
        if (st == NN_OK) st = nn_runlog_epoch_metric(log, key[1], "train", epoch, s->wait);
        if (st == NN_OK && s->comm > 0) st = nn_runlog_epoch_metric(log, key[2], "train", epoch, 1.0 - s->wait / s->comm);
    }
    return st;
}
