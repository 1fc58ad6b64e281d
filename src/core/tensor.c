/* Tensors: shapes, aligned storage, copies and printing. */
#include "internal.h"
#include "kernels.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

int64_t nn_shape_size(nn_shape s) {
    int64_t n = 1;
    for (int i = 0; i < s.rank; i++) {
        if (s.dim[i] < 0) return -1;
        n *= s.dim[i];
    }
    return n;
}

int nn_shape_equal(nn_shape a, nn_shape b) {
    if (a.rank != b.rank) return 0;
    for (int i = 0; i < a.rank; i++)
        if (a.dim[i] != b.dim[i]) return 0;
    return 1;
}

char *nn_shape_str(nn_shape s, char *buf, size_t len) {
    size_t used = 0;
    if (!buf || len == 0) return buf;
    buf[0] = 0;
    /* a shape being refused may hold any rank: say so, read no dims */
    if (s.rank < 0 || s.rank > NN_MAX_RANK) {
        snprintf(buf, len, "[rank %d]", s.rank);
        return buf;
    }
    used += (size_t)snprintf(buf + used, len - used, "[");
    for (int i = 0; i < s.rank && used < len; i++) {
        if (s.dim[i] == NN_BATCH)
            used += (size_t)snprintf(buf + used, len - used, "%sB", i ? "," : "");
        else
            used += (size_t)snprintf(buf + used, len - used, "%s%" PRId64, i ? "," : "", s.dim[i]);
    }
    if (used < len) snprintf(buf + used, len - used, "]");
    return buf;
}

const char *nn_dtype_name(nn_dtype dt) { return dt == NN_I32 ? "i32" : dt == NN_U8 ? "u8" : "f32"; }

size_t nn_dtype_size(nn_dtype dt) { return dt == NN_I32 ? sizeof(int32_t) : dt == NN_U8 ? 1 : sizeof(float); }

void *nn_aligned_alloc_uninit(size_t bytes) {
    /* aligned_alloc needs a size that is a multiple of the alignment */
    size_t rounded = (bytes + NN_ALIGN - 1) / NN_ALIGN * NN_ALIGN;
    if (rounded == 0) rounded = NN_ALIGN;
    return aligned_alloc(NN_ALIGN, rounded);
}

void *nn_aligned_alloc(size_t bytes) {
    void *p = nn_aligned_alloc_uninit(bytes);
    /* the whole rounded block, padding included, as it always was */
    if (p) memset(p, 0, (bytes + NN_ALIGN - 1) / NN_ALIGN * NN_ALIGN + (bytes == 0) * NN_ALIGN);
    return p;
}

NN_VECTOR_CLONES static void u8_to_f32(const uint8_t *restrict src, float *restrict dst, size_t n) {
    /* The float quotient b / 255.0f, the value the loaders always gave,
     * without the divider (a float division per pixel was most of a
     * gather's time): b * (1/255) in double is within 2^-52 of b/255, and
     * b/255 (not a dyadic fraction unless b is 0 or 255) lies at least
     * 2^-33 away, relatively, from any midpoint between two floats, so
     * rounding the double to float gives the correctly rounded quotient.
     * A float multiplication by 1/255 would differ for 126 of the 256
     * bytes. tests/test_data.c checks all 256. */
    for (size_t i = 0; i < n; i++) dst[i] = (float)((double)src[i] * (1.0 / 255.0));
}

void nn_u8_to_f32(const uint8_t *restrict src, float *restrict dst, size_t n) { u8_to_f32(src, dst, n); }

void nn_aligned_free(void *p) { free(p); }

static int shape_valid(nn_shape s) {
    if (s.rank < 0 || s.rank > NN_MAX_RANK) return 0;
    int64_t n = 1;
    for (int i = 0; i < s.rank; i++) {
        if (s.dim[i] < 0) return 0;
        if (s.dim[i] > 0 && n > INT64_MAX / 8 / s.dim[i]) return 0; /* overflow */
        n *= s.dim[i];
    }
    return 1;
}

void nn_tensor_wrap(nn_tensor *t, nn_dtype dt, nn_shape shape, void *data) {
    t->dtype = dt;
    t->shape = shape;
    t->size = nn_shape_size(shape);
    t->data = data;
    t->owns = 0;
}

/* A tensor whose data the caller fills completely (zeroed when `zero`). */
static nn_tensor *tensor_alloc(nn_dtype dt, nn_shape shape, int zero) {
    if ((dt != NN_F32 && dt != NN_I32 && dt != NN_U8) || !shape_valid(shape)) return NULL;
    nn_tensor *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    nn_tensor_wrap(t, dt, shape, NULL);
    size_t bytes = (size_t)t->size * nn_dtype_size(dt);
    t->data = zero ? nn_aligned_alloc(bytes) : nn_aligned_alloc_uninit(bytes);
    if (!t->data) {
        free(t);
        return NULL;
    }
    t->owns = 1;
    return t;
}

nn_tensor *nn_tensor_new(nn_dtype dt, nn_shape shape) { return tensor_alloc(dt, shape, 1); }

nn_tensor *nn_tensor_adopt(nn_dtype dt, nn_shape shape, void *data) {
    if ((dt != NN_F32 && dt != NN_I32 && dt != NN_U8) || !shape_valid(shape) || !data) return NULL;
    nn_tensor *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    nn_tensor_wrap(t, dt, shape, data);
    t->owns = 1; /* nn_aligned_free is free() */
    return t;
}

nn_tensor *nn_tensor_new_uninit(nn_dtype dt, nn_shape shape) { return tensor_alloc(dt, shape, 0); }

nn_tensor *nn_tensor_from(nn_dtype dt, nn_shape shape, const void *data) {
    nn_tensor *t = tensor_alloc(dt, shape, 1);
    if (t && data) memcpy(t->data, data, (size_t)t->size * nn_dtype_size(dt));
    return t;
}

nn_tensor *nn_tensor_clone(const nn_tensor *t) {
    return t ? nn_tensor_from(t->dtype, t->shape, t->data) : NULL;
}

void nn_tensor_free(nn_tensor *t) {
    if (!t) return;
    if (t->owns) nn_aligned_free(t->data);
    free(t);
}

nn_dtype nn_tensor_dtype(const nn_tensor *t) { return t->dtype; }
nn_shape nn_tensor_shape(const nn_tensor *t) { return t->shape; }
int64_t nn_tensor_size(const nn_tensor *t) { return t ? t->size : 0; }
float *nn_tensor_f32(const nn_tensor *t) { return t && t->dtype == NN_F32 ? t->data : NULL; }
int32_t *nn_tensor_i32(const nn_tensor *t) { return t && t->dtype == NN_I32 ? t->data : NULL; }
void *nn_tensor_data(const nn_tensor *t) { return t ? t->data : NULL; }

nn_status nn_tensor_copy(nn_tensor *dst, const nn_tensor *src) {
    if (!dst || !src) return NN_ERR_ARG;
    if (dst->dtype != src->dtype || dst->size != src->size) return NN_ERR_SHAPE;
    memmove(dst->data, src->data, (size_t)src->size * nn_dtype_size(src->dtype));
    return NN_OK;
}

void nn_tensor_print(const nn_tensor *t, FILE *out, int64_t max_elems) {
    char sh[64];
    if (!t) {
        fprintf(out, "(null tensor)\n");
        return;
    }
    fprintf(out, "%s%s", nn_dtype_name(t->dtype), nn_shape_str(t->shape, sh, sizeof sh));
    int64_t n = t->size;
    if (max_elems > 0 && n > max_elems) n = max_elems;
    int64_t row = t->shape.rank > 0 ? t->shape.dim[t->shape.rank - 1] : 1;
    if (row <= 0) row = 1;
    for (int64_t i = 0; i < n; i++) {
        if (i % row == 0) fprintf(out, "\n ");
        if (t->dtype == NN_F32)
            fprintf(out, " %10.4f", (double)((const float *)t->data)[i]);
        else if (t->dtype == NN_U8)
            fprintf(out, " %3u", (unsigned)((const uint8_t *)t->data)[i]);
        else
            fprintf(out, " %6" PRId32, ((const int32_t *)t->data)[i]);
    }
    if (n < t->size) fprintf(out, " ... (%" PRId64 " more)", t->size - n);
    fprintf(out, "\n");
}
