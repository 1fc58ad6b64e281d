/* Run log internals: tensors as stored bytes (little-endian, CRC-32) and
 * the loaded checkpoint object. */
#ifndef NN_RUNLOG_TENSOR_H
#define NN_RUNLOG_TENSOR_H

#include "nngraph.h"

/* Stored dtypes: 0 f32, 1 i32 (as nn_dtype), 2 u64 (a generator's state). */
enum { RL_U64 = 2 };
extern const char *const rl_dtype_names[3];
int rl_dtype_from_name(const char *name);

/* A tensor's stored form. bytes may point into someone else's memory
 * (owned 0) or be ours (owned 1). */
typedef struct rl_blob {
    int dtype;
    int rank;
    int64_t dim[NN_MAX_RANK];
    unsigned char *bytes;
    size_t nbytes;
    uint32_t crc;
    int owned;
} rl_blob;

/* The stored form of a tensor / a generator (little-endian, CRC set). */
nn_status rl_blob_from_tensor(const nn_tensor *t, rl_blob *b);
nn_status rl_blob_from_rng(const nn_rng *r, rl_blob *b);
void rl_blob_free(rl_blob *b);

/* "[400,25]" (JSON array), "[]" for a scalar; and back (0 ok, -1 bad). */
void rl_shape_text(int rank, const int64_t *dim, char *buf, size_t len);
int rl_shape_parse(const char *text, int *rank, int64_t *dim);

typedef struct rl_item {
    char *name;
    nn_ckpt_role role;
    nn_tensor *tensor; /* NULL for a generator */
    nn_rng rng;
} rl_item;

struct nn_checkpoint {
    int64_t id, run, step, epoch;
    char reason[16];
    int n, cap;
    rl_item *items;
};

nn_checkpoint *rl_ckpt_new(void);
/* Checks b (CRC, byte count against dtype and shape, role/dtype fit) and
 * appends it decoded; errors start with `where`. */
nn_status rl_ckpt_add(nn_checkpoint *c, const char *name, nn_ckpt_role role, const rl_blob *b, const char *where);

#endif
