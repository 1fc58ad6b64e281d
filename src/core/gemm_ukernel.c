/* The register tiles of nngraph's own product (gemm_ukernel.h). The
 * tile's body is written once (gemm_tile.h) as an always-inline
 * function of the tile's row count and vector count, instantiated here
 * for AVX-512 and for AVX2, and for every row count by a switch, so that
 * the accumulators of each instance are named registers. */
#include "gemm_ukernel.h"

#include <stddef.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>

#define INLINE static inline __attribute__((always_inline))
#define CASE(n, nv)                                                                                                    \
    case n: TILE(n, nv, u); break;

/* AVX-512: 8 rows by 2 vectors of 16 columns, 16 accumulators; one
 * vector when the tile's columns fit it (the second would be wasted).
 * Edge columns through masked loads and stores. */
#define TILE tile512
#define TILE_ANY tile512_any
#define TARGET __attribute__((target("avx512f,avx2,fma")))
#define V __m512
#define MASK __mmask16
#define LANES 16
#define EACH(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7)
#define ROWS_SWITCH(nv)                                                                                                \
    switch (u->mr) {                                                                                                   \
        CASE(1, nv) CASE(2, nv) CASE(3, nv) CASE(4, nv) CASE(5, nv) CASE(6, nv) CASE(7, nv) default : TILE(8, nv, u); \
    }
#define MASKS(nr, m0, m1)                                                                                              \
    do {                                                                                                               \
        unsigned n_ = (unsigned)(nr);                                                                                  \
        m0 = n_ >= 16 ? 0xFFFF : (__mmask16)((1u << n_) - 1);                                                          \
        m1 = n_ >= 32 ? 0xFFFF : n_ > 16 ? (__mmask16)((1u << (n_ - 16)) - 1) : 0;                                     \
    } while (0)
#define VZERO() _mm512_setzero_ps()
#define VBCAST(p) _mm512_set1_ps(*(p))
#define VLOAD(p, m) _mm512_maskz_loadu_ps(m, p)
#define VFULL(p) _mm512_loadu_ps(p)
#define VSTORE(p, m, x) _mm512_mask_storeu_ps(p, m, x)
#define VFMA(a, b, c) _mm512_fmadd_ps(a, b, c)
#define VADD(a, b) _mm512_add_ps(a, b)
#define VMAX(a, b) _mm512_max_ps(a, b)
#define VGATE(x, g) _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(g, _mm512_setzero_ps(), _CMP_GT_OQ), x)
#include "gemm_tile.h"
#undef TILE
#undef TILE_ANY
#undef TARGET
#undef V
#undef MASK
#undef LANES
#undef EACH
#undef ROWS_SWITCH
#undef MASKS
#undef VZERO
#undef VBCAST
#undef VLOAD
#undef VFULL
#undef VSTORE
#undef VFMA
#undef VADD
#undef VMAX
#undef VGATE

/* AVX2: 6 rows by 2 vectors of 8 columns, 12 of the 16 registers. */
static const int32_t mask_src[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};

#define TILE tile256
#define TILE_ANY tile256_any
#define TARGET __attribute__((target("avx2,fma")))
#define V __m256
#define MASK __m256i
#define LANES 8
#define EACH(X) X(0) X(1) X(2) X(3) X(4) X(5)
#define ROWS_SWITCH(nv)                                                                                                \
    switch (u->mr) {                                                                                                   \
        CASE(1, nv) CASE(2, nv) CASE(3, nv) CASE(4, nv) CASE(5, nv) default : TILE(6, nv, u);                          \
    }
#define MASKS(nr, m0, m1)                                                                                              \
    do {                                                                                                               \
        int n_ = (nr);                                                                                                 \
        m0 = _mm256_loadu_si256((const __m256i *)(mask_src + 8 - (n_ >= 8 ? 8 : n_)));                                 \
        m1 = _mm256_loadu_si256((const __m256i *)(mask_src + 8 - (n_ >= 16 ? 8 : n_ > 8 ? n_ - 8 : 0)));               \
    } while (0)
#define VZERO() _mm256_setzero_ps()
#define VBCAST(p) _mm256_broadcast_ss(p)
#define VLOAD(p, m) _mm256_maskload_ps(p, m)
#define VFULL(p) _mm256_loadu_ps(p)
#define VSTORE(p, m, x) _mm256_maskstore_ps(p, m, x)
#define VFMA(a, b, c) _mm256_fmadd_ps(a, b, c)
#define VADD(a, b) _mm256_add_ps(a, b)
#define VMAX(a, b) _mm256_max_ps(a, b)
#define VGATE(x, g) _mm256_and_ps(x, _mm256_cmp_ps(g, _mm256_setzero_ps(), _CMP_GT_OQ))
#include "gemm_tile.h"

static const nn_ukernel k512 = {"avx512", 8, 32, tile512_any};
static const nn_ukernel k256 = {"avx2", 6, 16, tile256_any};

const nn_ukernel *nn_ukernel_avx2(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") ? &k256 : NULL;
}

const nn_ukernel *nn_ukernel_best(void) {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) return &k512;
    return nn_ukernel_avx2();
}

#else
const nn_ukernel *nn_ukernel_avx2(void) { return NULL; }
const nn_ukernel *nn_ukernel_best(void) { return NULL; }
#endif
