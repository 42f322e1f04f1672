/* reader.c: open a capture, pick the input path and the format, and run the hash.
 *
 * A plain regular file is mmap'd (MAP_PRIVATE, MADV_SEQUENTIAL) and the format parsers walk
 * the mapping directly: records are handed out zero-copy and stay valid until close.
 * Anything else (stdin, pipes, FIFOs, gzip, zstd, or a file mmap refuses) goes through
 * stream.c, which decodes into a bounded, growable window.  Containers and formats are
 * recognised by magic, never by file name (gzip RFC 1952, zstd RFC 8878, pcap
 * draft-ietf-opsawg-pcap, pcapng draft-ietf-opsawg-pcapng).
 *
 * The dedupe hash is XXH3-128 over the bytes as stored on disk.  For a mapped file we hash
 * the mapping in 1 MiB steps just behind the cursor (the bytes are still in cache, and one
 * compare per record decides when), so hashing costs a fraction of one pass over memory.
 * Streams hash each raw chunk as it is read.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "capture/reader_int.h"

static const uint8_t GZIP_MAGIC[2] = { 0x1f, 0x8b };
static const uint8_t ZSTD_MAGIC[4] = { 0x28, 0xb5, 0x2f, 0xfd };

ds_rc ds_win_fill(ds_reader *r, size_t need, ds_err *err)
{
    if (r->mapped)
        return DS_OK;
    if (need > DS_STREAM_WIN_MAX)
        return ds_fail_at(err, DS_ENOMEM, win_offset(r),
                          "%s: a record at offset %llu needs %zu bytes, more than the %u-byte stream buffer",
                          r->path, (unsigned long long)win_offset(r), need, DS_STREAM_WIN_MAX);
    /* Slide the unread tail (at most one partial record) to the front. */
    if (r->win_pos > 0) {
        size_t left = r->win_len - r->win_pos;
        memmove(r->buf, r->buf + r->win_pos, left);
        r->win_off += r->win_pos;
        r->win_len = left;
        r->win_pos = 0;
    }
    if (need > r->buf_cap) {
        size_t cap = r->buf_cap ? r->buf_cap : DS_STREAM_WIN_INIT;
        while (cap < need)
            cap *= 2;
        if (cap > DS_STREAM_WIN_MAX)
            cap = DS_STREAM_WIN_MAX;
        uint8_t *nb = realloc(r->buf, cap);
        if (!nb)
            return ds_fail(err, DS_ENOMEM, "%s: cannot grow the read buffer to %zu bytes", r->path, cap);
        r->buf = nb;
        r->buf_cap = cap;
        r->win = nb;
    }
    while (r->win_len < need && !r->stream_end) {
        size_t got = 0;
        ds_rc rc = ds_stream_produce(r, r->buf + r->win_len, r->buf_cap - r->win_len, &got, err);
        if (rc != DS_OK)
            return rc;
        r->win_len += got;
    }
    return DS_OK;
}

void ds_hash_catch_up(ds_reader *r)
{
    if (!r->mapped)
        return;
    size_t upto = r->win_pos;
    if (upto > r->hashed) {
        XXH3_128bits_update(r->hash, (const uint8_t *)r->map + r->hashed, upto - r->hashed);
        r->hashed = upto;
    }
    r->hash_mark = r->hashed + DS_HASH_CHUNK;
}

static void hash_finish(ds_reader *r)
{
    if (r->mapped && !r->no_hash && r->hashed < r->map_len) {
        XXH3_128bits_update(r->hash, (const uint8_t *)r->map + r->hashed, r->map_len - r->hashed);
        r->hashed = r->map_len;
    }
}

ds_rc ds_reader_end(ds_reader *r, ds_err *err)
{
    if (r->stream_cut)
        return ds_fail_at(err, DS_ETRUNC, win_offset(r),
                          "%s: %s data ends early after %llu compressed bytes (cut short?)", r->path,
                          r->container == DS_CONT_GZIP ? "gzip" : "zstd", (unsigned long long)r->raw_consumed);
    return DS_EOF;
}

ds_rc ds_reader_cut(ds_reader *r, const char *what, ds_err *err)
{
    uint64_t off = win_offset(r);
    return ds_fail_at(err, DS_ETRUNC, off, "%s: capture ends inside a %s at offset %llu (cut short?)", r->path,
                      what, (unsigned long long)off);
}

/* Try to map a plain regular file.  Returns 1 when mapped, 0 to fall back to reading. */
static int try_map(ds_reader *r)
{
    if (r->file_size == 0 || r->file_size > SIZE_MAX)
        return 0;
    void *m = mmap(NULL, (size_t)r->file_size, PROT_READ, MAP_PRIVATE, r->fd, 0);
    if (m == MAP_FAILED)
        return 0;
    const uint8_t *b = m;
    if ((r->file_size >= 2 && memcmp(b, GZIP_MAGIC, 2) == 0) ||
        (r->file_size >= 4 && memcmp(b, ZSTD_MAGIC, 4) == 0)) {
        munmap(m, (size_t)r->file_size); /* compressed: the stream path reads it */
        return 0;
    }
    (void)madvise(m, (size_t)r->file_size, MADV_SEQUENTIAL);
    r->map = m;
    r->map_len = (size_t)r->file_size;
    r->mapped = 1;
    r->win = b;
    r->win_len = r->map_len;
    r->stream_end = 1;
    return 1;
}

ds_rc ds_reader_open(ds_reader **out, const char *path, ds_err *err)
{
    return ds_reader_open_flags(out, path, 0, err);
}

/* Open path, or with same_as a second reader of the file same_as reads: the same inode (through
 * /proc/self/fd, whatever the path names now) up to the same size. */
static ds_rc open_reader(ds_reader **out, const char *path, const ds_reader *same_as, unsigned flags, ds_err *err)
{
    ds_rc rc = DS_OK;
    ds_reader *r = NULL;
    *out = NULL;
    if (!path)
        return ds_fail(err, DS_EINVAL, "no capture file given");

    r = calloc(1, sizeof *r);
    /* messages name standard input in words: "- is an empty file" reads like a typo */
    if (!r || !(r->path = strdup(strcmp(path, "-") == 0 ? "standard input" : path)) ||
        !(r->hash = XXH3_createState())) {
        rc = ds_fail(err, DS_ENOMEM, "%s: out of memory opening the capture", path);
        goto out;
    }
    r->fd = -1;
    r->hash_mark = SIZE_MAX;
    r->no_hash = (flags & DS_READER_NO_HASH) != 0;
    XXH3_128bits_reset(r->hash);

    struct stat st;
    if (same_as) {
        struct stat first;
        char self[64];
        snprintf(self, sizeof self, "/proc/self/fd/%d", same_as->fd);
        r->fd = open(self, O_RDONLY | O_CLOEXEC);
        if (r->fd < 0)   /* no /proc: the path, checked below to be the same file */
            r->fd = open(path, O_RDONLY | O_CLOEXEC);
        if (r->fd < 0 || fstat(r->fd, &st) != 0 || fstat(same_as->fd, &first) != 0) {
            rc = ds_fail(err, DS_EIO, "cannot open %s again: %s", path, strerror(errno));
            goto out;
        }
        if (st.st_dev != first.st_dev || st.st_ino != first.st_ino || !S_ISREG(st.st_mode) ||
            (uint64_t)st.st_size < same_as->file_size) {
            rc = ds_fail(err, DS_EIO, "%s was replaced or shortened while it was being read", path);
            goto out;
        }
        st.st_size = (off_t)same_as->file_size;
        if (same_as->prehashed) {   /* the first reader's hash covers this one's bytes */
            r->no_hash = 1;
            r->prehashed = 1;
            memcpy(r->prehash, same_as->prehash, sizeof r->prehash);
        }
    } else if (strcmp(path, "-") == 0) {
        r->fd = STDIN_FILENO;
        r->is_stdin = 1;
    } else {
        r->fd = open(path, O_RDONLY | O_CLOEXEC);
        if (r->fd < 0) {
            rc = ds_fail(err, DS_EIO, "cannot open %s: %s", path, strerror(errno));
            goto out;
        }
    }
    if (!same_as && fstat(r->fd, &st) != 0) {
        rc = ds_fail(err, DS_EIO, "cannot stat %s: %s", path, strerror(errno));
        goto out;
    }
    if (S_ISDIR(st.st_mode)) {
        rc = ds_fail(err, DS_EIO, "%s is a directory, not a capture file", path);
        goto out;
    }
    if (S_ISREG(st.st_mode)) {
        r->file_size = (uint64_t)st.st_size;
        if (r->file_size == 0) {
            rc = ds_fail(err, DS_EFORMAT, "%s is an empty file", path);
            goto out;
        }
    }
    if (S_ISREG(st.st_mode) && !(flags & DS_READER_NO_MMAP) && try_map(r)) {
        r->container = DS_CONT_PLAIN;
        r->hash_mark = r->no_hash ? SIZE_MAX : DS_HASH_CHUNK;
    } else {
        rc = ds_stream_open(r, err);
        if (rc != DS_OK)
            goto out;
    }

    rc = win_need(r, 4, err);
    if (rc != DS_OK)
        goto out;
    if (win_left(r) == 0 && r->stream_cut) {
        rc = ds_fail(err, DS_EFORMAT, "%s: %s data ends early, before any capture data (cut short?)", path,
                     r->container == DS_CONT_GZIP ? "gzip" : "zstd");
        goto out;
    }
    if (win_left(r) == 0) {
        rc = ds_fail(err, DS_EFORMAT, "%s is an empty file%s", path,
                     r->container == DS_CONT_PLAIN ? "" : " (after decompression)");
        goto out;
    }
    if (win_left(r) < 4) {
        rc = ds_fail(err, DS_EFORMAT, "%s is not a pcap or pcapng file (only %zu bytes)", path, win_left(r));
        goto out;
    }
    const uint8_t *m = r->win + r->win_pos;
    uint32_t magic_be = ds_rd32(m, 1), magic_le = ds_rd32(m, 0);
    if (magic_be == 0x0A0D0D0Au) {
        r->format = DS_CAP_PCAPNG;
        rc = ds_pcapng_open(r, err);
    } else if (magic_le == 0xa1b2c3d4u || magic_le == 0xa1b23c4du || magic_be == 0xa1b2c3d4u ||
               magic_be == 0xa1b23c4du) {
        r->format = DS_CAP_PCAP;
        rc = ds_pcap_open(r, err);
    } else {
        rc = ds_fail(err, DS_EFORMAT, "%s is not a pcap or pcapng file (magic 0x%08x)", path, magic_be);
    }
out:
    if (rc != DS_OK) {
        ds_reader_close(r);
        return rc;
    }
    *out = r;
    return DS_OK;
}

ds_rc ds_reader_open_flags(ds_reader **out, const char *path, unsigned flags, ds_err *err)
{
    return open_reader(out, path, NULL, flags, err);
}

ds_rc ds_reader_open_again(ds_reader **out, const ds_reader *r, unsigned flags, ds_err *err)
{
    if (r->is_stdin || !r->file_size)
        return ds_fail(err, DS_EINVAL, "%s is not a regular file: it can be read only once", r->path);
    return open_reader(out, r->path, r, flags, err);
}

void ds_reader_no_hash(ds_reader *r)
{
    r->no_hash = 1;
    r->hash_mark = SIZE_MAX;
}

ds_rc ds_reader_next(ds_reader *r, ds_record *rec, ds_err *err)
{
    if (r->done) {
        if (err)
            *err = r->done_err;
        return r->done_rc;
    }
    ds_rc rc = r->format == DS_CAP_PCAP ? ds_pcap_next(r, rec, err) : ds_pcapng_next(r, rec, err);
    if (rc == DS_OK) {
        if (r->win_pos >= r->hash_mark)
            ds_hash_catch_up(r);
        return DS_OK;
    }
    /* Any end (clean, cut short, or bad) is final: hash the rest so the key covers the file. */
    hash_finish(r);
    r->done = 1;
    r->done_rc = rc;
    if (err)
        r->done_err = *err;
    else
        ds_fail(&r->done_err, rc, "%s: %s", r->path, ds_rc_name(rc));
    return rc;
}

int ds_reader_stable(const ds_reader *r) { return r->mapped; }
ds_capfmt ds_reader_format(const ds_reader *r) { return r->format; }
ds_container ds_reader_container(const ds_reader *r) { return r->container; }
const char *ds_reader_path(const ds_reader *r) { return r->path; }
uint64_t ds_reader_size(const ds_reader *r) { return r->file_size; }

int ds_reader_capture_span(const ds_reader *r, uint64_t *from_ns, uint64_t *to_ns)
{
    if (!r->isb_first_ns)
        return 0;
    *from_ns = r->isb_first_ns;
    *to_ns = r->isb_last_ns;
    return 1;
}

uint64_t ds_reader_consumed(const ds_reader *r)
{
    return r->mapped ? (uint64_t)r->win_pos : r->raw_consumed;
}

/* XXH3-128 of bytes [0, len) of r's file through pread; prefix (may be NULL): of the first
 * min(len, DS_PREFIX_HASH_LEN). */
static ds_rc hash_range(const ds_reader *r, uint64_t len, uint8_t full[16], uint8_t *prefix, ds_err *err)
{
    enum { STEP = 1 << 20 };
    ds_rc rc = DS_OK;
    uint8_t *buf = malloc(STEP);
    XXH3_state_t *st = XXH3_createState(), *pst = XXH3_createState();
    XXH128_canonical_t c;
    if (!buf || !st || !pst) {
        rc = ds_fail(err, DS_ENOMEM, "%s: out of memory hashing the file", r->path);
        goto out;
    }
    XXH3_128bits_reset(st);
    XXH3_128bits_reset(pst);
    for (uint64_t off = 0; off < len;) {
        size_t want = len - off < STEP ? (size_t)(len - off) : STEP;
        ssize_t got = pread(r->fd, buf, want, (off_t)off);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0) {
            rc = ds_fail(err, DS_EIO, "%s: reading it to hash: %s", r->path,
                         got < 0 ? strerror(errno) : "the file became shorter");
            goto out;
        }
        if (off < DS_PREFIX_HASH_LEN)
            XXH3_128bits_update(pst, buf, (size_t)got < DS_PREFIX_HASH_LEN - off ? (size_t)got
                                                                                  : (size_t)(DS_PREFIX_HASH_LEN - off));
        XXH3_128bits_update(st, buf, (size_t)got);
        off += (uint64_t)got;
    }
    XXH128_canonicalFromHash(&c, XXH3_128bits_digest(st));
    memcpy(full, c.digest, 16);
    if (prefix) {
        XXH128_canonicalFromHash(&c, XXH3_128bits_digest(pst));
        memcpy(prefix, c.digest, 16);
    }
out:
    free(buf);
    if (st)
        XXH3_freeState(st);
    if (pst)
        XXH3_freeState(pst);
    return rc;
}

ds_rc ds_reader_prehash(ds_reader *r, uint8_t full[16], uint8_t prefix[16], ds_err *err)
{
    if (r->is_stdin || !r->file_size)
        return ds_fail(err, DS_EINVAL, "%s is not a regular file: it can be read only once", r->path);
    ds_rc rc = hash_range(r, r->file_size, full, prefix, err);
    if (rc != DS_OK)
        return rc;
    memcpy(r->prehash, full, 16);
    r->prehashed = 1;
    ds_reader_no_hash(r);
    return DS_OK;
}

ds_rc ds_reader_hash_head(const ds_reader *r, uint64_t len, uint8_t out[16], ds_err *err)
{
    if (r->is_stdin || !r->file_size)
        return ds_fail(err, DS_EINVAL, "%s is not a regular file: it can be read only once", r->path);
    if (len > r->file_size)
        return ds_fail(err, DS_EINVAL, "%s: cannot hash its first %llu bytes: it holds %llu", r->path,
                       (unsigned long long)len, (unsigned long long)r->file_size);
    return hash_range(r, len, out, NULL, err);
}

void ds_reader_hash(const ds_reader *r, uint8_t out[16])
{
    XXH128_hash_t h;
    if (r->prehashed) {
        memcpy(out, r->prehash, 16);
        return;
    }
    if (r->mapped && r->hashed < r->map_len) {
        /* Not finished yet: hash the rest on a copy, leaving the running state alone. */
        XXH3_state_t *tmp = XXH3_createState();
        if (tmp) {
            XXH3_copyState(tmp, r->hash);
            XXH3_128bits_update(tmp, (const uint8_t *)r->map + r->hashed, r->map_len - r->hashed);
            h = XXH3_128bits_digest(tmp);
            XXH3_freeState(tmp);
        } else {
            h = XXH3_128bits_digest(r->hash);
        }
    } else {
        h = XXH3_128bits_digest(r->hash);
    }
    XXH128_canonical_t c;
    XXH128_canonicalFromHash(&c, h);
    memcpy(out, c.digest, 16);
}

void ds_reader_close(ds_reader *r)
{
    if (!r)
        return;
    if (r->map)
        munmap(r->map, r->map_len);
    ds_stream_close(r);
    if (r->fd >= 0 && !r->is_stdin)
        close(r->fd);
    if (r->hash)
        XXH3_freeState(r->hash);
    free(r->buf);
    free(r->raw);
    free(r->ifaces);
    free(r->path);
    free(r);
}
