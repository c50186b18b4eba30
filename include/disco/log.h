/*
 * log.h - levelled logging through a callback the program installs.
 *
 * The library never prints: messages go to the installed handler, or
 * nowhere when none is installed. The handler and level are process-wide
 * and may be set from any thread; handlers must be thread-safe.
 */
#ifndef DISCO_LOG_H
#define DISCO_LOG_H

typedef enum disco_log_level {
    DISCO_LOG_ERROR = 0,
    DISCO_LOG_WARN = 1,
    DISCO_LOG_INFO = 2,
    DISCO_LOG_DEBUG = 3,
    DISCO_LOG_TRACE = 4,
} disco_log_level;

typedef void (*disco_log_fn)(void *user, disco_log_level level, const char *msg);

/* Installs `fn` (NULL: drop all messages). */
void disco_log_set_handler(disco_log_fn fn, void *user);

/* Messages above `level` are dropped before formatting. Default: INFO. */
void disco_log_set_level(disco_log_level level);
disco_log_level disco_log_get_level(void);

/* "error", "warn", "info", "debug", "trace". */
const char *disco_log_level_name(disco_log_level level);

/* Parses a level name (case-insensitive) or digit; returns 0 or DISCO_ERR_INVAL. */
int disco_log_level_parse(const char *s, disco_log_level *out);

void disco_log(disco_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define DISCO_LOG_ERROR(...) disco_log(DISCO_LOG_ERROR, __VA_ARGS__)
#define DISCO_LOG_WARN(...) disco_log(DISCO_LOG_WARN, __VA_ARGS__)
#define DISCO_LOG_INFO(...) disco_log(DISCO_LOG_INFO, __VA_ARGS__)
#define DISCO_LOG_DEBUG(...) disco_log(DISCO_LOG_DEBUG, __VA_ARGS__)

#endif
