/*
 * crc32c.h - CRC-32C (Castagnoli), the checksum of every on-disk format.
 *
 * Uses the SSE4.2 crc32 instruction when the CPU has it (chosen at run
 * time), with a portable table-driven reference that tests compare against.
 */
#ifndef DISCO_CRC32C_H
#define DISCO_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/*
 * Extends `crc` (0 to start) over `len` bytes and returns the new value;
 * disco_crc32c(0, "123456789", 9) == 0xE3069283.
 */
uint32_t disco_crc32c(uint32_t crc, const void *data, size_t len);

/* The portable implementation, for tests of the fast path. */
uint32_t disco_crc32c_portable(uint32_t crc, const void *data, size_t len);

#endif
