/* geo.h: source region (ISO 3166 alpha-2) and origin ASN + organisation of an address.
 *
 * Inputs (each optional): a country file and an ASN file, each either
 *  - an MMDB file (libmaxminddb): GeoLite2 layout (country.iso_code; autonomous_system_number,
 *    autonomous_system_organization) or the flat ip-location-db layout (country_code; asn?), or
 *  - an @ip-location-db CSV range file: `start,end,country` or `start,end,asn,org`
 *    (start/end as addresses or as integers).
 * A path may name a directory holding such files (e.g. data/geo/country): every IPv4/IPv6
 * file in it is loaded.  Lookups are read-only and thread-safe after open.
 */
#ifndef DS_GEO_H
#define DS_GEO_H
#include <stdint.h>

#include "core/ip.h"
#include "util/result.h"

typedef struct ds_geo ds_geo;

typedef struct ds_geo_info {
    char cc[3];       /* "JP"; "ZZ" when unknown or special-purpose (ds_geo_special) */
    uint32_t asn;     /* 0 when unknown */
} ds_geo_info;

ds_rc ds_geo_open(ds_geo **out, const char *country_path, const char *asn_path, ds_err *err);
void ds_geo_lookup(const ds_geo *g, const ds_ip *ip, ds_geo_info *out);
/* Organisation name of an ASN ("" when unknown).  The pointer lives as long as g. */
const char *ds_geo_asn_org(const ds_geo *g, uint32_t asn);
void ds_geo_close(ds_geo *g);

/* Nonzero for a special-purpose address that is not globally reachable (IANA's IPv4 and IPv6
 * Special-Purpose Address Registries, RFC 6890): private, shared, loopback, link local,
 * documentation, benchmarking, multicast, reserved, ...; IPv4-mapped and ::/96 IPv6 by their
 * IPv4 address.  ds_geo_lookup answers these ZZ / AS0 whatever the data says (docs/geo.md).
 * special4 takes an IPv4 address in host order, special6 an IPv6 one as two big-endian halves. */
int ds_geo_special(const ds_ip *ip);
int ds_geo_special4(uint32_t a);
int ds_geo_special6(uint64_t hi, uint64_t lo);

#endif
