/*
 * testutil.c - temporary folders, file helpers and op calls for tests.
 */
#include "support/testutil.h"

#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

char *tu_tmpdir(const char *tag)
{
    const char *base = getenv("TMPDIR");
    char *path;
    size_t n;

    if (!base || !*base)
        base = "/tmp";
    n = strlen(base) + strlen(tag) + 32;
    path = malloc(n);
    if (!path)
        return NULL;
    snprintf(path, n, "%s/disco-test-%s-XXXXXX", base, tag);
    if (!mkdtemp(path)) {
        free(path);
        return NULL;
    }
    return path;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

void tu_rmrf(const char *path)
{
    if (path)
        nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

char *tu_path(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);

    if (p)
        snprintf(p, n, "%s/%s", dir, name);
    return p;
}

int tu_write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    int rc = 0;

    if (!f)
        return -1;
    if (len && fwrite(data, 1, len, f) != len)
        rc = -1;
    if (fclose(f) != 0)
        rc = -1;
    return rc;
}

char *tu_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t cap = 0, n = 0, r;

    if (!f)
        return NULL;
    do {
        if (n + 4096 + 1 > cap) {
            char *nb = realloc(buf, cap ? cap * 2 : 8192);
            if (!nb) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = nb;
            cap = cap ? cap * 2 : 8192;
        }
        r = fread(buf + n, 1, cap - n - 1, f);
        n += r;
    } while (r > 0);
    fclose(f);
    buf[n] = '\0';
    if (len)
        *len = n;
    return buf;
}

int tu_op_call(disco_ctx *ctx, const char *name, const char *params, json_t **out, disco_status *st)
{
    json_t *raw = json_loads(params, 0, NULL), *res = NULL;
    int rc;

    disco_status_clear(st);
    if (out)
        *out = NULL;
    if (!raw)
        return disco_status_set(st, DISCO_ERR_INVAL, "params", "test params are not JSON: %s",
                                params);
    rc = disco_ops_call(ctx, disco_ops_find(name), raw, &res, st);
    json_decref(raw);
    if (out)
        *out = res;
    else
        json_decref(res);
    return rc;
}

void tu_as(disco_ctx *ctx, const char *principal, disco_role role)
{
    disco_ctx_set_principal(ctx, principal);
    disco_ctx_set_role(ctx, role);
}

uint64_t tu_xorshift(uint64_t *state)
{
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    return *state;
}

/* Uniform in [0, 1). */
static double unit(uint64_t *state)
{
    return (double)(tu_xorshift(state) >> 11) * 0x1p-53;
}

/* A standard normal draw (Box-Muller on u in (0, 1], so the log is finite). */
static double gauss(uint64_t *state)
{
    double u = 1.0 - unit(state), v = unit(state);

    return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v);
}

float *tu_clustered(size_t n, size_t d, size_t centres, float spread, uint64_t seed)
{
    float *c = malloc(centres * d * sizeof *c), *x = malloc(n * d * sizeof *x);
    uint64_t st = seed ? seed : 1;

    if (!c || !x) {
        free(c);
        free(x);
        return NULL;
    }
    for (size_t i = 0; i < centres * d; i++)
        c[i] = (float)(unit(&st) * 2.0 - 1.0);
    for (size_t i = 0; i < n; i++) {
        const float *ci = c + (tu_xorshift(&st) % centres) * d;
        for (size_t j = 0; j < d; j++)
            x[i * d + j] = ci[j] + spread * (float)gauss(&st);
    }
    free(c);
    return x;
}
