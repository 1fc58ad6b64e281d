/* The gradient audit behind `nngraph check`: one op node, rebuilt alone in
 * a scratch graph on random inputs, its gradient rule (through nn_grad)
 * against central differences of a reference loss summed in double. */
#include "graphio_common.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define AUDIT_EPS 1e-3
#define AUDIT_RTOL 1e-2
#define AUDIT_ATOL 1e-4
/* Elements checked per input at most: a 784x512 weight would otherwise
 * cost 400k pairs of runs. */
#define AUDIT_MAX_ELEMS 48

/* Values away from 0, so relu/step kinks are never straddled by a
 * difference step: |v| in [0.2, 1], random sign. */
static void fill_away_from_zero(nn_tensor *t, nn_rng *rng) {
    float *v = t->data;
    for (int64_t i = 0; i < t->size; i++) {
        float m = (float)(0.2 + 0.8 * nn_rng_uniform(rng));
        v[i] = nn_rng_uniform(rng) < 0.5 ? -m : m;
    }
}

/* The reference: sum(out * R) in double over the op's output. */
static int reference_loss(nn_graph *g, nn_node *out, const nn_tensor *R, double *loss) {
    if (nn_run(g, &out, 1) != NN_OK) return -1;
    const float *y = nn_tensor_f32(nn_value(out)), *r = R->data;
    double s = 0;
    for (int64_t i = 0; i < R->size; i++) s += (double)y[i] * r[i];
    *loss = s;
    return isfinite(s) ? 0 : -1;
}

nn_status nn_gradcheck_node(const nn_node *node, int64_t batch, uint64_t seed, nn_gradcheck_report *rep) {
    if (!node || !rep) return nn_set_error(NN_ERR_ARG, "gradcheck: node and report are required");
    memset(rep, 0, sizeof *rep);
    if (node->kind != NN_NODE_OP) return nn_set_error(NN_ERR_ARG, "gradcheck: '%s' is not an op", node->name);
    snprintf(rep->op, sizeof rep->op, "%s", node->op->name);
    snprintf(rep->node, sizeof rep->node, "%s", node->name);
    if (!node->op->grad) {
        rep->no_gradient_rule = 1;
        return NN_OK;
    }
    if (batch < 1) batch = 3;
    nn_graph *g = nn_graph_new(seed);
    if (!g) return nn_set_error(NN_ERR_NOMEM, "gradcheck: out of memory");
    nn_graph_set_threads(g, 1);
    nn_rng rng;
    nn_rng_seed(&rng, seed ^ 0x9e3779b97f4a7c15ULL);
    nn_node *in[NN_MAX_INPUTS] = {0};
    nn_node *wrt[NN_MAX_INPUTS];
    int n_wrt = 0, idx_of[NN_MAX_INPUTS];
    nn_status st = NN_OK;
    for (int k = 0; k < node->n_in; k++) {
        nn_shape s = nn_shape_bind_batch(node->in[k]->shape, batch);
        char name[16];
        snprintf(name, sizeof name, "in%d", k);
        if (node->in[k]->dtype == NN_I32) {
            /* class labels: valid for the last dimension of input 0 */
            nn_tensor *t = nn_tensor_new(NN_I32, s);
            int64_t classes = node->in[0]->shape.rank ? node->in[0]->shape.dim[node->in[0]->shape.rank - 1] : 1;
            if (!t) break;
            for (int64_t i = 0; i < t->size; i++)
                ((int32_t *)t->data)[i] = (int32_t)nn_rng_below(&rng, (uint64_t)(classes > 0 ? classes : 1));
            in[k] = nn_const(g, name, t);
            nn_tensor_free(t);
        } else {
            in[k] = nn_param(g, name, s, nn_init_zeros());
            if (in[k]) {
                fill_away_from_zero(in[k]->tensor, &rng);
                idx_of[n_wrt] = k;
                wrt[n_wrt++] = in[k];
            }
        }
    }
    nn_node *out = nn_node_rebuild(g, node, "op", in);
    nn_tensor *R = out ? nn_tensor_new(NN_F32, out->shape) : NULL;
    nn_node *loss = NULL, *grads[NN_MAX_INPUTS] = {0};
    if (R) {
        nn_tensor_init(R, nn_init_uniform(-1.f, 1.f), &rng);
        loss = nn_sum(g, nn_mul(g, out, nn_const(g, "R", R)), NN_ALL_AXES);
        if (loss && nn_grad(g, loss, wrt, n_wrt, grads) != NN_OK && nn_graph_status(g) != NN_ERR_NOMEM) {
            /* the rule failed or gave a gradient of the wrong shape (nn_grad
             * checks): a finding about the op, not an error of the audit */
            rep->failures++;
            snprintf(rep->detail, sizeof rep->detail, "%s", nn_error_message(g));
            goto done;
        }
    }
    if (nn_graph_status(g) != NN_OK || !R) {
        st = nn_set_error(nn_graph_status(g) ? nn_graph_status(g) : NN_ERR_NOMEM, "gradcheck of '%s' (%s): %s",
                          node->name, node->op->name, nn_graph_status(g) ? nn_error_message(g) : "out of memory");
        goto done;
    }
    if (nn_run(g, grads, n_wrt) != NN_OK) {
        st = nn_set_error(NN_ERR_RUNTIME, "gradcheck of '%s': %s", node->name, nn_error_message(g));
        goto done;
    }
    for (int w = 0; w < n_wrt && st == NN_OK; w++) {
        /* an input the rule gives no gradient (targets, shape donors)
         * gets autodiff's zero constant: nothing to compare */
        if (grads[w]->kind == NN_NODE_CONST) {
            rep->inputs_without_gradient |= 1 << idx_of[w];
            continue;
        }
        nn_tensor *analytic = nn_tensor_clone(nn_value(grads[w]));
        if (!analytic) {
            st = nn_set_error(NN_ERR_NOMEM, "gradcheck: out of memory");
            break;
        }
        float *x = wrt[w]->tensor->data;
        if (analytic->size != wrt[w]->tensor->size) {
            /* a gradient must have its input's shape; reading it as one
             * would run past its end */
            char gs[96], xs[96];
            nn_shape_str(analytic->shape, gs, sizeof gs);
            nn_shape_str(wrt[w]->tensor->shape, xs, sizeof xs);
            rep->failures++;
            snprintf(rep->detail, sizeof rep->detail, "input %d: its gradient has shape %s, the input %s", idx_of[w],
                     gs, xs);
            nn_tensor_free(analytic);
            continue;
        }
        int64_t n = wrt[w]->tensor->size, stride = n > AUDIT_MAX_ELEMS ? n / AUDIT_MAX_ELEMS : 1;
        for (int64_t i = 0; i < n; i += stride) {
            /* Growing step sizes: with a small one, central differences
             * carry the float32 rounding of the op's output divided by the
             * step (large for a 784-long matmul sum); with a larger one,
             * the truncation error of curved functions (about h^2/6 of the
             * third derivative; inputs stay 0.2 or more from relu/step
             * kinks, farther than 0.1). A correct rule agrees at one of
             * them; a wrong one (a lost factor, a wrong sign, a missing
             * term) at none. */
            static const double steps[3] = {AUDIT_EPS, 10 * AUDIT_EPS, 100 * AUDIT_EPS};
            double a = ((const float *)analytic->data)[i], numeric = 0, ratio = INFINITY, diff = INFINITY;
            int bad = 0;
            for (int k = 0; k < 3 && ratio > 1.0 && !bad; k++) {
                float keep = x[i];
                double h = steps[k] * fmax(1.0, fabs((double)keep)), up = 0, down = 0;
                x[i] = (float)(keep + h);
                double hp = (double)x[i] - keep; /* the step float32 really took */
                bad |= reference_loss(g, out, R, &up);
                x[i] = (float)(keep - h);
                double hm = keep - (double)x[i];
                bad |= reference_loss(g, out, R, &down);
                x[i] = keep;
                double nk = (up - down) / (hp + hm), dk = fabs(a - nk);
                double rk = isfinite(a) ? dk / (AUDIT_ATOL + AUDIT_RTOL * fabs(nk)) : INFINITY;
                if (k == 0 || rk < ratio) numeric = nk, diff = dk, ratio = rk;
            }
            if (bad) {
                st = nn_set_error(NN_ERR_NUMERIC, "gradcheck of '%s': the op's output is not finite (%s)", node->name,
                                  nn_error_message(g));
                break;
            }
            double rel = isfinite(a) ? diff / fmax(fabs(numeric), 1e-3) : INFINITY;
            rep->checked++;
            if (ratio > 1.0) rep->failures++;
            if (rel > rep->worst_rel) rep->worst_rel = rel;
            if (ratio > rep->worst_ratio || (rep->checked == 1 && ratio == 0)) {
                rep->worst_ratio = ratio;
                snprintf(rep->detail, sizeof rep->detail, "input %d element %lld: analytic %.6g, numeric %.6g",
                         idx_of[w], (long long)i, a, numeric);
            }
        }
        nn_tensor_free(analytic);
    }
done:
    nn_tensor_free(R);
    nn_graph_free(g);
    return st;
}

int nn_gradcheck_same_case(const nn_node *a, const nn_node *b) {
    if (a->op != b->op || a->n_in != b->n_in) return 0;
    if (memcmp(a->fattr, b->fattr, sizeof a->fattr) || memcmp(a->iattr, b->iattr, sizeof a->iattr)) return 0;
    if (a->opdata != b->opdata) return 0;
    for (int k = 0; k < a->n_in; k++)
        if (!nn_shape_equal(a->in[k]->shape, b->in[k]->shape) || a->in[k]->dtype != b->in[k]->dtype) return 0;
    return 1;
}

