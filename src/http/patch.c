/*
 * patch.c - PATCH /api/resources/{id}: a JSON merge patch (RFC 7386) of the
 * resource as GET shows it, turned into resource.update parameters.
 *
 *   {"tags": {"genre": "jazz", "draft": null}}   tags genre=jazz, remove_tags draft
 *   {"metadata": {"bpm": 120, "old": null}}      metadata (a merge patch itself)
 *   {"parent_resources": ["01H..."]}             parents (replaced; null: none)
 *   {"access_control": {"public": true}}         public / readers / writers
 *   {"object": null}                             remove_file
 *   If-Match: "v3"                               expected_version 3
 *
 * Members the server sets (resource_id, version, timestamps, ...) cannot
 * be patched.
 */
#include "http_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const server_members[] = {"resource_id",
                                             "resource_type",
                                             "creation_timestamp",
                                             "modification_timestamp",
                                             "version",
                                             "deleted",
                                             NULL};

static int patch_tags(const json_t *v, json_t *raw, disco_status *st)
{
    json_t *set = json_object(), *remove = json_array(), *tv;
    const char *k;
    int rc = DISCO_OK;

    if (!json_is_object(v))
        rc = disco_status_set(st, DISCO_ERR_INVAL, "tags",
                              "tags: expected an object of key: value (null removes a tag)");
    json_object_foreach ((json_t *)v, k, tv) {
        if (rc != DISCO_OK)
            break;
        if (json_is_null(tv))
            json_array_append_new(remove, json_string(k));
        else if (json_is_string(tv))
            json_object_set(set, k, tv);
        else
            rc = disco_status_set(st, DISCO_ERR_INVAL, "tags",
                                  "tags: the value of '%s' must be a string or null", k);
    }
    if (rc == DISCO_OK && json_object_size(set))
        json_object_set(raw, "tags", set);
    if (rc == DISCO_OK && json_array_size(remove))
        json_object_set(raw, "remove_tags", remove);
    json_decref(set);
    json_decref(remove);
    return rc;
}

static int patch_acl(const json_t *v, json_t *raw, disco_status *st)
{
    const char *k;
    json_t *m;

    if (!json_is_object(v))
        return disco_status_set(st, DISCO_ERR_INVAL, "access_control",
                                "access_control: expected an object");
    json_object_foreach ((json_t *)v, k, m) {
        if (strcmp(k, "public") == 0)
            json_object_set_new(raw, k, json_is_null(m) ? json_false() : json_incref(m));
        else if (strcmp(k, "readers") == 0 || strcmp(k, "writers") == 0)
            json_object_set_new(raw, k, json_is_null(m) ? json_array() : json_incref(m));
        else
            return disco_status_set(st, DISCO_ERR_INVAL, "access_control",
                                    "access_control: '%s' cannot be changed (public, readers "
                                    "and writers can)",
                                    k);
    }
    return DISCO_OK;
}

static int patch_member(const char *k, const json_t *v, json_t *raw, disco_status *st)
{
    if (strcmp(k, "tags") == 0)
        return patch_tags(v, raw, st);
    if (strcmp(k, "access_control") == 0)
        return patch_acl(v, raw, st);
    if (strcmp(k, "metadata") == 0) {
        if (!json_is_object(v))
            return disco_status_set(st, DISCO_ERR_INVAL, k,
                                    "metadata: expected an object (null removes one field)");
        json_object_set(raw, "metadata", (json_t *)v);
    } else if (strcmp(k, "parent_resources") == 0) {
        json_object_set_new(raw, "parents",
                            json_is_null(v) ? json_array() : json_incref((json_t *)v));
    } else if (strcmp(k, "object") == 0) {
        if (!json_is_null(v))
            return disco_status_set(st, DISCO_ERR_INVAL, k,
                                    "object: only null (remove the payload) can be patched");
        json_object_set_new(raw, "remove_file", json_true());
    } else {
        for (int i = 0; server_members[i]; i++)
            if (strcmp(k, server_members[i]) == 0)
                return disco_status_set(st, DISCO_ERR_INVAL, k,
                                        "%s: set by the server, it cannot be patched", k);
        return disco_status_set(st, DISCO_ERR_INVAL, k, "a resource has no member '%s'", k);
    }
    return DISCO_OK;
}

/* If-Match: "v3" (the ETag of GET) -> expected_version 3; "*" -> nothing. */
static int patch_if_match(const char *h, json_t *raw, disco_status *st)
{
    char *end;
    unsigned long long v;

    while (*h == ' ')
        h++;
    if (strcmp(h, "*") == 0)
        return DISCO_OK;
    if (strncmp(h, "\"v", 2) == 0 && h[2] >= '0' && h[2] <= '9') {
        v = strtoull(h + 2, &end, 10);
        if (strcmp(end, "\"") == 0 && v >= 1 && v <= (1ull << 53)) {
            json_object_set_new(raw, "expected_version", json_integer((json_int_t)v));
            return DISCO_OK;
        }
    }
    return disco_status_set(st, DISCO_ERR_INVAL, "If-Match",
                            "If-Match: expected the ETag of a version such as \"v3\", got %.40s",
                            h);
}

int disco__http_patch_params(const json_t *patch, const char *if_match, json_t *raw,
                             disco_status *st)
{
    const char *k;
    json_t *v;
    int rc;

    json_object_foreach ((json_t *)patch, k, v) {
        rc = patch_member(k, v, raw, st);
        if (rc != DISCO_OK)
            return rc;
    }
    return if_match ? patch_if_match(if_match, raw, st) : DISCO_OK;
}
