/*
 * catalog_fixture.h - the fixture the catalog test groups share: a fresh
 * scratch folder and a catalog opened in it, closed and removed after each
 * test. Include after cmocka.h.
 */
#ifndef DISCO_TU_CATALOG_FIXTURE_H
#define DISCO_TU_CATALOG_FIXTURE_H

#include "disco/catalog.h"

typedef struct tu_catalog_fixture {
    char *dir;        /* the scratch folder */
    char *path;       /* the catalog's file in it */
    disco_catalog *c; /* open */
} tu_catalog_fixture;

/*
 * For a cmocka setup: a folder named after `tag` and a catalog at `rel`
 * inside it (folders in `rel` are created by the catalog), into *state.
 */
int tu_catalog_setup(void **state, const char *tag, const char *rel);

/* The matching teardown: closes the catalog and removes the folder. */
int tu_catalog_teardown(void **state);

#endif
