/*
 * http.h - the HTTP server: the REST API over the operation table.
 *
 * The second adapter over ops.h (the CLI is the first). Routes are made
 * from the table, so every operation is reachable without being listed:
 *
 *   POST   /api/<group>/<verb>          any op ("resource.create"); body: JSON
 *   POST   /api/<op>                    one-word ops ("version")
 *                                       object of params; 200 with its result
 *   POST   /api/analyze/time-series     ts.analyze
 *   POST   /api/search/similar          vec.search
 *   GET    /api/resources               resource.list (params as query args)
 *   GET    /api/resources/{id}          resource.get (?version=N); ETag "v<N>"
 *   PATCH  /api/resources/{id}          resource.update from a JSON merge patch
 *                                       of the resource (If-Match: "v<N>")
 *   DELETE /api/resources/{id}          resource.delete
 *   GET    /api/resources/{id}/versions resource.history
 *   GET    /api/resources/{id}/lineage  resource.lineage (?direction=&depth=)
 *   PUT    /api/objects                 streamed upload; 201 {hash, size}
 *   GET    /api/objects/{hash}          streamed download; ETag, Range
 *   GET    /api/jobs                    the caller's jobs, newest first
 *   GET    /api/jobs/{id}               a job: state, progress, result or error
 *   DELETE /api/jobs/{id}               cancels it (409 once finished)
 *   GET    /api/jobs/{id}/events        its events as server-sent events
 *   GET    /api/monitor/alerts          monitor.alerts (params as query args)
 *   GET    /healthz, /readyz            liveness; readiness (stores open)
 *   GET    /metrics                     Prometheus text format
 *   GET    /                            index page of the API groups and ops
 *   GET    /ui/...                      files under static_dir (when set)
 *
 * Jobs: an op flagged DISCO_OP_LONG is validated, then queued on the job
 * manager (jobs.h; `max_long_ops` workers) and answered at once with 202
 * {"job", "status_url", "events_url"} and Location: /api/jobs/{id}. A
 * client that would rather wait sends `Prefer: wait=N` (1..60 seconds):
 * the answer is then the op's own (200 with the result, or its error)
 * when the job ends within N seconds, with Preference-Applied, else the
 * 202 above. The event stream is text/event-stream: `id: <seq>`, `event:
 * state|progress`, `data: <JSON>` (disco_job_event_to_json), a `: ping`
 * comment every 15 s while nothing happens; it ends after the final
 * state's event and resumes after Last-Event-ID (or ?after=N).
 *
 * Every error is JSON, {"error": {"code", "message", "field"?}}, with the
 * status taken from the disco_err code: INVAL/USAGE 400, PERM 403 (401
 * without a valid token), NOTFOUND 404, EXISTS/CONFLICT/CANCELLED 409,
 * LIMIT 413 (body too large) or 429 (over the rate limit), UNSUPPORTED
 * 415, BUSY 503 (job queue full), TIMEOUT 504, others 500; 429 and 503
 * carry Retry-After. Bad input is always a 4xx: an unknown route 404, a
 * wrong method 405 with Allow.
 *
 * Files: parameters of type DISCO_P_PATH name files on the server, and a
 * JSON parameter given as "@FILE" reads one; over HTTP both are refused
 * (400) unless allow_local_paths is set, which is only for a server whose
 * clients may read and write its files anyway. Content goes up with
 * PUT /api/objects, and results come back through GET /api/objects/{hash}.
 *
 * Authentication: `authenticate` checks the bearer token of every /api/
 * request (the OpenAPI document excepted), and of /metrics from clients
 * that are not on a loopback address, and names the principal (owner of
 * what it creates) and role (a disco_role; disco_access_authenticate() in
 * access.h is such a hook). Each op needs the role access.h gives it
 * (uploads as object.put, downloads as object.get), and the op itself
 * applies the ACLs for that principal and role. NULL means no tokens:
 * every request acts as the configured user with full access, and the
 * server then refuses to listen anywhere but on a loopback address.
 * With `rate` > 0, each principal may make `rate` /api/ requests per
 * second, in bursts of `burst` (ratelimit.h); beyond, 429 with Retry-After.
 *
 * Monitoring: /metrics counts requests by route pattern, method and
 * status, their latency by route, jobs (queued, running, durations by op
 * and state) and the stores' sizes (read at most every 5 s). With
 * `monitor_interval_s` > 0 the server also writes its own figures to the
 * tsdb every that many seconds - server.requests, server.errors,
 * server.latency_p95_ms, server.jobs_queued, server.jobs_running, tagged
 * instance=<host:port> - and runs the alert rules (monitor.h) over them,
 * adding at start an anomaly rule on its latency when none watches it.
 *
 * Threads: requests are served by a pool of `threads` threads (epoll);
 * each request runs against its own disco_ctx, so the catalog is opened
 * per request (SQLite in WAL mode: one connection per context). The tsdb
 * allows one handle per folder, so the server opens it once at start (or,
 * if another process holds it then, as soon as it is free) and shares it
 * with every request and job (disco_ctx_share_tsdb()); vector collections
 * likewise stay open from their first use (disco_vec_pool). While the
 * server runs, other processes cannot open that tsdb or those collections.
 * Starting a server ignores SIGPIPE for the whole process.
 */
#ifndef DISCO_HTTP_H
#define DISCO_HTTP_H

#include "disco/config.h"
#include "disco/err.h"

#include <stddef.h>
#include <stdint.h>

/*
 * Checks the token of a request: `bearer` is the text after "Bearer " (""
 * when the request had none). On success writes the principal (at most
 * n - 1 bytes) and a disco_role to *role and returns DISCO_OK; PERM or INVAL
 * reject the token (401), other errors are the server's (5xx).
 */
typedef int (*disco_http_auth_fn)(void *user, const char *bearer, char *principal, size_t n,
                                  int *role, disco_status *st);

typedef struct disco_http_config {
    char host[256];         /* address to listen on (default "127.0.0.1") */
    int port;               /* default 8080; 0 picks a free port (disco_http_port) */
    int threads;            /* request threads; 0: the config's threads, else one per CPU */
    size_t max_body;        /* largest JSON request body in bytes (default 1 MiB) */
    uint64_t max_upload;    /* largest object upload in bytes (default 64 MiB) */
    int request_timeout_s;  /* a connection idle this long is closed (default 60) */
    int max_long_ops;       /* job workers (long ops at once); 0: threads - 1 (>= 1) */
    int max_jobs_queued;    /* jobs waiting at most, else 503 (default 64) */
    double rate;            /* /api/ requests per second per principal; 0: no limit (default) */
    double burst;           /* bucket of the rate limit; 0: 2 x rate (at least 1) */
    int monitor_interval_s; /* self-monitoring period; 0: off (default) */
    int allow_local_paths;  /* accept server file paths in parameters (default 0) */
    char static_dir[DISCO_CONFIG_STR_MAX]; /* served under /ui/; "" for none */
    disco_http_auth_fn authenticate;       /* NULL: no tokens, loopback only */
    void *auth_user;                       /* passed to authenticate */
} disco_http_config;

/* The defaults above. */
disco_http_config disco_http_config_default(void);

typedef struct disco_http disco_http;

/*
 * Listens on hc->host:hc->port and starts serving the stores of `cfg`
 * (both copied), with its job workers and, when asked, its monitor.
 * Errors: PERM when the address is not loopback and no authenticate hook
 * is set ("refusing to listen on 0.0.0.0 without API tokens"); INVAL for a
 * bad host, port or limit; IO (with the system's reason) when the address
 * cannot be bound; INTERNAL when threads cannot start; NOMEM. A tsdb that
 * cannot be opened at start is not an error (see Threads).
 */
int disco_http_start(const disco_config *cfg, const disco_http_config *hc, disco_http **out,
                     disco_status *st);

/* The port the server listens on (the chosen one when started with port 0). */
int disco_http_port(const disco_http *srv);

/* "http://127.0.0.1:8080" (brackets around IPv6 addresses); borrowed. */
const char *disco_http_url(const disco_http *srv);

/*
 * Asks disco_http_wait() to return. Async-signal-safe: a SIGINT/SIGTERM
 * handler may call it.
 */
void disco_http_interrupt(disco_http *srv);

/* Blocks until disco_http_interrupt() is called. */
void disco_http_wait(disco_http *srv);

/*
 * Stops listening: queued jobs are cancelled, running ones asked to stop
 * (and waited for), event streams end, requests in progress finish; then
 * frees the server. NULL is a no-op.
 */
void disco_http_stop(disco_http *srv);

#endif
