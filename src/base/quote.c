/*
 * quote.c - making untrusted input safe and short enough to echo in messages.
 */
#include "base_int.h"

#include <stdio.h>
#include <string.h>

#define QUOTE_KEEP 64

/* Length of the longest prefix of `s` of at most `max` bytes ending on a UTF-8 boundary. */
static size_t utf8_prefix(const char *s, size_t len, size_t max)
{
    size_t n = len < max ? len : max;

    while (n > 0 && n < len && ((unsigned char)s[n] & 0xC0) == 0x80)
        n--;
    return n;
}

const char *disco__quote(const char *s, char buf[DISCO__QUOTE_MAX])
{
    size_t len, keep, i, o = 0;

    if (!s) {
        snprintf(buf, DISCO__QUOTE_MAX, "(null)");
        return buf;
    }
    len = strlen(s);
    keep = utf8_prefix(s, len, QUOTE_KEEP);
    for (i = 0; i < keep && o + 5 < DISCO__QUOTE_MAX - 4; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7F)
            o += (size_t)snprintf(buf + o, DISCO__QUOTE_MAX - o, "\\x%02X", c);
        else
            buf[o++] = (char)c;
    }
    buf[o] = '\0';
    if (i < len)
        memcpy(buf + o, "...", 4);
    return buf;
}

const char *disco__quote_char(char c, char buf[8])
{
    unsigned char u = (unsigned char)c;

    if (u >= 0x20 && u < 0x7F)
        snprintf(buf, 8, "%c", c);
    else
        snprintf(buf, 8, "\\x%02X", u);
    return buf;
}
