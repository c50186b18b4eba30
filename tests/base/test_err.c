/*
 * test_err.c - error codes and status, logging, progress reporting, version.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "disco/err.h"
#include "disco/log.h"
#include "disco/progress.h"
#include "disco/version.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void test_strerror_and_names(void **state)
{
    (void)state;
    assert_string_equal(disco_strerror(DISCO_OK), "success");
    assert_string_equal(disco_strerror(DISCO_ERR_NOTFOUND), "not found");
    assert_string_equal(disco_strerror(DISCO_ERR_INTERNAL), "internal error");
    assert_string_equal(disco_strerror(-999), "unknown error");
    assert_string_equal(disco_strerror(1), "unknown error");
    assert_string_equal(disco_errname(DISCO_ERR_INVAL), "INVAL");
    assert_string_equal(disco_errname(DISCO_ERR_LIMIT), "LIMIT");
    assert_string_equal(disco_errname(-999), "UNKNOWN");
}

/* Every code in the map has its own value, text and name. */
static void test_error_map_is_consistent(void **state)
{
    static const int codes[] = {
#define CODE(name, value, msg) value,
        DISCO_ERR_MAP(CODE)
#undef CODE
    };
    size_t n = sizeof codes / sizeof codes[0];

    (void)state;
    for (size_t i = 0; i < n; i++) {
        assert_true(codes[i] <= 0);
        assert_string_not_equal(disco_strerror(codes[i]), "unknown error");
        assert_string_not_equal(disco_errname(codes[i]), "UNKNOWN");
        for (size_t j = i + 1; j < n; j++) {
            assert_int_not_equal(codes[i], codes[j]);
            assert_string_not_equal(disco_errname(codes[i]), disco_errname(codes[j]));
        }
    }
}

static void test_status_set_and_clear(void **state)
{
    disco_status st;

    (void)state;
    memset(&st, 0x55, sizeof st);
    disco_status_clear(&st);
    assert_int_equal(st.code, DISCO_OK);
    assert_string_equal(st.field, "");
    assert_string_equal(disco_status_message(&st), "success");
    assert_int_equal(disco_status_set(&st, DISCO_ERR_INVAL, "tempo", "tempo %d out of range %d..%d",
                                      900, 20, 400),
                     DISCO_ERR_INVAL);
    assert_int_equal(st.code, DISCO_ERR_INVAL);
    assert_string_equal(st.field, "tempo");
    assert_string_equal(st.msg, "tempo 900 out of range 20..400");
    assert_string_equal(disco_status_message(&st), "tempo 900 out of range 20..400");
    assert_int_equal(disco_status_set(&st, DISCO_ERR_IO, NULL, "second"), DISCO_ERR_IO);
    assert_string_equal(st.field, "");
    assert_string_equal(st.msg, "second");
    assert_int_equal(disco_status_set(NULL, DISCO_ERR_BUSY, "f", "x"), DISCO_ERR_BUSY);
    disco_status_clear(NULL);
    assert_string_equal(disco_status_message(NULL), "");
}

static void test_status_truncates_long_messages(void **state)
{
    char big[2 * DISCO_STATUS_MSG_MAX], field[2 * DISCO_STATUS_FIELD_MAX];
    disco_status st = {0};

    (void)state;
    memset(big, 'm', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    memset(field, 'f', sizeof field - 1);
    field[sizeof field - 1] = '\0';
    disco_status_set(&st, DISCO_ERR_INVAL, field, "%s", big);
    assert_int_equal(strlen(st.msg), DISCO_STATUS_MSG_MAX - 1);
    assert_int_equal(strlen(st.field), DISCO_STATUS_FIELD_MAX - 1);
    disco_status_errno(&st, ENOENT, NULL, "%s", big);
    assert_int_equal(strlen(st.msg), DISCO_STATUS_MSG_MAX - 1);
}

static void test_status_errno(void **state)
{
    disco_status st = {0};
    char want[256];

    (void)state;
    assert_int_equal(disco_status_errno(&st, ENOENT, "path", "cannot open '%s'", "/x"),
                     DISCO_ERR_NOTFOUND);
    snprintf(want, sizeof want, "cannot open '/x': %s", strerror(ENOENT));
    assert_string_equal(st.msg, want);
    assert_string_equal(st.field, "path");
    assert_int_equal(disco_status_errno(NULL, ENOSPC, NULL, "x"), DISCO_ERR_NOSPC);
}

static void test_errno_mapping(void **state)
{
    (void)state;
    assert_int_equal(disco_err_from_errno(ENOENT), DISCO_ERR_NOTFOUND);
    assert_int_equal(disco_err_from_errno(ENOTDIR), DISCO_ERR_NOTFOUND);
    assert_int_equal(disco_err_from_errno(ENOSPC), DISCO_ERR_NOSPC);
    assert_int_equal(disco_err_from_errno(EFBIG), DISCO_ERR_NOSPC);
    assert_int_equal(disco_err_from_errno(EDQUOT), DISCO_ERR_NOSPC);
    assert_int_equal(disco_err_from_errno(EACCES), DISCO_ERR_PERM);
    assert_int_equal(disco_err_from_errno(EPERM), DISCO_ERR_PERM);
    assert_int_equal(disco_err_from_errno(EROFS), DISCO_ERR_PERM);
    assert_int_equal(disco_err_from_errno(ENOMEM), DISCO_ERR_NOMEM);
    assert_int_equal(disco_err_from_errno(EEXIST), DISCO_ERR_EXISTS);
    assert_int_equal(disco_err_from_errno(EINVAL), DISCO_ERR_INVAL);
    assert_int_equal(disco_err_from_errno(EISDIR), DISCO_ERR_INVAL);
    assert_int_equal(disco_err_from_errno(EIO), DISCO_ERR_IO);
    assert_int_equal(disco_err_from_errno(EPIPE), DISCO_ERR_IO);
}

struct log_capture {
    int calls;
    disco_log_level level;
    char msg[2048];
};

static void capture_log(void *user, disco_log_level level, const char *msg)
{
    struct log_capture *c = user;

    c->calls++;
    c->level = level;
    snprintf(c->msg, sizeof c->msg, "%s", msg);
}

static void test_log_handler_and_level(void **state)
{
    struct log_capture c = {0};

    (void)state;
    disco_log(DISCO_LOG_ERROR, "no handler installed: dropped");
    disco_log_set_handler(capture_log, &c);
    assert_int_equal(disco_log_get_level(), DISCO_LOG_INFO);
    DISCO_LOG_INFO("loaded %d tracks", 3);
    assert_int_equal(c.calls, 1);
    assert_int_equal(c.level, DISCO_LOG_INFO);
    assert_string_equal(c.msg, "loaded 3 tracks");
    DISCO_LOG_DEBUG("hidden");
    assert_int_equal(c.calls, 1);
    disco_log_set_level(DISCO_LOG_TRACE);
    DISCO_LOG_DEBUG("shown");
    assert_int_equal(c.calls, 2);
    assert_string_equal(c.msg, "shown");
    disco_log_set_level(DISCO_LOG_ERROR);
    DISCO_LOG_WARN("hidden");
    DISCO_LOG_ERROR("boom");
    assert_int_equal(c.calls, 3);
    assert_int_equal(c.level, DISCO_LOG_ERROR);
    disco_log_set_handler(NULL, NULL);
    DISCO_LOG_ERROR("dropped");
    assert_int_equal(c.calls, 3);
    disco_log_set_level(DISCO_LOG_INFO);
}

static void test_log_long_message_truncated(void **state)
{
    struct log_capture c = {0};
    char big[1500];

    (void)state;
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    disco_log_set_handler(capture_log, &c);
    DISCO_LOG_ERROR("%s", big);
    assert_int_equal(c.calls, 1);
    assert_true(strlen(c.msg) > 0 && strlen(c.msg) < sizeof big - 1);
    disco_log_set_handler(NULL, NULL);
}

static void test_log_level_names(void **state)
{
    disco_log_level lv = DISCO_LOG_INFO;

    (void)state;
    assert_string_equal(disco_log_level_name(DISCO_LOG_ERROR), "error");
    assert_string_equal(disco_log_level_name(DISCO_LOG_TRACE), "trace");
    assert_string_equal(disco_log_level_name((disco_log_level)9), "?");
    assert_int_equal(disco_log_level_parse("WARN", &lv), DISCO_OK);
    assert_int_equal(lv, DISCO_LOG_WARN);
    assert_int_equal(disco_log_level_parse("warning", &lv), DISCO_OK);
    assert_int_equal(lv, DISCO_LOG_WARN);
    assert_int_equal(disco_log_level_parse("3", &lv), DISCO_OK);
    assert_int_equal(lv, DISCO_LOG_DEBUG);
    assert_int_equal(disco_log_level_parse("5", &lv), DISCO_ERR_INVAL);
    assert_int_equal(disco_log_level_parse("33", &lv), DISCO_ERR_INVAL);
    assert_int_equal(disco_log_level_parse("", &lv), DISCO_ERR_INVAL);
    assert_int_equal(disco_log_level_parse(NULL, &lv), DISCO_ERR_INVAL);
    assert_int_equal(lv, DISCO_LOG_DEBUG);
}

struct progress_capture {
    int calls;
    uint64_t done, total;
    char stage[64];
    int cancel_at;
};

static int capture_progress(void *user, const char *stage, uint64_t done, uint64_t total)
{
    struct progress_capture *c = user;

    c->calls++;
    c->done = done;
    c->total = total;
    snprintf(c->stage, sizeof c->stage, "%s", stage);
    return c->cancel_at && (int)done >= c->cancel_at;
}

static void test_progress(void **state)
{
    struct progress_capture c = {0};
    disco_progress p = {capture_progress, &c};
    disco_progress none = {NULL, NULL};

    (void)state;
    assert_int_equal(disco_progress_report(NULL, "x", 1, 2), 0);
    assert_int_equal(disco_progress_report(&none, "x", 1, 2), 0);
    assert_int_equal(disco_progress_report(&p, "render", 3, 10), 0);
    assert_int_equal(c.calls, 1);
    assert_string_equal(c.stage, "render");
    assert_true(c.done == 3 && c.total == 10);
    c.cancel_at = 5;
    assert_int_equal(disco_progress_report(&p, "render", 4, 10), 0);
    assert_int_not_equal(disco_progress_report(&p, "render", 5, 10), 0);
    assert_int_equal(c.calls, 3);
}

static void test_version(void **state)
{
    const char *v = disco_version();
    int major = -1, minor = -1, patch = -1;

    (void)state;
    assert_string_equal(v, DISCO_VERSION_STRING);
    assert_int_equal(sscanf(v, "%d.%d.%d", &major, &minor, &patch), 3);
    assert_true(major >= 0 && minor >= 0 && patch >= 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_strerror_and_names),
        cmocka_unit_test(test_error_map_is_consistent),
        cmocka_unit_test(test_status_set_and_clear),
        cmocka_unit_test(test_status_truncates_long_messages),
        cmocka_unit_test(test_status_errno),
        cmocka_unit_test(test_errno_mapping),
        cmocka_unit_test(test_log_handler_and_level),
        cmocka_unit_test(test_log_long_message_truncated),
        cmocka_unit_test(test_log_level_names),
        cmocka_unit_test(test_progress),
        cmocka_unit_test(test_version),
    };
    return cmocka_run_group_tests_name("base/err", tests, NULL, NULL);
}
