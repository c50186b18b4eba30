/*
 * serve_info.c - <data>/serve.json: what a running `disco serve` tells
 * other commands on the same data folder, and the hint they give when a
 * store it holds is BUSY.
 *
 *   disco serve    start -> write serve.json {pid, url, started, started_ms}
 *                  clean stop -> remove it (only if it is still its own)
 *   disco ts ...   BUSY (the server holds the tsdb's LOCK) -> read
 *                  serve.json; pid alive -> "... held by `disco serve`
 *                  (pid N, URL): send this request to its API
 *                  (POST /api/ts/list) or stop the server"
 *
 * The file is written to a temporary name, fsynced and renamed, so a
 * reader sees the old file, the new one, or none. A file left by a server
 * that died (its pid is gone) is ignored.
 *
 *   <data>/serve.lock  flock()ed by a running `disco serve` for its whole
 *                      life, so a second server on the same folder is
 *                      refused (naming the first) before it opens a store
 *                      or touches serve.json; the kernel drops the lock
 *                      when a server dies.
 */
#include "cli_int.h"

#include "disco/config.h"
#include "disco/fileio.h"
#include "disco/timeutil.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SERVE_JSON "serve.json"
#define SERVE_LOCK "serve.lock"
#define PATH_MAX_ (DISCO_CONFIG_STR_MAX + 32)

static int info_path(const char *data_dir, char *buf, size_t size)
{
    return (size_t)snprintf(buf, size, "%s/" SERVE_JSON, data_dir) < size ? 0 : -1;
}

/* Writes `text` to `path` through a temporary file, fsync and rename. */
static int write_atomic(const char *path, const char *text, disco_status *st)
{
    char tmp[PATH_MAX_ + 32];
    size_t len = strlen(text);
    int fd, e = 0;

    snprintf(tmp, sizeof tmp, "%s.tmp-%ld", path, (long)getpid());
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return disco_status_errno(st, errno, "data_dir", "cannot create %s", tmp);
    if (write(fd, text, len) != (ssize_t)len || fsync(fd) != 0)
        e = errno ? errno : EIO;
    if (close(fd) != 0 && !e)
        e = errno;
    if (!e && rename(tmp, path) != 0)
        e = errno;
    if (!e)
        e = disco_fsync_parent(path);
    if (e) {
        unlink(tmp);
        return disco_status_errno(st, e, "data_dir", "cannot write %s", path);
    }
    return DISCO_OK;
}

int cli_serve_info_write(const char *data_dir, const char *url, disco_status *st)
{
    char path[PATH_MAX_], when[DISCO_TIME_ISO_MAX];
    int64_t now = disco_time_now_ms();
    json_t *o;
    char *text;
    int rc;

    if (info_path(data_dir, path, sizeof path) != 0)
        return disco_status_set(st, DISCO_ERR_INVAL, "data_dir", "data folder path too long");
    disco_time_format_iso(now, when);
    o = json_pack("{s:I, s:s, s:s, s:I}", "pid", (json_int_t)getpid(), "url", url, "started", when,
                  "started_ms", (json_int_t)now);
    text = o ? json_dumps(o, JSON_INDENT(2) | JSON_SORT_KEYS) : NULL;
    json_decref(o);
    if (!text)
        return disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory");
    rc = write_atomic(path, text, st);
    free(text);
    return rc;
}

/* Reads serve.json whatever its pid; NOTFOUND when absent, CORRUPT when not ours. */
static int read_file(const char *path, cli_serve_info *out, disco_status *st)
{
    json_error_t jerr;
    json_t *o = json_load_file(path, 0, &jerr);
    json_t *pid = json_object_get(o, "pid");
    const char *url = json_string_value(json_object_get(o, "url"));
    int rc = DISCO_OK;

    if (!o && access(path, F_OK) != 0)
        rc = disco_status_set(st, DISCO_ERR_NOTFOUND, "data_dir", "%s: no server", path);
    else if (!json_is_integer(pid) || json_integer_value(pid) <= 0 || !url)
        rc = disco_status_set(st, DISCO_ERR_CORRUPT, "data_dir",
                              "%s: not a server description (pid and url)", path);
    if (rc == DISCO_OK) {
        out->pid = (long)json_integer_value(pid);
        snprintf(out->url, sizeof out->url, "%s", url);
        out->started_ms = json_integer_value(json_object_get(o, "started_ms"));
    }
    json_decref(o);
    return rc;
}

/* A process with this id exists (EPERM: someone else's, but alive). */
static int pid_alive(long pid)
{
    return kill((pid_t)pid, 0) == 0 || errno == EPERM;
}

int cli_serve_info_read(const char *data_dir, cli_serve_info *out, disco_status *st)
{
    char path[PATH_MAX_];
    int rc;

    if (info_path(data_dir, path, sizeof path) != 0)
        return disco_status_set(st, DISCO_ERR_INVAL, "data_dir", "data folder path too long");
    rc = read_file(path, out, st);
    if (rc == DISCO_OK && !pid_alive(out->pid))
        rc = disco_status_set(st, DISCO_ERR_NOTFOUND, "data_dir",
                              "%s: left by pid %ld, which is gone", path, out->pid);
    return rc;
}

void cli_serve_info_remove(const char *data_dir)
{
    char path[PATH_MAX_];
    cli_serve_info info;
    disco_status st = {0};

    if (info_path(data_dir, path, sizeof path) == 0 && read_file(path, &info, &st) == DISCO_OK &&
        info.pid == (long)getpid())
        unlink(path);
}

void cli_busy_hint(const char *data_dir, const disco_op *op, disco_status *st)
{
    char api[128], *dot;
    cli_serve_info info;
    size_t n;
    disco_status quiet = {0};

    if (st->code != DISCO_ERR_BUSY || strcmp(st->field, "catalog") == 0 ||
        cli_serve_info_read(data_dir, &info, &quiet) != DISCO_OK)
        return;
    snprintf(api, sizeof api, "%s", op->name);
    while ((dot = strchr(api, '.')))
        *dot = '/';
    n = strlen(st->msg);
    snprintf(st->msg + n, sizeof st->msg - n,
             ": held by `disco serve` (pid %ld, %s): send this request to its API "
             "(POST /api/%s) or stop the server",
             info.pid, info.url, api);
}

/* BUSY for a second server on data_dir, naming the first when serve.json does. */
static int already_served(const char *data_dir, disco_status *st)
{
    cli_serve_info info;
    disco_status quiet = {0};

    if (cli_serve_info_read(data_dir, &info, &quiet) == DISCO_OK)
        return disco_status_set(st, DISCO_ERR_BUSY, "data_dir",
                                "data folder %s is already served by `disco serve` (pid %ld, %s): "
                                "stop that server, or give this one another data folder",
                                data_dir, info.pid, info.url);
    return disco_status_set(st, DISCO_ERR_BUSY, "data_dir",
                            "data folder %s is already served by another `disco serve` (it holds "
                            "%s/" SERVE_LOCK "): stop that server, or give this one another data "
                            "folder",
                            data_dir, data_dir);
}

int cli_serve_lock(const char *data_dir, int *fd, disco_status *st)
{
    char path[PATH_MAX_];
    int e = disco_mkdirs(data_dir);

    *fd = -1;
    if (e)
        return disco_status_errno(st, e, "data_dir", "cannot create data folder %s", data_dir);
    if ((size_t)snprintf(path, sizeof path, "%s/" SERVE_LOCK, data_dir) >= sizeof path)
        return disco_status_set(st, DISCO_ERR_INVAL, "data_dir", "data folder path too long");
    *fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (*fd < 0)
        return disco_status_errno(st, errno, "data_dir", "cannot open %s", path);
    if (flock(*fd, LOCK_EX | LOCK_NB) == 0)
        return DISCO_OK;
    e = errno;
    close(*fd);
    *fd = -1;
    if (e != EWOULDBLOCK)
        return disco_status_errno(st, e, "data_dir", "cannot lock %s", path);
    return already_served(data_dir, st);
}
