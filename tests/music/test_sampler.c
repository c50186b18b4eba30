/*
 * test_sampler.c - constrained sampling over two fake models (uniform, and
 * a seeded bigram table): the same seed gives the same sequence; every
 * sequence passes disco_sampler_check and decodes with no skipped token;
 * the scale, pitch ranges, allowed programs, chord masks, polyphony cap and
 * bar count hold; top-k 1, temperature 0 and temperature near 0 are the
 * greedy choice; top-k and top-p keep the draw inside their cut; forced
 * header tokens come out as asked; the encoder's output is in the
 * sampler's language; bad configs are refused by field; disco_lm_nll.
 * Prints the sampler's own cost per token (no timing assert).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "disco/lm.h"
#include "disco/sampler.h"
#include "disco/tokens.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "support/tu_num.h"

#define V DISCO_TOK_VOCAB
#define C_MAJOR 0xAB5 /* C D E F G A B */

/* --- fake models ----------------------------------------------------------------- */

typedef struct fake {
    disco_lm lm;
    const float *table; /* V x V log-probabilities, row = the token appended; NULL: uniform */
    size_t vocab;
    size_t steps;
    size_t fail_at; /* the step that fails (1-based); 0: none */
} fake;

static size_t fake_vocab(const disco_lm *lm)
{
    return ((const fake *)lm)->vocab;
}

static void fake_reset(disco_lm *lm)
{
    ((fake *)lm)->steps = 0;
}

static int fake_step(disco_lm *lm, int32_t tok, float *logp, disco_status *st)
{
    fake *f = (fake *)lm;

    if (++f->steps == f->fail_at)
        return disco_status_set(st, DISCO_ERR_IO, "lm", "fake failure at step %zu", f->steps);
    if (f->table)
        memcpy(logp, f->table + (size_t)tok * V, V * sizeof *logp);
    else
        for (size_t i = 0; i < f->vocab; i++)
            logp[i] = -logf((float)f->vocab);
    return DISCO_OK;
}

static void fake_free(disco_lm *lm)
{
    (void)lm;
}

static const disco_lm_vtable fake_vt = {"fake", fake_vocab, fake_reset, fake_step, fake_free};

static float *bigram; /* built once: rows of log-softmax(3 * gaussian) */

static fake uniform_lm(void)
{
    return (fake){{&fake_vt}, NULL, V, 0, 0};
}

static fake bigram_lm(void)
{
    return (fake){{&fake_vt}, bigram, V, 0, 0};
}

static int setup_group(void **state)
{
    (void)state;
    bigram = malloc((size_t)V * V * sizeof *bigram);
    if (!bigram)
        return -1;
    rng_state = 99;
    for (size_t r = 0; r < V; r++) {
        float *row = bigram + r * V;
        double mx = -INFINITY, sum = 0.0;

        for (size_t c = 0; c < V; c++)
            mx = fmax(mx, row[c] = (float)(3.0 * rng_gauss()));
        for (size_t c = 0; c < V; c++)
            sum += exp(row[c] - mx);
        for (size_t c = 0; c < V; c++)
            row[c] = (float)(row[c] - mx - log(sum));
    }
    return 0;
}

static int teardown_group(void **state)
{
    (void)state;
    free(bigram);
    return 0;
}

/* --- helpers ------------------------------------------------------------------------ */

static int32_t *sample(fake *f, const disco_sampler_config *cfg, size_t *n,
                       disco_sampler_stats *stats)
{
    disco_status st = {0};
    disco_sampler_stats local;
    int32_t *t = NULL;
    int rc = disco_sampler_generate(&f->lm, cfg, &t, n, stats ? stats : &local, &st);

    if (rc)
        print_error("generate: %s\n", st.msg);
    assert_int_equal(rc, DISCO_OK);
    assert_true(*n >= 8 && *n <= cfg->max_tokens);
    assert_int_equal(t[0], DISCO_TOK_BOS);
    assert_int_equal(t[*n - 1], DISCO_TOK_EOS);
    assert_int_equal((stats ? stats : &local)->tokens, *n);
    assert_int_equal((stats ? stats : &local)->steps, *n - 1);
    assert_int_equal(f->steps, *n - 1);
    return t;
}

/* Decodes with no skipped token and passes the check under `cfg`. */
static void assert_well_formed(const disco_sampler_config *cfg, const int32_t *t, size_t n)
{
    disco_status st = {0};
    disco_score sc;
    size_t skipped = 99;
    int rc = disco_sampler_check(cfg, t, n, NULL, &st);

    if (rc)
        print_error("check: %s\n", st.msg);
    assert_int_equal(rc, DISCO_OK);
    assert_int_equal(disco_tokens_decode(t, n, 480, &sc, &skipped, NULL), DISCO_OK);
    assert_int_equal(skipped, 0);
    disco_score_release(&sc);
}

typedef struct snote {
    int bar, pos, prog, pitch;
} snote;

/* The notes of a canonical sequence, with their bar (0-based), position and program. */
static size_t notes_of(const int32_t *t, size_t n, snote *out, size_t cap)
{
    int bar = -1, pos = -1, prog = -1, v;
    size_t m = 0;

    for (size_t i = 0; i < n; i++) {
        switch (disco_tok_kind_of(t[i], &v)) {
        case DISCO_TK_BAR:
            bar++;
            pos = -1;
            break;
        case DISCO_TK_POS:
            pos = v;
            break;
        case DISCO_TK_PROG:
            prog = v;
            break;
        case DISCO_TK_PITCH:
            assert_true(m < cap);
            out[m++] = (snote){bar, pos, prog, v};
            break;
        default:
            break;
        }
    }
    return m;
}

static size_t count_kind(const int32_t *t, size_t from, size_t n, disco_tok_kind k)
{
    size_t c = 0;

    for (size_t i = from; i < n; i++)
        c += disco_tok_kind_of(t[i], NULL) == k;
    return c;
}

static size_t first_bar(const int32_t *t, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (t[i] == DISCO_TOK_BAR)
            return i;
    fail();
    return 0;
}

/* The tokens allowed after t[0..i-1]. */
static void allowed_after(const disco_sampler_config *cfg, const int32_t *t, size_t i,
                          uint8_t next[V])
{
    assert_int_equal(disco_sampler_check(cfg, t, i, next, NULL), DISCO_OK);
}

/* Tokens allowed after the prefix, sorted by bigram probability (highest first, lowest id on
 * ties); returns their number. */
static size_t ranked(const disco_sampler_config *cfg, const int32_t *t, size_t i, int32_t *order)
{
    uint8_t next[V];
    const float *row = bigram + (size_t)t[i - 1] * V;
    size_t m = 0;

    allowed_after(cfg, t, i, next);
    for (int32_t k = 0; k < V; k++) {
        size_t j = m;

        if (!next[k])
            continue;
        m++;
        while (j > 0 && row[order[j - 1]] < row[k]) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = k;
    }
    return m;
}

/* --- tests --------------------------------------------------------------------------- */

static void test_same_seed_same_output(void **state)
{
    disco_sampler_config cfg = disco_sampler_config_default();
    fake f = bigram_lm(), u = uniform_lm();
    size_t n1, n2, n3;
    int32_t *a, *b, *c;

    (void)state;
    cfg.max_tokens = 400;
    cfg.seed = 7;
    a = sample(&f, &cfg, &n1, NULL);
    b = sample(&f, &cfg, &n2, NULL);
    assert_int_equal(n1, n2);
    assert_memory_equal(a, b, n1 * sizeof *a);
    cfg.seed = 8;
    c = sample(&f, &cfg, &n3, NULL);
    assert_true(n3 != n1 || memcmp(a, c, n1 * sizeof *a) != 0);
    free(a), free(b), free(c);
    a = sample(&u, &cfg, &n1, NULL);
    b = sample(&u, &cfg, &n2, NULL);
    assert_int_equal(n1, n2);
    assert_memory_equal(a, b, n1 * sizeof *a);
    free(a), free(b);
}

static void test_well_formed(void **state)
{
    disco_sampler_config cfg = disco_sampler_config_default();
    size_t n, notes = 0;
    snote buf[400];

    (void)state;
    cfg.max_tokens = 400;
    for (uint64_t seed = 1; seed <= 40; seed++) {
        fake f = seed % 2 ? uniform_lm() : bigram_lm();
        int32_t *t;

        cfg.seed = seed;
        cfg.top_p = seed % 3 ? 1.0 : 0.9;
        t = sample(&f, &cfg, &n, NULL);
        assert_well_formed(&cfg, t, n);
        notes += notes_of(t, n, buf, 400);
        free(t);
    }
    assert_true(notes > 200);
    /* a budget barely over the minimum still closes every bar and ends */
    cfg = disco_sampler_config_default();
    cfg.bars = 6;
    cfg.max_tokens = 5 + 1 + 6 + 1 + 9;
    for (uint64_t seed = 1; seed <= 20; seed++) {
        fake f = uniform_lm();
        int32_t *t;

        cfg.seed = seed;
        t = sample(&f, &cfg, &n, NULL);
        assert_int_equal(count_kind(t, 0, n, DISCO_TK_BAR), 6);
        assert_well_formed(&cfg, t, n);
        free(t);
    }
}

static void test_scale_ranges_programs(void **state)
{
    disco_sampler_config cfg = disco_sampler_config_default();
    disco_sampler_stats stats;
    snote buf[600];
    size_t n, total = 0, seen[3] = {0};

    (void)state;
    cfg.max_tokens = 600;
    cfg.scale = C_MAJOR;
    memset(cfg.programs, 0, sizeof cfg.programs);
    cfg.programs[0] = cfg.programs[33] = cfg.programs[128] = 1;
    cfg.lo[0] = 60, cfg.hi[0] = 72;
    cfg.lo[33] = 36, cfg.hi[33] = 48;
    cfg.bars = 8;
    cfg.tempo_changes = 0;
    for (uint64_t seed = 1; seed <= 20; seed++) {
        fake f = uniform_lm();
        int32_t *t;
        size_t m, bar;

        cfg.seed = seed;
        t = sample(&f, &cfg, &n, &stats);
        assert_well_formed(&cfg, t, n);
        assert_true(stats.masked > 0 && stats.masked_mass > 0.0);
        bar = first_bar(t, n);
        for (size_t i = 0; i < bar; i++)
            if (disco_tok_kind_of(t[i], NULL) == DISCO_TK_FAMILY)
                assert_true(t[i] == DISCO_TOK_FAMILY0 || t[i] == DISCO_TOK_FAMILY0 + 4 ||
                            t[i] == DISCO_TOK_FAMILY0 + 16);
        m = notes_of(t, n, buf, 600);
        for (size_t i = 0; i < m; i++) {
            const snote *s = &buf[i];

            assert_true(s->prog == 0 || s->prog == 33 || s->prog == 128);
            if (s->prog == 128) {
                assert_true(s->pitch >= 35 && s->pitch <= 81);
                seen[2]++;
                continue;
            }
            assert_true(C_MAJOR >> (s->pitch % 12) & 1);
            assert_true(s->pitch >= cfg.lo[s->prog] && s->pitch <= cfg.hi[s->prog]);
            seen[s->prog == 33]++;
        }
        total += m;
        free(t);
    }
    assert_true(total > 100 && seen[0] > 0 && seen[1] > 0 && seen[2] > 0);
}

static void test_chord_masks(void **state)
{
    static const uint16_t chords[] = {0x091, 0x221, 0x884}; /* C, F, G major triads */
    disco_sampler_config cfg = disco_sampler_config_default();
    snote buf[800];
    size_t n, strong = 0, weak = 0;

    (void)state;
    cfg.max_tokens = 800;
    cfg.bars = 6;
    cfg.scale = C_MAJOR;
    cfg.chords = chords;
    cfg.nchords = 3;
    cfg.meter_changes = 0;
    cfg.tempo_changes = 0;
    memset(cfg.programs, 0, sizeof cfg.programs);
    cfg.programs[0] = cfg.programs[128] = 1;
    cfg.families = 1u | 1u << 16;
    for (uint64_t seed = 1; seed <= 20; seed++) {
        fake f = uniform_lm();
        int32_t *t;
        size_t m;

        cfg.seed = seed;
        t = sample(&f, &cfg, &n, NULL);
        assert_well_formed(&cfg, t, n);
        m = notes_of(t, n, buf, 800);
        for (size_t i = 0; i < m; i++) {
            const snote *s = &buf[i];
            int on_strong = s->pos == 0 || s->pos == 8;

            if (s->prog == 128)
                continue;
            if (on_strong)
                assert_true(chords[s->bar % 3] >> (s->pitch % 12) & 1);
            else
                assert_true(C_MAJOR >> (s->pitch % 12) & 1);
            strong += (size_t)on_strong;
            weak += (size_t)!on_strong;
        }
        free(t);
    }
    assert_true(strong > 10 && weak > 10);
}

static void test_exact_bars(void **state)
{
    static const int bars[] = {1, 3, 8};
    disco_sampler_config cfg = disco_sampler_config_default();

    (void)state;
    cfg.max_tokens = 1500;
    cfg.timesig = 1; /* 3/4: 12 sixteenths */
    cfg.meter_changes = 0;
    for (size_t k = 0; k < 3; k++) {
        for (uint64_t seed = 1; seed <= 6; seed++) {
            fake f = seed % 2 ? uniform_lm() : bigram_lm();
            disco_score sc;
            size_t n;
            int32_t *t;

            cfg.bars = bars[k];
            cfg.seed = seed;
            t = sample(&f, &cfg, &n, NULL);
            assert_int_equal(count_kind(t, 0, n, DISCO_TK_BAR), bars[k]);
            assert_int_equal(count_kind(t, first_bar(t, n), n, DISCO_TK_TIMESIG), 0);
            assert_int_equal(disco_tokens_decode(t, n, 480, &sc, NULL, NULL), DISCO_OK);
            assert_true(sc.end_tick >= (uint32_t)bars[k] * 12 * 120);
            for (size_t i = 0; i < sc.nnotes; i++)
                assert_true(sc.notes[i].start < (uint32_t)bars[k] * 12 * 120);
            disco_score_release(&sc);
            free(t);
        }
    }
}

static void test_greedy(void **state)
{
    disco_sampler_config cfg = disco_sampler_config_default();
    fake f = bigram_lm();
    size_t n, n2;
    int32_t *g, *t, order[V];

    (void)state;
    cfg.max_tokens = 300;
    cfg.top_k = 1;
    cfg.seed = 1;
    g = sample(&f, &cfg, &n, NULL);
    for (size_t i = 1; i < n; i++) {
        assert_true(ranked(&cfg, g, i, order) >= 1);
        assert_int_equal(g[i], order[0]);
    }
    cfg.seed = 2; /* greedy does not depend on the seed */
    t = sample(&f, &cfg, &n2, NULL);
    assert_int_equal(n2, n);
    assert_memory_equal(t, g, n * sizeof *g);
    free(t);
    cfg.top_k = 0;
    cfg.temperature = 0.0;
    t = sample(&f, &cfg, &n2, NULL);
    assert_int_equal(n2, n);
    assert_memory_equal(t, g, n * sizeof *g);
    free(t);
    cfg.temperature = 1e-4;
    cfg.seed = 3;
    t = sample(&f, &cfg, &n2, NULL);
    assert_int_equal(n2, n);
    assert_memory_equal(t, g, n * sizeof *g);
    free(t);
    cfg.temperature = 1.0;
    cfg.top_p = 1e-9;
    t = sample(&f, &cfg, &n2, NULL);
    assert_int_equal(n2, n);
    assert_memory_equal(t, g, n * sizeof *g);
    free(t);
    free(g);
}

/* Index of the smallest prefix of `order` holding `p` of the allowed mass, plus one. */
static size_t nucleus(const int32_t *t, size_t i, const int32_t *order, size_t m, double p)
{
    const float *row = bigram + (size_t)t[i - 1] * V;
    double total = 0.0, cum = 0.0;
    size_t k = 0;

    for (size_t j = 0; j < m; j++)
        total += exp(row[order[j]]);
    while (k < m && cum < p * total)
        cum += exp(row[order[k++]]);
    return k;
}

static size_t rank_of(const int32_t *order, size_t m, int32_t tok)
{
    for (size_t j = 0; j < m; j++)
        if (order[j] == tok)
            return j;
    fail();
    return m;
}

static void test_top_k_top_p(void **state)
{
    disco_sampler_config cfg = disco_sampler_config_default();
    int32_t order[V];
    size_t n, big_nucleus = 0, outside = 0, not_first = 0;

    (void)state;
    cfg.max_tokens = 200;
    for (int mode = 0; mode < 3; mode++) {
        cfg.top_k = mode == 0 ? 3 : 0;
        cfg.top_p = mode == 1 ? 0.5 : 1.0;
        for (uint64_t seed = 1; seed <= 8; seed++) {
            fake f = bigram_lm();
            int32_t *t;

            cfg.seed = seed;
            t = sample(&f, &cfg, &n, NULL);
            for (size_t i = 1; i < n; i++) {
                size_t m = ranked(&cfg, t, i, order), r = rank_of(order, m, t[i]);
                size_t cut = nucleus(t, i, order, m, 0.5);

                if (mode == 0)
                    assert_true(r < 3);
                if (mode == 1)
                    assert_true(r < cut);
                not_first += mode == 0 && r > 0;
                big_nucleus += mode == 1 && cut > 1;
                outside += mode == 2 && r >= cut;
            }
            free(t);
        }
    }
    /* the cuts were not trivially met: draws below the top, wide nuclei, and without top-p
     * tokens outside the 0.5 nucleus */
    assert_true(not_first > 10 && big_nucleus > 10 && outside > 10);
}

static void test_header_forced(void **state)
{
    disco_sampler_config cfg = disco_sampler_config_default();
    disco_sampler_stats stats;
    size_t n;

    (void)state;
    cfg.max_tokens = 400;
    cfg.key = 9;
    cfg.style = 4;
    cfg.tempo = 12;
    cfg.timesig = 1;
    cfg.families = 1u | 1u << 16;
    cfg.tempo_changes = 0;
    cfg.meter_changes = 0;
    for (uint64_t seed = 1; seed <= 10; seed++) {
        fake f = seed % 2 ? uniform_lm() : bigram_lm();
        const int32_t want[] = {DISCO_TOK_BOS,          DISCO_TOK_KEY0 + 9,
                                DISCO_TOK_STYLE0 + 4,   DISCO_TOK_FAMILY0,
                                DISCO_TOK_FAMILY0 + 16, DISCO_TOK_TEMPO0 + 12,
                                DISCO_TOK_TIMESIG0 + 1, DISCO_TOK_BAR};
        int32_t *t;
        int v;

        cfg.seed = seed;
        t = sample(&f, &cfg, &n, &stats);
        assert_memory_equal(t, want, sizeof want);
        assert_true(stats.forced >= 7);
        assert_int_equal(count_kind(t, 8, n, DISCO_TK_TEMPO), 0);
        assert_int_equal(count_kind(t, 8, n, DISCO_TK_TIMESIG), 0);
        for (size_t i = 8; i < n; i++)
            if (disco_tok_kind_of(t[i], &v) == DISCO_TK_PROG)
                assert_true(v < 8 || v == 128);
        assert_well_formed(&cfg, t, n);
        free(t);
    }
    /* sampled families follow the allowed programs */
    cfg = disco_sampler_config_default();
    memset(cfg.programs, 0, sizeof cfg.programs);
    cfg.programs[40] = 1;
    {
        fake f = uniform_lm();
        int32_t *t = sample(&f, &cfg, &n, NULL);

        assert_int_equal(t[3], DISCO_TOK_FAMILY0 + 5);
        assert_int_equal(disco_tok_kind_of(t[4], NULL), DISCO_TK_TEMPO);
        free(t);
    }
}

static void test_polyphony_and_order(void **state)
{
    disco_sampler_config cfg = disco_sampler_config_default();
    snote buf[600];
    size_t n, max_seen = 0;

    (void)state;
    cfg.max_tokens = 600;
    for (int cap = 2; cap <= 8; cap += 6) {
        cfg.max_poly = cap;
        for (uint64_t seed = 1; seed <= 10; seed++) {
            fake f = uniform_lm();
            int32_t *t;
            size_t m, run = 0;

            cfg.seed = seed;
            t = sample(&f, &cfg, &n, NULL);
            m = notes_of(t, n, buf, 600);
            for (size_t i = 0; i < m; i++) {
                const snote *a = &buf[i], *b = i ? &buf[i - 1] : NULL;
                int same = b && a->bar == b->bar && a->pos == b->pos;

                run = same ? run + 1 : 1;
                assert_true(run <= (size_t)cap);
                if (same) /* canonical order: programs ascending, pitches within them */
                    assert_true(a->prog > b->prog || (a->prog == b->prog && a->pitch > b->pitch));
                if (cap == 8 && run > max_seen)
                    max_seen = run;
            }
            free(t);
        }
    }
    assert_true(max_seen > 2);
}

/* Everything the encoder writes, the sampler could write (permissive constraints). */
static void test_encoder_output_accepted(void **state)
{
    disco_sampler_config cfg = disco_sampler_config_default();
    disco_score sc;
    disco_note_ev ev[] = {
        {0, 480, 60, 100, 0, 0, 0},      {0, 960, 36, 80, 1, 33, 0},
        {0, 120, 36, 120, 9, 0, 0},      {0, 120, 42, 60, 9, 0, 0},
        {480, 240, 64, 70, 0, 0, 0},     {480, 240, 67, 70, 0, 0, 0},
        {3840, 360, 72, 40, 2, 73, 0},   {4320, 120, 74, 40, 2, 73, 0},
        {8040, 20000, 48, 30, 3, 48, 0}, {9720, 240, 127, 90, 4, 80, 0},
        {9720, 240, 0, 90, 4, 80, 0},
    };
    int32_t *t;
    size_t n;
    uint8_t next[V];
    disco_status st = {0};

    (void)state;
    assert_int_equal(disco_score_init(&sc, 480, NULL), DISCO_OK);
    for (size_t i = 0; i < sizeof ev / sizeof ev[0]; i++)
        assert_int_equal(disco_score_add_note(&sc, &ev[i], NULL), DISCO_OK);
    disco_score_sort(&sc);
    sc.timesigs = realloc(sc.timesigs, 3 * sizeof *sc.timesigs);
    sc.timesigs[1] = (disco_timesig_ev){3840, 3, 4};
    sc.timesigs[2] = (disco_timesig_ev){6720, 7, 8};
    sc.ntimesigs = 3;
    sc.tempos = realloc(sc.tempos, 3 * sizeof *sc.tempos);
    sc.tempos[1] = (disco_tempo_ev){720, 400000};  /* no note starts there */
    sc.tempos[2] = (disco_tempo_ev){4320, 700000}; /* a note does */
    sc.ntempos = 3;
    assert_int_equal(disco_tokens_encode(&sc, NULL, &t, &n, NULL), DISCO_OK);
    for (int g = 0; g < DISCO_SAMPLER_PROGS; g++)
        cfg.lo[g] = 0, cfg.hi[g] = 127;
    cfg.max_poly = 128;
    if (disco_sampler_check(&cfg, t, n, next, &st) != DISCO_OK)
        print_error("check: %s\n", st.msg);
    assert_int_equal(disco_sampler_check(&cfg, t, n, next, &st), DISCO_OK);
    for (int k = 0; k < V; k++)
        assert_int_equal(next[k], 0); /* nothing after EOS */
    /* the default ranges rule out pitch 0 on a synth lead */
    assert_int_equal(disco_sampler_check(NULL, t, n, NULL, &st), DISCO_ERR_INVAL);
    cfg = disco_sampler_config_default();
    cfg.max_poly = 128;
    assert_int_equal(disco_sampler_check(&cfg, t, n, NULL, &st), DISCO_ERR_INVAL);
    assert_non_null(strstr(st.msg, "PITCH_0 after PROG_80 is ruled out by a constraint"));
    free(t);
    disco_score_release(&sc);
}

static void test_check_rejects(void **state)
{
    disco_sampler_config cfg = disco_sampler_config_default();
    disco_status st = {0};
    const int32_t good[] = {DISCO_TOK_BOS,         DISCO_TOK_KEY0,        DISCO_TOK_STYLE0,
                            DISCO_TOK_FAMILY0,     DISCO_TOK_TEMPO0 + 10, DISCO_TOK_TIMESIG0 + 2,
                            DISCO_TOK_BAR,         DISCO_TOK_POS0 + 3,    DISCO_TOK_PROG0,
                            DISCO_TOK_PITCH0 + 61, DISCO_TOK_VEL0,        DISCO_TOK_DUR1};
    int32_t bad[12];
    uint8_t next[V];

    (void)state;
    cfg.scale = C_MAJOR;
    memcpy(bad, good, sizeof good);
    bad[9] = DISCO_TOK_PITCH0 + 60;
    assert_int_equal(disco_sampler_check(&cfg, bad, 12, next, &st), DISCO_OK);
    /* after DUR at position 3: same program higher pitch, later POS, BAR, EOS; no VEL */
    assert_true(next[DISCO_TOK_PITCH0 + 62] && !next[DISCO_TOK_PITCH0 + 60]);
    assert_true(!next[DISCO_TOK_PITCH0 + 61]); /* out of the scale */
    assert_true(next[DISCO_TOK_POS0 + 4] && !next[DISCO_TOK_POS0 + 3]);
    assert_true(next[DISCO_TOK_BAR] && next[DISCO_TOK_EOS] && !next[DISCO_TOK_VEL0]);
    assert_true(next[DISCO_TOK_PROG0 + 1] && !next[DISCO_TOK_PROG0]);
    assert_true(!next[DISCO_TOK_PROG0 + 8]); /* family 1 was not declared */
    assert_int_equal(disco_sampler_check(&cfg, good, 12, NULL, &st), DISCO_ERR_INVAL);
    assert_string_equal(st.field, "toks");
    assert_non_null(strstr(st.msg, "toks[9]: PITCH_61 after PROG_0 is ruled out by a constraint"));
    bad[10] = DISCO_TOK_DUR1;
    assert_int_equal(disco_sampler_check(&cfg, bad, 12, NULL, &st), DISCO_ERR_INVAL);
    assert_non_null(strstr(st.msg, "toks[10]: DUR_1 after PITCH_60 is ruled out by the grammar"));
    assert_int_equal(disco_sampler_check(&cfg, good + 1, 11, NULL, &st), DISCO_ERR_INVAL);
    assert_non_null(strstr(st.msg, "toks[0]"));
}

static void expect_bad(const disco_sampler_config *cfg, const char *field, const char *text)
{
    fake f = uniform_lm();
    disco_status st = {0};
    int32_t *t = NULL;
    size_t n = 0;

    assert_int_equal(disco_sampler_generate(&f.lm, cfg, &t, &n, NULL, &st), DISCO_ERR_INVAL);
    assert_string_equal(st.field, field);
    if (!strstr(st.msg, text))
        print_error("message \"%s\" lacks \"%s\"\n", st.msg, text);
    assert_non_null(strstr(st.msg, text));
    assert_null(t);
}

static void test_bad_config(void **state)
{
    static const uint16_t bad_chord[] = {0x091, 0x1000};
    const disco_sampler_config d = disco_sampler_config_default();
    disco_sampler_config c;
    disco_status st = {0};
    fake f = uniform_lm();
    int32_t *t = NULL;
    size_t n;

    (void)state;
    c = d, c.temperature = -1.0;
    expect_bad(&c, "temperature", "temperature -1");
    c = d, c.temperature = NAN;
    expect_bad(&c, "temperature", "finite");
    c = d, c.top_k = -1;
    expect_bad(&c, "top_k", "top_k -1");
    c = d, c.top_p = 0.0;
    expect_bad(&c, "top_p", "top_p 0 out of (0, 1]");
    c = d, c.top_p = 1.5;
    expect_bad(&c, "top_p", "1.5");
    c = d, c.key = 25;
    expect_bad(&c, "key", "key 25");
    c = d, c.style = 8;
    expect_bad(&c, "style", "style 8");
    c = d, c.tempo = 32;
    expect_bad(&c, "tempo", "bucket 32");
    c = d, c.timesig = 8;
    expect_bad(&c, "timesig", "timesig 8");
    c = d, c.families = 1u << 17;
    expect_bad(&c, "families", "past family 16");
    c = d, c.bars = -1;
    expect_bad(&c, "bars", "bars -1");
    c = d, c.max_poly = 0;
    expect_bad(&c, "max_poly", "max_poly 0");
    c = d, c.scale = 0x1000;
    expect_bad(&c, "scale", "bits past 11");
    c = d, c.chords = bad_chord, c.nchords = 2;
    expect_bad(&c, "chords", "chords[1]");
    c = d, c.nchords = 2;
    expect_bad(&c, "chords", "no array");
    c = d, c.lo[5] = 90, c.hi[5] = 80;
    expect_bad(&c, "lo", "lo[5] 90 above hi[5] 80");
    c = d, c.hi[7] = 128;
    expect_bad(&c, "hi", "hi[7] 128");
    c = d, c.max_tokens = 10, c.bars = 4;
    expect_bad(&c, "max_tokens", "max_tokens 10 out of 11..");
    c = d, memset(c.programs, 0, sizeof c.programs);
    expect_bad(&c, "programs", "no allowed program");
    c = d, c.scale = 0, memset(c.programs, 0, 128); /* drums alone still play */
    c.families = 1u << 3;
    expect_bad(&c, "families", "family 3");
    f.vocab = 10;
    assert_int_equal(disco_sampler_generate(&f.lm, &d, &t, &n, NULL, &st), DISCO_ERR_INVAL);
    assert_string_equal(st.field, "lm");
    f = uniform_lm();
    f.fail_at = 5;
    assert_int_equal(disco_sampler_generate(&f.lm, &d, &t, &n, NULL, &st), DISCO_ERR_IO);
    assert_non_null(strstr(st.msg, "fake failure at step 5"));
    assert_null(t);
}

static void test_nll(void **state)
{
    disco_sampler_config cfg = disco_sampler_config_default();
    fake u = uniform_lm(), b = bigram_lm();
    disco_status st = {0};
    double nll, want = 0.0;
    int32_t *t, bad[2] = {DISCO_TOK_BOS, V};
    size_t n;

    (void)state;
    cfg.max_tokens = 100;
    t = sample(&b, &cfg, &n, NULL);
    assert_int_equal(disco_lm_nll(&u.lm, t, n, &nll, NULL), DISCO_OK);
    assert_near(nll, log((double)V), 1e-5);
    assert_int_equal(disco_lm_nll(&b.lm, t, n, &nll, NULL), DISCO_OK);
    for (size_t i = 1; i < n; i++)
        want -= bigram[(size_t)t[i - 1] * V + (size_t)t[i]];
    assert_near(nll, want / (double)(n - 1), 1e-9);
    assert_int_equal(b.steps, n - 1);
    assert_int_equal(disco_lm_nll(&b.lm, t, 1, &nll, &st), DISCO_ERR_INVAL);
    assert_non_null(strstr(st.msg, "at least 2 tokens"));
    assert_int_equal(disco_lm_nll(&b.lm, bad, 2, &nll, &st), DISCO_ERR_INVAL);
    assert_non_null(strstr(st.msg, "toks[1]: id 479"));
    b.fail_at = 3;
    assert_int_equal(disco_lm_nll(&b.lm, t, n, &nll, &st), DISCO_ERR_IO);
    free(t);
}

/* The sampler's own cost per token, with a model that costs almost nothing. */
static void test_overhead(void **state)
{
    disco_sampler_config cfg = disco_sampler_config_default();

    (void)state;
    cfg.max_tokens = 4000;
    for (int mode = 0; mode < 2; mode++) {
        struct timespec a, b;
        size_t tokens = 0, n;
        double s;

        cfg.top_p = mode ? 0.9 : 1.0;
        clock_gettime(CLOCK_MONOTONIC, &a);
        for (uint64_t seed = 1; tokens < 30000; seed++) {
            fake f = bigram_lm();
            int32_t *t;

            cfg.seed = seed;
            t = sample(&f, &cfg, &n, NULL);
            tokens += n;
            free(t);
        }
        clock_gettime(CLOCK_MONOTONIC, &b);
        s = (double)(b.tv_sec - a.tv_sec) + 1e-9 * (double)(b.tv_nsec - a.tv_nsec);
        printf("sampler overhead (%s): %.2f us/token, %.0f tokens/s over %zu tokens\n",
               mode ? "top_p 0.9" : "plain", 1e6 * s / (double)tokens, (double)tokens / s, tokens);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_seed_same_output),
        cmocka_unit_test(test_well_formed),
        cmocka_unit_test(test_scale_ranges_programs),
        cmocka_unit_test(test_chord_masks),
        cmocka_unit_test(test_exact_bars),
        cmocka_unit_test(test_greedy),
        cmocka_unit_test(test_top_k_top_p),
        cmocka_unit_test(test_header_forced),
        cmocka_unit_test(test_polyphony_and_order),
        cmocka_unit_test(test_encoder_output_accepted),
        cmocka_unit_test(test_check_rejects),
        cmocka_unit_test(test_bad_config),
        cmocka_unit_test(test_nll),
        cmocka_unit_test(test_overhead),
    };

    return cmocka_run_group_tests_name("music/sampler", tests, setup_group, teardown_group);
}
