/*
 * midi_metrics.c - MusPy-style metrics of a score (definitions in
 * include/disco/midi_metrics.h).
 *
 * DESIGN: nothing walks the piece tick by tick or beat by beat, so a long
 * or sparse score costs no more than its notes:
 *   polyphony           a sweep over the sorted note starts and ends, with a
 *                       count per pitch: each stretch between two boundaries
 *                       adds (length x distinct pitches sounding);
 *   empty-beat rate     the union of the beat ranges the notes cover;
 *   groove consistency  the sorted distinct (bar, position) onsets: an onset
 *                       adds 1 to the Hamming distance to each neighbouring
 *                       bar that has no onset at its position.
 * The key estimate correlates a duration-weighted pitch-class histogram with
 * Krumhansl and Kessler's probe-tone profiles (1982), written out below.
 */
#include "disco/midi_metrics.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define GRID 4 /* groove positions per quarter note */

/* Krumhansl & Kessler (1982) key profiles, tonic first. */
static const double kk_major[12] = {6.35, 2.23, 3.48, 2.33, 4.38, 4.09,
                                    2.52, 5.19, 2.39, 3.66, 2.29, 2.88};
static const double kk_minor[12] = {6.33, 2.68, 3.52, 5.38, 2.60, 3.53,
                                    2.54, 4.75, 3.98, 2.69, 3.34, 3.17};

/* Pitch classes of the major and natural-minor scales on C. */
static const uint8_t scale_major[12] = {1, 0, 1, 0, 1, 1, 0, 1, 0, 1, 0, 1};
static const uint8_t scale_minor[12] = {1, 0, 1, 1, 0, 1, 0, 1, 1, 0, 1, 0};

static const char *const key_names[24] = {
    "C major",  "Db major", "D major",  "Eb major", "E major",  "F major",  "F# major", "G major",
    "Ab major", "A major",  "Bb major", "B major",  "C minor",  "C# minor", "D minor",  "Eb minor",
    "E minor",  "F minor",  "F# minor", "G minor",  "G# minor", "A minor",  "Bb minor", "B minor"};

const char *disco_midi_metrics_key_name(int key)
{
    return key >= 0 && key < 24 ? key_names[key] : "unknown";
}

static int is_pitched(const disco_note_ev *n)
{
    return n->channel != DISCO_MIDI_DRUMS;
}

static uint64_t note_end(const disco_note_ev *n)
{
    return (uint64_t)n->start + (n->dur ? n->dur : 1);
}

static int cmp_u64(const void *pa, const void *pb)
{
    uint64_t a = *(const uint64_t *)pa, b = *(const uint64_t *)pb;

    return (a > b) - (a < b);
}

static double entropy(const double *count, int n, double total)
{
    double h = 0.0;

    for (int i = 0; i < n; i++)
        if (count[i] > 0)
            h -= count[i] / total * log2(count[i] / total);
    return h;
}

/* Pitch range, classes, entropies, scale consistency, programs, drums. */
static void pitch_stats(const disco_score *sc, disco_midi_metrics *m)
{
    double pitch[128] = {0}, pc[12] = {0};
    int lo = 128, hi = -1;

    for (size_t i = 0; i < sc->nnotes; i++) {
        const disco_note_ev *n = &sc->notes[i];
        if (!is_pitched(n)) {
            m->has_drums = 1;
            continue;
        }
        m->npitched++;
        pitch[n->pitch & 127]++;
        pc[n->pitch % 12]++;
        lo = n->pitch < lo ? n->pitch : lo;
        hi = n->pitch > hi ? n->pitch : hi;
        m->nprograms += !m->program_used[n->program & 127];
        m->program_used[n->program & 127] = 1;
    }
    m->pitch_range = hi >= lo ? hi - lo : 0;
    for (int i = 0; i < 12; i++)
        m->pitch_classes += pc[i] > 0;
    if (m->npitched == 0)
        return;
    m->pitch_entropy = entropy(pitch, 128, (double)m->npitched);
    m->pitch_class_entropy = entropy(pc, 12, (double)m->npitched);
    m->scale_consistency = 0.0;
    for (int root = 0; root < 12; root++) {
        double in_major = 0.0, in_minor = 0.0;
        for (int p = 0; p < 12; p++) {
            in_major += scale_major[(p - root + 12) % 12] ? pc[p] : 0.0;
            in_minor += scale_minor[(p - root + 12) % 12] ? pc[p] : 0.0;
        }
        double best = fmax(in_major, in_minor) / (double)m->npitched;
        m->scale_consistency = fmax(m->scale_consistency, best);
    }
}

/* Pearson correlation of `x` with `profile` rotated so its tonic sits at `root`. */
static double correlate(const double *x, const double *profile, int root)
{
    double mx = 0.0, my = 0.0, sxy = 0.0, sxx = 0.0, syy = 0.0;

    for (int p = 0; p < 12; p++) {
        mx += x[p] / 12.0;
        my += profile[p] / 12.0;
    }
    for (int p = 0; p < 12; p++) {
        double dx = x[p] - mx, dy = profile[(p - root + 12) % 12] - my;
        sxy += dx * dy;
        sxx += dx * dx;
        syy += dy * dy;
    }
    return sxy / sqrt(sxx * syy);
}

static void key_estimate(const disco_score *sc, disco_midi_metrics *m)
{
    double hist[12] = {0}, lo = INFINITY, hi = -INFINITY;

    m->key = -1;
    m->key_corr = NAN;
    for (size_t i = 0; i < sc->nnotes; i++)
        if (is_pitched(&sc->notes[i]))
            hist[sc->notes[i].pitch % 12] += sc->notes[i].dur ? sc->notes[i].dur : 1;
    for (int p = 0; p < 12; p++) {
        lo = fmin(lo, hist[p]);
        hi = fmax(hi, hist[p]);
    }
    if (m->npitched == 0 || hi == lo)
        return;
    for (int k = 0; k < 24; k++) {
        double r = correlate(hist, k < 12 ? kk_major : kk_minor, k % 12);
        if (m->key < 0 || r > m->key_corr) {
            m->key = k;
            m->key_corr = r;
        }
    }
}

/*
 * Polyphony by a sweep: boundaries are (tick << 9 | on << 8 | pitch), so at
 * one tick the ends (on = 0) come before the starts.
 */
static int polyphony(const disco_score *sc, disco_midi_metrics *m)
{
    uint64_t *b = malloc((2 * m->npitched + 1) * sizeof *b), prev = 0;
    size_t nb = 0;
    unsigned count[128] = {0}, distinct = 0;
    double weighted = 0.0, sounding = 0.0;

    if (!b)
        return DISCO_ERR_NOMEM;
    for (size_t i = 0; i < sc->nnotes; i++) {
        const disco_note_ev *n = &sc->notes[i];
        if (!is_pitched(n))
            continue;
        b[nb++] = (uint64_t)n->start << 9 | 1u << 8 | (n->pitch & 127);
        b[nb++] = note_end(n) << 9 | (n->pitch & 127);
    }
    qsort(b, nb, sizeof *b, cmp_u64);
    for (size_t i = 0; i < nb; i++) {
        uint64_t tick = b[i] >> 9;
        unsigned p = b[i] & 127;
        if (distinct > 0) {
            weighted += (double)(tick - prev) * distinct;
            sounding += (double)(tick - prev);
        }
        prev = tick;
        if (b[i] & 256)
            distinct += count[p]++ == 0;
        else
            distinct -= --count[p] == 0;
    }
    m->polyphony = sounding > 0 ? weighted / sounding : NAN;
    free(b);
    return DISCO_OK;
}

typedef struct span {
    uint64_t first, last; /* beats */
} span;

static int cmp_span(const void *pa, const void *pb)
{
    const span *a = pa, *b = pb;

    return (a->first > b->first) - (a->first < b->first);
}

/* Empty beats: the beats in the union of the notes' beat ranges are not empty. */
static int empty_beats(const disco_score *sc, uint64_t length, disco_midi_metrics *m)
{
    uint64_t tpq = (uint64_t)sc->tpq, beats = (length + tpq - 1) / tpq, covered = 0, upto = 0;
    span *r = malloc((sc->nnotes + 1) * sizeof *r);

    if (!r)
        return DISCO_ERR_NOMEM;
    for (size_t i = 0; i < sc->nnotes; i++)
        r[i] = (span){sc->notes[i].start / tpq, (note_end(&sc->notes[i]) - 1) / tpq};
    qsort(r, sc->nnotes, sizeof *r, cmp_span);
    for (size_t i = 0; i < sc->nnotes; i++) {
        uint64_t first = r[i].first > upto ? r[i].first : upto; /* beats before upto: counted */
        if (r[i].last + 1 > first) {
            covered += r[i].last + 1 - first;
            upto = r[i].last + 1;
        }
    }
    m->empty_beat_rate = beats > 0 ? 1.0 - (double)covered / (double)beats : NAN;
    free(r);
    return DISCO_OK;
}

/* Grid positions in a bar of num/den (at least 1) and bar length as num*4*tpq/den. */
static void bar_shape(const disco_score *sc, uint64_t *positions, uint64_t *num4tpq, uint64_t *den)
{
    unsigned n = 4, d = 4;

    if (sc->timesigs && sc->ntimesigs > 0 && sc->timesigs[0].num > 0 && sc->timesigs[0].den > 0) {
        n = sc->timesigs[0].num;
        d = sc->timesigs[0].den;
    }
    *positions = ((uint64_t)n * 4 * GRID + d / 2) / d;
    *positions = *positions ? *positions : 1;
    *num4tpq = (uint64_t)n * 4 * (uint64_t)sc->tpq;
    *den = d;
}

static int has_key(const uint64_t *k, size_t n, uint64_t key)
{
    size_t lo = 0, hi = n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (k[mid] < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && k[lo] == key;
}

static int groove(const disco_score *sc, uint64_t length, disco_midi_metrics *m)
{
    uint64_t P, bar_num, den, *q = malloc((sc->nnotes + 1) * sizeof *q), bars, dist = 0;
    size_t nq = 0;

    if (!q)
        return DISCO_ERR_NOMEM;
    bar_shape(sc, &P, &bar_num, &den);
    bars = (length * den + bar_num - 1) / bar_num; /* a bar lasts bar_num / den ticks */
    for (size_t i = 0; i < sc->nnotes; i++)        /* nearest grid position, counted from tick 0 */
        q[i] = (2 * sc->notes[i].start * P * den + bar_num) / (2 * bar_num);
    qsort(q, sc->nnotes, sizeof *q, cmp_u64);
    for (size_t i = 0; i < sc->nnotes; i++)
        if (nq == 0 || q[nq - 1] != q[i])
            q[nq++] = q[i];
    if (nq > 0 && q[nq - 1] / P + 1 > bars)
        bars = q[nq - 1] / P + 1;
    for (size_t i = 0; i < nq; i++) {
        uint64_t bar = q[i] / P;
        dist += bar > 0 && !has_key(q, nq, q[i] - P);
        dist += bar + 1 < bars && !has_key(q, nq, q[i] + P);
    }
    m->groove_consistency = bars >= 2 ? 1.0 - (double)dist / (double)(P * (bars - 1)) : NAN;
    free(q);
    return DISCO_OK;
}

int disco_midi_metrics_compute(const disco_score *sc, disco_midi_metrics *out, disco_status *st)
{
    uint64_t length = sc->end_tick;
    int rc;

    memset(out, 0, sizeof *out);
    if (sc->tpq < 1 || (sc->nnotes > 0 && !sc->notes))
        return disco_status_set(st, DISCO_ERR_INVAL, "score",
                                "tpq %d (at least 1) or NULL notes with %zu notes", sc->tpq,
                                sc->nnotes);
    out->nnotes = sc->nnotes;
    out->polyphony = out->scale_consistency = out->pitch_entropy = NAN;
    out->pitch_class_entropy = NAN;
    for (size_t i = 0; i < sc->nnotes; i++)
        length = note_end(&sc->notes[i]) > length ? note_end(&sc->notes[i]) : length;
    pitch_stats(sc, out);
    key_estimate(sc, out);
    rc = polyphony(sc, out);
    if (rc == DISCO_OK)
        rc = empty_beats(sc, length, out);
    if (rc == DISCO_OK)
        rc = groove(sc, length, out);
    if (rc != DISCO_OK)
        return disco_status_set(st, rc, "score", "out of memory");
    out->seconds = disco_score_seconds(sc, (uint32_t)(length > UINT32_MAX ? UINT32_MAX : length));
    out->bpm_initial = disco_score_bpm_at(sc, 0);
    out->bpm_mean =
        out->seconds > 0 ? 60.0 * ((double)length / sc->tpq) / out->seconds : out->bpm_initial;
    return DISCO_OK;
}
