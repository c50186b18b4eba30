/*
 * vindex.c - vector collections: opening and closing, the key -> slot map,
 * slot reuse, upserts and deletes.
 *
 *   <root>/<name>/
 *   +-------------+  flock'd while a handle is open
 *   | LOCK        |
 *   | config.json |  {"format": 1, "dim", "metric", "M", "ef_construction"}
 *   | index.dvx   |  snapshot (vindex_meta.c)
 *   | log.dvl     |  changes since the snapshot (vindex_log.c)
 *   +-------------+
 *
 *   key map (open addressing, linear probing)     slots
 *   +---+---+---+---+---+                          +----+------+------+
 *   | 0 | 3 | T | 1 | 0 |  slot + 1 / empty /  -->  | ns | id   | meta |
 *   +---+---+---+---+---+  tombstone               +----+------+------+
 *                                                  free slots: a stack
 *
 * An upsert is checked whole, logged and synced, then applied: a replaced
 * key keeps its slot (removed from the graph and added again), a new key
 * takes a free slot or a new one; the graph adds run on a pool when the
 * batch is large.
 */
#include "vindex_int.h"

#include "disco/pool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define PARALLEL_MIN 256 /* batches smaller than this are added on the calling thread */

disco_vindex_config disco_vindex_config_default(size_t dim, disco_vmetric metric)
{
    disco_vindex_config c = {dim, metric, 16, 200};

    return c;
}

size_t disco_vindex_dim(const disco_vindex *v)
{
    return v ? v->cfg.dim : 0;
}

disco_vmetric disco_vindex_metric(const disco_vindex *v)
{
    return v ? v->cfg.metric : DISCO_VMETRIC_COSINE;
}

const char *disco__vx_ns(const char *ns)
{
    return ns ? ns : "";
}

char *disco__vx_path(const char *dir, const char *file)
{
    size_t n = strlen(dir) + strlen(file) + 2;
    char *p = malloc(n);

    if (p)
        snprintf(p, n, "%s/%s", dir, file);
    return p;
}

int disco__vx_name_check(const char *name, disco_status *st)
{
    size_t n = name ? strlen(name) : 0;

    if (n == 0 || n > DISCO_VINDEX_NAME_MAX)
        return disco_status_set(st, DISCO_ERR_INVAL, "name",
                                "collection name must be 1..%d characters of [a-z0-9_-], got %zu",
                                DISCO_VINDEX_NAME_MAX, n);
    for (size_t i = 0; i < n; i++) {
        char c = name[i];

        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
            return disco_status_set(st, DISCO_ERR_INVAL, "name",
                                    "collection name '%s': character %zu is not one of "
                                    "[a-z0-9_-]",
                                    name, i);
    }
    return DISCO_OK;
}

/* ---- key map --------------------------------------------------------------------------- */

#define TOMB UINT32_MAX

static uint64_t key_hash(const char *ns, const char *id)
{
    uint64_t h = 1469598103934665603ull;

    for (const char *p = ns; *p; p++)
        h = (h ^ (uint8_t)*p) * 1099511628211ull;
    h = (h ^ 0xff) * 1099511628211ull;
    for (const char *p = id; *p; p++)
        h = (h ^ (uint8_t)*p) * 1099511628211ull;
    return h ^ (h >> 29);
}

/* The table position holding (ns, id), or SIZE_MAX. */
static size_t map_find(const disco_vindex *v, const char *ns, const char *id)
{
    size_t mask = v->tabcap - 1, i;

    if (v->tabcap == 0)
        return SIZE_MAX;
    for (i = key_hash(ns, id) & mask;; i = (i + 1) & mask) {
        uint32_t e = v->tab[i];
        const vx_slot *s;

        if (e == 0)
            return SIZE_MAX;
        if (e == TOMB)
            continue;
        s = &v->slots[e - 1];
        if (strcmp(s->id, id) == 0 && strcmp(s->ns, ns) == 0)
            return i;
    }
}

int disco__vx_lookup(const disco_vindex *v, const char *ns, const char *id, uint32_t *slot)
{
    size_t i = map_find(v, disco__vx_ns(ns), id);

    if (i == SIZE_MAX)
        return 0;
    *slot = v->tab[i] - 1;
    return 1;
}

static void map_put(uint32_t *tab, size_t cap, const vx_slot *s, uint32_t slot)
{
    size_t i = key_hash(s->ns, s->id) & (cap - 1);

    while (tab[i] != 0 && tab[i] != TOMB)
        i = (i + 1) & (cap - 1);
    tab[i] = slot + 1;
}

static int map_grow(disco_vindex *v)
{
    size_t cap = v->tabcap ? v->tabcap : 64;
    uint32_t *tab;

    while ((v->live + 1) * 2 > cap)
        cap *= 2;
    tab = calloc(cap, sizeof *tab);
    if (!tab)
        return DISCO_ERR_NOMEM;
    for (size_t i = 0; i < v->tabcap; i++)
        if (v->tab[i] != 0 && v->tab[i] != TOMB)
            map_put(tab, cap, &v->slots[v->tab[i] - 1], v->tab[i] - 1);
    free(v->tab);
    v->tab = tab;
    v->tabcap = cap;
    v->tabused = v->live;
    return DISCO_OK;
}

int disco__vx_map_add(disco_vindex *v, uint32_t slot)
{
    if ((v->tabused + 1) * 4 > v->tabcap * 3 && map_grow(v) != DISCO_OK)
        return DISCO_ERR_NOMEM;
    map_put(v->tab, v->tabcap, &v->slots[slot], slot);
    v->tabused++;
    return DISCO_OK;
}

/* ---- slots ----------------------------------------------------------------------------- */

static int slot_take(disco_vindex *v, uint32_t *out)
{
    if (v->nfree > 0) {
        *out = v->freel[--v->nfree];
        return DISCO_OK;
    }
    if (v->nslots >= UINT32_MAX - 1)
        return DISCO_ERR_LIMIT;
    if (v->nslots == v->capslots) {
        size_t cap = v->capslots ? v->capslots * 2 : 64;
        vx_slot *s = realloc(v->slots, cap * sizeof *s);

        if (!s)
            return DISCO_ERR_NOMEM;
        v->slots = s;
        v->capslots = cap;
    }
    memset(&v->slots[v->nslots], 0, sizeof *v->slots);
    *out = (uint32_t)v->nslots++;
    return DISCO_OK;
}

/* Frees a slot's key and metadata and puts it on the free stack (which never overflows). */
static void slot_release(disco_vindex *v, uint32_t slot)
{
    vx_slot *s = &v->slots[slot];

    free(s->ns);
    free(s->id);
    json_decref(s->meta);
    memset(s, 0, sizeof *s);
    v->freel[v->nfree++] = slot;
}

static int freel_room(disco_vindex *v)
{
    uint32_t *f;
    size_t cap;

    if (v->capfree >= v->nslots + 1)
        return DISCO_OK;
    cap = v->capslots > v->nslots + 1 ? v->capslots : v->nslots + 1;
    f = realloc(v->freel, cap * sizeof *f);
    if (!f)
        return DISCO_ERR_NOMEM;
    v->freel = f;
    v->capfree = cap;
    return DISCO_OK;
}

/* Unmaps a live key: map, term index, counts, slot (the graph is the caller's). */
static void key_drop(disco_vindex *v, size_t pos)
{
    uint32_t slot = v->tab[pos] - 1;

    disco__vx_terms_update(v, v->slots[slot].ns, v->slots[slot].meta, slot, -1);
    v->tab[pos] = TOMB;
    v->live--;
    slot_release(v, slot);
}

int disco__vx_apply_delete(disco_vindex *v, const char *ns, const char *id)
{
    size_t pos = map_find(v, disco__vx_ns(ns), id);

    if (pos == SIZE_MAX)
        return 0;
    disco_hnsw_remove(v->h, v->tab[pos] - 1, NULL);
    key_drop(v, pos);
    return 1;
}

/* ---- applying upserts ------------------------------------------------------------------ */

typedef struct add_job {
    disco_vindex *v;
    uint32_t *slot;
    const float **vec;
    int *rc;
} add_job;

static void add_one(size_t i, void *arg)
{
    add_job *j = arg;

    j->rc[i] = disco_hnsw_add(j->v->h, j->slot[i], j->vec[i], NULL);
}

static int set_meta(vx_slot *s, const json_t *meta)
{
    json_t *m = meta ? json_deep_copy(meta) : NULL;

    if (meta && !m)
        return DISCO_ERR_NOMEM;
    json_decref(s->meta);
    s->meta = m;
    return DISCO_OK;
}

/* A new key in a fresh slot (not yet in the graph). */
static int key_new(disco_vindex *v, const vx_item *it, uint32_t *out)
{
    const char *ns = disco__vx_ns(it->ns);
    uint32_t slot;
    vx_slot *s;

    if (freel_room(v) != DISCO_OK || slot_take(v, &slot) != DISCO_OK)
        return DISCO_ERR_NOMEM;
    s = &v->slots[slot];
    s->ns = strdup(ns);
    s->id = strdup(it->id);
    if (!s->ns || !s->id || set_meta(s, it->meta) != DISCO_OK ||
        disco__vx_map_add(v, slot) != DISCO_OK) {
        slot_release(v, slot);
        return DISCO_ERR_NOMEM;
    }
    v->live++;
    disco__vx_terms_update(v, ns, s->meta, slot, 1);
    *out = slot;
    return DISCO_OK;
}

/* Points (ns, id) at its new metadata; the slot is queued for a graph add. */
static int key_set(disco_vindex *v, const vx_item *it, uint32_t slot)
{
    vx_slot *s = &v->slots[slot];
    int rc;

    disco__vx_terms_update(v, s->ns, s->meta, slot, -1);
    rc = set_meta(s, it->meta);
    disco__vx_terms_update(v, s->ns, s->meta, slot, 1);
    return rc;
}

typedef struct pending {
    uint32_t *slot;
    const float **vec;
    int *rc;
    size_t n;
} pending;

static int stage(disco_vindex *v, const vx_item *it, pending *p, size_t *ins, size_t *rep)
{
    uint32_t slot;
    int rc;

    if (disco__vx_lookup(v, it->ns, it->id, &slot)) {
        (*rep)++;
        rc = key_set(v, it, slot);
        if (rc != DISCO_OK)
            return rc;
        if (v->slots[slot].pend) {
            p->vec[v->slots[slot].pend - 1] = it->vec;
            return DISCO_OK;
        }
        disco_hnsw_remove(v->h, slot, NULL);
    } else {
        rc = key_new(v, it, &slot);
        if (rc != DISCO_OK)
            return rc;
        (*ins)++;
    }
    p->slot[p->n] = slot;
    p->vec[p->n] = it->vec;
    v->slots[slot].pend = (uint32_t)++p->n;
    return DISCO_OK;
}

static void run_adds(disco_vindex *v, pending *p, size_t threads)
{
    add_job job = {v, p->slot, p->vec, p->rc};
    disco_pool *pool = NULL;

    if (p->n >= PARALLEL_MIN && threads != 1 && disco_pool_new(threads, &pool) == DISCO_OK &&
        disco_pool_parallel_for(pool, p->n, add_one, &job) == DISCO_OK) {
        disco_pool_free(pool);
        return;
    }
    disco_pool_free(pool);
    for (size_t i = 0; i < p->n; i++)
        add_one(i, &job);
}

/* Clears the batch marks; a key whose vector could not be stored is dropped. */
static int finish_adds(disco_vindex *v, pending *p, disco_status *st)
{
    int rc = DISCO_OK;

    for (size_t i = 0; i < p->n; i++) {
        vx_slot *s = &v->slots[p->slot[i]];

        s->pend = 0;
        if (p->rc[i] == DISCO_OK || disco_hnsw_vector(v->h, p->slot[i]))
            continue;
        rc = disco_status_set(st, p->rc[i], "items", "vindex %s: cannot store the vector of '%s'",
                              v->name, s->id);
        key_drop(v, map_find(v, s->ns, s->id));
    }
    return rc;
}

/* Grows the graph geometrically ahead of a batch of n adds. */
static int graph_room(disco_vindex *v, size_t n)
{
    size_t cap = disco_hnsw_capacity(v->h), need = v->nslots + n;

    if (need <= cap)
        return DISCO_OK;
    return disco_hnsw_reserve(v->h, need > cap * 2 ? need : cap * 2, NULL);
}

int disco__vx_apply_upsert(disco_vindex *v, const vx_item *items, size_t n, size_t threads,
                           size_t *inserted, size_t *replaced, disco_status *st)
{
    pending p = {calloc(n + 1, sizeof *p.slot), calloc(n + 1, sizeof *p.vec),
                 calloc(n + 1, sizeof *p.rc), 0};
    size_t ins = 0, rep = 0;
    int rc = DISCO_ERR_NOMEM;

    if (p.slot && p.vec && p.rc && graph_room(v, n) == DISCO_OK) {
        rc = DISCO_OK;
        for (size_t i = 0; i < n && rc == DISCO_OK; i++)
            rc = stage(v, &items[i], &p, &ins, &rep);
        if (rc != DISCO_OK)
            disco_status_set(st, rc, "items", "vindex %s: no memory to apply an upsert", v->name);
        run_adds(v, &p, threads);
        if (finish_adds(v, &p, st) != DISCO_OK && rc == DISCO_OK)
            rc = st ? st->code : DISCO_ERR_NOMEM;
    }
    if (inserted)
        *inserted = ins;
    if (replaced)
        *replaced = rep;
    free(p.slot);
    free(p.vec);
    free(p.rc);
    return rc;
}

/* ---- lifecycle ------------------------------------------------------------------------- */

static int check_config(const disco_vindex_config *cfg, disco_status *st)
{
    if (!cfg)
        return disco_status_set(st, DISCO_ERR_INVAL, "config", "create: NULL config");
    if (cfg->dim == 0 || cfg->dim > DISCO_VINDEX_DIM_MAX)
        return disco_status_set(st, DISCO_ERR_INVAL, "dim", "dim %zu out of range 1..%d", cfg->dim,
                                DISCO_VINDEX_DIM_MAX);
    if (strcmp(disco_vmetric_name(cfg->metric), "unknown") == 0)
        return disco_status_set(st, DISCO_ERR_INVAL, "metric", "metric %d is not cosine, l2 or ip",
                                (int)cfg->metric);
    if (cfg->M < 2 || cfg->M > 1024)
        return disco_status_set(st, DISCO_ERR_INVAL, "M", "M %zu out of range 2..1024", cfg->M);
    if (cfg->ef_construction < 1 || cfg->ef_construction > ((size_t)1 << 20))
        return disco_status_set(st, DISCO_ERR_INVAL, "ef_construction",
                                "ef_construction %zu out of range 1..1048576",
                                cfg->ef_construction);
    return DISCO_OK;
}

int disco_vindex_create(const char *root, const char *name, const disco_vindex_config *cfg,
                        disco_status *st)
{
    char *dir;
    int rc;

    if (!root)
        return disco_status_set(st, DISCO_ERR_INVAL, "root", "create: NULL root");
    rc = disco__vx_name_check(name, st);
    if (rc == DISCO_OK)
        rc = check_config(cfg, st);
    if (rc != DISCO_OK)
        return rc;
    if (mkdir(root, 0755) != 0 && errno != EEXIST)
        return disco_status_errno(st, errno, "root", "vindex: cannot create %s", root);
    dir = disco__vx_path(root, name);
    if (!dir)
        return disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory");
    if (mkdir(dir, 0755) != 0) {
        rc = errno == EEXIST
                 ? disco_status_set(st, DISCO_ERR_EXISTS, "name", "collection '%s' already exists",
                                    name)
                 : disco_status_errno(st, errno, "name", "vindex: cannot create %s", dir);
        free(dir);
        return rc;
    }
    rc = disco__vx_config_write(dir, cfg, st);
    if (rc == DISCO_OK)
        rc = disco__vx_log_create(dir, st);
    if (rc == DISCO_OK)
        disco__vx_fsync_dir(root);
    free(dir);
    return rc;
}

/* Opens and flock()s <dir>/LOCK into *fd (-1 on failure); BUSY when another handle holds it. */
int disco__vx_lock_file(const char *dir, const char *name, int *fd, disco_status *st)
{
    char *path = disco__vx_path(dir, "LOCK");
    int rc = DISCO_OK;

    if (!path)
        return DISCO_ERR_NOMEM;
    *fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (*fd < 0)
        rc = disco_status_errno(st, errno, "name", "vindex: cannot open %s", path);
    else if (flock(*fd, LOCK_EX | LOCK_NB) != 0)
        rc = errno == EWOULDBLOCK
                 ? disco_status_set(st, DISCO_ERR_BUSY, "name",
                                    "collection '%s' is open elsewhere (%s is held)", name, path)
                 : disco_status_errno(st, errno, "name", "vindex: cannot lock %s", path);
    if (rc != DISCO_OK && *fd >= 0) {
        close(*fd);
        *fd = -1;
    }
    free(path);
    return rc;
}

static int open_state(disco_vindex *v, disco_status *st)
{
    int rc = disco__vx_config_read(v->dir, &v->cfg, st);

    if (rc == DISCO_ERR_NOTFOUND)
        return disco_status_set(st, rc, "name", "collection '%s' not found", v->name);
    if (rc == DISCO_OK)
        rc = disco__vx_lock_file(v->dir, v->name, &v->lockfd, st);
    if (rc == DISCO_OK && (!(v->terms = json_object()) || !(v->nscount = json_object()) ||
                           !(v->postix = json_object())))
        rc = disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory");
    if (rc == DISCO_OK)
        rc = disco__vx_snapshot_load(v, st);
    if (rc == DISCO_OK)
        rc = disco__vx_log_open(v, st);
    return rc;
}

int disco_vindex_open(const char *root, const char *name, disco_vindex **out, disco_status *st)
{
    disco_vindex *v;
    int rc;

    if (out)
        *out = NULL;
    if (!root || !out)
        return disco_status_set(st, DISCO_ERR_INVAL, "root", "open: NULL root or out");
    rc = disco__vx_name_check(name, st);
    if (rc != DISCO_OK)
        return rc;
    v = calloc(1, sizeof *v);
    if (!v || !(v->dir = disco__vx_path(root, name))) {
        free(v);
        return disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory");
    }
    snprintf(v->name, sizeof v->name, "%s", name);
    v->lockfd = v->logfd = -1;
    pthread_rwlock_init(&v->lock, NULL);
    rc = open_state(v, st);
    if (rc != DISCO_OK) {
        disco__vx_free(v);
        return rc;
    }
    *out = v;
    return DISCO_OK;
}

void disco__vx_free(disco_vindex *v)
{
    for (size_t i = 0; i < v->nslots; i++) {
        free(v->slots[i].ns);
        free(v->slots[i].id);
        json_decref(v->slots[i].meta);
    }
    free(v->slots);
    free(v->freel);
    free(v->tab);
    json_decref(v->terms);
    json_decref(v->nscount);
    json_decref(v->postix);
    for (size_t i = 0; i < v->nposts; i++)
        free(v->posts[i].s);
    free(v->posts);
    disco_hnsw_free(v->h);
    if (v->logfd >= 0)
        close(v->logfd);
    if (v->lockfd >= 0)
        close(v->lockfd);
    pthread_rwlock_destroy(&v->lock);
    free(v->dir);
    free(v);
}

void disco_vindex_close(disco_vindex *v)
{
    if (!v)
        return;
    if (v->log_bytes > VX_LOG_SNAPSHOT_BYTES)
        disco_vindex_snapshot(v, NULL);
    disco__vx_free(v);
}
