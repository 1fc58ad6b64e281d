/* nngraph train and predict under mpirun (see cli_dist.h). */
#include "cli_dist.h"

#include <stdlib.h>
#include <string.h>

/* Launchers announce themselves in the environment: Open MPI, MPICH and
 * Hydra (PMI), Slurm. */
static int launched(void) {
    static const char *const vars[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK", "MPI_LOCALNRANKS"};
    for (size_t i = 0; i < sizeof vars / sizeof *vars; i++)
        if (getenv(vars[i])) return 1;
    return 0;
}

#ifdef NNGRAPH_HAVE_MPI
#include "nngraph/dist.h"

struct cli_dist {
    const char *cmd;
    int predicted;     /* cli_dist_predict was called */
    nn_dist *dist;
    nn_runlog *log;
    nn_epoch_fn next_epoch;
    void *next_user;
};

int cli_dist_open(const char *cmd, cli_dist **out) {
    *out = NULL;
    if (!launched()) return CLI_OK;
    /* serialized: the fit's progress thread calls MPI too (never at once);
     * a library that provides less gets the polling fallback */
    int provided = 0;
    if (MPI_Init_thread(NULL, NULL, MPI_THREAD_SERIALIZED, &provided) != MPI_SUCCESS)
        return cli_fail(cmd, "MPI_Init failed");
    /* MPI's own errors on the world communicator return too */
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    cli_dist *d = calloc(1, sizeof *d);
    if (d) d->dist = nn_dist_new(MPI_COMM_WORLD);
    if (!d || !d->dist) {
        free(d);
        return cli_fail(cmd, "%s", nn_last_error());
    }
    d->cmd = cmd;
    *out = d;
    return CLI_OK;
}

int cli_dist_rank(const cli_dist *d) { return d ? nn_dist_rank(d->dist) : 0; }
int cli_dist_size(const cli_dist *d) { return d ? nn_dist_size(d->dist) : 1; }
int cli_dist_threads(const cli_dist *d) { return d ? nn_dist_threads_per_rank(d->dist) : 0; }

void cli_dist_fit_opts(cli_dist *d, nn_fit_opts *o, volatile sig_atomic_t *stop) {
    if (!d) return;
    nn_dist_set_stop_flag(d->dist, stop);
    nn_dist_fit_opts(d->dist, o);
}

static int log_epoch(const nn_epoch_info *ei, void *user) {
    cli_dist *d = user;
    /* a failing write is the run log's to report at its next commit */
    if (d->log) nn_dist_log_epoch(d->dist, d->log, ei->epoch);
    return d->next_epoch ? d->next_epoch(ei, d->next_user) : 0;
}

void cli_dist_log_hook(cli_dist *d, nn_fit_opts *o) {
    if (!d) return;
    d->next_epoch = o->on_epoch;
    d->next_user = o->user;
    o->on_epoch = log_epoch;
    o->user = d;
}

int cli_dist_log_start(cli_dist *d, nn_runlog *log, int local_batch) {
    if (!d || !log) return CLI_OK;
    if (nn_dist_log_params(d->dist, log, local_batch) != NN_OK) return cli_fail("train", "%s", nn_last_error());
    d->log = log;
    return CLI_OK;
}

nn_tensor *cli_dist_predict(cli_dist *d, nn_graph *g, nn_node *x, nn_node *out, const nn_tensor *data, int batch,
                            nn_status *status) {
    if (!d) {
        nn_tensor *t = nn_predict(g, x, out, data, batch);
        *status = t ? NN_OK : NN_ERR_RUNTIME;
        return t;
    }
    d->predicted = 1;
    return nn_dist_predict(d->dist, g, x, out, data, batch, status);
}

int cli_dist_close(cli_dist *d, int status) {
    if (!d) return status;
    /* failed before the collective the other ranks wait in: tell them,
     * so that they stop at once with this rank's message */
    if (status != CLI_OK && !strcmp(d->cmd, "train") && nn_dist_fits_begun(d->dist) == 0)
        nn_dist_fit_abandon(d->dist, NN_ERR_RUNTIME, cli_last_failure());
    if (status != CLI_OK && !strcmp(d->cmd, "predict") && !d->predicted) {
        nn_status st;
        nn_set_error(NN_ERR_RUNTIME, "%s", cli_last_failure());
        nn_dist_predict(d->dist, NULL, NULL, NULL, NULL, 1, &st);
    }
    if (status == CLI_OK) {
        nn_dist_free(d->dist);
        free(d);
        MPI_Finalize();
    }
    return status;
}

#else

int cli_dist_open(const char *cmd, cli_dist **out) {
    *out = NULL;
    if (launched())
        return cli_fail(cmd, "started by an MPI launcher, but this nngraph was built without MPI (install "
                             "libopenmpi-dev and rebuild with -Dmpi=enabled)");
    return CLI_OK;
}
int cli_dist_rank(const cli_dist *d) { (void)d; return 0; }
int cli_dist_size(const cli_dist *d) { (void)d; return 1; }
int cli_dist_threads(const cli_dist *d) { (void)d; return 0; }
void cli_dist_fit_opts(cli_dist *d, nn_fit_opts *o, volatile sig_atomic_t *stop) {
    (void)d, (void)o, (void)stop;
}
void cli_dist_log_hook(cli_dist *d, nn_fit_opts *o) { (void)d, (void)o; }
int cli_dist_log_start(cli_dist *d, nn_runlog *log, int local_batch) {
    (void)d, (void)log, (void)local_batch;
    return CLI_OK;
}
nn_tensor *cli_dist_predict(cli_dist *d, nn_graph *g, nn_node *x, nn_node *out, const nn_tensor *data, int batch,
                            nn_status *status) {
    (void)d;
    nn_tensor *t = nn_predict(g, x, out, data, batch);
    *status = t ? NN_OK : NN_ERR_RUNTIME;
    return t;
}
int cli_dist_close(cli_dist *d, int status) {
    (void)d;
    return status;
}
#endif
