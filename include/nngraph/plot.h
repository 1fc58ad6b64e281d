/*
 * nngraph/plot.h: pictures of training and of trained models, drawn with
 * PLplot's cairo driver (SVG, PNG or PDF). A separate library layer
 * (src/plot, meson dependency `nngraph_plot_dep`): the core does not
 * depend on PLplot.
 *
 * Every picture has axis labels, a title and a legend, and stays readable
 * printed in grey: curves differ by line style and marker as well as
 * colour, classes by marker shape as well as colour, and region colours by
 * lightness. Files are written atomically (a temporary file in the same
 * directory, then rename): a failed plot leaves no partial file.
 *
 * Errors return a status with nn_last_error() naming the file or the
 * problem (an unknown format, a model whose input is not 2 features, ...).
 * PLplot keeps global state: call these from one thread at a time.
 */
#ifndef NNGRAPH_PLOT_H
#define NNGRAPH_PLOT_H

#include "core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Options every picture takes; a zero struct (or NULL) gives the defaults. */
typedef struct nn_plot_opts {
    const char *format; /* "svg", "png" or "pdf"; NULL: from the path's extension */
    int width, height;  /* pixels (PNG) or points (SVG, PDF); 0: 800 x 600 */
    const char *title;  /* NULL: the picture's own title */
} nn_plot_opts;

/* Where a single-panel picture put its data: the plot area in pixels of the
 * rendered page (x to the right, y down from the top) and the data window
 * it shows. Lets a caller (or a test) find the pixel of a data point. */
typedef struct nn_plot_frame {
    double px0, px1, py0, py1; /* left, right, top, bottom edges in pixels */
    double x0, x1, y0, y1;     /* data coordinates at those edges */
    int width, height;         /* the page in pixels */
} nn_plot_frame;

/* The format a path and an explicit format ask for ("svg", "png", "pdf"),
 * or NULL with an error naming the path when neither says one we draw. */
const char *nn_plot_format(const char *path, const char *format);

/* The RGB colour that regions of class `c` (of `k` classes) are filled
 * with in decision-region pictures. */
void nn_plot_region_rgb(int c, int k, unsigned char rgb[3]);

/* ---- Curves ------------------------------------------------------------ */

/* One curve: its points and its legend label. `dashed` draws it dashed
 * (validation curves); `style` picks its colour, marker and line style, so
 * curves of one run can share a style. */
typedef struct nn_plot_series {
    const char *label;
    const double *x, *y;
    int n;
    int style;
    int dashed;
} nn_plot_series;

/* One panel of a curves picture: its curves and axis labels. */
typedef struct nn_plot_panel {
    const char *title;
    const char *xlabel, *ylabel;
    const nn_plot_series *series;
    int n_series;
    int log_y; /* 1: logarithmic y axis (values <= 0 are skipped) */
} nn_plot_panel;

/* Panels stacked top to bottom on one page (e.g. loss above accuracy). */
nn_status nn_plot_curves(const char *path, const nn_plot_opts *opts, const nn_plot_panel *panels, int n_panels);

/* An exponential moving average of y (TensorBoard's smoothing, debiased):
 * weight 0 keeps y, 0.99 smooths hard. out may be y. NaNs are carried
 * through without disturbing the average. */
void nn_plot_smooth(const double *y, int n, double weight, double *out);

/* Curves of logged runs (nngraph/runlog.h): loss above accuracy, train
 * solid and validation dashed, per epoch (or step); several runs are
 * overlaid and the legend names the hyperparameters that differ. */
#define NN_PLOT_MAX_RUNS 16
typedef struct nn_plot_run_opts {
    int steps;     /* 1: per step instead of per epoch */
    double smooth; /* nn_plot_smooth weight; 0: none */
    int log_y;     /* 1: logarithmic loss axis */
} nn_plot_run_opts;
struct nn_runlog;
nn_status nn_plot_run_curves(const char *path, const nn_plot_opts *opts, struct nn_runlog *log, const int64_t *runs,
                             int n, const nn_plot_run_opts *ro);

/* ---- A trained model over its input plane -------------------------------- */

/* A model to draw: its graph (weights loaded), the input fed with points
 * [n, 2] (or [n, 1] for a regression curve) and its output node (class
 * scores [n, k], or a single logit [n, 1] for two classes). */
typedef struct nn_plot_model {
    nn_graph *graph;
    nn_node *input;
    nn_node *output;
} nn_plot_model;

/* What to draw over the plane. */
typedef enum nn_plot_view {
    NN_VIEW_REGIONS = 0, /* the predicted class everywhere, the data on top */
    NN_VIEW_UNIT,        /* one unit of `layer`'s activation as a map */
    NN_VIEW_LAYER,       /* every unit of `layer`, a grid of small maps */
    NN_VIEW_TRANSFORMED  /* the data as `layer` sees it (its first two units) */
} nn_plot_view;

/* A boundary picture's parameters. x: the data [n, 2] (f32); labels: its
 * classes (i32 [n]), or NULL to draw the points in one colour. The plane
 * is the data's bounding box with a 10% margin. `layer` is the node whose
 * activation NN_VIEW_UNIT/LAYER/TRANSFORMED show, `unit` the column of
 * NN_VIEW_UNIT. grid: cells per side (0: 200). */
typedef struct nn_plot_boundary_opts {
    nn_plot_view view;
    nn_node *layer;
    int unit;
    int grid;
    int hide_points; /* 1: the regions alone (no data drawn over them) */
} nn_plot_boundary_opts;

/* Draws the view of the model over the data's plane. frame (may be NULL)
 * receives where a single-panel picture put its plot area. */
nn_status nn_plot_boundary(const char *path, const nn_plot_opts *opts, const nn_plot_model *m, const nn_tensor *x,
                           const nn_tensor *labels, const nn_plot_boundary_opts *b, nn_plot_frame *frame);

/* A 1-input regression model: the data (x [n, 1], y [n, 1] or [n]) as
 * points and the model's output as a curve over the data's x range. */
nn_status nn_plot_regression(const char *path, const nn_plot_opts *opts, const nn_plot_model *m, const nn_tensor *x,
                             const nn_tensor *y, nn_plot_frame *frame);

/* ---- Weights and confusion ---------------------------------------------------- */

/* A weight matrix W [in, units] (f32) as one image per unit: column u
 * reshaped to rows x cols (rows * cols == in), in a grid; grey scale from
 * the most negative (black) to the most positive weight (white), one
 * symmetric scale for all units so they compare. */
nn_status nn_plot_weights(const char *path, const nn_plot_opts *opts, const nn_tensor *w, int rows, int cols,
                          const char *name);

/* A k x k confusion matrix (counts[true * k + predicted]) with the counts
 * written in each cell; cells shaded by their row's fraction. */
nn_status nn_plot_confusion(const char *path, const nn_plot_opts *opts, const int64_t *counts, int k);

/* Counts of a confusion matrix from scores [n, k] (argmax; a single logit
 * [n, 1] is class logit > 0) and labels i32 [n]: counts has k*k entries
 * (k = 2 for a single logit). NN_ERR_ARG if a label is outside 0..k-1. */
nn_status nn_plot_confusion_counts(const nn_tensor *scores, const nn_tensor *labels, int64_t *counts, int k);

#ifdef __cplusplus
}
#endif
#endif
