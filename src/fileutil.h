/* Internal helpers for files as bytes, shared by the graph files, weights
 * files and the run log's checkpoints, so that each exists once: the
 * CRC-32 their tensors carry and reading a whole file into memory.
 * (Atomic writes are nn_write_file_atomic(), graphio.h.) */
#ifndef NN_FILEUTIL_H
#define NN_FILEUTIL_H

#include "nngraph.h"

#include <stddef.h>
#include <stdint.h>

/* zlib's CRC-32 of n bytes (fed to zlib in pieces: it takes uInt lengths). */
uint32_t nn_crc32(const void *data, size_t n);

/* Reads the whole file at path into *data, a malloc'd buffer with a NUL
 * after its *len bytes (an empty file gives ""). On failure returns
 * NN_ERR_IO or NN_ERR_NOMEM with nn_last_error() set to "PATH: cannot open:
 * CAUSE", "PATH: read failed" or "PATH: out of memory". */
nn_status nn_read_file(const char *path, char **data, size_t *len);

#endif
