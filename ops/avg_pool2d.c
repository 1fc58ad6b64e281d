/* avg_pool2d(x): the mean of each window of x [N, C, H, W] (NCHW), over
 * the cells inside the image only (padding is not counted, as in Keras;
 * PyTorch's count_include_pad=False). Defaults as max_pool2d's. The
 * gradient spreads dy evenly over the cells each window averaged. */
#include "pool2d.h"
#include "pool.h"

#include <string.h>

extern const nn_op_def nn_op_avg_pool2d_grad;

typedef struct avg_job {
    const nn_window *w;
    const float *in;
    float *out;
} avg_job;

static void avg_planes(void *ctx, int64_t lo, int64_t hi) {
    const avg_job *j = ctx;
    const nn_window *w = j->w;
    for (int64_t pl = lo; pl < hi; pl++) {
        const float *plane = j->in + pl * w->h * w->w;
        float *o = j->out + pl * w->oh * w->ow;
        for (int64_t oy = 0; oy < w->oh; oy++)
            for (int64_t ox = 0; ox < w->ow; ox++) {
                int64_t y0, y1, x0, x1;
                nn_pool_cell(w, oy, ox, &y0, &y1, &x0, &x1);
                float s = 0.f;
                for (int64_t iy = y0; iy < y1; iy++)
                    for (int64_t ix = x0; ix < x1; ix++) s += plane[iy * w->w + ix];
                o[oy * w->ow + ox] = s / (float)((y1 - y0) * (x1 - x0));
            }
    }
}

static void avg_grad_planes(void *ctx, int64_t lo, int64_t hi) {
    const avg_job *j = ctx;
    const nn_window *w = j->w;
    for (int64_t pl = lo; pl < hi; pl++) {
        const float *d = j->in + pl * w->oh * w->ow;
        float *o = j->out + pl * w->h * w->w;
        memset(o, 0, (size_t)(w->h * w->w) * sizeof *o);
        for (int64_t oy = 0; oy < w->oh; oy++)
            for (int64_t ox = 0; ox < w->ow; ox++) {
                int64_t y0, y1, x0, x1;
                nn_pool_cell(w, oy, ox, &y0, &y1, &x0, &x1);
                float share = d[oy * w->ow + ox] / (float)((y1 - y0) * (x1 - x0));
                for (int64_t iy = y0; iy < y1; iy++)
                    for (int64_t ix = x0; ix < x1; ix++) o[iy * w->w + ix] += share;
            }
    }
}

static nn_status avg_pool2d_forward(nn_kernel_call *c) {
    nn_window w;
    if (nn_pool_geom(c->node, c->in[0]->shape, &w, c->err) != NN_OK) return NN_ERR_SHAPE;
    avg_job j = {&w, NN_CF(c->in[0]), NN_F(c->out)};
    nn_parallel_for(c->exec, w.n * w.c, 1 + 100000 / (w.h * w.w), avg_planes, &j);
    return NN_OK;
}

/* avg_pool2d_grad(x, dy): x gives the shape only. */
static nn_status avg_pool2d_grad_forward(nn_kernel_call *c) {
    nn_window w;
    if (nn_pool_geom(c->node, c->in[0]->shape, &w, c->err) != NN_OK) return NN_ERR_SHAPE;
    avg_job j = {&w, NN_CF(c->in[1]), NN_F(c->out)};
    nn_parallel_for(c->exec, w.n * w.c, 1 + 100000 / (w.h * w.w), avg_grad_planes, &j);
    return NN_OK;
}

static nn_status avg_pool2d_grad(nn_graph *g, nn_node *node, nn_node *dy, const int *want, nn_node **dx) {
    (void)want;
    nn_node *in[2] = {node->in[0], dy};
    dx[0] = nn_op_node(g, &nn_op_avg_pool2d_grad, NULL, 2, in, NULL, node->iattr);
    return g->status;
}

const nn_op_def nn_op_avg_pool2d = {
    .name = "avg_pool2d",
    .n_inputs = 1,
    .shape = nn_pool_shape,
    .forward = avg_pool2d_forward,
    .grad = avg_pool2d_grad,
    .attrs = NN_POOL_ATTRS,
    .layer_kind = "AveragePooling2D",
};
const nn_op_def nn_op_avg_pool2d_grad = {
    .name = "avg_pool2d_grad",
    .n_inputs = 2,
    .shape = nn_pool_grad_shape,
    .forward = avg_pool2d_grad_forward,
    .attrs = NN_POOL_ATTRS,
};

/* The ops this file defines, for the table (ops/meson.build). */
const nn_op_def *const nn_ops_avg_pool2d[] = {&nn_op_avg_pool2d, &nn_op_avg_pool2d_grad, NULL};


nn_node *nn_avg_pool2d_op(nn_graph *g, nn_node *x, const nn_pool2d_opts *o) {
    return nn_pool_node(g, &nn_op_avg_pool2d, x, o);
}
