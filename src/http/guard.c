/*
 * guard.c - who is asking, and whether they may ask now: the bearer token
 * (when tokens are on), the loopback rule of /metrics, and the rate limit
 * per principal.
 *
 *   route needs a token?   /api/... (not the OpenAPI document); /metrics
 *                          from a client that is not on loopback
 *     yes: Authorization: Bearer <secret> -> hook -> principal, role
 *          missing/invalid -> 401 + WWW-Authenticate: Bearer
 *   /api/ and a rate limit -> take one from the principal's bucket
 *          empty -> 429 + Retry-After
 */
#include "http_int.h"

#include "disco/access.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

int disco__http_is_loopback(const struct sockaddr *sa)
{
    if (!sa)
        return 0;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
        return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
    }
    if (sa->sa_family == AF_INET6) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
        static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        return IN6_IS_ADDR_LOOPBACK(a) ||
               (memcmp(a->s6_addr, mapped, 12) == 0 && a->s6_addr[12] == 127);
    }
    return 0;
}

static int client_is_loopback(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);

    return ci && disco__http_is_loopback(ci->client_addr);
}

static const char *bearer_of(struct MHD_Connection *c)
{
    const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);

    if (!h || strncasecmp(h, "Bearer ", 7) != 0)
        return "";
    for (h += 7; *h == ' '; h++)
        ;
    return h;
}

/* 1 when this request must carry a token. */
static int needs_token(const http_req *rq)
{
    if (!rq->srv->hc.authenticate)
        return 0;
    if (rq->rt.kind == ROUTE_METRICS)
        return !client_is_loopback(rq->conn);
    return rq->rt.is_api;
}

/* Checks the bearer token; replies 401/403/5xx and returns -1 on failure. */
static int authenticate(http_req *rq, http_reply *r)
{
    const disco_http_config *hc = &rq->srv->hc;
    disco_status st = {0};
    const char *bearer = bearer_of(rq->conn);
    int rc;

    if (!*bearer) {
        disco__http_fail(r, MHD_HTTP_UNAUTHORIZED, DISCO_ERR_PERM, "token",
                         "this server needs an API token: send 'Authorization: Bearer <token>'");
        r->www_auth = "Bearer realm=\"disco\"";
        return -1;
    }
    rc = hc->authenticate(hc->auth_user, bearer, rq->principal, sizeof rq->principal, &rq->role,
                          &st);
    if (rc == DISCO_ERR_PERM || rc == DISCO_ERR_INVAL) {
        disco__http_error(r, rc, &st);
        r->status = MHD_HTTP_UNAUTHORIZED;
        r->www_auth = "Bearer realm=\"disco\", error=\"invalid_token\"";
        return -1;
    }
    if (rc == DISCO_OK && rq->role < DISCO_ROLE_READER)
        rc = disco_status_set(&st, DISCO_ERR_PERM, "token", "the token has no role");
    if (rc != DISCO_OK) {
        disco__http_error(r, rc, &st);
        return -1;
    }
    return 0;
}

/* Takes one request from the principal's bucket; a 429 reply and -1 when it is empty. */
static int within_rate(http_req *rq, http_reply *r)
{
    int64_t wait_s = 1;
    int rc;

    if (!rq->srv->rl || !rq->rt.is_api || !rq->principal[0])
        return 0;
    rc = disco_ratelimit_take(rq->srv->rl, rq->principal, 1, &wait_s);
    if (rc != DISCO_ERR_LIMIT)
        return 0; /* INVAL (a key too long) cannot happen: principals are short */
    disco__http_fail(r, MHD_HTTP_TOO_MANY_REQUESTS, DISCO_ERR_LIMIT, NULL,
                     "too many requests from '%s': at most %g per second (bursts of %g); retry "
                     "in %lld s",
                     rq->principal, rq->srv->hc.rate, rq->srv->hc.burst, (long long)wait_s);
    r->retry_after = wait_s > 0 ? (int)wait_s : 1;
    return -1;
}

int disco__http_guard(http_req *rq, http_reply *r)
{
    snprintf(rq->principal, sizeof rq->principal, "%s", rq->srv->cfg.user);
    rq->role = DISCO_ROLE_NONE;
    if (needs_token(rq) && authenticate(rq, r) != 0)
        return -1;
    return within_rate(rq, r);
}
