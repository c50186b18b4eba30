/*
 * fileio.c - file-system helpers (see fileio.h).
 */
#include "disco/fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <stdio.h>
#include <unistd.h>

int disco_fsync_parent(const char *path)
{
    char dir[PATH_MAX];
    const char *slash = strrchr(path, '/');
    size_t len = slash ? (slash == path ? 1 : (size_t)(slash - path)) : 0;
    int fd, e = 0;

    if (len >= sizeof dir)
        return ENAMETOOLONG;
    if (len)
        snprintf(dir, sizeof dir, "%.*s", (int)len, path);
    else
        snprintf(dir, sizeof dir, ".");
    fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || fsync(fd) != 0)
        e = errno;
    if (fd >= 0)
        close(fd);
    return e;
}
