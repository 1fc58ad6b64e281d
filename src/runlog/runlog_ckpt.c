/* Run log: checkpoints (tensors as little-endian BLOBs with a CRC-32) and
 * loading them back, into a graph or from a weight file. */
#include "runlog_internal.h"
#include "runlog_tensor.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

static const char *const role_names[] = {"param", "adam_m", "adam_v", "rng", "state"};

const char *nn_ckpt_role_name(nn_ckpt_role r) {
    return (unsigned)r < 5 ? role_names[r] : "unknown";
}

int nn_ckpt_role_from_name(const char *name) {
    for (int i = 0; name && i < 5; i++)
        if (strcmp(name, role_names[i]) == 0) return i;
    return -1;
}

static int valid_reason(const char *r) {
    static const char *const ok[] = {"epoch", "best", "final", "signal", "manual"};
    for (int i = 0; r && i < 5; i++)
        if (strcmp(r, ok[i]) == 0) return 1;
    return 0;
}

/* One item as the bytes stored: dtype, shape, little-endian data. */
static nn_status item_bytes(const nn_runlog *log, const nn_ckpt_item *it, rl_blob *b) {
    if (!it->name || !it->name[0])
        return nn_set_error(NN_ERR_ARG, "%s: checkpoint: a tensor has no name", log->path);
    if ((unsigned)it->role > NN_ROLE_STATE)
        return nn_set_error(NN_ERR_ARG, "%s: checkpoint: tensor '%s' has an unknown role %d", log->path, it->name,
                            (int)it->role);
    if (it->role == NN_ROLE_RNG) {
        if (!it->rng)
            return nn_set_error(NN_ERR_ARG, "%s: checkpoint: rng item '%s' has no generator", log->path, it->name);
        return rl_blob_from_rng(it->rng, b);
    }
    if (!it->tensor)
        return nn_set_error(NN_ERR_ARG, "%s: checkpoint: tensor '%s' (%s) is NULL", log->path, it->name,
                            nn_ckpt_role_name(it->role));
    return rl_blob_from_tensor(it->tensor, b);
}

nn_status nn_runlog_checkpoint(nn_runlog *log, int64_t step, int64_t epoch, const char *reason,
                               const nn_ckpt_item *items, int n, int64_t *ckpt_id) {
    if (!log) return nn_set_error(NN_ERR_ARG, "run log: checkpoint: the log is NULL");
    if (!log->run) return nn_set_error(NN_ERR_STATE, "%s: checkpoint: no run started", log->path);
    if (!valid_reason(reason))
        return nn_set_error(NN_ERR_ARG, "%s: checkpoint: reason '%s' is not epoch, best, final, signal or manual",
                            log->path, reason ? reason : "(null)");
    if (n < 0 || (n > 0 && !items))
        return nn_set_error(NN_ERR_ARG, "%s: checkpoint: bad tensor list", log->path);
    char now[32];
    rl_iso_time(rl_now(), now, sizeof now);
    const char *doing = "writing a checkpoint";
    nn_status s = rl_begin(log, doing);
    /* the metrics logged up to here belong before the checkpoint */
    if (s == NN_OK) s = rl_write_rows(log);
    int64_t id = 0;
    if (s == NN_OK) {
        sqlite3_stmt *st = rl_stmt(log, RL_ST_CHECKPOINT,
                                   "INSERT INTO checkpoint (run, step, epoch, reason, time) VALUES (?,?,?,?,?)", doing);
        if (!st) s = NN_ERR_DB;
        else {
            sqlite3_bind_int64(st, 1, log->run);
            sqlite3_bind_int64(st, 2, step);
            sqlite3_bind_int64(st, 3, epoch);
            sqlite3_bind_text(st, 4, reason, -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 5, now, -1, SQLITE_STATIC);
            int rc = rl_step_reset(st);
            if (rc != SQLITE_DONE) s = rl_fail(log, rc, doing);
            id = sqlite3_last_insert_rowid(log->db);
        }
    }
    sqlite3_stmt *ins = NULL;
    if (s == NN_OK && !(ins = rl_stmt(log, RL_ST_TENSOR,
                                      "INSERT INTO tensor (checkpoint, name, role, dtype, shape, crc32, data) "
                                      "VALUES (?,?,?,?,?,?,?)",
                                      doing)))
        s = NN_ERR_DB;
    for (int i = 0; i < n && s == NN_OK; i++) {
        rl_blob b = {0};
        s = item_bytes(log, &items[i], &b);
        if (s != NN_OK) break;
        sqlite3_bind_int64(ins, 1, id);
        sqlite3_bind_text(ins, 2, items[i].name, -1, SQLITE_STATIC);
        sqlite3_bind_text(ins, 3, nn_ckpt_role_name(items[i].role), -1, SQLITE_STATIC);
        sqlite3_bind_text(ins, 4, rl_dtype_names[b.dtype], -1, SQLITE_STATIC);
        char shape[128];
        rl_shape_text(b.rank, b.dim, shape, sizeof shape);
        sqlite3_bind_text(ins, 5, shape, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(ins, 6, (int64_t)b.crc);
        sqlite3_bind_blob64(ins, 7, b.bytes, b.nbytes, SQLITE_STATIC);
        int rc = rl_step_reset(ins);
        if (rc != SQLITE_DONE) {
            if ((rc & 0xff) == SQLITE_CONSTRAINT)
                s = nn_set_error(NN_ERR_ARG, "%s: checkpoint: tensor '%s' (%s) appears twice", log->path,
                                 items[i].name, nn_ckpt_role_name(items[i].role));
            else
                s = rl_fail(log, rc, doing);
        }
        rl_blob_free(&b);
    }
    if (s == NN_OK) s = rl_write_heartbeat(log);
    if (s == NN_OK) s = rl_commit(log, doing);
    if (s != NN_OK) {
        rl_rollback(log);
        rl_forget_key_ids(log);
        return s;
    }
    log->n_rows = 0;
    if (ckpt_id) *ckpt_id = id;
    return NN_OK;
}

/* Reads the tensors of checkpoint c->id into c. */
static nn_status load_tensors(nn_runlog *log, nn_checkpoint *c) {
    const char *doing = "reading a checkpoint";
    sqlite3_stmt *st = rl_prepare(
        log, "SELECT name, role, dtype, shape, crc32, data FROM tensor WHERE checkpoint = ? ORDER BY id", doing);
    if (!st) return NN_ERR_DB;
    sqlite3_bind_int64(st, 1, c->id);
    nn_status s = NN_OK;
    int rc;
    while (s == NN_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(st, 0);
        const char *role = (const char *)sqlite3_column_text(st, 1);
        const char *dtype = (const char *)sqlite3_column_text(st, 2);
        const char *shape = (const char *)sqlite3_column_text(st, 3);
        uint32_t crc = (uint32_t)sqlite3_column_int64(st, 4);
        const void *data = sqlite3_column_blob(st, 5);
        size_t nbytes = (size_t)sqlite3_column_bytes(st, 5);
        char where[256];
        snprintf(where, sizeof where, "%s: checkpoint %lld (run %lld, epoch %lld), tensor '%s'", log->path,
                 (long long)c->id, (long long)c->run, (long long)c->epoch, name ? name : "?");
        rl_blob b = {0};
        b.dtype = rl_dtype_from_name(dtype);
        int r = nn_ckpt_role_from_name(role);
        if (r < 0 || b.dtype < 0)
            s = nn_set_error(NN_ERR_DB, "%s: unknown role '%s' or dtype '%s'", where, role ? role : "",
                             dtype ? dtype : "");
        else if (rl_shape_parse(shape, &b.rank, b.dim) != 0)
            s = nn_set_error(NN_ERR_DB, "%s: bad shape '%s'", where, shape ? shape : "");
        if (s != NN_OK) break;
        b.bytes = (unsigned char *)data;
        b.nbytes = nbytes;
        b.crc = crc;
        s = rl_ckpt_add(c, name, (nn_ckpt_role)r, &b, where);
    }
    if (s == NN_OK && rc != SQLITE_DONE) s = rl_fail(log, rc, doing);
    sqlite3_finalize(st);
    return s;
}

nn_checkpoint *rl_load_checkpoint(nn_runlog *log, int64_t run_id, int64_t epoch, int resumable, nn_status *status) {
    nn_status dummy;
    if (!status) status = &dummy;
    if (!log) {
        *status = nn_set_error(NN_ERR_ARG, "run log: load checkpoint: the log is NULL");
        return NULL;
    }
    const char *doing = "reading a checkpoint";
    nn_run_row row;
    if ((*status = nn_runlog_get_run(log, run_id, &row)) != NN_OK) return NULL;
    sqlite3_stmt *st = rl_prepare(log,
                                  "SELECT id, step, epoch, reason FROM checkpoint WHERE run = ?1 "
                                  "AND (?2 < 0 OR epoch = ?2) AND (?3 = 0 OR reason <> 'signal') "
                                  "ORDER BY step DESC, id DESC LIMIT 1",
                                  doing);
    if (!st) {
        *status = NN_ERR_DB;
        return NULL;
    }
    sqlite3_bind_int64(st, 1, run_id);
    sqlite3_bind_int64(st, 2, epoch);
    sqlite3_bind_int(st, 3, resumable);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        if (rc == SQLITE_DONE && epoch >= 0)
            *status = nn_set_error(NN_ERR_ARG, "%s: run %lld has no checkpoint at epoch %lld", log->path,
                                   (long long)run_id, (long long)epoch);
        else if (rc == SQLITE_DONE)
            *status = nn_set_error(NN_ERR_ARG, "%s: run %lld has no checkpoint%s", log->path, (long long)run_id,
                                   resumable ? " to resume from (only epoch-end ones are)" : "");
        else
            *status = rl_fail(log, rc, doing);
        sqlite3_finalize(st);
        return NULL;
    }
    nn_checkpoint *c = rl_ckpt_new();
    if (!c) {
        sqlite3_finalize(st);
        *status = nn_set_error(NN_ERR_NOMEM, "%s: out of memory reading a checkpoint", log->path);
        return NULL;
    }
    c->id = sqlite3_column_int64(st, 0);
    c->run = run_id;
    c->step = sqlite3_column_int64(st, 1);
    c->epoch = sqlite3_column_int64(st, 2);
    snprintf(c->reason, sizeof c->reason, "%s", (const char *)sqlite3_column_text(st, 3));
    sqlite3_finalize(st);
    /* read the tensors in one read transaction so they match the row */
    *status = rl_exec(log, "BEGIN", doing);
    if (*status == NN_OK) {
        *status = load_tensors(log, c);
        rl_rollback(log);
    }
    if (*status != NN_OK) {
        nn_checkpoint_free(c);
        return NULL;
    }
    return c;
}

nn_checkpoint *nn_runlog_load_checkpoint(nn_runlog *log, int64_t run_id, int64_t epoch) {
    return rl_load_checkpoint(log, run_id, epoch, 0, NULL);
}
