/* nngraph train and predict under mpirun: the MPI side of the commands, compiled to
 * stubs when nngraph is built without MPI (then a launched run says so). */
#ifndef CLI_DIST_H
#define CLI_DIST_H

#include "cli.h"

#include <signal.h>

typedef struct cli_dist cli_dist;

/* Under an MPI launcher (mpirun, mpiexec, srun): initialises MPI and sets
 * *out to this process's handle; otherwise *out = NULL. CLI_OK or a
 * runtime failure (reported). */
int cli_dist_open(const char *cmd, cli_dist **out);
/* 0 and 1 without a handle. */
int cli_dist_rank(const cli_dist *d);
int cli_dist_size(const cli_dist *d);
/* The threads a rank runs when --threads is not given: the host's cores
 * shared among its ranks (nn_dist_threads_per_rank); 0 without MPI (the
 * graph's own default, every core). */
int cli_dist_threads(const cli_dist *d);
/* Makes the fit data-parallel; a set *stop ends waits on other ranks. */
void cli_dist_fit_opts(cli_dist *d, nn_fit_opts *o, volatile sig_atomic_t *stop);
/* Rank 0's run log records world size, hosts and batches (params) and,
 * after every epoch, each rank's samples/s and communication wait
 * (metrics): the hook goes into o before nn_runlog_attach (so that it runs
 * after the log's own epoch callback), the log after. */
void cli_dist_log_hook(cli_dist *d, nn_fit_opts *o);
int cli_dist_log_start(cli_dist *d, nn_runlog *log, int local_batch);
/* nn_predict, or under a launcher nn_dist_predict: each rank predicts a
 * shard of data's rows, gathered on rank 0 (NULL elsewhere). *status says
 * on every rank whether all went well (a failure: nn_last_error(), or the
 * graph's nn_error_message). */
nn_tensor *cli_dist_predict(cli_dist *d, nn_graph *g, nn_node *x, nn_node *out, const nn_tensor *data, int batch,
                            nn_status *status);
/* Ends MPI after a successful command and returns status. After a failure
 * MPI is left as it is (other ranks may be inside a collective): the
 * process exits non-zero and the launcher ends the job. A rank that failed
 * before the command's collective (train: the fit's start; predict: the
 * prediction) first takes its part in it with its cli_fail message, so the
 * other ranks stop at once with that message instead of at a timeout. */
int cli_dist_close(cli_dist *d, int status);

#endif
