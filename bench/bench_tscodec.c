/*
 * bench_tscodec.c - size and speed of the chunk codec on typical series.
 *
 * For each kind of series, BENCH_TSCODEC_POINTS points (argv[1] or the
 * environment, default 10,000,000) one second apart, cut into chunks of
 * 4096 like the tsdb writes them:
 *
 *   constant gauge        42.0 everywhere                       float64
 *   monotone counter      += 0..100 (integers)                  float64
 *   gauge, 0.1 steps      random walk on 0.1 steps               decimal:1 and float64
 *   training loss         decaying curve plus noise              float64 and float32
 *
 * One line each: bytes per point (all chunks, headers included), encode
 * and decode speed in millions of points per second (one core, best of
 * three rounds; decoding writes every point to a 4096-point buffer), and
 * the size goal of that kind.
 */
#include "disco/timeutil.h"
#include "disco/tscodec.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK 4096
#define REPS 3

typedef struct series {
    int64_t *ts;
    double *v;
    size_t n;
} series;

static uint64_t g_rng = 0x9E3779B97F4A7C15u;

static uint64_t rnd(void)
{
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 7;
    g_rng ^= g_rng << 17;
    return g_rng;
}

static double rnd01(void)
{
    return (double)(rnd() >> 11) * 0x1p-53;
}

static void die(const char *what, const disco_status *st)
{
    fprintf(stderr, "bench_tscodec: %s: %s\n", what, st ? st->msg : "out of memory");
    exit(1);
}

enum { K_CONST, K_COUNTER, K_WALK, K_LOSS };

static void fill(series *s, int kind, const disco_ts_precision *p)
{
    double x = kind == K_WALK ? 200 : 0;
    int64_t walk = 200;

    for (size_t i = 0; i < s->n; i++) {
        s->ts[i] = 1700000000000 + (int64_t)i * 1000;
        if (kind == K_CONST) {
            x = 42.0;
        } else if (kind == K_COUNTER) {
            x += (double)(rnd() % 101);
        } else if (kind == K_WALK) {
            walk += (int64_t)(rnd() % 7) - 3;
            x = (double)walk / 10.0;
        } else {
            double t = (double)(i % 1000000);
            x = 2.3 * exp(-t / 150000.0) + 0.08 + 0.02 * rnd01();
        }
        s->v[i] = disco_ts_round(x, p);
    }
}

static double encode_all(const series *s, const disco_ts_precision *p, uint8_t *out, size_t cap,
                         size_t *offs, size_t *total)
{
    disco_status st = {0};
    uint64_t t0 = disco_time_mono_ns();
    size_t at = 0, k = 0;

    for (size_t i = 0; i < s->n; i += CHUNK, k++) {
        size_t n = s->n - i < CHUNK ? s->n - i : CHUNK, len = 0;
        if (disco_tscodec_encode(s->ts + i, s->v + i, n, p, out + at, cap - at, &len, &st))
            die("encode", &st);
        offs[k] = at;
        at += len;
    }
    offs[k] = at;
    *total = at;
    return (double)(disco_time_mono_ns() - t0) / 1e9;
}

/* Decodes every chunk and checks the points against the source once. */
static double decode_all(const series *s, const uint8_t *out, const size_t *offs, int check)
{
    static int64_t ts[CHUNK];
    static double v[CHUNK];
    disco_status st = {0};
    uint64_t t0 = disco_time_mono_ns();
    size_t k = 0, m = 0;

    for (size_t i = 0; i < s->n; i += CHUNK, k++) {
        if (disco_tscodec_decode(out + offs[k], offs[k + 1] - offs[k], ts, v, CHUNK, &m, &st))
            die("decode", &st);
        if (check && (memcmp(ts, s->ts + i, m * 8) || memcmp(v, s->v + i, m * 8))) {
            fprintf(stderr, "bench_tscodec: chunk %zu does not decode to its points\n", k);
            exit(1);
        }
    }
    return (double)(disco_time_mono_ns() - t0) / 1e9;
}

static void run(const char *name, int kind, disco_ts_precision p, double goal, series *s,
                uint8_t *out, size_t cap, size_t *offs)
{
    double enc = 1e30, dec = 1e30;
    size_t total = 0;
    char ptext[32];

    fill(s, kind, &p);
    for (int r = 0; r < REPS; r++) {
        double e = encode_all(s, &p, out, cap, offs, &total);
        enc = e < enc ? e : enc;
    }
    decode_all(s, out, offs, 1);
    for (int r = 0; r < REPS; r++) {
        double d = decode_all(s, out, offs, 0);
        dec = d < dec ? d : dec;
    }
    disco_ts_precision_format(&p, ptext, sizeof ptext);
    printf("%-18s %-9s %6.3f bytes/point (goal <= %.2f)  encode %6.1f Mpoints/s  decode %6.1f "
           "Mpoints/s\n",
           name, ptext, (double)total / (double)s->n, goal, (double)s->n / enc / 1e6,
           (double)s->n / dec / 1e6);
}

static size_t points_wanted(int argc, char **argv)
{
    const char *text = argc > 1 ? argv[1] : getenv("BENCH_TSCODEC_POINTS");
    long long n = text ? atoll(text) : 10000000;

    return n > 0 ? (size_t)n : 10000000;
}

int main(int argc, char **argv)
{
    series s = {.n = points_wanted(argc, argv)};
    size_t chunks = (s.n + CHUNK - 1) / CHUNK, cap = chunks * disco_tscodec_bound(CHUNK);
    const disco_ts_precision f64 = {DISCO_TS_FLOAT64, 0}, f32 = {DISCO_TS_FLOAT32, 0},
                             d1 = {DISCO_TS_DECIMAL, 1};

    s.ts = malloc(s.n * sizeof *s.ts);
    s.v = malloc(s.n * sizeof *s.v);
    uint8_t *out = malloc(cap);
    size_t *offs = malloc((chunks + 1) * sizeof *offs);
    if (!s.ts || !s.v || !out || !offs)
        die("setup", NULL);
    printf("%zu points, 1 s apart, chunks of %d\n", s.n, CHUNK);
    run("constant gauge", K_CONST, f64, 0.25, &s, out, cap, offs);
    run("monotone counter", K_COUNTER, f64, 1.5, &s, out, cap, offs);
    run("gauge 0.1 steps", K_WALK, d1, 3, &s, out, cap, offs);
    run("gauge 0.1 steps", K_WALK, f64, 3, &s, out, cap, offs);
    run("training loss", K_LOSS, f64, 8, &s, out, cap, offs);
    run("training loss", K_LOSS, f32, 4.5, &s, out, cap, offs);
    free(s.ts);
    free(s.v);
    free(out);
    free(offs);
    return 0;
}
