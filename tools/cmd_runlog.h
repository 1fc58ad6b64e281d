/* Helpers of the run-log subcommands of `nngraph` (runs, show, export;
 * their entry points are cli_runs, cli_show, cli_export in cli.h): JSON
 * output and durations. */
#ifndef NN_TOOLS_CMD_RUNLOG_H
#define NN_TOOLS_CMD_RUNLOG_H

#include <stdio.h>

#include "nngraph/runlog.h"

/* Helpers shared by the three (tools/cmd_runlog_common.c). */

/* Writes s as a JSON string (with quotes). */
void nnc_json_str(FILE *out, const char *s);
/* Text from a run log made safe for a terminal: control characters (C0,
 * DEL, C1 as UTF-8) become '?', so a crafted run name or error cannot send
 * escape sequences. Writes into buf (len bytes, cut to fit); returns buf. */
const char *nnc_clean(const char *s, char *buf, size_t len);
/* Writes a number, or null for NaN; infinities as +-1e999 (JSON has no
 * Inf; 1e999 reads back as Inf in most parsers). */
void nnc_json_num(FILE *out, double v);
/* The fields every JSON record of a run starts with ("id", "uuid", "name",
 * "status", "start_time", "end_time", "duration_s", "epochs", "steps",
 * "seed", "threads", "error", "experiment", "git_commit", "git_dirty"),
 * without the enclosing braces. */
void nnc_json_run_fields(FILE *out, const nn_run_row *r);
/* The run's tags (sorted by key) and notes ("" if none), both malloc'ed
 * (free()); NN_ERR_DB with nn_last_error() if they cannot be read. */
nn_status nnc_tags_notes(nn_runlog *log, int64_t id, nn_param_kv **tags, int *ntags, char **notes);
/* Them as JSON fields, each after a comma:
 * ,"tags":{"key":"value",...},"notes":"..." (null when empty). */
void nnc_json_tags_notes(FILE *out, const nn_param_kv *tags, int ntags, const char *notes);
/* The run's commit for people: "0123abcd" (its first 8 hex digits), with
 * "+dirty" when the tree had uncommitted changes; "-" if unknown. */
const char *nnc_git_short(const nn_run_row *r, char *buf, size_t len);
/* "1m 23.4s", "2h 03m" for a duration in seconds; "-" if NaN. */
void nnc_duration(double s, char *buf, size_t len);

#endif
