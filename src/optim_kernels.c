/* Fused optimizer updates: one pass over a parameter per step, reading
 * the gradient and the moments once and writing the parameter and the
 * moments once. Split across the pool's threads for large parameters. */
#include "../ops/kernels.h"
#include "pool.h"

#include <math.h>

typedef struct adam_job {
    float *w, *m, *v;
    const float *g;
    float step, b1, b2, eps;
} adam_job;

NN_VECTOR_CLONES static void adam_range(float *restrict w, float *restrict m, float *restrict v,
                                        const float *restrict g, int64_t lo, int64_t hi, float step, float b1,
                                        float b2, float eps) {
    for (int64_t k = lo; k < hi; k++) {
        m[k] = b1 * m[k] + (1.f - b1) * g[k];
        v[k] = b2 * v[k] + (1.f - b2) * g[k] * g[k];
        w[k] -= step * m[k] / (sqrtf(v[k]) + eps);
    }
}

static void adam_chunk(void *ctx, int64_t lo, int64_t hi) {
    const adam_job *j = ctx;
    adam_range(j->w, j->m, j->v, j->g, lo, hi, j->step, j->b1, j->b2, j->eps);
}

void nn_adam_kernel(struct nn_exec *e, float *w, float *m, float *v, const float *g, int64_t n, float lr, float b1,
                    float b2, float eps, int64_t t) {
    if (n <= 0 || t < 1) return;
    /* the bias corrections 1 - beta^t folded into the step size (Keras's
     * and the Adam paper's efficient form), computed in double so that
     * late steps do not lose them to rounding */
    double c1 = 1.0 - pow((double)b1, (double)t), c2 = 1.0 - pow((double)b2, (double)t);
    adam_job j = {w, m, v, g, (float)(lr * sqrt(c2) / c1), b1, b2, eps};
    nn_parallel_for(e, n, NN_ELEMWISE_GRAIN, adam_chunk, &j);
}
