/*
 * store_int.h - internals of the storage layer shared with its tests.
 */
#ifndef DISCO_STORE_INT_H
#define DISCO_STORE_INT_H

#include "disco/objects.h"

#include <stdint.h>

/*
 * Test hook for disk-full handling: from now on, writing the temporary file
 * of a put fails with `errnum` (ENOSPC, EIO, ...) as soon as that put has
 * written `after_bytes` bytes. `errnum` 0 turns the hook off. Meant for
 * tests: set it while no put is running on the handle.
 */
void disco__objects_inject_write_error(disco_objects *os, uint64_t after_bytes, int errnum);

#endif
