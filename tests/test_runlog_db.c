/* Run log: bad databases give clear errors, never a crash, never a
 * half-written run shown as finished. */
#include "nngraph.h"
#include "runlog_util.h"
#include "testutil.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <sys/stat.h>

/* The handle's connection (src/runlog_internal.h), to set max_page_count. */
sqlite3 *rl_sqlite(nn_runlog *log);

/* A run log with one finished run holding a 64 KB checkpoint. */
static void make_log(const char *db) {
    nn_runlog *log = nn_runlog_open(db, 0);
    cr_assert_not_null(log, "%s", nn_last_error());
    cr_assert_eq(nn_runlog_start(log, &(nn_run_info){.name = "ok"}, NULL), NN_OK);
    nn_tensor *w = nn_tensor_new(NN_F32, NN_SHAPE(128, 128));
    for (int i = 0; i < 128 * 128; i++) nn_tensor_f32(w)[i] = (float)i;
    nn_ckpt_item it = {"L1/W", NN_ROLE_PARAM, w, NULL};
    for (int s = 1; s <= 100; s++) nn_runlog_step_metric(log, "loss", NULL, s, 1.0 / s);
    nn_runlog_epoch_metric(log, "loss", NULL, 1, 0.5);
    cr_assert_eq(nn_runlog_checkpoint(log, 100, 1, "epoch", &it, 1, NULL), NN_OK);
    cr_assert_eq(nn_runlog_finish(log, "finished", NULL), NN_OK);
    nn_runlog_close(log);
    nn_tensor_free(w);
}

Test(runlog_db, missing_file_and_directory) {
    char dir[64], db[96], path[160];
    rlt_tmpdir(dir, db, "none.db");
    cr_assert_null(nn_runlog_open(db, NN_RUNLOG_READONLY));
    cr_assert(strstr(nn_last_error(), "none.db: no such run log"), "%s", nn_last_error());
    snprintf(path, sizeof path, "%s/nodir/x.db", dir);
    cr_assert_null(nn_runlog_open(path, 0));
    cr_assert(strstr(nn_last_error(), "directory") && strstr(nn_last_error(), "nodir' does not exist"), "%s",
              nn_last_error());
    cr_assert_null(nn_runlog_open(dir, 0));
    cr_assert(strstr(nn_last_error(), "is a directory"), "%s", nn_last_error());
    cr_assert_null(nn_runlog_open("", 0));
    cr_assert_null(nn_runlog_open(NULL, 0));
    cr_assert(strstr(nn_last_error(), "no database path"));
    cr_assert_eq(access(db, F_OK), -1, "a read-only open creates nothing");
    rlt_rmdir(dir);
}

Test(runlog_db, locked_by_another_writer) {
    char dir[64], db[96];
    rlt_tmpdir(dir, db, "l.db");
    make_log(db);
    sqlite3 *other = NULL;
    cr_assert_eq(sqlite3_open(db, &other), SQLITE_OK);
    cr_assert_eq(sqlite3_exec(other, "BEGIN IMMEDIATE; INSERT INTO metric_key (name) VALUES ('x')", NULL, NULL, NULL),
                 SQLITE_OK);
    nn_runlog_opts o = {.busy_timeout_ms = 150};
    nn_runlog *log = nn_runlog_open_opts(db, &o);
    cr_assert_not_null(log, "%s", nn_last_error()); /* WAL: reading still works */
    nn_run_row *rows;
    int n;
    cr_assert_eq(nn_runlog_list(log, &rows, &n), NN_OK);
    cr_assert_eq(n, 1);
    free(rows);
    cr_assert_eq(nn_runlog_start(log, NULL, NULL), NN_ERR_DB);
    cr_assert(strstr(nn_last_error(), "l.db: database is locked by another connection (still busy after 150 ms)"),
              "%s", nn_last_error());
    cr_assert_eq(nn_runlog_current(log), 0);
    /* once the other writer commits, the same handle works */
    cr_assert_eq(sqlite3_exec(other, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    cr_assert_eq(nn_runlog_start(log, NULL, NULL), NN_OK, "%s", nn_last_error());
    nn_runlog_step_metric(log, "loss", NULL, 1, 1.0);
    /* locked during a flush: the buffer is kept and written on the next try */
    cr_assert_eq(sqlite3_exec(other, "BEGIN IMMEDIATE; DELETE FROM metric_key WHERE name = 'x'", NULL, NULL, NULL),
                 SQLITE_OK);
    cr_assert_eq(nn_runlog_flush(log), NN_ERR_DB);
    cr_assert(strstr(nn_last_error(), "locked"));
    cr_assert_eq(sqlite3_exec(other, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    cr_assert_eq(nn_runlog_flush(log), NN_OK, "%s", nn_last_error());
    cr_assert_eq(rlt_int(db, "SELECT count(*) FROM step_metric WHERE run = 2"), 1);
    cr_assert_eq(nn_runlog_finish(log, "finished", NULL), NN_OK);
    nn_runlog_close(log);
    sqlite3_close(other);
    rlt_rmdir(dir);
}

Test(runlog_db, corrupt_files) {
    char dir[64], db[96];
    rlt_tmpdir(dir, db, "c.db");
    /* not SQLite at all */
    char junk[8192];
    for (size_t i = 0; i < sizeof junk; i++) junk[i] = (char)("this is not a database "[i % 23]);
    tu_write_file(db, junk, sizeof junk);
    cr_assert_null(nn_runlog_open(db, 0));
    cr_assert(strstr(nn_last_error(), "c.db: file is not a database"), "%s", nn_last_error());
    cr_assert_null(nn_runlog_open(db, NN_RUNLOG_READONLY));
    cr_assert(strstr(nn_last_error(), "not a database"), "%s", nn_last_error());
    /* an empty file is a new database: fine */
    unlink(db);
    tu_write_file(db, "", 0);
    nn_runlog *log = nn_runlog_open(db, 0);
    cr_assert_not_null(log, "%s", nn_last_error());
    nn_runlog_close(log);
    /* a real run log whose pages were overwritten (after a checkpoint of
     * the WAL into the main file) */
    unlink(db);
    make_log(db);
    cr_assert_eq(rlt_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)"), SQLITE_OK);
    int fd = open(db, O_WRONLY);
    cr_assert_geq(fd, 0);
    struct stat sb;
    fstat(fd, &sb);
    memset(junk, 0x5a, sizeof junk);
    for (off_t off = 4096; off + 4096 <= sb.st_size; off += 8192) cr_assert_eq(pwrite(fd, junk, 4096, off), 4096);
    close(fd);
    log = nn_runlog_open(db, 0);
    nn_status s = NN_ERR_DB;
    if (log) {
        nn_run_row *rows = NULL;
        int n = 0;
        s = nn_runlog_list(log, &rows, &n);
        free(rows);
        if (s == NN_OK) {
            nn_checkpoint *c = nn_runlog_load_checkpoint(log, 1, -1);
            s = c ? NN_OK : NN_ERR_DB;
            nn_checkpoint_free(c);
        }
        nn_runlog_close(log);
    }
    cr_assert_neq(s, NN_OK, "a corrupt file must be reported");
    cr_assert(strstr(nn_last_error(), "corrupt") || strstr(nn_last_error(), "not a database"), "%s",
              nn_last_error());
    rlt_rmdir(dir);
}

Test(runlog_db, tensor_crc_mismatch) {
    char dir[64], db[96];
    rlt_tmpdir(dir, db, "t.db");
    make_log(db);
    /* flip one byte of the stored data, keeping the stored CRC */
    cr_assert_eq(rlt_exec(db, "UPDATE tensor SET data = CAST(x'01000000' || substr(data, 5) AS BLOB)"), SQLITE_OK);
    nn_runlog *log = nn_runlog_open(db, 0);
    cr_assert_null(nn_runlog_load_checkpoint(log, 1, -1));
    cr_assert(strstr(nn_last_error(), "tensor 'L1/W': CRC-32 mismatch"), "%s", nn_last_error());
    cr_assert_null(nn_runlog_load_checkpoint(log, 1, 5));
    cr_assert(strstr(nn_last_error(), "run 1 has no checkpoint at epoch 5"), "%s", nn_last_error());
    cr_assert_null(nn_runlog_load_checkpoint(log, 9, -1));
    cr_assert(strstr(nn_last_error(), "no run with id 9"), "%s", nn_last_error());
    /* a wrong byte count is caught before the CRC */
    cr_assert_eq(rlt_exec(db, "UPDATE tensor SET data = substr(data, 5)"), SQLITE_OK);
    cr_assert_null(nn_runlog_load_checkpoint(log, 1, -1));
    cr_assert(strstr(nn_last_error(), "65532 bytes of data"), "%s", nn_last_error());
    nn_runlog_close(log);
    rlt_rmdir(dir);
}

Test(runlog_db, read_only) {
    char dir[64], db[96];
    rlt_tmpdir(dir, db, "ro.db");
    make_log(db);
    nn_runlog *log = nn_runlog_open(db, NN_RUNLOG_READONLY);
    cr_assert_not_null(log, "%s", nn_last_error());
    cr_assert_eq(nn_runlog_start(log, NULL, NULL), NN_ERR_DB);
    cr_assert(strstr(nn_last_error(), "ro.db: database is read-only"), "%s", nn_last_error());
    nn_run_row row;
    cr_assert_eq(nn_runlog_get_run(log, 1, &row), NN_OK);
    cr_assert_str_eq(row.status, "finished");
    nn_runlog_close(log);
    /* a file without write permission (root ignores permissions) */
    if (geteuid() != 0) {
        chmod(db, 0444);
        cr_assert_null(nn_runlog_open(db, 0));
        cr_assert(strstr(nn_last_error(), "read-only"), "%s", nn_last_error());
    }
    rlt_rmdir(dir);
}

Test(runlog_db, foreign_and_newer_databases) {
    char dir[64], db[96];
    rlt_tmpdir(dir, db, "f.db");
    cr_assert_eq(rlt_exec(db, "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)"), SQLITE_OK);
    cr_assert_null(nn_runlog_open(db, 0));
    cr_assert(strstr(nn_last_error(), "f.db: not an nngraph run log"), "%s", nn_last_error());
    cr_assert_eq(rlt_int(db, "SELECT count(*) FROM sqlite_schema"), 1, "the foreign file is left alone");
    unlink(db);
    cr_assert_eq(rlt_exec(db, "PRAGMA application_id = 305419896"), SQLITE_OK);
    cr_assert_null(nn_runlog_open(db, 0));
    cr_assert(strstr(nn_last_error(), "application_id 0x12345678"), "%s", nn_last_error());
    unlink(db);
    /* ours, but from a newer nngraph */
    make_log(db);
    cr_assert_eq(rlt_exec(db, "PRAGMA user_version = 99"), SQLITE_OK);
    cr_assert_null(nn_runlog_open(db, 0));
    cr_assert(strstr(nn_last_error(), "schema version 99 is newer"), "%s", nn_last_error());
    rlt_rmdir(dir);
}

Test(runlog_db, migrates_an_empty_file_once) {
    char dir[64], db[96];
    rlt_tmpdir(dir, db, "m.db");
    /* an SQLite file with nothing in it yet (user_version 0) is ours to set up */
    cr_assert_eq(rlt_exec(db, "PRAGMA user_version = 0"), SQLITE_OK);
    nn_runlog *a = nn_runlog_open(db, 0), *b = nn_runlog_open(db, 0);
    cr_assert(a && b, "%s", nn_last_error());
    cr_assert_eq(rlt_int(db, "PRAGMA user_version"), NN_RUNLOG_SCHEMA_VERSION);
    cr_assert_eq(rlt_int(db, "SELECT count(*) FROM sqlite_schema WHERE name = 'run'"), 1);
    nn_runlog_close(a);
    nn_runlog_close(b);
    rlt_rmdir(dir);
}

Test(runlog_db, disk_full_never_half_written) {
    char dir[64], db[96];
    rlt_tmpdir(dir, db, "full.db");
    nn_runlog *log = nn_runlog_open(db, 0);
    cr_assert_not_null(log);
    cr_assert_eq(nn_runlog_start(log, &(nn_run_info){.name = "full"}, NULL), NN_OK);
    /* no room to grow: the database may not get a single page more */
    cr_assert_eq(sqlite3_exec(rl_sqlite(log), "PRAGMA max_page_count = 1", NULL, NULL, NULL), SQLITE_OK);
    nn_tensor *w = nn_tensor_new(NN_F32, NN_SHAPE(256, 256));
    nn_ckpt_item it = {"W", NN_ROLE_PARAM, w, NULL};
    for (int s = 1; s <= 2000; s++) nn_runlog_step_metric(log, "loss", NULL, s, 1.0 / s);
    nn_runlog_epoch_metric(log, "loss", NULL, 1, 0.5);
    cr_assert_eq(nn_runlog_checkpoint(log, 2000, 1, "epoch", &it, 1, NULL), NN_ERR_DB);
    cr_assert(strstr(nn_last_error(), "full.db: disk full (or the database's size limit reached) while writing ") &&
                  strstr(nn_last_error(), "; nothing of it was written"),
              "%s", nn_last_error());
    cr_assert_eq(rlt_int(db, "SELECT count(*) FROM checkpoint"), 0);
    cr_assert_eq(rlt_int(db, "SELECT count(*) FROM step_metric"), 0);
    /* finishing needs the same room: it fails and the run is not finished */
    nn_status s = nn_runlog_finish(log, "finished", NULL);
    cr_assert_eq(s, NN_ERR_DB);
    cr_assert_eq(nn_runlog_current(log), 1, "the run stays current");
    char buf[32];
    cr_assert_str_eq(rlt_text(db, "SELECT status FROM run", buf, sizeof buf), "running");
    /* room again (space freed): everything buffered is written at last */
    cr_assert_eq(sqlite3_exec(rl_sqlite(log), "PRAGMA max_page_count = 1000000", NULL, NULL, NULL), SQLITE_OK);
    cr_assert_eq(nn_runlog_finish(log, "finished", NULL), NN_OK, "%s", nn_last_error());
    cr_assert_eq(rlt_int(db, "SELECT count(*) FROM step_metric"), 2000);
    cr_assert_str_eq(rlt_text(db, "PRAGMA integrity_check", buf, sizeof buf), "ok");
    nn_runlog_close(log);
    nn_tensor_free(w);
    rlt_rmdir(dir);
}

Test(runlog_db, misuse_is_reported) {
    char dir[64], db[96];
    rlt_tmpdir(dir, db, "u.db");
    nn_runlog *log = nn_runlog_open(db, 0);
    cr_assert_eq(nn_runlog_step_metric(log, "loss", NULL, 1, 1.0), NN_ERR_STATE);
    cr_assert(strstr(nn_last_error(), "no run started"));
    cr_assert_eq(nn_runlog_param(NULL, "a", "b"), NN_ERR_ARG);
    cr_assert_eq(nn_runlog_start(log, NULL, NULL), NN_OK);
    cr_assert_eq(nn_runlog_finish(log, "done", NULL), NN_ERR_ARG);
    cr_assert(strstr(nn_last_error(), "status 'done'"));
    cr_assert_eq(nn_runlog_checkpoint(log, 1, 1, "whim", NULL, 0, NULL), NN_ERR_ARG);
    nn_tensor *w = nn_tensor_new(NN_F32, NN_SHAPE(2));
    nn_ckpt_item twice[2] = {{"W", NN_ROLE_PARAM, w, NULL}, {"W", NN_ROLE_PARAM, w, NULL}};
    cr_assert_eq(nn_runlog_checkpoint(log, 1, 1, "epoch", twice, 2, NULL), NN_ERR_ARG);
    cr_assert(strstr(nn_last_error(), "tensor 'W' (param) appears twice"), "%s", nn_last_error());
    cr_assert_eq(rlt_int(db, "SELECT count(*) FROM checkpoint"), 0);
    nn_ckpt_item norng = {"r", NN_ROLE_RNG, NULL, NULL};
    cr_assert_eq(nn_runlog_checkpoint(log, 1, 1, "epoch", &norng, 1, NULL), NN_ERR_ARG);
    cr_assert_eq(nn_runlog_finish(log, "failed", "boom"), NN_OK);
    cr_assert_eq(rlt_int(db, "SELECT error = 'boom' AND status = 'failed' FROM run"), 1);
    nn_runlog_close(log);
    nn_tensor_free(w);
    /* weight files: bad magic, truncation */
    char wf[128];
    snprintf(wf, sizeof wf, "%s/x.nnw", dir);
    tu_write_file(wf, "NOPE", 4);
    cr_assert_null(nn_checkpoint_read(wf));
    cr_assert(strstr(nn_last_error(), "x.nnw: truncated weight file"), "%s", nn_last_error());
    tu_write_file(wf, "XXXXxxxxxxxxxxxxxxxxxxxxxxxxxxxx", 32);
    cr_assert_null(nn_checkpoint_read(wf));
    cr_assert(strstr(nn_last_error(), "not an nngraph weight file"), "%s", nn_last_error());
    unsigned char head[12] = "NNGW\1\0\0\0\1\0\0\0";
    tu_write_file(wf, head, sizeof head);
    cr_assert_null(nn_checkpoint_read(wf));
    cr_assert(strstr(nn_last_error(), "truncated weight file (reading a tensor name)"), "%s", nn_last_error());
    /* a good weights file, then damaged ways */
    nn_graph *g = nn_graph_new(1);
    nn_param(g, "L1/W", NN_SHAPE(2, 3), nn_init_uniform(-1.f, 1.f));
    cr_assert_eq(nn_weights_save(g, wf), NN_OK, "%s", nn_last_error());
    nn_checkpoint *c = nn_checkpoint_read(wf);
    cr_assert_not_null(c, "graphio's weights files read as checkpoints: %s", nn_last_error());
    cr_assert_eq(memcmp(nn_tensor_data(nn_checkpoint_find(c, "L1/W", NN_ROLE_PARAM)),
                        nn_tensor_data(nn_param_value(nn_graph_find(g, "L1/W"))), 24),
                 0);
    nn_checkpoint_free(c);
    FILE *f = fopen(wf, "ab");
    fputc('!', f);
    fclose(f);
    cr_assert_null(nn_checkpoint_read(wf));
    cr_assert(strstr(nn_last_error(), "1 bytes after the last tensor"), "%s", nn_last_error());
    cr_assert_eq(nn_weights_save(g, wf), NN_OK);
    f = fopen(wf, "r+b");
    fseek(f, 4 + 4 + 4 + 4 + 4 + 4 + 4 + 16 + 8, SEEK_SET); /* the first data byte */
    fputc(0x7f, f);
    fclose(f);
    cr_assert_null(nn_checkpoint_read(wf));
    cr_assert(strstr(nn_last_error(), "x.nnw: tensor 'L1/W': CRC-32 mismatch"), "%s", nn_last_error());
    nn_graph_free(g);
    rlt_rmdir(dir);
}
