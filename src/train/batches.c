/* nn_fit's batch buffers. A batch is gathered (and its u8 images widened
 * to floats) from the dataset's rows in the epoch's order. When the graph
 * has a pool thread to spare, the next batch is gathered by it into a
 * second pair of buffers while the current step runs, so the step that
 * follows finds its batch ready: the same rows in the same order, the same
 * floats, only sooner. The plan of a small network runs on one thread
 * (exec.c), which leaves the others idle for exactly this. */
#include "train_internal.h"

#include <string.h>

static nn_tensor *batch_buffer(const nn_tensor *like, int64_t rows) {
    nn_shape s = like->shape;
    s.dim[0] = rows;
    /* u8 images are gathered into floats (nn_gather_rows converts) */
    return nn_tensor_new(like->dtype == NN_U8 ? NN_F32 : like->dtype, s);
}

/* A tensor header over rows [first, first+rows) of t: no copy. */
void nn_row_view(nn_tensor *view, const nn_tensor *t, int64_t first, int64_t rows) {
    nn_shape s = t->shape;
    int64_t row_elems = s.dim[0] ? t->size / s.dim[0] : 0;
    s.dim[0] = rows;
    nn_tensor_wrap(view, t->dtype, s, (char *)t->data + (size_t)(first * row_elems) * nn_dtype_size(t->dtype));
}

nn_status nn_batches_init(nn_batches *bb, const nn_dataset *train, int64_t rows, int with_y) {
    memset(bb, 0, sizeof *bb);
    bb->train = train;
    bb->with_y = with_y;
    bb->pending = -1;
    bb->x[0] = batch_buffer(train->x, rows);
    bb->y[0] = with_y ? batch_buffer(train->y, rows) : NULL;
    return bb->x[0] && (!with_y || bb->y[0]) ? NN_OK : NN_ERR_NOMEM;
}

void nn_batches_free(nn_batches *bb) {
    nn_batches_wait(bb);
    for (int i = 0; i < 2; i++) {
        nn_tensor_free(bb->x[i]);
        nn_tensor_free(bb->y[i]);
    }
    memset(bb, 0, sizeof *bb);
}

/* Gathers rows idx[0..n) into the headers xt, yt (yt NULL: no targets). */
static nn_status gather(const nn_dataset *train, const int64_t *idx, int64_t n, nn_tensor *xt, nn_tensor *yt) {
    nn_status st = nn_gather_rows(train->x, idx, n, xt);
    if (st == NN_OK && yt) st = nn_gather_rows(train->y, idx, n, yt);
    return st;
}

/* The pool thread's part. Its error, if any, stays in its thread's
 * message: nn_batches_get gathers again to report it. */
static void gather_next(void *arg) {
    nn_batches *bb = arg;
    bb->next_st = gather(bb->train, bb->next_idx, bb->next_rows, &bb->next_x, bb->with_y ? &bb->next_y : NULL);
}

nn_status nn_batches_get(nn_batches *bb, int64_t b, const int64_t *idx, int64_t n, nn_tensor *xt, nn_tensor *yt) {
    int with_y = bb->with_y;
    if (bb->pending == b) {
        nn_batches_wait(bb);
        bb->pending = -1;
        bb->cur ^= 1; /* the gathered pair becomes the current one */
        if (bb->next_st == NN_OK) {
            nn_row_view(xt, bb->x[bb->cur], 0, n);
            if (with_y) nn_row_view(yt, bb->y[bb->cur], 0, n);
            return NN_OK;
        }
    }
    nn_batches_wait(bb);
    bb->pending = -1;
    nn_row_view(xt, bb->x[bb->cur], 0, n);
    if (with_y) nn_row_view(yt, bb->y[bb->cur], 0, n);
    return gather(bb->train, idx, n, xt, with_y ? yt : NULL);
}

void nn_batches_prefetch(nn_batches *bb, struct nn_exec *e, int64_t b, const int64_t *idx, int64_t n) {
    if (bb->off || n <= 0 || nn_exec_threads(e) < 2) return;
    int other = bb->cur ^ 1;
    if (!bb->x[other]) {
        /* the second pair, made the first time a thread is there to fill it */
        int64_t rows = bb->x[0]->shape.dim[0];
        bb->x[other] = batch_buffer(bb->train->x, rows);
        bb->y[other] = bb->with_y ? batch_buffer(bb->train->y, rows) : NULL;
        if (!bb->x[other] || (bb->with_y && !bb->y[other])) {
            bb->off = 1; /* no memory for it: gather on this thread */
            return;
        }
    }
    nn_row_view(&bb->next_x, bb->x[other], 0, n);
    if (bb->with_y) nn_row_view(&bb->next_y, bb->y[other], 0, n);
    bb->next_idx = idx;
    bb->next_rows = n;
    bb->next_st = NN_ERR_STATE;
    if (nn_async_post(e, &bb->async, gather_next, bb)) bb->pending = b;
}

void nn_batches_wait(nn_batches *bb) { nn_async_wait(&bb->async); }
