/* Graphviz 2.43's dot layout (virtual edges of clusters) and fontconfig
 * keep allocations they never free; LeakSanitizer reads this hook, so the
 * sanitizer build reports our leaks and not theirs (the same list as
 * tools/nngraph.c). Included by exactly
 * one file of each test program that renders. */
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
           "leak:grealloc\n";
}
#endif
