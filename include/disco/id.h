/*
 * id.h - sortable unique ids (ULID layout).
 *
 * 26 characters of Crockford base32: 48 bits of Unix milliseconds then 80
 * random bits. Ids made by one process sort in creation order: within one
 * millisecond the random part is incremented. Thread-safe.
 */
#ifndef DISCO_ID_H
#define DISCO_ID_H

#include "disco/err.h"

#include <stdint.h>

#define DISCO_ID_LEN 26

/* Writes a new id and its NUL into `out` (DISCO_ID_LEN + 1 bytes). */
void disco_id_new(char out[DISCO_ID_LEN + 1]);

/*
 * Same, with a given timestamp (for tests and imports; clamped to 48 bits).
 * Consecutive calls with the same timestamp give increasing ids. These ids
 * do not affect the ordering of those from disco_id_new().
 */
void disco_id_new_at(uint64_t unix_ms, char out[DISCO_ID_LEN + 1]);

/*
 * Checks that `s` is a well-formed id. Accepts lower case and normalises
 * nothing. On failure returns DISCO_ERR_INVAL with a message naming `what`
 * ("resource id 'xyz': expected 26 Crockford base32 characters, got 3").
 */
int disco_id_check(const char *s, const char *what, disco_status *st);

/* 1 when `s` is a well-formed id, else 0. */
int disco_id_valid(const char *s);

/* Milliseconds encoded in a well-formed id. */
uint64_t disco_id_time_ms(const char *id);

#endif
