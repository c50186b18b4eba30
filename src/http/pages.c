/*
 * pages.c - what a browser sees: the index page at "/" (every group and
 * operation of the table with its route, made once at start), files of the
 * static folder under /ui/, and /api/openapi.json.
 */
#include "http_int.h"

#include "disco/version.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- the index page ----------------------------------------------------------- */

static void put_escaped(FILE *f, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '<':
            fputs("&lt;", f);
            break;
        case '>':
            fputs("&gt;", f);
            break;
        case '&':
            fputs("&amp;", f);
            break;
        case '"':
            fputs("&quot;", f);
            break;
        default:
            fputc(*s, f);
        }
    }
}

/* The group of an op ("resource" of "resource.create"; "" for one-word ops). */
static size_t group_len(const disco_op *op)
{
    const char *dot = strchr(op->name, '.');
    return dot ? (size_t)(dot - op->name) : 0;
}

static void put_op_row(FILE *f, const disco_op *op)
{
    char path[128];

    snprintf(path, sizeof path, "/api/%s", op->name);
    if (group_len(op))
        path[5 + group_len(op)] = '/';
    fputs("<tr><td><code>POST ", f);
    put_escaped(f, path);
    fputs("</code></td><td>", f);
    put_escaped(f, op->summary);
    fputs(op->flags & DISCO_OP_LONG ? " <em>(long)</em>" : "", f);
    fputs("</td></tr>\n", f);
}

static void put_ops(FILE *f)
{
    size_t n;
    const disco_op *const *all = disco_ops_all(&n);

    for (size_t i = 0; i < n; i++) {
        size_t g = group_len(all[i]);
        int first =
            i == 0 || g != group_len(all[i - 1]) || strncmp(all[i]->name, all[i - 1]->name, g) != 0;
        if (first) {
            fputs(i ? "</table>\n<h2>" : "<h2>", f);
            if (g)
                fprintf(f, "%.*s", (int)g, all[i]->name);
            else
                fputs("general", f);
            fputs("</h2>\n<table>\n", f);
        }
        put_op_row(f, all[i]);
    }
    fputs("</table>\n", f);
}

static const char page_head[] =
    "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
    "<title>Disco-Musica API</title>\n<style>body{font-family:sans-serif;max-width:60em;"
    "margin:2em auto;padding:0 1em}td{padding:.2em 1em .2em 0;vertical-align:top}"
    "code{white-space:nowrap}</style>\n</head><body>\n<h1>Disco-Musica API</h1>\n";

static const char page_routes[] =
    "<p>Every operation is <code>POST /api/&lt;group&gt;/&lt;verb&gt;</code> with a JSON object "
    "of its parameters; it answers with a JSON result, or with "
    "<code>{\"error\": {\"code\", \"message\", \"field\"}}</code>. "
    "Parameters of each operation: <code>POST /api/ops/describe</code>; "
    "machine-readable description: <a href=\"/api/openapi.json\">/api/openapi.json</a>.</p>\n"
    "<h2>routes</h2>\n<table>\n"
    "<tr><td><code>GET /api/resources[/{id}]</code></td><td>list resources, or one "
    "(<code>?version=N</code>)</td></tr>\n"
    "<tr><td><code>PATCH /api/resources/{id}</code></td><td>JSON merge patch of tags, metadata, "
    "parents, access control (<code>If-Match</code>)</td></tr>\n"
    "<tr><td><code>DELETE /api/resources/{id}</code></td><td>delete a resource</td></tr>\n"
    "<tr><td><code>GET /api/resources/{id}/versions</code>, <code>/lineage</code></td>"
    "<td>history and lineage</td></tr>\n"
    "<tr><td><code>PUT /api/objects</code></td><td>upload content; answers its hash</td></tr>\n"
    "<tr><td><code>GET /api/objects/{hash}</code></td><td>download content (Range, "
    "ETag)</td></tr>\n"
    "<tr><td><code>POST /api/analyze/time-series</code></td><td>= ts.analyze</td></tr>\n"
    "<tr><td><code>POST /api/search/similar</code></td><td>= vec.search</td></tr>\n"
    "<tr><td><code>GET /healthz</code>, <code>/readyz</code></td><td>liveness and "
    "readiness</td></tr>\n</table>\n";

char *disco__http_index_html(size_t *len)
{
    char *buf = NULL;
    FILE *f = open_memstream(&buf, len);

    if (!f)
        return NULL;
    fputs(page_head, f);
    fprintf(f, "<p>Version %s.</p>\n", disco_version());
    fputs(page_routes, f);
    put_ops(f);
    fputs("</body></html>\n", f);
    if (fclose(f) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

/* ---- static files ------------------------------------------------------------------ */

static const struct {
    const char *ext, *type;
} mime_types[] = {
    {".html", "text/html; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".json", "application/json"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".ico", "image/x-icon"},
    {".txt", "text/plain; charset=utf-8"},
    {".wasm", "application/wasm"},
};

static const char *mime_type(const char *path)
{
    const char *dot = strrchr(path, '.');

    for (size_t i = 0; dot && i < sizeof mime_types / sizeof mime_types[0]; i++)
        if (strcmp(dot, mime_types[i].ext) == 0)
            return mime_types[i].type;
    return "application/octet-stream";
}

/* A path inside the folder: no empty, hidden ("." first) or ".." segments. */
static int safe_relative(const char *rel)
{
    const char *s = rel;

    if (!*s || strchr(s, '\\'))
        return 0;
    for (;;) {
        size_t n = strcspn(s, "/");
        if (n == 0 || s[0] == '.')
            return 0;
        if (!s[n])
            return 1;
        s += n + 1;
    }
}

void disco__http_ui(http_req *rq, http_reply *r)
{
    char rel[sizeof rq->rt.arg + 16], path[DISCO_CONFIG_STR_MAX + sizeof rel];
    size_t n = strlen(rq->rt.arg);
    struct stat sb;
    int fd;

    snprintf(rel, sizeof rel, "%s%s", rq->rt.arg,
             n == 0 || rq->rt.arg[n - 1] == '/' ? "index.html" : "");
    snprintf(path, sizeof path, "%s/%s", rq->srv->hc.static_dir, rel);
    fd = rq->srv->hc.static_dir[0] && safe_relative(rel)
             ? open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
             : -1;
    if (fd >= 0 && (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode))) {
        close(fd);
        fd = -1;
    }
    if (fd < 0) {
        disco__http_fail(r, MHD_HTTP_NOT_FOUND, DISCO_ERR_NOTFOUND, NULL,
                         rq->srv->hc.static_dir[0] ? "no file /ui/%s"
                                                   : "no static folder is served (/ui/%s)",
                         rq->rt.arg);
        return;
    }
    r->raw = MHD_create_response_from_fd(sb.st_size, fd);
    if (!r->raw) {
        close(fd);
        disco__http_fail(r, MHD_HTTP_INTERNAL_SERVER_ERROR, DISCO_ERR_NOMEM, NULL,
                         "cannot create the response");
        return;
    }
    r->status = MHD_HTTP_OK;
    snprintf(r->content_type, sizeof r->content_type, "%s", mime_type(rel));
}

/* ---- OpenAPI --------------------------------------------------------------------- */

/* Relative servers ("/"), so the document holds behind a proxy too. */
void disco__http_openapi(http_req *rq, http_reply *r)
{
    json_t *doc = disco_ops_openapi(NULL);

    (void)rq;
    if (doc)
        disco__http_ok(r, MHD_HTTP_OK, doc);
    else
        disco__http_fail(r, MHD_HTTP_INTERNAL_SERVER_ERROR, DISCO_ERR_NOMEM, NULL, "out of memory");
}
