/*
 * access.h - who may do what: the role an op needs, what a principal may do
 * to a resource under its access_control, and the authentication hook that
 * turns an API token into a principal and a role.
 *
 * RULES
 *   role        op flags needed          resources
 *   NONE        every op (local CLI)     all, as before tokens existed
 *   ADMIN       every op                 all
 *   WRITER      not DISCO_OP_ADMIN       read: as READER; write: owner or in writers;
 *                                        change the ACL: owner only
 *   READER      neither ADMIN nor WRITES read: owner, in readers or writers, or public
 *
 * A principal that may not read a resource is told it does not exist
 * (NOTFOUND, 404, with the very message an unknown id gets), never PERM
 * (403), so ids of private resources do not leak. PERM is only for a
 * resource the principal can read but not change.
 *
 * The decision functions are pure; the *_check functions read the catalog.
 */
#ifndef DISCO_ACCESS_H
#define DISCO_ACCESS_H

#include "disco/apitoken.h"
#include "disco/catalog.h"
#include "disco/config.h"
#include "disco/err.h"
#include "disco/objects.h"
#include "disco/ops.h"

#include <jansson.h>
#include <stddef.h>

/* ---- pure decisions ------------------------------------------------------ */

/* The role an interface requires before calling `op` (ops.h, op flags). */
disco_role disco_access_op_role(const disco_op *op);

/*
 * DISCO_OK when `role` may call `op`, else PERM naming the op and the role
 * it needs ("op 'token.create' needs role admin; this token is writer").
 * DISCO_ROLE_NONE (local use) may call everything.
 */
int disco_access_op_check(const disco_op *op, disco_role role, disco_status *st);

/*
 * What `principal` with `role` may do to a resource whose access_control is
 * `acl` ({"owner", "readers", "writers", "public"}; a NULL or malformed acl
 * grants nothing beyond the role). 1 = allowed, 0 = not.
 *   can_read    NONE/ADMIN; or owner, in readers or writers, or public
 *   can_write   NONE/ADMIN; or WRITER and (owner or in writers)
 *   can_share   (change the ACL) NONE/ADMIN; or WRITER and owner
 * An empty or NULL principal is nobody's: only public resources are readable.
 */
int disco_access_can_read(const json_t *acl, const char *principal, disco_role role);
int disco_access_can_write(const json_t *acl, const char *principal, disco_role role);
int disco_access_can_share(const json_t *acl, const char *principal, disco_role role);

/*
 * Records the NOTFOUND that hides a resource: "<what> <id>: no such
 * resource" with field `field`, exactly what the catalog says of an
 * unknown id ("resource"/"id", or "parent"/"parents"). Returns NOTFOUND.
 */
int disco_access_hidden(const char *what, const char *id, const char *field, disco_status *st);

/* ---- checks against the catalog ------------------------------------------ */

typedef enum disco_access_want {
    DISCO_ACCESS_READ = 1,
    DISCO_ACCESS_WRITE = 2,
    DISCO_ACCESS_SHARE = 3, /* change the ACL (implies write) */
} disco_access_want;

/*
 * Checks `want` on resource `id` under the ACL of its latest version (the
 * tombstone's for a deleted resource: its history stays readable to those
 * who could read it). DISCO_ROLE_NONE returns DISCO_OK without reading.
 * Errors: NOTFOUND via disco_access_hidden(what, id, field) when the
 * resource is unknown or not readable; PERM (field `field`) when readable
 * but `want` is more; INVAL for a malformed id; the catalog's own errors.
 */
int disco_access_check(disco_catalog *c, const char *id, const char *principal, disco_role role,
                       disco_access_want want, const char *what, const char *field,
                       disco_status *st);

/*
 * Removes from a disco_catalog_lineage() graph the nodes `principal` may not
 * read, and the edges touching them; "self" is kept (check it first).
 * No-op for NONE and ADMIN. Errors: the catalog's; NOMEM.
 */
int disco_access_filter_lineage(disco_catalog *c, json_t *graph, const char *principal,
                                disco_role role, disco_status *st);

/* ---- objects (access_object.c) ---------------------------------------------- */

/*
 * OBJECTS
 *   A principal may read object H (its bytes, its size, that it exists)
 *   when its role is NONE or ADMIN; or it may read (can_read above, under
 *   the ACL of the latest version) some resource any of whose versions has
 *   payload H; or it uploaded H itself (disco_catalog_upload_record).
 *   Otherwise H does not exist for it: NOTFOUND with the very message the
 *   object store gives for a hash it does not hold, so hashes of private
 *   payloads do not leak. Listing or collecting every object is for admins.
 */

/*
 * Records the NOTFOUND that hides an object: "object H: not found in store
 * 'DIR'" with field "hash", as disco_objects_stat() says of a missing one.
 * Returns NOTFOUND.
 */
int disco_access_object_hidden(const disco_objects *objs, const char *hash, disco_status *st);

/*
 * DISCO_OK when `principal` with `role` may read object `hash` (the rule
 * above; NONE and ADMIN without reading the catalog, which may then be
 * NULL). Errors: NOTFOUND via disco_access_object_hidden() when it may
 * not, whether or not the object is stored; INVAL (field "hash") for a
 * malformed hash; the catalog's own.
 */
int disco_access_object_check(disco_catalog *c, const disco_objects *objs, const char *hash,
                              const char *principal, disco_role role, disco_status *st);

/*
 * After `principal` with `role` stored object `hash` (`*created` as the
 * object store reported it): records the upload in the catalog and makes
 * *created what the caller may know. Short of ADMIN, a principal that
 * could not read the object before is told it was created, so an upload
 * never reveals that someone else stored the same bytes. Role NONE (local
 * use, full access) records nothing and changes nothing. Errors: the
 * catalog's.
 */
int disco_access_object_uploaded(disco_catalog *c, const char *hash, const char *principal,
                                 disco_role role, int *created, disco_status *st);

/* ---- authentication hook --------------------------------------------------- */

/*
 * State for disco_access_authenticate(): the catalog location of `cfg`
 * and a small pool of open catalog handles, so concurrent requests each
 * verify on a handle of their own. Thread-safe; free after the server stops.
 */
typedef struct disco_access_auth disco_access_auth;

int disco_access_auth_new(const disco_config *cfg, disco_access_auth **out, disco_status *st);
void disco_access_auth_free(disco_access_auth *a);

/*
 * An authentication hook of the HTTP server's shape (disco_http_auth_fn):
 * `user` is a disco_access_auth. Verifies `bearer` with
 * disco_apitoken_verify(), then writes the token's principal (INVAL when it
 * does not fit in `n` bytes) and role (a disco_role). Errors: PERM (field
 * "token") for a missing, unknown or revoked token; INVAL for text that is
 * not a token; the catalog's errors (IO, BUSY, ...) for server faults.
 */
int disco_access_authenticate(void *user, const char *bearer, char *principal, size_t n, int *role,
                              disco_status *st);

#endif
