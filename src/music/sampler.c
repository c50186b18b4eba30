/*
 * sampler.c - constrained sampling from a disco_lm (see sampler.h).
 *
 * DESIGN
 * A grammar state (what was written so far: header progress, bar, position,
 * program, last pitch, notes at the position, bars, length) drives a mask
 * builder that marks every vocabulary entry once per step:
 *
 *   NO   the grammar rules it out (the canonical token order)
 *   CUT  the grammar allows it but a constraint removes it
 *   OK   allowed
 *
 * so the per-step cost is one pass over the vocabulary plus a pass over the
 * 129 programs for "can a note start here" (computed once per bar for weak
 * and strong positions). Pitch sets are 128-bit masks: each program's
 * range, ANDed with the scale or the bar's chord expanded over octaves.
 *
 * Budget: from a boundary (after BAR, DUR or a tempo-only position) the
 * shortest finish is the BARs still owed plus EOS; a token is offered only
 * when the shortest finish after it still fits in max_tokens. After POS
 * the shortest way on is a TEMPO (when enabled), else PROG PITCH VEL DUR;
 * POS and PROG are offered only where a note can be placed, so no state
 * is a dead end and every sequence ends with EOS.
 *
 * Drawing: candidates are the OK tokens; temperature 0 (or one candidate)
 * takes the likeliest (lowest id on ties); otherwise they are sorted only
 * when top-k or top-p needs it, weighted exp((logp - max) / T) and drawn
 * with a 53-bit uniform from xoshiro256**.
 */
#include "disco/sampler.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define V DISCO_TOK_VOCAB
#define DRUMS 128
#define NPROG DISCO_SAMPLER_PROGS
#define NO 0
#define CUT 1
#define OK 2

typedef struct gram {
    disco_tok_kind last; /* kind of the last token */
    int body;            /* after the first BAR */
    int last_fam;        /* last FAMILY in the header, -1 */
    uint32_t fams;       /* families the header declared */
    int bars;            /* BARs written */
    int sig, bar_len, tempo;
    int pos;        /* position in the bar, -1 before its first POS */
    int prog;       /* last PROG written, -1 */
    int last_pitch; /* pitch of the last PITCH */
    int npos;       /* notes at the position */
    int has_chord;  /* the bar has a chord mask */
    uint64_t chord[2];
    int poss[2]; /* a note can start at a weak [0] / strong [1] position of this bar */
    size_t len;  /* tokens written */
} gram;

typedef struct cand {
    double s;
    int32_t tok;
} cand;

typedef struct smp {
    const disco_sampler_config *cfg;
    uint64_t range[NPROG][2]; /* pitches in each program's range */
    uint64_t scale[2];
    uint8_t prog_ok[NPROG]; /* allowed, with a pitch in range and scale */
    uint32_t fam_ok;        /* families with a prog_ok program */
    gram g;
    uint8_t val[V];
    float logp[V];
    cand c[V];
    uint64_t rng[4];
} smp;

/* --- configuration ------------------------------------------------------------ */

static const uint8_t family_range[17][2] = {
    {21, 108}, {41, 108}, {24, 96}, {40, 88},  {28, 67}, {28, 100}, {28, 96},  {34, 84}, {34, 96},
    {48, 108}, {36, 96},  {36, 96}, {24, 108}, {36, 96}, {36, 96},  {24, 108}, {35, 81}};

void disco_sampler_default_range(int program, uint8_t *lo, uint8_t *hi)
{
    int f = program == DRUMS ? 16 : program / 8;

    *lo = 0;
    *hi = 127;
    if (program >= 0 && program <= DRUMS) {
        *lo = family_range[f][0];
        *hi = family_range[f][1];
    }
}

disco_sampler_config disco_sampler_config_default(void)
{
    disco_sampler_config c;

    memset(&c, 0, sizeof c);
    c.temperature = 1.0;
    c.top_p = 1.0;
    c.seed = 1;
    c.max_tokens = 4096;
    c.key = c.style = c.tempo = c.timesig = -1;
    c.tempo_changes = 1;
    c.meter_changes = 1;
    c.max_poly = 8;
    c.scale = 0xFFF;
    for (int g = 0; g < NPROG; g++) {
        c.programs[g] = 1;
        disco_sampler_default_range(g, &c.lo[g], &c.hi[g]);
    }
    return c;
}

static int family_of(int g)
{
    return g == DRUMS ? 16 : g / 8;
}

static int popcount32(uint32_t x)
{
    int n = 0;

    for (; x; x &= x - 1)
        n++;
    return n;
}

static void expand(uint16_t pcs, uint64_t out[2])
{
    out[0] = out[1] = 0;
    for (int p = 0; p < 128; p++)
        if (pcs & (1u << (p % 12)))
            out[p / 64] |= UINT64_C(1) << (p % 64);
}

static int check_scalars(const disco_sampler_config *c, disco_status *st)
{
    if (!(c->temperature >= 0.0) || !isfinite(c->temperature))
        return disco_status_set(st, DISCO_ERR_INVAL, "temperature",
                                "temperature %g is not a finite value >= 0", c->temperature);
    if (c->top_k < 0)
        return disco_status_set(st, DISCO_ERR_INVAL, "top_k", "top_k %d is negative", c->top_k);
    if (!(c->top_p > 0.0 && c->top_p <= 1.0))
        return disco_status_set(st, DISCO_ERR_INVAL, "top_p", "top_p %g out of (0, 1]", c->top_p);
    if (c->key < -1 || c->key >= DISCO_TOK_KEYS)
        return disco_status_set(st, DISCO_ERR_INVAL, "key", "key %d out of -1..24", c->key);
    if (c->style < -1 || c->style >= DISCO_TOK_NSTYLES)
        return disco_status_set(st, DISCO_ERR_INVAL, "style", "style %d out of -1..%d", c->style,
                                DISCO_TOK_NSTYLES - 1);
    if (c->tempo < -1 || c->tempo >= DISCO_TOK_TEMPOS)
        return disco_status_set(st, DISCO_ERR_INVAL, "tempo", "tempo bucket %d out of -1..%d",
                                c->tempo, DISCO_TOK_TEMPOS - 1);
    if (c->timesig < -1 || c->timesig >= DISCO_TOK_NTIMESIGS)
        return disco_status_set(st, DISCO_ERR_INVAL, "timesig", "timesig %d out of -1..%d",
                                c->timesig, DISCO_TOK_NTIMESIGS - 1);
    if (c->families >> DISCO_TOK_FAMILIES)
        return disco_status_set(st, DISCO_ERR_INVAL, "families",
                                "families 0x%x has bits past family 16", c->families);
    if (c->bars < 0 || c->bars > DISCO_SAMPLER_MAX_BARS)
        return disco_status_set(st, DISCO_ERR_INVAL, "bars", "bars %d out of 0..%d", c->bars,
                                DISCO_SAMPLER_MAX_BARS);
    if (c->max_poly < 1 || c->max_poly > 128)
        return disco_status_set(st, DISCO_ERR_INVAL, "max_poly", "max_poly %d out of 1..128",
                                c->max_poly);
    return DISCO_OK;
}

static int check_masks(const disco_sampler_config *c, disco_status *st)
{
    if (c->scale & ~0xFFFu)
        return disco_status_set(st, DISCO_ERR_INVAL, "scale", "scale 0x%x has bits past 11",
                                c->scale);
    if (c->nchords && !c->chords)
        return disco_status_set(st, DISCO_ERR_INVAL, "chords", "nchords %zu with no array",
                                c->nchords);
    for (size_t i = 0; i < c->nchords; i++)
        if (c->chords[i] & ~0xFFFu)
            return disco_status_set(st, DISCO_ERR_INVAL, "chords",
                                    "chords[%zu] 0x%x has bits past 11", i, c->chords[i]);
    for (int g = 0; g < NPROG; g++) {
        if (c->hi[g] > 127)
            return disco_status_set(st, DISCO_ERR_INVAL, "hi", "hi[%d] %u above 127", g, c->hi[g]);
        if (c->lo[g] > c->hi[g])
            return disco_status_set(st, DISCO_ERR_INVAL, "lo", "lo[%d] %u above hi[%d] %u", g,
                                    c->lo[g], g, c->hi[g]);
    }
    return DISCO_OK;
}

/* Range tables, playable programs and families; INVAL when nothing can play. */
static int setup_tables(smp *s, disco_status *st)
{
    const disco_sampler_config *c = s->cfg;

    expand(c->scale, s->scale);
    s->fam_ok = 0;
    for (int g = 0; g < NPROG; g++) {
        s->range[g][0] = s->range[g][1] = 0;
        for (int p = c->lo[g]; p <= c->hi[g]; p++)
            s->range[g][p / 64] |= UINT64_C(1) << (p % 64);
        s->prog_ok[g] =
            c->programs[g] &&
            (g == DRUMS ? (s->range[g][0] | s->range[g][1]) != 0
                        : ((s->range[g][0] & s->scale[0]) | (s->range[g][1] & s->scale[1])) != 0);
        if (s->prog_ok[g])
            s->fam_ok |= 1u << family_of(g);
    }
    if (!s->fam_ok)
        return disco_status_set(st, DISCO_ERR_INVAL, "programs",
                                "no allowed program has a pitch in its range and the scale");
    for (int f = 0; f < DISCO_TOK_FAMILIES; f++)
        if ((c->families & (1u << f)) && !(s->fam_ok & (1u << f)))
            return disco_status_set(st, DISCO_ERR_INVAL, "families",
                                    "family %d has no allowed program with a pitch in its range "
                                    "and the scale",
                                    f);
    return DISCO_OK;
}

static int setup(smp *s, const disco_sampler_config *c, disco_status *st)
{
    size_t fams, need;
    int rc;

    if (!c)
        return disco_status_set(st, DISCO_ERR_INVAL, "cfg", "missing config");
    if ((rc = check_scalars(c, st)) || (rc = check_masks(c, st)))
        return rc;
    s->cfg = c;
    if ((rc = setup_tables(s, st)))
        return rc;
    fams = (size_t)popcount32(c->families);
    need = 5 + (fams ? fams : 1) + (size_t)(c->bars ? c->bars : 1) + 1;
    if (c->max_tokens < need || c->max_tokens > DISCO_SAMPLER_MAX_TOKENS)
        return disco_status_set(st, DISCO_ERR_INVAL, "max_tokens",
                                "max_tokens %zu out of %zu..%u (header, bars and EOS)",
                                c->max_tokens, need, DISCO_SAMPLER_MAX_TOKENS);
    memset(&s->g, 0, sizeof s->g);
    s->g.last = DISCO_TK_PAD;
    s->g.last_fam = s->g.pos = s->g.prog = -1;
    s->g.sig = 2;
    s->g.bar_len = 16;
    return DISCO_OK;
}

/* --- grammar state ---------------------------------------------------------------- */

static void pitch_set(const smp *s, int g, int strong, uint64_t out[2])
{
    const uint64_t *m = strong && s->g.has_chord ? s->g.chord : s->scale;

    out[0] = s->range[g][0] & (g == DRUMS ? ~UINT64_C(0) : m[0]);
    out[1] = s->range[g][1] & (g == DRUMS ? ~UINT64_C(0) : m[1]);
}

static int strong_pos(int pos)
{
    return pos == 0 || pos == 8;
}

static int playable(const smp *s, int g, int strong)
{
    uint64_t m[2];

    if (g < 0 || !s->prog_ok[g] || !(s->g.fams & (1u << family_of(g))))
        return 0;
    pitch_set(s, g, strong, m);
    return (m[0] | m[1]) != 0;
}

static void enter_bar(smp *s)
{
    const disco_sampler_config *c = s->cfg;
    gram *g = &s->g;
    uint16_t chord = c->nchords ? c->chords[(size_t)g->bars % c->nchords] : 0;

    g->body = 1;
    g->bars++;
    g->pos = -1;
    g->npos = 0;
    g->has_chord = chord != 0;
    expand(chord, g->chord);
    for (int k = 0; k < 2; k++) {
        g->poss[k] = 0;
        for (int p = 0; p < NPROG && !g->poss[k]; p++)
            g->poss[k] = playable(s, p, k);
    }
}

static void advance(smp *s, int32_t tok)
{
    gram *g = &s->g;
    int v;
    disco_tok_kind k = disco_tok_kind_of(tok, &v);

    g->len++;
    switch (k) {
    case DISCO_TK_FAMILY:
        g->fams |= 1u << v;
        g->last_fam = v;
        break;
    case DISCO_TK_TEMPO:
        g->tempo = v;
        break;
    case DISCO_TK_TIMESIG:
        g->sig = v;
        g->bar_len = disco_tok_timesigs[v][0] * 16 / disco_tok_timesigs[v][1];
        break;
    case DISCO_TK_BAR:
        enter_bar(s);
        break;
    case DISCO_TK_POS:
        g->pos = v;
        g->npos = 0;
        break;
    case DISCO_TK_PROG:
        g->prog = v;
        break;
    case DISCO_TK_PITCH:
        g->last_pitch = v;
        break;
    case DISCO_TK_DUR:
        g->npos++;
        break;
    default:
        break;
    }
    g->last = k;
}

/* --- mask ----------------------------------------------------------------------- */

/* Tokens owed from a boundary with `bars` BARs written: the BARs still required and EOS. */
static size_t finish_cost(const smp *s, int bars)
{
    int need = s->cfg->bars - bars;

    if (!s->g.body && need < 1)
        need = 1;
    return (size_t)(need > 0 ? need : 0) + 1;
}

/* Whether the sequence can still end in budget after a token followed by `cost` more. */
static int fits(const smp *s, size_t cost)
{
    return s->g.len + 1 + cost <= s->cfg->max_tokens;
}

static void mark(smp *s, int32_t tok, int grammar, int constraint)
{
    s->val[tok] = (uint8_t)(grammar ? (constraint ? OK : CUT) : NO);
}

static void mask_choice(smp *s, int32_t first, int count, int forced)
{
    for (int i = 0; i < count; i++)
        mark(s, first + i, 1, forced < 0 || i == forced);
}

/* FAMILY (ascending) or TEMPO, in the header. */
static void mask_families(smp *s)
{
    const disco_sampler_config *c = s->cfg;
    int next = -1, fam_done;
    size_t after = 2 + finish_cost(s, 0);

    for (int f = s->g.last_fam + 1; f < DISCO_TOK_FAMILIES && next < 0; f++)
        if (c->families & (1u << f))
            next = f;
    fam_done = c->families ? next < 0 : s->g.last_fam >= 0;
    for (int f = 0; f < DISCO_TOK_FAMILIES; f++)
        mark(s, DISCO_TOK_FAMILY0 + f, f > s->g.last_fam,
             (c->families ? f == next : (s->fam_ok & (1u << f)) != 0) && fits(s, after));
    for (int t = 0; t < DISCO_TOK_TEMPOS; t++)
        mark(s, DISCO_TOK_TEMPO0 + t, 1, fam_done && (c->tempo < 0 || t == c->tempo));
}

/* A later POS, BAR or EOS. */
static void mask_boundary(smp *s)
{
    const disco_sampler_config *c = s->cfg;
    const gram *g = &s->g;
    size_t fin = finish_cost(s, g->bars), pos_cost = (c->tempo_changes ? 1 : 3) + fin;

    for (int p = 0; p < DISCO_TOK_MAX_POS; p++)
        mark(s, DISCO_TOK_POS0 + p, p > g->pos && p < g->bar_len,
             (c->tempo_changes || g->poss[strong_pos(p)]) && fits(s, pos_cost));
    mark(s, DISCO_TOK_BAR, 1,
         (c->bars == 0 || g->bars < c->bars) && fits(s, finish_cost(s, g->bars + 1)));
    mark(s, DISCO_TOK_EOS, 1, c->bars == 0 || g->bars == c->bars);
}

static void mask_pitches(smp *s, int prog, int above, int room)
{
    uint64_t m[2] = {0, 0};
    int ok =
        room && playable(s, prog, strong_pos(s->g.pos)) && fits(s, 2 + finish_cost(s, s->g.bars));

    if (prog >= 0)
        pitch_set(s, prog, strong_pos(s->g.pos), m);
    for (int p = 0; p < 128; p++)
        mark(s, DISCO_TOK_PITCH0 + p, prog >= 0 && p > above, ok && (m[p / 64] >> (p % 64) & 1));
}

/* PROG or PITCH starting a note at the current position (first or a further one). */
static void mask_note_start(smp *s)
{
    const gram *g = &s->g;
    int room = g->npos < s->cfg->max_poly, strong = strong_pos(g->pos);
    int min_prog = g->npos > 0 ? g->prog + 1 : 0;
    size_t cost = 3 + finish_cost(s, g->bars);

    for (int p = 0; p < NPROG; p++)
        mark(s, DISCO_TOK_PROG0 + p, p >= min_prog,
             room && playable(s, p, strong) && fits(s, cost));
    mask_pitches(s, g->prog, g->npos > 0 ? g->last_pitch : -1, room);
}

static void mask_body(smp *s)
{
    const gram *g = &s->g;
    size_t fin = finish_cost(s, g->bars);

    switch (g->last) {
    case DISCO_TK_BAR:
        for (int t = 0; t < DISCO_TOK_NTIMESIGS; t++)
            mark(s, DISCO_TOK_TIMESIG0 + t, t != g->sig, s->cfg->meter_changes && fits(s, fin));
        mask_boundary(s);
        break;
    case DISCO_TK_TIMESIG:
        mask_boundary(s);
        break;
    case DISCO_TK_POS:
        for (int t = 0; t < DISCO_TOK_TEMPOS; t++)
            mark(s, DISCO_TOK_TEMPO0 + t, t != g->tempo, s->cfg->tempo_changes && fits(s, fin));
        mask_note_start(s);
        break;
    case DISCO_TK_TEMPO:
    case DISCO_TK_DUR:
        mask_note_start(s);
        mask_boundary(s);
        break;
    case DISCO_TK_PROG:
        mask_pitches(s, g->prog, -1, 1);
        break;
    case DISCO_TK_PITCH:
        mask_choice(s, DISCO_TOK_VEL0, DISCO_TOK_VELS, -1);
        break;
    case DISCO_TK_VEL:
        mask_choice(s, DISCO_TOK_DUR1, DISCO_TOK_DURS, -1);
        break;
    default: /* EOS */
        break;
    }
}

static void build_mask(smp *s)
{
    const disco_sampler_config *c = s->cfg;

    memset(s->val, NO, sizeof s->val);
    if (s->g.body) {
        mask_body(s);
        return;
    }
    switch (s->g.last) {
    case DISCO_TK_BOS:
        mask_choice(s, DISCO_TOK_KEY0, DISCO_TOK_KEYS, c->key);
        break;
    case DISCO_TK_KEY:
        mask_choice(s, DISCO_TOK_STYLE0, DISCO_TOK_NSTYLES, c->style);
        break;
    case DISCO_TK_STYLE:
    case DISCO_TK_FAMILY:
        mask_families(s);
        break;
    case DISCO_TK_TEMPO:
        mask_choice(s, DISCO_TOK_TIMESIG0, DISCO_TOK_NTIMESIGS, c->timesig);
        break;
    case DISCO_TK_TIMESIG:
        mark(s, DISCO_TOK_BAR, 1, 1);
        break;
    default:
        break;
    }
}

/* --- drawing ---------------------------------------------------------------------- */

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += UINT64_C(0x9E3779B97F4A7C15));

    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

/* xoshiro256**, as a uniform double in [0, 1). */
static double uniform(uint64_t r[4])
{
    uint64_t out = rotl(r[1] * 5, 7) * 9, t = r[1] << 17;

    r[2] ^= r[0];
    r[3] ^= r[1];
    r[1] ^= r[2];
    r[0] ^= r[3];
    r[2] ^= t;
    r[3] = rotl(r[3], 45);
    return (double)(out >> 11) * 0x1.0p-53;
}

static int cmp_cand(const void *a, const void *b)
{
    const cand *x = a, *y = b;

    if (x->s != y->s)
        return x->s > y->s ? -1 : 1;
    return x->tok < y->tok ? -1 : (x->tok > y->tok);
}

/* Candidates (OK tokens, logp with NaN as -inf) and the step's mask statistics. */
static size_t collect(smp *s, disco_sampler_stats *stats)
{
    size_t m = 0;

    for (int32_t t = 0; t < V; t++) {
        double lp = isnan(s->logp[t]) ? -INFINITY : (double)s->logp[t];

        if (s->val[t] == OK) {
            s->c[m].s = lp;
            s->c[m++].tok = t;
        } else if (s->val[t] == CUT) {
            stats->masked++;
            stats->masked_mass += exp(lp);
        } else {
            stats->grammar_masked++;
        }
    }
    return m;
}

static int32_t argmax(const cand *c, size_t m)
{
    size_t best = 0;

    for (size_t i = 1; i < m; i++)
        if (c[i].s > c[best].s)
            best = i;
    return c[best].tok;
}

/* Temperature, top-k, top-p and one draw over the m candidates. */
static int32_t draw(smp *s, size_t m)
{
    const disco_sampler_config *c = s->cfg;
    double smax = -INFINITY, total = 0.0, u;
    size_t keep = m;

    if ((c->top_k > 0 && (size_t)c->top_k < m) || c->top_p < 1.0) {
        qsort(s->c, m, sizeof *s->c, cmp_cand);
        if (c->top_k > 0 && (size_t)c->top_k < m)
            keep = (size_t)c->top_k;
    }
    for (size_t i = 0; i < keep; i++)
        smax = fmax(smax, s->c[i].s);
    for (size_t i = 0; i < keep; i++) {
        s->c[i].s = smax == -INFINITY ? 1.0 : exp((s->c[i].s - smax) / c->temperature);
        total += s->c[i].s;
    }
    if (c->top_p < 1.0) {
        double cum = 0.0, cut = c->top_p * total;
        size_t i = 0;

        while (i < keep && cum < cut)
            cum += s->c[i++].s;
        keep = i > 0 ? i : 1;
        total = cum > 0.0 ? cum : s->c[0].s;
    }
    u = uniform(s->rng) * total;
    for (size_t i = 0; i + 1 < keep; i++) {
        if (u < s->c[i].s)
            return s->c[i].tok;
        u -= s->c[i].s;
    }
    return s->c[keep - 1].tok;
}

static int choose(smp *s, disco_sampler_stats *stats, int32_t *tok, disco_status *st)
{
    size_t m = collect(s, stats);

    if (m == 0)
        return disco_status_set(st, DISCO_ERR_INTERNAL, "toks", "no token allowed after %zu tokens",
                                s->g.len);
    if (m == 1) {
        stats->forced++;
        *tok = s->c[0].tok;
    } else if (s->cfg->temperature == 0.0 || s->cfg->top_k == 1) {
        *tok = argmax(s->c, m);
    } else {
        *tok = draw(s, m);
    }
    return DISCO_OK;
}

/* --- entry points ------------------------------------------------------------------ */

static int check_lm(disco_lm *lm, disco_status *st)
{
    size_t v;

    if (!lm || !lm->vt || !lm->vt->vocab || !lm->vt->reset || !lm->vt->step)
        return disco_status_set(st, DISCO_ERR_INVAL, "lm", "missing lm or vtable entry");
    if ((v = lm->vt->vocab(lm)) != V)
        return disco_status_set(st, DISCO_ERR_INVAL, "lm", "lm vocab %zu is not the token vocab %d",
                                v, V);
    return DISCO_OK;
}

static int run(smp *s, disco_lm *lm, int32_t *out, disco_sampler_stats *stats, disco_status *st)
{
    int32_t tok = DISCO_TOK_BOS;
    uint64_t x = s->cfg->seed;
    int rc;

    for (int i = 0; i < 4; i++)
        s->rng[i] = splitmix64(&x);
    lm->vt->reset(lm);
    out[0] = tok;
    advance(s, tok);
    while (tok != DISCO_TOK_EOS) {
        if (s->g.len >= s->cfg->max_tokens)
            return disco_status_set(st, DISCO_ERR_INTERNAL, "max_tokens",
                                    "no EOS within %zu tokens", s->cfg->max_tokens);
        if ((rc = lm->vt->step(lm, tok, s->logp, st)))
            return rc;
        stats->steps++;
        build_mask(s);
        if ((rc = choose(s, stats, &tok, st)))
            return rc;
        out[s->g.len] = tok;
        advance(s, tok);
    }
    stats->tokens = s->g.len;
    return DISCO_OK;
}

int disco_sampler_generate(disco_lm *lm, const disco_sampler_config *cfg, int32_t **toks, size_t *n,
                           disco_sampler_stats *stats, disco_status *st)
{
    disco_sampler_stats local;
    smp *s = NULL;
    int32_t *out = NULL;
    int rc;

    if (!toks || !n)
        return disco_status_set(st, DISCO_ERR_INVAL, "toks", "missing output");
    if ((rc = check_lm(lm, st)))
        return rc;
    if (!(s = malloc(sizeof *s)))
        return disco_status_set(st, DISCO_ERR_NOMEM, "sampler", "no memory for the sampler");
    if ((rc = setup(s, cfg, st)))
        goto free_s;
    if (!(out = malloc(cfg->max_tokens * sizeof *out))) {
        rc = disco_status_set(st, DISCO_ERR_NOMEM, "max_tokens", "no memory for %zu tokens",
                              cfg->max_tokens);
        goto free_s;
    }
    memset(&local, 0, sizeof local);
    if ((rc = run(s, lm, out, &local, st))) {
        free(out);
        goto free_s;
    }
    *toks = out;
    *n = local.tokens;
    if (stats)
        *stats = local;
free_s:
    free(s);
    return rc;
}

static int reject(const smp *s, const int32_t *toks, size_t i, disco_status *st)
{
    char a[24], b[24];
    const char *why = s->val[toks[i]] == CUT ? "a constraint" : "the grammar";

    return disco_status_set(st, DISCO_ERR_INVAL, "toks",
                            "toks[%zu]: %s after %s is ruled out by %s", i,
                            disco_tok_name(toks[i], a), disco_tok_name(toks[i - 1], b), why);
}

int disco_sampler_check(const disco_sampler_config *cfg, const int32_t *toks, size_t n,
                        uint8_t *next, disco_status *st)
{
    smp *s;
    int rc;

    if (!toks || n == 0 || toks[0] != DISCO_TOK_BOS)
        return disco_status_set(st, DISCO_ERR_INVAL, "toks",
                                "toks[0]: the sequence must start "
                                "with BOS");
    if (!(s = malloc(sizeof *s)))
        return disco_status_set(st, DISCO_ERR_NOMEM, "sampler", "no memory for the sampler");
    if ((rc = setup(s, cfg, st)))
        goto free_s;
    advance(s, DISCO_TOK_BOS);
    for (size_t i = 1; i < n && !rc; i++) {
        build_mask(s);
        if (toks[i] < 0 || toks[i] >= V)
            rc = disco_status_set(st, DISCO_ERR_INVAL, "toks", "toks[%zu]: id %d out of 0..%d", i,
                                  toks[i], V - 1);
        else if (s->val[toks[i]] != OK)
            rc = reject(s, toks, i, st);
        else
            advance(s, toks[i]);
    }
    if (!rc && next) {
        build_mask(s);
        for (int t = 0; t < V; t++)
            next[t] = s->val[t] == OK;
    }
free_s:
    free(s);
    return rc;
}
