/* Run log: opening, runs, hyperparameters, finishing, truncating and
 * resuming (metrics: runlog_metric.c). */
#include "runlog_internal.h"
#include "strbuf.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

nn_runlog *nn_runlog_open_opts(const char *path, const nn_runlog_opts *opts) {
    if (!path || !path[0]) {
        nn_set_error(NN_ERR_ARG, "run log: no database path given");
        return NULL;
    }
    nn_runlog *log = calloc(1, sizeof *log);
    if (!log || !(log->path = strdup(path))) {
        free(log);
        nn_set_error(NN_ERR_NOMEM, "%s: out of memory opening the run log", path);
        return NULL;
    }
    nn_runlog_opts o = opts ? *opts : (nn_runlog_opts){0};
    log->flags = o.flags;
    log->busy_timeout_ms = o.busy_timeout_ms > 0 ? o.busy_timeout_ms : 5000;
    log->flush_steps = o.flush_steps > 0 ? o.flush_steps : 1000;
    log->flush_secs = o.flush_secs > 0 ? o.flush_secs : 10.0;
    if (rl_open_db(log) != NN_OK) {
        /* keep the message: closing must not overwrite it */
        rl_finalize_stmts(log);
        sqlite3_close_v2(log->db);
        free(log->path);
        free(log);
        return NULL;
    }
    return log;
}

nn_runlog *nn_runlog_open(const char *path, int flags) {
    nn_runlog_opts o = {.flags = flags};
    return nn_runlog_open_opts(path, &o);
}

nn_status nn_runlog_close(nn_runlog *log) {
    if (!log) return NN_OK;
    nn_status s = NN_OK;
    if (log->run && log->n_rows) s = nn_runlog_flush(log);
    rl_finalize_stmts(log);
    sqlite3_close_v2(log->db);
    for (int i = 0; i < log->n_keys; i++) free(log->keys[i].name);
    free(log->keys);
    free(log->rows);
    free(log->path);
    free(log);
    return s;
}

const char *nn_runlog_path(const nn_runlog *log) { return log ? log->path : NULL; }

int64_t nn_runlog_current(const nn_runlog *log) { return log ? log->run : 0; }

/* A version-4 UUID from SQLite's generator (seeded from the OS). */
static void make_uuid(char out[40]) {
    unsigned char b[16];
    sqlite3_randomness(sizeof b, b);
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    snprintf(out, 40, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
             b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}

/* This process's command line with spaces between arguments (Linux). */
static char *own_command_line(void) {
    FILE *f = fopen("/proc/self/cmdline", "rb");
    if (!f) return NULL;
    char buf[4096];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    while (n > 0 && buf[n - 1] == 0) n--;
    for (size_t i = 0; i < n; i++)
        if (buf[i] == 0) buf[i] = ' ';
    buf[n] = 0;
    return strdup(buf);
}

nn_status nn_runlog_start(nn_runlog *log, const nn_run_info *info, int64_t *run_id) {
    if (!log) return nn_set_error(NN_ERR_ARG, "run log: start: the log is NULL");
    if (log->run)
        return nn_set_error(NN_ERR_STATE, "%s: start: run %lld is still current; finish it first", log->path,
                            (long long)log->run);
    nn_run_info in = info ? *info : (nn_run_info){0};
    char uuid[40], now[32], host[128] = "";
    make_uuid(uuid);
    double wall = rl_now();
    rl_iso_time(wall, now, sizeof now);
    gethostname(host, sizeof host - 1);
    char *cmd = in.command_line ? NULL : own_command_line();
    char commit[48] = "";
    int dirty = -1;
    if (!in.no_git) rl_git_state(commit, sizeof commit, &dirty);
    sqlite3_stmt *st = rl_prepare(log,
                                  "INSERT INTO run (uuid, name, status, start_time, heartbeat, seed, threads, "
                                  "version, host, pid, command_line, graph, parent_run_id, parent_step, "
                                  "experiment, notes, git_commit, git_dirty) "
                                  "VALUES (?,?,'running',?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                                  "starting a run");
    if (!st) {
        free(cmd);
        return NN_ERR_DB;
    }
    sqlite3_bind_text(st, 1, uuid, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, in.name ? in.name : "", -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, now, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 4, now, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 5, (int64_t)in.seed); /* seeds past 2^63 read back as negative: cast back */
    sqlite3_bind_int(st, 6, in.threads);
    sqlite3_bind_text(st, 7, NN_VERSION_STRING, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 8, host, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 9, (int64_t)getpid());
    sqlite3_bind_text(st, 10, in.command_line ? in.command_line : cmd ? cmd : "", -1, SQLITE_TRANSIENT);
    if (in.graph_text) sqlite3_bind_text(st, 11, in.graph_text, -1, SQLITE_TRANSIENT);
    if (in.parent_run_id > 0) {
        sqlite3_bind_int64(st, 12, in.parent_run_id);
        sqlite3_bind_int64(st, 13, in.parent_step);
    }
    sqlite3_bind_text(st, 14, in.experiment ? in.experiment : "", -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 15, in.notes ? in.notes : "", -1, SQLITE_TRANSIENT);
    if (commit[0]) sqlite3_bind_text(st, 16, commit, -1, SQLITE_TRANSIENT);
    if (dirty >= 0) sqlite3_bind_int(st, 17, dirty);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    free(cmd);
    if (rc != SQLITE_DONE) {
        if ((rc & 0xff) == SQLITE_CONSTRAINT && in.parent_run_id > 0)
            return nn_set_error(NN_ERR_ARG, "%s: start: parent run %lld does not exist", log->path,
                                (long long)in.parent_run_id);
        return rl_fail(log, rc, "starting a run");
    }
    log->run = sqlite3_last_insert_rowid(log->db);
    log->last_heartbeat = wall;
    if (run_id) *run_id = log->run;
    return NN_OK;
}

static nn_status write_param(nn_runlog *log, const char *key, const char *value, const double *num) {
    nn_status s = rl_need_run(log, "logging a parameter");
    if (s != NN_OK) return s;
    if (!key || !key[0] || !value)
        return nn_set_error(NN_ERR_ARG, "%s: a parameter needs a key and a value", log->path);
    /* a fit logs a parameter per layer: prepared once */
    sqlite3_stmt *st = rl_stmt(log, RL_ST_PARAM, "INSERT OR REPLACE INTO param (run, key, value, num) VALUES (?,?,?,?)",
                               "logging a parameter");
    if (!st) return NN_ERR_DB;
    sqlite3_bind_int64(st, 1, log->run);
    sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, value, -1, SQLITE_STATIC);
    if (num && !isnan(*num)) sqlite3_bind_double(st, 4, *num);
    else sqlite3_bind_null(st, 4);
    int rc = rl_step_reset(st);
    return rc == SQLITE_DONE ? NN_OK : rl_fail(log, rc, "logging a parameter");
}

nn_status nn_runlog_param(nn_runlog *log, const char *key, const char *value) {
    return write_param(log, key, value, NULL);
}

nn_status nn_runlog_param_num(nn_runlog *log, const char *key, double value) {
    char text[40];
    nn_format_number(value, 0, text, sizeof text); /* 40, 0.001: as people write them */
    return write_param(log, key, text, &value);
}

nn_status nn_runlog_finish(nn_runlog *log, const char *status, const char *error) {
    nn_status s = rl_need_run(log, "finishing the run");
    if (s != NN_OK) return s;
    if (!status || (strcmp(status, "finished") && strcmp(status, "failed") && strcmp(status, "interrupted")))
        return nn_set_error(NN_ERR_ARG, "%s: finish: status '%s' is not finished, failed or interrupted",
                            log->path, status ? status : "(null)");
    char now[32];
    rl_iso_time(rl_now(), now, sizeof now);
    s = rl_begin(log, "finishing the run");
    if (s == NN_OK) s = rl_write_rows(log);
    if (s == NN_OK) {
        sqlite3_stmt *st = rl_prepare(
            log, "UPDATE run SET status = ?, end_time = ?, heartbeat = ?, error = ? WHERE id = ?", "finishing the run");
        if (!st) s = NN_ERR_DB;
        else {
            sqlite3_bind_text(st, 1, status, -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 2, now, -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 3, now, -1, SQLITE_STATIC);
            if (error) sqlite3_bind_text(st, 4, error, -1, SQLITE_TRANSIENT);
            sqlite3_bind_int64(st, 5, log->run);
            int rc = sqlite3_step(st);
            sqlite3_finalize(st);
            if (rc != SQLITE_DONE) s = rl_fail(log, rc, "finishing the run");
        }
    }
    if (s == NN_OK) s = rl_commit(log, "finishing the run");
    if (s != NN_OK) {
        rl_rollback(log);
        rl_forget_key_ids(log);
        return s;
    }
    log->n_rows = 0;
    log->run = 0;
    return NN_OK;
}

/* The deletes of nn_runlog_truncate, inside an open transaction. */
static nn_status truncate_in_txn(nn_runlog *log, int64_t run, int64_t step, int64_t epoch) {
    static const char *const sql[3] = {"DELETE FROM step_metric WHERE run = ?1 AND step > ?2",
                                       "DELETE FROM epoch_metric WHERE run = ?1 AND epoch > ?3",
                                       "DELETE FROM checkpoint WHERE run = ?1 AND (epoch > ?3 OR step > ?2)"};
    for (int i = 0; i < 3; i++) {
        sqlite3_stmt *st = rl_prepare(log, sql[i], "deleting metrics past the checkpoint");
        if (!st) return NN_ERR_DB;
        sqlite3_bind_int64(st, 1, run);
        sqlite3_bind_int64(st, 2, step);
        sqlite3_bind_int64(st, 3, epoch);
        int rc = sqlite3_step(st);
        sqlite3_finalize(st);
        if (rc != SQLITE_DONE) return rl_fail(log, rc, "deleting metrics past the checkpoint");
    }
    return NN_OK;
}

nn_status nn_runlog_truncate(nn_runlog *log, int64_t run_id, int64_t step, int64_t epoch) {
    if (!log) return nn_set_error(NN_ERR_ARG, "run log: truncate: the log is NULL");
    nn_status s = rl_begin(log, "deleting metrics past the checkpoint");
    if (s == NN_OK) s = truncate_in_txn(log, run_id, step, epoch);
    if (s == NN_OK) s = rl_commit(log, "deleting metrics past the checkpoint");
    if (s != NN_OK) rl_rollback(log);
    return s;
}

/* 1 if the run's process may still be writing it: its heartbeat is fresh
 * and, on this host, its process exists. */
static int run_is_alive(nn_runlog *log, int64_t run) {
    sqlite3_stmt *st = rl_prepare(log,
                                  "SELECT (julianday('now') - julianday(heartbeat)) * 86400.0, host, pid, "
                                  "COALESCE((SELECT value FROM setting WHERE key = 'stale_after_s'), 60) "
                                  "FROM run WHERE id = ? AND status = 'running'",
                                  "checking the run");
    if (!st) return 0;
    sqlite3_bind_int64(st, 1, run);
    int alive = 0;
    if (sqlite3_step(st) == SQLITE_ROW) {
        double age = sqlite3_column_double(st, 0), stale = sqlite3_column_double(st, 3);
        char host[128] = "";
        gethostname(host, sizeof host - 1);
        const char *run_host = (const char *)sqlite3_column_text(st, 1);
        pid_t pid = (pid_t)sqlite3_column_int64(st, 2);
        alive = age <= stale;
        if (alive && run_host && strcmp(run_host, host) == 0 && pid > 0 && kill(pid, 0) != 0 && errno == ESRCH)
            alive = 0;
    }
    sqlite3_finalize(st);
    return alive;
}

nn_status nn_runlog_resume(nn_runlog *log, int64_t run_id, int64_t epoch, nn_checkpoint **ckpt) {
    if (!log || !ckpt) return nn_set_error(NN_ERR_ARG, "run log: resume: NULL argument");
    *ckpt = NULL;
    if (log->run)
        return nn_set_error(NN_ERR_STATE, "%s: resume: run %lld is still current; finish it first", log->path,
                            (long long)log->run);
    nn_run_row row;
    nn_status s = nn_runlog_get_run(log, run_id, &row);
    if (s != NN_OK) return s;
    if (strcmp(row.status, "finished") == 0)
        return nn_set_error(NN_ERR_STATE, "%s: resume: run %lld has finished; start a new run from it instead",
                            log->path, (long long)run_id);
    if (run_is_alive(log, run_id))
        return nn_set_error(NN_ERR_STATE, "%s: resume: run %lld is still running in another process (pid alive, "
                                          "heartbeat fresh)",
                            log->path, (long long)run_id);
    nn_checkpoint *c = rl_load_checkpoint(log, run_id, epoch, 1, &s);
    if (!c) return s;
    char now[32];
    rl_iso_time(rl_now(), now, sizeof now);
    s = rl_begin(log, "resuming the run");
    if (s == NN_OK) s = truncate_in_txn(log, run_id, nn_checkpoint_step(c), nn_checkpoint_epoch(c));
    if (s == NN_OK) {
        sqlite3_stmt *st = rl_prepare(log,
                                      "INSERT INTO resume (run, checkpoint, step, epoch, time) VALUES (?,?,?,?,?);",
                                      "resuming the run");
        if (!st) s = NN_ERR_DB;
        else {
            sqlite3_bind_int64(st, 1, run_id);
            sqlite3_bind_int64(st, 2, nn_checkpoint_id(c));
            sqlite3_bind_int64(st, 3, nn_checkpoint_step(c));
            sqlite3_bind_int64(st, 4, nn_checkpoint_epoch(c));
            sqlite3_bind_text(st, 5, now, -1, SQLITE_STATIC);
            int rc = sqlite3_step(st);
            sqlite3_finalize(st);
            if (rc != SQLITE_DONE) s = rl_fail(log, rc, "resuming the run");
        }
    }
    if (s == NN_OK) {
        sqlite3_stmt *st = rl_prepare(log,
                                      "UPDATE run SET status = 'running', end_time = NULL, error = NULL, "
                                      "heartbeat = ?, pid = ? WHERE id = ?",
                                      "resuming the run");
        if (!st) s = NN_ERR_DB;
        else {
            sqlite3_bind_text(st, 1, now, -1, SQLITE_STATIC);
            sqlite3_bind_int64(st, 2, (int64_t)getpid());
            sqlite3_bind_int64(st, 3, run_id);
            int rc = sqlite3_step(st);
            sqlite3_finalize(st);
            if (rc != SQLITE_DONE) s = rl_fail(log, rc, "resuming the run");
        }
    }
    if (s == NN_OK) s = rl_commit(log, "resuming the run");
    if (s != NN_OK) {
        rl_rollback(log);
        nn_checkpoint_free(c);
        return s;
    }
    log->run = run_id;
    log->last_heartbeat = rl_now();
    *ckpt = c;
    return NN_OK;
}
