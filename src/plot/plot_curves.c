/* Curves: loss and accuracy against epoch or step, one panel each, one or
 * several runs overlaid, with a legend. */
#include "plot_internal.h"

#include <math.h>
#include <plplot.h>
#include <stdlib.h>

void nn_plot_smooth(const double *y, int n, double weight, double *out) {
    if (weight < 0) weight = 0;
    if (weight > 0.999) weight = 0.999;
    double avg = 0, norm = 0;
    for (int i = 0; i < n; i++) {
        double v = y[i];
        if (!isfinite(v)) {
            out[i] = v;
            continue;
        }
        avg = weight * avg + (1 - weight) * v;
        norm = weight * norm + (1 - weight);
        out[i] = avg / norm; /* debiased: the first points are not pulled to 0 */
    }
}

/* The panel's data window over its finite points (log10 of y if asked). */
static int panel_window(const nn_plot_panel *p, double *x0, double *x1, double *y0, double *y1) {
    double a = INFINITY, b = -INFINITY, c = INFINITY, d = -INFINITY;
    for (int s = 0; s < p->n_series; s++)
        for (int i = 0; i < p->series[s].n; i++) {
            double x = p->series[s].x[i], y = p->series[s].y[i];
            if (p->log_y) y = y > 0 ? log10(y) : NAN;
            if (!isfinite(x) || !isfinite(y)) continue;
            a = fmin(a, x), b = fmax(b, x), c = fmin(c, y), d = fmax(d, y);
        }
    if (a > b) return 0;
    if (b - a < 1e-12) a -= 0.5, b += 0.5;
    if (d - c < 1e-12) c -= 0.5, d += 0.5;
    double m = (d - c) * 0.05;
    *x0 = a, *x1 = b, *y0 = c - m, *y1 = d + m;
    return 1;
}

/* One curve: its line (breaking at non-finite points) and about ten
 * markers along it, so curves differ without colour. */
static void draw_series(const nn_plot_series *s, int log_y) {
    int colour = pl_colour(s->style);
    PLFLT *x = malloc(sizeof *x * (size_t)(s->n ? s->n : 1)), *y = malloc(sizeof *y * (size_t)(s->n ? s->n : 1));
    if (!x || !y) goto done;
    plcol0(colour);
    plwidth(2);
    pllsty(s->dashed ? 2 : 1);
    int run = 0;
    for (int i = 0; i <= s->n; i++) {
        double v = i < s->n ? s->y[i] : NAN;
        if (log_y) v = v > 0 ? log10(v) : NAN;
        if (i < s->n && isfinite(v) && isfinite(s->x[i])) {
            x[run] = s->x[i], y[run] = v, run++;
            continue;
        }
        if (run > 1) plline(run, x, y);
        if (run == 1) plstring(1, x, y, pl_marker(s->style));
        run = 0;
    }
    pllsty(1);
    plwidth(1);
    int every = s->n > 10 ? s->n / 10 : 1;
    for (int i = s->dashed ? every / 2 : 0; i < s->n; i += every) {
        PLFLT px = s->x[i], py = log_y ? (s->y[i] > 0 ? log10(s->y[i]) : NAN) : s->y[i];
        if (isfinite(px) && isfinite(py)) plstring(1, &px, &py, pl_marker(s->style));
    }
done:
    free(x);
    free(y);
}

/* 1 if the panel's first curve ends higher than it starts (accuracy):
 * its legend then goes bottom right, where a rising curve is not. */
static int rising(const nn_plot_panel *p) {
    const nn_plot_series *s = &p->series[0];
    double first = NAN, last = NAN;
    for (int i = 0; i < s->n; i++)
        if (isfinite(s->y[i])) {
            if (isnan(first)) first = s->y[i];
            last = s->y[i];
        }
    return last > first;
}

static void panel_legend(const nn_plot_panel *p) {
    int n = p->n_series;
    PLINT *opt = calloc((size_t)n, sizeof *opt), *col = calloc((size_t)n, sizeof *col),
          *sty = calloc((size_t)n, sizeof *sty), *num = calloc((size_t)n, sizeof *num);
    PLFLT *wid = calloc((size_t)n, sizeof *wid), *scale = calloc((size_t)n, sizeof *scale);
    const char **text = calloc((size_t)n, sizeof *text), **sym = calloc((size_t)n, sizeof *sym);
    if (opt && col && sty && num && wid && scale && text && sym) {
        for (int i = 0; i < n; i++) {
            const nn_plot_series *s = &p->series[i];
            opt[i] = PL_LEGEND_LINE | PL_LEGEND_SYMBOL;
            col[i] = pl_colour(s->style);
            sty[i] = s->dashed ? 2 : 1;
            wid[i] = 2;
            scale[i] = 1;
            num[i] = 1;
            text[i] = s->label ? s->label : "";
            sym[i] = pl_marker(s->style);
        }
        PLINT *tcol = calloc((size_t)n, sizeof *tcol);
        for (int i = 0; tcol && i < n; i++) tcol[i] = PL_INK;
        PLFLT w, h;
        if (tcol)
            pllegend(&w, &h, PL_LEGEND_BACKGROUND | PL_LEGEND_BOUNDING_BOX,
                     PL_POSITION_RIGHT | (rising(p) ? PL_POSITION_BOTTOM : PL_POSITION_TOP) | PL_POSITION_INSIDE, 0.01,
                     0.02, 0.08, PL_BG, PL_INK, 1, 0,
                     0, n, opt, 0.6, 1.0, 1.6, 0.0, tcol, text, NULL, NULL, NULL, NULL, col, sty, wid, col, scale, num,
                     sym);
        free(tcol);
    }
    free(opt), free(col), free(sty), free(num), free(wid), free(scale), free(text), free(sym);
}

nn_status nn_plot_curves(const char *path, const nn_plot_opts *opts, const nn_plot_panel *panels, int n_panels) {
    if (!panels || n_panels < 1 || n_panels > 8) return nn_set_error(NN_ERR_ARG, "%s: 1 to 8 panels, not %d", path, n_panels);
    pl_page page;
    nn_status st = pl_begin(&page, path, opts, 1, n_panels);
    if (st != NN_OK) return st;
    for (int k = 0; k < n_panels; k++) {
        const nn_plot_panel *p = &panels[k];
        double x0 = 0, x1 = 1, y0 = 0, y1 = 1;
        int any = panel_window(p, &x0, &x1, &y0, &y1);
        pladv(0);
        plvsta();
        plwind(x0, x1, y0, y1);
        const char *title = p->title;
        if (k == 0 && opts && opts->title) title = opts->title;
        pl_axes(p->xlabel, p->ylabel, title, p->log_y);
        if (!any) {
            plcol0(PL_GREY);
            plptex((x0 + x1) / 2, (y0 + y1) / 2, 1, 0, 0.5, "nothing logged");
            continue;
        }
        for (int s = 0; s < p->n_series; s++) draw_series(&p->series[s], p->log_y);
        if (p->n_series > 0) panel_legend(p);
    }
    return pl_end(&page);
}
