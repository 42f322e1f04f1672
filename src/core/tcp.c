/* tcp.c: the TCP header (RFC 9293 section 3.1) and the options a telescope cares about.
 *
 * The 20-byte base header gives ports, sequence and acknowledgment numbers, flags and window;
 * that is what classification needs, so a capture that holds the base header but cuts the
 * options is still DS_PKT_OK (options then count only as far as captured).  Data offset < 5,
 * or a header longer than the IP payload, is MALFORMED.
 *
 * The option walk (RFC 9293 section 3.2) records the MSS value (kind 2, RFC 9293 3.7.1) and the
 * timestamp option's TSval (kind 8, RFC 7323 section 3: Nmap's OS probes all send 0xFFFFFFFF) and
 * counts options other than EOL/NOP: scanners are told apart by their SYN option layout
 * (masscan and Mirai send none, ZMap sends only MSS, real stacks send four or five).  The walk
 * stops quietly at EOL, at a length < 2 or at one that runs past the header: a bad option
 * list does not make the packet unusable for counting.
 */
#include "core/decode_int.h"

enum { TCPOPT_EOL = 0, TCPOPT_NOP = 1, TCPOPT_MSS = 2, TCPOPT_TS = 8 };

static void tcp_options(const uint8_t *opt, size_t len, ds_pkt *out)
{
    ds_cur c = ds_cur_make(opt, len);
    unsigned kinds = 0;
    while (c.left > 0) {
        uint8_t kind = c.p[0];
        if (kind == TCPOPT_EOL)
            break;
        if (kind == TCPOPT_NOP) {
            ds_cur_skip(&c, 1);
            continue;
        }
        uint8_t olen = ds_peek_u8(&c, 1);
        if (!ds_cur_ok(&c) || olen < 2 || olen > c.left)
            break;
        kinds++;
        if (kind == TCPOPT_MSS && olen == 4)
            out->tcp_mss = ds_peek_be16(&c, 2);
        if (kind == TCPOPT_TS && olen == 10) {
            out->tcp_tsval = ds_peek_be32(&c, 2);
            out->have |= DS_HAVE_TCPTS;
        }
        ds_cur_skip(&c, olen);
    }
    out->tcp_opt_kinds = (uint8_t)kinds;   /* at most 20 options fit in 40 bytes */
}

ds_outcome ds_dec_tcp(const uint8_t *p, size_t len, size_t claimed, ds_pkt *out)
{
    if (claimed < 20)
        return DS_PKT_MALFORMED;
    if (len < 20)
        return DS_PKT_TRUNCATED;
    out->sport = (uint16_t)(p[0] << 8 | p[1]);
    out->dport = (uint16_t)(p[2] << 8 | p[3]);
    out->tcp_seq = (uint32_t)p[4] << 24 | (uint32_t)p[5] << 16 | (uint32_t)p[6] << 8 | p[7];
    out->tcp_ack = (uint32_t)p[8] << 24 | (uint32_t)p[9] << 16 | (uint32_t)p[10] << 8 | p[11];
    out->tcp_flags = p[13];
    out->tcp_win = (uint16_t)(p[14] << 8 | p[15]);
    out->have |= DS_HAVE_L4;

    size_t hl = (size_t)(p[12] >> 4) * 4;
    if (hl < 20 || hl > claimed)
        return DS_PKT_MALFORMED;
    out->tcp_optlen = (uint8_t)(hl - 20);
    if (hl > 20) {
        size_t optcap = (hl < len ? hl : len) - 20;
        tcp_options(p + 20, optcap, out);
    }
    if (len > hl) {
        out->payload = p + hl;
        out->payload_len = (uint32_t)(len - hl);
    }
    return DS_PKT_OK;
}
