/*
 * services.c - what runs beside the requests: the rate limiter, the
 * metrics registry, the tsdb every context shares, the job workers and the
 * self-monitor; their start and their stop.
 *
 *   start   limiter -> metrics -> tsdb (best effort) -> jobs -> monitor
 *           (then the daemon starts taking requests)
 *   stop    monitor -> jobs shut down: queued ones cancelled, running ones
 *           asked to stop, waits on events answered -> watch threads end,
 *           each resuming its connection -> (the daemon stops) -> jobs,
 *           metrics, limiter freed -> tsdb closed
 *
 * The tsdb allows one open handle per folder (a LOCK file), and contexts
 * open stores on first use, so two requests at once would find it BUSY.
 * The server opens it once and hands it to every context: disco_tsdb is
 * thread-safe (tsdb.h). When another process holds it at start, a later
 * request or monitor tick tries again, at most every TSDB_RETRY_MS. Vector
 * collections lock likewise; a disco_vec_pool keeps each open once.
 */
#include "http_int.h"

#include "disco/log.h"
#include "disco/timeutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TSDB_RETRY_MS 5000

int disco__http_err_code(const char *name)
{
    for (int rc = -1; rc >= DISCO_ERR_INTERNAL; rc--)
        if (name && strcmp(name, disco_errname(rc)) == 0)
            return rc;
    return DISCO_ERR_INTERNAL;
}

/* ---- the shared tsdb ---------------------------------------------------- */

static int open_tsdb(disco_http *srv, disco_status *st)
{
    char path[DISCO_CONFIG_STR_MAX + 16];
    disco_tsdb_config tc = disco_tsdb_config_default();
    disco_tsdb *db = NULL;
    int rc;

    snprintf(path, sizeof path, "%s/tsdb", srv->cfg.data_dir);
    tc.fsync = (disco_tsdb_fsync)srv->cfg.tsdb_fsync;
    tc.retention_ms = srv->cfg.tsdb_retention_ms;
    tc.ooo_window_ms = srv->cfg.tsdb_ooo_window_ms;
    rc = disco_tsdb_open(path, &tc, &db, st);
    if (rc == DISCO_OK)
        atomic_store(&srv->tsdb, db);
    return rc;
}

disco_tsdb *disco__http_tsdb(disco_http *srv)
{
    disco_tsdb *db = atomic_load(&srv->tsdb);
    disco_status st = {0};
    int64_t now;

    if (db || !srv->locks_ready)
        return db;
    pthread_mutex_lock(&srv->tsdb_mu);
    now = (int64_t)(disco_time_mono_ns() / 1000000u);
    if (!atomic_load(&srv->tsdb) && now - srv->tsdb_tried_ms >= TSDB_RETRY_MS) {
        srv->tsdb_tried_ms = now;
        if (open_tsdb(srv, &st) == DISCO_OK)
            DISCO_LOG_INFO("http: time-series store open, shared by every request");
    }
    db = atomic_load(&srv->tsdb);
    pthread_mutex_unlock(&srv->tsdb_mu);
    return db;
}

void disco__http_share(disco_http *srv, disco_ctx *ctx)
{
    disco_ctx_share_tsdb(ctx, disco__http_tsdb(srv));
    disco_ctx_share_vectors(ctx, srv->vecs);
}

/* ---- jobs ----------------------------------------------------------------- */

/* Each job's context shares the server's stores (jobs.h setup hook). */
static int job_setup(void *user, disco_ctx *ctx, disco_status *st)
{
    (void)st;
    disco__http_share(user, ctx);
    return DISCO_OK;
}

static int start_jobs(disco_http *srv, disco_status *st)
{
    disco_jobs_config jc = disco_jobs_config_default();

    jc.workers = (unsigned)srv->max_long_ops;
    if (srv->hc.max_jobs_queued > 0)
        jc.max_queued = (size_t)srv->hc.max_jobs_queued;
    jc.setup = job_setup;
    jc.setup_user = srv;
    jc.on_done = disco__http_metrics_job_done;
    jc.done_user = srv;
    jc.on_result = disco__http_metrics_op_result;
    jc.result_user = srv;
    jc.on_output = disco__http_output_keep; /* what ops write to "-" becomes an object */
    jc.output_user = srv;
    return disco_jobs_new(&srv->cfg, &jc, &srv->jobs, st);
}

/* ---- start and stop ------------------------------------------------------- */

static int start_limiter(disco_http *srv, disco_status *st)
{
    disco_ratelimit_config rc = disco_ratelimit_config_default();

    if (srv->hc.rate <= 0)
        return DISCO_OK;
    if (srv->hc.burst <= 0)
        srv->hc.burst = srv->hc.rate * 2 < 1 ? 1 : srv->hc.rate * 2;
    rc.rate = srv->hc.rate;
    rc.burst = srv->hc.burst;
    return disco_ratelimit_new(&rc, &srv->rl, st);
}

static int init_locks(disco_http *srv, disco_status *st)
{
    if (pthread_mutex_init(&srv->tsdb_mu, NULL) != 0)
        return disco_status_set(st, DISCO_ERR_INTERNAL, NULL, "cannot make a mutex");
    if (pthread_mutex_init(&srv->watch_mu, NULL) != 0) {
        pthread_mutex_destroy(&srv->tsdb_mu);
        return disco_status_set(st, DISCO_ERR_INTERNAL, NULL, "cannot make a mutex");
    }
    if (pthread_cond_init(&srv->watch_cv, NULL) != 0) {
        pthread_mutex_destroy(&srv->watch_mu);
        pthread_mutex_destroy(&srv->tsdb_mu);
        return disco_status_set(st, DISCO_ERR_INTERNAL, NULL, "cannot make a condition");
    }
    srv->locks_ready = 1;
    return DISCO_OK;
}

int disco__http_services_start(disco_http *srv, disco_status *st)
{
    disco_status tst = {0};
    int rc = init_locks(srv, st);

    if (rc == DISCO_OK)
        rc = start_limiter(srv, st);
    if (rc == DISCO_OK)
        rc = disco__http_metrics_new(srv, &srv->metrics, st);
    if (rc == DISCO_OK)
        rc = disco_vec_pool_new(&srv->vecs, st);
    if (rc == DISCO_OK && open_tsdb(srv, &tst) != DISCO_OK) {
        srv->tsdb_tried_ms = (int64_t)(disco_time_mono_ns() / 1000000u);
        DISCO_LOG_WARN("http: time-series store not open yet (%s); ts ops will retry",
                       disco_status_message(&tst));
    }
    if (rc == DISCO_OK)
        rc = start_jobs(srv, st);
    if (rc == DISCO_OK && srv->hc.monitor_interval_s > 0)
        rc = disco__http_monitor_start(srv, st);
    return rc;
}

void disco__http_services_quiesce(disco_http *srv)
{
    disco__http_monitor_stop(srv);
    if (srv->jobs)
        disco_jobs_shutdown(srv->jobs);
    if (srv->locks_ready)
        disco__http_watchers_drain(srv);
}

void disco__http_services_free(disco_http *srv)
{
    disco_jobs_free(srv->jobs);
    srv->jobs = NULL;
    disco__http_metrics_free(srv->metrics);
    srv->metrics = NULL;
    disco_ratelimit_free(srv->rl);
    srv->rl = NULL;
    disco_tsdb_close(atomic_load(&srv->tsdb));
    atomic_store(&srv->tsdb, NULL);
    disco_vec_pool_free(srv->vecs);
    srv->vecs = NULL;
    if (srv->locks_ready) {
        pthread_cond_destroy(&srv->watch_cv);
        pthread_mutex_destroy(&srv->watch_mu);
        pthread_mutex_destroy(&srv->tsdb_mu);
        srv->locks_ready = 0;
    }
}
