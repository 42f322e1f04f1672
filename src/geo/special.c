/* special.c: special-purpose addresses, which geo answers as ZZ / AS0 whatever its data says.
 *
 * The ranges are those of IANA's IPv4 and IPv6 Special-Purpose Address Registries (RFC 6890,
 * updated by RFC 8190), as of 2024, that are not globally reachable, plus IPv4 multicast and the
 * reserved 240/4 (which holds the limited broadcast 255.255.255.255).  Where the registry lists a
 * globally reachable block inside a larger one that is not (192.0.0.9 and .10 in 192.0.0.0/24,
 * five blocks inside 2001::/23), the smaller block is not special, as the registry says.  Blocks
 * whose reachability the registry gives as "N/A" carry real hosts' traffic and are not special:
 * Teredo 2001::/32 (RFC 4380) and 6to4 2002::/16 (RFC 3056).  As a darknet source, an address
 * here is spoofed or leaked from a private network; it has no country, even when the upstream
 * data gives it one (the ip-location-db data says AU for 192.168/16 and 172.16/12).
 *
 * A few compares, by the first byte: this runs once per new source, beside a binary search.
 */
#include "geo/geo.h"

int ds_geo_special4(uint32_t a)
{
    switch (a >> 24) {
    case 0:                                  /* 0/8 "this network" (RFC 791, RFC 1122 3.2.1.3) */
    case 10:                                 /* 10/8 private (RFC 1918) */
    case 127:                                /* 127/8 loopback (RFC 1122 3.2.1.3) */
        return 1;
    case 100:                                /* 100.64/10 shared address space (RFC 6598) */
        return (a & 0xffc00000u) == 0x64400000u;
    case 169:                                /* 169.254/16 link local (RFC 3927) */
        return (a & 0xffff0000u) == 0xa9fe0000u;
    case 172:                                /* 172.16/12 private (RFC 1918) */
        return (a & 0xfff00000u) == 0xac100000u;
    case 192:
        if ((a & 0xffffff00u) == 0xc0000000u)   /* 192.0.0/24 IETF protocol assignments (RFC 6890),
                                                 * but for the anycast .9 (RFC 7723) and .10 (RFC 8155) */
            return a != 0xc0000009u && a != 0xc000000au;
        return (a & 0xffffff00u) == 0xc0000200u     /* 192.0.2/24 TEST-NET-1 (RFC 5737) */
            || (a & 0xffffff00u) == 0xc0586300u     /* 192.88.99/24 6to4 relay anycast, deprecated (RFC 7526) */
            || (a & 0xffff0000u) == 0xc0a80000u;    /* 192.168/16 private (RFC 1918) */
    case 198:
        return (a & 0xfffe0000u) == 0xc6120000u     /* 198.18/15 benchmarking (RFC 2544) */
            || (a & 0xffffff00u) == 0xc6336400u;    /* 198.51.100/24 TEST-NET-2 (RFC 5737) */
    case 203:                                /* 203.0.113/24 TEST-NET-3 (RFC 5737) */
        return (a & 0xffffff00u) == 0xcb007100u;
    default:                                 /* 224/4 multicast (RFC 5771, RFC 1112 4); 240/4
                                              * reserved (RFC 1112 4) with 255.255.255.255 (RFC 919) */
        return a >= 0xe0000000u;
    }
}

int ds_geo_special6(uint64_t hi, uint64_t lo)
{
    if (hi == 0 && ((lo >> 32) == 0 || (lo >> 32) == 0xffff))
        return ds_geo_special4((uint32_t)lo);   /* ::/96 (with :: and ::1, RFC 4291 2.5.2-3, which
                                                 * fall in 0/8) and IPv4-mapped ::ffff:0:0/96
                                                 * (RFC 4291 2.5.5.2): the embedded IPv4 address */
    switch (hi >> 48) {
    case 0x0064:
        if (hi == 0x0064ff9b00000000ull && (lo >> 32) == 0)
            return ds_geo_special4((uint32_t)lo);   /* 64:ff9b::/96 NAT64 (RFC 6052): its IPv4 */
        return (hi >> 16) == 0x0064ff9b0001ull;     /* 64:ff9b:1::/48 local translation (RFC 8215) */
    case 0x0100:                                    /* 100::/64 discard-only (RFC 6666) */
        return hi == 0x0100000000000000ull;
    case 0x2001:
        if ((hi >> 32) == 0x20010db8ull)            /* 2001:db8::/32 documentation (RFC 3849) */
            return 1;
        if ((hi >> 41) != (0x2001000000000000ull >> 41))
            return 0;                               /* 2001::/23 IETF protocol assignments (RFC 2928),
                                                     * less what the registry says is reachable: */
        if ((hi >> 32) == 0x20010000ull              /* 2001::/32 Teredo (RFC 4380): N/A */
            || (hi == 0x2001000100000000ull && (lo == 1 || lo == 2))   /* 2001:1::1, ::2 anycast (RFC 7723, 8155) */
            || (hi >> 32) == 0x20010003ull          /* 2001:3::/32 AMT (RFC 7450) */
            || (hi >> 16) == 0x200100040112ull      /* 2001:4:112::/48 AS112-v6 (RFC 7535) */
            || (hi >> 36) == 0x2001002ull           /* 2001:20::/28 ORCHIDv2 (RFC 7343) */
            || (hi >> 36) == 0x2001003ull)          /* 2001:30::/28 drone remote ID (RFC 9374) */
            return 0;
        return 1;
    case 0x3fff:                                    /* 3fff::/20 documentation (RFC 9637) */
        return (hi >> 44) == 0x3fff0ull;
    case 0x5f00:                                    /* 5f00::/16 SRv6 SIDs (RFC 9602) */
        return 1;
    default:
        return (hi >> 57) == 0x7eull                /* fc00::/7 unique local (RFC 4193) */
            || (hi >> 55) == 0x1fdull               /* fe80::/10 link local (RFC 4291 2.5.6) and
                                                     * fec0::/10 site local, deprecated (RFC 3879) */
            || (hi >> 56) == 0xffull;               /* ff00::/8 multicast (RFC 4291 2.7) */
    }
}

static uint64_t be64(const uint8_t *b)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | b[i];
    return v;
}

int ds_geo_special(const ds_ip *ip)
{
    return ip->v6 ? ds_geo_special6(be64(ip->b), be64(ip->b + 8)) : ds_geo_special4(ds_ip_v4(ip));
}
