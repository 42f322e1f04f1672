/* atomic_file.c: temporary file, write, fsync, rename, fsync(dir); or straight through a device
 * (see atomic_file.h for the rules and why).
 *
 * The path is resolved by hand with lstat(2) and readlink(2) rather than realpath(3), because
 * realpath fails on a dangling link and we want to create what it points at, as `>` does.
 * The temporary file is made with O_CREAT|O_EXCL under a random name (mkstemp's method, but
 * with the caller's mode, so the kernel applies the umask and no thread has to change it).
 */
#include "util/atomic_file.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#define TMP_TAG ".tmp."
#define TMP_RANDOM 6   /* random characters after TMP_TAG */
#define TMP_TRIES 100

static const char alnum[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

int ds_afile_is_temp(const char *name)
{
    size_t len = strlen(name), tag = sizeof TMP_TAG - 1;
    if (name[0] != '.' || len < 2 + tag + TMP_RANDOM || memcmp(name + len - TMP_RANDOM - tag, TMP_TAG, tag) != 0)
        return 0;
    for (size_t i = len - TMP_RANDOM; i < len; i++)
        if (!memchr(alnum, name[i], sizeof alnum - 1) || !name[i])
            return 0;
    return 1;
}

static char *join(const char *a, size_t alen, const char *b, size_t blen)
{
    char *s = malloc(alen + blen + 1);
    if (s) {
        memcpy(s, a, alen);
        memcpy(s + alen, b, blen);
        s[alen + blen] = '\0';
    }
    return s;
}

/* Length of the directory part of p, with its '/'; 0 for a bare name. */
static size_t dir_len(const char *p)
{
    const char *slash = strrchr(p, '/');
    return slash ? (size_t)(slash - p) + 1 : 0;
}

/* 1 if the symbolic link p is one of procfs's "magic" links (/proc/self/fd/1, where /dev/stdout
 * leads): its text ("pipe:[123]", or a path that names another file than the open one) is not
 * where open(2) goes, so it is opened, never resolved. */
static int is_magic_link(const char *p)
{
    size_t dl = dir_len(p);
    char *dir = dl ? join(p, dl, "", 0) : NULL;
    struct statfs sf;
    int magic = statfs(dl ? (dir ? dir : "/") : ".", &sf) == 0 && sf.f_type == PROC_SUPER_MAGIC;
    free(dir);
    return magic;
}

/* Follow symbolic links from af->path into af->target.  *exists and *st describe the target;
 * *magic: the target is a procfs magic link, to be opened as it is. */
static ds_rc resolve(ds_afile *af, int *exists, int *magic, struct stat *st, ds_err *err)
{
    char *cur = strdup(af->path), *link = NULL;
    ds_rc rc = DS_OK;
    if (!cur)
        return ds_fail(err, DS_ENOMEM, "out of memory writing '%s'", af->path);
    for (int hops = 0;; hops++) {
        if (lstat(cur, st) != 0) {
            if (errno != ENOENT) {
                if (hops == 0)
                    rc = ds_fail(err, DS_EIO, "cannot write '%s': %s", af->path, strerror(errno));
                else
                    rc = ds_fail(err, DS_EIO, "cannot write '%s': its symbolic link leads to '%s': %s", af->path,
                                 cur, strerror(errno));
                goto out;
            }
            *exists = 0;
            break;
        }
        if (!S_ISLNK(st->st_mode)) {
            *exists = 1;
            break;
        }
        if (is_magic_link(cur)) {
            *exists = *magic = 1;
            break;
        }
        if (hops == DS_AFILE_MAX_LINKS) {
            rc = ds_fail(err, DS_EIO, "cannot write '%s': more than %d symbolic links", af->path, DS_AFILE_MAX_LINKS);
            goto out;
        }
        size_t cap = st->st_size > 0 ? (size_t)st->st_size + 1 : 4096;
        free(link);
        if (!(link = malloc(cap))) {
            rc = ds_fail(err, DS_ENOMEM, "out of memory writing '%s'", af->path);
            goto out;
        }
        ssize_t n = readlink(cur, link, cap);
        if (n < 0 || (size_t)n >= cap) {
            rc = ds_fail(err, DS_EIO, "cannot write '%s': reading the symbolic link '%s' failed: %s", af->path, cur,
                         n < 0 ? strerror(errno) : "it changed while read");
            goto out;
        }
        /* a relative link is relative to the directory the link is in */
        char *next = link[0] == '/' ? join(link, (size_t)n, "", 0) : join(cur, dir_len(cur), link, (size_t)n);
        if (!next) {
            rc = ds_fail(err, DS_ENOMEM, "out of memory writing '%s'", af->path);
            goto out;
        }
        free(cur);
        cur = next;
    }
    af->target = cur;
    cur = NULL;
out:
    free(link);
    free(cur);
    return rc;
}

/* The temporary file beside af->target: ".BASE.tmp.XXXXXX", or "TARGET.part". */
static ds_rc open_tmp(ds_afile *af, mode_t mode, ds_err *err)
{
    const char *t = af->target;
    size_t dl = dir_len(t), bl = strlen(t + dl);
    if (af->flags & DS_AFILE_PART) {
        if (!(af->tmp = join(t, dl + bl, ".part", 5)))
            return ds_fail(err, DS_ENOMEM, "out of memory writing '%s'", af->path);
        af->fd = open(af->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, mode);
        if (af->fd < 0) {
            ds_rc rc = ds_fail(err, DS_EIO, "cannot write '%s': creating '%s' failed: %s", af->path, af->tmp,
                               strerror(errno));
            free(af->tmp);
            af->tmp = NULL;
            return rc;
        }
        return DS_OK;
    }
    size_t len = dl + 1 + bl + sizeof TMP_TAG - 1 + TMP_RANDOM;
    if (!(af->tmp = malloc(len + 1)))
        return ds_fail(err, DS_ENOMEM, "out of memory writing '%s'", af->path);
    memcpy(af->tmp, t, dl);
    af->tmp[dl] = '.';   /* hidden: out of globs and of the spool scanners while it exists */
    memcpy(af->tmp + dl + 1, t + dl, bl);
    memcpy(af->tmp + dl + 1 + bl, TMP_TAG, sizeof TMP_TAG - 1);
    af->tmp[len] = '\0';
    static _Atomic uint64_t counter;
    for (int i = 0; i < TMP_TRIES; i++) {
        uint8_t r[TMP_RANDOM];
        if (getrandom(r, sizeof r, GRND_NONBLOCK) != (ssize_t)sizeof r) {   /* no entropy yet: mix */
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            uint64_t x = (uint64_t)ts.tv_nsec ^ ((uint64_t)getpid() << 32) ^ atomic_fetch_add(&counter, 1) * 0x9e3779b97f4a7c15u;
            for (int k = 0; k < TMP_RANDOM; k++, x >>= 8)
                r[k] = (uint8_t)x;
        }
        for (int k = 0; k < TMP_RANDOM; k++)
            af->tmp[len - TMP_RANDOM + k] = alnum[r[k] % (sizeof alnum - 1)];
        af->fd = open(af->tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
        if (af->fd >= 0)
            return DS_OK;
        if (errno != EEXIST)
            break;
    }
    af->tmp[dl > 1 ? dl - 1 : dl] = '\0';   /* the directory, without its last '/' */
    ds_rc rc = ds_fail(err, DS_EIO, "cannot write '%s': cannot create a temporary file in '%s': %s", af->path,
                       dl ? af->tmp : ".", errno == EEXIST ? "every name tried exists" : strerror(errno));
    free(af->tmp);
    af->tmp = NULL;
    return rc;
}

static void release(ds_afile *af)
{
    if (af->stream)
        fclose(af->stream);
    else if (af->fd >= 0)
        close(af->fd);
    if (af->tmp)
        unlink(af->tmp);
    free(af->tmp);
    free(af->target);
    free(af->path);
    memset(af, 0, sizeof *af);
    af->fd = -1;
}

void ds_afile_abort(ds_afile *af)
{
    if (af && af->live)
        release(af);
}

ds_rc ds_afile_open(ds_afile *af, const char *path, mode_t mode, unsigned flags, ds_err *err)
{
    ds_rc rc = DS_OK;
    struct stat st;
    int exists = 0, magic = 0;
    memset(af, 0, sizeof *af);
    af->fd = -1;
    af->flags = flags;
    af->live = 1;   /* so that release() below frees what is set */
    if (!path || !*path) {
        rc = ds_fail(err, DS_EINVAL, "no output file name given");
        goto out;
    }
    if (!(af->path = strdup(path))) {
        rc = ds_fail(err, DS_ENOMEM, "out of memory writing '%s'", path);
        goto out;
    }
    if ((rc = resolve(af, &exists, &magic, &st, err)) != DS_OK)
        goto out;
    if (magic) {
        /* /dev/stdout and the like: what the descriptor is (a pipe, a terminal, or a file the
         * shell opened with > or >>) is written through, appending as the descriptor would */
        af->fd = open(af->target, O_WRONLY | O_APPEND | O_NOCTTY | O_CLOEXEC);
        if (af->fd < 0)
            rc = ds_fail(err, DS_EIO, "cannot write '%s': %s", path, strerror(errno));
        af->through = 1;
        goto out;
    }
    if (!af->target[dir_len(af->target)]) {
        rc = ds_fail(err, DS_EINVAL, "'%s' names a directory, not a file", path);
        goto out;
    }
    if (exists && S_ISDIR(st.st_mode)) {
        rc = ds_fail(err, DS_EINVAL, "'%s' is a directory, not a file", path);
        goto out;
    }
    if (exists && S_ISSOCK(st.st_mode)) {
        rc = ds_fail(err, DS_EINVAL, "'%s' is a socket; darkscope writes files, devices and FIFOs", path);
        goto out;
    }
    if (exists && (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) || S_ISFIFO(st.st_mode))) {
        /* through, as `>` does; O_NOFOLLOW: resolve() saw no link here and none is followed now.
         * A FIFO's open blocks until a reader comes, as with the shell. */
        af->fd = open(af->target, O_WRONLY | O_NOCTTY | O_NOFOLLOW | O_CLOEXEC);
        if (af->fd < 0) {
            rc = ds_fail(err, DS_EIO, "cannot write '%s': %s", path, strerror(errno));
            goto out;
        }
        struct stat now;
        if (fstat(af->fd, &now) == 0 && S_ISREG(now.st_mode)) {   /* became a file meanwhile */
            close(af->fd);
            af->fd = -1;
            st = now;
        } else {
            af->through = 1;
            goto out;
        }
    }
    if ((rc = open_tmp(af, mode, err)) != DS_OK)
        goto out;
    if (exists) {
        /* the file it replaces keeps its owner (best effort: only root may give a file away)
         * and, unless told otherwise, its mode; chown first, as it may clear set-id bits */
        if (st.st_uid != geteuid() || st.st_gid != getegid())
            (void)!fchown(af->fd, st.st_uid, st.st_gid);
        if (!(flags & DS_AFILE_EXACT_MODE))
            mode = st.st_mode & 07777;
    }
    if ((exists || (flags & DS_AFILE_EXACT_MODE)) && fchmod(af->fd, mode) != 0) {
        rc = ds_fail(err, DS_EIO, "cannot write '%s': setting mode %04o on '%s' failed: %s", path, (unsigned)mode,
                     af->tmp, strerror(errno));
        goto out;
    }
out:
    if (rc != DS_OK)
        release(af);
    return rc;
}

ds_rc ds_afile_write(ds_afile *af, const void *p, size_t n, ds_err *err)
{
    const uint8_t *b = p;
    size_t off = 0;
    while (off < n) {
        size_t chunk = n - off > (1u << 30) ? (1u << 30) : n - off;
        ssize_t w = write(af->fd, b + off, chunk);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return ds_fail_at(err, DS_EIO, af->written + off, "cannot write '%s' at byte %zu: %s", af->path,
                              af->written + off, w < 0 ? strerror(errno) : "no progress");
        off += (size_t)w;
    }
    af->written += n;
    return DS_OK;
}

ds_rc ds_afile_stream(ds_afile *af, FILE **out, ds_err *err)
{
    if (!af->stream && !(af->stream = fdopen(af->fd, "w")))
        return ds_fail(err, DS_EIO, "cannot write '%s': %s", af->path, strerror(errno));
    *out = af->stream;
    return DS_OK;
}

ds_rc ds_afile_commit(ds_afile *af, ds_err *err)
{
    ds_rc rc = DS_OK;
    int sync = !(af->flags & DS_AFILE_NOSYNC);
    if (!af->live)
        return ds_fail(err, DS_EINVAL, "internal error: commit of a file not open");
    if (af->stream) {
        int bad = ferror(af->stream) | fflush(af->stream);
        if (bad) {
            rc = ds_fail(err, DS_EIO, "cannot write '%s': %s", af->path, errno ? strerror(errno) : "stream error");
            goto out;
        }
    }
    if (af->through) {
        /* a FIFO or a character device has nothing to sync (and says EINVAL); a disk, or a file
         * reached through /dev/stdout, has */
        struct stat st;
        if (sync && fstat(af->fd, &st) == 0 && (S_ISBLK(st.st_mode) || S_ISREG(st.st_mode)) && fsync(af->fd) != 0 &&
            errno != EINVAL) {
            rc = ds_fail(err, DS_EIO, "cannot write '%s': fsync failed: %s", af->path, strerror(errno));
            goto out;
        }
    } else if (sync && fsync(af->fd) != 0) {
        rc = ds_fail(err, DS_EIO, "cannot write '%s': fsync failed: %s", af->path, strerror(errno));
        goto out;
    }
    int cr = af->stream ? fclose(af->stream) : close(af->fd);
    af->stream = NULL;
    af->fd = -1;
    if (cr != 0) {
        rc = ds_fail(err, DS_EIO, "cannot write '%s': close failed: %s", af->path, strerror(errno));
        goto out;
    }
    if (af->through)
        goto out;
    if (rename(af->tmp, af->target) != 0) {
        rc = ds_fail(err, DS_EIO, "cannot replace '%s' with '%s': %s", af->target, af->tmp, strerror(errno));
        goto out;
    }
    free(af->tmp);
    af->tmp = NULL;
    if (sync) {
        /* the rename is durable only once the directory is; some file systems refuse fsync on a
         * directory, which is not worth failing a finished file for */
        size_t dl = dir_len(af->target);
        char *dir = dl ? join(af->target, dl, "", 0) : NULL;
        int dfd = open(dl ? (dir ? dir : ".") : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
            (void)fsync(dfd);
            close(dfd);
        }
        free(dir);
    }
out:
    release(af);
    return rc;
}

ds_rc ds_afile_write_file(const char *path, const void *p, size_t n, mode_t mode, unsigned flags, ds_err *err)
{
    ds_afile af;
    ds_rc rc = ds_afile_open(&af, path, mode, flags, err);
    if (rc != DS_OK)
        return rc;
    if ((rc = ds_afile_write(&af, p, n, err)) != DS_OK) {
        ds_afile_abort(&af);
        return rc;
    }
    return ds_afile_commit(&af, err);
}
