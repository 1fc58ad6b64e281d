/* nngraph export DB:RUN [--epoch E] -o FILE: a checkpoint's weights out
 * of the run log into a weights file (the one `nngraph predict --weights`
 * and nn_weights_load() read), or with --full the whole checkpoint
 * (optimizer state, generator) for nn_checkpoint_read(). */
#include "cli.h"
#include "cmd_runlog.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "Usage: nngraph export DB:RUN|RUN|--db DB --run RUN -o FILE [--epoch E] [--full] [--json]\n\n"
    "Writes the weights of a run's checkpoint (default: its last) from a run log\n"
    "to FILE as a weights file, which `nngraph predict --weights FILE` and\n"
    "nn_weights_load() read. A bare RUN is looked up in " NN_RUNLOG_DEFAULT_PATH " (or --db).\n\n"
    "  -o, --output FILE  where to write (replaced atomically)\n"
    "  --epoch E          the checkpoint taken at epoch E\n"
    "  --full             the whole checkpoint instead: parameters, optimizer state and\n"
    "                     generator, step and epoch (\"NNGC\", read by nn_checkpoint_read)\n"
    "  --json             describe what was written as one JSON object\n"
    "  --db DB --run RUN  the run, spelled out (the same as DB:RUN)\n";

enum { OPT_OUTPUT = 1, OPT_EPOCH, OPT_FULL, OPT_JSON };
static const cli_option options[] = {{"output", 'o', "FILE", OPT_OUTPUT}, {"epoch", 0, "E", OPT_EPOCH},
                                     {"full", 0, NULL, OPT_FULL},         {"json", 0, NULL, OPT_JSON},
                                     CLI_SOURCE_OPTIONS,                  {NULL, 0, NULL, 0}};

static int run(int argc, char **argv) {
    cli_source src = {0};
    const char *out = NULL;
    long long epoch = -1;
    int json = 0, params_only = 1;
    cli_args a;
    cli_args_init(&a, "export", options, argc, argv);
    for (int opt; (opt = cli_next(&a)) != CLI_END;) {
        switch (opt) {
        case OPT_OUTPUT: out = a.value; break;
        case OPT_EPOCH:
            if (cli_int("export", "--epoch", a.value, 0, (long long)INT64_MAX, &epoch)) return CLI_USAGE;
            break;
        case OPT_FULL: params_only = 0; break;
        case OPT_JSON: json = 1; break;
        default:
            if (!cli_source_arg("export", &src, opt, a.value)) return CLI_USAGE;
        }
    }
    if (cli_source_resolve("export", &src, NN_RUNLOG_DEFAULT_PATH, 1)) return CLI_USAGE;
    if (!out) return cli_usage_error("export", "no output file: give -o FILE");
    const char *db = src.db, *spec = src.run;
    if (cli_safe_output("export", out, &db, 1) != CLI_OK) return CLI_RUNTIME;
    nn_runlog *log = nn_runlog_open(db, NN_RUNLOG_READONLY);
    if (!log) return cli_fail("export", "%s", nn_last_error());
    int64_t id = 0;
    nn_checkpoint *c = NULL;
    nn_status s = nn_runlog_find_run(log, spec, &id);
    if (s == NN_OK && !(c = nn_runlog_load_checkpoint(log, id, epoch))) s = NN_ERR_ARG;
    if (s == NN_OK) s = nn_checkpoint_save(c, out, params_only);
    if (s != NN_OK) {
        cli_fail("export", "%s", nn_last_error());
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
    return s == NN_OK ? CLI_OK : CLI_RUNTIME;
}

const cli_command cli_export = {"export", "write a logged checkpoint's weights to a .nnw file", usage, run};
