#include "gradcheck.h"
#include "internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

gc_result gc_check(nn_graph *g, nn_node *loss, int max_per_param) {
    gc_result r = {0};
    /* the trainable parameters: frozen ones (batch norm's running
     * statistics) are moved by their ops, not by gradients */
    nn_node *all[64], *params[64];
    int n_all = nn_graph_params(g, all, 64), np = 0;
    for (int i = 0; i < n_all; i++)
        if (nn_param_trainable(all[i])) params[np++] = all[i];
    nn_node *grads[64];
    if (nn_grad(g, loss, params, np, grads) != NN_OK) {
        snprintf(r.detail, sizeof r.detail, "nn_grad failed: %s", nn_error_message(g));
        r.failures = 1;
        return r;
    }
    /* every run of the check gets the same random seed, so dropout's
     * masks stay fixed while the differences are taken */
    uint64_t runs = g->runs;
    nn_node *outs[65];
    outs[0] = loss;
    for (int i = 0; i < np; i++) outs[i + 1] = grads[i];
    if (nn_run(g, outs, np + 1) != NN_OK) {
        snprintf(r.detail, sizeof r.detail, "run failed: %s", nn_error_message(g));
        r.failures = 1;
        return r;
    }
    /* copy analytic gradients before the finite-difference runs */
    nn_tensor *analytic[64];
    for (int i = 0; i < np; i++) analytic[i] = nn_tensor_clone(nn_value(grads[i]));
    for (int p = 0; p < np; p++) {
        float *x = nn_tensor_f32(nn_param_value(params[p]));
        int64_t n = nn_tensor_size(nn_param_value(params[p]));
        int64_t stride = (max_per_param > 0 && n > max_per_param) ? n / max_per_param : 1;
        for (int64_t i = 0; i < n; i += stride) {
            float keep = x[i];
            double h = GC_EPS * fmax(1.0, fabs((double)keep));
            x[i] = (float)(keep + h);
            double hp = (double)x[i] - keep; /* the step float32 really took */
            g->runs = runs;
            nn_run(g, &loss, 1);
            double up = nn_value_scalar(loss);
            x[i] = (float)(keep - h);
            double hm = keep - (double)x[i];
            g->runs = runs;
            nn_run(g, &loss, 1);
            double down = nn_value_scalar(loss);
            x[i] = keep;
            double numeric = (up - down) / (hp + hm);
            double a = nn_tensor_f32(analytic[p])[i];
            double noise = GC_NOISE_U * ldexp(fabs(up) + fabs(down), -24) / (hp + hm);
            double ratio = fabs(a - numeric) / (fmax(GC_ATOL, noise) + GC_RTOL * fabs(numeric));
            r.checked++;
            if (ratio > 1.0) r.failures++;
            if (ratio > r.worst_rel || !isfinite(a)) {
                r.worst_rel = isfinite(a) ? ratio : INFINITY;
                snprintf(r.detail, sizeof r.detail, "param '%s' element %lld: analytic %.6g, numeric %.6g",
                         nn_node_name(params[p]), (long long)i, a, numeric);
            }
        }
    }
    for (int i = 0; i < np; i++) nn_tensor_free(analytic[i]);
    return r;
}

nn_node *gc_project(nn_graph *g, nn_node *y, unsigned seed) {
    nn_shape s = nn_node_shape(y);
    nn_tensor *t = nn_tensor_new(NN_F32, s);
    nn_rng rng;
    nn_rng_seed(&rng, seed);
    nn_tensor_init(t, nn_init_uniform(-1.f, 1.f), &rng);
    nn_node *R = nn_const(g, "R", t);
    nn_tensor_free(t);
    return nn_sum(g, nn_mul(g, y, R), NN_ALL_AXES);
}

nn_node *gc_param(nn_graph *g, const char *name, nn_shape s, float lo, float hi) {
    return nn_param(g, name, s, nn_init_uniform(lo, hi));
}
