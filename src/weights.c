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
#include <stdlib.h>
#include <string.h>

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

/* The shared cursor (fileutil.h) and the file's name for messages. */
typedef struct reader {
    nn_le_reader in;
    const char *path;
} reader;

static int get(reader *r, void *out, size_t n) {
    const unsigned char *q = nn_le_take(&r->in, n);
    if (!q) return -1;
    memcpy(out, q, n);
    return 0;
}

static int get_u32(reader *r, uint32_t *v) { return nn_le_u32(&r->in, v); }
static int get_u64(reader *r, uint64_t *v) { return nn_le_u64(&r->in, v); }

typedef struct entry {
    nn_node *param;
    const unsigned char *data;
} entry;

static nn_status truncated(const reader *r, const char *what) {
    return nn_set_error(NN_ERR_FORMAT, "%s: truncated weights file (while reading %s)", r->path, what);
}

/* Parses and checks everything; fills e[] (one per param of g, by id of
 * the param's rank among params). */
static nn_status check_file(nn_graph *g, reader *r, entry *e, int n_params, nn_node **params) {
    char magic[4];
    uint32_t version, count;
    if (get(r, magic, 4) || memcmp(magic, MAGIC, 4) != 0)
        return nn_set_error(NN_ERR_FORMAT, "%s: not an nngraph weights file (bad magic)", r->path);
    if (get_u32(r, &version) || get_u32(r, &count)) return truncated(r, "the header");
    if (version != VERSION)
        return nn_set_error(NN_ERR_FORMAT, "%s: weights format version %u is not supported (this build reads %u)",
                            r->path, version, VERSION);
    for (uint32_t t = 0; t < count; t++) {
        uint32_t nl, dtype, rank;
        char name[512];
        if (get_u32(r, &nl)) return truncated(r, "a tensor name");
        if (nl == 0 || nl >= sizeof name)
            return nn_set_error(NN_ERR_FORMAT, "%s: tensor %u: bad name length %u", r->path, t, nl);
        if (get(r, name, nl)) return truncated(r, "a tensor name");
        name[nl] = 0;
        if (get_u32(r, &dtype) || get_u32(r, &rank)) return truncated(r, name);
        if (dtype != NN_F32 || rank > NN_MAX_RANK)
            return nn_set_error(NN_ERR_FORMAT, "%s: tensor '%s': bad dtype %u or rank %u", r->path, name, dtype, rank);
        nn_shape s = {(int)rank, {0}};
        for (uint32_t d = 0; d < rank; d++) {
            uint64_t v;
            if (get_u64(r, &v)) return truncated(r, name);
            if (v == 0 || v > INT32_MAX)
                return nn_set_error(NN_ERR_FORMAT, "%s: tensor '%s': bad dimension %llu", r->path, name,
                                    (unsigned long long)v);
            s.dim[d] = (int64_t)v;
        }
        uint64_t bytes;
        uint32_t crc;
        if (get_u64(r, &bytes)) return truncated(r, name);
        nn_node *p = nn_graph_find(g, name);
        if (!p || p->kind != NN_NODE_PARAM)
            return nn_set_error(NN_ERR_FORMAT, "%s: tensor '%s' is not a parameter of the graph", r->path, name);
        char a[64], b[64];
        if (!nn_shape_equal(s, p->shape))
            return nn_set_error(NN_ERR_SHAPE, "%s: parameter '%s' is %s in the file but %s in the graph", r->path, name,
                                nn_shape_str(s, a, sizeof a), nn_shape_str(p->shape, b, sizeof b));
        if (bytes != (uint64_t)p->tensor->size * 4)
            return nn_set_error(NN_ERR_FORMAT, "%s: tensor '%s': %llu data bytes for %lld elements", r->path, name,
                                (unsigned long long)bytes, (long long)p->tensor->size);
        if ((uint64_t)nn_le_left(&r->in) < bytes) return truncated(r, name);
        const unsigned char *data = nn_le_take(&r->in, (size_t)bytes);
        if (get_u32(r, &crc)) return truncated(r, name);
        if (crc != nn_crc32(data, bytes))
            return nn_set_error(NN_ERR_FORMAT, "%s: tensor '%s': checksum mismatch (file damaged)", r->path, name);
        int k = 0;
        while (k < n_params && params[k] != p) k++;
        if (e[k].data)
            return nn_set_error(NN_ERR_FORMAT, "%s: parameter '%s' appears twice", r->path, name);
        e[k] = (entry){p, data};
    }
    if (nn_le_left(&r->in) != 0)
        return nn_set_error(NN_ERR_FORMAT, "%s: %lld unexpected bytes after the last tensor", r->path,
                            (long long)nn_le_left(&r->in));
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
    reader r = {{data, (const unsigned char *)data + len}, source ? source : "(weights)"};
    nn_status st = check_file(g, &r, e, n, params);
    if (st == NN_OK)
        for (int k = 0; k < n; k++) {
            char *w = e[k].param->tensor->data;
            nn_le_reader d = {e[k].data, e[k].data + e[k].param->tensor->size * 4};
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
