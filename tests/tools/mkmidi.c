/*
 * mkmidi.c - writes pieces of tests/support/pieces.c as MIDI files, for the
 * integration tests of the corpus, the music model and MIDI analysis.
 *
 *   mkmidi OUT.mid N [SECONDS [SEED]]
 *
 * Prints the piece's name, true tempo and key.
 */
#include "disco/midi.h"
#include "support/pieces.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#define TPQ 480

static int to_score(const disco_piece *p, disco_score *sc, disco_status *st)
{
    int rc = disco_score_init(sc, TPQ, st);
    double ticks_per_s = TPQ * p->bpm / 60.0;
    if (!rc) {
        sc->tempos[0].us_per_quarter = (uint32_t)lround(60e6 / p->bpm);
        sc->timesigs[0].num = (uint8_t)p->beats_per_bar;
        sc->timesigs[0].den = 4;
    }
    for (size_t i = 0; !rc && i < p->n_notes; i++) {
        const disco_note *n = &p->notes[i];
        disco_note_ev e = {.start = (uint32_t)lround(n->start_s * ticks_per_s),
                           .dur = (uint32_t)lround(n->dur_s * ticks_per_s),
                           .pitch = (uint8_t)n->pitch,
                           .velocity = (uint8_t)n->velocity,
                           .channel = (uint8_t)n->channel,
                           .program = (uint8_t)p->programs[n->channel]};
        if (e.dur == 0)
            e.dur = 1;
        rc = disco_score_add_note(sc, &e, st);
    }
    if (!rc)
        disco_score_sort(sc);
    return rc;
}

int main(int argc, char **argv)
{
    disco_status st = {0};
    disco_piece p;
    disco_score sc = {0};
    if (argc < 3) {
        fprintf(stderr, "usage: mkmidi OUT.mid N [SECONDS [SEED]]\n");
        return 2;
    }
    size_t i = (size_t)strtoul(argv[2], NULL, 10);
    double secs = argc > 3 ? atof(argv[3]) : 24;
    uint64_t seed = argc > 4 ? strtoull(argv[4], NULL, 10) : 1;
    if (i >= disco_pieces_count() || disco_piece_make(i, seed, secs, &p) != 0) {
        fprintf(stderr, "mkmidi: no piece %zu\n", i);
        return 1;
    }
    int rc = to_score(&p, &sc, &st);
    if (!rc)
        rc = disco_score_write(argv[1], &sc, &st);
    if (rc)
        fprintf(stderr, "mkmidi: %s: %s\n", argv[1], st.msg);
    else
        printf("%s %.2f %s %s\n", p.name, p.bpm, "key", p.minor ? "minor" : "major");
    disco_score_release(&sc);
    disco_piece_release(&p);
    return rc ? 1 : 0;
}
