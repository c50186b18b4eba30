/*
 * hnsw_io.c - the graph as bytes: versioned, little-endian, CRC-32C.
 *
 * FORMAT (version 1)
 *
 *   +------------------------------+  offset 0
 *   | header, 64 bytes (filehdr)   |  magic "HNSW", version, metric, dim, M,
 *   |                              |  ef_construction, entry, top level, seed,
 *   |                              |  levels drawn, slots, live
 *   +------------------------------+  64
 *   | slot table: slots x 2 bytes  |  {state: 0 empty, 1 live, 2 removed; level}
 *   +------------------------------+
 *   | per occupied slot, in order: |
 *   |   layer 0..level:            |
 *   |     u32 n, n x u32 slot ids  |  n <= 2M at layer 0, <= M above
 *   |   dim x f32 vector           |
 *   +------------------------------+
 *   | u32 CRC-32C of all the above |
 *   +------------------------------+
 *
 * `slots` is one past the highest occupied slot. The loader trusts nothing:
 * the CRC first, then every size, state, level and link against the
 * header (a link at layer l must name an occupied slot of level >= l), so
 * a graph that loads can be walked safely.
 */
#include "disco/crc32c.h"
#include "hnsw_int.h"

#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define HNSW_MAGIC 0x57534E48u /* "HNSW" little-endian */
#define HNSW_VERSION 1

struct disco__hnsw_filehdr {
    uint32_t magic;
    uint16_t version;
    uint16_t metric;
    uint32_t dim;
    uint32_t M;
    uint32_t efc;
    uint32_t ep;
    int32_t top; /* top level, -1 when no slot is occupied */
    uint32_t reserved;
    uint64_t seed;
    uint64_t rng_n;
    uint64_t slots;
    uint64_t live;
};

_Static_assert(sizeof(struct disco__hnsw_filehdr) == 64, "hnsw file header is 64 bytes");
_Static_assert(offsetof(struct disco__hnsw_filehdr, seed) == 32, "hnsw header layout");
_Static_assert(offsetof(struct disco__hnsw_filehdr, live) == 56, "hnsw header layout");

#define HDR_SIZE sizeof(struct disco__hnsw_filehdr)

enum { SLOT_EMPTY = 0, SLOT_LIVE = 1, SLOT_REMOVED = 2 };

/* --- little-endian cursor -------------------------------------------------- */

typedef struct wbuf {
    uint8_t *p;
    size_t off;
} wbuf;

static void put(wbuf *w, uint64_t x, int bytes)
{
    for (int i = 0; i < bytes; i++)
        w->p[w->off++] = (uint8_t)(x >> (8 * i));
}

static uint64_t get(const uint8_t *p, int bytes)
{
    uint64_t x = 0;

    for (int i = bytes - 1; i >= 0; i--)
        x = x << 8 | p[i];
    return x;
}

/* --- serialise ------------------------------------------------------------- */

static size_t used_slots(const disco_hnsw *h)
{
    size_t n = h->cap;

    while (n > 0 && !(*disco__hnsw_hdr(h, (uint32_t)(n - 1)) & DISCO__HNSW_OCC))
        n--;
    return n;
}

static size_t encoded_size(const disco_hnsw *h, size_t slots)
{
    size_t len = HDR_SIZE + 2 * slots + 4;

    for (uint32_t id = 0; id < slots; id++) {
        if (!(*disco__hnsw_hdr(h, id) & DISCO__HNSW_OCC))
            continue;
        len += 4 * h->dim;
        for (int lev = 0; lev <= disco__hnsw_level(h, id); lev++)
            len += 4 + 4 * (size_t)(*disco__hnsw_links(h, id, lev) & DISCO__HNSW_CNT);
    }
    return len;
}

static void put_header(const disco_hnsw *h, wbuf *w, size_t slots)
{
    uint64_t e = atomic_load(&h->entry);

    put(w, HNSW_MAGIC, 4);
    put(w, HNSW_VERSION, 2);
    put(w, (uint64_t)h->metric, 2);
    put(w, h->dim, 4);
    put(w, h->M, 4);
    put(w, h->efc, 4);
    put(w, (uint32_t)e, 4);
    put(w, (uint32_t)((int32_t)(e >> 32) - 1), 4);
    put(w, 0, 4);
    put(w, h->seed, 8);
    put(w, atomic_load(&h->rng_n), 8);
    put(w, slots, 8);
    put(w, atomic_load(&h->live), 8);
}

static void put_slot(const disco_hnsw *h, wbuf *w, uint32_t id)
{
    const float *v = disco__hnsw_vec(h, id);

    for (int lev = 0; lev <= disco__hnsw_level(h, id); lev++) {
        const uint32_t *l = disco__hnsw_links(h, id, lev);
        uint32_t n = l[0] & DISCO__HNSW_CNT;
        put(w, n, 4);
        for (uint32_t i = 1; i <= n; i++)
            put(w, l[i], 4);
    }
    for (size_t i = 0; i < h->dim; i++) {
        uint32_t bits;
        memcpy(&bits, &v[i], 4);
        put(w, bits, 4);
    }
}

static void put_body(const disco_hnsw *h, wbuf *w, size_t slots)
{
    for (uint32_t id = 0; id < slots; id++) {
        uint32_t hdr = *disco__hnsw_hdr(h, id);
        int state = !(hdr & DISCO__HNSW_OCC)  ? SLOT_EMPTY
                    : (hdr & DISCO__HNSW_DEL) ? SLOT_REMOVED
                                              : SLOT_LIVE;
        put(w, (uint64_t)state, 1);
        put(w, state == SLOT_EMPTY ? 0 : (uint64_t)disco__hnsw_level(h, id), 1);
    }
    for (uint32_t id = 0; id < slots; id++)
        if (*disco__hnsw_hdr(h, id) & DISCO__HNSW_OCC)
            put_slot(h, w, id);
}

int disco_hnsw_serialize(const disco_hnsw *h, uint8_t **buf, size_t *len, disco_status *st)
{
    wbuf w = {NULL, 0};
    size_t slots, size;

    if (!h || !buf || !len)
        return disco_status_set(st, DISCO_ERR_INVAL, NULL, "hnsw serialize: NULL argument");
    *buf = NULL;
    *len = 0;
    pthread_rwlock_wrlock(&h->sync->grow);
    slots = used_slots(h);
    size = encoded_size(h, slots);
    w.p = malloc(size);
    if (w.p) {
        put_header(h, &w, slots);
        put_body(h, &w, slots);
        put(&w, disco_crc32c(0, w.p, w.off), 4);
    }
    pthread_rwlock_unlock(&h->sync->grow);
    if (!w.p)
        return disco_status_set(st, DISCO_ERR_NOMEM, NULL,
                                "hnsw serialize: no memory for %zu bytes", size);
    DISCO_ASSERT(w.off == size);
    *buf = w.p;
    *len = w.off;
    return DISCO_OK;
}

/* --- load ------------------------------------------------------------------ */

typedef struct rbuf {
    const uint8_t *p;
    size_t off, end; /* end: where the CRC starts */
    disco_status *st;
} rbuf;

static int corrupt(rbuf *r, size_t off, const char *what)
{
    return disco_status_set(r->st, DISCO_ERR_CORRUPT, "buf", "hnsw: %s at offset %zu", what, off);
}

static int take(rbuf *r, size_t n, const char *what, const uint8_t **p)
{
    if (r->end - r->off < n)
        return corrupt(r, r->off, what);
    *p = r->p + r->off;
    r->off += n;
    return DISCO_OK;
}

static void read_header(const uint8_t *p, struct disco__hnsw_filehdr *fh)
{
    fh->magic = (uint32_t)get(p, 4);
    fh->version = (uint16_t)get(p + 4, 2);
    fh->metric = (uint16_t)get(p + 6, 2);
    fh->dim = (uint32_t)get(p + 8, 4);
    fh->M = (uint32_t)get(p + 12, 4);
    fh->efc = (uint32_t)get(p + 16, 4);
    fh->ep = (uint32_t)get(p + 20, 4);
    fh->top = (int32_t)(uint32_t)get(p + 24, 4);
    fh->reserved = (uint32_t)get(p + 28, 4);
    fh->seed = get(p + 32, 8);
    fh->rng_n = get(p + 40, 8);
    fh->slots = get(p + 48, 8);
    fh->live = get(p + 56, 8);
}

/* Checks length, magic, version and CRC; fills fh. */
static int check_frame(rbuf *r, size_t len, struct disco__hnsw_filehdr *fh)
{
    if (len < HDR_SIZE + 4)
        return corrupt(r, len, "buffer shorter than the header");
    read_header(r->p, fh);
    if (fh->magic != HNSW_MAGIC)
        return corrupt(r, 0, "bad magic");
    if (get(r->p + len - 4, 4) != disco_crc32c(0, r->p, len - 4))
        return corrupt(r, len - 4, "checksum mismatch");
    if (fh->version == HNSW_VERSION && fh->reserved != 0)
        return corrupt(r, 28, "reserved field not zero");
    if (fh->version != HNSW_VERSION)
        return disco_status_set(r->st, DISCO_ERR_UNSUPPORTED, "buf",
                                "hnsw: format version %u (this build reads %d)", fh->version,
                                HNSW_VERSION);
    return DISCO_OK;
}

/* A graph for the header's config with exactly fh->slots slots. */
static int make_graph(rbuf *r, const struct disco__hnsw_filehdr *fh, size_t len, disco_hnsw **out)
{
    disco_hnsw_config c = {fh->dim, (disco_vmetric)fh->metric, fh->M, fh->efc, fh->seed};
    disco_hnsw *h = disco__hnsw_alloc(&c, NULL);

    if (!h)
        return corrupt(r, 6, "bad config (dim, metric, M or ef_construction)");
    if (fh->slots > (len - HDR_SIZE - 4) / 2 ||
        fh->slots * h->block > 256 * (uint64_t)len + (1u << 26)) {
        disco_hnsw_free(h);
        return corrupt(r, 48, "slot count too large for the buffer");
    }
    if (fh->slots && disco__hnsw_grow(h, (size_t)fh->slots, NULL)) {
        disco_hnsw_free(h);
        return disco_status_set(r->st, DISCO_ERR_NOMEM, NULL, "hnsw load: out of memory");
    }
    h->seed = fh->seed;
    atomic_store(&h->rng_n, fh->rng_n);
    *out = h;
    return DISCO_OK;
}

/* Reads the slot table into hdr flags and levels; checks entry point and counts. */
static int read_table(rbuf *r, disco_hnsw *h, const struct disco__hnsw_filehdr *fh)
{
    const uint8_t *t = NULL;
    size_t live = 0, del = 0, slots = (size_t)fh->slots, words = 0;
    int rc = take(r, 2 * slots, "truncated slot table", &t), top = -1;

    for (size_t id = 0; rc == DISCO_OK && id < slots; id++) {
        uint8_t state = t[2 * id], level = t[2 * id + 1];
        if (state > SLOT_REMOVED || level > DISCO__HNSW_MAX_LEVEL || (state == SLOT_EMPTY && level))
            return corrupt(r, HDR_SIZE + 2 * id, "bad slot state or level");
        if (state == SLOT_EMPTY)
            continue;
        *disco__hnsw_hdr(h, (uint32_t)id) = DISCO__HNSW_OCC |
                                            (state == SLOT_REMOVED ? DISCO__HNSW_DEL : 0) |
                                            (uint32_t)level << DISCO__HNSW_LEVEL_SHIFT;
        words += (size_t)level * (h->M + 1);
        live += state == SLOT_LIVE;
        del += state == SLOT_REMOVED;
        top = level > top ? level : top;
    }
    if (rc)
        return rc;
    if (slots && t[2 * (slots - 1)] == SLOT_EMPTY)
        return corrupt(r, HDR_SIZE + 2 * (slots - 1), "last slot empty");
    if (live != fh->live)
        return corrupt(r, 56, "live count disagrees with the slot table");
    if (fh->top != top || (top < 0 && fh->ep != 0) ||
        (top >= 0 && (fh->ep >= slots || disco__hnsw_level(h, fh->ep) != top ||
                      !(*disco__hnsw_hdr(h, fh->ep) & DISCO__HNSW_OCC))))
        return corrupt(r, 20, "bad entry point");
    /* every upper layer of a node takes at least its 4-byte count in the buffer */
    if (words / (h->M + 1) > r->end / 4)
        return corrupt(r, HDR_SIZE, "levels too high for the buffer");
    if (disco__hnsw_upool_grow(h, atomic_load(&h->upool_used) + words))
        return disco_status_set(r->st, DISCO_ERR_NOMEM, NULL, "hnsw load: out of memory");
    atomic_store(&h->live, live);
    atomic_store(&h->ndel, del);
    atomic_store(&h->entry, top < 0 ? 0 : (uint64_t)fh->ep | (uint64_t)(top + 1) << 32);
    return DISCO_OK;
}

/* Reads one link list of `id` at `lev`, checking every target. */
static int read_links(rbuf *r, disco_hnsw *h, uint32_t id, int lev)
{
    size_t maxm = lev ? h->M : h->M0, at = r->off;
    uint32_t *l = disco__hnsw_links(h, id, lev);
    const uint8_t *p = NULL;
    uint32_t n;
    int rc = take(r, 4, "truncated link count", &p);

    if (rc)
        return rc;
    n = (uint32_t)get(p, 4);
    if (n > maxm)
        return corrupt(r, at, "too many links");
    if ((rc = take(r, 4 * (size_t)n, "truncated links", &p)))
        return rc;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t nb = (uint32_t)get(p + 4 * i, 4);
        if (nb >= h->cap || !(*disco__hnsw_hdr(h, nb) & DISCO__HNSW_OCC) ||
            disco__hnsw_level(h, nb) < lev)
            return corrupt(r, at + 4 + 4 * i, "link to a missing node");
        l[1 + i] = nb;
    }
    l[0] |= n;
    return DISCO_OK;
}

static int read_slot(rbuf *r, disco_hnsw *h, uint32_t id)
{
    int level = disco__hnsw_level(h, id), rc;
    float *v = (float *)disco__hnsw_vec(h, id);
    const uint8_t *p = NULL;

    if (level > 0) { /* read_table made room for every node's upper layers */
        h->upper[id] = (uint32_t)atomic_load(&h->upool_used);
        atomic_fetch_add(&h->upool_used, (size_t)level * (h->M + 1));
    }
    for (int lev = 0; lev <= level; lev++)
        if ((rc = read_links(r, h, id, lev)))
            return rc;
    if ((rc = take(r, 4 * h->dim, "truncated vector", &p)))
        return rc;
    for (size_t i = 0; i < h->dim; i++) {
        uint32_t bits = (uint32_t)get(p + 4 * i, 4);
        memcpy(&v[i], &bits, 4);
        if (!isfinite(v[i]))
            return corrupt(r, (size_t)(p - r->p) + 4 * i, "vector value not finite");
    }
    return DISCO_OK;
}

int disco_hnsw_load(const uint8_t *buf, size_t len, disco_hnsw **out, disco_status *st)
{
    rbuf r = {buf, HDR_SIZE, len >= 4 ? len - 4 : 0, st};
    struct disco__hnsw_filehdr fh = {0};
    disco_hnsw *h = NULL;
    int rc;

    if (!out || !buf)
        return disco_status_set(st, DISCO_ERR_INVAL, NULL, "hnsw load: NULL argument");
    *out = NULL;
    if ((rc = check_frame(&r, len, &fh)) || (rc = make_graph(&r, &fh, len, &h)))
        return rc;
    if ((rc = read_table(&r, h, &fh)))
        goto fail;
    for (uint32_t id = 0; id < h->cap; id++)
        if ((*disco__hnsw_hdr(h, id) & DISCO__HNSW_OCC) && (rc = read_slot(&r, h, id)))
            goto fail;
    if (r.off != r.end) {
        rc = corrupt(&r, r.off, "trailing bytes");
        goto fail;
    }
    disco__hnsw_codes_train(h);
    *out = h;
    return DISCO_OK;
fail:
    disco_hnsw_free(h);
    return rc;
}
