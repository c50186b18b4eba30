/*
 * midi.c - Standard MIDI File reader and writer (disco_smf).
 *
 * DESIGN
 *
 *   file   MThd <len:4> format:2 ntracks:2 division:2, then chunks
 *          <type:4> <len:4> <bytes>; MTrk chunks hold a track, other
 *          chunk types are skipped. All numbers big-endian.
 *   event  <delta: VLQ> then one of
 *            8n..En <1 or 2 data bytes>     channel message; the status
 *            <data bytes>                   byte may be left out (running
 *                                           status: the previous one again)
 *            FF <type> <len: VLQ> <bytes>   meta (2F = end of track)
 *            F0|F7 <len: VLQ> <bytes>       sysex, kept opaque
 *   VLQ    7 bits a byte, high bit = more follows, at most 4 bytes.
 *
 * The reader walks the buffer with a cursor that knows where the current
 * chunk ends: every read checks its bytes are there, and a refusal names
 * the byte offset and what was wrong. Lenient where real files need it: a
 * track without end-of-track ends with its chunk, running status survives
 * meta and sysex events, bytes after end-of-track and after the declared
 * tracks are ignored, a format-0 header with several tracks reads as
 * format 1.
 *
 * The writer gives every event its status byte (no running status) and
 * ends each track with end-of-track; the path version writes a temporary
 * file in the same folder, fsyncs it and renames it over the target.
 */
#include "disco/midi.h"
#include "disco/fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define META_EOT 0x2F
#define VLQ_MAX 0x0FFFFFFFu

/* ---- reader ---------------------------------------------------------------------------- */

typedef struct reader {
    const uint8_t *buf;
    size_t len; /* whole buffer */
    size_t pos; /* cursor */
    size_t end; /* end of the chunk being read */
    size_t nevents;
    const char *name; /* the input, for messages */
    disco_status *st;
} reader;

static int corrupt(reader *r, size_t off, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int corrupt(reader *r, size_t off, const char *fmt, ...)
{
    char what[DISCO_STATUS_MSG_MAX];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return disco_status_set(r->st, DISCO_ERR_CORRUPT, "midi", "%s: offset %zu: %s", r->name, off,
                            what);
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint16_t be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

/* A variable-length quantity of at most 4 bytes, inside the current chunk. */
static int read_vlq(reader *r, uint32_t *out, const char *what)
{
    size_t at = r->pos;
    uint32_t v = 0;

    for (int i = 0; i < 4; i++) {
        if (r->pos >= r->end)
            return corrupt(r, at, "%s runs past the end of the track chunk", what);
        uint8_t b = r->buf[r->pos++];
        v = v << 7 | (b & 0x7Fu);
        if (!(b & 0x80))
            return *out = v, DISCO_OK;
    }
    return corrupt(r, at, "%s is a variable-length number longer than 4 bytes", what);
}

/* <len: VLQ> <bytes> of a meta or sysex event, copied into ev->data. */
static int read_payload(reader *r, disco_midi_event *ev, const char *what)
{
    size_t at = r->pos;
    uint32_t n;
    int rc = read_vlq(r, &n, what);

    if (rc != DISCO_OK)
        return rc;
    if (n > r->end - r->pos)
        return corrupt(r, at, "%s %u runs past the end of the track chunk (%zu bytes left)", what,
                       n, r->end - r->pos);
    ev->len = n;
    if (n > 0) {
        ev->data = malloc(n);
        if (!ev->data)
            return disco_status_set(r->st, DISCO_ERR_NOMEM, "midi", "out of memory");
        memcpy(ev->data, r->buf + r->pos, n);
    }
    r->pos += n;
    return DISCO_OK;
}

static int read_channel(reader *r, disco_midi_event *ev, uint8_t status)
{
    int ndata =
        ((status & 0xF0) == DISCO_MIDI_PROGRAM || (status & 0xF0) == DISCO_MIDI_CHAN_AT) ? 1 : 2;
    uint8_t d[2] = {0, 0};

    for (int i = 0; i < ndata; i++) {
        if (r->pos >= r->end)
            return corrupt(r, r->pos, "message 0x%02X misses its data byte %d", status, i + 1);
        d[i] = r->buf[r->pos];
        if (d[i] & 0x80)
            return corrupt(r, r->pos, "data byte 0x%02X of message 0x%02X is not below 0x80", d[i],
                           status);
        r->pos++;
    }
    ev->kind = status & 0xF0;
    ev->channel = status & 0x0F;
    ev->a = d[0];
    ev->b = d[1];
    return DISCO_OK;
}

/* One event after its delta-time; `running` is the track's running status. */
static int read_event(reader *r, disco_midi_event *ev, uint8_t *running)
{
    size_t at = r->pos;
    uint8_t s;

    if (at >= r->end)
        return corrupt(r, at, "the track chunk ends after a delta-time, before its event");
    s = r->buf[at];
    if (s & 0x80)
        r->pos++;
    else if (*running)
        s = *running;
    else
        return corrupt(r, at,
                       "data byte 0x%02X uses running status, but no status byte came "
                       "before it in this track",
                       s);
    if (s < 0xF0) {
        *running = s;
        return read_channel(r, ev, s);
    }
    if (s == 0xFF) {
        if (r->pos >= r->end)
            return corrupt(r, r->pos, "meta event misses its type byte");
        ev->kind = DISCO_MIDI_META;
        ev->meta = r->buf[r->pos++];
        return read_payload(r, ev, "meta event length");
    }
    if (s == 0xF0 || s == 0xF7) {
        ev->kind = s;
        return read_payload(r, ev, "sysex length");
    }
    return corrupt(r, at, "status byte 0x%02X is not allowed in a MIDI file", s);
}

/* Room for one more event (zeroed) in *ev, within the file-wide cap. */
static int push_event(reader *r, disco_midi_track *t, size_t *cap, disco_midi_event **ev)
{
    if (r->nevents >= DISCO_MIDI_MAX_EVENTS)
        return disco_status_set(r->st, DISCO_ERR_LIMIT, "midi", "%s: more than %d events", r->name,
                                DISCO_MIDI_MAX_EVENTS);
    if (t->count == *cap) {
        size_t ncap = *cap ? *cap * 2 : 64;
        disco_midi_event *e = realloc(t->events, ncap * sizeof *e);
        if (!e)
            return disco_status_set(r->st, DISCO_ERR_NOMEM, "midi", "out of memory");
        t->events = e;
        *cap = ncap;
    }
    r->nevents++;
    *ev = &t->events[t->count++];
    memset(*ev, 0, sizeof **ev);
    return DISCO_OK;
}

/* The events of one MTrk chunk, r->pos .. r->end. */
static int read_track(reader *r, disco_midi_track *t)
{
    uint32_t tick = 0, delta;
    uint8_t running = 0;
    size_t cap = 0;

    while (r->pos < r->end) {
        size_t at = r->pos;
        int rc = read_vlq(r, &delta, "delta-time");
        if (rc != DISCO_OK)
            return rc;
        if (delta > DISCO_MIDI_MAX_TICK - tick)
            return corrupt(r, at, "delta-time %u takes the track past tick %u", delta,
                           DISCO_MIDI_MAX_TICK);
        tick += delta;
        disco_midi_event *ev = NULL;
        rc = push_event(r, t, &cap, &ev);
        if (rc != DISCO_OK)
            return rc;
        ev->tick = tick;
        rc = read_event(r, ev, &running);
        if (rc != DISCO_OK)
            return rc;
        if (ev->kind == DISCO_MIDI_META && ev->meta == META_EOT)
            break; /* whatever follows in the chunk is not part of the track */
    }
    return DISCO_OK;
}

/* SMPTE divisions (negative frames per second, ticks per frame) at 120 BPM. */
static int read_division(reader *r, uint16_t d, int *out)
{
    if (d & 0x8000) {
        int fps = -(int)(int8_t)(d >> 8), tpf = d & 0xFF;
        double rate = fps == 29 ? 29.97 : fps; /* 29 stands for 30 drop-frame */
        if (tpf == 0)
            return corrupt(r, 12, "SMPTE division with 0 ticks per frame");
        *out = (int)lround(rate * tpf * 0.5);
        if (*out < 1)
            *out = 1;
        return DISCO_OK;
    }
    if (d == 0)
        return corrupt(r, 12, "division of 0 ticks per quarter note");
    *out = d;
    return DISCO_OK;
}

static int read_header(reader *r, disco_smf *out, size_t *ntracks)
{
    uint32_t hlen;
    int format, rc;

    if (r->len < 14)
        return corrupt(r, r->len, "truncated header: %zu bytes, a MIDI header needs 14", r->len);
    if (memcmp(r->buf, "MThd", 4) != 0)
        return corrupt(r, 0, "not a MIDI file (no MThd chunk)");
    hlen = be32(r->buf + 4);
    if (hlen < 6 || hlen > r->len - 8)
        return corrupt(r, 4, "header length %u is not in 6..%zu", hlen, r->len - 8);
    format = be16(r->buf + 8);
    *ntracks = be16(r->buf + 10);
    if (format > 2)
        return corrupt(r, 8, "format %d is not 0, 1 or 2", format);
    if (*ntracks == 0)
        return corrupt(r, 10, "header declares no tracks");
    if (*ntracks > DISCO_MIDI_MAX_TRACKS)
        return disco_status_set(r->st, DISCO_ERR_LIMIT, "midi", "%s: %zu tracks, at most %d",
                                r->name, *ntracks, DISCO_MIDI_MAX_TRACKS);
    rc = read_division(r, be16(r->buf + 12), &out->division);
    out->format = format == 0 && *ntracks == 1 ? 0 : 1;
    r->pos = 8 + (size_t)hlen;
    return rc;
}

/* The chunks after the header, until `ntracks` MTrk chunks are read. */
static int read_chunks(reader *r, disco_smf *out, size_t ntracks)
{
    while (out->ntracks < ntracks) {
        size_t at = r->pos, left = r->len - r->pos;
        if (left == 0)
            return corrupt(r, at, "the file holds %zu of the %zu tracks its header declares",
                           out->ntracks, ntracks);
        if (left < 8)
            return corrupt(r, at, "truncated chunk header (%zu bytes)", left);
        uint32_t clen = be32(r->buf + at + 4);
        if (clen > left - 8)
            return corrupt(r, at + 4,
                           "chunk length %u runs past the end of the file (%zu bytes "
                           "left)",
                           clen, left - 8);
        r->pos = at + 8;
        r->end = r->pos + clen;
        if (memcmp(r->buf + at, "MTrk", 4) == 0) {
            int rc = read_track(r, &out->tracks[out->ntracks++]);
            if (rc != DISCO_OK)
                return rc;
        }
        r->pos = r->end;
    }
    return DISCO_OK;
}

static int parse(const void *buf, size_t len, const char *name, disco_smf *out, disco_status *st)
{
    reader r = {.buf = buf, .len = len, .name = name, .st = st};
    size_t ntracks = 0;
    int rc;

    memset(out, 0, sizeof *out);
    if (!buf && len > 0)
        return disco_status_set(st, DISCO_ERR_INVAL, "buf", "NULL buffer of %zu bytes", len);
    rc = read_header(&r, out, &ntracks);
    if (rc != DISCO_OK)
        return rc;
    out->tracks = calloc(ntracks, sizeof *out->tracks);
    if (!out->tracks)
        return disco_status_set(st, DISCO_ERR_NOMEM, "midi", "out of memory");
    rc = read_chunks(&r, out, ntracks);
    if (rc != DISCO_OK)
        disco_smf_release(out);
    return rc;
}

int disco_smf_read_mem(const void *buf, size_t len, disco_smf *out, disco_status *st)
{
    return parse(buf, len, "MIDI data", out, st);
}

/* The whole file into a malloc'd buffer, refusing files over DISCO_MIDI_MAX_FILE. */
static int slurp(const char *path, uint8_t **buf, size_t *len, disco_status *st)
{
    FILE *f = fopen(path, "rb");
    struct stat sb;
    int rc = DISCO_OK;

    *buf = NULL;
    if (!f)
        return disco_status_errno(st, errno, "path", "cannot open %s", path);
    if (fstat(fileno(f), &sb) != 0) {
        rc = disco_status_errno(st, errno, "path", "cannot stat %s", path);
    } else if (sb.st_size > DISCO_MIDI_MAX_FILE) {
        rc = disco_status_set(st, DISCO_ERR_LIMIT, "path", "%s: %lld bytes, at most %d", path,
                              (long long)sb.st_size, DISCO_MIDI_MAX_FILE);
    } else {
        *len = (size_t)sb.st_size;
        *buf = malloc(*len ? *len : 1);
        if (!*buf)
            rc = disco_status_set(st, DISCO_ERR_NOMEM, "path", "out of memory");
        else if (fread(*buf, 1, *len, f) != *len)
            rc = disco_status_errno(st, errno ? errno : EIO, "path", "cannot read %s", path);
    }
    fclose(f);
    if (rc != DISCO_OK) {
        free(*buf);
        *buf = NULL;
    }
    return rc;
}

int disco_smf_read(const char *path, disco_smf *out, disco_status *st)
{
    uint8_t *buf;
    size_t len = 0;
    int rc;

    memset(out, 0, sizeof *out);
    if (!path)
        return disco_status_set(st, DISCO_ERR_INVAL, "path", "NULL path");
    rc = slurp(path, &buf, &len, st);
    if (rc != DISCO_OK)
        return rc;
    rc = parse(buf, len, path, out, st);
    free(buf);
    return rc;
}

void disco_smf_release(disco_smf *smf)
{
    if (!smf)
        return;
    for (size_t t = 0; smf->tracks && t < smf->ntracks; t++) {
        for (size_t i = 0; i < smf->tracks[t].count; i++)
            free(smf->tracks[t].events[i].data);
        free(smf->tracks[t].events);
    }
    free(smf->tracks);
    memset(smf, 0, sizeof *smf);
}

/* ---- writer ---------------------------------------------------------------------------- */

typedef struct wbuf {
    uint8_t *p;
    size_t len, cap;
    int oom;
} wbuf;

static void put(wbuf *w, const void *src, size_t n)
{
    if (w->oom)
        return;
    if (n > w->cap - w->len) {
        size_t ncap = w->cap ? w->cap : 256;
        while (ncap - w->len < n)
            ncap *= 2;
        uint8_t *p = realloc(w->p, ncap);
        if (!p) {
            w->oom = 1;
            return;
        }
        w->p = p;
        w->cap = ncap;
    }
    if (n > 0)
        memcpy(w->p + w->len, src, n);
    w->len += n;
}

static void put_u8(wbuf *w, uint8_t v)
{
    put(w, &v, 1);
}

static void put_be(wbuf *w, uint32_t v, int nbytes)
{
    uint8_t b[4];

    for (int i = 0; i < nbytes; i++)
        b[i] = (uint8_t)(v >> (8 * (nbytes - 1 - i)));
    put(w, b, (size_t)nbytes);
}

static void put_vlq(wbuf *w, uint32_t v)
{
    uint8_t b[4];
    int n = 0;

    do {
        b[3 - n] = (uint8_t)((v & 0x7F) | (n ? 0x80 : 0));
        v >>= 7;
        n++;
    } while (v && n < 4);
    put(w, b + 4 - n, (size_t)n);
}

/* What the writer can put in a file: ticks in order, valid status and data bytes. */
static int check_event(const disco_midi_event *e, size_t t, size_t i, uint32_t prev, int last,
                       disco_status *st)
{
    if (e->tick < prev || e->tick > DISCO_MIDI_MAX_TICK)
        return disco_status_set(st, DISCO_ERR_INVAL, "smf",
                                "track %zu event %zu: tick %u is before the previous tick %u or "
                                "past %u",
                                t, i, e->tick, prev, DISCO_MIDI_MAX_TICK);
    if (e->kind >= 0x80 && e->kind < 0xF0 && !(e->kind & 0x0F)) {
        if (e->channel > 15 || e->a > 127 || e->b > 127)
            return disco_status_set(st, DISCO_ERR_INVAL, "smf",
                                    "track %zu event %zu: channel %u or data %u %u out of range", t,
                                    i, e->channel, e->a, e->b);
        return DISCO_OK;
    }
    if (e->kind != DISCO_MIDI_META && e->kind != 0xF0 && e->kind != 0xF7)
        return disco_status_set(st, DISCO_ERR_INVAL, "smf", "track %zu event %zu: kind 0x%02X", t,
                                i, e->kind);
    if (e->len > VLQ_MAX || (e->len > 0 && !e->data))
        return disco_status_set(st, DISCO_ERR_INVAL, "smf",
                                "track %zu event %zu: payload of %u bytes %s", t, i, e->len,
                                e->len > VLQ_MAX ? "is too long" : "has no data");
    if (e->kind == DISCO_MIDI_META && e->meta == META_EOT && !last)
        return disco_status_set(st, DISCO_ERR_INVAL, "smf",
                                "track %zu event %zu: end of track before the last event", t, i);
    return DISCO_OK;
}

static void put_event(wbuf *w, const disco_midi_event *e, uint32_t delta)
{
    put_vlq(w, delta);
    if (e->kind < 0xF0) {
        put_u8(w, (uint8_t)(e->kind | e->channel));
        put_u8(w, e->a);
        if (e->kind != DISCO_MIDI_PROGRAM && e->kind != DISCO_MIDI_CHAN_AT)
            put_u8(w, e->b);
        return;
    }
    put_u8(w, e->kind);
    if (e->kind == DISCO_MIDI_META)
        put_u8(w, e->meta);
    put_vlq(w, e->len);
    put(w, e->data, e->len);
}

/* A track that disco_smf_check passed, with end-of-track added when missing. */
static int put_track(wbuf *w, const disco_midi_track *tr, size_t t, disco_status *st)
{
    size_t at, n = tr->count;
    uint32_t prev = 0;

    put(w, "MTrk\0\0\0\0", 8);
    at = w->len;
    for (size_t i = 0; i < n; i++) {
        put_event(w, &tr->events[i], tr->events[i].tick - prev);
        prev = tr->events[i].tick;
    }
    if (n == 0 || tr->events[n - 1].kind != DISCO_MIDI_META || tr->events[n - 1].meta != META_EOT)
        put(w, "\x00\xFF\x2F\x00", 4);
    if (w->oom)
        return disco_status_set(st, DISCO_ERR_NOMEM, "smf", "out of memory");
    if (w->len - at > UINT32_MAX)
        return disco_status_set(st, DISCO_ERR_LIMIT, "smf", "track %zu is over 4 GiB", t);
    for (int i = 0; i < 4; i++)
        w->p[at - 4 + (size_t)i] = (uint8_t)((w->len - at) >> (24 - 8 * i));
    return DISCO_OK;
}

int disco_smf_check(const disco_smf *smf, disco_status *st)
{
    if (smf->format != 0 && smf->format != 1)
        return disco_status_set(st, DISCO_ERR_INVAL, "format", "format %d is not 0 or 1",
                                smf->format);
    if (smf->ntracks == 0 || smf->ntracks > DISCO_MIDI_MAX_TRACKS || !smf->tracks ||
        (smf->format == 0 && smf->ntracks != 1))
        return disco_status_set(st, DISCO_ERR_INVAL, "ntracks",
                                "%zu tracks for format %d (format 0: 1, format 1: 1..%d)",
                                smf->ntracks, smf->format, DISCO_MIDI_MAX_TRACKS);
    if (smf->division < 1 || smf->division > 0x7FFF)
        return disco_status_set(st, DISCO_ERR_INVAL, "division",
                                "division %d is not in 1..32767 ticks per quarter", smf->division);
    for (size_t t = 0; t < smf->ntracks; t++) {
        const disco_midi_track *tr = &smf->tracks[t];
        if (tr->count > 0 && !tr->events)
            return disco_status_set(st, DISCO_ERR_INVAL, "smf", "track %zu: NULL events", t);
        for (size_t i = 0; i < tr->count; i++) {
            int rc = check_event(&tr->events[i], t, i, i ? tr->events[i - 1].tick : 0,
                                 i + 1 == tr->count, st);
            if (rc != DISCO_OK)
                return rc;
        }
    }
    return DISCO_OK;
}

int disco_smf_write_mem(const disco_smf *smf, uint8_t **buf, size_t *len, disco_status *st)
{
    wbuf w = {0};
    int rc = disco_smf_check(smf, st);

    *buf = NULL;
    *len = 0;
    if (rc != DISCO_OK)
        return rc;
    put(&w, "MThd\0\0\0\x06", 8);
    put_be(&w, (uint32_t)smf->format, 2);
    put_be(&w, (uint32_t)smf->ntracks, 2);
    put_be(&w, (uint32_t)smf->division, 2);
    for (size_t t = 0; t < smf->ntracks && rc == DISCO_OK; t++)
        rc = put_track(&w, &smf->tracks[t], t, st);
    if (rc == DISCO_OK && w.oom)
        rc = disco_status_set(st, DISCO_ERR_NOMEM, "smf", "out of memory");
    if (rc != DISCO_OK) {
        free(w.p);
        return rc;
    }
    *buf = w.p;
    *len = w.len;
    return DISCO_OK;
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t k = write(fd, p, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return -1;
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

static int write_atomic(const char *path, const uint8_t *buf, size_t len, disco_status *st)
{
    size_t n = strlen(path) + 16;
    char *tmp = malloc(n);
    int fd, rc = DISCO_OK;

    if (!tmp)
        return disco_status_set(st, DISCO_ERR_NOMEM, "path", "out of memory");
    snprintf(tmp, n, "%s.tmpXXXXXX", path);
    fd = mkstemp(tmp);
    if (fd < 0) {
        rc = disco_status_errno(st, errno, "path", "cannot create a temporary file for %s", path);
        free(tmp);
        return rc;
    }
    if (fchmod(fd, 0644) != 0 || write_all(fd, buf, len) != 0 || fsync(fd) != 0)
        rc = disco_status_errno(st, errno ? errno : EIO, "path", "cannot write %s", tmp);
    if (close(fd) != 0 && rc == DISCO_OK)
        rc = disco_status_errno(st, errno, "path", "cannot close %s", tmp);
    if (rc == DISCO_OK && rename(tmp, path) != 0)
        rc = disco_status_errno(st, errno, "path", "cannot rename %s to %s", tmp, path);
    if (rc == DISCO_OK && (errno = disco_fsync_parent(path)) != 0)
        rc = disco_status_errno(st, errno, "path", "cannot sync the folder of %s", path);
    if (rc != DISCO_OK)
        unlink(tmp);
    free(tmp);
    return rc;
}

int disco_smf_write(const char *path, const disco_smf *smf, disco_status *st)
{
    uint8_t *buf;
    size_t len;
    int rc;

    if (!path)
        return disco_status_set(st, DISCO_ERR_INVAL, "path", "NULL path");
    rc = disco_smf_write_mem(smf, &buf, &len, st);
    if (rc != DISCO_OK)
        return rc;
    rc = write_atomic(path, buf, len, st);
    free(buf);
    return rc;
}

/* ---- reading and writing files --------------------------------------------------------- */

int disco_score_read_mem(const void *buf, size_t len, disco_score *out, disco_status *st)
{
    disco_smf smf;
    int rc = disco_smf_read_mem(buf, len, &smf, st);

    memset(out, 0, sizeof *out);
    if (rc == DISCO_OK)
        rc = disco_score_from_smf(&smf, out, st);
    disco_smf_release(&smf);
    return rc;
}

int disco_score_read(const char *path, disco_score *out, disco_status *st)
{
    disco_smf smf;
    int rc = disco_smf_read(path, &smf, st);

    memset(out, 0, sizeof *out);
    if (rc == DISCO_OK)
        rc = disco_score_from_smf(&smf, out, st);
    disco_smf_release(&smf);
    return rc;
}

int disco_score_write(const char *path, const disco_score *sc, disco_status *st)
{
    disco_smf smf;
    int rc = disco_score_to_smf(sc, &smf, st);

    if (rc == DISCO_OK)
        rc = disco_smf_write(path, &smf, st);
    disco_smf_release(&smf);
    return rc;
}
