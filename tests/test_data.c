/* Data: IDX and CSV loaders (good files and every kind of bad one), the
 * shipped digits, generators, the standardiser, splits and row gathering.
 * Fixture files are written by the tests into the build directory. */
#include "nngraph.h"
#include "testutil.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <math.h>
#include <stdlib.h>
#include <unistd.h>
#include <stdio.h>
#include <string.h>
#include <zlib.h>

#ifndef NN_EXAMPLES_DATA
#error "tests/meson.build defines NN_EXAMPLES_DATA"
#endif

/* ---- fixture helpers ---------------------------------------------------- */

/* Each test (Criterion runs each in its own process) writes its fixtures
 * into a fresh temporary directory, removed afterwards, so that running the
 * suite from any directory leaves nothing behind. */
static char fixture_dir[256];

static void make_fixture_dir(void) {
    const char *tmp = getenv("TMPDIR");
    snprintf(fixture_dir, sizeof fixture_dir, "%s/nngraph-test-data-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    cr_assert_not_null(mkdtemp(fixture_dir), "cannot make a temporary directory");
}

static void remove_fixture_dir(void) {
    DIR *d = opendir(fixture_dir);
    if (!d) return;
    struct dirent *e;
    char path[512];
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
            snprintf(path, sizeof path, "%s/%s", fixture_dir, e->d_name);
            remove(path);
        }
    closedir(d);
    rmdir(fixture_dir);
}

TestSuite(data, .init = make_fixture_dir, .fini = remove_fixture_dir);

/* The path of fixture `name` in this test's directory (a few rotating
 * buffers, so that one call may use several). */
static const char *fx(const char *name) {
    static char bufs[8][512];
    static int next;
    char *b = bufs[next++ % 8];
    snprintf(b, sizeof bufs[0], "%s/%s", fixture_dir, name);
    return b;
}

static void write_gz(const char *path, const void *bytes, size_t n) {
    gzFile f = gzopen(path, "wb");
    cr_assert_not_null(f, "cannot write fixture %s", path);
    cr_assert_eq(gzwrite(f, bytes, (unsigned)n), (int)n);
    cr_assert_eq(gzclose(f), Z_OK);
}

static void write_text(const char *path, const char *text) { tu_write_file(path, text, strlen(text)); }

/* An IDX header: magic 0x0000 08 rank, then big-endian dims. Returns its length. */
static size_t idx_header(unsigned char *out, int dtype, int rank, const uint32_t *dims) {
    out[0] = out[1] = 0;
    out[2] = (unsigned char)dtype;
    out[3] = (unsigned char)rank;
    for (int i = 0; i < rank; i++) {
        out[4 + 4 * i] = (unsigned char)(dims[i] >> 24);
        out[5 + 4 * i] = (unsigned char)(dims[i] >> 16);
        out[6 + 4 * i] = (unsigned char)(dims[i] >> 8);
        out[7 + 4 * i] = (unsigned char)dims[i];
    }
    return 4 + 4 * (size_t)rank;
}

/* Writes 3 images of 2x3 bytes (pixel k of image i is 40*i + 7*k + 1,
 * 255 for the last) and returns the total length. */
static size_t three_images(unsigned char *buf) {
    size_t h = idx_header(buf, 0x08, 3, (uint32_t[]){3, 2, 3});
    for (int i = 0; i < 18; i++) buf[h + i] = (unsigned char)(40 * (i / 6) + 7 * (i % 6) + 1);
    buf[h + 17] = 255;
    return h + 18;
}

static size_t four_labels(unsigned char *buf) {
    size_t h = idx_header(buf, 0x08, 1, (uint32_t[]){4});
    const unsigned char lab[4] = {7, 0, 9, 3};
    memcpy(buf + h, lab, 4);
    return h + 4;
}

/* Expects NULL and a last error containing every one of the strings. */
#define expect_error(ptr, ...)                                                          \
    do {                                                                                \
        cr_assert_null(ptr, "expected a failure");                                      \
        const char *want_[] = {__VA_ARGS__};                                            \
        for (size_t k_ = 0; k_ < sizeof want_ / sizeof *want_; k_++)                    \
            cr_assert(strstr(nn_last_error(), want_[k_]), "error \"%s\" lacks \"%s\"", \
                      nn_last_error(), want_[k_]);                                      \
    } while (0)

/* ---- IDX ---------------------------------------------------------------- */

static void check_three_images(const char *path) {
    nn_tensor *t = nn_load_idx(path);
    cr_assert_not_null(t, "%s", nn_last_error());
    cr_assert_eq(nn_tensor_dtype(t), NN_F32);
    cr_assert(nn_shape_equal(nn_tensor_shape(t), NN_SHAPE(3, 6)));
    const float *v = nn_tensor_f32(t);
    for (int i = 0; i < 17; i++)
        cr_assert_eq(v[i], (float)(40 * (i / 6) + 7 * (i % 6) + 1) / 255.0f, "pixel %d", i);
    cr_assert_eq(v[17], 1.0f);
    nn_tensor_free(t);
}

Test(data, idx_round_trip_raw_and_gzip) {
    unsigned char buf[64];
    size_t n = three_images(buf);
    tu_write_file(fx("data_rt_images.idx"), buf, n);
    write_gz(fx("data_rt_images.idx.gz"), buf, n);
    check_three_images(fx("data_rt_images.idx"));
    check_three_images(fx("data_rt_images.idx.gz"));

    n = four_labels(buf);
    write_gz(fx("data_rt_labels.idx.gz"), buf, n);
    nn_tensor *l = nn_load_idx(fx("data_rt_labels.idx.gz"));
    cr_assert_not_null(l, "%s", nn_last_error());
    cr_assert_eq(nn_tensor_dtype(l), NN_I32);
    cr_assert(nn_shape_equal(nn_tensor_shape(l), NN_SHAPE(4)));
    const int32_t want[4] = {7, 0, 9, 3};
    for (int i = 0; i < 4; i++) cr_assert_eq(nn_tensor_i32(l)[i], want[i]);
    nn_tensor_free(l);
}

/* Gathering bytes gives each byte's float quotient v / 255.0f, for all
 * 256 of them (the conversion does not divide; see u8_to_f32), on rows
 * long enough for every vector width and with a tail. */
Test(data, u8_rows_convert_to_the_float_quotient) {
    enum { ROWS = 8, COLS = 37 };
    nn_tensor *bytes = nn_tensor_new(NN_U8, NN_SHAPE(ROWS, COLS));
    nn_tensor *rows = nn_tensor_new(NN_F32, NN_SHAPE(ROWS, COLS));
    cr_assert(bytes && rows);
    uint8_t *b = nn_tensor_data(bytes);
    for (int i = 0; i < ROWS * COLS; i++) b[i] = (uint8_t)(i * 7 + i / 256);
    int seen[256] = {0};
    for (int i = 0; i < ROWS * COLS; i++) seen[b[i]] = 1;
    for (int v = 0; v < 256; v++) cr_assert(seen[v], "byte %d not covered", v);
    int64_t idx[ROWS] = {7, 6, 5, 4, 3, 2, 1, 0};
    cr_assert_eq(nn_gather_rows(bytes, idx, ROWS, rows), NN_OK, "%s", nn_last_error());
    for (int r = 0; r < ROWS; r++)
        for (int j = 0; j < COLS; j++) {
            volatile float v = (float)b[idx[r] * COLS + j], want = v / 255.0f;
            cr_assert_eq(nn_tensor_f32(rows)[r * COLS + j], want, "byte %d", (int)v);
        }
    nn_tensor_free(bytes);
    nn_tensor_free(rows);
}

Test(data, shipped_digits) {
    nn_dataset *d = nn_load_idx_pair(NN_EXAMPLES_DATA "/digits20-train-images.idx3-ubyte.gz",
                                     NN_EXAMPLES_DATA "/digits20-train-labels.idx1-ubyte.gz");
    cr_assert_not_null(d, "%s", nn_last_error());
    cr_assert_eq(nn_dataset_size(d), 5000);
    cr_assert(nn_shape_equal(nn_tensor_shape(d->x), NN_SHAPE(5000, 400)));
    cr_assert(nn_shape_equal(nn_tensor_shape(d->y), NN_SHAPE(5000)));
    int count[10] = {0};
    for (int i = 0; i < 5000; i++) {
        int c = nn_tensor_i32(d->y)[i];
        cr_assert(c >= 0 && c <= 9, "label %d at %d", c, i);
        count[c]++;
    }
    for (int c = 0; c < 10; c++) cr_assert(count[c] > 300, "digit %d appears only %d times", c, count[c]);
    /* the first labels as the file holds them */
    const int32_t first[8] = {9, 2, 7, 7, 8, 2, 7, 4};
    for (int i = 0; i < 8; i++) cr_assert_eq(nn_tensor_i32(d->y)[i], first[i]);
    /* the images stay bytes; gathered rows are the floats nn_load_idx gives */
    cr_assert_eq(nn_tensor_dtype(d->x), NN_U8);
    nn_tensor *all = nn_load_idx(NN_EXAMPLES_DATA "/digits20-train-images.idx3-ubyte.gz");
    cr_assert_not_null(all);
    cr_assert_eq(nn_tensor_dtype(all), NN_F32);
    int64_t idx[3] = {4999, 0, 17};
    nn_tensor *rows = nn_tensor_new(NN_F32, NN_SHAPE(3, 400));
    cr_assert_eq(nn_gather_rows(d->x, idx, 3, rows), NN_OK);
    for (int r = 0; r < 3; r++)
        for (int j = 0; j < 400; j++) {
            float want = nn_tensor_f32(all)[idx[r] * 400 + j];
            cr_assert_eq(nn_tensor_f32(rows)[r * 400 + j], want, "row %d pixel %d", (int)idx[r], j);
            cr_assert_eq(want * 255.0f, (float)((const uint8_t *)nn_tensor_data(d->x))[idx[r] * 400 + j]);
        }
    nn_tensor_free(rows);
    float lo = 1, hi = 0;
    double ink = 0;
    const float *x = nn_tensor_f32(all);
    for (int64_t i = 0; i < 5000 * 400; i++) {
        lo = fminf(lo, x[i]);
        hi = fmaxf(hi, x[i]);
        ink += x[i];
    }
    nn_tensor_free(all);
    cr_assert_eq(lo, 0.0f);
    cr_assert_eq(hi, 1.0f);
    /* real digits: a fifth or so of each 20x20 crop is ink, not noise or blank */
    cr_assert(ink / (5000.0 * 400) > 0.05 && ink / (5000.0 * 400) < 0.4, "mean pixel %g", ink / 2e6);
    nn_dataset_free(d);
}

Test(data, idx_bad_magic_and_type) {
    unsigned char buf[64];
    size_t n = three_images(buf);
    buf[0] = 0x1f; /* not a zero byte */
    tu_write_file(fx("data_bad_magic.idx"), buf, n);
    expect_error(nn_load_idx(fx("data_bad_magic.idx")), fx("data_bad_magic.idx"), "bad magic 0x1F000803");
    memset(buf, 0, 4);
    tu_write_file(fx("data_zero_magic.idx"), buf, n);
    expect_error(nn_load_idx(fx("data_zero_magic.idx")), fx("data_zero_magic.idx"), "bad magic 0x00000000",
                 "0x00000803");
    n = three_images(buf);
    buf[2] = 0x0D; /* float data */
    write_gz(fx("data_float.idx.gz"), buf, n);
    expect_error(nn_load_idx(fx("data_float.idx.gz")), fx("data_float.idx.gz"), "data type 0x0D");
    write_text(fx("data_text.idx"), "hello, this is not IDX\n");
    expect_error(nn_load_idx(fx("data_text.idx")), fx("data_text.idx"), "bad magic");
    tu_write_file(fx("data_tiny.idx"), "\0\0", 2);
    expect_error(nn_load_idx(fx("data_tiny.idx")), fx("data_tiny.idx"), "truncated");
    expect_error(nn_load_idx("no/such/file.idx"), "no/such/file.idx", "cannot open", "No such file");
    expect_error(nn_load_idx(fixture_dir), fixture_dir, "Is a directory");
    expect_error(nn_load_csv(fixture_dir, -1, 0), fixture_dir, "Is a directory");
}

Test(data, idx_truncated) {
    unsigned char buf[64];
    size_t n = three_images(buf);
    tu_write_file(fx("data_short_header.idx"), buf, 10); /* 4 magic + 6 of 12 dimension bytes */
    expect_error(nn_load_idx(fx("data_short_header.idx")), fx("data_short_header.idx"), "truncated header");
    tu_write_file(fx("data_short.idx"), buf, n - 5);
    expect_error(nn_load_idx(fx("data_short.idx")), fx("data_short.idx"), "truncated", "3x2x3", "18 bytes",
                 "after 13");
    write_gz(fx("data_short.idx.gz"), buf, n - 1);
    expect_error(nn_load_idx(fx("data_short.idx.gz")), fx("data_short.idx.gz"), "truncated", "after 17");

    /* a gzip stream cut in the middle (not a valid gzip file any more) */
    write_gz(fx("data_full.idx.gz"), buf, n);
    FILE *f = fopen(fx("data_full.idx.gz"), "rb");
    unsigned char gz[256];
    size_t gzn = fread(gz, 1, sizeof gz, f);
    fclose(f);
    tu_write_file(fx("data_cut.idx.gz"), gz, gzn - 12);
    nn_tensor *t = nn_load_idx(fx("data_cut.idx.gz"));
    cr_assert_null(t);
    cr_assert(strstr(nn_last_error(), fx("data_cut.idx.gz")), "%s", nn_last_error());

    /* bytes after the declared data */
    unsigned char longer[64];
    memcpy(longer, buf, n);
    longer[n] = 0;
    tu_write_file(fx("data_long.idx"), longer, n + 1);
    expect_error(nn_load_idx(fx("data_long.idx")), fx("data_long.idx"), "continues past");
}

Test(data, idx_huge_dimensions) {
    unsigned char buf[64];
    /* 2^32-1 cubed overflows any size: refused before reading */
    size_t h = idx_header(buf, 0x08, 3, (uint32_t[]){0xFFFFFFFFu, 0xFFFFFFFFu, 0xFFFFFFFFu});
    tu_write_file(fx("data_huge.idx"), buf, h + 4);
    expect_error(nn_load_idx(fx("data_huge.idx")), fx("data_huge.idx"), "too large", "4294967295x4294967295x4294967295");
    /* 1.7e12 bytes declared, 4 present: a raw file is truncated (its size
     * is known), a gzip one past the memory limit, both without
     * allocating terabytes */
    h = idx_header(buf, 0x08, 3, (uint32_t[]){0xFFFFFFFFu, 20, 20});
    tu_write_file(fx("data_big.idx"), buf, h + 4);
    expect_error(nn_load_idx(fx("data_big.idx")), fx("data_big.idx"), "truncated", "4294967295x20x20");
    write_gz(fx("data_big.idx.gz"), buf, h + 4);
    expect_error(nn_load_idx(fx("data_big.idx.gz")), fx("data_big.idx.gz"), "over the memory limit",
                 "4294967295x20x20");
    /* more dimensions than a tensor holds */
    h = idx_header(buf, 0x08, 3, (uint32_t[]){1, 1, 1});
    buf[3] = 9;
    tu_write_file(fx("data_rank9.idx"), buf, 40);
    expect_error(nn_load_idx(fx("data_rank9.idx")), fx("data_rank9.idx"), "bad magic 0x00000809");
}

Test(data, idx_pair_errors) {
    unsigned char buf[64];
    tu_write_file(fx("data_pair_images.idx"), buf, three_images(buf));
    tu_write_file(fx("data_pair_labels.idx"), buf, four_labels(buf));
    expect_error(nn_load_idx_pair(fx("data_pair_images.idx"), fx("data_pair_labels.idx")), "count mismatch",
                 "data_pair_images.idx has 3 images", "data_pair_labels.idx has 4 labels");
    expect_error(nn_load_idx_pair(fx("data_pair_labels.idx"), fx("data_pair_images.idx")), fx("data_pair_labels.idx"),
                 "holds labels (rank 1), but images (rank >= 2) were expected");
    expect_error(nn_load_idx_pair(fx("data_pair_images.idx"), fx("data_pair_images.idx")),
                 "holds images (rank >= 2), but labels (rank 1) were expected");
    expect_error(nn_load_idx_pair(fx("data_pair_images.idx"), fx("data_missing_labels.idx")),
                 fx("data_missing_labels.idx"), "cannot open");

    size_t h = idx_header(buf, 0x08, 1, (uint32_t[]){3});
    memcpy(buf + h, "\1\2\3", 3);
    tu_write_file(fx("data_pair_labels3.idx"), buf, h + 3);
    nn_dataset *d = nn_load_idx_pair(fx("data_pair_images.idx"), fx("data_pair_labels3.idx"));
    cr_assert_not_null(d, "%s", nn_last_error());
    cr_assert_eq(nn_dataset_size(d), 3);
    cr_assert_eq(nn_tensor_i32(d->y)[2], 3);
    nn_dataset_free(d);
}

/* ---- CSV ---------------------------------------------------------------- */

Test(data, csv_header_and_labels) {
    write_text(fx("data_header.csv"), "sepal, petal ,\"class\"\r\n1.5,2,0\r\n\r\n-3,4e-1,2\r\n  5 , 6.25 ,1\r\n");
    nn_dataset *d = nn_load_csv(fx("data_header.csv"), -1, 1);
    cr_assert_not_null(d, "%s", nn_last_error());
    cr_assert(nn_shape_equal(nn_tensor_shape(d->x), NN_SHAPE(3, 2)));
    cr_assert(nn_shape_equal(nn_tensor_shape(d->y), NN_SHAPE(3)));
    const float x[6] = {1.5f, 2.f, -3.f, 0.4f, 5.f, 6.25f};
    const int32_t y[3] = {0, 2, 1};
    for (int i = 0; i < 6; i++) cr_assert_eq(nn_tensor_f32(d->x)[i], x[i], "x[%d]", i);
    for (int i = 0; i < 3; i++) cr_assert_eq(nn_tensor_i32(d->y)[i], y[i]);
    nn_dataset_free(d);

    /* no header, the first column as a float target */
    write_text(fx("data_plain.csv"), "0.5,1,2\n0.25,3,4\n");
    d = nn_load_csv(fx("data_plain.csv"), 0, 0);
    cr_assert_not_null(d, "%s", nn_last_error());
    cr_assert(nn_shape_equal(nn_tensor_shape(d->x), NN_SHAPE(2, 2)));
    cr_assert(nn_shape_equal(nn_tensor_shape(d->y), NN_SHAPE(2, 1)));
    cr_assert_eq(nn_tensor_f32(d->y)[1], 0.25f);
    cr_assert_eq(nn_tensor_f32(d->x)[3], 4.f);
    nn_dataset_free(d);

    /* a byte-order mark before a numeric first row: still data, not a header */
    write_text(fx("data_bom.csv"), "\xEF\xBB\xBF" "1,2\n3,4\n");
    d = nn_load_csv(fx("data_bom.csv"), -1, 1);
    cr_assert_not_null(d, "%s", nn_last_error());
    cr_assert_eq(nn_dataset_size(d), 2);
    cr_assert_eq(nn_tensor_f32(d->x)[0], 1.f);
    nn_dataset_free(d);

    /* no label at all: every column is a feature */
    d = nn_load_csv(fx("data_plain.csv"), NN_CSV_NO_LABEL, 0);
    cr_assert_not_null(d, "%s", nn_last_error());
    cr_assert(nn_shape_equal(nn_tensor_shape(d->x), NN_SHAPE(2, 3)));
    cr_assert_null(d->y);
    nn_dataset_free(d);
}

Test(data, csv_errors) {
    write_text(fx("data_ragged.csv"), "a,b,c\n1,2,3\n\n4,5\n");
    expect_error(nn_load_csv(fx("data_ragged.csv"), -1, 1), fx("data_ragged.csv"), "line 4 has 2 fields, expected 3");
    write_text(fx("data_ragged2.csv"), "1,2,3\n4,5,6,7\n");
    expect_error(nn_load_csv(fx("data_ragged2.csv"), -1, 1), "line 2 has 4 fields, expected 3");
    write_text(fx("data_nan.csv"), "x,y\n1,2\n3,abc\n");
    expect_error(nn_load_csv(fx("data_nan.csv"), -1, 0), fx("data_nan.csv"), "line 3, column 2", "'abc'",
                 "not a finite number");
    write_text(fx("data_empty_cell.csv"), "1,2\n,4\n");
    expect_error(nn_load_csv(fx("data_empty_cell.csv"), -1, 0), "line 2, column 1", "empty field");
    write_text(fx("data_inf.csv"), "1,2\n3,inf\n");
    expect_error(nn_load_csv(fx("data_inf.csv"), -1, 0), "line 2, column 2", "'inf'");
    write_text(fx("data_frac_label.csv"), "1,2\n3,1.5\n");
    expect_error(nn_load_csv(fx("data_frac_label.csv"), -1, 1), "line 2, column 2", "label 1.5");
    write_text(fx("data_neg_label.csv"), "1,-1\n");
    expect_error(nn_load_csv(fx("data_neg_label.csv"), 1, 1), "label -1");
    expect_error(nn_load_csv(fx("data_plain_cols.csv"), 0, 0), fx("data_plain_cols.csv"), "cannot open");
    write_text(fx("data_cols.csv"), "1,2,3\n");
    expect_error(nn_load_csv(fx("data_cols.csv"), 3, 0), "label column 3 is out of range", "3 columns");
    expect_error(nn_load_csv(fx("data_cols.csv"), -4, 0), "label column -4");
    write_text(fx("data_only_header.csv"), "a,b\n\n");
    expect_error(nn_load_csv(fx("data_only_header.csv"), -1, 0), "no data rows (only a header)");
    write_text(fx("data_empty.csv"), "");
    expect_error(nn_load_csv(fx("data_empty.csv"), -1, 0), fx("data_empty.csv"), "no data rows (empty file)");
    write_text(fx("data_one_col.csv"), "1\n2\n");
    expect_error(nn_load_csv(fx("data_one_col.csv"), 0, 1), "no feature columns");
}

/* ---- generators ------------------------------------------------------- */

static int same_tensor(const nn_tensor *a, const nn_tensor *b) {
    return nn_tensor_dtype(a) == nn_tensor_dtype(b) && nn_shape_equal(nn_tensor_shape(a), nn_tensor_shape(b)) &&
           memcmp(nn_tensor_data(a), nn_tensor_data(b), (size_t)nn_tensor_size(a) * 4) == 0;
}

Test(data, blobs) {
    const float centres[8] = {-5, 2, -2, -2, 1, 2, 5, -2};
    nn_dataset *d = nn_make_blobs(centres, 4, 2, 100, 1.0f, 42);
    cr_assert_not_null(d, "%s", nn_last_error());
    cr_assert(nn_shape_equal(nn_tensor_shape(d->x), NN_SHAPE(100, 2)));
    int count[4] = {0};
    double mean[4][2] = {{0}};
    for (int i = 0; i < 100; i++) {
        int c = nn_tensor_i32(d->y)[i];
        cr_assert(c >= 0 && c < 4);
        count[c]++;
        mean[c][0] += nn_tensor_f32(d->x)[2 * i];
        mean[c][1] += nn_tensor_f32(d->x)[2 * i + 1];
    }
    for (int c = 0; c < 4; c++) {
        cr_assert_eq(count[c], 25);
        /* the mean of 25 draws with std 1 lies within 0.8 (4 sigma) of the centre */
        cr_assert(fabs(mean[c][0] / 25 - centres[2 * c]) < 0.8, "class %d x mean %g", c, mean[c][0] / 25);
        cr_assert(fabs(mean[c][1] / 25 - centres[2 * c + 1]) < 0.8, "class %d y mean %g", c, mean[c][1] / 25);
    }
    /* shuffled: the labels are not in the generation order 0,1,2,3,0,... */
    int in_order = 1;
    for (int i = 0; i < 100; i++) in_order &= nn_tensor_i32(d->y)[i] == i % 4;
    cr_assert(!in_order);

    nn_dataset *again = nn_make_blobs(centres, 4, 2, 100, 1.0f, 42);
    nn_dataset *other = nn_make_blobs(centres, 4, 2, 100, 1.0f, 43);
    cr_assert(same_tensor(d->x, again->x) && same_tensor(d->y, again->y));
    cr_assert(!same_tensor(d->x, other->x));
    nn_dataset_free(d);
    nn_dataset_free(again);
    nn_dataset_free(other);

    /* std 0 puts every point on its centre */
    d = nn_make_blobs(centres, 4, 2, 8, 0.0f, 1);
    for (int i = 0; i < 8; i++) {
        int c = nn_tensor_i32(d->y)[i];
        cr_assert_eq(nn_tensor_f32(d->x)[2 * i], centres[2 * c]);
    }
    nn_dataset_free(d);
    expect_error(nn_make_blobs(centres, 0, 2, 10, 1.0f, 1), "make_blobs", "0 centres");
    expect_error(nn_make_blobs(centres, 4, 2, 10, -1.0f, 1), "std -1");
}

Test(data, square) {
    nn_dataset *d = nn_make_square(400, 7);
    cr_assert_not_null(d, "%s", nn_last_error());
    cr_assert(nn_shape_equal(nn_tensor_shape(d->x), NN_SHAPE(400, 2)));
    const float *x = nn_tensor_f32(d->x);
    const int32_t *y = nn_tensor_i32(d->y);
    int ones = 0;
    double sum[2] = {0}, sq[2] = {0};
    float max0[2] = {-1e9f, -1e9f};
    for (int i = 0; i < 400; i++) {
        ones += y[i];
        for (int k = 0; k < 2; k++) {
            sum[k] += x[2 * i + k];
            sq[k] += (double)x[2 * i + k] * x[2 * i + k];
            if (y[i] == 0) max0[k] = fmaxf(max0[k], x[2 * i + k]);
        }
    }
    cr_assert_eq(ones, 200);
    for (int k = 0; k < 2; k++) {
        cr_assert(fabs(sum[k] / 400) < 1e-5, "feature %d mean %g", k, sum[k] / 400);
        cr_assert(fabs(sq[k] / 400 - 1) < 1e-4, "feature %d variance %g", k, sq[k] / 400);
    }
    /* geometry survives the (monotone) standardisation: every class-1 point
     * (some coordinate >= 3) lies beyond all class-0 points (both <= 2.3) in
     * some coordinate, yet class 1 also reaches below class 0's top (the
     * band's long arms), so no axis-aligned cut separates them */
    int low_one = 0;
    for (int i = 0; i < 400; i++) {
        if (y[i] != 1) continue;
        cr_assert(x[2 * i] > max0[0] || x[2 * i + 1] > max0[1], "class-1 point %d inside class 0's square", i);
        low_one |= x[2 * i] < max0[0];
    }
    cr_assert(low_one);
    nn_dataset *again = nn_make_square(400, 7);
    cr_assert(same_tensor(d->x, again->x) && same_tensor(d->y, again->y));
    nn_dataset_free(again);
    nn_dataset_free(d);
    expect_error(nn_make_square(1, 7), "make_square", "got 1");
}

Test(data, parabola) {
    nn_dataset *d = nn_make_parabola(5);
    cr_assert_not_null(d, "%s", nn_last_error());
    cr_assert(nn_shape_equal(nn_tensor_shape(d->x), NN_SHAPE(5, 1)));
    cr_assert(nn_shape_equal(nn_tensor_shape(d->y), NN_SHAPE(5, 1)));
    const float x[5] = {0, 0.25f, 0.5f, 0.75f, 1}, y[5] = {0, 0.1875f, 0.25f, 0.1875f, 0};
    for (int i = 0; i < 5; i++) {
        cr_assert_eq(nn_tensor_f32(d->x)[i], x[i]);
        cr_assert_float_eq(nn_tensor_f32(d->y)[i], y[i], 1e-7);
    }
    nn_dataset_free(d);
    expect_error(nn_make_parabola(1), "make_parabola");
}

/* ---- standardiser, split, gather, dataset ---------------------------- */

Test(data, scaler) {
    nn_tensor *x = nn_tensor_new(NN_F32, NN_SHAPE(50, 3));
    float *v = nn_tensor_f32(x);
    nn_rng r;
    nn_rng_seed(&r, 3);
    for (int i = 0; i < 50; i++) {
        v[3 * i] = 1000.0f + 5.0f * (float)nn_rng_normal(&r); /* large mean, small spread */
        v[3 * i + 1] = -2.0f + 0.01f * (float)i;
        v[3 * i + 2] = 4.0f; /* constant: scale 1 */
    }
    nn_scaler s = {0};
    cr_assert_eq(nn_scaler_fit(&s, x), NN_OK);
    cr_assert_eq(s.features, 3);
    cr_assert_float_eq(s.mean[1], -2.0f + 0.01f * 24.5f, 1e-5);
    /* population deviation of 0..49 steps of 0.01: sqrt((50^2-1)/12) * 0.01 */
    cr_assert_float_eq(s.scale[1], sqrtf((2500.0f - 1) / 12) * 0.01f, 1e-5);
    cr_assert_eq(s.scale[2], 1.0f);
    cr_assert_eq(nn_scaler_transform(&s, x), NN_OK);
    for (int k = 0; k < 3; k++) {
        double sum = 0, sq = 0;
        for (int i = 0; i < 50; i++) sum += v[3 * i + k];
        for (int i = 0; i < 50; i++) sq += (v[3 * i + k] - sum / 50) * (v[3 * i + k] - sum / 50);
        cr_assert(fabs(sum / 50) < 1e-4, "column %d mean %g", k, sum / 50);
        if (k < 2) cr_assert(fabs(sqrt(sq / 50) - 1) < 1e-4, "column %d std %g", k, sqrt(sq / 50));
    }
    for (int i = 0; i < 50; i++) cr_assert_eq(v[3 * i + 2], 0.0f);
    /* refitting frees the old arrays; a wrong width is refused */
    cr_assert_eq(nn_scaler_fit(&s, x), NN_OK);
    nn_tensor *narrow = nn_tensor_new(NN_F32, NN_SHAPE(4, 2));
    cr_assert_eq(nn_scaler_transform(&s, narrow), NN_ERR_SHAPE);
    cr_assert(strstr(nn_last_error(), "fitted on 3 features, x has 2"), "%s", nn_last_error());
    nn_scaler_free(&s);
    cr_assert_eq(nn_scaler_transform(&s, narrow), NN_ERR_STATE);
    nn_tensor_free(narrow);
    nn_tensor_free(x);
}

/* A dataset whose x row i is (i, -i) and y[i] = i. */
static nn_dataset *indexed(int n) {
    nn_tensor *x = nn_tensor_new(NN_F32, NN_SHAPE(n, 2));
    nn_tensor *y = nn_tensor_new(NN_I32, NN_SHAPE(n));
    for (int i = 0; i < n; i++) {
        nn_tensor_f32(x)[2 * i] = (float)i;
        nn_tensor_f32(x)[2 * i + 1] = (float)-i;
        nn_tensor_i32(y)[i] = i;
    }
    return nn_dataset_new(x, y);
}

Test(data, split) {
    nn_dataset *d = indexed(5000), *a, *b;
    cr_assert_eq(nn_dataset_split(d, 0.2, 9, &a, &b), NN_OK);
    cr_assert_eq(nn_dataset_size(a), 4000);
    cr_assert_eq(nn_dataset_size(b), 1000);
    /* together the parts hold every sample once, rows intact */
    static char seen[5000];
    memset(seen, 0, sizeof seen);
    nn_dataset *parts[2] = {a, b};
    for (int p = 0; p < 2; p++)
        for (int64_t i = 0; i < nn_dataset_size(parts[p]); i++) {
            int id = nn_tensor_i32(parts[p]->y)[i];
            cr_assert(!seen[id]);
            seen[id] = 1;
            cr_assert_eq(nn_tensor_f32(parts[p]->x)[2 * i], (float)id);
            cr_assert_eq(nn_tensor_f32(parts[p]->x)[2 * i + 1], (float)-id);
        }
    /* shuffled, and the same for the same seed */
    int sorted = 1;
    for (int i = 1; i < 4000; i++) sorted &= nn_tensor_i32(a->y)[i] > nn_tensor_i32(a->y)[i - 1];
    cr_assert(!sorted);
    nn_dataset *a2, *b2;
    cr_assert_eq(nn_dataset_split(d, 0.2, 9, &a2, &b2), NN_OK);
    cr_assert(same_tensor(a->y, a2->y) && same_tensor(b->x, b2->x));
    nn_dataset_free(a), nn_dataset_free(b), nn_dataset_free(a2), nn_dataset_free(b2);

    cr_assert_eq(nn_dataset_split(d, 0.25, 1, &a, &b), NN_OK);
    cr_assert_eq(nn_dataset_size(a), 3750);
    nn_dataset_free(a), nn_dataset_free(b);
    nn_dataset_free(d);

    d = indexed(3);
    cr_assert_eq(nn_dataset_split(d, 0.1, 1, &a, &b), NN_OK); /* the small part rounds up to 1 */
    cr_assert_eq(nn_dataset_size(b), 1);
    nn_dataset_free(a), nn_dataset_free(b);
    cr_assert_eq(nn_dataset_split(d, 1.0, 1, &a, &b), NN_ERR_ARG);
    cr_assert_null(a);
    cr_assert(strstr(nn_last_error(), "fraction 1"), "%s", nn_last_error());
    cr_assert_eq(nn_dataset_split(d, 0.99, 1, &a, &b), NN_ERR_ARG);
    cr_assert(strstr(nn_last_error(), "leaves a part empty"), "%s", nn_last_error());
    nn_dataset_free(d);
}

Test(data, gather_rows_and_dataset) {
    nn_dataset *d = indexed(10);
    nn_tensor *xb = nn_tensor_new(NN_F32, NN_SHAPE(4, 2));
    nn_tensor *yb = nn_tensor_new(NN_I32, NN_SHAPE(4));
    const int64_t idx[3] = {7, 0, 9};
    cr_assert_eq(nn_gather_rows(d->x, idx, 3, xb), NN_OK);
    cr_assert_eq(nn_gather_rows(d->y, idx, 3, yb), NN_OK);
    const float wx[8] = {7, -7, 0, 0, 9, -9, 0, 0};
    const int32_t wy[4] = {7, 0, 9, 0};
    for (int i = 0; i < 8; i++) cr_assert_eq(nn_tensor_f32(xb)[i], wx[i]);
    for (int i = 0; i < 4; i++) cr_assert_eq(nn_tensor_i32(yb)[i], wy[i]);

    /* a bad index changes nothing */
    const int64_t bad[2] = {1, 10};
    cr_assert_eq(nn_gather_rows(d->x, bad, 2, xb), NN_ERR_ARG);
    cr_assert(strstr(nn_last_error(), "index 10 (at position 1) is outside 0..9"), "%s", nn_last_error());
    cr_assert_eq(nn_tensor_f32(xb)[0], 7.0f);
    cr_assert_eq(nn_gather_rows(d->x, idx, 5, xb), NN_ERR_SHAPE);
    cr_assert_eq(nn_gather_rows(d->x, idx, 3, yb), NN_ERR_ARG); /* f32 into i32 */
    nn_tensor *wide = nn_tensor_new(NN_F32, NN_SHAPE(4, 3));
    cr_assert_eq(nn_gather_rows(d->x, idx, 3, wide), NN_ERR_SHAPE);
    nn_tensor_free(wide);
    nn_tensor_free(xb);
    nn_tensor_free(yb);
    nn_dataset_free(d);

    /* mismatched first dimensions are refused (and the tensors freed) */
    expect_error(nn_dataset_new(nn_tensor_new(NN_F32, NN_SHAPE(5, 2)), nn_tensor_new(NN_I32, NN_SHAPE(4))),
                 "x has 5 samples but y has 4");
    d = nn_dataset_new(nn_tensor_new(NN_F32, NN_SHAPE(5, 2)), NULL);
    cr_assert_eq(nn_dataset_size(d), 5);
    nn_dataset_free(d);
    nn_dataset_free(NULL);
}
