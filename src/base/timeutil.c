/*
 * timeutil.c - clocks, and ISO 8601 / Unix-millisecond times in text.
 *
 * Accepted input (`what` names it in every error):
 *   1732168796123                        Unix milliseconds (optional '-')
 *   2026-11-21                           midnight UTC
 *   2026-11-21T05:59[:56[.123]]          UTC ('T', 't' or ' ' between)
 *   ...Z | ...+01:00 | ...-0530 | ...+01 with an offset from UTC
 * Years run 0000..9999; formatting clamps to that range so its output always
 * parses back.
 */
#include "disco/timeutil.h"

#include "base_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ISO_MIN_MS INT64_C(-62167219200000) /* 0000-01-01T00:00:00.000Z */
#define ISO_MAX_MS INT64_C(253402300799999) /* 9999-12-31T23:59:59.999Z */
#define ISO_FORMS "YYYY-MM-DD[THH:MM[:SS[.sss]]][Z|+hh:mm]"

int64_t disco_time_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

uint64_t disco_time_mono_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * UINT64_C(1000000000) + (uint64_t)ts.tv_nsec;
}

void disco_time_format_iso(int64_t unix_ms, char buf[DISCO_TIME_ISO_MAX])
{
    int64_t secs, ms;
    time_t t;
    struct tm tm;

    if (unix_ms < ISO_MIN_MS)
        unix_ms = ISO_MIN_MS;
    if (unix_ms > ISO_MAX_MS)
        unix_ms = ISO_MAX_MS;
    secs = unix_ms / 1000;
    ms = unix_ms % 1000;
    if (ms < 0) {
        ms += 1000;
        secs -= 1;
    }
    t = (time_t)secs;
    if (!gmtime_r(&t, &tm)) {
        snprintf(buf, DISCO_TIME_ISO_MAX, "0000-01-01T00:00:00.000Z");
        return;
    }
    /* The clamp above keeps every field in range; the modulos tell the compiler so. */
    snprintf(buf, DISCO_TIME_ISO_MAX, "%04u-%02u-%02uT%02u:%02u:%02u.%03uZ",
             (unsigned)(tm.tm_year + 1900) % 10000u, (unsigned)(tm.tm_mon + 1) % 100u,
             (unsigned)tm.tm_mday % 100u, (unsigned)tm.tm_hour % 100u, (unsigned)tm.tm_min % 100u,
             (unsigned)tm.tm_sec % 100u, (unsigned)ms % 1000u);
}

/* What a parse is working on, for messages. */
struct parse_ctx {
    const char *what;
    const char *input;
    disco_status *st;
};

/* Fills the status with "<what> '<input>': <message>" and returns DISCO_ERR_INVAL. */
static int bad(const struct parse_ctx *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int bad(const struct parse_ctx *c, const char *fmt, ...)
{
    char q[DISCO__QUOTE_MAX], msg[256];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return disco_status_set(c->st, DISCO_ERR_INVAL, c->what, "%s '%s': %s", c->what,
                            disco__quote(c->input, q), msg);
}

static int garbage(const struct parse_ctx *c)
{
    return bad(c, "expected an ISO 8601 time (" ISO_FORMS ") or Unix milliseconds");
}

/* Reads exactly `n` decimal digits at *p; returns 0 and advances, or -1. */
static int read_digits(const char **p, int n, int *out)
{
    int v = 0;

    for (int i = 0; i < n; i++) {
        char ch = (*p)[i];
        if (ch < '0' || ch > '9')
            return -1;
        v = v * 10 + (ch - '0');
    }
    *p += n;
    *out = v;
    return 0;
}

static int is_integer_text(const char *s)
{
    if (*s == '-' || *s == '+')
        s++;
    if (!*s)
        return 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return 0;
    }
    return 1;
}

static int parse_unix_ms(const struct parse_ctx *c, int64_t *out)
{
    long long v;

    errno = 0;
    v = strtoll(c->input, NULL, 10);
    if (errno == ERANGE)
        return bad(c, "Unix milliseconds out of range");
    *out = (int64_t)v;
    return DISCO_OK;
}

/* Broken-down time as read from the text, before it is checked. */
struct iso_parts {
    int year, month, day, hour, minute, second, millis;
    int offset_min; /* east of UTC */
};

static int is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

    return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

static int parse_date(const struct parse_ctx *c, const char **p, struct iso_parts *t)
{
    if (read_digits(p, 4, &t->year) || **p != '-')
        return garbage(c);
    (*p)++;
    if (read_digits(p, 2, &t->month) || **p != '-')
        return garbage(c);
    (*p)++;
    if (read_digits(p, 2, &t->day))
        return garbage(c);
    if (t->month < 1 || t->month > 12)
        return bad(c, "month %d out of range 1..12", t->month);
    if (t->day < 1 || t->day > days_in_month(t->year, t->month))
        return bad(c, "day %d out of range 1..%d for %04d-%02d", t->day,
                   days_in_month(t->year, t->month), t->year, t->month);
    return DISCO_OK;
}

/* Reads ".sss" (1 to 9 digits, kept to milliseconds) when present. */
static int parse_fraction(const struct parse_ctx *c, const char **p, struct iso_parts *t)
{
    int n = 0, scale = 100;

    if (**p != '.' && **p != ',')
        return DISCO_OK;
    (*p)++;
    for (; **p >= '0' && **p <= '9'; (*p)++, n++) {
        if (n < 3)
            t->millis += (**p - '0') * scale;
        scale /= 10;
    }
    if (n < 1 || n > 9)
        return bad(c, "fraction of a second must have 1 to 9 digits");
    return DISCO_OK;
}

static int parse_clock(const struct parse_ctx *c, const char **p, struct iso_parts *t)
{
    if (read_digits(p, 2, &t->hour) || **p != ':')
        return garbage(c);
    (*p)++;
    if (read_digits(p, 2, &t->minute))
        return garbage(c);
    if (**p == ':') {
        (*p)++;
        if (read_digits(p, 2, &t->second))
            return garbage(c);
    }
    if (t->hour > 23)
        return bad(c, "hour %d out of range 0..23", t->hour);
    if (t->minute > 59)
        return bad(c, "minute %d out of range 0..59", t->minute);
    if (t->second > 59)
        return bad(c, "second %d out of range 0..59", t->second);
    return parse_fraction(c, p, t);
}

/* Reads "Z", "+hh:mm", "+hhmm" or "+hh" (or '-'), or nothing. */
static int parse_zone(const struct parse_ctx *c, const char **p, struct iso_parts *t)
{
    int sign, hh, mm = 0;

    if (**p == 'Z' || **p == 'z') {
        (*p)++;
        return DISCO_OK;
    }
    if (**p != '+' && **p != '-')
        return DISCO_OK;
    sign = **p == '-' ? -1 : 1;
    (*p)++;
    if (read_digits(p, 2, &hh))
        return bad(c, "expected an offset from UTC as +hh:mm");
    if (**p == ':')
        (*p)++;
    if (**p && read_digits(p, 2, &mm))
        return bad(c, "expected an offset from UTC as +hh:mm");
    if (hh > 23 || mm > 59)
        return bad(c, "offset %c%02d:%02d out of range", sign < 0 ? '-' : '+', hh, mm);
    t->offset_min = sign * (hh * 60 + mm);
    return DISCO_OK;
}

static int64_t parts_to_ms(const struct iso_parts *t)
{
    struct tm tm;

    memset(&tm, 0, sizeof tm);
    tm.tm_year = t->year - 1900;
    tm.tm_mon = t->month - 1;
    tm.tm_mday = t->day;
    tm.tm_hour = t->hour;
    tm.tm_min = t->minute;
    tm.tm_sec = t->second;
    return ((int64_t)timegm(&tm) - (int64_t)t->offset_min * 60) * 1000 + t->millis;
}

static int parse_iso(const struct parse_ctx *c, int64_t *out)
{
    struct iso_parts t;
    const char *p = c->input;
    int rc;

    memset(&t, 0, sizeof t);
    rc = parse_date(c, &p, &t);
    if (rc == DISCO_OK && (*p == 'T' || *p == 't' || *p == ' ')) {
        p++;
        rc = parse_clock(c, &p, &t);
        if (rc == DISCO_OK)
            rc = parse_zone(c, &p, &t);
    }
    if (rc != DISCO_OK)
        return rc;
    if (*p) {
        char cq[8];
        return bad(c, "unexpected '%s' at position %zu", disco__quote_char(*p, cq),
                   (size_t)(p - c->input) + 1);
    }
    *out = parts_to_ms(&t);
    return DISCO_OK;
}

int disco_time_parse(const char *s, const char *what, int64_t *unix_ms, disco_status *st)
{
    struct parse_ctx c = {disco__what(what), s, st};

    if (!s || !*s)
        return disco_status_set(
            st, DISCO_ERR_INVAL, c.what,
            "%s: empty (expected an ISO 8601 time (" ISO_FORMS ") or Unix milliseconds)", c.what);
    if (is_integer_text(s))
        return parse_unix_ms(&c, unix_ms);
    return parse_iso(&c, unix_ms);
}

static int64_t unit_ms(const char *u)
{
    static const struct {
        const char *name;
        int64_t ms;
    } units[] = {{"", 1},        {"ms", 1},          {"s", 1000},          {"m", 60000},
                 {"h", 3600000}, {"d", 86400000LL}, {"w", 604800000LL}};

    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (strcmp(u, units[i].name) == 0)
            return units[i].ms;
    return 0;
}

int disco_duration_parse(const char *s, const char *what, int64_t *ms, disco_status *st)
{
    char q[DISCO__QUOTE_MAX];
    char *end;
    long long n;
    int64_t unit;

    errno = 0;
    n = s && *s >= '0' && *s <= '9' ? strtoll(s, &end, 10) : -1;
    unit = n >= 0 ? unit_ms(end) : 0;
    if (n < 0 || errno == ERANGE || unit == 0 || n > INT64_MAX / unit)
        return disco_status_set(st, DISCO_ERR_INVAL, what,
                                "%s '%s': expected a duration such as 500ms, 90s, 5m, 1h, 30d or 2w",
                                disco__what(what), disco__quote(s ? s : "", q));
    *ms = (int64_t)n * unit;
    return DISCO_OK;
}
