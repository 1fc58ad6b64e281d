/* Fuzz target: the IDX reader, on the bytes as a raw file (which may be
 * gzip itself: zlib reads both through one path); what loads must load
 * the same gzipped, and in pairs of images and labels. */
#include "fuzz.h"

#include <string.h>
#include <zlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static int ready;
    if (!ready) nn_set_memory_limit(FUZZ_DATA_MEMORY_LIMIT), ready = 1;
    const char *raw = fuzz_scratch(data, size, "");
    nn_tensor *t = nn_load_idx(raw);
    int gzipped = size >= 2 && data[0] == 0x1f && data[1] == 0x8b; /* compressing it again is another file */
    if (t && !gzipped) {
        /* what loads raw loads gzipped too, to the same values; and pairs */
        const char *gz = fuzz_scratch_path(".gz");
        gzFile f = gzopen(gz, "wb1");
        if (!f) fuzz_fail("cannot write %s", gz);
        if (size) gzwrite(f, data, (unsigned)size);
        gzclose(f);
        nn_tensor *z = nn_load_idx(gz);
        if (!z || nn_tensor_size(z) != nn_tensor_size(t) ||
            memcmp(nn_tensor_data(z), nn_tensor_data(t), (size_t)nn_tensor_size(t) * 4) != 0)
            fuzz_fail("an IDX file loads differently gzipped: %s", z ? "other values" : nn_last_error());
        nn_tensor_free(z);
        nn_dataset_free(nn_load_idx_pair(gz, raw));
    }
    nn_tensor_free(t);
    return 0;
}
