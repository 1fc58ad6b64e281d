/* The optimizer table: RMSprop, AdamW, Nesterov SGD, Adam's two epsilon
 * forms, weight decay and gradient clipping, each against updates worked
 * by hand (in double; the float loops agree to about 1e-7 relative, so the
 * tolerances are 1e-6 on values near 1). */
#include "nngraph.h"

#include <criterion/criterion.h>
#include <float.h>
#include <math.h>
#include <string.h>

/* A graph with one parameter w of n elements set to `init`, and a gradient
 * tensor g the tests fill by hand. */
typedef struct rig {
    nn_graph *g;
    nn_node *w;
    nn_tensor *grad;
} rig;

static rig rig_new(int n, const float *init) {
    rig r;
    r.g = nn_graph_new(1);
    r.w = nn_param(r.g, "w", NN_SHAPE(n), nn_init_zeros());
    memcpy(nn_tensor_f32(nn_param_value(r.w)), init, (size_t)n * sizeof(float));
    r.grad = nn_tensor_new(NN_F32, NN_SHAPE(n));
    return r;
}

static void rig_free(rig *r) {
    nn_tensor_free(r->grad);
    nn_graph_free(r->g);
}

/* Sets the gradient to (a, b) and takes one step. */
static void step2(nn_optimizer *o, rig *r, float a, float b) {
    nn_tensor_f32(r->grad)[0] = a;
    nn_tensor_f32(r->grad)[1] = b;
    const nn_tensor *gs[1] = {r->grad};
    cr_assert_eq(nn_optimizer_update(o, gs, 1), NN_OK, "%s", nn_last_error());
}

static const float *wv(rig *r) { return nn_tensor_f32(nn_param_value(r->w)); }

Test(optim, rmsprop_two_steps_by_hand) {
    rig r = rig_new(2, (float[]){1.f, -0.5f});
    nn_optimizer *o = nn_optimizer_from_name("rmsprop", &(nn_optimizer_opts){.lr = 0.01f});
    cr_assert_not_null(o, "%s", nn_last_error());
    cr_assert_eq(nn_optimizer_attach(o, &r.w, 1), NN_OK);
    cr_assert_eq(nn_optimizer_num_slots(o), 1);
    cr_assert_str_eq(nn_optimizer_slot_name(o, 0), "rms");
    /* rho 0.9, eps 1e-7; step 1, g = (2, 0.5):
     *   v = 0.1 g^2 = (0.4, 0.025)
     *   w0 = 1 - 0.01*2 / (sqrt(0.4) + 1e-7) = 1 - 0.02/0.6324556 = 0.9683772284
     *   w1 = -0.5 - 0.01*0.5 / (0.1581139 + 1e-7) = -0.5316227566 */
    step2(o, &r, 2.f, 0.5f);
    cr_assert_float_eq(wv(&r)[0], 0.9683772284, 1e-6);
    cr_assert_float_eq(wv(&r)[1], -0.5316227566, 1e-6);
    /* step 2, g = (-1, 0.5): v = 0.9 v + 0.1 g^2 = (0.46, 0.0475)
     *   w0 = 0.9683772284 + 0.01 / sqrt(0.46) = 0.9831214218
     *   w1 = -0.5316227566 - 0.005 / sqrt(0.0475) = -0.5545643195 */
    step2(o, &r, -1.f, 0.5f);
    cr_assert_float_eq(wv(&r)[0], 0.9831214218, 1e-6);
    cr_assert_float_eq(wv(&r)[1], -0.5545643195, 1e-6);
    cr_assert_float_eq(nn_tensor_f32(nn_optimizer_slot(o, r.w, 0))[0], 0.46f, 1e-6);
    nn_optimizer_free(o);
    rig_free(&r);
}

Test(optim, rmsprop_with_momentum_by_hand) {
    rig r = rig_new(2, (float[]){1.f, -0.5f});
    nn_optimizer *o = nn_optimizer_from_name("rmsprop", &(nn_optimizer_opts){.lr = 0.01f, .momentum = 0.5f});
    cr_assert_eq(nn_optimizer_attach(o, &r.w, 1), NN_OK);
    cr_assert_eq(nn_optimizer_num_slots(o), 2);
    cr_assert_str_eq(nn_optimizer_slot_name(o, 1), "momentum");
    /* mom = 0.5 mom + lr g/(sqrt(v)+eps); w -= mom. Step 1 is RMSprop's
     * (mom starts at 0); step 2, g = (-1, 0.5), v = (0.46, 0.0475):
     *   mom0 = 0.5*0.0316227716 - 0.01/0.6782330 = 0.0010671924
     *   mom1 = 0.5*0.0316227566 + 0.005/0.2179449 = 0.0387529412
     *   w = (0.9683772284 - 0.0010671924, -0.5316227566 - 0.0387529412) */
    step2(o, &r, 2.f, 0.5f);
    step2(o, &r, -1.f, 0.5f);
    cr_assert_float_eq(wv(&r)[0], 0.9673100360, 1e-6);
    cr_assert_float_eq(wv(&r)[1], -0.5703756978, 1e-6);
    cr_assert_float_eq(nn_tensor_f32(nn_optimizer_slot(o, r.w, 1))[1], 0.0387529412, 1e-7);
    nn_optimizer_free(o);
    rig_free(&r);
}

/* At epsilon 1e-3 and a small gradient the two forms differ by a factor
 * of about four on the first step: where epsilon sits matters. */
Test(optim, adam_keras_and_torch_epsilon_by_hand) {
    for (int form = 0; form < 2; form++) {
        rig r = rig_new(2, (float[]){1.f, -0.5f});
        nn_optimizer_opts oo = {.lr = 0.1f, .epsilon = 1e-3f, .epsilon_form = form ? NN_EPSILON_TORCH : NN_EPSILON_KERAS};
        nn_optimizer *o = nn_optimizer_from_name("adam", &oo);
        cr_assert_eq(nn_optimizer_attach(o, &r.w, 1), NN_OK);
        /* step 1, g = (2, 0.01): m = 0.1 g = (0.2, 0.001); v = 0.001 g^2 = (0.004, 1e-7)
         * Keras: alpha = 0.1 sqrt(0.001)/0.1 = 0.0316227766
         *   w0 = 1 - 0.0316227766*0.2/(0.0632455532 + 0.001) = 0.9015565280
         *   w1 = -0.5 - 0.0316227766*0.001/(0.000316227766 + 0.001) = -0.5240253073
         * PyTorch: w -= (0.1/0.1) m / (sqrt(v)/sqrt(0.001) + 0.001)
         *   w0 = 1 - 0.2/(2 + 0.001) = 0.9000499750
         *   w1 = -0.5 - 0.001/(0.01 + 0.001) = -0.5909090909 */
        step2(o, &r, 2.f, 0.01f);
        cr_assert_float_eq(wv(&r)[0], form ? 0.9000499750 : 0.9015565280, 1e-6);
        cr_assert_float_eq(wv(&r)[1], form ? -0.5909090909 : -0.5240253073, 1e-6);
        /* step 2, g = (-1, 0.01): m = (0.08, 0.0019), v = (0.004996, 1.999e-7),
         * bc1 = 0.19, bc2 = 0.001999 */
        step2(o, &r, -1.f, 0.01f);
        cr_assert_float_eq(wv(&r)[0], form ? 0.8734331076 : 0.8752943756, 1e-6);
        cr_assert_float_eq(wv(&r)[1], form ? -0.6818181818 : -0.5549216676, 1e-6);
        const char *keys[12];
        double vals[12];
        int n = nn_optimizer_hparams(o, keys, vals, 12);
        int seen = 0;
        for (int i = 0; i < n; i++)
            if (!strcmp(keys[i], "torch_epsilon")) {
                seen = 1;
                cr_assert_eq(vals[i], (double)form);
            }
        cr_assert(seen, "the epsilon form is a logged hyperparameter");
        nn_optimizer_free(o);
        rig_free(&r);
    }
}

Test(optim, adamw_decays_before_the_adam_step) {
    rig r = rig_new(2, (float[]){1.f, -0.5f});
    nn_optimizer *o = nn_optimizer_from_name("adamw", &(nn_optimizer_opts){.lr = 0.1f, .weight_decay = 0.1f});
    cr_assert_eq(nn_optimizer_attach(o, &r.w, 1), NN_OK);
    /* w *= 1 - lr*wd = 0.99, then Adam's first step (see the Adam test in
     * test_training.c): w0 = 0.99 - 0.0999998419 = 0.8900001581,
     * w1 = -0.495 - 0.0999993675 = -0.5949993675 */
    step2(o, &r, 2.f, 0.5f);
    cr_assert_float_eq(wv(&r)[0], 0.8900001581, 1e-6);
    cr_assert_float_eq(wv(&r)[1], -0.5949993675, 1e-6);
    nn_optimizer_free(o);
    /* with PyTorch's epsilon form this is torch.optim.AdamW's step:
     * 0.99 - 1 * 0.2 / (sqrt(0.004)/sqrt(0.001) + 1e-7) = 0.8900000050 */
    float back[2] = {1.f, -0.5f};
    memcpy(nn_tensor_f32(nn_param_value(r.w)), back, sizeof back);
    o = nn_optimizer_from_name("adamw", &(nn_optimizer_opts){.lr = 0.1f, .weight_decay = 0.1f,
                                                              .epsilon_form = NN_EPSILON_TORCH});
    cr_assert_eq(nn_optimizer_attach(o, &r.w, 1), NN_OK);
    step2(o, &r, 2.f, 0.5f);
    cr_assert_float_eq(wv(&r)[0], 0.8900000050, 1e-6);
    /* Keras's form gives -0.5949993675 here, 6e-7 away: a few float ulps
     * (6e-8 each near 0.6) tell the forms apart */
    cr_assert_float_eq(wv(&r)[1], -0.5949999800, 3e-7);
    nn_optimizer_free(o);
    /* Keras's default decay, 0.004, when none is given */
    o = nn_optimizer_from_name("adamw", NULL);
    const char *keys[12];
    double vals[12];
    int n = nn_optimizer_hparams(o, keys, vals, 12);
    cr_assert_str_eq(keys[n - 1], "weight_decay");
    cr_assert_float_eq(vals[n - 1], 0.004, 1e-12);
    cr_assert_float_eq(nn_optimizer_lr(o), 0.001f, 1e-9);
    nn_optimizer_free(o);
    rig_free(&r);
}

Test(optim, nesterov_two_steps_by_hand) {
    rig r = rig_new(2, (float[]){1.f, 3.f});
    nn_optimizer *o =
        nn_optimizer_from_name("sgd", &(nn_optimizer_opts){.lr = 0.1f, .momentum = 0.9f, .nesterov = 1});
    cr_assert_eq(nn_optimizer_attach(o, &r.w, 1), NN_OK);
    /* v = 0.9 v - 0.1 g; w += 0.9 v - 0.1 g
     *   step 1, g = (2, 0.5): v = (-0.2, -0.05); w = (1 - 0.18 - 0.2, 3 - 0.045 - 0.05) = (0.62, 2.905)
     *   step 2, g = (-1, 0.5): v = (-0.08, -0.095);
     *           w = (0.62 - 0.072 + 0.1, 2.905 - 0.0855 - 0.05) = (0.648, 2.7695) */
    step2(o, &r, 2.f, 0.5f);
    cr_assert_float_eq(wv(&r)[0], 0.62, 1e-6);
    cr_assert_float_eq(wv(&r)[1], 2.905, 1e-6);
    step2(o, &r, -1.f, 0.5f);
    cr_assert_float_eq(wv(&r)[0], 0.648, 1e-6);
    cr_assert_float_eq(wv(&r)[1], 2.7695, 1e-6);
    nn_optimizer_free(o);
    rig_free(&r);
}

Test(optim, coupled_weight_decay_adds_to_the_gradient) {
    rig r = rig_new(2, (float[]){1.f, 3.f});
    nn_optimizer *o = nn_optimizer_from_name("sgd", &(nn_optimizer_opts){.lr = 0.1f, .weight_decay = 0.1f});
    cr_assert_eq(nn_optimizer_attach(o, &r.w, 1), NN_OK);
    /* g + 0.1 w = (2.1, 0.8): w = (1 - 0.21, 3 - 0.08) */
    step2(o, &r, 2.f, 0.5f);
    cr_assert_float_eq(wv(&r)[0], 0.79, 1e-6);
    cr_assert_float_eq(wv(&r)[1], 2.92, 1e-6);
    /* the caller's gradient is left as it was */
    cr_assert_eq(nn_tensor_f32(r.grad)[0], 2.f);
    nn_optimizer_free(o);
    rig_free(&r);
}

Test(optim, clipping_by_global_norm_and_by_value) {
    /* two parameters, gradients (3) and (4, 0): global norm 5, clip 1
     * scales both by 0.2; SGD lr 1: a = 1 - 0.6, b = (2 - 0.8, 5) */
    nn_graph *g = nn_graph_new(1);
    nn_node *p[2] = {nn_param(g, "a", NN_SHAPE(1), nn_init_zeros()), nn_param(g, "b", NN_SHAPE(2), nn_init_zeros())};
    nn_tensor_f32(nn_param_value(p[0]))[0] = 1.f;
    nn_tensor_f32(nn_param_value(p[1]))[0] = 2.f;
    nn_tensor_f32(nn_param_value(p[1]))[1] = 5.f;
    nn_tensor *ga = nn_tensor_new(NN_F32, NN_SHAPE(1)), *gb = nn_tensor_new(NN_F32, NN_SHAPE(2));
    nn_tensor_f32(ga)[0] = 3.f;
    nn_tensor_f32(gb)[0] = 4.f;
    const nn_tensor *gs[2] = {ga, gb};
    nn_optimizer *o = nn_optimizer_from_name("sgd", &(nn_optimizer_opts){.lr = 1.f, .clip_norm = 1.f});
    cr_assert_eq(nn_optimizer_attach(o, p, 2), NN_OK);
    cr_assert_eq(nn_optimizer_update(o, gs, 2), NN_OK);
    cr_assert_float_eq(nn_tensor_f32(nn_param_value(p[0]))[0], 0.4, 1e-6);
    cr_assert_float_eq(nn_tensor_f32(nn_param_value(p[1]))[0], 1.2, 1e-6);
    cr_assert_float_eq(nn_tensor_f32(nn_param_value(p[1]))[1], 5.0, 1e-6);
    /* a norm within the limit is not scaled: clip 10 */
    nn_optimizer_free(o);
    o = nn_optimizer_from_name("sgd", &(nn_optimizer_opts){.lr = 1.f, .clip_norm = 10.f});
    cr_assert_eq(nn_optimizer_attach(o, p, 2), NN_OK);
    cr_assert_eq(nn_optimizer_update(o, gs, 2), NN_OK);
    cr_assert_float_eq(nn_tensor_f32(nn_param_value(p[0]))[0], -2.6, 1e-6);
    cr_assert_float_eq(nn_tensor_f32(nn_param_value(p[1]))[0], -2.8, 1e-6);
    nn_optimizer_free(o);
    /* by value 1: (3) -> (1), (4, -7) -> (1, -1) */
    o = nn_optimizer_from_name("sgd", &(nn_optimizer_opts){.lr = 1.f, .clip_value = 1.f});
    cr_assert_eq(nn_optimizer_attach(o, p, 2), NN_OK);
    nn_tensor_f32(gb)[1] = -7.f; /* -> -1 */
    cr_assert_eq(nn_optimizer_update(o, gs, 2), NN_OK);
    cr_assert_float_eq(nn_tensor_f32(nn_param_value(p[0]))[0], -3.6, 1e-6);
    cr_assert_float_eq(nn_tensor_f32(nn_param_value(p[1]))[0], -3.8, 1e-6);
    cr_assert_float_eq(nn_tensor_f32(nn_param_value(p[1]))[1], 6.0, 1e-6);
    nn_optimizer_free(o);
    nn_tensor_free(ga);
    nn_tensor_free(gb);
    nn_graph_free(g);
}

Test(optim, names_defaults_and_errors) {
    cr_assert_null(nn_optimizer_from_name("adagrad", NULL));
    cr_assert(strstr(nn_last_error(), "'adagrad'") && strstr(nn_last_error(), "rmsprop"), "%s", nn_last_error());
    cr_assert_null(nn_optimizer_from_name("sgd", &(nn_optimizer_opts){.nesterov = 1}));
    cr_assert(strstr(nn_last_error(), "Nesterov"), "%s", nn_last_error());
    cr_assert_null(nn_optimizer_from_name("rmsprop", &(nn_optimizer_opts){.rho = 1.f}));
    cr_assert(strstr(nn_last_error(), "rho"), "%s", nn_last_error());
    cr_assert_null(nn_optimizer_from_name("adam", &(nn_optimizer_opts){.clip_norm = -1.f}));
    cr_assert(strstr(nn_last_error(), "clip_norm"), "%s", nn_last_error());
    cr_assert_null(nn_optimizer_from_name("sgd", &(nn_optimizer_opts){.epsilon_form = NN_EPSILON_TORCH}));
    cr_assert(strstr(nn_last_error(), "epsilon form"), "%s", nn_last_error());
    cr_assert_null(nn_optimizer_from_name("adam", &(nn_optimizer_opts){.momentum = 0.5f}));
    cr_assert(strstr(nn_last_error(), "adam: takes no momentum"), "%s", nn_last_error());
    cr_assert_null(nn_optimizer_from_name("rmsprop", &(nn_optimizer_opts){.momentum = 0.5f, .nesterov = 1}));
    /* AdamW decays by Keras's 0.004 unless told; Adam not at all */
    const char *wd_of[2] = {"adamw", "adam"};
    for (int i = 0; i < 2; i++) {
        nn_optimizer *o = nn_optimizer_from_name(wd_of[i], NULL);
        const char *keys[16];
        double values[16], wd = -1;
        int n = nn_optimizer_hparams(o, keys, values, 16);
        for (int k = 0; k < n; k++)
            if (!strcmp(keys[k], "weight_decay")) wd = values[k];
        cr_assert(i == 0 ? fabs(wd - 0.004) < 1e-9 : wd == -1, "%s: weight_decay %g", wd_of[i], wd);
        nn_optimizer_free(o);
    }
    struct {
        const char *name;
        float lr;
    } defaults[] = {{"sgd", 0.01f}, {"adam", 0.001f}, {"adamw", 0.001f}, {"rmsprop", 0.001f}};
    for (int i = 0; i < 4; i++) {
        nn_optimizer *o = nn_optimizer_from_name(defaults[i].name, NULL);
        cr_assert_not_null(o, "%s", nn_last_error());
        cr_assert_str_eq(nn_optimizer_name(o), defaults[i].name);
        cr_assert_eq(nn_optimizer_lr(o), defaults[i].lr);
        nn_optimizer_free(o);
    }
    nn_optimizer *d = nn_optimizer_default();
    cr_assert_str_eq(nn_optimizer_name(d), "adam");
    cr_assert_eq(nn_optimizer_lr(d), 0.001f);
    nn_optimizer_free(d);
}

/* The default Adam through from_name steps exactly like nn_adam: the
 * table did not change the arithmetic. */
Test(optim, default_adam_is_bit_identical_to_nn_adam) {
    rig a = rig_new(2, (float[]){1.f, -0.5f}), b = rig_new(2, (float[]){1.f, -0.5f});
    nn_optimizer *oa = nn_adam(0.001f), *ob = nn_optimizer_default();
    nn_optimizer_attach(oa, &a.w, 1);
    nn_optimizer_attach(ob, &b.w, 1);
    for (int i = 0; i < 5; i++) {
        step2(oa, &a, 0.3f * (float)i - 0.7f, 1.f / (float)(i + 1));
        step2(ob, &b, 0.3f * (float)i - 0.7f, 1.f / (float)(i + 1));
    }
    cr_assert_eq(memcmp(wv(&a), wv(&b), 2 * sizeof(float)), 0);
    nn_optimizer_free(oa);
    nn_optimizer_free(ob);
    rig_free(&a);
    rig_free(&b);
}

/* A step over more elements than one thread's share (STEP_GRAIN, 65536)
 * is split across the graph's pool, in pieces that cut through
 * parameters and through the blocks of the clipped gradient's copy. Each
 * optimizer gives the same bits on 2 threads as on 1, and Adam's first
 * element of each parameter is the step worked by hand. */
static void three_params(nn_graph *g, nn_node **p, int threads) {
    static const int64_t sizes[3] = {150001, 70003, 7};
    nn_graph_set_threads(g, threads);
    for (int i = 0; i < 3; i++) {
        char name[8] = {'p', (char)('0' + i), 0};
        p[i] = nn_param(g, name, NN_SHAPE(sizes[i]), nn_init_zeros());
        float *w = nn_tensor_f32(nn_param_value(p[i]));
        for (int64_t j = 0; j < sizes[i]; j++) w[j] = (float)((j * 7919 + i * 31) % 2001 - 1000) / 1000.f;
    }
    /* a run makes the graph's pool, the one the optimizer's step uses */
    nn_node *twice = nn_scale(g, p[0], 2.f);
    cr_assert_eq(nn_run(g, &twice, 1), NN_OK, "%s", nn_error_message(g));
}

static void fill_grads(nn_tensor **gs, int step) {
    for (int i = 0; i < 3; i++) {
        float *g = nn_tensor_f32(gs[i]);
        for (int64_t j = 0; j < nn_tensor_size(gs[i]); j++)
            g[j] = (float)((j * 104729 + i * 17 + step * 13) % 4001 - 2000) / 400.f;
    }
}

Test(optim, large_steps_split_across_threads_give_the_same_bits) {
    const char *names[] = {"adam", "adam", "adamw", "sgd", "rmsprop", "sgd"};
    nn_optimizer_opts opts[] = {
        {0},
        {.epsilon_form = NN_EPSILON_TORCH},
        {.weight_decay = 0.01f, .clip_norm = 50.f},
        {.lr = 0.1f, .momentum = 0.9f, .nesterov = 1},
        {.momentum = 0.5f},
        {.lr = 0.1f, .clip_value = 2.f, .weight_decay = 0.1f},
    };
    nn_tensor *gs[3];
    for (int i = 0; i < 3; i++) {
        static const int64_t sizes[3] = {150001, 70003, 7};
        gs[i] = nn_tensor_new(NN_F32, NN_SHAPE(sizes[i]));
    }
    for (int c = 0; c < (int)(sizeof names / sizeof *names); c++) {
        nn_graph *g[2];
        nn_node *p[2][3];
        nn_optimizer *o[2];
        for (int t = 0; t < 2; t++) {
            g[t] = nn_graph_new(1);
            three_params(g[t], p[t], t + 1);
            o[t] = nn_optimizer_from_name(names[c], &opts[c]);
            cr_assert_eq(nn_optimizer_attach(o[t], p[t], 3), NN_OK);
        }
        double m = 0, v = 0, w0[3];
        for (int i = 0; i < 3; i++) w0[i] = nn_tensor_f32(nn_param_value(p[0][i]))[0];
        for (int step = 1; step <= 3; step++) {
            fill_grads(gs, step);
            for (int t = 0; t < 2; t++)
                cr_assert_eq(nn_optimizer_update(o[t], (const nn_tensor *const *)gs, 3), NN_OK, "%s", nn_last_error());
            if (c == 0) {
                /* parameter 2's first element by hand, Keras's epsilon */
                double gi = nn_tensor_f32(gs[2])[0];
                m += (gi - m) * 0.1;
                v += (gi * gi - v) * 0.001;
                double alpha = 0.001 * sqrt(1 - pow(0.999, step)) / (1 - pow(0.9, step));
                w0[2] -= alpha * m / (sqrt(v) + 1e-7);
                cr_assert_float_eq(nn_tensor_f32(nn_param_value(p[1][2]))[0], w0[2], 1e-6, "step %d", step);
            }
        }
        for (int i = 0; i < 3; i++) {
            size_t bytes = (size_t)nn_tensor_size(gs[i]) * sizeof(float);
            cr_assert(memcmp(nn_tensor_f32(nn_param_value(p[0][i])), nn_tensor_f32(nn_param_value(p[1][i])), bytes) == 0,
                      "%s (config %d): parameter %d differs between 1 and 2 threads", names[c], c, i);
            for (int s = 0; s < nn_optimizer_num_slots(o[0]); s++)
                cr_assert(memcmp(nn_tensor_f32(nn_optimizer_slot(o[0], p[0][i], s)),
                                 nn_tensor_f32(nn_optimizer_slot(o[1], p[1][i], s)), bytes) == 0,
                          "%s (config %d): slot %d of parameter %d differs", names[c], c, s, i);
        }
        /* the weights moved */
        cr_assert_neq(nn_tensor_f32(nn_param_value(p[0][0]))[0], (float)w0[0]);
        for (int t = 0; t < 2; t++) {
            nn_optimizer_free(o[t]);
            nn_graph_free(g[t]);
        }
    }
    for (int i = 0; i < 3; i++) nn_tensor_free(gs[i]);
}

/* The step flushes subnormals in the optimizer's state to zero (a moment
 * decaying under a zero gradient would otherwise crawl through the
 * subnormal range at a microcode assist per operation), and leaves the
 * caller's floating-point mode as it was: subnormals still arise in the
 * caller's own arithmetic afterwards. */
Test(optim, subnormal_state_is_flushed_for_the_step_only) {
    float init[2] = {1.f, 1.f};
    rig r = rig_new(2, init);
    nn_optimizer *o = nn_sgd(1.f, 0.5f);
    cr_assert_eq(nn_optimizer_attach(o, &r.w, 1), NN_OK);
    /* velocity -1e-30, then halved each step under a zero gradient: it
     * would be below 2^-126 (subnormal) from the 27th step on */
    step2(o, &r, 1e-30f, 0.f);
    const float *v = nn_tensor_f32(nn_optimizer_slot(o, r.w, 0));
    for (int step = 0; step < 40; step++) {
        step2(o, &r, 0.f, 0.f);
        cr_assert(v[0] == 0.f || fabsf(v[0]) >= FLT_MIN, "velocity %g is subnormal after step %d", (double)v[0], step);
    }
    cr_assert_eq(v[0], 0.f);
    /* the weight moved by the sum of the velocities, as without flushing */
    cr_assert_float_eq(wv(&r)[0], 1.0 - 2e-30, 1e-12);
    volatile float tiny = FLT_MIN, half = 0.5f;
    cr_assert_gt(tiny * half, 0.f, "the caller's subnormals were flushed too");
    nn_optimizer_free(o);
    rig_free(&r);
}
