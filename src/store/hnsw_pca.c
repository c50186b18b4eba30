/*
 * hnsw_pca.c - the leading principal directions of the graph's vectors,
 * for the projected traversal codes of long vectors (hnsw_codes.c).
 *
 * A sample of at most PCA_SAMPLE occupied slots, spread evenly over the
 * slots, is centred and transposed (one row per component), so each entry
 * of the covariance is one dot product of two rows (the dispatched SIMD
 * kernel). LAPACK's ssyevr then finds only the p largest eigenpairs.
 */
#include "hnsw_int.h"

#include <lapacke.h>
#include <stdlib.h>
#include <string.h>

#define PCA_SAMPLE 2048

/* The occupied slots, every k-th of them, at most PCA_SAMPLE; returns how many. */
static size_t pick_sample(const disco_hnsw *h, uint32_t *ids)
{
    size_t occ = 0, n = 0, k;

    for (uint32_t id = 0; id < h->cap; id++)
        occ += (*disco__hnsw_hdr(h, id) & DISCO__HNSW_OCC) != 0;
    k = occ > PCA_SAMPLE ? (occ + PCA_SAMPLE - 1) / PCA_SAMPLE : 1;
    occ = 0;
    for (uint32_t id = 0; id < h->cap && n < PCA_SAMPLE; id++)
        if ((*disco__hnsw_hdr(h, id) & DISCO__HNSW_OCC) && occ++ % k == 0)
            ids[n++] = id;
    return n;
}

/* mean[dim] of the sample, and xt[dim][n]: the sample centred, one row per component. */
static void centre(const disco_hnsw *h, const uint32_t *ids, size_t n, float *mean, float *xt)
{
    size_t d = h->dim;

    for (size_t j = 0; j < d; j++) {
        double s = 0.0;
        for (size_t i = 0; i < n; i++)
            s += disco__hnsw_vec(h, ids[i])[j];
        mean[j] = (float)(s / (double)n);
    }
    for (size_t i = 0; i < n; i++) {
        const float *v = disco__hnsw_vec(h, ids[i]);
        for (size_t j = 0; j < d; j++)
            xt[j * n + i] = v[j] - mean[j];
    }
}

/*
 * mean[dim] and rot[p][dim]: the p leading principal directions (unit
 * rows, largest variance first) of a sample of the occupied slots. Returns
 * 0, or -1 when out of memory or LAPACK fails (nothing to use then).
 */
int disco__hnsw_pca(const disco_hnsw *h, size_t p, float *mean, float *rot)
{
    size_t d = h->dim, n;
    uint32_t *ids = malloc(PCA_SAMPLE * sizeof *ids);
    float *xt = NULL, *cov = NULL, *w = NULL, *z = NULL;
    lapack_int *support = NULL, found = 0;
    int rc = -1;

    if (!ids || (n = pick_sample(h, ids)) < 2 || p > d)
        goto done;
    xt = malloc(d * n * sizeof *xt);
    cov = malloc(d * d * sizeof *cov);
    w = malloc(d * sizeof *w);
    z = malloc(d * p * sizeof *z);
    support = malloc(2 * p * sizeof *support);
    if (!xt || !cov || !w || !z || !support)
        goto done;
    centre(h, ids, n, mean, xt);
    for (size_t i = 0; i < d; i++) /* the upper triangle is all ssyevr reads */
        for (size_t j = i; j < d; j++)
            cov[i * d + j] = disco_vdist_dot(xt + i * n, xt + j * n, n);
    if (LAPACKE_ssyevr(LAPACK_ROW_MAJOR, 'V', 'I', 'U', (lapack_int)d, cov, (lapack_int)d, 0.0f,
                       0.0f, (lapack_int)(d - p + 1), (lapack_int)d, 0.0f, &found, w, z,
                       (lapack_int)p, support) != 0 ||
        (size_t)found != p)
        goto done;
    for (size_t k = 0; k < p; k++) /* z's columns come smallest eigenvalue first */
        for (size_t j = 0; j < d; j++)
            rot[k * d + j] = z[j * p + (p - 1 - k)];
    rc = 0;
done:
    free(ids);
    free(xt);
    free(cov);
    free(w);
    free(z);
    free(support);
    return rc;
}
