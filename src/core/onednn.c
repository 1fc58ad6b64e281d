/* oneDNN's engine, the primitive cache and execution on one thread
 * (onednn.h says why one thread). */
#include "onednn.h"

#include <dnnl_debug.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* The two calls of OpenMP's API this file makes, declared here rather
 * than through <omp.h> (which not every compiler ships where it is found
 * without -fopenmp): libdnnl is built on GNU OpenMP and brings libgomp,
 * which meson links (gomp_dep) and which defines them. */
int omp_get_max_threads(void);
void omp_set_num_threads(int n);

struct nn_dnnl_prim {
    dnnl_primitive_desc_t pd;
    dnnl_primitive_t prim;
    nn_dnnl_args args;
    /* argument i's reorder between the plain layout and the primitive's
     * (NULL: the same layout), and the bytes it takes in the latter */
    dnnl_primitive_t reorder[NN_DNNL_MAX_ARGS];
    size_t bytes[NN_DNNL_MAX_ARGS];
    size_t scratch_bytes; /* the most any of the primitives needs */
};

typedef struct cache_entry {
    void *key;
    size_t key_len;
    nn_dnnl_prim *prim;
} cache_entry;

static pthread_mutex_t cache_mu = PTHREAD_MUTEX_INITIALIZER;
static cache_entry cache[NN_DNNL_CACHE];
static int cache_n;
static dnnl_engine_t engine;
static dnnl_status_t engine_status = dnnl_success;
static pthread_once_t engine_once = PTHREAD_ONCE_INIT;

nn_status nn_dnnl_err(char *err, dnnl_status_t s, const char *what) {
    nn_status st = s == dnnl_out_of_memory                                     ? NN_ERR_NOMEM
                   : s == dnnl_unimplemented || s == dnnl_invalid_arguments ? NN_ERR_SHAPE
                                                                              : NN_ERR_RUNTIME;
    return nn_errf(err, st, "%s: oneDNN says %s", what, dnnl_status2str(s));
}

/* Sets the calling thread's OpenMP thread count to 1 and returns the old
 * one, for put_threads. */
static int one_thread(void) {
    int old = omp_get_max_threads();
    if (old != 1) omp_set_num_threads(1);
    return old;
}

static void put_threads(int old) {
    if (old != 1) omp_set_num_threads(old);
}

void nn_dnnl_release(const nn_dnnl_prim *cp) {
    nn_dnnl_prim *p = (nn_dnnl_prim *)cp;
    if (!p) return;
    for (int i = 0; i < NN_DNNL_MAX_ARGS; i++)
        if (p->reorder[i]) dnnl_primitive_destroy(p->reorder[i]);
    if (p->prim) dnnl_primitive_destroy(p->prim);
    if (p->pd) dnnl_primitive_desc_destroy(p->pd);
    free(p);
}

/* Frees the cache and the engine when the program ends, so leak checkers
 * see only what is still in use. */
static void release_all(void) {
    for (int i = 0; i < cache_n; i++) {
        nn_dnnl_release(cache[i].prim);
        free(cache[i].key);
    }
    cache_n = 0;
    if (engine) dnnl_engine_destroy(engine);
    engine = NULL;
}

static void make_engine(void) {
    engine_status = dnnl_engine_create(&engine, dnnl_cpu, 0);
    if (engine_status == dnnl_success) atexit(release_all);
    else engine = NULL;
}

dnnl_engine_t nn_dnnl_engine(char *err) {
    pthread_once(&engine_once, make_engine);
    if (!engine) nn_dnnl_err(err, engine_status, "cannot make a CPU engine");
    return engine;
}

static size_t scratch_of(const_dnnl_primitive_desc_t pd) {
    const dnnl_memory_desc_t *md = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
    return md ? dnnl_memory_desc_get_size(md) : 0;
}

/* The reorder of argument i between its plain layout and the primitive's,
 * if they differ. */
static dnnl_status_t make_reorder(nn_dnnl_prim *p, int i, dnnl_engine_t eng, const_dnnl_primitive_attr_t attr) {
    const dnnl_memory_desc_t *md = dnnl_primitive_desc_query_md(p->pd, dnnl_query_exec_arg_md, p->args.id[i]);
    if (!md) return dnnl_invalid_arguments;
    p->bytes[i] = dnnl_memory_desc_get_size(md);
    const dnnl_memory_desc_t *plain = &p->args.plain[i];
    if (dnnl_memory_desc_equal(md, plain)) return dnnl_success;
    dnnl_primitive_desc_t rpd;
    dnnl_status_t s = p->args.out[i] ? dnnl_reorder_primitive_desc_create(&rpd, md, eng, plain, eng, attr)
                                     : dnnl_reorder_primitive_desc_create(&rpd, plain, eng, md, eng, attr);
    if (s != dnnl_success) return s;
    size_t scratch = scratch_of(rpd);
    if (scratch > p->scratch_bytes) p->scratch_bytes = scratch;
    s = dnnl_primitive_create(&p->reorder[i], rpd);
    dnnl_primitive_desc_destroy(rpd);
    return s;
}

/* Makes the primitive with make(ctx) and its reorders, under one OpenMP
 * thread (oneDNN sizes its kernels and scratchpads for the threads it
 * sees at creation). NULL with the reason in err. */
static nn_dnnl_prim *make_prim(nn_dnnl_make_fn make, void *ctx, const nn_dnnl_args *args, char *err) {
    dnnl_engine_t eng = nn_dnnl_engine(err);
    if (!eng) return NULL;
    nn_dnnl_prim *p = calloc(1, sizeof *p);
    if (!p) {
        nn_errf(err, NN_ERR_NOMEM, "out of memory for a oneDNN primitive");
        return NULL;
    }
    p->args = *args;
    dnnl_primitive_attr_t attr;
    dnnl_status_t s = dnnl_primitive_attr_create(&attr);
    if (s != dnnl_success) {
        free(p);
        nn_dnnl_err(err, s, "cannot make primitive attributes");
        return NULL;
    }
    s = dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user);
    int threads = one_thread();
    if (s == dnnl_success) s = make(ctx, eng, attr, &p->pd);
    if (s == dnnl_success) s = dnnl_primitive_create(&p->prim, p->pd);
    if (s == dnnl_success) p->scratch_bytes = scratch_of(p->pd);
    for (int i = 0; i < args->n && s == dnnl_success; i++) s = make_reorder(p, i, eng, attr);
    put_threads(threads);
    dnnl_primitive_attr_destroy(attr);
    if (s != dnnl_success) {
        nn_dnnl_release(p);
        nn_dnnl_err(err, s, "no oneDNN implementation for these shapes");
        return NULL;
    }
    return p;
}

/* The cached primitive under key, or NULL. Called with cache_mu held. */
static nn_dnnl_prim *lookup(const void *key, size_t key_len) {
    for (int i = 0; i < cache_n; i++)
        if (cache[i].key_len == key_len && !memcmp(cache[i].key, key, key_len)) return cache[i].prim;
    return NULL;
}

const nn_dnnl_prim *nn_dnnl_get(const void *key, size_t key_len, nn_dnnl_make_fn make, void *ctx,
                                const nn_dnnl_args *args, int *owned, char *err) {
    *owned = 0;
    pthread_mutex_lock(&cache_mu);
    nn_dnnl_prim *p = lookup(key, key_len);
    pthread_mutex_unlock(&cache_mu);
    if (p) return p;
    /* made outside the lock (it can take milliseconds); if another thread
     * made the same one meanwhile, that one is kept */
    nn_dnnl_prim *made = make_prim(make, ctx, args, err);
    if (!made) return NULL;
    pthread_mutex_lock(&cache_mu);
    p = lookup(key, key_len);
    void *copy = !p && cache_n < NN_DNNL_CACHE ? malloc(key_len) : NULL;
    if (copy) {
        memcpy(copy, key, key_len);
        cache[cache_n++] = (cache_entry){copy, key_len, made};
        p = made;
        made = NULL;
    }
    pthread_mutex_unlock(&cache_mu);
    if (p) {
        nn_dnnl_release(made);
        return p;
    }
    /* the cache is full: the caller's to free after running it */
    *owned = 1;
    return made;
}

/* Runs primitive prim with n arguments on the stream. */
static dnnl_status_t execute(dnnl_primitive_t prim, dnnl_stream_t stream, int n, const dnnl_exec_arg_t *a) {
    dnnl_status_t s = dnnl_primitive_execute(prim, stream, n, a);
    return s == dnnl_success ? dnnl_stream_wait(stream) : s;
}

nn_status nn_dnnl_run(const nn_dnnl_prim *p, void *const *data, char *err) {
    dnnl_engine_t eng = nn_dnnl_engine(err);
    if (!eng) return NN_ERR_RUNTIME;
    int n = p->args.n;
    /* one block for the scratchpad and the arguments held in the
     * primitive's layouts, each 64-byte aligned */
    size_t at[NN_DNNL_MAX_ARGS + 1], total = 0;
    for (int i = 0; i <= n; i++) {
        size_t bytes = i == n ? p->scratch_bytes : p->reorder[i] ? p->bytes[i] : 0;
        at[i] = total;
        total += (bytes + 63) / 64 * 64;
    }
    char *block = NULL;
    if (total && !(block = aligned_alloc(64, total)))
        return nn_errf(err, NN_ERR_NOMEM, "out of memory for %zu bytes of oneDNN scratch", total);
    dnnl_exec_arg_t ea[NN_DNNL_MAX_ARGS + 1];
    dnnl_memory_t plain[NN_DNNL_MAX_ARGS] = {0};
    int made = 0;
    dnnl_status_t s = dnnl_success;
    for (int i = 0; i <= n && s == dnnl_success; i++) {
        if (i == n && !p->scratch_bytes) break;
        int arg = i < n ? p->args.id[i] : DNNL_ARG_SCRATCHPAD;
        /* the scratchpad as plain bytes: the reorders share it */
        dnnl_memory_desc_t bytes_md;
        const dnnl_memory_desc_t *md = i < n ? dnnl_primitive_desc_query_md(p->pd, dnnl_query_exec_arg_md, arg) : &bytes_md;
        if (i == n) s = dnnl_memory_desc_init_by_tag(&bytes_md, 1, (dnnl_dims_t){(dnnl_dim_t)p->scratch_bytes}, dnnl_u8, dnnl_x);
        if (s != dnnl_success) break;
        void *where = i == n || p->reorder[i] ? block + at[i] : data[i];
        ea[i].arg = arg;
        s = dnnl_memory_create(&ea[i].memory, md, eng, where);
        if (s == dnnl_success) made++;
        if (s == dnnl_success && i < n && p->reorder[i])
            s = dnnl_memory_create(&plain[i], &p->args.plain[i], eng, data[i]);
    }
    dnnl_stream_t stream = NULL;
    if (s == dnnl_success) s = dnnl_stream_create(&stream, eng, dnnl_stream_default_flags);
    int threads = one_thread();
    for (int pass = 0; pass < 3 && s == dnnl_success; pass++) {
        if (pass == 1) {
            s = execute(p->prim, stream, made, ea);
            continue;
        }
        /* pass 0 reorders the inputs in, pass 2 the outputs back */
        for (int i = 0; i < n && s == dnnl_success; i++) {
            if (!p->reorder[i] || p->args.out[i] != (pass == 2)) continue;
            dnnl_exec_arg_t r[3] = {{DNNL_ARG_FROM, pass == 2 ? ea[i].memory : plain[i]},
                                    {DNNL_ARG_TO, pass == 2 ? plain[i] : ea[i].memory},
                                    {DNNL_ARG_SCRATCHPAD, p->scratch_bytes ? ea[n].memory : NULL}};
            s = execute(p->reorder[i], stream, p->scratch_bytes ? 3 : 2, r);
        }
    }
    put_threads(threads);
    if (stream) dnnl_stream_destroy(stream);
    for (int i = 0; i < made; i++) dnnl_memory_destroy(ea[i].memory);
    for (int i = 0; i < n; i++)
        if (plain[i]) dnnl_memory_destroy(plain[i]);
    free(block);
    return s == dnnl_success ? NN_OK : nn_dnnl_err(err, s, "the oneDNN primitive failed");
}
