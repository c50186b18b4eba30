/*
 * vdist.c - distance kernels: the portable reference, a portable unrolled
 * path, metric names, and the run-time choice of instruction set.
 *
 * DESIGN. The kernels in use are reached through one atomic pointer to a
 * table of function pointers. It starts NULL; the first call picks the best
 * table the CPU supports (__builtin_cpu_supports) and publishes it. Racing
 * first calls pick the same table, so the race is harmless. The SIMD bodies
 * live in vdist_avx2.c and vdist_avx512.c, compiled with function-level
 * target attributes so the rest of the library needs no -m flags.
 *
 * The reference accumulates in double, in index order: it is the yardstick,
 * not a fast path. The portable path keeps four float accumulators so the
 * compiler can overlap the additions.
 */
#include "disco/vdist.h"

#include <math.h>
#include <stdatomic.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>

#if defined(__x86_64__) || defined(__i386__)
#define VDIST_X86 1
/* Defined in vdist_avx2.c and vdist_avx512.c. */
float disco__vdist_l2sq_avx2(const float *a, const float *b, size_t d);
float disco__vdist_dot_avx2(const float *a, const float *b, size_t d);
float disco__vdist_l2sq_avx512(const float *a, const float *b, size_t d);
float disco__vdist_dot_avx512(const float *a, const float *b, size_t d);
float disco__vdist_l2sq_bounded_avx2(const float *a, const float *b, size_t d, float bound);
float disco__vdist_l2sq_bounded_avx512(const float *a, const float *b, size_t d, float bound);
float disco__vdist_u4_avx2(const float *qa, const float *step, const uint8_t *code, size_t full,
                           size_t lead);
float disco__vdist_u4_avx512(const float *qa, const float *step, const uint8_t *code, size_t full,
                             size_t lead);
#else
#define VDIST_X86 0
#endif

typedef float (*vdist_fn)(const float *restrict a, const float *restrict b, size_t d);
typedef float (*vdist_bounded_fn)(const float *restrict a, const float *restrict b, size_t d,
                                  float bound);
typedef float (*vdist_u4_fn)(const float *qa, const float *step, const uint8_t *code, size_t full,
                             size_t lead);

struct vdist_impl {
    const char *name;
    vdist_fn l2sq;
    vdist_fn dot;
    vdist_bounded_fn l2sq_bounded;
    vdist_u4_fn u4;
};

static _Atomic(const struct vdist_impl *) active_impl;

float disco_vdist_l2sq_ref(const float *restrict a, const float *restrict b, size_t d)
{
    double s = 0.0;

    for (size_t i = 0; i < d; i++) {
        double t = (double)a[i] - (double)b[i];
        s += t * t;
    }
    return (float)s;
}

float disco_vdist_dot_ref(const float *restrict a, const float *restrict b, size_t d)
{
    double s = 0.0;

    for (size_t i = 0; i < d; i++)
        s += (double)a[i] * (double)b[i];
    return (float)s;
}

float disco_vdist_u4_ref(const float *qa, const float *step, const uint8_t *code, size_t n)
{
    size_t bytes = (n + 1) / 2;
    double s = 0.0;

    for (size_t lane = 0; lane < 32 * ((n + 31) / 32); lane++) {
        size_t at = disco_vdist_u4_byte(n, lane);
        uint8_t b = at < bytes ? code[at] : 0; /* past the codes: a lane with no value */
        unsigned c = lane % 32 < 16 ? b & 15u : b >> 4;
        double t = (double)c * step[lane] + qa[lane];
        s += t * t;
    }
    return (float)s;
}

/* Adds (a - b)^2 over [i, i + 4) into four sums. */
static inline void l2_step4(const float *restrict a, const float *restrict b, size_t i, float s[4])
{
    for (size_t j = 0; j < 4; j++) {
        float t = a[i + j] - b[i + j];
        s[j] += t * t;
    }
}

/* The four sums of l2_step4 after the tail from i, in one total. */
static inline float l2_finish4(const float *restrict a, const float *restrict b, size_t i, size_t d,
                               float s[4])
{
    for (; i < d; i++) {
        float t = a[i] - b[i];
        s[0] += t * t;
    }
    return (s[0] + s[1]) + (s[2] + s[3]);
}

static float l2sq_portable(const float *restrict a, const float *restrict b, size_t d)
{
    float s[4] = {0.0f, 0.0f, 0.0f, 0.0f};
    size_t i = 0;

    for (; i + 4 <= d; i += 4)
        l2_step4(a, b, i, s);
    return l2_finish4(a, b, i, d, s);
}

static float dot_portable(const float *restrict a, const float *restrict b, size_t d)
{
    float s0 = 0.0f, s1 = 0.0f, s2 = 0.0f, s3 = 0.0f;
    size_t i = 0;

    for (; i + 4 <= d; i += 4) {
        s0 += a[i] * b[i];
        s1 += a[i + 1] * b[i + 1];
        s2 += a[i + 2] * b[i + 2];
        s3 += a[i + 3] * b[i + 3];
    }
    for (; i < d; i++)
        s0 += a[i] * b[i];
    return (s0 + s1) + (s2 + s3);
}

/* l2sq_portable's sums, looking at the total after each 64 floats. */
static float l2sq_bounded_portable(const float *restrict a, const float *restrict b, size_t d,
                                   float bound)
{
    float s[4] = {0.0f, 0.0f, 0.0f, 0.0f};
    size_t i = 0;

    for (; i + 4 <= d; i += 4) {
        l2_step4(a, b, i, s);
        if ((i + 4) % 64 == 0 && i + 4 < d && (s[0] + s[1]) + (s[2] + s[3]) > bound)
            return (s[0] + s[1]) + (s[2] + s[3]);
    }
    return l2_finish4(a, b, i, d, s);
}

/* One group: 16 bytes, two lanes each (low nibble, high nibble). */
static void u4_group(const float *qa, const float *step, const uint8_t *code, float s[4])
{
    for (size_t k = 0; k < 16; k++) {
        float lo = (float)(code[k] & 15u) * step[k] + qa[k];
        float hi = (float)(code[k] >> 4) * step[16 + k] + qa[16 + k];
        s[k & 1] += lo * lo;
        s[2 + (k & 1)] += hi * hi;
    }
}

/* `full` whole groups after `lead` bytes, then (lead > 0) the short group at byte 0. */
static float u4_portable(const float *qa, const float *step, const uint8_t *code, size_t full,
                         size_t lead)
{
    float s[4] = {0.0f, 0.0f, 0.0f, 0.0f};

    for (size_t g = 0; g < full; g++)
        u4_group(qa + 32 * g, step + 32 * g, code + lead + 16 * g, s);
    if (lead)
        u4_group(qa + 32 * full, step + 32 * full, code, s);
    return (s[0] + s[1]) + (s[2] + s[3]);
}

static const struct vdist_impl impl_portable = {"portable", l2sq_portable, dot_portable,
                                                l2sq_bounded_portable, u4_portable};
#if VDIST_X86
static const struct vdist_impl impl_avx2 = {"avx2", disco__vdist_l2sq_avx2, disco__vdist_dot_avx2,
                                            disco__vdist_l2sq_bounded_avx2, disco__vdist_u4_avx2};
static const struct vdist_impl impl_avx512 = {
    "avx512", disco__vdist_l2sq_avx512, disco__vdist_dot_avx512, disco__vdist_l2sq_bounded_avx512,
    disco__vdist_u4_avx512};
#endif

/* The table for `isa` if this CPU can run it, else NULL. */
static const struct vdist_impl *impl_for(const char *isa)
{
    if (strcmp(isa, "portable") == 0)
        return &impl_portable;
#if VDIST_X86
    __builtin_cpu_init();
    if (strcmp(isa, "avx2") == 0 && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        return &impl_avx2;
    if (strcmp(isa, "avx512") == 0 && __builtin_cpu_supports("avx512f"))
        return &impl_avx512;
#endif
    return NULL;
}

static const struct vdist_impl *impl_best(void)
{
    const struct vdist_impl *impl = impl_for("avx512");

    if (impl == NULL)
        impl = impl_for("avx2");
    return impl != NULL ? impl : &impl_portable;
}

static const struct vdist_impl *impl_get(void)
{
    const struct vdist_impl *impl = atomic_load_explicit(&active_impl, memory_order_acquire);

    if (impl == NULL) {
        impl = impl_best();
        atomic_store_explicit(&active_impl, impl, memory_order_release);
    }
    return impl;
}

float disco_vdist_l2sq(const float *a, const float *b, size_t d)
{
    return impl_get()->l2sq(a, b, d);
}

float disco_vdist_l2sq_bounded(const float *a, const float *b, size_t d, float bound)
{
    return impl_get()->l2sq_bounded(a, b, d, bound);
}

/*
 * The kernels read 16 bytes a group. With fewer than 32 values the one
 * short group is all there is, so it is copied out first.
 */
float disco_vdist_u4(const float *qa, const float *step, const uint8_t *code, size_t n)
{
    size_t full = n / 32, lead = (n % 32 + 1) / 2;

    if (full == 0) {
        uint8_t one[16] = {0};
        for (size_t i = 0; i < lead; i++)
            one[i] = code[i];
        return impl_get()->u4(qa, step, one, 0, lead);
    }
    return impl_get()->u4(qa, step, code, full, lead);
}

float disco_vdist_dot(const float *a, const float *b, size_t d)
{
    return impl_get()->dot(a, b, d);
}

float disco_vdist(disco_vmetric m, const float *a, const float *b, size_t d)
{
    switch (m) {
    case DISCO_VMETRIC_COSINE:
        return 1.0f - impl_get()->dot(a, b, d);
    case DISCO_VMETRIC_L2:
        return impl_get()->l2sq(a, b, d);
    case DISCO_VMETRIC_IP:
        return -impl_get()->dot(a, b, d);
    }
    return NAN;
}

float disco_vdist_normalize(float *v, size_t d)
{
    double ss = 0.0, norm;

    for (size_t i = 0; i < d; i++)
        ss += (double)v[i] * (double)v[i];
    norm = sqrt(ss);
    if (!(norm > 0.0))
        return 0.0f; /* zero or NaN */
    if (!isfinite(norm))
        return (float)norm;
    for (size_t i = 0; i < d; i++)
        v[i] = (float)((double)v[i] / norm);
    return (float)norm;
}

const char *disco_vdist_isa(void)
{
    return impl_get()->name;
}

int disco_vdist_force_isa(const char *isa)
{
    const struct vdist_impl *impl;

    if (isa == NULL || strcmp(isa, "auto") == 0)
        impl = impl_best();
    else
        impl = impl_for(isa);
    if (impl == NULL)
        return -1;
    atomic_store_explicit(&active_impl, impl, memory_order_release);
    return 0;
}

int disco_vmetric_parse(const char *name)
{
    if (name == NULL)
        return -1;
    if (strcasecmp(name, "cosine") == 0)
        return DISCO_VMETRIC_COSINE;
    if (strcasecmp(name, "l2") == 0)
        return DISCO_VMETRIC_L2;
    if (strcasecmp(name, "ip") == 0 || strcasecmp(name, "inner_product") == 0 ||
        strcasecmp(name, "dot") == 0)
        return DISCO_VMETRIC_IP;
    return -1;
}

const char *disco_vmetric_name(disco_vmetric m)
{
    switch (m) {
    case DISCO_VMETRIC_COSINE:
        return "cosine";
    case DISCO_VMETRIC_L2:
        return "l2";
    case DISCO_VMETRIC_IP:
        return "ip";
    }
    return "unknown";
}
