/*
 * config.h - run-time configuration: defaults < file < environment < flags.
 *
 * The file is lines of `key = value` ('#' starts a comment). Keys:
 *   data_dir      DISCO_DATA           data directory (default ./disco-data)
 *   log_level     DISCO_LOG_LEVEL      error|warn|info|debug|trace (default info)
 *   postgres_uri  DISCO_POSTGRES_URI   reserved for the scale-out catalog
 *   user          DISCO_USER           principal that owns what the CLI creates
 *                                      (default: $USER, else "local")
 *   threads       DISCO_THREADS        worker threads, 0 = one per CPU (default 0)
 *   tsdb_fsync    DISCO_TSDB_FSYNC     always|interval|never: when the time-series
 *                                      log is synced (default always)
 *   tsdb_retention   DISCO_TSDB_RETENTION   drop points older than this duration
 *                                      ("30d"; default 0 = keep forever)
 *   tsdb_ooo_window  DISCO_TSDB_OOO_WINDOW  accept points this far behind a series'
 *                                      newest (default 1h)
 * The file is the one named by --config, else $DISCO_CONFIG, else none.
 */
#ifndef DISCO_CONFIG_H
#define DISCO_CONFIG_H

#include "disco/err.h"
#include "disco/log.h"

#include <stdint.h>

#define DISCO_CONFIG_STR_MAX 1024

typedef struct disco_config {
    char data_dir[DISCO_CONFIG_STR_MAX];
    char postgres_uri[DISCO_CONFIG_STR_MAX];
    char user[128];
    disco_log_level log_level;
    int threads;
    int tsdb_fsync;             /* 0 always, 1 interval, 2 never (disco_tsdb_fsync) */
    int64_t tsdb_retention_ms;  /* 0: keep forever */
    int64_t tsdb_ooo_window_ms;
} disco_config;

/* Built-in defaults. */
disco_config disco_config_default(void);

/*
 * Applies one key/value; `origin` names where it came from for messages
 * ("disco.conf:3", "DISCO_LOG_LEVEL", "--data"). Unknown keys and bad values
 * are DISCO_ERR_INVAL ("disco.conf:3: unknown key 'colour'").
 */
int disco_config_set(disco_config *cfg, const char *key, const char *value, const char *origin,
                     disco_status *st);

/* Applies a config file. A missing file is DISCO_ERR_NOTFOUND. */
int disco_config_load_file(disco_config *cfg, const char *path, disco_status *st);

/* Applies the DISCO_* environment variables that are set. */
int disco_config_load_env(disco_config *cfg, disco_status *st);

/*
 * The usual sequence: defaults, then `file` (or $DISCO_CONFIG when `file` is
 * NULL; nothing when neither), then the environment. Flags are applied by
 * the caller afterwards with disco_config_set().
 */
int disco_config_load(disco_config *cfg, const char *file, disco_status *st);

#endif
