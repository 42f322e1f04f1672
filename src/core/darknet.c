/* darknet.c: map a destination address to the sensor that monitors it.
 *
 * Every sensor's prefixes are turned into closed address ranges and sorted into one array per
 * family.  Ranges of different sensors must not overlap (a packet counts for exactly one sensor,
 * or for none: `outside`).  A lookup is a binary search: a handful of predictable compares for
 * the usual few prefixes, and still O(log n) for a telescope with thousands of them.
 */
#include "core/darknet.h"

#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct range4 { uint32_t lo, hi; int sensor; uint32_t base; } range4;  /* base: index of lo among the sensor's addresses */
typedef struct range6 { uint8_t lo[16], hi[16]; int sensor; } range6;

struct ds_darknet {
    range4 *r4; size_t n4;
    range6 *r6; size_t n6;
    uint64_t *v4count; size_t nsensors;
};

static int prefix_parse(const char *s, ds_prefix *out, int mask_host_bits)
{
    char buf[64];
    const char *slash = strchr(s, '/');
    size_t alen = slash ? (size_t)(slash - s) : strlen(s);
    if (alen == 0 || alen >= sizeof buf)
        return -1;
    memcpy(buf, s, alen);
    buf[alen] = '\0';
    if (ds_ip_parse(buf, &out->addr) != 0)
        return -1;
    unsigned max = out->addr.v6 ? 128 : 32, len = max;
    if (slash) {
        char *end;
        /* Test fix: strtoul alone would also take " 24", "+24" and "-0" (which wraps). */
        if (slash[1] < '0' || slash[1] > '9')
            return -1;
        unsigned long v = strtoul(slash + 1, &end, 10);
        if (*end || v > max)
            return -1;
        len = (unsigned)v;
    }
    out->len = (uint8_t)len;
    for (unsigned bit = len; bit < max; bit++) {
        if (!(out->addr.b[bit / 8] & (0x80u >> (bit % 8))))
            continue;
        if (!mask_host_bits)
            return -1;   /* host bits must be clear */
        out->addr.b[bit / 8] &= (uint8_t)~(0x80u >> (bit % 8));
    }
    return 0;
}

int ds_prefix_parse(const char *s, ds_prefix *out) { return prefix_parse(s, out, 0); }

/* What is wrong with a dotted quad (RFC 791 addresses as inet_pton(3) takes them: four decimal
 * parts of 0..255, no leading '+', no more than 3 digits). */
static void explain_ipv4(const char *a, char *buf, size_t len)
{
    const char *p = a;
    for (int part = 1; ; part++) {
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);
        if (part > 4) {
            snprintf(buf, len, "'%s' has more than 4 parts; an IPv4 address has 4", a);
            return;
        }
        if (n == 0) {
            snprintf(buf, len, "'%s': part %d is empty", a, part);
            return;
        }
        unsigned v = 0;
        for (size_t i = 0; i < n; i++) {
            if (p[i] < '0' || p[i] > '9') {
                snprintf(buf, len, "'%s': part %d ('%.*s') is not a number", a, part, (int)(n > 8 ? 8 : n), p);
                return;
            }
            if (v <= 9999)
                v = v * 10 + (unsigned)(p[i] - '0');
        }
        if (v > 255 || n > 3) {
            snprintf(buf, len, "'%s': octet %d is %.*s, over 255", a, part, (int)(n > 8 ? 8 : n), p);
            return;
        }
        if (n > 1 && p[0] == '0') {
            snprintf(buf, len, "'%s': octet %d (%.*s) has a leading zero", a, part, (int)n, p);
            return;
        }
        if (!dot) {
            if (part < 4)
                snprintf(buf, len, "'%s' has %d parts; an IPv4 address has 4", a, part);
            else
                snprintf(buf, len, "'%s' is not an IPv4 address", a);
            return;
        }
        p = dot + 1;
    }
}

int ds_prefix_explain(const char *s, char *buf, size_t len)
{
    ds_prefix p;
    char a[64];
    if (len)
        buf[0] = '\0';
    if (!s || prefix_parse(s, &p, 0) == 0)
        return 0;
    const char *slash = strchr(s, '/');
    size_t alen = slash ? (size_t)(slash - s) : strlen(s);
    if (alen == 0) {
        snprintf(buf, len, "no address before the '/'");
        return 1;
    }
    if (alen >= sizeof a) {
        snprintf(buf, len, "the address is %zu characters, longer than any IPv4 or IPv6 address", alen);
        return 1;
    }
    memcpy(a, s, alen);
    a[alen] = '\0';
    ds_ip ip;
    if (ds_ip_parse(a, &ip) != 0) {
        if (strchr(a, ':'))
            snprintf(buf, len, "'%s' is not an IPv6 address (RFC 4291 text form)", a);
        else
            explain_ipv4(a, buf, len);
        return 1;
    }
    unsigned max = ip.v6 ? 128 : 32;
    if (slash) {
        const char *l = slash + 1;
        size_t n = strlen(l);
        if (n == 0 || strspn(l, "0123456789") != n) {
            snprintf(buf, len, "prefix length '%s' is not a number 0..%u", l, max);
            return 1;
        }
        if (n > 3 || strtoul(l, NULL, 10) > max) {
            snprintf(buf, len, "prefix length %s is over %u for %s", l, max, ip.v6 ? "IPv6" : "IPv4");
            return 1;
        }
    }
    /* what is left: host bits */
    if (prefix_parse(s, &p, 1) == 0) {
        char net[64];
        ds_prefix_format(&p, net, sizeof net);
        snprintf(buf, len, "host bits set below /%u (the network is %s)", p.len, net);
    } else {
        snprintf(buf, len, "not a network prefix like 198.51.100.0/24");
    }
    return 1;
}
int ds_prefix_parse_masked(const char *s, ds_prefix *out) { return prefix_parse(s, out, 1); }

char *ds_prefix_format(const ds_prefix *p, char *buf, size_t len)
{
    char a[DS_IP_STRLEN];
    snprintf(buf, len, "%s/%u", ds_ip_format(&p->addr, a, sizeof a), p->len);
    return buf;
}

static int cmp4(const void *a, const void *b)
{
    const range4 *x = a, *y = b;
    return x->lo < y->lo ? -1 : x->lo > y->lo;
}
static int cmp6(const void *a, const void *b)
{
    return memcmp(((const range6 *)a)->lo, ((const range6 *)b)->lo, 16);
}

static const char *sensor_name(const char *const *names, int s, char *buf, size_t len)
{
    if (names && names[s])
        return names[s];
    snprintf(buf, len, "#%d", s + 1);
    return buf;
}

/* Test fix: the overlap message used to read "sensors A and A overlap" when one sensor listed
 * nested prefixes, and never said which prefixes collide.  Name the two prefixes (rebuilt from
 * the ranges: the prefix length is the number of bits lo and hi share) and say when both are
 * the same sensor's. */
static ds_rc overlap_fail(ds_err *err, const char *const *names, int v6, const uint8_t *lo1, const uint8_t *hi1,
                          int s1, const uint8_t *lo2, const uint8_t *hi2, int s2)
{
    char p1[DS_IP_STRLEN + 8], p2[DS_IP_STRLEN + 8], n1[16], n2[16];
    const uint8_t *lo[2] = { lo1, lo2 }, *hi[2] = { hi1, hi2 };
    char *out[2] = { p1, p2 };
    for (int k = 0; k < 2; k++) {
        ds_prefix p;
        memset(&p, 0, sizeof p);
        p.addr.v6 = (uint8_t)v6;
        memcpy(p.addr.b, lo[k], v6 ? 16 : 4);
        unsigned varying = 0;
        for (int b = 0; b < (v6 ? 16 : 4); b++)
            varying += (unsigned)__builtin_popcount((unsigned)(lo[k][b] ^ hi[k][b]));
        p.len = (uint8_t)((v6 ? 128u : 32u) - varying);
        ds_prefix_format(&p, out[k], sizeof p1);
    }
    if (s1 == s2)
        return ds_fail(err, DS_EINVAL, "sensor %s lists overlapping darknet prefixes %s and %s: list each address once",
                       sensor_name(names, s1, n1, sizeof n1), p1, p2);
    return ds_fail(err, DS_EINVAL, "darknet prefixes %s (sensor %s) and %s (sensor %s) overlap: each address may "
                   "belong to one sensor only", p1, sensor_name(names, s1, n1, sizeof n1), p2,
                   sensor_name(names, s2, n2, sizeof n2));
}

ds_rc ds_darknet_build(ds_darknet **out, const ds_prefix *const *prefixes, const size_t *counts,
                       const char *const *names, size_t nsensors, ds_err *err)
{
    ds_rc rc = DS_ENOMEM;
    size_t total = 0;
    ds_darknet *d = calloc(1, sizeof *d);
    if (!d)
        goto out;
    for (size_t s = 0; s < nsensors; s++)
        total += counts[s];
    d->r4 = calloc(total + 1, sizeof *d->r4);
    d->r6 = calloc(total + 1, sizeof *d->r6);
    d->v4count = calloc(nsensors + 1, sizeof *d->v4count);
    d->nsensors = nsensors;
    if (!d->r4 || !d->r6 || !d->v4count)
        goto out;
    for (size_t s = 0; s < nsensors; s++) {
        for (size_t i = 0; i < counts[s]; i++) {
            const ds_prefix *p = &prefixes[s][i];
            if (!p->addr.v6) {
                uint32_t lo = ds_ip_v4(&p->addr);
                uint32_t mask = p->len ? ~0u << (32 - p->len) : 0;
                range4 r = { lo & mask, (lo & mask) | ~mask, (int)s, 0 };
                d->r4[d->n4++] = r;
                d->v4count[s] += (uint64_t)r.hi - r.lo + 1;
            } else {
                range6 r;
                r.sensor = (int)s;
                for (int b = 0; b < 16; b++) {
                    int bits = (int)p->len - b * 8;
                    uint8_t m = bits >= 8 ? 0xff : bits <= 0 ? 0 : (uint8_t)(0xff << (8 - bits));
                    r.lo[b] = p->addr.b[b] & m;
                    r.hi[b] = (uint8_t)(r.lo[b] | (uint8_t)~m);
                }
                d->r6[d->n6++] = r;
            }
        }
    }
    qsort(d->r4, d->n4, sizeof *d->r4, cmp4);
    qsort(d->r6, d->n6, sizeof *d->r6, cmp6);
    {
        /* number each sensor's addresses in address order: base = addresses of that sensor
         * in the ranges before this one */
        uint64_t *seen = calloc(nsensors + 1, sizeof *seen);
        if (!seen)
            goto out;
        for (size_t i = 0; i < d->n4; i++) {
            d->r4[i].base = (uint32_t)seen[d->r4[i].sensor];
            seen[d->r4[i].sensor] += (uint64_t)d->r4[i].hi - d->r4[i].lo + 1;
        }
        free(seen);
    }
    for (size_t i = 1; i < d->n4; i++) {
        if (d->r4[i].lo <= d->r4[i - 1].hi) {
            const range4 *x = &d->r4[i - 1], *y = &d->r4[i];
            uint8_t xl[4], xh[4], yl[4], yh[4];
            for (int b = 0; b < 4; b++) {
                xl[b] = (uint8_t)(x->lo >> (24 - 8 * b)); xh[b] = (uint8_t)(x->hi >> (24 - 8 * b));
                yl[b] = (uint8_t)(y->lo >> (24 - 8 * b)); yh[b] = (uint8_t)(y->hi >> (24 - 8 * b));
            }
            rc = overlap_fail(err, names, 0, xl, xh, x->sensor, yl, yh, y->sensor);
            goto out;
        }
    }
    for (size_t i = 1; i < d->n6; i++) {
        if (memcmp(d->r6[i].lo, d->r6[i - 1].hi, 16) <= 0) {
            const range6 *x = &d->r6[i - 1], *y = &d->r6[i];
            rc = overlap_fail(err, names, 1, x->lo, x->hi, x->sensor, y->lo, y->hi, y->sensor);
            goto out;
        }
    }
    *out = d;
    d = NULL;
    rc = DS_OK;
out:
    if (rc == DS_ENOMEM)
        ds_fail(err, rc, "out of memory building the darknet table");
    ds_darknet_free(d);
    return rc;
}

int ds_darknet_find(const ds_darknet *d, const ds_ip *dst)
{
    uint32_t off;
    return ds_darknet_find_offset(d, dst, &off);
}

int ds_darknet_find_offset(const ds_darknet *d, const ds_ip *dst, uint32_t *offset)
{
    *offset = 0;
    if (!dst->v6) {
        uint32_t a = ds_ip_v4(dst);
        if (d->n4 <= 8) {
            /* A few prefixes (the usual telescope): test them all without branching on which one
             * matched, since consecutive packets go to the sensors in no predictable order. */
            size_t hit = SIZE_MAX;
            for (size_t i = 0; i < d->n4; i++)
                hit = a - d->r4[i].lo <= d->r4[i].hi - d->r4[i].lo ? i : hit;
            if (hit == SIZE_MAX)
                return -1;
            *offset = d->r4[hit].base + (a - d->r4[hit].lo);
            return d->r4[hit].sensor;
        }
        size_t lo = 0, hi = d->n4;
        while (lo < hi) {   /* first range with r.lo > a */
            size_t mid = lo + (hi - lo) / 2;
            if (d->r4[mid].lo <= a) lo = mid + 1; else hi = mid;
        }
        if (lo == 0)
            return -1;
        const range4 *r = &d->r4[lo - 1];
        if (a > r->hi)
            return -1;
        *offset = r->base + (a - r->lo);
        return r->sensor;
    }
    size_t lo = 0, hi = d->n6;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (memcmp(d->r6[mid].lo, dst->b, 16) <= 0) lo = mid + 1; else hi = mid;
    }
    if (lo == 0)
        return -1;
    const range6 *r = &d->r6[lo - 1];
    return memcmp(dst->b, r->hi, 16) <= 0 ? r->sensor : -1;
}

uint64_t ds_darknet_v4_addresses(const ds_darknet *d, size_t sensor)
{
    return sensor < d->nsensors ? d->v4count[sensor] : 0;
}

void ds_darknet_free(ds_darknet *d)
{
    if (!d)
        return;
    free(d->r4);
    free(d->r6);
    free(d->v4count);
    free(d);
}
