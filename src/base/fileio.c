/*
 * fileio.c - file-system helpers (see fileio.h).
 */
#include "disco/fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <stdio.h>
#include <sys/stat.h>
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

int disco_mkdirs(const char *path)
{
    char buf[PATH_MAX];
    struct stat sb;

    if (!path || !*path)
        return ENOENT;
    if ((size_t)snprintf(buf, sizeof buf, "%s", path) >= sizeof buf)
        return ENAMETOOLONG;
    for (char *p = buf + 1;; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char saved = *p;
        *p = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST)
            return errno;
        *p = saved;
        if (saved == '\0')
            break;
    }
    if (stat(buf, &sb) != 0)
        return errno;
    return S_ISDIR(sb.st_mode) ? 0 : ENOTDIR;
}
