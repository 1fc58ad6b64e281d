/* A page: choosing the cairo device, the temporary file it is written to,
 * the palette, axes and the shared marker conventions. */
#include "plot_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <plplot.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Okabe and Ito's colour-blind-safe set (blue, vermillion, bluish green,
 * orange, reddish purple, sky blue, yellow), then black, brown and grey:
 * their lightnesses differ, and markers differ by shape, so a grey print
 * still tells them apart. */
static const unsigned char colours[PL_COLOURS][3] = {
    {0, 114, 178},  {213, 94, 0},   {0, 158, 115}, {230, 159, 0},  {204, 121, 167},
    {86, 180, 233}, {240, 228, 66}, {40, 40, 40},  {140, 86, 75},  {150, 150, 150},
};
/* Markers as glyphs (DejaVu Sans has them all): filled shapes first. */
static const char *const markers[PL_COLOURS] = {"●", "■", "▲", "◆", "▼", "○", "□", "△", "◇", "▽"};

int pl_colour(int i) { return PL_FIRST_COLOUR + ((i % PL_COLOURS) + PL_COLOURS) % PL_COLOURS; }
const char *pl_marker(int i) { return markers[((i % PL_COLOURS) + PL_COLOURS) % PL_COLOURS]; }

void nn_plot_region_rgb(int c, int k, unsigned char rgb[3]) {
    (void)k;
    /* a light tint (35% colour, 65% white) so points on top stand out */
    const unsigned char *s = colours[((c % PL_COLOURS) + PL_COLOURS) % PL_COLOURS];
    for (int i = 0; i < 3; i++) rgb[i] = (unsigned char)(255 - (255 - s[i]) * 35 / 100);
}

void pl_region_colours(int k) {
    PLINT r[PL_COLOURS * 4], g[PL_COLOURS * 4], b[PL_COLOURS * 4];
    if (k > PL_COLOURS * 4) k = PL_COLOURS * 4;
    if (k < 2) k = 2;
    for (int c = 0; c < k; c++) {
        unsigned char rgb[3];
        nn_plot_region_rgb(c, k, rgb);
        r[c] = rgb[0], g[c] = rgb[1], b[c] = rgb[2];
    }
    plscmap1(r, g, b, k);
}

const char *nn_plot_format(const char *path, const char *format) {
    static const char *const known[] = {"svg", "png", "pdf"};
    const char *want = format;
    if (!want) {
        const char *dot = path ? strrchr(path, '.') : NULL;
        if (!dot || strchr(dot, '/')) {
            nn_set_error(NN_ERR_ARG, "%s: no format: give a .svg, .png or .pdf name, or -T FORMAT", path ? path : "(null)");
            return NULL;
        }
        want = dot + 1;
    }
    for (int i = 0; i < 3; i++)
        if (strcasecmp(want, known[i]) == 0) return known[i];
    nn_set_error(NN_ERR_ARG, "%s: unknown picture format '%s' (svg, png or pdf)", path ? path : "(null)", want);
    return NULL;
}

nn_status pl_begin(pl_page *p, const char *path, const nn_plot_opts *opts, int nx, int ny) {
    nn_plot_opts none = {0};
    if (!opts) opts = &none;
    memset(p, 0, sizeof *p);
    const char *fmt = nn_plot_format(path, opts->format);
    if (!fmt) return NN_ERR_ARG;
    p->width = opts->width > 0 ? opts->width : 800;
    p->height = opts->height > 0 ? opts->height : 600;
    if (p->width > 8000 || p->height > 8000 || p->width < 100 || p->height < 100)
        return nn_set_error(NN_ERR_ARG, "%s: picture size %dx%d outside 100..8000", path, p->width, p->height);
    if (snprintf(p->path, sizeof p->path, "%s", path) >= (int)sizeof p->path ||
        snprintf(p->tmp, sizeof p->tmp, "%s.tmpXXXXXX", path) >= (int)sizeof p->tmp)
        return nn_set_error(NN_ERR_ARG, "%s: path too long", path);
    /* PLplot exits the process when it cannot open its file, so the file
     * is made (and proven writable) here first */
    int fd = mkstemp(p->tmp);
    if (fd < 0) return nn_set_error(NN_ERR_IO, "%s: cannot write: %s", path, strerror(errno));
    mode_t mask = umask(0);
    umask(mask);
    fchmod(fd, 0666 & ~mask); /* mkstemp's 0600 is for secrets, not pictures */
    close(fd);
    char dev[16];
    snprintf(dev, sizeof dev, "%scairo", fmt);
    plsdev(dev);
    plsfnam(p->tmp);
    plspage(0, 0, p->width, p->height, 0, 0);
    plscmap0n(PL_FIRST_COLOUR + PL_COLOURS);
    plscolbg(255, 255, 255);
    plscol0(PL_INK, 0, 0, 0);
    plscol0(PL_GREY, 110, 110, 110);
    for (int i = 0; i < PL_COLOURS; i++) plscol0(PL_FIRST_COLOUR + i, colours[i][0], colours[i][1], colours[i][2]);
    plinit();
    p->started = 1;
    plssub(nx, ny);
    plschr(0, 0.9);
    return NN_OK;
}

void pl_abort(pl_page *p) {
    if (p->started) plend();
    p->started = 0;
    if (p->tmp[0]) unlink(p->tmp);
}

nn_status pl_end(pl_page *p) {
    plend();
    p->started = 0;
    int fd = open(p->tmp, O_RDONLY);
    int ok = fd >= 0 && fsync(fd) == 0;
    off_t size = fd >= 0 ? lseek(fd, 0, SEEK_END) : 0;
    if (fd >= 0) close(fd);
    if (!ok || size <= 0) {
        unlink(p->tmp);
        return nn_set_error(NN_ERR_IO, "%s: the plotting library wrote nothing", p->path);
    }
    if (rename(p->tmp, p->path) != 0) {
        int e = errno;
        unlink(p->tmp);
        return nn_set_error(NN_ERR_IO, "%s: %s", p->path, strerror(e));
    }
    return NN_OK;
}

void pl_frame(const pl_page *p, nn_plot_frame *f) {
    PLFLT vx0, vx1, vy0, vy1, wx0, wx1, wy0, wy1;
    plgvpd(&vx0, &vx1, &vy0, &vy1);
    plgvpw(&wx0, &wx1, &wy0, &wy1);
    f->width = p->width, f->height = p->height;
    f->px0 = vx0 * p->width, f->px1 = vx1 * p->width;
    f->py0 = (1 - vy1) * p->height, f->py1 = (1 - vy0) * p->height;
    f->x0 = wx0, f->x1 = wx1, f->y0 = wy1, f->y1 = wy0;
}

void pl_axes(const char *xlabel, const char *ylabel, const char *title, int log_y) {
    plcol0(PL_INK);
    plwidth(1);
    pllsty(1);
    plbox("bcnst", 0, 0, log_y ? "bcnstvl" : "bcnstv", 0, 0);
    pllab(xlabel ? xlabel : "", ylabel ? ylabel : "", title ? title : "");
}

int pl_range(const float *v, int64_t n, int64_t stride, double margin, double *lo, double *hi) {
    double a = INFINITY, b = -INFINITY;
    for (int64_t i = 0; i < n; i++) {
        double x = v[i * stride];
        if (!isfinite(x)) continue;
        if (x < a) a = x;
        if (x > b) b = x;
    }
    if (a > b) return 0;
    if (b - a < 1e-12) a -= 0.5, b += 0.5;
    double m = (b - a) * margin;
    *lo = a - m, *hi = b + m;
    return 1;
}

void pl_points(const double *x, const double *y, const int *cls, int64_t n, double size) {
    /* a black glyph a little larger under the coloured one: an outline
     * that keeps light colours visible on light regions */
    PLFLT def, height; /* mm */
    plgchr(&def, &height);
    for (int pass = 0; pass < 2; pass++)
        for (int64_t i = 0; i < n; i++) {
            int c = cls ? cls[i] : 0;
            PLFLT px = x[i], py = y[i];
            plschr(0, size * (pass ? 0.75 : 0.95));
            plcol0(pass ? pl_colour(c) : PL_INK);
            plstring(1, &px, &py, pl_marker(c));
        }
    plschr(0, def > 0 ? height / def : 1.0);
}

void pl_class_legend(int k) {
    if (k > PL_COLOURS) k = PL_COLOURS;
    PLINT opt[PL_COLOURS], tcol[PL_COLOURS], scol[PL_COLOURS], snum[PL_COLOURS];
    PLFLT sscale[PL_COLOURS];
    char names[PL_COLOURS][16];
    const char *text[PL_COLOURS], *sym[PL_COLOURS];
    for (int c = 0; c < k; c++) {
        opt[c] = PL_LEGEND_SYMBOL;
        tcol[c] = PL_INK;
        scol[c] = pl_colour(c);
        snum[c] = 1;
        sscale[c] = 1.0;
        snprintf(names[c], sizeof names[c], "class %d", c);
        text[c] = names[c];
        sym[c] = pl_marker(c);
    }
    PLFLT w, h;
    pllegend(&w, &h, PL_LEGEND_BACKGROUND | PL_LEGEND_BOUNDING_BOX, PL_POSITION_RIGHT | PL_POSITION_OUTSIDE, 0.02,
             0.0, 0.02, PL_BG, PL_INK, 1, 0, 0, k, opt, 0.6, 0.8, 1.5, 0.0, tcol, text, NULL, NULL, NULL, NULL, NULL,
             NULL, NULL, scol, sscale, snum, sym);
}

void pl_image(PLFLT **z, int nx, int ny, double x0, double x1, double y0, double y1, double zmin, double zmax) {
    /* plimage puts the matrix's values on the corners of its cells and
     * draws (nx-1) x (ny-1) cells: a copy with the last row and column
     * repeated makes cell (i, j) exactly [x0 + i*dx, x0 + (i+1)*dx] x ... */
    PLFLT **pad;
    plAlloc2dGrid(&pad, nx + 1, ny + 1);
    for (int i = 0; i <= nx; i++)
        for (int j = 0; j <= ny; j++) pad[i][j] = z[i < nx ? i : nx - 1][j < ny ? j : ny - 1];
    plimage((PLFLT_MATRIX)pad, nx + 1, ny + 1, x0, x1, y0, y1, zmin, zmax, x0, x1, y0, y1);
    plFree2dGrid(pad, nx + 1, ny + 1);
}
