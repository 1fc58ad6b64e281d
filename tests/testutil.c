/* Helpers shared by several test suites (testutil.h). */
#include "testutil.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <math.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

double tu_gamma(double n) { return n * TU_U32 / (1.0 - n * TU_U32); }

double tu_prob_gamma(double n) { return expm1(8.0 * sqrt(n) * TU_U32 + n * TU_U32 * TU_U32 / (1.0 - TU_U32)); }

const char *tu_path(const char *dir, const char *name) {
    static char paths[32][512];
    static int k;
    k = (k + 1) % 32;
    snprintf(paths[k], sizeof paths[k], "%s/%s", dir, name);
    return paths[k];
}

void tu_slurp(const char *path, char *buf, size_t cap) {
    FILE *f = fopen(path, "rb");
    size_t n = f ? fread(buf, 1, cap - 1, f) : 0;
    if (f) fclose(f);
    buf[n] = 0;
}

int tu_vrun(const char *exe, char *const *env, const char *dir, char *out, size_t out_cap, char *err, size_t err_cap,
            const char *first, va_list rest) {
    const char *argv[64] = {exe};
    int argc = 1;
    for (const char *a = first; a && argc < 63; a = va_arg(rest, const char *)) argv[argc++] = a;
    argv[argc] = NULL;
    char o[160], e[160];
    snprintf(o, sizeof o, "%s/stdout", dir);
    snprintf(e, sizeof e, "%s/stderr", dir);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, o, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&fa, 2, e, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    pid_t pid;
    int rc = posix_spawn(&pid, exe, &fa, NULL, (char *const *)argv, env);
    posix_spawn_file_actions_destroy(&fa);
    cr_assert_eq(rc, 0, "cannot run %s", exe);
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    tu_slurp(o, out, out_cap);
    tu_slurp(e, err, err_cap);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void tu_write_file(const char *path, const void *bytes, size_t n) {
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f, "cannot write %s", path);
    cr_assert_eq(fwrite(bytes, 1, n, f), n, "cannot write %s", path);
    cr_assert_eq(fclose(f), 0, "cannot write %s", path);
}

void tu_mkdtemp(char *dir, size_t cap, const char *template_) {
    snprintf(dir, cap, "%s", template_);
    cr_assert(mkdtemp(dir), "cannot make a directory from %s", template_);
}

void tu_rmtree(const char *dir) {
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0, "cannot remove %s", dir);
}

nn_graph *tu_digits_net(uint64_t seed, nn_node **x_out, nn_node **logits_out, nn_node **loss_out) {
    nn_graph *g = nn_graph_new(seed);
    nn_node *x = nn_input(g, "x", NN_F32, NN_SHAPE(NN_BATCH, 400));
    nn_node *y = nn_input(g, "y", NN_I32, NN_SHAPE(NN_BATCH));
    nn_node *h = nn_dense(g, "L1", x, 25, NN_RELU);
    h = nn_dense(g, "L2", h, 15, NN_RELU);
    nn_node *z = nn_dense(g, "L3", h, 10, NN_LINEAR);
    nn_node *loss = nn_softmax_cross_entropy(g, z, y);
    cr_assert_eq(nn_graph_status(g), NN_OK, "%s", nn_error_message(g));
    if (x_out) *x_out = x;
    if (logits_out) *logits_out = z;
    if (loss_out) *loss_out = loss;
    return g;
}

int tu_run(const char *exe, const char *dir, char *out, size_t out_cap, char *err, size_t err_cap, const char *first,
           ...) {
    extern char **environ;
    va_list ap;
    va_start(ap, first);
    int rc = tu_vrun(exe, environ, dir, out, out_cap, err, err_cap, first, ap);
    va_end(ap);
    return rc;
}

nn_dataset *tu_blobs(int n, uint64_t seed, float std) {
    static const float centres[4][2] = {{-5, 2}, {-2, -2}, {1, 2}, {5, -2}};
    nn_rng r;
    nn_rng_seed(&r, seed);
    nn_tensor *x = nn_tensor_new(NN_F32, NN_SHAPE(n, 2));
    nn_tensor *y = nn_tensor_new(NN_I32, NN_SHAPE(n));
    for (int i = 0; i < n; i++) {
        nn_tensor_i32(y)[i] = i % 4;
        for (int d = 0; d < 2; d++) nn_tensor_f32(x)[2 * i + d] = centres[i % 4][d] + std * (float)nn_rng_normal(&r);
    }
    return nn_dataset_new(x, y);
}

nn_graph *tu_blobs_model(uint64_t seed, int hidden, nn_node **loss, nn_node **logits) {
    nn_graph *g = nn_graph_new(seed);
    nn_graph_set_threads(g, 1);
    nn_node *x = nn_input(g, "x", NN_F32, NN_SHAPE(NN_BATCH, 2));
    nn_node *y = nn_input(g, "y", NN_I32, NN_SHAPE(NN_BATCH));
    nn_node *h = nn_dense(g, "L1", x, hidden, NN_RELU);
    *logits = nn_dense(g, "L2", h, 4, NN_LINEAR);
    *loss = nn_softmax_cross_entropy(g, *logits, y);
    cr_assert_eq(nn_graph_status(g), NN_OK, "%s", nn_error_message(g));
    return g;
}
