/* The plot layer's shared pieces: a page being drawn (device, temporary
 * file, colours) and the marker and colour conventions every picture
 * follows. Internal to src/plot. */
#ifndef NN_PLOT_INTERNAL_H
#define NN_PLOT_INTERNAL_H

#include "nngraph/plot.h"
#include "nngraph/train.h"

#include <limits.h>

/* cmap0 slots: background, ink (axes, text), a mid grey, then the series
 * and class colours (PL_COLOURS of them, from slot PL_FIRST_COLOUR). */
enum { PL_BG = 0, PL_INK = 1, PL_GREY = 2, PL_FIRST_COLOUR = 3, PL_COLOURS = 10 };

/* A page being drawn: PLplot writes into `tmp`, renamed to `path` when the
 * page ends well. */
typedef struct pl_page {
    char path[PATH_MAX];
    char tmp[PATH_MAX];
    int width, height;
    int started;
} pl_page;

/* Starts a page of nx x ny subpages for `path` (format from opts or the
 * extension), with the palette set. Nothing is left behind on failure. */
nn_status pl_begin(pl_page *p, const char *path, const nn_plot_opts *opts, int nx, int ny);
/* Ends the page and moves the file into place. */
nn_status pl_end(pl_page *p);
/* Ends the page and removes its temporary file (after an error). */
void pl_abort(pl_page *p);
/* Where the current viewport lies on the page (for nn_plot_frame). */
void pl_frame(const pl_page *p, nn_plot_frame *f);

/* The cmap0 slot of series or class colour i (cycling). */
int pl_colour(int i);
/* The marker glyph of series or class i (cycling), drawn with plstring. */
const char *pl_marker(int i);
/* Draws the axes box and labels of the current viewport in ink. */
void pl_axes(const char *xlabel, const char *ylabel, const char *title, int log_y);
/* The data's range with a fraction `margin` added each side (a zero range
 * widened to +-0.5), skipping non-finite values. 0 if nothing finite. */
int pl_range(const float *v, int64_t n, int64_t stride, double margin, double *lo, double *hi);
/* Filled class markers: points (x[i], y[i]) drawn with class[i]'s marker
 * and colour (cls NULL: all class 0), `size` times the normal size. */
void pl_points(const double *x, const double *y, const int *cls, int64_t n, double size);
/* A legend of classes 0..k-1 ("class 0", ...) as markers, top right. */
void pl_class_legend(int k);
/* Draws z (nx x ny, z[i][j] for column i from the left, row j from the
 * bottom) as nx x ny equal cells filling [x0,x1] x [y0,y1], coloured by
 * cmap1 between zmin and zmax. */
void pl_image(double **z, int nx, int ny, double x0, double x1, double y0, double y1, double zmin, double zmax);
/* Sets cmap1 to the k region colours (nn_plot_region_rgb). */
void pl_region_colours(int k);

#endif
