/*
 * apitoken.c - API tokens: roles, name checks, secrets and their hashes,
 * and dispatch to the catalog back-end that stores them (catalog_int.h).
 *
 * DESIGN
 *   secret  = "dm_" + hex(32 bytes of getrandom())     shown once
 *   stored  = sha256_hex(secret)                        never the secret
 *   verify  : bearer -> sha256_hex -> row with that hash -> constant-time
 *             compare of the stored and computed digests -> live? -> token
 *
 * Looking a row up by the digest of the presented secret tells a timing
 * observer nothing useful: the digests are of the attacker's own guesses.
 * Unknown and revoked secrets fail with the same code and message.
 */
#include "catalog_int.h"

#include "disco/hash.h"
#include "disco/timeutil.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#define SECRET_BYTES 32
#define PREFIX_LEN (sizeof DISCO_APITOKEN_PREFIX - 1)

_Static_assert(PREFIX_LEN + 2 * SECRET_BYTES == DISCO_APITOKEN_SECRET_LEN,
               "secret length matches its layout");

static const char INVALID_MSG[] = "token: not valid (unknown or revoked)";

/* ---- roles and names ----------------------------------------------------- */

static const char *const role_names[] = {
    [DISCO_ROLE_NONE] = "none",
    [DISCO_ROLE_READER] = "reader",
    [DISCO_ROLE_WRITER] = "writer",
    [DISCO_ROLE_ADMIN] = "admin",
};

const char *disco_apitoken_role_name(disco_role role)
{
    if ((unsigned)role >= sizeof role_names / sizeof role_names[0])
        return "?";
    return role_names[role];
}

int disco_apitoken_role_parse(const char *text, disco_role *role, disco_status *st)
{
    for (int r = DISCO_ROLE_READER; r <= DISCO_ROLE_ADMIN; r++) {
        if (text && strcmp(text, role_names[r]) == 0) {
            *role = (disco_role)r;
            return DISCO_OK;
        }
    }
    return disco_status_set(st, DISCO_ERR_INVAL, "role",
                            "role '%.64s': must be one of reader, writer, admin",
                            text ? text : "(none)");
}

static int name_char(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '_' || ch == '.' || ch == '@' || ch == ':' || ch == '-';
}

int disco_apitoken_check_name(const char *name, const char *field, disco_status *st)
{
    size_t len = name ? strlen(name) : 0;

    if (len == 0)
        return disco_status_set(st, DISCO_ERR_INVAL, field, "%s: required", field);
    if (len > DISCO_APITOKEN_NAME_MAX)
        return disco_status_set(st, DISCO_ERR_INVAL, field, "%s: %zu characters, at most %d", field,
                                len, DISCO_APITOKEN_NAME_MAX);
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)name[i];
        if (name_char((char)ch) && !(i == 0 && strchr("_.@:-", ch)))
            continue;
        if (ch >= 0x20 && ch < 0x7f)
            return disco_status_set(st, DISCO_ERR_INVAL, field,
                                    "%s: character %zu ('%c') is not allowed (use letters, "
                                    "digits and _.@:-, starting with a letter or digit)",
                                    field, i + 1, ch);
        return disco_status_set(st, DISCO_ERR_INVAL, field,
                                "%s: character %zu (byte 0x%02x) is not allowed (use letters, "
                                "digits and _.@:-)",
                                field, i + 1, ch);
    }
    return DISCO_OK;
}

/* ---- secrets --------------------------------------------------------------- */

/* Fills `buf` from the kernel's random source. IO when none works. */
static int random_bytes(uint8_t *buf, size_t len, disco_status *st)
{
    size_t got = 0;

    while (got < len) {
        ssize_t n = getrandom(buf + got, len - got, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return disco_status_errno(st, errno, "secret", "token secret: no system randomness");
        got += (size_t)n;
    }
    return DISCO_OK;
}

static void wipe(void *p, size_t n)
{
    volatile unsigned char *v = p;

    while (n--)
        *v++ = 0;
}

static int make_secret(char secret[DISCO_APITOKEN_SECRET_LEN + 1], disco_status *st)
{
    uint8_t raw[SECRET_BYTES];
    int rc = random_bytes(raw, sizeof raw, st);

    if (rc == DISCO_OK) {
        memcpy(secret, DISCO_APITOKEN_PREFIX, PREFIX_LEN);
        disco_hex_encode(raw, sizeof raw, secret + PREFIX_LEN);
    }
    wipe(raw, sizeof raw);
    return rc;
}

/* 1 when `a` and `b` (both `n` bytes) are equal, in time independent of where they differ. */
static int ct_equal(const char *a, const char *b, size_t n)
{
    unsigned char diff = 0;

    for (size_t i = 0; i < n; i++)
        diff |= (unsigned char)(a[i] ^ b[i]);
    return diff == 0;
}

/* INVAL unless `bearer` has the layout of a secret (says what is expected, not what is stored). */
static int check_secret_form(const char *bearer, disco_status *st)
{
    size_t len = bearer ? strlen(bearer) : 0;
    int ok =
        len == DISCO_APITOKEN_SECRET_LEN && strncmp(bearer, DISCO_APITOKEN_PREFIX, PREFIX_LEN) == 0;

    for (size_t i = PREFIX_LEN; ok && i < len; i++)
        ok = (bearer[i] >= '0' && bearer[i] <= '9') || (bearer[i] >= 'a' && bearer[i] <= 'f');
    if (ok)
        return DISCO_OK;
    return disco_status_set(st, DISCO_ERR_INVAL, "token",
                            "token: not an API token (expected \"%s\" and %d lowercase hex "
                            "digits, got %zu characters)",
                            DISCO_APITOKEN_PREFIX, 2 * SECRET_BYTES, len);
}

/* ---- calls ----------------------------------------------------------------- */

static int ready(disco_catalog *c, disco_status *st)
{
    if (!c)
        return disco_status_set(st, DISCO_ERR_INVAL, "catalog", "catalog: handle is NULL");
    if (c->in_callback)
        return disco_status_set(st, DISCO_ERR_BUSY, "catalog",
                                "catalog: called from inside its own foreach_object callback");
    return DISCO_OK;
}

static int check_create(const char *name, disco_role role, const char *principal, disco_status *st)
{
    int rc = disco_apitoken_check_name(name, "name", st);

    if (rc == DISCO_OK && (role < DISCO_ROLE_READER || role > DISCO_ROLE_ADMIN))
        rc = disco_status_set(st, DISCO_ERR_INVAL, "role",
                              "role %d: must be reader, writer or admin", (int)role);
    if (rc == DISCO_OK && principal && *principal)
        rc = disco_apitoken_check_name(principal, "principal", st);
    return rc;
}

int disco_apitoken_create(disco_catalog *c, const char *name, disco_role role,
                          const char *principal, char secret_out[DISCO_APITOKEN_SECRET_LEN + 1],
                          disco_apitoken *out, disco_status *st)
{
    char hash[DISCO_SHA256_HEX_LEN + 1];
    disco_apitoken t = {0};
    int rc;

    if ((rc = ready(c, st)) || (rc = check_create(name, role, principal, st)))
        return rc;
    if (!secret_out)
        return disco_status_set(st, DISCO_ERR_INVAL, "secret", "token create: secret_out is NULL");
    disco_id_new(t.id);
    snprintf(t.name, sizeof t.name, "%s", name);
    snprintf(t.principal, sizeof t.principal, "%s", principal && *principal ? principal : name);
    t.role = role;
    t.created_ms = disco_time_now_ms();
    if ((rc = make_secret(secret_out, st)))
        return rc;
    rc = disco_sha256_hex(secret_out, DISCO_APITOKEN_SECRET_LEN, hash);
    if (rc)
        rc = disco_status_set(st, rc, NULL, "token create: hashing the secret failed");
    else
        rc = c->ops->token_insert(c, &t, hash, st);
    if (rc) {
        wipe(secret_out, DISCO_APITOKEN_SECRET_LEN + 1);
        return rc;
    }
    if (out)
        *out = t;
    return DISCO_OK;
}

int disco_apitoken_list_all(disco_catalog *c, int include_revoked, disco_apitoken_list *out,
                            disco_status *st)
{
    int rc = ready(c, st);

    if (rc)
        return rc;
    if (!out)
        return disco_status_set(st, DISCO_ERR_INVAL, "out", "token list: out is NULL");
    memset(out, 0, sizeof *out);
    return c->ops->token_list(c, include_revoked, out, st);
}

void disco_apitoken_list_release(disco_apitoken_list *l)
{
    if (!l)
        return;
    free(l->items);
    memset(l, 0, sizeof *l);
}

int disco_apitoken_revoke(disco_catalog *c, const char *name_or_id, disco_apitoken *out,
                          disco_status *st)
{
    int rc = ready(c, st);

    if (rc)
        return rc;
    if (!name_or_id || !*name_or_id)
        return disco_status_set(st, DISCO_ERR_INVAL, "token", "token: name or id required");
    if (strlen(name_or_id) > DISCO_APITOKEN_NAME_MAX)
        return disco_status_set(st, DISCO_ERR_NOTFOUND, "token",
                                "token: no live token has this name or id (%zu characters, "
                                "longer than any name)",
                                strlen(name_or_id));
    return c->ops->token_revoke(c, name_or_id, disco_time_now_ms(), out, st);
}

/* Refreshes last_used_ms when stale; failures are ignored (a read must not fail on it). */
static void touch(disco_catalog *c, disco_apitoken *t)
{
    int64_t now = disco_time_now_ms();

    if (now - t->last_used_ms < DISCO_APITOKEN_TOUCH_MS)
        return;
    if (c->ops->token_touch(c, t->id, now, NULL) == DISCO_OK)
        t->last_used_ms = now;
}

int disco_apitoken_verify(disco_catalog *c, const char *bearer, disco_apitoken *out,
                          disco_status *st)
{
    char hash[DISCO_SHA256_HEX_LEN + 1], stored[DISCO_SHA256_HEX_LEN + 1] = {0};
    disco_apitoken t;
    int rc;

    if ((rc = ready(c, st)) || (rc = check_secret_form(bearer, st)))
        return rc;
    if (!out)
        return disco_status_set(st, DISCO_ERR_INVAL, "out", "token verify: out is NULL");
    rc = disco_sha256_hex(bearer, DISCO_APITOKEN_SECRET_LEN, hash);
    if (rc)
        return disco_status_set(st, rc, NULL, "token verify: hashing failed");
    rc = c->ops->token_find(c, hash, &t, stored, st);
    if (rc == DISCO_ERR_NOTFOUND)
        return disco_status_set(st, DISCO_ERR_PERM, "token", "%s", INVALID_MSG);
    if (rc)
        return rc;
    if (!ct_equal(stored, hash, DISCO_SHA256_HEX_LEN) || t.revoked_ms != 0)
        return disco_status_set(st, DISCO_ERR_PERM, "token", "%s", INVALID_MSG);
    touch(c, &t);
    *out = t;
    return DISCO_OK;
}
