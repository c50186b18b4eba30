/*
 * outputs.c - the path "-" as an op's output over HTTP: what the op writes
 * is kept as an object of the store, and its result says where.
 *
 *   POST /api/ts/export {"metric": "loss"}        output "-" (its default)
 *     validated    the op's STREAM_OUT param is "-"
 *     open         an unlinked file under <data>/tmp (streams.c) is the
 *                  context's out_fd: the job's (it closes it when final),
 *                  or the inline run's until the request ends
 *     op           writes to out_fd as it would to standard output
 *     succeeded    the file -> disco_objects_put_fd(); the upload recorded
 *                  for the principal (access.h: it may then GET it); the
 *                  result gets "output": {"hash", "size", "media_type",
 *                  "url": "/api/objects/<hash>"}
 *     failed or    nothing is stored; the file vanishes with its descriptor
 *     cancelled
 *
 * The op handlers know nothing of this: they write to out_fd as they do in
 * the CLI. The store reads the file from its start, so an op that wrote a
 * range (object.get with offset/length) keeps just that range.
 */
#include "http_int.h"

#include "disco/access.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define DEFAULT_MEDIA "application/octet-stream"

const disco_param *disco__http_output_param(const disco_op *op)
{
    for (const disco_param *p = op ? op->params : NULL; p && p->name; p++)
        if (p->type == DISCO_P_PATH && (p->flags & DISCO_PARAM_STREAM_OUT))
            return p;
    return NULL;
}

const char *disco__http_output_media(const disco_param *p)
{
    return p && p->media && *p->media ? p->media : DEFAULT_MEDIA;
}

json_t *disco__http_output_json(const disco_object_info *info, const char *media)
{
    char url[DISCO_SHA256_HEX_LEN + 16];

    snprintf(url, sizeof url, "/api/objects/%s", info->hash);
    return json_pack("{s:s, s:I, s:s, s:s}", "hash", info->hash, "size", (json_int_t)info->size,
                     "media_type", media ? media : DEFAULT_MEDIA, "url", url);
}

int disco__http_output_open(const http_req *rq, const disco_op *op, const json_t *params, int *fd,
                            http_reply *r)
{
    const disco_param *p = disco__http_output_param(op);
    const char *v = p ? json_string_value(json_object_get(params, p->name)) : NULL;

    *fd = -1;
    if (!v || strcmp(v, "-") != 0)
        return 0;
    *fd = disco__http_spool_open(rq->srv);
    if (*fd >= 0)
        return 0;
    disco__http_spool_failed(r, errno, "the output");
    return -1;
}

/* Records the upload for a context with a role, as object.put does (access.h). */
static int note_upload(disco_ctx *ctx, const char *hash, int created, disco_status *st)
{
    disco_catalog *cat;
    int rc;

    if (disco_ctx_role(ctx) == DISCO_ROLE_NONE)
        return DISCO_OK; /* local use reads every object anyway */
    rc = disco_ctx_catalog(ctx, &cat, st);
    if (rc == DISCO_OK)
        rc = disco_access_object_uploaded(cat, hash, disco_ctx_principal(ctx), disco_ctx_role(ctx),
                                          &created, st);
    return rc;
}

int disco__http_output_keep(void *user, disco_ctx *ctx, const disco_op *op, int fd, json_t *result,
                            disco_status *st)
{
    const disco_param *p = disco__http_output_param(op);
    disco_objects *objs;
    disco_object_info info;
    int created = 0, rc;

    (void)user;
    if (!p || !json_is_object(result))
        return disco_status_set(st, DISCO_ERR_INTERNAL, "output",
                                "%s: no output parameter or no result to name the output in",
                                op ? op->name : "op");
    if (lseek(fd, 0, SEEK_SET) != 0)
        return disco_status_errno(st, errno, p->name, "param '%s': cannot read back the output",
                                  p->name);
    rc = disco_ctx_objects(ctx, &objs, st);
    if (rc == DISCO_OK)
        rc = disco_objects_put_fd(objs, fd, disco_ctx_progress(ctx), &info, &created, st);
    if (rc == DISCO_OK)
        rc = note_upload(ctx, info.hash, created, st);
    if (rc != DISCO_OK)
        return rc;
    if (json_object_set_new(result, "output",
                            disco__http_output_json(&info, disco__http_output_media(p))) != 0)
        return disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory");
    return DISCO_OK;
}
