/* Helpers for the run-log subcommands: JSON output and durations. */
#include "cmd_runlog.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void nnc_json_str(FILE *out, const char *s) {
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        switch (*p) {
        case '"': fputs("\\\"", out); break;
        case '\\': fputs("\\\\", out); break;
        case '\n': fputs("\\n", out); break;
        case '\r': fputs("\\r", out); break;
        case '\t': fputs("\\t", out); break;
        default:
            if (*p < 0x20 || *p == 0x7f) {
                fprintf(out, "\\u%04x", *p);
            } else if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
                fprintf(out, "\\u%04x", p[1]); /* C1 controls: a terminal reads them too */
                p++;
            } else {
                fputc(*p, out);
            }
        }
    }
    fputc('"', out);
}

const char *nnc_clean(const char *s, char *buf, size_t len) {
    size_t at = 0;
    if (!len) return buf;
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p && at + 1 < len; p++) {
        if (*p < 0x20 || *p == 0x7f) {
            buf[at++] = '?';
        } else if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
            buf[at++] = '?'; /* U+0080..U+009F: C1 controls (CSI is one) */
            p++;
        } else {
            buf[at++] = (char)*p;
        }
    }
    buf[at] = 0;
    return buf;
}

void nnc_json_num(FILE *out, double v) {
    if (isnan(v)) fputs("null", out);
    else if (isinf(v)) fputs(v > 0 ? "1e999" : "-1e999", out);
    else fprintf(out, "%.17g", v);
}

static void json_str_or_null(FILE *out, const char *s) {
    if (s[0]) nnc_json_str(out, s);
    else fputs("null", out);
}

void nnc_json_run_fields(FILE *out, const nn_run_row *r) {
    fprintf(out, "\"id\":%lld,\"uuid\":", (long long)r->id);
    nnc_json_str(out, r->uuid);
    fputs(",\"name\":", out);
    nnc_json_str(out, r->name);
    fputs(",\"status\":", out);
    nnc_json_str(out, r->status);
    fputs(",\"start_time\":", out);
    nnc_json_str(out, r->start_time);
    fputs(",\"end_time\":", out);
    json_str_or_null(out, r->end_time);
    fputs(",\"duration_s\":", out);
    nnc_json_num(out, r->duration_s);
    fprintf(out, ",\"epochs\":%lld,\"steps\":%lld,\"seed\":%llu,\"threads\":%d,\"error\":", (long long)r->epochs,
            (long long)r->steps, (unsigned long long)r->seed, r->threads);
    json_str_or_null(out, r->error);
    fputs(",\"experiment\":", out);
    nnc_json_str(out, r->experiment);
    fputs(",\"git_commit\":", out);
    json_str_or_null(out, r->git_commit);
    fputs(",\"git_dirty\":", out);
    fputs(r->git_dirty < 0 ? "null" : r->git_dirty ? "true" : "false", out);
}

nn_status nnc_tags_notes(nn_runlog *log, int64_t id, nn_param_kv **tags, int *ntags, char **notes) {
    *tags = NULL, *ntags = 0, *notes = NULL;
    if (nn_runlog_tags(log, id, tags, ntags) == NN_OK && (*notes = nn_runlog_notes(log, id))) return NN_OK;
    free(*tags);
    *tags = NULL, *ntags = 0;
    return NN_ERR_DB;
}

void nnc_json_tags_notes(FILE *out, const nn_param_kv *tags, int ntags, const char *notes) {
    fputs(",\"tags\":{", out);
    for (int i = 0; i < ntags; i++) {
        if (i) fputc(',', out);
        nnc_json_str(out, tags[i].key);
        fputc(':', out);
        nnc_json_str(out, tags[i].value);
    }
    fputs("},\"notes\":", out);
    json_str_or_null(out, notes);
}

const char *nnc_git_short(const nn_run_row *r, char *buf, size_t len) {
    char commit[16];
    if (!r->git_commit[0]) snprintf(buf, len, "-");
    else snprintf(buf, len, "%.8s%s", nnc_clean(r->git_commit, commit, sizeof commit), r->git_dirty == 1 ? "+dirty" : "");
    return buf;
}

void nnc_duration(double s, char *buf, size_t len) {
    if (isnan(s) || s < 0) snprintf(buf, len, "-");
    else if (s < 10) snprintf(buf, len, "%.3fs", s);
    else if (s < 60) snprintf(buf, len, "%.1fs", s);
    else if (s < 3600) snprintf(buf, len, "%dm %04.1fs", (int)(s / 60), fmod(s, 60));
    else snprintf(buf, len, "%dh %02dm", (int)(s / 3600), (int)fmod(s / 60, 60));
}

