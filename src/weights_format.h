/* The one encoder of "NNGW" weights files (docs/graph-format.md), shared by
 * nn_weights_save() (weights.c) and the run log's export of a checkpoint
 * (runlog_file.c), so that both write the same bytes by construction. */
#ifndef NN_WEIGHTS_FORMAT_H
#define NN_WEIGHTS_FORMAT_H

#include "graphio_common.h"

/* Appends the file header: magic "NNGW", version 1, `count` tensors. */
void nn_weights_put_header(nn_strbuf *sb, uint32_t count);

/* Appends one f32 tensor: u32 name length, name, u32 dtype, u32 rank, u64
 * dims, u64 byte count, the values as little-endian bytes, and the CRC-32
 * of those bytes as stored. `values` holds nn_shape_size(shape) floats in
 * host order. */
void nn_weights_put_tensor(nn_strbuf *sb, const char *name, nn_shape shape, const float *values);

#endif
