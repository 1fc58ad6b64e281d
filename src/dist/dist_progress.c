/* The progress thread: drives the gradient buckets' allreduces while the
 * backward pass runs.
 *
 * Open MPI and MPICH move a non-blocking collective's data only inside MPI
 * calls. Polling from the value hook (the thread that called nn_fit, between
 * plan steps) leaves the allreduce idle while a long step runs and never
 * hides the last bucket (the first layer's gradient: nothing runs after
 * it). While a step is armed, this thread instead starts the buckets that
 * are full (whichever pool thread filled them) and tests those in flight,
 * every POLL_IN_FLIGHT_NS. It needs MPI_THREAD_SERIALIZED: the two threads
 * never call MPI at once, because the thread makes its calls holding `mu`
 * with the phase armed, and the fit's thread makes its own only after it has
 * set the phase idle under `mu`. Without that thread level (or with
 * NNGRAPH_DIST_PROGRESS=0, or where no core is free for it) the value hook
 * polls as before. */
#define _GNU_SOURCE /* sched_getaffinity, CPU_COUNT */
#include "dist_internal.h"

#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Between polls while a bucket is in flight: a poll costs about a
 * microsecond, and 20 us keeps the collective's rounds moving without
 * taking a core from the backward pass. While the next bucket is still
 * filling, a longer sleep (it starts at most that late, against backward
 * passes of milliseconds); once all are done, none until the next step. */
#define POLL_IN_FLIGHT_NS 20000
#define POLL_FILLING_NS 200000

enum { PHASE_IDLE, PHASE_ARMED, PHASE_QUIT };

/* Under prog_mu: 0 every bucket of the step is done, 1 one is in flight,
 * 2 none in flight but some not started. */
static int pending(const nn_dist *d) {
    for (int i = 0; i < d->next_start; i++)
        if (!d->buckets[i].done) return 1;
    return d->next_start < d->n_buckets ? 2 : 0;
}

static void *progress_main(void *arg) {
    nn_dist *d = arg;
    pthread_mutex_lock(&d->prog_mu);
    for (;;) {
        while (d->prog_phase == PHASE_IDLE || (d->prog_phase == PHASE_ARMED && pending(d) == 0))
            pthread_cond_wait(&d->prog_cv, &d->prog_mu);
        if (d->prog_phase == PHASE_QUIT) break;
        nn_dist_start_ready(d);
        nn_dist_poke(d);
        int left = pending(d);
        pthread_mutex_unlock(&d->prog_mu);
        struct timespec ts = {0, left == 1 ? POLL_IN_FLIGHT_NS : POLL_FILLING_NS};
        if (left) nanosleep(&ts, NULL);
        pthread_mutex_lock(&d->prog_mu);
    }
    pthread_mutex_unlock(&d->prog_mu);
    return NULL;
}

int nn_dist_progress_possible(void) {
    int level = MPI_THREAD_SINGLE;
    if (MPI_Query_thread(&level) != MPI_SUCCESS) return 0;
    return level >= MPI_THREAD_SERIALIZED;
}

int nn_dist_progress_has_core(int online, int allowed, int ranks_on_node, int threads) {
    if (online < 1) online = 1;
    if (allowed < 1 || allowed > online) allowed = online;
    if (ranks_on_node < 1) ranks_on_node = 1;
    if (threads < 1) threads = 1;
    /* a core left in this rank's own mask, and one left on the host: ranks
     * bound to one core each (Open MPI's default for 2 ranks) have none,
     * however many the host has; unbound ranks share the host's */
    return threads < allowed && (long)ranks_on_node * threads < online;
}

/* The cores this process may run on (sysconf's count if unknown). */
static int allowed_cores(int online) {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) != 0) return online;
    int n = CPU_COUNT(&set);
    return n > 0 ? n : online;
}

int nn_dist_threads_per_rank(const nn_dist *d) {
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    int cores = online > 0 && online < INT32_MAX ? (int)online : 1;
    int allowed = allowed_cores(cores), ranks = d && d->ranks_on_node > 0 ? d->ranks_on_node : 1;
    /* the host's cores shared out among its ranks, but no more than this
     * rank's own mask holds (a launcher that binds gives each rank one) */
    int share = cores / ranks;
    if (share > allowed) share = allowed;
    return share > 0 ? share : 1;
}

int nn_dist_set_progress_thread(nn_dist *d, int on) {
    if (!d) return 0;
    d->prog_choice = on < 0 ? -1 : on > 0;
    if (!nn_dist_progress_possible()) return 0;
    return d->prog_choice;
}

/* From NNGRAPH_DIST_PROGRESS: "0" never, "1" always, else automatic. */
int nn_dist_progress_env(void) {
    const char *env = getenv("NNGRAPH_DIST_PROGRESS");
    return env && !strcmp(env, "0") ? 0 : env && !strcmp(env, "1") ? 1 : -1;
}

int nn_dist_progress_thread(const nn_dist *d) { return d ? d->prog_ran : 0; }

nn_status nn_dist_progress_start(nn_dist *d) {
    d->prog_ran = 0;
    /* one rank: its "allreduce" is a local copy, nothing to overlap */
    if (d->prog_choice == 0 || d->prog_running || d->size < 2 || !nn_dist_progress_possible()) return NN_OK;
    if (d->prog_choice < 0) {
        long online = sysconf(_SC_NPROCESSORS_ONLN);
        int cores = online > 0 && online < INT32_MAX ? (int)online : 1;
        if (!nn_dist_progress_has_core(cores, allowed_cores(cores), d->ranks_on_node, nn_graph_threads(d->g)))
            return NN_OK;
    }
    d->prog_phase = PHASE_IDLE;
    if (pthread_create(&d->prog_thread, NULL, progress_main, d) != 0) return NN_OK; /* the value hook polls */
    d->prog_running = d->prog_ran = 1;
    return NN_OK;
}

void nn_dist_progress_stop(nn_dist *d) {
    if (!d->prog_running) return;
    pthread_mutex_lock(&d->prog_mu);
    d->prog_phase = PHASE_QUIT;
    pthread_cond_signal(&d->prog_cv);
    pthread_mutex_unlock(&d->prog_mu);
    pthread_join(d->prog_thread, NULL);
    d->prog_running = 0;
}

void nn_dist_progress_arm(nn_dist *d, int armed) {
    if (!d->prog_running) return;
    pthread_mutex_lock(&d->prog_mu);
    /* once idle is set here, the thread makes no MPI call until re-armed */
    d->prog_phase = armed ? PHASE_ARMED : PHASE_IDLE;
    pthread_cond_signal(&d->prog_cv);
    pthread_mutex_unlock(&d->prog_mu);
}
