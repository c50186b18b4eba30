/*
 * fileio.h - small file-system helpers shared by every module that writes
 * files through a temporary name and a rename, or creates its folders.
 */
#ifndef DISCO_FILEIO_H
#define DISCO_FILEIO_H

/*
 * fsyncs the folder holding `path` ("." when it has no slash), so that a
 * rename into it survives a crash. Returns 0 or the errno of the failure.
 */
int disco_fsync_parent(const char *path);

/*
 * Creates folder `path` and any missing parents (like mkdir -p, mode 0755).
 * Returns 0, ENOTDIR when it exists and is not a folder, or the errno of
 * the failure.
 */
int disco_mkdirs(const char *path);

#endif
