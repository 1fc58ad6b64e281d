/* global_avg_pool(x): the mean of every plane of x [N, C, H, W] (NCHW),
 * giving [N, C] (Keras's GlobalAveragePooling2D). Its gradient spreads
 * each dy[n, c] evenly over the plane. */
#include "ops.h"

extern const nn_op_def nn_op_global_avg_pool_grad;

static nn_status gap_shape(nn_shape_ctx *c, nn_shape *out, nn_dtype *dt) {
    if (c->in_dtype[0] != NN_F32) return nn_errf(c->err, NN_ERR_ARG, "input must be f32");
    nn_shape x = c->in[0];
    if (x.rank != 4) return nn_errf(c->err, NN_ERR_SHAPE, "input must be 4-D [N, C, H, W] (NCHW), it has rank %d", x.rank);
    for (int i = 1; i < 4; i++)
        if (x.dim[i] <= 0) return nn_errf(c->err, NN_ERR_SHAPE, "input dimension %d must be a fixed positive size", i);
    *out = NN_SHAPE(x.dim[0], x.dim[1]);
    *dt = NN_F32;
    return NN_OK;
}

static nn_status gap_forward(nn_kernel_call *c) {
    const nn_shape s = c->in[0]->shape;
    int64_t planes = s.dim[0] * s.dim[1], p = s.dim[2] * s.dim[3];
    const float *x = NN_CF(c->in[0]);
    float *y = NN_F(c->out);
    for (int64_t i = 0; i < planes; i++) {
        float sum = 0.f;
        for (int64_t k = 0; k < p; k++) sum += x[i * p + k];
        y[i] = sum / (float)p;
    }
    return NN_OK;
}

/* global_avg_pool_grad(x, dy): x gives the shape. */
static nn_status gap_grad_shape(nn_shape_ctx *c, nn_shape *out, nn_dtype *dt) {
    nn_shape pooled;
    nn_status st = gap_shape(c, &pooled, dt);
    if (st != NN_OK) return st;
    if (c->in_dtype[1] != NN_F32 || !nn_shape_equal(c->in[1], pooled))
        return nn_errf(c->err, NN_ERR_SHAPE, "the output gradient must be f32 [N, C] like the pool's output");
    *out = c->in[0];
    return NN_OK;
}

static nn_status gap_grad_forward(nn_kernel_call *c) {
    const nn_shape s = c->in[0]->shape;
    int64_t planes = s.dim[0] * s.dim[1], p = s.dim[2] * s.dim[3];
    const float *dy = NN_CF(c->in[1]);
    float *dx = NN_F(c->out);
    for (int64_t i = 0; i < planes; i++) {
        float share = dy[i] / (float)p;
        for (int64_t k = 0; k < p; k++) dx[i * p + k] = share;
    }
    return NN_OK;
}

static nn_status gap_grad(nn_graph *g, nn_node *node, nn_node *dy, const int *want, nn_node **dx) {
    (void)want;
    nn_node *in[2] = {node->in[0], dy};
    dx[0] = nn_op_node(g, &nn_op_global_avg_pool_grad, NULL, 2, in, NULL, NULL);
    return g->status;
}

const nn_op_def nn_op_global_avg_pool = {
    .name = "global_avg_pool",
    .n_inputs = 1,
    .shape = gap_shape,
    .forward = gap_forward,
    .grad = gap_grad,
    .layer_kind = "GlobalAveragePooling2D",
};
const nn_op_def nn_op_global_avg_pool_grad = {
    .name = "global_avg_pool_grad",
    .n_inputs = 2,
    .shape = gap_grad_shape,
    .forward = gap_grad_forward,
};

/* The ops this file defines, for the table (ops/meson.build). */
const nn_op_def *const nn_ops_global_avg_pool[] = {&nn_op_global_avg_pool, &nn_op_global_avg_pool_grad, NULL};


nn_node *nn_global_avg_pool(nn_graph *g, nn_node *x) {
    return nn_op_node(g, &nn_op_global_avg_pool, NULL, 1, &x, NULL, NULL);
}
