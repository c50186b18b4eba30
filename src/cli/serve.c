/*
 * serve.c - `disco serve`: runs the HTTP API (http.h) over the data folder
 * until SIGINT or SIGTERM.
 *
 * Authentication follows the catalog: when it holds a live API token,
 * every /api/ request needs one (disco_access_authenticate); when it holds
 * none, the server acts for the configured user and listens only on
 * loopback. Tokens made while it runs count from its next start.
 *
 * While it runs, <data>/serve.json says which process serves the folder
 * and where (serve_info.c), so a command that finds a store BUSY can point
 * at the API instead; a clean stop removes it.
 */
#include "cli_int.h"

#include "disco/access.h"
#include "disco/http.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static disco_http *g_server; /* for the signal handler */

static void on_stop_signal(int sig)
{
    (void)sig;
    disco_http_interrupt(g_server);
}

void cli_help_serve(FILE *out)
{
    fprintf(out,
            "Usage: disco serve [options]\n\n"
            "Runs the HTTP API over the data folder until interrupted (Ctrl-C).\n\n"
            "Options:\n"
            "  --host <address>       address to listen on (default 127.0.0.1; without API\n"
            "                         tokens only loopback addresses are accepted)\n"
            "  --port <n>             port (default 8080; 0 picks a free one)\n"
            "  --threads <n>          request threads (default: one per CPU)\n"
            "  --max-body <bytes>     largest JSON request body (default 1048576)\n"
            "  --max-upload <bytes>   largest object upload or op input body (default 67108864)\n"
            "  --timeout <seconds>    close connections idle this long (default 60)\n"
            "  --static-dir <dir>     serve this folder under /ui/\n"
            "  --workers <n>          long operations (jobs) at once (default: threads - 1)\n"
            "  --rate <n>             /api/ requests per second per principal (default 50;\n"
            "                         0: no limit); beyond, 429 with Retry-After\n"
            "  --burst <n>            requests allowed at once above the rate (default 100)\n"
            "  --monitor-interval <s> record the server's own metrics in the time-series\n"
            "                         store and check alert rules this often (default 10;\n"
            "                         0: off)\n"
            "  --allow-local-paths    let requests name files on this machine (only for\n"
            "                         clients that may read and write them anyway)\n\n"
            "Auth: when the data folder has API tokens (disco token create), every /api/\n"
            "request needs 'Authorization: Bearer <token>'; without tokens the server only\n"
            "listens on loopback and acts as the configured user.\n"
            "Long operations answer 202 with a job (GET /api/jobs/{id}, its events as SSE\n"
            "at /api/jobs/{id}/events); send 'Prefer: wait=<seconds>' to wait for the result.\n"
            "While serving, the server holds the time-series store and the vector\n"
            "collections it opened: use the API for ts and vec ops (<data>/serve.json\n"
            "names the server's pid and URL while it runs).\n"
            "Routes: GET / lists them; every operation is POST /api/<group>/<verb>;\n"
            "Prometheus metrics at GET /metrics.\n");
}

static int parse_num(const char *opt, const char *text, long long min, long long max,
                     long long *out)
{
    char *end;

    errno = 0;
    *out = strtoll(text, &end, 10);
    if (!*text || *end || errno || *out < min || *out > max) {
        fprintf(stderr, "disco: error: %s must be an integer in %lld..%lld, got \"%s\"\n", opt, min,
                max, text);
        return -1;
    }
    return 0;
}

/* Applies one "--name value" option to hc; -1 on a usage error. */
static int apply_option(const char *name, const char *value, disco_http_config *hc)
{
    long long v = 0;
    int rc = 0;

    if (strcmp(name, "--host") == 0)
        snprintf(hc->host, sizeof hc->host, "%s", value);
    else if (strcmp(name, "--static-dir") == 0)
        snprintf(hc->static_dir, sizeof hc->static_dir, "%s", value);
    else if (strcmp(name, "--port") == 0 && (rc = parse_num(name, value, 0, 65535, &v)) == 0)
        hc->port = (int)v;
    else if (strcmp(name, "--threads") == 0 && (rc = parse_num(name, value, 0, 256, &v)) == 0)
        hc->threads = (int)v;
    else if (strcmp(name, "--max-body") == 0 &&
             (rc = parse_num(name, value, 1, (long long)1 << 40, &v)) == 0)
        hc->max_body = (size_t)v;
    else if (strcmp(name, "--max-upload") == 0 &&
             (rc = parse_num(name, value, 1, (long long)1 << 50, &v)) == 0)
        hc->max_upload = (uint64_t)v;
    else if (strcmp(name, "--timeout") == 0 && (rc = parse_num(name, value, 0, 86400, &v)) == 0)
        hc->request_timeout_s = (int)v;
    else if (strcmp(name, "--workers") == 0 && (rc = parse_num(name, value, 1, 256, &v)) == 0)
        hc->max_long_ops = (int)v;
    else if (strcmp(name, "--rate") == 0 && (rc = parse_num(name, value, 0, 1000000, &v)) == 0)
        hc->rate = (double)v;
    else if (strcmp(name, "--burst") == 0 && (rc = parse_num(name, value, 1, 1000000, &v)) == 0)
        hc->burst = (double)v;
    else if (strcmp(name, "--monitor-interval") == 0 &&
             (rc = parse_num(name, value, 0, 86400, &v)) == 0)
        hc->monitor_interval_s = (int)v;
    return rc;
}

static int is_valued(const char *name)
{
    static const char *const names[] = {
        "--host",       "--port",    "--threads", "--max-body", "--max-upload",       "--timeout",
        "--static-dir", "--workers", "--rate",    "--burst",    "--monitor-interval", NULL};
    for (int i = 0; names[i]; i++)
        if (strcmp(name, names[i]) == 0)
            return 1;
    return 0;
}

static int parse_serve_args(int argc, char **argv, disco_http_config *hc)
{
    for (int i = 0; i < argc; i++) {
        char name[64];
        const char *eq = strchr(argv[i], '='), *value;
        size_t n = eq ? (size_t)(eq - argv[i]) : strlen(argv[i]);

        snprintf(name, sizeof name, "%.*s", (int)n, argv[i]);
        if (strcmp(name, "--allow-local-paths") == 0 && !eq) {
            hc->allow_local_paths = 1;
            continue;
        }
        if (!is_valued(name)) {
            fprintf(stderr, "disco: error: unknown option %s (see: disco serve --help)\n", name);
            return -1;
        }
        value = eq ? eq + 1 : i + 1 < argc ? argv[++i] : NULL;
        if (!value) {
            fprintf(stderr, "disco: error: option %s needs a value\n", name);
            return -1;
        }
        if (apply_option(name, value, hc) != 0)
            return -1;
    }
    return 0;
}

/*
 * Turns authentication on when the catalog holds a live API token. -1
 * (printed) when the tokens cannot be read: the server must not guess.
 */
static int decide_auth(const disco_config *cfg, disco_http_config *hc, disco_access_auth **auth,
                       size_t *tokens)
{
    disco_apitoken_list l = {0};
    disco_status st = {0};
    disco_catalog *cat;
    disco_ctx *ctx = NULL;
    int rc = disco_ctx_new(cfg, &ctx, &st);

    if (rc == DISCO_OK)
        rc = disco_ctx_catalog(ctx, &cat, &st);
    if (rc == DISCO_OK)
        rc = disco_apitoken_list_all(cat, 0, &l, &st);
    *tokens = l.count;
    disco_apitoken_list_release(&l);
    disco_ctx_free(ctx);
    if (rc == DISCO_OK && *tokens > 0 && (rc = disco_access_auth_new(cfg, auth, &st)) == DISCO_OK) {
        hc->authenticate = disco_access_authenticate;
        hc->auth_user = *auth;
    }
    if (rc != DISCO_OK) {
        fprintf(stderr, "disco: error: cannot read the API tokens: %s\n",
                disco_status_message(&st));
        return -1;
    }
    return 0;
}

static void print_banner(const disco_http *srv, const disco_config *cfg,
                         const disco_http_config *hc, size_t tokens)
{
    printf("disco: serving %s (GET / lists the API)\n", disco_http_url(srv));
    printf("disco: data folder %s\n", cfg->data_dir);
    if (hc->authenticate)
        printf("disco: auth on: %zu API token%s; /api/ needs 'Authorization: Bearer <token>'\n",
               tokens, tokens == 1 ? "" : "s");
    else
        printf("disco: auth off: no API tokens, so only loopback clients can connect and act "
               "as user '%s'\n"
               "disco: to turn auth on: disco token create --name me --role admin, then restart\n",
               cfg->user);
    if (hc->rate > 0)
        printf("disco: rate limit: %g requests/s per principal, bursts of %g\n", hc->rate,
               hc->burst);
    if (hc->monitor_interval_s > 0)
        printf("disco: self-monitoring every %d s (server.* series; alerts at GET "
               "/api/monitor/alerts)\n",
               hc->monitor_interval_s);
    if (hc->allow_local_paths)
        printf("disco: requests may name files on this machine (--allow-local-paths)\n");
    printf("disco: press Ctrl-C to stop\n");
    fflush(stdout);
}

int cli_serve(const disco_config *cfg, int argc, char **argv)
{
    disco_http_config hc = disco_http_config_default();
    disco_access_auth *auth = NULL;
    disco_status st = {0};
    struct sigaction sa;
    disco_http *srv;
    size_t tokens = 0;
    int rc, lock = -1;

    hc.rate = 50;
    hc.burst = 100;
    hc.monitor_interval_s = 10;
    if (parse_serve_args(argc, argv, &hc) != 0)
        return CLI_USAGE;
    if (decide_auth(cfg, &hc, &auth, &tokens) != 0)
        return CLI_FAIL;
    if (cli_serve_lock(cfg->data_dir, &lock, &st) != DISCO_OK) { /* before any store opens */
        fprintf(stderr, "disco: error: %s\n", disco_status_message(&st));
        disco_access_auth_free(auth);
        return CLI_FAIL;
    }
    rc = disco_http_start(cfg, &hc, &srv, &st);
    if (rc != DISCO_OK) {
        fprintf(stderr, "disco: error: %s\n", disco_status_message(&st));
        disco_access_auth_free(auth);
        close(lock);
        return rc == DISCO_ERR_INVAL ? CLI_USAGE : CLI_FAIL;
    }
    g_server = srv;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    if (cli_serve_info_write(cfg->data_dir, disco_http_url(srv), &st) != DISCO_OK)
        fprintf(stderr, "disco: warning: %s (other commands cannot name this server)\n",
                disco_status_message(&st));
    print_banner(srv, cfg, &hc, tokens);
    disco_http_wait(srv);
    printf("disco: stopping\n");
    fflush(stdout);
    disco_http_stop(srv);
    cli_serve_info_remove(cfg->data_dir);
    close(lock); /* after serve.json is gone: the next server may start */
    g_server = NULL;
    disco_access_auth_free(auth);
    return CLI_OK;
}
