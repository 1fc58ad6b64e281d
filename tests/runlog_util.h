/* Helpers shared by the run-log suites: temporary directories and raw
 * SQLite queries against a run log. */
#ifndef NN_TEST_RUNLOG_UTIL_H
#define NN_TEST_RUNLOG_UTIL_H

#include "nngraph.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A fresh directory under /tmp and a database path in it. */
static inline void rlt_tmpdir(char dir[64], char db[96], const char *file) {
    snprintf(dir, 64, "/tmp/nnrl.XXXXXX");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        _exit(3);
    }
    snprintf(db, 96, "%s/%s", dir, file);
}

/* Removes the directory and what the tests put in it. */
static inline void rlt_rmdir(const char *dir) {
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
}

/* The first column of the first row of `sql` as an integer, on a separate
 * raw connection; -999 on any failure. */
static inline long long rlt_int(const char *db, const char *sql) {
    sqlite3 *h = NULL;
    long long v = -999;
    if (sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
            v = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
    }
    sqlite3_close(h);
    return v;
}

/* The same for a text result, copied into buf ("" on failure). */
static inline const char *rlt_text(const char *db, const char *sql, char *buf, size_t len) {
    sqlite3 *h = NULL;
    buf[0] = 0;
    if (sqlite3_open_v2(db, &h, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK) {
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW &&
            sqlite3_column_text(st, 0))
            snprintf(buf, len, "%s", (const char *)sqlite3_column_text(st, 0));
        sqlite3_finalize(st);
    }
    sqlite3_close(h);
    return buf;
}

/* Runs SQL on a raw read-write connection; 0 on success. */
static inline int rlt_exec(const char *db, const char *sql) {
    sqlite3 *h = NULL;
    int rc = sqlite3_open(db, &h);
    if (rc == SQLITE_OK) rc = sqlite3_exec(h, sql, NULL, NULL, NULL);
    sqlite3_close(h);
    return rc;
}

#endif
