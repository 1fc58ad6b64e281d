/* The Keras-like progress line of the fit loop:
 *
 *   Epoch 3/40  157/157 [==============================] 2ms/step - loss: 0.4428 - accuracy: 0.9012
 *
 * On a terminal the line is redrawn in place with a carriage return while
 * the epoch runs (padding with spaces over a longer previous line, so no
 * ANSI codes are needed); off a terminal (a log file, a pipe) only the
 * finished line is written, one per epoch, so logs stay readable. */
#include "train_internal.h"

#include <math.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BAR_WIDTH 30
#define REDRAW_SECONDS 0.1

double nn_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void nn_progress_init(nn_progress *p, FILE *out, int verbose, int epochs, int64_t batches) {
    memset(p, 0, sizeof *p);
    p->out = out ? out : stderr;
    p->verbose = verbose;
    p->epochs = epochs;
    p->batches = batches;
    p->lr = NAN;
    int fd = fileno(p->out);
    p->tty = fd >= 0 && isatty(fd);
}

void nn_progress_epoch_begin(nn_progress *p, int epoch) {
    p->epoch = epoch;
    p->start = nn_now();
    p->last_draw = p->start;
}

static int digits_of(int64_t v) {
    int d = 1;
    while (v >= 10) v /= 10, d++;
    return d;
}

/* "Epoch 3/40  157/157" */
static size_t head(const nn_progress *p, char *buf, size_t len, int64_t batch) {
    int w = digits_of(p->batches);
    int n = snprintf(buf, len, "Epoch %d/%d  %*lld/%lld", p->epoch, p->epochs, w, (long long)batch,
                     (long long)p->batches);
    return n < 0 ? 0 : (size_t)n < len ? (size_t)n : len - 1;
}

/* " [=====>....]" for batch of batches */
static size_t bar(const nn_progress *p, char *buf, size_t len, int64_t batch) {
    if (len < BAR_WIDTH + 4) return 0;
    int done = p->batches > 0 ? (int)(BAR_WIDTH * batch / p->batches) : BAR_WIDTH;
    size_t k = 0;
    buf[k++] = ' ';
    buf[k++] = '[';
    for (int i = 0; i < BAR_WIDTH; i++) {
        char c = '.';
        if (i < done) c = '=';
        else if (i == done && batch < p->batches) c = '>';
        buf[k++] = c;
    }
    buf[k++] = ']';
    buf[k] = 0;
    return k;
}

/* " 2ms/step", in the unit that keeps the number readable */
static size_t per_step(char *buf, size_t len, double seconds) {
    int n;
    if (seconds >= 1.0) n = snprintf(buf, len, " %.0fs/step", seconds);
    else if (seconds >= 1e-3) n = snprintf(buf, len, " %.0fms/step", seconds * 1e3);
    else n = snprintf(buf, len, " %.0fus/step", seconds * 1e6);
    return n < 0 ? 0 : (size_t)n < len ? (size_t)n : len - 1;
}

static size_t metric(char *buf, size_t len, const char *name, double v) {
    if (isnan(v) && strstr(name, "accuracy")) return 0; /* not a classifier */
    int n = snprintf(buf, len, " - %s: %.4f", name, v);
    return n < 0 ? 0 : (size_t)n < len ? (size_t)n : len - 1;
}

static void emit(nn_progress *p, const char *line, size_t len, int final) {
    if (p->tty) {
        /* overwrite what a longer previous draw left behind */
        int pad = p->drawn_len > (int)len ? p->drawn_len - (int)len : 0;
        fprintf(p->out, "\r%s%*s", line, pad, "");
        if (pad) fprintf(p->out, "\r%s", line);
        p->drawn_len = (int)len;
        p->line_open = 1;
    } else {
        fputs(line, p->out);
    }
    if (final) {
        fputc('\n', p->out);
        p->line_open = 0;
        p->drawn_len = 0;
    }
    fflush(p->out);
}

void nn_progress_step(nn_progress *p, int64_t batch, double loss, double accuracy) {
    if (p->verbose != 1 || !p->tty || batch >= p->batches) return;
    double now = nn_now();
    if (now - p->last_draw < REDRAW_SECONDS) return;
    p->last_draw = now;
    char line[256];
    size_t k = head(p, line, sizeof line, batch);
    k += bar(p, line + k, sizeof line - k, batch);
    double eta = (now - p->start) / (double)batch * (double)(p->batches - batch);
    char eta_text[48];
    snprintf(eta_text, sizeof eta_text, " - ETA: %.0fs", eta);
    size_t n = strlen(eta_text);
    if (k + n < sizeof line) memcpy(line + k, eta_text, n + 1), k += n;
    k += metric(line + k, sizeof line - k, "loss", loss);
    k += metric(line + k, sizeof line - k, "accuracy", accuracy);
    emit(p, line, k, 0);
}

void nn_progress_epoch_end(nn_progress *p, double loss, double accuracy, double val_loss, double val_accuracy) {
    if (p->verbose <= 0) return;
    char line[320];
    size_t k = head(p, line, sizeof line, p->batches);
    if (p->verbose == 1) k += bar(p, line + k, sizeof line - k, p->batches);
    else {
        int n = snprintf(line + k, sizeof line - k, " -");
        if (n > 0) k += (size_t)n;
    }
    double secs = nn_now() - p->start;
    k += per_step(line + k, sizeof line - k, p->batches > 0 ? secs / (double)p->batches : secs);
    k += metric(line + k, sizeof line - k, "loss", loss);
    k += metric(line + k, sizeof line - k, "accuracy", accuracy);
    if (!isnan(val_loss)) {
        k += metric(line + k, sizeof line - k, "val_loss", val_loss);
        k += metric(line + k, sizeof line - k, "val_accuracy", val_accuracy);
    }
    if (!isnan(p->lr) && k < sizeof line) {
        int n = snprintf(line + k, sizeof line - k, " - lr: %.4g", p->lr);
        if (n > 0) k += (size_t)n < sizeof line - k ? (size_t)n : sizeof line - k - 1;
    }
    emit(p, line, k, 1);
}

void nn_progress_break(nn_progress *p) {
    if (p->line_open) {
        fputc('\n', p->out);
        fflush(p->out);
        p->line_open = 0;
        p->drawn_len = 0;
    }
}
