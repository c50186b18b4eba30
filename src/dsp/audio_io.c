/*
 * audio_io.c - decoding and encoding audio files through libsndfile, and the
 * in-memory signal type.
 *
 * DESIGN
 *   Reader: the file is opened by us (so errno gives NOTFOUND/PERM) and
 *   handed to sf_open_fd(); memory goes through sf_open_virtual(). Neither
 *   path lets libsndfile guess a headerless format from a file name, so a
 *   file and the same bytes in memory decode alike and random bytes named
 *   "x.au" are not taken for u-law. The header is checked against the
 *   limits of audio.h at open; every decoded block is scanned for NaN/Inf.
 *
 *   libsndfile's error numbers map to disco_err as:
 *     format not recognised, unsupported encoding  -> UNSUPPORTED
 *     system error                                 -> IO
 *     anything else it says about the bytes        -> CORRUPT
 *   Formats whose header states an exact length (all but MPEG and Ogg) must
 *   deliver that many frames: a stream that ends early is CORRUPT. (For WAV
 *   and AIFF libsndfile already trims the length to what the file holds, so
 *   a WAV cut inside its data reads as the shorter signal it now is.)
 *
 *   Writer: mkstemp("<path>.tmp-XXXXXX") -> sf_open_fd -> frames ->
 *   sf_close -> fsync -> rename over `path` -> fsync of the folder.
 */
#include "disco/audio.h"
#include "disco/fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/* Frames a load grows by at first when the container does not say its length. */
#define LOAD_INITIAL_FRAMES ((size_t)1 << 16)
/* A header's frame count is trusted for preallocation only up to this. */
#define LOAD_PREALLOC_MAX ((size_t)1 << 22)

struct disco_audio_reader {
    SNDFILE *sf;
    int fd; /* ours, not libsndfile's: it never closes it; -1 for memory */
    disco_audio_info info;
    uint64_t pos;
    int exact_length; /* info.frames is a promise (not MPEG/Ogg) */
    int sferr;        /* a decode error met after some frames, reported next call */
    const char *field;
    struct {
        const unsigned char *buf;
        sf_count_t len, at;
    } mem;
    char name[]; /* the path, or "<memory>", for messages */
};

struct disco_audio_writer {
    SNDFILE *sf;
    int fd;
    int channels;
    uint64_t frames;
    char *path;
    char *tmp;
};

/* ---- names of formats ------------------------------------------------------ */

typedef struct sf_name {
    int id;
    const char *name;
} sf_name;

static const sf_name majors[] = {
    {SF_FORMAT_WAV, "wav"},     {SF_FORMAT_WAVEX, "wav"},  {SF_FORMAT_RF64, "rf64"},
    {SF_FORMAT_W64, "w64"},     {SF_FORMAT_AIFF, "aiff"},  {SF_FORMAT_AU, "au"},
    {SF_FORMAT_FLAC, "flac"},   {SF_FORMAT_OGG, "ogg"},    {SF_FORMAT_MPEG, "mp3"},
    {SF_FORMAT_CAF, "caf"},     {SF_FORMAT_RAW, "raw"},    {SF_FORMAT_PAF, "paf"},
    {SF_FORMAT_SVX, "svx"},     {SF_FORMAT_NIST, "nist"},  {SF_FORMAT_VOC, "voc"},
    {SF_FORMAT_IRCAM, "ircam"}, {SF_FORMAT_MAT4, "mat4"},  {SF_FORMAT_MAT5, "mat5"},
    {SF_FORMAT_PVF, "pvf"},     {SF_FORMAT_XI, "xi"},      {SF_FORMAT_HTK, "htk"},
    {SF_FORMAT_SDS, "sds"},     {SF_FORMAT_AVR, "avr"},    {SF_FORMAT_SD2, "sd2"},
    {SF_FORMAT_WVE, "wve"},     {SF_FORMAT_MPC2K, "mpc2k"}};

/* clang-format off */
static const sf_name subtypes[] = {
    {SF_FORMAT_PCM_S8, "pcm8"}, {SF_FORMAT_PCM_U8, "pcmu8"}, {SF_FORMAT_PCM_16, "pcm16"},
    {SF_FORMAT_PCM_24, "pcm24"}, {SF_FORMAT_PCM_32, "pcm32"}, {SF_FORMAT_FLOAT, "float"},
    {SF_FORMAT_DOUBLE, "double"}, {SF_FORMAT_ULAW, "ulaw"}, {SF_FORMAT_ALAW, "alaw"},
    {SF_FORMAT_IMA_ADPCM, "ima_adpcm"}, {SF_FORMAT_MS_ADPCM, "ms_adpcm"},
    {SF_FORMAT_GSM610, "gsm610"}, {SF_FORMAT_VOX_ADPCM, "vox_adpcm"},
    {SF_FORMAT_G721_32, "g721"}, {SF_FORMAT_G723_24, "g723_24"}, {SF_FORMAT_G723_40, "g723_40"},
    {SF_FORMAT_DWVW_12, "dwvw12"}, {SF_FORMAT_DWVW_16, "dwvw16"}, {SF_FORMAT_DWVW_24, "dwvw24"},
    {SF_FORMAT_DWVW_N, "dwvw"}, {SF_FORMAT_DPCM_8, "dpcm8"}, {SF_FORMAT_DPCM_16, "dpcm16"},
    {SF_FORMAT_VORBIS, "vorbis"}, {SF_FORMAT_OPUS, "opus"}, {SF_FORMAT_ALAC_16, "alac16"},
    {SF_FORMAT_ALAC_20, "alac20"}, {SF_FORMAT_ALAC_24, "alac24"}, {SF_FORMAT_ALAC_32, "alac32"},
    {SF_FORMAT_MPEG_LAYER_I, "mpeg_l1"}, {SF_FORMAT_MPEG_LAYER_II, "mpeg_l2"},
    {SF_FORMAT_MPEG_LAYER_III, "mpeg"}, {SF_FORMAT_NMS_ADPCM_16, "nms16"},
    {SF_FORMAT_NMS_ADPCM_24, "nms24"}, {SF_FORMAT_NMS_ADPCM_32, "nms32"}};
/* clang-format on */

static const char *lookup(const sf_name *names, size_t n, int id)
{
    for (size_t i = 0; i < n; i++)
        if (names[i].id == id)
            return names[i].name;
    return "other";
}

/* Ogg holding Opus is "opus", as users name such files. */
static const char *major_name(int format)
{
    if ((format & SF_FORMAT_TYPEMASK) == SF_FORMAT_OGG &&
        (format & SF_FORMAT_SUBMASK) == SF_FORMAT_OPUS)
        return "opus";
    return lookup(majors, sizeof majors / sizeof majors[0], format & SF_FORMAT_TYPEMASK);
}

static const char *subtype_name(int format)
{
    return lookup(subtypes, sizeof subtypes / sizeof subtypes[0], format & SF_FORMAT_SUBMASK);
}

/* ---- the signal type --------------------------------------------------------- */

static int check_layout(int channels, int rate, const char *who, disco_status *st)
{
    if (channels < 1 || channels > DISCO_AUDIO_MAX_CHANNELS)
        return disco_status_set(st, DISCO_ERR_INVAL, "channels", "%s: %d channels outside 1..%d",
                                who, channels, DISCO_AUDIO_MAX_CHANNELS);
    if (rate < DISCO_AUDIO_MIN_RATE || rate > DISCO_AUDIO_MAX_RATE)
        return disco_status_set(st, DISCO_ERR_INVAL, "rate", "%s: sample rate %d Hz outside %d..%d",
                                who, rate, DISCO_AUDIO_MIN_RATE, DISCO_AUDIO_MAX_RATE);
    return DISCO_OK;
}

int disco_audio_alloc(disco_audio *a, size_t frames, int channels, int rate, disco_status *st)
{
    int rc = check_layout(channels, rate, "audio", st);

    memset(a, 0, sizeof *a);
    if (rc != DISCO_OK)
        return rc;
    if (frames > SIZE_MAX / sizeof(float) / (size_t)channels)
        return disco_status_set(st, DISCO_ERR_NOMEM, "frames", "%zu frames of %d channels", frames,
                                channels);
    a->data = calloc(frames ? frames * (size_t)channels : 1, sizeof(float));
    if (!a->data)
        return disco_status_set(st, DISCO_ERR_NOMEM, "frames",
                                "cannot allocate %zu frames of %d channels", frames, channels);
    a->frames = frames;
    a->channels = channels;
    a->rate = rate;
    return DISCO_OK;
}

void disco_audio_release(disco_audio *a)
{
    if (!a)
        return;
    free(a->data);
    memset(a, 0, sizeof *a);
}

/* ---- memory I/O for sf_open_virtual --------------------------------------- */

static sf_count_t mem_len(void *user)
{
    return ((disco_audio_reader *)user)->mem.len;
}

static sf_count_t mem_seek(sf_count_t offset, int whence, void *user)
{
    disco_audio_reader *r = user;
    sf_count_t base = whence == SEEK_CUR ? r->mem.at : whence == SEEK_END ? r->mem.len : 0;

    if (whence != SEEK_SET && whence != SEEK_CUR && whence != SEEK_END)
        return -1;
    if ((offset < 0 && base + offset < 0) || (offset > 0 && offset > r->mem.len - base))
        return -1;
    r->mem.at = base + offset;
    return r->mem.at;
}

static sf_count_t mem_read(void *ptr, sf_count_t count, void *user)
{
    disco_audio_reader *r = user;
    sf_count_t left = r->mem.len - r->mem.at;

    if (count > left)
        count = left;
    if (count <= 0)
        return 0;
    memcpy(ptr, r->mem.buf + r->mem.at, (size_t)count);
    r->mem.at += count;
    return count;
}

static sf_count_t mem_tell(void *user)
{
    return ((disco_audio_reader *)user)->mem.at;
}

/* ---- reader ------------------------------------------------------------------ */

static disco_audio_reader *reader_new(const char *name, const char *field)
{
    size_t n = strlen(name) + 1;
    disco_audio_reader *r = calloc(1, sizeof *r + n);

    if (r) {
        memcpy(r->name, name, n);
        r->field = field;
        r->fd = -1;
    }
    return r;
}

/* Maps a failed sf_open to a disco_err naming the input. */
static int open_error(const disco_audio_reader *r, int sferr, disco_status *st)
{
    const char *why = sf_error_number(sferr);

    switch (sferr) {
    case SF_ERR_UNRECOGNISED_FORMAT:
        return disco_status_set(st, DISCO_ERR_UNSUPPORTED, r->field,
                                "%s: not a recognised audio format", r->name);
    case SF_ERR_UNSUPPORTED_ENCODING:
        return disco_status_set(st, DISCO_ERR_UNSUPPORTED, r->field,
                                "%s: audio encoding not supported (%s)", r->name, why);
    case SF_ERR_SYSTEM:
        return disco_status_set(st, DISCO_ERR_IO, r->field, "%s: cannot read: %s", r->name, why);
    default:
        return disco_status_set(st, DISCO_ERR_CORRUPT, r->field,
                                "%s: damaged or truncated audio header: %s", r->name, why);
    }
}

/* Checks the header libsndfile found and fills r->info. */
static int reader_accept(disco_audio_reader *r, const SF_INFO *si, disco_status *st)
{
    int rc = check_layout(si->channels, si->samplerate, r->name, st);

    if (rc != DISCO_OK) {
        if (st)
            snprintf(st->field, sizeof st->field, "%s", r->field);
        return rc;
    }
    if (si->frames == 0)
        return disco_status_set(st, DISCO_ERR_INVAL, r->field, "%s: file has no audio frames",
                                r->name);
    r->info.frames = (si->frames < 0 || si->frames == SF_COUNT_MAX) ? -1 : (int64_t)si->frames;
    r->info.channels = si->channels;
    r->info.rate = si->samplerate;
    snprintf(r->info.format, sizeof r->info.format, "%s", major_name(si->format));
    snprintf(r->info.subtype, sizeof r->info.subtype, "%s", subtype_name(si->format));
    r->exact_length = r->info.frames > 0 && (si->format & SF_FORMAT_TYPEMASK) != SF_FORMAT_MPEG &&
                      (si->format & SF_FORMAT_TYPEMASK) != SF_FORMAT_OGG;
    return DISCO_OK;
}

/* Finishes an open: checks what sf_open gave, hands out or frees `r`. */
static int reader_finish(disco_audio_reader *r, const SF_INFO *si, disco_audio_reader **out,
                         disco_status *st)
{
    int rc;

    if (!r->sf) {
        rc = open_error(r, sf_error(NULL), st);
    } else {
        rc = reader_accept(r, si, st);
        if (rc == DISCO_OK) {
            *out = r;
            return DISCO_OK;
        }
    }
    disco_audio_reader_close(r);
    return rc;
}

/* Opens `path` as a regular, non-empty file; the descriptor or a negative disco_err. */
static int open_input(const char *path, disco_status *st)
{
    struct stat sb;
    int fd = open(path, O_RDONLY | O_CLOEXEC), rc = DISCO_OK;

    if (fd < 0)
        return disco_status_errno(st, errno, "path", "%s: cannot open", path);
    if (fstat(fd, &sb) != 0)
        rc = disco_status_errno(st, errno, "path", "%s: cannot stat", path);
    else if (!S_ISREG(sb.st_mode))
        rc = disco_status_set(st, DISCO_ERR_INVAL, "path", "%s: not a regular file", path);
    else if (sb.st_size == 0)
        rc = disco_status_set(st, DISCO_ERR_INVAL, "path",
                              "%s: file has no audio frames (it is empty)", path);
    if (rc == DISCO_OK)
        return fd;
    close(fd);
    return rc;
}

/* sf_open_fd over `fd`; the reader closes it when `own`, else it stays the caller's. */
static int open_desc(int fd, int own, const char *name, const char *field, disco_audio_reader **out,
                     disco_status *st)
{
    SF_INFO si = {0};
    disco_audio_reader *r = reader_new(name, field);

    if (!r) {
        if (own)
            close(fd);
        return disco_status_set(st, DISCO_ERR_NOMEM, field, "%s: out of memory", name);
    }
    r->fd = own ? fd : -1;
    r->sf = sf_open_fd(fd, SFM_READ, &si, SF_FALSE);
    return reader_finish(r, &si, out, st);
}

int disco_audio_reader_open(const char *path, disco_audio_reader **out, disco_status *st)
{
    int fd;

    *out = NULL;
    if (!path || !*path)
        return disco_status_set(st, DISCO_ERR_INVAL, "path", "audio path is empty");
    fd = open_input(path, st);
    if (fd < 0)
        return fd;
    return open_desc(fd, 1, path, "path", out, st);
}

int disco_audio_reader_open_fd(int fd, disco_audio_reader **out, disco_status *st)
{
    char name[32];
    struct stat sb;

    *out = NULL;
    snprintf(name, sizeof name, "<fd %d>", fd);
    if (fd < 0 || fstat(fd, &sb) != 0)
        return disco_status_errno(st, fd < 0 ? EBADF : errno, "fd", "%s: cannot read", name);
    if (S_ISREG(sb.st_mode) && sb.st_size == 0)
        return disco_status_set(st, DISCO_ERR_INVAL, "fd",
                                "%s: file has no audio frames (it is empty)", name);
    return open_desc(fd, 0, name, "fd", out, st);
}

int disco_audio_reader_open_mem(const void *buf, size_t len, disco_audio_reader **out,
                                disco_status *st)
{
    SF_VIRTUAL_IO vio = {mem_len, mem_seek, mem_read, NULL, mem_tell}; /* no write: read only */
    SF_INFO si = {0};
    disco_audio_reader *r;

    *out = NULL;
    if (len == 0)
        return disco_status_set(st, DISCO_ERR_INVAL, "data",
                                "<memory>: file has no audio frames (it is empty)");
    if (!buf || len > (size_t)INT64_MAX)
        return disco_status_set(st, DISCO_ERR_INVAL, "data", "<memory>: bad buffer");
    r = reader_new("<memory>", "data");
    if (!r)
        return disco_status_set(st, DISCO_ERR_NOMEM, "data", "<memory>: out of memory");
    r->mem.buf = buf;
    r->mem.len = (sf_count_t)len;
    r->sf = sf_open_virtual(&vio, SFM_READ, &si, r);
    return reader_finish(r, &si, out, st);
}

const disco_audio_info *disco_audio_reader_info(const disco_audio_reader *r)
{
    return &r->info;
}

uint64_t disco_audio_reader_position(const disco_audio_reader *r)
{
    return r->pos;
}

/* INVAL for the first non-finite sample of a decoded block. */
static int check_finite(const disco_audio_reader *r, const float *buf, size_t frames,
                        disco_status *st)
{
    size_t n = frames * (size_t)r->info.channels;

    for (size_t i = 0; i < n; i++) {
        if (isfinite(buf[i]))
            continue;
        return disco_status_set(st, DISCO_ERR_INVAL, r->field,
                                "%s: non-finite sample (%s) at frame %llu channel %d", r->name,
                                isnan(buf[i]) ? "NaN" : "Inf",
                                (unsigned long long)(r->pos + i / (size_t)r->info.channels),
                                (int)(i % (size_t)r->info.channels));
    }
    return DISCO_OK;
}

/* What the end of the stream means: short of a promised length is CORRUPT. */
static int check_end(const disco_audio_reader *r, disco_status *st)
{
    if (r->pos == 0)
        return disco_status_set(st, DISCO_ERR_INVAL, r->field, "%s: file has no audio frames",
                                r->name);
    if (r->exact_length && r->pos < (uint64_t)r->info.frames)
        return disco_status_set(st, DISCO_ERR_CORRUPT, r->field,
                                "%s: audio ends at frame %llu of %lld (truncated)", r->name,
                                (unsigned long long)r->pos, (long long)r->info.frames);
    return DISCO_OK;
}

static int decode_error(const disco_audio_reader *r, int sferr, disco_status *st)
{
    return disco_status_set(st, DISCO_ERR_CORRUPT, r->field,
                            "%s: decoding failed at frame %llu: %s", r->name,
                            (unsigned long long)r->pos, sf_error_number(sferr));
}

int disco_audio_reader_read(disco_audio_reader *r, float *buf, size_t max_frames, size_t *n,
                            disco_status *st)
{
    sf_count_t want, got;
    int rc;

    *n = 0;
    if (max_frames == 0)
        return DISCO_OK;
    want = max_frames > (size_t)(INT32_MAX / r->info.channels)
               ? (sf_count_t)(INT32_MAX / r->info.channels)
               : (sf_count_t)max_frames;
    if (r->sferr != SF_ERR_NO_ERROR)
        return decode_error(r, r->sferr, st);
    got = sf_readf_float(r->sf, buf, want);
    if (got < want && sf_error(r->sf) != SF_ERR_NO_ERROR) {
        r->sferr = sf_error(r->sf);
        if (got <= 0)
            return decode_error(r, r->sferr, st);
    }
    if (got <= 0)
        return check_end(r, st);
    rc = check_finite(r, buf, (size_t)got, st);
    if (rc != DISCO_OK)
        return rc;
    r->pos += (uint64_t)got;
    *n = (size_t)got;
    return DISCO_OK;
}

void disco_audio_reader_close(disco_audio_reader *r)
{
    if (!r)
        return;
    if (r->sf)
        sf_close(r->sf);
    if (r->fd >= 0)
        close(r->fd);
    free(r);
}

/* ---- whole-file loads -------------------------------------------------------- */

/* Grows `a` to hold at least `need` frames. */
static int grow(disco_audio *a, size_t *cap, size_t need, disco_status *st)
{
    size_t ncap = *cap ? *cap : LOAD_INITIAL_FRAMES;
    float *p;

    while (ncap < need)
        ncap *= 2;
    if (ncap > SIZE_MAX / sizeof(float) / (size_t)a->channels)
        return disco_status_set(st, DISCO_ERR_NOMEM, "frames", "signal of %zu frames too long",
                                need);
    p = realloc(a->data, ncap * (size_t)a->channels * sizeof(float));
    if (!p)
        return disco_status_set(st, DISCO_ERR_NOMEM, "frames",
                                "cannot allocate %zu frames of audio", ncap);
    a->data = p;
    *cap = ncap;
    return DISCO_OK;
}

static int load_all(disco_audio_reader *r, disco_audio *out, disco_status *st)
{
    const disco_audio_info *info = disco_audio_reader_info(r);
    size_t cap = 0, n = 0;
    int rc;

    memset(out, 0, sizeof *out);
    out->channels = info->channels;
    out->rate = info->rate;
    if (info->frames > 0)
        cap =
            (size_t)info->frames < LOAD_PREALLOC_MAX ? (size_t)info->frames + 1 : LOAD_PREALLOC_MAX;
    rc = grow(out, &cap, cap, st);
    while (rc == DISCO_OK) {
        if (out->frames == cap && (rc = grow(out, &cap, cap + 1, st)) != DISCO_OK)
            break;
        rc = disco_audio_reader_read(r, out->data + out->frames * (size_t)out->channels,
                                     cap - out->frames, &n, st);
        if (rc != DISCO_OK || n == 0)
            break;
        out->frames += n;
    }
    if (rc != DISCO_OK)
        disco_audio_release(out);
    return rc;
}

/* Loads all of `r` into `out` and closes `r`. */
static int load_and_close(disco_audio_reader *r, disco_audio *out, disco_status *st)
{
    int rc = load_all(r, out, st);

    disco_audio_reader_close(r);
    return rc;
}

int disco_audio_load(const char *path, disco_audio *out, disco_status *st)
{
    disco_audio_reader *r;
    int rc = disco_audio_reader_open(path, &r, st);

    memset(out, 0, sizeof *out);
    return rc != DISCO_OK ? rc : load_and_close(r, out, st);
}

int disco_audio_load_mem(const void *buf, size_t len, disco_audio *out, disco_status *st)
{
    disco_audio_reader *r;
    int rc = disco_audio_reader_open_mem(buf, len, &r, st);

    memset(out, 0, sizeof *out);
    return rc != DISCO_OK ? rc : load_and_close(r, out, st);
}

/* ---- encodings --------------------------------------------------------------- */

static const struct {
    const char *name;
    disco_audio_encoding enc;
} encodings[] = {
    {"wav16", DISCO_AUDIO_WAV16},   {"wav24", DISCO_AUDIO_WAV24},   {"wav32f", DISCO_AUDIO_WAV32F},
    {"flac16", DISCO_AUDIO_FLAC16}, {"flac24", DISCO_AUDIO_FLAC24}, {"wav", DISCO_AUDIO_WAV24},
    {"flac", DISCO_AUDIO_FLAC24},
};

int disco_audio_encoding_parse(const char *name, const char *field, disco_audio_encoding *out,
                               disco_status *st)
{
    for (size_t i = 0; name && i < sizeof encodings / sizeof encodings[0]; i++) {
        if (strcasecmp(name, encodings[i].name) == 0) {
            *out = encodings[i].enc;
            return DISCO_OK;
        }
    }
    return disco_status_set(st, DISCO_ERR_INVAL, field,
                            "%s '%s' is not an audio encoding (wav16, wav24, wav32f, flac16, "
                            "flac24, wav, flac)",
                            field ? field : "encoding", name ? name : "");
}

int disco_audio_encoding_for_path(const char *path, disco_audio_encoding *out, disco_status *st)
{
    const char *slash = path ? strrchr(path, '/') : NULL;
    const char *dot = path ? strrchr(slash ? slash : path, '.') : NULL;

    if (dot && strcasecmp(dot, ".wav") == 0) {
        *out = DISCO_AUDIO_WAV24;
        return DISCO_OK;
    }
    if (dot && strcasecmp(dot, ".flac") == 0) {
        *out = DISCO_AUDIO_FLAC24;
        return DISCO_OK;
    }
    return disco_status_set(st, DISCO_ERR_INVAL, "path",
                            "output path '%s' does not end in .wav or .flac", path ? path : "");
}

static int sf_format_of(disco_audio_encoding enc)
{
    switch (enc) {
    case DISCO_AUDIO_WAV16:
        return SF_FORMAT_WAV | SF_FORMAT_PCM_16;
    case DISCO_AUDIO_WAV24:
        return SF_FORMAT_WAV | SF_FORMAT_PCM_24;
    case DISCO_AUDIO_WAV32F:
        return SF_FORMAT_WAV | SF_FORMAT_FLOAT;
    case DISCO_AUDIO_FLAC16:
        return SF_FORMAT_FLAC | SF_FORMAT_PCM_16;
    case DISCO_AUDIO_FLAC24:
        return SF_FORMAT_FLAC | SF_FORMAT_PCM_24;
    }
    return 0;
}

/* ---- writer ------------------------------------------------------------------ */

static void writer_free(disco_audio_writer *w)
{
    free(w->path);
    free(w->tmp);
    free(w);
}

/* Temp file next to `path`, readable as a finished file would be. */
static int writer_temp(disco_audio_writer *w, const char *path, disco_status *st)
{
    size_t n = strlen(path) + sizeof ".tmp-XXXXXX";

    w->path = strdup(path);
    w->tmp = malloc(n);
    if (!w->path || !w->tmp)
        return disco_status_set(st, DISCO_ERR_NOMEM, "path", "%s: out of memory", path);
    snprintf(w->tmp, n, "%s.tmp-XXXXXX", path);
    w->fd = mkstemp(w->tmp);
    if (w->fd < 0)
        return disco_status_errno(st, errno, "path", "%s: cannot create temporary file", path);
    if (fchmod(w->fd, 0644) != 0) {
        int rc = disco_status_errno(st, errno, "path", "%s: cannot set permissions", path);
        close(w->fd);
        unlink(w->tmp);
        return rc;
    }
    return DISCO_OK;
}

static int writer_check(const char *path, int channels, int rate, disco_audio_encoding enc,
                        disco_status *st)
{
    int rc;

    if (!path || !*path)
        return disco_status_set(st, DISCO_ERR_INVAL, "path", "output path is empty");
    if (sf_format_of(enc) == 0)
        return disco_status_set(st, DISCO_ERR_INVAL, "encoding", "%s: unknown encoding %d", path,
                                (int)enc);
    rc = check_layout(channels, rate, path, st);
    if (rc != DISCO_OK)
        return rc;
    if ((enc == DISCO_AUDIO_FLAC16 || enc == DISCO_AUDIO_FLAC24) && channels > 8)
        return disco_status_set(st, DISCO_ERR_UNSUPPORTED, "channels",
                                "%s: FLAC holds at most 8 channels, not %d", path, channels);
    return DISCO_OK;
}

int disco_audio_writer_open(const char *path, int channels, int rate, disco_audio_encoding enc,
                            disco_audio_writer **out, disco_status *st)
{
    SF_INFO si = {.samplerate = rate, .channels = channels, .format = sf_format_of(enc)};
    disco_audio_writer *w;
    int rc;

    *out = NULL;
    rc = writer_check(path, channels, rate, enc, st);
    if (rc != DISCO_OK)
        return rc;
    w = calloc(1, sizeof *w);
    if (!w)
        return disco_status_set(st, DISCO_ERR_NOMEM, "path", "%s: out of memory", path);
    w->fd = -1;
    w->channels = channels;
    rc = writer_temp(w, path, st);
    if (rc != DISCO_OK) {
        writer_free(w);
        return rc;
    }
    w->sf = sf_open_fd(w->fd, SFM_WRITE, &si, SF_FALSE);
    if (!w->sf) {
        rc = disco_status_set(
            st, sf_error(NULL) == SF_ERR_SYSTEM ? DISCO_ERR_IO : DISCO_ERR_UNSUPPORTED, "encoding",
            "%s: cannot encode %d channels at %d Hz: %s", path, channels, rate, sf_strerror(NULL));
        close(w->fd);
        unlink(w->tmp);
        writer_free(w);
        return rc;
    }
    sf_command(w->sf, SFC_SET_CLIPPING, NULL, SF_TRUE);
    *out = w;
    return DISCO_OK;
}

static int writer_check_finite(const disco_audio_writer *w, const float *buf, size_t frames,
                               disco_status *st)
{
    size_t n = frames * (size_t)w->channels;

    for (size_t i = 0; i < n; i++)
        if (!isfinite(buf[i]))
            return disco_status_set(st, DISCO_ERR_INVAL, "samples",
                                    "%s: non-finite sample at frame %llu channel %d", w->path,
                                    (unsigned long long)(w->frames + i / (size_t)w->channels),
                                    (int)(i % (size_t)w->channels));
    return DISCO_OK;
}

int disco_audio_writer_write(disco_audio_writer *w, const float *buf, size_t frames,
                             disco_status *st)
{
    sf_count_t step = INT32_MAX / w->channels;
    int rc = writer_check_finite(w, buf, frames, st);

    while (rc == DISCO_OK && frames > 0) {
        sf_count_t want = frames < (size_t)step ? (sf_count_t)frames : step;
        sf_count_t put;

        errno = 0;
        put = sf_writef_float(w->sf, buf, want);
        if (put != want) {
            if (errno != 0)
                return disco_status_errno(st, errno, "path", "%s: write failed", w->path);
            return disco_status_set(st, DISCO_ERR_IO, "path", "%s: write failed: %s", w->path,
                                    sf_strerror(w->sf));
        }
        w->frames += (uint64_t)put;
        buf += (size_t)put * (size_t)w->channels;
        frames -= (size_t)put;
    }
    return rc;
}

int disco_audio_writer_close(disco_audio_writer *w, disco_status *st)
{
    int rc = DISCO_OK, sferr;

    if (!w)
        return disco_status_set(st, DISCO_ERR_INVAL, "writer", "no audio writer to close");
    sferr = sf_close(w->sf);
    w->sf = NULL;
    if (sferr != SF_ERR_NO_ERROR)
        rc = disco_status_set(st, DISCO_ERR_IO, "path", "%s: finishing the file failed: %s",
                              w->path, sf_error_number(sferr));
    else if (fsync(w->fd) != 0)
        rc = disco_status_errno(st, errno, "path", "%s: fsync failed", w->path);
    if (close(w->fd) != 0 && rc == DISCO_OK)
        rc = disco_status_errno(st, errno, "path", "%s: close failed", w->path);
    if (rc == DISCO_OK && rename(w->tmp, w->path) != 0)
        rc = disco_status_errno(st, errno, "path", "%s: cannot rename temporary file into place",
                                w->path);
    if (rc != DISCO_OK)
        unlink(w->tmp);
    else
        rc = disco_fsync_parent(w->path)
                 ? disco_status_errno(st, errno, "path", "%s: cannot sync its folder", w->path)
                 : DISCO_OK;
    writer_free(w);
    return rc;
}

void disco_audio_writer_abort(disco_audio_writer *w)
{
    if (!w)
        return;
    if (w->sf)
        sf_close(w->sf);
    if (w->fd >= 0)
        close(w->fd);
    unlink(w->tmp);
    writer_free(w);
}

int disco_audio_save(const char *path, const disco_audio *a, disco_audio_encoding enc,
                     disco_status *st)
{
    disco_audio_writer *w;
    int rc = disco_audio_writer_open(path, a->channels, a->rate, enc, &w, st);

    if (rc != DISCO_OK)
        return rc;
    rc = disco_audio_writer_write(w, a->data, a->frames, st);
    if (rc != DISCO_OK) {
        disco_audio_writer_abort(w);
        return rc;
    }
    return disco_audio_writer_close(w, st);
}
