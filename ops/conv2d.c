/* conv2d(x, W, b): 2-D convolution (cross-correlation, as in PyTorch and
 * Keras) in NCHW layout. x [N, C, H, W], kernel W [Cout, C/groups, kh, kw]
 * (PyTorch's OIHW), bias b [Cout]; out [N, Cout, OH, OW]. Attributes:
 * stride, padding (explicit/same/valid), dilation, groups (ops.h's
 * NN_WIN_* slots).
 *
 * The kernel is im2col plus sgemm (Caffe's scheme; docs/performance.md
 * has the measurements that chose it over one product for the whole batch
 * and over oneDNN): an image's patches become a matrix col [C kh kw, OH OW]
 * that stays in cache, and y[n] = W col is one product a group whose
 * result is already the image's NCHW output. The gradients reuse it:
 *   dW = sum over n of dy[n] col[n]^T, dx[n] = col2im(W^T dy[n]),
 *   db = the sum of dy over all but the channel axis.
 * Threads take fixed chunks of images. */
#include "ops.h"
#include "kernels.h"
#include "onednn.h"
#include "pool.h"

#include <pthread.h>

#include <cblas.h>

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
    const char *e = getenv("NNGRAPH_CONV_LAYOUT");
    if (e && !strcmp(e, "plain")) return 0;
    if (e && !strcmp(e, "any")) return 1;
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
 * same bits for any thread count. */
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

static int64_t dn_slice(void) {
    static int64_t slice = -1;
    if (slice < 0) {
        const char *e = getenv("NNGRAPH_CONV_SLICE");
        slice = e ? atoll(e) : 8;
    }
    return slice;
}

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
    j->slice = dn_slice() > 0 && dn_slice() < w.n ? dn_slice() : w.n;
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

/* spike: NNGRAPH_CONV=im2col picks the old kernels */
static int use_im2col(void) {
    const char *e = getenv("NNGRAPH_CONV");
    return e && !strcmp(e, "im2col");
}

/* ---- im2col and col2im, one image at a time ---- */

/* The output columns [lo, hi) of a row whose input column is ox*sw + off
 * stay inside [0, w). */
static void valid_cols(int64_t off, int64_t sw, int64_t w, int64_t ow, int64_t *lo, int64_t *hi) {
    *lo = off >= 0 ? 0 : (-off + sw - 1) / sw;
    *hi = w - 1 - off >= 0 ? (w - 1 - off) / sw + 1 : 0;
    if (*hi > ow) *hi = ow;
    if (*lo > *hi) *lo = *hi;
}

/* col [K, P] of one image x [C, H, W]: row r is channel r / (kh kw) at
 * window cell (r / kw % kh, r % kw); padding reads as zeros. */
static void im2col(const nn_window *w, const float *restrict x, float *restrict col) {
    int64_t k = w->c * w->kh * w->kw, p = w->oh * w->ow;
    for (int64_t r = 0; r < k; r++) {
        int64_t ch = r / (w->kh * w->kw), ki = r / w->kw % w->kh, kj = r % w->kw;
        int64_t off = kj * w->dw - w->pl, c0, c1;
        valid_cols(off, w->sw, w->w, w->ow, &c0, &c1);
        const float *plane = x + ch * w->h * w->w;
        for (int64_t oy = 0; oy < w->oh; oy++) {
            float *d = col + r * p + oy * w->ow;
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

/* dx [C, H, W] of one image = the sum of dcol [K, P] over the windows
 * (col2im, im2col's adjoint). */
static void col2im(const nn_window *w, const float *restrict dcol, float *restrict dx) {
    int64_t k = w->c * w->kh * w->kw, p = w->oh * w->ow;
    memset(dx, 0, (size_t)(w->c * w->h * w->w) * sizeof *dx);
    for (int64_t r = 0; r < k; r++) {
        int64_t ch = r / (w->kh * w->kw), ki = r / w->kw % w->kh, kj = r % w->kw;
        int64_t off = kj * w->dw - w->pl, c0, c1;
        valid_cols(off, w->sw, w->w, w->ow, &c0, &c1);
        float *plane = dx + ch * w->h * w->w;
        for (int64_t oy = 0; oy < w->oh; oy++) {
            int64_t iy = oy * w->sh - w->pt + ki * w->dh;
            if (iy < 0 || iy >= w->h) continue;
            const float *s = dcol + r * p + oy * w->ow;
            float *d = plane + iy * w->w + off;
            for (int64_t ox = c0; ox < c1; ox++) d[ox * w->sw] += s[ox];
        }
    }
}

/* C (+)= op(A) op(B) for one group's blocks, single-threaded (the images
 * are what is split across threads). */
static void sgemm(const float *A, const float *B, float *C, int64_t M, int64_t N, int64_t K, int ta, int tb,
                  float beta) {
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, (blasint)M,
                (blasint)N, (blasint)K, 1.f, A, (blasint)(ta ? M : K), B, (blasint)(tb ? K : N), beta, C,
                (blasint)N);
}

/* Images are handed to threads in fixed chunks of CONV_CHUNK, so the
 * kernel gradient, summed chunk by chunk in order, is the same bits for
 * any thread count. */
#define CONV_CHUNK 8

typedef struct conv_job {
    nn_window w;
    int64_t cout, groups, k, p; /* k = C kh kw rows of col, p = OH OW */
    const float *x, *kernel, *bias, *dy;
    float *out;      /* forward: y; grad_input: dx; grad_weight: per-chunk partials */
    float *scratch;  /* one col [k, p] per chunk */
} conv_job;

static int64_t n_chunks(const nn_window *w) { return (w->n + CONV_CHUNK - 1) / CONV_CHUNK; }

/* y[n] = W col(x[n]) + b for the images of chunks [lo, hi). Each image's
 * output [Cout, P] is contiguous in NCHW: the product writes it in place. */
static void forward_chunks(void *ctx, int64_t lo, int64_t hi) {
    conv_job *j = ctx;
    const nn_window *w = &j->w;
    int64_t kg = j->k / j->groups, cg = j->cout / j->groups;
    for (int64_t chunk = lo; chunk < hi; chunk++) {
        float *col = j->scratch + chunk * j->k * j->p;
        for (int64_t n = chunk * CONV_CHUNK; n < w->n && n < (chunk + 1) * CONV_CHUNK; n++) {
            float *y = j->out + n * j->cout * j->p;
            im2col(w, j->x + n * w->c * w->h * w->w, col);
            for (int64_t g = 0; g < j->groups; g++)
                sgemm(j->kernel + g * cg * kg, col + g * kg * j->p, y + g * cg * j->p, cg, j->p, kg, 0, 0, 0.f);
            for (int64_t co = 0; co < j->cout; co++) {
                float b = j->bias[co], *row = y + co * j->p;
                for (int64_t i = 0; i < j->p; i++) row[i] += b;
            }
        }
    }
}

/* dx[n] = col2im(W^T dy[n]). */
static void grad_input_chunks(void *ctx, int64_t lo, int64_t hi) {
    conv_job *j = ctx;
    const nn_window *w = &j->w;
    int64_t kg = j->k / j->groups, cg = j->cout / j->groups;
    for (int64_t chunk = lo; chunk < hi; chunk++) {
        float *dcol = j->scratch + chunk * j->k * j->p;
        for (int64_t n = chunk * CONV_CHUNK; n < w->n && n < (chunk + 1) * CONV_CHUNK; n++) {
            const float *dy = j->dy + n * j->cout * j->p;
            for (int64_t g = 0; g < j->groups; g++)
                sgemm(j->kernel + g * cg * kg, dy + g * cg * j->p, dcol + g * kg * j->p, kg, j->p, cg, 1, 0, 0.f);
            col2im(w, dcol, j->out + n * w->c * w->h * w->w);
        }
    }
}

/* partial[chunk] = the sum over the chunk's images of dy[n] col(x[n])^T. */
static void grad_weight_chunks(void *ctx, int64_t lo, int64_t hi) {
    conv_job *j = ctx;
    const nn_window *w = &j->w;
    int64_t kg = j->k / j->groups, cg = j->cout / j->groups;
    for (int64_t chunk = lo; chunk < hi; chunk++) {
        float *col = j->scratch + chunk * j->k * j->p, *dw = j->out + chunk * j->cout * kg;
        int first = 1;
        for (int64_t n = chunk * CONV_CHUNK; n < w->n && n < (chunk + 1) * CONV_CHUNK; n++, first = 0) {
            const float *dy = j->dy + n * j->cout * j->p;
            im2col(w, j->x + n * w->c * w->h * w->w, col);
            for (int64_t g = 0; g < j->groups; g++)
                sgemm(dy + g * cg * j->p, col + g * kg * j->p, dw + g * cg * kg, cg, kg, j->p, 0, 1, first ? 0.f : 1.f);
        }
    }
}

/* Sets up a job for the convolution of node over x [N, C, H, W] with a
 * kernel of shape ks: geometry and one col buffer a chunk. NN_OK or an
 * error in c->err. */
static nn_status job_init(nn_kernel_call *c, conv_job *j, nn_shape xs, nn_shape ks) {
    memset(j, 0, sizeof *j);
    if (conv_geom(c->node, xs, ks, &j->w, c->err) != NN_OK) return NN_ERR_SHAPE;
    j->cout = ks.dim[0];
    j->groups = c->node->iattr[NN_WIN_GROUPS];
    j->k = j->w.c * j->w.kh * j->w.kw;
    j->p = j->w.oh * j->w.ow;
    /* an image's column matrix: at most 2^28 floats (1 GiB), which also
     * keeps every product's sizes in BLAS's int */
    if (j->k * j->p > (INT64_C(1) << 28))
        return nn_errf(c->err, NN_ERR_SHAPE, "an image's im2col matrix [%lld, %lld] is over 2^28 floats",
                       (long long)j->k, (long long)j->p);
    size_t floats = (size_t)(n_chunks(&j->w) * j->k * j->p);
    j->scratch = malloc(floats * sizeof(float) + 1);
    if (!j->scratch) return nn_errf(c->err, NN_ERR_NOMEM, "out of memory for %zu floats of im2col scratch", floats);
    return NN_OK;
}

static nn_status conv2d_forward(nn_kernel_call *c) {
    if (!use_im2col()) return dn_forward(c);
    conv_job j;
    nn_status st = job_init(c, &j, c->in[0]->shape, c->in[1]->shape);
    if (st != NN_OK) return st;
    j.x = NN_CF(c->in[0]);
    j.kernel = NN_CF(c->in[1]);
    j.bias = NN_CF(c->in[2]);
    j.out = NN_F(c->out);
    nn_parallel_for(c->exec, n_chunks(&j.w), 1, forward_chunks, &j);
    free(j.scratch);
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
    if (!use_im2col()) return dn_grad_input(c);
    conv_job j;
    nn_status st = job_init(c, &j, c->in[2]->shape, c->in[1]->shape);
    if (st != NN_OK) return st;
    j.dy = NN_CF(c->in[0]);
    j.kernel = NN_CF(c->in[1]);
    j.out = NN_F(c->out);
    nn_parallel_for(c->exec, n_chunks(&j.w), 1, grad_input_chunks, &j);
    free(j.scratch);
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
    if (!use_im2col()) return dn_grad_weight(c);
    conv_job j;
    const nn_tensor *k = c->in[2];
    nn_status st = job_init(c, &j, c->in[0]->shape, k->shape);
    if (st != NN_OK) return st;
    int64_t chunks = n_chunks(&j.w), size = k->size;
    float *partial = malloc((size_t)(chunks * size) * sizeof *partial + 1);
    if (!partial) {
        free(j.scratch);
        return nn_errf(c->err, NN_ERR_NOMEM, "out of memory for the kernel gradient's partial sums");
    }
    j.x = NN_CF(c->in[0]);
    j.dy = NN_CF(c->in[1]);
    j.out = partial;
    nn_parallel_for(c->exec, chunks, 1, grad_weight_chunks, &j);
    float *dw = NN_F(c->out);
    memcpy(dw, partial, (size_t)size * sizeof *dw);
    for (int64_t ch = 1; ch < chunks; ch++)
        for (int64_t i = 0; i < size; i++) dw[i] += partial[ch * size + i];
    free(partial);
    free(j.scratch);
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
    .forward = conv2d_forward,
    .grad = conv2d_grad,
    .attrs = CONV_ATTRS,
    .layer_kind = "Conv2D",
};
const nn_op_def nn_op_conv2d_grad_input = {
    .name = "conv2d_grad_input",
    .n_inputs = 3,
    .shape = grad_input_shape,
    .forward = grad_input_forward,
    .attrs = CONV_ATTRS,
};
const nn_op_def nn_op_conv2d_grad_weight = {
    .name = "conv2d_grad_weight",
    .n_inputs = 3,
    .shape = grad_weight_shape,
    .forward = grad_weight_forward,
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
