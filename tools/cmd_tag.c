/* nngraph tag DB:RUN KEY=VALUE... [--notes TEXT]: tags and notes on a
 * logged run (MLflow's set_tag and description). The only run-log
 * subcommand that writes. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "Usage: nngraph tag DB:RUN [KEY=VALUE...] [--notes TEXT]\n\n"
    "Sets tags on a run of a run log (KEY= with nothing after '=' removes the tag)\n"
    "and with --notes replaces its notes; with neither, prints its tags and notes.\n"
    "RUN is an id, a uuid (or a unique prefix) or a name (its latest run).\n"
    "Keys are 1 to 63 bytes, values at most 191.\n";

static int run(int argc, char **argv) {
    const char *spec = NULL, *notes = NULL;
    int ntags = 0;
    for (int i = 1; i < argc; i++) {
        int r = cli_opt("tag", argc, argv, &i, "--notes", &notes);
        if (r < 0) return CLI_USAGE;
        if (r) continue;
        if (argv[i][0] == '-' && argv[i][1]) return cli_usage_error("tag", "unknown option '%s'", argv[i]);
        if (!spec) spec = argv[i];
        else if (!strchr(argv[i], '=') || argv[i][0] == '=')
            return cli_usage_error("tag", "'%s' is not KEY=VALUE", argv[i]);
        else ntags++;
    }
    const char *colon = spec ? strrchr(spec, ':') : NULL;
    if (!colon || colon == spec || !colon[1]) return cli_usage_error("tag", "give the run as DB:RUN (e.g. nngraph.db:3)");
    char db[1024];
    if ((size_t)(colon - spec) >= sizeof db) return cli_usage_error("tag", "'%s' is too long", spec);
    snprintf(db, sizeof db, "%.*s", (int)(colon - spec), spec);
    int writes = ntags > 0 || notes;
    nn_runlog *log = nn_runlog_open(db, writes ? 0 : NN_RUNLOG_READONLY);
    if (!log) return cli_fail("tag", "%s", nn_last_error());
    int64_t id = 0;
    nn_status s = nn_runlog_find_run(log, colon + 1, &id);
    for (int i = 1; s == NN_OK && i < argc; i++) {
        if (strcmp(argv[i], "--notes") == 0) {
            i++;
            continue;
        }
        const char *eq = strchr(argv[i], '=');
        if (argv[i] == spec || !eq || strncmp(argv[i], "--notes=", 8) == 0) continue;
        char key[256];
        snprintf(key, sizeof key, "%.*s", (int)(eq - argv[i]) < 255 ? (int)(eq - argv[i]) : 255, argv[i]);
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
