/* The libraries custom ops come from, and who may name them.
 *
 * A library is opened (dlopen) only on a user's request: nn_ffi_load_library
 * (the CLI's --ops and NNGRAPH_OPS), or nn_ffi_op called by the program
 * itself. A graph file can only *find* a library already open
 * (nn_ffi_lib_find): reading a file never opens one. Each library is open
 * once per process, counted by every op that uses it (and once more while
 * explicitly loaded); the last reference closes it.
 *
 * Only symbols the library itself declares (an exported string
 * nngraph_sig_<symbol> defined in that very object, not in one of its
 * dependencies) can be called: nn_ffi_lib_symbol checks both the
 * declaration and the function's origin with dladdr().
 *
 * Also the warning handler (finite differences in place of a gradient),
 * whose once-per-symbol memory lives with the library. */
#define _GNU_SOURCE /* dladdr, dlinfo, RTLD_DI_LINKMAP */
#include "ffi_internal.h"

#include <dlfcn.h>
#include <link.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct nn_ffi_lib {
    char *path;   /* as the user gave it */
    char *object; /* the loader's name of the object (link map l_name) */
    void *handle;
    int refs;
    int loaded; /* 1 while nn_ffi_load_library holds a reference */
    char **warned; /* symbols already warned about */
    int n_warned;
    nn_ffi_lib *next;
};

/* Graphs may be built and freed on several threads at once. */
static pthread_mutex_t libs_lock = PTHREAD_MUTEX_INITIALIZER;
static nn_ffi_lib *libs;

static nn_ffi_lib *open_locked(const char *path, char *err) {
    for (nn_ffi_lib *l = libs; l; l = l->next)
        if (strcmp(l->path, path) == 0) {
            l->refs++;
            return l;
        }
    /* RTLD_LOCAL: two op libraries may both define "swish" */
    dlerror();
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *why = dlerror();
        nn_errf(err, NN_ERR_FFI, "cannot load library '%s': %s", path, why ? why : "unknown dlopen error");
        return NULL;
    }
    struct link_map *lm = NULL;
    if (dlinfo(h, RTLD_DI_LINKMAP, &lm) != 0 || !lm) {
        dlclose(h);
        nn_errf(err, NN_ERR_FFI, "library '%s': the loader does not say which object it is", path);
        return NULL;
    }
    nn_ffi_lib *l = calloc(1, sizeof *l);
    if (l) {
        l->path = strdup(path);
        l->object = strdup(lm->l_name ? lm->l_name : "");
    }
    if (!l || !l->path || !l->object) {
        if (l) free(l->path), free(l->object), free(l);
        dlclose(h);
        nn_errf(err, NN_ERR_NOMEM, "out of memory loading '%s'", path);
        return NULL;
    }
    l->handle = h;
    l->refs = 1;
    l->next = libs;
    libs = l;
    return l;
}

nn_ffi_lib *nn_ffi_lib_open(const char *path, char *err) {
    pthread_mutex_lock(&libs_lock);
    nn_ffi_lib *l = open_locked(path, err);
    pthread_mutex_unlock(&libs_lock);
    if (l) nn_ffi_text_register_default();
    return l;
}

static const char *base_name(const char *path) {
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

nn_ffi_lib *nn_ffi_lib_find(const char *path, char *err) {
    pthread_mutex_lock(&libs_lock);
    nn_ffi_lib *found = NULL;
    int same_base = 0;
    for (nn_ffi_lib *l = libs; l && !found; l = l->next)
        if (strcmp(l->path, path) == 0) found = l;
    /* a graph saved elsewhere names the library by another path: the one
     * loaded library of that file name is it (it was loaded on purpose, and
     * only its declared ops can be called) */
    for (nn_ffi_lib *l = libs; l && !found; l = l->next)
        if (strcmp(base_name(l->path), base_name(path)) == 0) same_base++;
    if (!found && same_base == 1)
        for (nn_ffi_lib *l = libs; l && !found; l = l->next)
            if (strcmp(base_name(l->path), base_name(path)) == 0) found = l;
    if (found) {
        found->refs++;
    } else {
        char list[256] = "";
        size_t at = 0;
        for (nn_ffi_lib *l = libs; l && at < sizeof list; l = l->next)
            at += (size_t)snprintf(list + at, sizeof list - at, "%s%s", at ? ", " : "", l->path);
        nn_errf(err, NN_ERR_FFI,
                "no loaded op library is '%s'%s%s%s (a graph file never loads a library: load it on purpose with "
                "--ops %s, NNGRAPH_OPS=%s or nn_ffi_load_library())",
                path, same_base > 1 ? "; several loaded libraries have its file name" : "",
                *list ? "; loaded: " : "; none is loaded", list, path, path);
    }
    pthread_mutex_unlock(&libs_lock);
    return found;
}

static void release_locked(nn_ffi_lib *lib) {
    if (--lib->refs > 0) return;
    for (nn_ffi_lib **pp = &libs; *pp; pp = &(*pp)->next)
        if (*pp == lib) {
            *pp = lib->next;
            break;
        }
    dlclose(lib->handle);
    for (int i = 0; i < lib->n_warned; i++) free(lib->warned[i]);
    free(lib->warned);
    free(lib->path);
    free(lib->object);
    free(lib);
}

void nn_ffi_lib_close(nn_ffi_lib *lib) {
    if (!lib) return;
    pthread_mutex_lock(&libs_lock);
    release_locked(lib);
    pthread_mutex_unlock(&libs_lock);
}

/* Where the address p was defined: 1 if in the library's own object. */
static int defined_in(const nn_ffi_lib *lib, const void *p) {
    Dl_info info;
    return dladdr(p, &info) != 0 && info.dli_fname && strcmp(info.dli_fname, lib->object) == 0;
}

const char *nn_ffi_lib_declaration(const nn_ffi_lib *lib, const char *symbol, char *err) {
    char name[160];
    snprintf(name, sizeof name, "nngraph_sig_%s", symbol);
    dlerror();
    const char *declared = dlsym(lib->handle, name);
    if (!declared || !defined_in(lib, declared)) {
        nn_errf(err, NN_ERR_FFI,
                "library '%s' does not declare an op '%s' (it defines no %s): only the ops a library declares can "
                "be called",
                lib->path, symbol, name);
        return NULL;
    }
    /* the declaration is a C string of the library's: bounded, so a
     * missing terminator cannot run on */
    if (strnlen(declared, 1024) == 1024) {
        nn_errf(err, NN_ERR_FFI, "library '%s': %s is not a C string of at most 1023 bytes", lib->path, name);
        return NULL;
    }
    return declared;
}

void *nn_ffi_lib_symbol(const nn_ffi_lib *lib, const char *symbol, char *err) {
    dlerror();
    void *p = dlsym(lib->handle, symbol);
    if (!p) {
        const char *why = dlerror();
        nn_errf(err, NN_ERR_FFI, "library '%s' declares '%s' but has no symbol '%s'%s%s", lib->path, symbol, symbol,
                why ? ": " : "", why ? why : "");
        return NULL;
    }
    if (!defined_in(lib, p)) {
        nn_errf(err, NN_ERR_FFI, "library '%s': symbol '%s' is not defined in the library itself", lib->path, symbol);
        return NULL;
    }
    return p;
}

/* ---- loading on purpose ---- */

nn_status nn_ffi_load_library(const char *path) {
    if (!path || !*path) return nn_set_error(NN_ERR_ARG, "load ops: the library path is empty or NULL");
    char err[NN_ERRLEN] = "";
    pthread_mutex_lock(&libs_lock);
    nn_ffi_lib *l = open_locked(path, err);
    if (l && l->loaded) release_locked(l); /* already held: loading twice is once */
    else if (l) l->loaded = 1;
    pthread_mutex_unlock(&libs_lock);
    if (!l) return nn_set_error(NN_ERR_FFI, "load ops: %s", err);
    nn_ffi_text_register_default();
    return NN_OK;
}

nn_status nn_ffi_unload_library(const char *path) {
    if (!path) return nn_set_error(NN_ERR_ARG, "unload ops: the library path is NULL");
    pthread_mutex_lock(&libs_lock);
    nn_ffi_lib *l = libs;
    while (l && strcmp(l->path, path) != 0) l = l->next;
    int held = l && l->loaded;
    if (held) {
        l->loaded = 0;
        release_locked(l); /* closes it unless graphs still use it */
    }
    pthread_mutex_unlock(&libs_lock);
    return held ? NN_OK : nn_set_error(NN_ERR_ARG, "unload ops: '%s' was not loaded with nn_ffi_load_library", path);
}

nn_status nn_ffi_load_env(void) {
    const char *env = getenv("NNGRAPH_OPS");
    if (!env || !*env) return NN_OK;
    char *copy = strdup(env);
    if (!copy) return nn_set_error(NN_ERR_NOMEM, "NNGRAPH_OPS: out of memory");
    nn_status s = NN_OK;
    char *save = NULL;
    for (char *p = strtok_r(copy, ":", &save); p && s == NN_OK; p = strtok_r(NULL, ":", &save)) {
        s = nn_ffi_load_library(p);
        if (s != NN_OK) {
            char why[NN_ERRLEN];
            snprintf(why, sizeof why, "%s", nn_last_error());
            nn_set_error(s, "NNGRAPH_OPS: %s", why);
        }
    }
    free(copy);
    return s;
}

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
