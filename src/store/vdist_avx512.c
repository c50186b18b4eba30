/*
 * vdist_avx512.c - squared L2 and dot product with AVX-512F.
 *
 * Each function carries target("avx512f"); vdist.c calls them only after
 * __builtin_cpu_supports("avx512f"). Four accumulators of 16 lanes take 64
 * floats per step; a 16-lane loop and one masked load (which never touches
 * memory past the end) finish any d.
 */
#include <stddef.h>
#include <stdint.h>

#if defined(__x86_64__) || defined(__i386__)

#include <immintrin.h>

#define AVX512 __attribute__((target("avx512f")))

float disco__vdist_l2sq_avx512(const float *a, const float *b, size_t d);
float disco__vdist_dot_avx512(const float *a, const float *b, size_t d);
float disco__vdist_l2sq_bounded_avx512(const float *a, const float *b, size_t d, float bound);
float disco__vdist_u4_avx512(const float *qa, const float *step, const uint8_t *code, size_t full,
                             size_t lead);

/* Four 16-lane sums of squared differences. */
typedef struct l2acc {
    __m512 s0, s1, s2, s3;
} l2acc;

/* Adds floats i..i+63 of (a - b)^2 into the four sums. */
AVX512 static inline void l2_step(const float *restrict a, const float *restrict b, size_t i,
                                  l2acc *s)
{
    __m512 t0 = _mm512_sub_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i));
    __m512 t1 = _mm512_sub_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16));
    __m512 t2 = _mm512_sub_ps(_mm512_loadu_ps(a + i + 32), _mm512_loadu_ps(b + i + 32));
    __m512 t3 = _mm512_sub_ps(_mm512_loadu_ps(a + i + 48), _mm512_loadu_ps(b + i + 48));

    s->s0 = _mm512_fmadd_ps(t0, t0, s->s0);
    s->s1 = _mm512_fmadd_ps(t1, t1, s->s1);
    s->s2 = _mm512_fmadd_ps(t2, t2, s->s2);
    s->s3 = _mm512_fmadd_ps(t3, t3, s->s3);
}

AVX512 static inline float l2_total(const l2acc *s)
{
    return _mm512_reduce_add_ps(
        _mm512_add_ps(_mm512_add_ps(s->s0, s->s1), _mm512_add_ps(s->s2, s->s3)));
}

/* Adds floats i..d-1 (fewer than 64) and returns the whole sum. */
AVX512 static inline float l2_finish(const float *restrict a, const float *restrict b, size_t i,
                                     size_t d, l2acc *s)
{
    for (; i + 16 <= d; i += 16) {
        __m512 t = _mm512_sub_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i));
        s->s0 = _mm512_fmadd_ps(t, t, s->s0);
    }
    if (i < d) {
        __mmask16 m = (__mmask16)((1u << (d - i)) - 1u);
        __m512 t = _mm512_sub_ps(_mm512_maskz_loadu_ps(m, a + i), _mm512_maskz_loadu_ps(m, b + i));
        s->s1 = _mm512_fmadd_ps(t, t, s->s1);
    }
    return l2_total(s);
}

AVX512 float disco__vdist_l2sq_avx512(const float *restrict a, const float *restrict b, size_t d)
{
    l2acc s = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps()};
    size_t i = 0;

    for (; i + 64 <= d; i += 64)
        l2_step(a, b, i, &s);
    return l2_finish(a, b, i, d, &s);
}

/*
 * The same sums in the same order as disco__vdist_l2sq_avx512, looking at
 * the running total after each 64 floats: past `bound` it returns that
 * partial sum (a value above bound) without reading the rest.
 */
AVX512 float disco__vdist_l2sq_bounded_avx512(const float *restrict a, const float *restrict b,
                                              size_t d, float bound)
{
    l2acc s = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps()};
    size_t i = 0;

    for (; i + 64 <= d; i += 64) {
        l2_step(a, b, i, &s);
        if (i + 64 < d) {
            float p = l2_total(&s);
            if (p > bound)
                return p;
        }
    }
    return l2_finish(a, b, i, d, &s);
}

AVX512 float disco__vdist_dot_avx512(const float *restrict a, const float *restrict b, size_t d)
{
    __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
    __m512 s2 = _mm512_setzero_ps(), s3 = _mm512_setzero_ps();
    size_t i = 0;

    for (; i + 64 <= d; i += 64) {
        s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), s0);
        s1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16), s1);
        s2 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 32), _mm512_loadu_ps(b + i + 32), s2);
        s3 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 48), _mm512_loadu_ps(b + i + 48), s3);
    }
    for (; i + 16 <= d; i += 16)
        s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), s0);
    if (i < d) {
        __mmask16 m = (__mmask16)((1u << (d - i)) - 1u);
        s1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, a + i), _mm512_maskz_loadu_ps(m, b + i), s1);
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(s0, s1), _mm512_add_ps(s2, s3)));
}

/* One group: its 16 code bytes widen to two 16-lane float vectors. */
AVX512 static inline void u4_group(const float *qa, const float *step, const uint8_t *code,
                                   __m512 *s0, __m512 *s1)
{
    const __m128i nib = _mm_set1_epi8(15);
    __m128i b = _mm_loadu_si128((const __m128i *)(const void *)code);
    __m512 c0 = _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_and_si128(b, nib)));
    __m512 c1 = _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_and_si128(_mm_srli_epi16(b, 4), nib)));
    __m512 t0 = _mm512_fmadd_ps(c0, _mm512_loadu_ps(step), _mm512_loadu_ps(qa));
    __m512 t1 = _mm512_fmadd_ps(c1, _mm512_loadu_ps(step + 16), _mm512_loadu_ps(qa + 16));

    *s0 = _mm512_fmadd_ps(t0, t0, *s0);
    *s1 = _mm512_fmadd_ps(t1, t1, *s1);
}

/* `full` whole groups after `lead` bytes, then (lead > 0) the short group at byte 0. */
AVX512 float disco__vdist_u4_avx512(const float *qa, const float *step, const uint8_t *code,
                                    size_t full, size_t lead)
{
    __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();

    for (size_t g = 0; g < full; g++)
        u4_group(qa + 32 * g, step + 32 * g, code + lead + 16 * g, &s0, &s1);
    if (lead)
        u4_group(qa + 32 * full, step + 32 * full, code, &s0, &s1);
    return _mm512_reduce_add_ps(_mm512_add_ps(s0, s1));
}

#else

/* Not an x86 target: nothing to compile here (C11 wants a declaration). */
typedef int disco__vdist_avx512_unused;

#endif
