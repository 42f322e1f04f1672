/* fingerprint.c: tool names for the bits of fingerprint.h (header fingerprints, then payload tools). */
#include "core/fingerprint.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

/* BER (X.690): a length at p[*i] in short or 1-2 byte long form; -1 when it is none of those or
 * runs past n */
static long ber_len(const uint8_t *p, size_t n, size_t *i)
{
    if (*i >= n)
        return -1;
    uint8_t b = p[(*i)++];
    if (b < 0x80)
        return b;
    size_t k = b & 0x7f;
    if (k < 1 || k > 2 || k > n - *i)
        return -1;
    long v = 0;
    while (k--)
        v = v << 8 | p[(*i)++];
    return v;
}

/* The request-id of an SNMP (RFC 3416) request: SEQUENCE { INTEGER version, OCTET STRING
 * community, PDU { INTEGER request-id, ... } }, the PDU a request: Get [0], GetNext [1], Set [3] or
 * GetBulk [5] (a Response [2] or a Trap [4] is an agent's, not a scanner's) */
static int snmp_request_id(const uint8_t *p, size_t n, uint32_t *id)
{
    size_t i = 0;
    long l;
    if (n < 2 || p[i++] != 0x30 || (l = ber_len(p, n, &i)) < 0)
        return 0;
    if (i >= n || p[i++] != 0x02 || (l = ber_len(p, n, &i)) < 1 || (size_t)l > n - i)   /* version */
        return 0;
    i += (size_t)l;
    if (i >= n || p[i++] != 0x04 || (l = ber_len(p, n, &i)) < 0 || (size_t)l > n - i)   /* community */
        return 0;
    i += (size_t)l;
    if (i >= n || (p[i] != 0xa0 && p[i] != 0xa1 && p[i] != 0xa3 && p[i] != 0xa5))   /* a request PDU */
        return 0;
    i++;
    if (ber_len(p, n, &i) < 0)
        return 0;
    if (i >= n || p[i++] != 0x02 || (l = ber_len(p, n, &i)) < 1 || l > 5 || (size_t)l > n - i)
        return 0;
    uint32_t v = 0;
    for (long k = 0; k < l; k++)
        v = v << 8 | p[i + (size_t)k];
    *id = v;
    return 1;
}

int ds_masscan_udp_cookie(const ds_pkt *p, uint32_t *cookie)
{
    const uint8_t *d = p->payload;
    size_t n = p->payload_len;
    if (!d)
        return 0;
    if (p->dport == 53 && n >= 12 && !(d[2] & 0x80)) {   /* a DNS query: QR clear */
        *cookie = (uint32_t)(d[0] << 8 | d[1]);
        return 1;
    }
    if (p->dport == 161)
        return snmp_request_id(d, n, cookie);
    return 0;
}

static const char *const TOOL_NAMES[] = { "mirai", "zmap", "masscan", "nmap", "sipvicious", "sip-other", "slammer", "nachi" };

unsigned ds_tool_parse(const char *name)
{
    for (unsigned i = 0; i < sizeof TOOL_NAMES / sizeof TOOL_NAMES[0]; i++)
        if (strcasecmp(name, TOOL_NAMES[i]) == 0)
            return 1u << i;
    return 0;
}

char *ds_tools_format(unsigned tools, char *buf, unsigned long len)
{
    size_t used = 0;
    if (len)
        buf[0] = 0;
    for (unsigned i = 0; i < sizeof TOOL_NAMES / sizeof TOOL_NAMES[0]; i++) {
        if (!(tools >> i & 1))
            continue;
        int n = snprintf(buf + used, len > used ? len - used : 0, "%s%s", used ? "," : "", TOOL_NAMES[i]);
        if (n < 0 || (size_t)n >= len - used) {   /* whole names only */
            if (len)
                buf[used] = 0;
            break;
        }
        used += (size_t)n;
    }
    return buf;
}
