/* max_pool2d(x): the maximum of each window of x [N, C, H, W] (NCHW);
 * Keras's defaults, a 2x2 window, stride the window, no padding. Padding
 * cells are never the maximum (as if -inf). The gradient sends dy to the
 * first maximum of each window, as PyTorch does; max_pool2d_grad finds it
 * again from x rather than keeping indices, so the forward step stores
 * nothing extra. */
#include "pool2d.h"
#include "pool.h"

#include <string.h>

extern const nn_op_def nn_op_max_pool2d_grad;

typedef struct pool_job {
    const nn_window *w;
    const float *x, *dy;
    float *out;
} pool_job;

/* The flat index (in its plane) of the window's first maximum. */
static int64_t window_argmax(const nn_window *w, const float *plane, int64_t oy, int64_t ox) {
    int64_t y0, y1, x0, x1;
    nn_pool_cell(w, oy, ox, &y0, &y1, &x0, &x1);
    int64_t best = y0 * w->w + x0;
    for (int64_t iy = y0; iy < y1; iy++)
        for (int64_t ix = x0; ix < x1; ix++)
            if (plane[iy * w->w + ix] > plane[best]) best = iy * w->w + ix;
    return best;
}

static void max_planes(void *ctx, int64_t lo, int64_t hi) {
    const pool_job *j = ctx;
    const nn_window *w = j->w;
    for (int64_t pl = lo; pl < hi; pl++) {
        const float *plane = j->x + pl * w->h * w->w;
        float *o = j->out + pl * w->oh * w->ow;
        for (int64_t oy = 0; oy < w->oh; oy++)
            for (int64_t ox = 0; ox < w->ow; ox++) {
                int64_t y0, y1, x0, x1;
                nn_pool_cell(w, oy, ox, &y0, &y1, &x0, &x1);
                float m = plane[y0 * w->w + x0];
                for (int64_t iy = y0; iy < y1; iy++)
                    for (int64_t ix = x0; ix < x1; ix++) {
                        float v = plane[iy * w->w + ix];
                        m = v > m ? v : m;
                    }
                o[oy * w->ow + ox] = m;
            }
    }
}

static nn_status max_pool2d_forward(nn_kernel_call *c) {
    nn_window w;
    if (nn_pool_geom(c->node, c->in[0]->shape, &w, c->err) != NN_OK) return NN_ERR_SHAPE;
    pool_job j = {&w, NN_CF(c->in[0]), NULL, NN_F(c->out)};
    nn_parallel_for(c->exec, w.n * w.c, 1 + 100000 / (w.h * w.w), max_planes, &j);
    return NN_OK;
}

static void max_grad_planes(void *ctx, int64_t lo, int64_t hi) {
    const pool_job *j = ctx;
    const nn_window *w = j->w;
    for (int64_t pl = lo; pl < hi; pl++) {
        const float *plane = j->x + pl * w->h * w->w, *d = j->dy + pl * w->oh * w->ow;
        float *o = j->out + pl * w->h * w->w;
        memset(o, 0, (size_t)(w->h * w->w) * sizeof *o);
        for (int64_t oy = 0; oy < w->oh; oy++)
            for (int64_t ox = 0; ox < w->ow; ox++) o[window_argmax(w, plane, oy, ox)] += d[oy * w->ow + ox];
    }
}

static nn_status max_pool2d_grad_forward(nn_kernel_call *c) {
    nn_window w;
    if (nn_pool_geom(c->node, c->in[0]->shape, &w, c->err) != NN_OK) return NN_ERR_SHAPE;
    pool_job j = {&w, NN_CF(c->in[0]), NN_CF(c->in[1]), NN_F(c->out)};
    nn_parallel_for(c->exec, w.n * w.c, 1 + 100000 / (w.h * w.w), max_grad_planes, &j);
    return NN_OK;
}

static nn_status max_pool2d_grad(nn_graph *g, nn_node *node, nn_node *dy, const int *want, nn_node **dx) {
    (void)want;
    nn_node *in[2] = {node->in[0], dy};
    dx[0] = nn_op_node(g, &nn_op_max_pool2d_grad, NULL, 2, in, NULL, node->iattr);
    return g->status;
}

const nn_op_def nn_op_max_pool2d = {
    .name = "max_pool2d",
    .n_inputs = 1,
    .shape = nn_pool_shape,
    .forward = max_pool2d_forward,
    .grad = max_pool2d_grad,
    .attrs = NN_POOL_ATTRS,
    .layer_kind = "MaxPooling2D",
};
const nn_op_def nn_op_max_pool2d_grad = {
    .name = "max_pool2d_grad",
    .n_inputs = 2,
    .shape = nn_pool_grad_shape,
    .forward = max_pool2d_grad_forward,
    .attrs = NN_POOL_ATTRS,
};

/* The ops this file defines, for the table (ops/meson.build). */
const nn_op_def *const nn_ops_max_pool2d[] = {&nn_op_max_pool2d, &nn_op_max_pool2d_grad, NULL};


nn_node *nn_max_pool2d_op(nn_graph *g, nn_node *x, const nn_pool2d_opts *o) {
    return nn_pool_node(g, &nn_op_max_pool2d, x, o);
}
