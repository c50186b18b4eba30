/*
 * objects.h - the content-addressed object store.
 *
 * Payloads are named by the SHA-256 of their bytes and kept as
 *
 *     <dir>/ab/cdef...      (first two hex digits as a fan-out folder)
 *     <dir>/tmp/put-*       (puts in progress; never visible as objects)
 *
 * A put streams its input through the hash into a temporary file in
 * constant memory, fsyncs it, and renames it to its final name (then fsyncs
 * the folder), so an object is either absent or complete: an interrupted put
 * leaves only a temporary file, which disco_objects_clean_tmp() removes.
 * Putting bytes that are already stored keeps the existing object.
 *
 * A handle may be used from several threads at once: every call works on
 * its own files.
 */
#ifndef DISCO_OBJECTS_H
#define DISCO_OBJECTS_H

#include "disco/err.h"
#include "disco/hash.h"
#include "disco/progress.h"

#include <stdint.h>

typedef struct disco_objects disco_objects;

typedef struct disco_object_info {
    char hash[DISCO_SHA256_HEX_LEN + 1];
    uint64_t size;
    int64_t mtime_ms;
} disco_object_info;

/* Length meaning "to the end of the object" for range reads. */
#define DISCO_OBJECT_TO_END UINT64_MAX

/*
 * Opens (creating when missing) the store rooted at `dir`. Errors: IO/PERM
 * when the folder cannot be created or written.
 */
int disco_objects_open(const char *dir, disco_objects **out, disco_status *st);

/* NULL is a no-op. */
void disco_objects_close(disco_objects *os);

/* The root folder; borrowed. */
const char *disco_objects_dir(const disco_objects *os);

/*
 * Stores everything readable from `fd` (file, pipe or socket) and fills
 * `info`. `*created` (may be NULL) is 1 when the object is new, 0 when it was
 * already stored. `prog` (may be NULL) gets "put" reports in bytes (total 0
 * when the size is not known) and may cancel. Errors: IO on read/write
 * failure, NOSPC when the disk (or file size limit) is full, CANCELLED; in
 * every case no object is created and the temporary file is removed.
 */
int disco_objects_put_fd(disco_objects *os, int fd, const disco_progress *prog,
                         disco_object_info *info, int *created, disco_status *st);

/* As put_fd for a file path; NOTFOUND / PERM / INVAL (a folder) name the path. */
int disco_objects_put_file(disco_objects *os, const char *path, const disco_progress *prog,
                           disco_object_info *info, int *created, disco_status *st);

/* As put_fd for a buffer. */
int disco_objects_put_mem(disco_objects *os, const void *data, size_t len, disco_object_info *info,
                          int *created, disco_status *st);

/* Size and time of an object. INVAL for a malformed hash, NOTFOUND if absent. */
int disco_objects_stat(disco_objects *os, const char *hash, disco_object_info *info,
                       disco_status *st);

/*
 * Writes bytes [offset, offset + length) of an object to `out_fd`
 * (`length` may be DISCO_OBJECT_TO_END; a range past the end is clipped, an
 * offset past the end is INVAL). Streams in constant memory.
 */
int disco_objects_get_fd(disco_objects *os, const char *hash, uint64_t offset, uint64_t length,
                         int out_fd, const disco_progress *prog, disco_status *st);

/*
 * Copies a whole object to `path`, through a temporary file renamed into
 * place, so `path` is never left half-written.
 */
int disco_objects_get_file(disco_objects *os, const char *hash, const char *path,
                           const disco_progress *prog, disco_status *st);

/* Opens an object read-only; caller closes the descriptor. */
int disco_objects_open_read(disco_objects *os, const char *hash, int *fd, disco_status *st);

/*
 * Re-hashes an object. DISCO_OK when its bytes still hash to its name,
 * CORRUPT with both hashes in the message when they do not, NOTFOUND.
 */
int disco_objects_verify(disco_objects *os, const char *hash, const disco_progress *prog,
                         disco_status *st);

/* Removes an object; NOTFOUND if absent. */
int disco_objects_remove(disco_objects *os, const char *hash, disco_status *st);

/* Visitor for disco_objects_foreach(); return non-zero to stop early. */
typedef int (*disco_object_visit_fn)(void *user, const disco_object_info *info);

/* Calls `fn` for every stored object (in no particular order). */
int disco_objects_foreach(disco_objects *os, disco_object_visit_fn fn, void *user,
                          disco_status *st);

/*
 * Removes temporary files of interrupted puts older than `older_than_ms`
 * milliseconds; reports how many and how many bytes (either may be NULL).
 */
int disco_objects_clean_tmp(disco_objects *os, int64_t older_than_ms, uint64_t *files,
                            uint64_t *bytes, disco_status *st);

#endif
