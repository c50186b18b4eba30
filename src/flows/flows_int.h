/*
 * flows_int.h - internals shared by the flow files (audio processing and
 * mastering share input, measurement and output handling).
 */
#ifndef DISCO_FLOWS_INT_H
#define DISCO_FLOWS_INT_H

#include "disco/audio_flow.h"

/* Loudness of a signal as {"integrated_lufs", "range_lu", "true_peak_dbtp", "sample_peak_dbfs"}. */
json_t *disco__audio_measure(const disco_audio *a, disco_status *st);

/*
 * Opens `input` and loads it whole into `sig`; a file that is to be stored
 * is imported first so the result can hang under it. INVAL naming "output"
 * when `out` asks for neither a file nor the store.
 */
int disco__audio_open_input(disco_catalog *cat, disco_objects *objs, const char *input,
                            const disco_audio_output *out, disco_audio_input *in, disco_audio *sig,
                            disco_status *st);

/* {"input", "audio", "duration_s"} for a result. */
json_t *disco__audio_result(const char *input, const disco_audio_input *in, const disco_audio *a);

/*
 * Measures `after`, adds "before"/"after" to `res` and the measurement to
 * `meta`, writes the output file and/or stores it (with `meta`) under the
 * input, and sets *result to `res` (a new reference).
 */
int disco__audio_finish(disco_catalog *cat, disco_objects *objs, json_t *before,
                        const disco_audio *after, const disco_audio_output *out,
                        const disco_audio_input *in, json_t *meta, json_t *res, json_t **result,
                        disco_status *st);

#endif
