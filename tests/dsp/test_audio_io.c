/*
 * test_audio_io.c - audio reading and writing (round trips through every
 * encoding within quantisation error, block reads against whole loads,
 * memory against file, Opus/Vorbis/MP3 via libsndfile, damaged and refused
 * files with their codes and messages, the writer's temp-file discipline),
 * encoding names, resampling (frequency and amplitude kept, streaming in odd
 * blocks equal to the whole-signal conversion) and downmixing.
 */
#include "disco/audio.h"

#include <dirent.h>
#include <fcntl.h>
#include <math.h>
#include <setjmp.h>
#include <sndfile.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "support/testutil.h"
#include "support/tu_num.h"

static char *dir;

static int setup(void **state)
{
    (void)state;
    dir = tu_tmpdir("audio-io");
    return dir ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    tu_rmrf(dir);
    free(dir);
    return 0;
}

/* A stereo test signal: a 440 Hz sine on the left, noise on the right, |x| < 0.9. */
static void test_signal(disco_audio *a, size_t frames, int rate)
{
    assert_int_equal(disco_audio_alloc(a, frames, 2, rate, NULL), DISCO_OK);
    rng_state = 99;
    for (size_t i = 0; i < frames; i++) {
        a->data[2 * i] = (float)(0.8 * sin(2 * M_PI * 440.0 * (double)i / rate));
        a->data[2 * i + 1] = (float)(0.6 * (2.0 * rng_uniform() - 1.0));
    }
}

static double max_diff(const float *a, const float *b, size_t n)
{
    double m = 0.0;

    for (size_t i = 0; i < n; i++)
        if (fabs((double)a[i] - b[i]) > m)
            m = fabs((double)a[i] - b[i]);
    return m;
}

static void assert_msg_has(const disco_status *st, const char *needle)
{
    if (!strstr(st->msg, needle))
        fail_msg("message '%s' lacks '%s'", st->msg, needle);
}

static void test_round_trip_every_encoding(void **state)
{
    static const struct {
        const char *name, *format, *subtype;
        disco_audio_encoding enc;
        double tol;
    } cases[] = {
        {"a16.wav", "wav", "pcm16", DISCO_AUDIO_WAV16, 1.5 / 32768},
        {"a24.wav", "wav", "pcm24", DISCO_AUDIO_WAV24, 1.5 / 8388608},
        {"a32.wav", "wav", "float", DISCO_AUDIO_WAV32F, 0.0},
        {"a16.flac", "flac", "pcm16", DISCO_AUDIO_FLAC16, 1.5 / 32768},
        {"a24.flac", "flac", "pcm24", DISCO_AUDIO_FLAC24, 1.5 / 8388608},
    };
    disco_audio a, b;
    disco_status st = {0};

    (void)state;
    test_signal(&a, 10007, 44100);
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        char *path = tu_path(dir, cases[k].name);
        disco_audio_reader *r;

        assert_int_equal(disco_audio_save(path, &a, cases[k].enc, &st), DISCO_OK);
        assert_int_equal(disco_audio_reader_open(path, &r, &st), DISCO_OK);
        assert_string_equal(disco_audio_reader_info(r)->format, cases[k].format);
        assert_string_equal(disco_audio_reader_info(r)->subtype, cases[k].subtype);
        assert_int_equal(disco_audio_reader_info(r)->frames, 10007);
        disco_audio_reader_close(r);
        assert_int_equal(disco_audio_load(path, &b, &st), DISCO_OK);
        assert_int_equal(b.frames, a.frames);
        assert_int_equal(b.channels, 2);
        assert_int_equal(b.rate, 44100);
        assert_true(max_diff(a.data, b.data, a.frames * 2) <= cases[k].tol);
        disco_audio_release(&b);
        free(path);
    }
    disco_audio_release(&a);
}

static void test_integer_encodings_clip(void **state)
{
    float x[4] = {1.5f, -3.0f, 0.25f, -0.25f};
    disco_audio a = {x, 2, 2, 8000}, b;
    char *path = tu_path(dir, "clip.wav");

    (void)state;
    assert_int_equal(disco_audio_save(path, &a, DISCO_AUDIO_WAV16, NULL), DISCO_OK);
    assert_int_equal(disco_audio_load(path, &b, NULL), DISCO_OK);
    assert_true(b.data[0] > 0.999f && b.data[0] <= 1.0f);
    assert_true(b.data[1] < -0.999f && b.data[1] >= -1.0f);
    assert_near(b.data[2], 0.25, 1e-4);
    disco_audio_release(&b);
    free(path);
}

static void test_blocks_equal_whole_and_memory_equals_file(void **state)
{
    static const size_t blocks[] = {1, 7, 4096};
    char *path = tu_path(dir, "blocks.flac");
    disco_audio a, whole, mem;
    disco_status st = {0};
    float *buf = malloc(4096 * 2 * sizeof(float));
    size_t len;
    char *bytes;

    (void)state;
    test_signal(&a, 5003, 22050);
    assert_int_equal(disco_audio_save(path, &a, DISCO_AUDIO_FLAC24, &st), DISCO_OK);
    assert_int_equal(disco_audio_load(path, &whole, &st), DISCO_OK);
    for (size_t k = 0; k < 3; k++) {
        disco_audio_reader *r;
        size_t n, at = 0;

        assert_int_equal(disco_audio_reader_open(path, &r, &st), DISCO_OK);
        do {
            assert_int_equal(disco_audio_reader_read(r, buf, blocks[k], &n, &st), DISCO_OK);
            assert_true(at + n <= whole.frames);
            assert_memory_equal(buf, whole.data + 2 * at, n * 2 * sizeof(float));
            at += n;
            assert_int_equal(disco_audio_reader_position(r), at);
        } while (n > 0);
        assert_int_equal(at, whole.frames);
        disco_audio_reader_close(r);
    }
    bytes = tu_read_file(path, &len);
    assert_int_equal(disco_audio_load_mem(bytes, len, &mem, &st), DISCO_OK);
    assert_int_equal(mem.frames, whole.frames);
    assert_memory_equal(mem.data, whole.data, whole.frames * 2 * sizeof(float));
    disco_audio_release(&mem);
    disco_audio_release(&whole);
    disco_audio_release(&a);
    free(bytes);
    free(buf);
    free(path);
}

static void test_descriptor_reader_leaves_fd_open(void **state)
{
    char *path = tu_path(dir, "fd.wav");
    disco_audio a, whole;
    disco_audio_reader *r;
    disco_status st = {0};
    float buf[2 * 600];
    size_t n, at = 0;
    int fd;

    (void)state;
    test_signal(&a, 1000, 8000);
    assert_int_equal(disco_audio_save(path, &a, DISCO_AUDIO_WAV24, &st), DISCO_OK);
    assert_int_equal(disco_audio_load(path, &whole, &st), DISCO_OK);
    fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    assert_int_equal(disco_audio_reader_open_fd(fd, &r, &st), DISCO_OK);
    assert_int_equal(disco_audio_reader_info(r)->frames, 1000);
    do {
        assert_int_equal(disco_audio_reader_read(r, buf, 600, &n, &st), DISCO_OK);
        assert_memory_equal(buf, whole.data + 2 * at, n * 2 * sizeof(float));
        at += n;
    } while (n > 0);
    assert_int_equal(at, 1000);
    disco_audio_reader_close(r);
    assert_int_equal(fcntl(fd, F_GETFD) >= 0, 1);
    assert_int_equal(close(fd), 0);
    assert_int_equal(disco_audio_reader_open_fd(-1, &r, &st), DISCO_ERR_IO);
    assert_msg_has(&st, "<fd -1>");
    assert_null(r);
    disco_audio_release(&whole);
    disco_audio_release(&a);
    free(path);
}

/* Frequency from rising zero crossings of channel 0 over [from, to) frames. */
static double zc_frequency(const float *x, int channels, size_t from, size_t to, int rate)
{
    double first = -1.0, last = -1.0;
    int count = 0;

    for (size_t i = from + 1; i < to; i++) {
        double a = x[(i - 1) * channels], b = x[i * channels];

        if (a < 0.0 && b >= 0.0) {
            double t = (double)(i - 1) + a / (a - b);
            if (first < 0.0)
                first = t;
            last = t;
            count++;
        }
    }
    return count > 1 ? (count - 1) * (double)rate / (last - first) : 0.0;
}

static double rms(const float *x, int channels, size_t from, size_t to)
{
    double s = 0.0;

    for (size_t i = from; i < to; i++)
        s += (double)x[i * channels] * x[i * channels];
    return sqrt(s / (double)(to - from));
}

/* Writes a 1 kHz sine through libsndfile directly in a format our writer does not offer. */
static int write_lossy(const char *path, int format, int rate)
{
    SF_INFO si = {.samplerate = rate, .channels = 2, .format = format};
    SNDFILE *f = sf_open(path, SFM_WRITE, &si);
    float buf[2 * 1000];

    if (!f)
        return -1;
    for (int k = 0; k < rate / 1000; k++) {
        for (int i = 0; i < 1000; i++)
            buf[2 * i] = buf[2 * i + 1] =
                (float)(0.5 * sin(2 * M_PI * 1000.0 * (k * 1000 + i) / rate));
        sf_writef_float(f, buf, 1000);
    }
    return sf_close(f);
}

static void test_lossy_formats_decode(void **state)
{
    static const struct {
        const char *name, *format, *subtype;
        int sf_format, rate;
    } cases[] = {
        {"a.opus", "opus", "opus", SF_FORMAT_OGG | SF_FORMAT_OPUS, 48000},
        {"a.ogg", "ogg", "vorbis", SF_FORMAT_OGG | SF_FORMAT_VORBIS, 44100},
        {"a.mp3", "mp3", "mpeg", SF_FORMAT_MPEG | SF_FORMAT_MPEG_LAYER_III, 44100},
    };

    (void)state;
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        char *path = tu_path(dir, cases[k].name);
        disco_audio_reader *r;
        disco_audio a;
        size_t n;

        assert_int_equal(write_lossy(path, cases[k].sf_format, cases[k].rate), 0);
        assert_int_equal(disco_audio_reader_open(path, &r, NULL), DISCO_OK);
        assert_string_equal(disco_audio_reader_info(r)->format, cases[k].format);
        assert_string_equal(disco_audio_reader_info(r)->subtype, cases[k].subtype);
        disco_audio_reader_close(r);
        assert_int_equal(disco_audio_load(path, &a, NULL), DISCO_OK);
        n = a.frames;
        assert_true(n > (size_t)cases[k].rate * 9 / 10 && n < (size_t)cases[k].rate * 11 / 10);
        assert_near(zc_frequency(a.data, 2, n / 10, n * 9 / 10, a.rate), 1000.0, 2.0);
        assert_near(20 * log10(rms(a.data, 2, n / 10, n * 9 / 10)), 20 * log10(0.5 / sqrt(2)), 0.5);
        disco_audio_release(&a);
        free(path);
    }
}

/* --- damaged and refused input --------------------------------------------------- */

static void put_le(unsigned char *p, uint32_t v, int bytes)
{
    for (int i = 0; i < bytes; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

/* A 16-bit PCM WAV header for `data_len` bytes of zeros; returns the total size. */
static size_t make_wav(unsigned char *b, uint32_t rate, unsigned channels, uint32_t data_len)
{
    memcpy(b, "RIFF", 4);
    put_le(b + 4, 36 + data_len, 4);
    memcpy(b + 8, "WAVEfmt ", 8);
    put_le(b + 16, 16, 4);
    put_le(b + 20, 1, 2);
    put_le(b + 22, channels, 2);
    put_le(b + 24, rate, 4);
    put_le(b + 28, rate * channels * 2, 4);
    put_le(b + 32, channels * 2, 2);
    put_le(b + 34, 16, 2);
    memcpy(b + 36, "data", 4);
    put_le(b + 40, data_len, 4);
    memset(b + 44, 0, data_len);
    return 44 + data_len;
}

/* Writes `bytes` to dir/name, expects `code` from a load naming the path and `needle`. */
static void expect_load_error(const char *name, const void *bytes, size_t len, int code,
                              const char *needle)
{
    char *path = tu_path(dir, name);
    disco_status st = {0};
    disco_audio a;

    assert_int_equal(tu_write_file(path, bytes, len), 0);
    assert_int_equal(disco_audio_load(path, &a, &st), code);
    assert_int_equal(st.code, code);
    assert_msg_has(&st, path);
    assert_msg_has(&st, needle);
    assert_null(a.data);
    free(path);
}

static void test_refused_files(void **state)
{
    static unsigned char b[44 + 4000];
    char *missing = tu_path(dir, "missing.wav");
    disco_status st = {0};
    disco_audio a;

    (void)state;
    assert_int_equal(disco_audio_load(missing, &a, &st), DISCO_ERR_NOTFOUND);
    assert_msg_has(&st, missing);
    assert_int_equal(disco_audio_load(dir, &a, &st), DISCO_ERR_INVAL);
    assert_msg_has(&st, "not a regular file");
    expect_load_error("empty.wav", "", 0, DISCO_ERR_INVAL, "no audio frames");
    expect_load_error("text.wav", "hello, this is not audio at all\n", 32, DISCO_ERR_UNSUPPORTED,
                      "not a recognised audio format");
    expect_load_error("noframes.wav", b, make_wav(b, 44100, 2, 0), DISCO_ERR_INVAL,
                      "no audio frames");
    expect_load_error("head.wav", b, make_wav(b, 44100, 2, 4000) - 4000 - 14, DISCO_ERR_CORRUPT,
                      "damaged or truncated");
    expect_load_error("rate.wav", b, make_wav(b, 3000000, 1, 4000), DISCO_ERR_INVAL,
                      "sample rate 3000000 Hz outside 1000..768000");
    expect_load_error("slow.wav", b, make_wav(b, 500, 1, 4000), DISCO_ERR_INVAL,
                      "sample rate 500 Hz");
    expect_load_error("chans.wav", b, make_wav(b, 8000, 100, 4000), DISCO_ERR_INVAL,
                      "100 channels outside 1..64");
    make_wav(b, 8000, 1, 4000);
    assert_int_equal(disco_audio_load_mem(b, 20, &a, &st), DISCO_ERR_CORRUPT);
    assert_msg_has(&st, "<memory>");
    assert_int_equal(disco_audio_load_mem("junk junk junk junk", 19, &a, &st),
                     DISCO_ERR_UNSUPPORTED);
    assert_msg_has(&st, "<memory>: not a recognised audio format");
    free(missing);
}

static void test_truncated_flac_is_corrupt(void **state)
{
    char *path = tu_path(dir, "cut.flac"), *bytes;
    disco_audio a;
    disco_status st = {0};
    size_t len;

    (void)state;
    test_signal(&a, 44100, 44100);
    assert_int_equal(disco_audio_save(path, &a, DISCO_AUDIO_FLAC16, &st), DISCO_OK);
    disco_audio_release(&a);
    bytes = tu_read_file(path, &len);
    /* libFLAC either loses sync at the cut or just stops short of the promised length. */
    assert_int_equal(tu_write_file(path, bytes, len / 2), 0);
    assert_int_equal(disco_audio_load(path, &a, &st), DISCO_ERR_CORRUPT);
    assert_msg_has(&st, path);
    assert_msg_has(&st, " at frame ");
    assert_true(strstr(st.msg, "lost sync") || strstr(st.msg, "truncated"));
    assert_int_equal(disco_audio_load_mem(bytes, len / 2, &a, &st), DISCO_ERR_CORRUPT);
    assert_msg_has(&st, "<memory>: ");
    assert_msg_has(&st, " at frame ");
    free(bytes);
    free(path);
}

static void test_nan_in_float_wav(void **state)
{
    static const float bad[2] = {NAN, INFINITY};
    SF_INFO si = {.samplerate = 8000, .channels = 2, .format = SF_FORMAT_WAV | SF_FORMAT_FLOAT};
    float x[20] = {0};
    disco_status st = {0};
    disco_audio a;

    (void)state;
    for (int k = 0; k < 2; k++) {
        char *path = tu_path(dir, k ? "inf.wav" : "nan.wav");
        SNDFILE *f = sf_open(path, SFM_WRITE, &si);

        assert_non_null(f);
        x[2 * 7 + 1] = bad[k];
        assert_int_equal(sf_writef_float(f, x, 10), 10);
        assert_int_equal(sf_close(f), 0);
        assert_int_equal(disco_audio_load(path, &a, &st), DISCO_ERR_INVAL);
        assert_msg_has(&st, path);
        assert_msg_has(&st, "frame 7 channel 1");
        assert_msg_has(&st, k ? "Inf" : "NaN");
        free(path);
    }
}

/* Number of entries in `dir` other than . and .. */
static int dir_entries(void)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;

    while ((e = readdir(d)) != NULL)
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    closedir(d);
    return n;
}

static void test_writer_abort_and_close(void **state)
{
    char *sub = tu_path(dir, "w"), *path, *nodir, *saved = dir;
    float x[8] = {0.1f, 0.2f, 0.3f, 0.4f, NAN, 0.f, 0.f, 0.f};
    disco_audio_writer *w;
    disco_status st = {0};
    struct stat sb;

    (void)state;
    assert_int_equal(mkdir(sub, 0755), 0);
    dir = sub;
    path = tu_path(sub, "out.wav");
    assert_int_equal(disco_audio_writer_open(path, 2, 8000, DISCO_AUDIO_WAV16, &w, &st), DISCO_OK);
    assert_int_equal(disco_audio_writer_write(w, x, 2, &st), DISCO_OK);
    assert_int_equal(dir_entries(), 1);
    assert_int_equal(stat(path, &sb), -1);
    disco_audio_writer_abort(w);
    assert_int_equal(dir_entries(), 0);
    disco_audio_writer_abort(NULL);

    assert_int_equal(disco_audio_writer_open(path, 2, 8000, DISCO_AUDIO_FLAC16, &w, &st), DISCO_OK);
    assert_int_equal(disco_audio_writer_write(w, x, 2, &st), DISCO_OK);
    assert_int_equal(disco_audio_writer_write(w, x, 4, &st), DISCO_ERR_INVAL);
    assert_msg_has(&st, "frame 4 channel 0");
    assert_int_equal(stat(path, &sb), -1);
    assert_int_equal(disco_audio_writer_close(w, &st), DISCO_OK);
    assert_int_equal(dir_entries(), 1);
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0644);

    nodir = tu_path(sub, "nowhere/out.wav");
    assert_int_equal(disco_audio_writer_open(nodir, 2, 8000, DISCO_AUDIO_WAV16, &w, &st),
                     DISCO_ERR_NOTFOUND);
    assert_msg_has(&st, nodir);
    assert_int_equal(disco_audio_writer_open(path, 9, 8000, DISCO_AUDIO_FLAC24, &w, &st),
                     DISCO_ERR_UNSUPPORTED);
    assert_int_equal(disco_audio_writer_open(path, 0, 8000, DISCO_AUDIO_WAV16, &w, &st),
                     DISCO_ERR_INVAL);
    assert_int_equal(dir_entries(), 1);
    dir = saved;
    free(nodir);
    free(path);
    free(sub);
}

static void test_encoding_names(void **state)
{
    disco_audio_encoding e;
    disco_status st = {0};

    (void)state;
    assert_int_equal(disco_audio_encoding_parse("wav16", "format", &e, &st), DISCO_OK);
    assert_int_equal(e, DISCO_AUDIO_WAV16);
    assert_int_equal(disco_audio_encoding_parse("WAV32F", "format", &e, &st), DISCO_OK);
    assert_int_equal(e, DISCO_AUDIO_WAV32F);
    assert_int_equal(disco_audio_encoding_parse("wav", "format", &e, &st), DISCO_OK);
    assert_int_equal(e, DISCO_AUDIO_WAV24);
    assert_int_equal(disco_audio_encoding_parse("flac", "format", &e, &st), DISCO_OK);
    assert_int_equal(e, DISCO_AUDIO_FLAC24);
    assert_int_equal(disco_audio_encoding_parse("mp3", "format", &e, &st), DISCO_ERR_INVAL);
    assert_string_equal(st.field, "format");
    assert_msg_has(&st, "'mp3'");
    assert_msg_has(&st, "flac16");
    assert_int_equal(disco_audio_encoding_for_path("x/a.b/song.FLAC", &e, &st), DISCO_OK);
    assert_int_equal(e, DISCO_AUDIO_FLAC24);
    assert_int_equal(disco_audio_encoding_for_path("song.wav", &e, &st), DISCO_OK);
    assert_int_equal(e, DISCO_AUDIO_WAV24);
    assert_int_equal(disco_audio_encoding_for_path("a.wav/song", &e, &st), DISCO_ERR_INVAL);
    assert_msg_has(&st, "a.wav/song");
}

/* --- resampling ------------------------------------------------------------------ */

static void sine(disco_audio *a, size_t frames, int channels, int rate, double f, double amp)
{
    assert_int_equal(disco_audio_alloc(a, frames, channels, rate, NULL), DISCO_OK);
    for (size_t i = 0; i < frames; i++)
        for (int c = 0; c < channels; c++)
            a->data[i * channels + c] =
                (float)(amp * sin(2 * M_PI * f * (double)i / rate + c * 0.5));
}

static void test_resample_keeps_frequency_and_amplitude(void **state)
{
    disco_audio a, b;
    disco_status st = {0};
    double peak = 0.0;

    (void)state;
    sine(&a, 44100, 1, 44100, 1000.0, 0.5);
    assert_int_equal(disco_audio_resample(&a, 22050, DISCO_RESAMPLE_MEDIUM, &b, &st), DISCO_OK);
    assert_int_equal(b.rate, 22050);
    assert_true(b.frames >= 22049 && b.frames <= 22051);
    assert_near(zc_frequency(b.data, 1, 2205, 19845, 22050), 1000.0, 0.05);
    assert_near(rms(b.data, 1, 2205, 19845), 0.5 / sqrt(2.0), 0.005);
    for (size_t i = 2205; i < 19845; i++)
        peak = fmax(peak, fabs(b.data[i]));
    assert_near(peak, 0.5, 0.01);
    disco_audio_release(&b);
    disco_audio_release(&a);
}

static void test_resample_streaming_equals_whole(void **state)
{
    static const size_t sizes[] = {1, 3, 17, 441, 1000, 5};
    disco_audio a, whole;
    disco_resampler *r;
    disco_status st = {0};
    size_t done = 0, got = 0, used, produced, cap, k = 0;
    float *out;

    (void)state;
    sine(&a, 30011, 2, 44100, 1234.5, 0.7);
    assert_int_equal(disco_audio_resample(&a, 22050, DISCO_RESAMPLE_FAST, &whole, &st), DISCO_OK);
    assert_int_equal(disco_resampler_new(2, 44100, 22050, DISCO_RESAMPLE_FAST, &r, &st), DISCO_OK);
    cap = whole.frames + disco_resampler_out_bound(r, 1000);
    out = malloc(cap * 2 * sizeof(float));
    for (;;) {
        size_t n = sizes[k++ % 6], bound = disco_resampler_out_bound(r, n);
        int last = done + n >= a.frames;

        if (n > a.frames - done)
            n = a.frames - done;
        assert_true(got + bound <= cap);
        assert_int_equal(disco_resampler_process(r, a.data + 2 * done, n, out + 2 * got, bound,
                                                 last, &used, &produced, &st),
                         DISCO_OK);
        assert_true(produced <= bound);
        done += used;
        got += produced;
        if (last && done == a.frames && produced == 0)
            break;
    }
    assert_int_equal(got, whole.frames);
    assert_true(max_diff(out, whole.data, got * 2) <= 1e-6);
    disco_resampler_free(r);
    free(out);
    disco_audio_release(&whole);
    disco_audio_release(&a);
}

static void test_resample_equal_rates_and_bad_args(void **state)
{
    disco_audio a, b;
    disco_resampler *r;
    disco_status st = {0};

    (void)state;
    sine(&a, 1000, 2, 8000, 440.0, 0.5);
    assert_int_equal(disco_audio_resample(&a, 8000, DISCO_RESAMPLE_BEST, &b, &st), DISCO_OK);
    assert_int_equal(b.frames, 1000);
    assert_memory_equal(a.data, b.data, 2000 * sizeof(float));
    disco_audio_release(&b);
    disco_audio_release(&a);
    assert_int_equal(disco_resampler_new(2, 44100, 22050, 5, &r, &st), DISCO_ERR_INVAL);
    assert_string_equal(st.field, "quality");
    assert_int_equal(disco_resampler_new(2, 500, 22050, 0, &r, &st), DISCO_ERR_INVAL);
    assert_string_equal(st.field, "in_rate");
    assert_int_equal(disco_resampler_new(2, 1000, 768000, 0, &r, &st), DISCO_ERR_INVAL);
    assert_msg_has(&st, "1/256..256");
    assert_int_equal(disco_resampler_new(0, 1000, 2000, 0, &r, &st), DISCO_ERR_INVAL);
    assert_null(r);
}

static void test_downmix_and_alloc(void **state)
{
    const float in[6] = {1.0f, 0.0f, 0.5f, -0.5f, -1.0f, -0.5f};
    float mono[3];
    disco_audio a;
    disco_status st = {0};

    (void)state;
    disco_audio_downmix(in, 3, 2, mono);
    assert_near(mono[0], 0.5, 0);
    assert_near(mono[1], 0.0, 0);
    assert_near(mono[2], -0.75, 0);
    disco_audio_downmix(in, 2, 3, mono);
    assert_near(mono[0], 0.5, 1e-7);
    assert_near(mono[1], -2.0 / 3.0, 1e-7);
    assert_int_equal(disco_audio_alloc(&a, 10, 65, 44100, &st), DISCO_ERR_INVAL);
    assert_int_equal(disco_audio_alloc(&a, 10, 2, 999, &st), DISCO_ERR_INVAL);
    assert_int_equal(disco_audio_alloc(&a, 0, 2, 44100, &st), DISCO_OK);
    assert_int_equal(a.frames, 0);
    disco_audio_release(&a);
    disco_audio_release(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_every_encoding),
        cmocka_unit_test(test_integer_encodings_clip),
        cmocka_unit_test(test_blocks_equal_whole_and_memory_equals_file),
        cmocka_unit_test(test_descriptor_reader_leaves_fd_open),
        cmocka_unit_test(test_lossy_formats_decode),
        cmocka_unit_test(test_refused_files),
        cmocka_unit_test(test_truncated_flac_is_corrupt),
        cmocka_unit_test(test_nan_in_float_wav),
        cmocka_unit_test(test_writer_abort_and_close),
        cmocka_unit_test(test_encoding_names),
        cmocka_unit_test(test_resample_keeps_frequency_and_amplitude),
        cmocka_unit_test(test_resample_streaming_equals_whole),
        cmocka_unit_test(test_resample_equal_rates_and_bad_args),
        cmocka_unit_test(test_downmix_and_alloc),
    };

    return cmocka_run_group_tests_name("dsp/audio_io", tests, setup, teardown);
}
