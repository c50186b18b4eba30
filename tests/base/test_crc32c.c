/*
 * test_crc32c.c - CRC-32C against published vectors; the fast path against
 * the portable one on every length, alignment and split.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "disco/crc32c.h"

#include <string.h>

/* Deterministic bytes: xorshift64. */
static void fill_random(uint8_t *buf, size_t len, uint64_t seed)
{
    uint64_t x = seed | 1;

    for (size_t i = 0; i < len; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        buf[i] = (uint8_t)(x >> 24);
    }
}

static void test_known_vectors(void **state)
{
    uint8_t zeros[32] = {0}, ones[32], inc[32];

    (void)state;
    memset(ones, 0xFF, sizeof ones);
    for (int i = 0; i < 32; i++)
        inc[i] = (uint8_t)i;
    assert_int_equal(disco_crc32c(0, "123456789", 9), 0xE3069283u);
    assert_int_equal(disco_crc32c_portable(0, "123456789", 9), 0xE3069283u);
    assert_int_equal(disco_crc32c(0, "", 0), 0u);
    assert_int_equal(disco_crc32c(0, NULL, 0), 0u);
    /* RFC 3720 (iSCSI) appendix B.4 */
    assert_int_equal(disco_crc32c(0, zeros, 32), 0x8A9136AAu);
    assert_int_equal(disco_crc32c(0, ones, 32), 0x62A8AB43u);
    assert_int_equal(disco_crc32c(0, inc, 32), 0x46DD794Eu);
    assert_int_equal(disco_crc32c_portable(0, zeros, 32), 0x8A9136AAu);
    assert_int_equal(disco_crc32c_portable(0, ones, 32), 0x62A8AB43u);
    assert_int_equal(disco_crc32c_portable(0, inc, 32), 0x46DD794Eu);
}

/* Every length 0..300 at every start offset 0..7 of a random buffer. */
static void test_fast_equals_portable(void **state)
{
    uint8_t buf[320];

    (void)state;
    fill_random(buf, sizeof buf, 0x9E3779B97F4A7C15u);
    for (size_t off = 0; off < 8; off++)
        for (size_t len = 0; len <= 300; len++) {
            uint32_t seed = (uint32_t)(len * 2654435761u);
            assert_int_equal(disco_crc32c(0, buf + off, len),
                             disco_crc32c_portable(0, buf + off, len));
            assert_int_equal(disco_crc32c(seed, buf + off, len),
                             disco_crc32c_portable(seed, buf + off, len));
        }
}

/* Splitting a buffer anywhere gives the one-shot value, on both paths. */
static void test_incremental_equals_one_shot(void **state)
{
    uint8_t buf[300];

    (void)state;
    fill_random(buf, sizeof buf, 42);
    uint32_t whole = disco_crc32c(0, buf, sizeof buf);
    assert_int_equal(whole, disco_crc32c_portable(0, buf, sizeof buf));
    for (size_t cut = 0; cut <= sizeof buf; cut++) {
        uint32_t a = disco_crc32c(0, buf, cut);
        assert_int_equal(disco_crc32c(a, buf + cut, sizeof buf - cut), whole);
        uint32_t b = disco_crc32c_portable(0, buf, cut);
        assert_int_equal(disco_crc32c_portable(b, buf + cut, sizeof buf - cut), whole);
    }
    uint32_t c = 0;
    for (size_t i = 0; i < sizeof buf; i += 7)
        c = disco_crc32c(c, buf + i, i + 7 <= sizeof buf ? 7 : sizeof buf - i);
    assert_int_equal(c, whole);
}

/* A single flipped bit always changes the value. */
static void test_detects_bit_flips(void **state)
{
    uint8_t buf[64];

    (void)state;
    fill_random(buf, sizeof buf, 7);
    uint32_t ref = disco_crc32c(0, buf, sizeof buf);
    for (size_t bit = 0; bit < sizeof buf * 8; bit++) {
        buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        assert_int_not_equal(disco_crc32c(0, buf, sizeof buf), ref);
        buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_vectors),
        cmocka_unit_test(test_fast_equals_portable),
        cmocka_unit_test(test_incremental_equals_one_shot),
        cmocka_unit_test(test_detects_bit_flips),
    };
    return cmocka_run_group_tests_name("base/crc32c", tests, NULL, NULL);
}
