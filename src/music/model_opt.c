/*
 * model_opt.c - the transformer's optimiser: global-norm gradient
 * clipping, AdamW, the learning-rate schedule and the training step.
 *
 * The flat parameter array is cut into at most CHUNKS_MAX chunks whose
 * bounds depend only on the parameter count; the squared gradient norm is
 * summed per chunk in double and the chunks combined in order, and the
 * update is elementwise, so a step is the same with any thread count.
 *
 * AdamW (Loshchilov & Hutter): m = b1 m + (1 - b1) g, v = b2 v + (1 - b2) g²,
 * p -= lr (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps) + lr wd p, the
 * decay only on the four matrices of each block (see model.c).
 */
#include "model_int.h"

#include <math.h>

#define CHUNK_MIN 16384
#define CHUNKS_MAX 256

disco_tf_opt disco_tf_opt_default(void)
{
    disco_tf_opt o = {
        .beta1 = 0.9f, .beta2 = 0.95f, .eps = 1e-8f, .weight_decay = 0.1f, .clip = 1.0f};

    return o;
}

float disco_tf_lr_at(uint64_t step, uint64_t warmup, uint64_t total, float lr_max, float lr_min)
{
    double progress;

    if (step < warmup)
        return lr_max * (float)(step + 1) / (float)warmup;
    if (step >= total || total <= warmup)
        return lr_min;
    progress = (double)(step - warmup) / (double)(total - warmup);
    return lr_min + (float)(0.5 * (lr_max - lr_min) * (1.0 + cos(M_PI * progress)));
}

typedef struct opt_job {
    disco_tf *m;
    const disco_tf_opt *o;
    size_t chunk, nchunks;
    double part[CHUNKS_MAX];
    float lr, scale, bc1, bc2;
} opt_job;

static void sumsq_task(size_t t, void *arg)
{
    opt_job *j = arg;
    size_t i0 = t * j->chunk,
           i1 = i0 + j->chunk < j->m->lay.total ? i0 + j->chunk : j->m->lay.total;
    double s = 0.0;

    for (size_t i = i0; i < i1; i++)
        s += (double)j->m->grads[i] * (double)j->m->grads[i];
    j->part[t] = s;
}

/* Whether pos lies in a decayed matrix; *end: where that answer stops holding. */
static int decayed_at(const disco__tf_layout *lay, size_t pos, size_t *end)
{
    const size_t starts[4] = {lay->l.w_qkv, lay->l.w_proj, lay->l.w_fc, lay->l.w_out};
    const size_t ends[4] = {lay->l.b_qkv, lay->l.b_proj, lay->l.b_fc, lay->l.b_out};
    size_t base, rel, next;

    if (pos < lay->layer0) {
        *end = lay->layer0;
        return 0;
    }
    if (pos >= lay->lnf_g) {
        *end = lay->total;
        return 0;
    }
    base = lay->layer0 + (pos - lay->layer0) / lay->layer_size * lay->layer_size;
    rel = pos - base;
    next = lay->layer_size;
    for (size_t i = 0; i < 4; i++) {
        if (rel >= starts[i] && rel < ends[i]) {
            *end = base + ends[i];
            return 1;
        }
        if (starts[i] > rel && starts[i] < next)
            next = starts[i];
    }
    *end = base + next;
    return 0;
}

static void adam_range(const opt_job *j, size_t i0, size_t i1, float decay)
{
    disco_tf *m = j->m;
    float b1 = j->o->beta1, b2 = j->o->beta2;

    for (size_t i = i0; i < i1; i++) {
        float g = m->grads[i] * j->scale;
        float mm = m->adam_m[i] = b1 * m->adam_m[i] + (1.0f - b1) * g;
        float vv = m->adam_v[i] = b2 * m->adam_v[i] + (1.0f - b2) * g * g;
        float p = m->params[i];

        m->params[i] = p - j->lr * ((mm / j->bc1) / (sqrtf(vv / j->bc2) + j->o->eps) + decay * p);
    }
}

static void adam_task(size_t t, void *arg)
{
    const opt_job *j = arg;
    size_t total = j->m->lay.total, i0 = t * j->chunk;
    size_t i1 = i0 + j->chunk < total ? i0 + j->chunk : total;

    while (i0 < i1) {
        size_t end;
        int dec = decayed_at(&j->m->lay, i0, &end);

        end = end < i1 ? end : i1;
        adam_range(j, i0, end, dec ? j->o->weight_decay : 0.0f);
        i0 = end;
    }
}

static int check_opt(const disco_tf_opt *o, float lr, disco_status *st)
{
    if (!(lr >= 0.0f && lr < 1e3f))
        return disco_status_set(st, DISCO_ERR_INVAL, "lr", "learning rate %g out of range", lr);
    if (!(o->beta1 >= 0.0f && o->beta1 < 1.0f) || !(o->beta2 >= 0.0f && o->beta2 < 1.0f))
        return disco_status_set(st, DISCO_ERR_INVAL, "beta", "betas %g, %g must be in [0, 1)",
                                o->beta1, o->beta2);
    if (!(o->eps > 0.0f) || !(o->weight_decay >= 0.0f) || !(o->clip >= 0.0f))
        return disco_status_set(st, DISCO_ERR_INVAL, "opt",
                                "eps %g must be > 0, weight decay %g and clip %g >= 0", o->eps,
                                o->weight_decay, o->clip);
    return DISCO_OK;
}

/* Global gradient norm, summed per chunk in a fixed order. */
static double grad_norm(opt_job *j)
{
    double s = 0.0;

    disco__tf_par(&j->m->ex, j->nchunks, sumsq_task, j);
    for (size_t t = 0; t < j->nchunks; t++)
        s += j->part[t];
    return sqrt(s);
}

int disco_tf_train_step(disco_tf *m, const int32_t *toks, size_t batch, size_t seq, float lr,
                        const disco_tf_opt *opt, disco_tf_step *out, disco_status *st)
{
    disco_tf_opt def = disco_tf_opt_default();
    opt_job j = {.m = m, .o = opt ? opt : &def, .lr = lr};
    size_t total = m->lay.total, cnt = 0;
    double loss, norm;
    int rc = check_opt(j.o, lr, st);

    if (rc == DISCO_OK)
        rc = disco__tf_need_adam(m, st);
    if (rc == DISCO_OK)
        rc = disco__tf_backward(m, toks, batch, seq, &loss, &cnt, st);
    if (rc != DISCO_OK)
        return rc;
    j.chunk = (total + CHUNKS_MAX - 1) / CHUNKS_MAX;
    j.chunk = j.chunk < CHUNK_MIN ? CHUNK_MIN : j.chunk;
    j.nchunks = (total + j.chunk - 1) / j.chunk;
    norm = grad_norm(&j);
    if (!isfinite(norm) || !isfinite(loss))
        return disco_status_set(st, DISCO_ERR_INTERNAL, "grad_norm",
                                "gradient norm %g or loss %g is not finite; weights unchanged",
                                norm, loss);
    j.scale = j.o->clip > 0.0f && norm > j.o->clip ? (float)(j.o->clip / norm) : 1.0f;
    j.bc1 = 1.0f - powf(j.o->beta1, (float)(m->steps + 1));
    j.bc2 = 1.0f - powf(j.o->beta2, (float)(m->steps + 1));
    disco__tf_par(&m->ex, j.nchunks, adam_task, &j);
    m->steps++;
    if (out)
        *out = (disco_tf_step){.loss = loss, .grad_norm = norm, .tokens = cnt};
    return DISCO_OK;
}
