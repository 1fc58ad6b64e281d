/* Run log hooked to nn_fit: what a logged fit records, resume after a
 * SIGKILL reaching the same weights, Ctrl-C, a NaN loss, a failing log. */
#include "nngraph.h"
#include "runlog_util.h"

#include <criterion/criterion.h>
#include <math.h>
#include <signal.h>
#include <sys/wait.h>

static const float centres[6] = {0.f, 0.f, 3.f, 3.f, -3.f, 3.f};

/* 2-8-3 classifier on 150 blob points: 5 batches of 32 an epoch (the
 * last one 22 rows). Same seed, same graph. */
typedef struct model {
    nn_graph *g;
    nn_node *loss;
    nn_dataset *data;
} model;

static model make_model(void) {
    model m;
    m.g = nn_graph_new(42);
    nn_graph_set_threads(m.g, 1);
    nn_node *x = nn_input(m.g, "x", NN_F32, NN_SHAPE(NN_BATCH, 2));
    nn_node *y = nn_input(m.g, "y", NN_I32, NN_SHAPE(NN_BATCH));
    nn_node *h = nn_dense(m.g, "L1", x, 8, NN_RELU);
    nn_node *z = nn_dense(m.g, "L2", h, 3, NN_LINEAR);
    m.loss = nn_softmax_cross_entropy(m.g, z, y);
    cr_assert_eq(nn_graph_status(m.g), NN_OK, "%s", nn_error_message(m.g));
    m.data = nn_make_blobs(centres, 3, 2, 150, 0.8f, 7);
    cr_assert_not_null(m.data, "%s", nn_last_error());
    return m;
}

static void free_model(model *m) {
    nn_dataset_free(m->data);
    nn_graph_free(m->g);
}

/* The graph's parameters' bytes, concatenated (malloc'ed). */
static float *weights(nn_graph *g, int64_t *n) {
    nn_node *p[8];
    int k = nn_graph_params(g, p, 8);
    *n = nn_graph_param_count(g);
    float *w = malloc((size_t)*n * sizeof *w), *at = w;
    for (int i = 0; i < k; i++) {
        const nn_tensor *t = nn_param_value(p[i]);
        memcpy(at, nn_tensor_f32(t), (size_t)nn_tensor_size(t) * sizeof *at);
        at += nn_tensor_size(t);
    }
    return w;
}

Test(runlog_fit, records_a_run) {
    char dir[64], db[96], buf[512];
    rlt_tmpdir(dir, db, "fit.db");
    model m = make_model();
    nn_optimizer *adam = nn_adam(0.01f);
    nn_fit_opts o = {.epochs = 4, .optimizer = adam};
    nn_runlog_fit_opts r = {.path = db, .run_name = "blobs", .seed = 42, .checkpoint_every = 2};
    nn_fit_result res;
    cr_assert_eq(nn_fit_logged(m.g, m.loss, m.data, &o, &r, &res), NN_OK, "%s", nn_last_error());
    cr_assert_eq(res.epochs_run, 4);
    cr_assert_eq(rlt_int(db, "SELECT count(*) FROM run WHERE status = 'finished' AND name = 'blobs' AND seed = 42"),
                 1);
    cr_assert_eq(rlt_int(db, "SELECT count(*) FROM v_step WHERE metric = 'loss'"), 20); /* 4 x 5 steps */
    cr_assert_eq(rlt_int(db, "SELECT max(step) FROM step_metric"), 20);
    cr_assert_eq(rlt_int(db, "SELECT count(*) FROM v_curve WHERE metric = 'loss' AND split = 'train'"), 4);
    cr_assert_eq(rlt_int(db, "SELECT count(*) FROM v_curve WHERE metric = 'accuracy'"), 4);
    cr_assert_eq(rlt_int(db, "SELECT count(*) FROM v_curve WHERE metric = 'time' AND value > 0"), 4);
    /* the last epoch's loss in the log is the fit's */
    nn_runlog *log = nn_runlog_open(db, NN_RUNLOG_READONLY);
    nn_run_row row;
    cr_assert_eq(nn_runlog_get_run(log, 1, &row), NN_OK);
    cr_assert_eq(row.final_loss, res.loss);
    cr_assert_eq(row.final_accuracy, res.accuracy);
    cr_assert_eq(row.epochs, 4);
    cr_assert_eq(row.threads, 1);
    /* checkpoints at epochs 2 and 4 (final), holding the final weights */
    cr_assert_str_eq(rlt_text(db, "SELECT group_concat(epoch || ':' || reason || ':' || step, ' ') FROM checkpoint",
                              buf, sizeof buf),
                     "2:epoch:10 4:final:20");
    cr_assert_str_eq(rlt_text(db, "SELECT group_concat(role || ' ' || name, ',') FROM (SELECT * FROM tensor WHERE "
                                  "checkpoint = 2 ORDER BY id)",
                              buf, sizeof buf),
                     "param L1/W,param L1/b,param L2/W,param L2/b,adam_m L1/W,adam_v L1/W,adam_m L1/b,adam_v L1/b,"
                     "adam_m L2/W,adam_v L2/W,adam_m L2/b,adam_v L2/b,state optimizer_steps,rng shuffle");
    nn_checkpoint *c = nn_runlog_load_checkpoint(log, 1, -1);
    cr_assert_not_null(c);
    int64_t n;
    float *w = weights(m.g, &n);
    cr_assert_eq(memcmp(nn_tensor_f32(nn_checkpoint_find(c, "L1/W", NN_ROLE_PARAM)), w, 16 * sizeof(float)), 0);
    cr_assert_eq(nn_tensor_i32(nn_checkpoint_find(c, "optimizer_steps", NN_ROLE_STATE))[0], 20);
    /* exported as a weights file, it loads into a fresh graph (nn_weights_load) */
    char wf[128];
    snprintf(wf, sizeof wf, "%s/final.nnw", dir);
    cr_assert_eq(nn_checkpoint_save(c, wf, 1), NN_OK, "%s", nn_last_error());
    model fresh = make_model();
    cr_assert_eq(nn_weights_load(fresh.g, wf), NN_OK, "%s", nn_last_error());
    int64_t nf;
    float *wfresh = weights(fresh.g, &nf);
    cr_assert_eq(memcmp(wfresh, w, (size_t)n * sizeof *w), 0);
    free(wfresh);
    free_model(&fresh);
    /* the run recorded the graph as a graph file */
    char *text = nn_runlog_graph_text(log, 1);
    cr_assert_not_null(text, "%s", nn_last_error());
    nn_graph *back = nn_graph_load_text(text, strlen(text), "run 1", 42);
    cr_assert_not_null(back, "%s", nn_last_error());
    cr_assert_eq(nn_graph_param_count(back), 51);
    nn_graph_free(back);
    free(text);
    free(w);
    nn_checkpoint_free(c);
    nn_param_kv *kv;
    int nkv;
    cr_assert_eq(nn_runlog_params(log, 1, &kv, &nkv), NN_OK);
    const char *want[][2] = {{"batch_size", "32"}, {"beta1", "0.9"}, {"epochs", "4"}, {"optimizer", "adam"},
                             {"param_count", "51"}, {"shape:L1/W", "[2,8]"}, {"shape:L2/b", "[3]"}};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        int found = 0;
        for (int j = 0; j < nkv; j++)
            if (strcmp(kv[j].key, want[i][0]) == 0) {
                cr_assert_str_eq(kv[j].value, want[i][1], "%s", want[i][0]);
                found = 1;
            }
        cr_assert(found, "param %s logged", want[i][0]);
    }
    free(kv);
    nn_runlog_close(log);
    nn_optimizer_free(adam);
    free_model(&m);
    rlt_rmdir(dir);
}

/* Kills itself (SIGKILL, no chance to clean up) once epoch 3 is logged. */
static int die_after_epoch_3(const nn_epoch_info *ei, void *user) {
    (void)user;
    if (ei->epoch == 3) raise(SIGKILL);
    return 0;
}

Test(runlog_fit, resume_after_sigkill_matches_uninterrupted) {
    char dir[64], db[96];
    rlt_tmpdir(dir, db, "resume.db");
    /* run 1: 6 epochs straight */
    model a = make_model();
    nn_optimizer *oa = nn_adam(0.01f);
    nn_fit_opts o = {.epochs = 6, .optimizer = oa};
    nn_runlog_fit_opts r = {.path = db, .run_name = "straight"};
    cr_assert_eq(nn_fit_logged(a.g, a.loss, a.data, &o, &r, NULL), NN_OK, "%s", nn_last_error());
    /* run 2: the same, killed after epoch 3 */
    pid_t pid = fork();
    if (pid == 0) {
        model b = make_model();
        nn_fit_opts ob = {.epochs = 6, .optimizer = nn_adam(0.01f), .on_epoch = die_after_epoch_3};
        nn_runlog_fit_opts rb = {.path = db, .run_name = "killed"};
        nn_fit_logged(b.g, b.loss, b.data, &ob, &rb, NULL);
        _exit(0);
    }
    int status;
    waitpid(pid, &status, 0);
    cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    char buf[32];
    cr_assert_str_eq(rlt_text(db, "PRAGMA integrity_check", buf, sizeof buf), "ok");
    cr_assert_eq(rlt_int(db, "SELECT count(*) FROM epoch_metric e JOIN metric_key k ON k.id = e.key "
                             "WHERE run = 2 AND k.name = 'loss'"),
                 3);
    /* resume run 2 in a fresh graph with a fresh optimizer */
    model c = make_model();
    nn_optimizer *oc = nn_adam(0.01f);
    nn_fit_opts o2 = {.epochs = 6, .optimizer = oc};
    nn_runlog_fit_opts r2 = {.path = db, .resume_run = 2};
    nn_fit_result res;
    cr_assert_eq(nn_fit_logged(c.g, c.loss, c.data, &o2, &r2, &res), NN_OK, "%s", nn_last_error());
    cr_assert_eq(res.epochs_run, 3, "epochs 4..6 only");
    int64_t na, nc;
    float *wa = weights(a.g, &na), *wc = weights(c.g, &nc);
    cr_assert_eq(na, nc);
    cr_assert_eq(memcmp(wa, wc, (size_t)na * sizeof *wa), 0, "resumed weights equal the uninterrupted run's");
    free(wa);
    free(wc);
    /* the two curves are the same, step by step and epoch by epoch */
    cr_assert_eq(rlt_int(db, "SELECT count(*) FROM step_metric a JOIN step_metric b ON a.step = b.step AND a.key = "
                             "b.key AND a.split = b.split WHERE a.run = 1 AND b.run = 2 AND a.value = b.value"),
                 30);
    cr_assert_eq(rlt_int(db, "SELECT count(*) FROM step_metric WHERE run = 2"), 30);
    cr_assert_eq(rlt_int(db, "SELECT count(*) FROM resume WHERE run = 2 AND epoch = 3 AND step = 15"), 1);
    cr_assert_eq(rlt_int(db, "SELECT count(*) FROM run WHERE id = 2 AND status = 'finished'"), 1);
    nn_optimizer_free(oa);
    nn_optimizer_free(oc);
    free_model(&a);
    free_model(&c);
    rlt_rmdir(dir);
}

static volatile sig_atomic_t stop_flag;
static int stop_after_epoch_2(const nn_epoch_info *e, void *user) {
    (void)user;
    if (e->epoch == 2) stop_flag = 1;
    return 0;
}

/* RMSprop with momentum (two state slots a parameter) under a step
 * schedule: 2 epochs, then a resume to 4 in a fresh graph, reaches the
 * weights of 4 epochs straight, bit for bit; the LRs logged per epoch are
 * the schedule's. Resuming with another optimizer or schedule is refused. */
Test(runlog_fit, resume_keeps_rmsprop_state_and_the_schedule) {
    char dir[64], db[96];
    rlt_tmpdir(dir, db, "rms.db");
    nn_optimizer_opts oo = {.lr = 0.01f, .momentum = 0.5f};
    nn_lr_schedule sched = {.kind = NN_LR_STEP, .step_epochs = 1, .gamma = 0.5};
    model a = make_model();
    nn_optimizer *oa = nn_optimizer_from_name("rmsprop", &oo);
    nn_fit_opts o = {.epochs = 4, .optimizer = oa, .lr_schedule = &sched};
    nn_runlog_fit_opts r = {.path = db, .run_name = "straight"};
    cr_assert_eq(nn_fit_logged(a.g, a.loss, a.data, &o, &r, NULL), NN_OK, "%s", nn_last_error());
    model b = make_model();
    nn_optimizer *ob = nn_optimizer_from_name("rmsprop", &oo);
    nn_fit_opts o2 = {.epochs = 4, .optimizer = ob, .lr_schedule = &sched, .on_epoch = stop_after_epoch_2};
    nn_runlog_fit_opts r2 = {.path = db, .run_name = "halves", .stop = &stop_flag};
    cr_assert_eq(nn_fit_logged(b.g, b.loss, b.data, &o2, &r2, NULL), NN_ERR_INTERRUPTED, "%s", nn_last_error());
    o2.on_epoch = NULL;
    r2.stop = NULL;
    model c = make_model();
    nn_optimizer *oc = nn_optimizer_from_name("rmsprop", &oo);
    o2.optimizer = oc;
    r2.resume_run = 2;
    cr_assert_eq(nn_fit_logged(c.g, c.loss, c.data, &o2, &r2, NULL), NN_OK, "%s", nn_last_error());
    int64_t na, nc;
    float *wa = weights(a.g, &na), *wc = weights(c.g, &nc);
    cr_assert_eq(memcmp(wa, wc, (size_t)na * sizeof *wa), 0, "resumed weights equal the uninterrupted run's");
    free(wa);
    free(wc);
    cr_assert_eq(rlt_int(db, "SELECT count(*) FROM epoch_metric a JOIN epoch_metric b ON a.epoch = b.epoch AND "
                             "a.key = b.key AND a.split = b.split JOIN metric_key k ON k.id = a.key WHERE k.name = 'lr' "
                             "AND a.run = 1 AND b.run = 2 AND a.value = b.value"),
                 4);
    cr_assert_eq(rlt_int(db, "SELECT count(*) FROM epoch_metric e JOIN metric_key k ON k.id = e.key WHERE "
                             "k.name = 'lr' AND e.run = 1 AND e.epoch = 3 AND e.value = 0.0025"),
                 1);
    /* the same run resumed with adam: refused, naming both */
    model d = make_model();
    nn_optimizer *od = nn_adam(0.01f);
    o2.epochs = 6;
    o2.optimizer = od;
    cr_assert_eq(rlt_exec(db, "UPDATE run SET status = 'interrupted' WHERE id = 2"), 0);
    cr_assert_neq(nn_fit_logged(d.g, d.loss, d.data, &o2, &r2, NULL), NN_OK);
    cr_assert(strstr(nn_last_error(), "trained with optimizer = rmsprop, this resume asks for adam"), "%s",
              nn_last_error());
    /* and with another schedule */
    model e = make_model();
    nn_optimizer *oe = nn_optimizer_from_name("rmsprop", &oo);
    nn_lr_schedule other = {.kind = NN_LR_EXPONENTIAL};
    o2.optimizer = oe;
    o2.lr_schedule = &other;
    cr_assert_neq(nn_fit_logged(e.g, e.loss, e.data, &o2, &r2, NULL), NN_OK);
    cr_assert(strstr(nn_last_error(), "lr_schedule = step:1:0.5, this resume asks for exponential:0.9"), "%s",
              nn_last_error());
    nn_optimizer_free(oe);
    free_model(&e);
    nn_optimizer_free(oa);
    nn_optimizer_free(ob);
    nn_optimizer_free(oc);
    nn_optimizer_free(od);
    free_model(&a);
    free_model(&b);
    free_model(&c);
    free_model(&d);
    rlt_rmdir(dir);
}

static volatile sig_atomic_t got_sigint;
static void on_sigint(int sig) {
    (void)sig;
    got_sigint = 1;
}

/* Presses Ctrl-C at step 7 (epoch 2, batch 2). */
static int ctrl_c_at_step_7(const nn_step_info *si, void *user) {
    (void)user;
    if (si->step == 7) raise(SIGINT);
    return 0;
}

Test(runlog_fit, ctrl_c_checkpoints_and_marks_interrupted) {
    char dir[64], db[96], buf[64];
    rlt_tmpdir(dir, db, "int.db");
    struct sigaction sa = {0};
    sa.sa_handler = on_sigint;
    sigaction(SIGINT, &sa, NULL);
    model m = make_model();
    nn_optimizer *opt = nn_sgd(0.1f, 0.9f);
    nn_fit_opts o = {.epochs = 5, .optimizer = opt, .on_step = ctrl_c_at_step_7};
    nn_runlog_fit_opts r = {.path = db, .stop = &got_sigint};
    cr_assert_eq(nn_fit_logged(m.g, m.loss, m.data, &o, &r, NULL), NN_ERR_INTERRUPTED);
    cr_assert(strstr(nn_last_error(), "run 1 interrupted in epoch 2, at step 7"), "%s", nn_last_error());
    cr_assert_str_eq(rlt_text(db, "SELECT status FROM run", buf, sizeof buf), "interrupted");
    cr_assert_str_eq(rlt_text(db, "SELECT group_concat(reason || ':' || epoch || ':' || step) FROM checkpoint", buf,
                              sizeof buf),
                     "epoch:1:5,signal:1:7");
    /* the signal checkpoint holds the weights of step 7 and SGD's velocity */
    nn_runlog *log = nn_runlog_open(db, 0);
    nn_checkpoint *c = nn_runlog_load_checkpoint(log, 1, -1);
    cr_assert_str_eq(nn_checkpoint_reason(c), "signal");
    cr_assert_not_null(nn_checkpoint_find(c, "L1/W#velocity", NN_ROLE_STATE));
    int64_t n;
    float *w = weights(m.g, &n);
    cr_assert_eq(memcmp(nn_tensor_f32(nn_checkpoint_find(c, "L2/b", NN_ROLE_PARAM)), w + 16 + 8 + 24, 12), 0);
    free(w);
    nn_checkpoint_free(c);
    /* a resume starts from the epoch-1 checkpoint, not the mid-epoch one */
    cr_assert_eq(nn_runlog_resume(log, 1, -1, &c), NN_OK, "%s", nn_last_error());
    cr_assert_eq(nn_checkpoint_epoch(c), 1);
    cr_assert_str_eq(nn_checkpoint_reason(c), "epoch");
    nn_checkpoint_free(c);
    cr_assert_eq(rlt_int(db, "SELECT count(*) FROM checkpoint"), 1, "the signal checkpoint is past it: dropped");
    nn_runlog_close(log);
    nn_optimizer_free(opt);
    free_model(&m);
    signal(SIGINT, SIG_DFL);
    rlt_rmdir(dir);
}

Test(runlog_fit, nan_loss_fails_the_run_with_step) {
    char dir[64], db[96], buf[256];
    rlt_tmpdir(dir, db, "nan.db");
    /* regression whose targets are huge: SGD with a large rate diverges */
    nn_graph *g = nn_graph_new(3);
    nn_node *x = nn_input(g, "x", NN_F32, NN_SHAPE(NN_BATCH, 1));
    nn_node *y = nn_input(g, "y", NN_F32, NN_SHAPE(NN_BATCH, 1));
    nn_node *loss = nn_mse(g, nn_dense(g, "L1", x, 1, NN_LINEAR), y);
    nn_dataset *d = nn_make_parabola(64);
    for (int i = 0; i < 64; i++) nn_tensor_f32(d->x)[i] *= 1e6f;
    nn_optimizer *opt = nn_sgd(1e6f, 0.f);
    nn_fit_opts o = {.epochs = 20, .optimizer = opt};
    nn_runlog_fit_opts r = {.path = db};
    nn_status s = nn_fit_logged(g, loss, d, &o, &r, NULL);
    cr_assert_eq(s, NN_ERR_NUMERIC, "%s", nn_last_error());
    cr_assert(strstr(nn_last_error(), "the loss is"), "%s", nn_last_error());
    cr_assert_str_eq(rlt_text(db, "SELECT status FROM run", buf, sizeof buf), "failed");
    rlt_text(db, "SELECT error FROM run", buf, sizeof buf);
    cr_assert(strstr(buf, "at epoch") && strstr(buf, "step"), "%s", buf);
    /* the bad value is in the curve, honestly: NaN as NULL + flag, or Inf */
    cr_assert_eq(rlt_int(db, "SELECT count(*) FROM step_metric WHERE is_nan = 1 OR value > 1e308"), 1);
    nn_optimizer_free(opt);
    nn_dataset_free(d);
    nn_graph_free(g);
    rlt_rmdir(dir);
}

Test(runlog_fit, failing_log_stops_or_continues_as_chosen) {
    char dir[64], db[96], buf[64];
    rlt_tmpdir(dir, db, "lock.db");
    nn_runlog_close(nn_runlog_open(db, 0));
    for (int mode = 0; mode < 2; mode++) {
        model m = make_model();
        nn_optimizer *opt = nn_adam(0.01f);
        nn_fit_opts o = {.epochs = 3, .optimizer = opt};
        nn_runlog_fit_opts r = {.path = db, .busy_timeout_ms = 30,
                                .on_db_error = mode ? NN_RUNLOG_CONTINUE : NN_RUNLOG_STOP};
        nn_runlog_fit *f = nn_runlog_attach(&o, m.g, m.loss, &r);
        cr_assert_not_null(f, "%s", nn_last_error());
        /* another process takes the write lock and keeps it */
        sqlite3 *other;
        sqlite3_open(db, &other);
        cr_assert_eq(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
        nn_fit_result res;
        nn_status fs = nn_fit(m.g, m.loss, m.data, &o, &res);
        cr_assert_eq(fs, NN_OK);
        if (mode == 0) {
            cr_assert_eq(res.epochs_run, 1, "stops after the epoch whose write failed");
            cr_assert_eq(nn_runlog_detach(f, fs), NN_ERR_DB);
            cr_assert(strstr(nn_last_error(), "locked") && strstr(nn_last_error(), "training stopped at epoch 1"), "%s",
                      nn_last_error());
        } else {
            cr_assert_eq(res.epochs_run, 3, "trains on without logging");
            cr_assert(strstr(nn_runlog_fit_error(f), "locked"), "%s", nn_runlog_fit_error(f));
            cr_assert_eq(nn_runlog_detach(f, fs), NN_OK);
        }
        sqlite3_exec(other, "COMMIT", NULL, NULL, NULL);
        sqlite3_close(other);
        /* never shown finished: the run could not be ended while locked */
        char sql[80];
        snprintf(sql, sizeof sql, "SELECT status FROM run WHERE id = %d", mode + 1);
        cr_assert_str_eq(rlt_text(db, sql, buf, sizeof buf), "running");
        nn_optimizer_free(opt);
        free_model(&m);
    }
    rlt_rmdir(dir);
}

Test(runlog_fit, every_nth_step_and_only_a_final_checkpoint) {
    char dir[64], db[96], buf[64];
    rlt_tmpdir(dir, db, "nth.db");
    model m = make_model();
    nn_optimizer *opt = nn_sgd(0.05f, 0.f); /* no momentum: no optimizer slots */
    nn_fit_opts o = {.epochs = 4, .optimizer = opt};
    nn_runlog_fit_opts r = {.path = db, .log_steps = 3, .checkpoint_every = -1};
    cr_assert_eq(nn_fit_logged(m.g, m.loss, m.data, &o, &r, NULL), NN_OK, "%s", nn_last_error());
    cr_assert_str_eq(rlt_text(db, "SELECT group_concat(step) FROM step_metric", buf, sizeof buf), "3,6,9,12,15,18");
    cr_assert_str_eq(rlt_text(db, "SELECT group_concat(reason || ':' || epoch) FROM checkpoint", buf, sizeof buf),
                     "final:4");
    cr_assert_eq(rlt_int(db, "SELECT count(*) FROM tensor WHERE role = 'param'"), 4);
    cr_assert_eq(rlt_int(db, "SELECT count(*) FROM tensor WHERE role = 'state'"), 1); /* optimizer_steps */
    cr_assert_eq(rlt_int(db, "SELECT count(*) FROM epoch_metric e JOIN metric_key k ON k.id = e.key "
                             "WHERE k.name = 'loss'"),
                 4);
    nn_optimizer_free(opt);
    free_model(&m);
    rlt_rmdir(dir);
}

/* What another connection sees of the run at each epoch's end. */
typedef struct seen {
    const char *db;
    long long epochs[8];
} seen;

static int count_committed_epochs(const nn_epoch_info *ei, void *user) {
    seen *s = user;
    s->epochs[ei->epoch] = rlt_int(s->db, "SELECT count(*) FROM epoch_metric e JOIN metric_key k ON k.id = e.key "
                                          "WHERE k.name = 'loss'");
    return 0;
}

Test(runlog_fit, short_epochs_commit_together_whole) {
    char dir[64], db[96];
    rlt_tmpdir(dir, db, "commit.db");
    for (int strict = 0; strict < 2; strict++) {
        model m = make_model();
        nn_optimizer *opt = nn_sgd(0.05f, 0.f);
        seen s = {.db = db};
        nn_fit_opts o = {.epochs = 5, .optimizer = opt, .on_epoch = count_committed_epochs, .user = &s};
        /* epochs far shorter than commit_secs: only the first commits at
         * once, the rest wait for the final checkpoint (a minute, so that a
         * slow machine cannot make an epoch look long); commit_secs < 0
         * commits every epoch */
        nn_runlog_fit_opts r = {.path = db, .checkpoint_every = -1, .commit_secs = strict ? -1.0 : 60.0};
        cr_assert_eq(nn_fit_logged(m.g, m.loss, m.data, &o, &r, NULL), NN_OK, "%s", nn_last_error());
        long long base = strict ? 5 : 0; /* the first run's epochs */
        for (int e = 1; e <= 5; e++) {
            long long want = base + (strict || e == 1 || e == 5 ? e : 1);
            cr_assert_eq(s.epochs[e], want, "commit_secs %s: epoch %d: %lld epochs committed, want %lld",
                         strict ? "-1" : "60", e, s.epochs[e], want);
        }
        /* whole epochs only: never a step row without its epoch */
        char sql[160];
        snprintf(sql, sizeof sql, "SELECT count(*) FROM step_metric WHERE run = %d", strict + 1);
        cr_assert_eq(rlt_int(db, sql), 25);
        nn_optimizer_free(opt);
        free_model(&m);
    }
    rlt_rmdir(dir);
}
