/* frame.h: build test frames byte by byte (test_decode.c, test_tunnel.c).  Include after
 * <cmocka.h> and core/packet.h.  Every function is static inline, so a test that uses a few of
 * them gets no unused-function warning. */
#ifndef DS_TEST_FRAME_H
#define DS_TEST_FRAME_H
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/packet.h"

/* ---- frame builder ---------------------------------------------------------------------- */

typedef struct frame {
    uint8_t b[1024];
    size_t n;
} frame;

static inline void put8(frame *f, unsigned v) { f->b[f->n++] = (uint8_t)v; }
static inline void put16(frame *f, unsigned v) { put8(f, v >> 8); put8(f, v); }
static inline void put16le(frame *f, unsigned v) { put8(f, v); put8(f, v >> 8); }
static inline void put32(frame *f, uint32_t v) { put16(f, v >> 16); put16(f, v & 0xffff); }
static inline void put32le(frame *f, uint32_t v) { put16le(f, v & 0xffff); put16le(f, v >> 16); }
static inline void putn(frame *f, const void *p, size_t n) { memcpy(f->b + f->n, p, n); f->n += n; }
static inline void putz(frame *f, size_t n) { memset(f->b + f->n, 0, n); f->n += n; }
static inline void set16(frame *f, size_t at, unsigned v) { f->b[at] = (uint8_t)(v >> 8); f->b[at + 1] = (uint8_t)v; }

static const uint8_t SRC4[4] = { 198, 51, 100, 7 }, DST4[4] = { 192, 0, 2, 1 };
static const uint8_t SRC6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7 };
static const uint8_t DST6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };

static inline void eth(frame *f, unsigned type)
{
    const uint8_t mac[12] = { 0, 1, 2, 3, 4, 5, 0x52, 0x54, 0, 0x12, 0x34, 0x56 };
    putn(f, mac, 12);
    put16(f, type);
}

/* IPv4 header without options; returns the offset of the total length to patch later. */
static inline size_t ipv4(frame *f, unsigned proto, unsigned frag)
{
    put8(f, 0x45); put8(f, 0);
    size_t at = f->n;
    put16(f, 0);                 /* total length, patched by ip4_done() */
    put16(f, 0x1234);            /* id */
    put16(f, frag);
    put8(f, 64); put8(f, proto);
    put16(f, 0);                 /* checksum: not checked */
    putn(f, SRC4, 4); putn(f, DST4, 4);
    return at;
}
static inline void ip4_done(frame *f, size_t len_at) { set16(f, len_at, (unsigned)(f->n - (len_at - 2))); }

static inline size_t ipv6(frame *f, unsigned nh)
{
    put32(f, 0x60000000);
    size_t at = f->n;
    put16(f, 0);                 /* payload length, patched by ip6_done() */
    put8(f, nh); put8(f, 55);
    putn(f, SRC6, 16); putn(f, DST6, 16);
    return at;
}
static inline void ip6_done(frame *f, size_t len_at) { set16(f, len_at, (unsigned)(f->n - (len_at + 36))); }

/* TCP SYN with MSS 1460, NOP, NOP, SACK-permitted: data offset 7. */
static inline void tcp_syn(frame *f, unsigned sport, unsigned dport)
{
    put16(f, sport); put16(f, dport);
    put32(f, 0x01020304); put32(f, 0);
    put8(f, 7 << 4); put8(f, 0x02); put16(f, 29200);
    put16(f, 0); put16(f, 0);
    put8(f, 2); put8(f, 4); put16(f, 1460);
    put8(f, 1); put8(f, 1); put8(f, 4); put8(f, 2);
}

static inline void tcp_plain(frame *f, unsigned flags)
{
    put16(f, 80); put16(f, 40000);
    put32(f, 7); put32(f, 8);
    put8(f, 5 << 4); put8(f, flags); put16(f, 1024);
    put16(f, 0); put16(f, 0);
}

static inline void udp(frame *f, unsigned sport, unsigned dport, const char *data)
{
    size_t n = strlen(data);
    put16(f, sport); put16(f, dport); put16(f, (unsigned)(8 + n)); put16(f, 0);
    putn(f, data, n);
}

static inline ds_outcome dec(int lt, const frame *f, ds_pkt *p)
{
    return ds_decode(lt, f->b, (uint32_t)f->n, (uint32_t)f->n, p);
}

static inline void assert_v4(const ds_pkt *p)
{
    assert_true(p->have & DS_HAVE_IP);
    assert_int_equal(p->src.v6, 0);
    assert_memory_equal(p->src.b, SRC4, 4);
    assert_memory_equal(p->dst.b, DST4, 4);
}
static inline void assert_v6(const ds_pkt *p)
{
    assert_true(p->have & DS_HAVE_IP);
    assert_int_equal(p->src.v6, 1);
    assert_memory_equal(p->src.b, SRC6, 16);
    assert_memory_equal(p->dst.b, DST6, 16);
}

#endif
