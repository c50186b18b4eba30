/*
 * fuzz_midi.c - the MIDI reader must accept or refuse any bytes cleanly; a
 * score it accepts must go to events, to bytes and back to the same score
 * (notes but for their source track, tempo map, signatures, length), and
 * its metrics must lie in their ranges.
 */
#include "disco/midi.h"
#include "disco/midi_metrics.h"

#include "fuzz_check.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>

/* A rate in [0, 1], or NaN where undefined. */
static int rate_ok(double x)
{
    return isnan(x) || (x >= 0.0 && x <= 1.0 + 1e-12);
}

static void check_metrics(const disco_score *sc)
{
    disco_midi_metrics m;
    disco_status st = {0};

    CHECK(disco_midi_metrics_compute(sc, &m, &st) == DISCO_OK);
    CHECK(m.nnotes == sc->nnotes && m.npitched <= m.nnotes);
    CHECK(m.pitch_range >= 0 && m.pitch_range <= 127 && m.pitch_classes <= 12);
    CHECK(rate_ok(m.scale_consistency) && rate_ok(m.empty_beat_rate));
    CHECK(rate_ok(m.groove_consistency));
    CHECK(isnan(m.polyphony) || (m.polyphony >= 1.0 && m.polyphony <= 128.0));
    CHECK(m.key >= -1 && m.key < 24 && m.seconds >= 0.0 && m.bpm_mean > 0.0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_same(const disco_score *a, const disco_score *b)
{
    CHECK(a->tpq == b->tpq && a->end_tick == b->end_tick);
    CHECK(a->nnotes == b->nnotes && a->ntempos == b->ntempos);
    CHECK(a->ntimesigs == b->ntimesigs && a->nkeysigs == b->nkeysigs);
    for (size_t i = 0; i < a->nnotes; i++) {
        const disco_note_ev *x = &a->notes[i], *y = &b->notes[i];
        CHECK(x->start == y->start && x->dur == y->dur && x->pitch == y->pitch);
        CHECK(x->velocity == y->velocity && x->channel == y->channel);
        CHECK(x->program == y->program);
    }
    for (size_t i = 0; i < a->ntempos; i++)
        CHECK(a->tempos[i].tick == b->tempos[i].tick &&
              a->tempos[i].us_per_quarter == b->tempos[i].us_per_quarter);
    for (size_t i = 0; i < a->ntimesigs; i++)
        CHECK(memcmp(&a->timesigs[i], &b->timesigs[i], sizeof a->timesigs[i]) == 0);
    for (size_t i = 0; i < a->nkeysigs; i++)
        CHECK(memcmp(&a->keysigs[i], &b->keysigs[i], sizeof a->keysigs[i]) == 0);
}

/* A score as read: sorted notes within the tick range, tempo map from tick 0. */
static void check_score(const disco_score *sc)
{
    CHECK(sc->tpq >= 1 && sc->ntempos >= 1 && sc->ntimesigs >= 1);
    CHECK(sc->tempos[0].tick == 0 && sc->timesigs[0].tick == 0);
    for (size_t i = 0; i < sc->nnotes; i++) {
        const disco_note_ev *n = &sc->notes[i];
        CHECK(n->dur >= 1 && n->start + n->dur <= sc->end_tick);
        CHECK(sc->end_tick <= DISCO_MIDI_MAX_TICK && n->pitch < 128 && n->velocity >= 1);
        CHECK(i == 0 || sc->notes[i - 1].start <= n->start);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    disco_status st = {0};
    disco_score sc, back;
    disco_smf smf;
    uint8_t *buf = NULL;
    size_t len = 0;
    int rc = disco_score_read_mem(data, size, &sc, &st);

    if (rc != DISCO_OK) {
        CHECK(st.msg[0] != '\0' && sc.notes == NULL && sc.nnotes == 0);
        return 0;
    }
    check_score(&sc);
    check_metrics(&sc);
    rc = disco_score_to_smf(&sc, &smf, &st);
    CHECK(rc == DISCO_OK || rc == DISCO_ERR_LIMIT);
    if (rc == DISCO_OK) {
        CHECK(disco_smf_write_mem(&smf, &buf, &len, &st) == DISCO_OK);
        CHECK(disco_score_read_mem(buf, len, &back, &st) == DISCO_OK);
        check_same(&sc, &back);
        disco_score_release(&back);
        disco_smf_release(&smf);
        free(buf);
    }
    disco_score_release(&sc);
    return 0;
}
