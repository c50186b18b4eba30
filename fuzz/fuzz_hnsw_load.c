/*
 * fuzz_hnsw_load.c - the graph loader must fail cleanly on any bytes, and
 * a graph that loads must be searchable and serialise back to the same
 * bytes.
 *
 * Each input is tried twice: as it is, and with its last four bytes
 * rewritten to the CRC-32C of the rest, so the loader's structure checks
 * face the bytes rather than just the checksum. A graph that loads is
 * searched once (graph and exact, with and without a filter), serialised
 * (the bytes must equal the input), and given one more vector.
 *
 *   +----------------+------------------------------+-------+
 *   | 64-byte header | slot table, links, vectors   | CRC32C|
 *   +----------------+------------------------------+-------+
 */
#include "disco/crc32c.h"
#include "disco/hnsw.h"
#include "fuzz_check.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int odd_slots(void *user, uint32_t slot)
{
    (void)user;
    return slot & 1;
}

static void exercise(disco_hnsw *h, const uint8_t *data, size_t size)
{
    size_t dim, n = 0;
    float *q, d[4];
    uint32_t s[4];
    uint8_t *buf = NULL;
    size_t len = 0;

    dim = (size_t)data[8] | (size_t)data[9] << 8 | (size_t)data[10] << 16; /* header: dim */
    q = calloc(dim, sizeof *q);
    CHECK(q);
    for (size_t i = 0; i < dim; i++)
        q[i] = (float)(i % 7) * 0.25f - 0.5f;
    CHECK(disco_hnsw_search(h, q, 4, 8, NULL, NULL, s, d, &n, NULL) == DISCO_OK);
    CHECK(n <= 4 && n <= disco_hnsw_count(h));
    CHECK(disco_hnsw_search(h, q, 4, 8, odd_slots, NULL, s, d, &n, NULL) == DISCO_OK);
    for (size_t i = 0; i < n; i++)
        CHECK((s[i] & 1) && disco_hnsw_vector(h, s[i]));
    CHECK(disco_hnsw_search_exact(h, q, 4, NULL, NULL, s, d, &n, NULL) == DISCO_OK);
    CHECK(n == (disco_hnsw_count(h) < 4 ? disco_hnsw_count(h) : 4));
    CHECK(disco_hnsw_serialize(h, &buf, &len, NULL) == DISCO_OK);
    CHECK(len == size && memcmp(buf, data, size) == 0);
    free(buf);
    CHECK(disco_hnsw_add(h, (uint32_t)disco_hnsw_capacity(h), q, NULL) == DISCO_OK);
    free(q);
}

static void try_load(const uint8_t *data, size_t size)
{
    disco_hnsw *h = NULL;
    disco_status st = {0};
    int rc = disco_hnsw_load(data, size, &h, &st);

    if (rc != DISCO_OK) {
        CHECK(h == NULL && st.code == rc && st.msg[0]);
        return;
    }
    exercise(h, data, size);
    disco_hnsw_free(h);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *c;
    uint32_t crc;

    try_load(data, size);
    if (size < 68)
        return 0;
    c = malloc(size);
    CHECK(c);
    memcpy(c, data, size);
    crc = disco_crc32c(0, c, size - 4);
    for (int i = 0; i < 4; i++)
        c[size - 4 + (size_t)i] = (uint8_t)(crc >> (8 * i));
    try_load(c, size);
    free(c);
    return 0;
}
