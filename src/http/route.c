/*
 * route.c - from a URL path to a route: the fixed routes, the named
 * aliases, and one POST route per operation of the table
 * ("resource.create" <-> /api/resource/create, "version" <-> /api/version).
 * Listing ops that are also read with GET and query arguments are named
 * in `gettable`. Each route has a pattern ("/api/jobs/{id}") that names it
 * in the metrics, so their label values stay few.
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

/* Ops also routed for GET (their params as query arguments). */
static const char *const gettable[] = {"monitor.alerts"};

unsigned disco__http_method(const char *name)
{
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
        if (strcmp(name, methods[i].name) == 0)
            return methods[i].bit;
    return 0;
}

const char *disco__http_method_name(unsigned method)
{
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
        if (method == methods[i].bit)
            return methods[i].name;
    return "OTHER";
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

/* jobs, jobs/{id}, jobs/{id}/events */
static void route_jobs(const char *rest, http_route *rt)
{
    size_t n;

    if (*rest == '\0') {
        set(rt, ROUTE_JOBS, HTTP_GET | HTTP_HEAD);
        return;
    }
    if (*rest++ != '/' || (n = take_segment(rest, rt)) == 0)
        return;
    rest += n;
    if (*rest == '\0')
        set(rt, ROUTE_JOB, HTTP_GET | HTTP_HEAD | HTTP_DELETE);
    else if (strcmp(rest, "/events") == 0)
        set(rt, ROUTE_JOB_EVENTS, HTTP_GET);
}

static void set_op(http_route *rt, const disco_op *op)
{
    unsigned m = HTTP_POST;

    rt->op = op;
    for (size_t i = 0; op && i < sizeof gettable / sizeof gettable[0]; i++)
        if (strcmp(op->name, gettable[i]) == 0)
            m |= HTTP_GET | HTTP_HEAD;
    if (op)
        set(rt, ROUTE_OP, m);
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
    set_op(rt, disco_ops_find(name));
}

static void route_api(const char *rest, http_route *rt)
{
    rt->is_api = 1;
    for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++)
        if (strcmp(rest, aliases[i].path) == 0) {
            set_op(rt, disco_ops_find(aliases[i].op));
            return;
        }
    if (strcmp(rest, "openapi.json") == 0) {
        rt->is_api = 0; /* the description of the API is public */
        set(rt, ROUTE_OPENAPI, HTTP_GET | HTTP_HEAD);
    } else if (strncmp(rest, "resources", 9) == 0 && (rest[9] == '\0' || rest[9] == '/')) {
        route_resources(rest + 9, rt);
    } else if (strncmp(rest, "objects", 7) == 0 && (rest[7] == '\0' || rest[7] == '/')) {
        route_objects(rest + 7, rt);
    } else if (strncmp(rest, "jobs", 4) == 0 && (rest[4] == '\0' || rest[4] == '/')) {
        route_jobs(rest + 4, rt);
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
    } else if (strcmp(path, "/metrics") == 0) {
        set(rt, ROUTE_METRICS, HTTP_GET | HTTP_HEAD);
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

void disco__http_route_pattern(const http_route *rt, char *buf, size_t size)
{
    static const char *const fixed[] = {
        [ROUTE_NONE] = "unmatched",
        [ROUTE_INDEX] = "/",
        [ROUTE_HEALTH] = "/healthz",
        [ROUTE_READY] = "/readyz",
        [ROUTE_OPENAPI] = "/api/openapi.json",
        [ROUTE_UI] = "/ui/{file}",
        [ROUTE_OP] = NULL,
        [ROUTE_RESOURCES] = "/api/resources",
        [ROUTE_RESOURCE] = "/api/resources/{id}",
        [ROUTE_RESOURCE_VERSIONS] = "/api/resources/{id}/versions",
        [ROUTE_RESOURCE_LINEAGE] = "/api/resources/{id}/lineage",
        [ROUTE_OBJECTS] = "/api/objects",
        [ROUTE_OBJECT] = "/api/objects/{hash}",
        [ROUTE_JOBS] = "/api/jobs",
        [ROUTE_JOB] = "/api/jobs/{id}",
        [ROUTE_JOB_EVENTS] = "/api/jobs/{id}/events",
        [ROUTE_METRICS] = "/metrics",
    };
    size_t i = (size_t)rt->kind;

    if (rt->kind == ROUTE_OP && rt->op) {
        snprintf(buf, size, "/api/%s", rt->op->name);
        for (char *dot = strchr(buf, '.'); dot; dot = strchr(dot, '.'))
            *dot = '/';
        return;
    }
    snprintf(buf, size, "%s",
             i < sizeof fixed / sizeof fixed[0] && fixed[i] ? fixed[i] : "unmatched");
}
