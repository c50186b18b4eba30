/*
 * wad.c - the WAD directory reader and the MUS -> MIDI conversion (formats
 * in include/disco/wad.h).
 *
 * DESIGN: the converter writes SMF bytes directly (one track, full status
 * bytes, no running status) instead of building a disco_smf: the mapping is
 * event for event, and the result is read back by the ordinary MIDI reader
 * like any other file.
 */
#include "disco/wad.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

static uint32_t rd16(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8;
}

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* ---- WAD directory --------------------------------------------------------------- */

static void lump_name(const uint8_t *raw, char name[9])
{
    size_t i = 0;
    for (; i < 8 && raw[i]; i++)
        name[i] = raw[i] >= 0x20 && raw[i] < 0x7f ? (char)raw[i] : '?';
    name[i] = '\0';
}

static int read_directory(disco_wad *w, uint32_t n, uint32_t diroff, disco_status *st)
{
    w->lumps = calloc(n ? n : 1, sizeof(*w->lumps));
    if (!w->lumps)
        return disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory for %u lumps", n);
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *e = w->data + diroff + (size_t)i * 16;
        disco_wad_lump *l = &w->lumps[i];
        l->offset = rd32(e);
        l->size = rd32(e + 4);
        lump_name(e + 8, l->name);
        if (l->size && (l->offset > w->len || l->size > w->len - l->offset))
            return disco_status_set(st, DISCO_ERR_CORRUPT, "wad",
                                    "WAD lump %u '%s': %u bytes at offset %u run past the end "
                                    "of the archive (%zu bytes)",
                                    i, l->name, l->size, l->offset, w->len);
    }
    w->nlumps = n;
    return DISCO_OK;
}

int disco_wad_read_mem(const void *buf, size_t len, disco_wad *out, disco_status *st)
{
    const uint8_t *p = buf;
    memset(out, 0, sizeof(*out));
    if (len < 12)
        return disco_status_set(st, DISCO_ERR_CORRUPT, "wad", "WAD header needs 12 bytes, got %zu",
                                len);
    if (memcmp(p, "IWAD", 4) != 0 && memcmp(p, "PWAD", 4) != 0)
        return disco_status_set(st, DISCO_ERR_CORRUPT, "wad",
                                "not a WAD: expected \"IWAD\" or \"PWAD\" at offset 0");
    uint32_t n = rd32(p + 4), diroff = rd32(p + 8);
    if (n > INT32_MAX || diroff > INT32_MAX || diroff > len || n > (len - diroff) / 16)
        return disco_status_set(st, DISCO_ERR_CORRUPT, "wad",
                                "WAD directory of %u lumps at offset %u runs past the end of "
                                "the archive (%zu bytes)",
                                n, diroff, len);
    out->iwad = p[0] == 'I';
    out->data = p;
    out->len = len;
    int rc = read_directory(out, n, diroff, st);
    if (rc)
        disco_wad_release(out);
    return rc;
}

static int load_file(const char *path, uint8_t **buf, size_t *len, disco_status *st)
{
    struct stat sb;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return disco_status_errno(st, errno, "path", "cannot open WAD '%s'", path);
    int rc = DISCO_OK;
    if (fstat(fd, &sb) != 0) {
        rc = disco_status_errno(st, errno, "path", "cannot stat WAD '%s'", path);
        goto close_fd;
    }
    if (!S_ISREG(sb.st_mode) || (uint64_t)sb.st_size > DISCO_WAD_MAX_BYTES) {
        rc = disco_status_set(st, S_ISREG(sb.st_mode) ? DISCO_ERR_LIMIT : DISCO_ERR_INVAL, "path",
                              "WAD '%s': not a regular file of at most %u bytes", path,
                              DISCO_WAD_MAX_BYTES);
        goto close_fd;
    }
    *len = (size_t)sb.st_size;
    *buf = malloc(*len ? *len : 1);
    if (!*buf) {
        rc = disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory reading '%s'", path);
        goto close_fd;
    }
    for (size_t got = 0; got < *len;) {
        ssize_t r = read(fd, *buf + got, *len - got);
        if (r <= 0) {
            rc = r < 0 ? disco_status_errno(st, errno, "path", "cannot read WAD '%s'", path)
                       : disco_status_set(st, DISCO_ERR_IO, "path", "WAD '%s' shrank while read",
                                          path);
            free(*buf);
            *buf = NULL;
            break;
        }
        got += (size_t)r;
    }
close_fd:
    close(fd);
    return rc;
}

int disco_wad_read(const char *path, disco_wad *out, disco_status *st)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    memset(out, 0, sizeof(*out));
    int rc = load_file(path, &buf, &len, st);
    if (rc)
        return rc;
    rc = disco_wad_read_mem(buf, len, out, st);
    if (rc) {
        free(buf);
        if (st && st->msg[0]) {
            char msg[DISCO_STATUS_MSG_MAX];
            memcpy(msg, st->msg, sizeof(msg));
            disco_status_set(st, rc, "path", "%s: %s", path, msg);
        }
        return rc;
    }
    out->owned = buf;
    return DISCO_OK;
}

void disco_wad_release(disco_wad *w)
{
    if (!w)
        return;
    free(w->lumps);
    free(w->owned);
    memset(w, 0, sizeof(*w));
}

long disco_wad_find(const disco_wad *w, const char *name)
{
    for (size_t i = 0; name && i < w->nlumps; i++)
        if (strcasecmp(w->lumps[i].name, name) == 0)
            return (long)i;
    return -1;
}

const uint8_t *disco_wad_lump_data(const disco_wad *w, size_t i, size_t *len)
{
    if (i >= w->nlumps)
        return NULL;
    *len = w->lumps[i].size;
    return w->data + (w->lumps[i].size ? w->lumps[i].offset : 0);
}

int disco_wad_is_music(const disco_wad *w, size_t i)
{
    size_t len = 0;
    const uint8_t *p = disco_wad_lump_data(w, i, &len);
    if (!p || len < 4 || strncasecmp(w->lumps[i].name, "D_", 2) != 0)
        return 0;
    return memcmp(p, "MThd", 4) == 0 || memcmp(p, "MUS\x1a", 4) == 0;
}

int disco_wad_music(const disco_wad *w, size_t i, uint8_t **midi, size_t *len, disco_status *st)
{
    size_t n = 0;
    const uint8_t *p = disco_wad_lump_data(w, i, &n);
    *midi = NULL;
    *len = 0;
    if (!p)
        return disco_status_set(st, DISCO_ERR_INVAL, "lump", "no lump %zu (the WAD has %zu)", i,
                                w->nlumps);
    if (n >= 4 && memcmp(p, "MThd", 4) == 0) {
        *midi = malloc(n);
        if (!*midi)
            return disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory");
        memcpy(*midi, p, n);
        *len = n;
        return DISCO_OK;
    }
    if (n < 4 || memcmp(p, "MUS\x1a", 4) != 0)
        return disco_status_set(st, DISCO_ERR_UNSUPPORTED, "lump",
                                "lump %zu '%s' is neither MIDI nor MUS", i, w->lumps[i].name);
    int rc = disco_mus_to_midi(p, n, midi, len, st);
    if (rc && st) {
        char msg[DISCO_STATUS_MSG_MAX];
        memcpy(msg, st->msg, sizeof(msg));
        disco_status_set(st, rc, "lump", "lump %zu '%s': %s", i, w->lumps[i].name, msg);
    }
    return rc;
}

/* ---- MUS -> MIDI ---------------------------------------------------------------------- */

typedef struct outbuf {
    uint8_t *p;
    size_t n, cap;
    int oom;
} outbuf;

static void put(outbuf *b, const uint8_t *bytes, size_t n)
{
    if (b->oom)
        return;
    if (b->n + n > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 256;
        while (cap < b->n + n)
            cap *= 2;
        uint8_t *p = realloc(b->p, cap);
        if (!p) {
            b->oom = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, bytes, n);
    b->n += n;
}

/* A delta time (at most 0x0FFFFFFF, checked by the caller) and `n` event bytes. */
static void put_event(outbuf *b, uint32_t delta, uint8_t s, uint8_t d1, uint8_t d2, size_t n)
{
    uint8_t v[4], ev[3] = {s, d1, d2};
    size_t k = 0;
    v[k++] = delta & 0x7f;
    while ((delta >>= 7) && k < 4)
        v[k++] = (uint8_t)(0x80 | (delta & 0x7f));
    for (size_t i = 0; i < k; i++) {
        uint8_t c = v[k - 1 - i];
        put(b, &c, 1);
    }
    put(b, ev, n);
}

typedef struct mus_state {
    const uint8_t *p;
    size_t pos, end;
    uint32_t delta; /* MUS ticks since the last event written */
    uint32_t tick;  /* MUS ticks since the start (the MIDI reader's limit applies) */
    uint8_t vol[16];
    outbuf out;
} mus_state;

static uint8_t mus_channel(int ch)
{
    return (uint8_t)(ch == 15 ? 9 : ch >= 9 ? ch + 1 : ch);
}

static int mus_need(mus_state *m, size_t at, size_t n, disco_status *st)
{
    if (m->end - m->pos >= n)
        return DISCO_OK;
    return disco_status_set(st, DISCO_ERR_CORRUPT, "mus",
                            "MUS event at offset %zu: needs %zu data bytes, the score ends at %zu",
                            at, n, m->end);
}

static void mus_emit(mus_state *m, uint8_t s, uint8_t d1, uint8_t d2, size_t n)
{
    put_event(&m->out, m->delta, s, d1, d2, n);
    m->delta = 0;
}

static uint8_t clamp7(uint8_t v)
{
    return v > 127 ? 127 : v;
}

/* Controller 1..9 and system events 10..14 as MIDI controller numbers (0: none). */
static uint8_t mus_controller(uint8_t c)
{
    static const uint8_t map[15] = {0, 0, 1, 7, 10, 11, 91, 93, 64, 67, 120, 123, 126, 127, 121};
    return c < 15 ? map[c] : 0;
}

static int mus_event(mus_state *m, int type, int ch, size_t at, disco_status *st)
{
    static const size_t data_len[8] = {1, 1, 1, 1, 2, 0, 0, 0};
    uint8_t mc = mus_channel(ch);
    if (type == 7)
        return disco_status_set(st, DISCO_ERR_CORRUPT, "mus",
                                "MUS event at offset %zu: type 7 is not defined", at);
    int rc = mus_need(m, at, data_len[type], st);
    if (rc)
        return rc;
    const uint8_t *d = m->p + m->pos;
    m->pos += data_len[type];
    switch (type) {
    case 0:
        mus_emit(m, 0x80 | mc, d[0] & 0x7f, 64, 3);
        break;
    case 1:
        if (d[0] & 0x80) {
            rc = mus_need(m, at, 1, st);
            if (rc)
                return rc;
            m->vol[ch] = clamp7(m->p[m->pos++]);
        }
        mus_emit(m, 0x90 | mc, d[0] & 0x7f, m->vol[ch], 3);
        break;
    case 2:
        mus_emit(m, 0xE0 | mc, (uint8_t)((d[0] & 1) << 6), d[0] >> 1, 3);
        break;
    case 3:
        if (d[0] >= 10 && d[0] <= 14)
            mus_emit(m, 0xB0 | mc, mus_controller(d[0]), 0, 3);
        break;
    case 4:
        if (d[0] == 0 && mc != 9)
            mus_emit(m, 0xC0 | mc, clamp7(d[1]), 0, 2);
        else if (d[0] >= 1 && d[0] <= 9)
            mus_emit(m, 0xB0 | mc, mus_controller(d[0]), clamp7(d[1]), 3);
        break;
    default: /* 5 end of measure, 6 end of score: no data */
        break;
    }
    return DISCO_OK;
}

static int mus_delay(mus_state *m, disco_status *st)
{
    size_t at = m->pos;
    uint32_t v = 0;
    for (int i = 0;; i++) {
        if (i == 4)
            return disco_status_set(st, DISCO_ERR_CORRUPT, "mus",
                                    "MUS delay at offset %zu is longer than 4 bytes", at);
        if (m->pos >= m->end)
            return disco_status_set(st, DISCO_ERR_CORRUPT, "mus",
                                    "MUS delay at offset %zu is cut off by the end of the score",
                                    at);
        uint8_t c = m->p[m->pos++];
        v = v << 7 | (c & 0x7f);
        if (!(c & 0x80))
            break;
    }
    if (v > 0x0FFFFFFFu - m->tick)
        return disco_status_set(st, DISCO_ERR_CORRUPT, "mus",
                                "MUS delay at offset %zu takes the score past %u ticks", at,
                                0x0FFFFFFFu);
    m->delta += v;
    m->tick += v;
    return DISCO_OK;
}

static int mus_header(const uint8_t *p, size_t len, size_t *start, size_t *end, disco_status *st)
{
    if (len < 16 || memcmp(p, "MUS\x1a", 4) != 0)
        return disco_status_set(st, DISCO_ERR_CORRUPT, "mus",
                                len < 16 ? "MUS header needs 16 bytes, got %zu"
                                         : "not MUS: expected \"MUS\\x1a\" at offset 0 (%zu bytes)",
                                len);
    size_t score_len = rd16(p + 4), score_start = rd16(p + 6), ninstr = rd16(p + 12);
    if (16 + 2 * ninstr > score_start || score_start > len || score_len > len - score_start)
        return disco_status_set(st, DISCO_ERR_CORRUPT, "mus",
                                "MUS score of %zu bytes at offset %zu (after %zu instruments) "
                                "does not fit the %zu bytes given",
                                score_len, score_start, ninstr, len);
    *start = score_start;
    *end = score_start + score_len;
    return DISCO_OK;
}

static int mus_track(mus_state *m, disco_status *st)
{
    static const uint8_t tempo[] = {0x00, 0xFF, 0x51, 0x03, 0x07, 0xA1, 0x20}; /* 500000 us */
    static const uint8_t eot[] = {0xFF, 0x2F, 0x00};
    put(&m->out, tempo, sizeof(tempo));
    int rc = DISCO_OK;
    while (!rc && m->pos < m->end) {
        size_t at = m->pos;
        uint8_t desc = m->p[m->pos++];
        int type = (desc >> 4) & 7;
        rc = mus_event(m, type, desc & 15, at, st);
        if (!rc && (desc & 0x80))
            rc = mus_delay(m, st);
        if (type == 6)
            break;
    }
    if (!rc)
        put_event(&m->out, m->delta, eot[0], eot[1], eot[2], 3);
    return rc;
}

int disco_mus_to_midi(const void *mus, size_t len, uint8_t **midi, size_t *midi_len,
                      disco_status *st)
{
    static const uint8_t head[] = {'M', 'T', 'h',           'd', 0,   0,   0,   6, 0, 0, 0,
                                   1,   0,   DISCO_MUS_TPQ, 'M', 'T', 'r', 'k', 0, 0, 0, 0};
    mus_state m = {.p = mus};
    *midi = NULL;
    *midi_len = 0;
    int rc = mus_header(mus, len, &m.pos, &m.end, st);
    if (rc)
        return rc;
    memset(m.vol, 127, sizeof(m.vol));
    put(&m.out, head, sizeof(head));
    rc = mus_track(&m, st);
    if (!rc && m.out.oom)
        rc = disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory converting MUS");
    if (rc) {
        free(m.out.p);
        return rc;
    }
    size_t trk = m.out.n - sizeof(head);
    for (int i = 0; i < 4; i++)
        m.out.p[18 + i] = (uint8_t)(trk >> (24 - 8 * i));
    *midi = m.out.p;
    *midi_len = m.out.n;
    return DISCO_OK;
}
