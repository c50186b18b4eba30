/*
 * polyphase.h - a fast rational-ratio resampler for analysis.
 *
 * libsamplerate (audio.h) is the converter for audio people listen to; its
 * fastest sinc mode runs at about 330x real time, which alone would use the
 * whole time budget of a full analysis. Analysis only needs the band below
 * the new Nyquist frequency to be clean, so this is a plain polyphase FIR:
 * ratio out/in = L/M in lowest terms (L <= 1024), 64 taps per phase,
 * Kaiser-windowed sinc (beta 8) with its cutoff at 0.94 of the lower
 * Nyquist frequency. Measured for 44.1 -> 22.05 kHz: flat within 0.1 dB to
 * 9 kHz (0.82 of the new Nyquist frequency), -3 dB at 10 kHz, tones above
 * 12 kHz down by more than 60 dB; about 4000x real time on one core.
 *
 * Output sample j sits at input time j * M / L exactly (the filter is
 * centred, no group delay), so onset times survive resampling.
 *
 * Threads: one resampler per thread; no allocation after _new.
 */
#ifndef DISCO_POLYPHASE_H
#define DISCO_POLYPHASE_H

#include "disco/err.h"

#include <stddef.h>

typedef struct disco_polyphase disco_polyphase;

/* INVAL naming the rate when a rate is out of 1000..768000 or L > 1024. */
int disco_polyphase_new(int in_rate, int out_rate, disco_polyphase **out, disco_status *st);
void disco_polyphase_free(disco_polyphase *p);

/* Most frames disco_polyphase_push() can produce from `in_frames` more input. */
size_t disco_polyphase_out_bound(const disco_polyphase *p, size_t in_frames);

/*
 * Feeds `n` mono samples and writes every output that is now complete to
 * `out` (room for disco_polyphase_out_bound(p, n)). Returns the number
 * written. `n` may be 0. Inputs larger than the internal block are fine.
 */
size_t disco_polyphase_push(disco_polyphase *p, const float *in, size_t n, float *out);

/*
 * Ends the stream: pads with zeros and writes the remaining outputs, so that
 * the total is ceil(total_in * L / M). Room: disco_polyphase_out_bound(p, 0)
 * + 64. Returns the number written.
 */
size_t disco_polyphase_finish(disco_polyphase *p, float *out);

#endif
