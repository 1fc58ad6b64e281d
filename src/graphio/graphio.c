/* Graph files, the writing half: the text of a graph (one node a line),
 * atomic saves, the op families registered by custom-op modules, and
 * rebuilding one op in another graph. */
#include "graphio_common.h"
#include "ops.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- op families ---- */

#define MAX_FAMILIES 8
static const nn_op_text_family *families[MAX_FAMILIES];
static int n_families;

nn_status nn_graphio_register_ops(const nn_op_text_family *f) {
    if (!f || !f->prefix || !*f->prefix || !f->format_attrs || !f->build)
        return nn_set_error(NN_ERR_ARG, "register ops: family, prefix, format_attrs and build are required");
    for (int i = 0; i < n_families; i++)
        if (strcmp(families[i]->prefix, f->prefix) == 0) {
            families[i] = f;
            return NN_OK;
        }
    if (n_families == MAX_FAMILIES)
        return nn_set_error(NN_ERR_STATE, "register ops '%s': at most %d op families", f->prefix, MAX_FAMILIES);
    families[n_families++] = f;
    return NN_OK;
}

const nn_op_text_family *nn_graphio_family_for(const char *op) {
    for (int i = 0; op && i < n_families; i++)
        if (strncmp(op, families[i]->prefix, strlen(families[i]->prefix)) == 0) return families[i];
    return NULL;
}

/* ---- names ---- */

int nn_text_clean(const char *s) {
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        unsigned c = *p;
        int extra;
        unsigned min;
        if (c < 0x20 || c == 0x7f) return 0;
        if (c < 0x80) {
            p++;
            continue;
        } else if ((c & 0xe0) == 0xc0) {
            extra = 1, min = 0x80, c &= 0x1f;
        } else if ((c & 0xf0) == 0xe0) {
            extra = 2, min = 0x800, c &= 0x0f;
        } else if ((c & 0xf8) == 0xf0) {
            extra = 3, min = 0x10000, c &= 0x07;
        } else {
            return 0;
        }
        p++;
        for (int k = 0; k < extra; k++, p++) {
            if ((*p & 0xc0) != 0x80) return 0;
            c = (c << 6) | (*p & 0x3f);
        }
        /* overlong forms, surrogates and values past U+10FFFF are not UTF-8 */
        if (c < min || (c >= 0xd800 && c <= 0xdfff) || c > 0x10ffff) return 0;
    }
    return 1;
}

int nn_name_needs_quotes(const char *name) {
    return !*name || strchr(name, '=') || name[0] == '#' || name[0] == '"';
}

void nn_format_float(float v, char *buf, size_t len) { nn_format_number(v, 1, buf, len); }

/* ---- writing ---- */

/* A name as a token: bare, or in double quotes when it could be misread. */
static void put_name(nn_strbuf *sb, const char *name) {
    if (nn_name_needs_quotes(name))
        nn_sb_printf(sb, "\"%s\"", name);
    else
        nn_sb_puts(sb, name);
}

static void put_init(nn_strbuf *sb, nn_init init) {
    char a[32], b[32];
    nn_format_float(init.a, a, sizeof a);
    nn_format_float(init.b, b, sizeof b);
    nn_sb_printf(sb, " init=%s", nn_init_name(init.kind));
    if (init.kind == NN_INIT_CONSTANT)
        nn_sb_printf(sb, "(%s)", a);
    else if (init.kind == NN_INIT_UNIFORM || init.kind == NN_INIT_NORMAL)
        nn_sb_printf(sb, "(%s,%s)", a, b);
}

static void put_const(nn_strbuf *sb, const nn_tensor *t) {
    char num[32];
    int64_t n = t->size;
    /* all elements bit-identical: one value (gradient zeros, scalars) */
    size_t es = nn_dtype_size(t->dtype);
    int uniform = 1;
    for (int64_t i = 1; i < n && uniform; i++)
        uniform = memcmp((const char *)t->data + i * (int64_t)es, t->data, es) == 0;
    nn_sb_puts(sb, uniform ? " fill=" : " value=");
    for (int64_t i = 0; i < (uniform ? 1 : n); i++) {
        if (t->dtype == NN_F32)
            nn_format_float(((const float *)t->data)[i], num, sizeof num);
        else
            snprintf(num, sizeof num, "%d", (int)((const int32_t *)t->data)[i]);
        if (i) nn_sb_puts(sb, ",");
        nn_sb_puts(sb, num);
    }
}

static void put_op_attrs(nn_strbuf *sb, const nn_node *n) {
    int count = nn_op_attr_count(n->op);
    const nn_op_attr *names = n->op->attrs;
    int named_f[NN_MAX_ATTRS] = {0}, named_i[NN_MAX_ATTRS] = {0};
    char num[32];
    for (int k = 0; k < count; k++) {
        const nn_op_attr *a = &names[k];
        if (a->kind == 'f') {
            named_f[a->index] = 1;
            nn_format_float(n->fattr[a->index], num, sizeof num);
            nn_sb_printf(sb, " %s=%s", a->key, num);
        } else {
            named_i[a->index] = 1;
            int64_t v = n->iattr[a->index];
            if (a->kind == 'a' && v == NN_ALL_AXES)
                nn_sb_printf(sb, " %s=all", a->key);
            else if (a->kind == 'p')
                nn_sb_printf(sb, " %s=%s", a->key, nn_pad_mode_name((int)v));
            else if (a->kind == 'a' || a->kind == 'n' || v != 0)
                nn_sb_printf(sb, " %s=%lld", a->key, (long long)v);
        }
    }
    /* attributes no name covers still travel, as raw slots */
    for (int k = 0; k < NN_MAX_ATTRS; k++) {
        if (!named_f[k] && n->fattr[k] != 0.f) {
            nn_format_float(n->fattr[k], num, sizeof num);
            nn_sb_printf(sb, " f%d=%s", k, num);
        }
        if (!named_i[k] && n->iattr[k] != 0) nn_sb_printf(sb, " i%d=%lld", k, (long long)n->iattr[k]);
    }
}

static int put_node(nn_strbuf *sb, const nn_node *n) {
    char sh[96];
    put_name(sb, n->name);
    nn_sb_printf(sb, " %s %s %s", nn_node_op(n), nn_dtype_name(n->dtype), nn_shape_str(n->shape, sh, sizeof sh));
    for (int i = 0; i < n->n_in; i++) {
        nn_sb_puts(sb, " ");
        put_name(sb, n->in[i]->name);
    }
    if (n->kind == NN_NODE_PARAM) put_init(sb, n->init);
    if (n->kind == NN_NODE_PARAM && n->frozen) nn_sb_puts(sb, " trainable=0");
    if (n->kind == NN_NODE_CONST) put_const(sb, n->tensor);
    if (n->kind == NN_NODE_OP) {
        const nn_op_text_family *fam = nn_graphio_family_for(n->op->name);
        if (fam) {
            char attrs[4096];
            int len = fam->format_attrs(n, attrs, sizeof attrs);
            if (len < 0) return -1;
            if ((size_t)len >= sizeof attrs) {
                nn_set_error(NN_ERR_ARG, "node '%s': op %s attributes are too long", n->name, n->op->name);
                return -1;
            }
            nn_sb_append(sb, attrs, (size_t)len);
        } else {
            put_op_attrs(sb, n);
        }
    }
    if (n->is_grad) nn_sb_puts(sb, " grad=1");
    if (n->grad_of) {
        nn_sb_puts(sb, " grad_of=");
        put_name(sb, n->grad_of->name);
    }
    nn_sb_puts(sb, "\n");
    return 0;
}

char *nn_graph_to_text(const nn_graph *g) {
    if (!g) {
        nn_set_error(NN_ERR_ARG, "save: graph is NULL");
        return NULL;
    }
    if (g->status != NN_OK) {
        nn_set_error(NN_ERR_STATE, "save: the graph has an error: %s", g->err);
        return NULL;
    }
    for (int i = 0; i < g->n_nodes; i++)
        if (!nn_text_clean(g->nodes[i]->name)) {
            nn_set_error(NN_ERR_ARG, "save: node %d's name is not clean UTF-8 text (control character or bad byte)", i);
            return NULL;
        }
    nn_strbuf sb = {0};
    char count[32];
    nn_sb_printf(&sb, "nngraph-graph %d\n", NN_GRAPH_FORMAT_VERSION);
    nn_sb_printf(&sb, "# %d nodes, %s parameters\n", g->n_nodes,
                 nn_format_count(nn_graph_param_count(g), count, sizeof count));
    for (int i = 0; i < g->n_nodes; i++)
        if (put_node(&sb, g->nodes[i]) != 0) {
            nn_sb_free(&sb);
            return NULL;
        }
    nn_sb_printf(&sb, "end %d\n", g->n_nodes);
    if (sb.failed) {
        nn_sb_free(&sb);
        nn_set_error(NN_ERR_NOMEM, "save: out of memory");
        return NULL;
    }
    return sb.data;
}

nn_status nn_graph_save_text(const nn_graph *g, FILE *out) {
    if (!out) return nn_set_error(NN_ERR_ARG, "save: output stream is NULL");
    char *text = nn_graph_to_text(g);
    if (!text) return NN_ERR_ARG;
    size_t len = strlen(text);
    int ok = fwrite(text, 1, len, out) == len && fflush(out) == 0;
    free(text);
    return ok ? NN_OK : nn_set_error(NN_ERR_IO, "save: write failed: %s", strerror(errno));
}

nn_status nn_graph_save(const nn_graph *g, const char *path) {
    if (!path) return nn_set_error(NN_ERR_ARG, "save: path is NULL");
    char *text = nn_graph_to_text(g);
    if (!text) return NN_ERR_ARG;
    nn_status s = nn_write_file_atomic(path, text, strlen(text));
    free(text);
    return s;
}

/* ---- rebuilding one op elsewhere ---- */

nn_node *nn_node_rebuild(nn_graph *dst, const nn_node *src, const char *name, nn_node *const *in) {
    if (!dst || dst->status != NN_OK) return NULL;
    if (!src || src->kind != NN_NODE_OP)
        return nn_fail(dst, NN_ERR_ARG, "rebuild: node '%s' is not an op", src ? src->name : "(null)");
    const nn_op_text_family *fam = nn_graphio_family_for(src->op->name);
    if (!fam) return nn_op_node(dst, src->op, name, src->n_in, in, src->fattr, src->iattr);
    /* a custom op's data is known only to its family: through its text */
    char attrs[4096];
    int len = fam->format_attrs(src, attrs, sizeof attrs);
    if (len < 0 || (size_t)len >= sizeof attrs)
        return nn_fail(dst, NN_ERR_ARG, "rebuild: op %s of '%s' cannot be written: %s", src->op->name, src->name,
                       nn_last_error());
    const char *keys[32], *values[32];
    int n = 0;
    for (char *p = attrs; *p && n < 32;) {
        while (*p == ' ') p++;
        if (!*p) break;
        char *tok = p;
        while (*p && *p != ' ') p++;
        if (*p) *p++ = 0;
        char *eq = strchr(tok, '=');
        if (!eq) continue;
        *eq = 0;
        keys[n] = tok;
        values[n++] = eq + 1;
    }
    return fam->build(dst, name, src->op->name, in, src->n_in, keys, values, n);
}
