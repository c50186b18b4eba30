/*
 * dtw_matrix.c - all pairwise DTW distances of k series, across a pool.
 *
 * The upper triangle is computed and mirrored (DTW is symmetric). Task t
 * takes rows t and k - 1 - t, so every task has about k pairs and the
 * tasks are balanced. Each task allocates its scratch once: two DTW rows
 * and two LB_Keogh envelopes of the longest series.
 */
#include "disco/tsa_compare.h"

#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>

/* Relative slack so a rounding error in LB_Keogh never prunes a pair within max_dist. */
#define LB_SLACK (1.0 + 1e-12)

typedef struct mat_job {
    const double *const *series;
    const size_t *lens;
    size_t k, longest;
    const disco_tsa_dtw_config *cfg;
    int use_lb;
    double *out;
    atomic_int rc;
} mat_job;

typedef struct mat_scratch {
    double *rows, *lower, *upper;
    size_t *work;
} mat_scratch;

/* 1 when LB_Keogh, either way round, shows the pair is beyond max_dist. */
static int mat_lb_prunes(const mat_job *job, size_t i, size_t j, mat_scratch *s)
{
    const double *a = job->series[i], *b = job->series[j];
    size_t n = job->lens[i], m = job->lens[j], w = job->cfg->window;
    double bound = job->cfg->max_dist * LB_SLACK;

    if (disco_tsa_lb_envelope(b, m, n, w, s->lower, s->upper, s->work, NULL) != DISCO_OK)
        return 0;
    if (disco_tsa_lb_keogh(a, n, s->lower, s->upper) > bound)
        return 1;
    if (disco_tsa_lb_envelope(a, n, m, w, s->lower, s->upper, s->work, NULL) != DISCO_OK)
        return 0;
    return disco_tsa_lb_keogh(b, m, s->lower, s->upper) > bound;
}

static void mat_row(mat_job *job, size_t i, mat_scratch *s)
{
    size_t k = job->k;

    job->out[i * k + i] = 0.0;
    for (size_t j = i + 1; j < k; j++) {
        double d = INFINITY;
        int rc = DISCO_OK;

        if (!job->use_lb || !mat_lb_prunes(job, i, j, s))
            rc = disco_tsa_dtw(job->series[i], job->lens[i], job->series[j], job->lens[j], job->cfg,
                               s->rows, &d, NULL);
        if (rc != DISCO_OK)
            atomic_store(&job->rc, rc);
        job->out[i * k + j] = d;
        job->out[j * k + i] = d;
    }
}

static void mat_task(size_t t, void *arg)
{
    mat_job *job = arg;
    size_t len = job->longest;
    mat_scratch s;
    double *buf = malloc((DISCO_TSA_DTW_SCRATCH(len) + 2 * len) * sizeof *buf);
    size_t *work = malloc(len * sizeof *work);

    if (!buf || !work) {
        atomic_store(&job->rc, DISCO_ERR_NOMEM);
        goto free_scratch;
    }
    s = (mat_scratch){buf, buf + DISCO_TSA_DTW_SCRATCH(len), buf + DISCO_TSA_DTW_SCRATCH(len) + len,
                      work};
    mat_row(job, t, &s);
    if (job->k - 1 - t != t)
        mat_row(job, job->k - 1 - t, &s);
free_scratch:
    free(work);
    free(buf);
}

static int mat_check(const double *const *series, const size_t *lens, size_t k, size_t *longest,
                     disco_status *st)
{
    *longest = 0;
    for (size_t i = 0; i < k; i++) {
        if (!series[i] || lens[i] == 0)
            return disco_status_set(st, DISCO_ERR_INVAL, "series", "series[%zu] is empty", i);
        for (size_t j = 0; j < lens[i]; j++)
            if (!isfinite(series[i][j]))
                return disco_status_set(st, DISCO_ERR_INVAL, "series", "series[%zu][%zu] is %s", i,
                                        j, isnan(series[i][j]) ? "NaN" : "infinite");
        if (lens[i] > *longest)
            *longest = lens[i];
    }
    return DISCO_OK;
}

int disco_tsa_dtw_matrix(const double *const *series, const size_t *lens, size_t k,
                         const disco_tsa_dtw_config *cfg, disco_pool *pool, double *out,
                         disco_status *st)
{
    disco_tsa_dtw_config def = disco_tsa_dtw_config_default();
    mat_job job = {.series = series, .lens = lens, .k = k, .cfg = cfg ? cfg : &def, .out = out};
    size_t tasks = (k + 1) / 2;
    int rc;

    if (!series || !lens || !out || k == 0)
        return disco_status_set(st, DISCO_ERR_INVAL, "series", "no series to compare (k %zu)", k);
    if (!(job.cfg->max_dist >= 0.0))
        return disco_status_set(st, DISCO_ERR_INVAL, "max_dist", "max_dist %g is not >= 0",
                                job.cfg->max_dist);
    if ((rc = mat_check(series, lens, k, &job.longest, st)))
        return rc;
    job.use_lb = job.cfg->prune && job.cfg->psi == 0 && job.cfg->max_dist > 0.0 &&
                 isfinite(job.cfg->max_dist);
    atomic_init(&job.rc, DISCO_OK);
    if (pool) {
        rc = disco_pool_parallel_for(pool, tasks, mat_task, &job);
    } else {
        for (size_t t = 0; t < tasks; t++)
            mat_task(t, &job);
        rc = DISCO_OK;
    }
    if (rc == DISCO_OK)
        rc = atomic_load(&job.rc);
    if (rc != DISCO_OK)
        return disco_status_set(st, rc, NULL, "distance matrix of %zu series: %s", k,
                                disco_strerror(rc));
    return DISCO_OK;
}
