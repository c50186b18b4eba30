/*
 * err.c - error codes, their texts, and the detailed status record.
 */
#include "disco/err.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *disco_strerror(int rc)
{
    switch (rc) {
#define DISCO__ERR_TEXT(name, value, msg)                                                          \
    case value:                                                                                    \
        return msg;
        DISCO_ERR_MAP(DISCO__ERR_TEXT)
#undef DISCO__ERR_TEXT
    }
    return "unknown error";
}

const char *disco_errname(int rc)
{
    switch (rc) {
#define DISCO__ERR_NAME(name, value, msg)                                                          \
    case value:                                                                                    \
        return #name;
        DISCO_ERR_MAP(DISCO__ERR_NAME)
#undef DISCO__ERR_NAME
    }
    return "UNKNOWN";
}

void disco_status_clear(disco_status *st)
{
    if (!st)
        return;
    st->code = DISCO_OK;
    st->field[0] = '\0';
    st->msg[0] = '\0';
}

static void status_vset(disco_status *st, int code, const char *field, const char *fmt, va_list ap)
{
    st->code = code;
    snprintf(st->field, sizeof st->field, "%s", field ? field : "");
    vsnprintf(st->msg, sizeof st->msg, fmt, ap);
}

int disco_status_set(disco_status *st, int code, const char *field, const char *fmt, ...)
{
    va_list ap;

    if (!st)
        return code;
    va_start(ap, fmt);
    status_vset(st, code, field, fmt, ap);
    va_end(ap);
    return code;
}

int disco_err_from_errno(int errnum)
{
    switch (errnum) {
    case ENOENT:
    case ENOTDIR:
        return DISCO_ERR_NOTFOUND;
    case ENOSPC:
    case EFBIG:
    case EDQUOT:
        return DISCO_ERR_NOSPC;
    case EACCES:
    case EPERM:
    case EROFS:
        return DISCO_ERR_PERM;
    case ENOMEM:
        return DISCO_ERR_NOMEM;
    case EEXIST:
        return DISCO_ERR_EXISTS;
    case EINVAL:
        return DISCO_ERR_INVAL;
    case EISDIR:
        return DISCO_ERR_INVAL;
    default:
        return DISCO_ERR_IO;
    }
}

int disco_status_errno(disco_status *st, int errnum, const char *field, const char *fmt, ...)
{
    int code = disco_err_from_errno(errnum);
    va_list ap;
    size_t len;

    if (!st)
        return code;
    va_start(ap, fmt);
    status_vset(st, code, field, fmt, ap);
    va_end(ap);
    len = strlen(st->msg);
    if (len < sizeof st->msg)
        snprintf(st->msg + len, sizeof st->msg - len, ": %s", strerror(errnum));
    return code;
}

const char *disco_status_message(const disco_status *st)
{
    if (!st)
        return "";
    if (st->msg[0])
        return st->msg;
    return disco_strerror(st->code);
}
