/* Shared by max_pool2d and avg_pool2d (ops/pool2d.h). Not an op. */
#include "pool2d.h"

nn_status nn_pool_geom(const nn_node *node, nn_shape x, nn_window *w, char *err) {
    nn_status st = nn_window_geom(node, x, node->iattr[NN_WIN_DIL_H], node->iattr[NN_WIN_DIL_W], 0, w, err);
    if (st != NN_OK) return st;
    /* every window must hold an input element: with a pad at least as
     * large as the window, a corner window would see padding only */
    if (w->pt >= w->kh || w->pl >= w->kw)
        return nn_errf(err, NN_ERR_ARG, "padding %lldx%lld must be smaller than the window %lldx%lld", (long long)w->pt,
                       (long long)w->pl, (long long)w->kh, (long long)w->kw);
    return NN_OK;
}

nn_status nn_pool_shape(nn_shape_ctx *c, nn_shape *out, nn_dtype *dt) {
    if (c->in_dtype[0] != NN_F32) return nn_errf(c->err, NN_ERR_ARG, "input must be f32");
    nn_window w;
    nn_status st = nn_pool_geom(c->node, c->in[0], &w, c->err);
    if (st != NN_OK) return st;
    *out = NN_SHAPE(w.n, w.c, w.oh, w.ow);
    *dt = NN_F32;
    return NN_OK;
}

nn_status nn_pool_grad_shape(nn_shape_ctx *c, nn_shape *out, nn_dtype *dt) {
    nn_shape pooled;
    nn_status st = nn_pool_shape(c, &pooled, dt);
    if (st != NN_OK) return st;
    if (c->in_dtype[1] != NN_F32) return nn_errf(c->err, NN_ERR_ARG, "inputs must be f32");
    if (!nn_shape_equal(c->in[1], pooled)) {
        char a[64], b[64];
        return nn_errf(c->err, NN_ERR_SHAPE, "the output gradient is %s, the pool's output %s",
                       nn_shape_str(c->in[1], a, sizeof a), nn_shape_str(pooled, b, sizeof b));
    }
    *out = c->in[0];
    return NN_OK;
}

nn_node *nn_pool_node(nn_graph *g, const nn_op_def *op, nn_node *x, const nn_pool2d_opts *o) {
    nn_pool2d_opts d = o ? *o : (nn_pool2d_opts){0};
    int64_t iattr[NN_MAX_ATTRS] = {0};
    int64_t kh = d.pool_h ? d.pool_h : 2, kw = d.pool_w ? d.pool_w : 2;
    iattr[NN_WIN_DIL_H] = kh;
    iattr[NN_WIN_DIL_W] = kw;
    iattr[NN_WIN_STRIDE_H] = d.stride_h ? d.stride_h : kh;
    iattr[NN_WIN_STRIDE_W] = d.stride_w ? d.stride_w : kw;
    iattr[NN_WIN_PAD_H] = d.pad_h;
    iattr[NN_WIN_PAD_W] = d.pad_w;
    iattr[NN_WIN_PADDING] = d.padding;
    return nn_op_node(g, op, NULL, 1, &x, NULL, iattr);
}
