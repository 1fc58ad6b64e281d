/* Fuzz target: the .npy reader (nn_npy_parse over memory, nn_load_npy over
 * a file). Whatever loads has the element count its shape says; read
 * natively and as f32 it has the same shape (only an int64 beyond int32
 * loads as f32 and not as labels), an integer array's labels equal its f32
 * reading, the file reader gives the same bytes as the memory reader, and
 * what loads, written back (nn_npy_bytes), reads back the same. */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

static int64_t shape_count(nn_shape s) {
    int64_t n = 1;
    for (int i = 0; i < s.rank; i++) n *= s.dim[i];
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static int ready;
    if (!ready) nn_set_memory_limit(FUZZ_DATA_MEMORY_LIMIT), ready = 1;
    nn_tensor *native = nn_npy_parse(data, size, "fuzz.npy", 0);
    /* only an int64 outside int32 loads as f32 but not as labels */
    int int32_refusal = !native && strstr(nn_last_error(), "does not fit the int32 labels") != NULL;
    nn_tensor *as_f32 = nn_npy_parse(data, size, "fuzz.npy", 1);
    if (native && !as_f32) fuzz_fail("loads as labels but not as f32: %s", nn_last_error());
    if (!native && as_f32 && !int32_refusal) fuzz_fail("loads as f32 but not natively, and not for int32 range");
    if (native) {
        nn_shape s = nn_tensor_shape(native);
        if (!nn_shape_equal(s, nn_tensor_shape(as_f32))) fuzz_fail("the two readings have different shapes");
        if (nn_tensor_size(native) != shape_count(s)) fuzz_fail("a loaded array's size disagrees with its shape");
        if (nn_tensor_dtype(native) == NN_I32)
            for (int64_t i = 0; i < nn_tensor_size(native); i++)
                if ((float)nn_tensor_i32(native)[i] != nn_tensor_f32(as_f32)[i])
                    fuzz_fail("element %lld: label %d but f32 %g", (long long)i, nn_tensor_i32(native)[i],
                              (double)nn_tensor_f32(as_f32)[i]);
        nn_tensor *file = nn_load_npy(fuzz_scratch(data, size, ""), 0);
        if (!file || nn_tensor_size(file) != nn_tensor_size(native) ||
            memcmp(nn_tensor_data(file), nn_tensor_data(native), (size_t)nn_tensor_size(native) * 4) != 0)
            fuzz_fail("the file reader and the memory reader disagree");
        nn_tensor_free(file);
        size_t len;
        void *bytes = nn_npy_bytes(native, &len);
        nn_tensor *again = bytes ? nn_npy_parse(bytes, len, "rewritten.npy", 0) : NULL;
        if (!again || nn_tensor_dtype(again) != nn_tensor_dtype(native) ||
            !nn_shape_equal(nn_tensor_shape(again), s) ||
            memcmp(nn_tensor_data(again), nn_tensor_data(native), (size_t)nn_tensor_size(native) * 4) != 0)
            fuzz_fail("written back, it does not read back the same: %s", again ? "different" : nn_last_error());
        nn_tensor_free(again);
        free(bytes);
    }
    nn_tensor_free(native);
    nn_tensor_free(as_f32);
    return 0;
}
