/* The run log's fit attachment, shared by runlog_fit.c (callbacks,
 * checkpoints, resume) and runlog_fit_params.c (hyperparameters logged at
 * the start and checked on resume). */
#ifndef NN_RUNLOG_FIT_INTERNAL_H
#define NN_RUNLOG_FIT_INTERNAL_H

#include "runlog_internal.h"

struct nn_runlog_fit {
    nn_runlog *log;
    nn_runlog_fit_opts ro;
    nn_graph *g;
    nn_node **params; /* the trained parameters, in nn_fit's order */
    int n_params;
    nn_optimizer *opt, *owned_opt;
    int epochs;
    /* the caller's callbacks, run after ours */
    nn_step_fn user_step;
    nn_epoch_fn user_epoch;
    void *user;
    nn_rng shuffle;       /* restored on resume; fit copies it */
    nn_rng last_rng;      /* the shuffle generator at the last epoch end */
    int have_rng;
    int64_t last_step;    /* the last step logged */
    int last_epoch;       /* the last epoch completed */
    int last_ckpt_epoch;  /* the last epoch checkpointed */
    int epochs_seen;      /* epochs ended in this fit */
    double last_commit;   /* wall time of the fit's last commit of metrics */
    int rows_before;      /* rows buffered when the last epoch ended */
    int interrupted;      /* the stop flag was seen: 1 mid-epoch, 2 at an epoch's end */
    int at_epoch_end;     /* the last callback was on_epoch */
    int dead;             /* the log failed: no more logging */
    nn_status db_status;
    char db_error[512];
};

/* The shortest decimal that reads back to the same float as v. */
double rl_float_decimal(double v);
/* Logs the optimizer's and the fit's hyperparameters of a new run. */
nn_status rl_fit_log_hparams(nn_runlog_fit *f, const nn_fit_opts *o);
/* NN_OK if a resume asks for the hyperparameters the run was trained
 * with; else NN_ERR_ARG naming the first that differs. */
nn_status rl_fit_check_resume(nn_runlog_fit *f, const nn_fit_opts *o);

#endif
