/* The convolution spike (docs/performance.md): one training step of a
 * convolution layer (forward, gradient of the input, of the kernel and of
 * the bias) through nngraph's conv2d (im2col + one sgemm a layer) against
 * oneDNN 2.6 (libdnnl-dev), single-threaded, on the Fashion CNN's layers.
 *
 * oneDNN runs twice: on plain NCHW/OIHW memory, which is what nngraph's
 * tensors are, and with the layouts it picks itself (format "any",
 * blocked), not counting the reorders into and out of them: the best case,
 * as if every op of the network kept oneDNN's layouts. nngraph runs its
 * four kernels (conv2d, conv2d_grad_input, _weight, _bias) as one plan
 * with dy bound as an input, like oneDNN's three primitives.
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

/* Seconds a step through nngraph: the minimum over repeats of `ms`. */
static double nngraph_step(const layer *l, double ms) {
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
    double best = 1e9, end = now() + ms / 1000.0;
    do {
        double t0 = now();
        nn_run(g, outs, 4);
        double t = now() - t0;
        if (t < best) best = t;
    } while (now() < end);
    nn_tensor_free(xv);
    nn_tensor_free(dyv);
    nn_graph_free(g);
    return best;
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

/* Seconds a step through oneDNN: forward, backward data, backward
 * weights+bias; `any`: layouts of oneDNN's choice. */
static double onednn_step(const layer *l, double ms, int any) {
    dnnl_engine_t eng;
    dnnl_stream_t st;
    DN(dnnl_engine_create(&eng, dnnl_cpu, 0));
    DN(dnnl_stream_create(&st, eng, dnnl_stream_default_flags));
    int64_t oh = l->h - l->k + 1, ow = l->w - l->k + 1;
    dnnl_dims_t xd = {l->n, l->c, l->h, l->w}, wd = {l->cout, l->c, l->k, l->k}, bd = {l->cout},
                yd = {l->n, l->cout, oh, ow}, strides = {1, 1}, pad = {0, 0};
    dnnl_format_tag_t act = any ? dnnl_format_tag_any : dnnl_nchw, wt = any ? dnnl_format_tag_any : dnnl_oihw;
    dnnl_memory_desc_t x_md = md(4, xd, act), w_md = md(4, wd, wt), b_md = md(1, bd, dnnl_x), y_md = md(4, yd, act);
    dnnl_convolution_desc_t fd, bdd, bwd;
    DN(dnnl_convolution_forward_desc_init(&fd, dnnl_forward_training, dnnl_convolution_direct, &x_md, &w_md, &b_md,
                                          &y_md, strides, pad, pad));
    dnnl_primitive_desc_t fpd, bdpd, bwpd;
    DN(dnnl_primitive_desc_create(&fpd, &fd, NULL, eng, NULL));
    DN(dnnl_convolution_backward_data_desc_init(&bdd, dnnl_convolution_direct, &x_md, &w_md, &y_md, strides, pad, pad));
    DN(dnnl_primitive_desc_create(&bdpd, &bdd, NULL, eng, fpd));
    DN(dnnl_convolution_backward_weights_desc_init(&bwd, dnnl_convolution_direct, &x_md, &w_md, &b_md, &y_md, strides,
                                                   pad, pad));
    DN(dnnl_primitive_desc_create(&bwpd, &bwd, NULL, eng, fpd));
    /* memory in the layouts each primitive chose (the same as asked when
     * they are plain) */
    const dnnl_memory_desc_t *q;
    q = dnnl_primitive_desc_query_md(fpd, dnnl_query_src_md, 0);
    dnnl_memory_t x = mem(eng, q);
    q = dnnl_primitive_desc_query_md(fpd, dnnl_query_weights_md, 0);
    dnnl_memory_t w = mem(eng, q);
    dnnl_memory_t b = mem(eng, &b_md);
    q = dnnl_primitive_desc_query_md(fpd, dnnl_query_dst_md, 0);
    dnnl_memory_t y = mem(eng, q);
    q = dnnl_primitive_desc_query_md(bdpd, dnnl_query_diff_src_md, 0);
    dnnl_memory_t dx = mem(eng, q);
    q = dnnl_primitive_desc_query_md(bdpd, dnnl_query_diff_dst_md, 0);
    dnnl_memory_t dy = mem(eng, q);
    q = dnnl_primitive_desc_query_md(bwpd, dnnl_query_diff_weights_md, 0);
    dnnl_memory_t dw = mem(eng, q);
    dnnl_memory_t db = mem(eng, &b_md);
    dnnl_primitive_t f, bdp, bwp;
    DN(dnnl_primitive_create(&f, fpd));
    DN(dnnl_primitive_create(&bdp, bdpd));
    DN(dnnl_primitive_create(&bwp, bwpd));
    dnnl_exec_arg_t fa[] = {{DNNL_ARG_SRC, x}, {DNNL_ARG_WEIGHTS, w}, {DNNL_ARG_BIAS, b}, {DNNL_ARG_DST, y}};
    dnnl_exec_arg_t da[] = {{DNNL_ARG_DIFF_DST, dy}, {DNNL_ARG_WEIGHTS, w}, {DNNL_ARG_DIFF_SRC, dx}};
    dnnl_exec_arg_t wa[] = {{DNNL_ARG_SRC, x}, {DNNL_ARG_DIFF_DST, dy}, {DNNL_ARG_DIFF_WEIGHTS, dw}, {DNNL_ARG_DIFF_BIAS, db}};
    const char *impl;
    DN(dnnl_primitive_desc_query(fpd, dnnl_query_impl_info_str, 0, &impl));
    fprintf(stderr, "  oneDNN %s %s: forward implementation %s\n", l->name, any ? "any" : "plain", impl);
    double best = 1e9, end = now() + ms / 1000.0;
    do {
        double t0 = now();
        DN(dnnl_primitive_execute(f, st, 4, fa));
        DN(dnnl_primitive_execute(bdp, st, 3, da));
        DN(dnnl_primitive_execute(bwp, st, 4, wa));
        DN(dnnl_stream_wait(st));
        double t = now() - t0;
        if (t < best) best = t;
    } while (now() < end);
    dnnl_primitive_destroy(f);
    dnnl_primitive_destroy(bdp);
    dnnl_primitive_destroy(bwp);
    dnnl_memory_t all[] = {x, w, b, y, dx, dy, dw, db};
    for (int i = 0; i < 8; i++) dnnl_memory_destroy(all[i]);
    dnnl_primitive_desc_destroy(fpd);
    dnnl_primitive_desc_destroy(bdpd);
    dnnl_primitive_desc_destroy(bwpd);
    dnnl_stream_destroy(st);
    dnnl_engine_destroy(eng);
    return best;
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
        double ng = nngraph_step(l, ms), plain = onednn_step(l, ms, 0), any = onednn_step(l, ms, 1);
        printf("conv layer=\"%s\" batch=%lld nngraph_ms=%.3f onednn_plain_ms=%.3f onednn_any_ms=%.3f "
               "plain_over_nngraph=%.2f any_over_nngraph=%.2f\n",
               l->name, (long long)l->n, 1e3 * ng, 1e3 * plain, 1e3 * any, plain / ng, any / ng);
    }
    return 0;
}
