/*
 * mkaudio.c - writes the audio files the integration tests feed to disco.
 *
 *   mkaudio OUT piece N [SECONDS]   piece N of tests/support/pieces.c (12 s)
 *   mkaudio OUT tone HZ SECONDS AMPLITUDE [CHANNELS [RATE]]
 *   mkaudio OUT noise SECONDS AMPLITUDE   white noise, stereo, 44.1 kHz
 *   mkaudio OUT silence SECONDS
 *
 * The encoding follows OUT's extension (.wav: 24-bit, .flac: 24-bit), or
 * MKAUDIO_ENCODING (wav16, wav24, wav32f, flac16, flac24). Prints the
 * piece's true tempo and key for "piece" so scripts can compare.
 */
#include "disco/audio.h"
#include "disco/key.h"
#include "disco/render.h"
#include "support/pieces.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(const char *what, const disco_status *st)
{
    fprintf(stderr, "mkaudio: %s: %s\n", what, st->msg);
    return 1;
}

static int make_piece(const char *arg, double seconds, disco_audio *a, disco_status *st)
{
    disco_piece p;
    size_t i = (size_t)strtoul(arg, NULL, 10);
    if (i >= disco_pieces_count())
        return disco_status_set(st, DISCO_ERR_INVAL, "piece", "piece %zu of %zu", i,
                                disco_pieces_count());
    int rc = disco_piece_make(i, 1, seconds, &p);
    if (rc)
        return disco_status_set(st, rc, "piece", "cannot make piece %zu", i);
    disco_render_config cfg = disco_piece_render_config(&p, 44100, 1);
    float *buf = NULL;
    size_t frames = 0;
    rc = disco_render_notes(p.notes, p.n_notes, &cfg, &buf, &frames, st);
    if (!rc) {
        char key[16];
        *a = (disco_audio){.data = buf, .frames = frames, .channels = 2, .rate = cfg.rate};
        printf("%s %.2f %s\n", p.name, p.bpm, disco_key_name(p.tonic, p.minor, key));
    }
    disco_piece_release(&p);
    return rc;
}

static int make_signal(int argc, char **argv, disco_audio *a, disco_status *st)
{
    const char *kind = argv[2];
    double secs = argc > 3 ? atof(argv[3]) : 1.0, amp = argc > 4 ? atof(argv[4]) : 0.5;
    double hz = 0;
    int ch = 2, rate = 44100;
    if (strcmp(kind, "tone") == 0) {
        hz = secs;
        secs = amp;
        amp = argc > 5 ? atof(argv[5]) : 0.5;
        ch = argc > 6 ? atoi(argv[6]) : 2;
        rate = argc > 7 ? atoi(argv[7]) : 44100;
    }
    int rc = disco_audio_alloc(a, (size_t)(secs * rate), ch, rate, st);
    uint64_t s = 0x9e3779b97f4a7c15ull;
    for (size_t i = 0; !rc && i < a->frames; i++)
        for (int c = 0; c < ch; c++) {
            float v = 0;
            if (strcmp(kind, "tone") == 0)
                v = (float)(amp * sin(2 * M_PI * hz * (double)i / rate));
            else if (strcmp(kind, "noise") == 0) {
                s ^= s << 13, s ^= s >> 7, s ^= s << 17;
                v = (float)(amp * ((double)(s >> 11) / 9007199254740992.0 * 2 - 1));
            }
            a->data[i * (size_t)ch + (size_t)c] = v;
        }
    return rc;
}

int main(int argc, char **argv)
{
    disco_status st = {0};
    disco_audio a = {0};
    disco_audio_encoding enc;
    if (argc < 3) {
        fprintf(stderr, "usage: mkaudio OUT piece N | tone HZ S AMP [CH [RATE]] | noise S AMP | "
                        "silence S\n");
        return 2;
    }
    const char *env = getenv("MKAUDIO_ENCODING");
    int rc = env ? disco_audio_encoding_parse(env, "MKAUDIO_ENCODING", &enc, &st)
                 : disco_audio_encoding_for_path(argv[1], &enc, &st);
    if (rc)
        return fail("encoding", &st);
    rc = strcmp(argv[2], "piece") == 0
             ? make_piece(argc > 3 ? argv[3] : "0", argc > 4 ? atof(argv[4]) : 12, &a, &st)
             : make_signal(argc, argv, &a, &st);
    if (rc)
        return fail(argv[2], &st);
    rc = disco_audio_save(argv[1], &a, enc, &st);
    disco_audio_release(&a);
    return rc ? fail(argv[1], &st) : 0;
}
