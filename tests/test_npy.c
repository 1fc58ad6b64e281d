/* The .npy reader: files built byte by byte as numpy.save writes them
 * (version 1 and 2 headers, each supported dtype), and each malformed or
 * unsupported file refused with a message naming the fault. */
#include "nngraph.h"
#include "testutil.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A .npy image: preamble, header padded with spaces and a newline to a
 * multiple of 64 bytes (as numpy does), then `data`. */
static size_t npy_bytes(unsigned char *out, int version, const char *dict, const void *data, size_t data_len) {
    size_t pre = version == 1 ? 10 : 12, dl = strlen(dict);
    size_t total = pre + dl + 1;
    size_t pad = (64 - total % 64) % 64;
    size_t hlen = dl + pad + 1;
    memcpy(out, "\x93NUMPY", 6);
    out[6] = (unsigned char)version;
    out[7] = 0;
    for (size_t i = 0; i < (version == 1 ? 2u : 4u); i++) out[8 + i] = (unsigned char)(hlen >> (8 * i));
    memcpy(out + pre, dict, dl);
    memset(out + pre + dl, ' ', pad);
    out[pre + dl + pad] = '\n';
    memcpy(out + pre + hlen, data, data_len);
    return pre + hlen + data_len;
}

static unsigned char buf[4096];

/* Files numpy 1.24 wrote (numpy.save; numpy.lib.format.write_array for
 * version 2), byte for byte. */
/* float32 (2, 3) */
static const unsigned char np_f32[152] = {
    147, 78, 85, 77, 80, 89, 1, 0, 118, 0, 123, 39, 100, 101, 115, 99, 114, 39, 58, 32, 39, 60, 102, 52, 39, 44, 32,
    39, 102, 111, 114, 116, 114, 97, 110, 95, 111, 114, 100, 101, 114, 39, 58, 32, 70, 97, 108, 115, 101, 44, 32,
    39, 115, 104, 97, 112, 101, 39, 58, 32, 40, 50, 44, 32, 51, 41, 44, 32, 125, 32, 32, 32, 32, 32, 32, 32, 32, 32,
    32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32,
    32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 10, 0, 0, 0, 63, 0, 0, 160,
    191, 0, 0, 64, 64, 0, 0, 128, 64, 10, 215, 163, 59, 0, 0, 192, 192
};
/* int64 (4,), format version 2 */
static const unsigned char np_i64_v2[160] = {
    147, 78, 85, 77, 80, 89, 2, 0, 116, 0, 0, 0, 123, 39, 100, 101, 115, 99, 114, 39, 58, 32, 39, 60, 105, 56, 39,
    44, 32, 39, 102, 111, 114, 116, 114, 97, 110, 95, 111, 114, 100, 101, 114, 39, 58, 32, 70, 97, 108, 115, 101,
    44, 32, 39, 115, 104, 97, 112, 101, 39, 58, 32, 40, 52, 44, 41, 44, 32, 125, 32, 32, 32, 32, 32, 32, 32, 32, 32,
    32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32,
    32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 10, 7, 0, 0, 0, 0, 0, 0, 0,
    254, 255, 255, 255, 255, 255, 255, 255, 0, 0, 0, 0, 0, 0, 0, 0, 44, 1, 0, 0, 0, 0, 0, 0
};
/* uint8 (2, 3) */
static const unsigned char np_u8[134] = {
    147, 78, 85, 77, 80, 89, 1, 0, 118, 0, 123, 39, 100, 101, 115, 99, 114, 39, 58, 32, 39, 124, 117, 49, 39, 44,
    32, 39, 102, 111, 114, 116, 114, 97, 110, 95, 111, 114, 100, 101, 114, 39, 58, 32, 70, 97, 108, 115, 101, 44,
    32, 39, 115, 104, 97, 112, 101, 39, 58, 32, 40, 50, 44, 32, 51, 41, 44, 32, 125, 32, 32, 32, 32, 32, 32, 32, 32,
    32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32,
    32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 10, 0, 40, 80, 120, 160,
    200
};
/* float64 (2, 2) */
static const unsigned char np_f64_fortran[160] = {
    147, 78, 85, 77, 80, 89, 1, 0, 118, 0, 123, 39, 100, 101, 115, 99, 114, 39, 58, 32, 39, 60, 102, 56, 39, 44, 32,
    39, 102, 111, 114, 116, 114, 97, 110, 95, 111, 114, 100, 101, 114, 39, 58, 32, 84, 114, 117, 101, 44, 32, 39,
    115, 104, 97, 112, 101, 39, 58, 32, 40, 50, 44, 32, 50, 41, 44, 32, 125, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32,
    32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32,
    32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 10, 0, 0, 0, 0, 0, 0, 240,
    63, 0, 0, 0, 0, 0, 0, 240, 63, 0, 0, 0, 0, 0, 0, 240, 63, 0, 0, 0, 0, 0, 0, 240, 63
};

Test(npy, files_numpy_wrote) {
    nn_tensor *t = nn_npy_parse(np_f32, sizeof np_f32, "np_f32.npy", 0);
    cr_assert_not_null(t, "%s", nn_last_error());
    const float want[6] = {0.5f, -1.25f, 3.f, 4.f, 5e-3f, -6.f};
    cr_assert_eq(nn_tensor_shape(t).dim[1], 3);
    cr_assert_eq(memcmp(nn_tensor_f32(t), want, sizeof want), 0);
    /* our builder writes the same bytes numpy does */
    size_t n = npy_bytes(buf, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", want, sizeof want);
    cr_assert_eq(n, sizeof np_f32);
    cr_assert_eq(memcmp(buf, np_f32, n), 0);
    nn_tensor_free(t);
    t = nn_npy_parse(np_i64_v2, sizeof np_i64_v2, "np_i64.npy", 0);
    cr_assert_not_null(t, "%s", nn_last_error());
    cr_assert_eq(nn_tensor_dtype(t), NN_I32);
    cr_assert_eq(nn_tensor_i32(t)[1], -2);
    cr_assert_eq(nn_tensor_i32(t)[3], 300);
    nn_tensor_free(t);
    t = nn_npy_parse(np_u8, sizeof np_u8, "np_u8.npy", 1);
    cr_assert_not_null(t, "%s", nn_last_error());
    cr_assert_eq(nn_tensor_f32(t)[5], 200.f);
    nn_tensor_free(t);
    cr_assert_null(nn_npy_parse(np_f64_fortran, sizeof np_f64_fortran, "np_f.npy", 0));
    cr_assert(strstr(nn_last_error(), "Fortran order"), "%s", nn_last_error());
}

Test(npy, float32_matrix_version_1) {
    float v[6] = {1.5f, -2.f, 0.f, 3.25f, 1e-3f, 7.f};
    size_t n = npy_bytes(buf, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", v, sizeof v);
    nn_tensor *t = nn_npy_parse(buf, n, "m.npy", 0);
    cr_assert_not_null(t, "%s", nn_last_error());
    cr_assert_eq(nn_tensor_dtype(t), NN_F32);
    cr_assert_eq(nn_tensor_shape(t).rank, 2);
    cr_assert_eq(nn_tensor_shape(t).dim[0], 2);
    cr_assert_eq(nn_tensor_shape(t).dim[1], 3);
    cr_assert_eq(memcmp(nn_tensor_f32(t), v, sizeof v), 0);
    nn_tensor_free(t);
}

Test(npy, each_dtype_and_version_2) {
    double d[3] = {0.1, -1e30, 2.0};
    size_t n = npy_bytes(buf, 2, "{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }", d, sizeof d);
    nn_tensor *t = nn_npy_parse(buf, n, "d.npy", 0);
    cr_assert_not_null(t, "%s", nn_last_error());
    cr_assert_eq(nn_tensor_dtype(t), NN_F32);
    cr_assert_eq(nn_tensor_f32(t)[0], 0.1f);
    cr_assert_eq(nn_tensor_f32(t)[1], -1e30f);
    nn_tensor_free(t);

    int64_t l[4] = {0, 9, -3, 2147483647};
    n = npy_bytes(buf, 1, "{'descr': '<i8', 'fortran_order': False, 'shape': (4,), }", l, sizeof l);
    t = nn_npy_parse(buf, n, "l.npy", 0);
    cr_assert_not_null(t, "%s", nn_last_error());
    cr_assert_eq(nn_tensor_dtype(t), NN_I32);
    cr_assert_eq(nn_tensor_i32(t)[2], -3);
    cr_assert_eq(nn_tensor_i32(t)[3], 2147483647);
    nn_tensor_free(t);

    int32_t i4[2] = {-7, 5};
    n = npy_bytes(buf, 1, "{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }", i4, sizeof i4);
    t = nn_npy_parse(buf, n, "i.npy", 1); /* as f32 */
    cr_assert_not_null(t, "%s", nn_last_error());
    cr_assert_eq(nn_tensor_dtype(t), NN_F32);
    cr_assert_eq(nn_tensor_f32(t)[0], -7.f);
    nn_tensor_free(t);

    unsigned char u[4] = {0, 255, 17, 128};
    n = npy_bytes(buf, 1, "{'descr': '|u1', 'fortran_order': False, 'shape': (2, 2), }", u, sizeof u);
    t = nn_npy_parse(buf, n, "u.npy", 0);
    cr_assert_not_null(t, "%s", nn_last_error());
    cr_assert_eq(nn_tensor_i32(t)[1], 255);
    cr_assert_eq(nn_tensor_i32(t)[3], 128);
    nn_tensor_free(t);
}

/* The message names the file and the fault. */
static void refused(size_t n, const char *want) {
    nn_tensor *t = nn_npy_parse(buf, n, "bad.npy", 0);
    cr_assert_null(t, "accepted; wanted an error about '%s'", want);
    cr_assert(strstr(nn_last_error(), "bad.npy") && strstr(nn_last_error(), want), "got: %s (wanted '%s')",
              nn_last_error(), want);
}

Test(npy, bad_files_are_refused_by_name) {
    float v[4] = {0};
    const char *ok = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }";
    size_t n = npy_bytes(buf, 1, ok, v, sizeof v);
    buf[0] = 'X';
    refused(n, "magic");
    n = npy_bytes(buf, 1, ok, v, sizeof v);
    refused(n - 1, "truncated");
    /* a header length past the end of the file */
    n = npy_bytes(buf, 1, ok, v, sizeof v);
    buf[8] = 0xff, buf[9] = 0xff;
    refused(n, "runs past the end");
    n = npy_bytes(buf, 4, ok, v, sizeof v);
    buf[6] = 4;
    refused(n, "version 4");
    n = npy_bytes(buf, 1, "{'descr': '>f4', 'fortran_order': False, 'shape': (2, 2), }", v, sizeof v);
    refused(n, "'>f4' is not supported");
    n = npy_bytes(buf, 1, "{'descr': '<c8', 'fortran_order': False, 'shape': (2,), }", v, sizeof v);
    refused(n, "'<c8'");
    n = npy_bytes(buf, 1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", v, sizeof v);
    refused(n, "Fortran");
    n = npy_bytes(buf, 1, "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }", v, sizeof v);
    refused(n, "structured");
    n = npy_bytes(buf, 1, "{'descr': '<f4', 'shape': (4,), }", v, sizeof v);
    refused(n, "fortran_order");
    n = npy_bytes(buf, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1, 1, 1, 4), }", v, sizeof v);
    refused(n, "more than 4 dimensions");
    /* trailing bytes: the shape says 3 floats, 4 are there */
    n = npy_bytes(buf, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", v, sizeof v);
    refused(n, "trailing");
    /* a header claiming 2^62 x 2^62 elements: refused before any allocation */
    n = npy_bytes(buf, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (4611686018427387904, 4611686018427387904), }",
                  v, sizeof v);
    refused(n, "truncated");
    int64_t big[1] = {1LL << 40};
    n = npy_bytes(buf, 1, "{'descr': '<i8', 'fortran_order': False, 'shape': (1,), }", big, sizeof big);
    refused(n, "int32");
    double huge[1] = {1e300};
    n = npy_bytes(buf, 1, "{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }", huge, sizeof huge);
    refused(n, "overflows float32");
    n = npy_bytes(buf, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (4,), 'extra': 1}", v, sizeof v);
    refused(n, "unknown key 'extra'");
}

Test(npy, a_pair_from_files_trains_like_any_dataset) {
    char dir[256];
    tu_mkdtemp(dir, sizeof dir, "/tmp/nn_npy_XXXXXX");
    char xp[300], yp[300];
    snprintf(xp, sizeof xp, "%s/x.npy", dir);
    snprintf(yp, sizeof yp, "%s/y.npy", dir);
    float x[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    size_t n = npy_bytes(buf, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (4, 2), }", x, sizeof x);
    tu_write_file(xp, buf, n);
    unsigned char y[4] = {0, 1, 1, 0};
    n = npy_bytes(buf, 1, "{'descr': '|u1', 'fortran_order': False, 'shape': (4,), }", y, sizeof y);
    tu_write_file(yp, buf, n);
    nn_dataset *d = nn_load_npy_pair(xp, yp);
    cr_assert_not_null(d, "%s", nn_last_error());
    cr_assert_eq(nn_dataset_size(d), 4);
    cr_assert_eq(nn_tensor_dtype(d->y), NN_I32);
    cr_assert_eq(nn_tensor_i32(d->y)[2], 1);
    nn_dataset_free(d);
    /* float targets of rank 1 become a column */
    float t[4] = {0.5f, 1, 2, 3};
    n = npy_bytes(buf, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }", t, sizeof t);
    tu_write_file(yp, buf, n);
    d = nn_load_npy_pair(xp, yp);
    cr_assert_not_null(d, "%s", nn_last_error());
    cr_assert_eq(nn_tensor_shape(d->y).rank, 2);
    cr_assert_eq(nn_tensor_shape(d->y).dim[1], 1);
    nn_dataset_free(d);
    /* counts that disagree */
    n = npy_bytes(buf, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", t, 12);
    tu_write_file(yp, buf, n);
    cr_assert_null(nn_load_npy_pair(xp, yp));
    cr_assert_null(nn_load_npy("/nonexistent/x.npy", 0));
    cr_assert(strstr(nn_last_error(), "/nonexistent/x.npy"), "%s", nn_last_error());
    tu_rmtree(dir);
}

/* ---- the writer ---- */

/* nn_npy_bytes(t) checked against the format's rules (NumPy's
 * format.py): magic, version 1.0, a little-endian uint16 header length,
 * the data starting at a multiple of 64, the header the dict `dict` then
 * spaces then one newline, then the elements little-endian. Returns the
 * image (free it); *len its size. */
static unsigned char *written(const nn_tensor *t, const char *dict, size_t item, size_t *len) {
    unsigned char *b = nn_npy_bytes(t, len);
    cr_assert_not_null(b, "%s", nn_last_error());
    cr_assert(*len >= 10);
    cr_assert_eq(memcmp(b, "\x93NUMPY\x01\x00", 8), 0, "magic and version 1.0");
    size_t hlen = (size_t)b[8] | (size_t)b[9] << 8;
    cr_assert_eq((10 + hlen) % 64, 0, "data at %zu, not a multiple of 64", 10 + hlen);
    size_t dl = strlen(dict);
    cr_assert(hlen > dl);
    cr_assert_eq(memcmp(b + 10, dict, dl), 0, "header %.*s, wanted %s", (int)dl, (const char *)b + 10, dict);
    for (size_t i = 10 + dl; i < 10 + hlen - 1; i++) cr_assert_eq(b[i], ' ', "byte %zu of the padding is %d", i, b[i]);
    cr_assert_eq(b[10 + hlen - 1], '\n');
    cr_assert_eq(*len - 10 - hlen, (size_t)nn_tensor_size(t) * item, "data bytes");
    /* little-endian whatever the host: element i from its bytes */
    const unsigned char *data = b + 10 + hlen, *mine = nn_tensor_data(t);
    for (int64_t i = 0; i < nn_tensor_size(t); i++) {
        uint32_t v = 0, want;
        for (size_t k = 0; k < item; k++) v |= (uint32_t)data[i * item + k] << (8 * k);
        if (item == 4) memcpy(&want, mine + 4 * i, 4);
        else want = mine[i];
        cr_assert_eq(v, want, "element %lld", (long long)i);
    }
    return b;
}

Test(npy, writer_gives_numpys_bytes) {
    /* numpy.save's file of a float32 (2, 3), byte for byte */
    nn_tensor *t = nn_npy_parse(np_f32, sizeof np_f32, "np_f32.npy", 0);
    cr_assert_not_null(t, "%s", nn_last_error());
    size_t len;
    unsigned char *b = written(t, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", 4, &len);
    cr_assert_eq(len, sizeof np_f32);
    cr_assert_eq(memcmp(b, np_f32, len), 0);
    free(b);
    nn_tensor_free(t);
    /* and of a uint8 (2, 3) */
    const unsigned char u[6] = {0, 40, 80, 120, 160, 200};
    t = nn_tensor_from(NN_U8, NN_SHAPE(2, 3), u);
    b = written(t, "{'descr': '|u1', 'fortran_order': False, 'shape': (2, 3), }", 1, &len);
    cr_assert_eq(len, sizeof np_u8);
    cr_assert_eq(memcmp(b, np_u8, len), 0);
    free(b);
    nn_tensor_free(t);
    /* numpy leaves 21 - digits(dim 0) spare spaces for the first dimension
     * to grow, then pads to the next 64 (a whole block when already
     * aligned): numpy 1.24 gives this shape a 192-byte preamble, where
     * padding the dict alone would give 128 */
    nn_shape wide = {.rank = 4, .dim = {0, 1000000000000, 1000000000000, 1000000000000}};
    t = nn_tensor_new(NN_F32, wide);
    cr_assert_not_null(t);
    b = written(t, "{'descr': '<f4', 'fortran_order': False, 'shape': (0, 1000000000000, 1000000000000, 1000000000000), }", 4,
                &len);
    cr_assert_eq(len, 192);
    free(b);
    nn_tensor_free(t);
}

Test(npy, writer_round_trips_through_the_loader) {
    /* every shape form the header can take: a scalar, a 1-tuple (with its
     * comma), a matrix, 4 dimensions, an empty array */
    static const struct {
        nn_shape shape;
        const char *text;
    } shapes[] = {
        {{.rank = 0}, "()"},
        {{.rank = 1, .dim = {7}}, "(7,)"},
        {{.rank = 2, .dim = {3, 5}}, "(3, 5)"},
        {{.rank = 4, .dim = {2, 1, 3, 2}}, "(2, 1, 3, 2)"},
        {{.rank = 2, .dim = {0, 3}}, "(0, 3)"},
    };
    /* values whose bits must survive: signed zero, a subnormal, the
     * extremes, an infinity */
    const float special[6] = {-0.f, 1.4e-45f, 3.4028235e38f, -1.1754944e-38f, INFINITY, 0.1f};
    const int32_t ints[5] = {0, INT32_MIN, INT32_MAX, -1, 65536};
    char dir[256];
    tu_mkdtemp(dir, sizeof dir, "/tmp/nn_npyw_XXXXXX");
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        for (int as_int = 0; as_int < 2; as_int++) {
            nn_tensor *t = nn_tensor_new(as_int ? NN_I32 : NN_F32, shapes[s].shape);
            cr_assert_not_null(t);
            for (int64_t i = 0; i < nn_tensor_size(t); i++) {
                if (as_int) nn_tensor_i32(t)[i] = i < 5 ? ints[i] : (int32_t)(i * 7919 - 100000);
                else nn_tensor_f32(t)[i] = i < 6 ? special[i] : (float)i / 3.f - 2.f;
            }
            char dict[160];
            snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': %s, }", as_int ? "<i4" : "<f4",
                     shapes[s].text);
            size_t len;
            unsigned char *b = written(t, dict, 4, &len);
            /* the file, written and read back */
            const char *path = tu_path(dir, "t.npy");
            cr_assert_eq(nn_save_npy(path, t), NN_OK, "%s", nn_last_error());
            char *file;
            size_t flen;
            FILE *f = fopen(path, "rb");
            cr_assert_not_null(f);
            file = malloc(len + 1);
            flen = fread(file, 1, len + 1, f);
            fclose(f);
            cr_assert_eq(flen, len);
            cr_assert_eq(memcmp(file, b, len), 0, "the file holds what nn_npy_bytes gives");
            free(file);
            nn_tensor *back = nn_load_npy(path, 0);
            cr_assert_not_null(back, "%s: %s", dict, nn_last_error());
            cr_assert_eq(nn_tensor_dtype(back), nn_tensor_dtype(t));
            cr_assert_eq(nn_tensor_shape(back).rank, shapes[s].shape.rank);
            for (int d = 0; d < shapes[s].shape.rank; d++)
                cr_assert_eq(nn_tensor_shape(back).dim[d], shapes[s].shape.dim[d]);
            cr_assert_eq(memcmp(nn_tensor_data(back), nn_tensor_data(t), (size_t)nn_tensor_size(t) * 4), 0, "%s", dict);
            nn_tensor_free(back);
            free(b);
            nn_tensor_free(t);
        }
    }
    /* a failed write leaves nothing and names the path */
    float one = 1;
    nn_tensor *t = nn_tensor_from(NN_F32, NN_SHAPE(1), &one);
    cr_assert_neq(nn_save_npy("/nonexistent-dir/w.npy", t), NN_OK);
    cr_assert(strstr(nn_last_error(), "/nonexistent-dir/w.npy"), "%s", nn_last_error());
    nn_tensor_free(t);
    size_t len = 5;
    cr_assert_null(nn_npy_bytes(NULL, &len));
    cr_assert_eq(len, 0);
    cr_assert_eq(nn_save_npy(tu_path(dir, "null.npy"), NULL), NN_ERR_ARG);
    tu_rmtree(dir);
}
