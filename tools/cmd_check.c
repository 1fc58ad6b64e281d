/* nngraph check: a gradient audit of every op of a graph file. Each
 * distinct op node (same op, attributes and input shapes counted once) is
 * rebuilt alone on random inputs and its gradient rule compared with
 * central differences (nn_gradcheck_node). One row per op: nodes checked,
 * elements compared, worst relative error; exit 1 if any element is past
 * the tolerance. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "Usage: nngraph check FILE.nng|DB:RUN|--db DB --run RUN [--seed N] [--batch N] [--json]\n\n"
    "Checks the gradient rule of every op in the graph on random inputs against\n"
    "central differences (reference loss in double; pass: |a-n| <= 1e-4 + 1e-2|n|).\n"
    "Prints the worst relative error per op; exit status 1 if any op fails.\n\n"
    "  --seed N    random inputs' seed (default 1)\n"
    "  --batch N   size given to the open batch dimension B (default 3)\n"
    "  --json      one JSON object per op (JSON Lines) instead of the table\n"
    "  --db DB --run RUN  the graph a run log recorded for RUN (the same as DB:RUN)\n";

typedef struct op_row {
    const char *op;
    int nodes, checked, failures, no_rule, unresolved;
    double worst_rel;
    char worst_node[256], detail[256];
} op_row;

enum { OPT_SEED = 1, OPT_BATCH, OPT_JSON };
static const cli_option options[] = {
    {"seed", 0, "N", OPT_SEED}, {"batch", 0, "N", OPT_BATCH}, {"json", 0, NULL, OPT_JSON}, CLI_SOURCE_OPTIONS,
    {NULL, 0, NULL, 0}};

static int run(int argc, char **argv) {
    cli_source src = {0};
    long long seed = 1, batch = 3;
    int json = 0;
    cli_args a;
    cli_args_init(&a, "check", options, argc, argv);
    for (int opt; (opt = cli_next(&a)) != CLI_END;) {
        switch (opt) {
        case OPT_SEED:
            if (cli_int("check", "--seed", a.value, 0, (long long)INT64_MAX, &seed)) return CLI_USAGE;
            break;
        case OPT_BATCH:
            if (cli_int("check", "--batch", a.value, 1, 4096, &batch)) return CLI_USAGE;
            break;
        case OPT_JSON: json = 1; break;
        default:
            if (!cli_source_arg("check", &src, opt, a.value)) return CLI_USAGE;
        }
    }
    if (cli_source_resolve("check", &src, NULL, 0)) return CLI_USAGE;
    nn_graph *g = cli_load_graph("check", &src, 1);
    if (!g) return CLI_RUNTIME;
    int n = nn_graph_num_nodes(g), n_rows = 0, status = CLI_OK;
    op_row *rows = calloc((size_t)n + 1, sizeof *rows);
    if (!rows) {
        nn_graph_free(g);
        return cli_fail("check", "out of memory");
    }
    for (int i = 0; i < n && status == CLI_OK; i++) {
        nn_node *node = nn_graph_node(g, i);
        if (nn_node_kind_of(node) != NN_NODE_OP) continue;
        int seen = 0;
        for (int j = 0; j < i && !seen; j++) seen = nn_node_kind_of(nn_graph_node(g, j)) == NN_NODE_OP &&
                                                    nn_gradcheck_same_case(nn_graph_node(g, j), node);
        if (seen) continue;
        nn_gradcheck_report rep = {0};
        /* an ffi op whose library was not loaded is shown, never run */
        nn_ffi_info ffi;
        int unresolved = nn_ffi_node_info(node, &ffi) && ffi.unresolved;
        if (!unresolved && nn_gradcheck_node(node, batch, (uint64_t)seed + (uint64_t)i, &rep) != NN_OK) {
            status = cli_fail("check", "%s", nn_last_error());
            break;
        }
        op_row *row = NULL;
        for (int r = 0; r < n_rows && !row; r++)
            if (strcmp(rows[r].op, nn_node_op(node)) == 0) row = &rows[r];
        if (!row) {
            row = &rows[n_rows++];
            row->op = nn_node_op(node);
        }
        row->nodes++;
        row->unresolved = unresolved;
        row->no_rule = rep.no_gradient_rule;
        row->checked += rep.checked;
        row->failures += rep.failures;
        if (rep.checked && (rep.worst_rel > row->worst_rel || !row->worst_node[0])) {
            row->worst_rel = rep.worst_rel;
            snprintf(row->worst_node, sizeof row->worst_node, "%s", rep.node);
            snprintf(row->detail, sizeof row->detail, "%s", rep.detail);
        }
    }
    if (status == CLI_OK) {
        int failed = 0;
        if (!json) printf("%-28s %6s %9s %14s  %s\n", "op", "nodes", "elements", "worst rel err", "result");
        for (int r = 0; r < n_rows; r++) {
            const op_row *row = &rows[r];
            if (json) {
                /* op names are identifiers (letters, digits, _ and the ':' of
                 * custom ops): nothing to escape */
                const char *result = row->unresolved ? "unresolved"
                                     : row->no_rule  ? "no_rule"
                                     : row->failures ? "fail"
                                                     : "ok";
                printf("{\"op\": \"%s\", \"nodes\": %d, \"elements\": %d, \"failures\": %d, \"worst_rel\": ", row->op,
                       row->nodes, row->checked, row->failures);
                if (row->checked)
                    printf("%.6g", row->worst_rel);
                else
                    printf("null");
                printf(", \"result\": \"%s\"}\n", result);
                failed += row->failures != 0;
                continue;
            }
            if (row->unresolved) {
                printf("%-28s %6d %9s %14s  %s\n", row->op, row->nodes, "-", "-",
                       "unresolved ffi op (not checked: load its library with --ops)");
                continue;
            }
            if (row->no_rule) {
                printf("%-28s %6d %9s %14s  %s\n", row->op, row->nodes, "-", "-", "no gradient rule (not checked)");
                continue;
            }
            if (row->checked == 0) {
                printf("%-28s %6d %9d %14s  %s\n", row->op, row->nodes, 0, "-", "ok (no input takes a gradient)");
                continue;
            }
            printf("%-28s %6d %9d %14.3e  %s\n", row->op, row->nodes, row->checked, row->worst_rel,
                   row->failures ? "FAIL" : "ok");
            if (row->failures) {
                failed++;
                fprintf(stderr, "nngraph check: op %s: %d of %d elements past tolerance; worst at '%s' %s\n", row->op,
                        row->failures, row->checked, row->worst_node, row->detail);
            }
        }
        if (failed) status = cli_fail("check", "%d op%s failed the gradient check", failed, failed == 1 ? "" : "s");
    }
    free(rows);
    nn_graph_free(g);
    return status;
}

const cli_command cli_check = {"check", "gradient audit of every op against finite differences", usage, run};
