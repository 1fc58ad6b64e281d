/* Files as bytes: whole-file reads, atomic writes, little-endian
 * integers (fileutil.h). */
#include "fileutil.h"
#include "strbuf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

nn_status nn_read_file(const char *path, char **data_out, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        return nn_set_error(NN_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    }
    /* read in growing steps rather than by the file's size: path may be a
     * pipe or /dev/stdin */
    char *data = NULL;
    size_t n = 0, cap = 0;
    int failed = 0, too_big = 0;
    uint64_t limit = nn_memory_limit();
    for (;;) {
        /* a file past the memory limit (or /dev/zero) stops here */
        if (n > limit) {
            too_big = 1;
            break;
        }
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
    if (too_big) {
        free(data);
        return nn_set_error(NN_ERR_NOMEM,
                            "%s: the file is larger than the memory limit of %llu bytes (raise it with --max-memory, "
                            "NNGRAPH_MAX_MEMORY or nn_set_memory_limit())",
                            path, (unsigned long long)limit);
    }
    if (err || failed) {
        free(data);
        return nn_set_error(err ? NN_ERR_IO : NN_ERR_NOMEM, "%s: %s", path, err ? "read failed" : "out of memory");
    }
    data[n] = 0;
    *data_out = data;
    *len = n;
    return NN_OK;
}

/* Byte by byte by shifts, so the files are little-endian on any host. */
static void put_le(nn_strbuf *sb, uint64_t v, int bytes) {
    char le[8];
    for (int i = 0; i < bytes; i++) le[i] = (char)(unsigned char)(v >> (8 * i));
    nn_sb_append(sb, le, (size_t)bytes);
}

void nn_put_u16(nn_strbuf *sb, uint16_t v) { put_le(sb, v, 2); }
void nn_put_u32(nn_strbuf *sb, uint32_t v) { put_le(sb, v, 4); }
void nn_put_u64(nn_strbuf *sb, uint64_t v) { put_le(sb, v, 8); }

const unsigned char *nn_le_take(nn_le_reader *r, size_t n) {
    if ((size_t)(r->end - r->p) < n) return NULL;
    const unsigned char *at = r->p;
    r->p += n;
    return at;
}

static int get_le(nn_le_reader *r, uint64_t *v, int bytes) {
    const unsigned char *q = nn_le_take(r, (size_t)bytes);
    if (!q) return -1;
    uint64_t x = 0;
    for (int i = 0; i < bytes; i++) x |= (uint64_t)q[i] << (8 * i);
    *v = x;
    return 0;
}

int nn_le_u16(nn_le_reader *r, uint16_t *v) {
    uint64_t x;
    if (get_le(r, &x, 2)) return -1;
    *v = (uint16_t)x;
    return 0;
}

int nn_le_u32(nn_le_reader *r, uint32_t *v) {
    uint64_t x;
    if (get_le(r, &x, 4)) return -1;
    *v = (uint32_t)x;
    return 0;
}

int nn_le_u64(nn_le_reader *r, uint64_t *v) { return get_le(r, v, 8); }

size_t nn_le_left(const nn_le_reader *r) { return (size_t)(r->end - r->p); }

/* The process's umask, without changing it even for a moment where the
 * kernel says it (Linux 4.7+: /proc/self/status), else by setting and
 * restoring it. */
static mode_t current_umask(void) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    unsigned m;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "Umask: %o", &m) == 1) {
            fclose(f);
            return (mode_t)m;
        }
    if (f) fclose(f);
    mode_t old = umask(022);
    umask(old);
    return old;
}

/* Writes `data` to path through a temporary file in the same directory
 * and rename(), so readers see the old file or the whole new one. */
static nn_status write_atomic(const char *path, const void *data, size_t len) {
    size_t plen = strlen(path);
    char *tmp = malloc(plen + 16);
    if (!tmp) return nn_set_error(NN_ERR_NOMEM, "%s: out of memory", path);
    snprintf(tmp, plen + 16, "%s.tmp.XXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        nn_status s = nn_set_error(NN_ERR_IO, "%s: cannot create a temporary file: %s", path, strerror(errno));
        free(tmp);
        return s;
    }
    /* mkstemp makes the file private (0600): a new file gets the mode fopen
     * would give it (0666 less the umask), a replaced one keeps its own */
    struct stat old;
    fchmod(fd, stat(path, &old) == 0 ? old.st_mode & 07777 : 0666 & ~current_umask());
    FILE *f = fdopen(fd, "wb");
    int ok = f != NULL;
    if (ok) ok = fwrite(data, 1, len, f) == len;
    if (ok) ok = fflush(f) == 0 && fsync(fd) == 0;
    int err = errno;
    if (f ? fclose(f) != 0 : close(fd) != 0) ok = 0;
    if (ok && rename(tmp, path) != 0) ok = 0, err = errno;
    if (!ok) {
        unlink(tmp);
        free(tmp);
        return nn_set_error(NN_ERR_IO, "%s: write failed: %s", path, strerror(err));
    }
    free(tmp);
    return NN_OK;
}

nn_status nn_write_file_atomic(const char *path, const void *data, size_t len) {
    if (!path || (!data && len)) return nn_set_error(NN_ERR_ARG, "write: path and data are required");
    return write_atomic(path, data, len);
}
