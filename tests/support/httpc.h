/*
 * httpc.h - a tiny blocking HTTP/1.1 client for tests of the server: one
 * request per connection (Connection: close), the whole response read.
 */
#ifndef DISCO_TEST_HTTPC_H
#define DISCO_TEST_HTTPC_H

#include <stddef.h>

typedef struct tu_http_resp {
    int status; /* 0 when no status line came back */
    char *head; /* status line and headers, NUL-terminated */
    char *body; /* NUL-terminated */
    size_t body_len;
} tu_http_resp;

/* A connected socket to 127.0.0.1:port, or -1. */
int tu_http_connect(int port);

/* Writes all of `len` bytes; 0 or -1. */
int tu_http_write(int fd, const void *data, size_t len);

/*
 * Sends `method path` with `headers` (extra lines, each ending in "\r\n",
 * or NULL) and `body` (Content-Length is added when body is not NULL), and
 * reads the response to the end. Returns 0, or -1 when the exchange failed.
 */
int tu_http(int port, const char *method, const char *path, const char *headers, const void *body,
            size_t len, tu_http_resp *out);

/* Reads a whole response from `fd` (then closes it) into *out; 0 or -1. */
int tu_http_read(int fd, tu_http_resp *out);

/* The value of header `name` (any case) copied into buf, or NULL when absent. */
const char *tu_http_header(const tu_http_resp *r, const char *name, char *buf, size_t size);

void tu_http_resp_release(tu_http_resp *r);

#endif
