/*
 * vdist.h - distance kernels for vector search, with a portable reference
 * and SIMD paths (AVX2+FMA, AVX-512F) chosen once at run time.
 *
 * Vectors are float32. Cosine similarity is served as inner product on
 * vectors normalised at insert (disco_vdist_normalize), so the kernels are
 * squared L2 and dot product. Kernels never allocate and are thread-safe.
 */
#ifndef DISCO_VDIST_H
#define DISCO_VDIST_H

#include <stddef.h>
#include <stdint.h>

typedef enum disco_vmetric {
    DISCO_VMETRIC_COSINE = 0, /* distance 1 - cos(a, b) */
    DISCO_VMETRIC_L2 = 1,     /* squared Euclidean distance */
    DISCO_VMETRIC_IP = 2,     /* distance -(a . b), for maximum inner product */
} disco_vmetric;

/* "cosine", "l2", "ip" (also "inner_product", "dot"), any letter case; -1
 * when unknown or NULL. */
int disco_vmetric_parse(const char *name);

/* "cosine", "l2" or "ip"; "unknown" for any other value. Never NULL. */
const char *disco_vmetric_name(disco_vmetric m);

/* Squared L2 distance and dot product of d floats (dispatched); d may be 0
 * (result 0). a and b are only read; they need no alignment. */
float disco_vdist_l2sq(const float *a, const float *b, size_t d);
float disco_vdist_dot(const float *a, const float *b, size_t d);

/* Squared L2 distance when it is at most `bound`: then exactly the value
 * disco_vdist_l2sq gives. Past bound it may stop early and return a partial
 * sum, some value above bound (not the distance). For searches that only
 * need to know that a candidate is no better than the worst kept. */
float disco_vdist_l2sq_bounded(const float *a, const float *b, size_t d, float bound);

/*
 * Squared L2 distance between a query and a vector held as n 4-bit codes
 * (the traversal codes of hnsw_codes.c). Lanes come in groups of 32; a
 * whole group takes 16 bytes, byte k holding lane 32g+k in its low nibble
 * and lane 32g+16+k in its high one. A last group of r < 32 values takes
 * `lead` = ceil(r/2) bytes, placed first: its value j < lead in lane j (low
 * nibble of byte j), the others in lanes 16.. (high nibbles); the whole
 * groups follow. So every group reads 16 bytes inside the codes (the short
 * one reads into the first whole group, on lanes that hold no value), and
 * nothing past them: a neighbouring slot's codes may be being written.
 * disco_vdist_u4_byte gives the byte of a lane. With qa[i] = lo[i] - q[i],
 * the value is the sum over lanes of (code * step[i] + qa[i])^2, the
 * distance from q to the vector the codes stand for. Reads ceil(n/2) bytes
 * of code and 32*ceil(n/32) floats of qa and step, 0 on lanes holding no
 * value.
 */
float disco_vdist_u4(const float *qa, const float *step, const uint8_t *code, size_t n);

/* The byte of `lane`'s code among the ceil(n/2) bytes of n values (low nibble for lane % 32 < 16).
 */
static inline size_t disco_vdist_u4_byte(size_t n, size_t lane)
{
    size_t groups = (n + 31) / 32, r = n - 32 * (groups - 1), g = lane / 32;
    size_t lead = r < 32 ? (r + 1) / 2 : 0;

    return lead && g == groups - 1 ? lane % 16 : lead + 16 * g + lane % 16;
}

/* The portable reference implementations the SIMD paths are tested against:
 * plain loops in index order, accumulating in double. */
float disco_vdist_l2sq_ref(const float *a, const float *b, size_t d);
float disco_vdist_dot_ref(const float *a, const float *b, size_t d);
float disco_vdist_u4_ref(const float *qa, const float *step, const uint8_t *code, size_t n);

/* The distance of metric m between a and b (a and b normalised for COSINE);
 * NaN for a value of m outside disco_vmetric. */
float disco_vdist(disco_vmetric m, const float *a, const float *b, size_t d);

/* Scales v to unit length in place; returns its original norm. A zero (or
 * NaN) norm returns 0 and an infinite one returns it; v is then left as is. */
float disco_vdist_normalize(float *v, size_t d);

/* The instruction set in use: "avx512", "avx2" or "portable". */
const char *disco_vdist_isa(void);

/* For tests and benchmarks: use "portable", "avx2" or "avx512" (if the CPU
 * has it), or "auto" / NULL for the best the CPU has; returns 0, or -1 when
 * unavailable (the choice in use is then unchanged). Not thread-safe with
 * respect to kernel calls running at the same time. */
int disco_vdist_force_isa(const char *isa);

#endif
