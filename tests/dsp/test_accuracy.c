/*
 * test_accuracy.c - end-to-end accuracy of the audio analysis on rendered
 * music with a known answer.
 *
 *   pieces     the generated set (tests/support/pieces.h) is well formed:
 *              24 keys, 60..190 BPM, notes in the scale, deterministic, and
 *              its note statistics alone point at the true key;
 *   tempo/key  every piece rendered with FluidSynth at 44.1 kHz and
 *              analysed: tempo Accuracy1 (within 4 %) >= 0.90 and mean
 *              MIREX key score >= 0.85, with a per-piece table on stdout;
 *   onsets     noise bursts at random known times (gaps >= 80 ms): onset
 *              F-measure at +-50 ms >= 0.95.
 *
 * The pieces are rendered and analysed once each, two at a time.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "disco/audio_analysis.h"
#include "disco/key.h"
#include "disco/render.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support/pieces.h"
#include "support/tu_num.h"

#define RATE 44100
#define PIECE_SECONDS 24.0
#define SEED 1
#define THREADS 2
#define TEMPO_TOL 0.04
#define MIN_ACC1 0.90
#define MIN_MIREX 0.85

/* Pitch classes (relative to the tonic) a piece may use: the scale, plus the raised 7th in minor.
 */
static int allowed_pc(int rel, int minor)
{
    static const int major[12] = {1, 0, 1, 0, 1, 1, 0, 1, 0, 1, 0, 1};
    static const int minor_h[12] = {1, 0, 1, 1, 0, 1, 0, 1, 1, 0, 1, 1};

    return minor ? minor_h[rel] : major[rel];
}

static void check_notes(const disco_piece *p)
{
    double chroma[12] = {0};
    disco_key key;

    for (size_t k = 0; k < p->n_notes; k++) {
        const disco_note *n = &p->notes[k];

        assert_true(n->channel >= 0 && n->channel < 16);
        assert_true(n->pitch >= 0 && n->pitch <= 127);
        assert_true(n->velocity >= 1 && n->velocity <= 127);
        assert_true(n->start_s >= 0.0 && n->dur_s > 0.0);
        assert_true(n->start_s + n->dur_s <= p->duration_s + 1e-9);
        if (k)
            assert_true(n->start_s >= p->notes[k - 1].start_s);
        if (n->channel == DISCO_RENDER_DRUM_CHANNEL)
            continue;
        if (!allowed_pc((n->pitch - p->tonic + 120) % 12, p->minor))
            fail_msg("%s: note %zu pitch %d is outside the scale", p->name, k, n->pitch);
        chroma[n->pitch % 12] += n->dur_s * n->velocity;
    }
    /* The notes alone name the key: the set is fair to a chroma-based estimator. */
    assert_int_equal(disco_key_estimate(chroma, DISCO_KEY_KRUMHANSL, &key, NULL), DISCO_OK);
    if (key.tonic != p->tonic || key.minor != p->minor)
        fail_msg("%s: its notes point at tonic %d minor %d", p->name, key.tonic, key.minor);
}

static void test_pieces_well_formed(void **state)
{
    int keys[24] = {0};
    double lo = 1e9, hi = 0.0;
    size_t n = disco_pieces_count();
    disco_piece p, q;

    (void)state;
    assert_true(n >= 24);
    assert_int_equal(disco_piece_make(n, SEED, PIECE_SECONDS, &p), DISCO_ERR_INVAL);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(disco_piece_make(i, SEED, PIECE_SECONDS, &p), DISCO_OK);
        assert_true(p.duration_s >= 20.0 && p.duration_s <= 30.0);
        assert_true(p.beats_per_bar >= 2 && p.beats_per_bar <= 4);
        keys[p.tonic + 12 * p.minor]++;
        lo = fmin(lo, p.bpm);
        hi = fmax(hi, p.bpm);
        check_notes(&p);
        /* Same seed, same notes; another seed, another melody over the same frame. */
        assert_int_equal(disco_piece_make(i, SEED, PIECE_SECONDS, &q), DISCO_OK);
        assert_int_equal(q.n_notes, p.n_notes);
        assert_memory_equal(q.notes, p.notes, p.n_notes * sizeof *p.notes);
        disco_piece_release(&q);
        assert_int_equal(disco_piece_make(i, SEED + 1, PIECE_SECONDS, &q), DISCO_OK);
        assert_true(q.bpm == p.bpm && q.tonic == p.tonic && q.minor == p.minor);
        assert_true(q.duration_s == p.duration_s);
        assert_true(q.n_notes != p.n_notes ||
                    memcmp(q.notes, p.notes, p.n_notes * sizeof *p.notes) != 0);
        disco_piece_release(&q);
        disco_piece_release(&p);
    }
    for (int k = 0; k < 24; k++)
        if (keys[k] == 0)
            fail_msg("no piece in key %d (%s)", k % 12, k >= 12 ? "minor" : "major");
    assert_true(lo <= 60.0 && hi >= 190.0);
}

typedef struct result {
    disco_piece piece;
    double est_bpm;
    int est_tonic, est_minor;
    int rc;
    char msg[DISCO_STATUS_MSG_MAX];
} result;

typedef struct pool {
    result *res;
    size_t n;
    atomic_size_t next;
} pool;

static int analyse_piece(size_t i, result *r)
{
    disco_analysis_config cfg = disco_analysis_config_default();
    disco_render_config rc;
    disco_analysis_report rep;
    disco_status st = {0};
    disco_audio a = {0};
    int err;

    if ((err = disco_piece_make(i, SEED, PIECE_SECONDS, &r->piece)) != DISCO_OK) {
        snprintf(r->msg, sizeof r->msg, "piece %zu could not be made", i);
        return err;
    }
    rc = disco_piece_render_config(&r->piece, RATE, 1);
    err = disco_render_notes(r->piece.notes, r->piece.n_notes, &rc, &a.data, &a.frames, &st);
    if (err == DISCO_OK) {
        a.channels = 2;
        a.rate = RATE;
        cfg.loudness_mode = DISCO_LOUDNESS_FAST;
        err = disco_audio_analyze_signal(&a, &cfg, &rep, &st);
        free(a.data);
    }
    if (err == DISCO_OK) {
        r->est_bpm = rep.tempo.bpm;
        r->est_tonic = rep.key.tonic;
        r->est_minor = rep.key.minor;
        disco_analysis_report_release(&rep);
    }
    snprintf(r->msg, sizeof r->msg, "%s", st.msg);
    return err;
}

static void *worker(void *arg)
{
    pool *pl = arg;
    size_t i;

    while ((i = atomic_fetch_add(&pl->next, 1)) < pl->n)
        pl->res[i].rc = analyse_piece(i, &pl->res[i]);
    return NULL;
}

static void print_table(const result *res, size_t n, size_t hits, double mirex)
{
    char k1[16], k2[16];

    printf("%-26s %6s %8s %6s  %-9s %-9s %5s\n", "piece", "bpm", "est", "ok", "key", "est",
           "mirex");
    for (size_t i = 0; i < n; i++) {
        const result *r = &res[i];
        double err = fabs(r->est_bpm - r->piece.bpm) / r->piece.bpm;

        printf("%-26s %6.1f %8.2f %6s  %-9s %-9s %5.2f\n", r->piece.name, r->piece.bpm, r->est_bpm,
               err <= TEMPO_TOL ? "yes" : "NO", disco_key_name(r->piece.tonic, r->piece.minor, k1),
               disco_key_name(r->est_tonic, r->est_minor, k2),
               disco_key_mirex_score(r->est_tonic, r->est_minor, r->piece.tonic, r->piece.minor));
    }
    printf("tempo Accuracy1 %.3f (%zu/%zu, need %.2f), mean MIREX key score %.3f (need %.2f)\n",
           (double)hits / (double)n, hits, n, MIN_ACC1, mirex, MIN_MIREX);
}

static void test_tempo_and_key(void **state)
{
    size_t n = disco_pieces_count(), hits = 0;
    pool pl = {.res = calloc(n, sizeof(result)), .n = n};
    pthread_t th[THREADS];
    double mirex = 0.0;

    (void)state;
    assert_non_null(pl.res);
    atomic_init(&pl.next, 0);
    for (int t = 0; t < THREADS; t++)
        assert_int_equal(pthread_create(&th[t], NULL, worker, &pl), 0);
    for (int t = 0; t < THREADS; t++)
        assert_int_equal(pthread_join(th[t], NULL), 0);
    for (size_t i = 0; i < n; i++) {
        result *r = &pl.res[i];

        if (r->rc != DISCO_OK)
            fail_msg("piece %zu (%s): %s: %s", i, r->piece.name, disco_errname(r->rc), r->msg);
        hits += fabs(r->est_bpm - r->piece.bpm) <= TEMPO_TOL * r->piece.bpm;
        mirex += disco_key_mirex_score(r->est_tonic, r->est_minor, r->piece.tonic, r->piece.minor) /
                 (double)n;
    }
    print_table(pl.res, n, hits, mirex);
    for (size_t i = 0; i < n; i++)
        disco_piece_release(&pl.res[i].piece);
    free(pl.res);
    assert_true((double)hits / (double)n >= MIN_ACC1);
    assert_true(mirex >= MIN_MIREX);
}

/* A noise burst at `at` frames: decaying white noise through a one-pole low-pass. */
static void burst(float *x, size_t frames, size_t at, double amp, double tau_s, double pole)
{
    size_t len = (size_t)(6.0 * tau_s * RATE);
    double y = 0.0;

    for (size_t k = 0; k < len && at + k < frames; k++) {
        double env = amp * exp(-(double)k / (tau_s * RATE));

        y = pole * y + (1.0 - pole) * (2.0 * rng_uniform() - 1.0);
        x[at + k] += (float)(env * y / (1.0 - 0.6 * pole));
    }
}

/* Matches detections to truth within +-tol (both sorted), one to one, earliest first. */
static size_t match_onsets(const double *truth, size_t nt, const double *det, size_t nd, double tol)
{
    size_t j = 0, hits = 0;

    for (size_t i = 0; i < nt; i++) {
        while (j < nd && det[j] < truth[i] - tol)
            j++;
        if (j < nd && det[j] <= truth[i] + tol) {
            hits++;
            j++;
        }
    }
    return hits;
}

static void test_onsets_f_measure(void **state)
{
    const double seconds = 12.0, tol = 0.05;
    disco_analysis_config cfg = disco_analysis_config_default();
    disco_audio a = {.frames = (size_t)(seconds * RATE), .channels = 1, .rate = RATE};
    disco_analysis_report rep;
    double truth[200], t = 0.25, f;
    size_t nt = 0, hits;

    (void)state;
    rng_state = 0x5eed;
    a.data = calloc(a.frames, sizeof(float));
    assert_non_null(a.data);
    for (size_t k = 0; k < a.frames; k++)
        a.data[k] = (float)(1e-4 * (2.0 * rng_uniform() - 1.0));
    while (t < seconds - 0.5 && nt < 200) {
        truth[nt++] = t;
        burst(a.data, a.frames, (size_t)llround(t * RATE), 0.2 + 0.6 * rng_uniform(),
              0.005 + 0.035 * rng_uniform(), 0.8 * rng_uniform());
        t += 0.08 + 0.32 * rng_uniform();
    }
    cfg.loudness_mode = DISCO_LOUDNESS_FAST;
    assert_int_equal(disco_audio_analyze_signal(&a, &cfg, &rep, NULL), DISCO_OK);
    hits = match_onsets(truth, nt, rep.onsets, rep.n_onsets, tol);
    f = 2.0 * (double)hits / (double)(nt + rep.n_onsets);
    printf("onsets: %zu true, %zu detected, %zu matched within %.0f ms, F = %.3f\n", nt,
           rep.n_onsets, hits, tol * 1000.0, f);
    assert_true(nt >= 40);
    assert_true(f >= 0.95);
    disco_analysis_report_release(&rep);
    free(a.data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pieces_well_formed),
        cmocka_unit_test(test_onsets_f_measure),
        cmocka_unit_test(test_tempo_and_key),
    };

    return cmocka_run_group_tests_name("dsp/accuracy", tests, NULL, NULL);
}
