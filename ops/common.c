/* Shape rules and kernels shared by several ops. */
#include "ops.h"

#include "kernels.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

nn_status nn_rule_like_input(nn_shape_ctx *c, nn_shape *out, nn_dtype *dt) {
    if (c->in_dtype[0] != NN_F32) return nn_errf(c->err, NN_ERR_ARG, "input must be f32");
    *out = c->in[0];
    *dt = NN_F32;
    return NN_OK;
}

nn_status nn_rule_pair(nn_shape_ctx *c, nn_shape *out, nn_dtype *dt) {
    if (c->in_dtype[0] != NN_F32 || c->in_dtype[1] != NN_F32)
        return nn_errf(c->err, NN_ERR_ARG, "inputs must be f32");
    if (!nn_shape_equal(c->in[0], c->in[1])) return nn_errf(c->err, NN_ERR_SHAPE, "inputs must have one shape");
    *out = c->in[0];
    *dt = NN_F32;
    return NN_OK;
}

nn_status nn_rule_loss_grad(nn_shape_ctx *c, nn_shape *out, nn_dtype *dt) {
    if (c->in_dtype[0] != NN_F32 || c->in_dtype[2] != NN_F32)
        return nn_errf(c->err, NN_ERR_ARG, "logits and loss gradient must be f32");
    if (c->in[2].rank != 0) return nn_errf(c->err, NN_ERR_SHAPE, "the loss gradient must be a scalar");
    *out = c->in[0];
    *dt = NN_F32;
    return NN_OK;
}

nn_status nn_rule_pair_loss(nn_shape_ctx *c, nn_shape *out, nn_dtype *dt, const char *what) {
    if (c->in_dtype[0] != NN_F32 || c->in_dtype[1] != NN_F32)
        return nn_errf(c->err, NN_ERR_ARG, "%s must be f32", what);
    if (!nn_shape_equal(c->in[0], c->in[1])) return nn_errf(c->err, NN_ERR_SHAPE, "%s differ in shape", what);
    *out = NN_SCALAR;
    *dt = NN_F32;
    return NN_OK;
}

nn_status nn_rule_pair_loss_grad(nn_shape_ctx *c, nn_shape *out, nn_dtype *dt, const char *what) {
    if (c->in_dtype[1] != NN_F32) return nn_errf(c->err, NN_ERR_ARG, "%s must be f32", what);
    if (!nn_shape_equal(c->in[0], c->in[1])) return nn_errf(c->err, NN_ERR_SHAPE, "%s differ in shape", what);
    return nn_rule_loss_grad(c, out, dt);
}

nn_status nn_broadcast_shape(nn_shape a, nn_shape b, nn_shape *out, char *err) {
    nn_shape r = {a.rank > b.rank ? a.rank : b.rank, {0}};
    for (int i = 0; i < r.rank; i++) {
        int ia = a.rank - r.rank + i, ib = b.rank - r.rank + i;
        int64_t da = ia >= 0 ? a.dim[ia] : 1, db = ib >= 0 ? b.dim[ib] : 1;
        if (da == db || db == 1)
            r.dim[i] = da;
        else if (da == 1)
            r.dim[i] = db;
        else
            return nn_errf(err, NN_ERR_SHAPE, "cannot broadcast dimension %d: %lld against %lld", i, (long long)da,
                           (long long)db);
    }
    *out = r;
    return NN_OK;
}

nn_status nn_rule_broadcast(nn_shape_ctx *c, nn_shape *out, nn_dtype *dt) {
    if (c->in_dtype[0] != NN_F32 || c->in_dtype[1] != NN_F32)
        return nn_errf(c->err, NN_ERR_ARG, "inputs must be f32");
    *dt = NN_F32;
    return nn_broadcast_shape(c->in[0], c->in[1], out, c->err);
}

void nn_broadcast_strides(nn_shape s, nn_shape out, int64_t dim4[4], int64_t stride4[4]) {
    int64_t stride = 1;
    for (int i = 3; i >= 0; i--) {
        int is = s.rank - 4 + i, io = out.rank - 4 + i;
        int64_t d = is >= 0 ? s.dim[is] : 1;
        int64_t od = io >= 0 ? out.dim[io] : 1;
        dim4[i] = od;
        stride4[i] = (d == 1 && od != 1) ? 0 : stride;
        stride *= d;
    }
}

static inline float binop(nn_binop op, float a, float b) {
    switch (op) {
    case NN_BIN_ADD: return a + b;
    case NN_BIN_SUB: return a - b;
    default: return a * b;
    }
}

#define BIN_LOOP(expr)                                                                                                 \
    switch (op) {                                                                                                      \
    case NN_BIN_ADD: {                                                                                                 \
        const nn_binop o_ = NN_BIN_ADD;                                                                                \
        expr;                                                                                                          \
    } break;                                                                                                           \
    case NN_BIN_SUB: {                                                                                                 \
        const nn_binop o_ = NN_BIN_SUB;                                                                                \
        expr;                                                                                                          \
    } break;                                                                                                           \
    default: {                                                                                                         \
        const nn_binop o_ = NN_BIN_MUL;                                                                                \
        expr;                                                                                                          \
    } break;                                                                                                           \
    }

nn_status nn_binary_forward(nn_kernel_call *c, nn_binop op) {
    const nn_tensor *ta = c->in[0], *tb = c->in[1];
    const float *restrict a = NN_CF(ta), *restrict b = NN_CF(tb);
    float *restrict y = NN_F(c->out);
    int64_t n = c->out->size;
    if (ta->size == n && tb->size == n) {
        /* same shape: the common case; the constant op lets the compiler
         * vectorise each branch */
        BIN_LOOP(for (int64_t i = 0; i < n; i++) y[i] = binop(o_, a[i], b[i]));
        return NN_OK;
    }
    if (ta->size == n && tb->size == 1) {
        float s = b[0];
        BIN_LOOP(for (int64_t i = 0; i < n; i++) y[i] = binop(o_, a[i], s));
        return NN_OK;
    }
    int64_t cols = c->out->shape.rank ? c->out->shape.dim[c->out->shape.rank - 1] : 1;
    if (ta->size == n && tb->size == cols && tb->shape.rank >= 1 && tb->shape.dim[tb->shape.rank - 1] == cols) {
        /* a bias row added to every row of the batch */
        BIN_LOOP(for (int64_t r = 0; r < n / cols; r++) for (int64_t j = 0; j < cols; j++) y[r * cols + j] =
                     binop(o_, a[r * cols + j], b[j]));
        return NN_OK;
    }
    int64_t d[4], sa[4], sb[4];
    nn_broadcast_strides(ta->shape, c->out->shape, d, sa);
    nn_broadcast_strides(tb->shape, c->out->shape, d, sb);
    int64_t k = 0;
    for (int64_t i0 = 0; i0 < d[0]; i0++)
        for (int64_t i1 = 0; i1 < d[1]; i1++)
            for (int64_t i2 = 0; i2 < d[2]; i2++) {
                const float *pa = a + i0 * sa[0] + i1 * sa[1] + i2 * sa[2];
                const float *pb = b + i0 * sb[0] + i1 * sb[1] + i2 * sb[2];
                for (int64_t i3 = 0; i3 < d[3]; i3++, k++) y[k] = binop(op, pa[i3 * sa[3]], pb[i3 * sb[3]]);
            }
    return NN_OK;
}

int nn_norm_axis(int axis, int rank) {
    if (axis == NN_ALL_AXES) return NN_ALL_AXES;
    if (axis < 0) axis += rank;
    return axis >= 0 && axis < rank ? axis : -1;
}

const char *nn_row_name(const nn_kernel_call *c, int64_t r, char *buf, size_t cap) {
    if (c->row_ids)
        snprintf(buf, cap, "dataset row %lld (row %lld of the batch)", (long long)c->row_ids[r], (long long)r);
    else
        snprintf(buf, cap, "row %lld", (long long)r);
    return buf;
}

void nn_rows_of(const nn_tensor *t, int64_t *rows, int64_t *cols) {
    *cols = t->shape.rank ? t->shape.dim[t->shape.rank - 1] : 1;
    *rows = *cols ? t->size / *cols : 0;
}

float nn_row_max(const float *x, int64_t n) {
    float m = x[0];
    for (int64_t j = 1; j < n; j++) m = x[j] > m ? x[j] : m;
    return m;
}

/* The cloned loops are static and reached through plain functions: GCC
 * exports a target_clones function's dispatcher from the shared library
 * whatever its visibility says. */
NN_VECTOR_CLONES static void exp_shifted(const float *x, float shift, float *y, int64_t n) {
    for (int64_t j = 0; j < n; j++) y[j] = nn_exp_nonpos(x[j] - shift);
}

NN_VECTOR_CLONES static void exp_nonpos_inplace(float *x, int64_t n) {
    for (int64_t j = 0; j < n; j++) x[j] = nn_exp_nonpos(x[j]);
}

void nn_exp_shifted(const float *x, float shift, float *y, int64_t n) { exp_shifted(x, shift, y, n); }

void nn_exp_nonpos_inplace(float *x, int64_t n) { exp_nonpos_inplace(x, n); }

/* glibc's expf, not nn_exp_shifted: the gradient of every softmax loss
 * goes through here, and a different last bit in it changes a whole
 * training run's weights (the digits test ends with 58 training errors
 * instead of 14 from that alone); the loss value may differ, it feeds
 * nothing. */
void nn_softmax_row(const float *x, float *y, int64_t n, float scale) {
    float m = nn_row_max(x, n);
    float s = 0.f;
    for (int64_t j = 0; j < n; j++) s += y[j] = expf(x[j] - m);
    float k = scale / s;
    for (int64_t j = 0; j < n; j++) y[j] *= k;
}

nn_node *nn_grad_op(nn_graph *g, const nn_op_def *op, nn_node *a, nn_node *b) {
    nn_node *in[2] = {a, b};
    return nn_op_node(g, op, NULL, 2, in, NULL, NULL);
}

nn_node *nn_grad_op3(nn_graph *g, const nn_op_def *op, nn_node *a, nn_node *b, nn_node *c) {
    nn_node *in[3] = {a, b, c};
    return nn_op_node(g, op, NULL, 3, in, NULL, NULL);
}

nn_status nn_reduced_shape(nn_shape x, int64_t axis, nn_shape *out, char *err) {
    if (axis == NN_ALL_AXES) {
        *out = NN_SCALAR;
        return NN_OK;
    }
    /* the attribute is whatever a file said: check it whole, before any
     * narrowing to int */
    if (axis < 0 || axis >= x.rank)
        return nn_errf(err, NN_ERR_SHAPE, "axis %lld is outside the input's %d axes", (long long)axis, x.rank);
    nn_shape r = {x.rank - 1, {0}};
    for (int i = 0, k = 0; i < x.rank; i++)
        if (i != axis) r.dim[k++] = x.dim[i];
    *out = r;
    return NN_OK;
}

nn_status nn_rule_reduce(nn_shape_ctx *c, nn_shape *out, nn_dtype *dt) {
    if (c->in_dtype[0] != NN_F32) return nn_errf(c->err, NN_ERR_ARG, "input must be f32");
    if (nn_reduced_shape(c->in[0], c->node->iattr[0], out, c->err) != NN_OK) return NN_ERR_SHAPE;
    *dt = NN_F32;
    return NN_OK;
}

void nn_axis_split(nn_shape s, int axis, int64_t *outer, int64_t *len, int64_t *inner) {
    if (axis == NN_ALL_AXES) {
        *outer = 1;
        *len = nn_shape_size(s);
        *inner = 1;
        return;
    }
    *outer = *inner = 1;
    for (int i = 0; i < axis; i++) *outer *= s.dim[i];
    *len = s.dim[axis];
    for (int i = axis + 1; i < s.rank; i++) *inner *= s.dim[i];
}

void nn_reduce_forward(nn_kernel_call *c, int mean) {
    int64_t outer, len, inner;
    nn_axis_split(c->in[0]->shape, (int)c->node->iattr[0], &outer, &len, &inner);
    const float *x = NN_CF(c->in[0]);
    float *y = NN_F(c->out);
    for (int64_t o = 0; o < outer; o++)
        for (int64_t i = 0; i < inner; i++) {
            /* accumulate in double: a sum over thousands of elements */
            double s = 0.0;
            for (int64_t l = 0; l < len; l++) s += x[(o * len + l) * inner + i];
            y[o * inner + i] = (float)(mean ? s / (double)len : s);
        }
}

nn_node *nn_reduce_node(nn_graph *g, const nn_op_def *op, nn_node *x, int axis) {
    if (!g || !x) return nn_op_node(g, op, NULL, 1, &x, NULL, NULL);
    int a = nn_norm_axis(axis, x->shape.rank);
    if (a < 0)
        return nn_fail(g, NN_ERR_SHAPE, "%s: axis %d is outside the %d axes of '%s'", op->name, axis, x->shape.rank,
                       x->name);
    int64_t iattr[NN_MAX_ATTRS] = {a};
    return nn_op_node(g, op, NULL, 1, &x, NULL, iattr);
}
