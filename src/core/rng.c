/* Seeded random numbers (xoshiro256**, seeded by splitmix64) and the
 * parameter initialisers built on them. */
#include "internal.h"

#include <math.h>
#include <string.h>

static uint64_t splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void nn_rng_seed(nn_rng *r, uint64_t seed) {
    for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&seed);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t nn_rng_u64(nn_rng *r) {
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double nn_rng_uniform(nn_rng *r) { return (double)(nn_rng_u64(r) >> 11) * 0x1.0p-53; }

double nn_rng_normal(nn_rng *r) {
    /* Box-Muller; 1 - u keeps the log's argument in (0,1] */
    double u = 1.0 - nn_rng_uniform(r), v = nn_rng_uniform(r);
    return sqrt(-2.0 * log(u)) * cos(2.0 * M_PI * v);
}

uint64_t nn_rng_below(nn_rng *r, uint64_t n) {
    if (n == 0) return 0;
    /* rejection keeps the result unbiased */
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t x;
    do x = nn_rng_u64(r);
    while (x >= limit);
    return x % n;
}

void nn_rng_shuffle(nn_rng *r, int64_t *idx, int64_t n) {
    for (int64_t i = n - 1; i > 0; i--) {
        int64_t j = (int64_t)nn_rng_below(r, (uint64_t)i + 1);
        int64_t t = idx[i];
        idx[i] = idx[j];
        idx[j] = t;
    }
}

static const char *init_names[] = {"zeros", "ones", "constant", "uniform", "normal", "glorot_uniform", "he_normal",
                                   "glorot_normal", "he_uniform", "lecun_normal"};

const char *nn_init_name(nn_init_kind k) {
    if ((unsigned)k >= sizeof init_names / sizeof *init_names) return "unknown";
    return init_names[k];
}

int nn_init_from_name(const char *name) {
    for (int i = 0; i < (int)(sizeof init_names / sizeof *init_names); i++)
        if (name && strcmp(name, init_names[i]) == 0) return i;
    return -1;
}

/* Keras's variance-scaling normals: a normal truncated at two standard
 * deviations, its std corrected (0.8796...) so the variance stays `var`. */
static void truncated_normal(float *x, int64_t n, double var, nn_rng *rng) {
    double std = sqrt(var) / 0.87962566103423978;
    for (int64_t i = 0; i < n; i++) {
        double z;
        do z = nn_rng_normal(rng);
        while (fabs(z) > 2.0);
        x[i] = (float)(std * z);
    }
}

nn_status nn_tensor_init(nn_tensor *t, nn_init init, nn_rng *rng) {
    if (!t || t->dtype != NN_F32 || !rng) return NN_ERR_ARG;
    float *x = t->data;
    int64_t n = t->size;
    double fan_in = t->shape.rank >= 1 ? (double)t->shape.dim[0] : 1.0;
    double fan_out = t->shape.rank >= 2 ? (double)t->shape.dim[1] : fan_in;
    if (t->shape.rank == 4) {
        /* a convolution kernel [out, in/groups, kh, kw]: every output
         * element sums in*kh*kw products, as in Keras and PyTorch */
        double field = (double)t->shape.dim[2] * (double)t->shape.dim[3];
        fan_in = (double)t->shape.dim[1] * field;
        fan_out = (double)t->shape.dim[0] * field;
    }
    switch (init.kind) {
    case NN_INIT_ZEROS: memset(x, 0, (size_t)n * sizeof *x); break;
    case NN_INIT_ONES:
        for (int64_t i = 0; i < n; i++) x[i] = 1.f;
        break;
    case NN_INIT_CONSTANT:
        for (int64_t i = 0; i < n; i++) x[i] = init.a;
        break;
    case NN_INIT_UNIFORM:
        for (int64_t i = 0; i < n; i++) x[i] = (float)(init.a + (init.b - init.a) * nn_rng_uniform(rng));
        break;
    case NN_INIT_NORMAL:
        for (int64_t i = 0; i < n; i++) x[i] = (float)(init.a + init.b * nn_rng_normal(rng));
        break;
    case NN_INIT_GLOROT_UNIFORM: {
        double limit = sqrt(6.0 / (fan_in + fan_out));
        for (int64_t i = 0; i < n; i++) x[i] = (float)(limit * (2.0 * nn_rng_uniform(rng) - 1.0));
        break;
    }
    case NN_INIT_HE_NORMAL: truncated_normal(x, n, 2.0 / fan_in, rng); break;
    case NN_INIT_GLOROT_NORMAL: truncated_normal(x, n, 2.0 / (fan_in + fan_out), rng); break;
    case NN_INIT_LECUN_NORMAL: truncated_normal(x, n, 1.0 / fan_in, rng); break;
    case NN_INIT_HE_UNIFORM: {
        double limit = sqrt(6.0 / fan_in);
        for (int64_t i = 0; i < n; i++) x[i] = (float)(limit * (2.0 * nn_rng_uniform(rng) - 1.0));
        break;
    }
    default: return NN_ERR_ARG;
    }
    return NN_OK;
}
