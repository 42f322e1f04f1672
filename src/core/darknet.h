/* darknet.h: which sensor's dark address space holds a destination address.
 *
 * A ds_darknet is built once from every sensor's prefixes and then only read, by any number
 * of threads.  Lookups are a binary search over disjoint sorted ranges; overlapping prefixes
 * of different sensors are refused at build time (a packet must count for one sensor only).
 */
#ifndef DS_DARKNET_H
#define DS_DARKNET_H
#include <stddef.h>
#include <stdint.h>

#include "core/ip.h"
#include "util/result.h"

typedef struct ds_prefix {
    ds_ip addr;    /* network address (host bits cleared) */
    uint8_t len;   /* prefix length */
} ds_prefix;

/* Parse "198.51.100.0/24" or "2001:db8::/64" (a bare address is a /32 or /128).  Host bits
 * set in the address are an error, as they usually mean a typo.  0 on success. */
int ds_prefix_parse(const char *s, ds_prefix *out);
/* The same, clearing host bits instead of refusing them: for third-party lists, where
 * "192.0.2.1/24" plainly means 192.0.2.0/24. */
int ds_prefix_parse_masked(const char *s, ds_prefix *out);
char *ds_prefix_format(const ds_prefix *p, char *buf, size_t len);
/* Why ds_prefix_parse refuses s, for the error message: "octet 3 is 300, over 255", "prefix
 * length 33 is over 32 for IPv4", "host bits set below /24 (the network is 198.51.100.0/24)",
 * ...  Writes "" and returns 0 when s parses. */
int ds_prefix_explain(const char *s, char *buf, size_t len);

typedef struct ds_darknet ds_darknet;

/* sensor i, named names[i] (for messages; may be NULL), owns prefixes[i][0..counts[i]) */
ds_rc ds_darknet_build(ds_darknet **out, const ds_prefix *const *prefixes, const size_t *counts,
                       const char *const *names, size_t nsensors, ds_err *err);
/* Sensor index holding dst, or -1 when dst is in no darknet. */
int ds_darknet_find(const ds_darknet *d, const ds_ip *dst);
/* Same, also giving the index of dst among the sensor's IPv4 addresses (0 for IPv6), so that
 * small darknets can keep exact per-address bitmaps. */
int ds_darknet_find_offset(const ds_darknet *d, const ds_ip *dst, uint32_t *offset);
/* Number of IPv4 addresses sensor i monitors (IPv6 space is not counted: per-address rates
 * are IPv4 figures, as the published reports state them). */
uint64_t ds_darknet_v4_addresses(const ds_darknet *d, size_t sensor);
void ds_darknet_free(ds_darknet *d);

#endif
