/*
 * apitoken.h - API tokens kept in the catalog: roles, creation, listing,
 * revocation and verification of bearer secrets.
 *
 * A token has a sortable id, a name (unique among live tokens), a role, and
 * the principal it acts as (owner of what it creates, subject of ACL checks;
 * by default its name). Its secret is "dm_" followed by 64 lowercase hex
 * digits (32 random bytes from getrandom()); only the SHA-256 of the whole
 * secret is stored, so a secret is shown once, at creation, and cannot be
 * recovered. Revoked tokens stay listed (with their revocation time) but
 * never verify again; their names become free for new tokens.
 *
 * Roles are ordered: a higher role may do everything a lower one may.
 * DISCO_ROLE_NONE is no token at all: the local CLI, which has full access.
 *
 * Thread safety: as the catalog handle (one thread at a time).
 */
#ifndef DISCO_APITOKEN_H
#define DISCO_APITOKEN_H

#include "disco/catalog.h"
#include "disco/err.h"
#include "disco/id.h"

#include <stddef.h>
#include <stdint.h>

typedef enum disco_role {
    DISCO_ROLE_NONE = 0,   /* no token: local use, full access */
    DISCO_ROLE_READER = 1, /* reads what its ACLs allow */
    DISCO_ROLE_WRITER = 2, /* also creates, and changes what its ACLs allow */
    DISCO_ROLE_ADMIN = 3,  /* everything, every resource, and token management */
} disco_role;

#define DISCO_APITOKEN_NAME_MAX 64    /* names and principals: [A-Za-z0-9][A-Za-z0-9_.@:-]* */
#define DISCO_APITOKEN_PREFIX "dm_"   /* what every secret starts with */
#define DISCO_APITOKEN_SECRET_LEN 67  /* "dm_" + 64 hex digits */
#define DISCO_APITOKEN_LIST_MAX 10000 /* most tokens one listing returns */
#define DISCO_APITOKEN_TOUCH_MS 60000 /* last_used_ms is refreshed at most this often */

/* One token as stored, without its hash. */
typedef struct disco_apitoken {
    char id[DISCO_ID_LEN + 1];
    char name[DISCO_APITOKEN_NAME_MAX + 1];
    char principal[DISCO_APITOKEN_NAME_MAX + 1];
    disco_role role;
    int64_t created_ms;
    int64_t last_used_ms; /* 0: never used */
    int64_t revoked_ms;   /* 0: live */
} disco_apitoken;

/* "reader", "writer", "admin" ("none" for DISCO_ROLE_NONE, "?" for others). */
const char *disco_apitoken_role_name(disco_role role);

/*
 * Parses "reader", "writer" or "admin" into *role. INVAL naming field
 * "role" otherwise (NONE is not a role a token can have).
 */
int disco_apitoken_role_parse(const char *text, disco_role *role, disco_status *st);

/*
 * Checks a token name or principal: 1..DISCO_APITOKEN_NAME_MAX characters
 * of [A-Za-z0-9_.@:-], starting with a letter or digit. INVAL naming `field`.
 */
int disco_apitoken_check_name(const char *name, const char *field, disco_status *st);

/*
 * Creates a token. `principal` NULL or "" means the name. On success the
 * secret (NUL-terminated) is written to `secret_out`, which the caller must
 * show once and then forget, and `out` (may be NULL) gets the stored token.
 * Errors: INVAL (field "name", "role" or "principal"), EXISTS when a live
 * token has that name, IO when the system has no randomness, and the
 * catalog's own errors.
 */
int disco_apitoken_create(disco_catalog *c, const char *name, disco_role role,
                          const char *principal, char secret_out[DISCO_APITOKEN_SECRET_LEN + 1],
                          disco_apitoken *out, disco_status *st);

/* A listing; release with disco_apitoken_list_release(). */
typedef struct disco_apitoken_list {
    disco_apitoken *items; /* malloc'd */
    size_t count;
} disco_apitoken_list;

/*
 * Tokens in creation order, live ones only unless `include_revoked`.
 * At most DISCO_APITOKEN_LIST_MAX.
 */
int disco_apitoken_list_all(disco_catalog *c, int include_revoked, disco_apitoken_list *out,
                            disco_status *st);
void disco_apitoken_list_release(disco_apitoken_list *l);

/*
 * Revokes the live token whose id or name is `name_or_id` (an id is tried
 * first) and fills `out` (may be NULL) with it as revoked. NOTFOUND (field
 * "token") when no live token has that id or name.
 */
int disco_apitoken_revoke(disco_catalog *c, const char *name_or_id, disco_apitoken *out,
                          disco_status *st);

/*
 * Checks a bearer secret. On success fills `out` with the token (its role and
 * principal decide what the request may do) and refreshes last_used_ms when
 * it is older than DISCO_APITOKEN_TOUCH_MS (best effort: a busy catalog does
 * not fail the check). The stored hash is compared in constant time.
 * Errors: PERM (field "token") for a well-formed secret that is unknown or
 * revoked, with one message for both, so a caller learns nothing about which
 * tokens exist; INVAL (field "token") for text that is not a secret at all;
 * the catalog's own errors (IO, BUSY, ...), which are not the caller's fault.
 */
int disco_apitoken_verify(disco_catalog *c, const char *bearer, disco_apitoken *out,
                          disco_status *st);

#endif
