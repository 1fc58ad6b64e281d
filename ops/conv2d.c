/* conv2d(x, W, b): 2-D convolution (cross-correlation, as in PyTorch and
 * Keras) in NCHW layout. x [N, C, H, W], kernel W [Cout, C/groups, kh, kw]
 * (PyTorch's OIHW), bias b [Cout]; out [N, Cout, OH, OW]. Attributes:
 * stride, padding (explicit/same/valid), dilation, groups (ops.h's
 * NN_WIN_* slots).
 *
 * The kernels are oneDNN's (libdnnl; src/core/onednn.h has the engine,
 * the primitive cache and the threading): forward, backward data and
 * backward weights primitives made once per shape and cached. Where a
 * group has 8 or more channels in and out, oneDNN works in its own blocked
 * layouts and the op reorders x, W and y into them and back; with fewer
 * it works on ours directly. The batch is cut into fixed slices that the
 * pool's threads take. The bias gradient (a sum) is ours.
 * docs/performance.md has the measurements that chose this over im2col
 * with our own sgemm. */
#include "ops.h"
#include "kernels.h"
#include "onednn.h"
#include "pool.h"

#include <pthread.h>

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

/* ---- oneDNN (src/core/onednn.h) ---- */

/* Which primitive a key names. */
enum { DN_FORWARD, DN_BACKWARD_DATA, DN_BACKWARD_WEIGHTS };

/* A primitive's shapes and geometry, for the cache (zeroed first, so the
 * bytes compare). */
typedef struct dn_key {
    int64_t kind, n, c, h, w, cout, groups, kh, kw, sh, sw, dh, dw, pt, pl, pb, pr, oh, ow;
} dn_key;

static dn_key dn_key_of(const nn_window *w, int64_t cout, int64_t groups, int kind, int64_t n) {
    dn_key k;
    memset(&k, 0, sizeof k);
    k.kind = kind, k.n = n, k.c = w->c, k.h = w->h, k.w = w->w, k.cout = cout, k.groups = groups;
    k.kh = w->kh, k.kw = w->kw, k.sh = w->sh, k.sw = w->sw, k.dh = w->dh, k.dw = w->dw, k.pt = w->pt, k.pl = w->pl;
    k.oh = w->oh, k.ow = w->ow;
    /* oneDNN wants the padding after too; where the last window ends
     * before the input does (a stride that skips the last rows) it is 0 */
    int64_t pb = (w->oh - 1) * w->sh + (w->kh - 1) * w->dh + 1 - w->h - w->pt;
    int64_t pr = (w->ow - 1) * w->sw + (w->kw - 1) * w->dw + 1 - w->w - w->pl;
    k.pb = pb > 0 ? pb : 0;
    k.pr = pr > 0 ? pr : 0;
    return k;
}

/* Whether oneDNN computes in its own blocked layouts (reordering our
 * tensors in and out) rather than on our plain ones: its direct kernels
 * on channel blocks are about twice as fast as its im2col+gemm on plain
 * layouts once a group has 8 or more channels in and out; with fewer
 * (an image's first layer) the blocks are mostly padding and the plain
 * path is as fast or faster (docs/performance.md has the figures). */
static int dn_blocked(const dn_key *k) {
    return k->c / k->groups >= 8 && k->cout / k->groups >= 8;
}

/* The descriptors of x, the kernel, the bias and y: nngraph's plain
 * layouts (NCHW, OIHW or with groups goihw, the same bytes), or "any". */
static dnnl_status_t dn_descs(const dn_key *k, int any, dnnl_memory_desc_t *x, dnnl_memory_desc_t *wt,
                              dnnl_memory_desc_t *b, dnnl_memory_desc_t *y) {
    dnnl_dims_t xd = {k->n, k->c, k->h, k->w}, yd = {k->n, k->cout, k->oh, k->ow}, bd = {k->cout};
    dnnl_dims_t wd = {k->cout, k->c / k->groups, k->kh, k->kw};
    dnnl_dims_t gd = {k->groups, k->cout / k->groups, k->c / k->groups, k->kh, k->kw};
    dnnl_format_tag_t act = any ? dnnl_format_tag_any : dnnl_nchw;
    dnnl_status_t s = dnnl_memory_desc_init_by_tag(x, 4, xd, dnnl_f32, act);
    if (s == dnnl_success) s = dnnl_memory_desc_init_by_tag(y, 4, yd, dnnl_f32, act);
    if (s == dnnl_success) s = dnnl_memory_desc_init_by_tag(b, 1, bd, dnnl_f32, dnnl_x);
    if (s == dnnl_success)
        s = k->groups == 1 ? dnnl_memory_desc_init_by_tag(wt, 4, wd, dnnl_f32, any ? dnnl_format_tag_any : dnnl_oihw)
                           : dnnl_memory_desc_init_by_tag(wt, 5, gd, dnnl_f32, any ? dnnl_format_tag_any : dnnl_goihw);
    return s;
}

/* Makes the primitive descriptor a key names (nn_dnnl_make_fn). */
static dnnl_status_t dn_make(void *ctx, dnnl_engine_t eng, const_dnnl_primitive_attr_t attr,
                             dnnl_primitive_desc_t *pd) {
    const dn_key *k = ctx;
    dnnl_memory_desc_t x, wt, b, y;
    dnnl_status_t s = dn_descs(k, dn_blocked(k), &x, &wt, &b, &y);
    dnnl_dims_t strides = {k->sh, k->sw}, dil = {k->dh - 1, k->dw - 1}, pl = {k->pt, k->pl}, pr = {k->pb, k->pr};
    dnnl_convolution_desc_t fd, bd;
    dnnl_primitive_desc_t hint = NULL;
    if (s == dnnl_success)
        s = dnnl_dilated_convolution_forward_desc_init(&fd, dnnl_forward_training, dnnl_convolution_direct, &x, &wt, &b,
                                                       &y, strides, dil, pl, pr);
    if (k->kind == DN_FORWARD) return s == dnnl_success ? dnnl_primitive_desc_create(pd, &fd, attr, eng, NULL) : s;
    /* a backward primitive is made from its forward one's descriptor */
    if (s == dnnl_success) s = dnnl_primitive_desc_create(&hint, &fd, NULL, eng, NULL);
    if (s == dnnl_success)
        s = k->kind == DN_BACKWARD_DATA
                ? dnnl_dilated_convolution_backward_data_desc_init(&bd, dnnl_convolution_direct, &x, &wt, &y, strides,
                                                                   dil, pl, pr)
                : dnnl_dilated_convolution_backward_weights_desc_init(&bd, dnnl_convolution_direct, &x, &wt, NULL, &y,
                                                                      strides, dil, pl, pr);
    if (s == dnnl_success) s = dnnl_primitive_desc_create(pd, &bd, attr, eng, hint);
    if (hint) dnnl_primitive_desc_destroy(hint);
    return s;
}

/* A primitive's arguments in the order its op passes their data: the
 * arguments of each kind, and which of x, kernel, bias, y each is. */
static const int dn_arg_ids[3][4] = {
    {DNNL_ARG_SRC, DNNL_ARG_WEIGHTS, DNNL_ARG_BIAS, DNNL_ARG_DST},
    {DNNL_ARG_DIFF_DST, DNNL_ARG_WEIGHTS, DNNL_ARG_DIFF_SRC},
    {DNNL_ARG_SRC, DNNL_ARG_DIFF_DST, DNNL_ARG_DIFF_WEIGHTS}};
enum { DN_X, DN_W, DN_B, DN_Y };
static const int dn_arg_what[3][4] = {{DN_X, DN_W, DN_B, DN_Y}, {DN_Y, DN_W, DN_X}, {DN_X, DN_Y, DN_W}};
static const int dn_n_args[3] = {4, 3, 3};

/* The arguments of a key's primitive in nngraph's plain layouts. */
static dnnl_status_t dn_args_of(const dn_key *k, nn_dnnl_args *a) {
    memset(a, 0, sizeof *a);
    dnnl_memory_desc_t md[4];
    dnnl_status_t s = dn_descs(k, 0, &md[DN_X], &md[DN_W], &md[DN_B], &md[DN_Y]);
    a->n = dn_n_args[k->kind];
    for (int i = 0; i < a->n; i++) {
        a->id[i] = dn_arg_ids[k->kind][i];
        a->plain[i] = md[dn_arg_what[k->kind][i]];
        a->out[i] = i == a->n - 1; /* each kind writes its last argument */
    }
    return s;
}

/* One oneDNN convolution over a batch, in slices of DN_SLICE images that
 * the pool's threads take (each slice one call on one thread). Fixed
 * slices make the kernel gradient, summed slice by slice in order, the
 * same bits for any thread count; 8 images measured as fast as 16 or the
 * whole batch on one thread, and they keep 2 threads busy at batch 16. */
#define DN_SLICE 8

typedef struct dn_job {
    const nn_dnnl_prim *prim[2]; /* a full slice, the last (shorter) one */
    int owned[2];
    int64_t n, slice, slices;
    int n_args;
    float *base[4]; /* argument i of slice s is at base[i] + s * step[i] */
    int64_t step[4];
    pthread_mutex_t mu;
    nn_status st;
    char *err;
} dn_job;

static void dn_slices(void *ctx, int64_t lo, int64_t hi) {
    dn_job *j = ctx;
    for (int64_t s = lo; s < hi; s++) {
        void *data[4];
        for (int i = 0; i < j->n_args; i++) data[i] = j->base[i] + s * j->step[i];
        char err[NN_ERRLEN];
        int last = (s + 1) * j->slice > j->n;
        if (nn_dnnl_run(j->prim[last], data, err) != NN_OK) {
            pthread_mutex_lock(&j->mu);
            if (j->st == NN_OK) {
                j->st = NN_ERR_RUNTIME;
                memcpy(j->err, err, NN_ERRLEN);
            }
            pthread_mutex_unlock(&j->mu);
        }
    }
}

static void dn_free(dn_job *j) {
    for (int i = 0; i < 2; i++)
        if (j->owned[i]) nn_dnnl_release(j->prim[i]);
    pthread_mutex_destroy(&j->mu);
}

/* Gets the primitives of a `kind` convolution of x [N, C, H, W] with a
 * kernel of shape ks for the node's geometry, and sets the arguments'
 * data: data[i] for argument i of dn_arg_ids[kind], each slice `per_image`
 * floats an image further, or the same for every slice where that is 0.
 * NN_OK or the reason, naming the shapes, in c->err. */
static nn_status dn_prepare(nn_kernel_call *c, dn_job *j, int kind, nn_shape xs, nn_shape ks) {
    memset(j, 0, sizeof *j);
    nn_window w;
    if (conv_geom(c->node, xs, ks, &w, c->err) != NN_OK) return NN_ERR_SHAPE;
    j->n = w.n;
    j->slice = w.n < DN_SLICE ? w.n : DN_SLICE;
    j->slices = (w.n + j->slice - 1) / j->slice;
    j->n_args = dn_n_args[kind];
    pthread_mutex_init(&j->mu, NULL);
    j->err = c->err;
    for (int last = 0; last < 2; last++) {
        int64_t n = last ? w.n - (j->slices - 1) * j->slice : j->slice;
        if (last && n == j->slice) {
            j->prim[1] = j->prim[0];
            break;
        }
        dn_key key = dn_key_of(&w, ks.dim[0], c->node->iattr[NN_WIN_GROUPS], kind, n);
        nn_dnnl_args args;
        char err[NN_ERRLEN] = "";
        dnnl_status_t s = dn_args_of(&key, &args);
        if (s != dnnl_success) nn_dnnl_err(err, s, "cannot describe the tensors");
        else j->prim[last] = nn_dnnl_get(&key, sizeof key, dn_make, &key, &args, &j->owned[last], err);
        if (!j->prim[last]) {
            char a[64], b[64];
            nn_errf(c->err, NN_ERR_SHAPE, "%s of x %s with kernel %s: %s",
                    kind == DN_FORWARD ? "forward" : kind == DN_BACKWARD_DATA ? "input gradient" : "kernel gradient",
                    nn_shape_str(xs, a, sizeof a), nn_shape_str(ks, b, sizeof b), err);
            dn_free(j);
            return NN_ERR_SHAPE;
        }
    }
    return NN_OK;
}

/* Sets argument i's data: p, `per_image` floats further an image (0: the
 * same for every slice). */
static void dn_data(dn_job *j, int i, const float *p, int64_t per_image) {
    j->base[i] = (float *)p;
    j->step[i] = j->slice * per_image;
}

/* Runs the job's slices on the pool and frees what it holds. */
static nn_status dn_launch(nn_kernel_call *c, dn_job *j) {
    nn_parallel_for(c->exec, j->slices, 1, dn_slices, j);
    dn_free(j);
    return j->st;
}

static nn_status dn_forward(nn_kernel_call *c) {
    const nn_tensor *x = c->in[0], *k = c->in[1];
    dn_job j;
    nn_status st = dn_prepare(c, &j, DN_FORWARD, x->shape, k->shape);
    if (st != NN_OK) return st;
    dn_data(&j, 0, NN_CF(x), x->size / j.n);
    dn_data(&j, 1, NN_CF(k), 0);
    dn_data(&j, 2, NN_CF(c->in[2]), 0);
    dn_data(&j, 3, NN_F(c->out), c->out->size / j.n);
    return dn_launch(c, &j);
}

/* dx from dy (in[0]) and W (in[1]); in[2] is x, for its shape. */
static nn_status dn_grad_input(nn_kernel_call *c) {
    const nn_tensor *dy = c->in[0], *k = c->in[1];
    dn_job j;
    nn_status st = dn_prepare(c, &j, DN_BACKWARD_DATA, c->in[2]->shape, k->shape);
    if (st != NN_OK) return st;
    dn_data(&j, 0, NN_CF(dy), dy->size / j.n);
    dn_data(&j, 1, NN_CF(k), 0);
    dn_data(&j, 2, NN_F(c->out), c->out->size / j.n);
    return dn_launch(c, &j);
}

/* dW from x (in[0]) and dy (in[1]); in[2] is W, for its shape. Each slice
 * writes its own partial kernel gradient; they are added in order. */
static nn_status dn_grad_weight(nn_kernel_call *c) {
    const nn_tensor *x = c->in[0], *dy = c->in[1];
    int64_t size = c->out->size;
    dn_job j;
    nn_status st = dn_prepare(c, &j, DN_BACKWARD_WEIGHTS, x->shape, c->in[2]->shape);
    if (st != NN_OK) return st;
    float *dw = NN_F(c->out), *partial = dw;
    if (j.slices > 1 && !(partial = malloc((size_t)(j.slices * size) * sizeof *partial))) {
        dn_free(&j);
        return nn_errf(c->err, NN_ERR_NOMEM, "out of memory for the kernel gradient's %lld partial sums",
                       (long long)j.slices);
    }
    dn_data(&j, 0, NN_CF(x), x->size / j.n);
    dn_data(&j, 1, NN_CF(dy), dy->size / j.n);
    j.base[2] = partial;
    j.step[2] = size;
    st = dn_launch(c, &j);
    if (partial != dw) {
        memcpy(dw, partial, (size_t)size * sizeof *dw);
        for (int64_t s = 1; s < j.slices; s++)
            for (int64_t i = 0; i < size; i++) dw[i] += partial[s * size + i];
        free(partial);
    }
    return st;
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


/* conv2d_grad_weight(x, dy, W): dW, of W's shape. */
static nn_status grad_weight_shape(nn_shape_ctx *c, nn_shape *out, nn_dtype *dt) {
    nn_status st = all_f32(c);
    if (st == NN_OK) st = check_dy(c, c->in[1], c->in[0], c->in[2]);
    *out = c->in[2];
    *dt = NN_F32;
    return st;
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

/* Each plane is summed in 8 lanes, so the loop vectorises (a single
 * running float sum cannot be reordered), and planes add up in double. */
NN_VECTOR_CLONES static nn_status grad_bias_forward(nn_kernel_call *c) {
    const nn_shape s = c->in[0]->shape;
    int64_t n = s.dim[0], ch = s.dim[1], p = s.dim[2] * s.dim[3];
    const float *dy = NN_CF(c->in[0]);
    float *db = NN_F(c->out);
    for (int64_t co = 0; co < ch; co++) {
        double sum = 0.0;
        for (int64_t i = 0; i < n; i++) {
            const float *restrict plane = dy + (i * ch + co) * p;
            float lane[8] = {0};
            int64_t k = 0;
            for (; k + 8 <= p; k += 8)
                for (int l = 0; l < 8; l++) lane[l] += plane[k + l];
            for (; k < p; k++) lane[0] += plane[k];
            sum += ((lane[0] + lane[1]) + (lane[2] + lane[3])) + ((lane[4] + lane[5]) + (lane[6] + lane[7]));
        }
        db[co] = (float)sum;
    }
    return NN_OK;
}

/* The forward op's attributes, which its gradient ops carry too. */
#define CONV_ATTRS                                                                                                     \
    {{"stride_h", 'n', NN_WIN_STRIDE_H}, {"stride_w", 'n', NN_WIN_STRIDE_W}, {"pad_h", 'n', NN_WIN_PAD_H},             \
     {"pad_w", 'n', NN_WIN_PAD_W},       {"dilation_h", 'n', NN_WIN_DIL_H},  {"dilation_w", 'n', NN_WIN_DIL_W},        \
     {"groups", 'n', NN_WIN_GROUPS},     {"padding", 'p', NN_WIN_PADDING}}

const nn_op_def nn_op_conv2d = {
    .name = "conv2d",
    .n_inputs = 3,
    .shape = conv2d_shape,
    .forward = dn_forward,
    .grad = conv2d_grad,
    .attrs = CONV_ATTRS,
    .layer_kind = "Conv2D",
};
const nn_op_def nn_op_conv2d_grad_input = {
    .name = "conv2d_grad_input",
    .n_inputs = 3,
    .shape = grad_input_shape,
    .forward = dn_grad_input,
    .attrs = CONV_ATTRS,
};
const nn_op_def nn_op_conv2d_grad_weight = {
    .name = "conv2d_grad_weight",
    .n_inputs = 3,
    .shape = grad_weight_shape,
    .forward = dn_grad_weight,
    .attrs = CONV_ATTRS,
};
const nn_op_def nn_op_conv2d_grad_bias = {
    .name = "conv2d_grad_bias",
    .n_inputs = 1,
    .shape = grad_bias_shape,
    .forward = grad_bias_forward,
    .attrs = CONV_ATTRS,
};

/* The ops this file defines, for the table (ops/meson.build). */
const nn_op_def *const nn_ops_conv2d[] = {&nn_op_conv2d, &nn_op_conv2d_grad_input, &nn_op_conv2d_grad_weight, &nn_op_conv2d_grad_bias, NULL};


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
