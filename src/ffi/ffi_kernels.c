/* The kernels of ffi nodes: the forward call (per element or once per
 * tensor), the user's gradient function, and central finite differences
 * when there is none. Every call goes through the ffi_cif prepared when
 * the node was built; only the argument pointers are set here. */
#include "ffi_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Room for a return value: libffi writes at least a full ffi_arg. */
typedef union ret_slot {
    ffi_arg word;
    float f;
    double d;
} ret_slot;

/* Points args[first..] at the binding's scalar values. */
static void scalar_args(const nn_ffi_binding *b, void **args, int first) {
    for (int i = 0; i < b->sig.n_scalars; i++) args[first + i] = (void *)&b->values[i];
}

/* f(x) of an elementwise op with its arguments prepared in args (args[0]
 * points to *x). */
static inline float call_elem(void (*fn)(void), const ffi_cif *cif, void **args) {
    ret_slot r;
    ffi_call((ffi_cif *)cif, fn, &r, args);
    return r.f;
}

static void call_tensor(const nn_ffi_binding *b, const float *in, float *out, int64_t n) {
    void *args[NN_FFI_MAX_PARAMS];
    args[0] = &in;
    args[1] = &out;
    args[2] = &n;
    scalar_args(b, args, 3);
    ret_slot r;
    ffi_call((ffi_cif *)&b->cif, b->fn, &r, args);
}

nn_status nn_ffi_forward_kernel(nn_kernel_call *c) {
    const nn_ffi_binding *b = c->node->opdata;
    const float *x = c->in[0]->data;
    float *y = c->out->data;
    int64_t n = c->out->size;
    if (!b->sig.elementwise) {
        call_tensor(b, x, y, n);
        return NN_OK;
    }
    float xi;
    void *args[NN_FFI_MAX_PARAMS];
    args[0] = &xi;
    scalar_args(b, args, 1);
    for (int64_t i = 0; i < n; i++) {
        xi = x[i];
        y[i] = call_elem(b->fn, &b->cif, args);
    }
    return NN_OK;
}

nn_status nn_ffi_grad_kernel(nn_kernel_call *c) {
    const nn_ffi_binding *b = c->node->opdata;
    const float *x = c->in[0]->data, *dy = c->in[1]->data;
    float *dx = c->out->data;
    int64_t n = c->out->size;
    void *args[NN_FFI_MAX_PARAMS];
    if (!b->sig.elementwise) {
        /* void g(const float *x, const float *dy, float *dx, int64_t n, ...) */
        args[0] = &x;
        args[1] = &dy;
        args[2] = &dx;
        args[3] = &n;
        scalar_args(b, args, 4);
        ret_slot r;
        ffi_call((ffi_cif *)&b->grad_cif, b->grad_fn, &r, args);
        return NN_OK;
    }
    /* the user's function gives f'(x); the chain rule is ours. dx may be
     * x's or dy's buffer (in place): both are read before dx[i] is written. */
    float xi;
    args[0] = &xi;
    scalar_args(b, args, 1);
    for (int64_t i = 0; i < n; i++) {
        xi = x[i];
        float d = call_elem(b->grad_fn, &b->grad_cif, args);
        dx[i] = dy[i] * d;
    }
    return NN_OK;
}

/* The step for x: the cube root of float's epsilon balances truncation
 * (h^2) against rounding (eps/h), scaled so large x keep relative
 * precision. Both points are rounded to float, and the quotient divides by
 * their true distance. */
static inline float fd_step(float x) { return 4e-3f * fmaxf(1.f, fabsf(x)); }

nn_status nn_ffi_fd_grad_kernel(nn_kernel_call *c) {
    const nn_ffi_binding *b = c->node->opdata;
    const float *x = c->in[0]->data, *dy = c->in[1]->data;
    float *dx = c->out->data;
    int64_t n = c->out->size;
    if (b->sig.elementwise) {
        float xi;
        void *args[NN_FFI_MAX_PARAMS];
        args[0] = &xi;
        scalar_args(b, args, 1);
        for (int64_t i = 0; i < n; i++) {
            float x0 = x[i], h = fd_step(x0), xp = x0 + h, xm = x0 - h;
            xi = xp;
            double fp = call_elem(b->fn, &b->cif, args);
            xi = xm;
            double fm = call_elem(b->fn, &b->cif, args);
            dx[i] = (float)((double)dy[i] * (fp - fm) / ((double)xp - (double)xm));
        }
        return NN_OK;
    }
    /* a whole-tensor op may mix elements: each x[j] is moved alone and
     * dx[j] = sum_i dy[i] * d out[i] / d x[j] */
    if (n > NN_FFI_FD_MAX_ELEMS)
        return nn_errf(c->err, NN_ERR_FFI,
                       "finite differences of whole-tensor op %s over %lld elements would take %lld calls (limit %d "
                       "elements): give the op a gradient function",
                       b->symbol, (long long)n, 2 * (long long)n, NN_FFI_FD_MAX_ELEMS);
    float *xs = malloc((size_t)n * sizeof *xs), *op = malloc((size_t)n * sizeof *op),
          *om = malloc((size_t)n * sizeof *om);
    if (!xs || !op || !om) {
        free(xs);
        free(op);
        free(om);
        return nn_errf(c->err, NN_ERR_NOMEM, "out of memory for finite differences over %lld elements", (long long)n);
    }
    memcpy(xs, x, (size_t)n * sizeof *xs);
    /* dx may alias nothing here (a whole-tensor op never runs in place) */
    for (int64_t j = 0; j < n; j++) {
        float x0 = x[j], h = fd_step(x0), xp = x0 + h, xm = x0 - h;
        xs[j] = xp;
        call_tensor(b, xs, op, n);
        xs[j] = xm;
        call_tensor(b, xs, om, n);
        xs[j] = x0;
        double s = 0.0;
        for (int64_t i = 0; i < n; i++) s += (double)dy[i] * ((double)op[i] - (double)om[i]);
        dx[j] = (float)(s / ((double)xp - (double)xm));
    }
    free(xs);
    free(op);
    free(om);
    return NN_OK;
}
