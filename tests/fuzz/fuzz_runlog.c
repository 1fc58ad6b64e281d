/* Fuzz target: the run-log readers on a crafted database file, opened
 * read-only as `nngraph runs`, `show`, `export` and `dot DB:RUN` open it:
 * every run's record, hyperparameters, metrics, loss curve, graph text
 * (loaded as a graph, ffi ops unresolved) and checkpoints (exported as
 * weights and as a checkpoint file). Inputs are whole SQLite files, so the
 * seeds are real run logs. */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

static void read_run(nn_runlog *log, int64_t id) {
    nn_run_row row;
    nn_runlog_get_run(log, id, &row);
    nn_param_kv *kv = NULL;
    int n = 0;
    if (nn_runlog_params(log, id, &kv, &n) == NN_OK) free(kv);
    nn_metric_last *m = NULL;
    if (nn_runlog_last_metrics(log, id, &m, &n) == NN_OK) free(m);
    nn_metric_point *p = NULL;
    if (nn_runlog_curve(log, id, "loss", "train", 1, &p, &n) == NN_OK) free(p);
    if (nn_runlog_tags(log, id, &kv, &n) == NN_OK) free(kv);
    free(nn_runlog_notes(log, id));
    nn_ckpt_row *ck = NULL;
    if (nn_runlog_checkpoints(log, id, &ck, &n) == NN_OK) free(ck);
    char *text = nn_runlog_graph_text(log, id);
    if (text) {
        nn_graph_free(nn_graph_load_text(text, strlen(text), "run.nng", 1));
        free(text);
    }
    nn_checkpoint *c = nn_runlog_load_checkpoint(log, id, -1);
    if (c) {
        for (int i = 0; i < nn_checkpoint_count(c); i++) (void)nn_checkpoint_tensor(c, i);
        const char *out = fuzz_scratch_path("");
        nn_checkpoint_save(c, out, 1);
        nn_checkpoint_save(c, out, 0);
        nn_checkpoint_free(c);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_setup_graph_reading();
    const char *db = fuzz_scratch(data, size, ".db");
    nn_runlog *log = nn_runlog_open(db, NN_RUNLOG_READONLY);
    if (!log) return 0;
    nn_run_row *rows = NULL;
    int n = 0, read_found = 1;
    int64_t id = 0;
    int found = nn_runlog_find_run(log, "1", &id) == NN_OK;
    if (nn_runlog_list(log, &rows, &n) == NN_OK) {
        for (int i = 0; i < n && i < 16; i++) {
            read_run(log, rows[i].id);
            /* reading the same run twice finds nothing new and costs half
             * the input's time when the log holds one run */
            if (found && rows[i].id == id) read_found = 0;
        }
        free(rows);
    }
    if (found && read_found) read_run(log, id);
    nn_runlog_close(log);
    return 0;
}
