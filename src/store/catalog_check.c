/*
 * catalog_check.c - the input checks every catalog back-end shares: syntax
 * and limits of types, tags, metadata, ACLs, ids, payload hashes, patches
 * and listing filters. Each error names the field and says what is wrong
 * with which input.
 */
#include "catalog_int.h"

#include "disco/json.h"
#include "../base/base_int.h"

#include <string.h>

static int is_lower_or_digit(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9');
}

static int is_alnum(char ch)
{
    return is_lower_or_digit(ch) || (ch >= 'A' && ch <= 'Z');
}

int disco_catalog_check_type(const char *type, disco_status *st)
{
    char q[DISCO__QUOTE_MAX];
    size_t n;

    if (!type || !*type)
        return disco_status_set(st, DISCO_ERR_INVAL, "type", "type: required");
    n = strlen(type);
    if (n > DISCO_TYPE_MAX || !(type[0] >= 'a' && type[0] <= 'z'))
        goto bad;
    for (size_t i = 1; i < n; i++) {
        if (!is_lower_or_digit(type[i]) && !strchr("_.-", type[i]))
            goto bad;
    }
    return DISCO_OK;
bad:
    return disco_status_set(st, DISCO_ERR_INVAL, "type",
                            "type '%s': must match [a-z][a-z0-9_.-]{0,31}", disco__quote(type, q));
}

static int tag_key_ok(const char *key)
{
    size_t n = strlen(key);

    if (n == 0 || n > DISCO_TAG_KEY_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (!is_alnum(key[i]) && !strchr("_.:/-", key[i]))
            return 0;
    }
    return 1;
}

static int check_tag(const char *key, const json_t *value, disco_status *st)
{
    char q[DISCO__QUOTE_MAX];
    size_t len;

    if (!tag_key_ok(key))
        return disco_status_set(st, DISCO_ERR_INVAL, "tags",
                                "tag key '%s': must match [A-Za-z0-9_.:/-]{1,64}",
                                disco__quote(key, q));
    if (!json_is_string(value))
        return disco_status_set(st, DISCO_ERR_INVAL, "tags", "tag '%s': value must be a string",
                                key);
    len = json_string_length(value);
    if (len > DISCO_TAG_VALUE_MAX)
        return disco_status_set(st, DISCO_ERR_INVAL, "tags",
                                "tag '%s': value of %zu bytes, at most %d", key, len,
                                DISCO_TAG_VALUE_MAX);
    if (strlen(json_string_value(value)) != len)
        return disco_status_set(st, DISCO_ERR_INVAL, "tags", "tag '%s': value contains NUL", key);
    return DISCO_OK;
}

int disco_catalog_check_tags(const json_t *tags, disco_status *st)
{
    const char *key;
    json_t *value;
    int rc;

    if (!tags)
        return DISCO_OK;
    if (!json_is_object(tags))
        return disco_status_set(st, DISCO_ERR_INVAL, "tags",
                                "tags: must be an object of string values");
    if (json_object_size(tags) > DISCO_TAGS_MAX)
        return disco_status_set(st, DISCO_ERR_INVAL, "tags", "tags: %zu keys, at most %d",
                                json_object_size(tags), DISCO_TAGS_MAX);
    json_object_foreach ((json_t *)tags, key, value) {
        rc = check_tag(key, value, st);
        if (rc)
            return rc;
    }
    return DISCO_OK;
}

int disco_catalog_check_metadata(const json_t *metadata, disco_status *st)
{
    size_t bytes;
    int depth;

    if (!metadata)
        return DISCO_OK;
    if (!json_is_object(metadata))
        return disco_status_set(st, DISCO_ERR_INVAL, "metadata", "metadata: must be a JSON object");
    depth = disco_json_depth(metadata);
    if (depth > DISCO__METADATA_DEPTH_MAX)
        return disco_status_set(st, DISCO_ERR_INVAL, "metadata",
                                "metadata: nests %d levels deep, at most %d", depth,
                                DISCO__METADATA_DEPTH_MAX);
    bytes = json_dumpb(metadata, NULL, 0, JSON_COMPACT);
    if (bytes > DISCO_METADATA_MAX)
        return disco_status_set(st, DISCO_ERR_INVAL, "metadata",
                                "metadata: %zu bytes serialised, at most %d", bytes,
                                DISCO_METADATA_MAX);
    return DISCO_OK;
}

static int principal_ok(const json_t *v)
{
    const char *s = json_string_value(v);
    size_t n;

    if (!s)
        return 0;
    n = json_string_length(v);
    if (n == 0 || n > DISCO__PRINCIPAL_MAX || strlen(s) != n)
        return 0;
    for (size_t i = 0; i < n; i++) {
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return 0;
    }
    return 1;
}

/* A principal given as a C string (owner, visible_to). */
static int check_principal_arg(const char *name, const char *field, disco_status *st)
{
    json_t *v = json_string(name);
    int ok = v && principal_ok(v);

    json_decref(v);
    if (!ok)
        return disco_status_set(st, DISCO_ERR_INVAL, field,
                                "%s: must be a name of 1..%d bytes without control characters",
                                field, DISCO__PRINCIPAL_MAX);
    return DISCO_OK;
}

int disco__catalog_check_principal(const char *name, const char *field, disco_status *st)
{
    if (!name)
        return disco_status_set(st, DISCO_ERR_INVAL, field, "%s: required", field);
    return check_principal_arg(name, field, st);
}

static int check_principals(const char *member, const json_t *list, disco_status *st)
{
    size_t i;
    json_t *v;

    if (!json_is_array(list))
        return disco_status_set(st, DISCO_ERR_INVAL, "acl", "acl.%s: must be an array of names",
                                member);
    json_array_foreach (list, i, v) {
        if (!principal_ok(v))
            return disco_status_set(st, DISCO_ERR_INVAL, "acl",
                                    "acl.%s[%zu]: must be a name of 1..%d bytes without control "
                                    "characters",
                                    member, i, DISCO__PRINCIPAL_MAX);
    }
    return DISCO_OK;
}

static int check_acl_member(const char *key, const json_t *v, disco_status *st)
{
    if (!strcmp(key, "owner")) {
        if (!principal_ok(v))
            return disco_status_set(st, DISCO_ERR_INVAL, "acl",
                                    "acl.owner: must be a name of 1..%d bytes without control "
                                    "characters",
                                    DISCO__PRINCIPAL_MAX);
        return DISCO_OK;
    }
    if (!strcmp(key, "readers") || !strcmp(key, "writers"))
        return check_principals(key, v, st);
    if (!strcmp(key, "public")) {
        if (!json_is_boolean(v))
            return disco_status_set(st, DISCO_ERR_INVAL, "acl", "acl.public: must be a boolean");
        return DISCO_OK;
    }
    char q[DISCO__QUOTE_MAX];

    return disco_status_set(st, DISCO_ERR_INVAL, "acl",
                            "acl: unknown member '%s' (expected owner, readers, writers, public)",
                            disco__quote(key, q));
}

int disco_catalog_check_acl(const json_t *acl, disco_status *st)
{
    const char *key;
    json_t *value;
    int rc;

    if (!acl)
        return DISCO_OK;
    if (!json_is_object(acl))
        return disco_status_set(st, DISCO_ERR_INVAL, "acl",
                                "acl: must be an object {owner, readers, writers, public}");
    json_object_foreach ((json_t *)acl, key, value) {
        rc = check_acl_member(key, value, st);
        if (rc)
            return rc;
    }
    return DISCO_OK;
}

int disco__catalog_check_id(const char *id, const char *what, const char *field, disco_status *st)
{
    int rc;

    if (!id)
        return disco_status_set(st, DISCO_ERR_INVAL, field, "%s: required", what);
    rc = disco_id_check(id, what, st);
    if (rc && st)
        snprintf(st->field, sizeof st->field, "%s", field);
    return rc;
}

static int check_id_array(const json_t *ids, const char *field, disco_status *st)
{
    size_t i;
    json_t *v;
    char what[64];

    if (!ids)
        return DISCO_OK;
    if (!json_is_array(ids))
        return disco_status_set(st, DISCO_ERR_INVAL, field, "%s: must be an array of ids", field);
    if (json_array_size(ids) > DISCO_PARENTS_MAX)
        return disco_status_set(st, DISCO_ERR_INVAL, field, "%s: %zu entries, at most %d", field,
                                json_array_size(ids), DISCO_PARENTS_MAX);
    json_array_foreach (ids, i, v) {
        snprintf(what, sizeof what, "%s[%zu]", field, i);
        if (!json_is_string(v))
            return disco_status_set(st, DISCO_ERR_INVAL, field, "%s: must be an id string", what);
        if (disco__catalog_check_id(json_string_value(v), what, field, st))
            return DISCO_ERR_INVAL;
    }
    return DISCO_OK;
}

static int check_object(const char *object, disco_status *st)
{
    int rc;

    if (!object || !*object)
        return DISCO_OK;
    rc = disco_hash_check(object, "object", st);
    if (rc && st)
        snprintf(st->field, sizeof st->field, "object");
    return rc;
}

int disco__catalog_json_path(const char *path, char *buf, size_t size, disco_status *st)
{
    char q[DISCO__QUOTE_MAX];
    size_t n = 0, seg = 0;

    if (size < 2)
        return DISCO_ERR_INTERNAL;
    buf[n++] = '$';
    for (const char *p = path;; p++) {
        if (*p == '.' || *p == '\0') {
            if (seg == 0)
                goto bad;
            if (n + 2 > size)
                goto bad;
            buf[n++] = '"';
            if (*p == '\0')
                break;
            seg = 0;
            continue;
        }
        if (*p == '"' || *p == '\\' || (unsigned char)*p < 0x20 || n + 6 > size)
            goto bad;
        if (seg++ == 0) {
            buf[n++] = '.';
            buf[n++] = '"';
        }
        buf[n++] = *p;
    }
    buf[n] = '\0';
    return DISCO_OK;
bad:
    return disco_status_set(st, DISCO_ERR_INVAL, "metadata",
                            "metadata filter path '%s': must be dot-separated non-empty "
                            "names without quotes, backslashes or control characters",
                            disco__quote(path, q));
}

int disco__catalog_check_spec(const disco_resource_spec *spec, disco_status *st)
{
    int rc;

    if (!spec)
        return disco_status_set(st, DISCO_ERR_INVAL, "spec", "spec: required");
    if ((rc = disco_catalog_check_type(spec->type, st)) || (rc = check_object(spec->object, st)) ||
        (rc = check_id_array(spec->parents, "parents", st)) ||
        (rc = disco_catalog_check_tags(spec->tags, st)) ||
        (rc = disco_catalog_check_metadata(spec->metadata, st)) ||
        (rc = disco_catalog_check_acl(spec->acl, st)))
        return rc;
    if (!json_object_get(spec->acl, "owner")) {
        if (!spec->owner || !*spec->owner)
            return disco_status_set(st, DISCO_ERR_INVAL, "owner", "owner: required (or acl.owner)");
        if ((rc = check_principal_arg(spec->owner, "owner", st)))
            return rc;
    }
    if (spec->id)
        return disco__catalog_check_id(spec->id, "id", "id", st);
    return DISCO_OK;
}

static int check_remove_tags(const json_t *keys, disco_status *st)
{
    size_t i;
    json_t *v;

    if (!keys)
        return DISCO_OK;
    if (!json_is_array(keys))
        return disco_status_set(st, DISCO_ERR_INVAL, "remove_tags",
                                "remove_tags: must be an array of tag keys");
    json_array_foreach (keys, i, v) {
        if (!json_is_string(v))
            return disco_status_set(st, DISCO_ERR_INVAL, "remove_tags",
                                    "remove_tags[%zu]: must be a tag key string", i);
    }
    return DISCO_OK;
}

int disco__catalog_check_patch(const disco_resource_patch *patch, disco_status *st)
{
    int rc;

    if (!patch)
        return disco_status_set(st, DISCO_ERR_INVAL, "patch", "patch: required");
    if (patch->expected_version < 0)
        return disco_status_set(st, DISCO_ERR_INVAL, "expected_version",
                                "expected_version %lld: must be 0 (any) or a version number",
                                (long long)patch->expected_version);
    if (patch->metadata && !json_is_object(patch->metadata))
        return disco_status_set(st, DISCO_ERR_INVAL, "metadata",
                                "metadata: a merge patch must be a JSON object");
    if ((rc = check_object(patch->object, st)) ||
        (rc = check_id_array(patch->parents, "parents", st)) ||
        (rc = check_id_array(patch->add_parents, "add_parents", st)) ||
        (rc = disco_catalog_check_tags(patch->tags, st)) ||
        (rc = check_remove_tags(patch->remove_tags, st)) ||
        (rc = disco_catalog_check_metadata(patch->metadata, st)) ||
        (rc = disco_catalog_check_acl(patch->acl, st)))
        return rc;
    return DISCO_OK;
}

static int check_filter_metadata(const json_t *md, disco_status *st)
{
    char q[DISCO__QUOTE_MAX];
    char path[2 * DISCO__METADATA_PATH_MAX + 16];
    const char *key;
    json_t *v;
    int rc;

    if (!md)
        return DISCO_OK;
    if (!json_is_object(md))
        return disco_status_set(st, DISCO_ERR_INVAL, "metadata",
                                "metadata filter: must be an object {\"a.b\": value}");
    json_object_foreach ((json_t *)md, key, v) {
        if (strlen(key) > DISCO__METADATA_PATH_MAX)
            return disco_status_set(st, DISCO_ERR_INVAL, "metadata",
                                    "metadata filter path '%s': longer than %d bytes",
                                    disco__quote(key, q), DISCO__METADATA_PATH_MAX);
        rc = disco__catalog_json_path(key, path, sizeof path, st);
        if (rc)
            return rc;
        if (json_is_object(v) || json_is_array(v))
            return disco_status_set(st, DISCO_ERR_INVAL, "metadata",
                                    "metadata filter '%s': value must be a string, number, "
                                    "boolean or null",
                                    key);
    }
    return DISCO_OK;
}

static int check_filter_range(const disco_resource_filter *f, disco_status *st)
{
    if (f->created_from_ms < 0 || f->created_to_ms < 0)
        return disco_status_set(st, DISCO_ERR_INVAL, "created",
                                "created range: times must be Unix milliseconds >= 0");
    if (f->created_from_ms && f->created_to_ms && f->created_to_ms <= f->created_from_ms)
        return disco_status_set(st, DISCO_ERR_INVAL, "created",
                                "created range: created_to_ms %lld must be after "
                                "created_from_ms %lld",
                                (long long)f->created_to_ms, (long long)f->created_from_ms);
    return DISCO_OK;
}

int disco__catalog_check_filter(const disco_resource_filter *f, disco_status *st)
{
    int rc;

    if (f->limit < 0 || f->limit > DISCO_LIST_LIMIT_MAX)
        return disco_status_set(st, DISCO_ERR_INVAL, "limit", "limit %lld out of range 1..%d",
                                (long long)f->limit, DISCO_LIST_LIMIT_MAX);
    if ((f->type && (rc = disco_catalog_check_type(f->type, st))) ||
        (rc = disco_catalog_check_tags(f->tags, st)) ||
        (rc = check_filter_metadata(f->metadata, st)) || (rc = check_filter_range(f, st)) ||
        (f->after && (rc = disco__catalog_check_id(f->after, "after", "after", st))))
        return rc;
    return f->visible_to ? check_principal_arg(f->visible_to, "visible_to", st) : DISCO_OK;
}
