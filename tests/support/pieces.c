/*
 * pieces.c - the generated accuracy set (see pieces.h for what it holds).
 *
 * DESIGN: a piece is a style x a progression x a melody.
 *
 *   style        lanes of one-bar patterns on a step grid (steps per beat),
 *                each lane a drum key or a pitched part on a channel;
 *   progression  one chord per bar, cycled; the last bar is the tonic;
 *   melody       a walk in the scale: chord tones on beats, steps of one
 *                or two scale degrees between, pulled toward the middle of
 *                its range; the last bar holds the tonic.
 *
 * Pattern letters, one per grid step:
 *
 *   '.' rest                 '-' holds the previous note one more step
 *   drums    'X' accent, 'x' normal, 'o' ghost
 *   bass     'R' root, 'F' fifth, 'O' octave, 'T' third  (lower case: unaccented)
 *   chord    'C' the triad (lower case: unaccented)
 *   arpeggio '1' root, '3' third, '5' fifth, '8' octave
 *   melody   'M' accented note, 'm' note
 *
 * A pitched lane's `key` is the floor of its register: the chord root goes
 * to the octave at or above it. Channels: 0 melody, 1 chords, 2 bass,
 * 3 a second part (pad, arpeggio, skank), 9 drums.
 */
#include "support/pieces.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LANES 7
#define MEL_LO 62
#define MEL_HI 81
#define MEL_MID 71
#define CRASH 49

typedef enum lane_kind { L_END, L_DRUM, L_BASS, L_CHORD, L_ARP } lane_kind;

typedef struct lane {
    lane_kind kind;
    int ch;
    int key; /* drum key, or the floor of a pitched lane's register */
    int vel; /* unaccented velocity */
    const char *pat;
} lane;

typedef struct style {
    const char *name;
    int meter, steps; /* beats per bar, grid steps per beat */
    int programs[4];  /* channels 0..3 */
    int crash;        /* crash cymbal on the first beat every 4 bars */
    lane lanes[MAX_LANES];
    const char *mel[3]; /* melody rhythms, one bar each */
} style;

enum { BALLAD, STRINGS, REGGAE, WALTZ, FUNK, ROCK, BOSSA, MARCH, DANCE, PUNK };

#define DRUM(k, v, p)                                                                              \
    {                                                                                              \
        L_DRUM, 9, (k), (v), (p)                                                                   \
    }

/* clang-format off */
static const style styles[] = {
    [BALLAD] = {"ballad", 4, 2, {73, 49, 32, 0}, 0,
                {{L_ARP, 3, 48, 78, "1-5-8-5-"},
                 {L_CHORD, 1, 55, 50, "c-------"},
                 {L_BASS, 2, 40, 80, "R-------"},
                 DRUM(37, 45, "..x...x.")},
                {"M---m-m-", "M-m-m---", "M-----m-"}},
    [STRINGS] = {"strings", 4, 2, {40, 48, 45, 45}, 0,
                 {{L_ARP, 3, 48, 85, "1-3-5-3-"},
                  {L_CHORD, 1, 55, 50, "c-------"},
                  {L_BASS, 2, 40, 75, "R-r-R-o-"}},
                 {"M---m---", "M-m-m-m-", "M-----m-"}},
    [REGGAE] = {"reggae", 4, 4, {65, 17, 33, 27}, 0,
                {DRUM(36, 95, "X.......X......."),
                 DRUM(37, 90, "........X......."),
                 DRUM(42, 70, "X...x...X...x..."),
                 {L_CHORD, 1, 60, 45, "c---------------"},
                 {L_CHORD, 3, 55, 65, "..c...c...c...c."},
                 {L_BASS, 2, 40, 90, "R---r---R---o---"}},
                {"M---m-m-M-------", "M-m-m---m---M---", "M-------m---m---"}},
    [WALTZ] = {"waltz", 3, 2, {40, 48, 42, 0}, 0,
               {DRUM(36, 70, "X....."),
                DRUM(42, 45, "..x.x."),
                {L_BASS, 2, 40, 90, "R-...."},
                {L_CHORD, 1, 55, 70, "..c.c."},
                {L_ARP, 3, 48, 55, "1-3-5-"}},
               {"M---m-", "M-m-m-", "M-----"}},
    [FUNK] = {"funk", 4, 4, {66, 7, 36, 4}, 1,
              {DRUM(36, 100, "X.....o.X......."),
               DRUM(38, 95, "....X..o....X..o"),
               DRUM(42, 70, "X.o.X.o.X.o.X.o."),
               {L_BASS, 2, 40, 90, "R...r..oR...r.o."},
               {L_CHORD, 1, 55, 75, "c...c.c.c...c.c."},
               {L_CHORD, 3, 55, 45, "c-------c-------"}},
              {"M-m-..m-M---....", "M...m.m.M-m-....", "M-------m-m-m---"}},
    [ROCK] = {"rock", 4, 2, {29, 27, 34, 48}, 1,
              {DRUM(36, 100, "X...X..."),
               DRUM(38, 100, "..X...X."),
               DRUM(42, 75, "xoxoxoxo"),
               {L_BASS, 2, 40, 90, "R-r-R-r-"},
               {L_CHORD, 1, 55, 75, "C-c-C-c-"},
               {L_CHORD, 3, 60, 45, "c-------"}},
              {"M-m-m-m-", "M---m-m-", "M-m---m-"}},
    [BOSSA] = {"bossa", 4, 2, {73, 24, 32, 4}, 0,
               {DRUM(36, 80, "X..xX..x"),
                DRUM(37, 75, "x..x..x."),
                DRUM(70, 50, "xoxoxoxo"),
                {L_BASS, 2, 40, 85, "R--fR--f"},
                {L_CHORD, 1, 55, 75, "c..c..c."},
                {L_CHORD, 3, 60, 40, "c-------"}},
               {"M---m-m-", "M-m---m-", "M-----m-"}},
    [MARCH] = {"march", 2, 2, {56, 61, 58, 71}, 1,
               {DRUM(35, 100, "X.X."),
                DRUM(38, 80, "xoxo"),
                {L_BASS, 2, 40, 95, "R.r."},
                {L_CHORD, 1, 55, 75, ".c.c"},
                {L_ARP, 3, 60, 60, "1-5-"}},
               {"M-m-", "M---", "M-mm"}},
    [DANCE] = {"dance", 4, 4, {80, 89, 38, 81}, 1,
               {DRUM(36, 110, "X...X...X...X..."),
                DRUM(39, 90, "....X.......X..."),
                DRUM(46, 70, "..x...x...x...x."),
                {L_BASS, 2, 40, 95, "..R-..r-..R-..r-"},
                {L_CHORD, 1, 55, 60, "c---------------"},
                {L_CHORD, 3, 60, 75, "c.......c......."}},
               {"M-m-m-m-M---m---", "M---m---m---m---", "M-m-m---M-m-m---"}},
    [PUNK] = {"punk", 4, 1, {29, 27, 34, 0}, 1,
              {DRUM(36, 105, "X.X."),
               DRUM(38, 100, ".X.X"),
               DRUM(42, 75, "xxxx"),
               {L_BASS, 2, 40, 95, "RrRr"},
               {L_CHORD, 1, 55, 80, "CcCc"}},
              {"M-m-", "M---", "Mmmm"}},
};
/* clang-format on */

typedef struct chord {
    int root;  /* semitones above the tonic */
    int third; /* 4 major, 3 minor */
} chord;

typedef struct progression {
    int len;
    chord c[8];
} progression;

/* clang-format off */
#define MAJ(r) {(r), 4}
#define MIN(r) {(r), 3}
/* clang-format on */

enum {
    P_I_IV_V_I,
    P_I_VI_IV_V,
    P_I_IV_I_V,
    P_I_II_V_I,
    P_I_V_VI_IV_8,
    M_I_IV_V_I,
    M_I_VI_III_VII_8,
    M_I_VII_VI_V,
    M_I_IV_I_V,
    M_I_VI_IV_V,
};

static const progression progressions[] = {
    [P_I_IV_V_I] = {4, {MAJ(0), MAJ(5), MAJ(7), MAJ(0)}},
    [P_I_VI_IV_V] = {4, {MAJ(0), MIN(9), MAJ(5), MAJ(7)}},
    [P_I_IV_I_V] = {4, {MAJ(0), MAJ(5), MAJ(0), MAJ(7)}},
    [P_I_II_V_I] = {4, {MAJ(0), MIN(2), MAJ(7), MAJ(0)}},
    [P_I_V_VI_IV_8] = {8, {MAJ(0), MAJ(7), MIN(9), MAJ(5), MAJ(0), MAJ(5), MAJ(7), MAJ(0)}},
    [M_I_IV_V_I] = {4, {MIN(0), MIN(5), MAJ(7), MIN(0)}},
    [M_I_VI_III_VII_8] = {8, {MIN(0), MAJ(8), MAJ(3), MAJ(10), MIN(0), MIN(5), MAJ(7), MIN(0)}},
    [M_I_VII_VI_V] = {4, {MIN(0), MAJ(10), MAJ(8), MAJ(7)}},
    [M_I_IV_I_V] = {4, {MIN(0), MIN(5), MIN(0), MAJ(7)}},
    [M_I_VI_IV_V] = {4, {MIN(0), MAJ(8), MIN(5), MAJ(7)}},
};

/* One piece: every key once; tempos 60..190. */
typedef struct spec {
    int style, bpm, tonic, minor, prog;
} spec;

static const spec specs[] = {
    {BALLAD, 60, 0, 0, P_I_VI_IV_V},      /* C major */
    {STRINGS, 64, 9, 1, M_I_IV_V_I},      /* A minor */
    {BALLAD, 68, 7, 0, P_I_IV_V_I},       /* G major */
    {REGGAE, 72, 4, 1, M_I_IV_I_V},       /* E minor */
    {STRINGS, 76, 2, 0, P_I_IV_V_I},      /* D major */
    {REGGAE, 80, 11, 1, M_I_VI_IV_V},     /* B minor */
    {WALTZ, 84, 9, 0, P_I_IV_V_I},        /* A major */
    {BALLAD, 88, 6, 1, M_I_VI_III_VII_8}, /* F# minor */
    {FUNK, 92, 4, 0, P_I_IV_I_V},         /* E major */
    {ROCK, 96, 1, 1, M_I_VII_VI_V},       /* C# minor */
    {FUNK, 100, 11, 0, P_I_II_V_I},       /* B major */
    {BOSSA, 104, 8, 1, M_I_IV_V_I},       /* G# minor */
    {MARCH, 108, 6, 0, P_I_IV_V_I},       /* F# major */
    {FUNK, 112, 3, 1, M_I_IV_I_V},        /* D# minor */
    {MARCH, 116, 1, 0, P_I_IV_I_V},       /* C# major */
    {ROCK, 120, 10, 1, M_I_VI_III_VII_8}, /* A# minor */
    {DANCE, 124, 8, 0, P_I_V_VI_IV_8},    /* G# major */
    {DANCE, 128, 5, 1, M_I_VI_IV_V},      /* F minor */
    {BOSSA, 132, 3, 0, P_I_VI_IV_V},      /* D# major */
    {ROCK, 138, 0, 1, M_I_IV_V_I},        /* C minor */
    {WALTZ, 144, 10, 0, P_I_IV_V_I},      /* A# major */
    {ROCK, 156, 7, 1, M_I_VII_VI_V},      /* G minor */
    {PUNK, 172, 5, 0, P_I_IV_I_V},        /* F major */
    {PUNK, 190, 2, 1, M_I_IV_V_I},        /* D minor */
};

#define N_SPECS (sizeof specs / sizeof specs[0])

static const char *const pc_names[12] = {"C",  "C#", "D",  "D#", "E",  "F",
                                         "F#", "G",  "G#", "A",  "A#", "B"};

/* The piece being built. */
typedef struct gen {
    disco_note *v;
    size_t n, cap;
    int oom;
    uint64_t rng;
    double step_s;
    const style *sty;
    int tonic, minor;
    int mel; /* current melody pitch */
} gen;

/* splitmix64: small, seedable, good enough for melodies. */
static uint64_t next_u64(gen *g)
{
    uint64_t z = (g->rng += UINT64_C(0x9E3779B97F4A7C15));

    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

/* Uniform in 0..n-1. */
static int rnd(gen *g, int n)
{
    return (int)(next_u64(g) % (uint64_t)n);
}

static int clamp_vel(int v)
{
    return v < 1 ? 1 : v > 127 ? 127 : v;
}

static void add_note(gen *g, double step, double len_steps, int ch, int pitch, int vel)
{
    if (g->n == g->cap) {
        size_t cap = g->cap ? 2 * g->cap : 512;
        disco_note *v = realloc(g->v, cap * sizeof *v);

        if (!v) {
            g->oom = 1;
            return;
        }
        g->v = v;
        g->cap = cap;
    }
    g->v[g->n++] = (disco_note){.start_s = step * g->step_s,
                                .dur_s = len_steps * g->step_s,
                                .channel = ch,
                                .pitch = pitch,
                                .velocity = clamp_vel(vel + rnd(g, 13) - 6)};
}

/* The pitch of pitch class `pc` at or above `floor`, within an octave. */
static int place(int pc, int floor)
{
    return floor + ((pc - floor) % 12 + 12) % 12;
}

static int in_chord(const chord *c, int rel)
{
    int d = ((rel - c->root) % 12 + 12) % 12;

    return d == 0 || d == c->third || d == 7;
}

/* Scale degree test relative to the tonic; minor raises the 7th over V. */
static int in_scale(const gen *g, const chord *c, int rel)
{
    static const int major[12] = {1, 0, 1, 0, 1, 1, 0, 1, 0, 1, 0, 1};
    static const int minor[12] = {1, 0, 1, 1, 0, 1, 0, 1, 1, 0, 1, 0};

    rel = (rel % 12 + 12) % 12;
    if (!g->minor)
        return major[rel];
    if (c->root == 7 && (rel == 10 || rel == 11))
        return rel == 11;
    return minor[rel];
}

/* Next melody pitch: a chord tone near the last on strong steps, else a scale step or two. */
static int melody_pitch(gen *g, const chord *c, int strong)
{
    int cand[24], n = 0;

    for (int p = g->mel - 5; p <= g->mel + 5; p++) {
        int rel = p - g->tonic;

        if (p < MEL_LO || p > MEL_HI || (p == g->mel && !strong))
            continue;
        if (strong ? in_chord(c, rel) : (in_scale(g, c, rel) && abs(p - g->mel) <= 4))
            cand[n++] = p;
    }
    if (n == 0)
        return g->mel;
    /* Lean back toward the middle of the range: drop half the candidates on the far side. */
    if (n > 1 && rnd(g, 2)) {
        int keep = 0;

        for (int k = 0; k < n; k++)
            if ((g->mel >= MEL_MID) == (cand[k] <= g->mel))
                cand[keep++] = cand[k];
        if (keep)
            n = keep;
    }
    return g->mel = cand[rnd(g, n)];
}

/* Steps a note starting at `s` lasts: itself plus the '-' after it. */
static int note_len(const char *pat, int s, int n)
{
    int len = 1;

    while (s + len < n && pat[s + len] == '-')
        len++;
    return len;
}

static int accent(char ch)
{
    return ch >= 'A' && ch <= 'Z';
}

static void play_pitched(gen *g, const lane *ln, const chord *c, double at, int s, double len)
{
    int root = place((g->tonic + c->root) % 12, ln->key);
    int vel = ln->vel + (accent(ln->pat[s]) ? 15 : 0);
    int tones[3] = {root, root + c->third, root + 7};

    switch (ln->kind) {
    case L_BASS: {
        char ch = (char)(ln->pat[s] | 0x20); /* lower case */
        int off = ch == 'f' ? 7 : ch == 'o' ? 12 : ch == 't' ? c->third : 0;

        add_note(g, at, len, ln->ch, root + off, vel);
        break;
    }
    case L_CHORD:
        for (int k = 0; k < 3; k++)
            add_note(g, at, len, ln->ch, place(tones[k] % 12, ln->key), vel);
        break;
    case L_ARP: {
        char d = ln->pat[s];
        int p = d == '3' ? tones[1] : d == '5' ? tones[2] : d == '8' ? root + 12 : root;

        add_note(g, at, len, ln->ch, p, vel);
        break;
    }
    default:
        break;
    }
}

/* One lane over one bar; the last bar plays only a downbeat held to the end. */
static void play_lane(gen *g, const lane *ln, const chord *c, size_t bar, int last)
{
    int n = g->sty->meter * g->sty->steps;
    double bar0 = (double)bar * n;

    for (int s = 0; s < n; s++) {
        char ch = ln->pat[s];
        double len = 0.92 * note_len(ln->pat, s, n);

        if (ch == '.' || ch == '-' || (last && s > 0))
            continue;
        if (last)
            len = n - 0.5;
        if (ln->kind == L_DRUM)
            add_note(g, bar0 + s, last ? n - 0.5 : g->sty->steps * 0.5, 9, ln->key,
                     ch == 'X'   ? ln->vel + 20
                     : ch == 'o' ? ln->vel - 35
                                 : ln->vel);
        else
            play_pitched(g, ln, c, bar0 + s, s, len);
    }
}

static void play_melody(gen *g, const chord *c, size_t bar, int last)
{
    int n = g->sty->meter * g->sty->steps;
    const char *pat = g->sty->mel[rnd(g, 3)];
    double bar0 = (double)bar * n;

    if (last || bar == 0) {
        g->mel = place(g->tonic, MEL_MID - 6);
        add_note(g, bar0, last ? n - 0.5 : n * 0.5, 0, g->mel, 95);
        return;
    }
    for (int s = 0; s < n; s++) {
        if (pat[s] != 'M' && pat[s] != 'm')
            continue;
        add_note(g, bar0 + s, 0.9 * note_len(pat, s, n), 0,
                 melody_pitch(g, c, s % g->sty->steps == 0), pat[s] == 'M' ? 100 : 85);
    }
}

static void play_bar(gen *g, const progression *pr, size_t bar, int last)
{
    static const chord tonic_major = MAJ(0), tonic_minor = MIN(0);
    const chord *c = last ? (g->minor ? &tonic_minor : &tonic_major) : &pr->c[bar % pr->len];

    for (int k = 0; k < MAX_LANES && g->sty->lanes[k].kind != L_END; k++)
        play_lane(g, &g->sty->lanes[k], c, bar, last);
    if (g->sty->crash && bar % 4 == 0)
        add_note(g, (double)bar * g->sty->meter * g->sty->steps, 2.0 * g->sty->steps, 9, CRASH, 95);
    play_melody(g, c, bar, last);
}

static int note_cmp(const void *pa, const void *pb)
{
    const disco_note *a = pa, *b = pb;

    if (a->start_s != b->start_s)
        return a->start_s < b->start_s ? -1 : 1;
    if (a->channel != b->channel)
        return a->channel - b->channel;
    return a->pitch - b->pitch;
}

size_t disco_pieces_count(void)
{
    return N_SPECS;
}

static void describe(const spec *sp, size_t bars, disco_piece *out)
{
    const style *sty = &styles[sp->style];

    memset(out, 0, sizeof *out);
    snprintf(out->name, sizeof out->name, "%s-%03d-%s-%s", sty->name, sp->bpm, pc_names[sp->tonic],
             sp->minor ? "minor" : "major");
    out->style = sty->name;
    out->bpm = sp->bpm;
    out->beats_per_bar = sty->meter;
    out->tonic = sp->tonic;
    out->minor = sp->minor;
    out->bars = bars;
    out->duration_s = (double)bars * sty->meter * 60.0 / sp->bpm;
    for (int ch = 0; ch < 4; ch++)
        out->programs[ch] = sty->programs[ch];
}

int disco_piece_make(size_t i, uint64_t seed, double seconds, disco_piece *out)
{
    const spec *sp;
    gen g;
    double bar_s;
    size_t bars;

    memset(out, 0, sizeof *out);
    if (i >= N_SPECS)
        return DISCO_ERR_INVAL;
    sp = &specs[i];
    if (seconds <= 0.0)
        seconds = 24.0;
    seconds = seconds < 4.0 ? 4.0 : seconds > 120.0 ? 120.0 : seconds;
    bar_s = styles[sp->style].meter * 60.0 / sp->bpm;
    bars = (size_t)(seconds / bar_s + 0.5);
    if (bars < 2)
        bars = 2;
    memset(&g, 0, sizeof g);
    g.rng = seed ^ ((uint64_t)(i + 1) * UINT64_C(0xD1B54A32D192ED03));
    g.sty = &styles[sp->style];
    g.step_s = 60.0 / sp->bpm / g.sty->steps;
    g.tonic = sp->tonic;
    g.minor = sp->minor;
    for (size_t b = 0; b < bars; b++)
        play_bar(&g, &progressions[sp->prog], b, b + 1 == bars);
    if (g.oom) {
        free(g.v);
        return DISCO_ERR_NOMEM;
    }
    qsort(g.v, g.n, sizeof *g.v, note_cmp);
    describe(sp, bars, out);
    out->notes = g.v;
    out->n_notes = g.n;
    return DISCO_OK;
}

void disco_piece_release(disco_piece *p)
{
    if (!p)
        return;
    free(p->notes);
    p->notes = NULL;
    p->n_notes = 0;
}

disco_render_config disco_piece_render_config(const disco_piece *p, int rate, int reverb)
{
    disco_render_config c = disco_render_config_default();

    c.rate = rate;
    c.reverb = reverb;
    c.chorus = 0;
    c.tail_s = 0.5;
    memcpy(c.programs, p->programs, sizeof c.programs);
    return c;
}
