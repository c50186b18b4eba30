/*
 * render_audio.c - audio analysis and mastering results for people: one
 * line per topic instead of every beat time. `--json` gives everything.
 */
#include "cli_int.h"

#include <math.h>
#include <string.h>

static double num(const json_t *o, const char *path)
{
    const json_t *v = o;
    char key[64];
    for (const char *p = path; v && *p;) {
        size_t n = strcspn(p, ".");
        snprintf(key, sizeof key, "%.*s", (int)n, p);
        v = json_object_get(v, key);
        p += n + (p[n] == '.');
    }
    return json_is_number(v) ? json_number_value(v) : NAN;
}

static const char *str(const json_t *o, const char *a, const char *b)
{
    const char *s = json_string_value(json_object_get(json_object_get(o, a), b));
    return s ? s : "-";
}

/* "%.1f unit" or "-" when the value does not exist. */
static const char *fmt(char *buf, size_t size, double v, const char *unit)
{
    if (isnan(v))
        snprintf(buf, size, "-");
    else
        snprintf(buf, size, "%.1f%s%s", v, unit[0] ? " " : "", unit);
    return buf;
}

static void render_loudness(FILE *out, const char *label, const json_t *l)
{
    char a[32], b[32], c[32], d[32];
    fprintf(out, "%-11s %s integrated, range %s, true peak %s, sample peak %s\n", label,
            fmt(a, sizeof a, num(l, "integrated_lufs"), "LUFS"),
            fmt(b, sizeof b, num(l, "range_lu"), "LU"),
            fmt(c, sizeof c, num(l, "true_peak_dbtp"), "dBTP"),
            fmt(d, sizeof d, num(l, "sample_peak_dbfs"), "dBFS"));
}

static void render_analysis(FILE *out, const json_t *r)
{
    double dur = num(r, "file.duration_s");
    char a[32], b[32];
    fprintf(out, "%-11s %s/%s, %d ch, %d Hz, %d:%04.1f\n", "file", str(r, "file", "format"),
            str(r, "file", "subtype"), (int)num(r, "file.channels"), (int)num(r, "file.rate"),
            (int)(dur / 60), fmod(dur, 60));
    render_loudness(out, "loudness", json_object_get(r, "loudness"));
    fprintf(out, "%-11s %s (confidence %.2f, alternative %s), %d beats, %d onsets\n", "tempo",
            fmt(a, sizeof a, num(r, "tempo.bpm"), "BPM"), num(r, "tempo.confidence"),
            fmt(b, sizeof b, num(r, "tempo.alternative_bpm"), "BPM"), (int)num(r, "beats.count"),
            (int)num(r, "onsets.count"));
    fprintf(out, "%-11s %s (confidence %.2f, %s profile), tuning %+.2f semitones\n", "key",
            str(r, "key", "name"), num(r, "key.confidence"), str(r, "key", "profile"),
            num(r, "key.tuning_semitones"));
    fprintf(out, "%-11s centroid %.0f Hz, rolloff %.0f Hz, flatness %.3f, zcr %.3f\n", "spectrum",
            num(r, "features.spectral_centroid_hz.mean"),
            num(r, "features.spectral_rolloff_hz.mean"), num(r, "features.spectral_flatness.mean"),
            num(r, "features.zero_crossing_rate.mean"));
    fprintf(out, "%-11s DC %.4f, %d clipped, silence %.2f s / %.2f s, stereo r %s\n", "character",
            num(r, "characteristics.dc_offset"), (int)num(r, "characteristics.clipped_samples"),
            num(r, "characteristics.silence_head_s"), num(r, "characteristics.silence_tail_s"),
            isnan(num(r, "characteristics.stereo_correlation"))
                ? "-"
                : (snprintf(a, sizeof a, "%.2f", num(r, "characteristics.stereo_correlation")), a));
}

static void render_stored(FILE *out, const json_t *r)
{
    const char *keys[] = {"audio", "analysis", "output", "resource"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        const char *v = json_string_value(json_object_get(r, keys[i]));
        if (v)
            fprintf(out, "%-11s %s\n", keys[i], v);
    }
}

int cli_render_audio(FILE *out, const json_t *result)
{
    if (json_object_get(result, "features") && json_object_get(result, "loudness") &&
        json_object_get(result, "key")) {
        render_analysis(out, result);
        render_stored(out, result);
        return 1;
    }
    if (json_object_get(result, "before") && json_object_get(result, "after")) {
        render_loudness(out, "before", json_object_get(result, "before"));
        render_loudness(out, "after", json_object_get(result, "after"));
        render_stored(out, result);
        return 1;
    }
    return 0;
}
