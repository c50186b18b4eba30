/*
 * reply.c - building and sending responses: JSON bodies, the one error
 * shape {"error": {"code", "message", "field"?}}, the status of each
 * disco_err, and the headers a reply asks for.
 */
#include "http_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

unsigned disco__http_status(int rc)
{
    switch (rc) {
    case DISCO_OK:
        return MHD_HTTP_OK;
    case DISCO_ERR_INVAL:
    case DISCO_ERR_USAGE:
        return MHD_HTTP_BAD_REQUEST;
    case DISCO_ERR_NOTFOUND:
        return MHD_HTTP_NOT_FOUND;
    case DISCO_ERR_EXISTS:
    case DISCO_ERR_CONFLICT:
    case DISCO_ERR_CANCELLED:
        return MHD_HTTP_CONFLICT;
    case DISCO_ERR_PERM:
        return MHD_HTTP_FORBIDDEN;
    case DISCO_ERR_LIMIT:
        return MHD_HTTP_CONTENT_TOO_LARGE;
    case DISCO_ERR_UNSUPPORTED:
        return MHD_HTTP_UNSUPPORTED_MEDIA_TYPE;
    case DISCO_ERR_BUSY:
        return MHD_HTTP_SERVICE_UNAVAILABLE;
    case DISCO_ERR_TIMEOUT:
        return MHD_HTTP_GATEWAY_TIMEOUT;
    default:
        return MHD_HTTP_INTERNAL_SERVER_ERROR;
    }
}

static json_t *error_body(int rc, const char *field, const char *message)
{
    return json_pack("{s:{s:s, s:s, s:s?}}", "error", "code", disco_errname(rc), "message", message,
                     "field", field && *field ? field : NULL);
}

void disco__http_error(http_reply *r, int rc, const disco_status *st)
{
    json_decref(r->body);
    r->status = disco__http_status(rc);
    r->body = error_body(rc, st ? st->field : NULL, disco_status_message(st));
    if (rc == DISCO_ERR_BUSY)
        r->retry_after = 1;
}

void disco__http_fail(http_reply *r, unsigned status, int rc, const char *field, const char *fmt,
                      ...)
{
    char msg[DISCO_STATUS_MSG_MAX];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    json_decref(r->body);
    r->status = status;
    r->body = error_body(rc, field, msg);
}

void disco__http_ok(http_reply *r, unsigned status, json_t *body)
{
    json_decref(r->body);
    r->status = status;
    r->body = body;
}

void disco__http_reply_release(http_reply *r)
{
    json_decref(r->body);
    r->body = NULL;
    if (r->raw)
        MHD_destroy_response(r->raw);
    r->raw = NULL;
}

/* The JSON text of a body with a final newline (malloc'd), or NULL. */
static char *body_text(const json_t *body, size_t *len)
{
    char *text = json_dumps(body, JSON_COMPACT | JSON_ENCODE_ANY);
    char *grown;

    if (!text)
        return NULL;
    *len = strlen(text);
    grown = realloc(text, *len + 2);
    if (!grown) {
        free(text);
        return NULL;
    }
    grown[(*len)++] = '\n';
    grown[*len] = '\0';
    return grown;
}

static struct MHD_Response *json_response(const http_reply *r)
{
    static char fallback[] = "{\"error\":{\"code\":\"NOMEM\",\"message\":\"out of memory\"}}\n";
    struct MHD_Response *resp;
    size_t len = 0;
    char *text;

    if (!r->body)
        return MHD_create_response_from_buffer(0, fallback, MHD_RESPMEM_PERSISTENT);
    text = body_text(r->body, &len);
    if (text)
        resp = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
    else
        resp = MHD_create_response_from_buffer(strlen(fallback), fallback, MHD_RESPMEM_PERSISTENT);
    if (resp)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    return resp;
}

static void add_headers(struct MHD_Response *resp, const http_reply *r)
{
    char buf[128];

    if (r->content_type[0])
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r->content_type);
    if (r->etag[0])
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, r->etag);
    if (r->location[0])
        MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, r->location);
    if (r->content_range[0])
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_RANGE, r->content_range);
    if (r->allow) {
        disco__http_allow_text(r->allow, buf, sizeof buf);
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, buf);
    }
    if (r->retry_after > 0) {
        snprintf(buf, sizeof buf, "%d", r->retry_after);
        MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, buf);
    }
    if (r->www_auth)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, r->www_auth);
    if (r->applied[0])
        MHD_add_response_header(resp, "Preference-Applied", r->applied);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL,
                            r->immutable ? "public, max-age=31536000, immutable" : "no-store");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
}

enum MHD_Result disco__http_send(struct MHD_Connection *c, http_reply *r)
{
    struct MHD_Response *resp = r->raw ? r->raw : json_response(r);
    enum MHD_Result ret = MHD_NO;

    r->raw = NULL;
    if (resp) {
        add_headers(resp, r);
        ret = MHD_queue_response(c, r->status, resp);
        MHD_destroy_response(resp);
    }
    disco__http_reply_release(r);
    return ret;
}
