/* Run log: schema round trip, crash safety under SIGKILL, resume, two
 * concurrent writers. The bad-database cases are in test_runlog_db.c. */
#include "nngraph.h"
#include "runlog_util.h"

#include <criterion/criterion.h>
#include <math.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

/* The handle's connection (src/runlog_internal.h), to read its pragmas. */
sqlite3 *rl_sqlite(nn_runlog *log);

static nn_tensor *ramp(int rows, int cols, float scale) {
    nn_tensor *t = nn_tensor_new(NN_F32, NN_SHAPE(rows, cols));
    float *x = nn_tensor_f32(t);
    for (int i = 0; i < rows * cols; i++) x[i] = scale * (float)i - 0.5f;
    return t;
}

Test(runlog, schema_pragmas_and_tables) {
    char dir[64], db[96], buf[512];
    rlt_tmpdir(dir, db, "s.db");
    nn_runlog *log = nn_runlog_open(db, 0);
    cr_assert_not_null(log, "%s", nn_last_error());
    cr_assert_str_eq(nn_runlog_path(log), db);
    cr_assert_eq(rlt_int(db, "PRAGMA application_id"), NN_RUNLOG_APPLICATION_ID);
    cr_assert_eq(rlt_int(db, "PRAGMA user_version"), NN_RUNLOG_SCHEMA_VERSION);
    cr_assert_str_eq(rlt_text(db, "PRAGMA journal_mode", buf, sizeof buf), "wal");
    /* every table is STRICT; the curves and params are WITHOUT ROWID */
    cr_assert_eq(rlt_int(db, "SELECT count(*) FROM pragma_table_list WHERE schema = 'main' AND type = 'table' "
                             "AND name NOT LIKE 'sqlite_%' AND strict = 0"),
                 0);
    cr_assert_eq(rlt_int(db, "SELECT count(*) FROM pragma_table_list WHERE schema = 'main' AND wr = 1 AND name IN "
                             "('step_metric','epoch_metric','param')"),
                 3);
    cr_assert_eq(rlt_int(db, "SELECT count(*) FROM sqlite_schema WHERE type = 'view' AND name IN "
                             "('v_run','v_curve','v_last','v_step')"),
                 4);
    cr_assert_eq(rlt_int(db, "SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND name IN "
                             "('run_name','run_status','param_key','checkpoint_run','resume_run')"),
                 5);
    /* the connection's own pragmas */
    sqlite3 *h = rl_sqlite(log);
    sqlite3_stmt *st = NULL;
    const char *pragmas[3] = {"PRAGMA synchronous", "PRAGMA foreign_keys", "PRAGMA busy_timeout"};
    const int want[3] = {1 /* NORMAL */, 1, 5000};
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(sqlite3_prepare_v2(h, pragmas[i], -1, &st, NULL), SQLITE_OK);
        cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
        cr_assert_eq(sqlite3_column_int(st, 0), want[i], "%s", pragmas[i]);
        sqlite3_finalize(st);
    }
    nn_runlog_close(log);
    /* reopening an up-to-date file migrates nothing and keeps the data */
    log = nn_runlog_open(db, 0);
    cr_assert_not_null(log);
    cr_assert_eq(nn_runlog_start(log, &(nn_run_info){.name = "a"}, NULL), NN_OK);
    cr_assert_eq(nn_runlog_finish(log, "finished", NULL), NN_OK);
    nn_runlog_close(log);
    cr_assert_eq(rlt_int(db, "SELECT count(*) FROM run"), 1);
    rlt_rmdir(dir);
}

Test(runlog, round_trip) {
    char dir[64], db[96];
    rlt_tmpdir(dir, db, "r.db");
    nn_runlog *log = nn_runlog_open(db, 0);
    cr_assert_not_null(log, "%s", nn_last_error());
    int64_t id = 0;
    nn_run_info info = {.name = "digits", .seed = 1234, .threads = 2, .command_line = "train --epochs 3",
                        .graph_text = "nngraph 1\nx input f32 [?,4]\n"};
    cr_assert_eq(nn_runlog_start(log, &info, &id), NN_OK, "%s", nn_last_error());
    cr_assert_eq(id, 1);
    cr_assert_eq(nn_runlog_current(log), 1);
    cr_assert_eq(nn_runlog_start(log, &info, NULL), NN_ERR_STATE);
    cr_assert_eq(nn_runlog_param(log, "optimizer", "adam"), NN_OK);
    cr_assert_eq(nn_runlog_param_num(log, "lr", 0.001), NN_OK);
    cr_assert_eq(nn_runlog_param_num(log, "batch_size", 32), NN_OK);
    /* steps 1..6 with a NaN at step 5 and +Inf at step 6 */
    double vals[6] = {2.5, 2.0, 1.5, 1.25, NAN, INFINITY};
    for (int s = 0; s < 6; s++) cr_assert_eq(nn_runlog_step_metric(log, "loss", NULL, s + 1, vals[s]), NN_OK);
    cr_assert_eq(nn_runlog_step_metric(log, "loss", "bogus", 7, 1.0), NN_ERR_ARG);
    cr_assert(strstr(nn_last_error(), "unknown split 'bogus'"));
    cr_assert_eq(nn_runlog_epoch_metric(log, "loss", "train", 1, 1.75), NN_OK);
    cr_assert_eq(nn_runlog_epoch_metric(log, "accuracy", "train", 1, 0.5), NN_OK);
    cr_assert_eq(nn_runlog_epoch_metric(log, "loss", "val", 1, 1.9), NN_OK);
    /* nothing is written before a flush */
    cr_assert_eq(rlt_int(db, "SELECT count(*) FROM step_metric"), 0);
    nn_tensor *w = ramp(3, 4, 0.25f), *m = ramp(3, 4, -1.0f);
    nn_rng rng;
    nn_rng_seed(&rng, 99);
    nn_rng_u64(&rng);
    nn_ckpt_item items[3] = {{"L1/W", NN_ROLE_PARAM, w, NULL},
                             {"L1/W", NN_ROLE_ADAM_M, m, NULL},
                             {"shuffle", NN_ROLE_RNG, NULL, &rng}};
    int64_t ck = 0;
    cr_assert_eq(nn_runlog_checkpoint(log, 6, 1, "epoch", items, 3, &ck), NN_OK, "%s", nn_last_error());
    cr_assert_gt(ck, 0);
    cr_assert_eq(rlt_int(db, "SELECT count(*) FROM step_metric"), 6);
    cr_assert_eq(nn_runlog_epoch_metric(log, "loss", "train", 2, 1.5), NN_OK);
    cr_assert_eq(nn_runlog_finish(log, "finished", NULL), NN_OK);
    cr_assert_eq(nn_runlog_current(log), 0);
    cr_assert_eq(nn_runlog_close(log), NN_OK);

    /* read it all back through a read-only handle */
    log = nn_runlog_open(db, NN_RUNLOG_READONLY);
    cr_assert_not_null(log, "%s", nn_last_error());
    nn_run_row row;
    cr_assert_eq(nn_runlog_get_run(log, id, &row), NN_OK, "%s", nn_last_error());
    cr_assert_str_eq(row.name, "digits");
    cr_assert_str_eq(row.status, "finished");
    cr_assert_eq(row.seed, 1234);
    cr_assert_eq(row.threads, 2);
    cr_assert_eq(row.epochs, 2);
    cr_assert_eq(row.steps, 6);
    cr_assert_float_eq(row.final_loss, 1.5, 1e-12);
    cr_assert_float_eq(row.best_loss, 1.5, 1e-12);
    cr_assert_float_eq(row.final_accuracy, 0.5, 1e-12);
    cr_assert_float_eq(row.final_val_loss, 1.9, 1e-12);
    cr_assert(isnan(row.final_val_accuracy));
    cr_assert_str_eq(row.version, NN_VERSION_STRING);
    cr_assert_eq(strlen(row.uuid), 36);
    cr_assert_eq(row.start_time[10], 'T');
    cr_assert_eq(row.end_time[strlen(row.end_time) - 1], 'Z');
    cr_assert(row.duration_s >= 0 && row.duration_s < 60);
    char *graph = nn_runlog_graph_text(log, id);
    cr_assert_str_eq(graph, info.graph_text);
    free(graph);
    nn_param_kv *kv;
    int n;
    cr_assert_eq(nn_runlog_params(log, id, &kv, &n), NN_OK);
    cr_assert_eq(n, 3);
    cr_assert_str_eq(kv[0].key, "batch_size");
    cr_assert_str_eq(kv[0].value, "32");
    cr_assert_str_eq(kv[1].key, "lr");
    cr_assert_str_eq(kv[1].value, "0.001"); /* shortest text that reads back */
    cr_assert(kv[1].is_num && kv[1].num == 0.001);
    cr_assert_str_eq(kv[2].value, "adam");
    cr_assert_eq(kv[2].is_num, 0);
    free(kv);
    nn_metric_point *pts;
    cr_assert_eq(nn_runlog_curve(log, id, "loss", "train", 0, &pts, &n), NN_OK);
    cr_assert_eq(n, 6);
    for (int s = 0; s < 4; s++) cr_assert(pts[s].at == s + 1 && pts[s].value == vals[s]);
    cr_assert(isnan(pts[4].value));
    cr_assert(isinf(pts[5].value) && pts[5].value > 0);
    free(pts);
    /* NaN is NULL plus the flag, Inf is kept as a REAL */
    cr_assert_eq(rlt_int(db, "SELECT is_nan FROM v_step WHERE step = 5"), 1);
    cr_assert_eq(rlt_int(db, "SELECT value IS NULL FROM v_step WHERE step = 5"), 1);
    cr_assert_eq(rlt_int(db, "SELECT value > 1e308 FROM v_step WHERE step = 6"), 1);
    cr_assert_eq(rlt_int(db, "SELECT count(*) FROM metric_key"), 2); /* interned once */
    cr_assert_eq(rlt_int(db, "SELECT at FROM v_last WHERE run = 1 AND metric = 'loss' AND split = 'train' "
                             "AND per = 'epoch'"),
                 2);
    cr_assert_eq(rlt_int(db, "SELECT json_extract(params, '$.batch_size') FROM v_run"), 32);
    /* the checkpoint comes back byte for byte */
    nn_checkpoint *c = nn_runlog_load_checkpoint(log, id, -1);
    cr_assert_not_null(c, "%s", nn_last_error());
    cr_assert_eq(nn_checkpoint_epoch(c), 1);
    cr_assert_eq(nn_checkpoint_step(c), 6);
    cr_assert_str_eq(nn_checkpoint_reason(c), "epoch");
    cr_assert_eq(nn_checkpoint_count(c), 3);
    const nn_tensor *w2 = nn_checkpoint_find(c, "L1/W", NN_ROLE_PARAM);
    cr_assert_not_null(w2);
    cr_assert(nn_shape_equal(nn_tensor_shape(w2), NN_SHAPE(3, 4)));
    cr_assert_eq(memcmp(nn_tensor_data(w2), nn_tensor_data(w), 12 * sizeof(float)), 0);
    cr_assert_eq(memcmp(nn_tensor_data(nn_checkpoint_find(c, "L1/W", NN_ROLE_ADAM_M)), nn_tensor_data(m), 48), 0);
    nn_rng back;
    cr_assert_eq(nn_checkpoint_rng(c, NULL, &back), NN_OK);
    cr_assert_eq(memcmp(&back, &rng, sizeof rng), 0);
    cr_assert_str_eq(nn_checkpoint_name(c, 2), "shuffle");
    cr_assert_eq(nn_checkpoint_role(c, 2), NN_ROLE_RNG);
    /* the stored CRC is zlib's CRC-32 of the little-endian bytes */
    cr_assert_eq(rlt_int(db, "SELECT shape = '[3,4]' AND dtype = 'f32' AND length(data) = 48 FROM tensor "
                             "WHERE role = 'param'"),
                 1);
    /* weight file round trip: export, read back, same bytes */
    char wf[128];
    snprintf(wf, sizeof wf, "%s/w.nnw", dir);
    cr_assert_eq(nn_checkpoint_save(c, wf, 0), NN_OK, "%s", nn_last_error());
    nn_checkpoint *f = nn_checkpoint_read(wf);
    cr_assert_not_null(f, "%s", nn_last_error());
    cr_assert_eq(nn_checkpoint_count(f), 3);
    cr_assert_eq(nn_checkpoint_epoch(f), 1);
    cr_assert_eq(memcmp(nn_tensor_data(nn_checkpoint_find(f, "L1/W", NN_ROLE_PARAM)), nn_tensor_data(w), 48), 0);
    nn_checkpoint_free(f);
    cr_assert_eq(nn_checkpoint_save(c, wf, 1), NN_OK);
    f = nn_checkpoint_read(wf);
    cr_assert_eq(nn_checkpoint_count(f), 1);
    nn_checkpoint_free(f);
    nn_checkpoint_free(c);
    /* a read-only handle refuses to write, saying why */
    cr_assert_eq(nn_runlog_start(log, NULL, NULL), NN_ERR_DB);
    cr_assert(strstr(nn_last_error(), "read-only"), "%s", nn_last_error());
    /* finding runs by id, uuid prefix and name */
    int64_t found = 0;
    cr_assert_eq(nn_runlog_find_run(log, "1", &found), NN_OK);
    cr_assert_eq(found, 1);
    char prefix[9];
    snprintf(prefix, sizeof prefix, "%.8s", row.uuid);
    found = 0;
    cr_assert_eq(nn_runlog_find_run(log, prefix, &found), NN_OK);
    cr_assert_eq(found, 1);
    found = 0;
    cr_assert_eq(nn_runlog_find_run(log, "digits", &found), NN_OK);
    cr_assert_eq(found, 1);
    cr_assert_eq(nn_runlog_find_run(log, "nosuch", &found), NN_ERR_ARG);
    cr_assert(strstr(nn_last_error(), "no run 'nosuch'"));
    nn_runlog_close(log);
    nn_tensor_free(w);
    nn_tensor_free(m);
    rlt_rmdir(dir);
}

/* A process that logs epochs forever: 40 steps, then the epoch's metrics
 * and a 1 MB checkpoint in one transaction; it reports each committed epoch
 * on `fd`. */
static void endless_trainer(const char *db, int fd) {
    nn_runlog *log = nn_runlog_open(db, 0);
    if (!log || nn_runlog_start(log, &(nn_run_info){.name = "victim"}, NULL) != NN_OK) _exit(2);
    nn_tensor *w = ramp(512, 512, 1e-6f);
    int64_t step = 0;
    for (int epoch = 1;; epoch++) {
        for (int b = 0; b < 40; b++) {
            step++;
            nn_runlog_step_metric(log, "loss", NULL, step, 1.0 / (double)step);
        }
        nn_runlog_epoch_metric(log, "loss", NULL, epoch, 1.0 / epoch);
        nn_tensor_f32(w)[0] = (float)epoch;
        nn_ckpt_item it = {"W", NN_ROLE_PARAM, w, NULL};
        if (nn_runlog_checkpoint(log, step, epoch, "epoch", &it, 1, NULL) != NN_OK) _exit(2);
        if (write(fd, &epoch, sizeof epoch) != sizeof epoch) _exit(2);
    }
}

Test(runlog, sigkill_mid_epoch_keeps_committed_epochs) {
    char dir[64], db[96], buf[64];
    rlt_tmpdir(dir, db, "k.db");
    /* kill at several moments: during the steps and during a checkpoint */
    const int delays_us[3] = {0, 700, 3000};
    for (int round = 0; round < 3; round++) {
        int p[2];
        cr_assert_eq(pipe(p), 0);
        pid_t pid = fork();
        cr_assert_neq(pid, -1);
        if (pid == 0) {
            close(p[0]);
            endless_trainer(db, p[1]);
        }
        close(p[1]);
        int epoch = 0, last = 0;
        while (last < 3 && read(p[0], &epoch, sizeof epoch) == sizeof epoch) last = epoch;
        usleep((useconds_t)delays_us[round]);
        kill(pid, SIGKILL);
        int status;
        waitpid(pid, &status, 0);
        cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
        while (read(p[0], &epoch, sizeof epoch) == sizeof epoch) last = epoch;
        close(p[0]);
        cr_assert_geq(last, 3);
        cr_assert_str_eq(rlt_text(db, "PRAGMA integrity_check", buf, sizeof buf), "ok");
        int64_t run = round + 1;
        char sql[160];
        snprintf(sql, sizeof sql, "SELECT count(*) FROM epoch_metric WHERE run = %lld", (long long)run);
        long long epochs = rlt_int(db, sql);
        /* every reported epoch is there; at most one more committed before the kill landed */
        cr_assert(epochs == last || epochs == last + 1, "round %d: %lld epochs committed, %d reported", round, epochs,
                  last);
        snprintf(sql, sizeof sql, "SELECT count(*) FROM step_metric WHERE run = %lld", (long long)run);
        cr_assert_eq(rlt_int(db, sql), 40 * epochs, "steps belong to committed epochs only");
        nn_runlog *log = nn_runlog_open(db, 0);
        cr_assert_not_null(log, "%s", nn_last_error());
        nn_run_row row;
        cr_assert_eq(nn_runlog_get_run(log, run, &row), NN_OK);
        cr_assert_str_eq(row.status, "interrupted", "a dead trainer's run reads as interrupted");
        cr_assert_eq(row.epochs, epochs);
        nn_checkpoint *c = nn_runlog_load_checkpoint(log, run, -1);
        cr_assert_not_null(c, "%s", nn_last_error());
        cr_assert_eq(nn_checkpoint_epoch(c), epochs);
        cr_assert_eq(nn_tensor_f32(nn_checkpoint_find(c, "W", NN_ROLE_PARAM))[0], (float)epochs);
        nn_checkpoint_free(c);
        nn_runlog_close(log);
    }
    rlt_rmdir(dir);
}

/* A hand-made training loop with everything a resume needs: weights, a
 * momentum buffer, a step count and a generator that draws the noise. It
 * checkpoints every epoch; `crash_after` > 0 stops (without finishing) after
 * that many epochs and logs a few extra steps that the resume must drop. */
typedef struct toy {
    nn_tensor *w, *v, *steps;
    nn_rng rng;
} toy;

static void toy_init(toy *t) {
    t->w = ramp(2, 8, 0.1f);
    t->v = nn_tensor_new(NN_F32, NN_SHAPE(2, 8));
    t->steps = nn_tensor_new(NN_I32, NN_SHAPE(1));
    nn_rng_seed(&t->rng, 7);
}

static void toy_free(toy *t) {
    nn_tensor_free(t->w);
    nn_tensor_free(t->v);
    nn_tensor_free(t->steps);
}

static double toy_step(toy *t) {
    float *w = nn_tensor_f32(t->w), *v = nn_tensor_f32(t->v);
    double loss = 0;
    for (int i = 0; i < 16; i++) {
        float g = w[i] - 0.3f + 0.05f * (float)nn_rng_normal(&t->rng);
        loss += 0.5 * (double)g * g;
        v[i] = 0.9f * v[i] - 0.05f * g;
        w[i] += v[i];
    }
    nn_tensor_i32(t->steps)[0]++;
    return loss;
}

static void toy_checkpoint(nn_runlog *log, toy *t, int epoch) {
    nn_ckpt_item items[4] = {{"W", NN_ROLE_PARAM, t->w, NULL},
                             {"W", NN_ROLE_STATE, t->v, NULL},
                             {"steps", NN_ROLE_STATE, t->steps, NULL},
                             {"rng", NN_ROLE_RNG, NULL, &t->rng}};
    cr_assert_eq(nn_runlog_checkpoint(log, nn_tensor_i32(t->steps)[0], epoch, "epoch", items, 4, NULL), NN_OK, "%s",
                 nn_last_error());
}

static void toy_epochs(nn_runlog *log, toy *t, int from, int to) {
    for (int e = from; e <= to; e++) {
        double sum = 0;
        for (int b = 0; b < 10; b++) {
            double l = toy_step(t);
            sum += l;
            cr_assert_eq(nn_runlog_step_metric(log, "loss", NULL, nn_tensor_i32(t->steps)[0], l), NN_OK);
        }
        cr_assert_eq(nn_runlog_epoch_metric(log, "loss", NULL, e, sum / 10), NN_OK);
        toy_checkpoint(log, t, e);
    }
}

Test(runlog, resume_reaches_same_weights) {
    char dir[64], db[96];
    rlt_tmpdir(dir, db, "res.db");
    nn_runlog *log = nn_runlog_open(db, 0);
    cr_assert_not_null(log);
    /* run 1: six epochs straight */
    toy a;
    toy_init(&a);
    cr_assert_eq(nn_runlog_start(log, &(nn_run_info){.name = "straight"}, NULL), NN_OK);
    toy_epochs(log, &a, 1, 6);
    cr_assert_eq(nn_runlog_finish(log, "finished", NULL), NN_OK);
    /* run 2, in a child process: three epochs, then half an epoch logged
     * (and flushed) past the checkpoint, then the process dies */
    int64_t id2 = 2;
    pid_t pid = fork();
    if (pid == 0) {
        nn_runlog *clog = nn_runlog_open(db, 0);
        toy b;
        toy_init(&b);
        if (!clog || nn_runlog_start(clog, &(nn_run_info){.name = "crashy"}, NULL) != NN_OK) _exit(2);
        toy_epochs(clog, &b, 1, 3);
        for (int i = 0; i < 5; i++) nn_runlog_step_metric(clog, "loss", NULL, nn_tensor_i32(b.steps)[0] + 1 + i, 99.0);
        _exit(nn_runlog_flush(clog) == NN_OK ? 0 : 3);
    }
    int status;
    waitpid(pid, &status, 0);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    nn_runlog_close(log);
    cr_assert_eq(rlt_int(db, "SELECT count(*) FROM step_metric WHERE run = 2"), 35);

    /* resume in a "new process" from the last checkpoint */
    log = nn_runlog_open(db, 0);
    nn_checkpoint *c = NULL;
    cr_assert_eq(nn_runlog_resume(log, 1, -1, &c), NN_ERR_STATE, "a finished run cannot be resumed");
    cr_assert(strstr(nn_last_error(), "has finished"));
    cr_assert_eq(nn_runlog_resume(log, id2, -1, &c), NN_OK, "%s", nn_last_error());
    cr_assert_eq(nn_checkpoint_epoch(c), 3);
    cr_assert_eq(rlt_int(db, "SELECT count(*) FROM step_metric WHERE run = 2"), 30, "steps past it dropped");
    cr_assert_eq(rlt_int(db, "SELECT count(*) FROM resume WHERE run = 2 AND epoch = 3 AND step = 30"), 1);
    toy r;
    toy_init(&r);
    cr_assert_eq(nn_tensor_copy(r.w, nn_checkpoint_find(c, "W", NN_ROLE_PARAM)), NN_OK);
    cr_assert_eq(nn_tensor_copy(r.v, nn_checkpoint_find(c, "W", NN_ROLE_STATE)), NN_OK);
    cr_assert_eq(nn_tensor_copy(r.steps, nn_checkpoint_find(c, "steps", NN_ROLE_STATE)), NN_OK);
    cr_assert_eq(nn_checkpoint_rng(c, "rng", &r.rng), NN_OK);
    nn_checkpoint_free(c);
    toy_epochs(log, &r, 4, 6);
    cr_assert_eq(nn_runlog_finish(log, "finished", NULL), NN_OK);
    /* same final weights, bit for bit, and the same curve */
    cr_assert_eq(memcmp(nn_tensor_data(r.w), nn_tensor_data(a.w), 16 * sizeof(float)), 0);
    nn_metric_point *p1, *p2;
    int n1, n2;
    cr_assert_eq(nn_runlog_curve(log, 1, "loss", NULL, 0, &p1, &n1), NN_OK);
    cr_assert_eq(nn_runlog_curve(log, id2, "loss", NULL, 0, &p2, &n2), NN_OK);
    cr_assert_eq(n1, 60);
    cr_assert_eq(n2, 60);
    for (int i = 0; i < 60; i++) cr_assert(p1[i].at == p2[i].at && p1[i].value == p2[i].value, "step %d", i + 1);
    free(p1);
    free(p2);
    nn_run_row row;
    cr_assert_eq(nn_runlog_get_run(log, id2, &row), NN_OK);
    cr_assert_str_eq(row.status, "finished");
    cr_assert_eq(row.epochs, 6);
    /* a fork: a new run that records where it came from */
    int64_t id3 = 0;
    cr_assert_eq(nn_runlog_start(log, &(nn_run_info){.name = "fork", .parent_run_id = id2, .parent_step = 30}, &id3),
                 NN_OK);
    cr_assert_eq(nn_runlog_finish(log, "finished", NULL), NN_OK);
    cr_assert_eq(nn_runlog_get_run(log, id3, &row), NN_OK);
    cr_assert_eq(row.parent_run_id, id2);
    cr_assert_eq(row.parent_step, 30);
    cr_assert_eq(nn_runlog_start(log, &(nn_run_info){.parent_run_id = 77}, NULL), NN_ERR_ARG);
    cr_assert(strstr(nn_last_error(), "parent run 77 does not exist"), "%s", nn_last_error());
    nn_runlog_close(log);
    toy_free(&a);
    toy_free(&r);
    rlt_rmdir(dir);
}

/* One of two writers: 1500 steps flushed every 25, 15 epochs with a small
 * checkpoint each. */
static void writer(const char *db, int go_fd, const char *name) {
    char c;
    if (read(go_fd, &c, 1) != 1) _exit(2);
    nn_runlog_opts o = {.flush_steps = 25, .busy_timeout_ms = 10000};
    nn_runlog *log = nn_runlog_open_opts(db, &o);
    if (!log || nn_runlog_start(log, &(nn_run_info){.name = name}, NULL) != NN_OK) _exit(2);
    nn_tensor *w = ramp(8, 8, 0.5f);
    int64_t step = 0;
    for (int e = 1; e <= 15; e++) {
        for (int b = 0; b < 100; b++) {
            step++;
            if (nn_runlog_step_metric(log, "loss", NULL, step, (double)step) != NN_OK) _exit(3);
        }
        if (nn_runlog_epoch_metric(log, "loss", NULL, e, (double)e) != NN_OK) _exit(3);
        nn_ckpt_item it = {"W", NN_ROLE_PARAM, w, NULL};
        if (nn_runlog_checkpoint(log, step, e, "epoch", &it, 1, NULL) != NN_OK) _exit(4);
    }
    if (nn_runlog_finish(log, "finished", NULL) != NN_OK) _exit(5);
    nn_runlog_close(log);
    nn_tensor_free(w);
    _exit(0);
}

Test(runlog, two_concurrent_writers_lose_nothing) {
    char dir[64], db[96];
    rlt_tmpdir(dir, db, "c.db");
    nn_runlog_close(nn_runlog_open(db, 0)); /* create it first */
    int go[2];
    cr_assert_eq(pipe(go), 0);
    pid_t pids[2];
    for (int i = 0; i < 2; i++) {
        pids[i] = fork();
        if (pids[i] == 0) {
            close(go[1]);
            writer(db, go[0], i ? "two" : "one");
        }
    }
    close(go[0]);
    cr_assert_eq(write(go[1], "xx", 2), 2); /* both start at once */
    close(go[1]);
    for (int i = 0; i < 2; i++) {
        int status;
        waitpid(pids[i], &status, 0);
        cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "writer %d exited with %d", i,
                  WEXITSTATUS(status));
    }
    char buf[32];
    cr_assert_str_eq(rlt_text(db, "PRAGMA integrity_check", buf, sizeof buf), "ok");
    cr_assert_eq(rlt_int(db, "SELECT count(*) FROM run WHERE status = 'finished'"), 2);
    for (int r = 1; r <= 2; r++) {
        char sql[128];
        snprintf(sql, sizeof sql, "SELECT count(*) || ':' || sum(value) FROM step_metric WHERE run = %d", r);
        cr_assert_str_eq(rlt_text(db, sql, buf, sizeof buf), "1500:1125750.0");
        snprintf(sql, sizeof sql, "SELECT count(*) FROM checkpoint WHERE run = %d", r);
        cr_assert_eq(rlt_int(db, sql), 15);
    }
    cr_assert_eq(rlt_int(db, "SELECT count(*) FROM metric_key"), 1);
    rlt_rmdir(dir);
}

Test(runlog, heartbeat_decides_interrupted) {
    char dir[64], db[96], buf[32];
    rlt_tmpdir(dir, db, "hb.db");
    nn_runlog *log = nn_runlog_open(db, 0);
    int64_t id = 0;
    cr_assert_eq(nn_runlog_start(log, &(nn_run_info){.name = "alive"}, &id), NN_OK);
    cr_assert_eq(nn_runlog_heartbeat(log), NN_OK);
    cr_assert_str_eq(rlt_text(db, "SELECT status FROM v_run", buf, sizeof buf), "running");
    /* a live process's run cannot be taken over */
    nn_runlog *other = nn_runlog_open(db, 0);
    nn_checkpoint *c = NULL;
    cr_assert_eq(nn_runlog_resume(other, id, -1, &c), NN_ERR_STATE);
    cr_assert(strstr(nn_last_error(), "still running in another process"), "%s", nn_last_error());
    /* two minutes without a heartbeat: the process is presumed dead */
    cr_assert_eq(rlt_exec(db, "UPDATE run SET heartbeat = strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-120 seconds')"),
                 SQLITE_OK);
    cr_assert_str_eq(rlt_text(db, "SELECT status FROM v_run", buf, sizeof buf), "interrupted");
    /* the threshold is a setting */
    cr_assert_eq(rlt_exec(db, "UPDATE setting SET value = 600 WHERE key = 'stale_after_s'"), SQLITE_OK);
    cr_assert_str_eq(rlt_text(db, "SELECT status FROM v_run", buf, sizeof buf), "running");
    /* a flush is a heartbeat */
    cr_assert_eq(rlt_exec(db, "UPDATE setting SET value = 60 WHERE key = 'stale_after_s'"), SQLITE_OK);
    nn_runlog_step_metric(log, "loss", NULL, 1, 1.0);
    cr_assert_eq(nn_runlog_flush(log), NN_OK);
    cr_assert_str_eq(rlt_text(db, "SELECT status FROM v_run", buf, sizeof buf), "running");
    cr_assert_eq(nn_runlog_finish(log, "finished", NULL), NN_OK);
    nn_runlog_close(other);
    nn_runlog_close(log);
    rlt_rmdir(dir);
}
