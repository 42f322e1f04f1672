/* reader.h: read capture files record by record.
 *
 * Formats: classic pcap (both byte orders, microsecond and nanosecond magic) and pcapng
 * (several sections and interfaces, each interface with its own link type and timestamp
 * resolution).  Containers: plain file, gzip, zstd (detected by magic, not by name), and "-"
 * for standard input.  A plain classic pcap file is read zero-copy through mmap: reading is
 * nearly free next to analysis, and that is why this reader exists beside libpcap.
 */
#ifndef DS_READER_H
#define DS_READER_H
#include <stdint.h>

#include "util/result.h"

/* Largest record we accept.  libpcap's MAXIMUM_SNAPLEN is 262144; a bigger caplen is an
 * impossible length, not a big packet. */
#define DS_MAX_CAPLEN 262144u

typedef struct ds_record {
    uint64_t ts_ns;          /* timestamp, ns since the epoch */
    uint32_t caplen;         /* bytes at data */
    uint32_t wirelen;        /* original length on the wire */
    int linktype;            /* LINKTYPE_* of the record's interface */
    const uint8_t *data;     /* valid until the next ds_reader_next() (or until close when
                                ds_reader_stable() is true) */
    uint64_t offset;         /* byte offset of the record header in the (decompressed) stream */
} ds_record;

typedef struct ds_reader ds_reader;

typedef enum ds_capfmt { DS_CAP_PCAP, DS_CAP_PCAPNG } ds_capfmt;
typedef enum ds_container { DS_CONT_PLAIN, DS_CONT_GZIP, DS_CONT_ZSTD } ds_container;

/* Open path ("-" = stdin).  Errors: DS_EIO (cannot open, is a directory), DS_EFORMAT (empty,
 * not pcap/pcapng), with a message naming the file. */
ds_rc ds_reader_open(ds_reader **out, const char *path, ds_err *err);

/* Flags for ds_reader_open_flags(). */
enum {
    /* Read plain files through the stream path (read() into one reused buffer) instead of
     * mmap.  On machines where first-touching the pages of a fresh mapping is expensive (VMs:
     * ~0.4 s per GB measured here) this is the faster path when records need not outlive the
     * next call, i.e. for a single-threaded reader. */
    DS_READER_NO_MMAP = 1,
    /* Do not hash the content: for a second reader of a file another reader hashes already
     * (ingest's own-reader threads).  ds_reader_hash() then says nothing about the file. */
    DS_READER_NO_HASH = 2,
};
ds_rc ds_reader_open_flags(ds_reader **out, const char *path, unsigned flags, ds_err *err);

/* A second, independent reader of the file r reads, for another thread: the same inode (not
 * whatever r's path names by now), read up to the size r saw at open, so both readers see the
 * same records.  Only for regular files (DS_EINVAL otherwise); DS_EIO when the file was replaced
 * or shortened in between. */
ds_rc ds_reader_open_again(ds_reader **out, const ds_reader *r, unsigned flags, ds_err *err);

/* Stop hashing: another reader of the same file hashes it.  ds_reader_hash() then says nothing
 * about the file. */
void ds_reader_no_hash(ds_reader *r);

/* Next record.  DS_OK: rec filled.  DS_EOF: clean end.  DS_ETRUNC: the input ends inside the
 * last record (an interrupted capture); every whole record before it was delivered, the
 * message says where.  DS_EFORMAT: a record is impossible (length > DS_MAX_CAPLEN, caplen >
 * snaplen by more than slack, bad block); the message names the offset.  DS_EIO: read error. */
ds_rc ds_reader_next(ds_reader *r, ds_record *rec, ds_err *err);

/* True when record data stays valid until close (mmap'd plain pcap), so records can be
 * handed to worker threads without copying. */
int ds_reader_stable(const ds_reader *r);

ds_capfmt ds_reader_format(const ds_reader *r);
ds_container ds_reader_container(const ds_reader *r);
const char *ds_reader_path(const ds_reader *r);
/* Size of the file on disk (0 when unknown, e.g. stdin) and raw bytes consumed so far:
 * together they give progress and ETA. */
uint64_t ds_reader_size(const ds_reader *r);
uint64_t ds_reader_consumed(const ds_reader *r);

/* XXH3-128 of the raw input bytes (as stored on disk, before decompression), big-endian
 * hi||lo.  Complete once ds_reader_next() has returned DS_EOF or DS_ETRUNC.  Used to refuse
 * re-ingesting the same file: a dedupe key, not a security hash. */
void ds_reader_hash(const ds_reader *r, uint8_t out[16]);

/* The span a pcapng file's Interface Statistics Blocks say its interfaces captured (the earliest
 * isb_starttime to the latest isb_endtime, in ns), as far as read: 1 and set, or 0 when none. */
int ds_reader_capture_span(const ds_reader *r, uint64_t *from_ns, uint64_t *to_ns);

/* The first bytes that ds_reader_prehash() hashes on their own, to find a stored capture that was
 * cut short and that this one may continue (docs/store.md, "Re-sent files"). */
#define DS_PREFIX_HASH_LEN 65536u

/* Hash a regular file before reading it: full = what ds_reader_hash() gives at the end (XXH3-128
 * of the raw bytes up to the size the file had at open), prefix = XXH3-128 of its first
 * min(size, DS_PREFIX_HASH_LEN) bytes (prefix may be NULL).  Read with pread(), so the reader's position does not move;
 * the reader then stops hashing as it reads, and ds_reader_hash() returns full.  DS_EINVAL for
 * stdin and pipes (their bytes can be read only once: the hash comes at the end as before),
 * DS_EIO when a read fails. */
ds_rc ds_reader_prehash(ds_reader *r, uint8_t full[16], uint8_t prefix[16], ds_err *err);

/* XXH3-128 (canonical, as ds_reader_hash) of the first len bytes of a regular file (len at most
 * its size at open), read with pread(): does a stored file cut short at len bytes start this one? */
ds_rc ds_reader_hash_head(const ds_reader *r, uint64_t len, uint8_t out[16], ds_err *err);

void ds_reader_close(ds_reader *r);

#endif
