/*
 * streams.c - the path "-" over HTTP: a request body of another media type
 * than JSON is the op's input stream.
 *
 *   POST /api/ts/write?format=csv&metric=loss     Content-Type: text/csv
 *     headers   the op must have a STREAM_IN param (else 415) that the
 *               token's role may call (else 403); the limit is max_upload
 *     body      chunks -> an unlinked file under <data>/tmp (constant
 *               memory; nothing is left behind by a client that leaves)
 *     end       params from the query string, the stream param "-",
 *               "format" from the Content-Type when not given;
 *               inline: the file is the context's in_fd until the request
 *               ends; a job (DISCO_OP_LONG): the job takes the descriptor
 *               and closes it when it is final (jobs.h)
 *
 * What an op writes to "-" (object.get, ts.export) goes to another spool
 * file of the same kind and is kept as an object afterwards: outputs.c.
 */
#include "http_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define MEDIA_MAX 96

/* Formats that a body's media type names, for ops with a "format" parameter. */
static const struct {
    const char *media, *format;
} media_formats[] = {
    {"text/csv", "csv"},
    {"text/plain", "line"}, /* InfluxDB line protocol is sent as text/plain */
    {"application/x-npy", "npy"},
};

/* The media type of a Content-Type value, lower case, without parameters or spaces. */
static void media_of(const char *content_type, char *buf, size_t size)
{
    size_t n = 0;

    for (const char *p = content_type ? content_type : ""; *p && *p != ';' && n + 1 < size; p++)
        if (*p != ' ' && *p != '\t')
            buf[n++] = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
    buf[n] = '\0';
}

int disco__http_type_is_params(const char *content_type)
{
    char media[MEDIA_MAX];
    size_t n;

    media_of(content_type, media, sizeof media);
    n = strlen(media);
    return n == 0 || strcmp(media, "application/json") == 0 ||
           strcmp(media, "application/x-www-form-urlencoded") == 0 ||
           (n > 5 && strcmp(media + n - 5, "+json") == 0);
}

const disco_param *disco__http_stream_param(const disco_op *op)
{
    for (const disco_param *p = op ? op->params : NULL; p && p->name; p++)
        if (p->type == DISCO_P_PATH && (p->flags & DISCO_PARAM_STREAM_IN))
            return p;
    return NULL;
}

const char *disco__http_stream_format(const disco_op *op, const char *content_type)
{
    const disco_param *p = disco_ops_param(op, "format");
    char media[MEDIA_MAX];

    media_of(content_type, media, sizeof media);
    for (size_t i = 0; p && p->choices && i < sizeof media_formats / sizeof media_formats[0]; i++) {
        if (strcmp(media, media_formats[i].media) != 0)
            continue;
        for (size_t c = 0; p->choices[c]; c++)
            if (strcmp(p->choices[c], media_formats[i].format) == 0)
                return p->choices[c];
    }
    return NULL;
}

static const char *content_type(const http_req *rq)
{
    return MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
}

void disco__http_stream_detect(http_req *rq)
{
    const char *type = content_type(rq);

    rq->stream = rq->rt.kind == ROUTE_OP && rq->method == HTTP_POST &&
                 !disco__http_type_is_params(type) && strncasecmp(type, "multipart/", 10) != 0;
}

/* ---- the spool file ------------------------------------------------------------ */

/* Creates `path` and its missing parents (like mkdir -p). */
static int make_dirs(char *path)
{
    for (char *p = path + 1;; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char saved = *p;
        *p = '\0';
        int bad = mkdir(path, 0700) != 0 && errno != EEXIST;
        *p = saved;
        if (bad)
            return -1;
        if (saved == '\0')
            return 0;
    }
}

int disco__http_spool_open(const disco_http *srv)
{
    char dir[DISCO_CONFIG_STR_MAX + 8], name[DISCO_CONFIG_STR_MAX + 32];
    int fd;

    snprintf(dir, sizeof dir, "%s/tmp", srv->cfg.data_dir);
    fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd < 0 && errno == ENOENT && make_dirs(dir) == 0)
        fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd >= 0 || (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL))
        return fd;
    snprintf(name, sizeof name, "%s/body-XXXXXX", dir); /* no O_TMPFILE on this file system */
    fd = mkostemp(name, O_CLOEXEC);
    if (fd >= 0)
        unlink(name);
    return fd;
}

void disco__http_spool_failed(http_reply *r, int err, const char *what)
{
    disco_status st = {0};

    disco__http_error(
        r, disco_status_errno(&st, err, NULL, "cannot keep %s in the data folder's tmp/", what),
        &st);
    if (r->status < 500) /* the server's own folder: never the client's fault */
        r->status = MHD_HTTP_INTERNAL_SERVER_ERROR;
}

/* ---- the input stream ---------------------------------------------------------- */

int disco__http_stream_begin(http_req *rq, http_reply *r)
{
    const disco_op *op = rq->rt.op;
    const char *type = content_type(rq);

    rq->stream_param = disco__http_stream_param(op);
    if (!rq->stream_param) {
        disco__http_fail(r, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, DISCO_ERR_UNSUPPORTED, "Content-Type",
                         "Content-Type %.60s: %s takes its parameters as a JSON object "
                         "(Content-Type: application/json); only ops that read an input "
                         "stream take other bodies",
                         type, op->name);
        return -1;
    }
    if (!disco__http_role_allows(rq, op, r))
        return -1;
    rq->spool_fd = disco__http_spool_open(rq->srv);
    if (rq->spool_fd < 0) {
        disco__http_spool_failed(r, errno, "the request body");
        return -1;
    }
    return 0;
}

void disco__http_stream_data(http_req *rq, const char *data, size_t n)
{
    while (n && !rq->spool_err && rq->spool_fd >= 0) {
        ssize_t w = write(rq->spool_fd, data, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            rq->spool_err = errno; /* the rest is dropped; answered at the end */
            disco__http_stream_release(rq);
            return;
        }
        data += w;
        n -= (size_t)w;
    }
}

void disco__http_stream_release(http_req *rq)
{
    if (rq->spool_fd >= 0)
        close(rq->spool_fd);
    rq->spool_fd = -1;
}

/* The stream param must be "-" (or left to be); 0, or -1 with a 400. */
static int stream_value(http_req *rq, json_t *raw, http_reply *r)
{
    const char *name = rq->stream_param->name;
    const json_t *v = json_object_get(raw, name);

    if (v && !(json_is_string(v) && strcmp(json_string_value(v), "-") == 0)) {
        disco__http_fail(r, MHD_HTTP_BAD_REQUEST, DISCO_ERR_INVAL, name,
                         "param '%s': the request body is the input here; leave '%s' out or "
                         "give \"-\"",
                         name, name);
        return -1;
    }
    return json_object_set_new(raw, name, json_string("-")) == 0 ? 0 : -1;
}

int disco__http_stream_params(http_req *rq, json_t *raw, http_reply *r)
{
    const char *format = disco__http_stream_format(rq->rt.op, content_type(rq));
    const char *name = rq->stream_param->name;

    if (rq->spool_err || rq->spool_fd < 0) {
        disco__http_spool_failed(r, rq->spool_err ? rq->spool_err : EBADF, "the request body");
        return -1;
    }
    if (rq->received == 0) {
        disco__http_fail(r, MHD_HTTP_BAD_REQUEST, DISCO_ERR_INVAL, name,
                         "param '%s': the request body, the input of %s, is empty", name,
                         rq->rt.op->name);
        return -1;
    }
    if (stream_value(rq, raw, r) != 0)
        return -1;
    if (format && !json_object_get(raw, "format") &&
        json_object_set_new(raw, "format", json_string(format)) != 0)
        return -1;
    if (lseek(rq->spool_fd, 0, SEEK_SET) != 0) {
        disco__http_spool_failed(r, errno, "the request body");
        return -1;
    }
    return 0;
}

int disco__http_stream_take(http_req *rq)
{
    int fd = rq->stream ? rq->spool_fd : -1;

    rq->spool_fd = -1;
    return fd;
}

int disco__http_stream_missing(const http_req *rq, const disco_op *op, const json_t *params,
                               http_reply *r)
{
    const disco_param *p = disco__http_stream_param(op);
    const char *v = p ? json_string_value(json_object_get(params, p->name)) : NULL;

    if (rq->stream || !v || strcmp(v, "-") != 0)
        return 0;
    disco__http_fail(r, MHD_HTTP_BAD_REQUEST, DISCO_ERR_INVAL, p->name,
                     "param '%s': %s reads its input from the request body: send it with its "
                     "own Content-Type (e.g. %s) and the parameters in the query string",
                     p->name, op->name, p->media ? p->media : "application/octet-stream");
    return 1;
}
