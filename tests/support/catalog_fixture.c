/*
 * catalog_fixture.c - the catalog test groups' fixture (catalog_fixture.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "support/catalog_fixture.h"
#include "support/testutil.h"

#include <stdlib.h>

int tu_catalog_setup(void **state, const char *tag, const char *rel)
{
    tu_catalog_fixture *f = calloc(1, sizeof *f);
    disco_status st = {0};

    assert_non_null(f);
    f->dir = tu_tmpdir(tag);
    assert_non_null(f->dir);
    f->path = tu_path(f->dir, rel);
    assert_int_equal(disco_catalog_open(f->path, &f->c, &st), DISCO_OK);
    *state = f;
    return 0;
}

int tu_catalog_teardown(void **state)
{
    tu_catalog_fixture *f = *state;

    disco_catalog_close(f->c);
    tu_rmrf(f->dir);
    free(f->path);
    free(f->dir);
    free(f);
    return 0;
}
