/*
 * audio_flow.h - the audio processing flow: audio in (a file, or a
 * resource whose payload is audio), analysis, effects and mastering out,
 * every result stored as a resource with lineage.
 *
 *   input --import--> audio resource --analyze--> analysis resource
 *                                    --process--> audio resource (chain in metadata)
 *                                    --master---> audio resource (report in metadata)
 *
 * A file input is only read unless the caller asks to store: then it is
 * imported first (content-addressed, so importing the same file twice
 * stores its bytes once) and the results hang under it.
 */
#ifndef DISCO_AUDIO_FLOW_H
#define DISCO_AUDIO_FLOW_H

#include "disco/audio.h"
#include "disco/audio_analysis.h"
#include "disco/catalog.h"
#include "disco/objects.h"
#include "disco/progress.h"
#include "disco/tsdb.h"

#include <jansson.h>

/* An opened audio input. */
typedef struct disco_audio_input {
    char *path;         /* the file, or NULL for a resource */
    disco_resource res; /* the resource (res.id "" for a file) */
    int fd;             /* the payload of a resource, -1 for a file */
    disco_audio_reader *reader;
} disco_audio_input;

/*
 * Resolves `input`: an existing file path is a file; otherwise a
 * well-formed resource id names a resource (the catalog and objects are
 * then required). NOTFOUND "no file or resource 'x'", INVAL when the
 * resource has no payload, and every error of the reader (UNSUPPORTED,
 * CORRUPT, ...), all naming `field`. Release with disco_audio_input_release.
 */
int disco_audio_input_open(disco_catalog *cat, disco_objects *objs, const char *input,
                           const char *field, disco_audio_input *in, disco_status *st);
void disco_audio_input_release(disco_audio_input *in);

/* 1 when `input` will be treated as a resource id (no file of that name exists). */
int disco_audio_input_is_resource(const char *input);

/*
 * Stores the file `path` as a resource of type "audio" whose metadata
 * describes it: {"filename", "format", "subtype", "channels", "rate",
 * "frames", "duration_s"} merged over `metadata` (may be NULL). The file is
 * decoded once to check it and count its frames. `parents` may be NULL.
 */
int disco_audio_import(disco_catalog *cat, disco_objects *objs, const char *path,
                       const json_t *tags, const json_t *metadata, const json_t *parents,
                       const char *owner, disco_resource *out, disco_status *st);

/* The analysis report as JSON (see docs/audio.md); non-finite values become null. */
json_t *disco_audio_report_json(const disco_analysis_report *rep, const disco_analysis_config *cfg,
                                int with_frames);

/* One line: "120.2 BPM, A minor, -14.1 LUFS, 3:25". */
void disco_audio_report_summary(const disco_analysis_report *rep, char *buf, size_t size);

typedef struct disco_audio_analyze_opts {
    disco_analysis_config cfg;
    int store;  /* store the analysis (importing a file input first) */
    int frames; /* include frame-level series (and write them to the tsdb for resources) */
    const char *owner;
    const disco_progress *progress; /* may be NULL */
} disco_audio_analyze_opts;

/*
 * Analyses `input`. Result: {"input", "audio" (resource id or null),
 * "analysis" (resource id or null), "summary", ...report}. With frames and a
 * stored input, the series rms, zcr, centroid, bandwidth, rolloff, flatness
 * and onset_env are written to the tsdb as metrics "audio.<name>" tagged
 * {"resource": id}, timestamped from the resource's creation time plus the
 * frame's time in the audio. `tsdb` may be NULL when !frames.
 */
int disco_audio_flow_analyze(disco_catalog *cat, disco_objects *objs, disco_tsdb *tsdb,
                             const char *input, const disco_audio_analyze_opts *opts,
                             json_t **result, disco_status *st);

/* Where and how a processed signal goes: a file, the store, or both. */
typedef struct disco_audio_output {
    const char *path; /* NULL: no file */
    int encoding_set; /* 0: from the path's extension (flac24 for the store) */
    disco_audio_encoding encoding;
    int store; /* store as a resource under the input */
    const char *owner;
    const disco_progress *progress;
} disco_audio_output;

/*
 * Applies the effect chain `chain` (see effects.h) to `input` in one pass.
 * Result: {"input", "audio" (input resource or null), "output" (path or
 * null), "resource" (new resource or null), "effects", "duration_s",
 * "before", "after"} where before/after are loudness measurements. INVAL
 * when neither a path nor store is asked for, naming "output".
 */
int disco_audio_flow_process(disco_catalog *cat, disco_objects *objs, const char *input,
                             const json_t *chain, const disco_audio_output *out, json_t **result,
                             disco_status *st);

/*
 * Masters `input` (see master.h) with `cfg`; `reference` (a file or a
 * resource, may be NULL) switches to reference matching. Result as for
 * process plus "master": the report (target, gain, limiter and glue gain
 * reduction, iterations, converged, reference EQ per band) and "preset".
 */
struct disco_master_config;
int disco_audio_flow_master(disco_catalog *cat, disco_objects *objs, const char *input,
                            const struct disco_master_config *cfg, const char *preset,
                            const char *reference, const disco_audio_output *out, json_t **result,
                            disco_status *st);

/*
 * Converts `input` to `rate` Hz (0: keep; libsamplerate's best converter)
 * and `channels` (0: keep; 1 mixes to mono; 2 from mono duplicates), then
 * writes/stores it as `out` says. Result as for process plus "rate" and
 * "channels". INVAL naming "channels" for a mapping it cannot make.
 */
int disco_audio_flow_convert(disco_catalog *cat, disco_objects *objs, const char *input, int rate,
                             int channels, const disco_audio_output *out, json_t **result,
                             disco_status *st);

/* Reads a whole input (file or resource) into memory. */
int disco_audio_input_load(disco_audio_input *in, disco_audio *out, disco_status *st);

#endif
