/* Weights files: the values of a graph's parameters, apart from the graph
 * file (which holds only initialisers). The format is documented in
 * docs/graph-format.md and graphio.h: a little-endian binary header, then
 * per tensor its name, dtype, shape, byte count, CRC-32 and data.
 * Loading is all or nothing: the whole file is read and checked against
 * the graph (names, shapes, checksums, nothing missing or extra) before a
 * single parameter changes. */
#include "fileutil.h"
#include "graphio_common.h"
#include "weights_format.h"

#include <errno.h>
#include <zlib.h>
#include <stdlib.h>
#include <string.h>

uint32_t nn_crc32(const void *data, size_t n) {
    uLong crc = crc32(0L, Z_NULL, 0);
    const unsigned char *p = data;
    while (n > 0) {
        uInt piece = n > (1u << 30) ? (1u << 30) : (uInt)n;
        crc = crc32(crc, p, piece);
        p += piece;
        n -= piece;
    }
    return (uint32_t)crc;
}

#define MAGIC "NNGW"
#define VERSION 1u

void nn_weights_put_header(nn_strbuf *sb, uint32_t count) {
    nn_sb_append(sb, MAGIC, 4);
    nn_put_u32(sb, VERSION);
    nn_put_u32(sb, count);
}

void nn_weights_put_tensor(nn_strbuf *sb, const char *name, nn_shape shape, const float *values) {
    int64_t count = nn_shape_size(shape);
    size_t nl = strlen(name);
    nn_put_u32(sb, (uint32_t)nl);
    nn_sb_append(sb, name, nl);
    nn_put_u32(sb, (uint32_t)NN_F32);
    nn_put_u32(sb, (uint32_t)shape.rank);
    for (int d = 0; d < shape.rank; d++) nn_put_u64(sb, (uint64_t)shape.dim[d]);
    uint64_t bytes = (uint64_t)count * 4;
    nn_put_u64(sb, bytes);
    size_t at = sb->len;
    /* element data as little-endian bytes: a plain copy on little-endian
     * hosts, word by word elsewhere */
    const uint16_t probe = 1;
    if (*(const unsigned char *)&probe == 1) {
        nn_sb_append(sb, (const char *)values, (size_t)bytes);
    } else {
        for (int64_t i = 0; i < count; i++) {
            uint32_t w;
            memcpy(&w, values + i, 4);
            nn_put_u32(sb, w);
        }
    }
    /* the checksum covers the bytes as stored */
    nn_put_u32(sb, sb->failed ? 0 : nn_crc32(sb->data + at, bytes));
}

nn_status nn_weights_save(const nn_graph *g, const char *path) {
    if (!g || !path) return nn_set_error(NN_ERR_ARG, "weights save: graph and path are required");
    if (g->status != NN_OK) return nn_set_error(NN_ERR_STATE, "weights save: the graph has an error: %s", g->err);
    nn_strbuf sb = {0};
    nn_weights_put_header(&sb, (uint32_t)nn_graph_params(g, NULL, 0));
    for (int i = 0; i < g->n_nodes; i++) {
        const nn_node *n = g->nodes[i];
        if (n->kind != NN_NODE_PARAM) continue;
        nn_weights_put_tensor(&sb, n->name, n->tensor->shape, n->tensor->data);
    }
    if (sb.failed) {
        nn_sb_free(&sb);
        return nn_set_error(NN_ERR_NOMEM, "weights save %s: out of memory", path);
    }
    nn_status st = nn_write_file_atomic(path, sb.data ? sb.data : "", sb.len);
    nn_sb_free(&sb);
    return st;
}

/* ---- reading ---- */

nn_weights_fault nn_weights_read_tensor(nn_le_reader *r, nn_weights_entry *e, const char **part) {
    *e = (nn_weights_entry){0};
    uint32_t nl;
    const unsigned char *q;
    *part = "a tensor name";
    if (nn_le_u32(r, &nl)) return NN_WF_TRUNCATED;
    e->bad = nl;
    if (nl == 0 || nl >= sizeof e->name) return NN_WF_NAME_LENGTH;
    if (!(q = nn_le_take(r, nl))) return NN_WF_TRUNCATED;
    memcpy(e->name, q, nl);
    e->name[nl] = 0;
    *part = "a tensor header";
    if (nn_le_u32(r, &e->dtype) || nn_le_u32(r, &e->rank)) return NN_WF_TRUNCATED;
    if (e->dtype != NN_F32 || e->rank > NN_MAX_RANK) return NN_WF_DTYPE_RANK;
    *part = "a tensor shape";
    for (uint32_t d = 0; d < e->rank; d++) {
        uint64_t v;
        if (nn_le_u64(r, &v)) return NN_WF_TRUNCATED;
        e->bad = v;
        if (v == 0 || v > INT32_MAX) return NN_WF_DIMENSION;
        e->dim[d] = (int64_t)v;
    }
    if (nn_le_u64(r, &e->nbytes)) return NN_WF_TRUNCATED;
    /* the announced size must fit in what is left before anything is used */
    if (e->nbytes > (uint64_t)nn_le_left(r)) return NN_WF_DATA_SIZE;
    e->data = nn_le_take(r, (size_t)e->nbytes);
    *part = "a checksum";
    if (nn_le_u32(r, &e->crc)) return NN_WF_TRUNCATED;
    return NN_WF_OK;
}

/* ---- loading into a graph ---- */

typedef struct entry {
    nn_node *param;
    const unsigned char *data;
} entry;

static nn_status truncated(const nn_le_reader *r, const char *what) {
    return nn_set_error(NN_ERR_FORMAT, "%s: truncated weights file (while reading %s)", r->path, what);
}

/* The message for a record the decoder refused, in this reader's words. */
static nn_status refused(const nn_le_reader *r, uint32_t index, const nn_weights_entry *w, nn_weights_fault f,
                         const char *part) {
    switch (f) {
    case NN_WF_NAME_LENGTH:
        return nn_set_error(NN_ERR_FORMAT, "%s: tensor %u: bad name length %llu", r->path, index,
                            (unsigned long long)w->bad);
    case NN_WF_DTYPE_RANK:
        return nn_set_error(NN_ERR_FORMAT, "%s: tensor '%s': bad dtype %u or rank %u", r->path, w->name, w->dtype,
                            w->rank);
    case NN_WF_DIMENSION:
        return nn_set_error(NN_ERR_FORMAT, "%s: tensor '%s': bad dimension %llu", r->path, w->name,
                            (unsigned long long)w->bad);
    default: /* truncated: name the tensor once its name is known */
        return truncated(r, w->name[0] ? w->name : part);
    }
}

/* Parses and checks everything; fills e[] (one per param of g, by id of
 * the param's rank among params). */
static nn_status check_file(nn_graph *g, nn_le_reader *r, entry *e, int n_params, nn_node **params) {
    const unsigned char *magic = nn_le_take(r, 4);
    uint32_t version, count;
    if (!magic || memcmp(magic, MAGIC, 4) != 0)
        return nn_set_error(NN_ERR_FORMAT, "%s: not an nngraph weights file (bad magic)", r->path);
    if (nn_le_u32(r, &version) || nn_le_u32(r, &count)) return truncated(r, "the header");
    if (version != VERSION)
        return nn_set_error(NN_ERR_FORMAT, "%s: weights format version %u is not supported (this build reads %u)",
                            r->path, version, VERSION);
    for (uint32_t t = 0; t < count; t++) {
        nn_weights_entry w;
        const char *part;
        nn_weights_fault f = nn_weights_read_tensor(r, &w, &part);
        if (f != NN_WF_OK) return refused(r, t, &w, f, part);
        const char *name = w.name;
        nn_shape s = {(int)w.rank, {0}};
        for (uint32_t d = 0; d < w.rank; d++) s.dim[d] = w.dim[d];
        nn_node *p = nn_graph_find(g, name);
        if (!p || p->kind != NN_NODE_PARAM)
            return nn_set_error(NN_ERR_FORMAT, "%s: tensor '%s' is not a parameter of the graph", r->path, name);
        char a[64], b[64];
        if (!nn_shape_equal(s, p->shape))
            return nn_set_error(NN_ERR_SHAPE, "%s: parameter '%s' is %s in the file but %s in the graph", r->path, name,
                                nn_shape_str(s, a, sizeof a), nn_shape_str(p->shape, b, sizeof b));
        if (w.nbytes != (uint64_t)p->tensor->size * 4)
            return nn_set_error(NN_ERR_FORMAT, "%s: tensor '%s': %llu data bytes for %lld elements", r->path, name,
                                (unsigned long long)w.nbytes, (long long)p->tensor->size);
        if (w.crc != nn_crc32(w.data, w.nbytes))
            return nn_set_error(NN_ERR_FORMAT, "%s: tensor '%s': checksum mismatch (file damaged)", r->path, name);
        int k = 0;
        while (k < n_params && params[k] != p) k++;
        if (e[k].data)
            return nn_set_error(NN_ERR_FORMAT, "%s: parameter '%s' appears twice", r->path, name);
        e[k] = (entry){p, w.data};
    }
    if (nn_le_left(r) != 0)
        return nn_set_error(NN_ERR_FORMAT, "%s: %lld unexpected bytes after the last tensor", r->path,
                            (long long)nn_le_left(r));
    for (int k = 0; k < n_params; k++)
        if (!e[k].data)
            return nn_set_error(NN_ERR_FORMAT, "%s: parameter '%s' of the graph is missing from the file", r->path,
                                params[k]->name);
    return NN_OK;
}

nn_status nn_weights_load_data(nn_graph *g, const void *data, size_t len, const char *source) {
    if (!g || !data) return nn_set_error(NN_ERR_ARG, "weights load: graph and data are required");
    if (g->status != NN_OK) return nn_set_error(NN_ERR_STATE, "weights load: the graph has an error: %s", g->err);
    int n = nn_graph_params(g, NULL, 0);
    nn_node **params = calloc((size_t)n + 1, sizeof *params);
    entry *e = calloc((size_t)n + 1, sizeof *e);
    if (!params || !e) {
        free(params);
        free(e);
        return nn_set_error(NN_ERR_NOMEM, "weights load: out of memory");
    }
    nn_graph_params(g, params, n);
    nn_le_reader r = {data, (const unsigned char *)data + len, source ? source : "(weights)"};
    nn_status st = check_file(g, &r, e, n, params);
    if (st == NN_OK)
        for (int k = 0; k < n; k++) {
            char *w = e[k].param->tensor->data;
            nn_le_reader d = {e[k].data, e[k].data + e[k].param->tensor->size * 4, r.path};
            for (int64_t i = 0; i < e[k].param->tensor->size; i++) {
                uint32_t v = 0;
                nn_le_u32(&d, &v);
                memcpy(w + 4 * i, &v, 4); /* bytes, not a uint32 lvalue: the storage holds floats */
            }
        }
    free(params);
    free(e);
    return st;
}

nn_status nn_weights_load(nn_graph *g, const char *path) {
    if (!path) return nn_set_error(NN_ERR_ARG, "weights load: path is NULL");
    size_t len = 0;
    char *data = NULL;
    nn_status st = nn_read_file(path, &data, &len);
    if (st != NN_OK) return st;
    st = nn_weights_load_data(g, data, len, path);
    free(data);
    return st;
}
