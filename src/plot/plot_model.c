/* A trained model over its input plane: decision regions, one hidden
 * unit's activation, a layer's units as a grid of maps, the data as a
 * hidden layer sees it, and a 1-input regression curve. */
#include "plot_internal.h"

#include <math.h>
#include <plplot.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The model's `node` at n points (f32 [n, dim]); NULL with the graph's
 * error moved into nn_last_error(). */
static nn_tensor *eval_at(const nn_plot_model *m, nn_node *node, const nn_tensor *x) {
    nn_tensor *out = nn_predict(m->graph, m->input, node, x, 1024);
    if (!out) {
        if (nn_graph_status(m->graph) != NN_OK)
            nn_set_error(nn_graph_status(m->graph), "%s", nn_error_message(m->graph));
        nn_graph_clear_run_error(m->graph);
    }
    return out;
}

/* Columns of a [n, ...] tensor (1 for rank 1). */
static int64_t cols_of(const nn_tensor *t) {
    nn_shape s = nn_tensor_shape(t);
    return s.rank >= 2 && s.dim[0] ? nn_tensor_size(t) / s.dim[0] : 1;
}

/* The class of each row of scores [n, k] (argmax), or of a single logit
 * (logit > 0). */
static void classes_of(const nn_tensor *scores, int *cls) {
    int64_t n = nn_tensor_shape(scores).dim[0], k = cols_of(scores);
    const float *v = nn_tensor_f32(scores);
    for (int64_t i = 0; i < n; i++) {
        if (k == 1) {
            cls[i] = v[i] > 0;
            continue;
        }
        int best = 0;
        for (int64_t j = 1; j < k; j++)
            if (v[i * k + j] > v[i * k + best]) best = (int)j;
        cls[i] = best;
    }
}

/* The plane: the data's box with a 10% margin, and its grid x grid cell
 * centres as f32 [grid*grid, 2], x fastest. */
typedef struct plane {
    double x0, x1, y0, y1;
    int grid;
    nn_tensor *pts;
} plane;

static nn_status plane_make(plane *p, const nn_tensor *x, int grid, const char *path) {
    nn_shape s = nn_tensor_shape(x);
    int64_t n = s.dim[0];
    if (s.rank != 2 || s.dim[1] != 2 || nn_tensor_dtype(x) != NN_F32 || n < 1)
        return nn_set_error(NN_ERR_SHAPE, "%s: the data must be f32 [n, 2] points for a picture of the plane", path);
    if (!pl_range(nn_tensor_f32(x), n, 2, 0.1, &p->x0, &p->x1) ||
        !pl_range(nn_tensor_f32(x) + 1, n, 2, 0.1, &p->y0, &p->y1))
        return nn_set_error(NN_ERR_ARG, "%s: the data has no finite point", path);
    p->grid = grid > 0 ? grid : 200;
    if (p->grid > 2000) return nn_set_error(NN_ERR_ARG, "%s: grid %d above 2000", path, p->grid);
    p->pts = nn_tensor_new(NN_F32, NN_SHAPE((int64_t)p->grid * p->grid, 2));
    if (!p->pts) return nn_set_error(NN_ERR_NOMEM, "%s: out of memory for the grid", path);
    float *v = nn_tensor_f32(p->pts);
    for (int j = 0; j < p->grid; j++)
        for (int i = 0; i < p->grid; i++) {
            int64_t r = (int64_t)j * p->grid + i;
            v[2 * r] = (float)(p->x0 + (p->x1 - p->x0) * (i + 0.5) / p->grid);
            v[2 * r + 1] = (float)(p->y0 + (p->y1 - p->y0) * (j + 0.5) / p->grid);
        }
    return NN_OK;
}

/* A plane's values (row r = j*grid + i, column col of a [g*g, cols]
 * tensor) as the PLplot matrix z[i][j]. */
static PLFLT **plane_matrix(const plane *p, const float *v, int64_t cols, int64_t col, const int *cls) {
    PLFLT **z;
    plAlloc2dGrid(&z, p->grid, p->grid);
    for (int j = 0; j < p->grid; j++)
        for (int i = 0; i < p->grid; i++) {
            int64_t r = (int64_t)j * p->grid + i;
            z[i][j] = cls ? cls[r] : v[r * cols + col];
        }
    return z;
}

/* Lines between cells of different classes, so regions stay apart
 * without colour: vertical runs, then horizontal runs. */
static void class_borders(const plane *p, const int *cls) {
    double dx = (p->x1 - p->x0) / p->grid, dy = (p->y1 - p->y0) / p->grid;
    int g = p->grid;
    plcol0(PL_INK);
    plwidth(1.2);
    for (int dir = 0; dir < 2; dir++)
        for (int a = 0; a + 1 < g; a++) {
            int start = -1;
            for (int b = 0; b <= g; b++) {
                int differs = 0;
                if (b < g) {
                    int64_t r0 = dir == 0 ? (int64_t)b * g + a : (int64_t)a * g + b;
                    int64_t r1 = dir == 0 ? r0 + 1 : r0 + g;
                    differs = cls[r0] != cls[r1];
                }
                if (differs && start < 0) start = b;
                if (!differs && start >= 0) {
                    PLFLT lx[2], ly[2];
                    if (dir == 0)
                        lx[0] = lx[1] = p->x0 + (a + 1) * dx, ly[0] = p->y0 + start * dy, ly[1] = p->y0 + b * dy;
                    else
                        ly[0] = ly[1] = p->y0 + (a + 1) * dy, lx[0] = p->x0 + start * dx, lx[1] = p->x0 + b * dx;
                    plline(2, lx, ly);
                    start = -1;
                }
            }
        }
    plwidth(1);
}

/* The data as doubles and its classes, for pl_points. */
static nn_status data_points(const nn_tensor *x, const nn_tensor *labels, int64_t c0, int64_t c1, double **px,
                             double **py, int **cls, int *k, const char *path) {
    int64_t n = nn_tensor_shape(x).dim[0], cols = cols_of(x);
    if (labels && (nn_tensor_dtype(labels) != NN_I32 || nn_tensor_size(labels) != n))
        return nn_set_error(NN_ERR_SHAPE, "%s: the labels must be i32 [%lld], one per point", path, (long long)n);
    *px = malloc(sizeof **px * (size_t)n), *py = malloc(sizeof **py * (size_t)n), *cls = calloc((size_t)n, sizeof **cls);
    if (!*px || !*py || !*cls) return nn_set_error(NN_ERR_NOMEM, "%s: out of memory", path);
    *k = 1;
    for (int64_t i = 0; i < n; i++) {
        (*px)[i] = nn_tensor_f32(x)[i * cols + c0];
        (*py)[i] = nn_tensor_f32(x)[i * cols + c1];
        if (labels) {
            int c = nn_tensor_i32(labels)[i];
            if (c < 0 || c >= 1000) return nn_set_error(NN_ERR_ARG, "%s: label %d of point %lld outside 0..999", path, c, (long long)i);
            (*cls)[i] = c;
            if (c + 1 > *k) *k = c + 1;
        }
    }
    return NN_OK;
}

/* Sets cmap1 to a sequential ramp whose lightness falls monotonically
 * (pale yellow to dark blue): an activation reads the same in grey. */
static void ramp_colours(void) {
    PLFLT pos[3] = {0, 0.5, 1}, r[3] = {1.0, 0.25, 0.05}, g[3] = {0.98, 0.65, 0.15}, b[3] = {0.8, 0.75, 0.45};
    plscmap1n(256);
    plscmap1l(1, 3, pos, r, g, b, NULL);
}

static void activation_bar(double lo, double hi, const char *label) {
    PLFLT w, h, vals[1][2] = {{lo, hi}};
    PLINT nvals[1] = {2}, opt_label[1] = {PL_COLORBAR_LABEL_RIGHT};
    const char *labels[1] = {label}, *axis_opts[1] = {"bcvtm"};
    PLFLT tick[1] = {0};
    PLINT sub[1] = {0};
    const PLFLT *rows[1] = {vals[0]};
    plcol0(PL_INK);
    plcolorbar(&w, &h, PL_COLORBAR_IMAGE | PL_COLORBAR_BOUNDING_BOX, PL_POSITION_RIGHT | PL_POSITION_OUTSIDE, 0.02, 0,
               0.03, 0.8, PL_BG, PL_INK, 1, 0, 0, 0, 0, 1, opt_label, labels, 1, axis_opts, tick, sub, nvals,
               (PLFLT_MATRIX)rows);
}

/* The layer node's name for titles: "L1/relu". */
static const char *node_label(const nn_node *n) { return n ? nn_node_name(n) : "?"; }

nn_status nn_plot_boundary(const char *path, const nn_plot_opts *opts, const nn_plot_model *m, const nn_tensor *x,
                           const nn_tensor *labels, const nn_plot_boundary_opts *b, nn_plot_frame *frame) {
    nn_plot_boundary_opts none = {0};
    if (!b) b = &none;
    if (!m || !m->graph || !m->input || !m->output || !x) return nn_set_error(NN_ERR_ARG, "%s: no model or data", path);
    if (b->view != NN_VIEW_REGIONS && !b->layer) return nn_set_error(NN_ERR_ARG, "%s: this view needs a layer", path);
    plane p = {0};
    nn_tensor *grid_out = NULL, *data_out = NULL;
    double *px = NULL, *py = NULL;
    int *cls = NULL, *grid_cls = NULL, k = 1;
    PLFLT **z = NULL;
    pl_page page = {0};
    nn_status st = NN_OK;
    int64_t units = 0;
    if (b->view == NN_VIEW_TRANSFORMED) {
        data_out = eval_at(m, b->layer, x);
        if (!data_out) return NN_ERR_ARG;
        units = cols_of(data_out);
        if (units < 1) {
            st = nn_set_error(NN_ERR_SHAPE, "%s: layer %s has no units", path, node_label(b->layer));
            goto done;
        }
        /* the two units that vary most over the data: a dead ReLU unit
         * would show nothing */
        int64_t ua = 0, ub = units > 1 ? 1 : 0, npt = nn_tensor_shape(x).dim[0];
        double va = -1, vb = -1;
        for (int64_t u = 0; u < units && units > 2; u++) {
            double mean = 0, var = 0;
            for (int64_t i = 0; i < npt; i++) mean += nn_tensor_f32(data_out)[i * units + u];
            mean /= (double)npt;
            for (int64_t i = 0; i < npt; i++) {
                double e = nn_tensor_f32(data_out)[i * units + u] - mean;
                var += e * e;
            }
            if (var > va) vb = va, ub = ua, va = var, ua = u;
            else if (var > vb) vb = var, ub = u;
        }
        if (ua > ub) {
            int64_t t = ua;
            ua = ub, ub = t;
        }
        st = data_points(data_out, labels, ua, ub, &px, &py, &cls, &k, path);
        if (st != NN_OK) goto done;
        if (units == 1)
            for (int64_t i = 0; i < npt; i++) py[i] = 0;
        double x0, x1, y0, y1;
        pl_range(nn_tensor_f32(data_out) + ua, npt, units, 0.08, &x0, &x1);
        if (units > 1) pl_range(nn_tensor_f32(data_out) + ub, npt, units, 0.08, &y0, &y1);
        else y0 = -1, y1 = 1;
        if ((st = pl_begin(&page, path, opts, 1, 1)) != NN_OK) goto done;
        pladv(0);
        plvpor(0.1, 0.8, 0.12, 0.9);
        plwind(x0, x1, y0, y1);
        char xl[160], yl[160], title[256];
        snprintf(xl, sizeof xl, "%s unit %lld (activation)", node_label(b->layer), (long long)ua);
        if (units > 1) snprintf(yl, sizeof yl, "%s unit %lld (activation)", node_label(b->layer), (long long)ub);
        else snprintf(yl, sizeof yl, "(one unit: no second axis)");
        snprintf(title, sizeof title, "The data as %s sees it%s", node_label(b->layer),
                 units > 2 ? " (its 2 most varied units)" : "");
        pl_axes(xl, yl, opts && opts->title ? opts->title : title, 0);
        pl_points(px, py, labels ? cls : NULL, nn_tensor_shape(x).dim[0], 1.0);
        if (labels) pl_class_legend(k);
        if (frame) pl_frame(&page, frame);
        st = pl_end(&page);
        goto done;
    }

    if ((st = plane_make(&p, x, b->grid, path)) != NN_OK) goto done;
    nn_node *node = b->view == NN_VIEW_REGIONS ? m->output : b->layer;
    grid_out = eval_at(m, node, p.pts);
    if (!grid_out) {
        st = NN_ERR_ARG;
        goto done;
    }
    int64_t cols = cols_of(grid_out);
    if (b->view == NN_VIEW_UNIT && (b->unit < 0 || b->unit >= cols)) {
        st = nn_set_error(NN_ERR_ARG, "%s: %s has units 0..%lld, not %d", path, node_label(node), (long long)cols - 1,
                          b->unit);
        goto done;
    }
    if ((st = data_points(x, labels, 0, 1, &px, &py, &cls, &k, path)) != NN_OK) goto done;
    int64_t npts = nn_tensor_shape(x).dim[0];
    if (b->view == NN_VIEW_LAYER) {
        int nx = (int)ceil(sqrt((double)cols)), ny = (int)((cols + nx - 1) / nx);
        if (cols > 100) {
            st = nn_set_error(NN_ERR_ARG, "%s: %s has %lld units; a grid shows at most 100", path, node_label(node),
                              (long long)cols);
            goto done;
        }
        double lo, hi;
        pl_range(nn_tensor_f32(grid_out), nn_tensor_size(grid_out), 1, 0, &lo, &hi);
        if ((st = pl_begin(&page, path, opts, nx, ny)) != NN_OK) goto done;
        ramp_colours();
        plschr(0, nx > 3 ? 0.6 * 3.0 / nx + 0.3 : 0.9);
        for (int64_t u = 0; u < cols; u++) {
            pladv(0);
            plvpas(0.2, 0.95, 0.18, 0.85, 1.0);
            plwind(p.x0, p.x1, p.y0, p.y1);
            z = plane_matrix(&p, nn_tensor_f32(grid_out), cols, u, NULL);
            pl_image(z, p.grid, p.grid, p.x0, p.x1, p.y0, p.y1, lo, hi);
            plFree2dGrid(z, p.grid, p.grid);
            z = NULL;
            char t[160];
            snprintf(t, sizeof t, "%s:%lld", node_label(node), (long long)u);
            if (!b->hide_points) pl_points(px, py, labels ? cls : NULL, npts, 0.5);
            plcol0(PL_INK);
            plbox("bcnst", 0, 0, "bcnstv", 0, 0);
            pllab("x1", "x2", t);
        }
        char sub[256];
        snprintf(sub, sizeof sub, "%s over the plane: pale %.3g, dark %.3g", opts && opts->title ? opts->title : "each unit",
                 lo, hi);
        plssub(1, 1);
        pladv(0);
        plvpor(0, 1, 0, 1);
        plwind(0, 1, 0, 1);
        plcol0(PL_INK);
        plmtex("b", -0.8, 0.5, 0.5, sub);
        st = pl_end(&page);
        goto done;
    }

    if ((st = pl_begin(&page, path, opts, 1, 1)) != NN_OK) goto done;
    pladv(0);
    plvpor(0.1, 0.78, 0.12, 0.9);
    plwind(p.x0, p.x1, p.y0, p.y1);
    char title[256];
    if (b->view == NN_VIEW_REGIONS) {
        int kc = cols == 1 ? 2 : (int)cols;
        grid_cls = malloc(sizeof *grid_cls * (size_t)p.grid * (size_t)p.grid);
        if (!grid_cls) {
            pl_abort(&page);
            st = nn_set_error(NN_ERR_NOMEM, "%s: out of memory", path);
            goto done;
        }
        classes_of(grid_out, grid_cls);
        pl_region_colours(kc);
        z = plane_matrix(&p, NULL, 1, 0, grid_cls);
        pl_image(z, p.grid, p.grid, p.x0, p.x1, p.y0, p.y1, -0.5, kc - 0.5);
        class_borders(&p, grid_cls);
        snprintf(title, sizeof title, cols == 1 ? "Decision regions (class 1 where %s > 0)"
                                                : "Decision regions (the class of %s's largest score)",
                 node_label(node));
        if (k < kc) k = kc;
    } else {
        double lo, hi;
        pl_range(nn_tensor_f32(grid_out) + b->unit, (int64_t)p.grid * p.grid, cols, 0, &lo, &hi);
        ramp_colours();
        z = plane_matrix(&p, nn_tensor_f32(grid_out), cols, b->unit, NULL);
        pl_image(z, p.grid, p.grid, p.x0, p.x1, p.y0, p.y1, lo, hi);
        char bar[160];
        snprintf(bar, sizeof bar, "%s:%d", node_label(node), b->unit);
        activation_bar(lo, hi, bar);
        snprintf(title, sizeof title, "Activation of %s unit %d", node_label(node), b->unit);
    }
    pl_axes("x1 (input feature 0)", "x2 (input feature 1)", opts && opts->title ? opts->title : title, 0);
    if (!b->hide_points) pl_points(px, py, labels ? cls : NULL, npts, 1.0);
    if (labels && b->view == NN_VIEW_REGIONS) pl_class_legend(k);
    if (frame) pl_frame(&page, frame);
    st = pl_end(&page);
done:
    if (page.started) pl_abort(&page);
    if (z) plFree2dGrid(z, p.grid, p.grid);
    nn_tensor_free(p.pts);
    nn_tensor_free(grid_out);
    nn_tensor_free(data_out);
    free(px), free(py), free(cls), free(grid_cls);
    return st;
}

nn_status nn_plot_regression(const char *path, const nn_plot_opts *opts, const nn_plot_model *m, const nn_tensor *x,
                             const nn_tensor *y, nn_plot_frame *frame) {
    if (!m || !m->graph || !m->input || !m->output || !x || !y) return nn_set_error(NN_ERR_ARG, "%s: no model or data", path);
    nn_shape s = nn_tensor_shape(x);
    int64_t n = s.dim[0];
    if (s.rank != 2 || s.dim[1] != 1 || n < 1 || nn_tensor_dtype(x) != NN_F32)
        return nn_set_error(NN_ERR_SHAPE, "%s: a regression curve needs f32 [n, 1] inputs", path);
    if (nn_tensor_size(y) != n || nn_tensor_dtype(y) != NN_F32)
        return nn_set_error(NN_ERR_SHAPE, "%s: the targets must be f32, one per point (%lld)", path, (long long)n);
    enum { STEPS = 400 };
    double x0, x1, y0, y1;
    if (!pl_range(nn_tensor_f32(x), n, 1, 0.05, &x0, &x1) || !pl_range(nn_tensor_f32(y), n, 1, 0.1, &y0, &y1))
        return nn_set_error(NN_ERR_ARG, "%s: the data has no finite point", path);
    nn_tensor *xs = nn_tensor_new(NN_F32, NN_SHAPE(STEPS, 1)), *ys = NULL;
    double *px = malloc(sizeof *px * (size_t)n), *py = malloc(sizeof *py * (size_t)n);
    PLFLT cx[STEPS], cy[STEPS];
    nn_status st = NN_ERR_NOMEM;
    if (!xs || !px || !py) {
        nn_set_error(NN_ERR_NOMEM, "%s: out of memory", path);
        goto done;
    }
    for (int i = 0; i < STEPS; i++) nn_tensor_f32(xs)[i] = (float)(x0 + (x1 - x0) * i / (STEPS - 1));
    ys = eval_at(m, m->output, xs);
    if (!ys) {
        st = NN_ERR_ARG;
        goto done;
    }
    if (nn_tensor_size(ys) != STEPS) {
        st = nn_set_error(NN_ERR_SHAPE, "%s: the output %s is not one value per input", path, node_label(m->output));
        goto done;
    }
    for (int i = 0; i < STEPS; i++) {
        cx[i] = nn_tensor_f32(xs)[i], cy[i] = nn_tensor_f32(ys)[i];
        if (isfinite(cy[i])) y0 = fmin(y0, cy[i]), y1 = fmax(y1, cy[i]);
    }
    for (int64_t i = 0; i < n; i++) px[i] = nn_tensor_f32(x)[i], py[i] = nn_tensor_f32(y)[i];
    pl_page page;
    if ((st = pl_begin(&page, path, opts, 1, 1)) != NN_OK) goto done;
    pladv(0);
    plvsta();
    plwind(x0, x1, y0, y1);
    pl_axes("x (input)", "y (target and prediction)",
            opts && opts->title ? opts->title : "Fitted curve against the data", 0);
    pl_points(px, py, NULL, n, 0.8);
    plcol0(pl_colour(1));
    plwidth(2.5);
    plline(STEPS, cx, cy);
    plwidth(1);
    PLINT opt[2] = {PL_LEGEND_SYMBOL, PL_LEGEND_LINE}, tcol[2] = {PL_INK, PL_INK}, lcol[2] = {0, pl_colour(1)},
          lsty[2] = {1, 1}, scol[2] = {pl_colour(0), 0}, snum[2] = {1, 0};
    PLFLT lw[2] = {0, 2.5}, ss[2] = {1, 1}, w, h;
    const char *text[2] = {"data", "model"}, *sym[2] = {pl_marker(0), ""};
    pllegend(&w, &h, PL_LEGEND_BACKGROUND | PL_LEGEND_BOUNDING_BOX, PL_POSITION_TOP | PL_POSITION_LEFT | PL_POSITION_INSIDE,
             0.02, 0.02, 0.08, PL_BG, PL_INK, 1, 0, 0, 2, opt, 0.8, 0.8, 2.0, 0, tcol, text, NULL, NULL, NULL, NULL, lcol,
             lsty, lw, scol, ss, snum, sym);
    if (frame) pl_frame(&page, frame);
    st = pl_end(&page);
done:
    nn_tensor_free(xs);
    nn_tensor_free(ys);
    free(px), free(py);
    return st;
}
