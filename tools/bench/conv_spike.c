/* The convolution spike (docs/performance.md): each direction of a
 * convolution layer (forward, gradient of the input, gradient of the
 * kernel) through nngraph's conv2d ops as built, against oneDNN 2.6
 * (libdnnl-dev) called directly, single-threaded, on the Fashion CNN's
 * layers.
 *
 * oneDNN runs twice: on plain NCHW/OIHW memory, which is what nngraph's
 * tensors are, and with the layouts it picks itself (format "any",
 * blocked), counting the reorders of its inputs from and its outputs into
 * plain memory, as an op that takes and gives NCHW tensors must. The
 * nngraph figures of the im2col kernels that conv2d had before are in the
 * docs (commit 67e19e5 has both, NNGRAPH_CONV=im2col picking the old).
 *
 *   OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 build/tools/conv_spike [--ms N]
 */
#include "internal.h"

#include <dnnl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

#define DN(call)                                                                                                       \
    do {                                                                                                               \
        dnnl_status_t s_ = (call);                                                                                     \
        if (s_ != dnnl_success) {                                                                                      \
            fprintf(stderr, "conv_spike: %s failed (%d)\n", #call, (int)s_);                                           \
            exit(1);                                                                                                   \
        }                                                                                                              \
    } while (0)

typedef struct layer {
    const char *name;
    int64_t n, c, h, w, cout, k;
} layer;

extern const nn_op_def nn_op_conv2d_grad_input, nn_op_conv2d_grad_weight, nn_op_conv2d_grad_bias;

static nn_tensor *filled(nn_shape s, nn_rng *r) {
    nn_tensor *t = nn_tensor_new(NN_F32, s);
    nn_tensor_init(t, nn_init_uniform(-1.f, 1.f), r);
    return t;
}

/* Seconds of each of nngraph's conv2d, conv2d_grad_input and
 * conv2d_grad_weight (out[0..2]): the minimum over repeats of `ms` / 3. */
static void nngraph_step(const layer *l, double ms, double out[3]) {
    nn_graph *g = nn_graph_new(1);
    nn_graph_set_threads(g, 1);
    nn_shape xs = NN_SHAPE(l->n, l->c, l->h, l->w), ys = NN_SHAPE(l->n, l->cout, l->h - l->k + 1, l->w - l->k + 1);
    nn_node *x = nn_input(g, "x", NN_F32, xs), *dy = nn_input(g, "dy", NN_F32, ys);
    nn_node *w = nn_param(g, "w", NN_SHAPE(l->cout, l->c, l->k, l->k), nn_init_glorot_uniform());
    nn_node *b = nn_param(g, "b", NN_SHAPE(l->cout), nn_init_zeros());
    nn_node *y = nn_conv2d_op(g, x, w, b, NULL);
    nn_node *gi[3] = {dy, w, x}, *gw[3] = {x, dy, w};
    nn_node *outs[4] = {y, nn_op_node(g, &nn_op_conv2d_grad_input, NULL, 3, gi, NULL, y->iattr),
                        nn_op_node(g, &nn_op_conv2d_grad_weight, NULL, 3, gw, NULL, y->iattr),
                        nn_op_node(g, &nn_op_conv2d_grad_bias, NULL, 1, &dy, NULL, y->iattr)};
    nn_tensor *xv = filled(xs, nn_graph_rng(g)), *dyv = filled(ys, nn_graph_rng(g));
    nn_set_input(g, x, xv);
    nn_set_input(g, dy, dyv);
    if (nn_graph_status(g) != NN_OK) {
        fprintf(stderr, "conv_spike: %s\n", nn_error_message(g));
        exit(1);
    }
    for (int p = 0; p < 3; p++) {
        double best = 1e9, end = now() + ms / 3000.0;
        do {
            double t0 = now();
            nn_run(g, &outs[p], 1);
            double t = now() - t0;
            if (t < best) best = t;
        } while (now() < end);
        out[p] = best;
    }
    nn_tensor_free(xv);
    nn_tensor_free(dyv);
    nn_graph_free(g);
}

static dnnl_memory_desc_t md(int rank, const dnnl_dims_t dims, dnnl_format_tag_t tag) {
    dnnl_memory_desc_t d;
    DN(dnnl_memory_desc_init_by_tag(&d, rank, dims, dnnl_f32, tag));
    return d;
}

static dnnl_memory_t mem(dnnl_engine_t eng, const dnnl_memory_desc_t *d) {
    dnnl_memory_t m;
    DN(dnnl_memory_create(&m, d, eng, DNNL_MEMORY_ALLOCATE));
    /* something other than zeros: denormals or NaN would skew timings */
    float *p;
    DN(dnnl_memory_get_data_handle(m, (void **)&p));
    size_t bytes = dnnl_memory_desc_get_size(d);
    for (size_t i = 0; i < bytes / sizeof *p; i++) p[i] = (float)((i * 7919) % 1000) / 1000.f - 0.5f;
    return m;
}

/* A reorder between one of nngraph's plain tensors and the layout a
 * primitive chose (nothing when they are the same). */
typedef struct reorder {
    dnnl_primitive_t prim;
    dnnl_memory_t from, to;
} reorder;

/* The primitive's argument `arg` (described by pd) as memory, and the
 * reorder that fills it from plain memory of plain_md (in) or that copies
 * it out into plain memory (out). */
static dnnl_memory_t arg_mem(dnnl_engine_t eng, dnnl_primitive_desc_t pd, int arg, const dnnl_memory_desc_t *plain_md,
                             int out, reorder *r) {
    const dnnl_memory_desc_t *q = dnnl_primitive_desc_query_md(pd, dnnl_query_exec_arg_md, arg);
    dnnl_memory_t m = mem(eng, q);
    memset(r, 0, sizeof *r);
    if (dnnl_memory_desc_equal(q, plain_md)) return m;
    dnnl_memory_t plain = mem(eng, plain_md);
    dnnl_primitive_desc_t rpd;
    DN(dnnl_reorder_primitive_desc_create(&rpd, out ? q : plain_md, eng, out ? plain_md : q, eng, NULL));
    DN(dnnl_primitive_create(&r->prim, rpd));
    dnnl_primitive_desc_destroy(rpd);
    r->from = out ? m : plain;
    r->to = out ? plain : m;
    return m;
}

static void run_reorder(dnnl_stream_t st, const reorder *r) {
    if (!r->prim) return;
    dnnl_exec_arg_t a[] = {{DNNL_ARG_FROM, r->from}, {DNNL_ARG_TO, r->to}};
    DN(dnnl_primitive_execute(r->prim, st, 2, a));
}

/* Seconds of each of oneDNN's three primitives (forward, backward data,
 * backward weights+bias; out[0..2]) as a conv2d op would run it: with
 * `any`, oneDNN picks the layouts and each primitive's run includes the
 * reorders of its inputs from and its outputs into plain NCHW/OIHW
 * memory, which is what the op gets and must give. */
static void onednn_step(const layer *l, double ms, int any, double out[3]) {
    dnnl_engine_t eng;
    dnnl_stream_t st;
    DN(dnnl_engine_create(&eng, dnnl_cpu, 0));
    DN(dnnl_stream_create(&st, eng, dnnl_stream_default_flags));
    int64_t oh = l->h - l->k + 1, ow = l->w - l->k + 1;
    dnnl_dims_t xd = {l->n, l->c, l->h, l->w}, wd = {l->cout, l->c, l->k, l->k}, bd = {l->cout},
                yd = {l->n, l->cout, oh, ow}, strides = {1, 1}, pad = {0, 0};
    dnnl_format_tag_t act = any ? dnnl_format_tag_any : dnnl_nchw, wt = any ? dnnl_format_tag_any : dnnl_oihw;
    dnnl_memory_desc_t x_md = md(4, xd, act), w_md = md(4, wd, wt), b_md = md(1, bd, dnnl_x), y_md = md(4, yd, act);
    dnnl_memory_desc_t xp = md(4, xd, dnnl_nchw), wp = md(4, wd, dnnl_oihw), yp = md(4, yd, dnnl_nchw);
    dnnl_convolution_desc_t fd, bdd, bwd;
    dnnl_primitive_desc_t pd[3];
    DN(dnnl_convolution_forward_desc_init(&fd, dnnl_forward_training, dnnl_convolution_direct, &x_md, &w_md, &b_md,
                                          &y_md, strides, pad, pad));
    DN(dnnl_primitive_desc_create(&pd[0], &fd, NULL, eng, NULL));
    DN(dnnl_convolution_backward_data_desc_init(&bdd, dnnl_convolution_direct, &x_md, &w_md, &y_md, strides, pad, pad));
    DN(dnnl_primitive_desc_create(&pd[1], &bdd, NULL, eng, pd[0]));
    DN(dnnl_convolution_backward_weights_desc_init(&bwd, dnnl_convolution_direct, &x_md, &w_md, &b_md, &y_md, strides,
                                                   pad, pad));
    DN(dnnl_primitive_desc_create(&pd[2], &bwd, NULL, eng, pd[0]));
    /* each primitive's arguments: id, plain layout, output? */
    struct { int arg; const dnnl_memory_desc_t *plain; int out; } args[3][4] = {
        {{DNNL_ARG_SRC, &xp, 0}, {DNNL_ARG_WEIGHTS, &wp, 0}, {DNNL_ARG_BIAS, &b_md, 0}, {DNNL_ARG_DST, &yp, 1}},
        {{DNNL_ARG_DIFF_DST, &yp, 0}, {DNNL_ARG_WEIGHTS, &wp, 0}, {DNNL_ARG_DIFF_SRC, &xp, 1}, {0, NULL, 0}},
        {{DNNL_ARG_SRC, &xp, 0}, {DNNL_ARG_DIFF_DST, &yp, 0}, {DNNL_ARG_DIFF_WEIGHTS, &wp, 1}, {DNNL_ARG_DIFF_BIAS, &b_md, 1}}};
    const char *names[3] = {"forward", "backward data", "backward weights"};
    for (int p = 0; p < 3; p++) {
        dnnl_exec_arg_t ea[4];
        reorder r[4];
        int n = 0;
        for (; n < 4 && args[p][n].plain; n++) {
            ea[n].arg = args[p][n].arg;
            ea[n].memory = arg_mem(eng, pd[p], args[p][n].arg, args[p][n].plain, args[p][n].out, &r[n]);
        }
        dnnl_primitive_t prim;
        DN(dnnl_primitive_create(&prim, pd[p]));
        const char *impl;
        DN(dnnl_primitive_desc_query(pd[p], dnnl_query_impl_info_str, 0, &impl));
        fprintf(stderr, "  oneDNN %s %s: %s implementation %s\n", l->name, any ? "any" : "plain", names[p], impl);
        double best = 1e9, end = now() + ms / 3000.0;
        do {
            double t0 = now();
            for (int i = 0; i < n; i++)
                if (!args[p][i].out) run_reorder(st, &r[i]);
            DN(dnnl_primitive_execute(prim, st, n, ea));
            for (int i = 0; i < n; i++)
                if (args[p][i].out) run_reorder(st, &r[i]);
            DN(dnnl_stream_wait(st));
            double t = now() - t0;
            if (t < best) best = t;
        } while (now() < end);
        out[p] = best;
        dnnl_primitive_destroy(prim);
        for (int i = 0; i < n; i++) {
            if (r[i].prim) {
                dnnl_primitive_destroy(r[i].prim);
                dnnl_memory_destroy(args[p][i].out ? r[i].to : r[i].from);
            }
            dnnl_memory_destroy(ea[i].memory);
        }
        dnnl_primitive_desc_destroy(pd[p]);
    }
    dnnl_stream_destroy(st);
    dnnl_engine_destroy(eng);
}

int main(int argc, char **argv) {
    double ms = 1500;
    if (argc == 3 && !strcmp(argv[1], "--ms")) ms = atof(argv[2]);
    else if (argc != 1) {
        fprintf(stderr, "usage: %s [--ms N]\n", argv[0]);
        return 2;
    }
    const layer layers[] = {
        {"conv1 1->32 28x28", 64, 1, 28, 28, 32, 3},
        {"conv2 32->64 13x13", 64, 32, 13, 13, 64, 3},
    };
    for (size_t i = 0; i < sizeof layers / sizeof *layers; i++) {
        const layer *l = &layers[i];
        double ng[3], plain[3], any[3];
        nngraph_step(l, ms, ng);
        onednn_step(l, ms, 0, plain);
        onednn_step(l, ms, 1, any);
        printf("conv layer=\"%s\" batch=%lld (nngraph: conv2d as built)\n", l->name, (long long)l->n);
        const char *names[3] = {"forward", "backward_data", "backward_weights"};
        for (int p = 0; p < 3; p++)
            printf("  %-16s nngraph_ms=%8.3f onednn_plain_ms=%8.3f onednn_any_with_reorders_ms=%8.3f "
                   "plain_over_nngraph=%.2f any_over_nngraph=%.2f\n",
                   names[p], 1e3 * ng[p], 1e3 * plain[p], 1e3 * any[p], plain[p] / ng[p], any[p] / ng[p]);
    }
    return 0;
}
