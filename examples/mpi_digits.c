/* The digits network (400-25-15-10, relu, relu, linear; Adam 0.001)
 * trained data-parallel over MPI: every process loads the same 5,000
 * digits, computes its shard of each global batch of 32 * ranks rows, and
 * the gradients are averaged by nngraph's dist layer (nngraph/dist.h).
 * Rank 0 then evaluates the whole set sharded over the ranks and prints.
 *
 *   mpirun -np 2 build/examples/mpi_digits [--epochs N]
 *   mpirun -np 4 --hostfile hosts build/examples/mpi_digits   (docs/scale-out.md)
 */
#include "nngraph.h"
#include "nngraph/dist.h"
#include "../tests/graphviz_lsan.h" /* also Open MPI's leaks */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef NN_EXAMPLES_DATA
#define NN_EXAMPLES_DATA "examples/data"
#endif

int main(int argc, char **argv) {
    /* serialized: nn_fit's progress thread may then call MPI (never at the
     * same time as this thread), which hides more of the gradients' sums */
    int provided;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_SERIALIZED, &provided);
    int epochs = 40, status = 1;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--epochs") == 0 && i + 1 < argc && atoi(argv[i + 1]) > 0) {
            epochs = atoi(argv[++i]);
        } else {
            fprintf(stderr, "usage: mpirun -np N %s [--epochs N (default 40)]\n", argv[0]);
            MPI_Finalize();
            return 2;
        }
    }
    nn_dist *dist = nn_dist_new(MPI_COMM_WORLD);
    if (!dist) {
        fprintf(stderr, "mpi_digits: %s\n", nn_last_error());
        return 1; /* without MPI_Finalize: mpirun ends the other ranks */
    }
    int rank = nn_dist_rank(dist), size = nn_dist_size(dist);
    nn_dataset *data = nn_load_idx_pair(NN_EXAMPLES_DATA "/digits20-train-images.idx3-ubyte.gz",
                                        NN_EXAMPLES_DATA "/digits20-train-labels.idx1-ubyte.gz");
    if (!data) {
        fprintf(stderr, "mpi_digits: rank %d: %s\n", rank, nn_last_error());
        return 1;
    }
    /* the same seed everywhere; rank 0's weights would win anyway */
    nn_graph *g = nn_graph_new(1234);
    nn_node *x = nn_input(g, "x", NN_F32, NN_SHAPE(NN_BATCH, 400));
    nn_node *y = nn_input(g, "y", NN_I32, NN_SHAPE(NN_BATCH));
    nn_node *h = nn_dense(g, "L1", x, 25, NN_RELU);
    h = nn_dense(g, "L2", h, 15, NN_RELU);
    nn_node *loss = nn_softmax_cross_entropy(g, nn_dense(g, "L3", h, 10, NN_LINEAR), y);
    nn_graph_set_threads(g, nn_dist_threads_per_rank(dist)); /* the host's ranks share its cores */

    nn_fit_opts o = {.epochs = epochs, .batch_size = 32, .shuffle_seed = 1234, .verbose = rank == 0 ? 2 : 0};
    nn_dist_fit_opts(dist, &o);
    nn_fit_result res;
    nn_status st = nn_fit(g, loss, data, &o, &res);
    double eval_loss = 0, eval_acc = 0;
    if (st == NN_OK) st = nn_dist_evaluate(dist, g, loss, data, x, y, 256, &eval_loss, &eval_acc);
    if (st != NN_OK) {
        fprintf(stderr, "mpi_digits: rank %d: %s\n", rank, nn_error_message(g)[0] ? nn_error_message(g) : nn_last_error());
    } else {
        status = 0;
        if (rank == 0) {
            nn_dist_stats s;
            printf("%d ranks on %s, global batch %d\n", size, nn_dist_hosts(dist), 32 * size);
            for (int q = 0; q < size && nn_dist_rank_stats(dist, q, &s) == NN_OK; q++)
                printf("rank %d: %.0f samples/s, %.3f s waiting on communication\n", q,
                       s.seconds > 0 ? s.samples / s.seconds : 0, s.wait);
            printf("training errors: %.0f out of %lld (loss %.4f)\n", (1 - eval_acc) * (double)nn_dataset_size(data),
                   (long long)nn_dataset_size(data), eval_loss);
        }
    }
    nn_graph_free(g);
    nn_dataset_free(data);
    if (status != 0) return status; /* others may wait in a collective: mpirun ends them */
    nn_dist_free(dist);
    MPI_Finalize();
    return 0;
}
