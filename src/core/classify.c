/* classify.c: destination service key and traffic class of a decoded packet.
 *
 * Service: TCP/UDP by destination port, ICMP/ICMPv6 by type, any other IP protocol by its
 * number alone ("47/ip").  Keys are what a CSIRT analyst types: "23/tcp", "8/icmp".
 *
 * Class follows the RS-DoS (randomly spoofed denial of service) backscatter definition of
 * CAIDA's corsaro3, corsaro_is_backscatter_packet() in libcorsaro/libcorsaro_plugin.c
 * (https://github.com/CAIDA/corsaro3): TCP SYN+ACK or any RST, and ICMP types 0, 3, 4, 5,
 * 11, 12, 14, 16, 18 are answers to packets that carried one of our addresses as a forged
 * source.  corsaro3 does not treat ICMPv6; we apply the same idea (echo reply 129, errors
 * 1-4).  Scans are the first packets of a probe: TCP SYN without ACK, any UDP, echo
 * requests.  Everything else is "other".  A TCP packet with both SYN and RST set is
 * backscatter, as in corsaro3, because RST is tested first.
 *
 * UDP from a port of a service used for reflection and amplification (Rossow, "Amplification
 * Hell", NDSS 2014, table 1; US-CERT TA14-017A, "UDP-Based Amplification Attacks") to an
 * unprivileged port (>= 1024) is the answer to a request that carried a darknet address as its
 * forged source: backscatter, not scan.  A request goes to the service's port; its answer comes
 * from it, to whatever port the forged request named.  A probe sent from port 53 or 123 to a
 * service port (nmap -g 53) stays a scan, except a DNS response from 53 (udp_reply).
 */
#include "core/classify.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

ds_service ds_service_of(const ds_pkt *p)
{
    switch (p->proto) {
    case DS_PROTO_TCP:
    case DS_PROTO_UDP:
        return DS_SERVICE(p->proto, p->dport);
    case DS_PROTO_ICMP:
    case DS_PROTO_ICMP6:
        return DS_SERVICE(p->proto, p->icmp_type);
    default:
        return DS_SERVICE(p->proto, 0);
    }
}

/* UDP ports of amplification services (Rossow 2014; US-CERT TA14-017A, its 2014-2019 revisions):
 * QOTD 17, CharGen 19, DNS 53, TFTP 69, portmap 111, NTP 123, NetBIOS 137, SNMP 161, CLDAP 389,
 * RIPv1 520, SSDP 1900, ARD 3283, WS-Discovery 3702, mDNS 5353, CoAP 5683, memcached 11211,
 * Steam 27015, Quake 3 27960.  And vectors found in attacks since (docs/decoding.md cites each):
 * SLP 427 (CVE-2023-29552), IKE 500 and its NAT traversal 4500 (StopDDoS's amp.UDP.isakmp),
 * MS SQL resolution 1434, NAT-PMP 5351, Ubiquiti discovery 10001, Mitel TP240 10074
 * (CVE-2022-26143), Plex 32414, Jenkins discovery 33848 (CVE-2020-2100), Dahua DHDiscover 37810,
 * BACnet 47808 (StopDDoS's amp.UDP.bacnet.IOT.37810: 9,462 replies from 47808 and 37810 to one
 * address, which were read as a flood aimed at the darknet before).  Sorted. */
static const uint16_t AMP_PORTS[] = { 17, 19, 53, 69, 111, 123, 137, 161, 389, 427, 500, 520, 1434, 1900, 3283,
                                      3702, 4500, 5351, 5353, 5683, 10001, 10074, 11211, 27015, 27960, 32414,
                                      33848, 37810, 47808 };

/* A DNS response (RFC 1035 4.1.1: QR set, standard query opcode, one question) in payload. */
static int dns_response(const uint8_t *payload, uint32_t len)
{
    return payload && len >= 12 && (payload[2] & 0x80) && ((payload[2] >> 3) & 0x0f) == 0 && payload[4] == 0 &&
           payload[5] == 1;
}

int ds_udp_amp_reply(uint16_t sport, uint16_t dport)
{
    if (dport < 1024)
        return 0;
    for (size_t i = 0; i < sizeof AMP_PORTS / sizeof AMP_PORTS[0]; i++)
        if (AMP_PORTS[i] == sport)
            return sport != dport;
    return 0;
}

/* ds_udp_amp_reply, and a DNS response from 53 to any port but 53: a reflection names the victim's
 * port, often a service's (StopDDoS's amp.dns.RRSIG.fragmented: answers to 22/udp), where a probe
 * sent from port 53 (nmap -g 53) carries a query or no DNS message at all. */
static int udp_reply(const ds_pkt *p)
{
    if (ds_udp_amp_reply(p->sport, p->dport))
        return 1;
    return p->sport == 53 && p->dport != 53 && dns_response(p->payload, p->payload_len);
}

ds_class ds_class_of(const ds_pkt *p)
{
    if (!(p->have & DS_HAVE_L4))
        return DS_CLASS_OTHER;
    switch (p->proto) {
    case DS_PROTO_TCP: {
        uint8_t f = p->tcp_flags;
        if ((f & DS_TH_RST) || (f & (DS_TH_SYN | DS_TH_ACK)) == (DS_TH_SYN | DS_TH_ACK))
            return DS_CLASS_BACKSCATTER;
        if (f & DS_TH_SYN)
            return DS_CLASS_SCAN;
        return DS_CLASS_OTHER;
    }
    case DS_PROTO_UDP:
        return udp_reply(p) ? DS_CLASS_BACKSCATTER : DS_CLASS_SCAN;
    case DS_PROTO_ICMP:
        switch (p->icmp_type) {
        case 8:
            return DS_CLASS_SCAN;
        case 0: case 3: case 4: case 5: case 11: case 12: case 14: case 16: case 18:
            return DS_CLASS_BACKSCATTER;
        default:
            return DS_CLASS_OTHER;
        }
    case DS_PROTO_ICMP6:
        if (p->icmp_type == 128)
            return DS_CLASS_SCAN;
        if (p->icmp_type == 129 || (p->icmp_type >= 1 && p->icmp_type <= 4))
            return DS_CLASS_BACKSCATTER;
        return DS_CLASS_OTHER;
    default:
        return DS_CLASS_OTHER;
    }
}

static const char *const class_names[DS_CLASS__COUNT] = { "scan", "backscatter", "other" };

const char *ds_class_name(ds_class c)
{
    return (unsigned)c < DS_CLASS__COUNT ? class_names[c] : "?";
}

int ds_class_parse(const char *s, ds_class *out)
{
    for (unsigned i = 0; i < DS_CLASS__COUNT; i++) {
        if (strcasecmp(s, class_names[i]) == 0) {
            *out = (ds_class)i;
            return 0;
        }
    }
    return -1;
}

/* Name for the protocols that have one; NULL for "N/ip". */
static const char *proto_name(uint8_t proto)
{
    switch (proto) {
    case DS_PROTO_TCP: return "tcp";
    case DS_PROTO_UDP: return "udp";
    case DS_PROTO_ICMP: return "icmp";
    case DS_PROTO_ICMP6: return "icmp6";
    default: return NULL;
    }
}

char *ds_service_format(ds_service s, char *buf, size_t len)
{
    if (!buf || len == 0)
        return buf;
    uint8_t proto = DS_SERVICE_PROTO(s);
    const char *name = proto_name(proto);
    if (name)
        snprintf(buf, len, "%u/%s", (unsigned)DS_SERVICE_VALUE(s), name);
    else
        snprintf(buf, len, "%u/ip", (unsigned)proto);
    return buf;
}

char *ds_service_label(ds_service s, char *buf, size_t len)
{
    ds_service_format(s, buf, len);
    for (char *p = buf ? strchr(buf, '/') : NULL; p && *p; p++)
        if (*p >= 'a' && *p <= 'z')
            *p = (char)(*p - 'a' + 'A');
    return buf;
}

int ds_service_parse(const char *s, ds_service *out)
{
    if (!s)
        return -1;
    /* Digits only: no sign, no space, no hex; at most 5 of them (65535). */
    unsigned long value = 0;
    size_t ndigits = 0;
    while (s[ndigits] >= '0' && s[ndigits] <= '9') {
        if (ndigits == 5)
            return -1;
        value = value * 10 + (unsigned long)(s[ndigits] - '0');
        ndigits++;
    }
    if (ndigits == 0 || s[ndigits] != '/')
        return -1;
    const char *name = s + ndigits + 1;

    if (strcasecmp(name, "tcp") == 0 || strcasecmp(name, "udp") == 0) {
        if (value > 65535)
            return -1;
        *out = DS_SERVICE(name[0] == 't' || name[0] == 'T' ? DS_PROTO_TCP : DS_PROTO_UDP, value);
        return 0;
    }
    if (strcasecmp(name, "icmp") == 0 || strcasecmp(name, "icmp6") == 0) {
        if (value > 255)
            return -1;
        *out = DS_SERVICE(name[4] ? DS_PROTO_ICMP6 : DS_PROTO_ICMP, value);
        return 0;
    }
    if (strcasecmp(name, "ip") == 0) {
        /* "6/ip" would be the same key as "0/tcp" prints as; make the user say what they mean. */
        if (value > 255 || proto_name((uint8_t)value))
            return -1;
        *out = DS_SERVICE(value, 0);
        return 0;
    }
    return -1;
}
