/*
 * nngraph data: datasets, loaders (IDX, CSV), the labs' generators, a
 * feature standardiser and splits.
 *
 * A dataset is a pair of tensors with the same first dimension: features x
 * (f32, [n, features]; IDX images are flattened to [n, rows*cols] and scaled
 * to 0..1) and targets y (i32 class labels [n], or f32 values [n, k]).
 * Loaders report failures through nn_last_error(), naming the file and the
 * fault (bad magic, truncated, count mismatch, ragged row with its line).
 */
#ifndef NNGRAPH_DATA_H
#define NNGRAPH_DATA_H

#include "core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What this header declares is the library's API: the shared library
 * exports it and hides everything else (-fvisibility=hidden). */
#if defined(__GNUC__)
#pragma GCC visibility push(default)
#endif

typedef struct nn_dataset {
    nn_tensor *x; /* f32 [n, features], or u8 (unorm) images from nn_load_idx_pair */
    nn_tensor *y; /* i32 [n] class labels, or f32 [n, k] targets; may be NULL */
} nn_dataset;

/* A dataset owning x and y (taken over, freed by nn_dataset_free); NULL
 * and nn_last_error() if the first dimensions disagree. x and y are taken
 * over even on failure (freed then), so nn_dataset_new(load(a), load(b))
 * never leaks; a NULL x fails and keeps the loader's error. y may be NULL. */
nn_dataset *nn_dataset_new(nn_tensor *x, nn_tensor *y);
/* Frees the dataset and both tensors; NULL is fine. */
void nn_dataset_free(nn_dataset *d);
/* Number of samples (the first dimension of x). */
int64_t nn_dataset_size(const nn_dataset *d);

/* Copies rows idx[0..n) of src (any rank, rows along dim 0) into the first
 * n rows of dst, which must have the same row size and room for n rows and
 * the same dtype, or f32 for a u8 source (converted: v / 255). */
nn_status nn_gather_rows(const nn_tensor *src, const int64_t *idx, int64_t n, nn_tensor *dst);

/* ---- Loaders --------------------------------------------------------- */

/* Reads one IDX file, gzip-compressed or raw (detected by content). uint8
 * images become f32 [n, rows*cols] scaled to 0..1; a rank-1 uint8 file
 * (labels) becomes i32 [n]. Only unsigned-byte data (type 0x08) of rank 1
 * to 4 is read (ranks 2 and 4 flatten like images). NULL and
 * nn_last_error() on failure: bad magic, other data types, a truncated
 * header or body, bytes past the declared data, overflowing dimensions. */
nn_tensor *nn_load_idx(const char *path);
/* Images and labels as one dataset; the counts must agree. The images stay
 * bytes (x is NN_U8 [n, rows*cols], a quarter of the memory of floats):
 * nn_gather_rows into an f32 batch, nn_fit, nn_evaluate and nn_predict
 * convert them to v / 255, the same floats nn_load_idx gives. */
nn_dataset *nn_load_idx_pair(const char *images_path, const char *labels_path);

/* Reads a CSV of numeric columns. Column `label_col` (0-based; -1 for the
 * last; NN_CSV_NO_LABEL for none) becomes y: i32 class labels if
 * `int_labels`, else f32 [n,1]; the others become x. A first row that does
 * not parse as numbers is taken as a header. */
#define NN_CSV_NO_LABEL (-1000000)
nn_dataset *nn_load_csv(const char *path, int label_col, int int_labels);

/* Reads a NumPy .npy file (format versions 1, 2 and 3; C order;
 * little-endian float32, float64, int32, int64 or uint8), keeping its shape
 * (at most 4 dimensions). Floats become f32 (float64 rounded; a value
 * beyond float32's range is an error); integers become i32 labels (an int64
 * outside int32 is an error), or f32 if `as_f32`. Values are not scaled.
 * NULL and nn_last_error() naming the file and the fault otherwise: bad
 * magic, unsupported version or dtype, Fortran order, a malformed header, a
 * shape whose size disagrees with the bytes in the file (truncated or
 * trailing data). The file is read whole first and nothing is allocated
 * from the header's sizes before they are checked against it. */
nn_tensor *nn_load_npy(const char *path, int as_f32);
/* The same over bytes in memory; `name` names them in messages. Safe on
 * any input (the fuzzing entry point for the format). */
nn_tensor *nn_npy_parse(const void *bytes, size_t len, const char *name, int as_f32);
/* Writes t as a NumPy .npy file that numpy.load (and nn_load_npy) reads:
 * format version 1.0, C order, the tensor's shape, little-endian data:
 * NN_F32 as float32 ('<f4'), NN_I32 as int32 ('<i4'), NN_U8 as its stored
 * bytes ('|u1', 0 to 255). The header is laid out as numpy.save lays it
 * out (padded to 64 bytes), so the file is byte for byte numpy's own. The
 * file is replaced atomically: on failure nothing is written at `path`
 * and an existing file is left as it was. */
nn_status nn_save_npy(const char *path, const nn_tensor *t);
/* The same file's bytes in memory: malloc'ed (free()), *len set; NULL
 * with nn_last_error() for a NULL tensor or when memory runs out. */
void *nn_npy_bytes(const nn_tensor *t, size_t *len);
/* Features (as f32) and targets (integers: i32 labels; floats: f32, rank 1
 * becoming [n, 1]) from two .npy files; y_path may be NULL. The first
 * dimensions must agree. */
nn_dataset *nn_load_npy_pair(const char *x_path, const char *y_path);

/* ---- Generators for the labs (deterministic for a seed) --------------- */

/* n_samples points in `dim` dimensions spread over n_centres Gaussian
 * blobs (centres row-major [n_centres, dim], standard deviation `std`),
 * labelled by blob, in sample order i % n_centres (like sklearn's
 * make_blobs, shuffled). */
nn_dataset *nn_make_blobs(const float *centres, int n_centres, int dim, int64_t n_samples,
                          float std, uint64_t seed);
/* The non-linearly-separable two-class square: class 1 fills [0,4]^2 minus
 * [0,3)^2, class 0 fills [0,2.3]^2; n samples, half of each class,
 * standardised. */
nn_dataset *nn_make_square(int64_t n, uint64_t seed);
/* The regression set y = -(x-0.5)^2 + 0.25 for n points x evenly on [0,1];
 * x f32 [n,1], y f32 [n,1]. */
nn_dataset *nn_make_parabola(int64_t n);

/* ---- Preprocessing --------------------------------------------------- */

/* Per-feature standardisation, like scikit-learn's StandardScaler. */
typedef struct nn_scaler {
    int64_t features;
    float *mean;
    float *scale; /* standard deviation; 1 where it is 0 */
} nn_scaler;

/* Learns mean and (population) deviation of each column of x [n,
 * features]. `s` must start zeroed (nn_scaler s = {0}); refitting frees the
 * previous arrays. */
nn_status nn_scaler_fit(nn_scaler *s, const nn_tensor *x);
/* x = (x - mean) / scale in place. */
nn_status nn_scaler_transform(const nn_scaler *s, nn_tensor *x);
void nn_scaler_free(nn_scaler *s);

/* Splits d into a shuffled (seeded) first part with (1 - fraction) of the
 * samples and a second with `fraction` (rounded up, like scikit-learn's
 * test split); d is not changed. Both parts must be non-empty. */
nn_status nn_dataset_split(const nn_dataset *d, double fraction, uint64_t seed,
                           nn_dataset **first, nn_dataset **second);

#if defined(__GNUC__)
#pragma GCC visibility pop
#endif

#ifdef __cplusplus
}
#endif
#endif
