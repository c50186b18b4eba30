/*
 * log.c - process-wide log level and handler.
 */
#include "disco/log.h"

#include "disco/err.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <strings.h>

static _Atomic int g_level = DISCO_LOG_INFO;
static disco_log_fn _Atomic g_fn;
static void *_Atomic g_user;

void disco_log_set_handler(disco_log_fn fn, void *user)
{
    atomic_store(&g_user, user);
    atomic_store(&g_fn, fn);
}

void disco_log_set_level(disco_log_level level)
{
    atomic_store(&g_level, (int)level);
}

disco_log_level disco_log_get_level(void)
{
    return (disco_log_level)atomic_load(&g_level);
}

static const char *const level_names[] = {"error", "warn", "info", "debug", "trace"};

const char *disco_log_level_name(disco_log_level level)
{
    if ((int)level < 0 || (int)level > DISCO_LOG_TRACE)
        return "?";
    return level_names[level];
}

int disco_log_level_parse(const char *s, disco_log_level *out)
{
    if (!s)
        return DISCO_ERR_INVAL;
    if (s[0] >= '0' && s[0] <= '4' && s[1] == '\0') {
        *out = (disco_log_level)(s[0] - '0');
        return DISCO_OK;
    }
    for (int i = 0; i <= DISCO_LOG_TRACE; i++) {
        if (strcasecmp(s, level_names[i]) == 0) {
            *out = (disco_log_level)i;
            return DISCO_OK;
        }
    }
    if (strcasecmp(s, "warning") == 0) {
        *out = DISCO_LOG_WARN;
        return DISCO_OK;
    }
    return DISCO_ERR_INVAL;
}

void disco_log(disco_log_level level, const char *fmt, ...)
{
    disco_log_fn fn = atomic_load(&g_fn);
    char buf[1024];
    va_list ap;

    if (!fn || (int)level > atomic_load(&g_level))
        return;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    fn(atomic_load(&g_user), level, buf);
}
