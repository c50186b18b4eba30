/*
 * err.h - the library's one error enum and the status that carries details.
 *
 * Every fallible function returns an int: DISCO_OK (0) or a negative
 * disco_err. Functions that can explain a failure also take a disco_status*
 * (which may be NULL) and fill it with a message that names the input and
 * the problem, e.g. "tempo 900 out of range 20..400", plus the field it is
 * about when there is one. disco_strerror() gives the short generic text.
 */
#ifndef DISCO_ERR_H
#define DISCO_ERR_H

#include <stddef.h>

/* X(NAME, value, generic message) */
#define DISCO_ERR_MAP(X)                                                                           \
    X(OK, 0, "success")                                                                            \
    X(NOMEM, -1, "out of memory")                                                                  \
    X(INVAL, -2, "invalid argument")                                                               \
    X(NOTFOUND, -3, "not found")                                                                   \
    X(EXISTS, -4, "already exists")                                                                \
    X(IO, -5, "input/output error")                                                                \
    X(NOSPC, -6, "no space left on device")                                                        \
    X(CORRUPT, -7, "data is corrupt")                                                              \
    X(CONFLICT, -8, "conflict with the current state")                                             \
    X(PERM, -9, "permission denied")                                                               \
    X(UNSUPPORTED, -10, "not supported")                                                           \
    X(BUSY, -11, "resource busy")                                                                  \
    X(CANCELLED, -12, "cancelled")                                                                 \
    X(TIMEOUT, -13, "timed out")                                                                   \
    X(LIMIT, -14, "limit exceeded")                                                                \
    X(USAGE, -15, "usage error")                                                                   \
    X(INTERNAL, -16, "internal error")

typedef enum disco_err {
#define DISCO__ERR_ENUM(name, value, msg) DISCO_ERR_##name = (value),
    DISCO_ERR_MAP(DISCO__ERR_ENUM)
#undef DISCO__ERR_ENUM
} disco_err;

#define DISCO_OK DISCO_ERR_OK

/* Generic text for an error code; never NULL ("unknown error" for others). */
const char *disco_strerror(int rc);

/* Short machine name for an error code ("NOTFOUND"); never NULL. */
const char *disco_errname(int rc);

#define DISCO_STATUS_FIELD_MAX 64
#define DISCO_STATUS_MSG_MAX 512

/*
 * Details of the last failure of a call. Caller-owned; zero-initialise or
 * call disco_status_clear() before use. `field` names the parameter or input
 * the error is about ("" when none).
 */
typedef struct disco_status {
    int code;
    char field[DISCO_STATUS_FIELD_MAX];
    char msg[DISCO_STATUS_MSG_MAX];
} disco_status;

void disco_status_clear(disco_status *st);

/*
 * Records an error and returns `code`, so callers can write
 * `return disco_status_set(st, DISCO_ERR_INVAL, "tempo", "tempo %d ...", t);`.
 * `st` may be NULL (then only `code` is returned); `field` may be NULL.
 * An existing message is overwritten.
 */
int disco_status_set(disco_status *st, int code, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/*
 * Like disco_status_set() but appends ": <strerror(errnum)>" to the message;
 * maps errno to a disco_err (ENOENT -> NOTFOUND, ENOSPC/EFBIG/EDQUOT -> NOSPC,
 * EACCES/EPERM -> PERM, ENOMEM -> NOMEM, others -> IO) and returns it.
 */
int disco_status_errno(disco_status *st, int errnum, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Maps an errno value to a disco_err as disco_status_errno() does. */
int disco_err_from_errno(int errnum);

/* Message of a status, or the generic text of its code when it has none. */
const char *disco_status_message(const disco_status *st);

/* Invariant checks on our own state (not for bad input): on in debug/test builds. */
#ifdef DISCO_DEBUG
#include <stdio.h>
#include <stdlib.h>
#define DISCO_ASSERT(cond)                                                                         \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: assertion failed: %s\n", __FILE__, __LINE__, #cond);           \
            abort();                                                                               \
        }                                                                                          \
    } while (0)
#else
#define DISCO_ASSERT(cond) ((void)0)
#endif

#endif
