/* Run log: a checkpoint to and from a file. Two formats (runlog.h):
 * "NNGW", the graph-file area's weights file, so that an exported model
 * loads with nn_weights_load() and `nngraph predict`; and "NNGC", the whole
 * checkpoint with optimizer state, generators, step and epoch. Files are
 * built in memory, written to a temporary name, synced and renamed, so a
 * reader never sees half a file. */
#include "fileutil.h"
#include "runlog_tensor.h"
#include "weights_format.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The blob of item i (a generator or a tensor). */
static nn_status item_blob(const rl_item *it, rl_blob *b) {
    return it->tensor ? rl_blob_from_tensor(it->tensor, b) : rl_blob_from_rng(&it->rng, b);
}

/* graphio.h's weights file, written by the graph-file area's own encoder
 * (weights_format.h) so an export is byte for byte what nn_weights_save()
 * writes. */
static nn_status encode_weights(const nn_checkpoint *c, nn_strbuf *out, const char *path) {
    uint32_t count = 0;
    for (int i = 0; i < c->n; i++) {
        if (c->items[i].role != NN_ROLE_PARAM) continue;
        if (nn_tensor_dtype(c->items[i].tensor) != NN_F32)
            return nn_set_error(NN_ERR_ARG, "%s: parameter '%s' is not f32: a weights file holds f32 only", path,
                                c->items[i].name);
        if (strlen(c->items[i].name) >= NN_MAX_NAME)
            return nn_set_error(NN_ERR_ARG, "%s: parameter name '%.60s...' is %zu bytes; names are at most %d", path,
                                c->items[i].name, strlen(c->items[i].name), NN_MAX_NAME - 1);
        count++;
    }
    nn_weights_put_header(out, count);
    for (int i = 0; i < c->n; i++) {
        const rl_item *it = &c->items[i];
        if (it->role != NN_ROLE_PARAM) continue;
        nn_weights_put_tensor(out, it->name, nn_tensor_shape(it->tensor), nn_tensor_data(it->tensor));
    }
    return NN_OK;
}

static nn_status encode_checkpoint(const nn_checkpoint *c, nn_strbuf *out) {
    nn_sb_append(out, "NNGC", 4);
    nn_put_u32(out, 1);
    nn_put_u32(out, (uint32_t)c->n);
    nn_put_u64(out, (uint64_t)c->step);
    nn_put_u64(out, (uint64_t)c->epoch);
    for (int i = 0; i < c->n; i++) {
        const rl_item *it = &c->items[i];
        rl_blob b = {0};
        nn_status s = item_blob(it, &b);
        if (s != NN_OK) return s;
        size_t nl = strlen(it->name);
        if (nl >= NN_MAX_NAME) {
            rl_blob_free(&b);
            return nn_set_error(NN_ERR_ARG, "checkpoint: tensor name '%.60s...' is %zu bytes; names are at most %d",
                                it->name, nl, NN_MAX_NAME - 1);
        }
        nn_put_u16(out, (uint16_t)nl);
        nn_sb_append(out, it->name, nl);
        char head[4] = {(char)it->role, (char)b.dtype, (char)b.rank, 0};
        nn_sb_append(out, head, 4);
        for (int d = 0; d < b.rank; d++) nn_put_u64(out, (uint64_t)b.dim[d]);
        nn_put_u64(out, b.nbytes);
        nn_put_u32(out, b.crc);
        nn_sb_append(out, (const char *)b.bytes, b.nbytes);
        rl_blob_free(&b);
    }
    return NN_OK;
}

nn_status nn_checkpoint_save(const nn_checkpoint *c, const char *path, int params_only) {
    if (!c || !path) return nn_set_error(NN_ERR_ARG, "checkpoint save: NULL argument");
    nn_strbuf b = {0};
    nn_status s = params_only ? encode_weights(c, &b, path) : encode_checkpoint(c, &b);
    if (s == NN_OK && b.failed) s = nn_set_error(NN_ERR_NOMEM, "%s: out of memory", path);
    if (s == NN_OK) s = nn_write_file_atomic(path, b.data ? b.data : "", b.len);
    nn_sb_free(&b);
    return s;
}

/* ---- reading: the whole file in memory, every length checked ---- */

static nn_status truncated(const nn_le_reader *r, const char *what) {
    return nn_set_error(NN_ERR_FORMAT, "%s: truncated weight file (reading %s)", r->path, what);
}

/* One tensor of a weights file, read by the graph-file area's decoder
 * (weights_format.h) and worded in this reader's terms. */
static nn_status read_nngw_tensor(nn_le_reader *r, nn_checkpoint *c, uint32_t index) {
    nn_weights_entry w;
    const char *part;
    char where[320];
    nn_weights_fault f = nn_weights_read_tensor(r, &w, &part);
    snprintf(where, sizeof where, "%s: tensor '%.200s'", r->path, w.name);
    switch (f) {
    case NN_WF_OK:
        break;
    case NN_WF_NAME_LENGTH:
        return nn_set_error(NN_ERR_FORMAT, "%s: tensor %u: bad name length %llu", r->path, index,
                            (unsigned long long)w.bad);
    case NN_WF_DTYPE_RANK:
        return nn_set_error(NN_ERR_FORMAT, "%s: bad role %d, dtype %u or rank %u", where, NN_ROLE_PARAM, w.dtype,
                            w.rank);
    case NN_WF_DIMENSION:
        return nn_set_error(NN_ERR_FORMAT, "%s: bad dimension %llu", where, (unsigned long long)w.bad);
    case NN_WF_DATA_SIZE:
        return nn_set_error(NN_ERR_FORMAT, "%s: truncated weight file (%llu bytes of data announced)", where,
                            (unsigned long long)w.nbytes);
    case NN_WF_TRUNCATED:
        return truncated(r, part);
    }
    rl_blob b = {.dtype = NN_F32, .rank = (int)w.rank, .bytes = (unsigned char *)w.data,
                 .nbytes = (size_t)w.nbytes, .crc = w.crc};
    for (uint32_t d = 0; d < w.rank; d++) b.dim[d] = w.dim[d];
    return rl_ckpt_add(c, w.name, NN_ROLE_PARAM, &b, where);
}

/* One tensor of a checkpoint file: u16 name length, name, role, dtype,
 * rank, a pad byte, u64 dims, u64 bytes, u32 CRC-32, data. */
static nn_status read_nngc_tensor(nn_le_reader *r, nn_checkpoint *c, uint32_t index) {
    char where[320], name[NN_MAX_NAME];
    const unsigned char *q;
    uint16_t nl;
    if (nn_le_u16(r, &nl)) return truncated(r, "a tensor name");
    if (nl == 0 || nl >= sizeof name)
        return nn_set_error(NN_ERR_FORMAT, "%s: tensor %u: bad name length %u", r->path, index, (unsigned)nl);
    if (!(q = nn_le_take(r, nl))) return truncated(r, "a tensor name");
    memcpy(name, q, nl);
    name[nl] = 0;
    snprintf(where, sizeof where, "%s: tensor '%.200s'", r->path, name);
    rl_blob b = {0};
    if (!(q = nn_le_take(r, 4))) return truncated(r, "a tensor header");
    int role = q[0];
    b.dtype = q[1];
    b.rank = q[2];
    if (role > NN_ROLE_STATE || b.dtype > RL_U64 || b.rank > NN_MAX_RANK)
        return nn_set_error(NN_ERR_FORMAT, "%s: bad role %d, dtype %d or rank %d", where, role, b.dtype, b.rank);
    /* the dims and the byte count come whole or not at all */
    if (nn_le_left(r) < (size_t)b.rank * 8 + 8) return truncated(r, "a tensor shape");
    uint64_t v, nbytes;
    for (int d = 0; d < b.rank; d++) {
        nn_le_u64(r, &v);
        if (v > INT32_MAX)
            return nn_set_error(NN_ERR_FORMAT, "%s: bad dimension %llu", where, (unsigned long long)v);
        b.dim[d] = (int64_t)v;
    }
    nn_le_u64(r, &nbytes);
    if (nn_le_u32(r, &b.crc)) return truncated(r, "a checksum");
    /* the announced size must fit in what is left before anything is used */
    if (nbytes > (uint64_t)nn_le_left(r))
        return nn_set_error(NN_ERR_FORMAT, "%s: truncated weight file (%llu bytes of data announced)", where,
                            (unsigned long long)nbytes);
    b.bytes = (unsigned char *)nn_le_take(r, (size_t)nbytes);
    b.nbytes = (size_t)nbytes;
    return rl_ckpt_add(c, name, (nn_ckpt_role)role, &b, where);
}

static nn_status parse(nn_le_reader *r, nn_checkpoint *c) {
    const unsigned char *magic = nn_le_take(r, 4);
    uint32_t version = 0, count = 0;
    if (!magic || nn_le_u32(r, &version) || nn_le_u32(r, &count)) return truncated(r, "the header");
    int nngc = memcmp(magic, "NNGC", 4) == 0;
    if (!nngc && memcmp(magic, "NNGW", 4) != 0)
        return nn_set_error(NN_ERR_FORMAT, "%s: not an nngraph weight file (bad magic)", r->path);
    if (version != 1)
        return nn_set_error(NN_ERR_FORMAT, "%s: weight file version %u is not supported (want 1)", r->path,
                            (unsigned)version);
    snprintf(c->reason, sizeof c->reason, "file");
    if (nngc) {
        uint64_t step, epoch;
        if (nn_le_u64(r, &step) || nn_le_u64(r, &epoch)) return truncated(r, "the header");
        c->step = (int64_t)step;
        c->epoch = (int64_t)epoch;
    }
    for (uint32_t i = 0; i < count; i++) {
        nn_status s = nngc ? read_nngc_tensor(r, c, i) : read_nngw_tensor(r, c, i);
        if (s != NN_OK) return s;
    }
    if (nn_le_left(r) != 0)
        return nn_set_error(NN_ERR_FORMAT, "%s: %zu bytes after the last tensor", r->path, nn_le_left(r));
    return NN_OK;
}

nn_checkpoint *nn_checkpoint_read(const char *path) {
    if (!path) {
        nn_set_error(NN_ERR_ARG, "weight file: no path");
        return NULL;
    }
    char *data = NULL;
    size_t len = 0;
    nn_status s = nn_read_file(path, &data, &len); /* "PATH: cannot open: CAUSE", "PATH: read failed" */
    if (s != NN_OK) return NULL;
    nn_checkpoint *c = rl_ckpt_new();
    if (!c) s = nn_set_error(NN_ERR_NOMEM, "%s: out of memory", path);
    if (s == NN_OK) {
        nn_le_reader r = {(const unsigned char *)data, (const unsigned char *)data + len, path};
        s = parse(&r, c);
    }
    free(data);
    if (s != NN_OK) {
        nn_checkpoint_free(c);
        return NULL;
    }
    return c;
}
