/* sqlite_chunkfile.c: the SQLite backend's chunk file, PATH-chunks (the design and the
 * transaction protocol are at the top of store_sqlite.c). */
#include "store/sqlite_engine.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- the chunk file (see the design note at the top) ------------------------------------- */

/* The committed length of the chunk file (meta.chunks_end; 0 before the first frame). */
ds_rc ds_sqext_committed(sqlite_store *s, uint64_t *end, ds_err *err)
{
    char v[32];
    ds_rc rc = ds_store_meta_get(&s->base, "chunks_end", v, sizeof v, err);
    *end = 0;
    if (rc == DS_ENOTFOUND)
        return DS_OK;
    if (rc != DS_OK)
        return rc;
    char *e = NULL;
    errno = 0;
    unsigned long long x = strtoull(v, &e, 10);
    if (!*v || *e || errno || x > (unsigned long long)INT64_MAX)
        return ds_fail(err, DS_ESTORE, "store %s: meta.chunks_end is '%s', not a length", ds_sq_name(s), v);
    *end = x;
    return DS_OK;
}

/* Ready the chunk file for this transaction's first frame: open it for writing, and cut off
 * what a killed or rolled-back writer left past the committed length. */
ds_rc ds_sqext_begin(sqlite_store *s, ds_err *err)
{
    uint64_t end;
    struct stat st;
    ds_rc rc;
    if (s->ext_start != NO_TX_END)
        return DS_OK;
    if (s->ext_fd >= 0 && !s->ext_writable) {
        close(s->ext_fd);
        s->ext_fd = -1;
    }
    if (s->ext_fd < 0) {
        if ((s->ext_fd = open(s->ext_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644)) < 0)
            return ds_fail(err, DS_ESTORE, "store %s: cannot open %s: %s", ds_sq_name(s), s->ext_path, strerror(errno));
        s->ext_writable = 1;
    }
    if ((rc = ds_sqext_committed(s, &end, err)) != DS_OK)
        return rc;
    if (fstat(s->ext_fd, &st) != 0)
        return ds_fail(err, DS_ESTORE, "store %s: %s: %s", ds_sq_name(s), s->ext_path, strerror(errno));
    if ((uint64_t)st.st_size < end)
        return ds_fail(err, DS_ESTORE, "store %s: %s holds %lld bytes but the store's chunks reach %llu: it was "
                       "cut short or replaced", ds_sq_name(s), s->ext_path, (long long)st.st_size, (unsigned long long)end);
    if ((uint64_t)st.st_size > end && ftruncate(s->ext_fd, (off_t)end) != 0)
        return ds_fail(err, DS_ESTORE, "store %s: cannot cut %s back to %llu bytes: %s", ds_sq_name(s), s->ext_path,
                       (unsigned long long)end, strerror(errno));
    s->ext_start = s->ext_end = end;
    return DS_OK;
}

/* Append one frame; *off: where it went. */
ds_rc ds_sqext_append(sqlite_store *s, const uint8_t *p, size_t n, uint64_t *off, ds_err *err)
{
    ds_rc rc = ds_sqext_begin(s, err);
    if (rc != DS_OK)
        return rc;
    if (n > (uint64_t)INT64_MAX - s->ext_end)
        return ds_fail(err, DS_ESTORE, "store %s: %s would grow past 2^63 bytes", ds_sq_name(s), s->ext_path);
    for (size_t done = 0; done < n;) {
        ssize_t w = pwrite(s->ext_fd, p + done, n - done, (off_t)(s->ext_end + done));
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return ds_fail(err, DS_ESTORE, "store %s: writing %s: %s", ds_sq_name(s), s->ext_path,
                           w < 0 ? strerror(errno) : "no space written");
        done += (size_t)w;
    }
    *off = s->ext_end;
    s->ext_end += n;
    return DS_OK;
}

/* This transaction appended frames to the chunk file. */
int ds_sqext_wrote(const sqlite_store *s) { return s->ext_start != NO_TX_END && s->ext_end != s->ext_start; }

/* Forget this transaction's frames (they were never pointed at by a committed row).  Call it
 * while the transaction still holds the write lock, before ROLLBACK: the moment the lock is
 * released another writer may append at the same offset, and cutting then would destroy its
 * frames. */
void ds_sqext_cut_back(sqlite_store *s)
{
    if (ds_sqext_wrote(s) && s->ext_fd >= 0)
        (void)!ftruncate(s->ext_fd, (off_t)s->ext_start);   /* best effort: the next writer cuts too */
    s->ext_start = NO_TX_END;
}

/* Before COMMIT: the frames on disk, then the committed length (and the version that says a
 * chunk file exists) in the same transaction as the rows. */
ds_rc ds_sqext_commit(sqlite_store *s, ds_err *err)
{
    char v[32];
    ds_rc rc;
    if (!ds_sqext_wrote(s))
        return DS_OK;
    if (fdatasync(s->ext_fd) != 0)
        return ds_fail(err, DS_ESTORE, "store %s: flushing %s: %s", ds_sq_name(s), s->ext_path, strerror(errno));
    snprintf(v, sizeof v, "%llu", (unsigned long long)s->ext_end);
    if ((rc = ds_store_meta_set(&s->base, "chunks_end", v, err)) != DS_OK)
        return rc;
    if (s->schema < 3 && (rc = ds_store_meta_set(&s->base, "schema_version", "3", err)) != DS_OK)
        return rc;
    return DS_OK;
}

/* The frame a CODEC_ZSTD_FILE row points at, read into rbuf: DS_OK with *z, *zlen set, or
 * DS_ESTORE naming what is wrong ("damaged" for a bad locator or bytes that are not there). */
ds_rc ds_sqext_read(sqlite_store *s, const uint8_t *loc, size_t loclen, int kind, int day,
                      const uint8_t **z, size_t *zlen, ds_err *err)
{
    if (loclen != LOCATOR_LEN || !s->ext_path)
        return ds_fail(err, DS_ESTORE, "store %s: chunk of kind %d on day %d is damaged (a locator of %zu bytes)",
                       ds_sq_name(s), kind, day, loclen);
    uint64_t off = ds_sq_get_le64(loc), len = ds_sq_get_le64(loc + 8);
    if (len == 0 || len > (uint64_t)INT32_MAX || off > (uint64_t)INT64_MAX - len)
        return ds_fail(err, DS_ESTORE, "store %s: chunk of kind %d on day %d is damaged (it points at %llu bytes at %llu)",
                       ds_sq_name(s), kind, day, (unsigned long long)len, (unsigned long long)off);
    if (s->ext_fd < 0 && (s->ext_fd = open(s->ext_path, O_RDONLY | O_CLOEXEC)) < 0)
        return ds_fail(err, DS_ESTORE, "store %s: cannot open its chunk file %s: %s (a store is the database and "
                       "its -chunks file together)", ds_sq_name(s), s->ext_path, strerror(errno));
    if (ds_sq_buf_need(&s->rbuf, &s->rcap, (size_t)len) != 0)
        return ds_fail(err, DS_ENOMEM, "store: out of memory reading a chunk");
    for (size_t done = 0; done < len;) {
        ssize_t r = pread(s->ext_fd, s->rbuf + done, (size_t)len - done, (off_t)(off + done));
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return ds_fail(err, DS_ESTORE, "store %s: reading %s: %s", ds_sq_name(s), s->ext_path, strerror(errno));
        if (r == 0)
            return ds_fail(err, DS_ESTORE, "store %s: chunk of kind %d on day %d is damaged (%llu bytes at %llu lie past "
                           "the end of %s)", ds_sq_name(s), kind, day, (unsigned long long)len, (unsigned long long)off,
                           s->ext_path);
        done += (size_t)r;
    }
    *z = s->rbuf;
    *zlen = (size_t)len;
    return DS_OK;
}
