/* The optimizer's private types, shared by optim.c (the table of
 * optimizers, construction, attach) and optim_step.c (the step). */
#ifndef NN_OPTIM_INTERNAL_H
#define NN_OPTIM_INTERNAL_H

#include "internal.h"

/* Hyperparameters as the decimals the user wrote (see as_written). */
typedef struct hparams {
    double lr, momentum, beta1, beta2, epsilon, rho, weight_decay, clip_norm, clip_value;
    double nesterov, torch_epsilon; /* 0 or 1 */
} hparams;

/* The per-step scalars an update loop takes, worked out once a step. */
typedef struct step_consts {
    float a, b, c, d, e;
} step_consts;

typedef struct optim_desc {
    const char *name;
    int decoupled_decay; /* 1: weight_decay shrinks the weights apart from
                            the gradient (AdamW), 0: it joins the gradient */
    float default_lr;
    float default_weight_decay; /* when the caller gives none */
    /* slot names; the entry's num_slots says how many are in use */
    const char *slot_names[2];
    int (*num_slots)(const hparams *h);
    /* logged keys: `keys` always, `optional` when not zero */
    const char *keys[6], *optional[4];
    void (*prepare)(const hparams *h, int64_t t, step_consts *k);
    void (*update)(const step_consts *k, int slots, float *w, float *const *state, const float *g, int64_t n);
} optim_desc;

struct nn_optimizer {
    const optim_desc *desc;
    hparams h;
    int64_t steps;     /* updates done (Adam's t before the next one) */
    int n;             /* attached parameters */
    nn_node **params;
    nn_tensor **weights; /* params[i]'s value, resolved at attach */
    nn_tensor **slots;   /* slots[i * num_slots + s] */
    int64_t *start;      /* params laid end to end: params[i]'s elements
                            are [start[i], start[i+1]) of the step's range */
};

#endif
