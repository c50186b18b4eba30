/*
 * artefact.h - storing a payload and its resource in one step.
 *
 * An artefact is a catalog resource whose payload lives in the object
 * store. These flows put the bytes first (content-addressed, so a retry or
 * a crash leaves at most an unreferenced object that gc collects) and then
 * write the resource in one catalog transaction, so a resource never points
 * at a payload that is not stored.
 */
#ifndef DISCO_ARTEFACT_H
#define DISCO_ARTEFACT_H

#include "disco/catalog.h"
#include "disco/objects.h"
#include "disco/progress.h"

/* Where a payload comes from: a path, or a descriptor when path is NULL. */
typedef struct disco_payload {
    const char *path;
    int fd; /* used when path is NULL; -1: no payload */
} disco_payload;

/*
 * Stores `payload` (if any) and creates the resource described by `spec`
 * with spec->object set to the payload's hash. Errors of either store, with
 * the file named in messages about it.
 */
int disco_artefact_create(disco_catalog *cat, disco_objects *objs, const disco_resource_spec *spec,
                          const disco_payload *payload, const disco_progress *prog,
                          disco_resource *out, disco_status *st);

/* Stores `payload` (if any) and writes a new version with patch->object set to it. */
int disco_artefact_update(disco_catalog *cat, disco_objects *objs, const char *id,
                          const disco_resource_patch *patch, const disco_payload *payload,
                          const disco_progress *prog, disco_resource *out, disco_status *st);

/*
 * Garbage collection: objects that no live resource refers to and that are
 * older than `grace_ms` (so a payload stored a moment ago whose resource is
 * being written is left alone). With `apply` 0 it only reports. Also
 * removes temporaries of interrupted puts older than `grace_ms` when
 * applying. Report: {"dry_run", "scanned", "referenced", "unreferenced":
 * [{"hash","size"}], "removed", "bytes", "tmp_files", "tmp_bytes"}.
 */
int disco_artefact_gc(disco_catalog *cat, disco_objects *objs, int apply, int64_t grace_ms,
                      json_t **report, disco_status *st);

#endif
