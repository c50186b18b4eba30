/*
 * key.h - key and mode from a chroma profile.
 *
 * The mean chroma vector of a piece is correlated (Pearson) with each of
 * the 24 rotations of a major and a minor key profile; the best is the key.
 * Profiles: Krumhansl-Kessler (1982 probe-tone ratings), Temperley
 * (Kostka-Payne corpus, 1999/2007) and an EDMA-like profile tuned for
 * electronic/pop material (Faraldo 2016). DISCO_KEY_COMBINED averages the
 * three correlation tables.
 *
 * Confidence is the margin between the best and the second-best key's
 * correlation, scaled to 0..1, times how well the best one correlates.
 */
#ifndef DISCO_KEY_H
#define DISCO_KEY_H

#include "disco/err.h"

typedef enum disco_key_profile {
    DISCO_KEY_KRUMHANSL,
    DISCO_KEY_TEMPERLEY,
    DISCO_KEY_EDMA,
    DISCO_KEY_COMBINED,
} disco_key_profile;

/* "krumhansl", "temperley", "edma", "combined"; INVAL naming `field` otherwise. */
int disco_key_profile_parse(const char *name, const char *field, disco_key_profile *out,
                            disco_status *st);

typedef struct disco_key {
    int tonic;          /* 0 = C .. 11 = B */
    int minor;          /* 0 major, 1 minor */
    double correlation; /* of the winning key */
    double confidence;  /* 0..1 */
    double scores[24];  /* correlation per key: 0..11 major C..B, 12..23 minor C..B */
} disco_key;

/*
 * Estimates the key from a 12-bin chroma sum/mean (C first). An all-zero or
 * constant chroma is not an error: tonic -1, confidence 0.
 */
int disco_key_estimate(const double chroma[12], disco_key_profile profile, disco_key *out,
                       disco_status *st);

/* "C major", "F# minor" (sharps), or "none" for tonic -1. */
const char *disco_key_name(int tonic, int minor, char buf[16]);

/*
 * MIREX key score of an estimate against the truth: 1 same key, 0.5 a fifth
 * apart with the same mode, 0.3 relative, 0.2 parallel, 0 otherwise.
 * "A fifth apart" counts both directions (est a fifth above or below the
 * truth), as the MIREX evaluation does; mir_eval's default counts only a
 * fifth above. A tonic outside 0..11 (e.g. -1, no key) scores 0.
 */
double disco_key_mirex_score(int est_tonic, int est_minor, int ref_tonic, int ref_minor);

#endif
