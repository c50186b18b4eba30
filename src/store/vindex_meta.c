/*
 * vindex_meta.c - config.json, index.dvx snapshots, the term index used
 * for selectivity estimates, and the read-side calls (fetch, get, stats).
 *
 *   index.dvx
 *   +------------------------- header (48 bytes) ---------------------------+
 *   | "DVXS" | version u16 | flags u16 | dim u32 | metric u32               |
 *   | slots u64 | live u64 | table_len u64 | graph_len u64                  |
 *   +------------------------- slot table (table_len bytes) -----------------+
 *   | per slot 0..slots-1:  used u8 (0: free, 1: live)                      |
 *   |   live: ns str16 | id str16 | metadata u32 length + compact JSON      |
 *   +------------------------- graph (graph_len bytes) ----------------------+
 *   | disco_hnsw_serialize() bytes                                         |
 *   +-----------------------------------------------------------------------+
 *   | crc32c u32 of every byte before it                                    |
 *   +-----------------------------------------------------------------------+
 *   All integers little-endian. Written as index.dvx.tmp, fsynced, renamed
 *   over index.dvx and the folder fsynced; the log is emptied after.
 */
#include "vindex_int.h"

#include "hnsw_int.h"

#include "disco/crc32c.h"
#include "disco/json.h"
#include "disco/vdist.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define SNAP_VERSION 1
#define SNAP_HDR 48

typedef struct snap_header {
    char magic[4];
    uint16_t version;
    uint16_t flags;
    uint32_t dim;
    uint32_t metric;
    uint64_t slots;
    uint64_t live;
    uint64_t table_len;
    uint64_t graph_len;
} snap_header;

_Static_assert(sizeof(snap_header) == SNAP_HDR, "snapshot header is 48 bytes");

/* ---- config.json ----------------------------------------------------------------------- */

static int write_file_sync(const char *dir, const char *name, const void *p, size_t n,
                           disco_status *st)
{
    char tmpname[64];
    char *tmp, *path = disco__vx_path(dir, name);
    int fd = -1, rc = DISCO_ERR_NOMEM;

    snprintf(tmpname, sizeof tmpname, "%s.tmp", name);
    tmp = disco__vx_path(dir, tmpname);
    if (!tmp || !path)
        goto out_free;
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    rc = DISCO_OK;
    for (size_t off = 0; fd >= 0 && off < n && rc == DISCO_OK;) {
        ssize_t w = write(fd, (const uint8_t *)p + off, n - off);

        if (w < 0 && errno != EINTR)
            rc = DISCO_ERR_IO;
        off += w > 0 ? (size_t)w : 0;
    }
    if (fd < 0 || rc != DISCO_OK || fsync(fd) != 0 || rename(tmp, path) != 0 ||
        disco__vx_fsync_dir(dir) != 0) {
        rc = disco_status_errno(st, errno, "dir", "vindex: cannot write %s", path);
        unlink(tmp);
    }
out_free:
    if (fd >= 0)
        close(fd);
    free(tmp);
    free(path);
    return rc;
}

int disco__vx_config_write(const char *dir, const disco_vindex_config *cfg, disco_status *st)
{
    json_t *j = json_pack("{s:i, s:I, s:s, s:I, s:I}", "format", VX_FORMAT, "dim",
                          (json_int_t)cfg->dim, "metric", disco_vmetric_name(cfg->metric), "M",
                          (json_int_t)cfg->M, "ef_construction", (json_int_t)cfg->ef_construction);
    char *s = j ? disco_json_dumps_pretty(j) : NULL;
    int rc = s ? write_file_sync(dir, VX_CONFIG_NAME, s, strlen(s), st)
               : disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory");

    free(s);
    json_decref(j);
    return rc;
}

int disco__vx_config_read(const char *dir, disco_vindex_config *cfg, disco_status *st)
{
    char *path = disco__vx_path(dir, VX_CONFIG_NAME);
    json_t *j = NULL;
    int rc, metric;

    if (!path)
        return DISCO_ERR_NOMEM;
    if (access(path, F_OK) != 0) {
        rc = disco_status_errno(st, errno, "name", "vindex: cannot read %s", path);
        goto out_path;
    }
    rc = disco_json_load_file(path, 1 << 16, &j, st);
    if (rc != DISCO_OK)
        goto out_path;
    metric = disco_vmetric_parse(disco_json_str(j, "metric", NULL));
    *cfg = disco_vindex_config_default((size_t)disco_json_int(j, "dim", 0),
                                       metric < 0 ? DISCO_VMETRIC_COSINE : (disco_vmetric)metric);
    cfg->M = (size_t)disco_json_int(j, "M", 16);
    cfg->ef_construction = (size_t)disco_json_int(j, "ef_construction", 200);
    if (disco_json_int(j, "format", 0) != VX_FORMAT)
        rc = disco_status_set(st, DISCO_ERR_UNSUPPORTED, "config", "%s: format %lld, expected %d",
                              path, (long long)disco_json_int(j, "format", 0), VX_FORMAT);
    else if (metric < 0 || cfg->dim == 0 || cfg->dim > DISCO_VINDEX_DIM_MAX || cfg->M < 2 ||
             cfg->M > 1024 || cfg->ef_construction < 1 || cfg->ef_construction > (1u << 20))
        rc =
            disco_status_set(st, DISCO_ERR_CORRUPT, "config",
                             "%s: dim, metric, M or ef_construction missing or out of range", path);
    json_decref(j);
out_path:
    free(path);
    return rc;
}

/* ---- term index ------------------------------------------------------------------------ */

/*
 * "ns \x1f field \x1f s:value" (or b:true / b:false, or n:number when
 * `numbers`, as %.17g of the double); NULL for values not indexed.
 */
static char *term_key(const char *ns, const char *field, const json_t *value, int numbers)
{
    const char *val = json_is_string(value) ? json_string_value(value) : NULL;
    char num[32], kind = json_is_string(value) ? 's' : 'b';
    size_t n;
    char *k;

    if (!val && json_is_number(value) && numbers) {
        double d = json_number_value(value);

        snprintf(num, sizeof num, "%.17g", d == 0.0 ? 0.0 : d); /* -0 == 0 */
        val = num;
        kind = 'n';
    } else if (!val && !json_is_boolean(value)) {
        return NULL;
    }
    if (!val)
        val = json_is_true(value) ? "true" : "false";
    n = strlen(ns) + strlen(field) + strlen(val) + 5;
    k = malloc(n);
    if (k)
        snprintf(k, n, "%s\x1f%s\x1f%c:%s", ns, field, kind, val);
    return k;
}

static void count_add(json_t *obj, const char *key, int delta)
{
    json_t *c = json_object_get(obj, key);
    json_int_t n = (c ? json_integer_value(c) : 0) + delta;

    if (n <= 0)
        json_object_del(obj, key);
    else if (c)
        json_integer_set(c, n);
    else
        json_object_set_new_nocheck(obj, key, json_integer(n));
}

/* The posting of `key`, created empty when missing; NULL when out of memory. */
static vx_post *post_get(disco_vindex *v, const char *key)
{
    json_t *ix = json_object_get(v->postix, key);
    json_t *nix;

    if (ix)
        return &v->posts[json_integer_value(ix)];
    if (v->nposts == v->capposts) {
        size_t cap = v->capposts ? 2 * v->capposts : 16;
        vx_post *p = realloc(v->posts, cap * sizeof *p);

        if (!p)
            return NULL;
        v->posts = p;
        v->capposts = cap;
    }
    nix = json_integer((json_int_t)v->nposts);
    if (!nix || json_object_set_new_nocheck(v->postix, key, nix) != 0)
        return NULL;
    v->posts[v->nposts] = (vx_post){NULL, 0, 0};
    return &v->posts[v->nposts++];
}

/* First position in `p` whose slot is not below `slot`. */
static size_t post_find(const vx_post *p, uint32_t slot)
{
    size_t lo = 0, hi = p->n;

    if (p->n && p->s[p->n - 1] < slot)
        return p->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (p->s[mid] < slot)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static void post_add(disco_vindex *v, const char *key, uint32_t slot, int delta)
{
    vx_post *p = post_get(v, key);
    size_t at;

    if (!p) {
        v->post_bad = 1;
        return;
    }
    at = post_find(p, slot);
    if (delta < 0) {
        if (at < p->n && p->s[at] == slot)
            memmove(p->s + at, p->s + at + 1, (--p->n - at) * sizeof *p->s);
        return;
    }
    if (at < p->n && p->s[at] == slot)
        return;
    if (p->n == p->cap) {
        size_t cap = p->cap ? 2 * p->cap : 4;
        uint32_t *s = realloc(p->s, cap * sizeof *s);

        if (!s) {
            v->post_bad = 1;
            return;
        }
        p->s = s;
        p->cap = cap;
    }
    memmove(p->s + at + 1, p->s + at, (p->n - at) * sizeof *p->s);
    p->s[at] = slot;
    p->n++;
}

static void term_add(disco_vindex *v, const char *ns, const char *field, const json_t *val,
                     uint32_t slot, int delta)
{
    char *k = term_key(ns, field, val, 1);

    if (!k) {
        v->post_bad |= json_is_string(val) || json_is_boolean(val) || json_is_number(val);
        return;
    }
    if (!json_is_number(val))
        count_add(v->terms, k, delta);
    post_add(v, k, slot, delta);
    free(k);
}

/*
 * Counts (delta 1) or uncounts (-1) one vector's namespace and metadata
 * terms, and adds `slot` to (removes it from) their postings.
 */
int disco__vx_terms_update(disco_vindex *v, const char *ns, const json_t *meta, uint32_t slot,
                           int delta)
{
    const char *field;
    json_t *val;

    count_add(v->nscount, ns, delta);
    json_object_foreach ((json_t *)meta, field, val) {
        size_t i;
        json_t *e;

        if (!json_is_array(val)) {
            term_add(v, ns, field, val, slot, delta);
            continue;
        }
        json_array_foreach (val, i, e) {
            size_t j;

            for (j = 0; j < i && !json_equal(json_array_get(val, j), e); j++)
                ;
            if (j == i) /* a value listed twice counts once */
                term_add(v, ns, field, e, slot, delta);
        }
    }
    return DISCO_OK;
}

size_t disco__vx_ns_count(const disco_vindex *v, const char *ns)
{
    return (size_t)json_integer_value(json_object_get(v->nscount, disco__vx_ns(ns)));
}

size_t disco__vx_term_count(const disco_vindex *v, const char *ns, const char *field,
                            const json_t *value, int *known)
{
    char *k = term_key(disco__vx_ns(ns), field, value, 0);
    size_t n;

    *known = k != NULL;
    n = k ? (size_t)json_integer_value(json_object_get(v->terms, k)) : 0;
    free(k);
    return n;
}

/*
 * The slots of `ns` whose `field` holds `value` (borrowed until the next
 * change), an empty posting when none do, or NULL when postings are not
 * usable (a value of no indexed type, or an earlier allocation failure).
 */
const vx_post *disco__vx_posting(const disco_vindex *v, const char *ns, const char *field,
                                 const json_t *value)
{
    static const vx_post none = {NULL, 0, 0};
    char *k = v->post_bad ? NULL : term_key(disco__vx_ns(ns), field, value, 1);
    json_t *ix;

    if (!k)
        return NULL;
    ix = json_object_get(v->postix, k);
    free(k);
    return ix ? &v->posts[json_integer_value(ix)] : &none;
}

/* ---- snapshots ------------------------------------------------------------------------- */

static void encode_table(const disco_vindex *v, vx_buf *b)
{
    for (size_t s = 0; s < v->nslots; s++) {
        const vx_slot *sl = &v->slots[s];

        disco__vx_put_u8(b, sl->ns ? 1 : 0);
        if (!sl->ns)
            continue;
        disco__vx_put_str16(b, sl->ns);
        disco__vx_put_str16(b, sl->id);
        disco__vx_put_meta(b, sl->meta);
    }
}

static int encode_snapshot(const disco_vindex *v, vx_buf *b, disco_status *st)
{
    vx_buf table = {0};
    uint8_t *graph = NULL;
    size_t glen = 0;
    int rc = disco_hnsw_serialize(v->h, &graph, &glen, st);

    if (rc != DISCO_OK)
        return rc;
    encode_table(v, &table);
    disco__vx_put(b, "DVXS", 4);
    disco__vx_put_u16(b, SNAP_VERSION);
    disco__vx_put_u16(b, 0);
    disco__vx_put_u32(b, (uint32_t)v->cfg.dim);
    disco__vx_put_u32(b, (uint32_t)v->cfg.metric);
    disco__vx_put_u64(b, v->nslots);
    disco__vx_put_u64(b, v->live);
    disco__vx_put_u64(b, table.len);
    disco__vx_put_u64(b, glen);
    disco__vx_put(b, table.p, table.len);
    disco__vx_put(b, graph, glen);
    if (!b->oom)
        disco__vx_put_u32(b, disco_crc32c(0, b->p, b->len));
    if (b->oom || table.oom)
        rc = disco_status_set(st, DISCO_ERR_NOMEM, NULL, "vindex: no memory for a snapshot");
    free(table.p);
    free(graph);
    return rc;
}

int disco__vx_snapshot_write(disco_vindex *v, disco_status *st)
{
    vx_buf b = {0};
    int rc = encode_snapshot(v, &b, st);

    if (rc == DISCO_OK)
        rc = write_file_sync(v->dir, VX_SNAP_NAME, b.p, b.len, st);
    if (rc == DISCO_OK)
        rc = disco__vx_log_reset(v, st);
    free(b.p);
    return rc;
}

int disco_vindex_snapshot(disco_vindex *v, disco_status *st)
{
    int rc;

    if (!v)
        return disco_status_set(st, DISCO_ERR_INVAL, NULL, "snapshot: NULL collection");
    pthread_rwlock_wrlock(&v->lock);
    rc = disco__vx_snapshot_write(v, st);
    pthread_rwlock_unlock(&v->lock);
    return rc;
}

static int snap_corrupt(const disco_vindex *v, size_t off, const char *why, disco_status *st)
{
    return disco_status_set(st, DISCO_ERR_CORRUPT, "index",
                            "vindex: %s/%s is damaged at offset %zu: %s", v->dir, VX_SNAP_NAME, off,
                            why);
}

static int read_header(const uint8_t *p, size_t size, snap_header *h)
{
    vx_rd r = {p, size, 0};

    if (disco__vx_get(&r, h->magic, 4) || disco__vx_get_u16(&r, &h->version) ||
        disco__vx_get_u16(&r, &h->flags) || disco__vx_get_u32(&r, &h->dim) ||
        disco__vx_get_u32(&r, &h->metric) || disco__vx_get_u64(&r, &h->slots) ||
        disco__vx_get_u64(&r, &h->live) || disco__vx_get_u64(&r, &h->table_len) ||
        disco__vx_get_u64(&r, &h->graph_len))
        return -1;
    return 0;
}

/* Checks size, checksum and header against the config; fills h. */
static int check_snapshot(const disco_vindex *v, const uint8_t *p, size_t size, snap_header *h,
                          disco_status *st)
{
    if (size < SNAP_HDR + 4 || read_header(p, size, h) != 0)
        return snap_corrupt(v, 0, "shorter than its header", st);
    if (disco_crc32c(0, p, size - 4) != disco__vx_le32(p + size - 4))
        return snap_corrupt(v, size - 4, "checksum mismatch", st);
    if (memcmp(h->magic, "DVXS", 4) != 0)
        return snap_corrupt(v, 0, "bad magic", st);
    if (h->version != SNAP_VERSION)
        return disco_status_set(st, DISCO_ERR_UNSUPPORTED, "index",
                                "vindex: %s/%s has format version %u, expected %d", v->dir,
                                VX_SNAP_NAME, h->version, SNAP_VERSION);
    if (h->dim != v->cfg.dim || h->metric != (uint32_t)v->cfg.metric)
        return snap_corrupt(v, 8, "dim or metric differ from config.json", st);
    if (h->table_len > size || h->graph_len > size ||
        SNAP_HDR + h->table_len + h->graph_len + 4 != size || h->slots > h->table_len ||
        h->live > h->slots)
        return snap_corrupt(v, 24, "section lengths do not add up to the file size", st);
    return DISCO_OK;
}

static int load_slot(disco_vindex *v, vx_rd *r, uint32_t slot)
{
    vx_slot *s = &v->slots[slot];
    uint8_t used;

    if (disco__vx_get(r, &used, 1) != 0 || used > 1)
        return -1;
    if (!used) {
        v->freel[v->nfree++] = slot;
        return 0;
    }
    if (disco__vx_get_str16(r, &s->ns) != 0 || disco__vx_get_str16(r, &s->id) != 0 ||
        s->id[0] == 0 || disco__vx_get_meta(r, &s->meta) != 0)
        return -1;
    if (disco__vx_lookup(v, s->ns, s->id, &(uint32_t){0}))
        return -1; /* a key twice */
    if (disco__vx_map_add(v, slot) != DISCO_OK)
        return -1;
    v->live++;
    disco__vx_terms_update(v, s->ns, s->meta, slot, 1);
    return disco_hnsw_vector(v->h, slot) ? 0 : -1;
}

static int load_table(disco_vindex *v, const uint8_t *p, const snap_header *h, disco_status *st)
{
    vx_rd r = {p + SNAP_HDR, (size_t)h->table_len, 0};
    size_t n = (size_t)h->slots;

    v->slots = calloc(n + 1, sizeof *v->slots);
    v->freel = calloc(n + 1, sizeof *v->freel);
    if (!v->slots || !v->freel)
        return disco_status_set(st, DISCO_ERR_NOMEM, NULL, "vindex: no memory for %zu slots", n);
    v->capslots = v->capfree = n + 1;
    for (size_t s = 0; s < n; s++) {
        v->nslots = s + 1;
        if (load_slot(v, &r, (uint32_t)s) != 0)
            return snap_corrupt(v, SNAP_HDR + r.off, "bad slot entry", st);
    }
    if (r.off != r.len || v->live != h->live || disco_hnsw_count(v->h) != v->live)
        return snap_corrupt(v, SNAP_HDR + r.off, "slot table and graph disagree", st);
    return DISCO_OK;
}

static int load_graph(disco_vindex *v, const uint8_t *p, const snap_header *h, disco_status *st)
{
    disco_status gs = {0};
    int rc = disco_hnsw_load(p + SNAP_HDR + h->table_len, (size_t)h->graph_len, &v->h, &gs);

    if (rc != DISCO_OK)
        return disco_status_set(st, rc, "index", "vindex: %s/%s graph (at offset %llu): %s", v->dir,
                                VX_SNAP_NAME, (unsigned long long)(SNAP_HDR + h->table_len),
                                gs.msg);
    if (v->h->dim != v->cfg.dim || v->h->metric != v->cfg.metric)
        return snap_corrupt(v, SNAP_HDR + (size_t)h->table_len, "graph dim or metric differ", st);
    return DISCO_OK;
}

static int new_graph(disco_vindex *v, disco_status *st)
{
    disco_hnsw_config hc = disco_hnsw_config_default(v->cfg.dim, v->cfg.metric);

    hc.M = v->cfg.M;
    hc.ef_construction = v->cfg.ef_construction;
    return disco_hnsw_new(&hc, &v->h, st);
}

/* Loads index.dvx (mmap'd while parsed), or starts an empty graph when there is none. */
int disco__vx_snapshot_load(disco_vindex *v, disco_status *st)
{
    char *path = disco__vx_path(v->dir, VX_SNAP_NAME);
    struct stat sb;
    snap_header h;
    void *map = MAP_FAILED;
    int fd, rc;

    if (!path)
        return DISCO_ERR_NOMEM;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) {
        free(path);
        return new_graph(v, st);
    }
    if (fd < 0 || fstat(fd, &sb) != 0) {
        rc = disco_status_errno(st, errno, "index", "vindex: cannot read %s", path);
        goto out_fd;
    }
    if (sb.st_size > 0)
        map = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (sb.st_size > 0 && map == MAP_FAILED) {
        rc = disco_status_errno(st, errno, "index", "vindex: cannot map %s", path);
        goto out_fd;
    }
    rc = check_snapshot(v, map == MAP_FAILED ? (const uint8_t *)"" : map, (size_t)sb.st_size, &h,
                        st);
    if (rc == DISCO_OK)
        rc = load_graph(v, map, &h, st);
    if (rc == DISCO_OK)
        rc = load_table(v, map, &h, st);
    if (map != MAP_FAILED)
        munmap(map, (size_t)sb.st_size);
out_fd:
    if (fd >= 0)
        close(fd);
    free(path);
    return rc;
}

/* ---- reads ----------------------------------------------------------------------------- */

static json_t *vec_json(const float *vec, size_t dim)
{
    json_t *a = json_array();

    for (size_t d = 0; a && vec && d < dim; d++)
        json_array_append_new(a, json_real(vec[d]));
    return a;
}

/* {"id", "values"?, "metadata"?} of a live slot (values as stored: normalised for cosine). */
json_t *disco__vx_item_json(const disco_vindex *v, uint32_t slot, int values, int meta)
{
    const vx_slot *s = &v->slots[slot];
    json_t *o = json_object();

    if (!o)
        return NULL;
    json_object_set_new_nocheck(o, "id", json_string_nocheck(s->id));
    if (values)
        json_object_set_new(o, "values", vec_json(disco_hnsw_vector(v->h, slot), v->cfg.dim));
    if (meta)
        json_object_set_new(o, "metadata", s->meta ? json_deep_copy(s->meta) : json_object());
    return o;
}

int disco_vindex_fetch(disco_vindex *v, const char *ns, const char *const *ids, size_t n,
                       json_t **out, disco_status *st)
{
    json_t *a;

    if (out)
        *out = NULL;
    if (!v || !out || (n > 0 && !ids))
        return disco_status_set(st, DISCO_ERR_INVAL, "ids", "fetch: NULL argument");
    a = json_array();
    if (!a)
        return disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory");
    pthread_rwlock_rdlock(&v->lock);
    for (size_t i = 0; i < n; i++) {
        uint32_t slot;

        if (ids[i] && disco__vx_lookup(v, ns, ids[i], &slot))
            json_array_append_new(a, disco__vx_item_json(v, slot, 1, 1));
    }
    pthread_rwlock_unlock(&v->lock);
    *out = a;
    return DISCO_OK;
}

int disco_vindex_get(disco_vindex *v, const char *ns, const char *id, float *out, disco_status *st)
{
    uint32_t slot;
    int rc = DISCO_OK;

    if (!v || !id || !out)
        return disco_status_set(st, DISCO_ERR_INVAL, "id", "get: NULL argument");
    pthread_rwlock_rdlock(&v->lock);
    if (disco__vx_lookup(v, ns, id, &slot))
        memcpy(out, disco_hnsw_vector(v->h, slot), v->cfg.dim * sizeof *out);
    else
        rc = disco_status_set(st, DISCO_ERR_NOTFOUND, "id", "no vector '%s' in namespace '%s'", id,
                              disco__vx_ns(ns));
    pthread_rwlock_unlock(&v->lock);
    return rc;
}

/* {"bytes_per_vector", "retrain_at"} of the graph's traversal codes, or null. */
static json_t *codes_json(const disco_hnsw *h)
{
    size_t bytes = 0, at = 0;

    if (!disco_hnsw_codes_info(h, &bytes, &at))
        return json_null();
    return json_pack("{s:I, s:I}", "bytes_per_vector", (json_int_t)bytes, "retrain_at",
                     (json_int_t)at);
}

int disco_vindex_stats(disco_vindex *v, json_t **out, disco_status *st)
{
    json_t *o;

    if (!v || !out)
        return disco_status_set(st, DISCO_ERR_INVAL, NULL, "stats: NULL argument");
    pthread_rwlock_rdlock(&v->lock);
    o = json_pack(
        "{s:s, s:I, s:s, s:I, s:I, s:I, s:I, s:o, s:s, s:o}", "name", v->name, "dim",
        (json_int_t)v->cfg.dim, "metric", disco_vmetric_name(v->cfg.metric), "count",
        (json_int_t)v->live, "deleted_slots", (json_int_t)v->nfree, "slots", (json_int_t)v->nslots,
        "bytes", (json_int_t)(disco_hnsw_bytes(v->h) + v->capslots * sizeof(vx_slot)), "namespaces",
        json_deep_copy(v->nscount), "isa", disco_vdist_isa(), "traversal_codes", codes_json(v->h));
    pthread_rwlock_unlock(&v->lock);
    *out = o;
    return o ? DISCO_OK : disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory");
}

/* ---- collections ----------------------------------------------------------------------- */

static json_t *list_entry(const char *root, const char *name)
{
    char *dir = disco__vx_path(root, name);
    disco_vindex_config cfg;
    disco_vindex *v = NULL;
    json_t *o = NULL;

    if (dir && disco__vx_config_read(dir, &cfg, NULL) == DISCO_OK) {
        disco_vindex_open(root, name, &v, NULL);
        o = json_pack("{s:s, s:I, s:s, s:o}", "name", name, "dim", (json_int_t)cfg.dim, "metric",
                      disco_vmetric_name(cfg.metric), "count",
                      v ? json_integer((json_int_t)v->live) : json_null());
        disco_vindex_close(v);
    }
    free(dir);
    return o;
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(json_string_value(json_object_get(*(json_t *const *)a, "name")),
                  json_string_value(json_object_get(*(json_t *const *)b, "name")));
}

int disco_vindex_list(const char *root, json_t **out, disco_status *st)
{
    DIR *d;
    struct dirent *e;
    json_t *a;

    if (!root || !out)
        return disco_status_set(st, DISCO_ERR_INVAL, "root", "list: NULL argument");
    *out = NULL;
    a = json_array();
    if (!a)
        return disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory");
    d = opendir(root);
    while (d && (e = readdir(d)) != NULL) {
        json_t *o =
            disco__vx_name_check(e->d_name, NULL) == DISCO_OK ? list_entry(root, e->d_name) : NULL;

        if (o)
            json_array_append_new(a, o);
    }
    if (d)
        closedir(d);
    else if (errno != ENOENT) {
        json_decref(a);
        return disco_status_errno(st, errno, "root", "vindex: cannot list %s", root);
    }
    if (json_array_size(a) > 1) {
        json_t **items = malloc(json_array_size(a) * sizeof *items);
        size_t n = json_array_size(a);

        for (size_t i = 0; items && i < n; i++)
            items[i] = json_incref(json_array_get(a, i));
        if (items) {
            qsort(items, n, sizeof *items, name_cmp);
            json_array_clear(a);
            for (size_t i = 0; i < n; i++)
                json_array_append_new(a, items[i]);
        }
        free(items);
    }
    *out = a;
    return DISCO_OK;
}

static void remove_files(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;

    while (d && (e = readdir(d)) != NULL) {
        char *p;

        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        p = disco__vx_path(dir, e->d_name);
        if (p)
            unlink(p);
        free(p);
    }
    if (d)
        closedir(d);
}

int disco_vindex_drop(const char *root, const char *name, disco_status *st)
{
    char *dir;
    int rc, fd = -1;

    if (!root)
        return disco_status_set(st, DISCO_ERR_INVAL, "root", "drop: NULL root");
    rc = disco__vx_name_check(name, st);
    if (rc != DISCO_OK)
        return rc;
    dir = disco__vx_path(root, name);
    if (!dir)
        return disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory");
    if (access(dir, F_OK) != 0) {
        rc = disco_status_set(st, DISCO_ERR_NOTFOUND, "name", "collection '%s' not found", name);
        goto out_dir;
    }
    rc = disco__vx_lock_file(dir, name, &fd, st);
    if (rc == DISCO_OK)
        remove_files(dir);
    if (fd >= 0)
        close(fd);
    if (rc != DISCO_OK)
        goto out_dir;
    if (rmdir(dir) != 0)
        rc = disco_status_errno(st, errno, "name", "vindex: cannot remove %s", dir);
    disco__vx_fsync_dir(root);
out_dir:
    free(dir);
    return rc;
}
