/*
 * nngraph dist: data-parallel training over MPI (Open MPI or MPICH).
 *
 * A separate library layer (libnngraph_dist, built when meson finds MPI:
 * -Dmpi=auto|enabled|disabled); core and train do not depend on it. Every
 * process of a communicator runs the same program on the same graph and
 * data; nn_fit then trains as one of them:
 *
 *   MPI_Init(&argc, &argv);
 *   nn_dist *d = nn_dist_new(MPI_COMM_WORLD);
 *   nn_fit_opts o = {.epochs = 10, .batch_size = 64};   // 64 rows per process
 *   nn_dist_fit_opts(d, &o);
 *   nn_fit(g, loss, train, &o, &result);                // on every rank
 *   nn_dist_free(d);
 *   MPI_Finalize();
 *
 * What the processes share (PyTorch DistributedDataParallel's semantics):
 * rank 0's initial parameters, optimizer state and shuffle generator are
 * broadcast when the fit starts (so a run resumed on rank 0 resumes
 * everywhere); every epoch has one shuffle, and each global batch of
 * batch_size * size rows is split into contiguous shards (nn_fit_shard);
 * gradients are summed, weighted by each shard's rows, in buckets that
 * MPI_Iallreduce starts while the backward pass is still running; every
 * process then takes the same optimizer step. Metrics are the global
 * batch's. After K steps the parameters equal those of one process
 * training with batch batch_size * size, up to float rounding.
 *
 * Threads: with MPI initialised at MPI_THREAD_SERIALIZED or above
 * (MPI_Init_thread), a fit may run a progress thread that starts and
 * drives the gradients' allreduces while the backward pass runs (MPI
 * libraries move a non-blocking collective's data only inside MPI calls);
 * it and the thread that called nn_fit never call MPI at the same time.
 * By default a fit runs one only where a core is free for it: fewer
 * compute threads in this rank than cores in its affinity mask, and fewer
 * ranks on this host times compute threads (nn_graph_threads) than cores
 * online; on a fully busy node the thread would take its time from the
 * ranks' compute (docs/scale-out.md). Without one, or below that level (MPI_Init gives MPI_THREAD_SINGLE in Open MPI) only the
 * thread that calls nn_fit makes MPI calls, polling between the plan's
 * steps, which hides less of the allreduce (docs/scale-out.md); that
 * thread must then be the one that called MPI_Init, or ask for
 * MPI_THREAD_SERIALIZED. The graph's worker threads may run meanwhile.
 *
 * Failures: a run error or a NaN loss on one rank fails the step on every
 * rank, the message naming the rank. MPI errors come back as nngraph errors
 * (the communicator's handler is MPI_ERRORS_RETURN); a collective still
 * waiting after the timeout (default 120 s, NNGRAPH_DIST_TIMEOUT) fails
 * with a message saying what it waited for. After such a failure the other
 * processes may still be inside a collective: end the job (return non-zero
 * from main without MPI_Finalize, and mpirun ends the others).
 */
#ifndef NNGRAPH_DIST_H
#define NNGRAPH_DIST_H

#include <mpi.h>
#include <signal.h>

#include "runlog.h"
#include "train.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct nn_dist nn_dist;

/* A handle over a duplicate of comm (MPI must be initialised; the caller
 * keeps comm). Collective over comm. NULL with nn_last_error() on failure. */
nn_dist *nn_dist_new(MPI_Comm comm);
/* Frees the handle and its communicator (collective). */
void nn_dist_free(nn_dist *d);
int nn_dist_rank(const nn_dist *d);
int nn_dist_size(const nn_dist *d);
/* Seconds a collective may wait before it fails (default 120, or the
 * environment's NNGRAPH_DIST_TIMEOUT). Must exceed the longest time one
 * rank can fall behind the others (rank 0 writing a checkpoint). */
void nn_dist_set_timeout(nn_dist *d, double seconds);
/* Gradient bytes per allreduce bucket (default NN_DIST_BUCKET_BYTES; why
 * that size: docs/scale-out.md). */
void nn_dist_set_bucket_bytes(nn_dist *d, size_t bytes);
#define NN_DIST_BUCKET_BYTES ((size_t)4 << 20)
/* A flag (set by a signal handler) that ends a collective wait with
 * NN_ERR_INTERRUPTED instead of waiting on: SIGTERM from mpirun when another
 * rank died, or Ctrl-C. */
void nn_dist_set_stop_flag(nn_dist *d, volatile sig_atomic_t *flag);

/* Makes nn_fit with these options train as one of d's processes (sets
 * opts->dist; d must outlive the fit). */
void nn_dist_fit_opts(nn_dist *d, nn_fit_opts *opts);
/* Whether fits run a progress thread (see Threads above): on > 0 always,
 * 0 never, on < 0 where a core is free for it (the default). The
 * environment sets the default: NNGRAPH_DIST_PROGRESS=1 always, =0 never.
 * A thread needs MPI_THREAD_SERIALIZED or above. Returns 1 (fits will run
 * one), 0 (they will not) or -1 (each fit decides from its graph's thread
 * count). */
int nn_dist_set_progress_thread(nn_dist *d, int on);
/* The compute threads each rank should run so that this host's ranks fill
 * its cores without oversubscribing them: the cores online divided among
 * the communicator's ranks on this host, at most the cores this process
 * may run on, at least 1 (torchrun's OMP_NUM_THREADS default plays this
 * part for PyTorch). `nngraph train` and `predict` use it when --threads
 * is not given. */
int nn_dist_threads_per_rank(const nn_dist *d);
/* 1 if the last fit with d ran a progress thread, else 0. */
int nn_dist_progress_thread(const nn_dist *d);
/* For a process that fails before it reaches nn_fit (a file it cannot
 * load, a run it cannot resume) while the others train: takes its part in
 * the fit's start instead, so that every other rank's nn_fit fails at once
 * with "rank R of N could not start: <msg>" instead of waiting for the
 * timeout. Call it once where nn_fit would have been called; why != NN_OK.
 * Returns why, with msg as nn_last_error(). Collective. */
nn_status nn_dist_fit_abandon(nn_dist *d, nn_status why, const char *msg);
/* How many fits this handle has begun (nn_fit's start, or
 * nn_dist_fit_abandon): 0 means the other ranks may still be waiting for
 * this one at a fit's start. */
int nn_dist_fits_begun(const nn_dist *d);

/* This host's name, and all ranks' as "host0,host1,..." with repeats
 * written "host x4" (known after nn_dist_new). */
const char *nn_dist_hosts(const nn_dist *d);

/* What one rank did in the last fit (up to its last epoch's end). */
typedef struct nn_dist_stats {
    double samples;     /* rows it computed */
    double seconds;     /* wall time of its steps */
    double wait;        /* seconds blocked on communication in those steps */
    double comm;        /* seconds from a step's first bucket sent to its last received, summed */
    double steps;
} nn_dist_stats;
/* Rank `rank`'s statistics: every rank's on rank 0 (gathered at each
 * epoch's end), only its own elsewhere. NN_ERR_ARG if not known here. */
nn_status nn_dist_rank_stats(const nn_dist *d, int rank, nn_dist_stats *out);

/* Run log (rank 0 only; other ranks: no-op). Params: world_size, hosts,
 * local_batch, global_batch and how the learning rate relates. */
nn_status nn_dist_log_params(const nn_dist *d, nn_runlog *log, int local_batch);
/* Metrics of one epoch, for every rank r: "rank<r>/samples_per_sec",
 * "rank<r>/comm_wait" (seconds blocked on communication) and
 * "rank<r>/comm_hidden" (the fraction of the allreduce time spent while
 * the backward pass still ran), cumulative over the fit so far. */
nn_status nn_dist_log_epoch(const nn_dist *d, nn_runlog *log, int epoch);

/* nn_evaluate with each rank taking a contiguous shard of data's rows; the
 * whole set's mean loss and accuracy on every rank. Collective. */
nn_status nn_dist_evaluate(nn_dist *d, nn_graph *g, nn_node *loss, const nn_dataset *data, nn_node *x, nn_node *y,
                           int batch_size, double *loss_out, double *accuracy_out);
/* nn_predict with each rank taking a shard of x's rows, gathered in order
 * on rank 0: a new tensor there, NULL elsewhere (*status says whether all
 * went well, on every rank). A rank that failed before (could not load its
 * data) calls it with x NULL and its message in nn_last_error(): every
 * rank then fails with that message. Collective. */
nn_tensor *nn_dist_predict(nn_dist *d, nn_graph *g, nn_node *x_input, nn_node *out, const nn_tensor *x,
                           int batch_size, nn_status *status);

#ifdef __cplusplus
}
#endif
#endif
