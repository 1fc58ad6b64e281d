/* The body of one register tile, a template: gemm_ukernel.c includes this
 * once per instruction set (so no include guard). The includer defines:
 *   TILE, TILE_ANY  the names of the body and of its entry point
 *   TARGET          the target attribute
 *   V, MASK         the vector and the column-mask types; LANES floats a vector
 *   EACH(X)         X(r) for every row r of the tile (its MR)
 *   ROWS_SWITCH(nv) TILE(mr, nv, u) for u->mr as a constant
 *   MASKS(nr, m0, m1)     the masks of a tile of nr columns
 *   VZERO() VBCAST(p) VLOAD(p, m) VFULL(p) VSTORE(p, m, x)
 *   VFMA(a, b, c) VADD(a, b) VMAX(a, b) VGATE(x, g)   (g > 0 ? x : 0)
 * Accumulators are named variables, not arrays: GCC keeps an array of
 * vectors in memory through the loop (a store per accumulator and term),
 * which halves the speed. EACH applies a step to every row under
 * `if (mr > r)`, folded away once mr is a constant. */

INLINE TARGET void TILE(const int mr, const int nv, const nn_ukr_args *u) {
    MASK m0, m1;
    MASKS(u->nr, m0, m1);
    const int full = u->nr == LANES * nv;
    float *c = u->c;
    const int64_t ldc = u->ldc;
#define DECL(r) V x##r = VZERO(), y##r = VZERO();
    EACH(DECL)
#undef DECL
    if (u->load_c) {
#define LOADC(r)                                                                                                       \
    if (mr > r) {                                                                                                      \
        x##r = VLOAD(c + r * ldc, m0);                                                                                 \
        if (nv > 1) y##r = VLOAD(c + r * ldc + LANES, m1);                                                             \
    }
        EACH(LOADC)
#undef LOADC
    }
    const float *a = u->a, *b = u->b;
    const int64_t rsa = u->rsa, csa = u->csa, ldb = u->ldb, kc = u->kc;
    for (int64_t k = 0; k < kc; k++) {
        V b0 = full ? VFULL(b) : VLOAD(b, m0);
        V b1 = nv == 1 ? b0 : full ? VFULL(b + LANES) : VLOAD(b + LANES, m1);
#define FMA(r)                                                                                                         \
    if (mr > r) {                                                                                                      \
        V av = VBCAST(a + r * rsa);                                                                                    \
        x##r = VFMA(av, b0, x##r);                                                                                     \
        if (nv > 1) y##r = VFMA(av, b1, y##r);                                                                         \
    }
        EACH(FMA)
#undef FMA
        a += csa;
        b += ldb;
    }
    if (u->bias) {
        V bb0 = VLOAD(u->bias, m0), bb1 = nv > 1 ? VLOAD(u->bias + LANES, m1) : bb0;
#define BIAS(r)                                                                                                        \
    if (mr > r) {                                                                                                      \
        x##r = VADD(x##r, bb0);                                                                                        \
        if (nv > 1) y##r = VADD(y##r, bb1);                                                                            \
    }
        EACH(BIAS)
#undef BIAS
    }
    if (u->relu) {
        /* max(a, b) is a > b ? a : b, so max(0, y) is exactly relu's
         * y < 0 ? 0 : y: NaN stays NaN and -0 stays -0 */
        const V z = VZERO();
#define RELU(r)                                                                                                        \
    if (mr > r) {                                                                                                      \
        x##r = VMAX(z, x##r);                                                                                          \
        if (nv > 1) y##r = VMAX(z, y##r);                                                                              \
    }
        EACH(RELU)
#undef RELU
    }
    if (u->gate) {
        /* relu_grad's select: the product where the gate is positive */
        const float *g = u->gate;
        const int64_t ldg = u->ldg;
#define GATE(r)                                                                                                        \
    if (mr > r) {                                                                                                      \
        x##r = VGATE(x##r, VLOAD(g + r * ldg, m0));                                                                    \
        if (nv > 1) y##r = VGATE(y##r, VLOAD(g + r * ldg + LANES, m1));                                                \
    }
        EACH(GATE)
#undef GATE
    }
#define STORE(r)                                                                                                       \
    if (mr > r) {                                                                                                      \
        VSTORE(c + r * ldc, m0, x##r);                                                                                 \
        if (nv > 1) VSTORE(c + r * ldc + LANES, m1, y##r);                                                             \
    }
    EACH(STORE)
#undef STORE
}

static TARGET void TILE_ANY(const nn_ukr_args *u) {
    if (u->nr <= LANES) {
        ROWS_SWITCH(1)
    } else {
        ROWS_SWITCH(2)
    }
}
