/* The MPI handle: a private communicator whose errors return instead of
 * aborting, the hosts, and collectives that wait with a timeout. */
#include "dist_internal.h"

#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

double nn_dist_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

nn_status nn_dist_check(const nn_dist *d, int rc, const char *what) {
    if (rc == MPI_SUCCESS) return NN_OK;
    char text[MPI_MAX_ERROR_STRING];
    int len = 0;
    if (MPI_Error_string(rc, text, &len) != MPI_SUCCESS) snprintf(text, sizeof text, "error code %d", rc);
    if (!d || d->size == 0) return nn_set_error(NN_ERR_RUNTIME, "dist: MPI failed in %s: %s", what, text);
    return nn_set_error(NN_ERR_RUNTIME, "rank %d of %d: MPI failed in %s: %s", d->rank, d->size, what, text);
}

/* After a stop flag is set (Ctrl-C, or mpirun's SIGTERM when a rank died),
 * a collective that still does not complete within this many seconds is
 * given up: the others have stopped or died. Short, because mpirun follows
 * its SIGTERM with a SIGKILL a second later (odls_base_sigkill_timeout);
 * an ordinary Ctrl-C reaches every rank at once, and the ranks agree to
 * stop at a step's end well within it. */
#define STOP_GRACE_S 0.3
/* Waits shorter than this yield between polls, longer ones sleep. */
#define WAIT_SPIN_S 0.5

static nn_status wait_all(nn_dist *d, MPI_Request *reqs, int n, const char *what);

/* Buffers of given-up collectives: MPI may still write them, so they are
 * never freed, but kept reachable (a leak checker sees them as held). */
typedef struct parked {
    struct parked *next;
    void *p;
} parked;
static parked *parked_list;
static pthread_mutex_t parked_mu = PTHREAD_MUTEX_INITIALIZER;

void nn_dist_drop(const nn_dist *d, void *p) {
    if (!p) return;
    if (!d->broken) {
        free(p);
        return;
    }
    parked *k = malloc(sizeof *k);
    if (!k) return; /* then it simply stays allocated */
    pthread_mutex_lock(&parked_mu);
    *k = (parked){parked_list, p};
    parked_list = k;
    pthread_mutex_unlock(&parked_mu);
}

nn_status nn_dist_usable(const nn_dist *d) {
    if (!d) return nn_set_error(NN_ERR_ARG, "dist: the handle is NULL");
    if (d->broken)
        return nn_set_error(NN_ERR_STATE, "rank %d of %d: an earlier collective of this nn_dist failed or was given up; "
                            "its ranks are out of step (end the job)", d->rank, d->size);
    return NN_OK;
}

nn_status nn_dist_wait(nn_dist *d, MPI_Request *reqs, int n, const char *what) {
    nn_status st = wait_all(d, reqs, n, what);
    if (st != NN_OK) d->broken = 1;
    return st;
}

static nn_status wait_all(nn_dist *d, MPI_Request *reqs, int n, const char *what) {
    double start = nn_dist_now(), stop_seen = 0;
    for (long spins = 0;; spins++) {
        /* MPI_Test per request, not MPI_Testall: completed ones become
         * MPI_REQUEST_NULL all the same, and MPICH's header declares
         * Testall's statuses as an array that GCC 12 then thinks
         * MPI_STATUSES_IGNORE overflows (-Wstringop-overflow) */
        int done = 1;
        for (int i = 0; i < n; i++) {
            int flag = 0, rc = MPI_Test(&reqs[i], &flag, MPI_STATUS_IGNORE);
            if (rc != MPI_SUCCESS) return nn_dist_check(d, rc, what);
            done &= flag;
        }
        if (done) return NN_OK;
        /* the clock and the flag every 64 polls: a poll is ~100 ns */
        if ((spins & 63) != 63) continue;
        double now = nn_dist_now(), waited = now - start;
        if (d->stop_flag && *d->stop_flag && stop_seen == 0) stop_seen = now;
        if (stop_seen > 0 && now - stop_seen > STOP_GRACE_S)
            return nn_set_error(NN_ERR_INTERRUPTED,
                                "rank %d of %d: stopped by a signal while waiting on %s (another rank has stopped or "
                                "died)", d->rank, d->size, what);
        if (waited > d->timeout)
            return nn_set_error(NN_ERR_RUNTIME,
                                "rank %d of %d: %s still waiting after %.0f s (another rank is stuck, dead or in a "
                                "different phase; timeout: NNGRAPH_DIST_TIMEOUT)",
                                d->rank, d->size, what, waited);
        /* While data flows (a gradient allreduce: each of its rounds
         * needs both ranks to poll) only yield the core: a sleep, however
         * short, on a busy machine lasts a scheduler tick and stalls every
         * round (measured: 2 ranks at a third of the speed). A long wait
         * (a rank writing a checkpoint) need not burn a core: sleep then. */
        if (waited > WAIT_SPIN_S) {
            struct timespec ts = {0, 200000};
            nanosleep(&ts, NULL);
        } else if (waited > 0.001) {
            sched_yield();
        }
    }
}

nn_status nn_dist_allreduce(nn_dist *d, void *buf, int n, MPI_Datatype type, MPI_Op op, const char *what) {
    if (nn_dist_usable(d) != NN_OK) return nn_dist_usable(d);
    MPI_Request r;
    nn_status st = nn_dist_check(d, MPI_Iallreduce(MPI_IN_PLACE, buf, n, type, op, d->comm, &r), what);
    return st == NN_OK ? nn_dist_wait(d, &r, 1, what) : st;
}

nn_status nn_dist_bcast(nn_dist *d, void *buf, int n, MPI_Datatype type, int root, const char *what) {
    if (nn_dist_usable(d) != NN_OK) return nn_dist_usable(d);
    MPI_Request r;
    nn_status st = nn_dist_check(d, MPI_Ibcast(buf, n, type, root, d->comm, &r), what);
    return st == NN_OK ? nn_dist_wait(d, &r, 1, what) : st;
}

nn_status nn_dist_agree_failure(nn_dist *d, const double *status, nn_status local, const char *why) {
    int failed = -1, others = 0;
    for (int q = 0; q < d->size; q++)
        if (status[q] != 0) {
            if (failed < 0) failed = q;
            else others++;
        }
    if (failed < 0) return NN_OK;
    if (d->rank == failed) snprintf(d->msg, sizeof d->msg, "%s", why);
    nn_status st = nn_dist_bcast(d, d->msg, (int)sizeof d->msg, MPI_CHAR, failed, "the broadcast of a rank's error");
    if (st != NN_OK) return st;
    nn_status code = (nn_status)status[failed];
    if (d->rank == failed) return nn_set_error(code, "%s", why);
    if (local != NN_OK) return nn_set_error(local, "%s", why);
    return nn_set_error(code, "rank %d of %d failed%s: %s", failed, d->size, others ? " (and other ranks too)" : "",
                        d->msg);
}

/* "a,a,b" -> "a x2,b": the hosts of ranks 0..size-1 in rank order. */
static char *join_hosts(const char *names, int size, int stride) {
    size_t cap = (size_t)size * (size_t)(stride + 8) + 1;
    char *out = malloc(cap);
    if (!out) return NULL;
    size_t len = 0;
    out[0] = 0;
    for (int i = 0; i < size;) {
        int run = 1;
        while (i + run < size && !strcmp(names + (size_t)i * stride, names + (size_t)(i + run) * stride)) run++;
        len += (size_t)snprintf(out + len, cap - len, "%s%s", len ? "," : "", names + (size_t)i * stride);
        if (run > 1) len += (size_t)snprintf(out + len, cap - len, " x%d", run);
        i += run;
    }
    return out;
}

nn_dist *nn_dist_new(MPI_Comm comm) {
    int inited = 0;
    MPI_Initialized(&inited);
    if (!inited) {
        nn_set_error(NN_ERR_STATE, "dist: MPI is not initialised (call MPI_Init first)");
        return NULL;
    }
    nn_dist *d = calloc(1, sizeof *d);
    if (!d) {
        nn_set_error(NN_ERR_NOMEM, "dist: out of memory");
        return NULL;
    }
    d->comm = MPI_COMM_NULL;
    d->timeout = 120;
    const char *env = getenv("NNGRAPH_DIST_TIMEOUT");
    if (env && atof(env) > 0) d->timeout = atof(env);
    d->bucket_bytes = NN_DIST_BUCKET_BYTES;
    d->owner = pthread_self();
    pthread_mutex_init(&d->prog_mu, NULL);
    pthread_cond_init(&d->prog_cv, NULL);
    nn_dist_set_progress_thread(d, nn_dist_progress_env());
    /* our own communicator: our errors return, and our collectives never
     * match the caller's */
    nn_status st = nn_dist_check(d, MPI_Comm_dup(comm, &d->comm), "MPI_Comm_dup");
    if (st == NN_OK) st = nn_dist_check(d, MPI_Comm_set_errhandler(d->comm, MPI_ERRORS_RETURN), "MPI_Comm_set_errhandler");
    if (st == NN_OK) MPI_Comm_rank(d->comm, &d->rank);
    if (st == NN_OK) MPI_Comm_size(d->comm, &d->size);
    char *names = NULL;
    if (st == NN_OK) {
        /* the last slot is this rank's own name (heap: see broken) */
        names = calloc((size_t)d->size + 1, MPI_MAX_PROCESSOR_NAME);
        char *me = names ? names + (size_t)d->size * MPI_MAX_PROCESSOR_NAME : NULL;
        int len = 0;
        MPI_Request r;
        if (names) MPI_Get_processor_name(me, &len);
        if (!names) st = nn_set_error(NN_ERR_NOMEM, "dist: out of memory");
        else st = nn_dist_check(d, MPI_Iallgather(me, MPI_MAX_PROCESSOR_NAME, MPI_CHAR, names, MPI_MAX_PROCESSOR_NAME,
                                                  MPI_CHAR, d->comm, &r), "the hosts' allgather");
        if (st == NN_OK) st = nn_dist_wait(d, &r, 1, "the hosts' allgather");
        if (st == NN_OK && !(d->hosts = join_hosts(names, d->size, MPI_MAX_PROCESSOR_NAME)))
            st = nn_set_error(NN_ERR_NOMEM, "dist: out of memory");
        /* the ranks on this host (what MPI_COMM_TYPE_SHARED would group,
         * without another collective): the progress thread's choice */
        for (int q = 0; st == NN_OK && q < d->size; q++)
            d->ranks_on_node += !strcmp(names + (size_t)q * MPI_MAX_PROCESSOR_NAME, me);
    }
    nn_dist_drop(d, names);
    if (st != NN_OK) {
        nn_dist_free(d);
        return NULL;
    }
    nn_dist_fit_hooks(d, &d->hooks);
    return d;
}

void nn_dist_free(nn_dist *d) {
    if (!d) return;
    nn_dist_fit_release(d);
    /* a communicator with a collective pending is left to MPI's end */
    if (d->comm != MPI_COMM_NULL && !d->broken) MPI_Comm_free(&d->comm);
    free(d->hosts);
    free(d->all);
    pthread_cond_destroy(&d->prog_cv);
    pthread_mutex_destroy(&d->prog_mu);
    free(d);
}

int nn_dist_rank(const nn_dist *d) { return d ? d->rank : 0; }
int nn_dist_size(const nn_dist *d) { return d ? d->size : 1; }
const char *nn_dist_hosts(const nn_dist *d) { return d && d->hosts ? d->hosts : ""; }

void nn_dist_set_timeout(nn_dist *d, double seconds) {
    if (d && seconds > 0) d->timeout = seconds;
}

void nn_dist_set_bucket_bytes(nn_dist *d, size_t bytes) {
    if (d) d->bucket_bytes = bytes < 4 ? 4 : bytes;
}

void nn_dist_set_stop_flag(nn_dist *d, volatile sig_atomic_t *flag) {
    if (d) d->stop_flag = flag;
}

void nn_dist_fit_opts(nn_dist *d, nn_fit_opts *opts) {
    if (d && opts) opts->dist = &d->hooks;
}

nn_status nn_dist_rank_stats(const nn_dist *d, int rank, nn_dist_stats *out) {
    if (!d || !out || rank < 0 || rank >= d->size) return nn_set_error(NN_ERR_ARG, "dist: no rank %d", rank);
    if (rank == d->rank) *out = d->mine;
    else if (d->all) *out = d->all[rank];
    else return nn_set_error(NN_ERR_ARG, "dist: rank %d's statistics are only known on rank 0", rank);
    return NN_OK;
}
