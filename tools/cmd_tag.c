/* nngraph tag DB:RUN KEY=VALUE... [--notes TEXT]: tags and notes on a
 * logged run (MLflow's set_tag and description). The only run-log
 * subcommand that writes. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "Usage: nngraph tag DB:RUN|RUN|--db DB --run RUN [KEY=VALUE...] [--notes TEXT]\n\n"
    "Sets tags on a run of a run log (KEY= with nothing after '=' removes the tag)\n"
    "and with --notes replaces its notes; with neither, prints its tags and notes.\n"
    "RUN is an id, a uuid (or a unique prefix) or a name (its latest run); a bare\n"
    "RUN is looked up in " NN_RUNLOG_DEFAULT_PATH " (or --db).\n"
    "Keys are 1 to 63 bytes, values at most 191.\n";

enum { OPT_NOTES = 1 };
static const cli_option options[] = {{"notes", 0, "TEXT", OPT_NOTES}, CLI_SOURCE_OPTIONS, {NULL, 0, NULL, 0}};

/* At most this many KEY=VALUE pairs a call. */
#define MAX_TAGS 64

static int run(int argc, char **argv) {
    cli_source src = {0};
    const char *notes = NULL, *tags[MAX_TAGS];
    int ntags = 0;
    cli_args a;
    cli_args_init(&a, "tag", options, argc, argv);
    for (int opt; (opt = cli_next(&a)) != CLI_END;) {
        if (opt == OPT_NOTES) {
            notes = a.value;
        } else if (opt == CLI_OPERAND && (src.file || src.run)) {
            /* after the run, KEY=VALUE pairs */
            if (!strchr(a.value, '=') || a.value[0] == '=')
                return cli_usage_error("tag", "'%s' is not KEY=VALUE", a.value);
            if (ntags == MAX_TAGS) return cli_usage_error("tag", "at most %d tags at a time", MAX_TAGS);
            tags[ntags++] = a.value;
        } else if (!cli_source_arg("tag", &src, opt, a.value)) {
            return CLI_USAGE;
        }
    }
    if (cli_source_resolve("tag", &src, NN_RUNLOG_DEFAULT_PATH, 1)) return CLI_USAGE;
    const char *db = src.db;
    int writes = ntags > 0 || notes;
    nn_runlog *log = nn_runlog_open(db, writes ? 0 : NN_RUNLOG_READONLY);
    if (!log) return cli_fail("tag", "%s", nn_last_error());
    int64_t id = 0;
    nn_status s = nn_runlog_find_run(log, src.run, &id);
    for (int i = 0; s == NN_OK && i < ntags; i++) {
        const char *eq = strchr(tags[i], '=');
        char key[256];
        snprintf(key, sizeof key, "%.*s", (int)(eq - tags[i]) < 255 ? (int)(eq - tags[i]) : 255, tags[i]);
        s = nn_runlog_tag(log, id, key, eq + 1);
    }
    if (s == NN_OK && notes) s = nn_runlog_set_notes(log, id, notes);
    if (s == NN_OK && !writes) {
        nn_param_kv *kv = NULL;
        int n = 0;
        char *text = NULL;
        s = nn_runlog_tags(log, id, &kv, &n);
        if (s == NN_OK && !(text = nn_runlog_notes(log, id))) s = NN_ERR_DB;
        if (s == NN_OK) {
            for (int i = 0; i < n; i++) printf("%s=%s\n", kv[i].key, kv[i].value);
            if (text[0]) printf("notes: %s\n", text);
        }
        free(kv);
        free(text);
    }
    if (s != NN_OK) cli_fail("tag", "%s", nn_last_error());
    nn_status c = nn_runlog_close(log);
    if (s == NN_OK && c != NN_OK) s = cli_fail("tag", "%s", nn_last_error());
    if (s == NN_OK && writes) fprintf(stderr, "run %lld: %d tag%s%s written\n", (long long)id, ntags, ntags == 1 ? "" : "s",
                                      notes ? " and notes" : "");
    return s == NN_OK ? CLI_OK : CLI_RUNTIME;
}

const cli_command cli_tag = {"tag", "set tags and notes on a logged run (DB:RUN KEY=VALUE)", usage, run};
