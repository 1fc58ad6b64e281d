/* The plot layer: files are made in each format, SVGs parse as XML
 * (libxml2), a decision-region picture's pixels show the model's own
 * predictions, and bad requests fail cleanly without leaving files. */
#include "nngraph.h"
#include "nngraph/plot.h"

#include <criterion/criterion.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <math.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[64];

static void make_dir(void) {
    snprintf(dir, sizeof dir, "/tmp/nnplot.XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
}
static void remove_dir(void) {
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}
static const char *in_dir(char *buf, size_t len, const char *name) {
    snprintf(buf, len, "%s/%s", dir, name);
    return buf;
}

/* A 3-class model with hand-set weights: logits (0, x1 + x2 - 2, -x1 - 1):
 * class 1 in the top-right corner beyond the anti-diagonal x1 + x2 = 2,
 * class 2 left of x1 = -1, class 0 between. */
typedef struct model {
    nn_graph *g;
    nn_node *x, *logits, *hidden;
    nn_tensor *points, *labels; /* the ring below */
    nn_plot_model pm;
} model;

static void ring(model *m, nn_tensor **x, nn_tensor **labels);

static model corners(void) {
    model m;
    m.g = nn_graph_new(1);
    m.x = nn_input(m.g, "x", NN_F32, NN_SHAPE(NN_BATCH, 2));
    m.hidden = nn_dense(m.g, "L1", m.x, 3, NN_RELU);
    m.logits = nn_dense(m.g, "L2", m.hidden, 3, NN_LINEAR);
    cr_assert_eq(nn_graph_status(m.g), NN_OK);
    /* L1 = relu(x + 10) = x + 10 over the data (unit 2 stays 0); L2
     * undoes the shift */
    const float w1[6] = {1, 0, 0, 0, 1, 0}, b1[3] = {10, 10, 0};
    const float w2[9] = {0, 1, -1, 0, 1, 0, 0, 0, 0}, b2[3] = {0, -22, 9};
    memcpy(nn_tensor_f32(nn_param_value(nn_graph_find(m.g, "L1/W"))), w1, sizeof w1);
    memcpy(nn_tensor_f32(nn_param_value(nn_graph_find(m.g, "L1/b"))), b1, sizeof b1);
    memcpy(nn_tensor_f32(nn_param_value(nn_graph_find(m.g, "L2/W"))), w2, sizeof w2);
    memcpy(nn_tensor_f32(nn_param_value(nn_graph_find(m.g, "L2/b"))), b2, sizeof b2);
    ring(&m, &m.points, &m.labels);
    m.pm = (nn_plot_model){m.g, m.x, m.logits};
    return m;
}

static void model_free(model *m) {
    nn_tensor_free(m->points);
    nn_tensor_free(m->labels);
    nn_graph_free(m->g);
}

/* 60 points on a ring of radius 2 around the origin, labelled by the
 * model (so the picture's points agree with its regions). */
static void ring(model *m, nn_tensor **x, nn_tensor **labels) {
    enum { N = 60 };
    *x = nn_tensor_new(NN_F32, NN_SHAPE(N, 2));
    for (int i = 0; i < N; i++) {
        nn_tensor_f32(*x)[2 * i] = (float)(2 * cos(2 * M_PI * i / N));
        nn_tensor_f32(*x)[2 * i + 1] = (float)(2 * sin(2 * M_PI * i / N));
    }
    nn_tensor *s = nn_predict(m->g, m->x, m->logits, *x, 64);
    cr_assert_not_null(s);
    *labels = nn_argmax(s);
    nn_tensor_free(s);
}

static long file_size(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

/* The SVG parses as XML, its root is <svg>, and it has at least `min`
 * elements named `name` (NULL: any). */
static void assert_svg(const char *path, const char *name, int min) {
    xmlDocPtr doc = xmlReadFile(path, NULL, XML_PARSE_NONET | XML_PARSE_HUGE);
    cr_assert_not_null(doc, "%s does not parse as XML", path);
    xmlNodePtr root = xmlDocGetRootElement(doc);
    cr_assert_not_null(root);
    cr_assert_str_eq((const char *)root->name, "svg");
    int count = 0;
    /* depth-first over every element */
    xmlNodePtr n = root;
    while (n) {
        if (n->type == XML_ELEMENT_NODE && (!name || strcmp((const char *)n->name, name) == 0)) count++;
        if (n->children) n = n->children;
        else {
            while (n && !n->next) n = n->parent;
            if (n) n = n->next;
        }
    }
    xmlFreeDoc(doc);
    cr_assert_geq(count, min, "%s: %d <%s> elements, want at least %d", path, count, name ? name : "*", min);
}

/* A PNG's pixels as RGB (malloc'ed). */
static unsigned char *read_png(const char *path, int *w, int *h) {
    png_image img;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    cr_assert(png_image_begin_read_from_file(&img, path), "%s: %s", path, img.message);
    img.format = PNG_FORMAT_RGB;
    unsigned char *px = malloc(PNG_IMAGE_SIZE(img));
    cr_assert(png_image_finish_read(&img, NULL, px, 0, NULL), "%s: %s", path, img.message);
    *w = (int)img.width, *h = (int)img.height;
    return px;
}

TestSuite(plot, .init = make_dir, .fini = remove_dir);

Test(plot, format_from_extension_or_option) {
    cr_assert_str_eq(nn_plot_format("a.svg", NULL), "svg");
    cr_assert_str_eq(nn_plot_format("a.PNG", NULL), "png");
    cr_assert_str_eq(nn_plot_format("a.out", "pdf"), "pdf");
    cr_assert_null(nn_plot_format("a.gif", NULL));
    cr_assert(strstr(nn_last_error(), "a.gif") && strstr(nn_last_error(), "gif"));
    cr_assert_null(nn_plot_format("noext", NULL));
    cr_assert_null(nn_plot_format("dir.d/noext", NULL));
}

Test(plot, smoothing_is_a_debiased_moving_average) {
    double y[4] = {1, 3, NAN, 5}, out[4];
    nn_plot_smooth(y, 4, 0.5, out);
    cr_assert_float_eq(out[0], 1.0, 1e-12); /* debiased: the first value stays */
    /* avg = 0.5*0.5 + 0.5*3 = 1.75, norm = 0.75 */
    cr_assert_float_eq(out[1], 1.75 / 0.75, 1e-12);
    cr_assert(isnan(out[2]));
    /* avg = 0.5*1.75 + 2.5 = 3.375, norm = 0.875 */
    cr_assert_float_eq(out[3], 3.375 / 0.875, 1e-12);
    nn_plot_smooth(y, 4, 0, out);
    cr_assert_float_eq(out[3], 5.0, 1e-12);
}

Test(plot, curves_in_every_format) {
    double x[20], loss[20], val[20], acc[20];
    for (int i = 0; i < 20; i++) x[i] = i + 1, loss[i] = 2.0 / (i + 1), val[i] = 2.2 / (i + 1) + 0.05, acc[i] = 1 - 0.5 / (i + 1);
    val[7] = NAN; /* a gap, not a crash */
    nn_plot_series ls[2] = {{"train", x, loss, 20, 0, 0}, {"validation", x, val, 20, 0, 1}};
    nn_plot_series as[1] = {{"train", x, acc, 20, 0, 0}};
    nn_plot_panel p[2] = {{"loss", "epoch", "loss", ls, 2, 1}, {"accuracy", "epoch", "accuracy", as, 1, 0}};
    const char *names[3] = {"c.svg", "c.png", "c.pdf"};
    for (int i = 0; i < 3; i++) {
        char path[128];
        cr_assert_eq(nn_plot_curves(in_dir(path, sizeof path, names[i]), NULL, p, 2), NN_OK, "%s", nn_last_error());
        cr_assert_gt(file_size(path), 1000, "%s is (nearly) empty", path);
        FILE *f = fopen(path, "rb");
        char head[8] = {0};
        cr_assert_eq(fread(head, 1, 4, f), 4);
        fclose(f);
        if (i == 1) cr_assert_eq(memcmp(head, "\x89PNG", 4), 0);
        if (i == 2) cr_assert_eq(memcmp(head, "%PDF", 4), 0);
    }
    char path[128];
    /* two line segments around the NaN, plus the legend's: many paths */
    assert_svg(in_dir(path, sizeof path, "c.svg"), "path", 10);
}

Test(plot, every_model_picture_is_valid_svg) {
    model m = corners();
    nn_tensor *x = m.points, *labels = m.labels;
    nn_plot_model pm = m.pm;
    char path[128];
    nn_plot_boundary_opts views[4] = {{.view = NN_VIEW_REGIONS},
                                      {.view = NN_VIEW_UNIT, .layer = m.hidden, .unit = 1},
                                      {.view = NN_VIEW_LAYER, .layer = m.hidden},
                                      {.view = NN_VIEW_TRANSFORMED, .layer = m.hidden}};
    const char *names[4] = {"regions.svg", "unit.svg", "layer.svg", "transformed.svg"};
    for (int v = 0; v < 4; v++) {
        nn_plot_frame f;
        cr_assert_eq(nn_plot_boundary(in_dir(path, sizeof path, names[v]), NULL, &pm, x, labels, &views[v], &f), NN_OK,
                     "%s: %s", names[v], nn_last_error());
        /* the maps are embedded images; the transformed view is points */
        assert_svg(path, v < 3 ? "image" : "use", v == 2 ? 3 : 1);
    }
    nn_tensor *w = nn_param_value(nn_graph_find(m.g, "L2/W"));
    cr_assert_eq(nn_plot_weights(in_dir(path, sizeof path, "w.svg"), NULL, w, 3, 1, "L2/W"), NN_OK, "%s", nn_last_error());
    assert_svg(path, "image", 3);
    int64_t counts[9];
    nn_tensor *s = nn_predict(m.g, m.x, m.logits, x, 64);
    cr_assert_eq(nn_plot_confusion_counts(s, labels, counts, 3), NN_OK);
    int64_t total = 0;
    for (int i = 0; i < 9; i++) total += counts[i];
    cr_assert_eq(total, 60);
    cr_assert_eq(counts[0] + counts[4] + counts[8], 60, "labels are the model's own: all on the diagonal");
    cr_assert_eq(nn_plot_confusion(in_dir(path, sizeof path, "conf.svg"), NULL, counts, 3), NN_OK);
    assert_svg(path, "image", 1);
    nn_tensor_free(s);
    model_free(&m);
}

/* The colour under each sample point is the region colour of the class
 * the model predicts there. A cell shows the class at its centre, so a
 * point is checked when the corners of a square of half a cell (plus two
 * pixels) around it agree: regions of a linear classifier are convex, so
 * the whole square, the cell centre included, then has that class. A
 * picture shifted by more than that, flipped, or coloured by the wrong
 * class fails. */
Test(plot, region_pixels_are_the_models_predictions) {
    model m = corners();
    nn_tensor *x = m.points, *labels = m.labels;
    nn_plot_model pm = m.pm;
    nn_plot_boundary_opts b = {.view = NN_VIEW_REGIONS, .grid = 40, .hide_points = 1};
    nn_plot_opts o = {.width = 600, .height = 500};
    nn_plot_frame f;
    char path[128];
    cr_assert_eq(nn_plot_boundary(in_dir(path, sizeof path, "r.png"), &o, &pm, x, labels, &b, &f), NN_OK, "%s",
                 nn_last_error());
    int w, h;
    unsigned char *px = read_png(path, &w, &h);
    cr_assert_eq(w, 600);
    cr_assert_eq(h, 500);
    cr_assert_eq(f.width, 600);
    cr_assert(f.px0 > 0 && f.px1 < w && f.py0 > 0 && f.py1 < h && f.px1 - f.px0 > 200);
    /* the data's box plus 10%: ring of radius 2 -> [-2.4, 2.4] */
    cr_assert_float_eq(f.x0, -2.4, 1e-3);
    cr_assert_float_eq(f.y1, -2.4, 1e-3);
    enum { S = 60 };
    double cell = (f.x1 - f.x0) / 40, r = 0.5 * cell + 2 * (f.x1 - f.x0) / (f.px1 - f.px0);
    nn_tensor *pts = nn_tensor_new(NN_F32, NN_SHAPE(S * S * 9, 2));
    for (int i = 0; i < S; i++)
        for (int j = 0; j < S; j++)
            for (int d = 0; d < 9; d++) {
                /* inset by a cell: the plot's frame line covers its edge */
                double sx = f.x0 + cell + (f.x1 - f.x0 - 2 * cell) * (i + 0.5) / S;
                double sy = f.y1 + cell + (f.y0 - f.y1 - 2 * cell) * (j + 0.5) / S;
                int64_t row = ((int64_t)(i * S + j)) * 9 + d;
                nn_tensor_f32(pts)[2 * row] = (float)(sx + r * ((d % 3) - 1));
                nn_tensor_f32(pts)[2 * row + 1] = (float)(sy + r * ((d / 3) - 1));
            }
    nn_tensor *s = nn_predict(m.g, m.x, m.logits, pts, 512);
    nn_tensor *cls = nn_argmax(s);
    int checked = 0, seen[3] = {0};
    for (int i = 0; i < S * S; i++) {
        const int32_t *c = nn_tensor_i32(cls) + i * 9;
        int same = 1;
        for (int d = 0; d < 9; d++) same &= c[d] == c[4];
        if (!same) continue;
        double sx = nn_tensor_f32(pts)[2 * (i * 9 + 4)], sy = nn_tensor_f32(pts)[2 * (i * 9 + 4) + 1];
        int pxx = (int)((sx - f.x0) / (f.x1 - f.x0) * (f.px1 - f.px0) + f.px0);
        int pyy = (int)((sy - f.y0) / (f.y1 - f.y0) * (f.py1 - f.py0) + f.py0);
        const unsigned char *got = px + 3 * ((size_t)pyy * w + pxx);
        unsigned char want[3];
        nn_plot_region_rgb(c[4], 3, want);
        for (int k = 0; k < 3; k++)
            cr_assert_leq(abs(got[k] - want[k]), 2, "point (%g, %g), pixel (%d, %d): colour %d,%d,%d, but class %d is %d,%d,%d",
                          sx, sy, pxx, pyy, got[0], got[1], got[2], c[4], want[0], want[1], want[2]);
        checked++;
        seen[c[4]]++;
    }
    cr_assert_gt(checked, S * S / 2, "only %d points away from boundaries", checked);
    for (int k = 0; k < 3; k++) cr_assert_gt(seen[k], 10, "class %d barely sampled", k);
    free(px);
    nn_tensor_free(s);
    nn_tensor_free(cls);
    nn_tensor_free(pts);
    model_free(&m);
}

Test(plot, bad_requests_fail_cleanly_and_leave_no_file) {
    model m = corners();
    nn_tensor *x = m.points, *labels = m.labels;
    nn_plot_model pm = m.pm;
    char path[128];
    cr_assert_eq(nn_plot_boundary(in_dir(path, sizeof path, "a.gif"), NULL, &pm, x, labels, NULL, NULL), NN_ERR_ARG);
    cr_assert_eq(file_size(path), -1);
    cr_assert_neq(nn_plot_boundary("/nonexistent-dir/a.svg", NULL, &pm, x, labels, NULL, NULL), NN_OK);
    cr_assert(strstr(nn_last_error(), "/nonexistent-dir/a.svg"), "%s", nn_last_error());
    nn_plot_boundary_opts u = {.view = NN_VIEW_UNIT, .layer = m.hidden, .unit = 7};
    cr_assert_eq(nn_plot_boundary(in_dir(path, sizeof path, "u.svg"), NULL, &pm, x, labels, &u, NULL), NN_ERR_ARG);
    cr_assert(strstr(nn_last_error(), "0..2"), "%s", nn_last_error());
    cr_assert_eq(file_size(path), -1);
    nn_tensor *w = nn_param_value(nn_graph_find(m.g, "L2/W"));
    cr_assert_eq(nn_plot_weights(in_dir(path, sizeof path, "w.svg"), NULL, w, 2, 2, "L2/W"), NN_ERR_SHAPE);
    cr_assert(strstr(nn_last_error(), "3 inputs"), "%s", nn_last_error());
    /* a 1-feature tensor is not a plane */
    nn_tensor *line = nn_tensor_new(NN_F32, NN_SHAPE(4, 1));
    cr_assert_eq(nn_plot_boundary(in_dir(path, sizeof path, "l.svg"), NULL, &pm, line, NULL, NULL, NULL), NN_ERR_SHAPE);
    /* nothing but the pictures asked for is left in the directory */
    char cmd[160];
    snprintf(cmd, sizeof cmd, "test -z \"$(ls -A '%s')\"", dir);
    cr_assert_eq(system(cmd), 0, "temporary files left in %s", dir);
    nn_tensor_free(line);
    model_free(&m);
}
