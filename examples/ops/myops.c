/* An example library of custom ops for nngraph, loaded at run time through
 * nn_ffi_op() or a graph file's ffi:LIB:SYMBOL ops (docs/ffi.md). It does
 * not include or link nngraph: an op library is plain C.
 *
 * Each function exports its prototype as a string nngraph_sig_<name>, so
 * nngraph can refuse a graph that declares it differently. */
#include <math.h>
#include <stdint.h>

#if defined(__GNUC__)
#define EXPORT __attribute__((visibility("default")))
#else
#define EXPORT
#endif

/* Numerically safe logistic: exp of a negative number only. */
static float sigmoid(float x) {
    if (x >= 0.f) return 1.f / (1.f + expf(-x));
    float e = expf(x);
    return e / (1.f + e);
}

/* ---- elementwise ops: float f(float x, scalars...) ---- */

/* swish(x) = x * sigmoid(x) (Ramachandran et al.'s SiLU) */
EXPORT float swish(float x) { return x * sigmoid(x); }
EXPORT const char nngraph_sig_swish[] = "float swish(float x)";

/* The gradient of an elementwise op returns f'(x) with the same arguments:
 * d/dx x s(x) = s + x s (1 - s). */
EXPORT float swish_grad(float x) {
    float s = sigmoid(x);
    return s + x * s * (1.f - s);
}
EXPORT const char nngraph_sig_swish_grad[] = "float swish_grad(float x)";

/* max(x,0) and min(x,0) written as compares compile to maxss/minss:
 * neither a branch (which random signs mispredict half the time) nor a
 * call of fmaxf (whose NaN rules the compiler must honour). */
static inline float pos(float x) { return x > 0.f ? x : 0.f; }
static inline float neg(float x) { return x < 0.f ? x : 0.f; }

/* leaky_relu(x; alpha) = x for x > 0, alpha x otherwise */
EXPORT float leaky_relu(float x, float alpha) { return pos(x) + alpha * neg(x); }
EXPORT const char nngraph_sig_leaky_relu[] = "float leaky_relu(float x, float alpha)";

EXPORT float leaky_relu_grad(float x, float alpha) { return x > 0.f ? 1.f : alpha; }
EXPORT const char nngraph_sig_leaky_relu_grad[] = "float leaky_relu_grad(float x, float alpha)";

/* softplus(x; beta) = log(1 + exp(beta x)) / beta, stable for large |x|.
 * It comes without a gradient function on purpose: nngraph falls back to
 * finite differences (and warns). The double parameter shows that scalars
 * need not be float. */
EXPORT float softplus(float x, double beta) {
    double z = beta * (double)x;
    double v = z > 0 ? z + log1p(exp(-z)) : log1p(exp(z));
    return (float)(v / beta);
}
EXPORT const char nngraph_sig_softplus[] = "float softplus(float x, double beta)";

/* ---- whole-tensor ops: void f(const float *in, float *out, int64_t n, scalars...) ---- */

/* leaky relu over a whole buffer: one call per run instead of one per
 * element (compare the two in docs/ffi.md). nngraph never passes
 * overlapping in and out, so restrict is safe and lets the loop vectorise. */
EXPORT void leaky_relu_tensor(const float *restrict in, float *restrict out, int64_t n, float alpha) {
    for (int64_t i = 0; i < n; i++) out[i] = pos(in[i]) + alpha * neg(in[i]);
}
EXPORT const char nngraph_sig_leaky_relu_tensor[] =
    "void leaky_relu_tensor(const float *restrict in, float *restrict out, int64_t n, float alpha)";

/* The gradient of a whole-tensor op is its vector-Jacobian product. */
EXPORT void leaky_relu_tensor_grad(const float *restrict x, const float *restrict dy, float *restrict dx, int64_t n,
                                   float alpha) {
    for (int64_t i = 0; i < n; i++) dx[i] = x[i] > 0.f ? dy[i] : alpha * dy[i];
}
EXPORT const char nngraph_sig_leaky_relu_tensor_grad[] =
    "void leaky_relu_tensor_grad(const float *x, const float *dy, float *dx, int64_t n, float alpha)";

/* A whole-tensor op that is not elementwise: scales the tensor to unit L2
 * norm, out = in / sqrt(sum in^2 + eps). */
EXPORT void l2_normalize(const float *in, float *out, int64_t n, double eps) {
    double s = eps;
    for (int64_t i = 0; i < n; i++) s += (double)in[i] * in[i];
    double inv = 1.0 / sqrt(s);
    for (int64_t i = 0; i < n; i++) out[i] = (float)(in[i] * inv);
}
EXPORT const char nngraph_sig_l2_normalize[] = "void l2_normalize(const float *in, float *out, int64_t n, double eps)";

/* With r = sqrt(sum x^2 + eps) and y = x / r: dx = (dy - y (y . dy)) / r. */
EXPORT void l2_normalize_grad(const float *x, const float *dy, float *dx, int64_t n, double eps) {
    double s = eps, ydy = 0.0;
    for (int64_t i = 0; i < n; i++) s += (double)x[i] * x[i];
    double r = sqrt(s);
    for (int64_t i = 0; i < n; i++) ydy += (double)x[i] / r * dy[i];
    for (int64_t i = 0; i < n; i++) dx[i] = (float)((dy[i] - x[i] / r * ydy) / r);
}
EXPORT const char nngraph_sig_l2_normalize_grad[] =
    "void l2_normalize_grad(const float *x, const float *dy, float *dx, int64_t n, double eps)";

/* The same op without a gradient function: its gradient comes from finite
 * differences over the whole tensor (each element moved alone). */
EXPORT void l2_normalize_nograd(const float *in, float *out, int64_t n, double eps) { l2_normalize(in, out, n, eps); }
EXPORT const char nngraph_sig_l2_normalize_nograd[] =
    "void l2_normalize_nograd(const float *in, float *out, int64_t n, double eps)";

/* An op with integer parameters: x clipped to [lo, hi] given as int and
 * int64_t (exercises integer scalar passing). Its gradient is 1 inside. */
EXPORT float clip_int(float x, int lo, int64_t hi) { return x < (float)lo ? (float)lo : x > (float)hi ? (float)hi : x; }
EXPORT const char nngraph_sig_clip_int[] = "float clip_int(float x, int lo, int64_t hi)";
EXPORT float clip_int_grad(float x, int lo, int64_t hi) { return x > (float)lo && x < (float)hi ? 1.f : 0.f; }
EXPORT const char nngraph_sig_clip_int_grad[] = "float clip_int_grad(float x, int lo, int64_t hi)";
