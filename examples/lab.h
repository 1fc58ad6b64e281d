/* Small helpers the lab programs share: failing with the library's message,
 * binary targets from class labels, accuracy and printing a weight matrix.
 * Header-only (static functions) so that every example stays one program. */
#ifndef NNGRAPH_EXAMPLES_LAB_H
#define NNGRAPH_EXAMPLES_LAB_H

#include "nngraph.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

/* Stops the program when graph building failed: the graph's first error
 * names the op, node and shapes. */
static inline void lab_check_graph(nn_graph *g) {
    if (nn_graph_status(g) != NN_OK) {
        fprintf(stderr, "error: %s\n", nn_error_message(g));
        exit(1);
    }
}

/* For functions that report through nn_last_error(). */
static inline void lab_check(int ok, const char *what) {
    if (!ok) {
        fprintf(stderr, "error: %s: %s\n", what, nn_last_error());
        exit(1);
    }
}

/* A copy of d whose y, class labels 0/1 (i32 [n]), becomes f32 [n,1]
 * targets, as a sigmoid output with binary cross-entropy wants. */
static inline nn_dataset *lab_binary_targets(const nn_dataset *d) {
    int64_t n = nn_dataset_size(d);
    nn_tensor *t = nn_tensor_new(NN_F32, NN_SHAPE(n, 1));
    lab_check(t != NULL, "targets");
    for (int64_t i = 0; i < n; i++) nn_tensor_f32(t)[i] = (float)nn_tensor_i32(d->y)[i];
    nn_dataset *out = nn_dataset_new(nn_tensor_clone(d->x), t);
    lab_check(out != NULL, "targets");
    return out;
}

/* Fraction of rows classified right: scores [n,k] by argmax (k > 1), or a
 * single logit [n,1] by its sign (sigmoid > 0.5), against i32 labels. */
static inline double lab_accuracy(const nn_tensor *scores, const nn_tensor *labels) {
    nn_shape s = nn_tensor_shape(scores);
    int64_t n = s.dim[0], right = 0;
    if (s.dim[1] > 1) return 1.0 - (double)nn_count_errors(scores, labels) / (double)n;
    for (int64_t i = 0; i < n; i++)
        right += (nn_tensor_f32(scores)[i] > 0) == (nn_tensor_i32(labels)[i] == 1);
    return (double)right / (double)n;
}

/* Prints a parameter, e.g. "L1/W [2,2]" and its rows. */
static inline void lab_print_param(nn_graph *g, const char *name) {
    nn_node *p = nn_graph_find(g, name);
    if (!p) {
        fprintf(stderr, "error: no parameter %s\n", name);
        exit(1);
    }
    const nn_tensor *t = nn_param_value(p);
    nn_shape s = nn_tensor_shape(t);
    char buf[48];
    printf("%s %s\n", name, nn_shape_str(s, buf, sizeof buf));
    int64_t rows = s.rank == 2 ? s.dim[0] : 1, cols = s.rank == 2 ? s.dim[1] : s.dim[0];
    for (int64_t r = 0; r < rows; r++) {
        printf("  ");
        for (int64_t c = 0; c < cols; c++) printf(" %9.4f", nn_tensor_f32(t)[r * cols + c]);
        printf("\n");
    }
}

#endif
