/* The progress thread: drives the gradient buckets' allreduces while the
 * backward pass runs.
 *
 * Open MPI and MPICH move a non-blocking collective's data only inside MPI
 * calls. Polling from the value hook (the thread that called nn_fit, between
 * plan steps) leaves the allreduce idle while a long step runs and never
 * hides the last bucket (the first layer's gradient: nothing runs after
 * it). While a step is armed, this thread instead starts the buckets that
 * are full (whichever pool thread filled them) and tests those in flight,
 * every PROGRESS_POLL_NS. It needs MPI_THREAD_SERIALIZED: the two threads
 * never call MPI at once, because the thread makes its calls holding `mu`
 * with the phase armed, and the fit's thread makes its own only after it has
 * set the phase idle under `mu`. Without that thread level (or with
 * NNGRAPH_DIST_PROGRESS=0) the value hook polls as before. */
#include "dist_internal.h"

#include <stdlib.h>
#include <time.h>

/* Between polls while a bucket is in flight or still filling. A poll
 * costs about a microsecond; 20 us keeps the collective's rounds moving
 * without taking a core from the backward pass. */
#define PROGRESS_POLL_NS 20000

enum { PHASE_IDLE, PHASE_ARMED, PHASE_QUIT };

static void *progress_main(void *arg) {
    nn_dist *d = arg;
    pthread_mutex_lock(&d->prog_mu);
    for (;;) {
        while (d->prog_phase == PHASE_IDLE) pthread_cond_wait(&d->prog_cv, &d->prog_mu);
        if (d->prog_phase == PHASE_QUIT) break;
        nn_dist_start_ready(d);
        nn_dist_poke(d);
        pthread_mutex_unlock(&d->prog_mu);
        struct timespec ts = {0, PROGRESS_POLL_NS};
        nanosleep(&ts, NULL);
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

int nn_dist_set_progress_thread(nn_dist *d, int on) {
    if (!d) return 0;
    d->prog_wanted = on && nn_dist_progress_possible();
    return d->prog_wanted;
}

nn_status nn_dist_progress_start(nn_dist *d) {
    if (!d->prog_wanted || d->prog_running) return NN_OK;
    d->prog_phase = PHASE_IDLE;
    if (pthread_create(&d->prog_thread, NULL, progress_main, d) != 0) {
        /* not fatal: the value hook polls instead */
        d->prog_wanted = 0;
        return NN_OK;
    }
    d->prog_running = 1;
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
    if (armed) pthread_cond_signal(&d->prog_cv);
    pthread_mutex_unlock(&d->prog_mu);
}
