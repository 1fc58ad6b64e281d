/* The optimizer's step (see optim.c for the update rules): the gradients
 * clipped and decayed as asked, then each optimizer's fused update loop
 * over every parameter. A step over many parameters (millions of elements
 * in a wide network, where one thread's memory bandwidth bounds it) is
 * split across the graph's pool. Every element's arithmetic is the same
 * however the work is split, so the results are the same bits on any
 * thread count.
 *
 * The step runs with subnormal floats flushed to zero (x86's FTZ and DAZ,
 * set for the step only and restored after it: the caller's mode is left
 * as it was). A weight whose gradient stays 0 for a while (a pixel that is
 * blank in most images, a unit that is rarely active) has its moments
 * decay by beta1 or rho every step into the subnormal range, where each
 * operation on them costs a microcode assist of a hundred cycles or more:
 * that made Adam 40% slower on the digits example. What is flushed is below
 * 1.2e-38, so its share of a weight's update is too small to change the
 * weight's bits for any weight of normal size. */
#include "optim_internal.h"
#include "kernels.h"
#include "pool.h"

#include <math.h>
#include <stdlib.h>
#if defined(__x86_64__) || defined(__SSE2__)
#include <xmmintrin.h>
#define HAVE_MXCSR 1
#endif

/* AdamW's decay, w *= 1 - lr * weight_decay (cloned like optim.c's loops). */
NN_VECTOR_CLONES static void scale_loop(float *restrict w, int64_t n, float factor) {
    for (int64_t i = 0; i < n; i++) w[i] *= factor;
}

/* The gradient needs its own copy when it is clipped or decayed. */
static int needs_copy(const nn_optimizer *o) {
    return o->h.clip_norm > 0 || o->h.clip_value > 0 || (!o->desc->decoupled_decay && o->h.weight_decay > 0);
}

/* The factor Keras's global-norm clipping scales every gradient by: 1
 * when the norm over all of them is within clip_norm. */
static float clip_scale(const nn_optimizer *o, const nn_tensor *const *grads) {
    if (!(o->h.clip_norm > 0)) return 1.f;
    double sq = 0.0;
    for (int i = 0; i < o->n; i++) {
        const float *g = grads[i]->data;
        for (int64_t j = 0; j < grads[i]->size; j++) sq += (double)g[j] * g[j];
    }
    double norm = sqrt(sq);
    return norm > o->h.clip_norm ? (float)(o->h.clip_norm / norm) : 1.f;
}

/* The gradient the update sees, for n elements from element `at` of
 * parameter i: scaled, clipped and decayed into e. */
static void effective_grad(const nn_optimizer *o, int i, int64_t at, const float *g, int64_t n, float scale,
                           float *e) {
    const float *w = (const float *)o->weights[i]->data + at;
    float cv = (float)o->h.clip_value;
    float wd = o->desc->decoupled_decay ? 0.f : (float)o->h.weight_decay;
    for (int64_t j = 0; j < n; j++) {
        float gj = g[j] * scale;
        if (cv > 0.f) gj = gj > cv ? cv : gj < -cv ? -cv : gj;
        e[j] = gj + wd * w[j];
    }
}

/* Elements in the smallest share of a step given to another thread: tens
 * of microseconds of Adam, against the few it takes to wake a thread. */
#define STEP_GRAIN 65536
/* Elements of the effective gradient made at a time (in L1, on the stack). */
#define GRAD_BLOCK 1024

/* One step's constants, shared by the threads doing it. */
typedef struct step_job {
    const nn_optimizer *o;
    const nn_tensor *const *grads;
    step_consts k;
    int slots, copy; /* copy: the update sees effective_grad's copy */
    float scale, decay;
} step_job;

/* Updates elements [lo, hi) of parameter i. */
static void update_part(const step_job *j, int i, int64_t lo, int64_t hi) {
    const nn_optimizer *o = j->o;
    float *w = (float *)o->weights[i]->data + lo;
    const float *g = (const float *)j->grads[i]->data + lo;
    float *state[2] = {NULL, NULL};
    for (int s = 0; s < j->slots; s++) state[s] = (float *)o->slots[i * j->slots + s]->data + lo;
    int64_t n = hi - lo;
    if (!j->copy) {
        if (j->decay != 1.f) scale_loop(w, n, j->decay);
        o->desc->update(&j->k, j->slots, w, state, g, n);
        return;
    }
    float e[GRAD_BLOCK];
    for (int64_t b = 0; b < n; b += GRAD_BLOCK) {
        int64_t m = n - b < GRAD_BLOCK ? n - b : GRAD_BLOCK;
        effective_grad(o, i, lo + b, g + b, m, j->scale, e);
        if (j->decay != 1.f) scale_loop(w + b, m, j->decay);
        float *st[2] = {state[0] ? state[0] + b : NULL, state[1] ? state[1] + b : NULL};
        o->desc->update(&j->k, j->slots, w + b, st, e, m);
    }
}

/* Updates elements [lo, hi) of all the parameters laid end to end, with
 * subnormals flushed to zero on this thread meanwhile (see the top). */
static void update_range(void *ctx, int64_t lo, int64_t hi) {
#ifdef HAVE_MXCSR
    unsigned csr = _mm_getcsr();
    _mm_setcsr(csr | 0x8040); /* FTZ (bit 15) and DAZ (bit 6) */
#endif
    const step_job *j = ctx;
    const int64_t *start = j->o->start;
    for (int i = 0; i < j->o->n && start[i] < hi; i++) {
        if (start[i + 1] <= lo) continue;
        int64_t a = lo > start[i] ? lo : start[i], b = hi < start[i + 1] ? hi : start[i + 1];
        update_part(j, i, a - start[i], b - start[i]);
    }
#ifdef HAVE_MXCSR
    _mm_setcsr(csr);
#endif
}

nn_status nn_optimizer_update(nn_optimizer *opt, const nn_tensor *const *grads, int n) {
    if (!opt || (n > 0 && !grads)) return nn_set_error(NN_ERR_ARG, "optimizer step: bad arguments");
    if (n != opt->n)
        return nn_set_error(NN_ERR_STATE, "optimizer step: %d gradients for %d attached parameters", n, opt->n);
    for (int i = 0; i < n; i++) {
        const nn_tensor *gv = grads[i], *w = opt->weights[i];
        if (!gv)
            return nn_set_error(NN_ERR_STATE, "optimizer step: gradient %d of '%s' has no value (run it first)", i,
                                opt->params[i]->name);
        if (gv->dtype != NN_F32 || gv->size != w->size)
            return nn_set_error(NN_ERR_SHAPE, "optimizer step: the gradient of '%s' has %lld elements, the parameter %lld",
                                opt->params[i]->name, (long long)gv->size, (long long)w->size);
    }
    int64_t t = opt->steps + 1;
    step_job j = {.o = opt, .grads = grads, .slots = nn_optimizer_num_slots(opt), .copy = needs_copy(opt)};
    opt->desc->prepare(&opt->h, t, &j.k);
    j.scale = clip_scale(opt, grads);
    j.decay = opt->desc->decoupled_decay ? (float)(1.0 - opt->h.lr * opt->h.weight_decay) : 1.f;
    /* the pool of the parameters' graph, made by the run that computed
     * the gradients (NULL before any run: then this thread alone) */
    struct nn_exec *e = n > 0 && opt->params[0]->graph ? opt->params[0]->graph->exec : NULL;
    if (n > 0) nn_parallel_for(e, opt->start[n], STEP_GRAIN, update_range, &j);
    opt->steps = t;
    return NN_OK;
}

nn_status nn_optimizer_step(nn_optimizer *opt, nn_node *const *grads, int n) {
    if (!opt || (n > 0 && !grads)) return nn_set_error(NN_ERR_ARG, "optimizer step: bad arguments");
    if (n != opt->n)
        return nn_set_error(NN_ERR_STATE, "optimizer step: %d gradients for %d attached parameters", n, opt->n);
    const nn_tensor *stack[16] = {0};
    const nn_tensor **values = n <= 16 ? stack : malloc((size_t)n * sizeof *values);
    if (!values) return nn_set_error(NN_ERR_NOMEM, "optimizer step: out of memory");
    for (int i = 0; i < n; i++) values[i] = grads[i] ? nn_value(grads[i]) : NULL;
    nn_status s = nn_optimizer_update(opt, values, n);
    if (values != stack) free(values);
    return s;
}
