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
    size_t scratch_bytes;
};

typedef struct cache_entry {
    void *key;
    size_t key_len;
    nn_dnnl_prim prim;
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

/* Frees the cache and the engine when the program ends, so leak checkers
 * see only what is still in use. */
static void release_all(void) {
    for (int i = 0; i < cache_n; i++) {
        dnnl_primitive_destroy(cache[i].prim.prim);
        dnnl_primitive_desc_destroy(cache[i].prim.pd);
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

/* Makes p with make(ctx): the descriptor, the primitive and its
 * scratchpad's size, under one OpenMP thread (oneDNN sizes its kernels and
 * scratchpads for the threads it sees at creation). */
static nn_status make_prim(nn_dnnl_prim *p, nn_dnnl_make_fn make, void *ctx, char *err) {
    memset(p, 0, sizeof *p);
    dnnl_engine_t eng = nn_dnnl_engine(err);
    if (!eng) return NN_ERR_RUNTIME;
    dnnl_primitive_attr_t attr;
    dnnl_status_t s = dnnl_primitive_attr_create(&attr);
    if (s != dnnl_success) return nn_dnnl_err(err, s, "cannot make primitive attributes");
    s = dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user);
    int threads = one_thread();
    if (s == dnnl_success) s = make(ctx, eng, attr, &p->pd);
    if (s == dnnl_success) s = dnnl_primitive_create(&p->prim, p->pd);
    put_threads(threads);
    dnnl_primitive_attr_destroy(attr);
    if (s != dnnl_success) {
        if (p->pd) dnnl_primitive_desc_destroy(p->pd);
        memset(p, 0, sizeof *p);
        return nn_dnnl_err(err, s, "no oneDNN implementation for these shapes");
    }
    const dnnl_memory_desc_t *md = dnnl_primitive_desc_query_md(p->pd, dnnl_query_scratchpad_md, 0);
    p->scratch_bytes = md ? dnnl_memory_desc_get_size(md) : 0;
    return NN_OK;
}

const nn_dnnl_prim *nn_dnnl_get(const void *key, size_t key_len, nn_dnnl_make_fn make, void *ctx, int *owned,
                                char *err) {
    *owned = 0;
    pthread_mutex_lock(&cache_mu);
    for (int i = 0; i < cache_n; i++)
        if (cache[i].key_len == key_len && !memcmp(cache[i].key, key, key_len)) {
            pthread_mutex_unlock(&cache_mu);
            return &cache[i].prim;
        }
    pthread_mutex_unlock(&cache_mu);
    /* made outside the lock (it can take milliseconds); a thread that made
     * the same one meanwhile wins, and this one is dropped */
    nn_dnnl_prim made;
    if (make_prim(&made, make, ctx, err) != NN_OK) return NULL;
    pthread_mutex_lock(&cache_mu);
    for (int i = 0; i < cache_n; i++)
        if (cache[i].key_len == key_len && !memcmp(cache[i].key, key, key_len)) {
            pthread_mutex_unlock(&cache_mu);
            dnnl_primitive_destroy(made.prim);
            dnnl_primitive_desc_destroy(made.pd);
            return &cache[i].prim;
        }
    void *copy = cache_n < NN_DNNL_CACHE ? malloc(key_len) : NULL;
    if (copy) {
        memcpy(copy, key, key_len);
        cache[cache_n] = (cache_entry){copy, key_len, made};
        const nn_dnnl_prim *p = &cache[cache_n++].prim;
        pthread_mutex_unlock(&cache_mu);
        return p;
    }
    pthread_mutex_unlock(&cache_mu);
    /* the cache is full: the caller's to free after one run */
    nn_dnnl_prim *p = malloc(sizeof *p);
    if (!p) {
        dnnl_primitive_destroy(made.prim);
        dnnl_primitive_desc_destroy(made.pd);
        nn_errf(err, NN_ERR_NOMEM, "out of memory for a oneDNN primitive");
        return NULL;
    }
    *p = made;
    *owned = 1;
    return p;
}

void nn_dnnl_release(const nn_dnnl_prim *p) {
    if (!p) return;
    dnnl_primitive_destroy(p->prim);
    dnnl_primitive_desc_destroy(p->pd);
    free((void *)p);
}

#define MAX_ARGS 8

nn_status nn_dnnl_run(const nn_dnnl_prim *p, int n, const int *args, void *const *data, char *err) {
    dnnl_engine_t eng = nn_dnnl_engine(err);
    if (!eng) return NN_ERR_RUNTIME;
    if (n > MAX_ARGS - 1) return nn_errf(err, NN_ERR_ARG, "more than %d oneDNN arguments", MAX_ARGS - 1);
    dnnl_exec_arg_t ea[MAX_ARGS];
    int made = 0;
    nn_status st = NN_OK;
    dnnl_status_t s = dnnl_success;
    void *scratch = NULL;
    if (p->scratch_bytes) {
        scratch = malloc(p->scratch_bytes);
        if (!scratch) return nn_errf(err, NN_ERR_NOMEM, "out of memory for %zu bytes of oneDNN scratchpad", p->scratch_bytes);
    }
    for (int i = 0; i <= n && s == dnnl_success; i++) {
        int arg = i < n ? args[i] : DNNL_ARG_SCRATCHPAD;
        if (i == n && !scratch) break;
        const dnnl_memory_desc_t *md =
            dnnl_primitive_desc_query_md(p->pd, i < n ? dnnl_query_exec_arg_md : dnnl_query_scratchpad_md, i < n ? arg : 0);
        if (!md) {
            st = nn_errf(err, NN_ERR_ARG, "the oneDNN primitive takes no argument %d", arg);
            break;
        }
        ea[i].arg = arg;
        s = dnnl_memory_create(&ea[i].memory, md, eng, i < n ? data[i] : scratch);
        if (s == dnnl_success) made++;
    }
    dnnl_stream_t stream = NULL;
    if (st == NN_OK && s == dnnl_success) s = dnnl_stream_create(&stream, eng, dnnl_stream_default_flags);
    if (st == NN_OK && s == dnnl_success) {
        int threads = one_thread();
        s = dnnl_primitive_execute(p->prim, stream, made, ea);
        if (s == dnnl_success) s = dnnl_stream_wait(stream);
        put_threads(threads);
    }
    if (st == NN_OK && s != dnnl_success) st = nn_dnnl_err(err, s, "the oneDNN primitive failed");
    if (stream) dnnl_stream_destroy(stream);
    for (int i = 0; i < made; i++) dnnl_memory_destroy(ea[i].memory);
    free(scratch);
    return st;
}
