/* dropout(x): inverted dropout. In training mode each element is zeroed
 * with probability rate (fattr[0], in [0, 1)) and the survivors are scaled
 * by 1/(1 - rate), so the expected value is unchanged and evaluation needs
 * no rescaling; in evaluation mode it is the identity (Keras, PyTorch).
 *
 * The mask is not stored: element i of a run is kept when a hash of (the
 * run's seed, the node's stream iattr[0], i) clears the rate. The run's
 * seed mixes the graph's generator state with a count of its runs (so a
 * graph's seed fixes its masks, and no draw is taken from the generator),
 * the stream tells the dropout layers of one graph apart, and
 * dropout_grad(dy), which carries the same attributes, rebuilds exactly
 * the forward mask in the same run, on any thread. */
#include "ops.h"

#include <string.h>

extern const nn_op_def nn_op_dropout_grad;

static nn_status dropout_shape(nn_shape_ctx *c, nn_shape *out, nn_dtype *dt) {
    float rate = c->node->fattr[0];
    if (!(rate >= 0.f && rate < 1.f)) return nn_errf(c->err, NN_ERR_ARG, "rate %g is outside [0, 1)", (double)rate);
    return nn_rule_like_input(c, out, dt);
}

/* out = x * mask / (1 - rate), or a copy outside training. */
static void apply_mask(const nn_kernel_call *c, const float *x, float *y) { /* y may be x: in place */
    int64_t n = c->out->size;
    float rate = c->node->fattr[0];
    if (!c->training || rate == 0.f) {
        if (y != x) memcpy(y, x, (size_t)n * sizeof *y);
        return;
    }
    /* keep when the top 24 bits of the hash, as a fraction, are >= rate */
    uint32_t cut = (uint32_t)((double)rate * 16777216.0);
    float scale = 1.f / (1.f - rate);
    uint64_t base = c->seed ^ nn_mix64((uint64_t)c->node->iattr[0] + 0x9e3779b97f4a7c15ULL);
    for (int64_t i = 0; i < n; i++) {
        uint32_t u = (uint32_t)(nn_mix64(base + (uint64_t)i) >> 40);
        y[i] = u >= cut ? x[i] * scale : 0.f;
    }
}

static nn_status dropout_forward(nn_kernel_call *c) {
    apply_mask(c, NN_CF(c->in[0]), NN_F(c->out));
    return NN_OK;
}

static nn_status dropout_grad(nn_graph *g, nn_node *node, nn_node *dy, const int *want, nn_node **dx) {
    (void)want;
    dx[0] = nn_op_node(g, &nn_op_dropout_grad, NULL, 1, &dy, node->fattr, node->iattr);
    return g->status;
}

const nn_op_def nn_op_dropout = {
    .name = "dropout",
    .n_inputs = 1,
    .shape = dropout_shape,
    .forward = dropout_forward,
    .grad = dropout_grad,
    .inplace_ok = NN_INPLACE(0),
    .attrs = {{"rate", 'f', 0}, {"stream", 'n', 0}},
    .layer_kind = "Dropout",
};
/* the same mask over dy: the forward kernel again */
const nn_op_def nn_op_dropout_grad = {
    .name = "dropout_grad",
    .n_inputs = 1,
    .shape = dropout_shape,
    .forward = dropout_forward,
    .inplace_ok = NN_INPLACE(0),
    .attrs = {{"rate", 'f', 0}, {"stream", 'n', 0}},
};

/* The ops this file defines, for the table (ops/meson.build). */
const nn_op_def *const nn_ops_dropout[] = {&nn_op_dropout, &nn_op_dropout_grad, NULL};


nn_node *nn_dropout_op(nn_graph *g, nn_node *x, float rate) {
    float fattr[NN_MAX_ATTRS] = {rate};
    /* the node's future id: distinct for every dropout of the graph, and
     * the same when the graph file is loaded again */
    int64_t iattr[NN_MAX_ATTRS] = {g ? g->n_nodes : 0};
    return nn_op_node(g, &nn_op_dropout, NULL, 1, &x, fattr, iattr);
}
