/*
 * tsdb_index.c - the series registry and the inverted index: which series
 * exist, under which id, and which of them a selector picks.
 *
 *   by_key    loss{run="a",split="val"}  -> series 7
 *   metrics   loss                       -> {precision, rules, ids 3 7 9}
 *   tagkeys   run -> values a -> ids 3 7
 *                           b -> ids 9
 *                  ids 3 7 9 (series having the key)
 *
 * Ids are never reused: a forgotten series keeps its slot (and its tags,
 * which readers may still hold) until the store is closed. Postings are
 * sorted id arrays, so a selector is a few merges: each matcher becomes a
 * set to keep or a set to drop (key="" keeps series without the key; a
 * regex that matches "" also keeps them).
 */
#include "tsdb_int.h"

#include "../base/base_int.h"

#include <regex.h>
#include <stdio.h>
#include <stdlib.h>

/* ---- buffers and id sets ---------------------------------------------------------- */

int disco__tsdb_buf_reserve(tsdb_buf *b, size_t extra)
{
    size_t need = b->len + extra, ncap;
    uint8_t *np;

    if (need <= b->cap)
        return DISCO_OK;
    ncap = b->cap ? b->cap : 4096;
    while (ncap < need)
        ncap *= 2;
    np = realloc(b->p, ncap);
    if (!np)
        return DISCO_ERR_NOMEM;
    b->p = np;
    b->cap = ncap;
    return DISCO_OK;
}

void disco__tsdb_buf_free(tsdb_buf *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}

static size_t ids_lower(const tsdb_ids *s, uint32_t id)
{
    size_t lo = 0, hi = s->n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->v[mid] < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

int disco__ids_add(tsdb_ids *s, uint32_t id)
{
    size_t at = (s->n && s->v[s->n - 1] < id) ? s->n : ids_lower(s, id);

    if (at < s->n && s->v[at] == id)
        return DISCO_OK;
    if (s->n == s->cap) {
        size_t ncap = s->cap ? s->cap * 2 : 8;
        uint32_t *nv = realloc(s->v, ncap * sizeof *nv);
        if (!nv)
            return DISCO_ERR_NOMEM;
        s->v = nv;
        s->cap = ncap;
    }
    memmove(s->v + at + 1, s->v + at, (s->n - at) * sizeof *s->v);
    s->v[at] = id;
    s->n++;
    return DISCO_OK;
}

void disco__ids_remove(tsdb_ids *s, uint32_t id)
{
    size_t at = ids_lower(s, id);

    if (at < s->n && s->v[at] == id) {
        memmove(s->v + at, s->v + at + 1, (s->n - at - 1) * sizeof *s->v);
        s->n--;
    }
}

int disco__ids_copy(tsdb_ids *dst, const tsdb_ids *src)
{
    dst->n = 0;
    if (src->n > dst->cap) {
        uint32_t *nv = realloc(dst->v, src->n * sizeof *nv);
        if (!nv)
            return DISCO_ERR_NOMEM;
        dst->v = nv;
        dst->cap = src->n;
    }
    if (src->n)
        memcpy(dst->v, src->v, src->n * sizeof *src->v);
    dst->n = src->n;
    return DISCO_OK;
}

void disco__ids_free(tsdb_ids *s)
{
    free(s->v);
    memset(s, 0, sizeof *s);
}

/* a := a ∩ b (b sorted). */
static void ids_intersect(tsdb_ids *a, const uint32_t *b, size_t nb)
{
    size_t i = 0, j = 0, k = 0;

    while (i < a->n && j < nb) {
        if (a->v[i] < b[j])
            i++;
        else if (a->v[i] > b[j])
            j++;
        else {
            a->v[k++] = a->v[i++];
            j++;
        }
    }
    a->n = k;
}

/* a := a \ b (b sorted). */
static void ids_subtract(tsdb_ids *a, const uint32_t *b, size_t nb)
{
    size_t i = 0, j = 0, k = 0;

    while (i < a->n) {
        while (j < nb && b[j] < a->v[i])
            j++;
        if (j < nb && b[j] == a->v[i])
            i++;
        else
            a->v[k++] = a->v[i++];
    }
    a->n = k;
}

/* ---- the map ------------------------------------------------------------------------ */

static uint64_t hash_str(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ull;

    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
    return h ^ (h >> 29);
}

void *disco__map_get(const tsdb_map *m, const char *key)
{
    uint64_t h;
    size_t mask, i;

    if (!m->cap)
        return NULL;
    h = hash_str(key);
    mask = m->cap - 1;
    for (i = h & mask; m->slots[i].key; i = (i + 1) & mask)
        if (m->slots[i].hash == h && strcmp(m->slots[i].key, key) == 0)
            return m->slots[i].val;
    return NULL;
}

static void map_place(tsdb_map_slot *slots, size_t cap, const tsdb_map_slot *e)
{
    size_t i = e->hash & (cap - 1);

    while (slots[i].key)
        i = (i + 1) & (cap - 1);
    slots[i] = *e;
}

static int map_grow(tsdb_map *m)
{
    size_t ncap = m->cap ? m->cap * 2 : 16;
    tsdb_map_slot *ns = calloc(ncap, sizeof *ns);

    if (!ns)
        return DISCO_ERR_NOMEM;
    for (size_t i = 0; i < m->cap; i++)
        if (m->slots[i].key)
            map_place(ns, ncap, &m->slots[i]);
    free(m->slots);
    m->slots = ns;
    m->cap = ncap;
    return DISCO_OK;
}

int disco__map_put(tsdb_map *m, const char *key, void *val)
{
    uint64_t h = hash_str(key);
    size_t i;

    if ((m->n + 1) * 4 > m->cap * 3 && map_grow(m) != DISCO_OK)
        return DISCO_ERR_NOMEM;
    for (i = h & (m->cap - 1); m->slots[i].key; i = (i + 1) & (m->cap - 1))
        if (m->slots[i].hash == h && strcmp(m->slots[i].key, key) == 0) {
            m->slots[i].key = key;
            m->slots[i].val = val;
            return DISCO_OK;
        }
    m->slots[i] = (tsdb_map_slot){h, key, val};
    m->n++;
    return DISCO_OK;
}

/* Removes by shifting later members of the probe run back (no tombstones). */
void disco__map_del(tsdb_map *m, const char *key)
{
    uint64_t h;
    size_t mask = m->cap - 1, i, j;

    if (!m->cap)
        return;
    h = hash_str(key);
    for (i = h & mask; m->slots[i].key; i = (i + 1) & mask)
        if (m->slots[i].hash == h && strcmp(m->slots[i].key, key) == 0)
            break;
    if (!m->slots[i].key)
        return;
    for (j = (i + 1) & mask; m->slots[j].key; j = (j + 1) & mask) {
        size_t home = m->slots[j].hash & mask;
        int stays = (i <= j) ? (home > i && home <= j) : (home > i || home <= j);
        if (!stays) {
            m->slots[i] = m->slots[j];
            i = j;
        }
    }
    m->slots[i].key = NULL;
    m->n--;
}

void disco__map_free(tsdb_map *m)
{
    free(m->slots);
    memset(m, 0, sizeof *m);
}

/* ---- metrics -------------------------------------------------------------------------- */

int disco__metric_get(disco_tsdb *db, const char *name, tsdb_metric **out, disco_status *st)
{
    tsdb_metric *m = disco__map_get(&db->metrics, name);

    if (!m) {
        m = calloc(1, sizeof *m);
        if (m)
            m->name = strdup(name);
        if (!m || !m->name || disco__map_put(&db->metrics, m->name, m) != DISCO_OK) {
            if (m)
                free(m->name);
            free(m);
            return disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory");
        }
        m->prec.kind = DISCO_TS_FLOAT64;
        m->is_rollup = disco__rollup_named(name);
    }
    *out = m;
    return DISCO_OK;
}

static void metric_free(tsdb_metric *m)
{
    free(m->name);
    json_decref(m->rollups);
    free(m->rules);
    disco__ids_free(&m->series);
    free(m);
}

/* ---- series ---------------------------------------------------------------------------- */

static void tag_remove(disco_tsdb *db, const char *k, const char *v, uint32_t id)
{
    tsdb_tagkey *tk = disco__map_get(&db->tagkeys, k);
    tsdb_tagval *tv = tk ? disco__map_get(&tk->values, v) : NULL;

    if (!tk)
        return;
    disco__ids_remove(&tk->ids, id);
    if (tv) {
        disco__ids_remove(&tv->ids, id);
        if (tv->ids.n == 0) {
            disco__map_del(&tk->values, tv->value);
            disco__ids_free(&tv->ids);
            free(tv->value);
            free(tv);
        }
    }
    if (tk->ids.n == 0) {
        disco__map_del(&db->tagkeys, tk->key);
        disco__map_free(&tk->values);
        disco__ids_free(&tk->ids);
        free(tk->key);
        free(tk);
    }
}

static tsdb_tagkey *tagkey_new(const char *k)
{
    tsdb_tagkey *tk = calloc(1, sizeof *tk);

    if (tk && !(tk->key = strdup(k))) {
        free(tk);
        tk = NULL;
    }
    return tk;
}

static tsdb_tagval *tagval_new(const char *v)
{
    tsdb_tagval *tv = calloc(1, sizeof *tv);

    if (tv && !(tv->value = strdup(v))) {
        free(tv);
        tv = NULL;
    }
    return tv;
}

/* Adds id to the postings of k and k=v; on failure the caller's tag_remove() cleans up. */
static int tag_add(disco_tsdb *db, const char *k, const char *v, uint32_t id)
{
    tsdb_tagkey *tk = disco__map_get(&db->tagkeys, k);
    tsdb_tagval *tv;

    if (!tk) {
        if (!(tk = tagkey_new(k)))
            return DISCO_ERR_NOMEM;
        if (disco__map_put(&db->tagkeys, tk->key, tk) != DISCO_OK) {
            free(tk->key);
            free(tk);
            return DISCO_ERR_NOMEM;
        }
    }
    if (!(tv = disco__map_get(&tk->values, v))) {
        if (!(tv = tagval_new(v)))
            return DISCO_ERR_NOMEM;
        if (disco__map_put(&tk->values, tv->value, tv) != DISCO_OK) {
            free(tv->value);
            free(tv);
            return DISCO_ERR_NOMEM;
        }
    }
    if (disco__ids_add(&tk->ids, id) != DISCO_OK || disco__ids_add(&tv->ids, id) != DISCO_OK)
        return DISCO_ERR_NOMEM;
    return DISCO_OK;
}

static void index_remove(disco_tsdb *db, tsdb_series *s)
{
    const char *k;
    json_t *v;

    if (disco__map_get(&db->by_key, s->key) == s)
        disco__map_del(&db->by_key, s->key);
    disco__ids_remove(&s->metric->series, s->id);
    disco__ids_remove(&db->all, s->id);
    json_object_foreach (s->tags, k, v) {
        tag_remove(db, k, json_string_value(v), s->id);
    }
}

static int index_add(disco_tsdb *db, tsdb_series *s)
{
    const char *k;
    json_t *v;

    if (disco__map_put(&db->by_key, s->key, s) != DISCO_OK ||
        disco__ids_add(&s->metric->series, s->id) != DISCO_OK ||
        disco__ids_add(&db->all, s->id) != DISCO_OK)
        return DISCO_ERR_NOMEM;
    json_object_foreach (s->tags, k, v) {
        if (tag_add(db, k, json_string_value(v), s->id) != DISCO_OK)
            return DISCO_ERR_NOMEM;
    }
    return DISCO_OK;
}

static int slots_reserve(disco_tsdb *db, uint32_t id)
{
    size_t ncap = db->cap_series ? db->cap_series : 64;
    tsdb_series **ns;

    if (id < db->cap_series)
        return DISCO_OK;
    while (ncap <= id)
        ncap *= 2;
    ns = realloc(db->series, ncap * sizeof *ns);
    if (!ns)
        return DISCO_ERR_NOMEM;
    memset(ns + db->cap_series, 0, (ncap - db->cap_series) * sizeof *ns);
    db->series = ns;
    db->cap_series = ncap;
    return DISCO_OK;
}

static tsdb_series *series_new(uint32_t id, tsdb_metric *m, const json_t *tags, const char *key)
{
    tsdb_series *s = calloc(1, sizeof *s);

    if (!s)
        return NULL;
    s->id = id;
    s->alive = 1;
    s->metric = m;
    s->tags = tags ? json_deep_copy(tags) : json_object();
    s->key = strdup(key);
    s->chunk_max = s->newest = s->roll_ceil = INT64_MIN;
    s->dirty_from = INT64_MAX;
    if (!s->tags || !s->key) {
        json_decref(s->tags);
        free(s->key);
        free(s);
        return NULL;
    }
    return s;
}

int disco__series_add(disco_tsdb *db, uint32_t id, const char *metric, const json_t *tags,
                      const char *key, tsdb_series **out, disco_status *st)
{
    tsdb_metric *m;
    tsdb_series *s;
    int rc = disco__metric_get(db, metric, &m, st);

    if (rc != DISCO_OK)
        return rc;
    if (id == UINT32_MAX || slots_reserve(db, id) != DISCO_OK ||
        !(s = series_new(id, m, tags, key)))
        return disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory adding series %s", key);
    DISCO_ASSERT(db->series[id] == NULL);
    db->series[id] = s;
    if (index_add(db, s) != DISCO_OK) {
        index_remove(db, s);
        db->series[id] = NULL;
        json_decref(s->tags);
        free(s->key);
        free(s);
        return disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory adding series %s", key);
    }
    if (id >= db->next_id)
        db->next_id = id + 1;
    db->n_alive++;
    db->registry_dirty = 1;
    *out = s;
    return DISCO_OK;
}

void disco__series_forget(disco_tsdb *db, tsdb_series *s)
{
    if (!s->alive)
        return;
    index_remove(db, s);
    disco__head_free(db, s);
    free(s->chunks);
    s->chunks = NULL;
    s->n_chunks = s->cap_chunks = 0;
    free(s->rolled);
    s->rolled = NULL;
    s->n_rolled = 0;
    s->alive = 0;
    db->n_alive--;
    db->registry_dirty = 1;
}

tsdb_series *disco__series_by_id(const disco_tsdb *db, uint32_t id)
{
    return id < db->cap_series ? db->series[id] : NULL;
}

void disco__index_free(disco_tsdb *db)
{
    for (size_t i = 0; i < db->cap_series; i++) {
        tsdb_series *s = db->series[i];
        if (!s)
            continue;
        if (s->alive)
            index_remove(db, s);
        disco__head_free(db, s);
        free(s->chunks);
        free(s->rolled);
        json_decref(s->tags);
        free(s->key);
        free(s);
    }
    free(db->series);
    for (size_t i = 0; i < db->metrics.cap; i++)
        if (db->metrics.slots[i].key)
            metric_free(db->metrics.slots[i].val);
    disco__map_free(&db->metrics);
    disco__map_free(&db->by_key);
    disco__map_free(&db->tagkeys);
    disco__ids_free(&db->all);
}

/* ---- selectors ----------------------------------------------------------------------- */

static int check_key(const char *k, size_t n)
{
    if (n == 0 || n > DISCO_TS_TAG_KEY_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = k[i];
        int alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
        if (!(alpha || (i > 0 && ((c >= '0' && c <= '9') || c == '.' || c == '-'))))
            return 0;
    }
    return 1;
}

/* The matcher's key as a C string in buf (keys parsed from "k=v" are not terminated). */
static int matcher_key(const disco_ts_matcher *m, char buf[DISCO_TS_TAG_KEY_MAX + 1],
                       disco_status *st)
{
    size_t n = m->key ? (m->key_len ? m->key_len : strlen(m->key)) : 0;

    if (!m->key || !m->value || !check_key(m->key, n))
        return disco_status_set(st, DISCO_ERR_INVAL, "matchers",
                                "matcher on tag key '%.*s': use [A-Za-z_][A-Za-z0-9_.-]* with a "
                                "value",
                                (int)(n > 64 ? 64 : n), m->key ? m->key : "");
    if ((unsigned)m->op > DISCO_TS_NRE)
        return disco_status_set(st, DISCO_ERR_INVAL, "matchers", "matcher on tag '%.*s': bad op %d",
                                (int)n, m->key, (int)m->op);
    memcpy(buf, m->key, n);
    buf[n] = '\0';
    return DISCO_OK;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* Ids whose value of `tk` matches `re`, sorted, into out. */
static int regex_union(const tsdb_tagkey *tk, const regex_t *re, tsdb_ids *out)
{
    for (size_t i = 0; tk && i < tk->values.cap; i++) {
        const tsdb_tagval *tv = tk->values.slots[i].val;
        if (!tk->values.slots[i].key || regexec(re, tv->value, 0, NULL, 0) != 0)
            continue;
        for (size_t j = 0; j < tv->ids.n; j++) {
            if (out->n == out->cap) {
                size_t ncap = out->cap ? out->cap * 2 : 64;
                uint32_t *nv = realloc(out->v, ncap * sizeof *nv);
                if (!nv)
                    return DISCO_ERR_NOMEM;
                out->v = nv;
                out->cap = ncap;
            }
            out->v[out->n++] = tv->ids.v[j];
        }
    }
    if (out->n)
        qsort(out->v, out->n, sizeof *out->v, cmp_u32);
    return DISCO_OK;
}

static int apply_regex(disco_tsdb *db, const char *key, const disco_ts_matcher *m, tsdb_ids *cand,
                       disco_status *st)
{
    const tsdb_tagkey *tk = disco__map_get(&db->tagkeys, key);
    tsdb_ids hit = {0}, miss = {0};
    regex_t re;
    int rc = disco__tsdb_regex_compile(&re, key, m->value, st), empty;

    if (rc != DISCO_OK)
        return rc;
    empty = regexec(&re, "", 0, NULL, 0) == 0;
    if (regex_union(tk, &re, &hit) != DISCO_OK ||
        (empty && tk && disco__ids_copy(&miss, &tk->ids) != DISCO_OK)) {
        rc = disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory");
        goto out;
    }
    ids_subtract(&miss, hit.v, hit.n); /* series with the key, not matching */
    if (m->op == DISCO_TS_RE && empty)
        ids_subtract(cand, miss.v, miss.n);
    else if (m->op == DISCO_TS_RE)
        ids_intersect(cand, hit.v, hit.n);
    else if (empty)
        ids_intersect(cand, miss.v, miss.n);
    else
        ids_subtract(cand, hit.v, hit.n);
out:
    regfree(&re);
    disco__ids_free(&hit);
    disco__ids_free(&miss);
    return rc;
}

static int apply_matcher(disco_tsdb *db, const disco_ts_matcher *m, tsdb_ids *cand,
                         disco_status *st)
{
    char key[DISCO_TS_TAG_KEY_MAX + 1];
    const tsdb_tagkey *tk;
    const tsdb_tagval *tv;
    int rc = matcher_key(m, key, st);

    if (rc != DISCO_OK)
        return rc;
    if (m->op == DISCO_TS_RE || m->op == DISCO_TS_NRE)
        return apply_regex(db, key, m, cand, st);
    tk = disco__map_get(&db->tagkeys, key);
    tv = tk && m->value[0] ? disco__map_get(&tk->values, m->value) : NULL;
    if (m->value[0]) {
        const uint32_t *v = tv ? tv->ids.v : NULL;
        size_t n = tv ? tv->ids.n : 0;
        if (m->op == DISCO_TS_EQ)
            ids_intersect(cand, v, n);
        else
            ids_subtract(cand, v, n);
    } else {
        const uint32_t *v = tk ? tk->ids.v : NULL;
        size_t n = tk ? tk->ids.n : 0;
        if (m->op == DISCO_TS_EQ)
            ids_subtract(cand, v, n);
        else
            ids_intersect(cand, v, n);
    }
    return DISCO_OK;
}

int disco__select(disco_tsdb *db, const disco_ts_selector *sel, tsdb_ids *out, disco_status *st)
{
    const tsdb_ids *start = &db->all;
    static const tsdb_ids none;
    int rc;

    if (sel->n_matchers && !sel->matchers)
        return disco_status_set(st, DISCO_ERR_INVAL, "matchers", "selector: no matcher array");
    if (sel->metric) {
        const tsdb_metric *m = disco__map_get(&db->metrics, sel->metric);
        start = m ? &m->series : &none;
    }
    if (disco__ids_copy(out, start) != DISCO_OK)
        return disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory");
    for (size_t i = 0; i < sel->n_matchers; i++)
        if ((rc = apply_matcher(db, &sel->matchers[i], out, st)) != DISCO_OK)
            return rc;
    return DISCO_OK;
}

/* ---- matcher expressions ------------------------------------------------------------- */

static const struct {
    const char *text;
    disco_ts_match_op op;
} match_ops[] = {
    {"=~", DISCO_TS_RE}, {"!=", DISCO_TS_NE}, {"!~", DISCO_TS_NRE}, {"=", DISCO_TS_EQ}};

static int parse_one(const char *s, disco_ts_matcher *m, disco_status *st)
{
    char q[DISCO__QUOTE_MAX], key[DISCO_TS_TAG_KEY_MAX + 1];
    size_t k = strcspn(s, "=!"), i;
    regex_t re;
    int rc;

    for (i = 0; i < sizeof match_ops / sizeof match_ops[0]; i++)
        if (strncmp(s + k, match_ops[i].text, strlen(match_ops[i].text)) == 0)
            break;
    if (i == sizeof match_ops / sizeof match_ops[0] || !check_key(s, k))
        return disco_status_set(st, DISCO_ERR_INVAL, "matchers",
                                "matcher '%s': expected key=value, key!=value, key=~regex or "
                                "key!~regex with a key like [A-Za-z_][A-Za-z0-9_.-]*",
                                disco__quote(s, q));
    *m = (disco_ts_matcher){s, match_ops[i].op, s + k + strlen(match_ops[i].text), k};
    if (m->op != DISCO_TS_RE && m->op != DISCO_TS_NRE)
        return DISCO_OK;
    memcpy(key, s, k);
    key[k] = '\0';
    if ((rc = disco__tsdb_regex_compile(&re, key, m->value, st)) != DISCO_OK)
        return rc;
    regfree(&re);
    return DISCO_OK;
}

static int parse_object(const json_t *exprs, disco_ts_matcher *out, size_t *n, disco_status *st)
{
    const char *k;
    json_t *v;

    json_object_foreach ((json_t *)exprs, k, v) {
        if (!json_is_string(v) || !check_key(k, strlen(k)))
            return disco_status_set(st, DISCO_ERR_INVAL, "matchers",
                                    "matcher on tag '%.64s': needs a valid key and a string value",
                                    k);
        out[(*n)++] = (disco_ts_matcher){k, DISCO_TS_EQ, json_string_value(v), 0};
    }
    return DISCO_OK;
}

int disco_ts_matchers_parse(const json_t *exprs, disco_ts_matcher *out, size_t cap, size_t *n,
                            disco_status *st)
{
    size_t count = json_is_array(exprs)    ? json_array_size(exprs)
                   : json_is_object(exprs) ? json_object_size(exprs)
                                           : 1;
    int rc;

    *n = 0;
    if (!json_is_array(exprs) && !json_is_object(exprs) && !json_is_string(exprs))
        return disco_status_set(st, DISCO_ERR_INVAL, "matchers",
                                "matchers: expected an array of strings like \"key=value\"");
    if (count > cap)
        return disco_status_set(st, DISCO_ERR_LIMIT, "matchers", "%zu matchers: at most %zu", count,
                                cap);
    if (json_is_object(exprs))
        return parse_object(exprs, out, n, st);
    for (size_t i = 0; i < count; i++) {
        const json_t *e = json_is_array(exprs) ? json_array_get(exprs, i) : exprs;
        if (!json_is_string(e))
            return disco_status_set(st, DISCO_ERR_INVAL, "matchers",
                                    "matcher %zu: expected a string like \"key=value\"", i + 1);
        if ((rc = parse_one(json_string_value(e), &out[i], st)) != DISCO_OK)
            return rc;
        *n = i + 1;
    }
    return DISCO_OK;
}
