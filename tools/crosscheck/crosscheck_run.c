/* nngraph-crosscheck-run: runs one case of tools/crosscheck/crosscheck.py.
 *
 *   nngraph-crosscheck-run GRAPH.nng DATA.in RESULT.out
 *
 * GRAPH.nng is an ordinary graph file whose result is the node named "out"
 * and whose leaves are `input` nodes. DATA.in holds, for each input node in
 * file order and then for the upstream gradient R (out's shape), a tensor:
 * u32 rank, rank x i64 dims, the values (f32, or i32 for an i32 input),
 * little-endian. The program runs out and the gradients of sum(out * R)
 * with respect to every f32 input, and writes to RESULT.out the values of
 * out and then of each gradient in input order, as f32. So every op is
 * reached through the library's own graph loader and autodiff, and the
 * script needs no per-op code here. Exit status 0, or 1 with the reason on
 * stderr. */
#include "nngraph.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_INPUTS = 16 };

static int fail(const char *what, const char *why) {
    fprintf(stderr, "nngraph-crosscheck-run: %s: %s\n", what, why);
    return 1;
}

/* Reads one tensor of dtype dt; NULL on a short or malformed file. */
static nn_tensor *read_tensor(FILE *f, nn_dtype dt) {
    uint32_t rank;
    if (fread(&rank, 4, 1, f) != 1 || rank > 4) return NULL;
    nn_shape s = {.rank = (int)rank};
    for (uint32_t k = 0; k < rank; k++) {
        int64_t d;
        if (fread(&d, 8, 1, f) != 1 || d < 1 || d > (1 << 26)) return NULL;
        s.dim[k] = d;
    }
    nn_tensor *t = nn_tensor_new(dt, s);
    if (!t) return NULL;
    size_t n = (size_t)nn_tensor_size(t);
    void *data = dt == NN_I32 ? (void *)nn_tensor_i32(t) : (void *)nn_tensor_f32(t);
    if (fread(data, 4, n, f) != n) {
        nn_tensor_free(t);
        return NULL;
    }
    return t;
}

static int write_values(FILE *f, const nn_tensor *t) {
    size_t n = (size_t)nn_tensor_size(t);
    return fwrite(nn_tensor_f32(t), 4, n, f) == n;
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: nngraph-crosscheck-run GRAPH.nng DATA.in RESULT.out\n");
        return 2;
    }
    nn_graph *g = nn_graph_load(argv[1], 1);
    if (!g) return fail(argv[1], nn_last_error());
    nn_node *out = nn_graph_find(g, "out");
    if (!out) return fail(argv[1], "no node named 'out'");
    nn_node *inputs[MAX_INPUTS], *wrt[MAX_INPUTS], *grads[MAX_INPUTS];
    nn_tensor *values[MAX_INPUTS + 1] = {0};
    int n_in = 0, n_wrt = 0;
    for (int i = 0; i < nn_graph_num_nodes(g); i++) {
        nn_node *n = nn_graph_node(g, i);
        if (nn_node_kind_of(n) != NN_NODE_INPUT) continue;
        if (n_in == MAX_INPUTS) return fail(argv[1], "too many inputs");
        inputs[n_in++] = n;
        if (nn_node_dtype(n) == NN_F32) wrt[n_wrt++] = n;
    }
    FILE *f = fopen(argv[2], "rb");
    if (!f) return fail(argv[2], "cannot open");
    for (int i = 0; i <= n_in; i++) {
        values[i] = read_tensor(f, i < n_in ? nn_node_dtype(inputs[i]) : NN_F32);
        if (!values[i]) return fail(argv[2], "truncated or malformed tensor");
        if (i < n_in && nn_set_input(g, inputs[i], values[i]) != NN_OK) return fail(argv[2], nn_error_message(g));
    }
    fclose(f);
    /* R is an input of out's shape, open batch included */
    nn_node *R = nn_input(g, "crosscheck/R", NN_F32, nn_node_shape(out));
    if (nn_set_input(g, R, values[n_in]) != NN_OK) return fail(argv[2], nn_error_message(g));
    nn_node *loss = nn_sum(g, nn_mul(g, out, R), NN_ALL_AXES);
    if (nn_grad(g, loss, wrt, n_wrt, grads) != NN_OK) return fail("grad", nn_error_message(g));
    nn_node *outs[MAX_INPUTS + 1] = {out};
    memcpy(outs + 1, grads, (size_t)n_wrt * sizeof *grads);
    if (nn_run(g, outs, n_wrt + 1) != NN_OK) return fail("run", nn_error_message(g));
    FILE *o = fopen(argv[3], "wb");
    if (!o) return fail(argv[3], "cannot create");
    for (int i = 0; i <= n_wrt; i++)
        if (!write_values(o, nn_value(outs[i]))) return fail(argv[3], "write failed");
    if (fclose(o) != 0) return fail(argv[3], "write failed");
    for (int i = 0; i <= n_in; i++) nn_tensor_free(values[i]);
    nn_graph_free(g);
    return 0;
}
