/* Internals of the run log shared by src/runlog*.c (and the tests). */
#ifndef NN_RUNLOG_INTERNAL_H
#define NN_RUNLOG_INTERNAL_H

#include "nngraph.h"

#include <sqlite3.h>

/* One buffered metric row. */
typedef struct rl_row {
    int key;       /* index into the handle's key cache */
    int per_epoch; /* 0: step_metric, 1: epoch_metric */
    int split;     /* index into rl_splits */
    int64_t at;    /* step or epoch */
    double value;
    double wall;
} rl_row;

/* A metric name and its metric_key id (0 until interned in the file). */
typedef struct rl_key {
    char *name;
    int64_t id;
} rl_key;

/* Statements prepared once per connection and kept until it closes
 * (rl_stmt): preparing one costs more than running it. RL_ST_ROWS is the
 * first of the multi-row metric INSERTs: RL_ST_ROWS + table * RL_CHUNKS +
 * chunk (runlog_metric.c). */
enum { RL_CHUNKS = 3 };
enum {
    RL_ST_BEGIN,
    RL_ST_COMMIT,
    RL_ST_HEARTBEAT,
    RL_ST_KEY_INSERT,
    RL_ST_KEY_SELECT,
    RL_ST_CHECKPOINT,
    RL_ST_TENSOR,
    RL_ST_PARAM,
    RL_ST_ROWS,
    RL_STMT_COUNT = RL_ST_ROWS + 2 * RL_CHUNKS
};

struct nn_runlog {
    sqlite3 *db;
    char *path;
    int flags;
    int busy_timeout_ms;
    int flush_steps;
    double flush_secs;
    int64_t run;              /* current run, 0 if none */
    rl_row *rows;             /* buffered metrics */
    int n_rows, cap_rows;
    double oldest_wall;       /* wall time of rows[0] (or of the last failed flush) */
    int flush_at_rows;        /* flush when n_rows reaches this (pushed back after a failure) */
    rl_key *keys;
    int n_keys, cap_keys;
    int last_key;             /* the key found last (a fit logs one key a step) */
    double last_heartbeat;
    sqlite3_stmt *stmts[RL_STMT_COUNT];
};

extern const char *const rl_splits[3]; /* "train", "val", "test" */

/* Seconds since 1970, UTC, with sub-second precision. */
double rl_now(void);
/* "2026-11-24T14:00:08.123Z" for a wall time. */
void rl_iso_time(double wall, char *buf, size_t len);

/* Turns an SQLite result code into an nngraph status with a message that
 * names the file, the problem and what was being done ("while ..."). */
nn_status rl_fail(const nn_runlog *log, int rc, const char *doing);
/* Runs SQL without results; on failure sets the error (rl_fail). */
nn_status rl_exec(nn_runlog *log, const char *sql, const char *doing);
/* BEGIN IMMEDIATE (takes the write lock now so the busy timeout applies),
 * COMMIT, ROLLBACK. */
nn_status rl_begin(nn_runlog *log, const char *doing);
nn_status rl_commit(nn_runlog *log, const char *doing);
void rl_rollback(nn_runlog *log);
/* Prepares a statement; on failure sets the error and returns NULL. */
sqlite3_stmt *rl_prepare(nn_runlog *log, const char *sql, const char *doing);
/* The connection's statement `id` (RL_ST_*), prepared from `sql` the first
 * time, reset; NULL with the error set if it cannot be prepared. */
sqlite3_stmt *rl_stmt(nn_runlog *log, int id, const char *sql, const char *doing);
/* sqlite3_step, then sqlite3_reset so the statement holds nothing open;
 * returns the step's result. */
int rl_step_reset(sqlite3_stmt *st);
/* Finalizes the cached statements (before closing the connection). */
void rl_finalize_stmts(nn_runlog *log);
/* NN_OK if the log has a current run, else the error for `what`. */
nn_status rl_need_run(const nn_runlog *log, const char *what);

/* The working directory's git commit ("" if unknown) and whether tracked
 * files have uncommitted changes (1, 0, or -1 if unknown); nothing when
 * NNGRAPH_NO_GIT=1 (runlog_meta.c). */
void rl_git_state(char *commit, size_t len, int *dirty);

/* The schema's migrations: rl_migrations[v] brings version v to v+1. */
extern const char *const rl_migrations[NN_RUNLOG_SCHEMA_VERSION];
/* Opens the file, checks it is ours, migrates it (runlog_schema.c). */
nn_status rl_open_db(nn_runlog *log);

/* Writes the buffered rows inside an open transaction (runlog_metric.c). */
nn_status rl_write_rows(nn_runlog *log);
/* Heartbeat inside an open transaction. */
nn_status rl_write_heartbeat(nn_runlog *log);

/* After a rolled-back transaction the ids of keys interned in it are gone. */
void rl_forget_key_ids(nn_runlog *log);
/* nn_runlog_load_checkpoint that also gives the failure's status; with
 * `resumable`, epoch -1 skips 'signal' checkpoints (taken mid-epoch). */
nn_checkpoint *rl_load_checkpoint(nn_runlog *log, int64_t run_id, int64_t epoch, int resumable, nn_status *status);

/* The connection, for tests that poke at the file (max_page_count, ...). */
sqlite3 *rl_sqlite(nn_runlog *log);

#endif
