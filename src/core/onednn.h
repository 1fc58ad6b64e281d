/* oneDNN (libdnnl) for the ops that call it (ops/conv2d.c): one CPU
 * engine for the process, primitives cached by the caller's key, and
 * execution on the calling thread alone.
 *
 * Threads: nngraph's pool decides who computes what, so oneDNN never
 * starts threads of its own. libdnnl here is built on OpenMP; a primitive
 * is created and executed with the calling thread's OpenMP thread count
 * set to 1 (oneDNN then runs inline, with no parallel region, and no
 * OpenMP worker is ever created to spin), and the count is put back
 * before returning, so an application's own OpenMP code is unaffected.
 * Scratchpads are the caller's (scratchpad mode "user"), so one cached
 * primitive may run on several pool threads at once. */
#ifndef NN_ONEDNN_H
#define NN_ONEDNN_H

#include "internal.h"

#include <dnnl.h>

/* The process's CPU engine, made on first use. NULL with the reason in
 * err (NN_ERRLEN bytes) if oneDNN cannot make one. */
dnnl_engine_t nn_dnnl_engine(char *err);

/* Writes "what: oneDNN's status name" into err and returns the nn_status
 * that fits s (NN_ERR_NOMEM for out of memory, NN_ERR_SHAPE for
 * oneDNN's statuses dnnl_unimplemented and dnnl_invalid_arguments,
 * NN_ERR_RUNTIME otherwise). */
nn_status nn_dnnl_err(char *err, dnnl_status_t s, const char *what);

/* Makes a primitive descriptor for the engine and the primitive attributes
 * it is handed (scratchpad mode user). Returns oneDNN's status. */
typedef dnnl_status_t (*nn_dnnl_make_fn)(void *ctx, dnnl_engine_t eng, const_dnnl_primitive_attr_t attr,
                                         dnnl_primitive_desc_t *pd);

/* A primitive's arguments as the caller holds them: argument i is
 * oneDNN's id[i], in the caller's (plain) layout plain[i]; out[i] is set
 * for what the primitive writes. Where the primitive chose another layout
 * (format "any"), runs reorder into it and back. */
#define NN_DNNL_MAX_ARGS 4
typedef struct nn_dnnl_args {
    int n;
    int id[NN_DNNL_MAX_ARGS];
    int out[NN_DNNL_MAX_ARGS];
    dnnl_memory_desc_t plain[NN_DNNL_MAX_ARGS];
} nn_dnnl_args;

/* A cached primitive with its descriptor, arguments and reorders. */
typedef struct nn_dnnl_prim nn_dnnl_prim;

/* The primitive cached under key (key_len bytes, compared bytewise, so
 * zero a struct's padding), made with make(ctx, ...) for the arguments
 * args on its first request. Up to NN_DNNL_CACHE primitives stay for the
 * life of the process; past that, *owned is set and the caller frees the
 * primitive with nn_dnnl_release after running it. NULL with the reason in
 * err. */
#define NN_DNNL_CACHE 256
const nn_dnnl_prim *nn_dnnl_get(const void *key, size_t key_len, nn_dnnl_make_fn make, void *ctx,
                                const nn_dnnl_args *args, int *owned, char *err);
void nn_dnnl_release(const nn_dnnl_prim *p);

/* Runs p on the calling thread: argument i of nn_dnnl_get's args is at
 * data[i], in its plain layout (reordered to and from the primitive's own
 * on the way). Allocates the scratch memory it needs. NN_OK, or the
 * reason in err. */
nn_status nn_dnnl_run(const nn_dnnl_prim *p, void *const *data, char *err);

#endif
