/*
 * model.c - the transformer's config, parameter layout, initialisation,
 * threads and the work area of batched passes.
 *
 * All parameters live in one float array, tensor after tensor:
 *
 *   wte [V x d] | wpe [ctx x d] | layer 0 | layer 1 | ... | lnf.g [d] | lnf.b [d]
 *   layer: ln1.g ln1.b  w_qkv [d x 3d] b_qkv  w_proj [d x d] b_proj
 *          ln2.g ln2.b  w_fc [d x 4d] b_fc  w_out [4d x d] b_out
 *
 * Matrices are [in][out], so a layer's forward is X · W. Gradients and the
 * AdamW moments use the same layout. Weight decay applies to the four
 * matrices of each block only: not to the embeddings (wte is also the
 * output layer, and decaying it pulls rare tokens' rows to zero), not to
 * norms or biases.
 */
#include "model_int.h"

#include "disco/tokens.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define INIT_STD 0.02
#define BATCH_MAX 65536u
#define THREADS_MAX 256u

disco_tf_config disco_tf_config_default(void)
{
    disco_tf_config c = {
        .vocab = DISCO_TOK_VOCAB, .ctx = 256, .d_model = 192, .layers = 4, .heads = 6, .seed = 1};

    return c;
}

int disco_tf_config_check(const disco_tf_config *cfg, disco_status *st)
{
    if (cfg->vocab < 2 || cfg->vocab > 65536)
        return disco_status_set(st, DISCO_ERR_INVAL, "vocab", "vocab %u out of range 2..65536",
                                cfg->vocab);
    if (cfg->ctx < 2 || cfg->ctx > DISCO_TF_CTX_MAX || cfg->ctx % 2 != 0)
        return disco_status_set(st, DISCO_ERR_INVAL, "ctx", "ctx %u must be even, 2..%d", cfg->ctx,
                                DISCO_TF_CTX_MAX);
    if (cfg->d_model < 1 || cfg->d_model > 4096)
        return disco_status_set(st, DISCO_ERR_INVAL, "d_model", "d_model %u out of range 1..4096",
                                cfg->d_model);
    if (cfg->layers < 1 || cfg->layers > 64)
        return disco_status_set(st, DISCO_ERR_INVAL, "layers", "layers %u out of range 1..64",
                                cfg->layers);
    if (cfg->heads < 1 || cfg->d_model % cfg->heads != 0)
        return disco_status_set(st, DISCO_ERR_INVAL, "heads", "heads %u must divide d_model %u",
                                cfg->heads, cfg->d_model);
    return DISCO_OK;
}

/* ---- layout ---------------------------------------------------------------- */

/* One tensor of a layer: rows = rmul * d (1 when 0), cols = cmul * d. */
struct ltensor {
    const char *name;
    size_t off;
    unsigned rmul, cmul;
    int decay;
};

static const struct ltensor LTENSORS[] = {
    {"ln1.g", offsetof(disco__tf_loff, ln1_g), 0, 1, 0},
    {"ln1.b", offsetof(disco__tf_loff, ln1_b), 0, 1, 0},
    {"attn.w_qkv", offsetof(disco__tf_loff, w_qkv), 1, 3, 1},
    {"attn.b_qkv", offsetof(disco__tf_loff, b_qkv), 0, 3, 0},
    {"attn.w_proj", offsetof(disco__tf_loff, w_proj), 1, 1, 1},
    {"attn.b_proj", offsetof(disco__tf_loff, b_proj), 0, 1, 0},
    {"ln2.g", offsetof(disco__tf_loff, ln2_g), 0, 1, 0},
    {"ln2.b", offsetof(disco__tf_loff, ln2_b), 0, 1, 0},
    {"mlp.w_fc", offsetof(disco__tf_loff, w_fc), 1, 4, 1},
    {"mlp.b_fc", offsetof(disco__tf_loff, b_fc), 0, 4, 0},
    {"mlp.w_out", offsetof(disco__tf_loff, w_out), 4, 1, 1},
    {"mlp.b_out", offsetof(disco__tf_loff, b_out), 0, 1, 0},
};
#define NLT (sizeof LTENSORS / sizeof LTENSORS[0])

static size_t *loff_field(disco__tf_loff *l, size_t off)
{
    return (size_t *)(void *)((char *)l + off);
}

void disco__tf_layout_make(const disco_tf_config *cfg, disco__tf_layout *lay)
{
    size_t d = cfg->d_model, at = 0;

    memset(lay, 0, sizeof *lay);
    lay->wte = 0;
    lay->wpe = (size_t)cfg->vocab * d;
    lay->layer0 = lay->wpe + (size_t)cfg->ctx * d;
    for (size_t i = 0; i < NLT; i++) {
        *loff_field(&lay->l, LTENSORS[i].off) = at;
        at += (LTENSORS[i].rmul ? LTENSORS[i].rmul * d : 1) * LTENSORS[i].cmul * d;
    }
    lay->layer_size = at;
    lay->lnf_g = lay->layer0 + at * cfg->layers;
    lay->lnf_b = lay->lnf_g + d;
    lay->total = lay->lnf_b + d;
}

void disco__tf_layer_ptrs(const disco__tf_layout *lay, float *base, size_t layer, disco__tf_lp *out)
{
    float *p = base + lay->layer0 + layer * lay->layer_size;

    *out = (disco__tf_lp){p + lay->l.ln1_g,  p + lay->l.ln1_b,  p + lay->l.w_qkv, p + lay->l.b_qkv,
                          p + lay->l.w_proj, p + lay->l.b_proj, p + lay->l.ln2_g, p + lay->l.ln2_b,
                          p + lay->l.w_fc,   p + lay->l.b_fc,   p + lay->l.w_out, p + lay->l.b_out};
}

size_t disco_tf_tensor_count(const disco_tf *m)
{
    return 4 + NLT * m->cfg.layers;
}

int disco_tf_tensor_info(const disco_tf *m, size_t i, disco_tf_tensor *out, disco_status *st)
{
    size_t d = m->cfg.d_model, n = disco_tf_tensor_count(m);

    if (i >= n)
        return disco_status_set(st, DISCO_ERR_INVAL, "tensor", "tensor %zu out of range 0..%zu", i,
                                n - 1);
    memset(out, 0, sizeof *out);
    out->cols = d;
    out->rows = 1;
    if (i == 0 || i == 1) {
        snprintf(out->name, sizeof out->name, "%s", i == 0 ? "wte" : "wpe");
        out->offset = i == 0 ? m->lay.wte : m->lay.wpe;
        out->rows = i == 0 ? m->cfg.vocab : m->cfg.ctx;
    } else if (i >= n - 2) {
        snprintf(out->name, sizeof out->name, "lnf.%s", i == n - 2 ? "g" : "b");
        out->offset = i == n - 2 ? m->lay.lnf_g : m->lay.lnf_b;
    } else {
        const struct ltensor *t = &LTENSORS[(i - 2) % NLT];
        size_t layer = (i - 2) / NLT;

        snprintf(out->name, sizeof out->name, "h%zu.%s", layer, t->name);
        out->offset = m->lay.layer0 + layer * m->lay.layer_size +
                      *loff_field((disco__tf_loff *)&m->lay.l, t->off);
        out->rows = t->rmul ? t->rmul * d : 1;
        out->cols = t->cmul * d;
        out->decay = t->decay;
    }
    return DISCO_OK;
}

/* ---- initialisation ----------------------------------------------------------- */

static uint64_t splitmix(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15u);

    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
    return z ^ (z >> 31);
}

static void fill_normal(float *p, size_t n, double std, uint64_t *rng)
{
    for (size_t i = 0; i < n; i += 2) {
        double u = ((double)(splitmix(rng) >> 11) + 0.5) / 9007199254740992.0;
        double v = (double)(splitmix(rng) >> 11) / 9007199254740992.0;
        double r = std * sqrt(-2.0 * log(u));

        p[i] = (float)(r * cos(2.0 * M_PI * v));
        if (i + 1 < n)
            p[i + 1] = (float)(r * sin(2.0 * M_PI * v));
    }
}

static void init_params(disco_tf *m)
{
    size_t n = disco_tf_tensor_count(m);
    double resid = INIT_STD / sqrt(2.0 * m->cfg.layers);
    uint64_t rng = m->cfg.seed;

    for (size_t i = 0; i < n; i++) {
        disco_tf_tensor t;
        float *p;
        size_t len;

        disco_tf_tensor_info(m, i, &t, NULL);
        p = m->params + t.offset;
        len = t.rows * t.cols;
        if (t.rows > 1) {
            int is_resid = strstr(t.name, "w_proj") != NULL || strstr(t.name, "w_out") != NULL;
            fill_normal(p, len, is_resid ? resid : INIT_STD, &rng);
        } else {
            int gain = t.name[strlen(t.name) - 1] == 'g';
            for (size_t j = 0; j < len; j++)
                p[j] = gain ? 1.0f : 0.0f;
        }
    }
}

/* ---- lifecycle ---------------------------------------------------------------- */

int disco__tf_alloc(const disco_tf_config *cfg, disco_tf **out, disco_status *st)
{
    disco_tf *m = calloc(1, sizeof *m);

    *out = NULL;
    if (!m)
        return disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory for the model");
    m->cfg = *cfg;
    disco__tf_layout_make(cfg, &m->lay);
    m->params = calloc(m->lay.total, sizeof *m->params);
    if (!m->params) {
        size_t total = m->lay.total;
        free(m);
        return disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory for %zu parameters",
                                total);
    }
    m->ex.isa = disco__tf_isa_best();
    *out = m;
    return DISCO_OK;
}

int disco_tf_new(const disco_tf_config *cfg, disco_tf **out, disco_status *st)
{
    int rc;

    *out = NULL;
    rc = disco_tf_config_check(cfg, st);
    if (rc == DISCO_OK)
        rc = disco__tf_alloc(cfg, out, st);
    if (rc == DISCO_OK)
        init_params(*out);
    return rc;
}

static void work_release(disco__tf_work *w)
{
    free(w->mem);
    free(w->layers);
    free(w->part);
    free(w->tgt);
    memset(w, 0, sizeof *w);
}

void disco_tf_free(disco_tf *m)
{
    if (!m)
        return;
    disco_pool_free(m->ex.pool);
    work_release(&m->w);
    free(m->params);
    free(m->grads);
    free(m->adam_m);
    free(m->adam_v);
    free(m);
}

const disco_tf_config *disco_tf_config_get(const disco_tf *m)
{
    return &m->cfg;
}

size_t disco_tf_param_count(const disco_tf *m)
{
    return m->lay.total;
}

float *disco_tf_params(disco_tf *m)
{
    return m->params;
}

const float *disco_tf_grads(const disco_tf *m)
{
    return m->grads;
}

uint64_t disco_tf_steps(const disco_tf *m)
{
    return m->steps;
}

int disco__tf_need_grads(disco_tf *m, disco_status *st)
{
    if (!m->grads)
        m->grads = calloc(m->lay.total, sizeof *m->grads);
    if (!m->grads)
        return disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory for gradients");
    return DISCO_OK;
}

int disco__tf_need_adam(disco_tf *m, disco_status *st)
{
    if (!m->adam_m)
        m->adam_m = calloc(m->lay.total, sizeof *m->adam_m);
    if (!m->adam_v)
        m->adam_v = calloc(m->lay.total, sizeof *m->adam_v);
    if (!m->adam_m || !m->adam_v)
        return disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory for the AdamW state");
    return DISCO_OK;
}

/* ---- threads and kernels --------------------------------------------------------- */

int disco__tf_isa_best(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        return DISCO__TF_ISA_AVX2;
#endif
    return DISCO__TF_ISA_PORTABLE;
}

int disco__tf_set_isa(disco_tf *m, int isa)
{
    if (isa != DISCO__TF_ISA_PORTABLE && isa != disco__tf_isa_best())
        return DISCO_ERR_INVAL;
    m->ex.isa = isa;
    return DISCO_OK;
}

int disco_tf_set_threads(disco_tf *m, size_t threads, disco_status *st)
{
    disco_pool *pool = NULL;
    int rc;

    if (threads == 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        threads = n > 0 ? (size_t)n : 1;
    }
    if (threads > THREADS_MAX)
        threads = THREADS_MAX;
    if (threads > 1) {
        rc = disco_pool_new(threads - 1, &pool);
        if (rc != DISCO_OK)
            return disco_status_set(st, rc, "threads", "cannot start %zu worker threads",
                                    threads - 1);
    }
    disco_pool_free(m->ex.pool);
    m->ex.pool = pool;
    return DISCO_OK;
}

void disco__tf_par(const disco__tf_exec *ex, size_t n, void (*fn)(size_t i, void *arg), void *arg)
{
    if (ex->pool && n > 1) {
        disco_pool_parallel_for(ex->pool, n, fn, arg);
        return;
    }
    for (size_t i = 0; i < n; i++)
        fn(i, arg);
}

/* ---- input checks ----------------------------------------------------------------- */

int disco__tf_check_batch(const disco_tf *m, const int32_t *toks, size_t batch, size_t seq,
                          size_t n_per_row, disco_status *st)
{
    if (batch < 1 || batch > BATCH_MAX)
        return disco_status_set(st, DISCO_ERR_INVAL, "batch", "batch %zu out of range 1..%u", batch,
                                BATCH_MAX);
    if (seq < 1 || seq > m->cfg.ctx)
        return disco_status_set(st, DISCO_ERR_INVAL, "seq", "seq %zu out of range 1..%u (ctx)", seq,
                                m->cfg.ctx);
    for (size_t i = 0; i < batch * n_per_row; i++) {
        if (toks[i] < 0 || (uint32_t)toks[i] >= m->cfg.vocab)
            return disco_status_set(st, DISCO_ERR_INVAL, "tokens",
                                    "token %d at index %zu out of range 0..%u", (int)toks[i], i,
                                    m->cfg.vocab - 1);
    }
    return DISCO_OK;
}

/* ---- work area ---------------------------------------------------------------------- */

static size_t round_up(size_t x, size_t r)
{
    return (x + r - 1) / r * r;
}

/* Takes n floats (64-byte aligned) at *at; assigns only when base is set. */
static void carve(float *base, size_t *at, float **dst, size_t n)
{
    if (base)
        *dst = base + *at;
    *at += round_up(n, 16);
}

/* Room for the packed operands of every product of a pass over N tokens. */
static size_t pack_room(const disco_tf_config *c, size_t n)
{
    size_t d = c->d_model, v = c->vocab, dims[5] = {d, 3 * d, 4 * d, v, n}, most = 0;

    for (size_t i = 0; i < 5; i++) {
        for (size_t j = 0; j < 5; j++) {
            size_t s0 = disco__tf_pack_size(dims[i], dims[j], 0); /* B in place */
            size_t s1 = i < 4 && j < 4 ? disco__tf_pack_size(dims[i], dims[j], 1) : 0; /* weights */
            most = s0 > most ? s0 : most;
            most = s1 > most ? s1 : most;
        }
    }
    return most;
}

static size_t work_layout(const disco_tf *m, size_t b, size_t t, float *base, disco__tf_work *w)
{
    size_t d = m->cfg.d_model, h = m->cfg.heads, v = m->cfg.vocab, n = b * t, at = 0;

    carve(base, &at, &w->x0, n * d);
    for (size_t l = 0; l < m->cfg.layers; l++) {
        disco__tf_lacts *a = base ? &w->layers[l] : &(disco__tf_lacts){0};
        carve(base, &at, &a->ln1, n * d);
        carve(base, &at, &a->ln1_mu, n);
        carve(base, &at, &a->ln1_rs, n);
        carve(base, &at, &a->qkv, 3 * n * d);
        carve(base, &at, &a->att, b * h * t * t);
        carve(base, &at, &a->ao, n * d);
        carve(base, &at, &a->res1, n * d);
        carve(base, &at, &a->ln2, n * d);
        carve(base, &at, &a->ln2_mu, n);
        carve(base, &at, &a->ln2_rs, n);
        carve(base, &at, &a->fc, 4 * n * d);
        carve(base, &at, &a->gl, 4 * n * d);
        carve(base, &at, &a->res2, n * d);
    }
    carve(base, &at, &w->lnf, n * d);
    carve(base, &at, &w->lnf_mu, n);
    carve(base, &at, &w->lnf_rs, n);
    carve(base, &at, &w->logits, n * v);
    carve(base, &at, &w->dres, n * d);
    carve(base, &at, &w->dx, n * d);
    carve(base, &at, &w->dbig, 4 * n * d);
    carve(base, &at, &w->attn_scratch, b * h * disco__tf_attn_scratch(t, d / h));
    carve(base, &at, &w->pack, pack_room(&m->cfg, n));
    return at;
}

int disco__tf_work_reserve(disco_tf *m, size_t batch, size_t seq, disco_status *st)
{
    disco__tf_work *w = &m->w, nw = {0};
    size_t b = batch > w->cap_b ? batch : w->cap_b, t = seq > w->cap_t ? seq : w->cap_t, total;

    if (w->mem && batch <= w->cap_b && seq <= w->cap_t)
        return DISCO_OK;
    total = work_layout(m, b, t, NULL, &nw);
    nw.mem = aligned_alloc(64, total * sizeof(float));
    nw.layers = calloc(m->cfg.layers, sizeof *nw.layers);
    nw.part = calloc(b * t / 64 + 2, sizeof *nw.part);
    nw.tgt = calloc(b * t, sizeof *nw.tgt);
    if (!nw.mem || !nw.layers || !nw.part || !nw.tgt) {
        work_release(&nw);
        return disco_status_set(st, DISCO_ERR_NOMEM, "batch",
                                "out of memory for a work area of %zu x %zu tokens (%zu MB)", b, t,
                                total * sizeof(float) >> 20);
    }
    work_layout(m, b, t, nw.mem, &nw);
    nw.cap_b = b;
    nw.cap_t = t;
    work_release(w);
    *w = nw;
    return DISCO_OK;
}
