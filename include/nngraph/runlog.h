/*
 * nngraph/runlog.h: the run log, every training run's history in one
 * SQLite file.
 *
 * A run log records each run (name, status, times, seed, threads, version,
 * host, command line, the graph's text), its hyperparameters, its metrics
 * per step and per epoch, and checkpoints of its weights and optimizer
 * state. Users query it with plain `sqlite3`; docs/runlog.md documents the
 * schema and example queries.
 *
 * Durability. The file is opened in WAL mode with synchronous=NORMAL: a
 * process killed at any moment (even kill -9) leaves a consistent database
 * holding every committed transaction; NN_RUNLOG_DURABLE asks for
 * synchronous=FULL, which also survives a power cut. Step metrics are
 * buffered in memory and written in one short transaction per flush (a
 * checkpoint, nn_runlog_flush(), every `flush_steps` steps, or every few
 * seconds; a logged fit flushes at epoch ends, at most every commit_secs
 * for short epochs), so logging every step costs little (docs/runlog.md,
 * "Cost": 2.6-2.8% of a 30 us training step). A run is marked finished only in the same transaction
 * that writes its last metrics: a crash never leaves a half-written run
 * shown as finished. A run whose process died shows as 'interrupted': in the
 * v_run view once its heartbeat is older than the setting `stale_after_s`
 * (60 s), and through the readers below at once when its process is gone
 * from this host.
 *
 * Errors. Every function returns a status (or NULL) and leaves a message in
 * nn_last_error() that names the file and the problem (NN_ERR_DB for the
 * database's own failures, NN_ERR_ARG/NN_ERR_STATE for misuse, NN_ERR_IO
 * and NN_ERR_FORMAT for weight files): a missing directory,
 * a database locked by another process past the busy timeout, a corrupt
 * file, a read-only file, a foreign database (another application's), a
 * full disk. A failed write changes nothing (its transaction is rolled
 * back) and the handle stays usable.
 *
 * Threads. A handle is used by one thread at a time; open one handle per
 * process (never share one across fork()).
 */
#ifndef NNGRAPH_RUNLOG_H
#define NNGRAPH_RUNLOG_H

#include "core.h"
#include "train.h"

#include <signal.h>

#ifdef __cplusplus
extern "C" {
#endif

/* What this header declares is the library's API: the shared library
 * exports it and hides everything else (-fvisibility=hidden). */
#if defined(__GNUC__)
#pragma GCC visibility push(default)
#endif

/* The file a fit loop logs to when the user names none. */
#define NN_RUNLOG_DEFAULT_PATH "nngraph.db"
/* PRAGMA application_id of an nngraph run log: "nngR" in ASCII. A database
 * with another non-zero id is refused as not an nngraph run log. */
#define NN_RUNLOG_APPLICATION_ID 0x6e6e6752
/* PRAGMA user_version written by this nngraph; older files are migrated on
 * open, newer ones are refused. */
#define NN_RUNLOG_SCHEMA_VERSION 2

/* Open flags (or-ed). */
enum {
    NN_RUNLOG_DURABLE = 1,  /* synchronous=FULL: commits survive a power cut */
    NN_RUNLOG_READONLY = 2, /* read only: the file must exist; nothing is written */
};

typedef struct nn_runlog nn_runlog;

/* Options of nn_runlog_open_opts; zero fields take the defaults. */
typedef struct nn_runlog_opts {
    int flags;           /* NN_RUNLOG_* */
    int busy_timeout_ms; /* wait this long for another writer's lock (default 5000) */
    int flush_steps;     /* write buffered step metrics after this many (default 1000) */
    double flush_secs;   /* ... or when the oldest buffered one is this old (default 10) */
} nn_runlog_opts;

/* Opens (creating if needed, unless NN_RUNLOG_READONLY) the run log at
 * `path`, sets WAL, busy_timeout, synchronous and foreign_keys, checks the
 * application_id and migrates an older schema. NULL on failure with
 * nn_last_error() saying why. */
nn_runlog *nn_runlog_open(const char *path, int flags);
nn_runlog *nn_runlog_open_opts(const char *path, const nn_runlog_opts *opts);
/* Flushes buffered metrics and closes. A run still open (not finished) is
 * left 'running': it reads as interrupted once its heartbeat is stale.
 * Returns the flush's status; the handle is freed in every case. NULL is a
 * no-op. */
nn_status nn_runlog_close(nn_runlog *log);
/* The path the log was opened with. */
const char *nn_runlog_path(const nn_runlog *log);

/* ---------------------------------------------------------------- */
/* Writing a run                                                     */
/* ---------------------------------------------------------------- */

/* What a run records when it starts. Every field is optional. */
typedef struct nn_run_info {
    const char *name;         /* a label for humans, e.g. "digits" */
    uint64_t seed;
    int threads;
    const char *command_line; /* NULL: this process's /proc/self/cmdline */
    const char *graph_text;   /* the graph in its text (.nng) form */
    int64_t parent_run_id;    /* >0 for a run forked from another one */
    int64_t parent_step;      /* the parent's step it starts from */
    const char *experiment;   /* groups runs, like MLflow's experiments ("" if NULL) */
    const char *notes;        /* free text for humans ("" if NULL) */
    /* The working directory's git commit and whether its tree has
     * uncommitted changes are recorded (by running `git`) unless this is
     * set or the environment has NNGRAPH_NO_GIT=1; unknown when git or a
     * repository is missing. */
    int no_git;
} nn_run_info;

/* Starts a new run (status 'running') and makes it the handle's current
 * run, the one the logging calls below write to. Sets *run_id if not NULL.
 * NN_ERR_STATE if the handle already has a current run. */
nn_status nn_runlog_start(nn_runlog *log, const nn_run_info *info, int64_t *run_id);
/* The current run's id, 0 if none. */
int64_t nn_runlog_current(const nn_runlog *log);

/* A hyperparameter as text ("adam"), written now. Keys are unique per run:
 * logging a key again replaces it. */
nn_status nn_runlog_param(nn_runlog *log, const char *key, const char *value);
/* A numeric hyperparameter: stored as text ("0.001") and as a number (for
 * numeric comparison in SQL). */
nn_status nn_runlog_param_num(nn_runlog *log, const char *key, double value);

/* A metric of one step (e.g. key "loss", split "train"; NULL split means
 * "train"; splits are "train", "val" or "test"). Buffered: written at the
 * next flush. NaN is stored as NULL with is_nan = 1; infinities are kept. */
nn_status nn_runlog_step_metric(nn_runlog *log, const char *key, const char *split, int64_t step,
                                double value);
/* A metric of one epoch (loss, accuracy, val loss, epoch time in seconds
 * under the key "time", ...). Buffered like step metrics, so an epoch's
 * metrics and steps commit together at nn_runlog_flush(). */
nn_status nn_runlog_epoch_metric(nn_runlog *log, const char *key, const char *split, int64_t epoch,
                                 double value);
/* Writes every buffered metric and the heartbeat in one transaction. On
 * failure nothing is written and the buffer is kept for the next try. */
nn_status nn_runlog_flush(nn_runlog *log);
/* Records that the run is alive (rate-limited to one write a second). */
nn_status nn_runlog_heartbeat(nn_runlog *log);

/* What a checkpoint tensor is. */
typedef enum nn_ckpt_role {
    NN_ROLE_PARAM = 0, /* a trainable parameter */
    NN_ROLE_ADAM_M,    /* Adam's first moment of the parameter of that name */
    NN_ROLE_ADAM_V,    /* Adam's second moment */
    NN_ROLE_RNG,       /* a random generator's state (stored as u64[4]) */
    NN_ROLE_STATE      /* other optimizer or loop state (e.g. a step count) */
} nn_ckpt_role;
/* "param", "adam_m", "adam_v", "rng", "state"; and back (-1 if unknown). */
const char *nn_ckpt_role_name(nn_ckpt_role r);
int nn_ckpt_role_from_name(const char *name);

/* One tensor of a checkpoint: `tensor` for every role but NN_ROLE_RNG,
 * which gives `rng` instead. */
typedef struct nn_ckpt_item {
    const char *name;
    nn_ckpt_role role;
    const nn_tensor *tensor;
    const nn_rng *rng;
} nn_ckpt_item;

/* Writes a checkpoint of the current run at (step, epoch) with its reason
 * ("epoch", "best", "final", "signal" or "manual") and tensors, together
 * with the buffered metrics, in one transaction: all of it or nothing.
 * Data is stored little-endian with a CRC-32 per tensor. Sets *ckpt_id if
 * not NULL. */
nn_status nn_runlog_checkpoint(nn_runlog *log, int64_t step, int64_t epoch, const char *reason,
                               const nn_ckpt_item *items, int n, int64_t *ckpt_id);

/* Ends the current run: writes the buffered metrics and the status
 * ("finished", "failed" or "interrupted"), end time and, for a failure, the
 * error message (may be NULL), in one transaction. On failure the run stays
 * current and 'running' (never half finished). */
nn_status nn_runlog_finish(nn_runlog *log, const char *status, const char *error);

/* Sets tag `key` of run `run_id` to `value` (replacing an older value;
 * an empty value deletes the tag). Keys are 1 to 63 bytes, values at most
 * 191 (nn_param_kv's sizes): an error names the limit. Works on any run,
 * finished or not. */
nn_status nn_runlog_tag(nn_runlog *log, int64_t run_id, const char *key, const char *value);
/* Replaces run `run_id`'s notes. */
nn_status nn_runlog_set_notes(nn_runlog *log, int64_t run_id, const char *notes);

/* Deletes the run's step metrics past `step` and epoch metrics and
 * checkpoints past `epoch` (so a resumed curve never zig-zags). */
nn_status nn_runlog_truncate(nn_runlog *log, int64_t run_id, int64_t step, int64_t epoch);

typedef struct nn_checkpoint nn_checkpoint;

/* Resumes run `run_id` in place from its checkpoint at `epoch` (-1: the
 * last one but 'signal' ones, which are taken mid-epoch): loads the checkpoint into *ckpt, deletes what the run logged
 * past it (nn_runlog_truncate), records the resume (table `resume`), sets
 * the status back to 'running' and makes the run current. The caller
 * restores weights, optimizer state and generator from *ckpt, then frees
 * it. */
nn_status nn_runlog_resume(nn_runlog *log, int64_t run_id, int64_t epoch, nn_checkpoint **ckpt);

/* ---------------------------------------------------------------- */
/* Reading                                                           */
/* ---------------------------------------------------------------- */

/* One row of the v_run view. NaN fields mean "none". */
typedef struct nn_run_row {
    int64_t id;
    char uuid[40];
    char name[128];
    char status[16]; /* 'interrupted' for a running run with a stale heartbeat or a dead pid */
    char start_time[32], end_time[32]; /* ISO-8601 UTC; end "" if none */
    double duration_s;
    int64_t epochs;  /* highest epoch with a metric, 0 if none */
    int64_t steps;   /* highest step with a metric, 0 if none */
    double final_loss, best_loss, final_accuracy, final_val_loss, final_val_accuracy;
    uint64_t seed;
    int threads;
    int64_t parent_run_id, parent_step;
    char version[32];
    char host[128];
    char error[256]; /* why it failed, "" if it did not */
    char experiment[128]; /* "" if none */
    char git_commit[48];  /* "" if unknown */
    int git_dirty;        /* 1 uncommitted changes, 0 clean, -1 unknown */
} nn_run_row;

/* Every run, oldest first; *rows is malloc'ed (free()). */
nn_status nn_runlog_list(nn_runlog *log, nn_run_row **rows, int *n);
/* One run's row; NN_ERR_ARG if there is no such run. */
nn_status nn_runlog_get_run(nn_runlog *log, int64_t run_id, nn_run_row *row);
/* Finds a run from what a user typed: an id ("7"), a uuid or a unique
 * prefix of one, or a name (its latest run). */
nn_status nn_runlog_find_run(nn_runlog *log, const char *spec, int64_t *run_id);
/* The run's graph text (malloc'ed, free()); NULL with an error if none. */
char *nn_runlog_graph_text(nn_runlog *log, int64_t run_id);

typedef struct nn_param_kv {
    char key[64];
    char value[192];
    int is_num;
    double num;
} nn_param_kv;
/* The run's hyperparameters sorted by key; *out malloc'ed (free()). */
nn_status nn_runlog_params(nn_runlog *log, int64_t run_id, nn_param_kv **out, int *n);
/* The run's tags sorted by key (is_num 0); *out malloc'ed (free()). */
nn_status nn_runlog_tags(nn_runlog *log, int64_t run_id, nn_param_kv **out, int *n);
/* The run's notes (malloc'ed, free(); "" if none); NULL with an error. */
char *nn_runlog_notes(nn_runlog *log, int64_t run_id);

typedef struct nn_metric_point {
    int64_t at;  /* step or epoch */
    double value; /* NaN if a NaN was logged */
    double wall;  /* seconds since 1970 (UTC) when it was logged */
} nn_metric_point;
/* A metric's curve in step (per_epoch 0) or epoch order; *out malloc'ed. */
nn_status nn_runlog_curve(nn_runlog *log, int64_t run_id, const char *key, const char *split,
                          int per_epoch, nn_metric_point **out, int *n);

/* The latest value of each metric of a run (the v_last view). */
typedef struct nn_metric_last {
    char key[64];
    char split[8];  /* "train", "val" or "test" */
    int per_epoch;  /* 1: an epoch metric, 0: a step metric */
    int64_t at;     /* its epoch or step */
    double value;   /* NaN if a NaN was logged */
} nn_metric_last;
/* Epoch metrics first, then step metrics, each sorted by key and split;
 * *out malloc'ed (free()). */
nn_status nn_runlog_last_metrics(nn_runlog *log, int64_t run_id, nn_metric_last **out, int *n);

/* ---------------------------------------------------------------- */
/* Checkpoints and weight files                                      */
/* ---------------------------------------------------------------- */

/* One checkpoint of a run, as listed (without its tensors). */
typedef struct nn_ckpt_row {
    int64_t id, step, epoch;
    char reason[16];
    char time[32];   /* ISO-8601 UTC */
    int64_t bytes;   /* the parameters' data (role param), in bytes */
} nn_ckpt_row;
/* The run's checkpoints by epoch and step; *out malloc'ed (free()). */
nn_status nn_runlog_checkpoints(nn_runlog *log, int64_t run_id, nn_ckpt_row **out, int *n);

/* Loads run `run_id`'s checkpoint at `epoch` (-1: the last one), checking
 * each tensor's CRC-32, dtype and size. NULL with an error if none. */
nn_checkpoint *nn_runlog_load_checkpoint(nn_runlog *log, int64_t run_id, int64_t epoch);
void nn_checkpoint_free(nn_checkpoint *c);

/* Where a checkpoint came from: its row id, run, global step, epoch and
 * reason ("epoch", "final", "signal", ...). */
int64_t nn_checkpoint_id(const nn_checkpoint *c);
int64_t nn_checkpoint_run(const nn_checkpoint *c);
int64_t nn_checkpoint_step(const nn_checkpoint *c);
int64_t nn_checkpoint_epoch(const nn_checkpoint *c);
const char *nn_checkpoint_reason(const nn_checkpoint *c);
/* The checkpoint's items, in the order they were written. */
int nn_checkpoint_count(const nn_checkpoint *c);
const char *nn_checkpoint_name(const nn_checkpoint *c, int i);
nn_ckpt_role nn_checkpoint_role(const nn_checkpoint *c, int i);
/* The item's tensor (NULL for an NN_ROLE_RNG item). */
const nn_tensor *nn_checkpoint_tensor(const nn_checkpoint *c, int i);
/* The tensor of that name and role, or NULL. */
const nn_tensor *nn_checkpoint_find(const nn_checkpoint *c, const char *name, nn_ckpt_role role);
/* The generator state stored under `name` (NULL: the first one);
 * NN_ERR_ARG if none. */
nn_status nn_checkpoint_rng(const nn_checkpoint *c, const char *name, nn_rng *out);
/* Copies every NN_ROLE_PARAM tensor into the graph's parameter of the same
 * name. Every parameter of g must be present with its shape; errors name
 * the parameter. Nothing is changed on error. */
nn_status nn_checkpoint_apply(const nn_checkpoint *c, nn_graph *g);

/*
 * Files of weights, what `nngraph export` writes (docs/runlog.md):
 * - a weights file ("NNGW", the graph-file area's format, nngraph/graphio.h):
 *   the f32 parameters only, which nn_weights_load() and `nngraph predict
 *   --weights` read;
 * - a checkpoint file ("NNGC"): everything a checkpoint holds (parameters,
 *   optimizer state, generators) with its step and epoch. Little-endian:
 *   "NNGC", u32 version (1), u32 count, i64 step, i64 epoch; per tensor:
 *   u16 name length, name (UTF-8, no NUL), u8 role (nn_ckpt_role), u8 dtype
 *   (0 f32, 1 i32, 2 u64), u8 rank, u8 0, i64 dims[rank], u64 byte count,
 *   u32 CRC-32 of the data, data.
 */
/* Writes c to `path` atomically (temporary file, fsync, rename): a weights
 * file if params_only (every param must be f32), else a checkpoint file. */
nn_status nn_checkpoint_save(const nn_checkpoint *c, const char *path, int params_only);
/* Reads either kind of file (a weights file gives param items, step and
 * epoch 0); NULL with an error naming the file, the tensor and the
 * problem. */
nn_checkpoint *nn_checkpoint_read(const char *path);

/* ---------------------------------------------------------------- */
/* Logging a fit                                                     */
/* ---------------------------------------------------------------- */

/*
 * One option hooks nn_fit to the run log: nn_runlog_attach() fills an
 * nn_fit_opts's callbacks (the caller's own on_step/on_epoch still run,
 * after the log's), and nn_runlog_detach() ends the run from nn_fit's
 * status. nn_fit_logged() does all three:
 *
 *   nn_fit_opts o = {.epochs = 40, .optimizer = nn_adam(0.001f)};
 *   nn_runlog_fit_opts r = {.path = "runs.db", .run_name = "digits"};
 *   nn_status s = nn_fit_logged(g, loss, &train, &o, &r, &result);
 *
 * What a logged fit records: the run (name, seed, threads, version, host,
 * command line, graph text if given), hyperparameters (optimizer and its
 * hparams, batch_size, epochs, val_split, shuffle, every parameter's shape
 * as "shape:NAME", param_count), the loss of every step (or every
 * log_steps-th), per epoch loss, accuracy, val loss and accuracy (split
 * "val") and wall time (metric "time"), written with the epoch's
 * checkpoint in one transaction (an epoch without a checkpoint is committed
 * at its end, or with the next ones when it ended less than commit_secs
 * after the last commit: see below); and a checkpoint every checkpoint_every
 * epochs holding every trained parameter (role param), the optimizer's
 * slots (adam_m/adam_v, or state "NAME#velocity"), its step count (state
 * "optimizer_steps", i32 [2]: low and high 32 bits) and the shuffle
 * generator (rng "shuffle").
 */

/* What to do when the run log fails during a fit (locked past the busy
 * timeout, disk full, ...). */
enum {
    NN_RUNLOG_STOP = 0,    /* stop training; nn_runlog_detach returns NN_ERR_DB */
    NN_RUNLOG_CONTINUE = 1 /* train on without logging; nn_runlog_fit_error() says why */
};

typedef struct nn_runlog_fit_opts {
    const char *path;          /* NULL: NN_RUNLOG_DEFAULT_PATH */
    int open_flags;            /* NN_RUNLOG_DURABLE ... */
    const char *run_name;
    const char *experiment;    /* groups runs (nn_run_info.experiment) */
    const char *notes;         /* nn_run_info.notes */
    uint64_t seed;             /* the graph's seed, recorded (0: not known) */
    const char *graph_text;    /* the graph's .nng text; NULL: nn_graph_to_text(g) */
    const char *command_line;  /* NULL: this process's */
    int checkpoint_every;      /* epochs between checkpoints; 0: 1; <0: only a final one */
    int log_steps;             /* log every Nth step's loss; 0: every step; <0: none */
    int on_db_error;           /* NN_RUNLOG_STOP or NN_RUNLOG_CONTINUE */
    /* >0: resume that run in place from its last epoch checkpoint: weights,
     * optimizer state and shuffle generator are restored, what it logged
     * past the checkpoint is dropped, opts->initial_epoch is set. The graph
     * must be built as before (same names and shapes). */
    int64_t resume_run;
    /* Set to non-zero (e.g. by a SIGINT handler) to stop at the end of the
     * current step: a 'signal' checkpoint is written, the run is marked
     * interrupted and nn_runlog_detach returns NN_ERR_INTERRUPTED. */
    volatile sig_atomic_t *stop;
    int busy_timeout_ms;       /* wait for another writer's lock (default 5000) */
    /* Epochs without a checkpoint: their metrics are committed at the
     * epoch's end unless the last commit is younger than this (default
     * 0.1 s; <0: every epoch); then they wait in memory, whole epochs, for
     * a later epoch's end, at most nn_runlog_opts.flush_steps rows. The
     * first epoch always commits (a failing log shows at once), and so
     * does every checkpoint. Why: a commit costs ~0.2 ms whatever it
     * holds, 4% of a 5 ms epoch. A SIGKILL loses at most the last
     * commit_secs of metrics, all past the last checkpoint. */
    double commit_secs;
} nn_runlog_fit_opts;

typedef struct nn_runlog_fit nn_runlog_fit;

/* Opens the run log, starts (or resumes) a run and logs the
 * hyperparameters; points opts->on_step/on_epoch/user at the log (keeping
 * the caller's callbacks, which still run) and, when opts->optimizer is
 * NULL, gives it an Adam(0.001) that nn_runlog_detach frees. NULL with
 * nn_last_error() on failure (opts unchanged). */
nn_runlog_fit *nn_runlog_attach(nn_fit_opts *opts, nn_graph *g, nn_node *loss, const nn_runlog_fit_opts *ro);
/* Ends the run from nn_fit's status: finished (NN_OK), interrupted (stop
 * flag: a 'signal' checkpoint first; returns NN_ERR_INTERRUPTED) or failed
 * (the error message recorded; returns fit_status). Returns NN_ERR_DB if the
 * log failed under NN_RUNLOG_STOP. Closes the log and frees f. */
nn_status nn_runlog_detach(nn_runlog_fit *f, nn_status fit_status);
/* The run being logged. */
int64_t nn_runlog_fit_run(const nn_runlog_fit *f);
/* The open run log, for the caller's own params and metrics of the run
 * (e.g. from its epoch callback, which runs after the log's). */
nn_runlog *nn_runlog_fit_log(nn_runlog_fit *f);
/* Why logging stopped under NN_RUNLOG_CONTINUE; "" while it works. */
const char *nn_runlog_fit_error(const nn_runlog_fit *f);
/* attach + nn_fit + detach. */
nn_status nn_fit_logged(nn_graph *g, nn_node *loss, const nn_dataset *train, const nn_fit_opts *opts,
                        const nn_runlog_fit_opts *ro, nn_fit_result *result);

#if defined(__GNUC__)
#pragma GCC visibility pop
#endif

#ifdef __cplusplus
}
#endif
#endif
