/* Gradient checking for the test suites: analytic gradients from nn_grad
 * against central finite differences. */
#ifndef NN_GRADCHECK_H
#define NN_GRADCHECK_H

#include "nngraph.h"

/* Tolerances used across the suites (float32 forward, differences and
 * comparison in double): |analytic - numeric| <= atol + rtol * |numeric|,
 * with the step h = eps * max(1, |x|). The central difference is off by
 * its truncation, about h^2 |f'''| / 6 (rtol covers it for the smooth ops
 * tested), plus the rounding of the two float32 losses divided by 2h: the
 * loss is computed to within a few units of float32's roundoff u of its
 * magnitude, so atol is the larger of GC_ATOL and GC_NOISE_U u |loss| / h. */
#define GC_EPS 1e-3
#define GC_RTOL 1e-2
#define GC_ATOL 1e-4
#define GC_NOISE_U 64

typedef struct gc_result {
    int checked;       /* elements compared */
    int failures;      /* elements outside tolerance */
    double worst_rel;  /* worst |a-n| / (atol + rtol |n|) ratio; <= 1 passes */
    char detail[512];  /* the worst element, for the failure message */
} gc_result;

/* Checks the gradient of the scalar `loss` with respect to every trainable
 * parameter of g, in the graph's mode; every run of the check uses one random seed,
 * so dropout's masks hold still. Inputs must already be bound. At most `max_per_param` elements of
 * each parameter are sampled (0 = all). */
gc_result gc_check(nn_graph *g, nn_node *loss, int max_per_param);

/* Fails the current Criterion test unless g is error-free and every
 * parameter gradient of `loss` matches finite differences (all elements);
 * the caller includes <criterion/criterion.h>. */
#define CHECK_GRAD(g, loss)                                                                                            \
    do {                                                                                                               \
        cr_assert_eq(nn_graph_status(g), NN_OK, "%s", nn_error_message(g));                                            \
        gc_result r_ = gc_check(g, loss, 0);                                                                           \
        cr_assert(r_.checked > 0);                                                                                     \
        cr_assert_eq(r_.failures, 0, "%d of %d wrong, worst %s", r_.failures, r_.checked, r_.detail);                  \
    } while (0)

/* Builds loss = sum(y * R) for a fixed random R of y's shape, so every
 * element of y's gradient is exercised with a distinct weight. */
nn_node *gc_project(nn_graph *g, nn_node *y, unsigned seed);

/* A parameter of the given shape filled uniformly in [lo, hi). */
nn_node *gc_param(nn_graph *g, const char *name, nn_shape s, float lo, float hi);

#endif
