/* Learning-rate schedules: the stateless ones (step, exponential, cosine
 * with warmup) as a function of the epoch, reduce-on-plateau as a small
 * state machine fed the epoch's metrics, and the text form the command
 * line and the run log use ("cosine:2:0.0001"). */
#include "train_internal.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const kind_names[] = {"constant", "step", "exponential", "cosine", "plateau"};

/* The schedule with its zero fields replaced by their defaults. */
static nn_lr_schedule with_defaults(const nn_lr_schedule *s) {
    nn_lr_schedule d = s ? *s : (nn_lr_schedule){0};
    if (d.kind == NN_LR_STEP && d.step_epochs <= 0) d.step_epochs = 10;
    if (d.kind == NN_LR_STEP && d.gamma == 0) d.gamma = 0.1;
    if (d.kind == NN_LR_EXPONENTIAL && d.gamma == 0) d.gamma = 0.9;
    if (d.kind == NN_LR_PLATEAU) {
        if (d.factor == 0) d.factor = 0.1;
        if (d.patience <= 0) d.patience = 10;
        if (d.min_delta == 0) d.min_delta = 1e-4;
    }
    return d;
}

nn_status nn_lr_schedule_check(const nn_lr_schedule *s) {
    if (!s) return NN_OK;
    nn_lr_schedule d = with_defaults(s);
    if ((int)d.kind < 0 || d.kind > NN_LR_PLATEAU) return nn_set_error(NN_ERR_ARG, "lr schedule: unknown kind %d", (int)d.kind);
    if ((d.kind == NN_LR_STEP || d.kind == NN_LR_EXPONENTIAL) && !(d.gamma > 0 && d.gamma <= 1))
        return nn_set_error(NN_ERR_ARG, "lr schedule %s: gamma must be in (0,1], got %g", kind_names[d.kind], d.gamma);
    if (d.kind == NN_LR_PLATEAU && !(d.factor > 0 && d.factor < 1))
        return nn_set_error(NN_ERR_ARG, "lr schedule plateau: factor must be in (0,1), got %g", d.factor);
    if (!(d.min_lr >= 0) || !isfinite(d.min_lr))
        return nn_set_error(NN_ERR_ARG, "lr schedule %s: min_lr must be finite and >= 0, got %g", kind_names[d.kind],
                            d.min_lr);
    if (d.warmup_epochs < 0 || d.decay_epochs < 0 || d.cooldown < 0)
        return nn_set_error(NN_ERR_ARG, "lr schedule %s: epoch counts must be >= 0", kind_names[d.kind]);
    if (d.kind == NN_LR_PLATEAU && d.monitor && strcmp(d.monitor, "loss") && strcmp(d.monitor, "val_loss") &&
        strcmp(d.monitor, "accuracy") && strcmp(d.monitor, "val_accuracy"))
        return nn_set_error(NN_ERR_ARG, "lr schedule plateau: monitors loss, val_loss, accuracy or val_accuracy, not '%s'",
                            d.monitor);
    return NN_OK;
}

double nn_lr_schedule_at(const nn_lr_schedule *s, double base_lr, int epoch, int epochs) {
    nn_lr_schedule d = with_defaults(s);
    int i = epoch > 0 ? epoch - 1 : 0; /* epochs done before this one */
    switch (d.kind) {
    case NN_LR_STEP:
        return base_lr * pow(d.gamma, (double)(i / d.step_epochs));
    case NN_LR_EXPONENTIAL:
        return base_lr * pow(d.gamma, (double)i);
    case NN_LR_COSINE: {
        if (i < d.warmup_epochs) return base_lr * (double)(i + 1) / (double)d.warmup_epochs;
        int span = d.decay_epochs > 0 ? d.decay_epochs : epochs - d.warmup_epochs;
        if (span < 1) span = 1;
        int k = i - d.warmup_epochs;
        if (k > span) k = span;
        return d.min_lr + (base_lr - d.min_lr) * 0.5 * (1.0 + cos(3.14159265358979323846 * (double)k / (double)span));
    }
    default: /* constant, and plateau before its first reduction */
        return base_lr;
    }
}

void nn_plateau_init(nn_plateau *p, const nn_lr_schedule *s, int have_val) {
    memset(p, 0, sizeof *p);
    if (!s || s->kind != NN_LR_PLATEAU) return;
    p->on = 1;
    p->s = with_defaults(s);
    if (!p->s.monitor) p->s.monitor = have_val ? "val_loss" : "loss";
    p->maximise = strstr(p->s.monitor, "accuracy") != NULL;
    p->best = p->maximise ? -INFINITY : INFINITY;
}

double nn_plateau_epoch_end(nn_plateau *p, double value, double lr) {
    if (!p->on || isnan(value)) return lr;
    int better = p->maximise ? value > p->best + p->s.min_delta : value < p->best - p->s.min_delta;
    if (p->cooldown_left > 0) {
        p->cooldown_left--;
        p->wait = 0;
    }
    if (better) {
        p->best = value;
        p->wait = 0;
        return lr;
    }
    if (p->cooldown_left > 0) return lr; /* Keras: no waiting counted in cooldown */
    if (++p->wait < p->s.patience) return lr;
    p->wait = 0;
    p->cooldown_left = p->s.cooldown;
    double reduced = lr * p->s.factor;
    return reduced > p->s.min_lr ? reduced : p->s.min_lr;
}

/* ---- text form ---- */

/* Reads the next ':'-separated field as a number; 1 if one was there. */
static int next_num(const char **p, double *out, int *ok) {
    if (**p != ':') return 0;
    (*p)++;
    char *end;
    errno = 0;
    double v = strtod(*p, &end);
    if (end == *p || errno || !isfinite(v) || (*end && *end != ':')) {
        *ok = 0;
        return 0;
    }
    *out = v;
    *p = end;
    return 1;
}

static int whole(double v) { return v >= 0 && v <= 1e6 && v == floor(v); }

nn_status nn_lr_schedule_parse(const char *text, nn_lr_schedule *out) {
    static const char forms[] = "step[:EPOCHS[:GAMMA]], exponential[:GAMMA], cosine[:WARMUP[:MIN_LR]] or "
                                "plateau[:PATIENCE[:FACTOR[:MIN_LR]]]";
    if (!text || !out) return nn_set_error(NN_ERR_ARG, "lr schedule: nothing to parse");
    nn_lr_schedule s = {0};
    size_t len = strcspn(text, ":");
    int kind = -1;
    for (int k = 0; k <= NN_LR_PLATEAU; k++)
        if (strlen(kind_names[k]) == len && strncmp(text, kind_names[k], len) == 0) kind = k;
    if (len == 3 && strncmp(text, "exp", 3) == 0) kind = NN_LR_EXPONENTIAL;
    if (kind < 0) return nn_set_error(NN_ERR_ARG, "lr schedule '%s': unknown; give %s", text, forms);
    s.kind = (nn_lr_schedule_kind)kind;
    const char *p = text + len;
    double a = 0, b = 0, c = 0;
    int ok = 1;
    int n = next_num(&p, &a, &ok);
    n += n && next_num(&p, &b, &ok);
    n += n == 2 && next_num(&p, &c, &ok);
    int max = kind == NN_LR_STEP || kind == NN_LR_COSINE ? 2 : kind == NN_LR_EXPONENTIAL ? 1 : kind == NN_LR_PLATEAU ? 3 : 0;
    if (!ok || *p || n > max) return nn_set_error(NN_ERR_ARG, "lr schedule '%s': bad fields; give %s", text, forms);
    switch (s.kind) {
    case NN_LR_STEP:
        if (n >= 1 && (!whole(a) || a < 1)) return nn_set_error(NN_ERR_ARG, "lr schedule '%s': EPOCHS must be a whole number >= 1", text);
        s.step_epochs = (int)a;
        s.gamma = b;
        break;
    case NN_LR_EXPONENTIAL:
        s.gamma = a;
        break;
    case NN_LR_COSINE:
        if (n >= 1 && !whole(a)) return nn_set_error(NN_ERR_ARG, "lr schedule '%s': WARMUP must be a whole number of epochs", text);
        s.warmup_epochs = (int)a;
        s.min_lr = b;
        break;
    case NN_LR_PLATEAU:
        if (n >= 1 && (!whole(a) || a < 1)) return nn_set_error(NN_ERR_ARG, "lr schedule '%s': PATIENCE must be a whole number >= 1", text);
        s.patience = (int)a;
        s.factor = b;
        s.min_lr = c;
        break;
    default:
        break;
    }
    nn_status st = nn_lr_schedule_check(&s);
    if (st != NN_OK) return st;
    *out = s;
    return NN_OK;
}

int nn_lr_schedule_str(const nn_lr_schedule *s, char *buf, size_t len) {
    nn_lr_schedule d = with_defaults(s);
    const char *name = (int)d.kind >= 0 && d.kind <= NN_LR_PLATEAU ? kind_names[d.kind] : "unknown";
    switch (d.kind) {
    case NN_LR_STEP:
        return snprintf(buf, len, "%s:%d:%g", name, d.step_epochs, d.gamma);
    case NN_LR_EXPONENTIAL:
        return snprintf(buf, len, "%s:%g", name, d.gamma);
    case NN_LR_COSINE:
        return snprintf(buf, len, "%s:%d:%g", name, d.warmup_epochs, d.min_lr);
    case NN_LR_PLATEAU:
        return snprintf(buf, len, "%s:%d:%g:%g", name, d.patience, d.factor, d.min_lr);
    default:
        return snprintf(buf, len, "%s", name);
    }
}
