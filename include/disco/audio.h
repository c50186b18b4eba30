/*
 * audio.h - audio in and out: decoding, encoding, resampling, channel mixing.
 *
 * Decoding goes through libsndfile (WAV, AIFF, FLAC, OGG/Vorbis, Opus, MP3
 * in Debian 12's build). Samples are float, interleaved, nominally in
 * [-1, 1]. Readers stream in blocks, so a long file never has to sit in
 * memory; disco_audio_load() is the convenience that does.
 *
 * Every decoded block is checked: a NaN or infinite sample is INVAL naming the
 * frame and channel (a decoder that yields them has met a corrupt file).
 * Limits refused at open, with a message naming the value: sample rate
 * outside 1000..768000 Hz, channels outside 1..DISCO_AUDIO_MAX_CHANNELS,
 * zero-length files (INVAL "file has no audio frames").
 *
 * Files are opened by descriptor, so libsndfile never guesses a headerless
 * format from the file name: a file and the same bytes in memory decode
 * alike. A stream that ends before the length its header promises is CORRUPT
 * (for WAV/AIFF libsndfile trims that length to what the file holds, so a
 * WAV cut inside its sample data reads as the shorter signal it now is).
 *
 * Writers write to "<path>.tmp-XXXXXX" and rename over `path` only in
 * disco_audio_writer_close() after fsync, so a failed or abandoned write
 * never leaves a half-written file under the final name.
 *
 * Threads: readers, writers and resamplers belong to one thread each;
 * different instances may be used concurrently.
 */
#ifndef DISCO_AUDIO_H
#define DISCO_AUDIO_H

#include "disco/err.h"

#include <stddef.h>
#include <stdint.h>

#define DISCO_AUDIO_MAX_CHANNELS 64
#define DISCO_AUDIO_MIN_RATE 1000
#define DISCO_AUDIO_MAX_RATE 768000

/* A whole signal in memory: `data` holds frames * channels interleaved floats (owned). */
typedef struct disco_audio {
    float *data;
    size_t frames;
    int channels;
    int rate;
} disco_audio;

/* What a reader found in the file header. */
typedef struct disco_audio_info {
    int64_t frames;     /* total frames; -1 when the container does not say */
    int channels;
    int rate;
    char format[16];    /* "wav", "flac", "ogg", "opus", "mp3", "aiff", ... */
    char subtype[16];   /* "pcm16", "pcm24", "float", "vorbis", "opus", "mpeg", ... */
} disco_audio_info;

/* Encodings disco_audio_writer_open() can write. */
typedef enum disco_audio_encoding {
    DISCO_AUDIO_WAV16,
    DISCO_AUDIO_WAV24,
    DISCO_AUDIO_WAV32F,
    DISCO_AUDIO_FLAC16,
    DISCO_AUDIO_FLAC24,
} disco_audio_encoding;

/*
 * Parses "wav16", "wav24", "wav32f", "flac16", "flac24" (also "wav" =
 * wav24, "flac" = flac24). INVAL naming `field` and the accepted names
 * otherwise.
 */
int disco_audio_encoding_parse(const char *name, const char *field, disco_audio_encoding *out,
                               disco_status *st);

/* Encoding for an output path from its extension: .wav -> wav24, .flac -> flac24; INVAL else. */
int disco_audio_encoding_for_path(const char *path, disco_audio_encoding *out, disco_status *st);

typedef struct disco_audio_reader disco_audio_reader;

/*
 * Opens `path` for decoding. NOTFOUND when missing, UNSUPPORTED for a format
 * libsndfile does not know ("not a recognised audio format"), CORRUPT for a
 * truncated or damaged header, INVAL for the limits above.
 */
int disco_audio_reader_open(const char *path, disco_audio_reader **out, disco_status *st);

/*
 * Same from an open descriptor (a stored object, say). The descriptor stays
 * the caller's: the reader never closes it, so close the reader first.
 * Decoding starts at the descriptor's current offset; messages name it
 * "<fd N>" and the status field is "fd".
 */
int disco_audio_reader_open_fd(int fd, disco_audio_reader **out, disco_status *st);

/* Same from memory; `buf` must outlive the reader (it is not copied). */
int disco_audio_reader_open_mem(const void *buf, size_t len, disco_audio_reader **out,
                                disco_status *st);

const disco_audio_info *disco_audio_reader_info(const disco_audio_reader *r);

/*
 * Reads up to `max_frames` interleaved frames into `buf` (room for
 * max_frames * channels floats). Stores the count in *n (0 at the end).
 * CORRUPT when decoding fails mid-file, INVAL for non-finite samples.
 */
int disco_audio_reader_read(disco_audio_reader *r, float *buf, size_t max_frames, size_t *n,
                            disco_status *st);

/* Frames delivered so far. */
uint64_t disco_audio_reader_position(const disco_audio_reader *r);

void disco_audio_reader_close(disco_audio_reader *r);

/* Decodes a whole file into `out` (caller releases with disco_audio_release). */
int disco_audio_load(const char *path, disco_audio *out, disco_status *st);
int disco_audio_load_mem(const void *buf, size_t len, disco_audio *out, disco_status *st);

/* Allocates a zeroed signal. NOMEM, or INVAL for channels/rate outside the limits. */
int disco_audio_alloc(disco_audio *a, size_t frames, int channels, int rate, disco_status *st);
void disco_audio_release(disco_audio *a);

typedef struct disco_audio_writer disco_audio_writer;

int disco_audio_writer_open(const char *path, int channels, int rate, disco_audio_encoding enc,
                            disco_audio_writer **out, disco_status *st);
/*
 * Appends frames; samples are clipped to [-1, 1] for integer encodings.
 * IO/NOSPC on failure; INVAL naming frame and channel for a NaN or infinite
 * sample (then nothing of this call is written). The file is created 0644.
 */
int disco_audio_writer_write(disco_audio_writer *w, const float *buf, size_t frames,
                             disco_status *st);
/* Finishes, fsyncs and renames into place; frees `w` in every case. */
int disco_audio_writer_close(disco_audio_writer *w, disco_status *st);
/* Abandons the write: removes the temporary file, frees `w`. NULL is a no-op. */
void disco_audio_writer_abort(disco_audio_writer *w);

/* Writes a whole signal (open + write + close). */
int disco_audio_save(const char *path, const disco_audio *a, disco_audio_encoding enc,
                     disco_status *st);

/*
 * Streaming sample-rate conversion (libsamplerate). `quality` is 0 (best
 * sinc) .. 4 (linear), libsamplerate's converter numbers; analysis uses
 * DISCO_RESAMPLE_FAST.
 */
#define DISCO_RESAMPLE_BEST 0
#define DISCO_RESAMPLE_MEDIUM 1
#define DISCO_RESAMPLE_FAST 2

typedef struct disco_resampler disco_resampler;

int disco_resampler_new(int channels, int in_rate, int out_rate, int quality,
                        disco_resampler **out, disco_status *st);
/*
 * Converts `in_frames` frames from `in`; writes at most `out_cap` frames to
 * `out` and reports how many it used and produced. Call with `last` = 1 (and
 * possibly zero input) until *produced is 0 to drain the filter.
 */
int disco_resampler_process(disco_resampler *r, const float *in, size_t in_frames, float *out,
                            size_t out_cap, int last, size_t *used, size_t *produced,
                            disco_status *st);
/*
 * Upper bound of output frames for `in_frames` input frames (for sizing
 * `out`); a call never writes more than `out_cap`, so a smaller buffer only
 * means more calls. Equal rates copy samples unchanged.
 */
size_t disco_resampler_out_bound(const disco_resampler *r, size_t in_frames);
void disco_resampler_free(disco_resampler *r);

/* Whole-signal conversion into a new signal. */
int disco_audio_resample(const disco_audio *in, int out_rate, int quality, disco_audio *out,
                         disco_status *st);

/* Mean of the channels of `frames` interleaved frames into `mono`. */
void disco_audio_downmix(const float *in, size_t frames, int channels, float *mono);

#endif
