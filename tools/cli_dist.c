/* nngraph train under mpirun (see cli_dist.h). */
#include "cli_dist.h"

#include <stdlib.h>

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
    nn_dist *dist;
    nn_runlog *log;
    nn_epoch_fn next_epoch;
    void *next_user;
};

int cli_dist_open(const char *cmd, cli_dist **out) {
    *out = NULL;
    if (!launched()) return CLI_OK;
    int provided = 0;
    if (MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
        return cli_fail(cmd, "MPI_Init failed");
    /* MPI's own errors on the world communicator return too */
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    cli_dist *d = calloc(1, sizeof *d);
    if (d) d->dist = nn_dist_new(MPI_COMM_WORLD);
    if (!d || !d->dist) {
        free(d);
        return cli_fail(cmd, "%s", nn_last_error());
    }
    *out = d;
    return CLI_OK;
}

int cli_dist_rank(const cli_dist *d) { return d ? nn_dist_rank(d->dist) : 0; }
int cli_dist_size(const cli_dist *d) { return d ? nn_dist_size(d->dist) : 1; }

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

int cli_dist_close(cli_dist *d, int status) {
    if (!d) return status;
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
void cli_dist_fit_opts(cli_dist *d, nn_fit_opts *o, volatile sig_atomic_t *stop) {
    (void)d, (void)o, (void)stop;
}
void cli_dist_log_hook(cli_dist *d, nn_fit_opts *o) { (void)d, (void)o; }
int cli_dist_log_start(cli_dist *d, nn_runlog *log, int local_batch) {
    (void)d, (void)log, (void)local_batch;
    return CLI_OK;
}
int cli_dist_close(cli_dist *d, int status) {
    (void)d;
    return status;
}
#endif
