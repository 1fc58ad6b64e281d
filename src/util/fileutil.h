/* Internal helpers for files as bytes, shared by the graph files, weights
 * files and the run log's checkpoints, so that each exists once: reading a
 * whole file into memory and little-endian codecs. (Atomic writes are the
 * public nn_write_file_atomic(), graphio.h, defined in fileutil.c.) */
#ifndef NN_FILEUTIL_H
#define NN_FILEUTIL_H

#include "nngraph.h"

#include <stddef.h>
#include <stdint.h>

/* Reads the whole file at path into *data, a malloc'd buffer with a NUL
 * after its *len bytes (an empty file gives ""). On failure returns
 * NN_ERR_IO or NN_ERR_NOMEM with nn_last_error() set to "PATH: cannot open:
 * CAUSE", "PATH: read failed" or "PATH: out of memory". */
nn_status nn_read_file(const char *path, char **data, size_t *len);

/* Little-endian integers appended to a growable buffer (strbuf.h's
 * nn_strbuf; an allocation failure sticks in its `failed`). One writer for
 * the binary files (weights "NNGW", run-log checkpoints "NNGC") so their
 * byte order is defined in one place. */
struct nn_strbuf;
void nn_put_u16(struct nn_strbuf *sb, uint16_t v);
void nn_put_u32(struct nn_strbuf *sb, uint32_t v);
void nn_put_u64(struct nn_strbuf *sb, uint64_t v);

/* A bounds-checked cursor over bytes in memory: every read either has all
 * the bytes it asks for or fails without moving. `path` names the file in
 * its users' error messages. */
typedef struct nn_le_reader {
    const unsigned char *p, *end;
    const char *path;
} nn_le_reader;

/* The next n bytes (the cursor moves past them), or NULL if fewer are left. */
const unsigned char *nn_le_take(nn_le_reader *r, size_t n);
/* The next little-endian integer into *v: 0, or -1 (*v untouched) if the
 * bytes run out. */
int nn_le_u16(nn_le_reader *r, uint16_t *v);
int nn_le_u32(nn_le_reader *r, uint32_t *v);
int nn_le_u64(nn_le_reader *r, uint64_t *v);
/* Bytes left after the cursor. */
size_t nn_le_left(const nn_le_reader *r);

#endif
