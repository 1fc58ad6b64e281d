/* What nn_fit does around the steps: learning-rate schedules (values by
 * hand, the LR of every epoch as fit used it), reduce-on-plateau, early
 * stopping with restore_best_weights, and the extra metrics (F1 on a small
 * confusion matrix by hand, top-k, MAE and the confusion matrix against
 * counts made from nn_predict). */
#include "nngraph.h"
#include "testutil.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- data and a model ---- */

static nn_dataset *blobs(int n, uint64_t seed) { return tu_blobs(n, seed, 1.5f); }

static nn_graph *blobs_model(nn_node **loss, nn_node **logits) { return tu_blobs_model(7, 8, loss, logits); }

/* ---- schedules ---- */

Test(schedule, values_by_hand) {
    /* cosine, base 0.1, 10 epochs, warmup 2: epochs 1, 2 ramp 0.05, 0.1;
     * then span 8: epoch 3 (k 0) 0.1, epoch 7 (k 4) 0.05,
     * epoch 10 (k 7) 0.05 (1 + cos(7 pi / 8)) = 0.05 * 0.0761205 = 0.0038060 */
    nn_lr_schedule c = {.kind = NN_LR_COSINE, .warmup_epochs = 2};
    double want_c[][2] = {{1, 0.05}, {2, 0.1}, {3, 0.1}, {7, 0.05}, {10, 0.0038060233744356625}};
    for (int i = 0; i < 5; i++)
        cr_assert_float_eq(nn_lr_schedule_at(&c, 0.1, (int)want_c[i][0], 10), want_c[i][1], 1e-12, "epoch %g",
                           want_c[i][0]);
    /* with a floor 0.01: epoch 7 is 0.01 + 0.09 * 0.5 = 0.055 */
    c.min_lr = 0.01;
    cr_assert_float_eq(nn_lr_schedule_at(&c, 0.1, 7, 10), 0.055, 1e-12);
    /* step every 3 epochs by 0.5: 1, 1, 1, 0.5, 0.5, 0.5, 0.25 */
    nn_lr_schedule st = {.kind = NN_LR_STEP, .step_epochs = 3, .gamma = 0.5};
    double want_s[] = {1, 1, 1, 0.5, 0.5, 0.5, 0.25};
    for (int e = 1; e <= 7; e++) cr_assert_float_eq(nn_lr_schedule_at(&st, 1.0, e, 7), want_s[e - 1], 1e-15);
    /* exponential 0.9: epoch 3 is 0.81 lr; defaults: step 10 epochs x0.1 */
    nn_lr_schedule ex = {.kind = NN_LR_EXPONENTIAL, .gamma = 0.9};
    cr_assert_float_eq(nn_lr_schedule_at(&ex, 2.0, 3, 5), 1.62, 1e-12);
    nn_lr_schedule sd = {.kind = NN_LR_STEP};
    cr_assert_float_eq(nn_lr_schedule_at(&sd, 1.0, 11, 20), 0.1, 1e-15);
    cr_assert_float_eq(nn_lr_schedule_at(&sd, 1.0, 10, 20), 1.0, 1e-15);
}

Test(schedule, text_form_round_trips_and_errors_name_the_field) {
    nn_lr_schedule s;
    char buf[64];
    cr_assert_eq(nn_lr_schedule_parse("cosine:2:0.001", &s), NN_OK, "%s", nn_last_error());
    cr_assert_eq(s.kind, NN_LR_COSINE);
    cr_assert_eq(s.warmup_epochs, 2);
    cr_assert_float_eq(s.min_lr, 0.001, 1e-15);
    nn_lr_schedule_str(&s, buf, sizeof buf);
    cr_assert_str_eq(buf, "cosine:2:0.001");
    cr_assert_eq(nn_lr_schedule_parse("exp:0.95", &s), NN_OK);
    nn_lr_schedule_str(&s, buf, sizeof buf);
    cr_assert_str_eq(buf, "exponential:0.95");
    cr_assert_eq(nn_lr_schedule_parse("plateau", &s), NN_OK);
    nn_lr_schedule_str(&s, buf, sizeof buf);
    cr_assert_str_eq(buf, "plateau:10:0.1:0");
    cr_assert_eq(nn_lr_schedule_parse("step:5", &s), NN_OK);
    nn_lr_schedule_str(&s, buf, sizeof buf);
    cr_assert_str_eq(buf, "step:5:0.1");
    cr_assert_neq(nn_lr_schedule_parse("linear", &s), NN_OK);
    cr_assert(strstr(nn_last_error(), "cosine"), "%s", nn_last_error());
    cr_assert_neq(nn_lr_schedule_parse("step:0", &s), NN_OK);
    cr_assert(strstr(nn_last_error(), "EPOCHS"), "%s", nn_last_error());
    cr_assert_neq(nn_lr_schedule_parse("exponential:1.5", &s), NN_OK);
    cr_assert(strstr(nn_last_error(), "gamma"), "%s", nn_last_error());
    cr_assert_neq(nn_lr_schedule_parse("cosine:x", &s), NN_OK);
    cr_assert_neq(nn_lr_schedule_parse("cosine:1:2:3", &s), NN_OK);
}

/* The LRs the epochs used, as the epoch callback saw them. */
typedef struct lr_log {
    int n;
    double lr[16], loss[16], val_loss[16];
    float w[16][8];
    nn_node *watch;
    nn_metric_values val_m;
    int64_t confusion[16];
} lr_log;

static int record(const nn_epoch_info *e, void *user) {
    lr_log *l = user;
    l->lr[l->n] = e->lr;
    l->loss[l->n] = e->loss;
    l->val_loss[l->n] = e->val_loss;
    if (l->watch) memcpy(l->w[l->n], nn_tensor_f32(nn_param_value(l->watch)), 8 * sizeof(float));
    l->val_m = e->val_metrics;
    if (e->val_metrics.confusion) memcpy(l->confusion, e->val_metrics.confusion, 16 * sizeof(int64_t));
    l->val_m.confusion = NULL;
    l->n++;
    return 0;
}

Test(schedule, fit_sets_and_reports_each_epochs_lr) {
    nn_node *loss, *logits;
    nn_graph *g = blobs_model(&loss, &logits);
    nn_dataset *d = blobs(64, 3);
    nn_optimizer *opt = nn_sgd(0.2f, 0.f);
    nn_lr_schedule s = {.kind = NN_LR_STEP, .step_epochs = 2, .gamma = 0.5};
    lr_log l = {0};
    FILE *progress = tmpfile();
    nn_fit_opts o = {.epochs = 5, .batch_size = 16, .optimizer = opt, .shuffle_seed = 1, .lr_schedule = &s,
                     .on_epoch = record, .user = &l, .verbose = 2, .progress = progress};
    cr_assert_eq(nn_fit(g, loss, d, &o, NULL), NN_OK, "%s", nn_error_message(g));
    double want[] = {0.2, 0.2, 0.1, 0.1, 0.05};
    cr_assert_eq(l.n, 5);
    for (int i = 0; i < 5; i++) cr_assert_float_eq(l.lr[i], want[i], 1e-7, "epoch %d", i + 1);
    /* the progress line shows the rate, as Keras's does under a schedule */
    char text[2048] = "";
    rewind(progress);
    size_t got = fread(text, 1, sizeof text - 1, progress);
    text[got] = 0;
    fclose(progress);
    cr_assert(strstr(text, "Epoch 3/5") && strstr(text, " - lr: 0.1\n") && strstr(text, " - lr: 0.05\n"), "%s", text);
    nn_optimizer_free(opt);
    nn_dataset_free(d);
    nn_graph_free(g);
}

/* A learning rate so small that the loss cannot improve by min_delta:
 * with patience 2, the LR halves after epochs 3 and 5 (epoch 1 sets the
 * best; 2 and 3 wait; the reduction resets the wait). */
Test(schedule, plateau_reduces_after_patience) {
    nn_node *loss, *logits;
    nn_graph *g = blobs_model(&loss, &logits);
    nn_dataset *d = blobs(64, 3);
    nn_optimizer *opt = nn_sgd(1e-12f, 0.f);
    nn_lr_schedule s = {.kind = NN_LR_PLATEAU, .patience = 2, .factor = 0.5, .monitor = "loss"};
    lr_log l = {0};
    nn_fit_opts o = {.epochs = 6, .batch_size = 64, .optimizer = opt, .no_shuffle = 1, .lr_schedule = &s,
                     .on_epoch = record, .user = &l};
    cr_assert_eq(nn_fit(g, loss, d, &o, NULL), NN_OK, "%s", nn_error_message(g));
    double want[] = {1e-12, 1e-12, 1e-12, 0.5e-12, 0.5e-12, 0.25e-12};
    for (int i = 0; i < 6; i++) cr_assert_float_eq(l.lr[i] / want[i], 1.0, 1e-6, "epoch %d: %g", i + 1, l.lr[i]);
    /* plateau on val_loss without validation data is refused up front */
    s.monitor = "val_loss";
    cr_assert_eq(nn_fit(g, loss, d, &o, NULL), NN_ERR_ARG);
    cr_assert(strstr(nn_error_message(g), "validation"), "%s", nn_error_message(g));
    nn_optimizer_free(opt);
    nn_dataset_free(d);
    nn_graph_free(g);
}

/* ---- early stopping ---- */

static int blow_up_after_3(const nn_epoch_info *e, void *user) {
    record(e, user);
    if (e->epoch == 3) nn_optimizer_set_lr(e->optimizer, 3.f); /* the next epochs get worse */
    return 0;
}

Test(earlystop, restore_best_weights_puts_back_the_best_epoch) {
    nn_node *loss, *logits;
    nn_graph *g = blobs_model(&loss, &logits);
    nn_dataset *d = blobs(96, 5);
    nn_optimizer *opt = nn_sgd(0.05f, 0.f);
    lr_log l = {0};
    l.watch = nn_graph_find(g, "L2/W");
    cr_assert_not_null(l.watch);
    nn_fit_opts o = {.epochs = 7, .batch_size = 16, .optimizer = opt, .shuffle_seed = 2, .val_split = 0.25,
                     .monitor = "val_loss", .patience = 100, .restore_best_weights = 1,
                     .on_epoch = blow_up_after_3, .user = &l};
    nn_fit_result r;
    cr_assert_eq(nn_fit(g, loss, d, &o, &r), NN_OK, "%s", nn_error_message(g));
    cr_assert_eq(l.n, 7);
    int best = 0;
    for (int i = 1; i < l.n; i++)
        if (l.val_loss[i] < l.val_loss[best]) best = i;
    cr_assert_lt(best, 6, "the blow-up made a later epoch the worst: best %d", best + 1);
    cr_assert_eq(r.best_epoch, best + 1);
    cr_assert_eq(r.restored, 1);
    cr_assert_float_eq(r.best, l.val_loss[best], 1e-12);
    /* the weights are the best epoch's, bit for bit, not the last one's */
    cr_assert_eq(memcmp(nn_tensor_f32(nn_param_value(l.watch)), l.w[best], 8 * sizeof(float)), 0);
    cr_assert_neq(memcmp(l.w[6], l.w[best], 8 * sizeof(float)), 0);
    /* restore without a monitor is an error, named */
    o.monitor = NULL;
    cr_assert_eq(nn_fit(g, loss, d, &o, NULL), NN_ERR_ARG);
    cr_assert(strstr(nn_error_message(g), "restore_best_weights"), "%s", nn_error_message(g));
    nn_optimizer_free(opt);
    nn_dataset_free(d);
    nn_graph_free(g);
}

/* ---- metrics ---- */

Test(metrics, macro_f1_on_a_small_confusion_matrix_by_hand) {
    /* rows true, columns predicted:
     *   class 0: TP 5, predicted 7, actual 6: p 5/7, r 5/6, f1 50/65
     *   class 1: TP 3, predicted 4, actual 6: p 3/4, r 1/2, f1 0.6
     *   class 2: TP 4, predicted 5, actual 4: p 4/5, r 1,   f1 8/9
     * class 3 occurs nowhere and is left out of the averages */
    int64_t cm[16] = {5, 1, 0, 0, 2, 3, 1, 0, 0, 0, 4, 0, 0, 0, 0, 0};
    double p, r, f;
    nn_macro_scores(cm, 4, &p, &r, &f);
    cr_assert_float_eq(p, (5.0 / 7 + 0.75 + 0.8) / 3, 1e-12);
    cr_assert_float_eq(r, (5.0 / 6 + 0.5 + 1.0) / 3, 1e-12);
    cr_assert_float_eq(f, (50.0 / 65 + 0.6 + 8.0 / 9) / 3, 1e-12);
    /* a class predicted but never true: precision 0 counts, recall 0 */
    int64_t cm2[4] = {2, 2, 0, 0}; /* class 0: p 1, r 1/2; class 1: p 0, r 0 */
    nn_macro_scores(cm2, 2, &p, &r, &f);
    cr_assert_float_eq(p, 0.5, 1e-12);
    cr_assert_float_eq(r, 0.25, 1e-12);
    cr_assert_float_eq(f, (2.0 / 3) / 2, 1e-12);
    int64_t empty[4] = {0};
    nn_macro_scores(empty, 2, &p, NULL, NULL);
    cr_assert(isnan(p));
}

Test(metrics, top_k_by_hand) {
    nn_tensor *z = nn_tensor_new(NN_F32, NN_SHAPE(2, 3)), *y = nn_tensor_new(NN_I32, NN_SHAPE(2));
    float zs[] = {0.1f, 0.5f, 0.4f, 0.3f, 0.3f, 0.4f};
    memcpy(nn_tensor_f32(z), zs, sizeof zs);
    nn_tensor_i32(y)[0] = 2; /* second largest */
    nn_tensor_i32(y)[1] = 0; /* tied second: still among the top 2 */
    cr_assert_eq(nn_top_k_correct(z, y, 1), 0);
    cr_assert_eq(nn_top_k_correct(z, y, 2), 2);
    cr_assert_eq(nn_top_k_correct(z, y, 3), 2);
    cr_assert_eq(nn_top_k_correct(z, NULL, 2), -1);
    nn_tensor_free(z);
    nn_tensor_free(y);
}

/* A frozen model (lr 0): the validation metrics fit logs must be the
 * counts made from nn_predict's logits of the same rows. */
Test(metrics, fit_logs_what_predict_shows) {
    nn_node *loss, *logits;
    nn_graph *g = blobs_model(&loss, &logits);
    nn_dataset *train = blobs(64, 3), *val = blobs(40, 9);
    nn_optimizer *opt = nn_sgd(0.f, 0.f);
    lr_log l = {0};
    nn_fit_opts o = {.epochs = 1, .batch_size = 16, .optimizer = opt, .val = val, .on_epoch = record, .user = &l,
                     .metrics = NN_METRIC_TOP_K | NN_METRIC_F1 | NN_METRIC_PRECISION | NN_METRIC_RECALL |
                                NN_METRIC_CONFUSION,
                     .top_k = 2};
    cr_assert_eq(nn_fit(g, loss, train, &o, NULL), NN_OK, "%s", nn_error_message(g));
    nn_tensor *z = nn_predict(g, nn_graph_find(g, "x"), logits, val->x, 7);
    cr_assert_not_null(z);
    nn_tensor *pred = nn_argmax(z);
    int64_t cm[16] = {0}, cm2[16] = {0};
    for (int i = 0; i < 40; i++) cm[nn_tensor_i32(val->y)[i] * 4 + nn_tensor_i32(pred)[i]]++;
    cr_assert_eq(memcmp(cm, l.confusion, sizeof cm), 0, "confusion matrix as predict counts it");
    cr_assert_eq(nn_confusion_add(z, val->y, cm2), NN_OK, "%s", nn_last_error());
    cr_assert_eq(memcmp(cm, cm2, sizeof cm), 0, "nn_confusion_add counts the same");
    nn_tensor_i32(val->y)[3] = 4;
    cr_assert_eq(nn_confusion_add(z, val->y, cm2), NN_ERR_ARG);
    cr_assert(strstr(nn_last_error(), "label 4 of row 3"), "%s", nn_last_error());
    double p, r, f;
    nn_macro_scores(cm, 4, &p, &r, &f);
    cr_assert_float_eq(l.val_m.f1, f, 1e-12);
    cr_assert_float_eq(l.val_m.precision, p, 1e-12);
    cr_assert_float_eq(l.val_m.recall, r, 1e-12);
    cr_assert_float_eq(l.val_m.top_k_accuracy, (double)nn_top_k_correct(z, val->y, 2) / 40.0, 1e-12);
    cr_assert_eq(l.val_m.top_k, 2);
    cr_assert(isnan(l.val_m.mae));
    nn_tensor_free(pred);
    nn_tensor_free(z);
    /* MAE is a regression's: asked of a classifier, it is refused */
    o.metrics = NN_METRIC_MAE;
    cr_assert_eq(nn_fit(g, loss, train, &o, NULL), NN_ERR_ARG);
    cr_assert(strstr(nn_error_message(g), "MAE"), "%s", nn_error_message(g));
    nn_optimizer_free(opt);
    nn_dataset_free(train);
    nn_dataset_free(val);
    nn_graph_free(g);
}

static int record_mae(const nn_epoch_info *e, void *user) {
    *(double *)user = e->metrics.mae;
    return 0;
}

Test(metrics, mae_of_a_frozen_regression) {
    /* y = x w + b with w, b frozen at 0.5 and 0: prediction x/2 against
     * targets x, so |error| = |x|/2; x = -3..4 gives MAE (16/2)/8 = 1 */
    nn_graph *g = nn_graph_new(1);
    nn_node *x = nn_input(g, "x", NN_F32, NN_SHAPE(NN_BATCH, 1));
    nn_node *y = nn_input(g, "y", NN_F32, NN_SHAPE(NN_BATCH, 1));
    nn_node *pred = nn_dense_init(g, "L", x, 1, NN_LINEAR, nn_init_constant(0.5f), nn_init_zeros());
    nn_node *loss = nn_mse(g, pred, y);
    cr_assert_eq(nn_graph_status(g), NN_OK, "%s", nn_error_message(g));
    nn_tensor *xs = nn_tensor_new(NN_F32, NN_SHAPE(8, 1)), *ys = nn_tensor_new(NN_F32, NN_SHAPE(8, 1));
    for (int i = 0; i < 8; i++) nn_tensor_f32(xs)[i] = nn_tensor_f32(ys)[i] = (float)(i - 3);
    nn_dataset *d = nn_dataset_new(xs, ys);
    nn_optimizer *opt = nn_sgd(0.f, 0.f);
    double mae = NAN;
    nn_fit_opts o = {.epochs = 1, .batch_size = 3, .optimizer = opt, .metrics = NN_METRIC_MAE, .on_epoch = record_mae,
                     .user = &mae};
    cr_assert_eq(nn_fit(g, loss, d, &o, NULL), NN_OK, "%s", nn_error_message(g));
    cr_assert_float_eq(mae, 1.0, 1e-12, "%g", mae);
    nn_optimizer_free(opt);
    nn_dataset_free(d);
    nn_graph_free(g);
}

static int record_train_metrics(const nn_epoch_info *e, void *user) {
    nn_metric_values *m = user;
    *m = e->metrics;
    static int64_t cm[4];
    if (e->metrics.confusion) memcpy(cm, e->metrics.confusion, sizeof cm);
    m->confusion = cm;
    return 0;
}

/* bce_with_logits counts as two classes: logit > 0 against target > 0.5.
 * A frozen logit x (w 1, b 0) on x = -2, -1, 1, 2, 3 with targets
 * 0, 1, 1, 0, 1: true 0 -> predicted (0, 1); true 1 -> predicted (0, 1, 1):
 * cm = [[1, 1], [1, 2]]; class 0: p 1/2, r 1/2; class 1: p 2/3, r 2/3;
 * macro F1 (1/2 + 2/3) / 2 = 7/12. */
Test(metrics, binary_confusion_and_f1_by_hand) {
    nn_graph *g = nn_graph_new(1);
    nn_node *x = nn_input(g, "x", NN_F32, NN_SHAPE(NN_BATCH, 1));
    nn_node *y = nn_input(g, "y", NN_F32, NN_SHAPE(NN_BATCH, 1));
    nn_node *z = nn_dense_init(g, "L", x, 1, NN_LINEAR, nn_init_constant(1.f), nn_init_zeros());
    nn_node *loss = nn_bce_with_logits(g, z, y);
    cr_assert_eq(nn_graph_status(g), NN_OK, "%s", nn_error_message(g));
    nn_tensor *xs = nn_tensor_new(NN_F32, NN_SHAPE(5, 1)), *ys = nn_tensor_new(NN_F32, NN_SHAPE(5, 1));
    const float xv[5] = {-2, -1, 1, 2, 3}, yv[5] = {0, 1, 1, 0, 1};
    memcpy(nn_tensor_f32(xs), xv, sizeof xv);
    memcpy(nn_tensor_f32(ys), yv, sizeof yv);
    nn_dataset *d = nn_dataset_new(xs, ys);
    nn_optimizer *opt = nn_sgd(0.f, 0.f);
    nn_metric_values m;
    nn_fit_opts o = {.epochs = 1, .batch_size = 2, .optimizer = opt, .no_shuffle = 1, .on_epoch = record_train_metrics,
                     .user = &m, .metrics = NN_METRIC_CONFUSION | NN_METRIC_F1 | NN_METRIC_TOP_K};
    cr_assert_eq(nn_fit(g, loss, d, &o, NULL), NN_OK, "%s", nn_error_message(g));
    const int64_t want[4] = {1, 1, 1, 2};
    cr_assert_eq(m.classes, 2);
    cr_assert_eq(memcmp(m.confusion, want, sizeof want), 0, "%lld %lld %lld %lld", (long long)m.confusion[0],
                 (long long)m.confusion[1], (long long)m.confusion[2], (long long)m.confusion[3]);
    cr_assert_float_eq(m.f1, 7.0 / 12.0, 1e-12);
    cr_assert(isnan(m.top_k_accuracy), "top-k means nothing for one logit");
    nn_optimizer_free(opt);
    nn_dataset_free(d);
    nn_graph_free(g);
}

/* With a second thread, nn_fit gathers the next batch on it while a step
 * runs (src/train/batches.c). The steps see the same rows in the same
 * order as on one thread: every step's loss is the same bits, through
 * u8 images widened while gathered, a partial last batch, a held-out
 * validation tail and several epochs; and an on_step callback that stops
 * the fit mid-epoch leaves nothing running. */
typedef struct step_losses {
    double loss[400];
    int n, stop_at;
} step_losses;

static int record_step(const nn_step_info *s, void *user) {
    step_losses *l = user;
    if (l->n < 400) l->loss[l->n++] = s->loss;
    return l->stop_at && l->n == l->stop_at;
}

Test(fit, next_batch_on_a_second_thread_same_losses) {
    nn_dataset *d = nn_load_idx_pair(NN_EXAMPLES_DATA "/digits20-train-images.idx3-ubyte.gz",
                                     NN_EXAMPLES_DATA "/digits20-train-labels.idx1-ubyte.gz");
    cr_assert_not_null(d, "%s", nn_last_error());
    step_losses runs[3] = {{.n = 0}, {.n = 0}, {.n = 0, .stop_at = 50}};
    double val[2];
    for (int r = 0; r < 3; r++) {
        nn_node *x, *z, *loss;
        nn_graph *g = tu_digits_net(7, &x, &z, &loss);
        nn_graph_set_threads(g, r == 0 ? 1 : 2);
        nn_fit_result res;
        /* 4000 training rows in batches of 96: 42 an epoch, the last of 64 */
        nn_fit_opts o = {.epochs = 3, .batch_size = 96, .val_split = 0.2, .shuffle_seed = 3, .on_step = record_step,
                         .user = &runs[r]};
        cr_assert_eq(nn_fit(g, loss, d, &o, &res), NN_OK, "%s", nn_error_message(g));
        if (r < 2) val[r] = res.val_loss;
        nn_graph_free(g);
    }
    cr_assert_eq(runs[0].n, 3 * 42);
    cr_assert_eq(runs[1].n, runs[0].n);
    for (int i = 0; i < runs[0].n; i++)
        cr_assert(runs[0].loss[i] == runs[1].loss[i], "step %d: loss %.17g on 1 thread, %.17g on 2", i + 1,
                  runs[0].loss[i], runs[1].loss[i]);
    cr_assert(val[0] == val[1], "validation loss %.17g vs %.17g", val[0], val[1]);
    cr_assert_eq(runs[2].n, 50);
    for (int i = 0; i < 50; i++) cr_assert(runs[2].loss[i] == runs[0].loss[i], "stopped run, step %d", i + 1);
    nn_dataset_free(d);
}
