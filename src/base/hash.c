/*
 * hash.c - SHA-256 through libcrypto's EVP interface, and hex helpers.
 *
 * The digest implementation is fetched once per process (OpenSSL 3 would
 * otherwise look it up on every init) and kept for the process's lifetime.
 */
#include "disco/hash.h"

#include "base_int.h"

#include <openssl/evp.h>
#include <pthread.h>
#include <string.h>

static pthread_once_t g_md_once = PTHREAD_ONCE_INIT;
static EVP_MD *g_md_fetched;

static void md_fetch(void)
{
    g_md_fetched = EVP_MD_fetch(NULL, "SHA256", NULL);
}

static const EVP_MD *md_sha256(void)
{
    pthread_once(&g_md_once, md_fetch);
    return g_md_fetched ? g_md_fetched : EVP_sha256();
}

int disco_sha256_init(disco_sha256 *h)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();

    h->ctx = NULL;
    if (!ctx)
        return DISCO_ERR_NOMEM;
    if (EVP_DigestInit_ex(ctx, md_sha256(), NULL) != 1) {
        EVP_MD_CTX_free(ctx);
        return DISCO_ERR_INTERNAL;
    }
    h->ctx = ctx;
    return DISCO_OK;
}

void disco_sha256_update(disco_sha256 *h, const void *data, size_t len)
{
    int ok;

    DISCO_ASSERT(h->ctx != NULL);
    if (!h->ctx || len == 0)
        return;
    ok = EVP_DigestUpdate(h->ctx, data, len);
    DISCO_ASSERT(ok == 1);
    (void)ok;
}

void disco_sha256_final(disco_sha256 *h, uint8_t out[DISCO_SHA256_LEN])
{
    unsigned int n = 0;
    int ok;

    DISCO_ASSERT(h->ctx != NULL);
    memset(out, 0, DISCO_SHA256_LEN);
    if (!h->ctx)
        return;
    ok = EVP_DigestFinal_ex(h->ctx, out, &n);
    DISCO_ASSERT(ok == 1 && n == DISCO_SHA256_LEN);
    (void)ok;
    disco_sha256_release(h);
}

void disco_sha256_release(disco_sha256 *h)
{
    if (!h)
        return;
    EVP_MD_CTX_free(h->ctx);
    h->ctx = NULL;
}

int disco_sha256_hex(const void *data, size_t len, char out[DISCO_SHA256_HEX_LEN + 1])
{
    uint8_t digest[DISCO_SHA256_LEN];
    disco_sha256 h;
    int rc;

    out[0] = '\0';
    rc = disco_sha256_init(&h);
    if (rc != DISCO_OK)
        return rc;
    disco_sha256_update(&h, data, len);
    disco_sha256_final(&h, digest);
    disco_hex_encode(digest, sizeof digest, out);
    return DISCO_OK;
}

void disco_hex_encode(const uint8_t *bytes, size_t len, char *out)
{
    static const char digits[] = "0123456789abcdef";

    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[bytes[i] >> 4];
        out[2 * i + 1] = digits[bytes[i] & 0x0F];
    }
    out[2 * len] = '\0';
}

static int is_lower_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

int disco_hash_check(const char *s, const char *what, disco_status *st)
{
    char q[DISCO__QUOTE_MAX], cq[8];
    size_t len;

    what = disco__what(what);
    if (!s)
        return disco_status_set(st, DISCO_ERR_INVAL, what, "%s: missing (expected 64 hex digits)",
                                what);
    len = strlen(s);
    if (len != DISCO_SHA256_HEX_LEN)
        return disco_status_set(st, DISCO_ERR_INVAL, what,
                                "%s '%s': expected 64 hex digits, got %zu characters", what,
                                disco__quote(s, q), len);
    for (size_t i = 0; i < len; i++) {
        if (!is_lower_hex(s[i]))
            return disco_status_set(st, DISCO_ERR_INVAL, what,
                                    "%s '%s': expected 64 lowercase hex digits, found '%s' at "
                                    "position %zu",
                                    what, disco__quote(s, q), disco__quote_char(s[i], cq), i + 1);
    }
    return DISCO_OK;
}
