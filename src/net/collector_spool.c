/* collector_spool.c: the collector's files: its spool (lock and clean-up), the decompression cap,
 * the archive and its retention.
 *
 * The spool holds uploads in progress (NAME.SEQ.XXXXXX.part) and the segment being ingested
 * (NAME-SEQ.pcap.zst).  What a previous run left there was never answered 200, so it is deleted
 * at start-up, which is safe only if no other collector is using the spool: the spool is locked
 * first (flock(2) on SPOOL/collector.lock, which holds the holder's pid), and so is the store's
 * collector role (.STORENAME.collector.lock beside the store: two collectors on one store with
 * two spools would each commit and answer the same segments; a ClickHouse store, which has no
 * directory, keeps the role itself as a lease: store/ch_lease.c, taken in collector.c), and a
 * second collector is refused naming the spool or store and the pid.  The locks go with the
 * process, however it ends.
 *
 * The decompression cap: a 522 KB zstd file can hold 8 GiB of zeros.  Before a segment reaches
 * the writer its decompressed size is counted by decompressing it into a scratch buffer, and the
 * count stops as soon as it passes the limit, so a bomb costs at most the limit's worth of
 * decompression (at --max-ratio 200, 200 times the upload's size), not its declared size.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "net/collector_int.h"

int ds_col_mkdirs(const char *path, mode_t mode)
{
    char tmp[PATH_MAX];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof tmp)
        return -1;
    memcpy(tmp, path, n + 1);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = 0;
        if (mkdir(tmp, mode) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return mkdir(tmp, mode) != 0 && errno != EEXIST ? -1 : 0;
}

/* ---- locks -------------------------------------------------------------------------------- */

/* flock `path` and write our pid into it; -1 with *holder the pid written by the holder (0 when
 * unknown) when another process has it, -2 with errno on another failure. */
static int lock_file(const char *path, int *fd_out, long *holder)
{
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    *holder = 0;
    if (fd < 0)
        return -2;
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        char buf[32] = "";
        ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
        if (n > 0) {
            buf[n] = 0;
            *holder = strtol(buf, NULL, 10);
        }
        close(fd);
        errno = e;
        return e == EWOULDBLOCK ? -1 : -2;
    }
    char pid[32];
    int len = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)len, 0) != len) {
        int e = errno;
        close(fd);
        errno = e;
        return -2;
    }
    *fd_out = fd;
    return 0;
}

ds_rc ds_spool_lock(ds_collector *c, ds_err *err)
{
    char path[PATH_MAX + 64];
    long holder;
    snprintf(path, sizeof path, "%s/collector.lock", c->spool);
    int r = lock_file(path, &c->spool_lock_fd, &holder);
    if (r == -1)
        return ds_fail(err, DS_EBUSY, "spool %s is in use by another collector (pid %ld, lock %s): one collector "
                       "per spool (--spool DIR)", c->spool, holder, path);
    if (r != 0)
        return ds_fail(err, DS_EIO, "spool lock %s: %s", path, strerror(errno));
    /* the store's collector role: a hidden file beside the store (not STORE*, which is SQLite's).
     * A ClickHouse store (a URL) has no directory, and collectors on other hosts could not see a
     * file anyway: it keeps the role itself (ds_store_role_take, once the store is open). */
    const char *store = c->o.cfg->store_path, *slash = strrchr(store, '/');
    if (strstr(store, "://"))
        return DS_OK;
    if (slash)
        snprintf(path, sizeof path, "%.*s/.%s.collector.lock", (int)(slash - store), store, slash + 1);
    else
        snprintf(path, sizeof path, ".%s.collector.lock", store);
    r = lock_file(path, &c->store_lock_fd, &holder);
    if (r == -1)
        return ds_fail(err, DS_EBUSY, "store %s is in use by another collector (pid %ld, lock %s): one collector "
                       "per store", store, holder, path);
    if (r != 0)
        return ds_fail(err, DS_EIO, "store lock %s: %s", path, strerror(errno));
    return DS_OK;
}

void ds_spool_unlock(ds_collector *c)
{
    if (c->spool_lock_fd >= 0)
        close(c->spool_lock_fd);
    if (c->store_lock_fd >= 0)
        close(c->store_lock_fd);
    c->spool_lock_fd = c->store_lock_fd = -1;
}

/* Remove what a previous run left in the spool: never answered 200, so the sensors still
 * have those segments and will send them again.  Only with the spool locked. */
void ds_spool_clean(const char *spool)
{
    DIR *d = opendir(spool);
    struct dirent *e;
    unsigned n = 0;
    if (!d)
        return;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        int part = len > 5 && strcmp(e->d_name + len - 5, ".part") == 0;
        int seg = len > 9 && strcmp(e->d_name + len - 9, ".pcap.zst") == 0;
        if (!part && !seg)
            continue;
        char p[PATH_MAX];
        if ((size_t)snprintf(p, sizeof p, "%s/%s", spool, e->d_name) < sizeof p && unlink(p) == 0)
            n++;
    }
    closedir(d);
    if (n)
        fprintf(stderr, "darkscope collector: removed %u unfinished uploads from %s\n", n, spool);
}

/* ---- the decompression cap ------------------------------------------------------------------ */

#define INFLATE_IN (1 << 16)
#define INFLATE_OUT (1 << 17)

/* zstd (RFC 8878): every frame, skippable ones included, as the ingest reads them.  Bad data
 * ends the count: the ingest reports it. */
static int zstd_count(int fd, uint8_t *in, uint8_t *out, uint64_t limit, uint64_t *total)
{
    ZSTD_DStream *zd = ZSTD_createDStream();
    int over = 0;
    if (!zd || ZSTD_isError(ZSTD_initDStream(zd)))
        goto out;
    for (;;) {
        ssize_t n = read(fd, in, INFLATE_IN);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        ZSTD_inBuffer ib = { in, (size_t)n, 0 };
        while (ib.pos < ib.size) {
            ZSTD_outBuffer ob = { out, INFLATE_OUT, 0 };
            size_t zr = ZSTD_decompressStream(zd, &ob, &ib);
            if (ZSTD_isError(zr))
                goto out;
            *total += ob.pos;
            if (*total > limit) {
                over = 1;
                goto out;
            }
            if (ob.pos == 0 && ib.pos == ib.size)
                break;
        }
        /* flush what the decoder still holds for this input */
        for (;;) {
            ZSTD_inBuffer none = { in, 0, 0 };
            ZSTD_outBuffer ob = { out, INFLATE_OUT, 0 };
            size_t zr = ZSTD_decompressStream(zd, &ob, &none);
            if (ZSTD_isError(zr) || ob.pos == 0)
                break;
            *total += ob.pos;
            if (*total > limit) {
                over = 1;
                goto out;
            }
        }
    }
out:
    ZSTD_freeDStream(zd);
    return over;
}

/* gzip (RFC 1952), member after member as gzip(1) reads them. */
static int gzip_count(int fd, uint8_t *in, uint8_t *out, uint64_t limit, uint64_t *total)
{
    z_stream zs;
    int over = 0;
    memset(&zs, 0, sizeof zs);
    if (inflateInit2(&zs, 15 + 16) != Z_OK)
        return 0;
    for (;;) {
        ssize_t n = read(fd, in, INFLATE_IN);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        zs.next_in = in;
        zs.avail_in = (uInt)n;
        while (zs.avail_in > 0) {
            zs.next_out = out;
            zs.avail_out = INFLATE_OUT;
            int zr = inflate(&zs, Z_NO_FLUSH);
            *total += INFLATE_OUT - zs.avail_out;
            if (*total > limit) {
                over = 1;
                goto out;
            }
            if (zr == Z_STREAM_END) {
                if (zs.avail_in > 0 && zs.next_in[0] == 0x1f)
                    inflateReset(&zs);
                else
                    goto out;   /* padding or trailing data: the ingest judges it */
            } else if (zr != Z_OK && zr != Z_BUF_ERROR) {
                goto out;
            } else if (zr == Z_BUF_ERROR && zs.avail_out == INFLATE_OUT) {
                break;
            }
        }
    }
out:
    inflateEnd(&zs);
    return over;
}

int ds_spool_inflated_size(const char *path, uint64_t limit, uint64_t *total)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC), over = 0;
    uint8_t magic[4], *in = NULL, *out = NULL;
    *total = 0;
    if (fd < 0)
        return 0;   /* the ingest will say what is wrong */
    ssize_t m = pread(fd, magic, sizeof magic, 0);
    struct stat st;
    if (m >= 4 && magic[0] == 0x28 && magic[1] == 0xb5 && magic[2] == 0x2f && magic[3] == 0xfd) {
        if ((in = malloc(INFLATE_IN)) && (out = malloc(INFLATE_OUT)))
            over = zstd_count(fd, in, out, limit, total);
    } else if (m >= 2 && magic[0] == 0x1f && magic[1] == 0x8b) {
        if ((in = malloc(INFLATE_IN)) && (out = malloc(INFLATE_OUT)))
            over = gzip_count(fd, in, out, limit, total);
    } else if (fstat(fd, &st) == 0) {
        *total = (uint64_t)st.st_size;   /* plain: its size is its size */
        over = *total > limit;
    }
    free(in);
    free(out);
    close(fd);
    return over;
}

/* ---- archive ----------------------------------------------------------------------------- */

static int copy_file(const char *from, const char *to)
{
    int in = open(from, O_RDONLY | O_CLOEXEC), out = -1, rc = -1;
    char buf[1 << 16];
    if (in < 0 || (out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0)
        goto out;
    for (;;) {
        ssize_t r = read(in, buf, sizeof buf);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            goto out;
        if (r == 0)
            break;
        for (ssize_t off = 0; off < r;) {
            ssize_t w = write(out, buf + off, (size_t)(r - off));
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0)
                goto out;
            off += w;
        }
    }
    rc = fsync(out);
out:
    if (in >= 0)
        close(in);
    if (out >= 0 && close(out) != 0)
        rc = -1;
    if (rc != 0 && out >= 0)
        unlink(to);
    return rc;
}

/* ARCHIVE/SENSOR/YYYYMMDD/SEQ-HASH.pcap.zst (upload day, UTC).  A failure is logged: the
 * segment is committed either way, and it stays in SPOOL/unarchived/ for the operator. */
void ds_spool_archive(ds_collector *c, const upload *u, const char *path)
{
    char dir[PATH_MAX], dest[PATH_MAX + 128], day[16];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(day, sizeof day, "%Y%m%d", &tm);
    snprintf(dir, sizeof dir, "%.3900s/%s/%s", c->o.archive_dir, u->sensor, day);
    snprintf(dest, sizeof dest, "%s/%020llu-%s.pcap.zst", dir, (unsigned long long)u->seq, u->hash_hex);
    if (ds_col_mkdirs(dir, 0750) == 0 && (rename(path, dest) == 0 || (errno == EXDEV && copy_file(path, dest) == 0)))
        return;
    int e = errno;
    snprintf(dir, sizeof dir, "%.3900s/unarchived", c->spool);
    snprintf(dest, sizeof dest, "%s/%s-%020llu-%s.pcap.zst", dir, u->sensor, (unsigned long long)u->seq, u->hash_hex);
    int kept = ds_col_mkdirs(dir, 0700) == 0 && rename(path, dest) == 0;
    fprintf(stderr, "darkscope collector: sensor %s segment %llu: cannot archive into %s: %s; %s\n", u->sensor,
            (unsigned long long)u->seq, c->o.archive_dir, strerror(e), kept ? dest : "deleted");
}

/* Files under dir (two levels: SENSOR/DAY/) older than cutoff go; then empty day dirs. */
static void sweep_dir(const char *dir, time_t cutoff, int depth)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    if (!d)
        return;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char p[PATH_MAX];
        struct stat st;
        if ((size_t)snprintf(p, sizeof p, "%s/%s", dir, e->d_name) >= sizeof p || lstat(p, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode) && depth < 2) {
            sweep_dir(p, cutoff, depth + 1);
            if (depth == 1)
                rmdir(p);   /* fails while it holds anything: that is the test for "empty" */
        } else if (S_ISREG(st.st_mode) && depth == 2 && st.st_mtime < cutoff) {
            if (unlink(p) != 0)
                fprintf(stderr, "darkscope collector: retention: cannot delete %s: %s\n", p, strerror(errno));
        }
    }
    closedir(d);
}

void ds_collector_housekeep(ds_collector *c)
{
    if (!c->o.archive_dir || c->o.retention_days <= 0)
        return;
    sweep_dir(c->o.archive_dir, time(NULL) - (time_t)c->o.retention_days * 86400, 0);
}
