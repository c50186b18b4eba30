/*
 * score.c - notes from MIDI events and back (disco_score), and the tempo map.
 *
 * DESIGN
 *
 * From events: a first pass checks the events and gathers every program
 * change (per channel, by tick) and every tempo, time and key signature.
 * A second pass walks each track: a note-on opens a note in the output
 * array with its duration pending and links it into the FIFO of its
 * (channel, pitch); a note-off, or a note-on with velocity 0, closes the
 * oldest open note of that FIFO; what is still open at the track's end
 * closes there. A note's program is the last program change on its channel
 * earlier in its own track, else the last one on that channel in another
 * track at or before its tick, else 0. Zero-length notes last one tick.
 * Tempos, time and key signatures at the same tick: the last one read wins.
 *
 * To events: a conductor track (tempos, time and key signatures, end of
 * track at end_tick), then tracks of notes by (channel, program). Pairing is
 * FIFO per (channel, pitch), so two notes of one pitch where the later one
 * ends first (nested) cannot share a track; they go to layered tracks of the
 * same (channel, program): layer k takes a note when its previous note of
 * that pitch ends no later. With note-offs before note-ons at each tick,
 * reading the file back gives the same notes (only note.track differs).
 *
 *   track 0   tempo, time sig, key sig ...               end of track @ end_tick
 *   track 1   program (ch 0, prog 0, layer 0), on/off ... end of track
 *   track 2   program (ch 0, prog 0, layer 1) ...         (only when needed)
 *   track 3   program (ch 9, prog 0, layer 0) ...
 */
#include "disco/midi.h"

#include <stdlib.h>
#include <string.h>

#define NO_NOTE UINT32_MAX
#define DEFAULT_US 500000u
#define MAX_US 60000000u

enum { CTL_TEMPO, CTL_TIMESIG, CTL_KEYSIG };

/* A tempo, time or key signature as read, in file order (seq). */
typedef struct ctl {
    uint32_t tick, seq, value; /* value: us per quarter */
    uint8_t type, x, y;        /* x, y: num, den / sharps, minor */
} ctl;

typedef struct prog_change {
    uint32_t tick, seq;
    uint16_t track;
    uint8_t program;
} prog_change;

typedef struct builder {
    disco_score *sc;
    size_t cap;     /* of sc->notes and link */
    uint32_t *link; /* FIFO successor of each open note */
    uint32_t head[16 * 128], tail[16 * 128];
    prog_change *pc[16]; /* per channel, sorted by (tick, track, seq) */
    size_t npc[16];
    ctl *ctls;
    size_t nctls;
    disco_status *st;
} builder;

static int oom(disco_status *st)
{
    return disco_status_set(st, DISCO_ERR_NOMEM, "score", "out of memory");
}

/* ---- ordering -------------------------------------------------------------------------- */

#define CMP(x, y)                                                                                  \
    do {                                                                                           \
        if ((x) != (y))                                                                            \
            return (x) < (y) ? -1 : 1;                                                             \
    } while (0)

static int cmp_note(const void *pa, const void *pb)
{
    const disco_note_ev *a = pa, *b = pb;

    CMP(a->start, b->start);
    CMP(a->pitch, b->pitch);
    CMP(a->channel, b->channel);
    CMP(a->program, b->program);
    CMP(a->dur, b->dur);
    CMP(a->velocity, b->velocity);
    CMP(a->track, b->track);
    return 0;
}

static int cmp_prog(const void *pa, const void *pb)
{
    const prog_change *a = pa, *b = pb;

    CMP(a->tick, b->tick);
    CMP(a->track, b->track);
    CMP(a->seq, b->seq);
    return 0;
}

static int cmp_ctl_tick(const void *pa, const void *pb)
{
    const ctl *a = pa, *b = pb;

    CMP(a->tick, b->tick);
    CMP(a->type, b->type);
    CMP(a->seq, b->seq);
    return 0;
}

/* ---- from events: first pass ----------------------------------------------------------- */

/* A tempo, time or key signature record from a meta event; 0 when it is none or unusable. */
static int meta_ctl(const disco_midi_event *e, ctl *c)
{
    const uint8_t *d = e->data;

    memset(c, 0, sizeof *c);
    c->tick = e->tick;
    if (e->meta == 0x51 && e->len == 3) {
        c->type = CTL_TEMPO;
        c->value = (uint32_t)d[0] << 16 | (uint32_t)d[1] << 8 | d[2];
        c->value = c->value < 1 ? 1 : c->value > MAX_US ? MAX_US : c->value;
        return 1;
    }
    if (e->meta == 0x58 && e->len >= 2 && d[0] >= 1 && d[1] <= 7) {
        c->type = CTL_TIMESIG;
        c->x = d[0];
        c->y = (uint8_t)(1u << d[1]);
        return 1;
    }
    if (e->meta == 0x59 && e->len == 2 && (int8_t)d[0] >= -7 && (int8_t)d[0] <= 7 && d[1] <= 1) {
        c->type = CTL_KEYSIG;
        c->x = d[0];
        c->y = d[1];
        return 1;
    }
    return 0;
}

/* Counts (store = 0) or stores the program changes and control records of all tracks. */
static void gather(builder *b, const disco_smf *smf, int store)
{
    uint32_t seq = 0;

    memset(b->npc, 0, sizeof b->npc);
    b->nctls = 0;
    for (size_t t = 0; t < smf->ntracks; t++) {
        for (size_t i = 0; i < smf->tracks[t].count; i++) {
            const disco_midi_event *e = &smf->tracks[t].events[i];
            ctl c;
            seq++;
            if (e->kind == DISCO_MIDI_PROGRAM) {
                if (store)
                    b->pc[e->channel][b->npc[e->channel]] =
                        (prog_change){e->tick, seq, (uint16_t)t, e->a};
                b->npc[e->channel]++;
            } else if (e->kind == DISCO_MIDI_META && meta_ctl(e, &c)) {
                c.seq = seq;
                if (store)
                    b->ctls[b->nctls] = c;
                b->nctls++;
            }
        }
    }
}

static int first_pass(builder *b, const disco_smf *smf)
{
    int rc = disco_smf_check(smf, b->st);

    if (rc != DISCO_OK)
        return rc;
    gather(b, smf, 0);
    for (int c = 0; c < 16; c++)
        if (!(b->pc[c] = malloc((b->npc[c] + 1) * sizeof *b->pc[c])))
            return oom(b->st);
    if (!(b->ctls = malloc((b->nctls + 1) * sizeof *b->ctls)))
        return oom(b->st);
    gather(b, smf, 1);
    for (int c = 0; c < 16; c++)
        qsort(b->pc[c], b->npc[c], sizeof *b->pc[c], cmp_prog);
    qsort(b->ctls, b->nctls, sizeof *b->ctls, cmp_ctl_tick);
    return DISCO_OK;
}

/* ---- from events: notes ---------------------------------------------------------------- */

/*
 * Program on channel `c` at tick `k` for a note of track `t` that has seen no
 * program change of its own: the last change at or before `k` in another
 * track. Changes of track `t` at or before `k` can only sit at tick `k`, after
 * the note in the file, so the run (k, t) is stepped over.
 */
static uint8_t other_program(const builder *b, int c, uint32_t k, uint16_t t)
{
    const prog_change *p = b->pc[c];
    size_t lo = 0, hi = b->npc[c];

    while (lo < hi) { /* first change after k */
        size_t mid = lo + (hi - lo) / 2;
        if (p[mid].tick <= k)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo > 0 && p[lo - 1].track == t && p[lo - 1].tick == k) {
        hi = lo - 1;
        lo = 0;
        while (lo < hi) { /* first change at (k, t) */
            size_t mid = lo + (hi - lo) / 2;
            if (p[mid].tick < k || (p[mid].tick == k && p[mid].track < t))
                lo = mid + 1;
            else
                hi = mid;
        }
    }
    return lo > 0 ? p[lo - 1].program : 0;
}

static int open_note(builder *b, const disco_midi_event *e, uint16_t t, uint8_t program)
{
    disco_score *sc = b->sc;
    unsigned key = (unsigned)e->channel * 128u + e->a;
    uint32_t idx;

    if (sc->nnotes == b->cap) {
        size_t ncap = b->cap ? b->cap * 2 : 64;
        disco_note_ev *n = realloc(sc->notes, ncap * sizeof *n);
        if (n)
            sc->notes = n;
        uint32_t *l = n ? realloc(b->link, ncap * sizeof *l) : NULL;
        if (!l)
            return oom(b->st);
        b->link = l;
        b->cap = ncap;
    }
    idx = (uint32_t)sc->nnotes++;
    /* start, dur (pending), pitch, velocity, channel, program, track */
    sc->notes[idx] = (disco_note_ev){e->tick, 0, e->a, e->b, e->channel, program, t};
    b->link[idx] = NO_NOTE;
    if (b->tail[key] == NO_NOTE)
        b->head[key] = idx;
    else
        b->link[b->tail[key]] = idx;
    b->tail[key] = idx;
    return DISCO_OK;
}

/* Ends a note at `end`; a note that would last no time lasts one tick. */
static void close_note(builder *b, uint32_t idx, uint32_t end)
{
    disco_note_ev *n = &b->sc->notes[idx];

    if (end <= n->start) {
        if (n->start >= DISCO_MIDI_MAX_TICK)
            n->start = DISCO_MIDI_MAX_TICK - 1;
        end = n->start + 1;
    }
    n->dur = end - n->start;
    if (end > b->sc->end_tick)
        b->sc->end_tick = end;
}

static void close_oldest(builder *b, unsigned key, uint32_t end)
{
    uint32_t idx = b->head[key];

    if (idx == NO_NOTE)
        return; /* a note-off with nothing sounding */
    b->head[key] = b->link[idx];
    if (b->head[key] == NO_NOTE)
        b->tail[key] = NO_NOTE;
    close_note(b, idx, end);
}

static int walk_track(builder *b, const disco_midi_track *tr, uint16_t t)
{
    int prog[16];
    uint32_t end = 0;

    for (int c = 0; c < 16; c++)
        prog[c] = -1;
    memset(b->head, 0xFF, sizeof b->head);
    memset(b->tail, 0xFF, sizeof b->tail);
    for (size_t i = 0; i < tr->count; i++) {
        const disco_midi_event *e = &tr->events[i];
        int rc = DISCO_OK;
        end = e->tick;
        if (e->kind == DISCO_MIDI_NOTE_ON && e->b > 0)
            rc = open_note(b, e, t,
                           prog[e->channel] >= 0 ? (uint8_t)prog[e->channel]
                                                 : other_program(b, e->channel, e->tick, t));
        else if (e->kind == DISCO_MIDI_NOTE_ON || e->kind == DISCO_MIDI_NOTE_OFF)
            close_oldest(b, e->channel * 128u + e->a, e->tick);
        else if (e->kind == DISCO_MIDI_PROGRAM)
            prog[e->channel] = e->a;
        if (rc != DISCO_OK)
            return rc;
    }
    for (unsigned key = 0; key < 16 * 128; key++)
        while (b->head[key] != NO_NOTE)
            close_oldest(b, key, end);
    if (end > b->sc->end_tick)
        b->sc->end_tick = end;
    return DISCO_OK;
}

/* ---- from events: tempo map and signatures --------------------------------------------- */

static void store_ctl(disco_score *sc, const ctl *c)
{
    if (c->type == CTL_TEMPO)
        sc->tempos[sc->ntempos++] = (disco_tempo_ev){c->tick, c->value};
    else if (c->type == CTL_TIMESIG)
        sc->timesigs[sc->ntimesigs++] = (disco_timesig_ev){c->tick, c->x, c->y};
    else
        sc->keysigs[sc->nkeysigs++] = (disco_keysig_ev){c->tick, (int8_t)c->x, c->y};
}

/*
 * The records (sorted by tick, type, file order) into the score: the last
 * one at a tick wins; 120 BPM and 4/4 at tick 0 unless the file sets them.
 */
static int finish_ctl(builder *b)
{
    disco_score *sc = b->sc;
    const ctl dflt[2] = {{.type = CTL_TEMPO, .value = DEFAULT_US},
                         {.type = CTL_TIMESIG, .x = 4, .y = 4}};
    size_t n[3] = {0, 0, 0};
    int at_zero[3] = {0, 0, 0};

    for (size_t i = 0; i < b->nctls; i++) {
        n[b->ctls[i].type]++;
        at_zero[b->ctls[i].type] |= b->ctls[i].tick == 0;
    }
    sc->tempos = malloc((n[CTL_TEMPO] + 1) * sizeof *sc->tempos);
    sc->timesigs = malloc((n[CTL_TIMESIG] + 1) * sizeof *sc->timesigs);
    sc->keysigs = malloc((n[CTL_KEYSIG] + 1) * sizeof *sc->keysigs);
    if (!sc->tempos || !sc->timesigs || !sc->keysigs)
        return oom(b->st);
    for (int t = CTL_TEMPO; t <= CTL_TIMESIG; t++)
        if (!at_zero[t])
            store_ctl(sc, &dflt[t]);
    for (size_t i = 0; i < b->nctls; i++) {
        const ctl *c = &b->ctls[i], *next = i + 1 < b->nctls ? c + 1 : NULL;
        if (!next || next->type != c->type || next->tick != c->tick)
            store_ctl(sc, c);
    }
    return DISCO_OK;
}

int disco_score_from_smf(const disco_smf *smf, disco_score *out, disco_status *st)
{
    builder *b = calloc(1, sizeof *b);
    int rc = DISCO_OK;

    memset(out, 0, sizeof *out);
    if (!b)
        return oom(st);
    b->sc = out;
    b->st = st;
    out->tpq = smf->division;
    rc = first_pass(b, smf);
    for (size_t t = 0; rc == DISCO_OK && t < smf->ntracks; t++)
        rc = walk_track(b, &smf->tracks[t], (uint16_t)t);
    if (rc == DISCO_OK)
        rc = finish_ctl(b);
    if (rc == DISCO_OK)
        disco_score_sort(out);
    else
        disco_score_release(out);
    for (int c = 0; c < 16; c++)
        free(b->pc[c]);
    free(b->ctls);
    free(b->link);
    free(b);
    return rc;
}

/* ---- to events ------------------------------------------------------------------------- */

static int check_notes(const disco_score *sc, disco_status *st)
{
    for (size_t i = 0; i < sc->nnotes; i++) {
        const disco_note_ev *n = &sc->notes[i];
        uint32_t dur = n->dur ? n->dur : 1;
        if (n->channel > 15 || n->pitch > 127 || n->velocity > 127 || n->program > 127)
            return disco_status_set(st, DISCO_ERR_INVAL, "notes",
                                    "note %zu: channel %u, pitch %u, velocity %u or program %u "
                                    "out of range",
                                    i, n->channel, n->pitch, n->velocity, n->program);
        if (n->start > DISCO_MIDI_MAX_TICK || dur > DISCO_MIDI_MAX_TICK - n->start)
            return disco_status_set(st, DISCO_ERR_INVAL, "notes",
                                    "note %zu: start %u + duration %u is past tick %u", i, n->start,
                                    n->dur, DISCO_MIDI_MAX_TICK);
    }
    return DISCO_OK;
}

static int check_ctls(const disco_score *sc, disco_status *st)
{
    for (size_t i = 0; i < sc->ntempos; i++)
        if (sc->tempos[i].us_per_quarter < 1 || sc->tempos[i].us_per_quarter > 0xFFFFFF ||
            sc->tempos[i].tick > DISCO_MIDI_MAX_TICK)
            return disco_status_set(st, DISCO_ERR_INVAL, "tempos",
                                    "tempo %zu: %u us per quarter (1..16777215) at tick %u", i,
                                    sc->tempos[i].us_per_quarter, sc->tempos[i].tick);
    for (size_t i = 0; i < sc->ntimesigs; i++) {
        const disco_timesig_ev *t = &sc->timesigs[i];
        if (t->num < 1 || t->den < 1 || t->den > 128 || (t->den & (t->den - 1)) ||
            t->tick > DISCO_MIDI_MAX_TICK)
            return disco_status_set(st, DISCO_ERR_INVAL, "timesigs",
                                    "time signature %zu: %u/%u at tick %u (denominator a power "
                                    "of two up to 128)",
                                    i, t->num, t->den, t->tick);
    }
    for (size_t i = 0; i < sc->nkeysigs; i++)
        if (sc->keysigs[i].sharps < -7 || sc->keysigs[i].sharps > 7 || sc->keysigs[i].minor > 1 ||
            sc->keysigs[i].tick > DISCO_MIDI_MAX_TICK)
            return disco_status_set(
                st, DISCO_ERR_INVAL, "keysigs", "key signature %zu: %d sharps, minor %u at tick %u",
                i, sc->keysigs[i].sharps, sc->keysigs[i].minor, sc->keysigs[i].tick);
    return DISCO_OK;
}

static int check_score(const disco_score *sc, disco_status *st)
{
    int rc;

    if (sc->tpq < 1 || sc->tpq > 0x7FFF)
        return disco_status_set(st, DISCO_ERR_INVAL, "tpq", "tpq %d is not in 1..32767", sc->tpq);
    if (sc->end_tick > DISCO_MIDI_MAX_TICK)
        return disco_status_set(st, DISCO_ERR_INVAL, "end_tick", "end_tick %u is past %u",
                                sc->end_tick, DISCO_MIDI_MAX_TICK);
    if ((sc->nnotes && !sc->notes) || (sc->ntempos && !sc->tempos) ||
        (sc->ntimesigs && !sc->timesigs) || (sc->nkeysigs && !sc->keysigs))
        return disco_status_set(st, DISCO_ERR_INVAL, "score", "NULL array with a count");
    rc = check_notes(sc, st);
    return rc != DISCO_OK ? rc : check_ctls(sc, st);
}

static int cmp_layer(const void *pa, const void *pb)
{
    const disco_note_ev *a = pa, *b = pb;

    CMP(a->channel, b->channel);
    CMP(a->program, b->program);
    CMP(a->pitch, b->pitch);
    CMP(a->start, b->start);
    CMP(a->dur, b->dur);
    CMP(a->velocity, b->velocity);
    return 0;
}

static uint32_t note_end(const disco_note_ev *n)
{
    return n->start + (n->dur ? n->dur : 1);
}

/*
 * The track of each note of `s` (sorted by cmp_layer): 1 + the tracks of the
 * (channel, program) groups before it + its layer. Sets *ntracks.
 */
static int assign_tracks(const disco_note_ev *s, size_t n, uint32_t *trk, size_t *ntracks,
                         disco_status *st)
{
    uint32_t ends[DISCO_MIDI_MAX_TRACKS]; /* last end in each layer, current pitch */
    size_t nends = 0, base = 1, layers = 0;

    for (size_t i = 0; i < n; i++) {
        if (i > 0 && (s[i].channel != s[i - 1].channel || s[i].program != s[i - 1].program)) {
            base += layers;
            layers = nends = 0;
        } else if (i > 0 && s[i].pitch != s[i - 1].pitch) {
            nends = 0;
        }
        uint32_t end = note_end(&s[i]);
        size_t k = 0;
        while (k < nends && ends[k] > end)
            k++;
        if (base + k >= DISCO_MIDI_MAX_TRACKS)
            return disco_status_set(st, DISCO_ERR_LIMIT, "notes",
                                    "the notes need more than %d tracks (overlapping notes of "
                                    "one pitch need a track each)",
                                    DISCO_MIDI_MAX_TRACKS);
        if (k == nends)
            nends++;
        ends[k] = end;
        layers = k + 1 > layers ? k + 1 : layers;
        trk[i] = (uint32_t)(base + k);
    }
    *ntracks = base + layers;
    return DISCO_OK;
}

/* A note-on or note-off of sorted note `seq`, in the order the tracks hold them. */
typedef struct item {
    uint32_t track, tick, seq;
    uint8_t on;
} item;

static int cmp_item(const void *pa, const void *pb)
{
    const item *a = pa, *b = pb;

    CMP(a->track, b->track);
    CMP(a->tick, b->tick);
    CMP(a->on, b->on); /* offs first */
    CMP(a->seq, b->seq);
    return 0;
}

static int alloc_tracks(disco_smf *out, const size_t *count, size_t ntracks, disco_status *st)
{
    out->tracks = calloc(ntracks, sizeof *out->tracks);
    if (!out->tracks)
        return oom(st);
    out->ntracks = ntracks;
    for (size_t t = 0; t < ntracks; t++) {
        out->tracks[t].events = calloc(count[t] + 1, sizeof *out->tracks[t].events);
        if (!out->tracks[t].events)
            return oom(st);
    }
    return DISCO_OK;
}

static void push(disco_midi_track *tr, disco_midi_event e)
{
    tr->events[tr->count++] = e;
}

/* A channel or meta event without payload. */
static disco_midi_event event(uint32_t tick, uint8_t kind, uint8_t channel, uint8_t a, uint8_t b,
                              uint8_t meta)
{
    return (disco_midi_event){
        .tick = tick, .kind = kind, .channel = channel, .a = a, .b = b, .meta = meta};
}

/* Note tracks 1.. from the sorted notes, their tracks and the sorted on/off items. */
static void fill_note_tracks(disco_smf *out, const disco_note_ev *s, const item *it, size_t nit)
{
    for (size_t i = 0; i < nit; i++) {
        const disco_note_ev *n = &s[it[i].seq];
        disco_midi_track *tr = &out->tracks[it[i].track];
        uint8_t vel = it[i].on ? (n->velocity ? n->velocity : 1) : 0;
        if (tr->count == 0)
            push(tr, event(0, DISCO_MIDI_PROGRAM, n->channel, n->program, 0, 0));
        push(tr, event(it[i].tick, it[i].on ? DISCO_MIDI_NOTE_ON : DISCO_MIDI_NOTE_OFF, n->channel,
                       n->pitch, vel, 0));
    }
    for (size_t t = 1; t < out->ntracks; t++) {
        disco_midi_track *tr = &out->tracks[t];
        push(tr, event(tr->events[tr->count - 1].tick, DISCO_MIDI_META, 0, 0, 0, 0x2F));
    }
}

/* The tempos, time and key signatures of `sc` as records, by tick; NULL when out of memory. */
static ctl *conductor_records(const disco_score *sc, size_t *n)
{
    ctl *c = malloc((sc->ntempos + sc->ntimesigs + sc->nkeysigs + 1) * sizeof *c);
    size_t k = 0;

    if (!c)
        return NULL;
    for (size_t i = 0; i < sc->ntempos; i++, k++)
        c[k] =
            (ctl){sc->tempos[i].tick, (uint32_t)k, sc->tempos[i].us_per_quarter, CTL_TEMPO, 0, 0};
    for (size_t i = 0; i < sc->ntimesigs; i++, k++)
        c[k] = (ctl){sc->timesigs[i].tick, (uint32_t)k,         0,
                     CTL_TIMESIG,          sc->timesigs[i].num, sc->timesigs[i].den};
    for (size_t i = 0; i < sc->nkeysigs; i++, k++)
        c[k] =
            (ctl){sc->keysigs[i].tick, (uint32_t)k, 0, CTL_KEYSIG, (uint8_t)sc->keysigs[i].sharps,
                  sc->keysigs[i].minor};
    qsort(c, k, sizeof *c, cmp_ctl_tick);
    *n = k;
    return c;
}

/* The meta event of a record, its payload malloc'd; 0 when out of memory. */
static int meta_event(const ctl *c, disco_midi_event *e)
{
    uint8_t d[4] = {c->x, c->y, 24, 8}, dd = 0;

    memset(e, 0, sizeof *e);
    e->tick = c->tick;
    e->kind = DISCO_MIDI_META;
    if (c->type == CTL_TEMPO) {
        e->meta = 0x51;
        e->len = 3;
        d[0] = (uint8_t)(c->value >> 16), d[1] = (uint8_t)(c->value >> 8), d[2] = (uint8_t)c->value;
    } else if (c->type == CTL_TIMESIG) {
        while ((1u << dd) < c->y)
            dd++;
        e->meta = 0x58;
        e->len = 4; /* num, log2 den, MIDI clocks per click, 32nds per quarter */
        d[1] = dd;
    } else {
        e->meta = 0x59;
        e->len = 2;
    }
    e->data = malloc(e->len);
    if (e->data)
        memcpy(e->data, d, e->len);
    return e->data != NULL;
}

/* Track 0: tempos, time and key signatures by tick, end of track at end_tick or later. */
static int fill_conductor(disco_smf *out, const disco_score *sc, disco_status *st)
{
    disco_midi_track *tr = &out->tracks[0];
    uint32_t last = sc->end_tick;
    size_t n = 0;
    ctl *c = conductor_records(sc, &n);

    if (!c)
        return oom(st);
    for (size_t i = 0; i < n; i++) {
        if (!meta_event(&c[i], &tr->events[tr->count])) {
            free(c);
            return oom(st);
        }
        tr->count++;
        last = c[i].tick > last ? c[i].tick : last;
    }
    push(tr, event(last, DISCO_MIDI_META, 0, 0, 0, 0x2F));
    free(c);
    return DISCO_OK;
}

/* Sorted on/off items of the sorted notes, and how many events each track gets. */
static int plan_items(const disco_score *sc, const disco_note_ev *s, const uint32_t *trk,
                      size_t ntracks, item *it, size_t *count, disco_status *st)
{
    size_t n = sc->nnotes, nctl = sc->ntempos + sc->ntimesigs + sc->nkeysigs;

    if (nctl + 1 + 2 * n + 2 * (ntracks - 1) > DISCO_MIDI_MAX_EVENTS)
        return disco_status_set(st, DISCO_ERR_LIMIT, "score",
                                "%zu notes and %zu tempos and signatures make more than %d "
                                "events",
                                n, nctl, DISCO_MIDI_MAX_EVENTS);
    for (size_t i = 0; i < n; i++) {
        it[2 * i] = (item){trk[i], s[i].start, (uint32_t)i, 1};
        it[2 * i + 1] = (item){trk[i], note_end(&s[i]), (uint32_t)i, 0};
        count[trk[i]] += 2;
    }
    qsort(it, 2 * n, sizeof *it, cmp_item);
    count[0] = nctl;
    for (size_t t = 1; t < ntracks; t++)
        count[t] += 1; /* the program change */
    return DISCO_OK;
}

int disco_score_to_smf(const disco_score *sc, disco_smf *out, disco_status *st)
{
    size_t n = sc->nnotes, ntracks = 1, *count = NULL;
    disco_note_ev *s = NULL;
    uint32_t *trk = NULL;
    item *it = NULL;
    int rc;

    memset(out, 0, sizeof *out);
    rc = check_score(sc, st);
    if (rc != DISCO_OK)
        return rc;
    s = malloc((n + 1) * sizeof *s);
    trk = malloc((n + 1) * sizeof *trk);
    it = malloc((2 * n + 1) * sizeof *it);
    if (!s || !trk || !it) {
        rc = oom(st);
        goto out_free;
    }
    if (n > 0)
        memcpy(s, sc->notes, n * sizeof *s);
    qsort(s, n, sizeof *s, cmp_layer);
    rc = assign_tracks(s, n, trk, &ntracks, st);
    if (rc == DISCO_OK && !(count = calloc(ntracks, sizeof *count)))
        rc = oom(st);
    if (rc == DISCO_OK)
        rc = plan_items(sc, s, trk, ntracks, it, count, st);
    if (rc == DISCO_OK)
        rc = alloc_tracks(out, count, ntracks, st);
    if (rc == DISCO_OK) {
        out->format = 1;
        out->division = sc->tpq;
        fill_note_tracks(out, s, it, 2 * n);
        rc = fill_conductor(out, sc, st);
    }
out_free:
    if (rc != DISCO_OK)
        disco_smf_release(out);
    free(count);
    free(it);
    free(trk);
    free(s);
    return rc;
}

/* ---- the score itself ------------------------------------------------------------------ */

void disco_score_release(disco_score *sc)
{
    if (!sc)
        return;
    free(sc->notes);
    free(sc->tempos);
    free(sc->timesigs);
    free(sc->keysigs);
    memset(sc, 0, sizeof *sc);
}

int disco_score_init(disco_score *sc, int tpq, disco_status *st)
{
    memset(sc, 0, sizeof *sc);
    if (tpq < 1 || tpq > 0x7FFF)
        return disco_status_set(st, DISCO_ERR_INVAL, "tpq", "tpq %d is not in 1..32767", tpq);
    sc->tpq = tpq;
    sc->tempos = malloc(sizeof *sc->tempos);
    sc->timesigs = malloc(sizeof *sc->timesigs);
    if (!sc->tempos || !sc->timesigs) {
        disco_score_release(sc);
        return oom(st);
    }
    sc->tempos[0] = (disco_tempo_ev){0, DEFAULT_US};
    sc->timesigs[0] = (disco_timesig_ev){0, 4, 4};
    sc->ntempos = sc->ntimesigs = 1;
    return DISCO_OK;
}

int disco_score_add_note(disco_score *sc, const disco_note_ev *n, disco_status *st)
{
    size_t k = sc->nnotes;

    if (n->dur < 1)
        return disco_status_set(st, DISCO_ERR_INVAL, "dur", "note duration 0 (at least 1 tick)");
    int rc = check_notes(&(disco_score){.notes = (disco_note_ev *)n, .nnotes = 1}, st);
    if (rc != DISCO_OK)
        return rc;
    if (k == 0 || (k & (k - 1)) == 0) { /* room for the next power of two, at least 16 */
        disco_note_ev *p = realloc(sc->notes, (k < 16 ? 16 : 2 * k) * sizeof *p);
        if (!p)
            return oom(st);
        sc->notes = p;
    }
    sc->notes[k] = *n;
    sc->nnotes = k + 1;
    if (note_end(n) > sc->end_tick)
        sc->end_tick = note_end(n);
    return DISCO_OK;
}

/* Tempos, time and key signatures all start with their tick. */
static int cmp_tick(const void *pa, const void *pb)
{
    uint32_t a = *(const uint32_t *)pa, b = *(const uint32_t *)pb;

    return (a > b) - (a < b);
}

void disco_score_sort(disco_score *sc)
{
    if (sc->notes)
        qsort(sc->notes, sc->nnotes, sizeof *sc->notes, cmp_note);
    if (sc->tempos)
        qsort(sc->tempos, sc->ntempos, sizeof *sc->tempos, cmp_tick);
    if (sc->timesigs)
        qsort(sc->timesigs, sc->ntimesigs, sizeof *sc->timesigs, cmp_tick);
    if (sc->keysigs)
        qsort(sc->keysigs, sc->nkeysigs, sizeof *sc->keysigs, cmp_tick);
}

/* ---- tempo map ------------------------------------------------------------------------- */

static double us_of(const disco_tempo_ev *t)
{
    uint32_t us = t->us_per_quarter;

    return us < 1 ? 1.0 : us > MAX_US ? (double)MAX_US : (double)us;
}

double disco_score_seconds(const disco_score *sc, uint32_t tick)
{
    double us = 0.0, rate = DEFAULT_US;
    uint32_t at = 0;

    if (!sc || sc->tpq < 1)
        return 0.0;
    for (size_t i = 0; sc->tempos && i < sc->ntempos && sc->tempos[i].tick < tick; i++) {
        if (sc->tempos[i].tick > at) {
            us += (double)(sc->tempos[i].tick - at) * rate;
            at = sc->tempos[i].tick;
        }
        rate = us_of(&sc->tempos[i]);
    }
    us += (double)(tick - at) * rate;
    return us / (1e6 * sc->tpq);
}

double disco_score_bpm_at(const disco_score *sc, uint32_t tick)
{
    double us = DEFAULT_US;

    for (size_t i = 0; sc && sc->tempos && i < sc->ntempos && sc->tempos[i].tick <= tick; i++)
        us = us_of(&sc->tempos[i]);
    return 60e6 / us;
}
