/* Fuzz target: weights files ("NNGW", nn_weights_load_data, into a graph
 * of three parameters) and run-log exports / checkpoints ("NNGC" and
 * "NNGW", nn_checkpoint_read). Loading is all or nothing: a refused file
 * leaves every parameter as it was. */
#include "fuzz.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static nn_graph *g;
    static nn_node *params[3];
    if (!g) {
        nn_set_memory_limit(FUZZ_MEMORY_LIMIT);
        g = nn_graph_new(1);
        params[0] = nn_param(g, "L1/W", NN_SHAPE(4, 3), nn_init_zeros());
        params[1] = nn_param(g, "L1/b", NN_SHAPE(3), nn_init_zeros());
        params[2] = nn_param(g, "s", NN_SCALAR, nn_init_zeros());
    }
    float before[3] = {nn_tensor_f32(nn_param_value(params[0]))[5], nn_tensor_f32(nn_param_value(params[1]))[2],
                       nn_tensor_f32(nn_param_value(params[2]))[0]};
    if (nn_weights_load_data(g, data, size, "fuzz.nngw") != NN_OK) {
        float after[3] = {nn_tensor_f32(nn_param_value(params[0]))[5], nn_tensor_f32(nn_param_value(params[1]))[2],
                          nn_tensor_f32(nn_param_value(params[2]))[0]};
        if (memcmp(before, after, sizeof before) != 0) fuzz_fail("a refused weights file changed a parameter");
    }
    nn_checkpoint *c = nn_checkpoint_read(fuzz_scratch(data, size, ""));
    if (c) {
        nn_checkpoint_apply(c, g); /* names and shapes checked; may refuse */
        nn_checkpoint_free(c);
    }
    return 0;
}
