/* bce_with_logits(z, y): the mean of the binary cross-entropy of sigmoid(z)
 * against targets y, in the stable form max(z,0) - z*y + log(1+exp(-|z|)),
 * which never takes log(0) nor overflows exp. Gradient: (sigmoid(z) - y)/N.
 * Targets are data and get no gradient (PyTorch and TensorFlow give them
 * -z/N; include/nngraph/core.h). */
#include "ops.h"

#include <math.h>

extern const nn_op_def nn_op_bce_with_logits_grad;

static nn_status bce_shape(nn_shape_ctx *c, nn_shape *out, nn_dtype *dt) {
    return nn_rule_pair_loss(c, out, dt, "logits and targets");
}

static nn_status bce_forward(nn_kernel_call *c) {
    const float *z = NN_CF(c->in[0]), *y = NN_CF(c->in[1]);
    int64_t n = c->in[0]->size;
    double total = 0.0;
    for (int64_t i = 0; i < n; i++) {
        double zi = z[i];
        total += (zi > 0 ? zi : 0) - zi * y[i] + log1p(exp(-fabs(zi)));
    }
    NN_F(c->out)[0] = (float)(total / (double)n);
    return NN_OK;
}

static nn_status bce_grad(nn_graph *g, nn_node *node, nn_node *dy, const int *want, nn_node **dx) {
    if (want[0]) dx[0] = nn_grad_op3(g, &nn_op_bce_with_logits_grad, node->in[0], node->in[1], dy);
    return g->status;
}

static nn_status bce_grad_forward(nn_kernel_call *c) {
    const float *z = NN_CF(c->in[0]), *y = NN_CF(c->in[1]);
    float *dz = NN_F(c->out);
    int64_t n = c->in[0]->size;
    float scale = NN_CF(c->in[2])[0] / (float)n;
    for (int64_t i = 0; i < n; i++) {
        float e = expf(-fabsf(z[i]));
        float s = z[i] >= 0.f ? 1.f / (1.f + e) : e / (1.f + e);
        dz[i] = (s - y[i]) * scale;
    }
    return NN_OK;
}

static nn_status bce_grad_shape(nn_shape_ctx *c, nn_shape *out, nn_dtype *dt) {
    return nn_rule_pair_loss_grad(c, out, dt, "logits and targets");
}

const nn_op_def nn_op_bce_with_logits = {
    .name = "bce_with_logits",
    .n_inputs = 2,
    .shape = bce_shape,
    .forward = bce_forward,
    .grad = bce_grad,
    .role = NN_OP_LOSS,
    .output = NN_OUTPUT_BINARY,
};
const nn_op_def nn_op_bce_with_logits_grad = {
    .name = "bce_with_logits_grad",
    .n_inputs = 3,
    .shape = bce_grad_shape,
    .forward = bce_grad_forward,
};

/* The ops this file defines, for the table (ops/meson.build). */
const nn_op_def *const nn_ops_bce_with_logits[] = {&nn_op_bce_with_logits, &nn_op_bce_with_logits_grad, NULL};

nn_node *nn_bce_with_logits(nn_graph *g, nn_node *logits, nn_node *targets) {
    nn_node *in[2] = {logits, targets};
    return nn_op_node(g, &nn_op_bce_with_logits, NULL, 2, in, NULL, NULL);
}
