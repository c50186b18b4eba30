/*
 * vdist_avx2.c - squared L2 and dot product with AVX2 and FMA.
 *
 * Compiled for any x86 target: each function carries
 * target("avx2,fma"), and vdist.c calls them only after
 * __builtin_cpu_supports() said yes. Four accumulators of 8 lanes take 32
 * floats per step so consecutive FMAs do not wait on each other; an 8-lane
 * loop and a masked load finish any d without reading past the end.
 */
#include <stddef.h>
#include <stdint.h>

#if defined(__x86_64__) || defined(__i386__)

#include <immintrin.h>
#include <stdint.h>

#define AVX2 __attribute__((target("avx2,fma")))

float disco__vdist_l2sq_avx2(const float *a, const float *b, size_t d);
float disco__vdist_dot_avx2(const float *a, const float *b, size_t d);
float disco__vdist_l2sq_bounded_avx2(const float *a, const float *b, size_t d, float bound);
float disco__vdist_u4_avx2(const float *qa, const float *step, const uint8_t *code, size_t full,
                           size_t lead);

AVX2 static inline float hsum256(__m256 v)
{
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));

    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/* Lanes 0..r-1 set, for the last r (< 8) elements. */
AVX2 static inline __m256i tail_mask(size_t r)
{
    __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);

    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int32_t)r), lane);
}

/* Four 8-lane sums of squared differences. */
typedef struct l2acc {
    __m256 s0, s1, s2, s3;
} l2acc;

/* Adds floats i..i+31 of (a - b)^2 into the four sums. */
AVX2 static inline void l2_step(const float *restrict a, const float *restrict b, size_t i,
                                l2acc *s)
{
    __m256 t0 = _mm256_sub_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i));
    __m256 t1 = _mm256_sub_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8));
    __m256 t2 = _mm256_sub_ps(_mm256_loadu_ps(a + i + 16), _mm256_loadu_ps(b + i + 16));
    __m256 t3 = _mm256_sub_ps(_mm256_loadu_ps(a + i + 24), _mm256_loadu_ps(b + i + 24));

    s->s0 = _mm256_fmadd_ps(t0, t0, s->s0);
    s->s1 = _mm256_fmadd_ps(t1, t1, s->s1);
    s->s2 = _mm256_fmadd_ps(t2, t2, s->s2);
    s->s3 = _mm256_fmadd_ps(t3, t3, s->s3);
}

AVX2 static inline float l2_total(const l2acc *s)
{
    return hsum256(_mm256_add_ps(_mm256_add_ps(s->s0, s->s1), _mm256_add_ps(s->s2, s->s3)));
}

/* Adds floats i..d-1 (fewer than 32) and returns the whole sum. */
AVX2 static inline float l2_finish(const float *restrict a, const float *restrict b, size_t i,
                                   size_t d, l2acc *s)
{
    for (; i + 8 <= d; i += 8) {
        __m256 t = _mm256_sub_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i));
        s->s0 = _mm256_fmadd_ps(t, t, s->s0);
    }
    if (i < d) {
        __m256i m = tail_mask(d - i);
        __m256 t = _mm256_sub_ps(_mm256_maskload_ps(a + i, m), _mm256_maskload_ps(b + i, m));
        s->s1 = _mm256_fmadd_ps(t, t, s->s1);
    }
    return l2_total(s);
}

AVX2 float disco__vdist_l2sq_avx2(const float *restrict a, const float *restrict b, size_t d)
{
    l2acc s = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
    size_t i = 0;

    for (; i + 32 <= d; i += 32)
        l2_step(a, b, i, &s);
    return l2_finish(a, b, i, d, &s);
}

/*
 * The same sums in the same order as disco__vdist_l2sq_avx2, looking at the
 * running total after each 64 floats: past `bound` it returns that partial
 * sum (a value above bound) without reading the rest.
 */
AVX2 float disco__vdist_l2sq_bounded_avx2(const float *restrict a, const float *restrict b,
                                          size_t d, float bound)
{
    l2acc s = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
    size_t i = 0;

    for (; i + 32 <= d; i += 32) {
        l2_step(a, b, i, &s);
        if ((i + 32) % 64 == 0 && i + 32 < d) {
            float p = l2_total(&s);
            if (p > bound)
                return p;
        }
    }
    return l2_finish(a, b, i, d, &s);
}

AVX2 float disco__vdist_dot_avx2(const float *restrict a, const float *restrict b, size_t d)
{
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
    __m256 s2 = _mm256_setzero_ps(), s3 = _mm256_setzero_ps();
    size_t i = 0;

    for (; i + 32 <= d; i += 32) {
        s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
        s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), s1);
        s2 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 16), _mm256_loadu_ps(b + i + 16), s2);
        s3 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 24), _mm256_loadu_ps(b + i + 24), s3);
    }
    for (; i + 8 <= d; i += 8)
        s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
    if (i < d) {
        __m256i m = tail_mask(d - i);
        s1 = _mm256_fmadd_ps(_mm256_maskload_ps(a + i, m), _mm256_maskload_ps(b + i, m), s1);
    }
    return hsum256(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
}

/* Lanes k..k+7 of a group from 8 code values (one nibble each, as bytes). */
AVX2 static inline __m256 u4_lanes(__m128i bytes, const float *step, const float *qa, __m256 acc)
{
    __m256 c = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(bytes));
    __m256 t = _mm256_fmadd_ps(c, _mm256_loadu_ps(step), _mm256_loadu_ps(qa));

    return _mm256_fmadd_ps(t, t, acc);
}

/* One group: 16 code bytes, low nibbles to lanes 0..15, high ones to 16..31. */
AVX2 static inline void u4_group(const float *qa, const float *step, const uint8_t *code,
                                 __m256 *s0, __m256 *s1)
{
    const __m128i nib = _mm_set1_epi8(15);
    __m128i b = _mm_loadu_si128((const __m128i *)(const void *)code);
    __m128i lo = _mm_and_si128(b, nib), hi = _mm_and_si128(_mm_srli_epi16(b, 4), nib);

    *s0 = u4_lanes(lo, step, qa, *s0);
    *s1 = u4_lanes(_mm_srli_si128(lo, 8), step + 8, qa + 8, *s1);
    *s0 = u4_lanes(hi, step + 16, qa + 16, *s0);
    *s1 = u4_lanes(_mm_srli_si128(hi, 8), step + 24, qa + 24, *s1);
}

/* `full` whole groups after `lead` bytes, then (lead > 0) the short group at byte 0. */
AVX2 float disco__vdist_u4_avx2(const float *qa, const float *step, const uint8_t *code,
                                size_t full, size_t lead)
{
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();

    for (size_t g = 0; g < full; g++)
        u4_group(qa + 32 * g, step + 32 * g, code + lead + 16 * g, &s0, &s1);
    if (lead)
        u4_group(qa + 32 * full, step + 32 * full, code, &s0, &s1);
    return hsum256(_mm256_add_ps(s0, s1));
}

#else

/* Not an x86 target: nothing to compile here (C11 wants a declaration). */
typedef int disco__vdist_avx2_unused;

#endif
