/*
 * fftlock.h - the one mutex around FFTW's planner.
 *
 * FFTW's planner (fftw_plan_*, fftw_destroy_plan) is not thread-safe; executing
 * a plan on new arrays is. Every module that plans FFTW transforms (tsa's
 * periodogram, dsp's STFT) plans and destroys under this lock, so they never
 * race with each other. The base layer does not link FFTW: this is only a lock.
 */
#ifndef DISCO_FFTLOCK_H
#define DISCO_FFTLOCK_H

void disco_fft_plan_lock(void);
void disco_fft_plan_unlock(void);

#endif
