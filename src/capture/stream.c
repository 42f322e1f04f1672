/* stream.c: the read() path for stdin, pipes, FIFOs, gzip and zstd.
 *
 * Raw bytes are read from the descriptor into a fixed 256 KiB buffer and hashed right there,
 * so the dedupe key covers exactly what was on disk.  A decoder then moves them into the
 * reader's window (reader.c): zlib inflate for gzip (RFC 1952, with inflateInit2(15 + 16) and a
 * reset per member so concatenated members work as gzip(1) reads them), or
 * ZSTD_decompressStream for zstd (RFC 8878, which walks frame after frame, skippable frames
 * included, by itself).  Plain input is read straight into the window instead, and hashed there:
 * one copy fewer (1.3 GB of memcpy on the benchmark file).  The container is chosen by magic
 * from the first raw bytes, which is the only way that works for stdin.
 *
 * A compressed stream that stops before its end marker is "cut short" (stream_cut), like an
 * interrupted tcpdump | gzip; bad compressed data is DS_EFORMAT.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture/reader_int.h"

/* read() up to cap bytes of input into dst, hashing them.  *n = 0 at end of input.  A regular
 * file is read only up to the size it had when opened, as a mapping of it would be: a file that
 * grows while it is read (a capture still being written) gives every reader of it the same bytes,
 * and its last record, if cut, is reported as cut. */
static ds_rc read_some(ds_reader *r, uint8_t *dst, size_t cap, size_t *n, ds_err *err)
{
    *n = 0;
    if (r->file_size && !r->is_stdin) {
        uint64_t left = r->file_size > r->raw_consumed ? r->file_size - r->raw_consumed : 0;
        if (cap > left)
            cap = (size_t)left;
        if (cap == 0)
            return DS_OK;
    }
    for (;;) {
        ssize_t got = read(r->fd, dst, cap);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            return ds_fail_at(err, DS_EIO, r->raw_consumed, "%s: read error after %llu bytes: %s", r->path,
                              (unsigned long long)r->raw_consumed, strerror(errno));
        if (!r->no_hash)
            XXH3_128bits_update(r->hash, dst, (size_t)got);
        r->raw_consumed += (uint64_t)got;
        *n = (size_t)got;
        return DS_OK;
    }
}

/* Read more raw bytes, appending to what is unread.  Sets raw_eof at end of input. */
static ds_rc raw_read(ds_reader *r, ds_err *err)
{
    if (r->raw_pos == r->raw_len)
        r->raw_pos = r->raw_len = 0;
    if (r->raw_len == DS_RAW_BUF)
        return DS_OK;
    size_t n;
    ds_rc rc = read_some(r, r->raw + r->raw_len, DS_RAW_BUF - r->raw_len, &n, err);
    if (rc != DS_OK)
        return rc;
    if (n == 0)
        r->raw_eof = 1;
    r->raw_len += n;
    return DS_OK;
}

ds_rc ds_stream_open(ds_reader *r, ds_err *err)
{
    r->raw = calloc(1, DS_RAW_BUF);   /* (calloc: gcc cannot see that read() fills it) */
    if (!r->raw)
        return ds_fail(err, DS_ENOMEM, "%s: out of memory for the read buffer", r->path);
    while (r->raw_len < 4 && !r->raw_eof) {
        ds_rc rc = raw_read(r, err);
        if (rc != DS_OK)
            return rc;
    }
    if (r->raw_len == 0)
        return ds_fail(err, DS_EFORMAT, "%s is an empty file", r->path);

    const uint8_t *b = r->raw;
    if (r->raw_len >= 2 && b[0] == 0x1f && b[1] == 0x8b) {
        r->container = DS_CONT_GZIP;
        memset(&r->zs, 0, sizeof r->zs);
        if (inflateInit2(&r->zs, 15 + 16) != Z_OK)
            return ds_fail(err, DS_ENOMEM, "%s: cannot start the gzip decoder", r->path);
        r->zs_live = 1;
    } else if (r->raw_len >= 4 && b[0] == 0x28 && b[1] == 0xb5 && b[2] == 0x2f && b[3] == 0xfd) {
        r->container = DS_CONT_ZSTD;
        r->zd = ZSTD_createDStream();
        if (!r->zd || ZSTD_isError(ZSTD_initDStream(r->zd)))
            return ds_fail(err, DS_ENOMEM, "%s: cannot start the zstd decoder", r->path);
    } else {
        r->container = DS_CONT_PLAIN;
    }
    return DS_OK;
}

/* A plain file: what the container sniffing left in the raw buffer first, then read() straight
 * into the window, with no second copy. */
static ds_rc plain_produce(ds_reader *r, uint8_t *out, size_t cap, size_t *got, ds_err *err)
{
    if (r->raw_pos < r->raw_len) {
        size_t n = r->raw_len - r->raw_pos;
        if (n > cap)
            n = cap;
        memcpy(out, r->raw + r->raw_pos, n);
        r->raw_pos += n;
        *got = n;
        return DS_OK;
    }
    if (!r->raw_eof) {
        ds_rc rc = read_some(r, out, cap, got, err);
        if (rc != DS_OK)
            return rc;
        r->raw_eof = *got == 0;
    }
    r->stream_end = r->raw_eof;
    return DS_OK;
}

static ds_rc gzip_produce(ds_reader *r, uint8_t *out, size_t cap, size_t *got, ds_err *err)
{
    size_t produced = 0;
    while (produced == 0) {
        if (r->raw_pos == r->raw_len && !r->raw_eof) {
            ds_rc rc = raw_read(r, err);
            if (rc != DS_OK)
                return rc;
            continue;
        }
        if (r->raw_pos == r->raw_len) { /* raw_eof */
            r->stream_end = 1;
            r->stream_cut = !r->gz_member_done;
            break;
        }
        if (r->gz_member_done) {
            /* Between members: another member, or zero padding (which gzip(1) also ignores). */
            while (r->raw_pos < r->raw_len && r->raw[r->raw_pos] == 0)
                r->raw_pos++;
            if (r->raw_pos == r->raw_len)
                continue;
            if (r->raw[r->raw_pos] != 0x1f) {
                uint64_t at = r->raw_consumed - (r->raw_len - r->raw_pos);
                return ds_fail_at(err, DS_EFORMAT, at, "%s: unexpected data after a gzip member at byte %llu",
                                  r->path, (unsigned long long)at);
            }
            inflateReset(&r->zs);
            r->gz_member_done = 0;
        }
        r->zs.next_in = r->raw + r->raw_pos;
        r->zs.avail_in = (uInt)(r->raw_len - r->raw_pos);
        r->zs.next_out = out + produced;
        r->zs.avail_out = (uInt)(cap - produced);
        int zrc = inflate(&r->zs, Z_NO_FLUSH);
        r->raw_pos = r->raw_len - r->zs.avail_in;
        produced = cap - r->zs.avail_out;
        if (zrc == Z_STREAM_END) {
            r->gz_member_done = 1;
        } else if (zrc == Z_MEM_ERROR) {
            return ds_fail(err, DS_ENOMEM, "%s: out of memory in the gzip decoder", r->path);
        } else if (zrc != Z_OK && zrc != Z_BUF_ERROR) {
            uint64_t at = r->raw_consumed - (r->raw_len - r->raw_pos);
            return ds_fail_at(err, DS_EFORMAT, at, "%s: corrupt gzip data near byte %llu: %s", r->path,
                              (unsigned long long)at, r->zs.msg ? r->zs.msg : "inflate failed");
        }
    }
    *got = produced;
    return DS_OK;
}

static ds_rc zstd_produce(ds_reader *r, uint8_t *out, size_t cap, size_t *got, ds_err *err)
{
    ZSTD_outBuffer ob = { out, cap, 0 };
    while (ob.pos == 0) {
        if (r->raw_pos == r->raw_len && !r->raw_eof) {
            ds_rc rc = raw_read(r, err);
            if (rc != DS_OK)
                return rc;
            continue;
        }
        int drained = r->raw_pos == r->raw_len;
        if (drained && r->zd_frame_done) {
            r->stream_end = 1;
            break;
        }
        ZSTD_inBuffer ib = { r->raw, r->raw_len, r->raw_pos };
        size_t zr = ZSTD_decompressStream(r->zd, &ob, &ib);
        r->raw_pos = ib.pos;
        if (ZSTD_isError(zr)) {
            uint64_t at = r->raw_consumed - (r->raw_len - r->raw_pos);
            return ds_fail_at(err, DS_EFORMAT, at, "%s: corrupt zstd data near byte %llu: %s", r->path,
                              (unsigned long long)at, ZSTD_getErrorName(zr));
        }
        r->zd_frame_done = zr == 0;
        if (drained && ob.pos == 0) {
            /* No input left and the decoder has nothing more to flush. */
            r->stream_end = 1;
            r->stream_cut = !r->zd_frame_done;
            break;
        }
    }
    *got = ob.pos;
    return DS_OK;
}

ds_rc ds_stream_produce(ds_reader *r, uint8_t *out, size_t cap, size_t *got, ds_err *err)
{
    *got = 0;
    if (r->stream_end || cap == 0)
        return DS_OK;
    switch (r->container) {
    case DS_CONT_GZIP: return gzip_produce(r, out, cap, got, err);
    case DS_CONT_ZSTD: return zstd_produce(r, out, cap, got, err);
    case DS_CONT_PLAIN: break;
    }
    return plain_produce(r, out, cap, got, err);
}

void ds_stream_close(ds_reader *r)
{
    if (r->zs_live)
        inflateEnd(&r->zs);
    r->zs_live = 0;
    if (r->zd)
        ZSTD_freeDStream(r->zd);
    r->zd = NULL;
}
