/*
 * input.c - reading a whole input (a file, or the context's stream for "-")
 * for handlers that parse it, with a size limit.
 */
#include "ops_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int grow(char **buf, size_t *cap, size_t need)
{
    size_t ncap = *cap ? *cap : 65536;
    char *nb;

    while (ncap < need)
        ncap *= 2;
    if (ncap == *cap)
        return 0;
    nb = realloc(*buf, ncap);
    if (!nb)
        return -1;
    *buf = nb;
    *cap = ncap;
    return 0;
}

static int read_all(int fd, size_t max, char **buf, size_t *len, int *too_big)
{
    size_t cap = 0, n = 0;
    ssize_t r;

    *buf = NULL;
    do {
        if (grow(buf, &cap, n + 65536 + 1) != 0) {
            errno = ENOMEM;
            return -1;
        }
        r = read(fd, *buf + n, cap - n - 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -1;
        n += (size_t)r;
        if (n > max) {
            *too_big = 1;
            return -1;
        }
    } while (r > 0);
    (*buf)[n] = '\0';
    *len = n;
    return 0;
}

int disco__read_input(disco_ctx *ctx, const char *param, const char *path, size_t max, char **buf,
                      size_t *len, disco_status *st)
{
    int stdin_path = strcmp(path, "-") == 0;
    int fd = stdin_path ? disco_ctx_in_fd(ctx) : open(path, O_RDONLY | O_CLOEXEC);
    int too_big = 0, rc = DISCO_OK;

    if (stdin_path && fd < 0)
        return disco_status_set(st, DISCO_ERR_INVAL, param,
                                "param '%s': \"-\" (standard input) is not available here", param);
    if (fd < 0)
        return disco_status_errno(st, errno, param, "param '%s': cannot open %s", param, path);
    if (read_all(fd, max, buf, len, &too_big) != 0) {
        if (too_big)
            rc = disco_status_set(st, DISCO_ERR_LIMIT, param,
                                  "param '%s': %s is larger than %zu bytes; split it", param,
                                  stdin_path ? "the input" : path, max);
        else
            rc = disco_status_errno(st, errno, param, "param '%s': cannot read %s", param,
                                    stdin_path ? "standard input" : path);
        free(*buf);
        *buf = NULL;
    }
    if (!stdin_path)
        close(fd);
    return rc;
}
