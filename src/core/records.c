/* records.c: explicit little-endian encoding of the record layouts in records.h. */
#include "core/records.h"
#include "core/dos.h"
#include "core/flood.h"
#include "core/scan.h"

#include <math.h>
#include <string.h>

static inline void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static inline void put32(uint8_t *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i)); }
static inline void put64(uint8_t *p, uint64_t v) { for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i)); }
static inline uint32_t get32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }
static inline uint64_t get64(const uint8_t *p) { return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32; }

uint64_t ds_src_key(const ds_ip *ip)
{
    if (!ip->v6)
        return ds_ip_v4(ip);
    uint64_t h = 0x9e3779b97f4a7c15ULL;
    for (int i = 0; i < 16; i++) {
        h ^= ip->b[i];
        h *= 0x100000001b3ULL;
        h ^= h >> 29;
    }
    return h | (1ULL << 63);
}

size_t ds_rec_size(int kind)
{
    switch (kind) {
    case DS_CHUNK_HOURLY: return DS_REC_HOURLY;
    case DS_CHUNK_SRCSVC: return DS_REC_SRCSVC;
    case DS_CHUNK_SOURCES: return DS_REC_SOURCES;
    case DS_CHUNK_DSTMAP: return DS_REC_DSTMAP;
    case DS_CHUNK_ATTACKS: return DS_REC_ATTACK;
    case DS_CHUNK_SCANS: return DS_REC_SCAN;
    case DS_CHUNK_FLOODS: return DS_REC_FLOOD;
    case DS_CHUNK_CROSS: return DS_REC_CROSS;
    case DS_CHUNK_DETECT:
    case DS_CHUNK_ROLLUP_SERVICE: case DS_CHUNK_ROLLUP_COUNTRY: case DS_CHUNK_ROLLUP_ASN: case DS_CHUNK_ROLLUP_ALL:
    case DS_CHUNK_MONTH_SERVICE: case DS_CHUNK_MONTH_COUNTRY: case DS_CHUNK_MONTH_ASN: case DS_CHUNK_MONTH_ALL:
        return 1;   /* an encoded table: nrec counts bytes (core/rollup.h, core/detin.h) */
    }
    return 0;
}

void ds_rec_hourly_put(uint8_t *p, const ds_rec_hourly *r)
{
    put32(p, r->hour); put32(p + 4, r->key); put32(p + 8, r->packets);
    p[12] = r->dim; p[13] = r->cls; put16(p + 14, 0);
}
void ds_rec_hourly_get(const uint8_t *p, ds_rec_hourly *r)
{
    r->hour = get32(p); r->key = get32(p + 4); r->packets = get32(p + 8);
    r->dim = p[12]; r->cls = p[13];
}
void ds_rec_srcsvc_put(uint8_t *p, const ds_rec_srcsvc *r)
{
    put64(p, r->src); put32(p + 8, r->service); put32(p + 12, r->asn); put32(p + 16, r->packets);
    p[20] = r->cls; p[21] = (uint8_t)r->cc[0]; p[22] = (uint8_t)r->cc[1]; p[23] = r->one_sport ? 1 : 0;
    put16(p + 24, r->one_sport ? r->sport : 0); p[26] = r->tools; p[27] = 0;
}
void ds_rec_srcsvc_get(const uint8_t *p, ds_rec_srcsvc *r)
{
    r->src = get64(p); r->service = get32(p + 8); r->asn = get32(p + 12); r->packets = get32(p + 16);
    r->cls = p[20]; r->cc[0] = (char)p[21]; r->cc[1] = (char)p[22];
    r->one_sport = p[23] & 1; r->sport = (uint16_t)(p[24] | p[25] << 8); r->tools = p[26];
}
void ds_rec_source_put(uint8_t *p, const ds_rec_source *r)
{
    memcpy(p, r->ip.b, 16);
    p[16] = r->ip.v6; p[17] = (uint8_t)r->cc[0]; p[18] = (uint8_t)r->cc[1]; p[19] = r->class_mask;
    put32(p + 20, r->asn); put64(p + 24, r->packets); put64(p + 32, r->first_ns); put64(p + 40, r->last_ns);
    put32(p + 48, r->services); put16(p + 52, (uint16_t)r->dst1); p[54] = r->tools; p[55] = 0;
}
void ds_rec_source_get(const uint8_t *p, ds_rec_source *r)
{
    memcpy(r->ip.b, p, 16);
    r->ip.v6 = p[16] ? 1 : 0; r->cc[0] = (char)p[17]; r->cc[1] = (char)p[18]; r->class_mask = p[19];
    r->asn = get32(p + 20); r->packets = get64(p + 24); r->first_ns = get64(p + 32); r->last_ns = get64(p + 40);
    r->services = get32(p + 48); r->dst1 = (uint32_t)(p[52] | p[53] << 8); r->tools = p[54];
}
void ds_rec_dstmap_put(uint8_t *p, const ds_rec_dstmap *r)
{
    put64(p, r->src);
    memcpy(p + 8, r->bits, DS_DSTMAP_BYTES);
}
void ds_rec_dstmap_get(const uint8_t *p, ds_rec_dstmap *r)
{
    r->src = get64(p);
    memcpy(r->bits, p + 8, DS_DSTMAP_BYTES);
}

unsigned ds_dstmap_bits(const uint8_t bits[DS_DSTMAP_BYTES])
{
    unsigned n = 0;
    for (int i = 0; i < DS_DSTMAP_BYTES; i += 8) {
        uint64_t v;
        memcpy(&v, bits + i, 8);
        v = v - ((v >> 1) & 0x5555555555555555ULL);
        v = (v & 0x3333333333333333ULL) + ((v >> 2) & 0x3333333333333333ULL);
        v = (v + (v >> 4)) & 0x0f0f0f0f0f0f0f0fULL;
        n += (unsigned)((v * 0x0101010101010101ULL) >> 56);
    }
    return n;
}

double ds_dstmap_count(const uint8_t bits[DS_DSTMAP_BYTES], int exact)
{
    unsigned set = ds_dstmap_bits(bits);
    if (exact)
        return set;
    const double m = DS_DSTMAP_BYTES * 8.0;
    if (set >= m)   /* saturated: linear counting's limit; report the bound it can still state */
        return m * log(m);
    return -m * log((m - set) / m);
}

void ds_rec_attack_put(uint8_t *p, const ds_attack *a)
{
    memcpy(p, a->victim.b, 16);
    p[16] = a->victim.v6; p[17] = a->port_proto; put16(p + 18, a->port); put32(p + 20, a->port_packets);
    put64(p + 24, a->start_ns); put64(p + 32, a->end_ns); put64(p + 40, a->packets); put32(p + 48, a->max_ppm);
    for (int k = 0; k < DS_ATK__COUNT; k++)
        put32(p + 52 + 4 * k, a->kind_packets[k]);
    put32(p + 76, a->responses);
}

void ds_rec_attack_get(const uint8_t *p, ds_attack *a)
{
    memset(a, 0, sizeof *a);
    memcpy(a->victim.b, p, 16);
    a->victim.v6 = p[16] ? 1 : 0; a->port_proto = p[17]; a->port = (uint16_t)(p[18] | p[19] << 8);
    a->port_packets = get32(p + 20); a->start_ns = get64(p + 24); a->end_ns = get64(p + 32); a->packets = get64(p + 40);
    a->max_ppm = get32(p + 48);
    for (int k = 0; k < DS_ATK__COUNT; k++)
        a->kind_packets[k] = get32(p + 52 + 4 * k);
    a->responses = get32(p + 76);
}

void ds_rec_scan_put(uint8_t *p, const ds_scan *s)
{
    memcpy(p, s->src.b, 16);
    p[16] = s->src.v6;
    p[17] = (uint8_t)((s->estimated ? 1 : 0) | (s->order & 3) << 1); put16(p + 18, 0); put32(p + 20, s->service);
    put64(p + 24, s->start_ns); put64(p + 32, s->end_ns); put64(p + 40, s->packets);
    put32(p + 48, s->addresses); put32(p + 52, s->sensor_addresses); put32(p + 56, s->timeout_s);
    put32(p + 60, s->min_addresses);
}

void ds_rec_scan_get(const uint8_t *p, ds_scan *s)
{
    memset(s, 0, sizeof *s);
    memcpy(s->src.b, p, 16);
    s->src.v6 = p[16] ? 1 : 0; s->estimated = p[17] & 1;
    s->order = (p[17] >> 1 & 3) == 3 ? DS_SCAN_ORDER_UNTESTED : p[17] >> 1 & 3; s->service = get32(p + 20);
    s->start_ns = get64(p + 24); s->end_ns = get64(p + 32); s->packets = get64(p + 40);
    s->addresses = get32(p + 48); s->sensor_addresses = get32(p + 52); s->timeout_s = get32(p + 56);
    s->min_addresses = get32(p + 60);
}

void ds_rec_flood_put(uint8_t *p, const ds_flood_vec *v)
{
    memcpy(p, v->target.b, 16);
    p[16] = v->target.v6; p[17] = v->cls; p[18] = v->port_proto; p[19] = 0;
    put16(p + 20, v->port); put16(p + 22, 0);
    put64(p + 24, v->start_ns); put64(p + 32, v->end_ns); put64(p + 40, v->packets);
    put32(p + 48, v->port_packets); put32(p + 52, v->max_ppm); put32(p + 56, v->sources);
    for (int k = 0; k < 4; k++)
        put32(p + 60 + 4 * k, v->kinds[k]);
    put32(p + 76, 0);
}

void ds_rec_flood_get(const uint8_t *p, ds_flood_vec *v)
{
    memset(v, 0, sizeof *v);
    memcpy(v->target.b, p, 16);
    v->target.v6 = p[16] ? 1 : 0; v->cls = p[17]; v->port_proto = p[18];
    v->port = (uint16_t)(p[20] | p[21] << 8);
    v->start_ns = get64(p + 24); v->end_ns = get64(p + 32); v->packets = get64(p + 40);
    v->port_packets = get32(p + 48); v->max_ppm = get32(p + 52); v->sources = get32(p + 56);
    for (int k = 0; k < 4; k++)
        v->kinds[k] = get32(p + 60 + 4 * k);
}
