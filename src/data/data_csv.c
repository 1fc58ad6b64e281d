/* The CSV reader: numeric columns, one of them optionally the label.
 *
 * Deliberately small: fields are separated by commas, may be padded with
 * blanks or wrapped in double quotes (no commas inside quotes), blank lines
 * are skipped, CRLF line ends are accepted. A first row that does not parse
 * as numbers is the header. Every later fault names the line (1-based,
 * counting every physical line) and the column (1-based). */
#include "nngraph/data.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* A growing array of every cell, row after row. */
typedef struct cells {
    double *v;
    size_t n, cap;
} cells;

static int cells_push(cells *c, double x) {
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 1024;
        double *v = realloc(c->v, cap * sizeof *v);
        if (!v) return -1;
        c->v = v;
        c->cap = cap;
    }
    c->v[c->n++] = x;
    return 0;
}

/* Trims blanks and one pair of surrounding double quotes, in place. */
static char *trim_field(char *s) {
    while (*s == ' ' || *s == '\t') s++;
    char *end = s + strlen(s);
    while (end > s && (end[-1] == ' ' || end[-1] == '\t')) *--end = 0;
    if (end - s >= 2 && s[0] == '"' && end[-1] == '"') {
        end[-1] = 0;
        s++;
    }
    return s;
}

/* Parses a whole field as a finite number. */
static int parse_number(const char *s, double *out) {
    if (!*s) return -1;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (*end != 0 || !isfinite(v)) return -1;
    if (errno == ERANGE && fabs(v) > 1.0) return -1; /* overflow; underflow to ~0 is fine */
    *out = v;
    return 0;
}

/* Splits the line at commas in place; returns the field count. */
static size_t split_fields(char *line, char ***fields, size_t *cap) {
    size_t n = 0;
    char *p = line;
    for (;;) {
        if (n == *cap) {
            size_t c = *cap ? *cap * 2 : 16;
            char **f = realloc(*fields, c * sizeof *f);
            if (!f) return (size_t)-1;
            *fields = f;
            *cap = c;
        }
        (*fields)[n++] = p;
        char *comma = strchr(p, ',');
        if (!comma) break;
        *comma = 0;
        p = comma + 1;
    }
    return n;
}

/* getline, bounded: a line longer than `max` bytes (or /dev/zero) stops
 * with -2 instead of growing without end; -1 at the end of the file, -3
 * out of memory. NUL bytes are kept (the caller refuses them). */
static ssize_t read_line(FILE *f, char **line, size_t *cap, uint64_t max) {
    size_t n = 0;
    int ch = 0;
    while ((ch = getc_unlocked(f)) != EOF) {
        if (n + 2 > *cap) {
            if (*cap > max) return -2;
            size_t c = *cap ? *cap * 2 : 256;
            char *l = realloc(*line, c);
            if (!l) return -3;
            *line = l;
            *cap = c;
        }
        (*line)[n++] = (char)ch;
        if (ch == '\n') break;
    }
    if (n == 0 && ch == EOF) return -1;
    (*line)[n] = 0;
    return (ssize_t)n;
}

static int is_blank(const char *s) {
    for (; *s; s++)
        if (!isspace((unsigned char)*s)) return 0;
    return 1;
}

/* Builds the dataset from all cells: column `label` (or none, -1) to y. */
static nn_dataset *build(const char *path, const cells *c, size_t rows, size_t cols, long label, int int_labels,
                         const long *row_line) {
    size_t feats = cols - (label >= 0 ? 1 : 0);
    nn_tensor *x = nn_tensor_new(NN_F32, NN_SHAPE((int64_t)rows, (int64_t)feats));
    nn_tensor *y = NULL;
    if (label >= 0)
        y = int_labels ? nn_tensor_new(NN_I32, NN_SHAPE((int64_t)rows)) : nn_tensor_new(NN_F32, NN_SHAPE((int64_t)rows, 1));
    if (!x || (label >= 0 && !y)) {
        nn_set_error(NN_ERR_NOMEM, "%s: out of memory for %zu rows of %zu columns", path, rows, cols);
        goto fail;
    }
    float *xv = nn_tensor_f32(x);
    for (size_t r = 0; r < rows; r++) {
        size_t k = 0;
        for (size_t j = 0; j < cols; j++) {
            double v = c->v[r * cols + j];
            if ((long)j != label) {
                xv[r * feats + k++] = (float)v;
                continue;
            }
            if (!int_labels) {
                nn_tensor_f32(y)[r] = (float)v;
            } else if (v != floor(v) || v < 0 || v > INT32_MAX) {
                nn_set_error(NN_ERR_FORMAT, "%s: line %ld, column %ld: label %g is not a class number (an integer >= 0)",
                             path, row_line[r], label + 1, v);
                goto fail;
            } else {
                nn_tensor_i32(y)[r] = (int32_t)v;
            }
        }
    }
    return nn_dataset_new(x, y);
fail:
    nn_tensor_free(x);
    nn_tensor_free(y);
    return NULL;
}

nn_dataset *nn_load_csv(const char *path, int label_col, int int_labels) {
    if (!path) {
        nn_set_error(NN_ERR_ARG, "load_csv: path is NULL");
        return NULL;
    }
    FILE *f = fopen(path, "r");
    if (!f) {
        nn_set_error(NN_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    nn_dataset *d = NULL;
    cells c = {0};
    char *line = NULL, **fields = NULL;
    size_t line_cap = 0, fields_cap = 0, cols = 0, rows = 0, rows_cap = 0;
    long *row_line = NULL; /* the file line of each data row, for label errors */
    long lineno = 0, cols_line = 0;
    int saw_first = 0;
    ssize_t len;
    errno = 0;
    uint64_t limit = nn_memory_limit();
    while ((len = read_line(f, &line, &line_cap, limit)) >= 0) {
        lineno++;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = 0;
        if ((size_t)len != strlen(line)) {
            nn_set_error(NN_ERR_FORMAT, "%s: line %ld contains a NUL byte (not a text file?)", path, lineno);
            goto done;
        }
        char *text = line;
        /* a UTF-8 byte-order mark (spreadsheets write one) would make a
         * numeric first row look like a header and silently lose it */
        if (lineno == 1 && !strncmp(text, "\xEF\xBB\xBF", 3)) text += 3;
        if (is_blank(text)) continue;
        size_t n = split_fields(text, &fields, &fields_cap);
        if (n == (size_t)-1) goto nomem;
        if (!saw_first) {
            saw_first = 1;
            cols = n;
            cols_line = lineno;
            int numeric = 1;
            double v;
            for (size_t j = 0; j < n && numeric; j++) numeric = parse_number(trim_field(fields[j]), &v) == 0;
            if (!numeric) continue; /* the header */
        } else if (n != cols) {
            nn_set_error(NN_ERR_FORMAT, "%s: line %ld has %zu fields, expected %zu (as on line %ld)", path, lineno, n,
                         cols, cols_line);
            goto done;
        }
        for (size_t j = 0; j < n; j++) {
            double v;
            char *cell = trim_field(fields[j]);
            /* a double that float cannot hold (1e300) would become inf */
            if (parse_number(cell, &v) == 0 && !isfinite((float)v)) {
                nn_set_error(NN_ERR_FORMAT, "%s: line %ld (data row %zu), column %zu: '%.40s' is outside float's range "
                             "(at most about 3.4e38)", path, lineno, rows + 1, j + 1, cell);
                goto done;
            }
            if (parse_number(cell, &v) != 0) {
                if (*cell)
                    nn_set_error(NN_ERR_FORMAT, "%s: line %ld, column %zu: '%.40s' is not a finite number", path,
                                 lineno, j + 1, cell);
                else
                    nn_set_error(NN_ERR_FORMAT, "%s: line %ld, column %zu: empty field where a number belongs", path,
                                 lineno, j + 1);
                goto done;
            }
            /* the cells (8 bytes each) and the tensor they become (4) */
            if ((c.n + 1) * 12 > limit) {
                nn_check_memory((uint64_t)(c.n + 1) * 12, path, "the data read so far");
                goto done;
            }
            if (cells_push(&c, v) != 0) goto nomem;
        }
        if (rows == rows_cap) {
            size_t cap = rows_cap ? rows_cap * 2 : 256;
            long *rl = realloc(row_line, cap * sizeof *rl);
            if (!rl) goto nomem;
            row_line = rl;
            rows_cap = cap;
        }
        row_line[rows++] = lineno;
        errno = 0;
    }
    if (len == -2) {
        nn_check_memory((uint64_t)line_cap, path, "a line longer than the memory limit");
        goto done;
    }
    if (len == -3) goto nomem;
    if (ferror(f)) {
        nn_set_error(NN_ERR_IO, "%s: read error after line %ld: %s", path, lineno, strerror(errno));
        goto done;
    }
    if (rows == 0) {
        nn_set_error(NN_ERR_FORMAT, "%s: no data rows%s", path, saw_first ? " (only a header)" : " (empty file)");
        goto done;
    }
    long label = -1;
    if (label_col != NN_CSV_NO_LABEL) {
        label = label_col < 0 ? (long)cols + label_col : label_col;
        if (label < 0 || label >= (long)cols) {
            nn_set_error(NN_ERR_ARG, "%s: label column %d is out of range: the file has %zu columns", path, label_col,
                         cols);
            goto done;
        }
        if (cols < 2) {
            nn_set_error(NN_ERR_FORMAT, "%s: only the label column, no feature columns", path);
            goto done;
        }
    }
    d = build(path, &c, rows, cols, label, int_labels, row_line);
    goto done;
nomem:
    nn_set_error(NN_ERR_NOMEM, "%s: out of memory at line %ld", path, lineno);
done:
    free(line);
    free(fields);
    free(c.v);
    free(row_line);
    fclose(f);
    return d;
}
