/*
 * sampler.h - drawing token sequences from a disco_lm, under constraints.
 *
 * Each step the model's log-probabilities go through a mask, then the
 * temperature, top-k and top-p, then one draw from a seeded PRNG
 * (xoshiro256** seeded by splitmix64, so a seed gives the same sequence on
 * every platform for the same model output):
 *
 *   logp --mask--> /T --top-k--> softmax --top-p--> draw
 *
 * The mask has two layers. The grammar is tokens.h in the canonical form
 * the encoder writes, so every sampled sequence decodes with no skipped
 * token:
 *
 *   BOS KEY STYLE FAMILY+ (ascending) TEMPO TIMESIG  BAR
 *   after BAR      TIMESIG (a different one)? then POS | BAR | EOS
 *   after POS      TEMPO (a different bucket)? PROG? PITCH   -- or, after
 *                  TEMPO, no note: a later POS | BAR | EOS (a tempo change
 *                  where no note starts, as the encoder writes it)
 *   PITCH VEL DUR  then PROG (a higher program) | PITCH (higher, same
 *                  program) at the same position, a later POS (< bar
 *                  length), BAR, EOS
 *
 * A PITCH straight after POS plays the last program written (never before
 * the first PROG). The constraints then narrow it down:
 *   - header: KEY, STYLE, the TEMPO bucket, the TIMESIG and the FAMILY set
 *     are forced when the config gives them; sampled FAMILY tokens are
 *     limited to families with a playable program; at least one family.
 *   - programs: only allowed ones (`programs`), and only from the families
 *     the header declared;
 *   - pitches: each program's range lo..hi; for pitched programs (not
 *     drums) the pitch class must be in `scale`, except on the strong
 *     positions 0 and 8 of a bar (beats 1 and 3 in 4/4, whatever the
 *     meter) of a bar with a chord mask, where the chord mask replaces it;
 *   - at most `max_poly` notes per position;
 *   - `bars` > 0: exactly that many BARs (EOS only after the last, BAR
 *     never past it); TEMPO/TIMESIG in the body only when enabled;
 *   - dead ends are avoided: a POS, PROG or pitch is offered only when a
 *     note can follow it, and a token only when the sequence can still be
 *     finished (bars and EOS) within max_tokens.
 *
 * Speed: the mask is O(vocab) per step and a call allocates only before
 * its first step; drawing sorts the allowed tokens only when top-k or
 * top-p is on.
 *
 * Threads: no shared state; one lm per thread (lm.h).
 */
#ifndef DISCO_SAMPLER_H
#define DISCO_SAMPLER_H

#include "disco/err.h"
#include "disco/lm.h"
#include "disco/tokens.h"

#include <stddef.h>
#include <stdint.h>

#define DISCO_SAMPLER_PROGS 129 /* GM programs 0..127, then 128 = drums */
#define DISCO_SAMPLER_MAX_BARS 65536
#define DISCO_SAMPLER_MAX_TOKENS (1u << 24)

typedef struct disco_sampler_config {
    /* drawing */
    double temperature; /* >= 0; 0 = greedy (the likeliest allowed token). 1 */
    int top_k;          /* keep the k likeliest allowed tokens; 0 = all. 0 */
    double top_p;  /* keep the likeliest allowed tokens whose mass reaches top_p, in (0, 1]. 1 */
    uint64_t seed; /* 1 */
    size_t max_tokens; /* whole sequence, BOS and EOS included. 4096 */
    /* header conditioning: -1 = sampled */
    int key;           /* 0..24 (tokens.h). -1 */
    int style;         /* 0..DISCO_TOK_NSTYLES-1. -1 */
    int tempo;         /* bucket 0..DISCO_TOK_TEMPOS-1. -1 */
    int timesig;       /* index into disco_tok_timesigs. -1 */
    uint32_t families; /* bit f forces FAMILY_f (f 0..16, 16 = drums); 0 = sampled. 0 */
    /* body */
    int bars;          /* exactly this many bars, 1..DISCO_SAMPLER_MAX_BARS; 0 = free. 0 */
    int tempo_changes; /* TEMPO allowed after POS. 1 */
    int meter_changes; /* TIMESIG allowed after BAR. 1 */
    int max_poly;      /* notes per position, 1..128. 8 */
    uint8_t programs[DISCO_SAMPLER_PROGS]; /* 1 = may play. all 1 */
    uint8_t lo[DISCO_SAMPLER_PROGS];       /* pitch range per program, lo <= hi <= 127; */
    uint8_t hi[DISCO_SAMPLER_PROGS];       /* default: disco_sampler_default_range() */
    uint16_t scale; /* pitch classes allowed for pitched notes, bit 0 = C. 0xFFF */
    /* Chord masks (pitch classes) per bar: bar b uses chords[b % nchords]; a 0 mask means no
     * chord in that bar. NULL/0 = none. Not owned; must outlive the call. */
    const uint16_t *chords;
    size_t nchords;
} disco_sampler_config;

/* The defaults above. */
disco_sampler_config disco_sampler_config_default(void);

/*
 * Default pitch range of a program, by GM family (program / 8; 128 =
 * drums, the GM percussion keys 35..81): piano 21..108, chromatic
 * percussion 41..108, organ 24..96, guitar 40..88, bass 28..67, strings
 * 28..100, ensemble 28..96, brass 34..84, reed 34..96, pipe 48..108, synth
 * lead/pad 36..96, synth effects 24..108, ethnic 36..96, percussive
 * 36..96, sound effects 24..108. Programs out of 0..128 get 0..127.
 */
void disco_sampler_default_range(int program, uint8_t *lo, uint8_t *hi);

typedef struct disco_sampler_stats {
    size_t tokens;         /* length of the sequence */
    size_t steps;          /* model steps (tokens - 1 when it ends with EOS) */
    size_t forced;         /* steps where exactly one token was allowed */
    size_t grammar_masked; /* sum over steps of the tokens the grammar removed */
    size_t masked;         /* sum over steps of the tokens the grammar allowed but the
                              constraints removed */
    double masked_mass;    /* sum over steps of the model probability those tokens had */
} disco_sampler_stats;

/*
 * Samples one sequence: BOS, the header, bars, EOS (always: the budget
 * keeps room for it). `*toks` is malloc'd (caller frees), `*n` its length;
 * `stats` may be NULL. The lm is reset first and must have vocab
 * DISCO_TOK_VOCAB. Errors: INVAL naming the config field (or "lm"), and
 * whatever lm->vt->step returns (its status kept); NOMEM.
 */
int disco_sampler_generate(disco_lm *lm, const disco_sampler_config *cfg, int32_t **toks, size_t *n,
                           disco_sampler_stats *stats, disco_status *st);

/*
 * Checks that toks[n] (starting with BOS) is a sequence generate() could
 * write under `cfg`, and when `next` is not NULL fills next[DISCO_TOK_VOCAB]
 * with 1 for each token allowed after it (all 0 after EOS). INVAL naming
 * the config field, or "toks" with the first token that is not allowed,
 * its index and whether the grammar or a constraint rules it out.
 */
int disco_sampler_check(const disco_sampler_config *cfg, const int32_t *toks, size_t n,
                        uint8_t *next, disco_status *st);

#endif
