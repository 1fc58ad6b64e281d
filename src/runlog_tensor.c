/* Run log: tensors as stored bytes, the checkpoint object, and weight
 * files (.nnw, the format `nngraph export` writes; see runlog.h). */
#include "runlog_tensor.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

const char *const rl_dtype_names[3] = {"f32", "i32", "u64"};

int rl_dtype_from_name(const char *name) {
    for (int i = 0; name && i < 3; i++)
        if (strcmp(name, rl_dtype_names[i]) == 0) return i;
    return -1;
}

static size_t dtype_bytes(int dtype) { return dtype == RL_U64 ? 8 : 4; }

static int host_is_little_endian(void) {
    const uint16_t one = 1;
    return *(const unsigned char *)&one == 1;
}

/* Copies n elements of `width` bytes, reversing each element's bytes:
 * native <-> little-endian on a big-endian host. */
static void swap_copy(unsigned char *dst, const unsigned char *src, size_t n, size_t width) {
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < width; j++) dst[i * width + j] = src[i * width + width - 1 - j];
}

static uint32_t crc_of(const unsigned char *p, size_t n) {
    uLong crc = crc32(0L, Z_NULL, 0);
    /* zlib takes uInt lengths: feed large buffers in pieces */
    while (n > 0) {
        uInt piece = n > (1u << 30) ? (1u << 30) : (uInt)n;
        crc = crc32(crc, p, piece);
        p += piece;
        n -= piece;
    }
    return (uint32_t)crc;
}

/* Points b at native data, converting to little-endian if the host is not. */
static nn_status blob_set(rl_blob *b, const void *data, size_t n_elems) {
    size_t width = dtype_bytes(b->dtype);
    b->nbytes = n_elems * width;
    if (host_is_little_endian()) {
        b->bytes = (unsigned char *)data;
        b->owned = 0;
    } else {
        b->bytes = malloc(b->nbytes ? b->nbytes : 1);
        if (!b->bytes) return nn_set_error(NN_ERR_NOMEM, "out of memory converting a tensor");
        swap_copy(b->bytes, data, n_elems, width);
        b->owned = 1;
    }
    b->crc = crc_of(b->bytes, b->nbytes);
    return NN_OK;
}

nn_status rl_blob_from_tensor(const nn_tensor *t, rl_blob *b) {
    nn_shape s = nn_tensor_shape(t);
    b->dtype = (int)nn_tensor_dtype(t);
    b->rank = s.rank;
    for (int i = 0; i < s.rank; i++) b->dim[i] = s.dim[i];
    return blob_set(b, nn_tensor_data(t), (size_t)nn_tensor_size(t));
}

nn_status rl_blob_from_rng(const nn_rng *r, rl_blob *b) {
    b->dtype = RL_U64;
    b->rank = 1;
    b->dim[0] = 4;
    return blob_set(b, r->s, 4);
}

void rl_blob_free(rl_blob *b) {
    if (b && b->owned) free(b->bytes);
    if (b) b->bytes = NULL;
}

void rl_shape_text(int rank, const int64_t *dim, char *buf, size_t len) {
    size_t used = (size_t)snprintf(buf, len, "[");
    for (int i = 0; i < rank && used < len; i++)
        used += (size_t)snprintf(buf + used, len - used, "%s%lld", i ? "," : "", (long long)dim[i]);
    if (used < len) snprintf(buf + used, len - used, "]");
}

int rl_shape_parse(const char *text, int *rank, int64_t *dim) {
    if (!text || *text != '[') return -1;
    const char *p = text + 1;
    *rank = 0;
    if (*p == ']') return p[1] == 0 ? 0 : -1;
    for (;;) {
        if (*rank == NN_MAX_RANK) return -1;
        char *end;
        errno = 0;
        long long v = strtoll(p, &end, 10);
        if (end == p || errno || v < 0) return -1;
        dim[(*rank)++] = v;
        p = end;
        if (*p == ']') return p[1] == 0 ? 0 : -1;
        if (*p != ',') return -1;
        p++;
    }
}

nn_checkpoint *rl_ckpt_new(void) { return calloc(1, sizeof(nn_checkpoint)); }

nn_status rl_ckpt_add(nn_checkpoint *c, const char *name, nn_ckpt_role role, const rl_blob *b, const char *where) {
    if (!name || !name[0]) return nn_set_error(NN_ERR_FORMAT, "%s: a tensor has no name", where);
    if ((role == NN_ROLE_RNG) != (b->dtype == RL_U64) ||
        (role == NN_ROLE_RNG && (b->rank != 1 || b->dim[0] != 4)))
        return nn_set_error(NN_ERR_FORMAT, "%s: role %s does not fit dtype %s", where, nn_ckpt_role_name(role),
                            rl_dtype_names[b->dtype]);
    int64_t n = 1;
    for (int i = 0; i < b->rank; i++) {
        if (b->dim[i] > 0 && n > INT64_MAX / 8 / b->dim[i])
            return nn_set_error(NN_ERR_FORMAT, "%s: shape too large", where);
        n *= b->dim[i];
    }
    size_t width = dtype_bytes(b->dtype);
    if (b->nbytes != (size_t)n * width)
        return nn_set_error(NN_ERR_FORMAT, "%s: %zu bytes of data, but %s %s needs %lld", where, b->nbytes,
                            rl_dtype_names[b->dtype], "by its shape", (long long)n * (long long)width);
    uint32_t crc = crc_of(b->bytes, b->nbytes);
    if (crc != b->crc)
        return nn_set_error(NN_ERR_FORMAT, "%s: CRC-32 mismatch (stored 0x%08x, data 0x%08x): the data are corrupt",
                            where, b->crc, crc);
    if (c->n == c->cap) {
        int cap = c->cap ? 2 * c->cap : 8;
        rl_item *it = realloc(c->items, (size_t)cap * sizeof *it);
        if (!it) return nn_set_error(NN_ERR_NOMEM, "%s: out of memory", where);
        c->items = it;
        c->cap = cap;
    }
    rl_item *it = &c->items[c->n];
    memset(it, 0, sizeof *it);
    it->role = role;
    it->name = strdup(name);
    if (!it->name) return nn_set_error(NN_ERR_NOMEM, "%s: out of memory", where);
    /* decode from little-endian into native order */
    unsigned char *native = (unsigned char *)b->bytes, *tmp = NULL;
    if (!host_is_little_endian()) {
        tmp = malloc(b->nbytes ? b->nbytes : 1);
        if (!tmp) {
            free(it->name);
            return nn_set_error(NN_ERR_NOMEM, "%s: out of memory", where);
        }
        swap_copy(tmp, b->bytes, (size_t)n, width);
        native = tmp;
    }
    if (role == NN_ROLE_RNG) {
        memcpy(it->rng.s, native, sizeof it->rng.s);
    } else {
        nn_shape s = {b->rank, {0}};
        for (int i = 0; i < b->rank; i++) s.dim[i] = b->dim[i];
        it->tensor = nn_tensor_from((nn_dtype)b->dtype, s, native);
        if (!it->tensor) {
            free(tmp);
            free(it->name);
            return nn_set_error(NN_ERR_NOMEM, "%s: out of memory", where);
        }
    }
    free(tmp);
    c->n++;
    return NN_OK;
}

void nn_checkpoint_free(nn_checkpoint *c) {
    if (!c) return;
    for (int i = 0; i < c->n; i++) {
        free(c->items[i].name);
        nn_tensor_free(c->items[i].tensor);
    }
    free(c->items);
    free(c);
}

int64_t nn_checkpoint_id(const nn_checkpoint *c) { return c ? c->id : 0; }
int64_t nn_checkpoint_run(const nn_checkpoint *c) { return c ? c->run : 0; }
int64_t nn_checkpoint_step(const nn_checkpoint *c) { return c ? c->step : 0; }
int64_t nn_checkpoint_epoch(const nn_checkpoint *c) { return c ? c->epoch : 0; }
const char *nn_checkpoint_reason(const nn_checkpoint *c) { return c ? c->reason : ""; }
int nn_checkpoint_count(const nn_checkpoint *c) { return c ? c->n : 0; }

const char *nn_checkpoint_name(const nn_checkpoint *c, int i) {
    return c && i >= 0 && i < c->n ? c->items[i].name : NULL;
}

nn_ckpt_role nn_checkpoint_role(const nn_checkpoint *c, int i) {
    return c && i >= 0 && i < c->n ? c->items[i].role : NN_ROLE_PARAM;
}

const nn_tensor *nn_checkpoint_tensor(const nn_checkpoint *c, int i) {
    return c && i >= 0 && i < c->n ? c->items[i].tensor : NULL;
}

const nn_tensor *nn_checkpoint_find(const nn_checkpoint *c, const char *name, nn_ckpt_role role) {
    for (int i = 0; c && name && i < c->n; i++)
        if (c->items[i].role == role && strcmp(c->items[i].name, name) == 0) return c->items[i].tensor;
    return NULL;
}

nn_status nn_checkpoint_rng(const nn_checkpoint *c, const char *name, nn_rng *out) {
    if (!c || !out) return nn_set_error(NN_ERR_ARG, "checkpoint rng: NULL argument");
    for (int i = 0; i < c->n; i++)
        if (c->items[i].role == NN_ROLE_RNG && (!name || strcmp(c->items[i].name, name) == 0)) {
            *out = c->items[i].rng;
            return NN_OK;
        }
    return nn_set_error(NN_ERR_ARG, "checkpoint %lld: no generator state%s%s", (long long)c->id,
                        name ? " named " : "", name ? name : "");
}

nn_status nn_checkpoint_apply(const nn_checkpoint *c, nn_graph *g) {
    if (!c || !g) return nn_set_error(NN_ERR_ARG, "checkpoint apply: NULL argument");
    int n = nn_graph_params(g, NULL, 0);
    nn_node **params = malloc((size_t)(n ? n : 1) * sizeof *params);
    if (!params) return nn_set_error(NN_ERR_NOMEM, "checkpoint apply: out of memory");
    nn_graph_params(g, params, n);
    nn_status s = NN_OK;
    /* check everything first so that a mismatch changes nothing */
    for (int pass = 0; pass < 2 && s == NN_OK; pass++) {
        for (int i = 0; i < n && s == NN_OK; i++) {
            const char *name = nn_node_name(params[i]);
            const nn_tensor *t = nn_checkpoint_find(c, name, NN_ROLE_PARAM);
            nn_tensor *dst = nn_param_value(params[i]);
            char want[64], got[64];
            if (!t)
                s = nn_set_error(NN_ERR_ARG, "checkpoint %lld has no tensor for parameter '%s'", (long long)c->id, name);
            else if (nn_tensor_dtype(t) != nn_tensor_dtype(dst) ||
                     !nn_shape_equal(nn_tensor_shape(t), nn_tensor_shape(dst)))
                s = nn_set_error(NN_ERR_SHAPE, "checkpoint %lld: parameter '%s' is %s %s in the graph but %s %s in "
                                               "the checkpoint",
                                 (long long)c->id, name, nn_dtype_name(nn_tensor_dtype(dst)),
                                 nn_shape_str(nn_tensor_shape(dst), want, sizeof want),
                                 nn_dtype_name(nn_tensor_dtype(t)), nn_shape_str(nn_tensor_shape(t), got, sizeof got));
            else if (pass == 1)
                s = nn_tensor_copy(dst, t);
        }
    }
    free(params);
    return s;
}

/* ---- weight files ---- */

static void put_u(unsigned char *p, uint64_t v, int bytes) {
    for (int i = 0; i < bytes; i++) p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get_u(const unsigned char *p, int bytes) {
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++) v |= (uint64_t)p[i] << (8 * i);
    return v;
}

nn_status nn_checkpoint_save(const nn_checkpoint *c, const char *path, int params_only) {
    if (!c || !path) return nn_set_error(NN_ERR_ARG, "checkpoint save: NULL argument");
    size_t plen = strlen(path);
    char *tmp = malloc(plen + 16);
    if (!tmp) return nn_set_error(NN_ERR_NOMEM, "%s: out of memory", path);
    snprintf(tmp, plen + 16, "%s.tmp%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        nn_status s = nn_set_error(NN_ERR_IO, "%s: cannot write: %s", path, strerror(errno));
        free(tmp);
        return s;
    }
    uint32_t count = 0;
    for (int i = 0; i < c->n; i++) count += !params_only || c->items[i].role == NN_ROLE_PARAM;
    unsigned char head[28];
    memcpy(head, "NNGW", 4);
    put_u(head + 4, 1, 4);
    put_u(head + 8, count, 4);
    put_u(head + 12, (uint64_t)c->step, 8);
    put_u(head + 20, (uint64_t)c->epoch, 8);
    int ok = fwrite(head, 1, sizeof head, f) == sizeof head;
    for (int i = 0; ok && i < c->n; i++) {
        const rl_item *it = &c->items[i];
        if (params_only && it->role != NN_ROLE_PARAM) continue;
        rl_blob b = {0};
        if ((it->tensor ? rl_blob_from_tensor(it->tensor, &b) : rl_blob_from_rng(&it->rng, &b)) != NN_OK) {
            ok = 0;
            break;
        }
        size_t nlen = strlen(it->name);
        unsigned char rec[2 + 4 + 8 * NN_MAX_RANK + 12];
        size_t r = 0;
        put_u(rec, nlen, 2);
        ok = nlen < 65536 && fwrite(rec, 1, 2, f) == 2 && fwrite(it->name, 1, nlen, f) == nlen;
        rec[r++] = (unsigned char)it->role;
        rec[r++] = (unsigned char)b.dtype;
        rec[r++] = (unsigned char)b.rank;
        rec[r++] = 0;
        for (int d = 0; d < b.rank; d++, r += 8) put_u(rec + r, (uint64_t)b.dim[d], 8);
        put_u(rec + r, b.nbytes, 8);
        put_u(rec + r + 8, b.crc, 4);
        r += 12;
        ok = ok && fwrite(rec, 1, r, f) == r && fwrite(b.bytes, 1, b.nbytes, f) == b.nbytes;
        rl_blob_free(&b);
    }
    int err = errno;
    if (fflush(f) != 0 || fsync(fileno(f)) != 0) ok = 0, err = errno;
    if (fclose(f) != 0) ok = 0, err = errno;
    if (!ok || rename(tmp, path) != 0) {
        if (ok) err = errno;
        unlink(tmp);
        free(tmp);
        return nn_set_error(NN_ERR_IO, "%s: cannot write the weight file: %s", path, strerror(err));
    }
    free(tmp);
    return NN_OK;
}

/* Reads exactly n bytes or reports a truncated file. */
static nn_status read_exact(FILE *f, void *buf, size_t n, const char *path, const char *what) {
    if (fread(buf, 1, n, f) != n)
        return nn_set_error(NN_ERR_FORMAT, "%s: truncated weight file (reading %s)", path, what);
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
    nn_checkpoint *c = rl_ckpt_new();
    unsigned char head[28];
    nn_status s = c ? read_exact(f, head, sizeof head, path, "the header")
                    : nn_set_error(NN_ERR_NOMEM, "%s: out of memory", path);
    if (s == NN_OK && memcmp(head, "NNGW", 4) != 0)
        s = nn_set_error(NN_ERR_FORMAT, "%s: not an nngraph weight file (bad magic)", path);
    if (s == NN_OK && get_u(head + 4, 4) != 1)
        s = nn_set_error(NN_ERR_FORMAT, "%s: weight file version %u is not supported (want 1)", path,
                         (unsigned)get_u(head + 4, 4));
    uint32_t count = s == NN_OK ? (uint32_t)get_u(head + 8, 4) : 0;
    if (s == NN_OK) {
        c->step = (int64_t)get_u(head + 12, 8);
        c->epoch = (int64_t)get_u(head + 20, 8);
        snprintf(c->reason, sizeof c->reason, "file");
    }
    for (uint32_t i = 0; s == NN_OK && i < count; i++) {
        unsigned char rec[8 * NN_MAX_RANK + 12], len2[2];
        char name[65536];
        char where[300];
        snprintf(where, sizeof where, "%s: tensor %u", path, i);
        s = read_exact(f, len2, 2, path, "a tensor name");
        size_t nlen = (size_t)get_u(len2, 2);
        if (s == NN_OK) s = read_exact(f, name, nlen, path, "a tensor name");
        if (s != NN_OK) break;
        name[nlen] = 0;
        snprintf(where, sizeof where, "%s: tensor '%.200s'", path, name);
        s = read_exact(f, rec, 4, path, "a tensor header");
        if (s != NN_OK) break;
        rl_blob b = {0};
        int role = rec[0];
        b.dtype = rec[1];
        b.rank = rec[2];
        if (role > NN_ROLE_STATE || b.dtype > RL_U64 || b.rank > NN_MAX_RANK) {
            s = nn_set_error(NN_ERR_FORMAT, "%s: bad role %d, dtype %d or rank %d", where, role, b.dtype, b.rank);
            break;
        }
        size_t r = (size_t)b.rank * 8 + 12;
        s = read_exact(f, rec, r, path, "a tensor header");
        if (s != NN_OK) break;
        for (int d = 0; d < b.rank; d++) b.dim[d] = (int64_t)get_u(rec + 8 * d, 8);
        uint64_t nbytes = get_u(rec + 8 * b.rank, 8);
        b.crc = (uint32_t)get_u(rec + 8 * b.rank + 8, 4);
        /* refuse sizes the file cannot hold before allocating them */
        long here = ftell(f);
        fseek(f, 0, SEEK_END);
        long end = ftell(f);
        fseek(f, here, SEEK_SET);
        if (here < 0 || end < 0 || nbytes > (uint64_t)(end - here)) {
            s = nn_set_error(NN_ERR_FORMAT, "%s: truncated weight file (%llu bytes of data announced)", where,
                             (unsigned long long)nbytes);
            break;
        }
        b.nbytes = (size_t)nbytes;
        b.bytes = malloc(b.nbytes ? b.nbytes : 1);
        b.owned = 1;
        if (!b.bytes) s = nn_set_error(NN_ERR_NOMEM, "%s: out of memory", where);
        if (s == NN_OK) s = read_exact(f, b.bytes, b.nbytes, path, "tensor data");
        if (s == NN_OK) s = rl_ckpt_add(c, name, (nn_ckpt_role)role, &b, where);
        rl_blob_free(&b);
    }
    fclose(f);
    if (s != NN_OK) {
        nn_checkpoint_free(c);
        return NULL;
    }
    return c;
}
