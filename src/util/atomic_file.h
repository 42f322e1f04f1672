/* atomic_file.h: write a file so that a reader sees the old contents or the new, never half.
 *
 * Every file darkscope writes whole (reports and their figures, the sensor's spool state and
 * segment counters, the first-payload files, the geo table cache, the tokens file, the
 * collector's port file) goes through here, in the manner of curl's cookie-jar writer and
 * SQLite's journal: a temporary file in the same directory (rename(2) is atomic only within
 * one file system, POSIX.1-2017 rename()), write, fsync(2), rename over the target, fsync the
 * directory so the rename itself survives a crash.
 *
 * What the path names decides how it is written:
 *   - nothing yet, or a regular file: replaced atomically as above.  A replaced file keeps its
 *     mode (and, best effort, its owner and group); a new one gets `mode` less the umask.
 *   - a symbolic link: followed (up to DS_AFILE_MAX_LINKS hops, dangling links too) and the
 *     file it leads to is written by these same rules, so the link survives and its target is
 *     replaced atomically in the target's own directory.
 *   - a character or block device or a FIFO: written through (open, write, close; no rename),
 *     as a shell's `>` would, so `-o /dev/null` or a named pipe work and stay what they are.
 *     Not atomic: there is no such thing for a device.
 *   - a procfs "magic" link (/dev/stdout -> /proc/self/fd/1, /dev/fd/N): opened as it is and
 *     written through, appending, whatever the descriptor is (a pipe, a terminal, a file the
 *     shell opened with > or >>), since the link's text is not where open(2) goes.
 *   - a directory or a socket: refused, naming the path.
 *
 * No temporary file is left behind on any failure of a live process.  One killed mid-write
 * leaves ".NAME.tmp.XXXXXX" beside the target; ds_afile_is_temp() recognises such names so a
 * directory's owner (the sensor's spool, the geo cache) can sweep them.
 */
#ifndef DS_ATOMIC_FILE_H
#define DS_ATOMIC_FILE_H
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

#include "util/result.h"

#define DS_AFILE_MAX_LINKS 40   /* as Linux's own limit on symbolic links in a path resolution */

enum {
    DS_AFILE_NOSYNC = 1,       /* no fsync of the file or the directory: for files a crash may
                                * lose (a cache, a port number), not for ones it may tear */
    DS_AFILE_PART = 2,         /* the temporary file is PATH.part, a fixed name a crash-salvage
                                * step can find (the sensor's pay-<seq>.jsonl.part); for a
                                * directory with one writer only */
    DS_AFILE_EXACT_MODE = 4,   /* the file gets exactly `mode`, whatever the umask or the mode
                                * of the file it replaces (the tokens file: 0600); the owner
                                * is still kept */
};

typedef struct ds_afile {
    int live;         /* 1 between a successful open and commit/abort; a zeroed one is not */
    int fd;
    FILE *stream;     /* set by ds_afile_stream; then it owns fd */
    int through;      /* 1: writing straight into a device or FIFO */
    unsigned flags;
    char *path;       /* as the caller named it, for messages */
    char *target;     /* what is written: path, or where its symbolic links lead */
    char *tmp;        /* the temporary file beside target; NULL when through */
    size_t written;   /* bytes written by ds_afile_write, for messages */
} ds_afile;

/* Start writing path (see the rules above); mode is for a file that does not exist yet.  On
 * failure *af is not live and nothing was created. */
ds_rc ds_afile_open(ds_afile *af, const char *path, mode_t mode, unsigned flags, ds_err *err);

/* Append n bytes. */
ds_rc ds_afile_write(ds_afile *af, const void *p, size_t n, ds_err *err);

/* A stdio stream on the file, for fprintf-style writers; it stays owned by af (commit and abort
 * close it).  Do not mix with ds_afile_write. */
ds_rc ds_afile_stream(ds_afile *af, FILE **out, ds_err *err);

/* Finish: flush, fsync, close, rename over the target, fsync the directory (see flags).  On
 * failure the temporary file is removed and the target is as it was.  af is not live after
 * it either way. */
ds_rc ds_afile_commit(ds_afile *af, ds_err *err);

/* Give up: close and remove the temporary file; the target is untouched (a device or FIFO has
 * had what was written).  Safe on a zeroed, failed, committed or aborted af. */
void ds_afile_abort(ds_afile *af);

/* open + write + commit of one buffer. */
ds_rc ds_afile_write_file(const char *path, const void *p, size_t n, mode_t mode, unsigned flags, ds_err *err);

/* 1 if name (a directory entry, no '/') is one of ds_afile's temporary files: ".NAME.tmp.XXXXXX". */
int ds_afile_is_temp(const char *name);

#endif
