/* The NumPy .npy reader and writer, so that arrays saved with numpy.save
 * load directly and tensors nngraph writes open with numpy.load.
 *
 * A .npy file is the magic "\x93NUMPY", a major and minor version byte, the
 * header's length (uint16 little-endian in version 1, uint32 in versions 2
 * and 3), the header (a Python dict literal such as
 * {'descr': '<f4', 'fortran_order': False, 'shape': (60000, 784), }), then
 * the data in C order. float32, float64, int32, int64 and uint8 are read,
 * little-endian or byte-sized only; Fortran order, other types and object
 * arrays are refused by name.
 *
 * Nothing in the header is trusted for an allocation: the shape's product
 * times the item size must equal the bytes that follow the header in the
 * file, which are already in memory, before the tensor is made.
 *
 * The writer lays a version 1.0 header out as numpy.save (1.24) does, so
 * its files are byte for byte numpy's: the dict's keys in sorted order,
 * spare spaces for the first dimension to grow in place, then spaces and a
 * newline up to a multiple of 64 bytes. */
#include "fileutil.h"
#include "strbuf.h"
#include "nngraph/data.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define NPY_MAX_HEADER (1u << 20) /* numpy writes a few hundred bytes; allow far more */
#define NPY_MAGIC "\x93NUMPY"
#define NPY_MAGIC_LEN 6
#define NPY_V1_PREAMBLE 10 /* magic, version (2 bytes), header length (uint16) */
#define NPY_ALIGN 64       /* the data starts at a multiple of this */
#define NPY_GROWTH_DIGITS 21 /* numpy leaves room for a first dimension of this many digits */

typedef enum npy_type { NPY_F4, NPY_F8, NPY_I4, NPY_I8, NPY_U1 } npy_type;

static const struct {
    const char *descr;
    npy_type type;
    size_t size;
} npy_types[] = {
    {"<f4", NPY_F4, 4}, {"<f8", NPY_F8, 8}, {"<i4", NPY_I4, 4}, {"<i8", NPY_I8, 8}, {"|u1", NPY_U1, 1}, {"<u1", NPY_U1, 1},
};
#define NPY_NTYPES (sizeof npy_types / sizeof npy_types[0])

/* The entry for a descr, or NPY_NTYPES. */
static size_t npy_type_of(const char *descr) {
    size_t t;
    for (t = 0; t < NPY_NTYPES; t++)
        if (strcmp(npy_types[t].descr, descr) == 0) break;
    return t;
}

typedef struct npy_header {
    char descr[16];
    int have_descr, have_order, have_shape;
    int fortran;
    int rank;
    int64_t dim[NN_MAX_RANK];
} npy_header;

/* ---- the header's dict literal ---- */

typedef struct cursor {
    const char *p, *end, *name;
} cursor;

static void skip_space(cursor *c) {
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r')) c->p++;
}

static int eat(cursor *c, char ch) {
    skip_space(c);
    if (c->p < c->end && *c->p == ch) {
        c->p++;
        return 1;
    }
    return 0;
}

/* A quoted Python string ('...' or "...") without escapes, into buf. */
static int read_string(cursor *c, char *buf, size_t cap) {
    skip_space(c);
    if (c->p >= c->end || (*c->p != '\'' && *c->p != '"')) return 0;
    char q = *c->p++;
    size_t n = 0;
    while (c->p < c->end && *c->p != q) {
        if (*c->p == '\\' || n + 1 >= cap) return 0;
        buf[n++] = *c->p++;
    }
    if (c->p >= c->end) return 0;
    c->p++;
    buf[n] = 0;
    return 1;
}

static int read_word(cursor *c, const char *w) {
    skip_space(c);
    size_t n = strlen(w);
    if ((size_t)(c->end - c->p) < n || strncmp(c->p, w, n) != 0) return 0;
    c->p += n;
    return 1;
}

/* (d0, d1, ...) or () with a trailing comma allowed, as Python writes it. */
static nn_status read_shape(cursor *c, npy_header *h) {
    if (!eat(c, '(')) return nn_set_error(NN_ERR_FORMAT, "%s: .npy header: 'shape' is not a tuple", c->name);
    h->rank = 0;
    while (!eat(c, ')')) {
        skip_space(c);
        if (h->rank == NN_MAX_RANK)
            return nn_set_error(NN_ERR_FORMAT, "%s: .npy array has more than %d dimensions (nngraph tensors have at most %d)",
                                c->name, NN_MAX_RANK, NN_MAX_RANK);
        int64_t v = 0;
        int digits = 0;
        while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
            if (v > (INT64_MAX - 9) / 10)
                return nn_set_error(NN_ERR_FORMAT, "%s: .npy header: a dimension overflows", c->name);
            v = v * 10 + (*c->p++ - '0');
            digits++;
        }
        if (c->p < c->end && *c->p == 'L') c->p++; /* Python 2's long suffix */
        if (!digits) return nn_set_error(NN_ERR_FORMAT, "%s: .npy header: 'shape' holds something other than whole numbers", c->name);
        h->dim[h->rank++] = v;
        if (!eat(c, ',')) {
            if (!eat(c, ')')) return nn_set_error(NN_ERR_FORMAT, "%s: .npy header: 'shape' tuple is not closed", c->name);
            break;
        }
    }
    return NN_OK;
}

static nn_status parse_header(const char *text, size_t len, const char *name, npy_header *h) {
    cursor c = {text, text + len, name};
    memset(h, 0, sizeof *h);
    if (!eat(&c, '{')) return nn_set_error(NN_ERR_FORMAT, "%s: .npy header is not a dict literal", name);
    while (!eat(&c, '}')) {
        char key[32];
        if (!read_string(&c, key, sizeof key) || !eat(&c, ':'))
            return nn_set_error(NN_ERR_FORMAT, "%s: .npy header: expected 'key': value", name);
        nn_status s = NN_OK;
        if (strcmp(key, "descr") == 0) {
            if (!read_string(&c, h->descr, sizeof h->descr))
                return nn_set_error(NN_ERR_FORMAT, "%s: .npy 'descr' is not a simple type string (a structured or "
                                    "object array?); nngraph reads float32, float64, int32, int64 and uint8", name);
            h->have_descr = 1;
        } else if (strcmp(key, "fortran_order") == 0) {
            if (read_word(&c, "True")) h->fortran = 1;
            else if (!read_word(&c, "False"))
                return nn_set_error(NN_ERR_FORMAT, "%s: .npy 'fortran_order' is neither True nor False", name);
            h->have_order = 1;
        } else if (strcmp(key, "shape") == 0) {
            s = read_shape(&c, h);
            h->have_shape = 1;
        } else {
            return nn_set_error(NN_ERR_FORMAT, "%s: .npy header has an unknown key '%s'", name, key);
        }
        if (s != NN_OK) return s;
        if (!eat(&c, ',')) {
            if (!eat(&c, '}')) return nn_set_error(NN_ERR_FORMAT, "%s: .npy header: expected ',' or '}'", name);
            break;
        }
    }
    skip_space(&c);
    if (c.p != c.end) return nn_set_error(NN_ERR_FORMAT, "%s: .npy header has bytes after its dict", name);
    if (!h->have_descr || !h->have_order || !h->have_shape)
        return nn_set_error(NN_ERR_FORMAT, "%s: .npy header lacks '%s'", name,
                            !h->have_descr ? "descr" : !h->have_order ? "fortran_order" : "shape");
    return NN_OK;
}

/* ---- the data ---- */

static uint64_t le(const unsigned char *b, size_t n) {
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) v |= (uint64_t)b[i] << (8 * i);
    return v;
}

/* Converts n items of type t at src into the tensor's dtype. */
static nn_status convert(const unsigned char *src, npy_type t, size_t size, int64_t n, nn_tensor *out,
                         const char *name) {
    float *f = nn_tensor_dtype(out) == NN_F32 ? nn_tensor_f32(out) : NULL;
    int32_t *i32 = f ? NULL : nn_tensor_i32(out);
    for (int64_t i = 0; i < n; i++, src += size) {
        uint64_t bits = le(src, size);
        double v;
        switch (t) {
        case NPY_F4: {
            uint32_t b = (uint32_t)bits;
            float x;
            memcpy(&x, &b, sizeof x);
            v = x;
            break;
        }
        case NPY_F8:
            memcpy(&v, &bits, sizeof v);
            if (isfinite(v) && fabs(v) > 3.4028234663852886e38)
                return nn_set_error(NN_ERR_FORMAT, "%s: element %lld (%g) overflows float32", name, (long long)i, v);
            break;
        case NPY_I4:
            v = (double)(int32_t)(uint32_t)bits;
            break;
        case NPY_I8: {
            int64_t x = (int64_t)bits;
            if (!f && (x < INT32_MIN || x > INT32_MAX))
                return nn_set_error(NN_ERR_FORMAT, "%s: element %lld (%lld) does not fit the int32 labels nngraph uses",
                                    name, (long long)i, (long long)x);
            v = (double)x;
            break;
        }
        default:
            v = (double)bits;
            break;
        }
        if (f) f[i] = (float)v;
        else i32[i] = (int32_t)v;
    }
    return NN_OK;
}

nn_tensor *nn_npy_parse(const void *bytes, size_t len, const char *name, int as_f32) {
    const unsigned char *b = bytes;
    if (!name) name = ".npy data";
    if (!b || len < NPY_V1_PREAMBLE || memcmp(b, NPY_MAGIC, NPY_MAGIC_LEN) != 0) {
        nn_set_error(NN_ERR_FORMAT, "%s: not a .npy file (no \\x93NUMPY magic)", name);
        return NULL;
    }
    int major = b[6];
    size_t header_len, start;
    if (major == 1) {
        header_len = (size_t)le(b + 8, 2);
        start = NPY_V1_PREAMBLE;
    } else if (major == 2 || major == 3) {
        if (len < 12) {
            nn_set_error(NN_ERR_FORMAT, "%s: .npy file truncated in its preamble", name);
            return NULL;
        }
        header_len = (size_t)le(b + 8, 4);
        start = 12;
    } else {
        nn_set_error(NN_ERR_FORMAT, "%s: .npy format version %d.%d is not supported (1, 2 and 3 are)", name, major, b[7]);
        return NULL;
    }
    if (header_len > NPY_MAX_HEADER || header_len > len - start) {
        nn_set_error(NN_ERR_FORMAT, "%s: .npy header of %zu bytes %s", name, header_len,
                     header_len > len - start ? "runs past the end of the file" : "is implausibly long");
        return NULL;
    }
    npy_header h;
    if (parse_header((const char *)b + start, header_len, name, &h) != NN_OK) return NULL;
    size_t t = npy_type_of(h.descr);
    if (t == NPY_NTYPES) {
        nn_set_error(NN_ERR_FORMAT, "%s: .npy dtype '%s' is not supported: nngraph reads little-endian float32 (<f4), "
                     "float64 (<f8), int32 (<i4), int64 (<i8) and uint8 (|u1)", name, h.descr);
        return NULL;
    }
    if (h.fortran) {
        nn_set_error(NN_ERR_FORMAT, "%s: .npy array is in Fortran order; save it with numpy.ascontiguousarray", name);
        return NULL;
    }
    /* the element count, checked against the bytes actually present */
    size_t size = npy_types[t].size, body = len - start - header_len;
    uint64_t count = 1;
    for (int i = 0; i < h.rank; i++) {
        if (h.dim[i] != 0 && count > (uint64_t)body / (uint64_t)h.dim[i]) {
            count = UINT64_MAX;
            break;
        }
        count *= (uint64_t)h.dim[i];
    }
    if (count == UINT64_MAX || count * size != body) {
        char shape[96];
        nn_shape sh = {.rank = h.rank};
        for (int i = 0; i < h.rank; i++) sh.dim[i] = h.dim[i];
        nn_shape_str(sh, shape, sizeof shape);
        nn_set_error(NN_ERR_FORMAT, "%s: .npy shape %s of '%s' needs %s bytes of data but the file has %zu after the header (%s)",
                     name, shape, h.descr, count == UINT64_MAX ? "more" : "a different number of", body,
                     count == UINT64_MAX || count * size > body ? "truncated?" : "trailing bytes");
        return NULL;
    }
    nn_shape shape = {.rank = h.rank};
    for (int i = 0; i < h.rank; i++) shape.dim[i] = h.dim[i];
    npy_type type = npy_types[t].type;
    int is_float = type == NPY_F4 || type == NPY_F8;
    nn_tensor *out = nn_tensor_new(as_f32 || is_float ? NN_F32 : NN_I32, shape);
    if (!out) {
        nn_set_error(NN_ERR_NOMEM, "%s: out of memory for %llu elements", name, (unsigned long long)count);
        return NULL;
    }
    if (convert(b + start + header_len, type, size, (int64_t)count, out, name) != NN_OK) {
        nn_tensor_free(out);
        return NULL;
    }
    return out;
}

nn_tensor *nn_load_npy(const char *path, int as_f32) {
    char *data;
    size_t len;
    if (nn_read_file(path, &data, &len) != NN_OK) return NULL;
    nn_tensor *t = nn_npy_parse(data, len, path, as_f32);
    free(data);
    return t;
}

nn_dataset *nn_load_npy_pair(const char *x_path, const char *y_path) {
    nn_tensor *x = nn_load_npy(x_path, 1);
    if (!x) return NULL;
    nn_tensor *y = y_path ? nn_load_npy(y_path, 0) : NULL;
    if (y_path && !y) {
        nn_tensor_free(x);
        return NULL;
    }
    if (nn_tensor_shape(x).rank < 1) {
        nn_tensor_free(x);
        nn_tensor_free(y);
        nn_set_error(NN_ERR_SHAPE, "%s: features must have a first (sample) dimension, not be a scalar", x_path);
        return NULL;
    }
    /* float targets of rank 1 become [n, 1], as the CSV loader gives them */
    if (y && nn_tensor_dtype(y) == NN_F32 && nn_tensor_shape(y).rank == 1) {
        nn_tensor *col = nn_tensor_new(NN_F32, NN_SHAPE(nn_tensor_shape(y).dim[0], 1));
        if (col) memcpy(nn_tensor_f32(col), nn_tensor_f32(y), (size_t)nn_tensor_size(y) * sizeof(float));
        nn_tensor_free(y);
        y = col;
        if (!y) {
            nn_tensor_free(x);
            nn_set_error(NN_ERR_NOMEM, "%s: out of memory", y_path);
            return NULL;
        }
    }
    return nn_dataset_new(x, y);
}

/* ---- the writer ---- */

/* The header's text before its padding: the dict as Python's repr writes
 * it (keys sorted; a 1-tuple keeps its comma), then the spare spaces
 * numpy leaves so the first dimension can grow without moving the data. */
static void npy_dict(nn_strbuf *sb, const char *descr, nn_shape sh) {
    nn_sb_printf(sb, "{'descr': '%s', 'fortran_order': False, 'shape': (", descr);
    for (int i = 0; i < sh.rank; i++) nn_sb_printf(sb, "%s%lld", i ? ", " : "", (long long)sh.dim[i]);
    nn_sb_puts(sb, sh.rank == 1 ? ",), }" : "), }");
    if (sh.rank > 0) {
        char first[24];
        int digits = snprintf(first, sizeof first, "%lld", (long long)sh.dim[0]);
        for (int i = digits; i < NPY_GROWTH_DIGITS; i++) nn_sb_puts(sb, " ");
    }
}

/* The .npy image of t into out (empty on entry). */
static nn_status npy_encode(const nn_tensor *t, nn_strbuf *out) {
    if (!t) return nn_set_error(NN_ERR_ARG, ".npy writer: the tensor is NULL");
    nn_dtype dt = nn_tensor_dtype(t);
    const char *descr = dt == NN_F32 ? "<f4" : dt == NN_I32 ? "<i4" : dt == NN_U8 ? "|u1" : NULL;
    if (!descr) return nn_set_error(NN_ERR_ARG, ".npy writer: a tensor of dtype %d has no .npy type", (int)dt);
    nn_strbuf dict = {0};
    npy_dict(&dict, descr, nn_tensor_shape(t));
    /* spaces and a newline up to the alignment; numpy pads a full block
     * rather than none when the text ends exactly on it */
    size_t pad = NPY_ALIGN - (NPY_V1_PREAMBLE + dict.len + 1) % NPY_ALIGN;
    size_t header_len = dict.len + pad + 1; /* under 400 bytes: the shape has at most 4 dimensions */
    nn_sb_append(out, NPY_MAGIC "\x01\x00", NPY_MAGIC_LEN + 2);
    nn_put_u16(out, (uint16_t)header_len);
    if (dict.data) nn_sb_append(out, dict.data, dict.len);
    for (size_t i = 0; i < pad; i++) nn_sb_append(out, " ", 1);
    nn_sb_append(out, "\n", 1);
    if (dict.failed) out->failed = 1;
    nn_sb_free(&dict);
    int64_t n = nn_tensor_size(t);
    if (dt == NN_U8) {
        nn_sb_append(out, nn_tensor_data(t), (size_t)n);
    } else {
        const unsigned char *v = nn_tensor_data(t); /* f32 or i32: 4 bytes an element, in host order */
        for (int64_t i = 0; i < n && !out->failed; i++) {
            uint32_t bits;
            memcpy(&bits, v + 4 * i, sizeof bits);
            nn_put_u32(out, bits);
        }
    }
    if (out->failed) return nn_set_error(NN_ERR_NOMEM, "out of memory writing a .npy image of %lld elements", (long long)n);
    return NN_OK;
}

void *nn_npy_bytes(const nn_tensor *t, size_t *len) {
    nn_strbuf out = {0};
    if (len) *len = 0;
    if (!len) {
        nn_set_error(NN_ERR_ARG, "nn_npy_bytes: len is NULL");
        return NULL;
    }
    if (npy_encode(t, &out) != NN_OK) {
        nn_sb_free(&out);
        return NULL;
    }
    *len = out.len;
    return out.data;
}

nn_status nn_save_npy(const char *path, const nn_tensor *t) {
    nn_strbuf out = {0};
    nn_status s = npy_encode(t, &out);
    if (s == NN_OK) s = nn_write_file_atomic(path, out.data, out.len);
    nn_sb_free(&out);
    return s;
}
