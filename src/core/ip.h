/* ip.h: an IPv4 or IPv6 address as one value type.
 * IPv4 addresses are held in b[0..3] (network order) with the remaining bytes zero, so that
 * hashing and comparing 17 bytes treats both families alike without a branch. */
#ifndef DS_IP_H
#define DS_IP_H
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct ds_ip {
    uint8_t b[16];
    uint8_t v6;   /* 0 = IPv4, 1 = IPv6 */
} ds_ip;

#define DS_IP_STRLEN 46

static inline void ds_ip_set4(ds_ip *ip, uint32_t host_order)
{
    memset(ip, 0, sizeof *ip);
    ip->b[0] = (uint8_t)(host_order >> 24);
    ip->b[1] = (uint8_t)(host_order >> 16);
    ip->b[2] = (uint8_t)(host_order >> 8);
    ip->b[3] = (uint8_t)host_order;
}
static inline uint32_t ds_ip_v4(const ds_ip *ip)
{
    return (uint32_t)ip->b[0] << 24 | (uint32_t)ip->b[1] << 16 | (uint32_t)ip->b[2] << 8 | ip->b[3];
}
static inline int ds_ip_eq(const ds_ip *a, const ds_ip *b)
{
    return a->v6 == b->v6 && memcmp(a->b, b->b, 16) == 0;
}
/* Parse dotted quad or IPv6 text.  Returns 0 on success. */
int ds_ip_parse(const char *s, ds_ip *out);
/* Format into buf (>= DS_IP_STRLEN bytes); returns buf. */
char *ds_ip_format(const ds_ip *ip, char *buf, size_t len);

#endif
