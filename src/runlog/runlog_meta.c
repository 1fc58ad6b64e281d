/* Run log: what MLflow users expect of a run besides its metrics: tags,
 * notes, and the git state of the code that ran (schema version 2). */
#include "runlog_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Runs a fixed git command (no user input reaches the shell) and keeps
 * its first output line; 0 if git, or a repository, is missing. */
static int git_line(const char *cmd, char *out, size_t len, int *lines) {
    FILE *p = popen(cmd, "r");
    if (!p) return 0;
    char buf[256];
    int n = 0;
    out[0] = 0;
    while (fgets(buf, sizeof buf, p)) {
        if (n++ == 0) snprintf(out, len, "%s", buf);
    }
    int status = pclose(p);
    if (lines) *lines = n;
    out[strcspn(out, "\r\n")] = 0;
    return status == 0;
}

void rl_git_state(char *commit, size_t len, int *dirty) {
    commit[0] = 0;
    *dirty = -1;
    const char *off = getenv("NNGRAPH_NO_GIT");
    if (off && strcmp(off, "1") == 0) return;
    char line[256];
    if (!git_line("git rev-parse --verify -q HEAD 2>/dev/null", line, sizeof line, NULL) ||
        strspn(line, "0123456789abcdef") != strlen(line) || strlen(line) < 40)
        return;
    snprintf(commit, len, "%s", line);
    int changed = 0;
    /* tracked files changed, staged or not (untracked files are not code
     * that ran) */
    if (git_line("git status --porcelain --untracked-files=no 2>/dev/null", line, sizeof line, &changed))
        *dirty = changed > 0;
}

/* The run must exist: an UPDATE or INSERT on a missing run would be a
 * silent no-op or a foreign-key error without the run's id. */
static nn_status need_run_row(nn_runlog *log, int64_t run_id, const char *doing) {
    nn_run_row row;
    nn_status s = nn_runlog_get_run(log, run_id, &row);
    if (s != NN_OK) return nn_set_error(s, "%s: %s: no run with id %lld", log->path, doing, (long long)run_id);
    return NN_OK;
}

nn_status nn_runlog_tag(nn_runlog *log, int64_t run_id, const char *key, const char *value) {
    if (!log || !key || !value) return nn_set_error(NN_ERR_ARG, "run log: tag: NULL argument");
    size_t kl = strlen(key), vl = strlen(value);
    if (kl < 1 || kl >= sizeof(((nn_param_kv *)0)->key))
        return nn_set_error(NN_ERR_ARG, "%s: tag key of %zu bytes: keys are 1 to %zu bytes", log->path, kl,
                            sizeof(((nn_param_kv *)0)->key) - 1);
    if (vl >= sizeof(((nn_param_kv *)0)->value))
        return nn_set_error(NN_ERR_ARG, "%s: tag '%s': a value of %zu bytes (at most %zu)", log->path, key, vl,
                            sizeof(((nn_param_kv *)0)->value) - 1);
    nn_status s = need_run_row(log, run_id, "tagging");
    if (s != NN_OK) return s;
    sqlite3_stmt *st = rl_prepare(log,
                                  vl ? "INSERT OR REPLACE INTO tag (run, key, value) VALUES (?1, ?2, ?3)"
                                     : "DELETE FROM tag WHERE run = ?1 AND key = ?2",
                                  "tagging a run");
    if (!st) return NN_ERR_DB;
    sqlite3_bind_int64(st, 1, run_id);
    sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
    if (vl) sqlite3_bind_text(st, 3, value, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? NN_OK : rl_fail(log, rc, "tagging a run");
}

nn_status nn_runlog_set_notes(nn_runlog *log, int64_t run_id, const char *notes) {
    if (!log || !notes) return nn_set_error(NN_ERR_ARG, "run log: notes: NULL argument");
    nn_status s = need_run_row(log, run_id, "writing notes");
    if (s != NN_OK) return s;
    sqlite3_stmt *st = rl_prepare(log, "UPDATE run SET notes = ? WHERE id = ?", "writing notes");
    if (!st) return NN_ERR_DB;
    sqlite3_bind_text(st, 1, notes, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, run_id);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? NN_OK : rl_fail(log, rc, "writing notes");
}
