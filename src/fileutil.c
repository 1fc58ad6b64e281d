/* Files as bytes: CRC-32 and whole-file reads (fileutil.h). */
#include "fileutil.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

uint32_t nn_crc32(const void *data, size_t n) {
    uLong crc = crc32(0L, Z_NULL, 0);
    const unsigned char *p = data;
    while (n > 0) {
        uInt piece = n > (1u << 30) ? (1u << 30) : (uInt)n;
        crc = crc32(crc, p, piece);
        p += piece;
        n -= piece;
    }
    return (uint32_t)crc;
}

nn_status nn_read_file(const char *path, char **data_out, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        return nn_set_error(NN_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    }
    /* read in growing steps rather than by the file's size: path may be a
     * pipe or /dev/stdin */
    char *data = NULL;
    size_t n = 0, cap = 0;
    int failed = 0;
    for (;;) {
        if (cap - n < 65536) {
            size_t want = cap ? 2 * cap : 65536 + 1;
            char *p = realloc(data, want);
            if (!p) {
                failed = 1;
                break;
            }
            data = p;
            cap = want;
        }
        size_t got = fread(data + n, 1, cap - n - 1, f); /* room for the NUL */
        if (got == 0) break;
        n += got;
    }
    int err = ferror(f);
    fclose(f);
    if (err || failed) {
        free(data);
        return nn_set_error(err ? NN_ERR_IO : NN_ERR_NOMEM, "%s: %s", path, err ? "read failed" : "out of memory");
    }
    data[n] = 0;
    *data_out = data;
    *len = n;
    return NN_OK;
}
