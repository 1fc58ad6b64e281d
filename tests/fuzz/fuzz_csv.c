/* Fuzz target: the CSV reader, with class labels in the last column (and
 * then float targets in the first), else with no labels. Whatever loads holds finite floats
 * only. */
#include "fuzz.h"

#include <math.h>

static void check(nn_dataset *d) {
    if (!d) return;
    const nn_tensor *x = d->x;
    for (int64_t i = 0; x && i < nn_tensor_size(x); i++)
        if (!isfinite(nn_tensor_f32(x)[i])) fuzz_fail("a loaded CSV feature is not finite");
    nn_dataset_free(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static int ready;
    if (!ready) nn_set_memory_limit(FUZZ_DATA_MEMORY_LIMIT), ready = 1;
    const char *path = fuzz_scratch(data, size, ".csv");
    nn_dataset *d = nn_load_csv(path, -1, 1);
    if (d) {
        check(d);
        check(nn_load_csv(path, 0, 0)); /* float targets in the first column */
    } else {
        check(nn_load_csv(path, NN_CSV_NO_LABEL, 0));
    }
    return 0;
}
