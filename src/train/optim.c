/* Optimizers: SGD (with optional momentum) and Adam, with Keras's update
 * rules so that a user moving a lab from Keras sees the same numbers.
 *
 * SGD, Keras's form: without momentum w -= lr*g; with it
 *     v = momentum*v - lr*g;  w += v.
 *
 * Adam, Keras's (and TensorFlow's) form, which folds the bias corrections
 * into the step size and adds epsilon outside the corrected root (the
 * "epsilon hat" of Kingma & Ba, just before their section 2.1), at step
 * t = 1, 2, ...:
 *     alpha_t = lr * sqrt(1 - beta2^t) / (1 - beta1^t)
 *     m = m + (g - m) * (1 - beta1)        (= beta1*m + (1-beta1)*g)
 *     v = v + (g*g - v) * (1 - beta2)      (= beta2*v + (1-beta2)*g*g)
 *     w = w - alpha_t * m / (sqrt(v) + epsilon)
 * This differs from the paper's algorithm 1 (which divides by
 * sqrt(v/(1-beta2^t)) + epsilon) only in where epsilon sits; with Keras's
 * epsilon 1e-7 the two agree to about 1e-7 relative once v is not tiny.
 *
 * Each parameter is updated by one fused loop over restrict pointers (no
 * temporaries, one pass over memory) that the compiler vectorises. */
#include "internal.h"
#include "kernels.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef enum opt_kind { OPT_SGD, OPT_ADAM } opt_kind;

struct nn_optimizer {
    opt_kind kind;
    /* hyperparameters as the decimals the user wrote (see as_written) */
    double lr, momentum;           /* SGD */
    double beta1, beta2, epsilon;  /* Adam */
    int64_t steps;                 /* updates done (Adam's t before the next one) */
    int n;                         /* attached parameters */
    nn_node **params;
    nn_tensor **slots;             /* slots[i * num_slots + s] */
};

/* The shortest decimal that reads back as f: 0.999f is 0.99900001287 in
 * binary, and 1 - 0.999f in float is 0.00099998713, 1.3e-5 off the 0.001
 * a Keras user gets (Python computes 1 - 0.999 in double). Taking the
 * float as the decimal it was written as keeps Adam's 1 - beta exact. */
static double as_written(float f) {
    char buf[32];
    for (int digits = 6; digits <= 9; digits++) {
        snprintf(buf, sizeof buf, "%.*g", digits, (double)f);
        double d = strtod(buf, NULL);
        if ((float)d == f) return d;
    }
    return (double)f;
}

static nn_optimizer *opt_new(opt_kind kind, float lr) {
    if (!(lr >= 0.f) || !isfinite(lr)) {
        nn_set_error(NN_ERR_ARG, "optimizer: learning rate must be finite and >= 0, got %g", (double)lr);
        return NULL;
    }
    nn_optimizer *o = calloc(1, sizeof *o);
    if (!o) {
        nn_set_error(NN_ERR_NOMEM, "optimizer: out of memory");
        return NULL;
    }
    o->kind = kind;
    o->lr = as_written(lr);
    return o;
}

nn_optimizer *nn_sgd(float lr, float momentum) {
    if (!(momentum >= 0.f && momentum < 1.f)) {
        nn_set_error(NN_ERR_ARG, "sgd: momentum must be in [0,1), got %g", (double)momentum);
        return NULL;
    }
    nn_optimizer *o = opt_new(OPT_SGD, lr);
    if (o) o->momentum = as_written(momentum);
    return o;
}

nn_optimizer *nn_adam_ex(float lr, float beta1, float beta2, float epsilon) {
    if (!(beta1 >= 0.f && beta1 < 1.f) || !(beta2 >= 0.f && beta2 < 1.f)) {
        nn_set_error(NN_ERR_ARG, "adam: beta1 and beta2 must be in [0,1), got %g and %g", (double)beta1,
                     (double)beta2);
        return NULL;
    }
    if (!(epsilon > 0.f) || !isfinite(epsilon)) {
        nn_set_error(NN_ERR_ARG, "adam: epsilon must be finite and > 0, got %g", (double)epsilon);
        return NULL;
    }
    nn_optimizer *o = opt_new(OPT_ADAM, lr);
    if (!o) return NULL;
    o->beta1 = as_written(beta1);
    o->beta2 = as_written(beta2);
    o->epsilon = as_written(epsilon);
    return o;
}

nn_optimizer *nn_adam(float lr) { return nn_adam_ex(lr, 0.9f, 0.999f, 1e-7f); }

static void detach(nn_optimizer *o) {
    int slots = nn_optimizer_num_slots(o);
    for (int i = 0; i < o->n * slots; i++) nn_tensor_free(o->slots[i]);
    free(o->slots);
    free(o->params);
    o->slots = NULL;
    o->params = NULL;
    o->n = 0;
}

void nn_optimizer_free(nn_optimizer *opt) {
    if (!opt) return;
    detach(opt);
    free(opt);
}

const char *nn_optimizer_name(const nn_optimizer *opt) {
    if (!opt) return NULL;
    return opt->kind == OPT_ADAM ? "adam" : "sgd";
}

float nn_optimizer_lr(const nn_optimizer *opt) { return opt ? (float)opt->lr : 0.f / 0.f; }

void nn_optimizer_set_lr(nn_optimizer *opt, float lr) {
    if (opt && lr >= 0.f && isfinite(lr)) opt->lr = as_written(lr);
}

int nn_optimizer_num_slots(const nn_optimizer *opt) {
    if (!opt) return 0;
    if (opt->kind == OPT_ADAM) return 2;
    return opt->momentum != 0.0 ? 1 : 0;
}

const char *nn_optimizer_slot_name(const nn_optimizer *opt, int slot) {
    if (!opt || slot < 0 || slot >= nn_optimizer_num_slots(opt)) return NULL;
    if (opt->kind == OPT_ADAM) return slot == 0 ? "adam_m" : "adam_v";
    return "velocity";
}

nn_status nn_optimizer_attach(nn_optimizer *opt, nn_node *const *params, int n) {
    if (!opt || n < 0 || (n > 0 && !params)) return nn_set_error(NN_ERR_ARG, "optimizer attach: bad arguments");
    for (int i = 0; i < n; i++)
        if (!params[i] || params[i]->kind != NN_NODE_PARAM || !params[i]->tensor)
            return nn_set_error(NN_ERR_ARG, "optimizer attach: params[%d] ('%s') is not a parameter", i,
                                params[i] ? params[i]->name : "NULL");
    /* attaching the same parameters again keeps the state: a second fit,
     * or a fit after a checkpoint restored the slots, continues where the
     * optimizer was */
    if (opt->n == n && opt->params && memcmp(opt->params, params, (size_t)n * sizeof *params) == 0) return NN_OK;
    detach(opt);
    opt->steps = 0;
    int slots = nn_optimizer_num_slots(opt);
    opt->params = malloc((size_t)(n ? n : 1) * sizeof *opt->params);
    opt->slots = calloc((size_t)(n * slots > 0 ? n * slots : 1), sizeof *opt->slots);
    if (!opt->params || !opt->slots) goto nomem;
    opt->n = n;
    for (int i = 0; i < n; i++) {
        opt->params[i] = params[i];
        for (int s = 0; s < slots; s++) {
            opt->slots[i * slots + s] = nn_tensor_new(NN_F32, params[i]->tensor->shape);
            if (!opt->slots[i * slots + s]) goto nomem;
        }
    }
    return NN_OK;
nomem:
    detach(opt);
    return nn_set_error(NN_ERR_NOMEM, "optimizer attach: out of memory for the state of %d parameters", n);
}

nn_tensor *nn_optimizer_slot(nn_optimizer *opt, const nn_node *param, int slot) {
    int slots = nn_optimizer_num_slots(opt);
    if (!opt || slot < 0 || slot >= slots) return NULL;
    for (int i = 0; i < opt->n; i++)
        if (opt->params[i] == param) return opt->slots[i * slots + slot];
    return NULL;
}

int64_t nn_optimizer_steps(const nn_optimizer *opt) { return opt ? opt->steps : 0; }

void nn_optimizer_set_steps(nn_optimizer *opt, int64_t steps) {
    if (opt && steps >= 0) opt->steps = steps;
}

int nn_optimizer_hparams(const nn_optimizer *opt, const char **keys, double *values, int max) {
    if (!opt || !keys || !values) return 0;
    const char *k[4];
    double v[4];
    int n = 0;
    k[n] = "lr", v[n++] = opt->lr;
    if (opt->kind == OPT_ADAM) {
        k[n] = "beta1", v[n++] = opt->beta1;
        k[n] = "beta2", v[n++] = opt->beta2;
        k[n] = "epsilon", v[n++] = opt->epsilon;
    } else {
        k[n] = "momentum", v[n++] = opt->momentum;
    }
    if (n > max) n = max < 0 ? 0 : max;
    for (int i = 0; i < n; i++) keys[i] = k[i], values[i] = v[i];
    return n;
}

/* ---- the fused update loops ---- */

/* The update loops are compiled once per vector width and picked at load
 * time by the CPU (NN_VECTOR_CLONES, ops/kernels.h): they are elementwise,
 * so every version gives the same bits. */

/* The sqrtf in this loop vectorises only under -fno-math-errno (then it is
 * one instruction; v >= 0 here, so errno could never be set anyway). */
NN_VECTOR_CLONES static void adam_update(float *restrict w, float *restrict m, float *restrict v, const float *restrict g, int64_t n,
                        float alpha, float one_minus_b1, float one_minus_b2, float eps) {
    for (int64_t i = 0; i < n; i++) {
        float gi = g[i];
        float mi = m[i] + (gi - m[i]) * one_minus_b1;
        float vi = v[i] + (gi * gi - v[i]) * one_minus_b2;
        m[i] = mi;
        v[i] = vi;
        w[i] -= alpha * mi / (sqrtf(vi) + eps);
    }
}

NN_VECTOR_CLONES static void sgd_update(float *restrict w, const float *restrict g, int64_t n, float lr) {
    for (int64_t i = 0; i < n; i++) w[i] -= lr * g[i];
}

NN_VECTOR_CLONES static void momentum_update(float *restrict w, float *restrict vel, const float *restrict g, int64_t n, float lr,
                            float momentum) {
    for (int64_t i = 0; i < n; i++) {
        float vi = momentum * vel[i] - lr * g[i];
        vel[i] = vi;
        w[i] += vi;
    }
}

nn_status nn_optimizer_step(nn_optimizer *opt, nn_node *const *grads, int n) {
    if (!opt || (n > 0 && !grads)) return nn_set_error(NN_ERR_ARG, "optimizer step: bad arguments");
    if (n != opt->n)
        return nn_set_error(NN_ERR_STATE, "optimizer step: %d gradients for %d attached parameters", n, opt->n);
    for (int i = 0; i < n; i++) {
        const nn_tensor *gv = grads[i] ? grads[i]->value : NULL;
        const nn_tensor *w = opt->params[i]->tensor;
        if (!gv)
            return nn_set_error(NN_ERR_STATE, "optimizer step: gradient %d of '%s' has no value (run it first)", i,
                                opt->params[i]->name);
        if (gv->dtype != NN_F32 || gv->size != w->size)
            return nn_set_error(NN_ERR_SHAPE, "optimizer step: gradient '%s' has %lld elements, parameter '%s' %lld",
                                grads[i]->name, (long long)gv->size, opt->params[i]->name, (long long)w->size);
    }
    int slots = nn_optimizer_num_slots(opt);
    int64_t t = opt->steps + 1;
    /* the bias corrections in double: beta2^t for t in the thousands is
     * 1 - small, where float would lose the difference */
    float alpha = 0.f;
    if (opt->kind == OPT_ADAM)
        alpha = (float)(opt->lr * sqrt(1.0 - pow(opt->beta2, (double)t)) / (1.0 - pow(opt->beta1, (double)t)));
    for (int i = 0; i < n; i++) {
        nn_tensor *w = opt->params[i]->tensor;
        const float *g = grads[i]->value->data;
        float *wd = w->data;
        if (opt->kind == OPT_ADAM)
            adam_update(wd, opt->slots[i * slots]->data, opt->slots[i * slots + 1]->data, g, w->size, alpha,
                        (float)(1.0 - opt->beta1), (float)(1.0 - opt->beta2), (float)opt->epsilon);
        else if (slots)
            momentum_update(wd, opt->slots[i * slots]->data, g, w->size, (float)opt->lr, (float)opt->momentum);
        else
            sgd_update(wd, g, w->size, (float)opt->lr);
    }
    opt->steps = t;
    return NN_OK;
}
