/* Fuzz target: the graph file reader. Whatever loads must save, and the
 * saved text must load again and save to the same bytes (the fixed point
 * save(load(save(load(f)))) == save(load(f))); it is described as
 * `summary` and `dot` describe it (layers, DOT text); then it runs forward
 * with every input fed (batch 2), and backward from its last scalar op to
 * its parameters. ffi ops load as unresolved placeholders (no library is
 * ever opened); their runs fail cleanly. */
#include "fuzz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Elements of a shape with the open batch set to 2; -1 when large. */
static int64_t elems(nn_shape s) {
    int64_t n = 1;
    for (int i = 0; i < s.rank; i++) {
        int64_t d = s.dim[i] == NN_BATCH ? 2 : s.dim[i];
        if (d <= 0 || n > ((int64_t)1 << 22) / d) return -1;
        n *= d;
    }
    return n;
}

static void run_graph(nn_graph *g) {
    int n = nn_graph_num_nodes(g);
    int64_t total = 0;
    for (int i = 0; i < n; i++) {
        int64_t e = elems(nn_node_shape(nn_graph_node(g, i)));
        if (e < 0 || (total += e) > ((int64_t)1 << 22)) return; /* too big to run quickly: loading was the test */
    }
    nn_graph_set_threads(g, 1);
    nn_tensor *fed[64];
    int n_fed = 0;
    nn_node *outs[256], *loss = NULL;
    int n_out = 0;
    for (int i = 0; i < n; i++) {
        nn_node *node = nn_graph_node(g, i);
        nn_shape s = nn_node_shape(node);
        if (nn_node_kind_of(node) == NN_NODE_INPUT && n_fed < 64) {
            for (int d = 0; d < s.rank; d++)
                if (s.dim[d] == NN_BATCH) s.dim[d] = 2;
            nn_tensor *t = nn_tensor_new(nn_node_dtype(node), s);
            if (!t) return;
            for (int64_t k = 0; k < nn_tensor_size(t); k++) {
                if (nn_node_dtype(node) == NN_F32)
                    nn_tensor_f32(t)[k] = (float)((k % 7) - 3) * 0.25f;
                else
                    nn_tensor_i32(t)[k] = 0; /* a class label every op accepts */
            }
            nn_set_input(g, node, t);
            fed[n_fed++] = t;
        }
        if (nn_node_kind_of(node) == NN_NODE_OP && n_out < 256) {
            outs[n_out++] = node;
            if (!nn_node_is_grad(node) && s.rank == 0 && nn_node_dtype(node) == NN_F32) loss = node;
        }
    }
    if (n_out) nn_run(g, outs, n_out); /* may fail (no fed value, label range): never crash */
    nn_node *params[64], *grads[64];
    int n_params = nn_graph_params(g, params, 64);
    if (loss && n_params > 0 && n_params <= 64 && nn_grad(g, loss, params, n_params, grads) == NN_OK)
        nn_run(g, grads, n_params);
    for (int i = 0; i < n_fed; i++) nn_tensor_free(fed[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_setup_graph_reading();
    nn_graph *g = nn_graph_load_text((const char *)data, size, "fuzz.nng", 1);
    if (!g) return 0;
    char *saved = nn_graph_to_text(g);
    if (!saved) fuzz_fail("a loaded graph does not save: %s", nn_last_error());
    nn_graph *again = nn_graph_load_text(saved, strlen(saved), "saved.nng", 1);
    if (!again) fuzz_fail("a saved graph does not load: %s\n%s", nn_last_error(), saved);
    char *resaved = nn_graph_to_text(again);
    if (!resaved || strcmp(saved, resaved) != 0)
        fuzz_fail("save(load(text)) is no fixed point:\n%s\n---\n%s", saved, resaved ? resaved : nn_last_error());
    free(saved);
    free(resaved);
    nn_graph_free(again);
    /* what summary and dot read: layers (a long scope once read
     * nodes[-1]), the summary table, DOT text by ops and by layers */
    static FILE *devnull;
    if (!devnull) devnull = fopen("/dev/null", "w");
    nn_layer_info layers[8];
    nn_graph_layers(g, layers, 8);
    if (devnull) nn_summary(g, devnull);
    for (int by_layers = 0; by_layers < 2; by_layers++) {
        nn_dot_opts o = {0};
        o.layers = by_layers;
        o.backward = 1;
        free(nn_graph_dot_string(g, &o));
    }
    run_graph(g);
    nn_graph_free(g);
    return 0;
}
