/*
 * access_auth.c - the authentication hook for interfaces (the HTTP server):
 * a bearer token in, a principal and a role out (access.h).
 *
 * Catalog handles belong to one thread at a time, and requests verify
 * concurrently, so the hook keeps a small stack of open handles: a call
 * pops one (or opens a new one when none is idle) and pushes it back when
 * done; beyond POOL_MAX idle handles the extra ones are closed.
 */
#include "ops_int.h"

#include "disco/access.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define POOL_MAX 16

struct disco_access_auth {
    pthread_mutex_t mu;
    char location[DISCO_CONFIG_STR_MAX + 32];
    disco_catalog *idle[POOL_MAX];
    int nidle;
};

int disco_access_auth_new(const disco_config *cfg, disco_access_auth **out, disco_status *st)
{
    disco_access_auth *a;

    if (!cfg || !out)
        return disco_status_set(st, DISCO_ERR_INVAL, cfg ? "out" : "cfg",
                                "access auth new: %s is NULL", cfg ? "out" : "cfg");
    a = calloc(1, sizeof *a);
    if (!a || pthread_mutex_init(&a->mu, NULL)) {
        free(a);
        return disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory");
    }
    if (cfg->postgres_uri[0])
        snprintf(a->location, sizeof a->location, "%s", cfg->postgres_uri);
    else
        snprintf(a->location, sizeof a->location, "%s/catalog.db", cfg->data_dir);
    *out = a;
    return DISCO_OK;
}

void disco_access_auth_free(disco_access_auth *a)
{
    if (!a)
        return;
    for (int i = 0; i < a->nidle; i++)
        disco_catalog_close(a->idle[i]);
    pthread_mutex_destroy(&a->mu);
    free(a);
}

static int take(disco_access_auth *a, disco_catalog **c, disco_status *st)
{
    pthread_mutex_lock(&a->mu);
    *c = a->nidle ? a->idle[--a->nidle] : NULL;
    pthread_mutex_unlock(&a->mu);
    return *c ? DISCO_OK : disco_catalog_open(a->location, c, st);
}

/* Keeps a handle for the next call unless it failed for reasons of its own. */
static void give(disco_access_auth *a, disco_catalog *c, int rc)
{
    int keep = rc == DISCO_OK || rc == DISCO_ERR_PERM || rc == DISCO_ERR_INVAL;

    pthread_mutex_lock(&a->mu);
    if (keep && a->nidle < POOL_MAX) {
        a->idle[a->nidle++] = c;
        c = NULL;
    }
    pthread_mutex_unlock(&a->mu);
    disco_catalog_close(c);
}

int disco_access_authenticate(void *user, const char *bearer, char *principal, size_t n, int *role,
                              disco_status *st)
{
    disco_access_auth *a = user;
    disco_catalog *c;
    disco_apitoken t;
    int rc;

    if (!a || !principal || !role)
        return disco_status_set(st, DISCO_ERR_INVAL, NULL, "authenticate: NULL argument");
    if (!bearer || !*bearer)
        return disco_status_set(st, DISCO_ERR_PERM, "token",
                                "token: required (send \"Authorization: Bearer %s...\")",
                                DISCO_APITOKEN_PREFIX);
    if ((rc = take(a, &c, st)))
        return rc;
    rc = disco_apitoken_verify(c, bearer, &t, st);
    give(a, c, rc);
    if (rc)
        return rc;
    if (strlen(t.principal) >= n)
        return disco_status_set(st, DISCO_ERR_INVAL, "principal",
                                "principal '%s' of token %s: longer than %zu bytes", t.principal,
                                t.id, n ? n - 1 : 0);
    memcpy(principal, t.principal, strlen(t.principal) + 1);
    *role = (int)t.role;
    return DISCO_OK;
}
