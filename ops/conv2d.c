/* conv2d(x, W, b): 2-D convolution (cross-correlation, as in PyTorch and
 * Keras) in NCHW layout. x [N, C, H, W], kernel W [Cout, C/groups, kh, kw]
 * (PyTorch's OIHW), bias b [Cout]; out [N, Cout, OH, OW]. Attributes:
 * stride, padding (explicit/same/valid), dilation, groups (ops.h's
 * NN_WIN_* slots).
 *
 * The kernel is im2col plus one large sgemm a group (the Caffe/Darknet
 * scheme, docs/performance.md): the patches of the whole batch are laid
 * out as a matrix col [C*kh*kw, N*OH*OW], so that out = W col is a single
 * product with a long N that BLAS runs near its peak, then transposed into
 * NCHW with the bias added. The gradients reuse the same layout:
 *   dW = dy' col^T, dcol = W^T dy', dx = col2im(dcol), db = sum of dy'
 * where dy' is dy as [Cout, N*OH*OW]. */
#include "ops.h"
#include "kernels.h"
#include "pool.h"

#include <stdlib.h>
#include <string.h>

extern const nn_op_def nn_op_conv2d, nn_op_conv2d_grad_input, nn_op_conv2d_grad_weight, nn_op_conv2d_grad_bias;

/* Shapes of a convolution: x, the kernel and its geometry. */
static nn_status conv_geom(const nn_node *node, nn_shape x, nn_shape w, nn_window *win, char *err) {
    if (w.rank != 4) return nn_errf(err, NN_ERR_SHAPE, "kernel must be 4-D [Cout, C/groups, kh, kw], it has rank %d", w.rank);
    for (int i = 0; i < 4; i++)
        if (w.dim[i] <= 0) return nn_errf(err, NN_ERR_SHAPE, "kernel dimension %d must be a fixed positive size", i);
    nn_status st = nn_window_geom(node, x, w.dim[2], w.dim[3], 1, win, err);
    if (st != NN_OK) return st;
    int64_t groups = node->iattr[NN_WIN_GROUPS];
    if (groups < 1 || groups > win->c)
        return nn_errf(err, NN_ERR_ARG, "groups %lld is outside 1..%lld (the input's channels)", (long long)groups,
                       (long long)win->c);
    if (win->c % groups || w.dim[0] % groups)
        return nn_errf(err, NN_ERR_SHAPE, "groups %lld must divide the input channels %lld and the output channels %lld",
                       (long long)groups, (long long)win->c, (long long)w.dim[0]);
    if (w.dim[1] * groups != win->c)
        return nn_errf(err, NN_ERR_SHAPE, "the kernel takes %lld channels a group, the input has %lld in %lld group%s",
                       (long long)w.dim[1], (long long)win->c, (long long)groups, groups == 1 ? "" : "s");
    return NN_OK;
}

static nn_status conv2d_shape(nn_shape_ctx *c, nn_shape *out, nn_dtype *dt) {
    for (int i = 0; i < 3; i++)
        if (c->in_dtype[i] != NN_F32) return nn_errf(c->err, NN_ERR_ARG, "inputs must be f32");
    nn_window win;
    nn_status st = conv_geom(c->node, c->in[0], c->in[1], &win, c->err);
    if (st != NN_OK) return st;
    int64_t cout = c->in[1].dim[0];
    if (c->in[2].rank != 1 || c->in[2].dim[0] != cout)
        return nn_errf(c->err, NN_ERR_SHAPE, "bias must be [%lld], one value an output channel", (long long)cout);
    *out = NN_SHAPE(win.n, cout, win.oh, win.ow);
    *dt = NN_F32;
    return NN_OK;
}

/* ---- im2col and col2im over the whole batch ---- */

typedef struct conv_job {
    const nn_window *win;
    const float *x;  /* im2col: the images */
    float *col;      /* [K, NP] */
    const float *dcol;
    float *dx;       /* col2im: the images' gradient */
    int64_t np;      /* N * OH * OW */
} conv_job;

/* The output columns [lo, hi) of a row whose input column is ox*sw + off
 * stay inside [0, w). */
static void valid_cols(int64_t off, int64_t sw, int64_t w, int64_t ow, int64_t *lo, int64_t *hi) {
    *lo = off >= 0 ? 0 : (-off + sw - 1) / sw;
    *hi = w - 1 - off >= 0 ? (w - 1 - off) / sw + 1 : 0;
    if (*hi > ow) *hi = ow;
    if (*lo > *hi) *lo = *hi;
}

/* Rows [lo, hi) of col: row r is channel r / (kh kw), window cell
 * (r / kw % kh, r % kw); padding reads as zeros. */
static void im2col_rows(void *ctx, int64_t lo, int64_t hi) {
    const conv_job *j = ctx;
    const nn_window *w = j->win;
    int64_t p = w->oh * w->ow;
    for (int64_t r = lo; r < hi; r++) {
        int64_t ch = r / (w->kh * w->kw), ki = r / w->kw % w->kh, kj = r % w->kw;
        int64_t off = kj * w->dw - w->pl, c0, c1;
        valid_cols(off, w->sw, w->w, w->ow, &c0, &c1);
        for (int64_t n = 0; n < w->n; n++) {
            const float *plane = j->x + (n * w->c + ch) * w->h * w->w;
            for (int64_t oy = 0; oy < w->oh; oy++) {
                float *d = j->col + r * j->np + n * p + oy * w->ow;
                int64_t iy = oy * w->sh - w->pt + ki * w->dh;
                if (iy < 0 || iy >= w->h) {
                    memset(d, 0, (size_t)w->ow * sizeof *d);
                    continue;
                }
                const float *src = plane + iy * w->w + off;
                for (int64_t ox = 0; ox < c0; ox++) d[ox] = 0.f;
                if (w->sw == 1)
                    memcpy(d + c0, src + c0, (size_t)(c1 - c0) * sizeof *d);
                else
                    for (int64_t ox = c0; ox < c1; ox++) d[ox] = src[ox * w->sw];
                for (int64_t ox = c1; ox < w->ow; ox++) d[ox] = 0.f;
            }
        }
    }
}

/* Channels [lo, hi) of dx from dcol: each channel's rows of dcol add into
 * that channel's planes only, so threads never write the same element. */
static void col2im_channels(void *ctx, int64_t lo, int64_t hi) {
    const conv_job *j = ctx;
    const nn_window *w = j->win;
    int64_t p = w->oh * w->ow, kk = w->kh * w->kw;
    for (int64_t ch = lo; ch < hi; ch++) {
        for (int64_t n = 0; n < w->n; n++) memset(j->dx + (n * w->c + ch) * w->h * w->w, 0, (size_t)(w->h * w->w) * sizeof(float));
        for (int64_t r = ch * kk; r < (ch + 1) * kk; r++) {
            int64_t ki = r / w->kw % w->kh, kj = r % w->kw;
            int64_t off = kj * w->dw - w->pl, c0, c1;
            valid_cols(off, w->sw, w->w, w->ow, &c0, &c1);
            for (int64_t n = 0; n < w->n; n++) {
                float *plane = j->dx + (n * w->c + ch) * w->h * w->w;
                for (int64_t oy = 0; oy < w->oh; oy++) {
                    int64_t iy = oy * w->sh - w->pt + ki * w->dh;
                    if (iy < 0 || iy >= w->h) continue;
                    const float *s = j->dcol + r * j->np + n * p + oy * w->ow;
                    float *d = plane + iy * w->w + off;
                    for (int64_t ox = c0; ox < c1; ox++) d[ox * w->sw] += s[ox];
                }
            }
        }
    }
}

/* Rows per parallel chunk: about NN_GEMM_GRAIN/8 elements copied. */
static int64_t copy_grain(int64_t row_elems) { return (NN_GEMM_GRAIN / 8) / (row_elems ? row_elems : 1) + 1; }

/* The scratch matrix of a kernel: malloc, not zeroed (every element is
 * written before it is read). */
static float *scratch(nn_kernel_call *c, int64_t rows, int64_t cols) {
    if (rows > 0 && cols > INT32_MAX / rows) {
        nn_errf(c->err, NN_ERR_SHAPE, "the im2col matrix [%lld, %lld] is too large for one product: use a smaller batch",
                (long long)rows, (long long)cols);
        return NULL;
    }
    float *m = malloc((size_t)(rows * cols) * sizeof *m + 1);
    if (!m) nn_errf(c->err, NN_ERR_NOMEM, "out of memory for a [%lld, %lld] im2col matrix", (long long)rows, (long long)cols);
    return m;
}

/* [N, Cout, P] <-> [Cout, N*P]: blocks of P contiguous elements. */
typedef struct swap_job {
    const float *src;
    float *dst;
    const float *bias; /* added on the way to NCHW, or NULL */
    int64_t n, cout, p;
    int to_nchw;
} swap_job;

static void swap_rows(void *ctx, int64_t lo, int64_t hi) {
    const swap_job *j = ctx;
    for (int64_t i = lo; i < hi; i++) { /* i = n * cout + co: one NCHW plane */
        int64_t n = i / j->cout, co = i % j->cout;
        const float *s = j->to_nchw ? j->src + (co * j->n + n) * j->p : j->src + i * j->p;
        float *d = j->to_nchw ? j->dst + i * j->p : j->dst + (co * j->n + n) * j->p;
        if (j->bias) {
            float b = j->bias[co];
            for (int64_t k = 0; k < j->p; k++) d[k] = s[k] + b;
        } else {
            memcpy(d, s, (size_t)j->p * sizeof *d);
        }
    }
}

static void swap_layout(nn_kernel_call *c, const float *src, float *dst, const float *bias, int64_t n, int64_t cout,
                        int64_t p, int to_nchw) {
    swap_job j = {src, dst, bias, n, cout, p, to_nchw};
    nn_parallel_for(c->exec, n * cout, copy_grain(p), swap_rows, &j);
}

/* The geometry of the convolution a kernel call (forward or gradient)
 * belongs to, from its x and kernel shapes. */
static int64_t kernel_rows(const nn_window *w) { return w->c * w->kh * w->kw; }

static nn_status conv2d_forward(nn_kernel_call *c) {
    nn_window w;
    const nn_tensor *x = c->in[0], *k = c->in[1];
    if (conv_geom(c->node, x->shape, k->shape, &w, c->err) != NN_OK) return NN_ERR_SHAPE;
    int64_t cout = k->shape.dim[0], groups = c->node->iattr[NN_WIN_GROUPS];
    int64_t p = w.oh * w.ow, np = w.n * p, kr = kernel_rows(&w), kg = kr / groups, cg = cout / groups;
    float *col = scratch(c, kr, np), *y = col ? scratch(c, cout, np) : NULL;
    if (!y) {
        free(col);
        return NN_ERR_NOMEM;
    }
    conv_job j = {&w, NN_CF(x), col, NULL, NULL, np};
    nn_parallel_for(c->exec, kr, copy_grain(np), im2col_rows, &j);
    for (int64_t g = 0; g < groups; g++)
        nn_gemm(c->exec, NN_CF(k) + g * cg * kg, col + g * kg * np, y + g * cg * np, cg, np, kg, 0, 0);
    swap_layout(c, y, NN_F(c->out), NN_CF(c->in[2]), w.n, cout, p, 1);
    free(col);
    free(y);
    return NN_OK;
}

/* ---- gradients ---- */

static nn_node *conv_grad_node(nn_graph *g, const nn_op_def *op, const nn_node *fwd, int n, nn_node *a, nn_node *b,
                               nn_node *cc) {
    nn_node *in[3] = {a, b, cc};
    return nn_op_node(g, op, NULL, n, in, NULL, fwd->iattr);
}

static nn_status conv2d_grad(nn_graph *g, nn_node *node, nn_node *dy, const int *want, nn_node **dx) {
    nn_node *x = node->in[0], *k = node->in[1];
    if (want[0]) dx[0] = conv_grad_node(g, &nn_op_conv2d_grad_input, node, 3, dy, k, x);
    if (want[1]) dx[1] = conv_grad_node(g, &nn_op_conv2d_grad_weight, node, 3, x, dy, k);
    if (want[2]) dx[2] = conv_grad_node(g, &nn_op_conv2d_grad_bias, node, 1, dy, NULL, NULL);
    return g->status;
}

/* The gradient's dy must be the convolution's output shape. */
static nn_status check_dy(nn_shape_ctx *c, nn_shape dy, nn_shape x, nn_shape k) {
    nn_window w;
    nn_status st = conv_geom(c->node, x, k, &w, c->err);
    if (st != NN_OK) return st;
    nn_shape want = NN_SHAPE(w.n, k.dim[0], w.oh, w.ow);
    if (!nn_shape_equal(dy, want)) {
        char a[64], b[64];
        return nn_errf(c->err, NN_ERR_SHAPE, "the output gradient is %s, the convolution's output %s",
                       nn_shape_str(dy, a, sizeof a), nn_shape_str(want, b, sizeof b));
    }
    return NN_OK;
}

static nn_status all_f32(nn_shape_ctx *c) {
    for (int i = 0; i < c->n_in; i++)
        if (c->in_dtype[i] != NN_F32) return nn_errf(c->err, NN_ERR_ARG, "inputs must be f32");
    return NN_OK;
}

/* conv2d_grad_input(dy, W, x): dx, of x's shape (x gives only its shape). */
static nn_status grad_input_shape(nn_shape_ctx *c, nn_shape *out, nn_dtype *dt) {
    nn_status st = all_f32(c);
    if (st == NN_OK) st = check_dy(c, c->in[0], c->in[2], c->in[1]);
    *out = c->in[2];
    *dt = NN_F32;
    return st;
}

static nn_status grad_input_forward(nn_kernel_call *c) {
    nn_window w;
    const nn_tensor *dy = c->in[0], *k = c->in[1];
    if (conv_geom(c->node, c->in[2]->shape, k->shape, &w, c->err) != NN_OK) return NN_ERR_SHAPE;
    int64_t cout = k->shape.dim[0], groups = c->node->iattr[NN_WIN_GROUPS];
    int64_t p = w.oh * w.ow, np = w.n * p, kr = kernel_rows(&w), kg = kr / groups, cg = cout / groups;
    float *dyr = scratch(c, cout, np), *dcol = dyr ? scratch(c, kr, np) : NULL;
    if (!dcol) {
        free(dyr);
        return NN_ERR_NOMEM;
    }
    swap_layout(c, NN_CF(dy), dyr, NULL, w.n, cout, p, 0);
    for (int64_t g = 0; g < groups; g++)
        nn_gemm(c->exec, NN_CF(k) + g * cg * kg, dyr + g * cg * np, dcol + g * kg * np, kg, np, cg, 1, 0);
    conv_job j = {&w, NULL, NULL, dcol, NN_F(c->out), np};
    nn_parallel_for(c->exec, w.c, copy_grain(w.kh * w.kw * np), col2im_channels, &j);
    free(dyr);
    free(dcol);
    return NN_OK;
}

/* conv2d_grad_weight(x, dy, W): dW, of W's shape. */
static nn_status grad_weight_shape(nn_shape_ctx *c, nn_shape *out, nn_dtype *dt) {
    nn_status st = all_f32(c);
    if (st == NN_OK) st = check_dy(c, c->in[1], c->in[0], c->in[2]);
    *out = c->in[2];
    *dt = NN_F32;
    return st;
}

static nn_status grad_weight_forward(nn_kernel_call *c) {
    nn_window w;
    const nn_tensor *x = c->in[0], *dy = c->in[1];
    if (conv_geom(c->node, x->shape, c->in[2]->shape, &w, c->err) != NN_OK) return NN_ERR_SHAPE;
    int64_t cout = c->in[2]->shape.dim[0], groups = c->node->iattr[NN_WIN_GROUPS];
    int64_t p = w.oh * w.ow, np = w.n * p, kr = kernel_rows(&w), kg = kr / groups, cg = cout / groups;
    float *col = scratch(c, kr, np), *dyr = col ? scratch(c, cout, np) : NULL;
    if (!dyr) {
        free(col);
        return NN_ERR_NOMEM;
    }
    conv_job j = {&w, NN_CF(x), col, NULL, NULL, np};
    nn_parallel_for(c->exec, kr, copy_grain(np), im2col_rows, &j);
    swap_layout(c, NN_CF(dy), dyr, NULL, w.n, cout, p, 0);
    for (int64_t g = 0; g < groups; g++)
        nn_gemm(c->exec, dyr + g * cg * np, col + g * kg * np, NN_F(c->out) + g * cg * kg, cg, kg, np, 0, 1);
    free(col);
    free(dyr);
    return NN_OK;
}

/* conv2d_grad_bias(dy): the sum of dy [N, Cout, OH, OW] over all but the
 * channel axis. */
static nn_status grad_bias_shape(nn_shape_ctx *c, nn_shape *out, nn_dtype *dt) {
    if (c->in_dtype[0] != NN_F32) return nn_errf(c->err, NN_ERR_ARG, "input must be f32");
    if (c->in[0].rank != 4) return nn_errf(c->err, NN_ERR_SHAPE, "the output gradient must be 4-D [N, C, H, W]");
    *out = NN_SHAPE(c->in[0].dim[1]);
    *dt = NN_F32;
    return NN_OK;
}

static nn_status grad_bias_forward(nn_kernel_call *c) {
    const nn_shape s = c->in[0]->shape;
    int64_t n = s.dim[0], ch = s.dim[1], p = s.dim[2] * s.dim[3];
    const float *dy = NN_CF(c->in[0]);
    float *db = NN_F(c->out);
    for (int64_t co = 0; co < ch; co++) {
        double sum = 0.0;
        for (int64_t i = 0; i < n; i++) {
            const float *plane = dy + (i * ch + co) * p;
            float part = 0.f;
            for (int64_t k = 0; k < p; k++) part += plane[k];
            sum += part;
        }
        db[co] = (float)sum;
    }
    return NN_OK;
}

const nn_op_def nn_op_conv2d = {"conv2d", 3, conv2d_shape, conv2d_forward, conv2d_grad, 0};
const nn_op_def nn_op_conv2d_grad_input = {"conv2d_grad_input", 3, grad_input_shape, grad_input_forward, NULL, 0};
const nn_op_def nn_op_conv2d_grad_weight = {"conv2d_grad_weight", 3, grad_weight_shape, grad_weight_forward, NULL, 0};
const nn_op_def nn_op_conv2d_grad_bias = {"conv2d_grad_bias", 1, grad_bias_shape, grad_bias_forward, NULL, 0};

nn_node *nn_conv2d_op(nn_graph *g, nn_node *x, nn_node *kernel, nn_node *bias, const nn_conv2d_opts *o) {
    nn_conv2d_opts d = o ? *o : (nn_conv2d_opts){0};
    int64_t iattr[NN_MAX_ATTRS] = {0};
    iattr[NN_WIN_STRIDE_H] = d.stride_h ? d.stride_h : 1;
    iattr[NN_WIN_STRIDE_W] = d.stride_w ? d.stride_w : 1;
    iattr[NN_WIN_PAD_H] = d.pad_h;
    iattr[NN_WIN_PAD_W] = d.pad_w;
    iattr[NN_WIN_DIL_H] = d.dilation_h ? d.dilation_h : 1;
    iattr[NN_WIN_DIL_W] = d.dilation_w ? d.dilation_w : 1;
    iattr[NN_WIN_GROUPS] = d.groups ? d.groups : 1;
    iattr[NN_WIN_PADDING] = d.padding;
    nn_node *in[3] = {x, kernel, bias};
    return nn_op_node(g, &nn_op_conv2d, NULL, 3, in, NULL, iattr);
}
