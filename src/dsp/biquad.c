/*
 * biquad.c - second-order IIR filters from Robert Bristow-Johnson's "Audio
 * EQ Cookbook": low-pass, high-pass, peaking, low shelf, high shelf, with Q
 * or (for shelves) the slope S; their analytic response; and a cascade
 * runner.
 *
 * DESIGN: transposed direct form II with double state per channel. Filters
 * run band by band over sub-blocks of SUB frames (cache-resident), and the
 * state lives in locals inside each loop so the recursion never waits on a
 * store: stereo has its own two-chain loop, other layouts go channel by
 * channel.
 */
#include "disco/effects.h"

#include "fx_int.h"

#include <complex.h>
#include <math.h>
#include <string.h>

#define SUB 1024

static const char *const kind_names[] = {"lowpass", "highpass", "peaking", "lowshelf", "highshelf"};

disco_biquad_band disco_biquad_band_default(void)
{
    return (disco_biquad_band){
        .kind = DISCO_BIQUAD_PEAKING, .freq = 1000.0, .gain_db = 0.0, .q = M_SQRT1_2, .slope = 0};
}

int disco_biquad_kind_parse(const char *name, const char *field, disco_biquad_kind *out,
                            disco_status *st)
{
    for (size_t i = 0; i < sizeof kind_names / sizeof kind_names[0]; i++) {
        if (name && strcmp(name, kind_names[i]) == 0) {
            *out = (disco_biquad_kind)i;
            return DISCO_OK;
        }
    }
    return disco_status_set(st, DISCO_ERR_INVAL, field,
                            "%s: unknown filter kind \"%s\"; known: lowpass, highpass, peaking, "
                            "lowshelf, highshelf",
                            field, name ? name : "");
}

const char *disco_biquad_kind_name(disco_biquad_kind kind)
{
    if ((unsigned)kind >= sizeof kind_names / sizeof kind_names[0])
        return "unknown";
    return kind_names[kind];
}

static int shelf_kind(disco_biquad_kind k)
{
    return k == DISCO_BIQUAD_LOWSHELF || k == DISCO_BIQUAD_HIGHSHELF;
}

static int band_check(const disco_biquad_band *b, double rate, disco_status *st)
{
    int rc;

    if (!(rate >= DISCO_AUDIO_MIN_RATE && rate <= DISCO_AUDIO_MAX_RATE))
        return disco_status_set(st, DISCO_ERR_INVAL, "rate", "rate: %g Hz out of range %d..%d",
                                rate, DISCO_AUDIO_MIN_RATE, DISCO_AUDIO_MAX_RATE);
    if ((unsigned)b->kind >= sizeof kind_names / sizeof kind_names[0])
        return disco_status_set(st, DISCO_ERR_INVAL, "kind", "kind: unknown filter kind %d",
                                (int)b->kind);
    if (b->freq >= rate / 2.0)
        return disco_status_set(st, DISCO_ERR_INVAL, "freq", "freq: %g Hz is above Nyquist (%g Hz)",
                                b->freq, rate / 2.0);
    if ((rc = disco__fx_range(b->freq, 1.0, rate / 2.0, "freq", st)) != DISCO_OK)
        return rc;
    if (!(shelf_kind(b->kind) && b->slope != 0.0) &&
        (rc = disco__fx_range(b->q, 0.05, 50.0, "q", st)) != DISCO_OK)
        return rc; /* a shelf given a slope ignores q */
    if ((rc = disco__fx_range(b->gain_db, -40.0, 40.0, "gain_db", st)) != DISCO_OK)
        return rc;
    if (shelf_kind(b->kind) && b->slope != 0.0)
        return disco__fx_range(b->slope, 0.05, 1.0, "slope", st);
    return DISCO_OK;
}

/* The shelf coefficients; `hi` selects the high shelf (RBJ's sign flips). */
static void shelf(double A, double cw, double alpha, int hi, double c[6])
{
    double s = hi ? -1.0 : 1.0, k = 2.0 * sqrt(A) * alpha;

    c[0] = A * ((A + 1) - s * (A - 1) * cw + k);
    c[1] = s * 2.0 * A * ((A - 1) - s * (A + 1) * cw);
    c[2] = A * ((A + 1) - s * (A - 1) * cw - k);
    c[3] = (A + 1) + s * (A - 1) * cw + k;
    c[4] = -s * 2.0 * ((A - 1) + s * (A + 1) * cw);
    c[5] = (A + 1) + s * (A - 1) * cw - k;
}

int disco_biquad_design(const disco_biquad_band *band, double rate, disco_biquad_coefs *out,
                        disco_status *st)
{
    double w0, cw, sw, A, alpha, c[6] = {0}; /* b0 b1 b2 a0 a1 a2 */
    int rc = band_check(band, rate, st);

    if (rc != DISCO_OK)
        return rc;
    w0 = 2.0 * M_PI * band->freq / rate;
    cw = cos(w0);
    sw = sin(w0);
    A = pow(10.0, band->gain_db / 40.0);
    alpha = sw / (2.0 * band->q);
    switch (band->kind) {
    case DISCO_BIQUAD_LOWPASS:
    case DISCO_BIQUAD_HIGHPASS: {
        double s = band->kind == DISCO_BIQUAD_LOWPASS ? 1.0 : -1.0;

        c[0] = c[2] = (1.0 - s * cw) / 2.0;
        c[1] = s * (1.0 - s * cw);
        c[3] = 1.0 + alpha;
        c[4] = -2.0 * cw;
        c[5] = 1.0 - alpha;
        break;
    }
    case DISCO_BIQUAD_PEAKING:
        c[0] = 1.0 + alpha * A;
        c[1] = -2.0 * cw;
        c[2] = 1.0 - alpha * A;
        c[3] = 1.0 + alpha / A;
        c[4] = -2.0 * cw;
        c[5] = 1.0 - alpha / A;
        break;
    case DISCO_BIQUAD_LOWSHELF:
    case DISCO_BIQUAD_HIGHSHELF:
        if (band->slope > 0.0)
            alpha = sw / 2.0 * sqrt((A + 1.0 / A) * (1.0 / band->slope - 1.0) + 2.0);
        shelf(A, cw, alpha, band->kind == DISCO_BIQUAD_HIGHSHELF, c);
        break;
    }
    *out = (disco_biquad_coefs){c[0] / c[3], c[1] / c[3], c[2] / c[3], c[4] / c[3], c[5] / c[3]};
    return DISCO_OK;
}

double disco_biquad_response_db(const disco_biquad_coefs *c, double rate, double freq)
{
    double complex z1 = cexp(-I * 2.0 * M_PI * freq / rate), z2 = z1 * z1;
    double complex h = (c->b0 + c->b1 * z1 + c->b2 * z2) / (1.0 + c->a1 * z1 + c->a2 * z2);

    return 20.0 * log10(cabs(h));
}

void disco_biquad_init(disco_biquad *f, const disco_biquad_coefs *c, int channels)
{
    if (channels < 1)
        channels = 1;
    if (channels > DISCO_AUDIO_MAX_CHANNELS)
        channels = DISCO_AUDIO_MAX_CHANNELS;
    f->c = *c;
    f->channels = channels;
    disco_biquad_reset(f);
}

void disco_biquad_reset(disco_biquad *f)
{
    memset(f->z1, 0, sizeof f->z1);
    memset(f->z2, 0, sizeof f->z2);
}

/* Both channels of a stereo block through one filter. */
static void run_stereo(disco_biquad *f, float *x, size_t frames)
{
    const double b0 = f->c.b0, b1 = f->c.b1, b2 = f->c.b2, a1 = f->c.a1, a2 = f->c.a2;
    double l1 = f->z1[0], l2 = f->z2[0], r1 = f->z1[1], r2 = f->z2[1];

    for (size_t i = 0; i < frames; i++) {
        double vl = x[2 * i], vr = x[2 * i + 1];
        double yl = b0 * vl + l1, yr = b0 * vr + r1;

        l1 = b1 * vl - a1 * yl + l2;
        l2 = b2 * vl - a2 * yl;
        r1 = b1 * vr - a1 * yr + r2;
        r2 = b2 * vr - a2 * yr;
        x[2 * i] = (float)yl;
        x[2 * i + 1] = (float)yr;
    }
    f->z1[0] = l1;
    f->z2[0] = l2;
    f->z1[1] = r1;
    f->z2[1] = r2;
}

/* One channel (stride = channels) of a block through one filter. */
static void run_channel(disco_biquad *f, int ch, float *x, size_t frames)
{
    const double b0 = f->c.b0, b1 = f->c.b1, b2 = f->c.b2, a1 = f->c.a1, a2 = f->c.a2;
    const size_t C = (size_t)f->channels;
    double z1 = f->z1[ch], z2 = f->z2[ch];

    for (size_t i = 0; i < frames; i++) {
        double v = x[i * C + (size_t)ch], y = b0 * v + z1;

        z1 = b1 * v - a1 * y + z2;
        z2 = b2 * v - a2 * y;
        x[i * C + (size_t)ch] = (float)y;
    }
    f->z1[ch] = z1;
    f->z2[ch] = z2;
}

void disco_biquad_process(disco_biquad *f, size_t n, float *x, size_t frames)
{
    if (n == 0)
        return;
    for (size_t s = 0; s < frames; s += SUB) {
        size_t len = frames - s < SUB ? frames - s : SUB;
        float *blk = x + s * (size_t)f[0].channels;

        for (size_t k = 0; k < n; k++) {
            if (f[k].channels == 2) {
                run_stereo(&f[k], blk, len);
                continue;
            }
            for (int c = 0; c < f[k].channels; c++)
                run_channel(&f[k], c, blk, len);
        }
    }
}
