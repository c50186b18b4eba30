/*
 * objects_int.h - what the files of the object store share: the handle and
 * the helpers that more than one of them calls (defined in objects.c).
 *
 *   objects.c      opening, shared helpers, stat, verify, remove, listing
 *   objects_put.c  put_fd, put_file, put_mem: the hashing pipeline, the commit
 *   objects_get.c  get_fd, get_file: copying objects out
 */
#ifndef DISCO_OBJECTS_INT_H
#define DISCO_OBJECTS_INT_H

#include "disco/objects.h"

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

/* Read, hash and write unit of puts, gets and verifies. */
#define DISCO__OBJECTS_IO_BUF ((size_t)1 << 20)
/* Length of an object's path under the root: "ab/" and the other 62 digits. */
#define DISCO__OBJECTS_REL_LEN (DISCO_SHA256_HEX_LEN + 1)
/* Folder under the root for the temporary files of puts, and their prefix. */
#define DISCO__OBJECTS_TMP_DIR "tmp"
#define DISCO__OBJECTS_TMP_PREFIX "put-"

struct disco_objects {
    char *dir;   /* as given to disco_objects_open(); names the store in messages */
    int root_fd; /* the store's folder; every file is opened relative to it */
    _Atomic uint64_t fault_after; /* the test fault hook (store_int.h) */
    _Atomic int fault_errno;
};

/* Writes the path of object `hash` relative to the root ("ab/cdef...") into `rel`. */
void disco__objects_locate(const char *hash, char rel[DISCO__OBJECTS_REL_LEN + 1]);

/* Fills `info` (may be NULL) for object `hash` from its stat. */
void disco__objects_fill_info(disco_object_info *info, const char *hash, const struct stat *sb);

/*
 * Sets an error about object `hash` after `action` failed with `errnum`:
 * NOTFOUND for ENOENT, else the code of the errno. Returns that code.
 */
int disco__objects_fail(const disco_objects *os, const char *hash, int errnum, const char *action,
                        disco_status *st);

/*
 * Opens stored object `hash` for reading into *fd (-1 on failure) and stats
 * it into *sb. INVAL for a malformed hash, NOTFOUND, CORRUPT when it is not
 * a regular file, else from errno.
 */
int disco__objects_open_object(disco_objects *os, const char *hash, int *fd, struct stat *sb,
                               disco_status *st);

/*
 * Creates a new file named `prefix` plus 16 random hex digits relative to
 * `dirfd`, for writing, with `mode`; its name goes to `name` (`cap` bytes)
 * and its descriptor to *fd. Returns 0 or an errno value.
 */
int disco__objects_create_tmp(int dirfd, const char *prefix, mode_t mode, char *name, size_t cap,
                              int *fd);

/* Waits until `fd` is ready for `events` (POLLIN, POLLOUT). Returns 0 or errno. */
int disco__objects_wait_fd(int fd, short events);

/*
 * Writes all `n` bytes of `p` to `fd`, waiting on a non-blocking one and
 * adding to *written as it goes. Returns 0 or an errno value.
 */
int disco__objects_write_full(int fd, const unsigned char *p, size_t n, uint64_t *written);

#endif
