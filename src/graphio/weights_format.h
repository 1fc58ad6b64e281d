/* The one encoder and tensor decoder of "NNGW" weights files
 * (docs/graph-format.md), shared by nn_weights_save()/nn_weights_load()
 * (weights.c) and the run log's export and reading of checkpoints
 * (runlog_file.c), so that both agree on the layout by construction. Each
 * caller words its own errors from what the decoder reports. */
#ifndef NN_WEIGHTS_FORMAT_H
#define NN_WEIGHTS_FORMAT_H

#include "fileutil.h"
#include "graphio_common.h"

/* zlib's CRC-32 of n bytes (fed to zlib in pieces: it takes uInt
 * lengths), the checksum weights files and run-log checkpoints store. */
uint32_t nn_crc32(const void *data, size_t n);

/* Appends the file header: magic "NNGW", version 1, `count` tensors. */
void nn_weights_put_header(nn_strbuf *sb, uint32_t count);

/* Appends one f32 tensor: u32 name length, name, u32 dtype, u32 rank, u64
 * dims, u64 byte count, the values as little-endian bytes, and the CRC-32
 * of those bytes as stored. `values` holds nn_shape_size(shape) floats in
 * host order. */
void nn_weights_put_tensor(nn_strbuf *sb, const char *name, nn_shape shape, const float *values);

/* One tensor as read from a file: fields are set as far as reading got. */
typedef struct nn_weights_entry {
    char name[NN_MAX_NAME]; /* "" until the name is read */
    uint32_t dtype, rank;
    int64_t dim[NN_MAX_RANK];
    uint64_t nbytes;
    const unsigned char *data; /* into the file's bytes, nothing copied */
    uint32_t crc;              /* as stored; not checked here */
    uint64_t bad;              /* the refused value of a NAME_LENGTH or DIMENSION fault */
} nn_weights_entry;

/* What stopped nn_weights_read_tensor(). */
typedef enum nn_weights_fault {
    NN_WF_OK,
    NN_WF_TRUNCATED,   /* the bytes ran out while reading `*part` */
    NN_WF_NAME_LENGTH, /* name length 0 or >= sizeof name (in e->bad) */
    NN_WF_DTYPE_RANK,  /* dtype not f32 or rank > NN_MAX_RANK */
    NN_WF_DIMENSION,   /* a dimension 0 or > INT32_MAX (in e->bad) */
    NN_WF_DATA_SIZE    /* more data bytes announced than are left */
} nn_weights_fault;

/* Reads one tensor record at the cursor into *e. On a fault, *part names
 * the part being read ("a tensor name", "a tensor header", "a tensor
 * shape", "a checksum"). The header (magic, version, count) is read by the
 * caller: the run log reads its own format behind another magic. */
nn_weights_fault nn_weights_read_tensor(nn_le_reader *r, nn_weights_entry *e, const char **part);

#endif
