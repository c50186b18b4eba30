/*
 * access_object.c - who may read an object of the content-addressed store
 * (the OBJECTS rule in access.h), and the bookkeeping of uploads.
 *
 * An object has no ACL of its own: it borrows those of the resources that
 * name it as a payload (any version, deleted ones under their tombstone's
 * ACL, as their history stays readable), plus the uploader's claim. The
 * cheap test runs first: one row of `uploads`, then the referrers in
 * creation order until one is readable.
 */
#include "ops_int.h"

#include "disco/access.h"

#include <stdio.h>

typedef struct reader_probe {
    const char *principal;
    disco_role role;
} reader_probe;

static int is_full(disco_role role)
{
    return role == DISCO_ROLE_NONE || role == DISCO_ROLE_ADMIN;
}

int disco_access_object_hidden(const disco_objects *objs, const char *hash, disco_status *st)
{
    return disco_status_set(st, DISCO_ERR_NOTFOUND, "hash", "object %s: not found in store '%s'",
                            hash, disco_objects_dir(objs));
}

/* Stops the walk (1) at the first resource the principal may read. */
static int readable_referrer(void *user, const disco_resource *r)
{
    const reader_probe *p = user;

    return disco_access_can_read(r->acl, p->principal, p->role);
}

/* 1 when the principal may read `hash`, 0 when not, or a negative error. */
static int may_read(disco_catalog *c, const char *hash, const char *principal, disco_role role,
                    disco_status *st)
{
    reader_probe probe = {principal, role};
    disco_status quiet = {0};
    disco_upload up;
    int rc;

    if (principal && *principal) {
        rc = disco_catalog_upload_get(c, hash, principal, &up, &quiet);
        if (rc == DISCO_OK)
            return 1;
        if (rc != DISCO_ERR_NOTFOUND && rc != DISCO_ERR_INVAL) {
            if (st)
                *st = quiet;
            return rc;
        }
    }
    rc = disco_catalog_foreach_referrer(c, hash, readable_referrer, &probe, st);
    return rc < 0 ? rc : rc != 0;
}

int disco_access_object_check(disco_catalog *c, const disco_objects *objs, const char *hash,
                              const char *principal, disco_role role, disco_status *st)
{
    int rc = disco_hash_check(hash, "object hash", st);

    if (rc) {
        if (st)
            snprintf(st->field, sizeof st->field, "hash");
        return rc;
    }
    if (is_full(role))
        return DISCO_OK;
    rc = may_read(c, hash, principal, role, st);
    if (rc < 0)
        return rc;
    return rc ? DISCO_OK : disco_access_object_hidden(objs, hash, st);
}

int disco_access_object_uploaded(disco_catalog *c, const char *hash, const char *principal,
                                 disco_role role, int *created, disco_status *st)
{
    int rc;

    if (role == DISCO_ROLE_NONE)
        return DISCO_OK;
    if (!is_full(role) && !*created) {
        rc = may_read(c, hash, principal, role, st);
        if (rc < 0)
            return rc;
        *created = !rc;
    }
    return disco_catalog_upload_record(c, hash, principal, st);
}
