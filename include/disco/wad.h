/*
 * wad.h - Doom WAD archives and the MUS music format, read so their music
 * can join the MIDI corpus.
 *
 * A WAD is a 12-byte header, the lumps' bytes, and a directory:
 *
 *   0   "IWAD" | "PWAD"
 *   4   int32 lump count          (little-endian)
 *   8   int32 directory offset
 *   dir lump count x 16 bytes: int32 offset, int32 size, char name[8]
 *       (NUL-padded, not NUL-terminated when 8 long)
 *
 * Music lumps (names D_*) hold either a Standard MIDI File ("MThd") or MUS
 * ("MUS\x1a"), the compact format of the original engine:
 *
 *   0  "MUS\x1a"  4  u16 score length  6  u16 score start  8  u16 primary
 *   channels  10  u16 secondary channels  12  u16 instrument count
 *   14  u16 reserved  16  u16 instruments[count]
 *   score: events, each a descriptor byte (bit 7: a delay follows the
 *   event; bits 6..4: type; bits 3..0: channel) and its data:
 *     0 release note (note)          1 play note (note | 0x80 -> volume follows)
 *     2 pitch bend (0..255, 128 = centre)     3 system event (controller 10..14)
 *     4 controller (number, value; 0 = instrument)   5 end of measure
 *     6 end of score                 7 (undefined: refused)
 *   A delay is a variable-length number (7 bits a byte, high bit = more)
 *   in ticks of 1/140 s.
 *
 * MUS -> MIDI: a format-0 file at 70 ticks per quarter and 120 BPM (so one
 * MIDI tick is one MUS tick), MUS channel 15 -> MIDI channel 9 (drums),
 * channels 9..14 -> 10..15; controllers mapped to their MIDI numbers
 * (instrument -> program change, bank 0, modulation 1, volume 7, pan 10,
 * expression 11, reverb 91, chorus 93, sustain 64, soft 67; system events
 * to 120/123/126/127/121); controllers the format does not define are
 * ignored. A play note without a volume reuses the channel's last one
 * (127 at first).
 *
 * Robustness: no length or offset is trusted; what cannot be read is
 * CORRUPT with the byte offset (or lump) and what was wrong.
 *
 * Threads: plain data; no shared state.
 */
#ifndef DISCO_WAD_H
#define DISCO_WAD_H

#include "disco/err.h"

#include <stddef.h>
#include <stdint.h>

#define DISCO_WAD_MAX_BYTES (1024u * 1024u * 1024u) /* files above are LIMIT */
#define DISCO_MUS_TPQ 70                            /* ticks per quarter of converted MUS */

typedef struct disco_wad_lump {
    char name[9]; /* NUL-terminated; bytes outside printable ASCII become '?' */
    uint32_t offset, size;
} disco_wad_lump;

typedef struct disco_wad {
    int iwad; /* 1 for "IWAD", 0 for "PWAD" */
    disco_wad_lump *lumps;
    size_t nlumps;
    const uint8_t *data; /* the whole archive (borrowed or owned, see below) */
    size_t len;
    uint8_t *owned; /* set when disco_wad_read() loaded the file */
} disco_wad;

/*
 * Reads the directory of the archive in `buf` (borrowed: it must outlive
 * `out`). CORRUPT for a bad magic, a directory or lump outside the buffer.
 */
int disco_wad_read_mem(const void *buf, size_t len, disco_wad *out, disco_status *st);

/* Loads the file at `path` and reads it; NOTFOUND / IO / LIMIT for the file itself. */
int disco_wad_read(const char *path, disco_wad *out, disco_status *st);

/* Frees what a read allocated and zeroes `w`; a zeroed `w` is a no-op. */
void disco_wad_release(disco_wad *w);

/* Index of the first lump called `name` (case-insensitive), or -1. */
long disco_wad_find(const disco_wad *w, const char *name);

/* Bytes of lump `i` (borrowed from the archive); NULL when `i` is out of range. */
const uint8_t *disco_wad_lump_data(const disco_wad *w, size_t i, size_t *len);

/* Whether lump `i` is a music lump: named D_* and starting with "MThd" or "MUS\x1a". */
int disco_wad_is_music(const disco_wad *w, size_t i);

/*
 * Music lump `i` as Standard MIDI File bytes (malloc'd in *midi, caller
 * frees): MIDI lumps are copied, MUS lumps converted. UNSUPPORTED for a
 * lump that is neither; CORRUPT (naming the lump) for a MUS that is.
 */
int disco_wad_music(const disco_wad *w, size_t i, uint8_t **midi, size_t *len, disco_status *st);

/* MUS bytes -> SMF bytes (malloc'd in *midi, caller frees); CORRUPT with the offset. */
int disco_mus_to_midi(const void *mus, size_t len, uint8_t **midi, size_t *midi_len,
                      disco_status *st);

#endif
