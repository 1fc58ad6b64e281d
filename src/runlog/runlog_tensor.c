/* Run log: tensors as stored bytes (little-endian, CRC-32) and the
 * checkpoint object. */
#include "runlog_tensor.h"
#include "fileutil.h"
#include "weights_format.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
    b->crc = nn_crc32(b->bytes, b->nbytes);
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
    uint32_t crc = nn_crc32(b->bytes, b->nbytes);
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
