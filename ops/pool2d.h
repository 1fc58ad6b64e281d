/* What max_pool2d and avg_pool2d share: their attributes, shape rule and
 * the walk over the windows of each plane. Not an op. */
#ifndef NN_POOL2D_H
#define NN_POOL2D_H

#include "ops.h"

/* The attributes of a pool and of its gradient op, for their descriptors:
 * the window's height and width live in the dilation slots. */
#define NN_POOL_ATTRS                                                                                                  \
    {{"pool_h", 'n', NN_WIN_DIL_H},     {"pool_w", 'n', NN_WIN_DIL_W}, {"stride_h", 'n', NN_WIN_STRIDE_H},             \
     {"stride_w", 'n', NN_WIN_STRIDE_W}, {"pad_h", 'n', NN_WIN_PAD_H},  {"pad_w", 'n', NN_WIN_PAD_W},                  \
     {"padding", 'p', NN_WIN_PADDING}}

/* The pool's window (slots NN_WIN_DIL_H/W hold its height and width). */
nn_status nn_pool_geom(const nn_node *node, nn_shape x, nn_window *w, char *err);
/* Shape rule of a pool: x f32 [N, C, H, W] -> [N, C, OH, OW]. */
nn_status nn_pool_shape(nn_shape_ctx *c, nn_shape *out, nn_dtype *dt);
/* Shape rule of a pool's gradient (x, dy): dy the pool's output shape,
 * the result x's. */
nn_status nn_pool_grad_shape(nn_shape_ctx *c, nn_shape *out, nn_dtype *dt);
/* The valid input rows [*y0, *y1) and columns [*x0, *x1) of output cell
 * (oy, ox): the window clipped to the image (padding is not read). */
static inline void nn_pool_cell(const nn_window *w, int64_t oy, int64_t ox, int64_t *y0, int64_t *y1, int64_t *x0,
                                int64_t *x1) {
    *y0 = oy * w->sh - w->pt;
    *y1 = *y0 + w->kh;
    *x0 = ox * w->sw - w->pl;
    *x1 = *x0 + w->kw;
    if (*y0 < 0) *y0 = 0;
    if (*x0 < 0) *x0 = 0;
    if (*y1 > w->h) *y1 = w->h;
    if (*x1 > w->w) *x1 = w->w;
}
/* Builds a pool node of op with window kh x kw (stride 0: the window). */
nn_node *nn_pool_node(nn_graph *g, const nn_op_def *op, nn_node *x, const nn_pool2d_opts *o);

#endif
