/* nn_fit's data-parallel hooks over MPI: the start (rank 0's state to
 * everyone, graphs checked alike), gradient buckets summed by
 * MPI_Iallreduce while the backward pass runs, and the per-step agreement
 * that makes one rank's failure every rank's.
 *
 * Overlap: nn_graph_on_value() reports each gradient as soon as its step
 * finishes; the gradient is copied, weighted by this rank's share of the
 * global batch, into its bucket, and a full bucket starts its allreduce
 * when every bucket before it has started (all ranks must start the same
 * collectives in the same order). Open MPI and MPICH progress a
 * non-blocking collective only inside MPI calls, so every later step of the
 * run also polls the buckets in flight (MPI_Testall). Only the thread that
 * called nn_fit calls MPI (MPI_THREAD_FUNNELED is enough); gradients
 * finished by the pool's other threads wait for its next step or for the
 * end of the run. */
#include "dist_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* A fingerprint of the graph's structure: ops, names, shapes, wiring
 * (FNV-1a). Equal graphs give equal values on every host. */
static uint64_t graph_fingerprint(const nn_graph *g) {
    uint64_t h = 1469598103934665603ULL;
#define MIX(p, n)                                                      \
    for (size_t k_ = 0; k_ < (size_t)(n); k_++) {                      \
        h ^= ((const unsigned char *)(p))[k_];                         \
        h *= 1099511628211ULL;                                         \
    }
    for (int i = 0; i < g->n_nodes; i++) {
        const nn_node *n = g->nodes[i];
        int32_t head[4] = {n->kind, n->dtype, n->n_in, n->shape.rank};
        MIX(head, sizeof head);
        MIX(n->name, strlen(n->name));
        if (n->op) MIX(n->op->name, strlen(n->op->name));
        for (int k = 0; k < n->shape.rank; k++) MIX(&n->shape.dim[k], sizeof n->shape.dim[k]);
        for (int k = 0; k < n->n_in; k++) MIX(&n->in[k]->id, sizeof n->in[k]->id);
    }
#undef MIX
    return h;
}

void nn_dist_fit_release(nn_dist *d) {
    nn_dist_progress_stop(d);
    if (d->g && d->g->on_value_user == d) nn_graph_on_value(d->g, NULL, NULL);
    /* after a given-up wait MPI may still write into the buckets and the
     * status: they are left allocated (the process is ending) */
    for (int b = 0; b < d->n_buckets; b++) {
        if (d->broken) nn_dist_drop(d, d->buckets[b].buf);
        else nn_aligned_free(d->buckets[b].buf);
    }
    nn_dist_drop(d, d->status_buf);
    free(d->buckets);
    for (int i = 0; d->spare && i < d->n_params; i++) {
        if (d->grads && d->grads[i]->value == d->spare[i]) d->grads[i]->value = NULL;
        nn_tensor_free(d->spare[i]);
    }
    free(d->spare);
    d->spare = NULL;
    free(d->grads);
    free(d->order);
    free(d->offset);
    free(d->bucket_of);
    free(d->copied);
    free(d->grad_index);
    d->buckets = NULL;
    d->grads = NULL;
    d->order = NULL;
    d->offset = NULL;
    d->bucket_of = NULL;
    d->copied = NULL;
    d->grad_index = NULL;
    d->status_buf = NULL;
    d->n_buckets = d->n_params = 0;
    d->g = NULL;
    d->armed = 0;
}

/* ---- buckets ---- */

void nn_dist_start_ready(nn_dist *d) {
    while (d->next_start < d->n_buckets) {
        dist_bucket *b = &d->buckets[d->next_start];
        if (atomic_load(&b->filled) < b->count) return;
        if (d->next_start == 0) d->first_send = nn_dist_now();
        int rc = MPI_Iallreduce(MPI_IN_PLACE, b->buf, (int)b->n, MPI_FLOAT, MPI_SUM, d->comm, &b->req);
        if (rc != MPI_SUCCESS) {
            /* reported by step_end, which waits on no request of this bucket */
            b->req = MPI_REQUEST_NULL;
            if (!d->msg[0]) {
                nn_dist_check(d, rc, "MPI_Iallreduce of a gradient bucket");
                snprintf(d->msg, sizeof d->msg, "%s", nn_last_error());
            }
        }
        b->started = 1;
        d->next_start++;
    }
}

/* One poll of the buckets in flight: lets MPI move their data. */
void nn_dist_poke(nn_dist *d) {
    for (int i = 0; i < d->next_start; i++) {
        dist_bucket *b = &d->buckets[i];
        if (b->done) continue;
        int flag = 0;
        MPI_Test(&b->req, &flag, MPI_STATUS_IGNORE);
        b->done = flag;
    }
}

static void copy_in(nn_dist *d, int i, const nn_tensor *v) {
    dist_bucket *b = &d->buckets[d->bucket_of[i]];
    float *dst = b->buf + d->offset[i];
    int64_t n = nn_shape_size(d->grads[i]->shape);
    if (!v || v->dtype != NN_F32 || d->weight == 0.0f) {
        memset(dst, 0, (size_t)n * sizeof *dst);
    } else {
        const float *src = v->data, w = d->weight;
        n = v->size < n ? v->size : n;
        for (int64_t k = 0; k < n; k++) dst[k] = src[k] * w;
    }
    atomic_fetch_add(&b->filled, 1);
}

static void on_value(void *user, const nn_node *node, const nn_tensor *value) {
    nn_dist *d = user;
    if (!d->armed) return;
    int mine = pthread_equal(pthread_self(), d->owner);
    if (node->id < d->n_nodes && d->grad_index[node->id] >= 0) {
        int i = d->grad_index[node->id];
        if (!atomic_exchange(&d->copied[i], 1)) copy_in(d, i, value);
    }
    /* with a progress thread, it alone calls MPI during the step */
    if (mine && !d->prog_running) {
        nn_dist_start_ready(d);
        nn_dist_poke(d);
    }
}

/* Buckets of about bucket_bytes, gradients in reverse parameter order
 * (the order the backward pass makes them). */
static nn_status make_buckets(nn_dist *d, nn_graph *g, nn_node *const *grads, int n) {
    d->g = g;
    d->n_params = n;
    d->n_nodes = g->n_nodes;
    d->grads = calloc((size_t)(n ? n : 1), sizeof *d->grads);
    d->order = malloc((size_t)(n ? n : 1) * sizeof *d->order);
    d->offset = malloc((size_t)(n ? n : 1) * sizeof *d->offset);
    d->bucket_of = malloc((size_t)(n ? n : 1) * sizeof *d->bucket_of);
    d->copied = calloc((size_t)(n ? n : 1), sizeof *d->copied);
    d->spare = calloc((size_t)(n ? n : 1), sizeof *d->spare);
    d->grad_index = malloc((size_t)g->n_nodes * sizeof *d->grad_index);
    d->buckets = calloc((size_t)(n ? n : 1), sizeof *d->buckets);
    d->status_buf = calloc((size_t)d->size + 5, sizeof *d->status_buf);
    if (!d->grads || !d->order || !d->offset || !d->bucket_of || !d->copied || !d->grad_index || !d->buckets ||
        !d->status_buf || !d->spare)
        return nn_set_error(NN_ERR_NOMEM, "dist: out of memory");
    for (int i = 0; i < g->n_nodes; i++) d->grad_index[i] = -1;
    size_t limit = d->bucket_bytes / sizeof(float);
    for (int k = 0; k < n; k++) {
        int i = n - 1 - k;
        d->grads[i] = grads[i];
        d->order[k] = i;
        d->grad_index[grads[i]->id] = i;
        int64_t size = nn_shape_size(grads[i]->shape);
        dist_bucket *b = d->n_buckets ? &d->buckets[d->n_buckets - 1] : NULL;
        if (!b || (size_t)(b->n + size) > limit) {
            b = &d->buckets[d->n_buckets++];
            b->first = k;
        }
        d->bucket_of[i] = (int)(b - d->buckets);
        d->offset[i] = b->n;
        b->n += size;
        b->count++;
    }
    for (int b = 0; b < d->n_buckets; b++) {
        if (d->buckets[b].n > INT32_MAX) return nn_set_error(NN_ERR_ARG, "dist: a gradient of over 2^31 floats");
        d->buckets[b].buf = nn_aligned_alloc((size_t)d->buckets[b].n * sizeof(float));
        if (!d->buckets[b].buf) return nn_set_error(NN_ERR_NOMEM, "dist: out of memory for the gradient buckets");
    }
    nn_graph_on_value(g, on_value, d);
    return nn_dist_progress_start(d);
}

/* ---- the start ---- */

/* What each rank says when the fit starts. */
enum { SAY_STATUS, SAY_GRAPH, SAY_PARAMS, SAY_VALUES, SAY_ROWS, SAY_BATCH, SAY_N };

/* Rank 0's parameters, optimizer state and steps, shuffle generator and
 * initial epoch, to every rank. */
static nn_status share_state(nn_dist *d, const nn_fit_dist_start *s) {
    int slots = nn_optimizer_num_slots(s->optimizer);
    int n_req = 0, cap = s->n_params * (1 + slots) + 1;
    MPI_Request *reqs = malloc((size_t)cap * sizeof *reqs);
    if (!reqs) return nn_set_error(NN_ERR_NOMEM, "dist: out of memory");
    int64_t *head = d->head;
    head[0] = *s->initial_epoch;
    head[1] = nn_optimizer_steps(s->optimizer);
    memcpy(head + 2, s->shuffle->s, sizeof s->shuffle->s);
    nn_status st = nn_dist_bcast(d, head, 6, MPI_INT64_T, 0, "the broadcast of rank 0's epoch and shuffle state");
    for (int i = 0; st == NN_OK && i < s->n_params; i++)
        for (int k = -1; st == NN_OK && k < slots; k++) {
            nn_tensor *t = k < 0 ? s->params[i]->tensor : nn_optimizer_slot(s->optimizer, s->params[i], k);
            if (!t) continue;
            if (t->size > INT32_MAX / 4) st = nn_set_error(NN_ERR_ARG, "dist: parameter '%s' is too large", s->params[i]->name);
            else st = nn_dist_check(d, MPI_Ibcast(t->data, (int)(t->size * (int64_t)nn_dtype_size(t->dtype)), MPI_BYTE, 0,
                                                  d->comm, &reqs[n_req++]), "MPI_Ibcast of the parameters");
        }
    if (st == NN_OK) st = nn_dist_wait(d, reqs, n_req, "the broadcast of rank 0's parameters and optimizer state");
    free(reqs);
    if (st != NN_OK) return st;
    *s->initial_epoch = (int)head[0];
    nn_optimizer_set_steps(s->optimizer, head[1]);
    memcpy(s->shuffle->s, head + 2, sizeof s->shuffle->s);
    return NN_OK;
}

static nn_status hook_begin(void *ctx, const nn_fit_dist_start *s) {
    nn_dist *d = ctx;
    if (nn_dist_usable(d) != NN_OK) return nn_dist_usable(d);
    d->fits_begun++;
    nn_dist_fit_release(d);
    d->owner = pthread_self();
    d->msg[0] = 0;
    memset(&d->mine, 0, sizeof d->mine);
    /* every rank's words, then this rank's own (heap: see broken) */
    int64_t *all = calloc((size_t)(d->size + 1) * SAY_N, sizeof *all), *mine = all ? all + d->size * SAY_N : NULL;
    if (!all) return nn_set_error(NN_ERR_NOMEM, "dist: out of memory");
    mine[SAY_STATUS] = s->status;
    if (s->status == NN_OK) {
        mine[SAY_GRAPH] = (int64_t)graph_fingerprint(s->graph);
        mine[SAY_PARAMS] = s->n_params;
        for (int i = 0; i < s->n_params; i++) mine[SAY_VALUES] += nn_shape_size(s->params[i]->shape);
        mine[SAY_ROWS] = s->n_train;
        mine[SAY_BATCH] = s->local_batch;
    }
    char why[NN_ERRLEN];
    snprintf(why, sizeof why, "%s", s->status != NN_OK ? nn_last_error() : "");
    MPI_Request r;
    nn_status st = nn_dist_check(d, MPI_Iallgather(mine, SAY_N, MPI_INT64_T, all, SAY_N, MPI_INT64_T, d->comm, &r),
                                 "MPI_Iallgather at the start");
    if (st == NN_OK) st = nn_dist_wait(d, &r, 1, "the start of training (every rank must call nn_fit)");
    int failed = -1, differs = -1;
    for (int q = 0; st == NN_OK && q < d->size && failed < 0; q++)
        if (all[q * SAY_N + SAY_STATUS] != NN_OK) failed = q;
    for (int q = 1; st == NN_OK && failed < 0 && q < d->size && differs < 0; q++)
        for (int k = SAY_GRAPH; k < SAY_N && differs < 0; k++)
            if (all[q * SAY_N + k] != all[k]) differs = q;
    if (st == NN_OK && failed >= 0) {
        /* the failing rank's message, for everyone */
        if (d->rank == failed) snprintf(d->msg, sizeof d->msg, "%s", why);
        st = nn_dist_bcast(d, d->msg, (int)sizeof d->msg, MPI_CHAR, failed, "the broadcast of a rank's error");
        if (st == NN_OK) {
            st = d->rank == failed ? nn_set_error((nn_status)all[failed * SAY_N], "%s", why)
                                   : nn_set_error((nn_status)all[failed * SAY_N], "rank %d of %d could not start: %s",
                                                  failed, d->size, d->msg);
        }
    } else if (st == NN_OK && differs >= 0) {
        const int64_t *a = all, *b = all + differs * SAY_N;
        if (a[SAY_GRAPH] != b[SAY_GRAPH] || a[SAY_PARAMS] != b[SAY_PARAMS] || a[SAY_VALUES] != b[SAY_VALUES])
            st = nn_set_error(NN_ERR_ARG, "rank %d's graph differs from rank 0's (rank 0 trains %lld parameters of %lld "
                              "values, rank %d %lld of %lld%s); every rank must load the same graph",
                              differs, (long long)a[SAY_PARAMS], (long long)a[SAY_VALUES], differs,
                              (long long)b[SAY_PARAMS], (long long)b[SAY_VALUES],
                              a[SAY_PARAMS] == b[SAY_PARAMS] && a[SAY_VALUES] == b[SAY_VALUES]
                                  ? ", but its ops, names or wiring differ" : "");
        else if (a[SAY_ROWS] != b[SAY_ROWS])
            st = nn_set_error(NN_ERR_ARG, "rank %d has %lld training rows, rank 0 has %lld; every rank must load the same "
                              "data", differs, (long long)b[SAY_ROWS], (long long)a[SAY_ROWS]);
        else
            st = nn_set_error(NN_ERR_ARG, "rank %d's batch size is %lld, rank 0's %lld; every rank must use the same",
                              differs, (long long)b[SAY_BATCH], (long long)a[SAY_BATCH]);
    }
    nn_dist_drop(d, all);
    if (st == NN_OK) st = share_state(d, s);
    if (st == NN_OK) st = make_buckets(d, s->graph, s->grads, s->n_params);
    if (st != NN_OK) nn_dist_fit_release(d);
    return st;
}

nn_status nn_dist_fit_abandon(nn_dist *d, nn_status why, const char *msg) {
    if (!d) return nn_set_error(NN_ERR_ARG, "dist: the handle is NULL");
    if (why == NN_OK) why = NN_ERR_RUNTIME;
    nn_fit_dist_start s = {.status = why};
    nn_set_error(why, "%s", msg && msg[0] ? msg : "it failed before training");
    return hook_begin(d, &s); /* fails: this rank's message, or an earlier rank's */
}

int nn_dist_fits_begun(const nn_dist *d) { return d ? d->fits_begun : 0; }

/* ---- a step ---- */

static nn_status hook_step_begin(void *ctx, int64_t local, int64_t global) {
    nn_dist *d = ctx;
    if (nn_dist_usable(d) != NN_OK) return nn_dist_usable(d);
    d->weight = global > 0 ? (float)((double)local / (double)global) : 0.0f;
    for (int b = 0; b < d->n_buckets; b++) {
        atomic_store(&d->buckets[b].filled, 0);
        d->buckets[b].started = d->buckets[b].done = 0;
        d->buckets[b].req = MPI_REQUEST_NULL;
    }
    for (int i = 0; i < d->n_params; i++) atomic_store(&d->copied[i], 0);
    d->next_start = 0;
    d->first_send = 0;
    d->msg[0] = 0;
    d->mine.samples += (double)local;
    d->step_t0 = nn_dist_now();
    d->armed = 1;
    nn_dist_progress_arm(d, 1);
    return NN_OK;
}

enum { SUM_LOSS, SUM_ROWS, SUM_CORRECT, SUM_JUDGED, SUM_SIGNAL, SUM_STATUS };

static nn_status hook_step_end(void *ctx, nn_status local, nn_fit_sums *sums) {
    nn_dist *d = ctx;
    d->armed = 0;
    nn_dist_progress_arm(d, 0); /* from here on this thread calls MPI */
    if (nn_dist_usable(d) != NN_OK) return nn_dist_usable(d);
    double t_end = nn_dist_now();
    char why[NN_ERRLEN];
    snprintf(why, sizeof why, "%s", local != NN_OK ? nn_last_error() : "");
    /* gradients the hook did not see (an empty shard, a failed run, a
     * gradient no step computed): from their values, or zeros */
    for (int i = 0; i < d->n_params; i++)
        if (!atomic_exchange(&d->copied[i], 1))
            copy_in(d, i, local == NN_OK && d->weight > 0 ? d->grads[i]->value : NULL);
    nn_dist_start_ready(d);
    double *sb = d->status_buf;
    memset(sb, 0, (size_t)(d->size + SUM_STATUS) * sizeof *sb);
    sb[SUM_LOSS] = sums->loss;
    sb[SUM_ROWS] = sums->rows;
    sb[SUM_CORRECT] = sums->correct;
    sb[SUM_JUDGED] = sums->judged;
    sb[SUM_SIGNAL] = d->stop_flag && *d->stop_flag;
    sb[SUM_STATUS + d->rank] = local != NN_OK ? (d->msg[0] ? NN_ERR_RUNTIME : local) : d->msg[0] ? NN_ERR_RUNTIME : 0;
    if (local == NN_OK && d->msg[0]) snprintf(why, sizeof why, "%s", d->msg);
    MPI_Request *reqs = malloc((size_t)(d->n_buckets + 1) * sizeof *reqs);
    if (!reqs) return nn_set_error(NN_ERR_NOMEM, "dist: out of memory");
    for (int b = 0; b < d->n_buckets; b++) reqs[b] = d->buckets[b].done ? MPI_REQUEST_NULL : d->buckets[b].req;
    nn_status st = nn_dist_check(d, MPI_Iallreduce(MPI_IN_PLACE, sb, d->size + SUM_STATUS, MPI_DOUBLE, MPI_SUM,
                                                   d->comm, &reqs[d->n_buckets]), "MPI_Iallreduce of the step's status");
    if (st == NN_OK) st = nn_dist_wait(d, reqs, d->n_buckets + 1, "the gradients' allreduce");
    free(reqs);
    double now = nn_dist_now();
    d->mine.wait += now - t_end;
    /* the allreduce time: from the first bucket's start (during the run,
     * or at its end) to the last one's arrival */
    d->mine.comm += now - (d->first_send > 0 && d->first_send < t_end ? d->first_send : t_end);
    d->mine.seconds += now - d->step_t0;
    d->mine.steps += 1;
    if (st != NN_OK) return st;
    if (sb[SUM_SIGNAL] > 0 && d->stop_flag) *d->stop_flag = 1;
    st = nn_dist_agree_failure(d, sb + SUM_STATUS, local, why);
    if (st != NN_OK) return st;
    /* the sums replace every gradient; a rank that has not run the
     * gradients yet (its every shard so far empty) gets tensors of its own */
    for (int i = 0; i < d->n_params; i++) {
        nn_node *gn = d->grads[i];
        if (!gn->value) {
            if (!d->spare[i] && !(d->spare[i] = nn_tensor_new(NN_F32, gn->shape)))
                return nn_set_error(NN_ERR_NOMEM, "dist: out of memory");
            gn->value = d->spare[i];
        }
        nn_tensor *v = (nn_tensor *)gn->value;
        if (v->dtype != NN_F32) continue;
        memcpy(v->data, d->buckets[d->bucket_of[i]].buf + d->offset[i], (size_t)v->size * sizeof(float));
    }
    sums->loss = sb[SUM_LOSS];
    sums->rows = sb[SUM_ROWS];
    sums->correct = sb[SUM_CORRECT];
    sums->judged = sb[SUM_JUDGED];
    return NN_OK;
}

static nn_status hook_agree_stop(void *ctx, int *stop) {
    nn_dist *d = ctx;
    int *v = d->stop_buf;
    v[0] = *stop != 0;
    v[1] = d->stop_flag && *d->stop_flag;
    double t0 = nn_dist_now();
    nn_status st = nn_dist_allreduce(d, v, 2, MPI_INT, MPI_MAX, "the agreement on stopping");
    d->mine.wait += nn_dist_now() - t0;
    if (st != NN_OK) return st;
    if (v[1] && d->stop_flag) *d->stop_flag = 1;
    *stop = v[0] || v[1];
    return NN_OK;
}

static nn_status hook_epoch_end(void *ctx, int epoch) {
    nn_dist *d = ctx;
    (void)epoch;
    if (d->rank == 0 && !d->all && !(d->all = calloc((size_t)d->size, sizeof *d->all)))
        return nn_set_error(NN_ERR_NOMEM, "dist: out of memory");
    if (nn_dist_usable(d) != NN_OK) return nn_dist_usable(d);
    double *mine = d->stats_buf;
    mine[0] = d->mine.samples, mine[1] = d->mine.seconds, mine[2] = d->mine.wait, mine[3] = d->mine.comm;
    mine[4] = d->mine.steps;
    double *all = d->rank == 0 ? malloc((size_t)d->size * 5 * sizeof *all) : NULL;
    if (d->rank == 0 && !all) return nn_set_error(NN_ERR_NOMEM, "dist: out of memory");
    MPI_Request r;
    nn_status st = nn_dist_check(d, MPI_Igather(mine, 5, MPI_DOUBLE, all, 5, MPI_DOUBLE, 0, d->comm, &r),
                                 "MPI_Igather of the ranks' statistics");
    if (st == NN_OK) st = nn_dist_wait(d, &r, 1, "the gather of the ranks' statistics");
    for (int q = 0; st == NN_OK && all && q < d->size; q++)
        d->all[q] = (nn_dist_stats){all[q * 5], all[q * 5 + 1], all[q * 5 + 2], all[q * 5 + 3], all[q * 5 + 4]};
    nn_dist_drop(d, all);
    return st;
}

static void hook_end(void *ctx, nn_status status) {
    (void)status;
    /* the graph may be freed before the handle: nothing of it is kept */
    nn_dist_fit_release(ctx);
}

void nn_dist_fit_hooks(nn_dist *d, nn_fit_dist *h) {
    *h = (nn_fit_dist){d, d->rank, d->size, hook_begin, hook_step_begin, hook_step_end, hook_agree_stop,
                       nn_dist_evaluate_hook, hook_epoch_end, hook_end};
}
