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
 *   steps) and on;
 *   - the ceiling without communication: every rank fits its own rows at
 *     once (no MPI: two copies of the weights on these cores), and the
 *     baseline: rank 0 alone while the others sleep;
 *   the four in turn within each repeat, and the job's samples/s of each
 *   as a ratio to rank 0 alone, and rank 0's CPU time per step (all its
 *   threads, waits included): on a shared machine the figure the other
 *   load changes least, and on an idle one with a core per rank, 2 x
 *   (alone's CPU) / (a mode's CPU) predicts that mode's speed-up.
 * Times are medians of --repeat runs; the machine may be shared, so
 * compare figures of one run, as ratios. */
#include "nngraph.h"
#include "nngraph/dist.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

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

static double cpu_seconds(void) {
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return (double)u.ru_utime.tv_sec + (double)u.ru_stime.tv_sec + 1e-6 * (double)(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
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
    /* this rank's own rows, for the modes without communication */
    long own = steps * batch;
    nn_tensor *xo = nn_tensor_new(NN_F32, NN_SHAPE(own, 784)), *yo = nn_tensor_new(NN_I32, NN_SHAPE(own));
    memcpy(nn_tensor_f32(xo), nn_tensor_f32(xt), (size_t)own * 784 * sizeof(float));
    memcpy(nn_tensor_data(yo), nn_tensor_data(yt), (size_t)own * sizeof(int32_t));
    nn_dataset *alone = nn_dataset_new(xo, yo);
    /* [mode][rep], modes: */
    enum { POLL, THREAD, INDEP, ALONE, MODES };
    static const char *const mode_name[MODES] = {"data-parallel, the hook polls", "data-parallel, progress thread",
                                                  "every rank alone at once (no MPI)", "rank 0 alone, others idle"};
    double sps[MODES][16], wait[2][16], span[2][16], total[MODES][16], cpu[MODES][16];
    int have_thread = 0;
    for (int rep = 0; rep < reps; rep++)
        for (int k = 0; k < MODES; k++) {
            /* rotate the order: no order effect (warm caches) */
            int mode = (k + rep) % MODES;
            if (mode == THREAD) have_thread = nn_dist_set_progress_thread(d, 1) > 0;
            if (mode == POLL) nn_dist_set_progress_thread(d, 0);
            nn_optimizer *opt = nn_sgd(0.01f, 0);
            nn_fit_opts o = {.epochs = 1, .batch_size = (int)batch, .optimizer = opt, .shuffle_seed = 1};
            int runs = mode != ALONE || rank == 0;
            if (mode <= THREAD) nn_dist_fit_opts(d, &o);
            MPI_Barrier(MPI_COMM_WORLD);
            double t0 = MPI_Wtime(), rows_done = 0, c0 = cpu_seconds();
            if (runs && nn_fit(g, loss, mode <= THREAD ? data : alone, &o, NULL) != NN_OK) {
                fprintf(stderr, "rank %d: %s\n", rank, nn_error_message(g));
                return 1;
            }
            double secs = MPI_Wtime() - t0;
            /* this process's CPU time (every thread's) per step of its own:
             * what the load on a shared machine changes least */
            cpu[mode][rep] = runs ? (cpu_seconds() - c0) / (double)steps : 0;
            if (runs) rows_done = (double)own;
            if (mode == ALONE) {
                /* the idle ranks wait without burning a core */
                MPI_Request r;
                int done = 0;
                MPI_Ibarrier(MPI_COMM_WORLD, &r);
                while (!done) {
                    MPI_Test(&r, &done, MPI_STATUS_IGNORE);
                    if (!done) nanosleep(&(struct timespec){0, 1000000}, NULL);
                }
            }
            sps[mode][rep] = rows_done / secs;
            /* the whole job's rows over its slowest rank's time */
            double rows_all, secs_max;
            MPI_Allreduce(&rows_done, &rows_all, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
            MPI_Allreduce(&secs, &secs_max, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
            total[mode][rep] = rows_all / secs_max;
            if (mode <= THREAD) {
                nn_dist_stats st;
                nn_dist_rank_stats(d, rank, &st);
                wait[mode][rep] = st.wait / st.steps;
                span[mode][rep] = st.comm / st.steps;
            }
            nn_optimizer_free(opt);
        }
    double mine[MODES + 4], all[(MODES + 4) * 64], tot[MODES], cpu_mine[MODES], cpu_all[MODES * 64];
    for (int mode = 0; mode < MODES; mode++) {
        mine[mode] = median(sps[mode], (int)reps);
        tot[mode] = median(total[mode], (int)reps);
        cpu_mine[mode] = median(cpu[mode], (int)reps);
    }
    MPI_Gather(cpu_mine, MODES, MPI_DOUBLE, cpu_all, MODES, MPI_DOUBLE, 0, MPI_COMM_WORLD);
    for (int mode = 0; mode < 2; mode++) {
        mine[MODES + 2 * mode] = median(wait[mode], (int)reps);
        mine[MODES + 2 * mode + 1] = median(span[mode], (int)reps);
    }
    MPI_Gather(mine, MODES + 4, MPI_DOUBLE, all, MODES + 4, MPI_DOUBLE, 0, MPI_COMM_WORLD);
    if (rank == 0) {
        printf("ranks %d, %ld parameters (%.1f MB of gradients), batch %ld per rank, buckets of %ld MB, %ld steps\n",
               size, n_params, n_params * 4e-6, batch, bucket_mb, steps);
        printf("allreduce alone: latency %.1f us, whole gradient %.2f ms (%.2f GB/s algorithm bandwidth)\n", lat * 1e6,
               whole * 1e3, n_params * 4e-9 / whole);
        if (!have_thread) printf("no progress thread (MPI thread level %d < MPI_THREAD_SERIALIZED): both modes poll\n",
                                 provided);
        for (int q = 0; q < size; q++) {
            const double *a = all + (MODES + 4) * q;
            for (int mode = 0; mode < 2; mode++) {
                double blocked = a[MODES + 2 * mode], hidden = size > 1 ? 100 * (1 - (blocked < whole ? blocked / whole : 1)) : 0;
                printf("rank %d, %s: %.0f samples/s, blocked %.2f ms/step after the backward pass, allreduce span "
                       "%.2f ms/step, hidden %.0f%%\n", q, mode ? "progress thread" : "hook polls     ", a[mode],
                       blocked * 1e3, a[MODES + 2 * mode + 1] * 1e3, hidden);
            }
        }
        printf("whole job, samples/s (all ranks' rows / the slowest rank's seconds) and vs rank 0 alone; CPU ms per "
               "step of rank 0 (all its threads) and vs alone:\n");
        for (int mode = 0; mode < MODES; mode++)
            printf("  %-36s %7.0f  %.2fx   cpu %6.1f ms  %.2fx\n", mode_name[mode], tot[mode], tot[mode] / tot[ALONE],
                   cpu_all[mode] * 1e3, cpu_all[mode] / cpu_all[ALONE]);
    }
    nn_dataset_free(alone);
    nn_dist_free(d);
    nn_graph_free(g);
    nn_dataset_free(data);
    MPI_Finalize();
    return 0;
}
