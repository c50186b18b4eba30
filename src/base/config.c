/*
 * config.c - run-time configuration from defaults, a file, the environment
 * and flags, later sources overriding earlier ones.
 *
 * File syntax, one setting a line:
 *     # a comment
 *     data_dir = /srv/disco      # a comment after whitespace
 *     user = "ada"               # quotes keep spaces and '#'
 * A '#' only starts a comment at the start of a line or after whitespace,
 * so values such as URIs may contain one. Empty environment variables count
 * as unset.
 */
#include "disco/config.h"

#include "disco/timeutil.h"

#include "base_int.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define THREADS_MAX 4096

/* Each key with the environment variable that sets it. */
static const struct {
    const char *key;
    const char *env;
} config_keys[] = {
    {"data_dir", "DISCO_DATA"},
    {"log_level", "DISCO_LOG_LEVEL"},
    {"postgres_uri", "DISCO_POSTGRES_URI"},
    {"user", "DISCO_USER"},
    {"threads", "DISCO_THREADS"},
    {"tsdb_fsync", "DISCO_TSDB_FSYNC"},
    {"tsdb_retention", "DISCO_TSDB_RETENTION"},
    {"tsdb_ooo_window", "DISCO_TSDB_OOO_WINDOW"},
};

#define N_KEYS (sizeof config_keys / sizeof config_keys[0])

/* A user name: 1..127 bytes, no whitespace or control characters. */
static int user_ok(const char *s)
{
    size_t len = strlen(s);

    if (len == 0 || len >= sizeof((disco_config *)0)->user)
        return 0;
    for (; *s; s++) {
        if ((unsigned char)*s <= 0x20 || *s == 0x7F)
            return 0;
    }
    return 1;
}

disco_config disco_config_default(void)
{
    disco_config cfg;
    const char *user = getenv("USER");

    memset(&cfg, 0, sizeof cfg);
    snprintf(cfg.data_dir, sizeof cfg.data_dir, "./disco-data");
    snprintf(cfg.user, sizeof cfg.user, "%s", user && user_ok(user) ? user : "local");
    cfg.log_level = DISCO_LOG_INFO;
    cfg.threads = 0;
    cfg.tsdb_ooo_window_ms = 3600 * 1000;
    return cfg;
}

static int set_string(char *dst, size_t cap, int allow_empty, const char *key, const char *value,
                      const char *origin, disco_status *st)
{
    size_t len = strlen(value);

    if (len == 0 && !allow_empty)
        return disco_status_set(st, DISCO_ERR_INVAL, key, "%s: %s must not be empty", origin, key);
    if (len >= cap)
        return disco_status_set(st, DISCO_ERR_INVAL, key,
                                "%s: %s is %zu bytes long, more than the limit of %zu", origin, key,
                                len, cap - 1);
    memcpy(dst, value, len + 1);
    return DISCO_OK;
}

static int set_threads(disco_config *cfg, const char *value, const char *origin, disco_status *st)
{
    char q[DISCO__QUOTE_MAX];
    char *end;
    long v;

    errno = 0;
    v = strtol(value, &end, 10);
    if (end == value || *end || errno == ERANGE || v < 0 || v > THREADS_MAX)
        return disco_status_set(st, DISCO_ERR_INVAL, "threads",
                                "%s: threads '%s' is not a whole number in 0..%d", origin,
                                disco__quote(value, q), THREADS_MAX);
    cfg->threads = (int)v;
    return DISCO_OK;
}

static int set_fsync(disco_config *cfg, const char *value, const char *origin, disco_status *st)
{
    static const char *const names[] = {"always", "interval", "never"};
    char q[DISCO__QUOTE_MAX];

    for (int i = 0; i < 3; i++) {
        if (strcmp(value, names[i]) == 0) {
            cfg->tsdb_fsync = i;
            return DISCO_OK;
        }
    }
    return disco_status_set(st, DISCO_ERR_INVAL, "tsdb_fsync",
                            "%s: tsdb_fsync '%s': expected always, interval or never", origin,
                            disco__quote(value, q));
}

static int set_duration(int64_t *dst, const char *key, const char *value, const char *origin,
                        disco_status *st)
{
    char what[256];

    snprintf(what, sizeof what, "%s: %s", origin, key);
    return disco_duration_parse(value, what, dst, st);
}

static int set_user(disco_config *cfg, const char *value, const char *origin, disco_status *st)
{
    char q[DISCO__QUOTE_MAX];

    if (!user_ok(value))
        return disco_status_set(st, DISCO_ERR_INVAL, "user",
                                "%s: user '%s' must be 1..%zu characters without spaces or "
                                "control characters",
                                origin, disco__quote(value, q), sizeof cfg->user - 1);
    memcpy(cfg->user, value, strlen(value) + 1);
    return DISCO_OK;
}

int disco_config_set(disco_config *cfg, const char *key, const char *value, const char *origin,
                     disco_status *st)
{
    char q[DISCO__QUOTE_MAX];

    origin = origin ? origin : "config";
    if (!key || !value)
        return disco_status_set(st, DISCO_ERR_INVAL, NULL, "%s: missing key or value", origin);
    if (strcmp(key, "data_dir") == 0)
        return set_string(cfg->data_dir, sizeof cfg->data_dir, 0, key, value, origin, st);
    if (strcmp(key, "postgres_uri") == 0)
        return set_string(cfg->postgres_uri, sizeof cfg->postgres_uri, 1, key, value, origin, st);
    if (strcmp(key, "user") == 0)
        return set_user(cfg, value, origin, st);
    if (strcmp(key, "threads") == 0)
        return set_threads(cfg, value, origin, st);
    if (strcmp(key, "tsdb_fsync") == 0)
        return set_fsync(cfg, value, origin, st);
    if (strcmp(key, "tsdb_retention") == 0)
        return set_duration(&cfg->tsdb_retention_ms, key, value, origin, st);
    if (strcmp(key, "tsdb_ooo_window") == 0)
        return set_duration(&cfg->tsdb_ooo_window_ms, key, value, origin, st);
    if (strcmp(key, "log_level") == 0) {
        if (disco_log_level_parse(value, &cfg->log_level) == DISCO_OK)
            return DISCO_OK;
        return disco_status_set(st, DISCO_ERR_INVAL, key,
                                "%s: log_level '%s': expected error, warn, info, debug or trace",
                                origin, disco__quote(value, q));
    }
    return disco_status_set(st, DISCO_ERR_INVAL, NULL, "%s: unknown key '%s'", origin,
                            disco__quote(key, q));
}

static char *trim(char *s)
{
    char *end;

    while (isspace((unsigned char)*s))
        s++;
    end = s + strlen(s);
    while (end > s && isspace((unsigned char)end[-1]))
        *--end = '\0';
    return s;
}

/* Cuts a comment off `line`: '#' at the start or after whitespace, outside quotes. */
static void strip_comment(char *line)
{
    int quoted = 0;

    for (char *p = line; *p; p++) {
        if (*p == '"')
            quoted = !quoted;
        else if (*p == '#' && !quoted && (p == line || isspace((unsigned char)p[-1]))) {
            *p = '\0';
            return;
        }
    }
}

/* Applies one line of a config file; blank and comment lines do nothing. */
static int apply_line(disco_config *cfg, char *line, const char *origin, disco_status *st)
{
    char *eq, *key, *value;
    size_t vlen;

    strip_comment(line);
    key = trim(line);
    if (!*key)
        return DISCO_OK;
    eq = strchr(key, '=');
    if (!eq || eq == key)
        return disco_status_set(st, DISCO_ERR_INVAL, NULL, "%s: expected 'key = value'", origin);
    *eq = '\0';
    key = trim(key);
    value = trim(eq + 1);
    vlen = strlen(value);
    if (vlen >= 2 && value[0] == '"' && value[vlen - 1] == '"') {
        value[vlen - 1] = '\0';
        value++;
    }
    return disco_config_set(cfg, key, value, origin, st);
}

int disco_config_load_file(disco_config *cfg, const char *path, disco_status *st)
{
    char origin[PATH_MAX + 32];
    char *line = NULL;
    size_t cap = 0;
    int lineno = 0, rc = DISCO_OK;
    FILE *f = fopen(path, "r");

    if (!f)
        return disco_status_errno(st, errno, "config", "config file '%s'", path);
    while (rc == DISCO_OK && getline(&line, &cap, f) >= 0) {
        snprintf(origin, sizeof origin, "%s:%d", path, ++lineno);
        rc = apply_line(cfg, line, origin, st);
    }
    if (rc == DISCO_OK && ferror(f))
        rc = disco_status_errno(st, errno, "config", "cannot read config file '%s'", path);
    free(line);
    fclose(f);
    return rc;
}

int disco_config_load_env(disco_config *cfg, disco_status *st)
{
    for (size_t i = 0; i < N_KEYS; i++) {
        const char *value = getenv(config_keys[i].env);
        int rc;
        if (!value || !*value)
            continue;
        rc = disco_config_set(cfg, config_keys[i].key, value, config_keys[i].env, st);
        if (rc != DISCO_OK)
            return rc;
    }
    return DISCO_OK;
}

int disco_config_load(disco_config *cfg, const char *file, disco_status *st)
{
    int rc;

    *cfg = disco_config_default();
    if (!file) {
        file = getenv("DISCO_CONFIG");
        if (file && !*file)
            file = NULL;
    }
    if (file) {
        rc = disco_config_load_file(cfg, file, st);
        if (rc != DISCO_OK)
            return rc;
    }
    return disco_config_load_env(cfg, st);
}
