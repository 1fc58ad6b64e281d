/* Optimizers, as one table: each entry names an optimizer and gives its
 * default learning rate, its state slots, the hyperparameters it logs and
 * its update. Everything else (construction, validation, attach, gradient
 * clipping, weight decay, checkpoint state) is shared. Adding an optimizer
 * is one update loop and one table entry.
 *
 * The update rules are Keras's, so that a user moving a lab from Keras sees
 * the same numbers (docs/training.md lists them all):
 *   sgd       w -= lr*g;  with momentum  v = momentum*v - lr*g;  w += v;
 *             Nesterov    v = momentum*v - lr*g;  w += momentum*v - lr*g
 *   adam      alpha_t = lr * sqrt(1 - beta2^t) / (1 - beta1^t)
 *             m += (g - m)(1 - beta1);  v += (g*g - v)(1 - beta2)
 *             w -= alpha_t * m / (sqrt(v) + epsilon)
 *             (epsilon outside the corrected root: the "epsilon hat" of
 *             Kingma & Ba, just before their section 2.1). The PyTorch form
 *             (NN_EPSILON_TORCH) divides by sqrt(v / (1 - beta2^t)) + epsilon
 *             instead; the two differ where v is not much larger than eps^2.
 *   adamw     w -= lr*weight_decay*w, then adam (decoupled decay, Loshchilov
 *             & Hutter)
 *   rmsprop   v = rho*v + (1 - rho) g*g;  w -= lr*g / (sqrt(v) + epsilon);
 *             with momentum  mom = momentum*mom + lr*g/(sqrt(v) + epsilon);
 *             w -= mom
 * For sgd, adam and rmsprop, weight_decay is PyTorch's coupled L2 term:
 * g += weight_decay*w before the update. Clipping comes first, Keras's
 * order: the global norm over all gradients (g *= clip_norm / max(norm,
 * clip_norm)), then each element to [-clip_value, clip_value].
 *
 * Each parameter is updated by one fused loop over restrict pointers (no
 * temporaries, one pass over memory) that the compiler vectorises; the
 * step that drives the loops (clipping, decay, the split across threads)
 * is optim_step.c. */
#include "optim_internal.h"
#include "kernels.h"

#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

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

/* ---- the fused update loops ---- */

/* The update loops are compiled once per vector width and picked at load
 * time by the CPU (NN_VECTOR_CLONES, ops/kernels.h): they are elementwise,
 * so every version gives the same bits. The sqrtf in the loops vectorises
 * only under -fno-math-errno (then it is one instruction; v >= 0 here, so
 * errno could never be set anyway). */

/* Both epsilon forms in one loop: w -= step * m / (sqrt(v) * root_scale +
 * eps). Keras's form has step = alpha_t and root_scale = 1 (an exact
 * multiplication, so the same bits as without it); PyTorch's has step =
 * lr / (1 - beta1^t) and root_scale = 1 / sqrt(1 - beta2^t). */
NN_VECTOR_CLONES static void adam_loop(float *restrict w, float *restrict m, float *restrict v, const float *restrict g,
                                       int64_t n, float step, float root_scale, float one_minus_b1, float one_minus_b2,
                                       float eps) {
    for (int64_t i = 0; i < n; i++) {
        float gi = g[i];
        float mi = m[i] + (gi - m[i]) * one_minus_b1;
        float vi = v[i] + (gi * gi - v[i]) * one_minus_b2;
        m[i] = mi;
        v[i] = vi;
        w[i] -= step * mi / (sqrtf(vi) * root_scale + eps);
    }
}

NN_VECTOR_CLONES static void sgd_loop(float *restrict w, const float *restrict g, int64_t n, float lr) {
    for (int64_t i = 0; i < n; i++) w[i] -= lr * g[i];
}

NN_VECTOR_CLONES static void momentum_loop(float *restrict w, float *restrict vel, const float *restrict g, int64_t n,
                                           float lr, float momentum) {
    for (int64_t i = 0; i < n; i++) {
        float vi = momentum * vel[i] - lr * g[i];
        vel[i] = vi;
        w[i] += vi;
    }
}

NN_VECTOR_CLONES static void nesterov_loop(float *restrict w, float *restrict vel, const float *restrict g, int64_t n,
                                           float lr, float momentum) {
    for (int64_t i = 0; i < n; i++) {
        float vi = momentum * vel[i] - lr * g[i];
        vel[i] = vi;
        w[i] += momentum * vi - lr * g[i];
    }
}

NN_VECTOR_CLONES static void rmsprop_loop(float *restrict w, float *restrict v, const float *restrict g, int64_t n,
                                          float lr, float rho, float one_minus_rho, float eps) {
    for (int64_t i = 0; i < n; i++) {
        float gi = g[i];
        float vi = rho * v[i] + one_minus_rho * gi * gi;
        v[i] = vi;
        w[i] -= lr * gi / (sqrtf(vi) + eps);
    }
}

NN_VECTOR_CLONES static void rmsprop_momentum_loop(float *restrict w, float *restrict v, float *restrict mom,
                                                   const float *restrict g, int64_t n, float lr, float rho,
                                                   float one_minus_rho, float eps, float momentum) {
    for (int64_t i = 0; i < n; i++) {
        float gi = g[i];
        float vi = rho * v[i] + one_minus_rho * gi * gi;
        v[i] = vi;
        float mi = momentum * mom[i] + lr * gi / (sqrtf(vi) + eps);
        mom[i] = mi;
        w[i] -= mi;
    }
}

/* ---- the table's entries ---- */

static int sgd_slots(const hparams *h) { return h->momentum != 0.0; }
static int adam_slots(const hparams *h) { return (void)h, 2; }
static int rmsprop_slots(const hparams *h) { return h->momentum != 0.0 ? 2 : 1; }

static void sgd_prepare(const hparams *h, int64_t t, step_consts *k) {
    (void)t;
    k->a = (float)h->lr;
    k->b = (float)h->momentum;
    k->c = h->nesterov != 0.0 ? 1.f : 0.f;
}

static void sgd_update(const step_consts *k, int slots, float *w, float *const *state, const float *g, int64_t n) {
    if (slots == 0) sgd_loop(w, g, n, k->a);
    else if (k->c != 0.f) nesterov_loop(w, state[0], g, n, k->a, k->b);
    else momentum_loop(w, state[0], g, n, k->a, k->b);
}

/* The bias corrections in double: beta2^t for t in the thousands is 1 -
 * small, where float would lose the difference. */
static void adam_prepare(const hparams *h, int64_t t, step_consts *k) {
    double bc1 = 1.0 - pow(h->beta1, (double)t), bc2 = 1.0 - pow(h->beta2, (double)t);
    if (h->torch_epsilon != 0.0) {
        k->a = (float)(h->lr / bc1);
        k->e = (float)(1.0 / sqrt(bc2));
    } else {
        k->a = (float)(h->lr * sqrt(bc2) / bc1);
        k->e = 1.f;
    }
    k->b = (float)(1.0 - h->beta1);
    k->c = (float)(1.0 - h->beta2);
    k->d = (float)h->epsilon;
}

static void adam_update(const step_consts *k, int slots, float *w, float *const *state, const float *g, int64_t n) {
    (void)slots;
    adam_loop(w, state[0], state[1], g, n, k->a, k->e, k->b, k->c, k->d);
}

static void rmsprop_prepare(const hparams *h, int64_t t, step_consts *k) {
    (void)t;
    k->a = (float)h->lr;
    k->b = (float)h->rho;
    k->c = (float)(1.0 - h->rho);
    k->d = (float)h->epsilon;
    k->e = (float)h->momentum;
}

static void rmsprop_update(const step_consts *k, int slots, float *w, float *const *state, const float *g,
                           int64_t n) {
    if (slots == 2) rmsprop_momentum_loop(w, state[0], state[1], g, n, k->a, k->b, k->c, k->d, k->e);
    else rmsprop_loop(w, state[0], g, n, k->a, k->b, k->c, k->d);
}

enum { OPT_SGD, OPT_ADAM, OPT_ADAMW, OPT_RMSPROP, OPT_COUNT };

static const optim_desc optimizers[OPT_COUNT] = {
    [OPT_SGD] = {.name = "sgd",
                 .default_lr = 0.01f,
                 .slot_names = {"velocity"},
                 .num_slots = sgd_slots,
                 .keys = {"lr", "momentum"},
                 .optional = {"nesterov", "weight_decay"},
                 .prepare = sgd_prepare,
                 .update = sgd_update},
    [OPT_ADAM] = {.name = "adam",
                  .default_lr = 0.001f,
                  .slot_names = {"adam_m", "adam_v"},
                  .num_slots = adam_slots,
                  .keys = {"lr", "beta1", "beta2", "epsilon", "torch_epsilon"},
                  .optional = {"weight_decay"},
                  .prepare = adam_prepare,
                  .update = adam_update},
    [OPT_ADAMW] = {.name = "adamw",
                   .decoupled_decay = 1,
                   .default_weight_decay = 0.004f, /* Keras's AdamW default */
                   .default_lr = 0.001f,
                   .slot_names = {"adam_m", "adam_v"},
                   .num_slots = adam_slots,
                   .keys = {"lr", "beta1", "beta2", "epsilon", "torch_epsilon", "weight_decay"},
                   .prepare = adam_prepare,
                   .update = adam_update},
    [OPT_RMSPROP] = {.name = "rmsprop",
                     .default_lr = 0.001f,
                     .slot_names = {"rms", "momentum"},
                     .num_slots = rmsprop_slots,
                     .keys = {"lr", "rho", "momentum", "epsilon"},
                     .optional = {"weight_decay"},
                     .prepare = rmsprop_prepare,
                     .update = rmsprop_update},
};

/* Where each logged key lives in hparams. */
static const struct {
    const char *key;
    size_t offset;
} hparam_fields[] = {
    {"lr", offsetof(hparams, lr)},
    {"momentum", offsetof(hparams, momentum)},
    {"nesterov", offsetof(hparams, nesterov)},
    {"beta1", offsetof(hparams, beta1)},
    {"beta2", offsetof(hparams, beta2)},
    {"epsilon", offsetof(hparams, epsilon)},
    {"torch_epsilon", offsetof(hparams, torch_epsilon)},
    {"rho", offsetof(hparams, rho)},
    {"weight_decay", offsetof(hparams, weight_decay)},
    {"clip_norm", offsetof(hparams, clip_norm)},
    {"clip_value", offsetof(hparams, clip_value)},
};

static double hparam_value(const hparams *h, const char *key) {
    for (size_t i = 0; i < sizeof hparam_fields / sizeof hparam_fields[0]; i++)
        if (strcmp(hparam_fields[i].key, key) == 0) return *(const double *)((const char *)h + hparam_fields[i].offset);
    return 0.0;
}

/* ---- construction ---- */

static const optim_desc *find_desc(const char *name) {
    for (int i = 0; name && i < OPT_COUNT; i++)
        if (strcmp(optimizers[i].name, name) == 0) return &optimizers[i];
    return NULL;
}

/* Whether d logs (so accepts) the hyperparameter `key`. */
static int desc_takes(const optim_desc *d, const char *key) {
    for (size_t i = 0; i < sizeof d->keys / sizeof d->keys[0] && d->keys[i]; i++)
        if (strcmp(d->keys[i], key) == 0) return 1;
    for (size_t i = 0; i < sizeof d->optional / sizeof d->optional[0] && d->optional[i]; i++)
        if (strcmp(d->optional[i], key) == 0) return 1;
    return 0;
}

const char *nn_optimizer_names(void) { return "sgd, adam, adamw, rmsprop"; }

static int in_unit(float x) { return x >= 0.f && x < 1.f; }
static int finite_nonneg(float x) { return x >= 0.f && isfinite(x); }

nn_optimizer *nn_optimizer_from_name(const char *name, const nn_optimizer_opts *opts) {
    const optim_desc *d = find_desc(name);
    if (!d) {
        nn_set_error(NN_ERR_ARG, "optimizer: unknown optimizer '%s' (known: %s)", name ? name : "NULL",
                     nn_optimizer_names());
        return NULL;
    }
    nn_optimizer_opts o = opts ? *opts : (nn_optimizer_opts){0};
    const char *who = d->name;
    if (o.lr == 0.f) o.lr = d->default_lr;
    if (o.beta1 == 0.f) o.beta1 = 0.9f;
    if (o.beta2 == 0.f) o.beta2 = 0.999f;
    if (o.rho == 0.f) o.rho = 0.9f;
    if (o.epsilon == 0.f) o.epsilon = 1e-7f;
    if (o.weight_decay == 0.f) o.weight_decay = d->default_weight_decay;
    const char *bad = NULL;
    double value = 0;
    if (!finite_nonneg(o.lr)) bad = "learning rate must be finite and >= 0", value = o.lr;
    else if (!in_unit(o.momentum)) bad = "momentum must be in [0,1)", value = o.momentum;
    else if (!in_unit(o.beta1)) bad = "beta1 must be in [0,1)", value = o.beta1;
    else if (!in_unit(o.beta2)) bad = "beta2 must be in [0,1)", value = o.beta2;
    else if (!in_unit(o.rho)) bad = "rho must be in [0,1)", value = o.rho;
    else if (!(o.epsilon > 0.f) || !isfinite(o.epsilon)) bad = "epsilon must be finite and > 0", value = o.epsilon;
    else if (!finite_nonneg(o.weight_decay)) bad = "weight_decay must be finite and >= 0", value = o.weight_decay;
    else if (!finite_nonneg(o.clip_norm)) bad = "clip_norm must be finite and >= 0", value = o.clip_norm;
    else if (!finite_nonneg(o.clip_value)) bad = "clip_value must be finite and >= 0", value = o.clip_value;
    if (bad) {
        nn_set_error(NN_ERR_ARG, "%s: %s, got %g", who, bad, value);
        return NULL;
    }
    /* what an optimizer accepts is what its descriptor logs */
    if (o.nesterov && (!desc_takes(d, "nesterov") || o.momentum == 0.f)) {
        nn_set_error(NN_ERR_ARG, "%s: Nesterov momentum needs sgd with momentum > 0", who);
        return NULL;
    }
    if (o.momentum != 0.f && !desc_takes(d, "momentum")) {
        nn_set_error(NN_ERR_ARG, "%s: takes no momentum (adam's is beta1; momentum is for sgd and rmsprop)", who);
        return NULL;
    }
    if (o.epsilon_form == NN_EPSILON_TORCH && !desc_takes(d, "torch_epsilon")) {
        nn_set_error(NN_ERR_ARG, "%s: the epsilon form is a choice for adam and adamw only", who);
        return NULL;
    }
    nn_optimizer *opt = calloc(1, sizeof *opt);
    if (!opt) {
        nn_set_error(NN_ERR_NOMEM, "optimizer: out of memory");
        return NULL;
    }
    opt->desc = d;
    hparams *h = &opt->h;
    h->lr = as_written(o.lr);
    h->momentum = as_written(o.momentum);
    h->nesterov = o.nesterov != 0;
    h->beta1 = as_written(o.beta1);
    h->beta2 = as_written(o.beta2);
    h->rho = as_written(o.rho);
    h->epsilon = as_written(o.epsilon);
    h->torch_epsilon = o.epsilon_form == NN_EPSILON_TORCH;
    h->weight_decay = as_written(o.weight_decay);
    h->clip_norm = as_written(o.clip_norm);
    h->clip_value = as_written(o.clip_value);
    return opt;
}

nn_optimizer *nn_optimizer_default(void) { return nn_optimizer_from_name(NN_OPTIMIZER_DEFAULT, NULL); }

/* The two classic constructors keep their checks' wording: lr 0 is a
 * frozen optimizer here, not "the default". */
static int check_lr(float lr) {
    if (lr >= 0.f && isfinite(lr)) return 1;
    nn_set_error(NN_ERR_ARG, "optimizer: learning rate must be finite and >= 0, got %g", (double)lr);
    return 0;
}

nn_optimizer *nn_sgd(float lr, float momentum) {
    if (!check_lr(lr)) return NULL;
    nn_optimizer *o = nn_optimizer_from_name("sgd", &(nn_optimizer_opts){.lr = lr, .momentum = momentum});
    if (o) o->h.lr = as_written(lr);
    return o;
}

nn_optimizer *nn_adam_ex(float lr, float beta1, float beta2, float epsilon) {
    if (!check_lr(lr)) return NULL;
    if (!(epsilon > 0.f) || !isfinite(epsilon)) {
        nn_set_error(NN_ERR_ARG, "adam: epsilon must be finite and > 0, got %g", (double)epsilon);
        return NULL;
    }
    nn_optimizer_opts o = {.lr = lr, .beta1 = beta1, .beta2 = beta2, .epsilon = epsilon};
    /* here 0 means 0, not "the default" */
    nn_optimizer *opt = nn_optimizer_from_name("adam", &o);
    if (opt) {
        opt->h.lr = as_written(lr);
        opt->h.beta1 = as_written(beta1);
        opt->h.beta2 = as_written(beta2);
    }
    return opt;
}

nn_optimizer *nn_adam(float lr) { return nn_adam_ex(lr, 0.9f, 0.999f, 1e-7f); }

static void detach(nn_optimizer *o) {
    int slots = nn_optimizer_num_slots(o);
    for (int i = 0; i < o->n * slots; i++) nn_tensor_free(o->slots[i]);
    free(o->slots);
    free(o->params);
    free(o->weights);
    free(o->start);
    o->slots = NULL;
    o->params = NULL;
    o->weights = NULL;
    o->start = NULL;
    o->n = 0;
}

void nn_optimizer_free(nn_optimizer *opt) {
    if (!opt) return;
    detach(opt);
    free(opt);
}

const char *nn_optimizer_name(const nn_optimizer *opt) { return opt ? opt->desc->name : NULL; }

float nn_optimizer_lr(const nn_optimizer *opt) { return opt ? (float)opt->h.lr : 0.f / 0.f; }

void nn_optimizer_set_lr(nn_optimizer *opt, float lr) {
    if (opt && lr >= 0.f && isfinite(lr)) opt->h.lr = as_written(lr);
}

int nn_optimizer_num_slots(const nn_optimizer *opt) { return opt ? opt->desc->num_slots(&opt->h) : 0; }

const char *nn_optimizer_slot_name(const nn_optimizer *opt, int slot) {
    if (!opt || slot < 0 || slot >= nn_optimizer_num_slots(opt)) return NULL;
    return opt->desc->slot_names[slot];
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
    opt->weights = malloc((size_t)(n ? n : 1) * sizeof *opt->weights);
    opt->slots = calloc((size_t)(n * slots > 0 ? n * slots : 1), sizeof *opt->slots);
    opt->start = malloc((size_t)(n + 1) * sizeof *opt->start);
    if (!opt->params || !opt->weights || !opt->slots || !opt->start) goto nomem;
    opt->n = n;
    opt->start[0] = 0;
    for (int i = 0; i < n; i++) {
        opt->params[i] = params[i];
        opt->weights[i] = params[i]->tensor;
        opt->start[i + 1] = opt->start[i] + opt->weights[i]->size;
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
    const char *k[16];
    int n = 0;
    const optim_desc *d = opt->desc;
    for (size_t i = 0; i < sizeof d->keys / sizeof d->keys[0] && d->keys[i]; i++) k[n++] = d->keys[i];
    for (size_t i = 0; i < sizeof d->optional / sizeof d->optional[0] && d->optional[i]; i++)
        if (hparam_value(&opt->h, d->optional[i]) != 0.0) k[n++] = d->optional[i];
    if (opt->h.clip_norm > 0) k[n++] = "clip_norm";
    if (opt->h.clip_value > 0) k[n++] = "clip_value";
    if (n > max) n = max < 0 ? 0 : max;
    for (int i = 0; i < n; i++) keys[i] = k[i], values[i] = hparam_value(&opt->h, k[i]);
    return n;
}
