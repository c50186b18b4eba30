/*
 * timeutil.h - wall-clock and monotonic time, ISO 8601 formatting and parsing.
 */
#ifndef DISCO_TIMEUTIL_H
#define DISCO_TIMEUTIL_H

#include "disco/err.h"

#include <stddef.h>
#include <stdint.h>

/* Unix time in milliseconds (CLOCK_REALTIME). */
int64_t disco_time_now_ms(void);

/* Monotonic nanoseconds, for durations. */
uint64_t disco_time_mono_ns(void);

#define DISCO_TIME_ISO_MAX 32

/* "2026-11-21T05:59:56.123Z" into `buf` (DISCO_TIME_ISO_MAX bytes). */
void disco_time_format_iso(int64_t unix_ms, char buf[DISCO_TIME_ISO_MAX]);

/*
 * Parses a time given as ISO 8601 ("2026-11-21", "2026-11-21T05:59:56Z",
 * with optional ".sss" and a "Z" or "+hh:mm" offset; no offset means UTC)
 * or as an integer of Unix milliseconds. `what` names the input in errors.
 */
int disco_time_parse(const char *s, const char *what, int64_t *unix_ms, disco_status *st);

/*
 * Parses a duration: an integer with a unit ms, s, m, h, d or w ("90s",
 * "5m", "30d"), or a plain integer of milliseconds. Negative durations and
 * overflow are INVAL naming `what` and the text.
 */
int disco_duration_parse(const char *s, const char *what, int64_t *ms, disco_status *st);

#endif
