/*
 * audio_bench.h - what the two halves of the audio benchmark share:
 * bench_audio.c (driver, renders, speed, mastering) and audio_referees.c
 * (tempo and key against aubio and essentia.js). Not part of the library.
 */
#ifndef DISCO_BENCH_AUDIO_BENCH_H
#define DISCO_BENCH_AUDIO_BENCH_H

#include "disco/audio_analysis.h"
#include "support/pieces.h"

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#define ACC_SECONDS 24.0 /* accuracy pieces, as in tests/dsp/test_accuracy.c */
#define SEED 1
#define TEMPO_TOL 0.04 /* Accuracy1: within 4 % */

extern char bench_out_dir[PATH_MAX];      /* <build>/bench-audio */
extern char bench_essentia_dir[PATH_MAX]; /* the essentia.js package folder */

/* One accuracy piece: its truth, its 16-bit WAV and a raw float32 mono copy. */
typedef struct piece_file {
    disco_piece piece;
    char wav[PATH_MAX], f32[PATH_MAX];
} piece_file;

/* Prints "bench_audio: what: why" and exits 1. */
void die(const char *what, const char *why);
/* snprintf's result checked: a path or command that does not fit is fatal. */
void fit(int written, size_t len);
double seconds_since(uint64_t start_ns);
int exists(const char *path);
/* 1 when `name` is a command on PATH. */
int have_command(const char *name);
/* `path` itself; fatal when it holds a single quote (paths go in '...' in shell commands). */
const char *shell_safe(const char *path);

/* Makes piece i (ACC_SECONDS, SEED) and its files, rendering them when they are not cached. */
void prepare_piece(size_t i, piece_file *pf);
/* Full analysis of a file with the default config; the error is printed. */
int analyse_file(const char *path, disco_analysis_report *rep);

/* The referee part: renders, runs ours, aubio and essentia.js, prints the tables. */
void bench_referees(void);

#endif
