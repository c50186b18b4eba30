/*
 * audio_referees.c - the referee half of bench_audio: tempo and key of the
 * 24 accuracy pieces (24 s, seed 1, 16-bit WAV) from ours and from two
 * independent systems, side by side.
 *
 *   ours      disco_audio_analyze, default config, on the WAV;
 *   aubio     `aubio tempo FILE` (aubio-tools 0.4.9) prints "N bpm": the mean
 *             of 60 / inter-beat interval over its beats; the same beats from
 *             `aubio beat FILE` also give 60 / median inter-beat interval,
 *             a statistic that one stray beat cannot move; aubio has no key;
 *   essentia  essentia.js RhythmExtractor2013 (bpm) and KeyExtractor (key,
 *             scale) with their defaults, run by bench/essentia_referee.js in
 *             one node process on float32 mono copies of the decoded WAVs.
 *
 * Per piece: true tempo and key and each system's; per system: tempo
 * Accuracy1 (within 4 %) and Accuracy2 (also x2, x3, x1/2, x1/3), mean MIREX
 * key score (disco_key_mirex_score); ours against essentia: how often they
 * agree. A referee that is missing or fails is reported and left out.
 */
#include "disco/audio_analysis.h"
#include "disco/key.h"
#include "disco/timeutil.h"
#include "support/pieces.h"

#include "audio_bench.h"

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct estimate {
    int ok;
    double bpm;
    int tonic, minor; /* tonic -1: no key */
} estimate;

typedef struct row {
    piece_file pf;
    estimate ours, aubio, aubio_med, ess;
} row;

typedef struct referees {
    const char *aubio_off, *ess_off; /* why a referee did not run, or NULL */
    double ours_s, aubio_s, ess_s, ess_compute_s;
} referees;

static void ours_estimate(row *r, referees *ref)
{
    disco_analysis_report rep;
    uint64_t t0 = disco_time_mono_ns();

    if (analyse_file(r->pf.wav, &rep))
        return;
    ref->ours_s += seconds_since(t0);
    r->ours = (estimate){1, rep.tempo.bpm, rep.key.tonic, rep.key.minor};
    disco_analysis_report_release(&rep);
}

/* Runs `cmd` (stderr dropped) and hands each output line to `fn`; 0 when it exits 0. */
static int each_line(const char *cmd, void (*fn)(const char *line, void *user), void *user)
{
    char line[256];
    FILE *p = popen(cmd, "r");

    if (!p)
        return -1;
    while (fgets(line, sizeof line, p))
        fn(line, user);
    return pclose(p) == 0 ? 0 : -1;
}

/* `aubio tempo` ends with "N bpm", "N bpm (uncertain)" or "unknown bpm" (then 0). */
static void tempo_line(const char *line, void *user)
{
    estimate *e = user;

    if (strstr(line, "bpm")) {
        e->ok = 1;
        if (sscanf(line, "%lf bpm", &e->bpm) != 1)
            e->bpm = 0;
    }
}

typedef struct beats {
    double *t;
    size_t n, cap;
} beats;

/* `aubio beat` prints one beat time in seconds a line. */
static void beat_line(const char *line, void *user)
{
    beats *b = user;
    double t;

    if (sscanf(line, "%lf", &t) != 1)
        return;
    if (b->n == b->cap) {
        b->cap = b->cap ? 2 * b->cap : 256;
        if (!(b->t = realloc(b->t, b->cap * sizeof *b->t)))
            die("aubio beat", "out of memory");
    }
    b->t[b->n++] = t;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

/* 60 / the median inter-beat interval; 0 with fewer than two beats. */
static double median_ibi_bpm(beats *b)
{
    double med;

    if (b->n < 2)
        return 0.0;
    for (size_t i = 0; i + 1 < b->n; i++)
        b->t[i] = b->t[i + 1] - b->t[i];
    qsort(b->t, b->n - 1, sizeof *b->t, cmp_double);
    med = (b->n - 1) % 2 ? b->t[(b->n - 1) / 2]
                         : 0.5 * (b->t[(b->n - 1) / 2 - 1] + b->t[(b->n - 1) / 2]);
    return med > 0 ? 60.0 / med : 0.0;
}

static void aubio_estimate(row *r, referees *ref)
{
    char cmd[PATH_MAX + 64];
    uint64_t t0 = disco_time_mono_ns();
    estimate e = {0, 0.0, -1, 0};
    beats b = {0};

    fit(snprintf(cmd, sizeof cmd, "aubio tempo '%s' 2>/dev/null", shell_safe(r->pf.wav)),
        sizeof cmd);
    if (each_line(cmd, tempo_line, &e) == 0 && e.ok) {
        r->aubio = e;
        ref->aubio_s += seconds_since(t0);
    }
    fit(snprintf(cmd, sizeof cmd, "aubio beat '%s' 2>/dev/null", r->pf.wav), sizeof cmd);
    if (each_line(cmd, beat_line, &b) == 0)
        r->aubio_med = (estimate){1, median_ibi_bpm(&b), -1, 0};
    free(b.t);
}

/* One node process for all pieces; lines "ok I BPM TONIC MINOR MS" or "error I MSG". */
static void essentia_run(row *rows, size_t n, referees *ref)
{
    size_t cap = 256 + (n + 1) * (PATH_MAX + 4), len;
    char *cmd = malloc(cap), line[1024];
    uint64_t t0 = disco_time_mono_ns();
    FILE *p;

    if (!cmd)
        die("essentia", "out of memory");
    len = (size_t)snprintf(cmd, cap, "node bench/essentia_referee.js '%s'",
                           shell_safe(bench_essentia_dir));
    for (size_t i = 0; i < n; i++)
        len += (size_t)snprintf(cmd + len, cap - len, " '%s'", shell_safe(rows[i].pf.f32));
    fit(snprintf(cmd + len, cap - len, " 2>&1"), cap - len);
    if (!(p = popen(cmd, "r")))
        die("essentia", "cannot start node");
    while (fgets(line, sizeof line, p)) {
        size_t i;
        double bpm, ms;
        int tonic, minor;

        if (sscanf(line, "ok %zu %lf %d %d %lf", &i, &bpm, &tonic, &minor, &ms) == 5 && i < n) {
            rows[i].ess = (estimate){1, bpm, tonic, minor};
            ref->ess_compute_s += ms / 1000.0;
        } else if (strncmp(line, "ok ", 3)) {
            printf("  essentia.js: %s", line);
        }
    }
    if (pclose(p))
        ref->ess_off = "failed (its messages are above)";
    ref->ess_s = seconds_since(t0);
    free(cmd);
}

static const char *key_cell(const estimate *e, const disco_piece *p, char buf[24])
{
    char name[16];
    double score;

    if (!e->ok)
        return "-";
    score = disco_key_mirex_score(e->tonic, e->minor, p->tonic, p->minor);
    snprintf(buf, 24, "%s%s", disco_key_name(e->tonic, e->minor, name), score < 1 ? " *" : "");
    return buf;
}

static const char *bpm_cell(const estimate *e, double truth, char buf[24])
{
    if (!e->ok)
        return "-";
    snprintf(buf, 24, "%.1f%s", e->bpm, fabs(e->bpm - truth) <= TEMPO_TOL * truth ? "" : " *");
    return buf;
}

static void print_rows(const row *rows, size_t n)
{
    char k0[16], b1[24], k1[24], b2[24], b3[24], b4[24], k4[24];

    printf("  %-22s %6s %-9s | %8s %-11s | %8s %8s | %8s %-11s\n", "piece", "bpm", "key", "ours",
           "ours key", "aubio", "aubio md", "essentia", "essentia key");
    for (size_t i = 0; i < n; i++) {
        const row *r = &rows[i];
        const disco_piece *p = &r->pf.piece;

        printf("  %-22s %6.1f %-9s | %8s %-11s | %8s %8s | %8s %-11s\n", p->name, p->bpm,
               disco_key_name(p->tonic, p->minor, k0), bpm_cell(&r->ours, p->bpm, b1),
               key_cell(&r->ours, p, k1), bpm_cell(&r->aubio, p->bpm, b2),
               bpm_cell(&r->aubio_med, p->bpm, b3), bpm_cell(&r->ess, p->bpm, b4),
               key_cell(&r->ess, p, k4));
    }
    printf("  (* tempo off by more than 4 %% / key not exactly right; aubio: `aubio tempo`, "
           "aubio md: 60 / median beat interval of `aubio beat`)\n");
}

/* Accuracy1 (factor 1) or Accuracy2 (1, 2, 3, 1/2, 1/3) of one estimate. */
static int tempo_hit(const estimate *e, double truth, int octaves)
{
    static const double f[] = {1.0, 2.0, 3.0, 0.5, 1.0 / 3.0};

    for (int i = 0; e->ok && i < (octaves ? 5 : 1); i++)
        if (fabs(e->bpm - f[i] * truth) <= TEMPO_TOL * f[i] * truth)
            return 1;
    return 0;
}

typedef struct score {
    size_t ran, acc1, acc2;
    double mirex;
} score;

static score score_of(const row *rows, size_t n, size_t offset)
{
    score s = {0};

    for (size_t i = 0; i < n; i++) {
        const estimate *e = (const estimate *)((const char *)&rows[i] + offset);
        const disco_piece *p = &rows[i].pf.piece;

        if (!e->ok)
            continue;
        s.ran++;
        s.acc1 += tempo_hit(e, p->bpm, 0);
        s.acc2 += tempo_hit(e, p->bpm, 1);
        s.mirex += disco_key_mirex_score(e->tonic, e->minor, p->tonic, p->minor);
    }
    s.mirex = s.ran ? s.mirex / (double)s.ran : NAN;
    return s;
}

static void print_score(const char *who, score s, size_t n, int has_key)
{
    if (s.ran == 0) {
        printf("  %-9s did not run\n", who);
        return;
    }
    printf("  %-9s tempo Accuracy1 %.3f (%zu/%zu)  Accuracy2 %.3f (%zu/%zu)", who,
           (double)s.acc1 / (double)n, s.acc1, n, (double)s.acc2 / (double)n, s.acc2, n);
    if (has_key)
        printf("  mean MIREX key %.3f", s.mirex);
    else
        printf("  key: no estimator");
    printf("%s\n", s.ran < n ? "  (some pieces failed: counted as misses)" : "");
}

static void print_agreement(const row *rows, size_t n)
{
    size_t both = 0, tempo = 0, key = 0;
    double mirex = 0;

    for (size_t i = 0; i < n; i++) {
        const estimate *o = &rows[i].ours, *e = &rows[i].ess;

        if (!o->ok || !e->ok)
            continue;
        both++;
        tempo += fabs(o->bpm - e->bpm) <= TEMPO_TOL * e->bpm;
        key += o->tonic == e->tonic && o->minor == e->minor;
        mirex += disco_key_mirex_score(o->tonic, o->minor, e->tonic, e->minor);
    }
    if (both == 0)
        return;
    printf("  ours vs essentia: tempo within 4 %% on %zu/%zu, same key on %zu/%zu, MIREX score "
           "of ours against essentia's key %.3f\n",
           tempo, both, key, both, mirex / (double)both);
}

static void print_summary(const row *rows, size_t n, const referees *ref)
{
    print_score("ours", score_of(rows, n, offsetof(row, ours)), n, 1);
    if (ref->aubio_off) {
        printf("  aubio     %s\n", ref->aubio_off);
    } else {
        print_score("aubio", score_of(rows, n, offsetof(row, aubio)), n, 0);
        print_score("aubio md", score_of(rows, n, offsetof(row, aubio_med)), n, 0);
    }
    if (ref->ess_off)
        printf("  essentia  %s\n", ref->ess_off);
    else
        print_score("essentia", score_of(rows, n, offsetof(row, ess)), n, 1);
    print_agreement(rows, n);
    printf("  time for %zu x %.0f s: ours %.2f s (in this process)", n, ACC_SECONDS, ref->ours_s);
    if (!ref->aubio_off)
        printf(", aubio tempo %.2f s (wall, a process a piece)", ref->aubio_s);
    if (!ref->ess_off)
        printf(", essentia %.2f s (wall, one node process; %.2f s computing)", ref->ess_s,
               ref->ess_compute_s);
    printf("\n\n");
}

static void check_essentia(referees *ref)
{
    char probe[PATH_MAX + 32];

    fit(snprintf(probe, sizeof probe, "%s/package.json", bench_essentia_dir), sizeof probe);
    if (!have_command("node"))
        ref->ess_off = "not run: node is not installed (scripts/bench-deps.sh installs nodejs)";
    else if (!exists("bench/essentia_referee.js"))
        ref->ess_off = "not run: bench/essentia_referee.js not found (run from the repository)";
    else if (!exists(probe))
        ref->ess_off = "not run: essentia.js is not installed (scripts/run-bench.sh fetches it "
                       "with npm, or set BENCH_AUDIO_ESSENTIA)";
}

void bench_referees(void)
{
    size_t n = disco_pieces_count();
    row *rows = calloc(n, sizeof *rows);
    referees ref = {0};

    if (!rows)
        die("referees", "out of memory");
    printf("== referees: %zu pieces, %.0f s, seed %d, 44.1 kHz stereo 16-bit WAV in %s/pieces\n", n,
           ACC_SECONDS, SEED, bench_out_dir);
    fflush(stdout);
    if (!have_command("aubio"))
        ref.aubio_off = "not run: not installed (scripts/bench-deps.sh installs aubio-tools)";
    check_essentia(&ref);
    for (size_t i = 0; i < n; i++) {
        prepare_piece(i, &rows[i].pf);
        ours_estimate(&rows[i], &ref);
        if (!ref.aubio_off)
            aubio_estimate(&rows[i], &ref);
    }
    if (!ref.ess_off)
        essentia_run(rows, n, &ref);
    print_rows(rows, n);
    print_summary(rows, n, &ref);
    for (size_t i = 0; i < n; i++)
        disco_piece_release(&rows[i].pf.piece);
    free(rows);
}
