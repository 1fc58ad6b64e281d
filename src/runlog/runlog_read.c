/* Run log: reading runs, hyperparameters and curves back (the CLI's and
 * the tests' side of the file). */
#include "runlog_internal.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The v_run columns nn_run_row holds, in this order. */
static const char run_columns[] =
    "SELECT id, uuid, name, status, start_time, COALESCE(end_time, ''), duration_s, "
    "COALESCE(epochs, 0), COALESCE(steps, 0), final_loss, best_loss, final_accuracy, "
    "final_val_loss, final_val_accuracy, seed, threads, COALESCE(parent_run_id, 0), "
    "COALESCE(parent_step, 0), version, COALESCE(host, ''), COALESCE(error, ''), pid, "
    "experiment, COALESCE(git_commit, ''), COALESCE(git_dirty, -1) "
    "FROM v_run";

static void copy_text(char *dst, size_t len, sqlite3_stmt *st, int col) {
    const unsigned char *t = sqlite3_column_text(st, col);
    snprintf(dst, len, "%s", t ? (const char *)t : "");
}

static double column_or_nan(sqlite3_stmt *st, int col) {
    return sqlite3_column_type(st, col) == SQLITE_NULL ? NAN : sqlite3_column_double(st, col);
}

/* Steps st to its end, reading each row into a growing array of `size`-byte
 * items with `read`, and finalizes st. On failure the array is freed and
 * the count is 0. `what` names the query in messages. */
static nn_status collect_rows(nn_runlog *log, sqlite3_stmt *st, size_t size, void (*read)(sqlite3_stmt *, void *),
                              const char *what, void **items, int *n) {
    unsigned char *a = NULL;
    int cap = 0, count = 0, rc;
    nn_status s = NN_OK;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (count == cap) {
            cap = cap ? 2 * cap : 16;
            unsigned char *grown = realloc(a, (size_t)cap * size);
            if (!grown) {
                s = nn_set_error(NN_ERR_NOMEM, "%s: out of memory %s", log->path, what);
                break;
            }
            a = grown;
        }
        read(st, a + (size_t)count++ * size);
    }
    if (s == NN_OK && rc != SQLITE_DONE) s = rl_fail(log, rc, what);
    sqlite3_finalize(st);
    if (s != NN_OK) {
        free(a);
        a = NULL;
        count = 0;
    }
    *items = a;
    *n = count;
    return s;
}

/* v_run can only see a stale heartbeat; a run whose process is gone on
 * this very host is interrupted at once (a SIGKILLed trainer cannot say
 * so itself). */
static void refine_status(nn_run_row *row, pid_t pid) {
    if (strcmp(row->status, "running") != 0 || pid <= 0) return;
    char host[128] = "";
    gethostname(host, sizeof host - 1);
    if (strcmp(host, row->host) != 0) return;
    if (kill(pid, 0) != 0 && errno == ESRCH) snprintf(row->status, sizeof row->status, "interrupted");
}

static void read_row(sqlite3_stmt *st, nn_run_row *r) {
    memset(r, 0, sizeof *r);
    r->id = sqlite3_column_int64(st, 0);
    copy_text(r->uuid, sizeof r->uuid, st, 1);
    copy_text(r->name, sizeof r->name, st, 2);
    copy_text(r->status, sizeof r->status, st, 3);
    copy_text(r->start_time, sizeof r->start_time, st, 4);
    copy_text(r->end_time, sizeof r->end_time, st, 5);
    r->duration_s = column_or_nan(st, 6);
    r->epochs = sqlite3_column_int64(st, 7);
    r->steps = sqlite3_column_int64(st, 8);
    r->final_loss = column_or_nan(st, 9);
    r->best_loss = column_or_nan(st, 10);
    r->final_accuracy = column_or_nan(st, 11);
    r->final_val_loss = column_or_nan(st, 12);
    r->final_val_accuracy = column_or_nan(st, 13);
    r->seed = (uint64_t)sqlite3_column_int64(st, 14);
    r->threads = sqlite3_column_int(st, 15);
    r->parent_run_id = sqlite3_column_int64(st, 16);
    r->parent_step = sqlite3_column_int64(st, 17);
    copy_text(r->version, sizeof r->version, st, 18);
    copy_text(r->host, sizeof r->host, st, 19);
    copy_text(r->error, sizeof r->error, st, 20);
    refine_status(r, (pid_t)sqlite3_column_int64(st, 21));
    copy_text(r->experiment, sizeof r->experiment, st, 22);
    copy_text(r->git_commit, sizeof r->git_commit, st, 23);
    r->git_dirty = sqlite3_column_int(st, 24);
}

static void read_run(sqlite3_stmt *st, void *item) { read_row(st, item); }

nn_status nn_runlog_list(nn_runlog *log, nn_run_row **rows, int *n) {
    if (!log || !rows || !n) return nn_set_error(NN_ERR_ARG, "run log: list: NULL argument");
    *rows = NULL;
    *n = 0;
    char sql[sizeof run_columns + 32];
    snprintf(sql, sizeof sql, "%s ORDER BY id", run_columns);
    sqlite3_stmt *st = rl_prepare(log, sql, "listing runs");
    if (!st) return NN_ERR_DB;
    void *items;
    nn_status s = collect_rows(log, st, sizeof(nn_run_row), read_run, "listing runs", &items, n);
    *rows = items;
    return s;
}

nn_status nn_runlog_get_run(nn_runlog *log, int64_t run_id, nn_run_row *row) {
    if (!log || !row) return nn_set_error(NN_ERR_ARG, "run log: get run: NULL argument");
    char sql[sizeof run_columns + 32];
    snprintf(sql, sizeof sql, "%s WHERE id = ?", run_columns);
    sqlite3_stmt *st = rl_prepare(log, sql, "reading a run");
    if (!st) return NN_ERR_DB;
    sqlite3_bind_int64(st, 1, run_id);
    int rc = sqlite3_step(st);
    nn_status s = NN_OK;
    if (rc == SQLITE_ROW) read_row(st, row);
    else if (rc == SQLITE_DONE)
        s = nn_set_error(NN_ERR_ARG, "%s: no run with id %lld", log->path, (long long)run_id);
    else s = rl_fail(log, rc, "reading a run");
    sqlite3_finalize(st);
    return s;
}

/* Runs one query that yields run ids; sets *id to the only one, counts how
 * many there were. */
static nn_status ids_matching(nn_runlog *log, const char *sql, const char *arg, int64_t *id, int *count) {
    sqlite3_stmt *st = rl_prepare(log, sql, "finding a run");
    if (!st) return NN_ERR_DB;
    sqlite3_bind_text(st, 1, arg, -1, SQLITE_TRANSIENT);
    int rc;
    *count = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (*count == 0) *id = sqlite3_column_int64(st, 0);
        (*count)++;
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? NN_OK : rl_fail(log, rc, "finding a run");
}

nn_status nn_runlog_find_run(nn_runlog *log, const char *spec, int64_t *run_id) {
    if (!log || !spec || !run_id) return nn_set_error(NN_ERR_ARG, "run log: find run: NULL argument");
    if (!spec[0]) return nn_set_error(NN_ERR_ARG, "%s: an empty run name", log->path);
    char *end;
    errno = 0;
    long long v = strtoll(spec, &end, 10);
    int count = 0;
    nn_status s;
    if (*end == 0 && errno == 0 && v > 0) {
        s = ids_matching(log, "SELECT id FROM run WHERE id = CAST(?1 AS INTEGER)", spec, run_id, &count);
        if (s != NN_OK || count == 1) return s;
    }
    /* a uuid or its unique prefix (at least 4 characters) */
    if (strlen(spec) >= 4) {
        s = ids_matching(log, "SELECT id FROM run WHERE substr(uuid, 1, length(?1)) = ?1 ORDER BY id", spec,
                         run_id, &count);
        if (s != NN_OK) return s;
        if (count == 1) return NN_OK;
        if (count > 1)
            return nn_set_error(NN_ERR_ARG, "%s: '%s' is the start of %d runs' uuids; give more of it", log->path,
                                spec, count);
    }
    /* a name: its latest run */
    s = ids_matching(log, "SELECT id FROM run WHERE name = ?1 ORDER BY id DESC", spec, run_id, &count);
    if (s != NN_OK) return s;
    if (count >= 1) return NN_OK;
    return nn_set_error(NN_ERR_ARG, "%s: no run '%s' (not an id, uuid or run name)", log->path, spec);
}

char *nn_runlog_graph_text(nn_runlog *log, int64_t run_id) {
    if (!log) {
        nn_set_error(NN_ERR_ARG, "run log: graph text: the log is NULL");
        return NULL;
    }
    sqlite3_stmt *st = rl_prepare(log, "SELECT graph FROM run WHERE id = ?", "reading a run's graph");
    if (!st) return NULL;
    sqlite3_bind_int64(st, 1, run_id);
    int rc = sqlite3_step(st);
    char *text = NULL;
    if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
        text = strdup((const char *)sqlite3_column_text(st, 0));
        if (!text) nn_set_error(NN_ERR_NOMEM, "%s: out of memory", log->path);
    } else if (rc == SQLITE_ROW) {
        nn_set_error(NN_ERR_ARG, "%s: run %lld has no graph recorded", log->path, (long long)run_id);
    } else if (rc == SQLITE_DONE) {
        nn_set_error(NN_ERR_ARG, "%s: no run with id %lld", log->path, (long long)run_id);
    } else {
        rl_fail(log, rc, "reading a run's graph");
    }
    sqlite3_finalize(st);
    return text;
}

static void read_param(sqlite3_stmt *st, void *item) {
    nn_param_kv *kv = item;
    copy_text(kv->key, sizeof kv->key, st, 0);
    copy_text(kv->value, sizeof kv->value, st, 1);
    kv->is_num = sqlite3_column_type(st, 2) != SQLITE_NULL;
    kv->num = kv->is_num ? sqlite3_column_double(st, 2) : NAN;
}

nn_status nn_runlog_params(nn_runlog *log, int64_t run_id, nn_param_kv **out, int *n) {
    if (!log || !out || !n) return nn_set_error(NN_ERR_ARG, "run log: params: NULL argument");
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st =
        rl_prepare(log, "SELECT key, value, num FROM param WHERE run = ? ORDER BY key", "reading parameters");
    if (!st) return NN_ERR_DB;
    sqlite3_bind_int64(st, 1, run_id);
    void *items;
    nn_status s = collect_rows(log, st, sizeof(nn_param_kv), read_param, "reading parameters", &items, n);
    *out = items;
    return s;
}

nn_status nn_runlog_tags(nn_runlog *log, int64_t run_id, nn_param_kv **out, int *n) {
    if (!log || !out || !n) return nn_set_error(NN_ERR_ARG, "run log: tags: NULL argument");
    *out = NULL;
    *n = 0;
    /* NULL num: read_param marks every tag as text */
    sqlite3_stmt *st = rl_prepare(log, "SELECT key, value, NULL FROM tag WHERE run = ? ORDER BY key", "reading tags");
    if (!st) return NN_ERR_DB;
    sqlite3_bind_int64(st, 1, run_id);
    void *items;
    nn_status s = collect_rows(log, st, sizeof(nn_param_kv), read_param, "reading tags", &items, n);
    *out = items;
    return s;
}

static void read_ckpt(sqlite3_stmt *st, void *item) {
    nn_ckpt_row *c = item;
    c->id = sqlite3_column_int64(st, 0);
    c->step = sqlite3_column_int64(st, 1);
    c->epoch = sqlite3_column_int64(st, 2);
    copy_text(c->reason, sizeof c->reason, st, 3);
    copy_text(c->time, sizeof c->time, st, 4);
    c->bytes = sqlite3_column_int64(st, 5);
}

nn_status nn_runlog_checkpoints(nn_runlog *log, int64_t run_id, nn_ckpt_row **out, int *n) {
    if (!log || !out || !n) return nn_set_error(NN_ERR_ARG, "run log: checkpoints: NULL argument");
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st = rl_prepare(log,
                                  "SELECT c.id, c.step, c.epoch, c.reason, c.time, "
                                  "(SELECT COALESCE(SUM(length(t.data)), 0) FROM tensor t "
                                  " WHERE t.checkpoint = c.id AND t.role = 'param') "
                                  "FROM checkpoint c WHERE c.run = ? ORDER BY c.epoch, c.step, c.id",
                                  "listing checkpoints");
    if (!st) return NN_ERR_DB;
    sqlite3_bind_int64(st, 1, run_id);
    void *items;
    nn_status s = collect_rows(log, st, sizeof(nn_ckpt_row), read_ckpt, "listing checkpoints", &items, n);
    *out = items;
    return s;
}

char *nn_runlog_notes(nn_runlog *log, int64_t run_id) {
    if (!log) return nn_set_error(NN_ERR_ARG, "run log: notes: NULL argument"), NULL;
    sqlite3_stmt *st = rl_prepare(log, "SELECT notes FROM run WHERE id = ?", "reading notes");
    if (!st) return NULL;
    sqlite3_bind_int64(st, 1, run_id);
    int rc = sqlite3_step(st);
    char *notes = NULL;
    if (rc == SQLITE_ROW) {
        const unsigned char *t = sqlite3_column_text(st, 0);
        notes = strdup(t ? (const char *)t : "");
        if (!notes) nn_set_error(NN_ERR_NOMEM, "%s: out of memory reading notes", log->path);
    } else if (rc == SQLITE_DONE) {
        nn_set_error(NN_ERR_ARG, "%s: no run with id %lld", log->path, (long long)run_id);
    } else {
        rl_fail(log, rc, "reading notes");
    }
    sqlite3_finalize(st);
    return notes;
}

static void read_point(sqlite3_stmt *st, void *item) {
    nn_metric_point *p = item;
    p->at = sqlite3_column_int64(st, 0);
    /* NULL with is_nan = 0 cannot be written; read it as NaN anyway */
    p->value = sqlite3_column_int(st, 2) || sqlite3_column_type(st, 1) == SQLITE_NULL
                   ? NAN
                   : sqlite3_column_double(st, 1);
    p->wall = sqlite3_column_double(st, 3);
}

nn_status nn_runlog_curve(nn_runlog *log, int64_t run_id, const char *key, const char *split, int per_epoch,
                          nn_metric_point **out, int *n) {
    if (!log || !key || !out || !n) return nn_set_error(NN_ERR_ARG, "run log: curve: NULL argument");
    *out = NULL;
    *n = 0;
    const char *sql = per_epoch ? "SELECT e.epoch, e.value, e.is_nan, e.wall FROM epoch_metric e "
                                  "JOIN metric_key k ON k.id = e.key "
                                  "WHERE e.run = ?1 AND k.name = ?2 AND e.split = ?3 ORDER BY e.epoch"
                                : "SELECT s.step, s.value, s.is_nan, s.wall FROM step_metric s "
                                  "JOIN metric_key k ON k.id = s.key "
                                  "WHERE s.run = ?1 AND k.name = ?2 AND s.split = ?3 ORDER BY s.step";
    sqlite3_stmt *st = rl_prepare(log, sql, "reading a curve");
    if (!st) return NN_ERR_DB;
    sqlite3_bind_int64(st, 1, run_id);
    sqlite3_bind_text(st, 2, key, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, split ? split : "train", -1, SQLITE_TRANSIENT);
    void *items;
    nn_status s = collect_rows(log, st, sizeof(nn_metric_point), read_point, "reading a curve", &items, n);
    *out = items;
    return s;
}

static void read_last(sqlite3_stmt *st, void *item) {
    nn_metric_last *m = item;
    copy_text(m->key, sizeof m->key, st, 0);
    copy_text(m->split, sizeof m->split, st, 1);
    m->per_epoch = sqlite3_column_int(st, 2);
    m->at = sqlite3_column_int64(st, 3);
    m->value = sqlite3_column_int(st, 5) ? NAN : column_or_nan(st, 4);
}

nn_status nn_runlog_last_metrics(nn_runlog *log, int64_t run_id, nn_metric_last **out, int *n) {
    if (!log || !out || !n) return nn_set_error(NN_ERR_ARG, "run log: last metrics: NULL argument");
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st = rl_prepare(log,
                                  "SELECT metric, split, per = 'epoch', at, value, is_nan FROM v_last WHERE run = ? "
                                  "ORDER BY per = 'step', metric, split",
                                  "reading the latest metrics");
    if (!st) return NN_ERR_DB;
    sqlite3_bind_int64(st, 1, run_id);
    void *items;
    nn_status s = collect_rows(log, st, sizeof(nn_metric_last), read_last, "reading the latest metrics", &items, n);
    *out = items;
    return s;
}
