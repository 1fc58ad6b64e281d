/* What data parallelism costs and hides on this machine, for
 * docs/scale-out.md. Run under mpirun with 1 or 2 ranks:
 *
 *   mpirun -np 2 build/tools/bench_dist [--steps 20] [--batch 256] [--bucket-mb 4]
 *
 * Measures, on the 784-2048-2048-10 MLP (5.8M parameters) with random
 * data, batch --batch per rank, one thread per rank:
 *   - the allreduce alone: latency (a 4-byte allreduce) and the time of the
 *     whole gradient in buckets of --bucket-mb, nothing else running;
 *   - a data-parallel nn_fit of --steps steps: per rank samples/s, the
 *     seconds blocked on communication after the backward pass, and the
 *     fraction of the gradient allreduce hidden behind the backward pass:
 *     1 - blocked / (the allreduce alone);
 *   each with the progress thread off (the value hook polls between plan
 *   steps) and on, alternating within each repeat, and the on/off ratios.
 * Times are medians of --repeat runs; the machine may be shared, so
 * compare figures of one run, as ratios. */
#include "nngraph.h"
#include "nngraph/dist.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}
static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}
static long arg(int argc, char **argv, const char *name, long dflt) {
    for (int i = 1; i + 1 < argc; i++)
        if (!strcmp(argv[i], name)) return atol(argv[i + 1]);
    return dflt;
}

/* Seconds of one blocking allreduce of n floats in buckets of `bucket`. */
static double time_allreduce(float *buf, long n, long bucket, int reps) {
    double t[16];
    for (int r = 0; r < reps; r++) {
        MPI_Barrier(MPI_COMM_WORLD);
        double t0 = MPI_Wtime();
        MPI_Request req[64];
        int k = 0;
        for (long off = 0; off < n && k < 64; off += bucket, k++)
            MPI_Iallreduce(MPI_IN_PLACE, buf + off, (int)(n - off < bucket ? n - off : bucket), MPI_FLOAT, MPI_SUM,
                           MPI_COMM_WORLD, &req[k]);
        for (int i = 0; i < k; i++) MPI_Wait(&req[i], MPI_STATUS_IGNORE); /* not Waitall: see wait_all in dist.c */
        t[r] = MPI_Wtime() - t0;
    }
    return median(t, reps);
}

int main(int argc, char **argv) {
    int provided, rank, size;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_SERIALIZED, &provided);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    long steps = arg(argc, argv, "--steps", 20), batch = arg(argc, argv, "--batch", 256);
    long bucket_mb = arg(argc, argv, "--bucket-mb", 4), reps = arg(argc, argv, "--repeat", 3);
    if (reps > 16) reps = 16;
    int widths[] = {784, 2048, 2048, 10};
    long n_params = 0;
    for (int i = 0; i < 3; i++) n_params += (long)widths[i] * widths[i + 1] + widths[i + 1];

    /* the allreduce alone */
    float *buf = calloc((size_t)n_params, sizeof *buf);
    double lat = time_allreduce(buf, 1, 1, (int)reps);
    long bucket = bucket_mb * (1L << 20) / 4;
    double whole = time_allreduce(buf, n_params, bucket, (int)reps);
    free(buf);

    /* the network and random data: steps global batches */
    nn_graph *g = nn_graph_new(1);
    nn_node *x = nn_input(g, "x", NN_F32, NN_SHAPE(NN_BATCH, 784)), *y = nn_input(g, "y", NN_I32, NN_SHAPE(NN_BATCH));
    nn_node *h = x;
    for (int i = 1; i < 4; i++) {
        char scope[8];
        snprintf(scope, sizeof scope, "L%d", i);
        h = nn_dense(g, scope, h, widths[i], i < 3 ? NN_RELU : NN_LINEAR);
    }
    nn_node *loss = nn_softmax_cross_entropy(g, h, y);
    nn_graph_set_threads(g, 1);
    long rows = steps * batch * size;
    nn_tensor *xt = nn_tensor_new(NN_F32, NN_SHAPE(rows, 784)), *yt = nn_tensor_new(NN_I32, NN_SHAPE(rows));
    nn_rng r;
    nn_rng_seed(&r, 5);
    for (long i = 0; i < rows * 784; i++) nn_tensor_f32(xt)[i] = (float)nn_rng_uniform(&r);
    for (long i = 0; i < rows; i++) ((int32_t *)nn_tensor_data(yt))[i] = (int32_t)(nn_rng_u64(&r) % 10);
    nn_dataset *data = nn_dataset_new(xt, yt);

    nn_dist *d = nn_dist_new(MPI_COMM_WORLD);
    nn_dist_set_bucket_bytes(d, (size_t)bucket * 4);
    /* [mode][rep]: mode 0 polls from the value hook, 1 the progress thread */
    double sps[2][16], wait[2][16], span[2][16];
    int have_thread = 0;
    for (int rep = 0; rep < reps; rep++)
        for (int k = 0; k < 2; k++) {
            /* alternate which goes first: no order effect (warm caches) */
            int mode = (k + rep) % 2, on = nn_dist_set_progress_thread(d, mode);
            if (mode) have_thread = on;
            nn_optimizer *opt = nn_sgd(0.01f, 0);
            nn_fit_opts o = {.epochs = 1, .batch_size = (int)batch, .optimizer = opt, .shuffle_seed = 1};
            nn_dist_fit_opts(d, &o);
            if (nn_fit(g, loss, data, &o, NULL) != NN_OK) {
                fprintf(stderr, "rank %d: %s\n", rank, nn_error_message(g));
                return 1;
            }
            nn_dist_stats s;
            nn_dist_rank_stats(d, rank, &s);
            sps[mode][rep] = s.samples / s.seconds;
            wait[mode][rep] = s.wait / s.steps;
            span[mode][rep] = s.comm / s.steps;
            nn_optimizer_free(opt);
        }
    double mine[6], all[6 * 64];
    for (int mode = 0; mode < 2; mode++) {
        mine[3 * mode] = median(sps[mode], (int)reps);
        mine[3 * mode + 1] = median(wait[mode], (int)reps);
        mine[3 * mode + 2] = median(span[mode], (int)reps);
    }
    MPI_Gather(mine, 6, MPI_DOUBLE, all, 6, MPI_DOUBLE, 0, MPI_COMM_WORLD);
    if (rank == 0) {
        printf("ranks %d, %ld parameters (%.1f MB of gradients), batch %ld per rank, buckets of %ld MB\n", size,
               n_params, n_params * 4e-6, batch, bucket_mb);
        printf("allreduce alone: latency %.1f us, whole gradient %.2f ms (%.2f GB/s algorithm bandwidth)\n", lat * 1e6,
               whole * 1e3, n_params * 4e-9 / whole);
        if (!have_thread) printf("no progress thread (MPI thread level %d < MPI_THREAD_SERIALIZED): both modes poll\n",
                                 provided);
        double total[2] = {0, 0};
        for (int q = 0; q < size; q++) {
            double hidden[2];
            for (int mode = 0; mode < 2; mode++) {
                const double *a = all + 6 * q + 3 * mode;
                total[mode] += a[0];
                hidden[mode] = size > 1 ? 100 * (1 - (a[1] < whole ? a[1] / whole : 1)) : 0.0;
                printf("rank %d, %s: %.0f samples/s, blocked %.2f ms/step after the backward pass, allreduce span "
                       "%.2f ms/step, hidden %.0f%%\n", q, mode ? "progress thread" : "hook polls     ", a[0],
                       a[1] * 1e3, a[2] * 1e3, hidden[mode]);
            }
            printf("rank %d: thread/polling: samples/s %.2fx, blocked %.2fx, hidden %+.0f points\n", q,
                   all[6 * q + 3] / all[6 * q], all[6 * q + 1] > 0 ? all[6 * q + 4] / all[6 * q + 1] : 0.0,
                   hidden[1] - hidden[0]);
        }
        printf("total: %.0f samples/s polling, %.0f with the thread (%.2fx)\n", total[0], total[1],
               total[1] / total[0]);
    }
    nn_dist_free(d);
    nn_graph_free(g);
    nn_dataset_free(data);
    MPI_Finalize();
    return 0;
}
