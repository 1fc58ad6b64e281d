/* Run log: metrics buffered in memory and written in one transaction per
 * flush, the heartbeat, and the statements kept for the connection's
 * lifetime.
 *
 * Why it is written like this (measured with tools/bench_runlog: digits,
 * ~5 ms epochs of 157 steps): a flush is most of what logging costs, and
 * its time goes to SQLite executing one INSERT per row (about 1 us a row)
 * and to the commit writing the dirty pages to the WAL. Rows therefore go
 * in as multi-row INSERTs (32 rows a statement: under half the cost per
 * row of single-row INSERTs), and every statement a flush or checkpoint
 * runs, BEGIN and COMMIT included, is prepared once per connection. */
#include "runlog_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

nn_status rl_need_run(const nn_runlog *log, const char *what) {
    if (!log) return nn_set_error(NN_ERR_ARG, "run log: %s: the log is NULL", what);
    if (!log->run) return nn_set_error(NN_ERR_STATE, "%s: %s: no run started", log->path, what);
    return NN_OK;
}

sqlite3_stmt *rl_stmt(nn_runlog *log, int id, const char *sql, const char *doing) {
    sqlite3_stmt *st = log->stmts[id];
    if (st) {
        sqlite3_reset(st);
        return st;
    }
    return log->stmts[id] = rl_prepare(log, sql, doing);
}

int rl_step_reset(sqlite3_stmt *st) {
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc;
}

void rl_finalize_stmts(nn_runlog *log) {
    for (int i = 0; i < RL_STMT_COUNT; i++) {
        sqlite3_finalize(log->stmts[i]);
        log->stmts[i] = NULL;
    }
}

static int find_key(nn_runlog *log, const char *name) {
    /* a fit logs the same key every step: try the last one first */
    if (log->last_key < log->n_keys && strcmp(log->keys[log->last_key].name, name) == 0) return log->last_key;
    for (int i = 0; i < log->n_keys; i++)
        if (strcmp(log->keys[i].name, name) == 0) return log->last_key = i;
    if (log->n_keys == log->cap_keys) {
        int cap = log->cap_keys ? 2 * log->cap_keys : 8;
        rl_key *k = realloc(log->keys, (size_t)cap * sizeof *k);
        if (!k) return -1;
        log->keys = k;
        log->cap_keys = cap;
    }
    char *copy = strdup(name);
    if (!copy) return -1;
    log->keys[log->n_keys] = (rl_key){copy, 0};
    return log->last_key = log->n_keys++;
}

static nn_status buffer_metric(nn_runlog *log, const char *key, const char *split, int64_t at, double value,
                               int per_epoch) {
    nn_status s = rl_need_run(log, "logging a metric");
    if (s != NN_OK) return s;
    if (!key || !key[0]) return nn_set_error(NN_ERR_ARG, "%s: a metric needs a name", log->path);
    int sp = 0;
    if (split) {
        for (sp = 0; sp < 3 && strcmp(split, rl_splits[sp]) != 0; sp++) {}
        if (sp == 3)
            return nn_set_error(NN_ERR_ARG, "%s: metric '%s': unknown split '%s' (want train, val or test)",
                                log->path, key, split);
    }
    int k = find_key(log, key);
    if (k < 0) return nn_set_error(NN_ERR_NOMEM, "%s: out of memory buffering a metric", log->path);
    if (log->n_rows == log->cap_rows) {
        int cap = log->cap_rows ? 2 * log->cap_rows : 256;
        rl_row *r = realloc(log->rows, (size_t)cap * sizeof *r);
        if (!r) return nn_set_error(NN_ERR_NOMEM, "%s: out of memory buffering a metric", log->path);
        log->rows = r;
        log->cap_rows = cap;
    }
    double wall = rl_now();
    if (log->n_rows == 0) {
        log->oldest_wall = wall;
        log->flush_at_rows = log->flush_steps;
    }
    log->rows[log->n_rows++] = (rl_row){k, per_epoch, sp, at, value, wall};
    if (!per_epoch && (log->n_rows >= log->flush_at_rows || wall - log->oldest_wall >= log->flush_secs)) {
        s = nn_runlog_flush(log);
        if (s != NN_OK) {
            /* a full disk or a lock: keep the rows, but do not retry at every
             * step (each retry rewrites the whole buffer) */
            log->flush_at_rows = log->n_rows + log->flush_steps;
            log->oldest_wall = wall;
        }
        return s;
    }
    return NN_OK;
}

nn_status nn_runlog_step_metric(nn_runlog *log, const char *key, const char *split, int64_t step,
                                double value) {
    return buffer_metric(log, key, split, step, value, 0);
}

nn_status nn_runlog_epoch_metric(nn_runlog *log, const char *key, const char *split, int64_t epoch,
                                 double value) {
    return buffer_metric(log, key, split, epoch, value, 1);
}

/* Gives each buffered key its metric_key id, inserting new names. */
static nn_status intern_keys(nn_runlog *log) {
    for (int i = 0; i < log->n_keys; i++) {
        if (log->keys[i].id) continue;
        sqlite3_stmt *ins = rl_stmt(log, RL_ST_KEY_INSERT, "INSERT OR IGNORE INTO metric_key (name) VALUES (?)",
                                    "naming a metric");
        sqlite3_stmt *sel =
            ins ? rl_stmt(log, RL_ST_KEY_SELECT, "SELECT id FROM metric_key WHERE name = ?", "naming a metric") : NULL;
        if (!sel) return NN_ERR_DB;
        sqlite3_bind_text(ins, 1, log->keys[i].name, -1, SQLITE_STATIC);
        int rc = rl_step_reset(ins);
        if (rc != SQLITE_DONE) return rl_fail(log, rc, "naming a metric");
        sqlite3_bind_text(sel, 1, log->keys[i].name, -1, SQLITE_STATIC);
        rc = sqlite3_step(sel);
        if (rc == SQLITE_ROW) log->keys[i].id = sqlite3_column_int64(sel, 0);
        sqlite3_reset(sel);
        if (rc != SQLITE_ROW) return rl_fail(log, rc, "naming a metric");
    }
    return NN_OK;
}

/* Rows a multi-row INSERT takes, largest first: a flush's rows go in as
 * many 32-row statements as fit, then 8-row ones, then single rows. */
static const int chunk_rows[RL_CHUNKS] = {32, 8, 1};

/* The cached INSERT of chunk c into table (0 step_metric, 1 epoch_metric). */
static sqlite3_stmt *rows_stmt(nn_runlog *log, int table, int c) {
    int id = RL_ST_ROWS + table * RL_CHUNKS + c;
    if (log->stmts[id]) return rl_stmt(log, id, NULL, NULL);
    char sql[1024];
    int n = snprintf(sql, sizeof sql, "INSERT OR REPLACE INTO %s (run, key, split, %s, value, is_nan, wall) VALUES ",
                     table ? "epoch_metric" : "step_metric", table ? "epoch" : "step");
    for (int i = 0; i < chunk_rows[c] && n < (int)sizeof sql; i++)
        n += snprintf(sql + n, sizeof sql - (size_t)n, "%s(?,?,?,?,?,?,?)", i ? "," : "");
    return rl_stmt(log, id, sql, "writing metrics");
}

/* Inserts `n` rows of one table, n being one of chunk_rows. */
static nn_status insert_chunk(nn_runlog *log, int table, const rl_row *const *rows, int c) {
    sqlite3_stmt *st = rows_stmt(log, table, c);
    if (!st) return NN_ERR_DB;
    for (int i = 0; i < chunk_rows[c]; i++) {
        const rl_row *r = rows[i];
        int b = 7 * i;
        sqlite3_bind_int64(st, b + 1, log->run);
        sqlite3_bind_int64(st, b + 2, log->keys[r->key].id);
        sqlite3_bind_text(st, b + 3, rl_splits[r->split], -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, b + 4, r->at);
        /* SQLite would turn a NaN into NULL anyway; say so with the flag */
        if (isnan(r->value)) sqlite3_bind_null(st, b + 5);
        else sqlite3_bind_double(st, b + 5, r->value);
        sqlite3_bind_int(st, b + 6, isnan(r->value) ? 1 : 0);
        sqlite3_bind_double(st, b + 7, r->wall);
    }
    int rc = rl_step_reset(st);
    return rc == SQLITE_DONE ? NN_OK : rl_fail(log, rc, "writing metrics");
}

nn_status rl_write_rows(nn_runlog *log) {
    if (log->n_rows == 0) return NN_OK;
    nn_status s = intern_keys(log);
    /* each table's rows in the order they were logged (a later value of
     * the same step replaces an earlier one), 32 at a time */
    const rl_row *pending[2][32];
    int n_pending[2] = {0, 0};
    for (int i = 0; i < log->n_rows && s == NN_OK; i++) {
        int t = log->rows[i].per_epoch;
        pending[t][n_pending[t]++] = &log->rows[i];
        if (n_pending[t] == chunk_rows[0]) {
            s = insert_chunk(log, t, pending[t], 0);
            n_pending[t] = 0;
        }
    }
    for (int t = 0; t < 2 && s == NN_OK; t++) {
        int done = 0;
        for (int c = 1; c < RL_CHUNKS && s == NN_OK; c++)
            for (; n_pending[t] - done >= chunk_rows[c] && s == NN_OK; done += chunk_rows[c])
                s = insert_chunk(log, t, pending[t] + done, c);
    }
    return s;
}

nn_status rl_write_heartbeat(nn_runlog *log) {
    double wall = rl_now();
    char now[32];
    rl_iso_time(wall, now, sizeof now);
    sqlite3_stmt *st =
        rl_stmt(log, RL_ST_HEARTBEAT, "UPDATE run SET heartbeat = ? WHERE id = ?", "writing the heartbeat");
    if (!st) return NN_ERR_DB;
    sqlite3_bind_text(st, 1, now, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, log->run);
    int rc = rl_step_reset(st);
    if (rc != SQLITE_DONE) return rl_fail(log, rc, "writing the heartbeat");
    log->last_heartbeat = wall;
    return NN_OK;
}

void rl_forget_key_ids(nn_runlog *log) {
    for (int i = 0; i < log->n_keys; i++) log->keys[i].id = 0;
}

nn_status nn_runlog_flush(nn_runlog *log) {
    nn_status s = rl_need_run(log, "flushing metrics");
    if (s != NN_OK) return s;
    s = rl_begin(log, "flushing metrics");
    if (s == NN_OK) s = rl_write_rows(log);
    if (s == NN_OK) s = rl_write_heartbeat(log);
    if (s == NN_OK) s = rl_commit(log, "flushing metrics");
    if (s != NN_OK) {
        rl_rollback(log);
        rl_forget_key_ids(log);
        return s;
    }
    log->n_rows = 0;
    return NN_OK;
}

nn_status nn_runlog_heartbeat(nn_runlog *log) {
    nn_status s = rl_need_run(log, "heartbeat");
    if (s != NN_OK) return s;
    if (rl_now() - log->last_heartbeat < 1.0) return NN_OK;
    return rl_write_heartbeat(log);
}
