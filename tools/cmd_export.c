/* nngraph export RUN [DB] [--epoch E] -o FILE: a checkpoint's weights out
 * of the run log into a weights file (the one `nngraph predict --weights`
 * and nn_weights_load() read), or with --full the whole checkpoint
 * (optimizer state, generator) for nn_checkpoint_read(). */
#include "cli.h"
#include "cmd_runlog.h"
#include "nngraph.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

const char nn_cmd_export_summary[] = "write a logged checkpoint's weights to a .nnw file";
const char nn_cmd_export_usage[] =
    "usage: nngraph export RUN [DB] [--epoch E] -o FILE [--full] [--json]\n"
    "Write the weights of a run's checkpoint (default: its last) from a run log\n"
    "(default " NN_RUNLOG_DEFAULT_PATH ") to FILE as a weights file, which\n"
    "`nngraph predict --weights FILE` and nn_weights_load() read.\n"
    "  --epoch E   the checkpoint taken at epoch E\n"
    "  -o FILE     where to write (replaced atomically)\n"
    "  --full      the whole checkpoint instead: parameters, optimizer state and\n"
    "              generator, step and epoch (\"NNGC\", read by nn_checkpoint_read)\n"
    "  --json      describe what was written as one JSON object\n"
    "  --help      this text\n";

int nn_cmd_export(int argc, char **argv) {
    const char *spec = NULL, *db = NULL, *out = NULL;
    long long epoch = -1;
    int json = 0, params_only = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (nnc_is_help(a)) {
            fputs(nn_cmd_export_usage, stdout);
            return 0;
        } else if (strcmp(a, "--json") == 0) {
            json = 1;
        } else if (strcmp(a, "--full") == 0) {
            params_only = 0;
        } else if (strcmp(a, "--epoch") == 0 || strcmp(a, "-o") == 0 || strcmp(a, "--db") == 0) {
            if (i + 1 == argc) {
                fprintf(stderr, "nngraph export: %s needs a value\n%s", a, nn_cmd_export_usage);
                return 2;
            }
            const char *v = argv[++i];
            if (a[1] == 'o') {
                out = v;
            } else if (a[2] == 'd') {
                db = v;
            } else {
                char *end;
                errno = 0;
                epoch = strtoll(v, &end, 10);
                if (*end || end == v || errno || epoch < 0) {
                    fprintf(stderr, "nngraph export: --epoch '%s' is not an epoch number\n", v);
                    return 2;
                }
            }
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "nngraph export: unknown option '%s'\n%s", a, nn_cmd_export_usage);
            return 2;
        } else if (!spec) {
            spec = a;
        } else if (!db) {
            db = a;
        } else {
            fprintf(stderr, "nngraph export: unexpected argument '%s'\n%s", a, nn_cmd_export_usage);
            return 2;
        }
    }
    if (!spec || !out) {
        fprintf(stderr, "nngraph export: %s\n%s", !spec ? "which run? (an id, uuid or name)" : "no output file (-o FILE)",
                nn_cmd_export_usage);
        return 2;
    }
    if (!db) db = NN_RUNLOG_DEFAULT_PATH;
    if (cli_safe_output("export", out, &db, 1) != CLI_OK) return 1;
    nn_runlog *log = nn_runlog_open(db, NN_RUNLOG_READONLY);
    if (!log) {
        fprintf(stderr, "nngraph export: %s\n", nn_last_error());
        return 1;
    }
    int64_t id = 0;
    nn_checkpoint *c = NULL;
    nn_status s = nn_runlog_find_run(log, spec, &id);
    if (s == NN_OK && !(c = nn_runlog_load_checkpoint(log, id, epoch))) s = NN_ERR_ARG;
    if (s == NN_OK) s = nn_checkpoint_save(c, out, params_only);
    if (s != NN_OK) {
        fprintf(stderr, "nngraph export: %s\n", nn_last_error());
    } else {
        int count = 0;
        for (int i = 0; i < nn_checkpoint_count(c); i++)
            count += !params_only || nn_checkpoint_role(c, i) == NN_ROLE_PARAM;
        if (json) {
            printf("{\"file\":");
            nnc_json_str(stdout, out);
            printf(",\"format\":\"%s\",\"run\":%lld,\"checkpoint\":%lld,\"epoch\":%lld,\"step\":%lld,\"tensors\":%d}\n",
                   params_only ? "weights" : "checkpoint", (long long)id,
                   (long long)nn_checkpoint_id(c), (long long)nn_checkpoint_epoch(c), (long long)nn_checkpoint_step(c),
                   count);
        } else {
            fprintf(stderr, "nngraph export: wrote %d tensors of run %lld (epoch %lld, step %lld) to %s\n", count,
                    (long long)id, (long long)nn_checkpoint_epoch(c), (long long)nn_checkpoint_step(c), out);
        }
    }
    nn_checkpoint_free(c);
    nn_runlog_close(log);
    return s == NN_OK ? 0 : 1;
}
