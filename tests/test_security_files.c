/* Hardening (issue 12), files and resources: the run log's readers on
 * hostile text, unbounded memory from a size read in a file, and outputs
 * that lost data (overwrites, modes, read-only directories, partial
 * writes). Each test names the failure it guards against. Crafted graphs
 * and values are in test_security.c. */
#include "security_util.h"
#include "internal.h"

#include <sqlite3.h>
#include <zlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <grp.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- the run log's readers ---- */

TestSuite(runlog_output, .init = setup, .fini = teardown);

/* A run whose name, error and a hyperparameter hold terminal escapes, and
 * whose losses are +-1.7e308 (finite: the curve's span overflowed to inf,
 * its width became NaN, then a negative memset in `nngraph show`). */
static void write_hostile_log(const char *db) {
    nn_runlog *log = nn_runlog_open(db, 0);
    cr_assert_not_null(log, "%s", nn_last_error());
    nn_run_info info = {.name = "evil\x1b]0;pwned\x07\x1b[2J", .command_line = "x"};
    cr_assert_eq(nn_runlog_start(log, &info, NULL), NN_OK, "%s", nn_last_error());
    cr_assert_eq(nn_runlog_param(log, "optimizer", "adam\x1b[31m\xc2\x9b" "31m"), NN_OK);
    cr_assert_eq(nn_runlog_epoch_metric(log, "loss", "train", 1, 1.7e308), NN_OK);
    cr_assert_eq(nn_runlog_epoch_metric(log, "loss", "train", 2, -1.7e308), NN_OK);
    cr_assert_eq(nn_runlog_epoch_metric(log, "loss", "train", 3, 0.0), NN_OK);
    cr_assert_eq(nn_runlog_flush(log), NN_OK);
    cr_assert_eq(nn_runlog_finish(log, "failed", "boom\x1b[1A\r"), NN_OK, "%s", nn_last_error());
    nn_runlog_close(log);
}

static void assert_no_controls(const char *text) {
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        cr_assert(*p >= 0x20 || *p == '\n', "control byte 0x%02x in:\n%s", *p, text);
        cr_assert(*p != 0x7f && !(p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f), "control in:\n%s", text);
    }
}

Test(runlog_output, show_and_runs_print_no_escapes_and_survive_huge_losses) {
    const char *db = in_dir("runs.db");
    write_hostile_log(db);
    cr_assert_eq(nngraph("show", "--db", db, "--run", "1", NULL), 0, "%s", err);
    assert_no_controls(out);
    cr_assert(strstr(out, "evil?]0;pwned??[2J") && strstr(out, "boom?[1A?") && strstr(out, "adam?[31m?31m"), "%s",
              out);
    /* the curve: the largest loss gets the full bar, the smallest one '#' */
    const char *big = strstr(out, "1.7e+308"), *small = strstr(out, "-1.7e+308");
    cr_assert(big && small, "%s", out);
    cr_assert(strstr(big, "########################################"), "%s", out);
    cr_assert_eq(nngraph("runs", db, NULL), 0, "%s", err);
    assert_no_controls(out);
    cr_assert(strstr(out, "evil?]0;pwned"), "%s", out);
    /* JSON escapes them instead */
    cr_assert_eq(nngraph("show", "--db", db, "--run", "1", "--json", NULL), 0, "%s", err);
    assert_no_controls(out);
    cr_assert(strstr(out, "evil\\u001b]0;pwned\\u0007"), "%s", out);
}

/* ---- unbounded memory ---- */

TestSuite(memory, .init = setup, .fini = teardown);

/* A 127-byte graph file made `summary` allocate 3 GiB (three 1 GiB
 * parameters); now the total is held to the memory limit, and a file
 * without its end line builds nothing big before failing. */
Test(memory, graph_file_parameters_are_held_to_the_limit) {
    static const char three_gib[] = "nngraph-graph 1\na param f32 [16384,16384] init=zeros\n"
                                    "b param f32 [16384,16384] init=zeros\nc param f32 [16384,16384] init=zeros\nend 3\n";
    expect_refused(three_gib, "crafted.nng:3:", "the graph's parameters and constants needs 2147483648 bytes, over "
                                                "the memory limit of 1073741824 (raise it with --max-memory");
    /* cut short: refused at the first big tensor, long before the limit */
    static const char cut[] = "nngraph-graph 1\na param f32 [1024,1024] init=zeros\nb param f32 [2] init=zeros\n";
    expect_refused(cut, "crafted.nng:2:", "truncated file: no 'end N' line at the end");
    /* the limit can be lowered and raised */
    static const char small[] = "nngraph-graph 1\na param f32 [1024,256] init=zeros\nend 1\n";
    nn_set_memory_limit(1 << 20);
    nn_graph *g = nn_graph_load_text(small, strlen(small), "crafted.nng", 1);
    cr_assert_not_null(g, "%s", nn_last_error());
    nn_graph_free(g);
    nn_set_memory_limit((1 << 20) - 1);
    expect_refused(small, "over the memory limit of 1048575", NULL);
    nn_set_memory_limit(0);
    cr_assert_eq(nn_memory_limit(), NN_DEFAULT_MEMORY_LIMIT);
    /* the command takes the limit as an option */
    tu_write_file(in_dir("small.nng"), small, strlen(small));
    cr_assert_eq(nngraph("summary", "--max-memory", "1000000", in_dir("small.nng"), NULL), 1);
    cr_assert(strstr(err, "over the memory limit of 1000000"), "%s", err);
    cr_assert_eq(nngraph("summary", "--max-memory=2M", in_dir("small.nng"), NULL), 0, "%s", err);
    cr_assert_eq(nngraph("summary", "--max-memory", "lots", in_dir("small.nng"), NULL), 2);
}

/* `summary /dev/zero` read without end. */
Test(memory, endless_files_stop_at_the_limit) {
    nn_set_memory_limit(1 << 22);
    cr_assert_null(nn_graph_load("/dev/zero", 1));
    cr_assert(strstr(nn_last_error(), "/dev/zero: the file is larger than the memory limit of 4194304"), "%s",
              nn_last_error());
    cr_assert_null(nn_load_csv("/dev/zero", -1, 1));
    cr_assert(strstr(nn_last_error(), "/dev/zero: a line longer than the memory limit"), "%s", nn_last_error());
    nn_set_memory_limit(0);
    cr_assert_eq(nngraph("summary", "--max-memory", "4M", "/dev/zero", NULL), 1);
    cr_assert(strstr(err, "larger than the memory limit"), "%s", err);
}

/* A 510 KB gzip IDX file made nn_load_idx peak at 2.6 GB. */
Test(memory, gzip_bomb_is_refused_before_inflating) {
    /* 600 MB of zero bytes declared and present, a few hundred KB gzipped */
    unsigned char head[16] = {0, 0, 8, 3, 0, 0, 0x75, 0x30, 0, 0, 0x13, 0x88, 0, 0, 0, 4};
    /* 30000 x 5000 x 4 = 600,000,000 */
    gzFile f = gzopen(in_dir("bomb.idx.gz"), "wb9");
    cr_assert(f);
    gzwrite(f, head, sizeof head);
    static unsigned char zeros[1 << 20];
    for (int i = 0; i < 572; i++) gzwrite(f, zeros, sizeof zeros);
    gzclose(f);
    struct stat st;
    stat(in_dir("bomb.idx.gz"), &st);
    cr_assert_lt(st.st_size, 1 << 20, "%lld bytes", (long long)st.st_size);
    cr_assert_null(nn_load_idx(in_dir("bomb.idx.gz")));
    cr_assert(strstr(nn_last_error(), "30000x5000x4 values needs 3000000000 bytes, over the memory limit"), "%s",
              nn_last_error());
}

/* nn_graph_set_threads(g, 100000) took 44 s and 2.2 GB before failing. */
Test(memory, thread_count_is_capped) {
    nn_graph *g = nn_graph_new(1);
    cr_assert_eq(nn_graph_set_threads(g, 100000), NN_ERR_ARG);
    cr_assert(strstr(nn_last_error(), "100000 threads, at most 1024"), "%s", nn_last_error());
    cr_assert_eq(nn_graph_set_threads(g, NN_MAX_THREADS), NN_OK);
    nn_graph_free(g);
}

/* ---- files that lose data ---- */

TestSuite(files, .init = setup, .fini = teardown);

static const char small_net[] = "nngraph-graph 1\nx input f32 [B,2]\ny input i32 [B]\n"
                                "L1/W param f32 [2,3] init=glorot_uniform\nL1/b param f32 [3] init=zeros\n"
                                "L1/matmul matmul f32 [B,3] x L1/W\nL1/add add f32 [B,3] L1/matmul L1/b\n"
                                "loss softmax_cross_entropy f32 [] L1/add y\nend 7\n";

static void write_small_data(void) {
    tu_write_file(in_dir("net.nng"), small_net, strlen(small_net));
    FILE *f = fopen(in_dir("rows.csv"), "w");
    fprintf(f, "a,b,label\n");
    for (int i = 0; i < 24; i++) fprintf(f, "%d,%d,%d\n", i % 3, (i * 7) % 5, i % 3);
    fclose(f);
}

/* `train --db X -o X` and `export X:1 -o X` replaced the whole run log
 * with a weights file and exited 0. */
Test(files, outputs_never_overwrite_a_run_log_or_an_input) {
    write_small_data();
    const char *db = in_dir("runs.db"), *net = in_dir("net.nng"), *csv = in_dir("rows.csv");
    cr_assert_eq(nngraph("train", net, "--csv", csv, "--epochs", "2", "--quiet", "--db", db, "-o", db, NULL), 1);
    cr_assert(strstr(err, "refusing to write") && strstr(err, "the command reads it"), "%s", err);
    cr_assert_eq(nngraph("train", net, "--csv", csv, "--epochs", "2", "--quiet", "--db", db, NULL), 0, "%s", err);
    char head[16] = {0};
    FILE *f = fopen(db, "rb");
    cr_assert(f && fread(head, 1, 16, f) == 16);
    fclose(f);
    cr_assert_eq(memcmp(head, "SQLite format 3", 16), 0);
    /* the same file under another name, and a run log named as output */
    cr_assert_eq(nngraph("export", "--db", db, "--run", "1", "-o", db, NULL), 1);
    cr_assert(strstr(err, "refusing to write"), "%s", err);
    char other[300];
    snprintf(other, sizeof other, "%s/./runs.db", dir);
    cr_assert_eq(nngraph("export", "--db", db, "--run", "1", "-o", other, NULL), 1);
    cr_assert(strstr(err, "the command reads it"), "%s", err);
    cr_assert_eq(nngraph("train", net, "--csv", csv, "--epochs", "1", "--quiet", "-o", db, NULL), 1);
    cr_assert(strstr(err, "refusing to overwrite") && strstr(err, "SQLite database"), "%s", err);
    cr_assert_eq(nngraph("train", net, "--csv", csv, "--epochs", "1", "--quiet", "-o", csv, NULL), 1);
    cr_assert_eq(nngraph("dot", "-o", net, "-T", "dot", net, NULL), 1);
    cr_assert(strstr(err, "refusing to write"), "%s", err);
    /* the log is whole: its run still shows */
    cr_assert_eq(nngraph("show", "--db", db, "--run", "1", NULL), 0, "%s", err);
    /* and ordinary outputs still work */
    cr_assert_eq(nngraph("export", "--db", db, "--run", "1", "-o", in_dir("w.bin"), NULL), 0, "%s", err);
}

/* The atomic writer always set mode 0644: under umask 077 outputs became
 * world-readable, and a 0600 file overwritten became 0644. */
Test(files, atomic_writes_respect_the_umask_and_keep_a_files_mode) {
    nn_graph *g = nn_graph_load_text(small_net, strlen(small_net), "net.nng", 1);
    cr_assert_not_null(g);
    mode_t old = umask(077);
    cr_assert_eq(nn_graph_save(g, in_dir("new.nng")), NN_OK);
    struct stat st;
    cr_assert_eq(stat(in_dir("new.nng"), &st), 0);
    cr_assert_eq(st.st_mode & 0777, 0600, "mode %o under umask 077", st.st_mode & 0777);
    umask(022);
    cr_assert_eq(nn_weights_save(g, in_dir("w.bin")), NN_OK);
    stat(in_dir("w.bin"), &st);
    cr_assert_eq(st.st_mode & 0777, 0644, "mode %o under umask 022", st.st_mode & 0777);
    /* an existing file keeps its mode when replaced */
    chmod(in_dir("w.bin"), 0600);
    cr_assert_eq(nn_weights_save(g, in_dir("w.bin")), NN_OK);
    stat(in_dir("w.bin"), &st);
    cr_assert_eq(st.st_mode & 0777, 0600, "mode %o after replacing a 0600 file", st.st_mode & 0777);
    chmod(in_dir("new.nng"), 0640);
    cr_assert_eq(nn_graph_save(g, in_dir("new.nng")), NN_OK);
    stat(in_dir("new.nng"), &st);
    cr_assert_eq(st.st_mode & 0777, 0640);
    umask(old);
    nn_graph_free(g);
}

/* A copy of the file at path that anyone may run, in /tmp: the checkout
 * (so the build) may sit below a directory only its owner can enter, as
 * under `mktemp -d`. The caller unlinks it. */
static int copy_for_anyone(const char *path, char *copy, size_t len) {
    snprintf(copy, len, "/tmp/nng_sec_exe_%ld", (long)getpid());
    int in = open(path, O_RDONLY), out = open(copy, O_WRONLY | O_CREAT | O_TRUNC, 0755);
    char buf[1 << 16];
    ssize_t n = 0;
    while (in >= 0 && out >= 0 && (n = read(in, buf, sizeof buf)) > 0)
        if (write(out, buf, (size_t)n) != n) n = -1;
    if (in >= 0) close(in);
    if (out >= 0) close(out);
    return in >= 0 && out >= 0 && n == 0 && chmod(copy, 0755) == 0 ? 0 : -1;
}

/* Runs argv (NULL-terminated) as an unprivileged user when we are root
 * (permissions do not bind root), in `cwd`, from a copy of argv[0] that
 * user can reach; returns the exit status and leaves stderr in err. */
static int run_unprivileged(const char *cwd, char *const *argv) {
    char errpath[300], exe[300];
    snprintf(errpath, sizeof errpath, "/tmp/nng_sec_err_%ld", (long)getpid());
    if (copy_for_anyone(argv[0], exe, sizeof exe) != 0) {
        snprintf(err, sizeof err, "cannot copy %s to %s", argv[0], exe);
        unlink(exe);
        return -1;
    }
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open(errpath, O_WRONLY | O_CREAT | O_TRUNC, 0666);
        if (fd >= 0) dup2(fd, 2);
        int nul = open("/dev/null", O_WRONLY);
        if (nul >= 0) dup2(nul, 1);
        if (geteuid() == 0 && (setgroups(0, NULL) != 0 || setgid(65534) != 0 || setuid(65534) != 0)) {
            fprintf(stderr, "cannot drop root\n");
            _exit(126);
        }
        if (chdir(cwd) != 0) {
            fprintf(stderr, "cannot enter %s as an unprivileged user\n", cwd);
            _exit(125);
        }
        execv(exe, argv);
        fprintf(stderr, "cannot run %s as an unprivileged user\n", exe);
        _exit(127);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    tu_slurp(errpath, err, sizeof err);
    unlink(errpath);
    unlink(exe);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* `runs`, `show`, `export` and `dot DB:RUN` failed in a read-only
 * directory ("database is read-only"): readers open the log read-only,
 * and without a writable directory for SQLite's WAL index, as immutable. */
Test(files, readers_work_in_a_read_only_directory) {
    write_small_data();
    char ro[300];
    snprintf(ro, sizeof ro, "%s/ro", dir);
    mkdir(ro, 0755);
    char db[320];
    snprintf(db, sizeof db, "%s/runs.db", ro);
    cr_assert_eq(nngraph("train", in_dir("net.nng"), "--csv", in_dir("rows.csv"), "--epochs", "2", "--quiet", "--db",
                         db, NULL),
                 0, "%s", err);
    chmod(db, 0644);
    chmod(dir, 0755);
    chmod(ro, 0555);
    char *runs[] = {NNGRAPH_EXE, "runs", "runs.db", NULL};
    char *show[] = {NNGRAPH_EXE, "show", "runs.db:1", NULL};
    char *dot[] = {NNGRAPH_EXE, "dot", "runs.db:1", NULL};
    char wout[320];
    snprintf(wout, sizeof wout, "/tmp/nng_sec_w_%ld.bin", (long)getpid());
    char *exp[] = {NNGRAPH_EXE, "export", "runs.db:1", "-o", wout, NULL};
    cr_assert_eq(run_unprivileged(ro, runs), 0, "runs: %s", err);
    cr_assert_eq(run_unprivileged(ro, show), 0, "show: %s", err);
    cr_assert_eq(run_unprivileged(ro, dot), 0, "dot: %s", err);
    cr_assert_eq(run_unprivileged(ro, exp), 0, "export: %s", err);
    unlink(wout);
    chmod(ro, 0755);
}

/* --resume silently took a different --optimizer, --lr or --batch and
 * overwrote the run's recorded hyperparameters. */
Test(files, resume_refuses_other_hyperparameters) {
    write_small_data();
    const char *db = in_dir("runs.db"), *net = in_dir("net.nng"), *csv = in_dir("rows.csv");
    cr_assert_eq(nngraph("train", net, "--csv", csv, "--epochs", "2", "--quiet", "--db", db, "--lr", "0.01", NULL), 0,
                 "%s", err);
    /* as if killed after its last checkpoint */
    sqlite3 *sq;
    cr_assert_eq(sqlite3_open(db, &sq), SQLITE_OK);
    cr_assert_eq(sqlite3_exec(sq, "UPDATE run SET status = 'interrupted'", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(sq);
    cr_assert_eq(nngraph("train", net, "--csv", csv, "--epochs", "3", "--quiet", "--db", db, "--resume", "1", "--lr",
                         "0.02", NULL),
                 1);
    cr_assert(strstr(err, "resume: run 1 was trained with lr = 0.01, this resume asks for 0.02"), "%s", err);
    cr_assert_eq(nngraph("train", net, "--csv", csv, "--epochs", "3", "--quiet", "--db", db, "--resume", "1", "--lr",
                         "0.01", "--optimizer", "sgd", NULL),
                 1);
    cr_assert(strstr(err, "optimizer = adam, this resume asks for sgd"), "%s", err);
    cr_assert_eq(nngraph("train", net, "--csv", csv, "--epochs", "3", "--quiet", "--db", db, "--resume", "1", "--lr",
                         "0.01", "--batch", "8", NULL),
                 1);
    cr_assert(strstr(err, "batch_size = 32, this resume asks for 8"), "%s", err);
    /* the recorded ones are unchanged, and the same ones resume */
    cr_assert_eq(nngraph("show", "--db", db, "--run", "1", NULL), 0);
    cr_assert(strstr(out, "lr ") && strstr(out, "0.01"), "%s", out);
    cr_assert_eq(nngraph("train", net, "--csv", csv, "--epochs", "3", "--quiet", "--db", db, "--resume", "1", "--lr",
                         "0.01", NULL),
                 0, "%s", err);
}

/* `ulimit -f` killed the process with SIGXFSZ and left *.tmp.XXXXXX. A
 * full file system fails the same way: the old file survives whole. */
Test(files, file_size_limit_is_an_error_and_leaves_no_temporary) {
    write_small_data();
    tu_write_file(in_dir("big.svg"), "old", 3);
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "cd %s && ulimit -f 1 && exec %s dot -T svg -o big.svg net.nng 2>err.txt", dir,
             NNGRAPH_EXE);
    int rc = system(cmd);
    cr_assert(WIFEXITED(rc) && WEXITSTATUS(rc) == 1, "status %d", rc);
    tu_slurp(in_dir("err.txt"), err, sizeof err);
    cr_assert(strstr(err, "big.svg: write failed: File too large"), "%s", err);
    snprintf(cmd, sizeof cmd, "ls %s | grep -c tmp > %s/n.txt", dir, dir);
    (void)system(cmd);
    tu_slurp(in_dir("n.txt"), out, sizeof out);
    cr_assert_eq(atoi(out), 0, "a temporary file was left behind");
    tu_slurp(in_dir("big.svg"), out, sizeof out);
    cr_assert_str_eq(out, "old");
}

/* A checkpoint tensor name of 65,536 bytes wrapped the checkpoint file's
 * 16-bit length (a corrupt file); 512+ bytes were written to weights files
 * and refused on reading. A name read from a log that no reader would
 * take is refused when writing. */
Test(files, exports_refuse_names_no_reader_takes) {
    write_small_data();
    const char *db = in_dir("runs.db");
    cr_assert_eq(nngraph("train", in_dir("net.nng"), "--csv", in_dir("rows.csv"), "--epochs", "1", "--quiet", "--db",
                         db, NULL),
                 0, "%s", err);
    sqlite3 *sq;
    cr_assert_eq(sqlite3_open(db, &sq), SQLITE_OK);
    cr_assert_eq(sqlite3_exec(sq, "UPDATE tensor SET name = printf('%.*c', 65537, 'w') WHERE name = 'L1/b'", NULL, NULL,
                              NULL),
                 SQLITE_OK, "%s", sqlite3_errmsg(sq));
    sqlite3_close(sq);
    cr_assert_eq(nngraph("export", "--db", db, "--run", "1", "--full", "-o", in_dir("c.nngc"), NULL), 1);
    cr_assert(strstr(err, "is 65537 bytes; names are at most 1023"), "%s", err);
    cr_assert_eq(nngraph("export", "--db", db, "--run", "1", "-o", in_dir("w.nngw"), NULL), 1);
    cr_assert(strstr(err, "is 65537 bytes; names are at most 1023"), "%s", err);
    cr_assert_neq(access(in_dir("c.nngc"), F_OK), 0);
}
