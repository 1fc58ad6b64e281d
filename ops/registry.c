/* The op registry: every op nngraph knows by name (graph files, DOT, the
 * CLI, gradient audits). The built-in ops come from the table in
 * ops/meson.build (one line an op file, each file listing its descriptors
 * in nn_ops_FILE); nn_op_register adds others at run time. Adding an op:
 * docs/adding-an-op.md. */
#include "ops.h"

#include <string.h>

#define NN_OP_FILE(f) extern const nn_op_def *const nn_ops_##f[];
#include "op_files.h"
#undef NN_OP_FILE

static const nn_op_def *const *const files[] = {
#define NN_OP_FILE(f) nn_ops_##f,
#include "op_files.h"
#undef NN_OP_FILE
};

#define MAX_OPS 256
static const nn_op_def *ops[MAX_OPS];
static int n_ops = -1; /* -1: the table is not read yet */

/* Flattens the files' lists into ops[] on first use. Single-threaded
 * like registration: the first lookup happens while a graph is built. */
static void load_table(void) {
    if (n_ops >= 0) return;
    n_ops = 0;
    for (size_t f = 0; f < sizeof files / sizeof *files; f++)
        for (const nn_op_def *const *op = files[f]; *op && n_ops < MAX_OPS; op++) ops[n_ops++] = *op;
}

int nn_op_count(void) {
    load_table();
    return n_ops;
}

const nn_op_def *nn_op_at(int i) { return i >= 0 && i < nn_op_count() ? ops[i] : NULL; }

const nn_op_def *nn_op_find(const char *name) {
    for (int i = 0; name && i < nn_op_count(); i++)
        if (strcmp(ops[i]->name, name) == 0) return ops[i];
    return NULL;
}

nn_status nn_op_register(const nn_op_def *op) {
    if (!op || !op->name || !*op->name || op->n_inputs < 1 || op->n_inputs > NN_MAX_INPUTS || !op->shape ||
        !op->forward)
        return nn_set_error(NN_ERR_ARG, "register op: a name, 1 to %d inputs, a shape rule and a kernel are required",
                            NN_MAX_INPUTS);
    if (nn_op_find(op->name)) return nn_set_error(NN_ERR_ARG, "register op %s: an op of that name exists", op->name);
    if (n_ops == MAX_OPS) return nn_set_error(NN_ERR_STATE, "register op %s: at most %d ops", op->name, MAX_OPS);
    ops[n_ops++] = op;
    return NN_OK;
}
