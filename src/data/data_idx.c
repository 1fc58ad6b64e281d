/* The IDX reader (the format MNIST ships in), gzip-compressed or raw.
 *
 * An IDX file is a 4-byte magic (two zero bytes, a data-type byte, the
 * number of dimensions), the dimensions as big-endian uint32, then the data
 * in row-major order. Only unsigned bytes (type 0x08) are read: images
 * (rank >= 2) become f32 [n, rest] scaled to 0..1, labels (rank 1) i32 [n].
 *
 * zlib's gzopen/gzread read raw files transparently, so one path handles
 * both. The header is never trusted for an allocation: the data are read
 * into a buffer that grows as bytes actually arrive, so a corrupt header
 * claiming terabytes fails as "truncated", not as an attempt to allocate
 * them. */
#include "nngraph/data.h"
#include "internal.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#define IDX_UBYTE 0x08
#define IDX_MAX_DIMS 4 /* nn_tensor ranks; images with channels at most */

/* Reads up to `len` bytes; returns the count read (short at end of file),
 * or -1 with an error set for a read or decompression failure. */
static int64_t read_some(gzFile f, const char *path, void *buf, size_t len) {
    size_t got = 0;
    while (got < len) {
        size_t chunk = len - got;
        if (chunk > (1u << 30)) chunk = 1u << 30; /* gzread takes an unsigned int */
        int r = gzread(f, (char *)buf + got, (unsigned)chunk);
        if (r < 0) {
            int zerr;
            const char *msg = gzerror(f, &zerr);
            if (zerr == Z_BUF_ERROR) break; /* a gzip stream cut short: the caller says truncated */
            if (zerr == Z_ERRNO) msg = strerror(errno);
            nn_set_error(NN_ERR_FORMAT, "%s: cannot read: %s", path, msg);
            return -1;
        }
        if (r == 0) { /* end of file, unless zlib recorded an error */
            int zerr;
            gzerror(f, &zerr);
            if (zerr != Z_OK && zerr != Z_BUF_ERROR) {
                nn_set_error(NN_ERR_FORMAT, "%s: cannot read: %s", path, gzerror(f, &zerr));
                return -1;
            }
            break;
        }
        got += (size_t)r;
    }
    return (int64_t)got;
}

/* Reads exactly `len` payload bytes into a buffer grown as data arrive.
 * Returns the buffer, or NULL with an error naming what was short. */
static unsigned char *read_payload(gzFile f, const char *path, uint64_t len, const char *what) {
    size_t cap = len < (1u << 20) ? (size_t)len : (1u << 20);
    if (cap == 0) cap = 1;
    unsigned char *buf = malloc(cap);
    if (!buf) {
        nn_set_error(NN_ERR_NOMEM, "%s: out of memory", path);
        return NULL;
    }
    uint64_t have = 0;
    while (have < len) {
        if (have == cap) {
            size_t next = cap * 2 < len ? cap * 2 : (size_t)len;
            unsigned char *grown = realloc(buf, next);
            if (!grown) {
                free(buf);
                nn_set_error(NN_ERR_NOMEM, "%s: out of memory for %" PRIu64 " bytes of %s", path, len, what);
                return NULL;
            }
            buf = grown;
            cap = next;
        }
        int64_t r = read_some(f, path, buf + have, cap - have);
        if (r < 0) {
            free(buf);
            return NULL;
        }
        if (r == 0) {
            free(buf);
            nn_set_error(NN_ERR_FORMAT, "%s: truncated: the header declares %s (%" PRIu64
                         " bytes) but the file ends after %" PRIu64 " of them", path, what, len, have);
            return NULL;
        }
        have += (uint64_t)r;
    }
    return buf;
}

static uint32_t be32(const unsigned char *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/* Parses and checks the header; fills dims and rank. */
static nn_status read_header(gzFile f, const char *path, uint32_t *dims, int *rank) {
    unsigned char magic[4];
    int64_t r = read_some(f, path, magic, 4);
    if (r < 0) return NN_ERR_FORMAT;
    if (r < 4)
        return nn_set_error(NN_ERR_FORMAT, "%s: truncated: %" PRId64 " bytes, too short for an IDX magic number",
                            path, r);
    uint32_t m = be32(magic);
    if (magic[0] != 0 || magic[1] != 0 || magic[3] == 0 || magic[3] > IDX_MAX_DIMS)
        return nn_set_error(NN_ERR_FORMAT,
                            "%s: bad magic 0x%08" PRIX32 " (want 0x00000803 for images or 0x00000801 for labels)",
                            path, m);
    if (magic[2] != IDX_UBYTE)
        return nn_set_error(NN_ERR_FORMAT,
                            "%s: magic 0x%08" PRIX32 " has data type 0x%02X; only unsigned bytes (0x08) are supported",
                            path, m, magic[2]);
    *rank = magic[3];
    unsigned char raw[4 * IDX_MAX_DIMS];
    r = read_some(f, path, raw, 4 * (size_t)*rank);
    if (r < 0) return NN_ERR_FORMAT;
    if (r < 4 * *rank)
        return nn_set_error(NN_ERR_FORMAT, "%s: truncated header: %d dimensions declared, file ends after %" PRId64
                            " of their %d bytes", path, *rank, r, 4 * *rank);
    for (int i = 0; i < *rank; i++) dims[i] = be32(raw + 4 * i);
    return NN_OK;
}

/* The file's tensor: labels (rank 1) as i32, images as f32 (v / 255) or,
 * with as_u8, as the bytes themselves (NN_U8), a quarter of the memory. */
static nn_tensor *load_idx(const char *path, int as_u8) {
    if (!path) {
        nn_set_error(NN_ERR_ARG, "load_idx: path is NULL");
        return NULL;
    }
    errno = 0;
    gzFile f = gzopen(path, "rb");
    if (!f) {
        nn_set_error(NN_ERR_IO, "%s: cannot open: %s", path, errno ? strerror(errno) : "out of memory");
        return NULL;
    }
    gzbuffer(f, 1u << 17); /* fewer, larger reads than zlib's 8 KiB default */
    nn_tensor *t = NULL;
    unsigned char *bytes = NULL;
    uint32_t dims[IDX_MAX_DIMS];
    int rank = 0;
    if (read_header(f, path, dims, &rank) != NN_OK) goto done;

    /* total bytes, refusing products that overflow (a corrupt header) */
    uint64_t total = 1;
    char dimstr[64] = "";
    for (int i = 0; i < rank; i++) {
        size_t used = strlen(dimstr);
        snprintf(dimstr + used, sizeof dimstr - used, "%s%" PRIu32, i ? "x" : "", dims[i]);
        if (dims[i] != 0 && total > (uint64_t)INT64_MAX / 8 / dims[i]) {
            for (int j = i + 1; j < rank; j++) {
                used = strlen(dimstr);
                snprintf(dimstr + used, sizeof dimstr - used, "x%" PRIu32, dims[j]);
            }
            nn_set_error(NN_ERR_FORMAT, "%s: dimensions %s are too large (the size overflows)", path, dimstr);
            goto done;
        }
        total *= dims[i];
    }
    if (total > SIZE_MAX / sizeof(float)) {
        nn_set_error(NN_ERR_FORMAT, "%s: dimensions %s are too large for this machine", path, dimstr);
        goto done;
    }
    char what[96];
    snprintf(what, sizeof what, "%s %s", dimstr, rank == 1 ? "labels" : "values");
    /* a raw file's size is known: the data it declares must be there */
    struct stat st;
    uint64_t header = 4 + 4 * (uint64_t)rank;
    if (gzdirect(f) && stat(path, &st) == 0 && S_ISREG(st.st_mode) && (uint64_t)st.st_size < header + total) {
        nn_set_error(NN_ERR_FORMAT, "%s: truncated: the header declares %s (%" PRIu64 " bytes) but the file ends after %"
                     PRIu64 " of them", path, what, total, (uint64_t)st.st_size - header);
        goto done;
    }
    /* the bytes as read plus the tensor they become (4 bytes each), before
     * a byte is read: a gzip bomb declaring gigabytes stops here */
    if (nn_check_memory(total * 5, path, what) != NN_OK) goto done;
    bytes = read_payload(f, path, total, what);
    if (!bytes) goto done;
    unsigned char extra;
    int64_t more = read_some(f, path, &extra, 1);
    if (more != 0) {
        if (more > 0)
            nn_set_error(NN_ERR_FORMAT, "%s: the file continues past the %s its header declares", path, what);
        goto done;
    }

    /* every element is written below: no zero fill; bytes kept as bytes
     * become the tensor's data (no second copy of the payload at the peak) */
    if (rank == 1) {
        t = nn_tensor_new_uninit(NN_I32, NN_SHAPE((int64_t)dims[0]));
    } else {
        /* an empty file (no items) gets rows of size 0 */
        int64_t row = dims[0] ? (int64_t)(total / dims[0]) : 0;
        if (as_u8 && (t = nn_tensor_adopt(NN_U8, NN_SHAPE((int64_t)dims[0], row), bytes)) != NULL) bytes = NULL;
        if (!as_u8) t = nn_tensor_new_uninit(NN_F32, NN_SHAPE((int64_t)dims[0], row));
    }
    if (!t) {
        nn_set_error(NN_ERR_NOMEM, "%s: out of memory for %s", path, what);
        goto done;
    }
    if (rank == 1) {
        int32_t *lab = nn_tensor_i32(t);
        for (uint64_t i = 0; i < total; i++) lab[i] = bytes[i];
    } else if (!as_u8) {
        nn_u8_to_f32(bytes, nn_tensor_f32(t), total);
    }
done:
    free(bytes);
    gzclose(f);
    return t;
}

nn_tensor *nn_load_idx(const char *path) { return load_idx(path, 0); }

nn_dataset *nn_load_idx_pair(const char *images_path, const char *labels_path) {
    if (!images_path || !labels_path) {
        nn_set_error(NN_ERR_ARG, "load_idx_pair: path is NULL");
        return NULL;
    }
    nn_tensor *x = load_idx(images_path, 1);
    if (!x) return NULL;
    nn_tensor *y = nn_load_idx(labels_path);
    if (!y) {
        nn_tensor_free(x);
        return NULL;
    }
    nn_shape xs = nn_tensor_shape(x), ys = nn_tensor_shape(y);
    if (nn_tensor_dtype(x) != NN_U8 || nn_tensor_dtype(y) != NN_I32) {
        int images_wrong = nn_tensor_dtype(x) != NN_U8;
        nn_set_error(NN_ERR_FORMAT, "%s: holds %s, but %s were expected", images_wrong ? images_path : labels_path,
                     images_wrong ? "labels (rank 1)" : "images (rank >= 2)",
                     images_wrong ? "images (rank >= 2)" : "labels (rank 1)");
        goto fail;
    }
    if (xs.dim[0] != ys.dim[0]) {
        nn_set_error(NN_ERR_FORMAT, "count mismatch: %s has %" PRId64 " images but %s has %" PRId64 " labels",
                     images_path, xs.dim[0], labels_path, ys.dim[0]);
        goto fail;
    }
    return nn_dataset_new(x, y);
fail:
    nn_tensor_free(x);
    nn_tensor_free(y);
    return NULL;
}
