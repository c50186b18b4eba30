/*
 * hash.h - SHA-256 (OpenSSL libcrypto), streaming, with hex encoding.
 */
#ifndef DISCO_HASH_H
#define DISCO_HASH_H

#include "disco/err.h"

#include <stddef.h>
#include <stdint.h>

#define DISCO_SHA256_LEN 32
#define DISCO_SHA256_HEX_LEN 64

/* Streaming context; opaque storage for libcrypto's EVP_MD_CTX. */
typedef struct disco_sha256 {
    void *ctx;
} disco_sha256;

/*
 * Returns DISCO_OK or DISCO_ERR_NOMEM (DISCO_ERR_INTERNAL if libcrypto
 * cannot provide SHA-256). Pair with _final or _release.
 */
int disco_sha256_init(disco_sha256 *h);
void disco_sha256_update(disco_sha256 *h, const void *data, size_t len);
/* Writes the digest and releases the context. */
void disco_sha256_final(disco_sha256 *h, uint8_t out[DISCO_SHA256_LEN]);
/* Releases a context without finishing it (error paths). */
void disco_sha256_release(disco_sha256 *h);

/* One-shot digest of a buffer as lowercase hex plus NUL. */
int disco_sha256_hex(const void *data, size_t len, char out[DISCO_SHA256_HEX_LEN + 1]);

/* Lowercase hex of `len` bytes into `out` (2 * len + 1 bytes). */
void disco_hex_encode(const uint8_t *bytes, size_t len, char *out);

/*
 * Checks that `s` is 64 lowercase hex digits. On failure DISCO_ERR_INVAL with
 * a message naming `what` ("object hash 'abc': expected 64 hex digits").
 */
int disco_hash_check(const char *s, const char *what, disco_status *st);

#endif
