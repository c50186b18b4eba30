/*
 * audio_convert.c - the conversion flow: sample rate (libsamplerate's best
 * sinc converter), channels (mix to mono, or mono to stereo) and encoding,
 * written and/or stored under the input like every other audio result.
 */
#include "flows_int.h"

#include <stdlib.h>
#include <string.h>

/* Mono mix, mono to stereo, or unchanged; INVAL naming "channels" for anything else. */
static int map_channels(disco_audio *a, int channels, disco_status *st)
{
    if (channels == 0 || channels == a->channels)
        return DISCO_OK;
    if (channels != 1 && !(channels == 2 && a->channels == 1))
        return disco_status_set(st, DISCO_ERR_INVAL, "channels",
                                "cannot map %d channels to %d: give 1 (mix to mono) or %d",
                                a->channels, channels, a->channels);
    disco_audio m;
    int rc = disco_audio_alloc(&m, a->frames, channels, a->rate, st);
    if (rc)
        return rc;
    if (channels == 1)
        disco_audio_downmix(a->data, a->frames, a->channels, m.data);
    else
        for (size_t i = 0; i < a->frames; i++)
            m.data[2 * i] = m.data[2 * i + 1] = a->data[i];
    disco_audio_release(a);
    *a = m;
    return DISCO_OK;
}

int disco_audio_flow_convert(disco_catalog *cat, disco_objects *objs, const char *input, int rate,
                             int channels, const disco_audio_output *out, json_t **result,
                             disco_status *st)
{
    disco_audio_input in;
    disco_audio sig = {0}, conv = {0};
    json_t *res = NULL, *meta = NULL, *before = NULL;
    *result = NULL;
    int rc = disco__audio_open_input(cat, objs, input, out, &in, &sig, st);
    if (!rc && !(before = disco__audio_measure(&sig, st)))
        rc = st->code;
    if (!rc)
        rc = map_channels(&sig, channels, st);
    if (!rc && rate && rate != sig.rate)
        rc = disco_audio_resample(&sig, rate, DISCO_RESAMPLE_BEST, &conv, st);
    if (!rc && !conv.data) {
        conv = sig;
        memset(&sig, 0, sizeof sig);
    }
    if (!rc) {
        res = disco__audio_result(input, &in, &conv);
        meta = json_pack("{s:s, s:i, s:i}", "operation", "convert", "rate", conv.rate, "channels",
                         conv.channels);
        json_object_set_new(res, "rate", json_integer(conv.rate));
        json_object_set_new(res, "channels", json_integer(conv.channels));
        rc = disco__audio_finish(cat, objs, before, &conv, out, &in, meta, res, result, st);
    }
    json_decref(res);
    json_decref(meta);
    json_decref(before);
    disco_audio_release(&sig);
    disco_audio_release(&conv);
    disco_audio_input_release(&in);
    return rc;
}
