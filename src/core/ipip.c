/* ipip.c: IP in IP.  Protocol 4 carries an IPv4 packet (RFC 2003; also IPv4 in IPv6, RFC 2473),
 * protocol 41 an IPv6 packet (6in4, RFC 4213; IPv6 in IPv6, RFC 2473).  There is no header between
 * the two: the inner packet starts the outer one's payload, and its version must be the one the
 * protocol number says (else MALFORMED, as for an EtherType).  The inner packet replaces the
 * outer one (ds_tunnel_enter): one cut before its addresses is TRUNCATED with no address.
 */
#include "core/decode_int.h"

ds_outcome ds_dec_ipip(uint8_t proto, const uint8_t *p, size_t len, ds_pkt *out)
{
    if (!ds_tunnel_enter(out, DS_ENC_IPIP))
        return DS_PKT_MALFORMED;
    return proto == DS_IPPROTO_IPIP ? ds_dec_ipv4(p, len, out) : ds_dec_ipv6(p, len, out);
}
