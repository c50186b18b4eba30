/*
 * fuzz_metadata_json.c - libFuzzer target for resource metadata documents.
 *
 * Feeds the input to disco_json_parse_object() as a "metadata" parameter.
 * When it parses, checks that:
 *   - it nests no deeper than DISCO_JSON_MAX_DEPTH;
 *   - disco_json_dumps() output parses back to an equal value and dumps to
 *     the same text;
 *   - merging the document with itself (RFC 7386) gives an object whose
 *     objects (outside arrays) have no null members, and doing it again
 *     changes nothing;
 *   - the catalog's metadata check accepts it or fails with a message.
 * Any failed check aborts, so libFuzzer reports it as a crash.
 */
#include "disco/catalog.h"
#include "disco/json.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_round_trip(const json_t *doc)
{
    disco_status st = {0};
    json_t *back = NULL;
    char *text = disco_json_dumps(doc), *again;

    CHECK(text != NULL);
    CHECK(disco_json_parse_object(text, strlen(text), "metadata", &back, &st) == DISCO_OK);
    CHECK(json_equal(doc, back));
    again = disco_json_dumps(back);
    CHECK(again != NULL && strcmp(text, again) == 0);
    free(again);
    free(text);
    json_decref(back);
}

/*
 * True when no object reachable through object members has a null member.
 * Arrays are values that replace wholesale in a merge, so they are not entered.
 */
static int no_null_members(const json_t *v)
{
    const char *key;
    json_t *child;

    if (!json_is_object(v))
        return 1;
    json_object_foreach ((json_t *)v, key, child) {
        if (json_is_null(child) || !no_null_members(child))
            return 0;
    }
    return 1;
}

static void check_self_merge(const json_t *doc)
{
    json_t *copy = json_deep_copy(doc), *merged = NULL, *twice = NULL, *snapshot;

    CHECK(copy != NULL);
    CHECK(disco_json_merge_patch(copy, doc, &merged) == DISCO_OK);
    CHECK(json_is_object(merged));
    CHECK(no_null_members(merged));
    snapshot = json_deep_copy(merged);
    CHECK(snapshot != NULL);
    CHECK(disco_json_merge_patch(merged, merged, &twice) == DISCO_OK);
    CHECK(json_equal(twice, snapshot));
    json_decref(twice);
    json_decref(snapshot);
    json_decref(merged);
    json_decref(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    disco_status st = {0};
    json_t *doc = NULL;

    if (disco_json_parse_object((const char *)data, size, "metadata", &doc, &st) != DISCO_OK) {
        CHECK(doc == NULL);
        CHECK(st.code != DISCO_OK && st.msg[0] != '\0');
        return 0;
    }
    CHECK(json_is_object(doc));
    CHECK(disco_json_depth(doc) <= DISCO_JSON_MAX_DEPTH);
    check_round_trip(doc);
    check_self_merge(doc);

    /* The catalog's own check accepts it or explains why not. */
    disco_status_clear(&st);
    if (disco_catalog_check_metadata(doc, &st) != DISCO_OK)
        CHECK(st.code != DISCO_OK && st.msg[0] != '\0');

    json_decref(doc);
    return 0;
}
