/*
 * fftlock.c - the mutex guarding FFTW's planner (see fftlock.h).
 */
#include "disco/fftlock.h"

#include <pthread.h>

static pthread_mutex_t plan_mutex = PTHREAD_MUTEX_INITIALIZER;

void disco_fft_plan_lock(void)
{
    pthread_mutex_lock(&plan_mutex);
}

void disco_fft_plan_unlock(void)
{
    pthread_mutex_unlock(&plan_mutex);
}
