/*
 * test_hash.c - SHA-256 against published vectors, streaming, hex helpers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "disco/hash.h"

#include <stdlib.h>
#include <string.h>

static const char *const empty_hex =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
static const char *const abc_hex =
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
static const char *const two_block_msg = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
static const char *const two_block_hex =
    "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1";
static const char *const million_a_hex =
    "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0";

static void test_vectors_one_shot(void **state)
{
    char hex[DISCO_SHA256_HEX_LEN + 1];

    (void)state;
    assert_int_equal(disco_sha256_hex("", 0, hex), DISCO_OK);
    assert_string_equal(hex, empty_hex);
    assert_int_equal(disco_sha256_hex(NULL, 0, hex), DISCO_OK);
    assert_string_equal(hex, empty_hex);
    assert_int_equal(disco_sha256_hex("abc", 3, hex), DISCO_OK);
    assert_string_equal(hex, abc_hex);
    assert_int_equal(disco_sha256_hex(two_block_msg, strlen(two_block_msg), hex), DISCO_OK);
    assert_string_equal(hex, two_block_hex);
}

static void test_million_a_streamed(void **state)
{
    char chunk[1000], hex[DISCO_SHA256_HEX_LEN + 1];
    uint8_t digest[DISCO_SHA256_LEN];
    disco_sha256 h;

    (void)state;
    memset(chunk, 'a', sizeof chunk);
    assert_int_equal(disco_sha256_init(&h), DISCO_OK);
    for (int i = 0; i < 1000; i++)
        disco_sha256_update(&h, chunk, sizeof chunk);
    disco_sha256_final(&h, digest);
    assert_null(h.ctx);
    disco_hex_encode(digest, sizeof digest, hex);
    assert_string_equal(hex, million_a_hex);
}

/* Feeding a buffer in uneven pieces, including empty ones, gives the one-shot digest. */
static void test_streaming_equals_one_shot(void **state)
{
    size_t len = 100003, pos = 0, step = 0;
    uint8_t *buf = malloc(len), digest[DISCO_SHA256_LEN];
    char one[DISCO_SHA256_HEX_LEN + 1], streamed[DISCO_SHA256_HEX_LEN + 1];
    disco_sha256 h;

    (void)state;
    assert_non_null(buf);
    for (size_t i = 0; i < len; i++)
        buf[i] = (uint8_t)(i * 131 + (i >> 7));
    assert_int_equal(disco_sha256_hex(buf, len, one), DISCO_OK);
    assert_int_equal(disco_sha256_init(&h), DISCO_OK);
    while (pos < len) {
        size_t n = (step * 37) % 4099;
        if (n > len - pos)
            n = len - pos;
        disco_sha256_update(&h, buf + pos, n);
        pos += n;
        step++;
    }
    disco_sha256_final(&h, digest);
    disco_hex_encode(digest, sizeof digest, streamed);
    assert_string_equal(one, streamed);
    buf[len / 2] ^= 1;
    assert_int_equal(disco_sha256_hex(buf, len, streamed), DISCO_OK);
    assert_string_not_equal(one, streamed);
    free(buf);
}

/* A context abandoned with _release must not leak (ASan checks) and may be released twice. */
static void test_release_without_final(void **state)
{
    disco_sha256 h;

    (void)state;
    assert_int_equal(disco_sha256_init(&h), DISCO_OK);
    disco_sha256_update(&h, "partial", 7);
    disco_sha256_release(&h);
    assert_null(h.ctx);
    disco_sha256_release(&h);
    disco_sha256_release(NULL);
}

static void test_hex_encode(void **state)
{
    const uint8_t bytes[] = {0x00, 0x01, 0x7f, 0x80, 0xab, 0xff};
    char out[2 * sizeof bytes + 1];

    (void)state;
    memset(out, 'x', sizeof out);
    disco_hex_encode(bytes, sizeof bytes, out);
    assert_string_equal(out, "00017f80abff");
    disco_hex_encode(bytes, 0, out);
    assert_string_equal(out, "");
}

static void test_hash_check_accepts(void **state)
{
    disco_status st = {0};

    (void)state;
    assert_int_equal(disco_hash_check(abc_hex, "object hash", &st), DISCO_OK);
    assert_int_equal(disco_hash_check(empty_hex, "object hash", NULL), DISCO_OK);
}

static void test_hash_check_rejects(void **state)
{
    char upper[DISCO_SHA256_HEX_LEN + 1], bad[DISCO_SHA256_HEX_LEN + 1];
    disco_status st = {0};

    (void)state;
    assert_int_equal(disco_hash_check("abc", "object hash", &st), DISCO_ERR_INVAL);
    assert_string_equal(st.msg, "object hash 'abc': expected 64 hex digits, got 3 characters");
    assert_string_equal(st.field, "object hash");

    memcpy(upper, abc_hex, sizeof upper);
    upper[0] = 'B';
    assert_int_equal(disco_hash_check(upper, "object hash", &st), DISCO_ERR_INVAL);
    assert_non_null(strstr(st.msg, "found 'B' at position 1"));

    memcpy(bad, abc_hex, sizeof bad);
    bad[63] = '\n';
    assert_int_equal(disco_hash_check(bad, "blob", &st), DISCO_ERR_INVAL);
    assert_non_null(strstr(st.msg, "found '\\x0A' at position 64"));

    assert_int_equal(disco_hash_check("", "blob", &st), DISCO_ERR_INVAL);
    assert_non_null(strstr(st.msg, "got 0 characters"));
    assert_int_equal(disco_hash_check(NULL, "blob", &st), DISCO_ERR_INVAL);
    assert_non_null(strstr(st.msg, "blob: missing"));
    assert_int_equal(disco_hash_check("zz", NULL, NULL), DISCO_ERR_INVAL);
}

/* A very long input is echoed shortened, so messages stay readable. */
static void test_hash_check_long_input_is_clipped(void **state)
{
    char longs[600];
    disco_status st = {0};

    (void)state;
    memset(longs, 'a', sizeof longs - 1);
    longs[sizeof longs - 1] = '\0';
    assert_int_equal(disco_hash_check(longs, "object hash", &st), DISCO_ERR_INVAL);
    assert_non_null(strstr(st.msg, "...': expected 64 hex digits, got 599 characters"));
    assert_true(strlen(st.msg) < 200);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors_one_shot),
        cmocka_unit_test(test_million_a_streamed),
        cmocka_unit_test(test_streaming_equals_one_shot),
        cmocka_unit_test(test_release_without_final),
        cmocka_unit_test(test_hex_encode),
        cmocka_unit_test(test_hash_check_accepts),
        cmocka_unit_test(test_hash_check_rejects),
        cmocka_unit_test(test_hash_check_long_input_is_clipped),
    };
    return cmocka_run_group_tests_name("base/hash", tests, NULL, NULL);
}
