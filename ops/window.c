/* The geometry shared by the 2-D window ops (conv2d, max_pool2d,
 * avg_pool2d): output sizes and padding from the input, window, stride,
 * dilation and padding mode. Not an op. */
#include "ops.h"

#include <string.h>

static const char *pad_names[] = {"explicit", "same", "valid"};

const char *nn_pad_mode_name(int mode) { return mode >= 0 && mode <= 2 ? pad_names[mode] : "unknown"; }

int nn_pad_mode_from_name(const char *name) {
    for (int i = 0; name && i < 3; i++)
        if (strcmp(name, pad_names[i]) == 0) return i;
    return -1;
}

/* One axis: in, window k, stride s, dilation d, explicit pad, mode ->
 * out and the padding before. */
static nn_status axis_geom(const char *axis, int64_t in, int64_t k, int64_t s, int64_t d, int64_t pad, int mode,
                           int64_t *out, int64_t *before, char *err) {
    if (k < 1 || k > NN_WIN_MAX) return nn_errf(err, NN_ERR_SHAPE, "window %s %lld is outside 1..%d", axis, (long long)k, NN_WIN_MAX);
    if (s < 1 || s > NN_WIN_MAX) return nn_errf(err, NN_ERR_ARG, "stride %s %lld is outside 1..%d", axis, (long long)s, NN_WIN_MAX);
    if (d < 1 || d > NN_WIN_MAX)
        return nn_errf(err, NN_ERR_ARG, "dilation %s %lld is outside 1..%d", axis, (long long)d, NN_WIN_MAX);
    if (pad < 0 || pad > NN_WIN_MAX)
        return nn_errf(err, NN_ERR_ARG, "padding %s %lld is outside 0..%d", axis, (long long)pad, NN_WIN_MAX);
    if (mode != NN_PAD_EXPLICIT && pad != 0)
        return nn_errf(err, NN_ERR_ARG, "padding %s %lld is given with padding=%s (explicit numbers need padding=explicit)",
                       axis, (long long)pad, nn_pad_mode_name(mode));
    int64_t extent = (k - 1) * d + 1;
    if (mode == NN_PAD_SAME) {
        *out = (in + s - 1) / s;
        int64_t total = (*out - 1) * s + extent - in;
        if (total < 0) total = 0;
        *before = total / 2;
        return NN_OK;
    }
    int64_t padded = in + 2 * pad;
    if (extent > padded)
        return nn_errf(err, NN_ERR_SHAPE, "the window's %s extent %lld is larger than the %s %lld", axis,
                       (long long)extent, pad ? "padded input" : "input", (long long)padded);
    *out = (padded - extent) / s + 1;
    *before = pad;
    return NN_OK;
}

nn_status nn_window_geom(const nn_node *node, nn_shape x, int64_t kh, int64_t kw, int dilated, nn_window *win,
                         char *err) {
    const int64_t *a = node->iattr;
    if (x.rank != 4) return nn_errf(err, NN_ERR_SHAPE, "input must be 4-D [N, C, H, W] (NCHW), it has rank %d", x.rank);
    for (int i = 1; i < 4; i++)
        if (x.dim[i] <= 0 || x.dim[i] == NN_BATCH)
            return nn_errf(err, NN_ERR_SHAPE, "input dimension %d must be a fixed positive size", i);
    int mode = (int)a[NN_WIN_PADDING];
    if (mode < 0 || mode > 2) return nn_errf(err, NN_ERR_ARG, "unknown padding mode %d", mode);
    memset(win, 0, sizeof *win);
    win->n = x.dim[0];
    win->c = x.dim[1];
    win->h = x.dim[2];
    win->w = x.dim[3];
    win->kh = kh;
    win->kw = kw;
    win->sh = a[NN_WIN_STRIDE_H];
    win->sw = a[NN_WIN_STRIDE_W];
    win->dh = dilated ? a[NN_WIN_DIL_H] : 1;
    win->dw = dilated ? a[NN_WIN_DIL_W] : 1;
    nn_status st = axis_geom("height", win->h, kh, win->sh, win->dh, a[NN_WIN_PAD_H], mode, &win->oh, &win->pt, err);
    if (st == NN_OK) st = axis_geom("width", win->w, kw, win->sw, win->dw, a[NN_WIN_PAD_W], mode, &win->ow, &win->pl, err);
    return st;
}
