/* reader_int.h: the reader's private state, shared by reader.c, stream.c, pcap.c, pcapng.c.
 *
 * Both input paths present the same thing to the format parsers: a contiguous window
 * win[0..win_len) of the decompressed byte stream, with a cursor win_pos.  For an mmap'd plain
 * file the window is the whole mapping and never moves, so a parser's bounds check is one
 * subtraction and record data stays valid until close.  For streams (stdin, pipes, gzip,
 * zstd) the window is a growable buffer that stream_fill() compacts and refills; data in it is
 * valid only until the next call.  Parsers ask for bytes with win_need() and never touch
 * memory outside [win_pos, win_len).
 */
#ifndef DS_READER_INT_H
#define DS_READER_INT_H
#include <stddef.h>
#include <stdint.h>
#include <xxhash.h>
#include <zlib.h>
#include <zstd.h>

#include "capture/reader.h"

/* Largest pcapng block we accept: an EPB with a DS_MAX_CAPLEN packet and 128 KiB of options,
 * the bound libpcap applies (MAX_BLOCKSIZE_FOR_SNAPLEN).  Classic pcap records are smaller. */
#define DS_PCAPNG_MAX_BLOCK (DS_MAX_CAPLEN + 131072u + 32u)
/* Hard maximum of the stream window: one maximal block plus room for read-ahead. */
#define DS_STREAM_WIN_MAX (2u * 1024u * 1024u)
#define DS_STREAM_WIN_INIT (256u * 1024u)
#define DS_RAW_BUF (256u * 1024u)
/* mmap'd files are hashed this far behind the cursor, while the bytes are still in cache. */
#define DS_HASH_CHUNK (1u << 20)
/* pcapng interfaces per section we are willing to track. */
#define DS_PCAPNG_MAX_IFACES 65536u

enum ds_tskind { DS_TS_MUL, DS_TS_DIV, DS_TS_POW2 };

typedef struct ds_iface {
    int linktype;
    uint32_t snaplen;
    enum ds_tskind tskind;
    uint64_t tsparam;      /* multiplier, divisor, or power of two */
    int64_t tsoffset_s;    /* if_tsoffset, seconds */
} ds_iface;

struct ds_reader {
    char *path;
    int fd;
    int is_stdin;
    ds_capfmt format;
    ds_container container;
    uint64_t file_size;    /* 0 when unknown */

    /* window over the decompressed stream */
    const uint8_t *win;
    size_t win_len, win_pos;
    uint64_t win_off;      /* stream offset of win[0] */
    int mapped;            /* win is an mmap of the whole file */
    void *map;
    size_t map_len;
    uint8_t *buf;          /* stream window storage (not mapped) */
    size_t buf_cap;
    int stream_end;        /* the decoder will produce no more bytes */
    int stream_cut;        /* ...because the compressed data ended early */

    /* raw input (stream path) */
    uint8_t *raw;
    size_t raw_len, raw_pos;
    int raw_eof;
    uint64_t raw_consumed; /* raw bytes read from fd (stream) */

    /* decoders */
    z_stream zs;
    int zs_live;
    int gz_member_done;
    ZSTD_DStream *zd;
    int zd_frame_done;

    /* hash */
    XXH3_state_t *hash;
    size_t hashed;         /* mapped: bytes of the mapping hashed so far */
    size_t hash_mark;      /* mapped: hash again once win_pos passes this */
    int no_hash;           /* DS_READER_NO_HASH: the content is not hashed */
    int prehashed;         /* ds_reader_prehash() ran: prehash is the file's hash */
    uint8_t prehash[16];   /* ... canonical (big-endian hi || lo) */
    int done;              /* EOF/ETRUNC/error returned: next() repeats it */
    ds_rc done_rc;
    ds_err done_err;

    /* classic pcap */
    int swapped;
    uint32_t snaplen;
    uint32_t caplen_limit; /* larger caplens are impossible (see pcap.c) */
    uint32_t frac_mult;    /* 1000 for microsecond files, 1 for nanosecond */
    int lengths_swapped;   /* 0 no, 1 always (before 2.3, DG/UX 543.0), 2 when caplen > len (2.3) */
    int linktype;

    /* pcapng */
    int ng_be;             /* section byte order is big-endian */
    ds_iface *ifaces;
    uint32_t nifaces, ifaces_cap;
    uint64_t isb_first_ns, isb_last_ns;   /* pcapng: the span the interface statistics give (0: none) */
};

/* reader.c */
ds_rc ds_win_fill(ds_reader *r, size_t need, ds_err *err);
void ds_hash_catch_up(ds_reader *r);
ds_rc ds_reader_end(ds_reader *r, ds_err *err);
ds_rc ds_reader_cut(ds_reader *r, const char *what, ds_err *err);

/* Make at least `need` bytes available at win_pos if the input has them.  After a DS_OK
 * return, win_len - win_pos may still be < need: the input ended. */
static inline ds_rc win_need(ds_reader *r, size_t need, ds_err *err)
{
    if (need <= r->win_len - r->win_pos || r->mapped)
        return DS_OK;
    return ds_win_fill(r, need, err);
}
static inline size_t win_left(const ds_reader *r) { return r->win_len - r->win_pos; }
static inline uint64_t win_offset(const ds_reader *r) { return r->win_off + r->win_pos; }

/* stream.c */
ds_rc ds_stream_open(ds_reader *r, ds_err *err);
ds_rc ds_stream_produce(ds_reader *r, uint8_t *out, size_t cap, size_t *got, ds_err *err);
void ds_stream_close(ds_reader *r);

/* pcap.c */
ds_rc ds_pcap_open(ds_reader *r, ds_err *err);
ds_rc ds_pcap_next(ds_reader *r, ds_record *rec, ds_err *err);

/* pcapng.c */
ds_rc ds_pcapng_open(ds_reader *r, ds_err *err);
ds_rc ds_pcapng_next(ds_reader *r, ds_record *rec, ds_err *err);

static inline uint32_t ds_rd32(const uint8_t *p, int big_endian)
{
    if (big_endian)
        return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
    return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}
static inline uint16_t ds_rd16(const uint8_t *p, int big_endian)
{
    if (big_endian)
        return (uint16_t)((uint16_t)p[0] << 8 | p[1]);
    return (uint16_t)((uint16_t)p[1] << 8 | p[0]);
}

#endif
