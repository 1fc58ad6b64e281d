/* Helpers shared by the op files: common shape rules, the broadcasting
 * machinery of the binary elementwise ops, and the op table. */
#ifndef NN_OPS_H
#define NN_OPS_H

#include "internal.h"

/* Shape rule: the output is like input 0, which must be f32. */
nn_status nn_rule_like_input(nn_shape_ctx *c, nn_shape *out, nn_dtype *dt);
/* Shape rule of the (y, dy) gradient helpers: two f32 inputs of one
 * shape, output of that shape. */
nn_status nn_rule_pair(nn_shape_ctx *c, nn_shape *out, nn_dtype *dt);
/* Shape rule of the three-input loss gradients (logits, targets, dloss):
 * output like input 0, input 2 a scalar. */
nn_status nn_rule_loss_grad(nn_shape_ctx *c, nn_shape *out, nn_dtype *dt);
/* Shape rules of the elementwise losses of two f32 inputs of one shape (mse,
 * bce_with_logits), which errors call `what` ("logits and targets"): the
 * loss is a scalar, its gradient (inputs a, b, dloss) has a's shape. */
nn_status nn_rule_pair_loss(nn_shape_ctx *c, nn_shape *out, nn_dtype *dt, const char *what);
nn_status nn_rule_pair_loss_grad(nn_shape_ctx *c, nn_shape *out, nn_dtype *dt, const char *what);

/* numpy broadcasting of two shapes (right-aligned; 1 or missing dims
 * stretch). Writes the reason to err on a misfit. */
nn_status nn_broadcast_shape(nn_shape a, nn_shape b, nn_shape *out, char *err);
/* Shape rule of add/sub/mul: two f32 inputs, broadcast. */
nn_status nn_rule_broadcast(nn_shape_ctx *c, nn_shape *out, nn_dtype *dt);

typedef enum nn_binop { NN_BIN_ADD, NN_BIN_SUB, NN_BIN_MUL } nn_binop;
/* out = a (op) b with broadcasting; fast paths for equal shapes, a row
 * broadcast over the batch, and a scalar. */
nn_status nn_binary_forward(nn_kernel_call *c, nn_binop op);

/* Reduces dy to the shape of `like` by summing over broadcast dimensions:
 * the gradient of an input that was broadcast. Returns dy itself when the
 * shapes already agree. */
nn_node *nn_sum_like(nn_graph *g, nn_node *dy, nn_node *like);
/* Broadcasts dy (x reduced over `axis`, or a scalar for NN_ALL_AXES) back
 * to x's shape, times 1/count when `mean` is set: the gradient of sum and
 * mean. */
nn_node *nn_expand_like(nn_graph *g, nn_node *dy, nn_node *x, int axis, int mean);

/* Gradient helper ops: out = f(in0, in1) for the (y, dy) or loss-gradient
 * patterns above; built by the gradient rules. */
nn_node *nn_grad_op(nn_graph *g, const nn_op_def *op, nn_node *a, nn_node *b);
nn_node *nn_grad_op3(nn_graph *g, const nn_op_def *op, nn_node *a, nn_node *b, nn_node *c);

/* Pads s to rank 4 on the left and gives the element strides of each
 * dimension inside a tensor of shape s, 0 where s is broadcast along out. */
void nn_broadcast_strides(nn_shape s, nn_shape out, int64_t dim4[4], int64_t stride4[4]);

/* Reductions over one axis (iattr[0], or NN_ALL_AXES): the shape rule
 * removes the axis; the kernel sums (or averages) it. */
nn_status nn_rule_reduce(nn_shape_ctx *c, nn_shape *out, nn_dtype *dt);
/* x reduced over `axis` (NN_ALL_AXES: a scalar); NN_ERR_SHAPE with the
 * reason in err when the axis is not one of x's. */
nn_status nn_reduced_shape(nn_shape x, int64_t axis, nn_shape *out, char *err);
void nn_reduce_forward(nn_kernel_call *c, int mean);
/* The node of reduction `op` (sum, mean) of x over `axis` (negative counts
 * from the end; NN_ALL_AXES for all); an axis outside x fails the graph
 * with "OP: axis A is outside the R axes of 'X'". */
nn_node *nn_reduce_node(nn_graph *g, const nn_op_def *op, nn_node *x, int axis);
/* A shape seen as [outer, len, inner] around `axis`. */
void nn_axis_split(nn_shape s, int axis, int64_t *outer, int64_t *len, int64_t *inner);

/* A normalised axis in [0,rank), or NN_ALL_AXES; -1 if out of range. */
int nn_norm_axis(int axis, int rank);

/* Row r of the batch, worded for an error message: "row 2", or during
 * nn_fit "dataset row 6 (row 2 of the batch)"; written to buf (cap
 * bytes), which is returned. */
const char *nn_row_name(const nn_kernel_call *c, int64_t r, char *buf, size_t cap);

/* Row-wise helpers of the softmax family: rows = size / last dim. */
void nn_rows_of(const nn_tensor *t, int64_t *rows, int64_t *cols);
/* The largest of the n >= 1 values of a row: the shift that keeps exp() of
 * the row finite (softmax, log_softmax, cross-entropy). */
float nn_row_max(const float *x, int64_t n);
/* y = scale * softmax(x) over one row of n values, max-subtracted, the sum
 * in float; y may be x. */
void nn_softmax_row(const float *x, float *y, int64_t n, float scale);
/* y[i] = e^(x[i] - shift) for the n values, where every x[i] - shift is
 * <= 0 (shift is the row's maximum): nn_exp_nonpos below, vectorised. */
void nn_exp_shifted(const float *x, float shift, float *y, int64_t n);
/* x[i] = e^x[i] for the n values, all <= 0, in place, vectorised. */
void nn_exp_nonpos_inplace(float *x, int64_t n);

/* e^x for x <= 0, within 2 ulp of the exact value (tests/test_sched.c
 * measures it), with no library call so that loops of it vectorise: glibc's
 * scalar expf made the softmax cross-entropy and its gradient the most
 * expensive steps of a small network after its products. x = n ln2 + r,
 * |r| <= ln2/2 (ln2 in two parts, so n ln2 is exact for these n), e^r by
 * its Taylor series to r^7/7!, whose remainder there is under 1e-8
 * relative; 2^n is built in the exponent bits. Results below e^-87 (the
 * smallest normal float is e^-87.34) are 0, x > 0 is treated as 0, a NaN
 * stays NaN. Every comparison is a select, so there are no branches. */
static inline float nn_exp_nonpos(float x) {
    float xc = x < -87.f ? -87.f : x; /* a NaN compares false: stays */
    xc = xc > 0.f ? 0.f : xc;
    xc = xc == xc ? xc : 0.f; /* keep NaN out of the integer conversion */
    const float round_magic = 12582912.f; /* 1.5 * 2^23: adding it rounds to an integer */
    float n = (xc * 1.44269504088896341f + round_magic) - round_magic;
    float r = xc - n * 0.693145751953125f; /* ln2's upper 16 bits: exact product */
    r = r - n * 1.42860682030941723212e-6f;
    float p = 1.f / 5040.f;
    p = p * r + 1.f / 720.f;
    p = p * r + 1.f / 120.f;
    p = p * r + 1.f / 24.f;
    p = p * r + 1.f / 6.f;
    p = p * r + 0.5f;
    p = p * r + 1.f;
    p = p * r + 1.f;
    union { int32_t i; float f; } two_n = {.i = ((int32_t)n + 127) * (1 << 23)}; /* n in [-126, 0] */
    float y = p * two_n.f;
    y = x < -87.f ? 0.f : y;
    return x == x ? y : x;
}

/* Sliding windows over an image's height and width (conv2d and the
 * pools). Padding modes of iattr slot NN_WIN_PADDING: explicit (pad_h,
 * pad_w on both sides), "same" (out = ceil(in/stride), the padding split
 * with the odd element after, as in Keras/TensorFlow) and "valid" (none). */
enum { NN_PAD_EXPLICIT = 0, NN_PAD_SAME = 1, NN_PAD_VALID = 2 };
/* Where the window ops keep their attributes: slots 0-1 stride, 2-3
 * explicit padding, 4-5 dilation (conv2d; the pools keep their window
 * height and width there and have no dilation), 6 groups (conv2d), 7 the
 * padding mode. */
enum { NN_WIN_STRIDE_H = 0, NN_WIN_STRIDE_W, NN_WIN_PAD_H, NN_WIN_PAD_W, NN_WIN_DIL_H, NN_WIN_DIL_W, NN_WIN_GROUPS,
       NN_WIN_PADDING };
#define NN_WIN_MAX 65536 /* bound on kernel sizes, strides, dilations and paddings */

/* The geometry of a 2-D window op over x [N, C, H, W]. */
typedef struct nn_window {
    int64_t n, c, h, w;    /* input */
    int64_t kh, kw;        /* window */
    int64_t sh, sw, dh, dw;
    int64_t pt, pl;        /* padding before (top, left) */
    int64_t oh, ow;        /* output height and width */
} nn_window;

/* Fills *win from x's shape, the window size kh x kw and node's window
 * attributes (dilation 1 unless `dilated`); checks everything the kernels rely on (rank 4, positive
 * sizes, strides and dilations >= 1, padding >= 0, a known padding mode,
 * a window that fits the padded input), writing the reason to err. */
nn_status nn_window_geom(const nn_node *node, nn_shape x, int64_t kh, int64_t kw, int dilated, nn_window *win,
                         char *err);

/* The padding mode's name ("explicit", "same", "valid"), and back (-1). */
const char *nn_pad_mode_name(int mode);
int nn_pad_mode_from_name(const char *name);

#define NN_F(t) ((float *)(t)->data)
#define NN_CF(t) ((const float *)(t)->data)
#define NN_CI(t) ((const int32_t *)(t)->data)

#endif
