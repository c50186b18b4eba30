/*
 * test_id.c - sortable ids: layout, ordering, monotonicity, validation.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "disco/id.h"
#include "disco/timeutil.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define MS_MAX ((UINT64_C(1) << 48) - 1)

static const char crockford[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

static void assert_well_formed(const char *id)
{
    assert_int_equal(strlen(id), DISCO_ID_LEN);
    for (size_t i = 0; i < DISCO_ID_LEN; i++)
        assert_non_null(strchr(crockford, id[i]));
    assert_true(id[0] <= '7');
    assert_true(disco_id_valid(id));
}

static void test_new_is_well_formed_and_timed(void **state)
{
    char id[DISCO_ID_LEN + 1];
    int64_t before, after;
    uint64_t ms;

    (void)state;
    before = disco_time_now_ms();
    disco_id_new(id);
    after = disco_time_now_ms();
    assert_well_formed(id);
    ms = disco_id_time_ms(id);
    assert_true(ms >= (uint64_t)before && ms <= (uint64_t)after);
}

static void test_time_prefix_encoding(void **state)
{
    char id[DISCO_ID_LEN + 1];

    (void)state;
    disco_id_new_at(0, id);
    assert_memory_equal(id, "0000000000", 10);
    assert_int_equal(disco_id_time_ms(id), 0);
    disco_id_new_at(MS_MAX, id);
    assert_memory_equal(id, "7ZZZZZZZZZ", 10);
    assert_true(disco_id_time_ms(id) == MS_MAX);
    /* Reference pairs from the ULID specification's examples. */
    disco_id_new_at(UINT64_C(1469918176385), id);
    assert_memory_equal(id, "01ARYZ6S41", 10);
    assert_true(disco_id_time_ms(id) == UINT64_C(1469918176385));
    assert_true(disco_id_time_ms("01ARZ3NDEKTSV4RRFFQ69G5FAV") == UINT64_C(1469922850259));
}

static void test_new_at_clamps_to_48_bits(void **state)
{
    char id[DISCO_ID_LEN + 1];

    (void)state;
    disco_id_new_at(UINT64_MAX, id);
    assert_well_formed(id);
    assert_true(disco_id_time_ms(id) == MS_MAX);
}

static void test_ten_thousand_ids_sort_in_creation_order(void **state)
{
    enum { N = 10000 };
    char(*ids)[DISCO_ID_LEN + 1] = malloc(N * sizeof *ids);

    (void)state;
    assert_non_null(ids);
    for (int i = 0; i < N; i++)
        disco_id_new(ids[i]);
    for (int i = 1; i < N; i++)
        assert_true(strcmp(ids[i - 1], ids[i]) < 0);
    free(ids);
}

/* Within one millisecond the random part counts up by one. */
static void test_monotonic_within_one_ms(void **state)
{
    char prev[DISCO_ID_LEN + 1], id[DISCO_ID_LEN + 1];
    const uint64_t ms = UINT64_C(1763704796123);

    (void)state;
    disco_id_new_at(ms, prev);
    for (int i = 0; i < 1000; i++) {
        disco_id_new_at(ms, id);
        assert_true(strcmp(prev, id) < 0);
        assert_true(disco_id_time_ms(id) == ms);
        assert_memory_equal(prev, id, 10);
        memcpy(prev, id, sizeof id);
    }
}

/* An import with a far-future time must not pin live ids to that time. */
static void test_new_at_does_not_disturb_live_ids(void **state)
{
    char a[DISCO_ID_LEN + 1], b[DISCO_ID_LEN + 1], imp[DISCO_ID_LEN + 1];

    (void)state;
    disco_id_new(a);
    disco_id_new_at(MS_MAX - 5, imp);
    disco_id_new_at(1, imp);
    disco_id_new(b);
    assert_true(strcmp(a, b) < 0);
    assert_true(disco_id_time_ms(b) < UINT64_C(100000000000000));
}

/* An earlier timestamp after a later one still gets a fresh, valid id. */
static void test_new_at_out_of_order(void **state)
{
    char late[DISCO_ID_LEN + 1], early[DISCO_ID_LEN + 1];

    (void)state;
    disco_id_new_at(2000000, late);
    disco_id_new_at(1000000, early);
    assert_well_formed(early);
    assert_true(disco_id_time_ms(early) == 1000000);
    assert_true(strcmp(early, late) < 0);
}

struct gen_args {
    char (*ids)[DISCO_ID_LEN + 1];
    int n;
};

static void *gen_thread(void *arg)
{
    struct gen_args *g = arg;

    for (int i = 0; i < g->n; i++)
        disco_id_new(g->ids[i]);
    return NULL;
}

static int cmp_ids(const void *a, const void *b)
{
    return strcmp(a, b);
}

static void test_threads_make_unique_ordered_ids(void **state)
{
    enum { T = 8, PER = 2000 };
    char(*ids)[DISCO_ID_LEN + 1] = malloc(T * PER * sizeof *ids);
    pthread_t th[T];
    struct gen_args args[T];

    (void)state;
    assert_non_null(ids);
    for (int t = 0; t < T; t++) {
        args[t] = (struct gen_args){ids + t * PER, PER};
        assert_int_equal(pthread_create(&th[t], NULL, gen_thread, &args[t]), 0);
    }
    for (int t = 0; t < T; t++)
        pthread_join(th[t], NULL);
    for (int t = 0; t < T; t++) {
        for (int i = 1; i < PER; i++)
            assert_true(strcmp(args[t].ids[i - 1], args[t].ids[i]) < 0);
    }
    qsort(ids, T * PER, sizeof *ids, cmp_ids);
    for (int i = 1; i < T * PER; i++)
        assert_true(strcmp(ids[i - 1], ids[i]) != 0);
    free(ids);
}

static void test_check_accepts_both_cases(void **state)
{
    char id[DISCO_ID_LEN + 1];
    disco_status st = {0};

    (void)state;
    disco_id_new(id);
    assert_int_equal(disco_id_check(id, "resource id", &st), DISCO_OK);
    for (size_t i = 0; i < DISCO_ID_LEN; i++) {
        if (id[i] >= 'A' && id[i] <= 'Z')
            id[i] = (char)(id[i] - 'A' + 'a');
    }
    assert_int_equal(disco_id_check(id, "resource id", &st), DISCO_OK);
    assert_int_equal(disco_id_check("01arz3ndektsv4rrffq69g5fav", "id", NULL), DISCO_OK);
    assert_true(disco_id_time_ms("01arz3ndektsv4rrffq69g5fav") ==
                disco_id_time_ms("01ARZ3NDEKTSV4RRFFQ69G5FAV"));
}

static void test_check_rejects_wrong_length(void **state)
{
    disco_status st = {0};

    (void)state;
    assert_int_equal(disco_id_check("xyz", "resource id", &st), DISCO_ERR_INVAL);
    assert_string_equal(st.msg,
                        "resource id 'xyz': expected 26 Crockford base32 characters, got 3");
    assert_string_equal(st.field, "resource id");
    assert_int_equal(disco_id_check("01ARZ3NDEKTSV4RRFFQ69G5FAVX", "parent", &st), DISCO_ERR_INVAL);
    assert_non_null(strstr(st.msg, "got 27"));
    assert_int_equal(disco_id_check("", "parent", &st), DISCO_ERR_INVAL);
    assert_non_null(strstr(st.msg, "got 0"));
    assert_int_equal(disco_id_check(NULL, "parent", &st), DISCO_ERR_INVAL);
    assert_non_null(strstr(st.msg, "parent: missing"));
    assert_false(disco_id_valid(NULL));
}

static void test_check_rejects_bad_characters(void **state)
{
    const char *bad[] = {
        "01ARZ3NDEKTSV4RRFFQ69G5FAU", /* U is not a Crockford digit */
        "01ARZ3NDEKTSV4RRFFQ69G5FAI", "01ARZ3NDEKTSV4RRFFQ69G5FAL", "01ARZ3NDEKTSV4RRFFQ69G5FAO",
        "01ARZ3NDEKTSV4RRFFQ69G5FA-", "01ARZ3NDEKTSV4RRFFQ69G5FA ",
    };
    disco_status st = {0};

    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(disco_id_check(bad[i], "resource id", &st), DISCO_ERR_INVAL);
        assert_non_null(strstr(st.msg, "at position 26 is not a Crockford base32 character"));
        assert_false(disco_id_valid(bad[i]));
    }
}

static void test_check_rejects_overflowing_first_char(void **state)
{
    disco_status st = {0};

    (void)state;
    assert_int_equal(disco_id_check("7ZZZZZZZZZZZZZZZZZZZZZZZZZ", "id", &st), DISCO_OK);
    assert_int_equal(disco_id_check("8ZZZZZZZZZZZZZZZZZZZZZZZZZ", "id", &st), DISCO_ERR_INVAL);
    assert_non_null(strstr(st.msg, "first character '8' is above '7'"));
    assert_int_equal(disco_id_check("zzzzzzzzzzzzzzzzzzzzzzzzzz", "id", &st), DISCO_ERR_INVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_new_is_well_formed_and_timed),
        cmocka_unit_test(test_time_prefix_encoding),
        cmocka_unit_test(test_new_at_clamps_to_48_bits),
        cmocka_unit_test(test_ten_thousand_ids_sort_in_creation_order),
        cmocka_unit_test(test_monotonic_within_one_ms),
        cmocka_unit_test(test_new_at_does_not_disturb_live_ids),
        cmocka_unit_test(test_new_at_out_of_order),
        cmocka_unit_test(test_threads_make_unique_ordered_ids),
        cmocka_unit_test(test_check_accepts_both_cases),
        cmocka_unit_test(test_check_rejects_wrong_length),
        cmocka_unit_test(test_check_rejects_bad_characters),
        cmocka_unit_test(test_check_rejects_overflowing_first_char),
    };
    return cmocka_run_group_tests_name("base/id", tests, NULL, NULL);
}
