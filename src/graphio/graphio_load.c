/* Graph files, the reading half: a line-by-line parser that rebuilds the
 * graph through the ordinary builders (nn_input, nn_param, nn_const,
 * nn_op_node), so every shape rule runs again. Every error names the file,
 * line and column; nothing half-built escapes unless the caller asked for
 * the partial graph (to draw a broken file). */
#include "fileutil.h"
#include "graphio_parse.h"
#include "ops.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Records the failing line's node for pictures of broken files. */
static void note_fault(nn_gf_parser *p, const nn_gf_token *tok, int n_tok, int n_in) {
    if (!p->fault) return;
    snprintf(p->fault->node, sizeof p->fault->node, "%s", tok[0].s);
    if (n_tok > 1) snprintf(p->fault->op, sizeof p->fault->op, "%s", tok[1].s);
    int room = (int)(sizeof p->fault->inputs / sizeof *p->fault->inputs);
    p->fault->n_inputs = n_in > room ? room : n_in;
    for (int i = 0; i < p->fault->n_inputs; i++)
        snprintf(p->fault->inputs[i], sizeof p->fault->inputs[i], "%s", tok[4 + i].s);
}

static int is_attr(const nn_gf_token *t) { return !t->quoted && strchr(t->s, '=') != NULL; }

/* The op attributes of a registry op from key=value tokens. */
static int op_attrs(nn_gf_parser *p, const nn_op_def *op, nn_gf_token *attr, int n_attr, float *fattr, int64_t *iattr) {
    int count = nn_op_attr_count(op);
    const nn_op_attr *names = op->attrs;
    for (int a = 0; a < n_attr; a++) {
        char *key = attr[a].s, *val = strchr(key, '=') + 1;
        if (strncmp(key, "grad=", 5) == 0 || strncmp(key, "grad_of=", 8) == 0) continue;
        const nn_op_attr *nm = NULL;
        for (int k = 0; k < count; k++)
            if (strncmp(key, names[k].key, strlen(names[k].key)) == 0 && key[strlen(names[k].key)] == '=')
                nm = &names[k];
        char kind;
        int idx;
        if (nm) {
            kind = nm->kind;
            idx = nm->index;
        } else if ((key[0] == 'f' || key[0] == 'i') && key[1] >= '0' && key[1] < '0' + NN_MAX_ATTRS && key[2] == '=') {
            kind = key[0] == 'f' ? 'f' : 'r';
            idx = key[1] - '0';
        } else {
            char known[256] = "";
            for (int k = 0; k < count; k++)
                snprintf(known + strlen(known), sizeof known - strlen(known), "%s%s", k ? ", " : "", names[k].key);
            val[-1] = 0;
            nn_gf_fail(p, attr[a].col, "unknown attribute '%s' for op %s (%s%s)", key, op->name,
                    count ? "known: " : "it has none", known);
            return -1;
        }
        int64_t v = 0;
        int r = 0;
        if (kind == 'f') {
            r = nn_gf_float(val, &fattr[idx]);
        } else if (kind == 'a' && strcmp(val, "all") == 0) {
            iattr[idx] = NN_ALL_AXES;
        } else if (kind == 'p') {
            int mode = nn_pad_mode_from_name(val);
            if (mode < 0) {
                val[-1] = 0;
                nn_gf_fail(p, attr[a].col + (int)strlen(key) + 1, "attribute %s: '%s' is not explicit, same or valid",
                           key, val);
                return -1;
            }
            iattr[idx] = mode;
        } else {
            int64_t lo = kind == 'i' ? 0 : kind == 'a' ? -NN_MAX_RANK : INT32_MIN; /* 'n', raw 'r' */
            int64_t hi = kind == 'i' ? 1 : kind == 'a' ? NN_MAX_RANK - 1 : INT32_MAX;
            r = nn_gf_int(val, lo, hi, &v);
            iattr[idx] = v;
        }
        if (r != 0) {
            val[-1] = 0;
            nn_gf_fail(p, attr[a].col + (int)strlen(key) + 1, "attribute %s: '%s' is %s", key, val,
                    r == -2 ? "out of range" : kind == 'f' ? "not a number" : "not a valid integer");
            return -1;
        }
    }
    return 0;
}

static const char *attr_value(nn_gf_token *attr, int n_attr, const char *key, int *col) {
    size_t kl = strlen(key);
    for (int a = 0; a < n_attr; a++)
        if (strncmp(attr[a].s, key, kl) == 0 && attr[a].s[kl] == '=') {
            if (col) *col = attr[a].col;
            return attr[a].s + kl + 1;
        }
    return NULL;
}

/* Only these keys are allowed on a node of a fixed kind. */
static int check_keys(nn_gf_parser *p, nn_gf_token *attr, int n_attr, const char *kind, const char *const *allowed) {
    for (int a = 0; a < n_attr; a++) {
        int ok = 0;
        for (int k = 0; allowed[k] && !ok; k++) {
            size_t kl = strlen(allowed[k]);
            ok = strncmp(attr[a].s, allowed[k], kl) == 0 && attr[a].s[kl] == '=';
        }
        if (!ok) {
            *strchr(attr[a].s, '=') = 0;
            nn_gf_fail(p, attr[a].col, "unknown attribute '%s' for a%s %s node", attr[a].s,
                    kind[0] == 'i' ? "n" : "", kind);
            return -1;
        }
    }
    return 0;
}

static nn_node *build_op(nn_gf_parser *p, nn_gf_token *tok, int n_in, nn_node **in, nn_gf_token *attr, int n_attr) {
    const char *name = tok[0].s, *opname = tok[1].s;
    const nn_op_text_family *fam = nn_graphio_family_for(opname);
    if (fam) {
        const char *keys[NN_GF_MAX_TOKENS], *values[NN_GF_MAX_TOKENS];
        int n = 0;
        for (int a = 0; a < n_attr; a++) {
            char *eq = strchr(attr[a].s, '=');
            if (strncmp(attr[a].s, "grad=", 5) == 0 || strncmp(attr[a].s, "grad_of=", 8) == 0) continue;
            *eq = 0;
            keys[n] = attr[a].s;
            values[n++] = eq + 1;
        }
        return fam->build(p->g, name, opname, in, n_in, keys, values, n);
    }
    const nn_op_def *op = nn_op_find(opname);
    if (n_in != op->n_inputs) {
        nn_gf_fail(p, n_in > op->n_inputs ? tok[4 + op->n_inputs].col : tok[3].col,
                "wrong arity: op %s takes %d input%s, the line gives %d", opname, op->n_inputs,
                op->n_inputs == 1 ? "" : "s", n_in);
        return NULL;
    }
    float fattr[NN_MAX_ATTRS] = {0};
    int64_t iattr[NN_MAX_ATTRS] = {0};
    if (op_attrs(p, op, attr, n_attr, fattr, iattr) != 0) return NULL;
    return nn_op_node(p->g, op, name, n_in, in, fattr, iattr);
}

static int has_batch(nn_shape s) { return s.rank > 0 && s.dim[0] == NN_BATCH; }

static int parse_line(nn_gf_parser *p, char *buf, int *saw_end) {
    nn_gf_token tok[NN_GF_MAX_TOKENS];
    int n_tok;
    if (nn_gf_tokenize(p, buf, tok, &n_tok) != 0) return -1;
    if (n_tok == 0 || (tok[0].s[0] == '#' && !tok[0].quoted)) return 0;
    if (*saw_end) {
        nn_gf_fail(p, tok[0].col, "text after the 'end' line");
        return -1;
    }
    if (!tok[0].quoted && strcmp(tok[0].s, "end") == 0) {
        int64_t count;
        if (n_tok != 2 || nn_gf_int(tok[1].s, 0, INT32_MAX, &count) != 0) {
            nn_gf_fail(p, tok[0].col, "the last line must be 'end N' (N: the number of nodes)");
            return -1;
        }
        if (count != p->g->n_nodes) {
            nn_gf_fail(p, tok[1].col, "'end %lld' but the file has %d nodes (truncated or edited?)", (long long)count,
                    p->g->n_nodes);
            return -1;
        }
        *saw_end = 1;
        return 0;
    }
    if (n_tok < 4) {
        note_fault(p, tok, n_tok, 0);
        nn_gf_fail(p, (int)(tok[n_tok - 1].col + strlen(tok[n_tok - 1].s)),
                "truncated line: a node line is NAME OP DTYPE SHAPE [INPUTS...] [KEY=VALUE...]");
        return -1;
    }
    int n_in = 0;
    while (4 + n_in < n_tok && !is_attr(&tok[4 + n_in])) n_in++;
    nn_gf_token *attr = &tok[4 + n_in];
    int n_attr = n_tok - 4 - n_in;
    note_fault(p, tok, n_tok, n_in);
    for (int a = 0; a < n_attr; a++) {
        if (!is_attr(&attr[a])) {
            nn_gf_fail(p, attr[a].col, "input '%s' after the attributes (inputs come first)", attr[a].s);
            return -1;
        }
        size_t kl = (size_t)(strchr(attr[a].s, '=') - attr[a].s);
        for (int b = 0; b < a; b++)
            if (strncmp(attr[a].s, attr[b].s, kl + 1) == 0) {
                nn_gf_fail(p, attr[a].col, "attribute '%.*s' given twice", (int)kl, attr[a].s);
                return -1;
            }
        /* a quoted value ("grad_of="a=b"") loses its quotes */
        char *v = attr[a].s + kl + 1;
        size_t vl = strlen(v);
        if (vl >= 2 && v[0] == '"' && v[vl - 1] == '"') memmove(v, v + 1, vl - 2), v[vl - 2] = 0;
    }
    const char *name = tok[0].s, *op = tok[1].s;
    nn_node *prev = nn_graph_find(p->g, name);
    if (prev) {
        nn_gf_fail(p, tok[0].col, "duplicate node name '%s' (first defined on line %d)", name, p->node_line[prev->id]);
        return -1;
    }
    if (!*name) {
        nn_gf_fail(p, tok[0].col, "empty node name");
        return -1;
    }
    int kind = strcmp(op, "input") == 0 ? NN_NODE_INPUT : strcmp(op, "param") == 0 ? NN_NODE_PARAM
             : strcmp(op, "const") == 0 ? NN_NODE_CONST : NN_NODE_OP;
    if (kind == NN_NODE_OP && !nn_op_find(op) && !nn_graphio_family_for(op)) {
        /* FAMILY:... names an op of a family nobody registered (custom ops
         * plug in at run time, e.g. ffi ops with their library) */
        const char *colon = strchr(op, ':');
        if (colon)
            nn_gf_fail(p, tok[1].col, "unknown op '%s': no op family '%.*s:' is registered (ffi ops: load their "
                       "library on purpose with --ops LIB, NNGRAPH_OPS or nn_ffi_load_library())", op,
                       (int)(colon - op), op);
        else
            nn_gf_fail(p, tok[1].col, "unknown op '%s'", op);
        return -1;
    }
    nn_dtype dt;
    if (strcmp(tok[2].s, "f32") == 0)
        dt = NN_F32;
    else if (strcmp(tok[2].s, "i32") == 0)
        dt = NN_I32;
    else {
        nn_gf_fail(p, tok[2].col, "unknown dtype '%s' (f32 or i32)", tok[2].s);
        return -1;
    }
    nn_shape shape;
    if (nn_gf_shape(p, &tok[3], &shape) != 0) return -1;
    nn_node *in[NN_MAX_INPUTS] = {0};
    if (n_in > NN_MAX_INPUTS) {
        nn_gf_fail(p, tok[4 + NN_MAX_INPUTS].col, "wrong arity: %d inputs (at most %d)", n_in, NN_MAX_INPUTS);
        return -1;
    }
    for (int i = 0; i < n_in; i++) {
        in[i] = nn_graph_find(p->g, tok[4 + i].s);
        if (in[i]) continue;
        int later = strcmp(tok[4 + i].s, name) == 0 ? p->line : nn_gf_defined_later(p, tok[4 + i].s);
        if (later)
            nn_gf_fail(p, tok[4 + i].col, "input '%s' is defined on line %d, not before its use (a cycle or a forward "
                    "reference: nodes must come after their inputs)", tok[4 + i].s, later);
        else
            nn_gf_fail(p, tok[4 + i].col, "dangling input '%s': no node of that name", tok[4 + i].s);
        return -1;
    }
    if (kind != NN_NODE_OP && n_in) {
        nn_gf_fail(p, tok[4].col, "wrong arity: a%s %s node takes no inputs", kind == NN_NODE_INPUT ? "n" : "", op);
        return -1;
    }
    int acol = 0;
    nn_node *n = NULL;
    int before = p->g->n_nodes;
    if (kind == NN_NODE_INPUT) {
        static const char *const keys[] = {"grad", "grad_of", NULL};
        if (check_keys(p, attr, n_attr, op, keys) != 0) return -1;
        n = nn_input(p->g, name, dt, shape);
    } else if (kind == NN_NODE_PARAM) {
        static const char *const keys[] = {"init", "trainable", "grad", "grad_of", NULL};
        if (check_keys(p, attr, n_attr, op, keys) != 0) return -1;
        const char *iv = attr_value(attr, n_attr, "init", &acol);
        nn_init init;
        if (dt != NN_F32) return nn_gf_fail(p, tok[2].col, "a param is f32, not %s", tok[2].s);
        if (has_batch(shape)) return nn_gf_fail(p, tok[3].col, "a param's shape is fixed: no batch dimension B");
        if (nn_gf_elems(shape) < 0)
            return nn_gf_fail(p, tok[3].col, "param too large (at most %lld elements)", (long long)NN_GF_MAX_ELEMS);
        if (!iv) return nn_gf_fail(p, tok[3].col, "param '%s' has no init=... initialiser", name);
        if (nn_gf_reserve(p, tok[3].col, nn_gf_elems(shape)) != 0) return -1;
        if (nn_gf_init(p, acol, iv, &init) != 0) return -1;
        int tcol;
        const char *tv = attr_value(attr, n_attr, "trainable", &tcol);
        if (tv && strcmp(tv, "0") != 0 && strcmp(tv, "1") != 0)
            return nn_gf_fail(p, tcol, "attribute trainable: '%s' is not 0 or 1", tv);
        n = nn_param(p->g, name, shape, init);
        if (n && tv) n->frozen = tv[0] == '0';
    } else if (kind == NN_NODE_CONST) {
        static const char *const keys[] = {"fill", "value", "grad", "grad_of", NULL};
        if (check_keys(p, attr, n_attr, op, keys) != 0) return -1;
        const char *fill = attr_value(attr, n_attr, "fill", &acol);
        const char *val = attr_value(attr, n_attr, "value", fill ? NULL : &acol);
        if (has_batch(shape)) return nn_gf_fail(p, tok[3].col, "a constant's shape is fixed: no batch dimension B");
        if (!fill == !val) return nn_gf_fail(p, tok[3].col, "a constant needs exactly one of fill=V or value=V,V,...");
        nn_tensor *t = nn_gf_const(p, acol, fill ? "fill" : "value", fill ? fill : val, dt, shape);
        if (!t) return -1;
        n = nn_const(p->g, name, t);
        nn_tensor_free(t);
    } else {
        n = build_op(p, tok, n_in, in, attr, n_attr);
        if (p->failed) return -1;
    }
    if (!n || p->g->n_nodes != before + 1) {
        /* a builder refused: its message names op, node and shapes */
        nn_gf_fail(p, tok[1].col, "%s", p->g->status ? p->g->err : "the node could not be built");
        return -1;
    }
    if (n->dtype != dt || !nn_shape_equal(n->shape, shape)) {
        char a[64];
        return nn_gf_fail(p, tok[3].col, "node '%s': the file says %s %s but %s gives %s %s", name, tok[2].s,
                          tok[3].s, op, nn_dtype_name(n->dtype), nn_shape_str(n->shape, a, sizeof a));
    }
    int gcol;
    const char *gv = attr_value(attr, n_attr, "grad", &gcol);
    if (gv) {
        if (strcmp(gv, "1") != 0 && strcmp(gv, "0") != 0)
            return nn_gf_fail(p, gcol, "grad= takes 0 or 1, not '%s'", gv);
        n->is_grad = gv[0] == '1';
    }
    const char *of = attr_value(attr, n_attr, "grad_of", &gcol);
    if (of) {
        nn_node *target = nn_graph_find(p->g, of);
        if (!target || target->kind != NN_NODE_PARAM)
            return nn_gf_fail(p, gcol, "grad_of: '%s' is not a param defined before this line", of);
        n->grad_of = target;
    }
    int *lines = realloc(p->node_line, (size_t)p->g->n_nodes * sizeof *lines);
    if (!lines) return nn_gf_fail(p, 0, "out of memory");
    p->node_line = lines;
    lines[n->id] = p->line;
    return 0;
}

static nn_graph *parse_all(nn_gf_parser *p, int partial) {
    const char *c = p->text, *end = p->text + p->len;
    int saw_header = 0, saw_end = 0;
    char *buf = NULL;
    size_t cap = 0;
    p->line = 0;
    while (c < end && !p->failed) {
        const char *eol = memchr(c, '\n', (size_t)(end - c));
        size_t l = eol ? (size_t)(eol - c) : (size_t)(end - c);
        p->line++;
        p->line_start = c;
        if (l + 1 > cap) {
            cap = l + 1 > 2 * cap ? l + 1 : 2 * cap;
            char *nb = realloc(buf, cap);
            if (!nb) {
                nn_gf_fail(p, 0, "out of memory");
                break;
            }
            buf = nb;
        }
        memcpy(buf, c, l);
        buf[l] = 0;
        if (l && buf[l - 1] == '\r') buf[--l] = 0;
        c = eol ? eol + 1 : end;
        if (memchr(buf, 0, l) || strlen(buf) != l) {
            nn_gf_fail(p, 0, "NUL byte in the text");
            break;
        }
        /* tabs are whitespace; any other control byte or broken UTF-8 is
         * an error with its column */
        for (size_t i = 0; i < l; i++)
            if (buf[i] == '\t') buf[i] = ' ';
        if (!nn_text_clean(buf)) {
            size_t i = 0;
            char one[5];
            for (; i < l; i++) {
                one[0] = buf[i];
                one[1] = 0;
                if ((unsigned char)buf[i] < 0x80 && !nn_text_clean(one)) break;
            }
            nn_gf_fail(p, i < l ? nn_gf_column(p, p->line_start + i) : 0, "not UTF-8 text (bad byte or control character)");
            break;
        }
        if (!saw_header) {
            char *s = buf;
            while (*s == ' ') s++;
            int version;
            char trail;
            if (sscanf(s, "nngraph-graph %d %c", &version, &trail) != 1) {
                nn_gf_fail(p, 1, "not a graph file: the first line must be 'nngraph-graph %d'", NN_GRAPH_FORMAT_VERSION);
                break;
            }
            if (version != NN_GRAPH_FORMAT_VERSION) {
                nn_gf_fail(p, 15, "graph file version %d is not supported (this build reads version %d)", version,
                        NN_GRAPH_FORMAT_VERSION);
                break;
            }
            saw_header = 1;
            p->g = nn_graph_new(p->seed);
            if (!p->g) {
                nn_gf_fail(p, 0, "out of memory");
                break;
            }
            continue;
        }
        parse_line(p, buf, &saw_end);
    }
    free(buf);
    if (!p->failed && !saw_header) {
        p->line = p->line ? p->line : 1;
        nn_gf_fail(p, 0, "empty file: the first line must be 'nngraph-graph %d'", NN_GRAPH_FORMAT_VERSION);
    }
    if (!p->failed && !saw_end) nn_gf_fail(p, 0, "truncated file: no 'end %d' line after the last node", p->g->n_nodes);
    if (!p->failed) return p->g;
    if (partial && p->g) {
        /* the picture of a broken file shows the error as the graph's */
        p->g->status = p->g->status != NN_OK ? p->g->status : NN_ERR_FORMAT;
        snprintf(p->g->err, sizeof p->g->err, "%s", nn_last_error());
        return p->g;
    }
    nn_graph_free(p->g);
    p->g = NULL;
    return NULL;
}

/* 1 if the last line holding anything but blanks starts with "end". */
static int ends_with_end_line(const char *text, size_t len) {
    size_t e = len;
    while (e > 0 && (text[e - 1] == '\n' || text[e - 1] == '\r' || text[e - 1] == ' ' || text[e - 1] == '\t')) e--;
    size_t s = e;
    while (s > 0 && text[s - 1] != '\n') s--;
    while (s < e && (text[s] == ' ' || text[s] == '\t')) s++;
    return e - s >= 4 && strncmp(text + s, "end ", 4) == 0;
}

static nn_graph *load_text(const char *text, size_t len, const char *source, uint64_t seed, int partial,
                           nn_load_fault *fault) {
    if (fault) memset(fault, 0, sizeof *fault);
    if (!text) {
        nn_set_error(NN_ERR_ARG, "load: text is NULL");
        return NULL;
    }
    nn_gf_parser p = {0};
    p.source = source ? source : "(text)";
    p.text = text;
    p.len = len;
    p.fault = fault;
    p.seed = seed;
    /* a file cut short is found before big allocations, not after */
    p.unterminated = !ends_with_end_line(text, len);
    nn_graph *g = parse_all(&p, partial);
    free(p.node_line);
    return g;
}

static nn_graph *load_path(const char *path, uint64_t seed, int partial, nn_load_fault *fault) {
    if (fault) memset(fault, 0, sizeof *fault);
    if (!path) {
        nn_set_error(NN_ERR_ARG, "load: path is NULL");
        return NULL;
    }
    size_t len = 0;
    char *text = NULL;
    if (nn_read_file(path, &text, &len) != NN_OK) return NULL;
    nn_graph *g = load_text(text, len, path, seed, partial, fault);
    free(text);
    return g;
}

nn_graph *nn_graph_load(const char *path, uint64_t seed) { return load_path(path, seed, 0, NULL); }

nn_graph *nn_graph_load_partial(const char *path, uint64_t seed, nn_load_fault *fault) {
    return load_path(path, seed, 1, fault);
}

nn_graph *nn_graph_load_text(const char *text, size_t len, const char *source, uint64_t seed) {
    return load_text(text, len, source, seed, 0, NULL);
}

nn_graph *nn_graph_load_text_partial(const char *text, size_t len, const char *source, uint64_t seed,
                                     nn_load_fault *fault) {
    return load_text(text, len, source, seed, 1, fault);
}
