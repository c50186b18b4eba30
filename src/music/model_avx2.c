/*
 * model_avx2.c - the transformer's AVX2/FMA kernels: the 6 x 16 matmul
 * micro-kernel, the matrix-vector product of inference, and GELU with a
 * vectorised exp.
 *
 * Compiled for any x86 target: each function carries target("avx2,fma")
 * and is called only when disco__tf_isa_best() found both (model.c). The
 * micro-kernel keeps the 6 x 16 tile in twelve registers; each k step loads
 * two vectors of the B panel and broadcasts six A values (the GotoBLAS
 * register-blocking scheme). Partial tiles go through a small buffer. The
 * portable versions in model_gemm.c are the reference the tests compare to.
 */
#include "model_int.h"

#include <string.h>

#if defined(__x86_64__) || defined(__i386__)

#include <immintrin.h>

#define AVX2 __attribute__((target("avx2,fma")))
#define MR DISCO__TF_MR
#define NR DISCO__TF_NR

/* The starting tile (c and/or bias, or zeros) as a full MR x NR block at t. */
static void start_tile(float *t, const disco__tf_kargs *k)
{
    memset(t, 0, MR * NR * sizeof(float));
    for (size_t r = 0; r < k->mr; r++) {
        for (size_t j = 0; j < k->nr; j++)
            t[r * NR + j] =
                (k->load_c ? k->c[r * k->ldc + j] : 0.0f) + (k->bias ? k->bias[j] : 0.0f);
    }
}

#define ROW(r, off)                                                                                \
    do {                                                                                           \
        __m256 a_ = _mm256_broadcast_ss(a + (off));                                                \
        c##r##0 = _mm256_fmadd_ps(a_, b0, c##r##0);                                                \
        c##r##1 = _mm256_fmadd_ps(a_, b1, c##r##1);                                                \
    } while (0)

/*
 * The MR x NR tile at c = init (rows ldi apart; ldi 0 repeats one row;
 * NULL: zeros) + A·B over k->kc steps.
 */
AVX2 static void kern_tile(const disco__tf_kargs *k, float *c, size_t ldc, const float *init,
                           size_t ldi)
{
    const float *a = k->a, *b = k->b;
    size_t aks = k->a_ks, bks = k->b_ks, rs = k->a_rs, mr = k->mr;
    size_t o1 = (mr > 1) * rs, o2 = (mr > 2) * 2 * rs, o3 = (mr > 3) * 3 * rs;
    size_t o4 = (mr > 4) * 4 * rs, o5 = (mr > 5) * 5 * rs;
    __m256 z = _mm256_setzero_ps();
    __m256 c00 = z, c01 = z, c10 = z, c11 = z, c20 = z, c21 = z;
    __m256 c30 = z, c31 = z, c40 = z, c41 = z, c50 = z, c51 = z;

    if (init) {
        c00 = _mm256_loadu_ps(init), c01 = _mm256_loadu_ps(init + 8);
        c10 = _mm256_loadu_ps(init + ldi), c11 = _mm256_loadu_ps(init + ldi + 8);
        c20 = _mm256_loadu_ps(init + 2 * ldi), c21 = _mm256_loadu_ps(init + 2 * ldi + 8);
        c30 = _mm256_loadu_ps(init + 3 * ldi), c31 = _mm256_loadu_ps(init + 3 * ldi + 8);
        c40 = _mm256_loadu_ps(init + 4 * ldi), c41 = _mm256_loadu_ps(init + 4 * ldi + 8);
        c50 = _mm256_loadu_ps(init + 5 * ldi), c51 = _mm256_loadu_ps(init + 5 * ldi + 8);
    }
    for (size_t p = 0; p < k->kc; p++, a += aks, b += bks) {
        __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8);
        ROW(0, 0);
        ROW(1, o1);
        ROW(2, o2);
        ROW(3, o3);
        ROW(4, o4);
        ROW(5, o5);
    }
    _mm256_storeu_ps(c, c00);
    _mm256_storeu_ps(c + 8, c01);
    _mm256_storeu_ps(c + ldc, c10);
    _mm256_storeu_ps(c + ldc + 8, c11);
    _mm256_storeu_ps(c + 2 * ldc, c20);
    _mm256_storeu_ps(c + 2 * ldc + 8, c21);
    _mm256_storeu_ps(c + 3 * ldc, c30);
    _mm256_storeu_ps(c + 3 * ldc + 8, c31);
    _mm256_storeu_ps(c + 4 * ldc, c40);
    _mm256_storeu_ps(c + 4 * ldc + 8, c41);
    _mm256_storeu_ps(c + 5 * ldc, c50);
    _mm256_storeu_ps(c + 5 * ldc + 8, c51);
}

AVX2 void disco__tf_kern_avx2(const disco__tf_kargs *k)
{
    float t[MR * NR];

    if (k->mr == MR && k->nr == NR && !(k->load_c && k->bias)) {
        kern_tile(k, k->c, k->ldc, k->load_c ? k->c : k->bias, k->load_c ? k->ldc : 0);
        return;
    }
    start_tile(t, k);
    kern_tile(k, t, NR, t, NR);
    for (size_t r = 0; r < k->mr; r++)
        memcpy(k->c + r * k->ldc, t + r * NR, k->nr * sizeof(float));
}

/* e^x on eight lanes: the steps of disco__tf_exp(). */
AVX2 static __m256 exp8(__m256 x)
{
    const __m256 magic = _mm256_set1_ps(12582912.0f);
    __m256 t, n, r, p;
    __m256i e;

    x = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-87.0f)), _mm256_set1_ps(88.0f));
    t = _mm256_fmadd_ps(x, _mm256_set1_ps(1.44269504088896341f), magic);
    n = _mm256_sub_ps(t, magic);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693145751953125f), x);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(1.428606765330187e-06f), r);
    p = _mm256_fmadd_ps(_mm256_set1_ps(1.0f / 720), r, _mm256_set1_ps(1.0f / 120));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 24));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 6));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(0.5f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    e = _mm256_slli_epi32(_mm256_sub_epi32(_mm256_castps_si256(t), _mm256_set1_epi32(0x4B400000)),
                          23);
    return _mm256_castsi256_ps(_mm256_add_epi32(_mm256_castps_si256(p), e));
}

AVX2 static float hsum8(__m256 v)
{
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));

    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/* p[j] = e^(scale p[j] - mx) for j < n; returns their sum. */
AVX2 float disco__tf_softmax_avx2(float *p, size_t n, float scale, float mx)
{
    __m256 vs = _mm256_set1_ps(scale), vm = _mm256_set1_ps(mx), acc = _mm256_setzero_ps();
    float tail = 0.0f;
    size_t j = 0;

    for (; j + 8 <= n; j += 8) {
        __m256 e = exp8(_mm256_fmsub_ps(_mm256_loadu_ps(p + j), vs, vm));
        _mm256_storeu_ps(p + j, e);
        acc = _mm256_add_ps(acc, e);
    }
    for (; j < n; j++)
        tail += p[j] = disco__tf_exp(p[j] * scale - mx);
    return hsum8(acc) + tail;
}

#define GELU_K 0.7978845608028654f
#define GELU_C 0.044715f

/* s = 1 / (1 + e^(-2u)), u = K (x + C x³) */
AVX2 static __m256 gelu_s8(__m256 x)
{
    __m256 x3 = _mm256_mul_ps(_mm256_mul_ps(x, x), x);
    __m256 u = _mm256_mul_ps(_mm256_set1_ps(-2.0f * GELU_K),
                             _mm256_fmadd_ps(_mm256_set1_ps(GELU_C), x3, x));
    __m256 one = _mm256_set1_ps(1.0f);

    return _mm256_div_ps(one, _mm256_add_ps(one, exp8(u)));
}

AVX2 void disco__tf_gelu_fwd_avx2(const float *x, float *y, size_t n)
{
    size_t i = 0;

    for (; i + 8 <= n; i += 8) {
        __m256 v = _mm256_loadu_ps(x + i);
        _mm256_storeu_ps(y + i, _mm256_mul_ps(v, gelu_s8(v)));
    }
    for (; i < n; i++)
        y[i] = disco__tf_gelu(x[i]);
}

AVX2 void disco__tf_gelu_bwd_avx2(const float *x, float *dy, size_t n)
{
    const __m256 one = _mm256_set1_ps(1.0f), k2 = _mm256_set1_ps(2.0f * GELU_K);
    const __m256 c3 = _mm256_set1_ps(3.0f * GELU_C);
    size_t i = 0;

    for (; i + 8 <= n; i += 8) {
        __m256 v = _mm256_loadu_ps(x + i), s = gelu_s8(v);
        __m256 du = _mm256_mul_ps(k2, _mm256_fmadd_ps(c3, _mm256_mul_ps(v, v), one));
        __m256 g =
            _mm256_fmadd_ps(_mm256_mul_ps(_mm256_mul_ps(v, s), _mm256_sub_ps(one, s)), du, s);
        _mm256_storeu_ps(dy + i, _mm256_mul_ps(_mm256_loadu_ps(dy + i), g));
    }
    for (; i < n; i++)
        dy[i] *= disco__tf_gelu_grad(x[i]);
}

/* y[0..n) += x0 w0 + x1 w1 + x2 w2 + x3 w3 over the rows w0..w3. */
AVX2 static void axpy4(float *restrict y, const float *restrict w, size_t n, const float *x)
{
    __m256 x0 = _mm256_set1_ps(x[0]), x1 = _mm256_set1_ps(x[1]);
    __m256 x2 = _mm256_set1_ps(x[2]), x3 = _mm256_set1_ps(x[3]);
    size_t j = 0;

    for (; j + 8 <= n; j += 8) {
        __m256 s = _mm256_loadu_ps(y + j);
        s = _mm256_fmadd_ps(x0, _mm256_loadu_ps(w + j), s);
        s = _mm256_fmadd_ps(x1, _mm256_loadu_ps(w + n + j), s);
        s = _mm256_fmadd_ps(x2, _mm256_loadu_ps(w + 2 * n + j), s);
        s = _mm256_fmadd_ps(x3, _mm256_loadu_ps(w + 3 * n + j), s);
        _mm256_storeu_ps(y + j, s);
    }
    for (; j < n; j++)
        y[j] += x[0] * w[j] + x[1] * w[n + j] + x[2] * w[2 * n + j] + x[3] * w[3 * n + j];
}

AVX2 void disco__tf_matvec_avx2(const float *x, const float *w, const float *bias, float *y,
                                size_t k, size_t n)
{
    size_t i = 0;

    for (size_t j = 0; j < n; j++)
        y[j] = bias ? bias[j] : 0.0f;
    for (; i + 4 <= k; i += 4)
        axpy4(y, w + i * n, n, x + i);
    for (; i < k; i++) {
        for (size_t j = 0; j < n; j++)
            y[j] += x[i] * w[i * n + j];
    }
}

#else

/* Never called off x86 (disco__tf_isa_best() says portable); kept for the linker. */
void disco__tf_kern_avx2(const disco__tf_kargs *k)
{
    disco__tf_kern_portable(k);
}

float disco__tf_softmax_avx2(float *p, size_t n, float scale, float mx)
{
    float s = 0.0f;

    for (size_t j = 0; j < n; j++)
        s += p[j] = disco__tf_exp(p[j] * scale - mx);
    return s;
}

void disco__tf_matvec_avx2(const float *x, const float *w, const float *bias, float *y, size_t k,
                           size_t n)
{
    disco__tf_matvec_portable(x, w, bias, y, k, n);
}

void disco__tf_gelu_fwd_avx2(const float *x, float *y, size_t n)
{
    for (size_t i = 0; i < n; i++)
        y[i] = disco__tf_gelu(x[i]);
}

void disco__tf_gelu_bwd_avx2(const float *x, float *dy, size_t n)
{
    for (size_t i = 0; i < n; i++)
        dy[i] *= disco__tf_gelu_grad(x[i]);
}

#endif
