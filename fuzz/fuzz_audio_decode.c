/*
 * fuzz_audio_decode.c - any bytes given to the memory reader are decoded or
 * refused cleanly; what decodes stays within the header's limits, delivers
 * finite samples only, and feeds the loudness meter and the characteristics
 * without trouble; the first ANALYSE_FRAMES of it go through the whole
 * analysis (resampling, features, onsets, tempo, beats, key).
 */
#include "disco/audio.h"
#include "disco/audio_analysis.h"
#include "disco/loudness.h"

#include "fuzz_check.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>

/* Some formats expand a few bytes into hours of audio: stop there. */
#define MAX_FRAMES ((uint64_t)1 << 22)
#define BLOCK 1024
#define ANALYSE_FRAMES ((size_t)1 << 17)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
const char *__lsan_default_suppressions(void);

/*
 * libsndfile leaves codec state behind when it refuses some damaged Ogg
 * streams (e.g. vorbis_info from vorbis_info_init; libsndfile issues #922,
 * #1013). Those allocations are made inside the codec libraries, never by
 * us, so only stacks through them are excused; a reader we forgot to close
 * still shows as a leak through libsndfile itself.
 */
const char *__lsan_default_suppressions(void)
{
    return "leak:libvorbis.so\nleak:libogg.so\nleak:libopus.so\nleak:libmpg123.so\n"
           "leak:libFLAC.so\n";
}

static void measure(disco_audio_reader *r, const disco_audio_info *info, float *buf)
{
    disco_status st = {0};
    disco_loudness_meter *m = NULL;
    disco_character_acc *c = NULL;
    disco_loudness l;
    disco_character ch;
    size_t n = 0;
    int rc;

    CHECK(disco_loudness_meter_new(info->channels, info->rate, DISCO_LOUDNESS_ALL, &m, &st) ==
          DISCO_OK);
    CHECK(disco_character_new(info->channels, info->rate, &c, &st) == DISCO_OK);
    while ((rc = disco_audio_reader_read(r, buf, BLOCK, &n, &st)) == DISCO_OK && n > 0) {
        for (size_t i = 0; i < n * (size_t)info->channels; i++)
            CHECK(isfinite(buf[i]));
        CHECK(disco_loudness_meter_add(m, buf, n, &st) == DISCO_OK);
        disco_character_add(c, buf, n);
        if (disco_audio_reader_position(r) >= MAX_FRAMES)
            break;
    }
    if (rc != DISCO_OK)
        CHECK(st.msg[0] != '\0' && rc < 0);
    CHECK(disco_loudness_meter_result(m, &l, &st) == DISCO_OK);
    CHECK(!isnan(l.integrated_lufs) && !isnan(l.sample_peak_dbfs));
    disco_character_result(c, &ch);
    CHECK(ch.duration_s >= 0.0 && ch.silence_head_s <= ch.duration_s + 1e-9);
    disco_character_free(c);
    disco_loudness_meter_free(m);
}

/* Decodes up to ANALYSE_FRAMES again and analyses them; every number that exists is finite. */
static void analyse(const uint8_t *data, size_t size)
{
    disco_status st = {0};
    disco_audio_reader *r = NULL;
    disco_audio a = {0};
    disco_analysis_report rep;
    size_t n = 0;

    CHECK(disco_audio_reader_open_mem(data, size, &r, &st) == DISCO_OK);
    const disco_audio_info *info = disco_audio_reader_info(r);
    CHECK(disco_audio_alloc(&a, ANALYSE_FRAMES, info->channels, info->rate, &st) == DISCO_OK);
    if (disco_audio_reader_read(r, a.data, ANALYSE_FRAMES, &n, &st) == DISCO_OK && n > 0) {
        disco_analysis_config cfg = disco_analysis_config_default();
        a.frames = n;
        CHECK(disco_audio_analyze_signal(&a, &cfg, &rep, &st) == DISCO_OK);
        CHECK(rep.tempo.bpm == 0.0 || (rep.tempo.bpm >= 20.0 && rep.tempo.bpm <= 400.0));
        CHECK(rep.key.tonic >= -1 && rep.key.tonic < 12);
        CHECK(isfinite(rep.centroid.mean) && isfinite(rep.mfcc[0].mean));
        for (size_t i = 0; i < rep.n_beats; i++)
            CHECK(rep.beats[i] >= 0.0 && rep.beats[i] <= (double)n / info->rate + 1.0);
        disco_analysis_report_release(&rep);
    }
    disco_audio_release(&a);
    disco_audio_reader_close(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    disco_status st = {0};
    disco_audio_reader *r = NULL;
    const disco_audio_info *info;
    float *buf;

    if (disco_audio_reader_open_mem(data, size, &r, &st) != DISCO_OK) {
        CHECK(r == NULL && st.msg[0] != '\0');
        return 0;
    }
    info = disco_audio_reader_info(r);
    CHECK(info->channels >= 1 && info->channels <= DISCO_AUDIO_MAX_CHANNELS);
    CHECK(info->rate >= DISCO_AUDIO_MIN_RATE && info->rate <= DISCO_AUDIO_MAX_RATE);
    CHECK(info->frames == -1 || info->frames > 0);
    buf = malloc(BLOCK * (size_t)info->channels * sizeof *buf);
    CHECK(buf != NULL);
    measure(r, info, buf);
    free(buf);
    disco_audio_reader_close(r);
    analyse(data, size);
    return 0;
}
