/*
 * fuzz_vindex_load.c - opening a collection must fail cleanly or succeed
 * on any bytes in its files, never crash or leak.
 *
 * The first input byte picks the file the rest is written as: even,
 * index.dvx (with an empty log); odd, log.dvl (with no snapshot). The
 * collection (dim 4, l2) is then opened; when it opens it is searched,
 * snapshotted and closed.
 *
 *   input: | selector u8 | file bytes ... |
 */
#include "disco/vindex.h"
#include "fuzz_check.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char g_root[64];

static void put(const char *name, const uint8_t *p, size_t n)
{
    char path[128];
    FILE *f;

    snprintf(path, sizeof path, "%s/c/%s", g_root, name);
    f = fopen(path, "wb");
    CHECK(f);
    CHECK(n == 0 || fwrite(p, 1, n, f) == n);
    fclose(f);
}

/* Removes the scratch collection when the fuzzer exits. */
static void cleanup(void)
{
    if (g_root[0])
        disco_vindex_drop(g_root, "c", NULL);
    rmdir(g_root);
}

static void setup(void)
{
    disco_vindex_config cfg = disco_vindex_config_default(4, DISCO_VMETRIC_L2);
    char path[128];

    if (g_root[0])
        return;
    snprintf(g_root, sizeof g_root, "/tmp/fuzz_vindex_%d", (int)getpid());
    mkdir(g_root, 0755);
    atexit(cleanup);
    snprintf(path, sizeof path, "%s/c", g_root);
    if (access(path, F_OK) != 0)
        CHECK(disco_vindex_create(g_root, "c", &cfg, NULL) == DISCO_OK);
}

static void exercise(disco_vindex *v)
{
    const float q[4] = {0.5f, -1, 2, 0};
    disco_vquery qu = {NULL, q, 3, 0, NULL, 1, 1, 0, 4};
    json_t *out = NULL;

    CHECK(disco_vindex_search(v, &qu, &out, NULL) == DISCO_OK);
    json_decref(out);
    qu.exact = 1;
    CHECK(disco_vindex_search(v, &qu, &out, NULL) == DISCO_OK);
    json_decref(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char snap[128], log[128];
    disco_vindex *v = NULL;
    disco_status st = {0};

    if (size < 1)
        return 0;
    setup();
    snprintf(snap, sizeof snap, "%s/c/index.dvx", g_root);
    snprintf(log, sizeof log, "%s/c/log.dvl", g_root);
    unlink(snap);
    unlink(log); /* a missing log is started afresh */
    put(data[0] & 1 ? "log.dvl" : "index.dvx", data + 1, size - 1);
    if (disco_vindex_open(g_root, "c", &v, &st) != DISCO_OK) {
        CHECK(v == NULL && st.msg[0]);
        return 0;
    }
    exercise(v);
    disco_vindex_close(v);
    return 0;
}
