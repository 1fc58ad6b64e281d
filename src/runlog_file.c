/* Run log: a checkpoint to and from a file. Two formats (runlog.h):
 * "NNGW", the graph-file area's weights file, so that an exported model
 * loads with nn_weights_load() and `nngraph predict`; and "NNGC", the whole
 * checkpoint with optimizer state, generators, step and epoch. Files are
 * built in memory, written to a temporary name, synced and renamed, so a
 * reader never sees half a file. */
#include "runlog_tensor.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A growing byte buffer; `failed` remembers an allocation failure. */
typedef struct buf {
    unsigned char *p;
    size_t len, cap;
    int failed;
} buf;

static void put(buf *b, const void *data, size_t n) {
    if (b->failed) return;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n) cap *= 2;
        unsigned char *p = realloc(b->p, cap);
        if (!p) {
            b->failed = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, data, n);
    b->len += n;
}

static void put_u(buf *b, uint64_t v, int bytes) {
    unsigned char le[8];
    for (int i = 0; i < bytes; i++) le[i] = (unsigned char)(v >> (8 * i));
    put(b, le, (size_t)bytes);
}

static uint64_t get_u(const unsigned char *p, int bytes) {
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++) v |= (uint64_t)p[i] << (8 * i);
    return v;
}

/* The blob of item i (a generator or a tensor). */
static nn_status item_blob(const rl_item *it, rl_blob *b) {
    return it->tensor ? rl_blob_from_tensor(it->tensor, b) : rl_blob_from_rng(&it->rng, b);
}

/* graphio.h's weights file: u32 name length, name, u32 dtype, u32 rank,
 * u64 dims, u64 bytes, data, u32 CRC-32. */
static nn_status encode_weights(const nn_checkpoint *c, buf *out, const char *path) {
    uint32_t count = 0;
    for (int i = 0; i < c->n; i++) {
        if (c->items[i].role != NN_ROLE_PARAM) continue;
        if (nn_tensor_dtype(c->items[i].tensor) != NN_F32)
            return nn_set_error(NN_ERR_ARG, "%s: parameter '%s' is not f32: a weights file holds f32 only", path,
                                c->items[i].name);
        count++;
    }
    put(out, "NNGW", 4);
    put_u(out, 1, 4);
    put_u(out, count, 4);
    for (int i = 0; i < c->n; i++) {
        const rl_item *it = &c->items[i];
        if (it->role != NN_ROLE_PARAM) continue;
        rl_blob b = {0};
        nn_status s = item_blob(it, &b);
        if (s != NN_OK) return s;
        size_t nl = strlen(it->name);
        put_u(out, nl, 4);
        put(out, it->name, nl);
        put_u(out, 0, 4); /* f32 */
        put_u(out, (uint64_t)b.rank, 4);
        for (int d = 0; d < b.rank; d++) put_u(out, (uint64_t)b.dim[d], 8);
        put_u(out, b.nbytes, 8);
        put(out, b.bytes, b.nbytes);
        put_u(out, b.crc, 4);
        rl_blob_free(&b);
    }
    return NN_OK;
}

static nn_status encode_checkpoint(const nn_checkpoint *c, buf *out) {
    put(out, "NNGC", 4);
    put_u(out, 1, 4);
    put_u(out, (uint64_t)c->n, 4);
    put_u(out, (uint64_t)c->step, 8);
    put_u(out, (uint64_t)c->epoch, 8);
    for (int i = 0; i < c->n; i++) {
        const rl_item *it = &c->items[i];
        rl_blob b = {0};
        nn_status s = item_blob(it, &b);
        if (s != NN_OK) return s;
        size_t nl = strlen(it->name);
        put_u(out, nl, 2);
        put(out, it->name, nl);
        unsigned char head[4] = {(unsigned char)it->role, (unsigned char)b.dtype, (unsigned char)b.rank, 0};
        put(out, head, 4);
        for (int d = 0; d < b.rank; d++) put_u(out, (uint64_t)b.dim[d], 8);
        put_u(out, b.nbytes, 8);
        put_u(out, b.crc, 4);
        put(out, b.bytes, b.nbytes);
        rl_blob_free(&b);
    }
    return NN_OK;
}

nn_status nn_checkpoint_save(const nn_checkpoint *c, const char *path, int params_only) {
    if (!c || !path) return nn_set_error(NN_ERR_ARG, "checkpoint save: NULL argument");
    buf b = {0};
    nn_status s = params_only ? encode_weights(c, &b, path) : encode_checkpoint(c, &b);
    if (s == NN_OK && b.failed) s = nn_set_error(NN_ERR_NOMEM, "%s: out of memory", path);
    if (s == NN_OK) s = nn_write_file_atomic(path, b.p, b.len);
    free(b.p);
    return s;
}

/* ---- reading: the whole file in memory, every length checked ---- */

typedef struct reader {
    const unsigned char *p, *end;
    const char *path;
} reader;

static const unsigned char *take(reader *r, size_t n) {
    if ((size_t)(r->end - r->p) < n) return NULL;
    const unsigned char *at = r->p;
    r->p += n;
    return at;
}

static nn_status truncated(const reader *r, const char *what) {
    return nn_set_error(NN_ERR_FORMAT, "%s: truncated weight file (reading %s)", r->path, what);
}

/* One tensor of either format; `nngc` picks the layout. */
static nn_status read_tensor(reader *r, nn_checkpoint *c, uint32_t index, int nngc) {
    char where[320], name[512];
    const unsigned char *q = take(r, nngc ? 2 : 4);
    if (!q) return truncated(r, "a tensor name");
    size_t nl = (size_t)get_u(q, nngc ? 2 : 4);
    if (nl == 0 || nl >= sizeof name)
        return nn_set_error(NN_ERR_FORMAT, "%s: tensor %u: bad name length %zu", r->path, index, nl);
    if (!(q = take(r, nl))) return truncated(r, "a tensor name");
    memcpy(name, q, nl);
    name[nl] = 0;
    snprintf(where, sizeof where, "%s: tensor '%.200s'", r->path, name);
    rl_blob b = {0};
    int role = NN_ROLE_PARAM;
    if (nngc) {
        if (!(q = take(r, 4))) return truncated(r, "a tensor header");
        role = q[0];
        b.dtype = q[1];
        b.rank = q[2];
    } else {
        if (!(q = take(r, 8))) return truncated(r, "a tensor header");
        b.dtype = (int)get_u(q, 4);
        b.rank = (int)get_u(q + 4, 4);
        if (get_u(q, 4) > 2 || get_u(q + 4, 4) > NN_MAX_RANK) b.rank = NN_MAX_RANK + 1; /* refused below */
    }
    if (role > NN_ROLE_STATE || b.dtype > RL_U64 || b.rank > NN_MAX_RANK || (!nngc && b.dtype != NN_F32))
        return nn_set_error(NN_ERR_FORMAT, "%s: bad role %d, dtype %d or rank %d", where, role, b.dtype, b.rank);
    if (!(q = take(r, (size_t)b.rank * 8 + 8))) return truncated(r, "a tensor shape");
    for (int d = 0; d < b.rank; d++) {
        uint64_t v = get_u(q + 8 * d, 8);
        if (v > INT32_MAX)
            return nn_set_error(NN_ERR_FORMAT, "%s: bad dimension %llu", where, (unsigned long long)v);
        b.dim[d] = (int64_t)v;
    }
    uint64_t nbytes = get_u(q + 8 * b.rank, 8);
    if (nngc) {
        if (!(q = take(r, 4))) return truncated(r, "a checksum");
        b.crc = (uint32_t)get_u(q, 4);
    }
    /* the announced size must fit in what is left before anything is used */
    if (nbytes > (uint64_t)(r->end - r->p))
        return nn_set_error(NN_ERR_FORMAT, "%s: truncated weight file (%llu bytes of data announced)", where,
                            (unsigned long long)nbytes);
    b.bytes = (unsigned char *)take(r, (size_t)nbytes);
    b.nbytes = (size_t)nbytes;
    if (!nngc) {
        if (!(q = take(r, 4))) return truncated(r, "a checksum");
        b.crc = (uint32_t)get_u(q, 4);
    }
    return rl_ckpt_add(c, name, (nn_ckpt_role)role, &b, where);
}

static nn_status parse(reader *r, nn_checkpoint *c) {
    const unsigned char *q = take(r, 12);
    if (!q) return truncated(r, "the header");
    int nngc = memcmp(q, "NNGC", 4) == 0;
    if (!nngc && memcmp(q, "NNGW", 4) != 0)
        return nn_set_error(NN_ERR_FORMAT, "%s: not an nngraph weight file (bad magic)", r->path);
    if (get_u(q + 4, 4) != 1)
        return nn_set_error(NN_ERR_FORMAT, "%s: weight file version %u is not supported (want 1)", r->path,
                            (unsigned)get_u(q + 4, 4));
    uint32_t count = (uint32_t)get_u(q + 8, 4);
    snprintf(c->reason, sizeof c->reason, "file");
    if (nngc) {
        if (!(q = take(r, 16))) return truncated(r, "the header");
        c->step = (int64_t)get_u(q, 8);
        c->epoch = (int64_t)get_u(q + 8, 8);
    }
    for (uint32_t i = 0; i < count; i++) {
        nn_status s = read_tensor(r, c, i, nngc);
        if (s != NN_OK) return s;
    }
    if (r->p != r->end)
        return nn_set_error(NN_ERR_FORMAT, "%s: %zu bytes after the last tensor", r->path, (size_t)(r->end - r->p));
    return NN_OK;
}

nn_checkpoint *nn_checkpoint_read(const char *path) {
    if (!path) {
        nn_set_error(NN_ERR_ARG, "weight file: no path");
        return NULL;
    }
    FILE *f = fopen(path, "rb");
    if (!f) {
        nn_set_error(NN_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    buf b = {0};
    unsigned char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) put(&b, chunk, n);
    int read_error = ferror(f);
    fclose(f);
    nn_checkpoint *c = rl_ckpt_new();
    nn_status s = NN_OK;
    if (read_error) s = nn_set_error(NN_ERR_IO, "%s: read error", path);
    else if (b.failed || !c) s = nn_set_error(NN_ERR_NOMEM, "%s: out of memory", path);
    if (s == NN_OK) {
        reader r = {b.p, b.p + b.len, path};
        s = parse(&r, c);
    }
    free(b.p);
    if (s != NN_OK) {
        nn_checkpoint_free(c);
        return NULL;
    }
    return c;
}
