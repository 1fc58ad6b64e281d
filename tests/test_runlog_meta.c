/* Run log, schema version 2: experiments, git state, notes and tags, and
 * the migration of a version 1 file. */
#include "nngraph.h"
#include "runlog_internal.h"
#include "runlog_util.h"

#include <criterion/criterion.h>

static char dir[64], db[96];
static void setup(void) { rlt_tmpdir(dir, db, "meta.db"); }
static void teardown(void) { rlt_rmdir(dir); }
TestSuite(runlog_meta, .init = setup, .fini = teardown);

/* A file as nngraph 0.1.0 made it: schema 1, one finished run. */
static void make_v1_file(const char *path) {
    sqlite3 *h = NULL;
    cr_assert_eq(sqlite3_open(path, &h), SQLITE_OK);
    cr_assert_eq(sqlite3_exec(h, rl_migrations[0], NULL, NULL, NULL), SQLITE_OK, "%s", sqlite3_errmsg(h));
    char sql[256];
    snprintf(sql, sizeof sql, "PRAGMA application_id = %d; PRAGMA user_version = 1", NN_RUNLOG_APPLICATION_ID);
    cr_assert_eq(sqlite3_exec(h, sql, NULL, NULL, NULL), SQLITE_OK);
    cr_assert_eq(sqlite3_exec(h,
                              "INSERT INTO run (uuid, name, status, start_time, end_time, heartbeat, version) "
                              "VALUES ('u-1', 'old', 'finished', '2026-01-01T00:00:00.000Z', "
                              "'2026-01-01T00:00:10.000Z', '2026-01-01T00:00:10.000Z', '0.1.0')",
                              NULL, NULL, NULL),
                 SQLITE_OK, "%s", sqlite3_errmsg(h));
    sqlite3_close(h);
}

Test(runlog_meta, a_version_1_file_is_migrated_and_keeps_its_runs) {
    make_v1_file(db);
    /* read-only cannot migrate: the error says what to do */
    cr_assert_null(nn_runlog_open(db, NN_RUNLOG_READONLY));
    cr_assert(strstr(nn_last_error(), "migration"), "%s", nn_last_error());
    nn_runlog *log = nn_runlog_open(db, 0);
    cr_assert_not_null(log, "%s", nn_last_error());
    cr_assert_eq(rlt_int(db, "PRAGMA user_version"), 2);
    nn_run_row r;
    cr_assert_eq(nn_runlog_get_run(log, 1, &r), NN_OK, "%s", nn_last_error());
    cr_assert_str_eq(r.name, "old");
    cr_assert_str_eq(r.experiment, "");
    cr_assert_str_eq(r.git_commit, "");
    cr_assert_eq(r.git_dirty, -1);
    cr_assert_float_eq(r.duration_s, 10.0, 1e-3); /* julianday arithmetic: ms resolution */
    cr_assert_eq(nn_runlog_tag(log, 1, "stage", "baseline"), NN_OK, "%s", nn_last_error());
    nn_runlog_close(log);
    char buf[128];
    cr_assert_str_eq(rlt_text(db, "SELECT tags FROM v_run WHERE id = 1", buf, sizeof buf), "{\"stage\":\"baseline\"}");
    cr_assert_eq(rlt_int(db, "SELECT COUNT(*) FROM v_run"), 1);
}

Test(runlog_meta, experiment_notes_and_git_are_recorded) {
    nn_runlog *log = nn_runlog_open(db, 0);
    cr_assert_not_null(log);
    nn_run_info info = {.name = "a", .experiment = "sweep-lr", .notes = "lr 0.1 <b>", .no_git = 1};
    int64_t id;
    cr_assert_eq(nn_runlog_start(log, &info, &id), NN_OK, "%s", nn_last_error());
    cr_assert_eq(nn_runlog_finish(log, "finished", NULL), NN_OK);
    nn_run_row r;
    cr_assert_eq(nn_runlog_get_run(log, id, &r), NN_OK);
    cr_assert_str_eq(r.experiment, "sweep-lr");
    cr_assert_eq(r.git_dirty, -1, "no_git: unknown");
    char *notes = nn_runlog_notes(log, id);
    cr_assert_str_eq(notes, "lr 0.1 <b>");
    free(notes);
    cr_assert_eq(nn_runlog_set_notes(log, id, "second thoughts"), NN_OK);
    notes = nn_runlog_notes(log, id);
    cr_assert_str_eq(notes, "second thoughts");
    free(notes);
    cr_assert_null(nn_runlog_notes(log, 99));
    cr_assert_neq(nn_runlog_set_notes(log, 99, "x"), NN_OK);
    cr_assert(strstr(nn_last_error(), "99"), "%s", nn_last_error());

    /* the git state of this source tree (the tests run inside it): a
     * 40-digit commit and a known dirty flag, when git is installed */
    setenv("NNGRAPH_NO_GIT", "0", 1);
    cr_assert_eq(nn_runlog_start(log, &(nn_run_info){.name = "b"}, &id), NN_OK);
    cr_assert_eq(nn_runlog_finish(log, "finished", NULL), NN_OK);
    cr_assert_eq(nn_runlog_get_run(log, id, &r), NN_OK);
    char commit[48];
    int dirty;
    rl_git_state(commit, sizeof commit, &dirty);
    cr_assert_str_eq(r.git_commit, commit);
    cr_assert_eq(r.git_dirty, dirty);
    if (system("git rev-parse HEAD >/dev/null 2>&1") == 0) {
        cr_assert_eq(strlen(r.git_commit), 40);
        cr_assert(r.git_dirty == 0 || r.git_dirty == 1);
    }
    setenv("NNGRAPH_NO_GIT", "1", 1);
    rl_git_state(commit, sizeof commit, &dirty);
    cr_assert_str_eq(commit, "");
    cr_assert_eq(dirty, -1);
    nn_runlog_close(log);
}

Test(runlog_meta, tags_are_set_replaced_and_removed) {
    nn_runlog *log = nn_runlog_open(db, 0);
    int64_t id;
    cr_assert_eq(nn_runlog_start(log, &(nn_run_info){.name = "t", .no_git = 1}, &id), NN_OK);
    cr_assert_eq(nn_runlog_tag(log, id, "owner", "ana"), NN_OK);
    cr_assert_eq(nn_runlog_tag(log, id, "data", "v2"), NN_OK);
    cr_assert_eq(nn_runlog_tag(log, id, "owner", "bo"), NN_OK);
    nn_param_kv *kv;
    int n;
    cr_assert_eq(nn_runlog_tags(log, id, &kv, &n), NN_OK);
    cr_assert_eq(n, 2);
    cr_assert_str_eq(kv[0].key, "data");
    cr_assert_str_eq(kv[1].key, "owner");
    cr_assert_str_eq(kv[1].value, "bo");
    cr_assert_eq(kv[1].is_num, 0);
    free(kv);
    cr_assert_eq(nn_runlog_tag(log, id, "data", ""), NN_OK);
    cr_assert_eq(nn_runlog_tags(log, id, &kv, &n), NN_OK);
    cr_assert_eq(n, 1);
    free(kv);
    char big[300];
    memset(big, 'k', sizeof big - 1);
    big[sizeof big - 1] = 0;
    cr_assert_eq(nn_runlog_tag(log, id, big, "v"), NN_ERR_ARG);
    cr_assert(strstr(nn_last_error(), "1 to 63 bytes"), "%s", nn_last_error());
    cr_assert_eq(nn_runlog_tag(log, id, "k", big), NN_ERR_ARG);
    cr_assert(strstr(nn_last_error(), "at most 191"), "%s", nn_last_error());
    cr_assert_eq(nn_runlog_tag(log, id, "", "v"), NN_ERR_ARG);
    cr_assert_neq(nn_runlog_tag(log, 42, "k", "v"), NN_OK);
    cr_assert(strstr(nn_last_error(), "42"), "%s", nn_last_error());
    cr_assert_eq(nn_runlog_finish(log, "finished", NULL), NN_OK);
    nn_runlog_close(log);
    /* a read-only handle writes nothing */
    log = nn_runlog_open(db, NN_RUNLOG_READONLY);
    cr_assert_neq(nn_runlog_tag(log, id, "x", "y"), NN_OK);
    nn_runlog_close(log);
    cr_assert_eq(rlt_int(db, "SELECT COUNT(*) FROM tag"), 1);
}
