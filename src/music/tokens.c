/*
 * tokens.c - score <-> REMI-like tokens (the language is described in tokens.h).
 *
 * DESIGN
 * Encoding quantises every note to the sixteenth grid first (onset and
 * duration rounded to the nearest sixteenth, duration 1..64), keeps one
 * note per (onset, program, pitch) (the longest), then walks bar by bar,
 * merging three streams sorted by absolute sixteenth: notes, tempo changes
 * and time-signature changes.
 *
 *   bars    |0 ............. L-1|0 .......... L'-1|
 *   notes      *   * *                 *
 *   tempo           ^  POS_p TEMPO_t (a position of its own when no note starts there)
 *   meter                       ^  BAR TIMESIG_x
 *
 * Meter: a time signature takes effect at the first barline at or after
 * its (quantised) tick, so a change in mid-bar waits for the next bar. One
 * with no TIMESIG token (3/8, 2/2, 13/4, ...) is written as 4/4 and the
 * grid follows that 4/4, so every bar has at most DISCO_TOK_MAX_POS
 * positions and the decoder rebuilds the same barlines. Every bar up to
 * the last onset is written, empty ones as a bare BAR, so timing survives;
 * tempo and meter changes are kept up to the end of the last note. A
 * tempo change is written only where its bucket differs from the bucket in
 * force. The header key is cond->key, or the Krumhansl-Kessler estimate
 * when it is -1 (pitch-class histogram weighted by quantised duration,
 * drums excluded, best Pearson correlation over the 24 rotated profiles;
 * 24 "unknown" when there is no pitched note or the histogram is flat).
 *
 * Decoding is a small state machine; a token that does not fit where it
 * stands is skipped and counted:
 *   - BOS anywhere but first; KEY/STYLE/FAMILY after the first BAR;
 *   - POS before the first BAR, not later than the previous POS of the bar,
 *     or at/after the bar's length;
 *   - TIMESIG in the body anywhere but right after BAR;
 *   - TEMPO, PROG or PITCH in the body with no POS yet in the bar;
 *   - VEL not right after PITCH, DUR not right after VEL;
 *   - PITCH (and its VEL) not completed by a DUR (counted when abandoned);
 *   - ids outside the vocabulary. PAD is ignored and not counted.
 * A PITCH with no PROG before it takes the last program written (0 when
 * none was). Programs become channels in order of first use (0..15 without
 * 9, reused cyclically past 15 programs); drums go to channel 9 with
 * program 0; track = order of first use. KEY_k (k < 24) gives a key
 * signature at tick 0. end_tick covers the last note and the last bar.
 */
#include "disco/tokens.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TS_44 2 /* index of 4/4 in disco_tok_timesigs */
#define TEMPO_LO 40.0
#define TEMPO_HI 250.0
#define MAX_BARS 65536u /* a 4/4 piece at 120 BPM: 36 hours */
#define DRUMS 128       /* program index of PROG_DRUMS */
#define UNKNOWN_KEY 24

const uint8_t disco_tok_timesigs[DISCO_TOK_NTIMESIGS][2] = {{2, 4}, {3, 4}, {4, 4}, {5, 4},
                                                            {6, 8}, {7, 8}, {9, 8}, {12, 8}};
const char *const disco_tok_styles[DISCO_TOK_NSTYLES] = {"unknown", "game", "folk", "classical",
                                                         "jazz",    "pop",  "rock", "electronic"};

/* --- token ids --------------------------------------------------------------- */

static const struct {
    int32_t first, count;
    disco_tok_kind kind;
    int base; /* value of `first` */
    const char *name;
} kinds[] = {
    {DISCO_TOK_PAD, 1, DISCO_TK_PAD, 0, "PAD"},
    {DISCO_TOK_BOS, 1, DISCO_TK_BOS, 0, "BOS"},
    {DISCO_TOK_EOS, 1, DISCO_TK_EOS, 0, "EOS"},
    {DISCO_TOK_BAR, 1, DISCO_TK_BAR, 0, "BAR"},
    {DISCO_TOK_POS0, DISCO_TOK_MAX_POS, DISCO_TK_POS, 0, "POS"},
    {DISCO_TOK_TEMPO0, DISCO_TOK_TEMPOS, DISCO_TK_TEMPO, 0, "TEMPO"},
    {DISCO_TOK_TIMESIG0, DISCO_TOK_NTIMESIGS, DISCO_TK_TIMESIG, 0, "TIMESIG"},
    {DISCO_TOK_PROG0, 129, DISCO_TK_PROG, 0, "PROG"},
    {DISCO_TOK_PITCH0, 128, DISCO_TK_PITCH, 0, "PITCH"},
    {DISCO_TOK_VEL0, DISCO_TOK_VELS, DISCO_TK_VEL, 0, "VEL"},
    {DISCO_TOK_DUR1, DISCO_TOK_DURS, DISCO_TK_DUR, 1, "DUR"},
    {DISCO_TOK_KEY0, DISCO_TOK_KEYS, DISCO_TK_KEY, 0, "KEY"},
    {DISCO_TOK_STYLE0, DISCO_TOK_NSTYLES, DISCO_TK_STYLE, 0, "STYLE"},
    {DISCO_TOK_FAMILY0, DISCO_TOK_FAMILIES, DISCO_TK_FAMILY, 0, "FAMILY"},
};
#define NKINDS (sizeof kinds / sizeof kinds[0])

disco_tok_kind disco_tok_kind_of(int32_t tok, int *value)
{
    for (size_t i = 0; i < NKINDS; i++) {
        if (tok >= kinds[i].first && tok < kinds[i].first + kinds[i].count) {
            if (value)
                *value = kinds[i].base + (int)(tok - kinds[i].first);
            return kinds[i].kind;
        }
    }
    if (value)
        *value = -1;
    return DISCO_TK_INVALID;
}

const char *disco_tok_name(int32_t tok, char buf[24])
{
    for (size_t i = 0; i < NKINDS; i++) {
        if (tok < kinds[i].first || tok >= kinds[i].first + kinds[i].count)
            continue;
        if (kinds[i].count == 1)
            snprintf(buf, 24, "%s", kinds[i].name);
        else if (tok == DISCO_TOK_PROG_DRUMS)
            snprintf(buf, 24, "PROG_DRUMS");
        else
            snprintf(buf, 24, "%s_%d", kinds[i].name, kinds[i].base + (int)(tok - kinds[i].first));
        return buf;
    }
    snprintf(buf, 24, "?");
    return buf;
}

/* --- buckets ----------------------------------------------------------------- */

/* Nearest centre in log-BPM; below 40 (or NaN) gives 0, above 250 the last. */
int disco_tok_tempo_bucket(double bpm)
{
    if (!(bpm > TEMPO_LO))
        return 0;
    if (bpm >= TEMPO_HI)
        return DISCO_TOK_TEMPOS - 1;
    return (int)lround(log(bpm / TEMPO_LO) / log(TEMPO_HI / TEMPO_LO) * (DISCO_TOK_TEMPOS - 1));
}

static int clampi(int v, int lo, int hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* Bucket centre; buckets outside 0..31 are clamped. */
double disco_tok_tempo_bpm(int bucket)
{
    return TEMPO_LO * pow(TEMPO_HI / TEMPO_LO,
                          (double)clampi(bucket, 0, DISCO_TOK_TEMPOS - 1) / (DISCO_TOK_TEMPOS - 1));
}

/* Velocities outside 0..127 are clamped. */
int disco_tok_vel_bin(int velocity)
{
    return clampi(velocity, 0, 127) / 8;
}

/* Bins outside 0..15 are clamped. */
int disco_tok_vel_value(int bin)
{
    return 8 * clampi(bin, 0, DISCO_TOK_VELS - 1) + 4;
}

static int sig_index(unsigned num, unsigned den)
{
    for (int i = 0; i < DISCO_TOK_NTIMESIGS; i++)
        if (disco_tok_timesigs[i][0] == num && disco_tok_timesigs[i][1] == den)
            return i;
    return TS_44;
}

static int sig_len(int idx)
{
    return disco_tok_timesigs[idx][0] * 16 / disco_tok_timesigs[idx][1];
}

static int tempo_bucket_us(uint32_t us_per_quarter)
{
    if (us_per_quarter == 0)
        return DISCO_TOK_TEMPOS - 1;
    return disco_tok_tempo_bucket(60e6 / (double)us_per_quarter);
}

/* --- encoding: quantised input ------------------------------------------------ */

typedef struct qnote {
    uint32_t pos;  /* absolute sixteenth */
    uint16_t prog; /* 0..127, DRUMS */
    uint8_t pitch, vel, dur;
} qnote;

typedef struct qmark {
    uint32_t pos;
    uint32_t seq; /* input order, so the last of equal positions wins */
    int val;      /* tempo bucket or timesig index */
} qmark;

typedef struct tokbuf {
    int32_t *v;
    size_t n, cap;
    int err; /* sticky: NOMEM once a push failed */
} tokbuf;

static void push(tokbuf *b, int32_t tok)
{
    if (b->err)
        return;
    if (b->n == b->cap) {
        size_t cap = b->cap ? 2 * b->cap : 256;
        int32_t *v = realloc(b->v, cap * sizeof *v);

        if (!v) {
            b->err = DISCO_ERR_NOMEM;
            return;
        }
        b->v = v;
        b->cap = cap;
    }
    b->v[b->n++] = tok;
}

/* Rounds ticks to the nearest sixteenth; UINT32_MAX past the bar cap. */
static uint32_t to_pos(uint64_t ticks, int tpq)
{
    uint64_t p = (ticks * 4 + (uint64_t)tpq / 2) / (uint64_t)tpq;

    return p > (uint64_t)MAX_BARS * DISCO_TOK_MAX_POS ? UINT32_MAX : (uint32_t)p;
}

static int cmp_qnote(const void *a, const void *b)
{
    const qnote *x = a, *y = b;

    if (x->pos != y->pos)
        return x->pos < y->pos ? -1 : 1;
    if (x->prog != y->prog)
        return x->prog < y->prog ? -1 : 1;
    if (x->pitch != y->pitch)
        return x->pitch < y->pitch ? -1 : 1;
    return (int)y->dur - (int)x->dur; /* longest first: it is the one kept */
}

static int cmp_qmark(const void *a, const void *b)
{
    const qmark *x = a, *y = b;

    if (x->pos != y->pos)
        return x->pos < y->pos ? -1 : 1;
    return x->seq < y->seq ? -1 : (x->seq > y->seq);
}

static int check_note(const disco_note_ev *ne, size_t i, int tpq, disco_status *st)
{
    if (ne->pitch > 127)
        return disco_status_set(st, DISCO_ERR_INVAL, "notes", "notes[%zu]: pitch %u out of 0..127",
                                i, ne->pitch);
    if (ne->channel > 15)
        return disco_status_set(st, DISCO_ERR_INVAL, "notes", "notes[%zu]: channel %u out of 0..15",
                                i, ne->channel);
    if (ne->program > 127)
        return disco_status_set(st, DISCO_ERR_INVAL, "notes",
                                "notes[%zu]: program %u out of 0..127", i, ne->program);
    if (to_pos(ne->start, tpq) == UINT32_MAX)
        return disco_status_set(st, DISCO_ERR_LIMIT, "notes",
                                "notes[%zu]: start tick %u is beyond %u bars", i, ne->start,
                                MAX_BARS);
    return DISCO_OK;
}

/* Quantised, sorted, one note per (pos, prog, pitch). */
static int quantise_notes(const disco_score *sc, qnote **out, size_t *n, disco_status *st)
{
    qnote *q = malloc(sc->nnotes * sizeof *q);
    size_t m = 0;

    if (!q)
        return disco_status_set(st, DISCO_ERR_NOMEM, "notes", "no memory for %zu notes",
                                sc->nnotes);
    for (size_t i = 0; i < sc->nnotes; i++) {
        const disco_note_ev *ne = &sc->notes[i];
        uint32_t d = to_pos(ne->dur, sc->tpq);
        int rc = check_note(ne, i, sc->tpq, st);

        if (rc) {
            free(q);
            return rc;
        }
        q[i].pos = to_pos(ne->start, sc->tpq);
        q[i].prog = ne->channel == DISCO_MIDI_DRUMS ? DRUMS : ne->program;
        q[i].pitch = ne->pitch;
        q[i].vel = (uint8_t)disco_tok_vel_bin(ne->velocity);
        q[i].dur = (uint8_t)(d < 1 ? 1 : d > DISCO_TOK_DURS ? DISCO_TOK_DURS : d);
    }
    qsort(q, sc->nnotes, sizeof *q, cmp_qnote);
    for (size_t i = 0; i < sc->nnotes; i++)
        if (m == 0 || q[i].pos != q[m - 1].pos || q[i].prog != q[m - 1].prog ||
            q[i].pitch != q[m - 1].pitch)
            q[m++] = q[i];
    *out = q;
    *n = m;
    return DISCO_OK;
}

/* Tempo (is_sig 0) or meter (1) changes before `end`, sorted; *first = value in force at 0. */
static int collect_marks(const disco_score *sc, int is_sig, uint32_t end, qmark **out, size_t *n,
                         int *first)
{
    size_t cnt = is_sig ? sc->ntimesigs : sc->ntempos, m = 0, lead;
    qmark *q = malloc((cnt ? cnt : 1) * sizeof *q);

    if (!q)
        return DISCO_ERR_NOMEM;
    for (size_t i = 0; i < cnt; i++) {
        uint32_t tick = is_sig ? sc->timesigs[i].tick : sc->tempos[i].tick;

        q[m].pos = to_pos(tick, sc->tpq);
        q[m].seq = (uint32_t)i;
        q[m].val = is_sig ? sig_index(sc->timesigs[i].num, sc->timesigs[i].den)
                          : tempo_bucket_us(sc->tempos[i].us_per_quarter);
        if (q[m].pos < end)
            m++;
    }
    qsort(q, m, sizeof *q, cmp_qmark);
    *first = is_sig ? TS_44 : disco_tok_tempo_bucket(120.0);
    for (lead = 0; lead < m && q[lead].pos == 0; lead++)
        *first = q[lead].val;
    memmove(q, q + lead, (m - lead) * sizeof *q);
    m -= lead;
    *out = q;
    *n = m;
    return DISCO_OK;
}

/* --- encoding: header ---------------------------------------------------------- */

static const double kk_major[12] = {6.35, 2.23, 3.48, 2.33, 4.38, 4.09,
                                    2.52, 5.19, 2.39, 3.66, 2.29, 2.88};
static const double kk_minor[12] = {6.33, 2.68, 3.52, 5.38, 2.60, 3.53,
                                    2.54, 4.75, 3.98, 2.69, 3.34, 3.17};

static double correlate(const double h[12], const double prof[12], int tonic)
{
    double mh = 0.0, mp = 0.0, sxy = 0.0, sxx = 0.0, syy = 0.0;

    for (int i = 0; i < 12; i++) {
        mh += h[i] / 12.0;
        mp += prof[i] / 12.0;
    }
    for (int pc = 0; pc < 12; pc++) {
        double x = h[pc] - mh, y = prof[(pc - tonic + 12) % 12] - mp;

        sxy += x * y;
        sxx += x * x;
        syy += y * y;
    }
    return sxx > 0.0 ? sxy / sqrt(sxx * syy) : 0.0;
}

static int estimate_key(const qnote *q, size_t n)
{
    double h[12] = {0}, best = -2.0, lo = INFINITY, hi = -INFINITY;
    int key = UNKNOWN_KEY;

    for (size_t i = 0; i < n; i++)
        if (q[i].prog != DRUMS)
            h[q[i].pitch % 12] += q[i].dur;
    for (int pc = 0; pc < 12; pc++) {
        lo = fmin(lo, h[pc]);
        hi = fmax(hi, h[pc]);
    }
    if (!(hi > lo))
        return UNKNOWN_KEY;
    for (int k = 0; k < 24; k++) {
        double r = correlate(h, k < 12 ? kk_major : kk_minor, k % 12);

        if (r > best) {
            best = r;
            key = k;
        }
    }
    return key;
}

static void emit_header(tokbuf *b, const qnote *q, size_t n, const disco_tok_cond *cond, int tempo,
                        int sig)
{
    uint32_t fams = 0;

    for (size_t i = 0; i < n; i++)
        fams |= 1u << (q[i].prog == DRUMS ? 16 : q[i].prog / 8);
    push(b, DISCO_TOK_BOS);
    push(b, DISCO_TOK_KEY0 + (cond->key < 0 ? estimate_key(q, n) : cond->key));
    push(b, DISCO_TOK_STYLE0 + cond->style);
    for (int f = 0; f < DISCO_TOK_FAMILIES; f++)
        if (fams & (1u << f))
            push(b, DISCO_TOK_FAMILY0 + f);
    push(b, DISCO_TOK_TEMPO0 + tempo);
    push(b, DISCO_TOK_TIMESIG0 + sig);
}

/* --- encoding: body ------------------------------------------------------------ */

typedef struct enc {
    tokbuf tb;
    const qnote *notes;
    const qmark *tempos, *sigs;
    size_t nn, nt, ns, in, it, is;
    int tempo, sig;
} enc;

static void emit_position(enc *e, uint32_t p, uint32_t bar_start)
{
    int b = e->tempo, prev = -1;
    int has_notes = e->in < e->nn && e->notes[e->in].pos == p;

    while (e->it < e->nt && e->tempos[e->it].pos <= p)
        b = e->tempos[e->it++].val;
    if (!has_notes && b == e->tempo)
        return;
    push(&e->tb, DISCO_TOK_POS0 + (int32_t)(p - bar_start));
    if (b != e->tempo)
        push(&e->tb, DISCO_TOK_TEMPO0 + b);
    e->tempo = b;
    for (; e->in < e->nn && e->notes[e->in].pos == p; e->in++) {
        const qnote *q = &e->notes[e->in];

        if (q->prog != prev)
            push(&e->tb, DISCO_TOK_PROG0 + q->prog);
        prev = q->prog;
        push(&e->tb, DISCO_TOK_PITCH0 + q->pitch);
        push(&e->tb, DISCO_TOK_VEL0 + q->vel);
        push(&e->tb, DISCO_TOK_DUR1 + q->dur - 1);
    }
}

static void emit_bar(enc *e, uint32_t start, uint32_t end)
{
    for (;;) {
        uint32_t p = UINT32_MAX;

        if (e->in < e->nn)
            p = e->notes[e->in].pos;
        if (e->it < e->nt && e->tempos[e->it].pos < p)
            p = e->tempos[e->it].pos;
        if (p >= end)
            return;
        emit_position(e, p, start);
    }
}

/* Bars from 0 through the one holding `last`, then EOS. */
static int emit_body(enc *e, uint32_t last, disco_status *st)
{
    uint32_t start = 0;

    for (unsigned bar = 0; start <= last && !e->tb.err; bar++) {
        int sig = e->sig;

        if (bar == MAX_BARS)
            return disco_status_set(st, DISCO_ERR_LIMIT, "notes",
                                    "the score spans more than %u bars", MAX_BARS);
        while (e->is < e->ns && e->sigs[e->is].pos <= start)
            sig = e->sigs[e->is++].val;
        push(&e->tb, DISCO_TOK_BAR);
        if (sig != e->sig)
            push(&e->tb, DISCO_TOK_TIMESIG0 + sig);
        e->sig = sig;
        emit_bar(e, start, start + (uint32_t)sig_len(sig));
        start += (uint32_t)sig_len(sig);
    }
    push(&e->tb, DISCO_TOK_EOS);
    return e->tb.err ? disco_status_set(st, e->tb.err, "toks", "no memory for the tokens")
                     : DISCO_OK;
}

static int check_encode_args(const disco_score *sc, const disco_tok_cond *cond, int32_t **toks,
                             size_t *n, disco_status *st)
{
    if (!sc || !toks || !n)
        return disco_status_set(st, DISCO_ERR_INVAL, !sc ? "score" : "toks", "missing argument");
    if (sc->tpq <= 0)
        return disco_status_set(st, DISCO_ERR_INVAL, "tpq", "tpq %d is not positive", sc->tpq);
    if (sc->nnotes == 0 || !sc->notes)
        return disco_status_set(st, DISCO_ERR_INVAL, "notes", "the score has no notes");
    if (sc->ntempos && !sc->tempos)
        return disco_status_set(st, DISCO_ERR_INVAL, "tempos", "ntempos %zu with no array",
                                sc->ntempos);
    if (sc->ntimesigs && !sc->timesigs)
        return disco_status_set(st, DISCO_ERR_INVAL, "timesigs", "ntimesigs %zu with no array",
                                sc->ntimesigs);
    if (cond && (cond->key < -1 || cond->key > UNKNOWN_KEY))
        return disco_status_set(st, DISCO_ERR_INVAL, "key", "key %d out of -1..24", cond->key);
    if (cond && (cond->style < 0 || cond->style >= DISCO_TOK_NSTYLES))
        return disco_status_set(st, DISCO_ERR_INVAL, "style", "style %d out of 0..%d", cond->style,
                                DISCO_TOK_NSTYLES - 1);
    return DISCO_OK;
}

/* cond NULL: key estimated, style unknown. */
int disco_tokens_encode(const disco_score *sc, const disco_tok_cond *cond, int32_t **toks,
                        size_t *n, disco_status *st)
{
    static const disco_tok_cond no_cond = {-1, 0};
    qnote *q = NULL;
    qmark *tm = NULL, *sm = NULL;
    enc e = {0};
    uint32_t end = 0, last;
    int rc = check_encode_args(sc, cond, toks, n, st);

    if (rc)
        return rc;
    if ((rc = quantise_notes(sc, &q, &e.nn, st)))
        return rc;
    for (size_t i = 0; i < e.nn; i++)
        end = q[i].pos + q[i].dur > end ? q[i].pos + q[i].dur : end;
    rc = collect_marks(sc, 0, end, &tm, &e.nt, &e.tempo);
    rc = rc ? rc : collect_marks(sc, 1, end, &sm, &e.ns, &e.sig);
    if (rc) {
        rc = disco_status_set(st, rc, "score", "no memory for the tempo and meter maps");
        goto free_all;
    }
    emit_header(&e.tb, q, e.nn, cond ? cond : &no_cond, e.tempo, e.sig);
    e.notes = q, e.tempos = tm, e.sigs = sm;
    last = q[e.nn - 1].pos;
    last = e.nt && tm[e.nt - 1].pos > last ? tm[e.nt - 1].pos : last;
    last = e.ns && sm[e.ns - 1].pos > last ? sm[e.ns - 1].pos : last;
    if ((rc = emit_body(&e, last, st)))
        goto free_all;
    *toks = e.tb.v;
    *n = e.tb.n;
    e.tb.v = NULL;
free_all:
    free(e.tb.v);
    free(q);
    free(tm);
    free(sm);
    return rc;
}

/* --- decoding ------------------------------------------------------------------- */

typedef struct dec {
    disco_score *sc;
    size_t tcap, scap;
    int tpq;
    int body;           /* after the first BAR */
    int after_bar;      /* the last token was BAR: a TIMESIG may follow */
    uint64_t bar_start; /* absolute sixteenths */
    int bar_len, sig;
    int pos;              /* in the bar; -1 before the bar's first POS */
    int prog;             /* last PROG written */
    int pitch, vel, pend; /* note being read; pend = its tokens so far */
    int key;
    int track[129], chan[129], ntracks, nchans;
    uint64_t end16;
    size_t skipped;
} dec;

/* `p` with room for `need` elements (doubling), or NULL (p is kept) when out of memory. */
static void *grow(void *p, size_t *cap, size_t need, size_t elem)
{
    size_t c = *cap ? *cap : 16;
    void *q;

    if (need <= *cap)
        return p;
    while (c < need)
        c *= 2;
    if ((q = realloc(p, c * elem)))
        *cap = c;
    return q;
}

/* Tick of an absolute sixteenth, or LIMIT past what a MIDI file holds. */
static int tick_of(const dec *d, uint64_t p16, uint32_t *tick, disco_status *st)
{
    uint64_t t = (p16 * (uint64_t)d->tpq + 2) / 4;

    if (t > DISCO_MIDI_MAX_TICK)
        return disco_status_set(st, DISCO_ERR_LIMIT, "toks",
                                "the tokens reach sixteenth %llu, past tick %u at tpq %d",
                                (unsigned long long)p16, DISCO_MIDI_MAX_TICK, d->tpq);
    *tick = (uint32_t)t;
    return DISCO_OK;
}

static int dec_tempo(dec *d, int bucket, disco_status *st)
{
    disco_score *sc = d->sc;
    uint32_t us = (uint32_t)lround(60e6 / disco_tok_tempo_bpm(bucket)), tick = 0;
    void *p;
    int rc = d->body ? tick_of(d, d->bar_start + (uint64_t)d->pos, &tick, st) : DISCO_OK;

    if (rc)
        return rc;
    if (sc->tempos[sc->ntempos - 1].tick == tick) {
        sc->tempos[sc->ntempos - 1].us_per_quarter = us;
        return DISCO_OK;
    }
    if (sc->tempos[sc->ntempos - 1].us_per_quarter == us)
        return DISCO_OK;
    if (!(p = grow(sc->tempos, &d->tcap, sc->ntempos + 1, sizeof *sc->tempos)))
        return disco_status_set(st, DISCO_ERR_NOMEM, "tempos", "no memory for tempo changes");
    sc->tempos = p;
    sc->tempos[sc->ntempos++] = (disco_tempo_ev){tick, us};
    return DISCO_OK;
}

static int dec_timesig(dec *d, int idx, disco_status *st)
{
    disco_score *sc = d->sc;
    disco_timesig_ev ev = {0, disco_tok_timesigs[idx][0], disco_tok_timesigs[idx][1]};
    disco_timesig_ev *last = &sc->timesigs[sc->ntimesigs - 1];
    void *p;
    int rc = d->body ? tick_of(d, d->bar_start, &ev.tick, st) : DISCO_OK;

    if (rc)
        return rc;
    d->sig = idx;
    d->bar_len = sig_len(idx);
    if (last->tick == ev.tick) {
        *last = ev;
        return DISCO_OK;
    }
    if (last->num == ev.num && last->den == ev.den)
        return DISCO_OK;
    if (!(p = grow(sc->timesigs, &d->scap, sc->ntimesigs + 1, sizeof *sc->timesigs)))
        return disco_status_set(st, DISCO_ERR_NOMEM, "timesigs", "no memory for meter changes");
    sc->timesigs = p;
    sc->timesigs[sc->ntimesigs++] = ev;
    return DISCO_OK;
}

static int dec_bar(dec *d, disco_status *st)
{
    uint32_t tick;

    if (d->body) {
        d->bar_start += (uint64_t)d->bar_len;
        d->end16 = d->bar_start > d->end16 ? d->bar_start : d->end16;
    }
    d->body = 1;
    d->after_bar = 1;
    d->pos = -1;
    return tick_of(d, d->bar_start + DISCO_TOK_MAX_POS + DISCO_TOK_DURS, &tick, st);
}

static int dec_note(dec *d, int dur16, disco_status *st)
{
    disco_score *sc = d->sc;
    uint64_t p16 = d->bar_start + (uint64_t)d->pos;
    int g = d->prog;
    disco_note_ev ne = {0};
    uint32_t end = 0;
    int rc = tick_of(d, p16, &ne.start, st);

    if (rc || (rc = tick_of(d, p16 + (uint64_t)dur16, &end, st)))
        return rc;
    if (d->track[g] < 0) {
        d->track[g] = d->ntracks++;
        d->chan[g] = g == DRUMS ? DISCO_MIDI_DRUMS : (d->nchans++ % 15);
        d->chan[g] += d->chan[g] >= DISCO_MIDI_DRUMS && g != DRUMS;
    }
    ne.dur = end > ne.start ? end - ne.start : 1;
    ne.pitch = (uint8_t)d->pitch;
    ne.velocity = (uint8_t)disco_tok_vel_value(d->vel);
    ne.channel = (uint8_t)d->chan[g];
    ne.program = (uint8_t)(g == DRUMS ? 0 : g);
    ne.track = (uint16_t)d->track[g];
    if ((rc = disco_score_add_note(sc, &ne, st)))
        return rc;
    if (p16 + (uint64_t)dur16 > d->end16)
        d->end16 = p16 + (uint64_t)dur16;
    d->pend = 0;
    return DISCO_OK;
}

/* A token other than PAD, VEL, DUR, BAR and EOS; returns 1 when it is skipped. */
static int dec_other(dec *d, disco_tok_kind k, int v, size_t i, int *rc, disco_status *st)
{
    int in_pos = d->body && d->pos >= 0;

    if (k == DISCO_TK_BOS || k == DISCO_TK_KEY || k == DISCO_TK_STYLE || k == DISCO_TK_FAMILY) {
        if (k == DISCO_TK_KEY && !d->body)
            d->key = v;
        return k == DISCO_TK_BOS ? i > 0 : d->body;
    }
    if (k == DISCO_TK_TIMESIG && (!d->body || d->after_bar))
        *rc = dec_timesig(d, v, st);
    else if (k == DISCO_TK_TEMPO && (!d->body || in_pos))
        *rc = dec_tempo(d, v, st);
    else if (k == DISCO_TK_POS && d->body && v > d->pos && v < d->bar_len)
        d->pos = v;
    else if (k == DISCO_TK_PROG && in_pos)
        d->prog = v;
    else if (k == DISCO_TK_PITCH && in_pos)
        d->pitch = v, d->pend = 1;
    else
        return 1;
    return 0;
}

/* One token: 1 at EOS, 0 to go on, or an error. */
static int dec_token(dec *d, int32_t tok, size_t i, disco_status *st)
{
    int v, rc = DISCO_OK;
    disco_tok_kind k = disco_tok_kind_of(tok, &v);

    if (k == DISCO_TK_PAD)
        return DISCO_OK;
    if (k == DISCO_TK_VEL && d->pend == 1) {
        d->vel = v;
        d->pend = 2;
        return DISCO_OK;
    }
    if (k == DISCO_TK_DUR && d->pend == 2)
        return dec_note(d, v, st);
    d->skipped += (size_t)d->pend;
    d->pend = 0;
    if (k == DISCO_TK_EOS)
        return 1;
    if (k == DISCO_TK_BAR)
        return dec_bar(d, st);
    d->skipped += (size_t)dec_other(d, k, v, i, &rc, st);
    d->after_bar = 0;
    return rc;
}

static int dec_finish(dec *d, disco_status *st)
{
    disco_score *sc = d->sc;
    int rc;

    if (d->body && d->bar_start + (uint64_t)d->bar_len > d->end16)
        d->end16 = d->bar_start + (uint64_t)d->bar_len;
    if ((rc = tick_of(d, d->end16, &sc->end_tick, st)))
        return rc;
    disco_score_sort(sc);
    if (d->key >= 0 && d->key < UNKNOWN_KEY) {
        int tonic = d->key % 12, major = d->key < 12 ? tonic : (tonic + 3) % 12;
        int sharps = major * 7 % 12;

        if (!(sc->keysigs = malloc(sizeof *sc->keysigs)))
            return disco_status_set(st, DISCO_ERR_NOMEM, "keysigs", "no memory");
        sc->keysigs[0] = (disco_keysig_ev){0, (int8_t)(sharps > 6 ? sharps - 12 : sharps),
                                           (uint8_t)(d->key >= 12)};
        sc->nkeysigs = 1;
    }
    return DISCO_OK;
}

static int dec_init(dec *d, disco_score *out, int tpq, disco_status *st)
{
    memset(d, 0, sizeof *d);
    d->sc = out;
    d->tpq = tpq;
    d->sig = TS_44;
    d->bar_len = sig_len(TS_44);
    d->pos = -1;
    d->key = -1;
    d->tcap = d->scap = 1;
    for (int g = 0; g < 129; g++)
        d->track[g] = d->chan[g] = -1;
    return disco_score_init(out, tpq, st);
}

int disco_tokens_decode(const int32_t *toks, size_t n, int tpq, disco_score *out, size_t *skipped,
                        disco_status *st)
{
    dec d;
    int rc = DISCO_OK;

    if (!out || (!toks && n > 0))
        return disco_status_set(st, DISCO_ERR_INVAL, !out ? "out" : "toks", "missing argument");
    if (tpq < 4 || tpq > 0x7FFF)
        return disco_status_set(st, DISCO_ERR_INVAL, "tpq", "tpq %d out of 4..32767", tpq);
    rc = dec_init(&d, out, tpq, st);
    for (size_t i = 0; i < n && rc == DISCO_OK; i++)
        rc = dec_token(&d, toks[i], i, st);
    if (rc >= 0) {
        d.skipped += (size_t)d.pend;
        rc = dec_finish(&d, st);
    }
    if (rc < 0) {
        disco_score_release(out);
        return rc;
    }
    if (skipped)
        *skipped = d.skipped;
    return DISCO_OK;
}

/* --- transposition -------------------------------------------------------------- */

/* Pitched PITCH tokens (under a PROG other than drums; 0 before any PROG) and KEY tokens. */
int disco_tokens_transpose(int32_t *toks, size_t n, int semitones, disco_status *st)
{
    int shift = ((semitones % 12) + 12) % 12;

    if (!toks && n > 0)
        return disco_status_set(st, DISCO_ERR_INVAL, "toks", "missing argument");
    for (int pass = 0; pass < 2; pass++) {
        int prog = 0, v;

        for (size_t i = 0; i < n; i++) {
            disco_tok_kind k = disco_tok_kind_of(toks[i], &v);

            if (k == DISCO_TK_PROG)
                prog = v;
            if (k == DISCO_TK_PITCH && prog != DRUMS) {
                long p = (long)v + semitones;

                if (p < 0 || p > 127)
                    return disco_status_set(st, DISCO_ERR_INVAL, "semitones",
                                            "toks[%zu]: pitch %d %+d leaves 0..127", i, v,
                                            semitones);
                if (pass)
                    toks[i] = DISCO_TOK_PITCH0 + (int32_t)p;
            }
            if (pass && k == DISCO_TK_KEY && v < UNKNOWN_KEY)
                toks[i] = DISCO_TOK_KEY0 + (v / 12) * 12 + (v % 12 + shift) % 12;
        }
    }
    return DISCO_OK;
}
