/*
 * route.c - from a URL path to a route: the fixed routes, the named
 * aliases, and one POST route per operation of the table
 * ("resource.create" <-> /api/resource/create, "version" <-> /api/version).
 */
#include "http_int.h"

#include <stdio.h>
#include <string.h>

static const struct {
    const char *name;
    unsigned bit;
} methods[] = {
    {"GET", HTTP_GET},     {"HEAD", HTTP_HEAD},     {"POST", HTTP_POST},       {"PUT", HTTP_PUT},
    {"PATCH", HTTP_PATCH}, {"DELETE", HTTP_DELETE}, {"OPTIONS", HTTP_OPTIONS},
};

/* Routes named for what they do rather than after their op. */
static const struct {
    const char *path; /* after /api/ */
    const char *op;
} aliases[] = {
    {"analyze/time-series", "ts.analyze"},
    {"search/similar", "vec.search"},
};

unsigned disco__http_method(const char *name)
{
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
        if (strcmp(name, methods[i].name) == 0)
            return methods[i].bit;
    return 0;
}

void disco__http_allow_text(unsigned allowed, char *buf, size_t size)
{
    size_t used = 0;

    buf[0] = '\0';
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
        if ((allowed | HTTP_OPTIONS) & methods[i].bit)
            used += (size_t)snprintf(buf + used, used < size ? size - used : 0, "%s%s",
                                     used ? ", " : "", methods[i].name);
}

static void set(http_route *rt, http_route_kind kind, unsigned allowed)
{
    rt->kind = kind;
    rt->methods = allowed;
}

/* Copies one path segment (up to '/' or the end) into rt->arg; its length, or 0. */
static size_t take_segment(const char *s, http_route *rt)
{
    size_t n = strcspn(s, "/");

    if (n == 0 || n >= sizeof rt->arg)
        return 0;
    memcpy(rt->arg, s, n);
    rt->arg[n] = '\0';
    return n;
}

/* resources, resources/{id}, resources/{id}/versions, resources/{id}/lineage */
static void route_resources(const char *rest, http_route *rt)
{
    size_t n;

    if (*rest == '\0') {
        set(rt, ROUTE_RESOURCES, HTTP_GET | HTTP_HEAD);
        return;
    }
    if (*rest++ != '/' || (n = take_segment(rest, rt)) == 0)
        return;
    rest += n;
    if (*rest == '\0')
        set(rt, ROUTE_RESOURCE, HTTP_GET | HTTP_HEAD | HTTP_PATCH | HTTP_DELETE);
    else if (strcmp(rest, "/versions") == 0)
        set(rt, ROUTE_RESOURCE_VERSIONS, HTTP_GET | HTTP_HEAD);
    else if (strcmp(rest, "/lineage") == 0)
        set(rt, ROUTE_RESOURCE_LINEAGE, HTTP_GET | HTTP_HEAD);
}

/* objects, objects/{hash} */
static void route_objects(const char *rest, http_route *rt)
{
    size_t n;

    if (*rest == '\0') {
        set(rt, ROUTE_OBJECTS, HTTP_PUT);
        return;
    }
    if (*rest++ != '/' || (n = take_segment(rest, rt)) == 0 || rest[n] != '\0')
        return;
    set(rt, ROUTE_OBJECT, HTTP_GET | HTTP_HEAD);
}

/* "group/verb" -> op "group.verb"; "word" -> op "word". */
static void route_op(const char *rest, http_route *rt)
{
    char name[128];
    const char *slash = strchr(rest, '/');

    if (strlen(rest) >= sizeof name || strchr(rest, '.'))
        return;
    if (slash && (slash == rest || slash[1] == '\0' || strchr(slash + 1, '/')))
        return;
    snprintf(name, sizeof name, "%s", rest);
    if (slash)
        name[slash - rest] = '.';
    rt->op = disco_ops_find(name);
    if (rt->op)
        set(rt, ROUTE_OP, HTTP_POST);
}

static void route_api(const char *rest, http_route *rt)
{
    rt->is_api = 1;
    for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++)
        if (strcmp(rest, aliases[i].path) == 0) {
            rt->op = disco_ops_find(aliases[i].op);
            if (rt->op)
                set(rt, ROUTE_OP, HTTP_POST);
            return;
        }
    if (strcmp(rest, "openapi.json") == 0) {
        rt->is_api = 0; /* the description of the API is public */
        set(rt, ROUTE_OPENAPI, HTTP_GET | HTTP_HEAD);
    } else if (strncmp(rest, "resources", 9) == 0 && (rest[9] == '\0' || rest[9] == '/')) {
        route_resources(rest + 9, rt);
    } else if (strncmp(rest, "objects", 7) == 0 && (rest[7] == '\0' || rest[7] == '/')) {
        route_objects(rest + 7, rt);
    } else {
        route_op(rest, rt);
    }
}

void disco__http_route(const char *path, http_route *rt)
{
    memset(rt, 0, sizeof *rt);
    rt->kind = ROUTE_NONE;
    if (strcmp(path, "/") == 0) {
        set(rt, ROUTE_INDEX, HTTP_GET | HTTP_HEAD);
    } else if (strcmp(path, "/healthz") == 0) {
        set(rt, ROUTE_HEALTH, HTTP_GET | HTTP_HEAD);
    } else if (strcmp(path, "/readyz") == 0) {
        set(rt, ROUTE_READY, HTTP_GET | HTTP_HEAD);
    } else if (strcmp(path, "/ui") == 0 || strncmp(path, "/ui/", 4) == 0) {
        const char *file = path[3] ? path + 4 : "";
        if (strlen(file) < sizeof rt->arg) {
            snprintf(rt->arg, sizeof rt->arg, "%s", file);
            set(rt, ROUTE_UI, HTTP_GET | HTTP_HEAD);
        }
    } else if (strncmp(path, "/api/", 5) == 0) {
        route_api(path + 5, rt);
    }
}
