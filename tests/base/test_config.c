/*
 * test_config.c - configuration defaults, file syntax, environment and precedence.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "disco/config.h"
#include "support/testutil.h"

#include <stdlib.h>
#include <string.h>

static const char *const env_vars[] = {"DISCO_DATA", "DISCO_LOG_LEVEL", "DISCO_POSTGRES_URI",
                                       "DISCO_USER", "DISCO_THREADS",   "DISCO_CONFIG"};

struct fixture {
    char *dir;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);

    for (size_t i = 0; i < sizeof env_vars / sizeof env_vars[0]; i++)
        unsetenv(env_vars[i]);
    f->dir = tu_tmpdir("config");
    *state = f;
    return f->dir ? 0 : -1;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    tu_rmrf(f->dir);
    free(f->dir);
    free(f);
    return 0;
}

/* Writes `text` to <dir>/<name>; returns the malloc'd path. */
static char *write_conf(void **state, const char *name, const char *text)
{
    struct fixture *f = *state;
    char *path = tu_path(f->dir, name);

    assert_int_equal(tu_write_file(path, text, strlen(text)), 0);
    return path;
}

static void test_defaults(void **state)
{
    const char *orig = getenv("USER");
    char *saved = orig ? strdup(orig) : NULL;
    disco_config cfg;

    (void)state;
    setenv("USER", "ada", 1);
    cfg = disco_config_default();
    assert_string_equal(cfg.data_dir, "./disco-data");
    assert_string_equal(cfg.postgres_uri, "");
    assert_string_equal(cfg.user, "ada");
    assert_int_equal(cfg.log_level, DISCO_LOG_INFO);
    assert_int_equal(cfg.threads, 0);
    unsetenv("USER");
    cfg = disco_config_default();
    assert_string_equal(cfg.user, "local");
    setenv("USER", "bad name", 1);
    cfg = disco_config_default();
    assert_string_equal(cfg.user, "local");
    if (saved)
        setenv("USER", saved, 1);
    else
        unsetenv("USER");
    free(saved);
}

static void test_set_each_key(void **state)
{
    disco_config cfg = disco_config_default();
    disco_status st = {0};

    (void)state;
    assert_int_equal(disco_config_set(&cfg, "data_dir", "/srv/disco", "--data", &st), DISCO_OK);
    assert_int_equal(disco_config_set(&cfg, "log_level", "DEBUG", "--log-level", &st), DISCO_OK);
    assert_int_equal(disco_config_set(&cfg, "postgres_uri", "postgres://h/db", "x", &st), DISCO_OK);
    assert_int_equal(disco_config_set(&cfg, "user", "grace", "x", &st), DISCO_OK);
    assert_int_equal(disco_config_set(&cfg, "threads", "8", "x", &st), DISCO_OK);
    assert_string_equal(cfg.data_dir, "/srv/disco");
    assert_int_equal(cfg.log_level, DISCO_LOG_DEBUG);
    assert_string_equal(cfg.postgres_uri, "postgres://h/db");
    assert_string_equal(cfg.user, "grace");
    assert_int_equal(cfg.threads, 8);
    assert_int_equal(disco_config_set(&cfg, "postgres_uri", "", "x", &st), DISCO_OK);
    assert_string_equal(cfg.postgres_uri, "");
}

static void test_set_rejects_bad_values(void **state)
{
    disco_config cfg = disco_config_default(), before;
    disco_status st = {0};
    char longv[DISCO_CONFIG_STR_MAX + 10];

    (void)state;
    before = cfg;
    assert_int_equal(disco_config_set(&cfg, "colour", "red", "disco.conf:3", &st), DISCO_ERR_INVAL);
    assert_string_equal(st.msg, "disco.conf:3: unknown key 'colour'");
    assert_int_equal(disco_config_set(&cfg, "log_level", "loud", "DISCO_LOG_LEVEL", &st),
                     DISCO_ERR_INVAL);
    assert_string_equal(st.msg, "DISCO_LOG_LEVEL: log_level 'loud': expected error, warn, info, "
                                "debug or trace");
    assert_string_equal(st.field, "log_level");
    assert_int_equal(disco_config_set(&cfg, "threads", "-1", "--threads", &st), DISCO_ERR_INVAL);
    assert_string_equal(st.msg, "--threads: threads '-1' is not a whole number in 0..4096");
    assert_int_equal(disco_config_set(&cfg, "threads", "4x", "t", &st), DISCO_ERR_INVAL);
    assert_int_equal(disco_config_set(&cfg, "threads", "", "t", &st), DISCO_ERR_INVAL);
    assert_int_equal(disco_config_set(&cfg, "threads", "99999999999999999999", "t", &st),
                     DISCO_ERR_INVAL);
    assert_int_equal(disco_config_set(&cfg, "data_dir", "", "--data", &st), DISCO_ERR_INVAL);
    assert_string_equal(st.msg, "--data: data_dir must not be empty");
    memset(longv, 'x', sizeof longv - 1);
    longv[sizeof longv - 1] = '\0';
    assert_int_equal(disco_config_set(&cfg, "data_dir", longv, "--data", &st), DISCO_ERR_INVAL);
    assert_non_null(strstr(st.msg, "more than the limit of 1023"));
    assert_int_equal(disco_config_set(&cfg, "user", "a b", "--user", &st), DISCO_ERR_INVAL);
    assert_non_null(strstr(st.msg, "--user: user 'a b'"));
    assert_int_equal(disco_config_set(&cfg, "user", "", "--user", &st), DISCO_ERR_INVAL);
    assert_int_equal(disco_config_set(&cfg, NULL, "x", "o", &st), DISCO_ERR_INVAL);
    assert_string_equal(cfg.data_dir, before.data_dir);
    assert_string_equal(cfg.user, before.user);
    assert_int_equal(cfg.log_level, before.log_level);
    assert_int_equal(cfg.threads, before.threads);
}

static void test_file_syntax(void **state)
{
    char *path = write_conf(state, "disco.conf",
                            "# Disco-Musica settings\n"
                            "\n"
                            "   data_dir=/var/lib/disco   # trailing comment\n"
                            "log_level = warn\r\n"
                            "postgres_uri = postgres://u:p#w@h/db\n"
                            "user = \"quoted\"\n"
                            "threads = 2\n"
                            "threads = 3\n"
                            "\t# indented comment\n");
    disco_config cfg = disco_config_default();
    disco_status st = {0};

    assert_int_equal(disco_config_load_file(&cfg, path, &st), DISCO_OK);
    assert_string_equal(cfg.data_dir, "/var/lib/disco");
    assert_int_equal(cfg.log_level, DISCO_LOG_WARN);
    assert_string_equal(cfg.postgres_uri, "postgres://u:p#w@h/db");
    assert_string_equal(cfg.user, "quoted");
    assert_int_equal(cfg.threads, 3);
    free(path);
}

static void test_file_errors_name_line(void **state)
{
    char *unknown = write_conf(state, "a.conf", "data_dir = /x\n# c\ncolour = red\n");
    char *noeq = write_conf(state, "b.conf", "data_dir /x\n");
    char *badval = write_conf(state, "c.conf", "\n\nthreads = many\n");
    char *missing = tu_path(((struct fixture *)*state)->dir, "none.conf");
    disco_config cfg = disco_config_default();
    disco_status st = {0};
    char want[4200];

    assert_int_equal(disco_config_load_file(&cfg, unknown, &st), DISCO_ERR_INVAL);
    snprintf(want, sizeof want, "%s:3: unknown key 'colour'", unknown);
    assert_string_equal(st.msg, want);
    assert_int_equal(disco_config_load_file(&cfg, noeq, &st), DISCO_ERR_INVAL);
    snprintf(want, sizeof want, "%s:1: expected 'key = value'", noeq);
    assert_string_equal(st.msg, want);
    assert_int_equal(disco_config_load_file(&cfg, badval, &st), DISCO_ERR_INVAL);
    snprintf(want, sizeof want, "%s:3: threads 'many'", badval);
    assert_non_null(strstr(st.msg, want));
    assert_int_equal(disco_config_load_file(&cfg, missing, &st), DISCO_ERR_NOTFOUND);
    assert_non_null(strstr(st.msg, missing));
    free(unknown);
    free(noeq);
    free(badval);
    free(missing);
}

static void test_env(void **state)
{
    disco_config cfg = disco_config_default();
    disco_status st = {0};

    (void)state;
    setenv("DISCO_DATA", "/env/data", 1);
    setenv("DISCO_THREADS", "5", 1);
    setenv("DISCO_USER", "", 1);
    assert_int_equal(disco_config_load_env(&cfg, &st), DISCO_OK);
    assert_string_equal(cfg.data_dir, "/env/data");
    assert_int_equal(cfg.threads, 5);
    assert_string_not_equal(cfg.user, "");
    setenv("DISCO_LOG_LEVEL", "chatty", 1);
    assert_int_equal(disco_config_load_env(&cfg, &st), DISCO_ERR_INVAL);
    assert_non_null(strstr(st.msg, "DISCO_LOG_LEVEL: log_level 'chatty'"));
    unsetenv("DISCO_DATA");
    unsetenv("DISCO_THREADS");
    unsetenv("DISCO_USER");
    unsetenv("DISCO_LOG_LEVEL");
}

/* file < environment < flags, each layer overriding only what it sets. */
static void test_precedence(void **state)
{
    char *path =
        write_conf(state, "p.conf", "data_dir = /from/file\nthreads = 2\nlog_level = error\n");
    disco_config cfg;
    disco_status st = {0};

    setenv("DISCO_THREADS", "4", 1);
    setenv("DISCO_LOG_LEVEL", "debug", 1);
    assert_int_equal(disco_config_load(&cfg, path, &st), DISCO_OK);
    assert_string_equal(cfg.data_dir, "/from/file");
    assert_int_equal(cfg.threads, 4);
    assert_int_equal(cfg.log_level, DISCO_LOG_DEBUG);
    assert_string_equal(cfg.postgres_uri, "");
    assert_int_equal(disco_config_set(&cfg, "log_level", "trace", "--log-level", &st), DISCO_OK);
    assert_int_equal(cfg.log_level, DISCO_LOG_TRACE);
    assert_int_equal(cfg.threads, 4);
    unsetenv("DISCO_THREADS");
    unsetenv("DISCO_LOG_LEVEL");
    free(path);
}

static void test_load_uses_disco_config(void **state)
{
    char *path = write_conf(state, "env.conf", "data_dir = /via/env\n");
    char *missing = tu_path(((struct fixture *)*state)->dir, "nope.conf");
    disco_config cfg;
    disco_status st = {0};

    assert_int_equal(disco_config_load(&cfg, NULL, &st), DISCO_OK);
    assert_string_equal(cfg.data_dir, "./disco-data");
    setenv("DISCO_CONFIG", path, 1);
    assert_int_equal(disco_config_load(&cfg, NULL, &st), DISCO_OK);
    assert_string_equal(cfg.data_dir, "/via/env");
    setenv("DISCO_CONFIG", missing, 1);
    assert_int_equal(disco_config_load(&cfg, NULL, &st), DISCO_ERR_NOTFOUND);
    assert_non_null(strstr(st.msg, missing));
    assert_int_equal(disco_config_load(&cfg, path, &st), DISCO_OK);
    unsetenv("DISCO_CONFIG");
    free(path);
    free(missing);
}

static void test_tsdb_keys(void **state)
{
    disco_config cfg = disco_config_default();
    disco_status st = {0};
    (void)state;

    assert_int_equal(cfg.tsdb_fsync, 0);
    assert_int_equal(cfg.tsdb_retention_ms, 0);
    assert_int_equal(cfg.tsdb_ooo_window_ms, 3600000);
    assert_int_equal(disco_config_set(&cfg, "tsdb_fsync", "never", "t", &st), DISCO_OK);
    assert_int_equal(cfg.tsdb_fsync, 2);
    assert_int_equal(disco_config_set(&cfg, "tsdb_retention", "30d", "t", &st), DISCO_OK);
    assert_int_equal(cfg.tsdb_retention_ms, 30LL * 86400000);
    assert_int_equal(disco_config_set(&cfg, "tsdb_ooo_window", "10m", "t", &st), DISCO_OK);
    assert_int_equal(cfg.tsdb_ooo_window_ms, 600000);
    assert_int_equal(disco_config_set(&cfg, "tsdb_fsync", "sometimes", "f.conf:2", &st),
                     DISCO_ERR_INVAL);
    assert_non_null(strstr(st.msg, "f.conf:2: tsdb_fsync 'sometimes'"));
    assert_int_equal(disco_config_set(&cfg, "tsdb_retention", "soon", "f.conf:3", &st),
                     DISCO_ERR_INVAL);
    assert_non_null(strstr(st.msg, "f.conf:3: tsdb_retention 'soon'"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_defaults, setup, teardown),
        cmocka_unit_test_setup_teardown(test_set_each_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_set_rejects_bad_values, setup, teardown),
        cmocka_unit_test_setup_teardown(test_file_syntax, setup, teardown),
        cmocka_unit_test_setup_teardown(test_file_errors_name_line, setup, teardown),
        cmocka_unit_test_setup_teardown(test_env, setup, teardown),
        cmocka_unit_test_setup_teardown(test_precedence, setup, teardown),
        cmocka_unit_test_setup_teardown(test_load_uses_disco_config, setup, teardown),
        cmocka_unit_test(test_tsdb_keys),
    };
    return cmocka_run_group_tests_name("base/config", tests, NULL, NULL);
}
