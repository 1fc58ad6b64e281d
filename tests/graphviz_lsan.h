/* Graphviz 2.43's dot layout (virtual edges of clusters) and fontconfig
 * keep allocations they never free, and so does Open MPI past
 * MPI_Finalize (its components, PMIx, hwloc); LeakSanitizer reads this
 * hook, so the sanitizer build reports our leaks and not theirs (the same
 * list as tools/nngraph.c). Open MPI's components are unloaded at
 * MPI_Finalize and have no frame pointers: the MPI tests run with
 * ASAN_OPTIONS=fast_unwind_on_malloc=0, so that a leak's stack reaches the
 * libmpi frame that called them. Included by exactly one file of each test
 * program that renders or runs under mpirun. */
#ifndef NN_GRAPHVIZ_LSAN_H
#define NN_GRAPHVIZ_LSAN_H
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void) {
    return "leak:libgvplugin_dot_layout.so\n"
           "leak:libfontconfig.so\n"
           "leak:libpango\n"
           "leak:libcairo\n"
           "leak:libgvplugin_pango.so\n"
           /* without frame pointers in libgvc the unwinder stops at
            * Graphviz's own allocator; nngraph never calls it directly */
           "leak:gmalloc\n"
           "leak:grealloc\n"
           "leak:libmpi.so\nleak:libopen-pal.so\nleak:libopen-rte.so\nleak:libpmix.so\nleak:libhwloc.so\n"
           "leak:libevent\nleak:/openmpi/\nleak:libmpich.so\n";
}
#endif
