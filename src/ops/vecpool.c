/*
 * vecpool.c - vector collections kept open for every context of a process
 * (ops.h, disco_vec_pool), and how vec ops get theirs.
 *
 * A collection allows one open handle at a time, so two requests of a
 * server that each opened it would find it BUSY; a handle may be shared by
 * threads (searches side by side, writes exclusive: vindex.h). The pool
 * opens each collection on first use, under its mutex, and keeps it until
 * it is freed: a small list, searched by "<root>/<name>".
 */
#include "ops_int.h"

#include "disco/vindex.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct pooled {
    char *key; /* "<root>/<name>" */
    disco_vindex *v;
} pooled;

struct disco_vec_pool {
    pthread_mutex_t mu;
    pooled *items;
    size_t n, cap;
};

int disco_vec_pool_new(disco_vec_pool **out, disco_status *st)
{
    disco_vec_pool *p = calloc(1, sizeof *p);

    *out = NULL;
    if (!p || pthread_mutex_init(&p->mu, NULL) != 0) {
        free(p);
        return disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory");
    }
    *out = p;
    return DISCO_OK;
}

void disco_vec_pool_free(disco_vec_pool *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n; i++) {
        disco_vindex_close(p->items[i].v);
        free(p->items[i].key);
    }
    free(p->items);
    pthread_mutex_destroy(&p->mu);
    free(p);
}

/* Opens the collection and adds it; mu held. */
static int pool_add(disco_vec_pool *p, const char *root, const char *name, const char *key,
                    disco_vindex **v, disco_status *st)
{
    pooled *grown;
    char *k;
    int rc;

    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 8;
        grown = realloc(p->items, cap * sizeof *grown);
        if (!grown)
            return disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory");
        p->items = grown;
        p->cap = cap;
    }
    k = strdup(key);
    if (!k)
        return disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory");
    rc = disco_vindex_open(root, name, v, st);
    if (rc != DISCO_OK) {
        free(k);
        return rc;
    }
    p->items[p->n++] = (pooled){k, *v};
    return DISCO_OK;
}

static int pool_get(disco_vec_pool *p, const char *root, const char *name, disco_vindex **v,
                    disco_status *st)
{
    char key[DISCO_CONFIG_STR_MAX + DISCO_VINDEX_NAME_MAX + 32];
    int rc = DISCO_ERR_NOTFOUND;

    if ((size_t)snprintf(key, sizeof key, "%s/%s", root, name ? name : "") >= sizeof key)
        return disco_status_set(st, DISCO_ERR_INVAL, "name", "collection path too long");
    pthread_mutex_lock(&p->mu);
    for (size_t i = 0; i < p->n && rc != DISCO_OK; i++)
        if (strcmp(p->items[i].key, key) == 0) {
            *v = p->items[i].v;
            rc = DISCO_OK;
        }
    if (rc != DISCO_OK)
        rc = pool_add(p, root, name, key, v, st);
    pthread_mutex_unlock(&p->mu);
    return rc;
}

int disco__ctx_vindex(disco_ctx *ctx, const char *root, const char *name, disco_vindex **v,
                      disco_status *st)
{
    disco_vec_pool *p = disco__ctx_vec_pool(ctx);

    *v = NULL;
    return p ? pool_get(p, root, name, v, st) : disco_vindex_open(root, name, v, st);
}

void disco__ctx_vindex_done(disco_ctx *ctx, disco_vindex *v)
{
    if (!disco__ctx_vec_pool(ctx))
        disco_vindex_close(v);
}
