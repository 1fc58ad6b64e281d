/* The labs' pictures (`--plot DIR`): parsing the option and writing one
 * picture into DIR with a message. Header-only like lab.h; the labs that
 * include it link the plot library (src/plot). */
#ifndef NNGRAPH_EXAMPLES_LAB_PLOT_H
#define NNGRAPH_EXAMPLES_LAB_PLOT_H

#include "lab.h"
#include "nngraph/plot.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

/* PLplot's driver table (through libltdl) and fontconfig/cairo/pango keep
 * allocations they never free; LeakSanitizer (sanitizer builds only) reads
 * this hook, so a leak report names the lab's leaks, not theirs (the same
 * libraries as tools/nngraph.c lists). Each lab is one file, so one
 * definition. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void) {
    return "leak:libplplot.so\nleak:libltdl.so\nleak:libfontconfig.so\nleak:libcairo\nleak:libpango\n";
}

/* Reads `--plot DIR` (or --plot=DIR) from argv[*i]: 1 and sets *dir if it
 * is that option, 0 if not; exits with 2 when DIR is missing. Creates DIR
 * if needed (exits 1 when it cannot). */
static inline int lab_plot_arg(int argc, char **argv, int *i, const char **dir) {
    const char *a = argv[*i];
    if (strncmp(a, "--plot=", 7) == 0) *dir = a + 7;
    else if (strcmp(a, "--plot") == 0 && *i + 1 < argc) *dir = argv[++*i];
    else if (strcmp(a, "--plot") == 0) {
        fprintf(stderr, "%s: --plot needs a directory\n", argv[0]);
        exit(2);
    } else return 0;
    if (mkdir(*dir, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "%s: cannot make %s: %s\n", argv[0], *dir, strerror(errno));
        exit(1);
    }
    return 1;
}

/* The arguments of a lab that takes only --plot DIR (and --help, which
 * prints "usage: PROG [--plot DIR]" and `about`). Returns DIR or NULL;
 * exits 0 after --help and 2 on anything else. */
static inline const char *lab_plot_only_args(int argc, char **argv, const char *about) {
    const char *dir = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            printf("usage: %s [--plot DIR]\n%s", argv[0], about);
            exit(0);
        }
        if (!lab_plot_arg(argc, argv, &i, &dir)) {
            fprintf(stderr, "%s: unknown argument '%s' (try --help)\n", argv[0], argv[i]);
            exit(2);
        }
    }
    return dir;
}

/* DIR/NAME into buf. */
static inline const char *lab_plot_path(char *buf, size_t len, const char *dir, const char *name) {
    snprintf(buf, len, "%s/%s", dir, name);
    return buf;
}

/* Reports a picture written (or exits with the library's reason). */
static inline void lab_plot_done(nn_status s, const char *path) {
    lab_check(s == NN_OK, path);
    printf("wrote %s\n", path);
}

/* Loss and accuracy per epoch, recorded by lab_history_epoch (an
 * nn_fit on_epoch callback, user = the history). */
typedef struct lab_history {
    int n, cap;
    double *epoch, *loss, *accuracy, *val_loss, *val_accuracy;
} lab_history;

static inline int lab_history_epoch(const nn_epoch_info *e, void *user) {
    lab_history *h = user;
    if (h->n == h->cap) {
        int cap = h->cap ? 2 * h->cap : 64;
        double **cols[5] = {&h->epoch, &h->loss, &h->accuracy, &h->val_loss, &h->val_accuracy};
        for (int c = 0; c < 5; c++) {
            double *grown = realloc(*cols[c], sizeof(double) * (size_t)cap);
            lab_check(grown != NULL, "history");
            *cols[c] = grown;
        }
        h->cap = cap;
    }
    h->epoch[h->n] = e->epoch, h->loss[h->n] = e->loss, h->accuracy[h->n] = e->accuracy;
    h->val_loss[h->n] = e->val_loss, h->val_accuracy[h->n] = e->val_accuracy;
    h->n++;
    return 0;
}

static inline void lab_history_free(lab_history *h) {
    free(h->epoch), free(h->loss), free(h->accuracy), free(h->val_loss), free(h->val_accuracy);
}

/* Loss above accuracy, train solid and validation dashed (when there was
 * a validation set: its values are not NaN). */
static inline nn_status lab_plot_history(const char *path, const lab_history *h, const char *title) {
    int val = h->n > 0 && h->val_loss[0] == h->val_loss[0];
    nn_plot_series loss[2] = {{"train", h->epoch, h->loss, h->n, 0, 0}, {"validation", h->epoch, h->val_loss, h->n, 1, 1}};
    nn_plot_series acc[2] = {{"train", h->epoch, h->accuracy, h->n, 0, 0},
                             {"validation", h->epoch, h->val_accuracy, h->n, 1, 1}};
    nn_plot_panel panels[2] = {{title, "epoch", "loss (cross-entropy)", loss, 1 + val, 0},
                               {"Accuracy", "epoch", "accuracy (fraction correct)", acc, 1 + val, 0}};
    return nn_plot_curves(path, NULL, panels, 2);
}

#endif
