/*
 * fuzz_vfilter.c - libFuzzer target for the vector filter language.
 *
 * Feeds the input to disco_vfilter_parse(). When it fails, checks that the
 * status explains why (INVAL or NOMEM, a message, no filter). When it
 * compiles, matches the filter against a few fixed metadata objects (and
 * NULL), checks that a match is 0 or 1 and that matching twice agrees, and
 * walks its terms, which must name a field and carry a list.
 */
#include "disco/vfilter.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const METAS[] = {
    "{}",
    "{\"genre\": \"jazz\", \"bpm\": 120, \"live\": true, \"tags\": [\"soul\", \"a\"]}",
    "{\"a\": 1, \"b\": \"b\", \"c\": false, \"d\": [], \"e\": -0.5, \"genre\": \"\"}",
    "{\"x\": null, \"y\": {\"z\": 1}, \"tags\": [1, \"x\", [\"y\"]], \"bpm\": 1e300}",
};

#define NMETAS (sizeof METAS / sizeof METAS[0])

static json_t *metas[NMETAS];

static void load_metas(void)
{
    for (size_t i = 0; i < NMETAS; i++) {
        if (!metas[i]) {
            metas[i] = json_loads(METAS[i], 0, NULL);
            CHECK(metas[i] != NULL);
        }
    }
}

static int check_term(void *user, const char *field, const json_t *values)
{
    (void)user;
    CHECK(field != NULL && field[0] != '\0');
    CHECK(json_is_array(values));
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    disco_status st = {0};
    disco_vfilter *f = NULL;
    int rc;

    load_metas();
    rc = disco_vfilter_parse((const char *)data, size, &f, &st);
    if (rc != DISCO_OK) {
        CHECK(f == NULL);
        CHECK(rc == DISCO_ERR_INVAL || rc == DISCO_ERR_NOMEM);
        CHECK(st.code == rc && st.msg[0] != '\0');
        return 0;
    }
    CHECK(f != NULL);
    for (size_t i = 0; i < NMETAS; i++) {
        int r = disco_vfilter_match(f, metas[i]);
        CHECK(r == 0 || r == 1);
        CHECK(disco_vfilter_match(f, metas[i]) == r);
    }
    /* NULL metadata is the empty object */
    CHECK(disco_vfilter_match(f, NULL) == disco_vfilter_match(f, metas[0]));
    CHECK(disco_vfilter_terms(f, check_term, NULL) == 0);
    disco_vfilter_free(f);
    return 0;
}
