/* The register tiles of nngraph's own product (gemm_ukernel.h). Each
 * kernel body is written once as an always-inline function of the tile's
 * row count and vector count, and instantiated for every row count by a
 * switch, so that the accumulators of each instance are named registers
 * (the loops over rows unroll completely). */
#include "gemm_ukernel.h"

#include <stddef.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>

#define AVX512 __attribute__((target("avx512f,avx2,fma")))
#define AVX2 __attribute__((target("avx2,fma")))
#define INLINE static inline __attribute__((always_inline))

/* AVX-512: 8 rows by 2 vectors of 16 columns, 16 accumulators; nv = 1
 * when the tile's columns fit one vector (the second would be wasted). */
/* The accumulators are named variables, not arrays: GCC keeps an array
 * of vectors in memory through the loop (a store per accumulator and
 * term), which halves the speed. EACH8(X) applies X to rows 0..7, each
 * under `if (mr > r)`, folded away once mr is a constant. */
#define EACH8(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7)

INLINE AVX512 void tile512(const int mr, const int nv, const nn_ukr_args *u) {
    const unsigned nr = (unsigned)u->nr;
    const __mmask16 m0 = nr >= 16 ? 0xFFFF : (__mmask16)((1u << nr) - 1);
    const __mmask16 m1 = nr >= 32 ? 0xFFFF : nr > 16 ? (__mmask16)((1u << (nr - 16)) - 1) : 0;
    float *c = u->c;
    const int64_t ldc = u->ldc;
#define DECL(r) __m512 x##r = _mm512_setzero_ps(), y##r = _mm512_setzero_ps();
    EACH8(DECL)
#undef DECL
    if (u->load_c) {
#define LOADC(r)                                                                                                       \
    if (mr > r) {                                                                                                      \
        x##r = _mm512_maskz_loadu_ps(m0, c + r * ldc);                                                                 \
        if (nv > 1) y##r = _mm512_maskz_loadu_ps(m1, c + r * ldc + 16);                                                \
    }
        EACH8(LOADC)
#undef LOADC
    }
    const float *a = u->a, *b = u->b;
    const int64_t rsa = u->rsa, csa = u->csa, ldb = u->ldb, kc = u->kc;
    for (int64_t k = 0; k < kc; k++) {
        __m512 b0 = _mm512_maskz_loadu_ps(m0, b);
        __m512 b1 = nv > 1 ? _mm512_maskz_loadu_ps(m1, b + 16) : b0;
#define FMA(r)                                                                                                         \
    if (mr > r) {                                                                                                      \
        __m512 av = _mm512_set1_ps(a[r * rsa]);                                                                        \
        x##r = _mm512_fmadd_ps(av, b0, x##r);                                                                          \
        if (nv > 1) y##r = _mm512_fmadd_ps(av, b1, y##r);                                                              \
    }
        EACH8(FMA)
#undef FMA
        a += csa;
        b += ldb;
    }
    if (u->bias) {
        __m512 bb0 = _mm512_maskz_loadu_ps(m0, u->bias), bb1 = nv > 1 ? _mm512_maskz_loadu_ps(m1, u->bias + 16) : bb0;
#define BIAS(r)                                                                                                        \
    if (mr > r) {                                                                                                      \
        x##r = _mm512_add_ps(x##r, bb0);                                                                               \
        if (nv > 1) y##r = _mm512_add_ps(y##r, bb1);                                                                   \
    }
        EACH8(BIAS)
#undef BIAS
    }
    if (u->relu) {
        /* max returns its second operand for NaN and for -0 against +0,
         * so this is exactly relu's y > 0 ? y : 0 */
        __m512 z = _mm512_setzero_ps();
#define RELU(r)                                                                                                        \
    if (mr > r) {                                                                                                      \
        x##r = _mm512_max_ps(x##r, z);                                                                                 \
        if (nv > 1) y##r = _mm512_max_ps(y##r, z);                                                                     \
    }
        EACH8(RELU)
#undef RELU
    }
    if (u->gate) {
        /* relu_grad's select: the product where the gate is positive */
        const __m512 z = _mm512_setzero_ps();
        const float *g = u->gate;
        const int64_t ldg = u->ldg;
#define GATE(r)                                                                                                        \
    if (mr > r) {                                                                                                      \
        x##r = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(_mm512_maskz_loadu_ps(m0, g + r * ldg), z, _CMP_GT_OQ), x##r);   \
        if (nv > 1)                                                                                                    \
            y##r = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(_mm512_maskz_loadu_ps(m1, g + r * ldg + 16), z, _CMP_GT_OQ), \
                                       y##r);                                                                          \
    }
        EACH8(GATE)
#undef GATE
    }
#define STORE(r)                                                                                                       \
    if (mr > r) {                                                                                                      \
        _mm512_mask_storeu_ps(c + r * ldc, m0, x##r);                                                                  \
        if (nv > 1) _mm512_mask_storeu_ps(c + r * ldc + 16, m1, y##r);                                                 \
    }
    EACH8(STORE)
#undef STORE
}

#define ROWS_SWITCH(body, nv, u)                                                                                       \
    switch ((u)->mr) {                                                                                                 \
    case 1: body(1, nv, u); break;                                                                                     \
    case 2: body(2, nv, u); break;                                                                                     \
    case 3: body(3, nv, u); break;                                                                                     \
    case 4: body(4, nv, u); break;                                                                                     \
    case 5: body(5, nv, u); break;                                                                                     \
    case 6: body(6, nv, u); break;                                                                                     \
    case 7: body(7, nv, u); break;                                                                                     \
    default: body(8, nv, u); break;                                                                                    \
    }

static AVX512 void tile512_any(const nn_ukr_args *u) {
    if (u->nr <= 16) {
        ROWS_SWITCH(tile512, 1, u)
    } else {
        ROWS_SWITCH(tile512, 2, u)
    }
}

/* AVX2: 6 rows by 2 vectors of 8 columns, 12 of the 16 registers; edge
 * columns through masked loads and stores. */
static const int32_t mask_src[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};

#define EACH6(X) X(0) X(1) X(2) X(3) X(4) X(5)

INLINE AVX2 void tile256(const int mr, const int nv, const nn_ukr_args *u) {
    const int nr = u->nr;
    const __m256i m0 = _mm256_loadu_si256((const __m256i *)(mask_src + 8 - (nr >= 8 ? 8 : nr)));
    const __m256i m1 = _mm256_loadu_si256((const __m256i *)(mask_src + 8 - (nr >= 16 ? 8 : nr > 8 ? nr - 8 : 0)));
    const int full = nr == 8 * nv;
    float *c = u->c;
    const int64_t ldc = u->ldc;
#define DECL(r) __m256 x##r = _mm256_setzero_ps(), y##r = _mm256_setzero_ps();
    EACH6(DECL)
#undef DECL
    if (u->load_c) {
#define LOADC(r)                                                                                                       \
    if (mr > r) {                                                                                                      \
        x##r = _mm256_maskload_ps(c + r * ldc, m0);                                                                    \
        if (nv > 1) y##r = _mm256_maskload_ps(c + r * ldc + 8, m1);                                                    \
    }
        EACH6(LOADC)
#undef LOADC
    }
    const float *a = u->a, *b = u->b;
    const int64_t rsa = u->rsa, csa = u->csa, ldb = u->ldb, kc = u->kc;
    for (int64_t k = 0; k < kc; k++) {
        __m256 b0, b1;
        if (full) {
            b0 = _mm256_loadu_ps(b);
            b1 = nv > 1 ? _mm256_loadu_ps(b + 8) : b0;
        } else {
            b0 = _mm256_maskload_ps(b, m0);
            b1 = nv > 1 ? _mm256_maskload_ps(b + 8, m1) : b0;
        }
#define FMA(r)                                                                                                         \
    if (mr > r) {                                                                                                      \
        __m256 av = _mm256_broadcast_ss(a + r * rsa);                                                                  \
        x##r = _mm256_fmadd_ps(av, b0, x##r);                                                                          \
        if (nv > 1) y##r = _mm256_fmadd_ps(av, b1, y##r);                                                              \
    }
        EACH6(FMA)
#undef FMA
        a += csa;
        b += ldb;
    }
    if (u->bias) {
        __m256 bb0 = _mm256_maskload_ps(u->bias, m0), bb1 = nv > 1 ? _mm256_maskload_ps(u->bias + 8, m1) : bb0;
#define BIAS(r)                                                                                                        \
    if (mr > r) {                                                                                                      \
        x##r = _mm256_add_ps(x##r, bb0);                                                                               \
        if (nv > 1) y##r = _mm256_add_ps(y##r, bb1);                                                                   \
    }
        EACH6(BIAS)
#undef BIAS
    }
    if (u->relu) {
        __m256 z = _mm256_setzero_ps();
#define RELU(r)                                                                                                        \
    if (mr > r) {                                                                                                      \
        x##r = _mm256_max_ps(x##r, z);                                                                                 \
        if (nv > 1) y##r = _mm256_max_ps(y##r, z);                                                                     \
    }
        EACH6(RELU)
#undef RELU
    }
    if (u->gate) {
        const __m256 z = _mm256_setzero_ps();
        const float *g = u->gate;
        const int64_t ldg = u->ldg;
#define GATE(r)                                                                                                        \
    if (mr > r) {                                                                                                      \
        x##r = _mm256_and_ps(x##r, _mm256_cmp_ps(_mm256_maskload_ps(g + r * ldg, m0), z, _CMP_GT_OQ));                 \
        if (nv > 1) y##r = _mm256_and_ps(y##r, _mm256_cmp_ps(_mm256_maskload_ps(g + r * ldg + 8, m1), z, _CMP_GT_OQ)); \
    }
        EACH6(GATE)
#undef GATE
    }
#define STORE(r)                                                                                                       \
    if (mr > r) {                                                                                                      \
        _mm256_maskstore_ps(c + r * ldc, m0, x##r);                                                                    \
        if (nv > 1) _mm256_maskstore_ps(c + r * ldc + 8, m1, y##r);                                                    \
    }
    EACH6(STORE)
#undef STORE
}

#define ROWS_SWITCH6(body, nv, u)                                                                                      \
    switch ((u)->mr) {                                                                                                 \
    case 1: body(1, nv, u); break;                                                                                     \
    case 2: body(2, nv, u); break;                                                                                     \
    case 3: body(3, nv, u); break;                                                                                     \
    case 4: body(4, nv, u); break;                                                                                     \
    case 5: body(5, nv, u); break;                                                                                     \
    default: body(6, nv, u); break;                                                                                    \
    }

static AVX2 void tile256_any(const nn_ukr_args *u) {
    if (u->nr <= 8) {
        ROWS_SWITCH6(tile256, 1, u)
    } else {
        ROWS_SWITCH6(tile256, 2, u)
    }
}

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
