/* Open MPI keeps allocations past MPI_Finalize (its components, PMIx,
 * hwloc); LeakSanitizer reads this hook, so the sanitizer build reports our
 * leaks and not theirs. Its components are unloaded at MPI_Finalize and
 * have no frame pointers: the MPI tests run with
 * ASAN_OPTIONS=fast_unwind_on_malloc=0 so that a leak's stack reaches the
 * libmpi frame that called them.
 * Included by exactly one file of each MPI program (the same list as
 * tools/nngraph.c). */
#ifndef NN_MPI_LSAN_H
#define NN_MPI_LSAN_H
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void) {
    return "leak:libmpi.so\n"
           "leak:libopen-pal.so\n"
           "leak:libopen-rte.so\n"
           "leak:libpmix.so\n"
           "leak:libhwloc.so\n"
           "leak:libevent\n"
           "leak:/openmpi/\n"
           "leak:libmpich.so\n";
}
#endif
