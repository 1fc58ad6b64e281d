/* Shared by the dist sources (dist.c, dist_fit.c, dist_eval.c): not
 * installed. */
#ifndef NN_DIST_INTERNAL_H
#define NN_DIST_INTERNAL_H

#include "internal.h"
#include "nngraph/dist.h"

#include <pthread.h>
#include <stdatomic.h>

/* One allreduce bucket: consecutive gradients (in the order the backward
 * pass makes them) packed into one float buffer. */
typedef struct dist_bucket {
    float *buf;
    int64_t n;        /* floats */
    int first, count; /* its gradients: order[first .. first+count) */
    atomic_int filled;/* gradients copied in this step */
    int started, done;
    MPI_Request req;
} dist_bucket;

struct nn_dist {
    MPI_Comm comm;
    int rank, size;
    double timeout;
    size_t bucket_bytes;
    volatile sig_atomic_t *stop_flag;
    char *hosts;
    nn_fit_dist hooks;

    /* the fit in progress (dist_fit.c) */
    nn_graph *g;
    int n_params;
    nn_node **grads;       /* gradient nodes, the fit's order */
    int *order;            /* gradient indices in bucket order */
    int64_t *offset;       /* per gradient: its first float in its bucket */
    int *bucket_of;        /* per gradient */
    atomic_int *copied;    /* per gradient: copied into its bucket this step */
    nn_tensor **spare;     /* per gradient: its value on a rank that never ran it */
    int *grad_index;       /* per node id: its gradient index, -1 */
    int n_nodes;
    dist_bucket *buckets;
    int n_buckets, next_start;
    float weight;          /* local rows / global rows of this step */
    int fits_begun;        /* hook_begin calls */
    int armed;             /* a step is between step_begin and step_end */
    pthread_t owner;       /* the thread that calls MPI */
    double *status_buf;    /* per step: 4 sums, then one status per rank */
    char msg[NN_ERRLEN];
    double step_t0, first_send;
    nn_dist_stats mine;
    nn_dist_stats *all;    /* rank 0: every rank's, gathered at epoch ends */
    /* A wait was given up (timeout, signal, MPI error): a collective may
     * still be pending in MPI with our buffers, so they are never freed,
     * and the handle refuses further collectives (they could match the
     * stale ones). The process is expected to end. */
    int broken;
    /* the progress thread (dist_progress.c) */
    int prog_choice;       /* 1 always, 0 never, -1 where a core is free for it */
    int ranks_on_node;     /* this communicator's ranks on this rank's host */
    int prog_running;      /* it exists (this fit) */
    int prog_ran;          /* the last fit ran one */
    int prog_phase;        /* under prog_mu: idle, armed (it calls MPI), quit */
    pthread_t prog_thread;
    pthread_mutex_t prog_mu;
    pthread_cond_t prog_cv;
    int64_t head[6];       /* share_state's broadcast */
    int stop_buf[2];       /* agree_stop's allreduce */
    double stats_buf[5];   /* epoch_end's gather (this rank's) */
};

/* Monotonic seconds. */
double nn_dist_now(void);
/* An MPI return code as an nngraph error naming the rank and what failed;
 * NN_OK for MPI_SUCCESS. */
nn_status nn_dist_check(const nn_dist *d, int rc, const char *what);
/* Waits for reqs[0..n) (MPI_Testall in a loop), at most d->timeout seconds
 * and not past a set stop flag. `what` names the collective in errors. */
nn_status nn_dist_wait(nn_dist *d, MPI_Request *reqs, int n, const char *what);
/* free(p), or after a given-up collective (d->broken) keeps p allocated
 * and reachable: MPI may still write into it. */
void nn_dist_drop(const nn_dist *d, void *p);
/* NN_OK, or the error of a handle that gave up a collective. */
nn_status nn_dist_usable(const nn_dist *d);
/* Blocking collectives with the timeout: allreduce in place, broadcast. */
nn_status nn_dist_allreduce(nn_dist *d, void *buf, int n, MPI_Datatype type, MPI_Op op, const char *what);
nn_status nn_dist_bcast(nn_dist *d, void *buf, int n, MPI_Datatype type, int root, const char *what);

/* After a SUM allreduce of one status slot per rank (0: fine): NN_OK if
 * every slot is 0, else the first failed rank's error on every rank, its
 * message (why, on that rank) broadcast from it. Collective. */
nn_status nn_dist_agree_failure(nn_dist *d, const double *status, nn_status local, const char *why);

/* Buckets (dist_fit.c): starts every full bucket whose predecessors have
 * started; tests those in flight. Called by the thread that may call MPI. */
void nn_dist_start_ready(nn_dist *d);
void nn_dist_poke(nn_dist *d);

/* The progress thread (dist_progress.c). Whether MPI's thread level lets
 * one run (MPI_THREAD_SERIALIZED or above). */
int nn_dist_progress_possible(void);
/* The automatic choice: whether a progress thread has a core of its own,
 * given the cores online, the cores this process may run on (its affinity
 * mask: a launcher that binds ranks narrows it), the ranks on this host and
 * each rank's compute threads. A thread on a fully busy node takes its
 * time from the ranks' compute (docs/scale-out.md, "The progress thread"). */
int nn_dist_progress_has_core(int online, int allowed, int ranks_on_node, int threads);
/* NNGRAPH_DIST_PROGRESS as a choice: "0" never (0), "1" always (1),
 * unset or anything else automatic (-1). */
int nn_dist_progress_env(void);
/* Starts it for a fit if chosen (NN_OK also when it cannot be created:
 * the value hook polls then); stops and joins it. */
nn_status nn_dist_progress_start(nn_dist *d);
void nn_dist_progress_stop(nn_dist *d);
/* Armed: the thread starts and tests buckets and the fit's thread makes no
 * MPI call; idle (returns once the thread is out of MPI): the reverse. */
void nn_dist_progress_arm(nn_dist *d, int armed);

/* The fit hooks (dist_fit.c) and sharded evaluation's hook (dist_eval.c). */
void nn_dist_fit_hooks(nn_dist *d, nn_fit_dist *hooks);
void nn_dist_fit_release(nn_dist *d);
nn_status nn_dist_evaluate_hook(void *ctx, nn_graph *g, nn_node *loss, const nn_dataset *data, nn_node *x,
                                nn_node *y, int batch_size, double *loss_out, double *accuracy_out);

#endif
