/* Fuzz target: the ffi signature parser (nn_ffi_signature_check), which
 * reads what graph files and libraries declare. A signature that checks
 * must come back canonical: checking the canonical form gives itself. */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *text = malloc(size + 1);
    if (!text) return 0;
    memcpy(text, data, size);
    text[size] = 0;
    char canon[256], again[256];
    if (nn_ffi_signature_check(text, canon, sizeof canon) == NN_OK) {
        if (nn_ffi_signature_check(canon, again, sizeof again) != NN_OK)
            fuzz_fail("canonical form '%s' of '%s' does not check: %s", canon, text, nn_last_error());
        if (strcmp(canon, again) != 0) fuzz_fail("canonical form is no fixed point: '%s' -> '%s'", canon, again);
    }
    free(text);
    return 0;
}
