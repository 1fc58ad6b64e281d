/* Run log: the schema, its migrations, opening a file and naming errors. */
#include "runlog_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

const char *const rl_splits[3] = {"train", "val", "test"};

/* v_run's body up to its FROM (version 1's view; version 2 keeps it as
 * v_run_core and adds its own columns on top), shared so the text a
 * version 1 file was made with stays exactly the same. */
#define V_RUN_V1_BODY \
    "SELECT r.id, r.uuid, r.name,\n" \
    "  CASE WHEN r.status = 'running' AND\n" \
    "    (julianday('now') - julianday(r.heartbeat)) * 86400.0 >\n" \
    "      COALESCE((SELECT value FROM setting WHERE key = 'stale_after_s'), 60)\n" \
    "  THEN 'interrupted' ELSE r.status END AS status,\n" \
    "  r.start_time, r.end_time,\n" \
    "  (julianday(COALESCE(r.end_time, r.heartbeat)) - julianday(r.start_time)) * 86400.0\n" \
    "    AS duration_s,\n" \
    /* the train loss's last epoch and step are one primary-key seek each; \
     * a run without a loss falls back to scanning its rows */ \
    "  COALESCE((SELECT MAX(epoch) FROM epoch_metric e WHERE e.run = r.id AND e.split = 'train'\n" \
    "             AND e.key = (SELECT id FROM metric_key WHERE name = 'loss')),\n" \
    "           (SELECT MAX(epoch) FROM epoch_metric e WHERE e.run = r.id)) AS epochs,\n" \
    "  COALESCE((SELECT MAX(step) FROM step_metric s WHERE s.run = r.id AND s.split = 'train'\n" \
    "             AND s.key = (SELECT id FROM metric_key WHERE name = 'loss')),\n" \
    "           (SELECT MAX(step) FROM step_metric s WHERE s.run = r.id)) AS steps,\n" \
    "  (SELECT value FROM epoch_metric e WHERE e.run = r.id AND e.split = 'train'\n" \
    "     AND e.key = (SELECT id FROM metric_key WHERE name = 'loss')\n" \
    "   ORDER BY e.epoch DESC LIMIT 1) AS final_loss,\n" \
    "  (SELECT MIN(value) FROM epoch_metric e WHERE e.run = r.id AND e.split = 'train'\n" \
    "     AND e.key = (SELECT id FROM metric_key WHERE name = 'loss')) AS best_loss,\n" \
    "  (SELECT value FROM epoch_metric e WHERE e.run = r.id AND e.split = 'train'\n" \
    "     AND e.key = (SELECT id FROM metric_key WHERE name = 'accuracy')\n" \
    "   ORDER BY e.epoch DESC LIMIT 1) AS final_accuracy,\n" \
    "  (SELECT value FROM epoch_metric e WHERE e.run = r.id AND e.split = 'val'\n" \
    "     AND e.key = (SELECT id FROM metric_key WHERE name = 'loss')\n" \
    "   ORDER BY e.epoch DESC LIMIT 1) AS final_val_loss,\n" \
    "  (SELECT value FROM epoch_metric e WHERE e.run = r.id AND e.split = 'val'\n" \
    "     AND e.key = (SELECT id FROM metric_key WHERE name = 'accuracy')\n" \
    "   ORDER BY e.epoch DESC LIMIT 1) AS final_val_accuracy,\n" \
    "  (SELECT json_group_object(p.key, CASE WHEN p.num IS NULL THEN p.value ELSE p.num END)\n" \
    "     FROM param p WHERE p.run = r.id) AS params,\n" \
    "  r.seed, r.threads, r.version, r.host, r.pid, r.command_line,\n" \
    "  r.parent_run_id, r.parent_step, r.error\n" \
    "FROM run r;\n"

/*
 * Version 1. Why it looks like this:
 * - STRICT tables so a wrong type is an error, not silently stored.
 * - Metric names are interned (metric_key) so a curve row is a few bytes.
 * - Curves are WITHOUT ROWID tables keyed (run, key, split, step): one
 *   curve is one range scan of the primary key, no separate index.
 * - A bound NaN becomes NULL in SQLite, so NaN is NULL plus is_nan = 1.
 * - Tensor data are ordinary rowid rows: large BLOBs do not belong in a
 *   WITHOUT ROWID b-tree.
 * - The 'interrupted' status of a dead process is computed (v_run) from the
 *   heartbeat, because a process killed with SIGKILL cannot write it.
 */
static const char schema_v1[] =
    "CREATE TABLE run (\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  uuid TEXT NOT NULL UNIQUE,\n"
    "  name TEXT NOT NULL DEFAULT '',\n"
    "  status TEXT NOT NULL DEFAULT 'running'\n"
    "    CHECK (status IN ('running','finished','failed','interrupted')),\n"
    "  start_time TEXT NOT NULL,\n"
    "  end_time TEXT,\n"
    "  heartbeat TEXT NOT NULL,\n"
    "  seed INTEGER,\n"
    "  threads INTEGER,\n"
    "  version TEXT NOT NULL,\n"
    "  host TEXT,\n"
    "  pid INTEGER,\n"
    "  command_line TEXT,\n"
    "  graph TEXT,\n"
    "  parent_run_id INTEGER REFERENCES run(id) ON DELETE SET NULL,\n"
    "  parent_step INTEGER,\n"
    "  error TEXT\n"
    ") STRICT;\n"
    "CREATE INDEX run_name ON run(name);\n"
    "CREATE INDEX run_status ON run(status);\n"
    "CREATE TABLE param (\n"
    "  run INTEGER NOT NULL REFERENCES run(id) ON DELETE CASCADE,\n"
    "  key TEXT NOT NULL,\n"
    "  value TEXT NOT NULL,\n"
    "  num REAL,\n"
    "  PRIMARY KEY (run, key)\n"
    ") STRICT, WITHOUT ROWID;\n"
    "CREATE INDEX param_key ON param(key, num);\n"
    "CREATE TABLE metric_key (\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  name TEXT NOT NULL UNIQUE\n"
    ") STRICT;\n"
    "CREATE TABLE step_metric (\n"
    "  run INTEGER NOT NULL,  -- run(id); see the trigger run_delete\n"
    "  key INTEGER NOT NULL,  -- metric_key(id)\n"
    "  split TEXT NOT NULL,   -- 'train', 'val' or 'test'\n"
    "  step INTEGER NOT NULL,\n"
    "  value REAL,\n"
    "  is_nan INTEGER NOT NULL DEFAULT 0,  -- 1: value is NULL because a NaN was logged\n"
    "  wall REAL NOT NULL,\n"
    "  PRIMARY KEY (run, key, split, step)\n"
    ") STRICT, WITHOUT ROWID;\n"
    "CREATE TABLE epoch_metric (\n"
    "  run INTEGER NOT NULL,  -- run(id)\n"
    "  key INTEGER NOT NULL,  -- metric_key(id)\n"
    "  split TEXT NOT NULL,   -- 'train', 'val' or 'test'\n"
    "  epoch INTEGER NOT NULL,\n"
    "  value REAL,\n"
    "  is_nan INTEGER NOT NULL DEFAULT 0,  -- 1: value is NULL because a NaN was logged\n"
    "  wall REAL NOT NULL,\n"
    "  PRIMARY KEY (run, key, split, epoch)\n"
    ") STRICT, WITHOUT ROWID;\n"
    /* The metric tables take every step: a foreign-key check per row, or
     * a CHECK constraint, doubles the cost of logging (measured), so they
     * refer to run and metric_key without REFERENCES (this trigger does the
     * cascade) and the C writer alone guarantees split and is_nan. */
    "CREATE TRIGGER run_delete AFTER DELETE ON run BEGIN\n"
    "  DELETE FROM step_metric WHERE run = OLD.id;\n"
    "  DELETE FROM epoch_metric WHERE run = OLD.id;\n"
    "END;\n"
    "CREATE TABLE checkpoint (\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  run INTEGER NOT NULL REFERENCES run(id) ON DELETE CASCADE,\n"
    "  step INTEGER NOT NULL,\n"
    "  epoch INTEGER NOT NULL,\n"
    "  reason TEXT NOT NULL CHECK (reason IN ('epoch','best','final','signal','manual')),\n"
    "  time TEXT NOT NULL\n"
    ") STRICT;\n"
    "CREATE INDEX checkpoint_run ON checkpoint(run, epoch, step);\n"
    "CREATE TABLE tensor (\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  checkpoint INTEGER NOT NULL REFERENCES checkpoint(id) ON DELETE CASCADE,\n"
    "  name TEXT NOT NULL,\n"
    "  role TEXT NOT NULL CHECK (role IN ('param','adam_m','adam_v','rng','state')),\n"
    "  dtype TEXT NOT NULL CHECK (dtype IN ('f32','i32','u64')),\n"
    "  shape TEXT NOT NULL,\n"
    "  crc32 INTEGER NOT NULL,\n"
    "  data BLOB NOT NULL,\n"
    "  UNIQUE (checkpoint, name, role)\n"
    ") STRICT;\n"
    "CREATE TABLE resume (\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  run INTEGER NOT NULL REFERENCES run(id) ON DELETE CASCADE,\n"
    "  checkpoint INTEGER REFERENCES checkpoint(id) ON DELETE SET NULL,\n"
    "  step INTEGER NOT NULL,\n"
    "  epoch INTEGER NOT NULL,\n"
    "  time TEXT NOT NULL\n"
    ") STRICT;\n"
    "CREATE INDEX resume_run ON resume(run);\n"
    "CREATE TABLE setting (\n"
    "  key TEXT PRIMARY KEY,\n"
    "  value ANY\n"
    ") STRICT;\n"
    "INSERT INTO setting VALUES ('stale_after_s', 60);\n"
    /* v_run: one row a run */
    "CREATE VIEW v_run AS\n" V_RUN_V1_BODY

    /* v_curve: per-epoch curves with metric names */
    "CREATE VIEW v_curve AS\n"
    "SELECT e.run, k.name AS metric, e.split, e.epoch, e.value, e.is_nan, e.wall\n"
    "FROM epoch_metric e JOIN metric_key k ON k.id = e.key;\n"
    /* v_step: per-step curves with metric names */
    "CREATE VIEW v_step AS\n"
    "SELECT s.run, k.name AS metric, s.split, s.step, s.value, s.is_nan, s.wall\n"
    "FROM step_metric s JOIN metric_key k ON k.id = s.key;\n"
    /* v_last: the latest value of each metric of each run. Each (run,
     * metric, split) is one primary-key seek for its last epoch or step, so
     * reading it does not scan a long run's curve (CROSS JOIN keeps that
     * join order: curves last). */
    "CREATE VIEW v_last AS\n"
    "WITH sp(split) AS (VALUES ('train'), ('val'), ('test'))\n"
    "SELECT r.id AS run, k.name AS metric, sp.split AS split, 'epoch' AS per, e.epoch AS at,\n"
    "  e.value, e.is_nan, e.wall\n"
    "FROM run r CROSS JOIN metric_key k CROSS JOIN sp CROSS JOIN epoch_metric e\n"
    "WHERE e.run = r.id AND e.key = k.id AND e.split = sp.split AND e.epoch =\n"
    "  (SELECT MAX(x.epoch) FROM epoch_metric x WHERE x.run = r.id AND x.key = k.id AND x.split = sp.split)\n"
    "UNION ALL\n"
    "SELECT r.id, k.name, sp.split, 'step', s.step, s.value, s.is_nan, s.wall\n"
    "FROM run r CROSS JOIN metric_key k CROSS JOIN sp CROSS JOIN step_metric s\n"
    "WHERE s.run = r.id AND s.key = k.id AND s.split = sp.split AND s.step =\n"
    "  (SELECT MAX(x.step) FROM step_metric x WHERE x.run = r.id AND x.key = k.id AND x.split = sp.split);\n";

/*
 * Version 2: what MLflow users expect of a run store. An experiment name
 * groups runs; the project's git commit and whether its tree had
 * uncommitted changes say what code ran; notes and tags (key = value,
 * unique per run) are the user's own. Older files get the columns with
 * empty defaults (git unknown: NULL). v_run adds them and the tags as one
 * JSON object.
 */
static const char schema_v2[] =
    "ALTER TABLE run ADD COLUMN experiment TEXT NOT NULL DEFAULT '';\n"
    "ALTER TABLE run ADD COLUMN git_commit TEXT;\n"
    "ALTER TABLE run ADD COLUMN git_dirty INTEGER;\n"
    "ALTER TABLE run ADD COLUMN notes TEXT NOT NULL DEFAULT '';\n"
    "CREATE INDEX run_experiment ON run(experiment);\n"
    "CREATE TABLE tag (\n"
    "  run INTEGER NOT NULL REFERENCES run(id) ON DELETE CASCADE,\n"
    "  key TEXT NOT NULL,\n"
    "  value TEXT NOT NULL,\n"
    "  PRIMARY KEY (run, key)\n"
    ") STRICT, WITHOUT ROWID;\n"
    "DROP VIEW v_run;\n"
    "CREATE VIEW v_run_core AS\n" V_RUN_V1_BODY
    "CREATE VIEW v_run AS\n"
    "SELECT c.*, r.experiment, r.git_commit, r.git_dirty, r.notes,\n"
    "  (SELECT json_group_object(t.key, t.value) FROM tag t WHERE t.run = c.id) AS tags\n"
    "FROM v_run_core c JOIN run r ON r.id = c.id;\n";

const char *const rl_migrations[NN_RUNLOG_SCHEMA_VERSION] = {schema_v1, schema_v2};

double rl_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

void rl_iso_time(double wall, char *buf, size_t len) {
    time_t secs = (time_t)wall;
    int ms = (int)((wall - (double)secs) * 1000.0);
    if (ms > 999) ms = 999;
    if (ms < 0) ms = 0;
    struct tm tm;
    gmtime_r(&secs, &tm);
    char day[24];
    strftime(day, sizeof day, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf, len, "%s.%03dZ", day, ms);
}

nn_status rl_fail(const nn_runlog *log, int rc, const char *doing) {
    const char *path = log && log->path ? log->path : "run log";
    const char *detail = log && log->db ? sqlite3_errmsg(log->db) : sqlite3_errstr(rc);
    switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return nn_set_error(NN_ERR_DB,
                            "%s: database is locked by another connection (still busy after %d ms) "
                            "while %s",
                            path, log ? log->busy_timeout_ms : 0, doing);
    case SQLITE_NOTADB:
        return nn_set_error(NN_ERR_DB, "%s: file is not a database (corrupt, or not an SQLite file) while %s",
                            path, doing);
    case SQLITE_CORRUPT:
        return nn_set_error(NN_ERR_DB, "%s: database is corrupt (%s) while %s", path, detail, doing);
    case SQLITE_READONLY:
        return nn_set_error(NN_ERR_DB, "%s: database is read-only, cannot write while %s", path, doing);
    case SQLITE_FULL:
        return nn_set_error(NN_ERR_DB,
                            "%s: disk full (or the database's size limit reached) while %s; "
                            "nothing of it was written",
                            path, doing);
    case SQLITE_CANTOPEN:
        return nn_set_error(NN_ERR_DB, "%s: cannot open the database file (%s) while %s", path, detail, doing);
    case SQLITE_NOMEM:
        return nn_set_error(NN_ERR_NOMEM, "%s: out of memory while %s", path, doing);
    case SQLITE_IOERR:
        return nn_set_error(NN_ERR_DB, "%s: i/o error (%s) while %s", path, detail, doing);
    case SQLITE_CONSTRAINT:
        return nn_set_error(NN_ERR_ARG, "%s: %s while %s", path, detail, doing);
    default:
        return nn_set_error(NN_ERR_DB, "%s: sqlite error %d (%s) while %s", path, rc, detail, doing);
    }
}

nn_status rl_exec(nn_runlog *log, const char *sql, const char *doing) {
    int rc = sqlite3_exec(log->db, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? NN_OK : rl_fail(log, rc, doing);
}

/* BEGIN and COMMIT run several hundred times a second in a fit of small
 * epochs: kept prepared like the flush's other statements. */
nn_status rl_begin(nn_runlog *log, const char *doing) {
    sqlite3_stmt *st = rl_stmt(log, RL_ST_BEGIN, "BEGIN IMMEDIATE", doing);
    if (!st) return NN_ERR_DB;
    int rc = rl_step_reset(st);
    return rc == SQLITE_DONE ? NN_OK : rl_fail(log, rc, doing);
}

nn_status rl_commit(nn_runlog *log, const char *doing) {
    sqlite3_stmt *st = rl_stmt(log, RL_ST_COMMIT, "COMMIT", doing);
    nn_status s = NN_ERR_DB;
    if (st) {
        int rc = rl_step_reset(st);
        s = rc == SQLITE_DONE ? NN_OK : rl_fail(log, rc, doing);
    }
    if (s != NN_OK) rl_rollback(log);
    return s;
}

void rl_rollback(nn_runlog *log) {
    if (!sqlite3_get_autocommit(log->db)) sqlite3_exec(log->db, "ROLLBACK", NULL, NULL, NULL);
}

sqlite3_stmt *rl_prepare(nn_runlog *log, const char *sql, const char *doing) {
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(log->db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK) {
        rl_fail(log, rc, doing);
        return NULL;
    }
    return st;
}

/* Reads one integer (a pragma or a count). */
static nn_status query_int(nn_runlog *log, const char *sql, int64_t *out, const char *doing) {
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(log->db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK) return rl_fail(log, rc, doing);
    rc = sqlite3_step(st);
    *out = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return rl_fail(log, rc, doing);
    return NN_OK;
}

/* The directory part of a path must exist before SQLite is asked to create
 * a file in it: SQLite's own message ("unable to open database file") does
 * not say which part is missing. */
static nn_status check_directory(const char *path) {
    const char *slash = strrchr(path, '/');
    if (!slash || slash == path) return NN_OK;
    size_t n = (size_t)(slash - path);
    char *dir = malloc(n + 1);
    if (!dir) return nn_set_error(NN_ERR_NOMEM, "out of memory");
    memcpy(dir, path, n);
    dir[n] = 0;
    struct stat sb;
    nn_status s = NN_OK;
    if (stat(dir, &sb) != 0)
        s = nn_set_error(NN_ERR_DB, "%s: cannot create the run log: directory '%s' does not exist", path, dir);
    else if (!S_ISDIR(sb.st_mode))
        s = nn_set_error(NN_ERR_DB, "%s: cannot create the run log: '%s' is not a directory", path, dir);
    free(dir);
    return s;
}

/* Brings the file from `from` to the current schema version, in one
 * transaction with the application_id, so a crash leaves either the old
 * schema or the new one. */
static nn_status migrate(nn_runlog *log) {
    nn_status s = rl_begin(log, "migrating the schema");
    if (s != NN_OK) return s;
    int64_t version = 0, app = 0;
    /* another process may have migrated it while we waited for the lock */
    s = query_int(log, "PRAGMA user_version", &version, "migrating the schema");
    if (s == NN_OK) s = query_int(log, "PRAGMA application_id", &app, "migrating the schema");
    if (s == NN_OK && app != 0 && app != NN_RUNLOG_APPLICATION_ID)
        s = nn_set_error(NN_ERR_DB, "%s: not an nngraph run log (application_id 0x%08llx)", log->path,
                         (unsigned long long)app);
    for (int64_t v = version; s == NN_OK && v < NN_RUNLOG_SCHEMA_VERSION; v++) {
        char doing[64];
        snprintf(doing, sizeof doing, "migrating the schema to version %lld", (long long)v + 1);
        s = rl_exec(log, rl_migrations[v], doing);
    }
    if (s == NN_OK && version < NN_RUNLOG_SCHEMA_VERSION) {
        char sql[96];
        snprintf(sql, sizeof sql, "PRAGMA application_id = %d; PRAGMA user_version = %d",
                 NN_RUNLOG_APPLICATION_ID, NN_RUNLOG_SCHEMA_VERSION);
        s = rl_exec(log, sql, "setting the schema version");
    }
    if (s != NN_OK) {
        rl_rollback(log);
        return s;
    }
    return rl_commit(log, "migrating the schema");
}

/* A reader in a directory it cannot write cannot make the WAL index
 * (-shm) SQLite reads a WAL database through, so even `sqlite3 -readonly`
 * fails there. When no -wal file holds commits beyond the main file, the
 * main file is the whole log: it is opened as immutable (no locks, no
 * index). NULL (open normally) otherwise; else the URI, to free(). */
static char *immutable_uri(const char *path) {
    const char *slash = strrchr(path, '/');
    char dir[4096];
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else
        snprintf(dir, sizeof dir, "%.*s", slash == path ? 1 : (int)(slash - path), path);
    if (access(dir, W_OK) == 0) return NULL;
    char wal[4096];
    struct stat sb;
    snprintf(wal, sizeof wal, "%s-wal", path);
    if (stat(wal, &sb) == 0 && sb.st_size > 0) return NULL;
    size_t n = strlen(path);
    char *uri = malloc(3 * n + 32);
    if (!uri) return NULL;
    size_t at = (size_t)sprintf(uri, "file:");
    for (const unsigned char *p = (const unsigned char *)path; *p; p++)
        at += (size_t)(*p == '?' || *p == '#' || *p == '%' || *p < 0x21 ? sprintf(uri + at, "%%%02X", *p)
                                                                         : sprintf(uri + at, "%c", *p));
    sprintf(uri + at, "?immutable=1");
    return uri;
}

nn_status rl_open_db(nn_runlog *log) {
    int readonly = (log->flags & NN_RUNLOG_READONLY) != 0;
    struct stat sb;
    int exists = stat(log->path, &sb) == 0;
    if (!exists) {
        if (readonly) return nn_set_error(NN_ERR_DB, "%s: no such run log (file does not exist)", log->path);
        nn_status s = check_directory(log->path);
        if (s != NN_OK) return s;
    } else if (S_ISDIR(sb.st_mode)) {
        return nn_set_error(NN_ERR_DB, "%s: is a directory, not a run log", log->path);
    }
    int oflags = readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    char *uri = readonly ? immutable_uri(log->path) : NULL;
    int rc = sqlite3_open_v2(uri ? uri : log->path, &log->db, oflags | (uri ? SQLITE_OPEN_URI : 0), NULL);
    free(uri);
    if (rc != SQLITE_OK) return rl_fail(log, rc, "opening");
    sqlite3_extended_result_codes(log->db, 1);
    sqlite3_busy_timeout(log->db, log->busy_timeout_ms);
    if (!readonly && sqlite3_db_readonly(log->db, "main") == 1)
        return nn_set_error(NN_ERR_DB,
                            "%s: database is read-only (no write permission); open it with "
                            "NN_RUNLOG_READONLY to read it",
                            log->path);

    /* The first read: an unreadable file fails here ("file is not a database"). */
    int64_t app = 0, version = 0, objects = 0;
    nn_status s = query_int(log, "PRAGMA application_id", &app, "reading the header");
    if (s == NN_OK) s = query_int(log, "PRAGMA user_version", &version, "reading the header");
    if (s == NN_OK) s = query_int(log, "SELECT count(*) FROM sqlite_schema", &objects, "reading the schema");
    if (s != NN_OK) return s;
    if (app != 0 && app != NN_RUNLOG_APPLICATION_ID)
        return nn_set_error(NN_ERR_DB, "%s: not an nngraph run log (application_id 0x%08llx, want 0x%08x)",
                            log->path, (unsigned long long)app, NN_RUNLOG_APPLICATION_ID);
    if (app == 0 && objects > 0)
        return nn_set_error(NN_ERR_DB,
                            "%s: not an nngraph run log (an SQLite database of %lld objects without "
                            "nngraph's application_id)",
                            log->path, (long long)objects);
    if (version > NN_RUNLOG_SCHEMA_VERSION)
        return nn_set_error(NN_ERR_DB,
                            "%s: run log schema version %lld is newer than this nngraph's (%d); "
                            "upgrade nngraph",
                            log->path, (long long)version, NN_RUNLOG_SCHEMA_VERSION);
    if (readonly) {
        if (version < NN_RUNLOG_SCHEMA_VERSION)
            return nn_set_error(NN_ERR_DB,
                                "%s: run log schema version %lld needs a migration to %d; open it "
                                "writable once",
                                log->path, (long long)version, NN_RUNLOG_SCHEMA_VERSION);
        return rl_exec(log, "PRAGMA foreign_keys = ON", "setting pragmas");
    }

    /* WAL: readers never block the writer and a killed writer leaves the
     * file consistent. journal_mode answers with the mode it got. */
    sqlite3_stmt *st = rl_prepare(log, "PRAGMA journal_mode = WAL", "switching to WAL mode");
    if (!st) return NN_ERR_DB;
    rc = sqlite3_step(st);
    int wal = rc == SQLITE_ROW && sqlite3_column_text(st, 0) &&
              strcmp((const char *)sqlite3_column_text(st, 0), "wal") == 0;
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW) return rl_fail(log, rc, "switching to WAL mode");
    if (!wal) return nn_set_error(NN_ERR_DB, "%s: cannot switch the run log to WAL mode", log->path);
    s = rl_exec(log,
                (log->flags & NN_RUNLOG_DURABLE) ? "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON"
                                                 : "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON",
                "setting pragmas");
    if (s != NN_OK) return s;
    if (version < NN_RUNLOG_SCHEMA_VERSION) return migrate(log);
    return NN_OK;
}

sqlite3 *rl_sqlite(nn_runlog *log) { return log ? log->db : NULL; }
