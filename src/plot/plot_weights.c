/* A layer's weights as images (one per unit) and a confusion matrix. */
#include "plot_internal.h"

#include <math.h>
#include <plplot.h>
#include <stdio.h>
#include <stdlib.h>

/* cmap1 from black (0) to white (1). */
static void grey_ramp(int reversed) {
    PLFLT pos[2] = {0, 1}, v[2] = {reversed ? 1.0 : 0.0, reversed ? 0.0 : 1.0};
    plscmap1n(256);
    plscmap1l(1, 2, pos, v, v, v, NULL);
}

/* A caption across the bottom of the whole page (after subpages). */
static void page_caption(const char *title, const char *caption) {
    plssub(1, 1);
    pladv(0);
    plvpor(0, 1, 0, 1);
    plwind(0, 1, 0, 1);
    plschr(0, 0.75);
    plcol0(PL_INK);
    if (title) plmtex("t", -1.2, 0.5, 0.5, title);
    plmtex("b", -0.8, 0.5, 0.5, caption);
}

nn_status nn_plot_weights(const char *path, const nn_plot_opts *opts, const nn_tensor *w, int rows, int cols,
                          const char *name) {
    if (!w || nn_tensor_dtype(w) != NN_F32 || nn_tensor_shape(w).rank != 2)
        return nn_set_error(NN_ERR_SHAPE, "%s: the weights must be an f32 matrix [inputs, units]", path);
    int64_t in = nn_tensor_shape(w).dim[0], units = nn_tensor_shape(w).dim[1];
    if (rows < 1 || cols < 1 || (int64_t)rows * cols != in)
        return nn_set_error(NN_ERR_SHAPE, "%s: %s has %lld inputs per unit, not %dx%d = %lld", path, name ? name : "W",
                            (long long)in, rows, cols, (long long)rows * cols);
    if (units < 1 || units > 256)
        return nn_set_error(NN_ERR_ARG, "%s: %lld units; a grid shows 1 to 256", path, (long long)units);
    const float *v = nn_tensor_f32(w);
    double m = 0;
    for (int64_t i = 0; i < in * units; i++)
        if (isfinite(v[i]) && fabs(v[i]) > m) m = fabs(v[i]);
    if (m == 0) m = 1;
    int nx = (int)ceil(sqrt((double)units)), ny = (int)((units + nx - 1) / nx);
    pl_page page;
    nn_status st = pl_begin(&page, path, opts, nx, ny);
    if (st != NN_OK) return st;
    grey_ramp(0);
    plschr(0, nx > 3 ? 1.6 : 0.9); /* PLplot already shrinks text on small subpages */
    PLFLT **z;
    plAlloc2dGrid(&z, cols, rows);
    for (int64_t u = 0; u < units; u++) {
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++) z[c][rows - 1 - r] = v[((int64_t)r * cols + c) * units + u];
        pladv(0);
        plvpas(0.08, 0.92, 0.18, 0.84, (double)rows / cols); /* room below for the caption */
        plwind(0, cols, 0, rows);
        pl_image(z, cols, rows, 0, cols, 0, rows, -m, m);
        plcol0(PL_INK);
        plbox("bc", 0, 0, "bc", 0, 0);
        char t[32];
        snprintf(t, sizeof t, "unit %lld", (long long)u);
        plmtex("t", 0.5, 0.5, 0.5, t);
    }
    plFree2dGrid(z, cols, rows);
    char title[256], caption[256];
    snprintf(title, sizeof title, "%s", opts && opts->title ? opts->title : "");
    snprintf(caption, sizeof caption,
             "%s, one %dx%d image per unit (pixel columns across, rows down): black %.3g, grey 0, white +%.3g",
             name ? name : "weights", rows, cols, -m, m);
    page_caption(title[0] ? title : NULL, caption);
    return pl_end(&page);
}

nn_status nn_plot_confusion_counts(const nn_tensor *scores, const nn_tensor *labels, int64_t *counts, int k) {
    if (!scores || !labels || nn_tensor_dtype(scores) != NN_F32 || nn_tensor_dtype(labels) != NN_I32)
        return nn_set_error(NN_ERR_ARG, "confusion: f32 scores and i32 labels needed");
    nn_shape s = nn_tensor_shape(scores);
    int64_t n = s.dim[0], cols = s.rank >= 2 && n ? nn_tensor_size(scores) / n : 1;
    if (nn_tensor_size(labels) != n)
        return nn_set_error(NN_ERR_SHAPE, "confusion: %lld scores but %lld labels", (long long)n,
                            (long long)nn_tensor_size(labels));
    if ((cols == 1 ? 2 : cols) != k)
        return nn_set_error(NN_ERR_SHAPE, "confusion: scores of %lld classes, not %d", (long long)(cols == 1 ? 2 : cols), k);
    for (int64_t i = 0; i < (int64_t)k * k; i++) counts[i] = 0;
    const float *v = nn_tensor_f32(scores);
    for (int64_t i = 0; i < n; i++) {
        int t = nn_tensor_i32(labels)[i], p = 0;
        if (t < 0 || t >= k) return nn_set_error(NN_ERR_ARG, "confusion: label %d of row %lld outside 0..%d", t, (long long)i, k - 1);
        if (cols == 1) p = v[i] > 0;
        else
            for (int64_t j = 1; j < cols; j++)
                if (v[i * cols + j] > v[i * cols + p]) p = (int)j;
        counts[(int64_t)t * k + p]++;
    }
    return NN_OK;
}

nn_status nn_plot_confusion(const char *path, const nn_plot_opts *opts, const int64_t *counts, int k) {
    if (!counts || k < 2 || k > 100) return nn_set_error(NN_ERR_ARG, "%s: a confusion matrix of 2 to 100 classes, not %d", path, k);
    pl_page page;
    nn_status st = pl_begin(&page, path, opts, 1, 1);
    if (st != NN_OK) return st;
    PLFLT **z;
    plAlloc2dGrid(&z, k, k);
    int64_t total = 0, right = 0;
    for (int t = 0; t < k; t++) {
        int64_t row = 0;
        for (int p = 0; p < k; p++) row += counts[(int64_t)t * k + p];
        total += row, right += counts[(int64_t)t * k + t];
        /* true class t is drawn at the top for t = 0, like a table */
        for (int p = 0; p < k; p++) z[p][k - 1 - t] = row ? (double)counts[(int64_t)t * k + p] / row : 0;
    }
    grey_ramp(1);
    pladv(0);
    plvpas(0.1, 0.85, 0.1, 0.88, 1.0);
    plwind(-0.5, k - 0.5, -0.5, k - 0.5);
    pl_image(z, k, k, -0.5, k - 0.5, -0.5, k - 0.5, 0, 1);
    plschr(0, k > 12 ? 0.5 : 0.8);
    for (int t = 0; t < k; t++)
        for (int p = 0; p < k; p++) {
            char c[24];
            snprintf(c, sizeof c, "%lld", (long long)counts[(int64_t)t * k + p]);
            plcol0(z[p][k - 1 - t] > 0.5 ? PL_BG : PL_INK);
            plptex(p, k - 1 - t - 0.15, 1, 0, 0.5, c);
        }
    plschr(0, 0.9);
    plcol0(PL_INK);
    plbox("bc", 1, 0, "bc", 1, 0);
    for (int i = 0; i < k; i++) {
        char c[16];
        snprintf(c, sizeof c, "%d", i);
        plmtex("b", 1.2, (i + 0.5) / k, 0.5, c);
        plmtex("lv", 0.8, (k - 1 - i + 0.5) / k, 1.0, c);
    }
    char title[128];
    snprintf(title, sizeof title, "Confusion matrix: %lld of %lld right (%.2f%%)", (long long)right, (long long)total,
             total ? 100.0 * right / total : 0.0);
    pllab("predicted class", "true class", opts && opts->title ? opts->title : title);
    PLFLT w, h, vals[2] = {0, 1};
    PLINT nvals[1] = {2}, opt_label[1] = {PL_COLORBAR_LABEL_RIGHT};
    const char *labels[1] = {"fraction of the true class"}, *axis_opts[1] = {"bcvtm"};
    PLFLT tick[1] = {0};
    PLINT sub[1] = {0};
    const PLFLT *rows[1] = {vals};
    plcolorbar(&w, &h, PL_COLORBAR_IMAGE | PL_COLORBAR_BOUNDING_BOX, PL_POSITION_RIGHT | PL_POSITION_OUTSIDE, 0.03, 0,
               0.03, 0.8, PL_BG, PL_INK, 1, 0, 0, 0, 0, 1, opt_label, labels, 1, axis_opts, tick, sub, nvals,
               (PLFLT_MATRIX)rows);
    plFree2dGrid(z, k, k);
    return pl_end(&page);
}
