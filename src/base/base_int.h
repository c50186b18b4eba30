/*
 * base_int.h - internals shared by the base layer's modules.
 */
#ifndef DISCO_BASE_INT_H
#define DISCO_BASE_INT_H

#include <stddef.h>

/* Room for a quoted input: 64 bytes of it, "..." and the NUL. */
#define DISCO__QUOTE_MAX 80

/*
 * Copies `s` into `buf` for use inside an error message: at most 64 bytes
 * (cut on a UTF-8 boundary, then "..."), control bytes written as \xNN.
 * NULL becomes "(null)". Returns `buf`.
 */
const char *disco__quote(const char *s, char buf[DISCO__QUOTE_MAX]);

/* `c` as itself when printable ASCII, else as "\xNN". Returns `buf`. */
const char *disco__quote_char(char c, char buf[8]);

/* `what` itself, or "value" when NULL, for message prefixes. */
static inline const char *disco__what(const char *what)
{
    return what ? what : "value";
}

#endif
