/* The libraries custom ops come from: each path dlopen()ed once per
 * process and shared, counted, by every op that uses it, so a graph with
 * fifty ffi nodes holds one handle, and the last graph freed closes it.
 * Also the warning handler (finite differences in place of a gradient),
 * whose once-per-symbol memory lives with the library. */
#include "ffi_internal.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct nn_ffi_lib {
    char *path;
    void *handle;
    int refs;
    char **warned; /* symbols already warned about */
    int n_warned;
    nn_ffi_lib *next;
};

/* Graphs may be built and freed on several threads at once. */
static pthread_mutex_t libs_lock = PTHREAD_MUTEX_INITIALIZER;
static nn_ffi_lib *libs;

nn_ffi_lib *nn_ffi_lib_open(const char *path, char *err) {
    pthread_mutex_lock(&libs_lock);
    for (nn_ffi_lib *l = libs; l; l = l->next)
        if (strcmp(l->path, path) == 0) {
            l->refs++;
            pthread_mutex_unlock(&libs_lock);
            return l;
        }
    /* RTLD_LOCAL: two op libraries may both define "swish" */
    dlerror();
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *why = dlerror();
        nn_errf(err, NN_ERR_FFI, "cannot load library '%s': %s", path, why ? why : "unknown dlopen error");
        pthread_mutex_unlock(&libs_lock);
        return NULL;
    }
    nn_ffi_lib *l = calloc(1, sizeof *l);
    if (l) l->path = strdup(path);
    if (!l || !l->path) {
        if (l) free(l);
        dlclose(h);
        nn_errf(err, NN_ERR_NOMEM, "out of memory loading '%s'", path);
        pthread_mutex_unlock(&libs_lock);
        return NULL;
    }
    l->handle = h;
    l->refs = 1;
    l->next = libs;
    libs = l;
    pthread_mutex_unlock(&libs_lock);
    return l;
}

void nn_ffi_lib_close(nn_ffi_lib *lib) {
    if (!lib) return;
    pthread_mutex_lock(&libs_lock);
    if (--lib->refs > 0) {
        pthread_mutex_unlock(&libs_lock);
        return;
    }
    for (nn_ffi_lib **pp = &libs; *pp; pp = &(*pp)->next)
        if (*pp == lib) {
            *pp = lib->next;
            break;
        }
    pthread_mutex_unlock(&libs_lock);
    dlclose(lib->handle);
    for (int i = 0; i < lib->n_warned; i++) free(lib->warned[i]);
    free(lib->warned);
    free(lib->path);
    free(lib);
}

void *nn_ffi_lib_handle(const nn_ffi_lib *lib) { return lib->handle; }

/* ---- warnings ---- */

static nn_ffi_warning_fn warn_fn;
static void *warn_user;

void nn_ffi_set_warning_handler(nn_ffi_warning_fn fn, void *user) {
    pthread_mutex_lock(&libs_lock);
    warn_fn = fn;
    warn_user = user;
    pthread_mutex_unlock(&libs_lock);
}

void nn_ffi_warn_fd(nn_ffi_lib *lib, const char *symbol, const char *message) {
    pthread_mutex_lock(&libs_lock);
    for (int i = 0; i < lib->n_warned; i++)
        if (strcmp(lib->warned[i], symbol) == 0) {
            pthread_mutex_unlock(&libs_lock);
            return;
        }
    char **w = realloc(lib->warned, (size_t)(lib->n_warned + 1) * sizeof *w);
    char *copy = strdup(symbol);
    if (w) lib->warned = w;
    /* out of memory: warn now and possibly again later, never crash */
    if (w && copy)
        lib->warned[lib->n_warned++] = copy;
    else
        free(copy);
    nn_ffi_warning_fn fn = warn_fn;
    void *user = warn_user;
    pthread_mutex_unlock(&libs_lock);
    if (fn)
        fn(message, user);
    else
        fprintf(stderr, "nngraph: warning: %s\n", message);
}
