/* payload.h: tools and worms named by the bytes they send, from a table kept as data.
 *
 * Header fingerprints (fingerprint.h) name tools by constants in their templates; some tools and
 * worms are named more directly by their payload: SIP scanners announce themselves in the
 * User-Agent header, SQL Slammer is one 376-byte UDP datagram to 1434, Nachi/Welchia pings carry
 * 64 bytes of 0xAA.  The patterns live in data/payload-tools.tsv (sources cited there and in
 * docs/detection.md), so adding a User-Agent is a data change.  The tools themselves are fixed
 * bits of the `tools` byte (DS_TOOL_SIPVICIOUS ... in fingerprint.h): a table row names one.
 *
 * Table lines (tab-separated; `#` starts a comment line; blank lines are skipped):
 *
 *   tool  proto  port  match  pattern  source
 *
 *   tool     a payload tool name of fingerprint.h (sipvicious, sip-other, slammer, nachi)
 *   proto    tcp | udp | icmp | icmp6
 *   port     destination port (TCP/UDP) or ICMP type, or * for any
 *   match    contains   the payload holds the pattern bytes
 *            icontains  the same, ASCII letters compared without case (SIP header names and
 *                       values are case-insensitive, RFC 3261 section 7.3.1)
 *            sip-icontains  icontains, in a SIP request only: the first line (after any empty
 *                       lines, RFC 3261 section 7.5) is Method SP Request-URI SP SIP/2.0
 *                       (section 7.1), never a response's status line (SIP/2.0 200 OK): a
 *                       PBX answering a scanner echoes its From header and is no scanner
 *            prefix     the payload starts with the pattern bytes
 *            length     the payload is exactly N bytes on the wire (pattern: N)
 *            fill       every payload byte is B, and there are at least N (pattern: 0xBB/N)
 *   pattern  text; \xHH, \t, \r, \n and \\ are escapes
 *   source   free text: where the pattern comes from
 *
 * A tool is attributed to a source when any of its packets matches any row of the tool: the
 * patterns are specific enough that one match is evidence (unlike a 16-bit IP ID).
 *
 * Cost: only packets with a payload whose (protocol, port) appears in the table are tested; the
 * test before that is one bit in a 32 KiB map.
 */
#ifndef DS_PAYLOAD_H
#define DS_PAYLOAD_H
#include <stddef.h>
#include <stdint.h>

#include "core/packet.h"
#include "util/result.h"

#define DS_PAYLOAD_MAX_PATTERN 128
#define DS_PAYLOAD_MAX_RULES 256

typedef enum ds_payload_match {
    DS_PM_CONTAINS,
    DS_PM_ICONTAINS,
    DS_PM_SIP_ICONTAINS,
    DS_PM_PREFIX,
    DS_PM_LENGTH,
    DS_PM_FILL,
} ds_payload_match;

typedef struct ds_payload_rule {
    unsigned tool;                 /* one DS_TOOL_* bit */
    uint8_t proto;                 /* IANA protocol number */
    int32_t port;                  /* port or ICMP type; -1: any */
    ds_payload_match match;
    uint32_t n;                    /* length: exact length; fill: minimum length */
    uint8_t fill;                  /* fill: the byte */
    uint8_t pat[DS_PAYLOAD_MAX_PATTERN];
    uint32_t patlen;
} ds_payload_rule;

typedef struct ds_payload_table {
    ds_payload_rule rules[DS_PAYLOAD_MAX_RULES];
    size_t n;
    uint8_t ports[4][8192];        /* per protocol (tcp, udp, icmp, icmp6): bit per port with a rule */
} ds_payload_table;

/* Parse a table from text (the file's bytes; `name` names it in errors, with the line number).
 * *out is allocated; free it with ds_payload_free. */
ds_rc ds_payload_parse(const char *text, size_t len, const char *name, ds_payload_table **out, ds_err *err);
void ds_payload_free(ds_payload_table *t);

/* 1 when p[0..n) starts with a SIP request line (RFC 3261 section 7.1), 0 for a response or
 * anything else. */
int ds_payload_sip_request(const uint8_t *p, size_t n);
/* The DS_TOOL_* bits the rules match on p, leaving out the rules of tools in `known` (those the
 * source was already attributed to: one match is all a tool needs).  The pre-check, inline, is
 * all most packets pay. */
unsigned ds_payload_match_rules(const ds_payload_table *t, const ds_pkt *p, unsigned known);
static inline int ds_payload_proto_index(uint8_t proto)
{
    return proto == 6 ? 0 : proto == 17 ? 1 : proto == 1 ? 2 : proto == 58 ? 3 : -1;
}
static inline unsigned ds_payload_tools(const ds_payload_table *t, const ds_pkt *p, unsigned known)
{
    if (!t || !p->payload_len || !(p->have & DS_HAVE_L4))
        return 0;
    int pi = ds_payload_proto_index(p->proto);
    if (pi < 0)
        return 0;
    unsigned port = pi >= 2 ? p->icmp_type : p->dport;
    if (!(t->ports[pi][port >> 3] >> (port & 7) & 1))
        return 0;
    return ds_payload_match_rules(t, p, known);
}

#endif
