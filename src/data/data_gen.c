/* Generators for the labs' data sets, deterministic for a seed: Gaussian
 * blobs, the two-class square that no straight line separates, and the
 * parabola for regression. */
#include "nngraph/data.h"

#include <inttypes.h>
#include <stdlib.h>

/* Shuffles the rows of x (f32 [n, f]) and y (i32 [n]) together. */
static void shuffle_together(nn_tensor *x, nn_tensor *y, nn_rng *rng) {
    int64_t n = nn_tensor_shape(x).dim[0], f = nn_tensor_shape(x).dim[1];
    float *xv = nn_tensor_f32(x);
    int32_t *yv = nn_tensor_i32(y);
    /* Fisher-Yates directly on the rows: no index array to allocate */
    for (int64_t i = n - 1; i > 0; i--) {
        int64_t j = (int64_t)nn_rng_below(rng, (uint64_t)i + 1);
        for (int64_t k = 0; k < f; k++) {
            float t = xv[i * f + k];
            xv[i * f + k] = xv[j * f + k];
            xv[j * f + k] = t;
        }
        int32_t t = yv[i];
        yv[i] = yv[j];
        yv[j] = t;
    }
}

/* x f32 [n, f] and y i32 [n], or NULL after setting an error. */
static nn_status new_pair(const char *who, int64_t n, int64_t f, nn_tensor **x, nn_tensor **y) {
    *x = nn_tensor_new(NN_F32, NN_SHAPE(n, f));
    *y = nn_tensor_new(NN_I32, NN_SHAPE(n));
    if (*x && *y) return NN_OK;
    nn_tensor_free(*x);
    nn_tensor_free(*y);
    *x = *y = NULL;
    return nn_set_error(NN_ERR_NOMEM, "%s: out of memory for %" PRId64 " samples", who, n);
}

nn_dataset *nn_make_blobs(const float *centres, int n_centres, int dim, int64_t n_samples, float std,
                          uint64_t seed) {
    if (!centres || n_centres < 1 || dim < 1 || n_samples < 1 || !(std >= 0)) {
        nn_set_error(NN_ERR_ARG, "make_blobs: need centres, n_centres >= 1, dim >= 1, n_samples >= 1 and std >= 0 "
                     "(got %d centres, dim %d, %" PRId64 " samples, std %g)", n_centres, dim, n_samples, std);
        return NULL;
    }
    nn_tensor *x, *y;
    if (new_pair("make_blobs", n_samples, dim, &x, &y)) return NULL;
    nn_rng rng;
    nn_rng_seed(&rng, seed);
    float *xv = nn_tensor_f32(x);
    int32_t *yv = nn_tensor_i32(y);
    for (int64_t i = 0; i < n_samples; i++) {
        int c = (int)(i % n_centres); /* equal class sizes (the first ones get one more) */
        yv[i] = c;
        for (int k = 0; k < dim; k++)
            xv[i * dim + k] = centres[c * dim + k] + std * (float)nn_rng_normal(&rng);
    }
    shuffle_together(x, y, &rng);
    return nn_dataset_new(x, y);
}

nn_dataset *nn_make_square(int64_t n, uint64_t seed) {
    if (n < 2) {
        nn_set_error(NN_ERR_ARG, "make_square: need at least 2 samples (one per class), got %" PRId64, n);
        return NULL;
    }
    nn_tensor *x, *y;
    if (new_pair("make_square", n, 2, &x, &y)) return NULL;
    nn_rng rng;
    nn_rng_seed(&rng, seed);
    float *xv = nn_tensor_f32(x);
    int32_t *yv = nn_tensor_i32(y);
    for (int64_t i = 0; i < n; i++) {
        double a, b;
        if (i % 2 == 0) {
            /* class 0: uniform on the small square [0, 2.3]^2 */
            a = 2.3 * nn_rng_uniform(&rng);
            b = 2.3 * nn_rng_uniform(&rng);
            yv[i] = 0;
        } else {
            /* class 1: uniform on the L-shaped band [0,4]^2 minus [0,3)^2;
             * rejection keeps it uniform (7/16 of draws are accepted) */
            do {
                a = 4.0 * nn_rng_uniform(&rng);
                b = 4.0 * nn_rng_uniform(&rng);
            } while (a < 3.0 && b < 3.0);
            yv[i] = 1;
        }
        xv[2 * i] = (float)a;
        xv[2 * i + 1] = (float)b;
    }
    shuffle_together(x, y, &rng);
    nn_scaler s = {0};
    nn_status st = nn_scaler_fit(&s, x);
    if (st == NN_OK) st = nn_scaler_transform(&s, x);
    nn_scaler_free(&s);
    if (st != NN_OK) {
        nn_tensor_free(x);
        nn_tensor_free(y);
        return NULL;
    }
    return nn_dataset_new(x, y);
}

nn_dataset *nn_make_parabola(int64_t n) {
    if (n < 2) {
        nn_set_error(NN_ERR_ARG, "make_parabola: need at least 2 points to span [0,1], got %" PRId64, n);
        return NULL;
    }
    nn_tensor *x = nn_tensor_new(NN_F32, NN_SHAPE(n, 1));
    nn_tensor *y = nn_tensor_new(NN_F32, NN_SHAPE(n, 1));
    if (!x || !y) {
        nn_tensor_free(x);
        nn_tensor_free(y);
        nn_set_error(NN_ERR_NOMEM, "make_parabola: out of memory for %" PRId64 " points", n);
        return NULL;
    }
    float *xv = nn_tensor_f32(x), *yv = nn_tensor_f32(y);
    for (int64_t i = 0; i < n; i++) {
        double t = (double)i / (double)(n - 1);
        xv[i] = (float)t;
        yv[i] = (float)(-(t - 0.5) * (t - 0.5) + 0.25);
    }
    return nn_dataset_new(x, y);
}
