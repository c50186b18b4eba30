/*
 * ctx.c - the context handlers run against: config, stores, principal and
 * its role, progress and the streams behind the path "-".
 *
 * Stores open lazily, so `disco version` or a usage error never touches
 * the data folder. A server shares one open tsdb among its contexts
 * (disco_ctx_share_tsdb), and open vector collections (a disco_vec_pool,
 * vecpool.c): both allow one handle per folder.
 */
#include "ops_int.h"

#include "disco/fileio.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct disco_ctx {
    disco_config cfg;
    char principal[128];
    disco_role role;
    disco_progress progress;
    int has_progress;
    int in_fd, out_fd, wrote_output;
    disco_catalog *catalog;
    disco_objects *objects;
    disco_tsdb *tsdb;
    int tsdb_shared;          /* tsdb is borrowed (disco_ctx_share_tsdb) */
    disco_vec_pool *vec_pool; /* borrowed; NULL: collections opened per op */
};

int disco_ctx_new(const disco_config *cfg, disco_ctx **out, disco_status *st)
{
    disco_ctx *ctx = calloc(1, sizeof *ctx);

    if (!ctx)
        return disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory");
    ctx->cfg = *cfg;
    snprintf(ctx->principal, sizeof ctx->principal, "%s", cfg->user);
    ctx->in_fd = -1;
    ctx->out_fd = -1;
    *out = ctx;
    return DISCO_OK;
}

void disco_ctx_free(disco_ctx *ctx)
{
    if (!ctx)
        return;
    disco_catalog_close(ctx->catalog);
    disco_objects_close(ctx->objects);
    if (!ctx->tsdb_shared)
        disco_tsdb_close(ctx->tsdb);
    free(ctx);
}

const disco_config *disco_ctx_config(const disco_ctx *ctx)
{
    return &ctx->cfg;
}

const char *disco_ctx_principal(const disco_ctx *ctx)
{
    return ctx->principal;
}

void disco_ctx_set_principal(disco_ctx *ctx, const char *principal)
{
    snprintf(ctx->principal, sizeof ctx->principal, "%s", principal ? principal : "");
}

void disco_ctx_set_role(disco_ctx *ctx, disco_role role)
{
    ctx->role = role;
}

disco_role disco_ctx_role(const disco_ctx *ctx)
{
    return ctx->role;
}

void disco_ctx_set_progress(disco_ctx *ctx, const disco_progress *p)
{
    ctx->has_progress = p != NULL;
    if (p)
        ctx->progress = *p;
}

const disco_progress *disco_ctx_progress(const disco_ctx *ctx)
{
    return ctx->has_progress ? &ctx->progress : NULL;
}

void disco_ctx_set_streams(disco_ctx *ctx, int in_fd, int out_fd)
{
    ctx->in_fd = in_fd;
    ctx->out_fd = out_fd;
}

int disco_ctx_in_fd(const disco_ctx *ctx)
{
    return ctx->in_fd;
}

int disco_ctx_out_fd(disco_ctx *ctx)
{
    if (ctx->out_fd >= 0)
        ctx->wrote_output = 1;
    return ctx->out_fd;
}

int disco_ctx_wrote_output(const disco_ctx *ctx)
{
    return ctx->wrote_output;
}

/* Creates the data folder and any missing parents (like mkdir -p). */
static int ensure_data_dir(const disco_ctx *ctx, disco_status *st)
{
    int e = disco_mkdirs(ctx->cfg.data_dir);

    if (e == ENOTDIR)
        return disco_status_set(st, DISCO_ERR_INVAL, "data_dir",
                                "data folder %s exists and is not a folder", ctx->cfg.data_dir);
    if (e)
        return disco_status_errno(st, e, "data_dir", "cannot create data folder %s",
                                  ctx->cfg.data_dir);
    return DISCO_OK;
}

int disco_ctx_catalog(disco_ctx *ctx, disco_catalog **out, disco_status *st)
{
    char path[DISCO_CONFIG_STR_MAX + 32];
    int rc;

    if (!ctx->catalog) {
        if (ctx->cfg.postgres_uri[0]) {
            rc = disco_catalog_open(ctx->cfg.postgres_uri, &ctx->catalog, st);
        } else {
            rc = ensure_data_dir(ctx, st);
            snprintf(path, sizeof path, "%s/catalog.db", ctx->cfg.data_dir);
            if (rc == DISCO_OK)
                rc = disco_catalog_open(path, &ctx->catalog, st);
        }
        if (rc != DISCO_OK)
            return rc;
    }
    *out = ctx->catalog;
    return DISCO_OK;
}

int disco_ctx_objects(disco_ctx *ctx, disco_objects **out, disco_status *st)
{
    char path[DISCO_CONFIG_STR_MAX + 32];
    int rc;

    if (!ctx->objects) {
        rc = ensure_data_dir(ctx, st);
        snprintf(path, sizeof path, "%s/objects", ctx->cfg.data_dir);
        if (rc == DISCO_OK)
            rc = disco_objects_open(path, &ctx->objects, st);
        if (rc != DISCO_OK)
            return rc;
    }
    *out = ctx->objects;
    return DISCO_OK;
}

int disco_ctx_tsdb(disco_ctx *ctx, disco_tsdb **out, disco_status *st)
{
    char path[DISCO_CONFIG_STR_MAX + 32];
    disco_tsdb_config tc = disco_tsdb_config_default();
    int rc;

    if (!ctx->tsdb) {
        rc = ensure_data_dir(ctx, st);
        snprintf(path, sizeof path, "%s/tsdb", ctx->cfg.data_dir);
        tc.fsync = (disco_tsdb_fsync)ctx->cfg.tsdb_fsync;
        tc.retention_ms = ctx->cfg.tsdb_retention_ms;
        tc.ooo_window_ms = ctx->cfg.tsdb_ooo_window_ms;
        if (rc == DISCO_OK)
            rc = disco_tsdb_open(path, &tc, &ctx->tsdb, st);
        if (rc != DISCO_OK)
            return rc;
    }
    *out = ctx->tsdb;
    return DISCO_OK;
}

void disco_ctx_share_tsdb(disco_ctx *ctx, disco_tsdb *db)
{
    if (!ctx->tsdb_shared)
        disco_tsdb_close(ctx->tsdb);
    ctx->tsdb = db;
    ctx->tsdb_shared = db != NULL;
}

void disco_ctx_share_vectors(disco_ctx *ctx, disco_vec_pool *pool)
{
    ctx->vec_pool = pool;
}

disco_vec_pool *disco__ctx_vec_pool(const disco_ctx *ctx)
{
    return ctx->vec_pool;
}

int disco__ctx_data_path(disco_ctx *ctx, const char *sub, char *buf, size_t size, disco_status *st)
{
    int rc = ensure_data_dir(ctx, st);

    if (rc != DISCO_OK)
        return rc;
    if ((size_t)snprintf(buf, size, "%s/%s", ctx->cfg.data_dir, sub) >= size)
        return disco_status_set(st, DISCO_ERR_INVAL, "data_dir", "data folder path too long");
    if (mkdir(buf, 0755) != 0 && errno != EEXIST)
        return disco_status_errno(st, errno, "data_dir", "cannot create %s", buf);
    return DISCO_OK;
}
