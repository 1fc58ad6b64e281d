/* Datasets (x and y sharing their first dimension), row gathering for
 * minibatches, the feature standardiser and seeded splits. */
#include "nngraph/data.h"
#include "internal.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Rows along dim 0; a rank-0 tensor has no rows. */
static int64_t rows_of(const nn_tensor *t) {
    nn_shape s = nn_tensor_shape(t);
    return s.rank > 0 ? s.dim[0] : -1;
}

/* Elements in one row (the product of the dims after the first). */
static int64_t row_elems(const nn_tensor *t) {
    nn_shape s = nn_tensor_shape(t);
    int64_t n = 1;
    for (int i = 1; i < s.rank; i++) n *= s.dim[i];
    return n;
}

nn_dataset *nn_dataset_new(nn_tensor *x, nn_tensor *y) {
    if (!x) {
        /* the usual cause is a loader that failed: keep its message */
        if (!nn_last_error()[0]) nn_set_error(NN_ERR_ARG, "dataset: features tensor x is NULL");
        nn_tensor_free(y);
        return NULL;
    }
    if (rows_of(x) < 0 || (y && rows_of(y) < 0)) {
        nn_set_error(NN_ERR_SHAPE, "dataset: x and y need a first (sample) dimension, got rank %d and %d",
                     nn_tensor_shape(x).rank, y ? nn_tensor_shape(y).rank : 0);
        goto fail;
    }
    if (y && rows_of(x) != rows_of(y)) {
        nn_set_error(NN_ERR_SHAPE, "dataset: x has %" PRId64 " samples but y has %" PRId64,
                     rows_of(x), rows_of(y));
        goto fail;
    }
    nn_dataset *d = malloc(sizeof *d);
    if (!d) {
        nn_set_error(NN_ERR_NOMEM, "dataset: out of memory");
        goto fail;
    }
    d->x = x;
    d->y = y;
    return d;
fail:
    nn_tensor_free(x);
    nn_tensor_free(y);
    return NULL;
}

void nn_dataset_free(nn_dataset *d) {
    if (!d) return;
    nn_tensor_free(d->x);
    nn_tensor_free(d->y);
    free(d);
}

int64_t nn_dataset_size(const nn_dataset *d) {
    if (!d || !d->x) return 0;
    int64_t n = rows_of(d->x);
    return n < 0 ? 0 : n;
}

/* How many rows ahead nn_gather_rows asks for (a few rows of a few
 * hundred bytes: a few dozen cache lines in flight). */
#define GATHER_AHEAD 4

/* Hints the cache to fetch [p, p + bytes): up to 4 KiB, one hint per
 * 64-byte line (longer rows stream well without). */
static void prefetch_bytes(const char *p, size_t bytes) {
    if (bytes > 4096) bytes = 4096;
    for (size_t off = 0; off < bytes; off += 64) __builtin_prefetch(p + off, 0, 3);
}

nn_status nn_gather_rows(const nn_tensor *src, const int64_t *idx, int64_t n, nn_tensor *dst) {
    if (!src || !dst || (n > 0 && !idx) || n < 0)
        return nn_set_error(NN_ERR_ARG, "gather_rows: NULL tensor or index list, or negative count");
    int widen = nn_tensor_dtype(src) == NN_U8 && nn_tensor_dtype(dst) == NN_F32;
    if (nn_tensor_dtype(src) != nn_tensor_dtype(dst) && !widen)
        return nn_set_error(NN_ERR_ARG, "gather_rows: source is %s but destination is %s",
                            nn_dtype_name(nn_tensor_dtype(src)), nn_dtype_name(nn_tensor_dtype(dst)));
    int64_t src_rows = rows_of(src), dst_rows = rows_of(dst);
    if (src_rows < 0 || dst_rows < 0)
        return nn_set_error(NN_ERR_SHAPE, "gather_rows: scalars have no rows");
    if (row_elems(src) != row_elems(dst))
        return nn_set_error(NN_ERR_SHAPE,
                            "gather_rows: source rows have %" PRId64 " elements, destination rows %" PRId64,
                            row_elems(src), row_elems(dst));
    if (n > dst_rows)
        return nn_set_error(NN_ERR_SHAPE, "gather_rows: %" PRId64 " rows do not fit a destination of %" PRId64,
                            n, dst_rows);
    size_t row_bytes = (size_t)row_elems(src) * nn_dtype_size(nn_tensor_dtype(src));
    const char *from = nn_tensor_data(src);
    char *to = nn_tensor_data(dst);
    /* check every index before copying anything: no partial writes */
    for (int64_t i = 0; i < n; i++)
        if (idx[i] < 0 || idx[i] >= src_rows)
            return nn_set_error(NN_ERR_ARG, "gather_rows: index %" PRId64 " (at position %" PRId64
                                ") is outside 0..%" PRId64, idx[i], i, src_rows - 1);
    /* Random rows of a dataset larger than the cache: each row's first
     * load would wait for memory, which the hardware prefetcher cannot
     * guess. Asking for the rows GATHER_AHEAD positions ahead while
     * converting this one keeps several rows' lines in flight (the u8
     * digits batch took 2.5x as long without). */
    for (int64_t i = 0; i < n && i < GATHER_AHEAD; i++) prefetch_bytes(from + (size_t)idx[i] * row_bytes, row_bytes);
    for (int64_t i = 0; i < n; i++) {
        if (i + GATHER_AHEAD < n) prefetch_bytes(from + (size_t)idx[i + GATHER_AHEAD] * row_bytes, row_bytes);
        if (widen) /* a byte per element */
            nn_u8_to_f32((const uint8_t *)from + (size_t)idx[i] * row_bytes, (float *)to + (size_t)i * row_bytes,
                         row_bytes);
        else
            memcpy(to + (size_t)i * row_bytes, from + (size_t)idx[i] * row_bytes, row_bytes);
    }
    return NN_OK;
}

/* ---- Standardiser ---------------------------------------------------- */

static nn_status check_features(const nn_tensor *x, const char *who) {
    if (!x) return nn_set_error(NN_ERR_ARG, "%s: x is NULL", who);
    if (nn_tensor_dtype(x) != NN_F32 || nn_tensor_shape(x).rank != 2) {
        char buf[64];
        return nn_set_error(NN_ERR_ARG, "%s: x must be f32 [n, features], got %s %s", who,
                            nn_dtype_name(nn_tensor_dtype(x)), nn_shape_str(nn_tensor_shape(x), buf, sizeof buf));
    }
    return NN_OK;
}

nn_status nn_scaler_fit(nn_scaler *s, const nn_tensor *x) {
    if (!s) return nn_set_error(NN_ERR_ARG, "scaler_fit: scaler is NULL");
    nn_status st = check_features(x, "scaler_fit");
    if (st) return st;
    int64_t n = nn_tensor_shape(x).dim[0], f = nn_tensor_shape(x).dim[1];
    if (n == 0) return nn_set_error(NN_ERR_ARG, "scaler_fit: x has no samples");
    float *mean = malloc((size_t)(f ? f : 1) * sizeof *mean);
    float *scale = malloc((size_t)(f ? f : 1) * sizeof *scale);
    double *sum = calloc((size_t)(f ? f : 1), sizeof *sum);
    double *sq = calloc((size_t)(f ? f : 1), sizeof *sq);
    if (!mean || !scale || !sum || !sq) {
        free(mean), free(scale), free(sum), free(sq);
        return nn_set_error(NN_ERR_NOMEM, "scaler_fit: out of memory");
    }
    const float *v = nn_tensor_f32(x);
    /* two passes in double: the one-pass sum of squares loses precision
     * when the mean is large next to the spread */
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < f; j++) sum[j] += v[i * f + j];
    for (int64_t j = 0; j < f; j++) sum[j] /= (double)n;
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < f; j++) {
            double d = v[i * f + j] - sum[j];
            sq[j] += d * d;
        }
    for (int64_t j = 0; j < f; j++) {
        double sd = sqrt(sq[j] / (double)n); /* population deviation, as StandardScaler */
        mean[j] = (float)sum[j];
        scale[j] = sd > 0 ? (float)sd : 1.0f;
    }
    free(sum);
    free(sq);
    nn_scaler_free(s);
    s->features = f;
    s->mean = mean;
    s->scale = scale;
    return NN_OK;
}

nn_status nn_scaler_transform(const nn_scaler *s, nn_tensor *x) {
    if (!s || !s->mean || !s->scale) return nn_set_error(NN_ERR_STATE, "scaler_transform: scaler is not fitted");
    nn_status st = check_features(x, "scaler_transform");
    if (st) return st;
    int64_t n = nn_tensor_shape(x).dim[0], f = nn_tensor_shape(x).dim[1];
    if (f != s->features)
        return nn_set_error(NN_ERR_SHAPE, "scaler_transform: scaler was fitted on %" PRId64
                            " features, x has %" PRId64, s->features, f);
    float *v = nn_tensor_f32(x);
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < f; j++) v[i * f + j] = (v[i * f + j] - s->mean[j]) / s->scale[j];
    return NN_OK;
}

void nn_scaler_free(nn_scaler *s) {
    if (!s) return;
    free(s->mean);
    free(s->scale);
    s->mean = s->scale = NULL;
    s->features = 0;
}

/* ---- Split ------------------------------------------------------------ */

/* A new tensor of rows idx[0..n) of t (same dtype and row shape). */
static nn_tensor *take_rows(const nn_tensor *t, const int64_t *idx, int64_t n) {
    nn_shape s = nn_tensor_shape(t);
    s.dim[0] = n;
    nn_tensor *out = nn_tensor_new_uninit(nn_tensor_dtype(t), s); /* every row is gathered */
    if (!out) {
        nn_set_error(NN_ERR_NOMEM, "dataset_split: out of memory");
        return NULL;
    }
    if (nn_gather_rows(t, idx, n, out) != NN_OK) {
        nn_tensor_free(out);
        return NULL;
    }
    return out;
}

static nn_dataset *subset(const nn_dataset *d, const int64_t *idx, int64_t n) {
    nn_tensor *x = take_rows(d->x, idx, n);
    if (!x) return NULL;
    nn_tensor *y = NULL;
    if (d->y && !(y = take_rows(d->y, idx, n))) {
        nn_tensor_free(x);
        return NULL;
    }
    return nn_dataset_new(x, y);
}

nn_status nn_dataset_split(const nn_dataset *d, double fraction, uint64_t seed, nn_dataset **first,
                           nn_dataset **second) {
    if (first) *first = NULL;
    if (second) *second = NULL;
    if (!d || !d->x || !first || !second) return nn_set_error(NN_ERR_ARG, "dataset_split: NULL argument");
    if (!(fraction > 0.0 && fraction < 1.0))
        return nn_set_error(NN_ERR_ARG, "dataset_split: fraction %g is not strictly between 0 and 1", fraction);
    int64_t n = nn_dataset_size(d);
    /* the second part is rounded up, as scikit-learn's test split; the
     * epsilon keeps 0.2 * 5000 from becoming 1001 */
    int64_t n2 = (int64_t)ceil(fraction * (double)n - 1e-9);
    int64_t n1 = n - n2;
    if (n1 <= 0 || n2 <= 0)
        return nn_set_error(NN_ERR_ARG, "dataset_split: a split of %" PRId64 " samples at %g leaves a part empty",
                            n, fraction);
    int64_t *idx = malloc((size_t)n * sizeof *idx);
    if (!idx) return nn_set_error(NN_ERR_NOMEM, "dataset_split: out of memory");
    for (int64_t i = 0; i < n; i++) idx[i] = i;
    nn_rng rng;
    nn_rng_seed(&rng, seed);
    nn_rng_shuffle(&rng, idx, n);
    nn_dataset *a = subset(d, idx, n1);
    nn_dataset *b = a ? subset(d, idx + n1, n2) : NULL;
    free(idx);
    if (!a || !b) {
        nn_dataset_free(a);
        return NN_ERR_NOMEM;
    }
    *first = a;
    *second = b;
    return NN_OK;
}
