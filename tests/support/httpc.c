/*
 * httpc.c - the tiny blocking HTTP/1.1 client of httpc.h.
 */
#include "support/httpc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

int tu_http_connect(int port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0)
        return -1;
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

int tu_http_write(int fd, const void *data, size_t len)
{
    const char *p = data;

    while (len) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Everything until EOF, NUL-terminated. */
static char *read_all(int fd, size_t *len)
{
    size_t cap = 65536;
    char *buf = malloc(cap + 1);

    *len = 0;
    while (buf) {
        ssize_t n = recv(fd, buf + *len, cap - *len, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        *len += (size_t)n;
        if (*len == cap) {
            char *grown = realloc(buf, cap * 2 + 1);
            if (!grown) {
                free(buf);
                return NULL;
            }
            buf = grown;
            cap *= 2;
        }
    }
    if (buf)
        buf[*len] = '\0';
    return buf;
}

int tu_http_read(int fd, tu_http_resp *out)
{
    size_t len;
    char *all = read_all(fd, &len), *end;

    close(fd);
    memset(out, 0, sizeof *out);
    if (!all)
        return -1;
    /* Skip interim 100 Continue responses. */
    while (strncmp(all, "HTTP/1.1 100", 12) == 0 && (end = strstr(all, "\r\n\r\n"))) {
        len -= (size_t)(end + 4 - all);
        memmove(all, end + 4, len + 1);
    }
    end = strstr(all, "\r\n\r\n");
    if (!end || sscanf(all, "HTTP/1.%*d %d", &out->status) != 1) {
        free(all);
        return -1;
    }
    out->body_len = len - (size_t)(end + 4 - all);
    out->body = malloc(out->body_len + 1);
    memcpy(out->body, end + 4, out->body_len + 1);
    end[2] = '\0';
    out->head = all;
    return 0;
}

int tu_http(int port, const char *method, const char *path, const char *headers, const void *body,
            size_t len, tu_http_resp *out)
{
    char head[2048];
    int fd = tu_http_connect(port), n;

    memset(out, 0, sizeof *out);
    if (fd < 0)
        return -1;
    n = snprintf(head, sizeof head, "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n%s",
                 method, path, headers ? headers : "");
    if (body)
        n += snprintf(head + n, sizeof head - (size_t)n, "Content-Length: %zu\r\n", len);
    n += snprintf(head + n, sizeof head - (size_t)n, "\r\n");
    if (tu_http_write(fd, head, (size_t)n) != 0 || (body && tu_http_write(fd, body, len) != 0)) {
        close(fd);
        return -1;
    }
    return tu_http_read(fd, out);
}

const char *tu_http_header(const tu_http_resp *r, const char *name, char *buf, size_t size)
{
    size_t n = strlen(name);

    for (const char *line = r->head ? strstr(r->head, "\r\n") : NULL; line && line[2];
         line = strstr(line + 2, "\r\n")) {
        const char *h = line + 2;
        if (strncasecmp(h, name, n) == 0 && h[n] == ':') {
            h += n + 1;
            while (*h == ' ')
                h++;
            snprintf(buf, size, "%.*s", (int)strcspn(h, "\r\n"), h);
            return buf;
        }
    }
    return NULL;
}

void tu_http_resp_release(tu_http_resp *r)
{
    free(r->head);
    free(r->body);
    memset(r, 0, sizeof *r);
}
