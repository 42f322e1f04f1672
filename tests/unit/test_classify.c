/* test_classify.c: service keys and traffic classes (core/classify.h).
 *
 * Packets are filled in directly (not decoded) so each rule is tested on its own: the class
 * rules follow corsaro3's RS-DoS backscatter definition, see docs/decoding.md.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/classify.h"

static ds_pkt pkt(uint8_t proto, int l4)
{
    ds_pkt p;
    memset(&p, 0, sizeof p);
    p.have = DS_HAVE_IP | (l4 ? DS_HAVE_L4 : 0);
    p.proto = proto;
    return p;
}

static ds_class tcp_class(uint8_t flags)
{
    ds_pkt p = pkt(DS_PROTO_TCP, 1);
    p.tcp_flags = flags;
    return ds_class_of(&p);
}

static ds_class icmp_class(uint8_t proto, uint8_t type)
{
    ds_pkt p = pkt(proto, 1);
    p.icmp_type = type;
    return ds_class_of(&p);
}

static void test_tcp_classes(void **state)
{
    (void)state;
    assert_int_equal(tcp_class(DS_TH_SYN), DS_CLASS_SCAN);
    assert_int_equal(tcp_class(DS_TH_SYN | DS_TH_ECE | DS_TH_CWR), DS_CLASS_SCAN);
    assert_int_equal(tcp_class(DS_TH_SYN | DS_TH_ACK), DS_CLASS_BACKSCATTER);
    assert_int_equal(tcp_class(DS_TH_RST), DS_CLASS_BACKSCATTER);
    assert_int_equal(tcp_class(DS_TH_RST | DS_TH_ACK), DS_CLASS_BACKSCATTER);
    assert_int_equal(tcp_class(DS_TH_SYN | DS_TH_RST), DS_CLASS_BACKSCATTER);   /* corsaro3: any RST */
    assert_int_equal(tcp_class(DS_TH_ACK), DS_CLASS_OTHER);
    assert_int_equal(tcp_class(DS_TH_FIN | DS_TH_ACK), DS_CLASS_OTHER);
    assert_int_equal(tcp_class(DS_TH_PUSH | DS_TH_ACK), DS_CLASS_OTHER);
    assert_int_equal(tcp_class(0), DS_CLASS_OTHER);                             /* NULL scan */
    assert_int_equal(tcp_class(DS_TH_FIN | DS_TH_PUSH | DS_TH_URG), DS_CLASS_OTHER); /* Xmas */
}

static void test_udp_and_other(void **state)
{
    (void)state;
    ds_pkt p = pkt(DS_PROTO_UDP, 1);
    p.dport = 53;
    assert_int_equal(ds_class_of(&p), DS_CLASS_SCAN);
    assert_int_equal(ds_service_of(&p), DS_SERVICE(17, 53));
    p = pkt(47, 0);
    assert_int_equal(ds_class_of(&p), DS_CLASS_OTHER);
    assert_int_equal(ds_service_of(&p), DS_SERVICE(47, 0));
    p = pkt(50, 0);
    assert_int_equal(ds_class_of(&p), DS_CLASS_OTHER);
    p = pkt(132, 0);
    assert_int_equal(ds_class_of(&p), DS_CLASS_OTHER);
    assert_int_equal(ds_service_of(&p), DS_SERVICE(132, 0));
}

/* UDP from an amplification service's port to an unprivileged port is an answer to a request
 * that carried a dark address as its forged source (issue #20: backscatter, not scan) */
static void test_udp_amplification_replies(void **state)
{
    (void)state;
    static const uint16_t amp[] = { 17, 19, 53, 69, 111, 123, 137, 161, 389, 427, 500, 520, 1434, 1900, 3283, 3702,
                                    4500, 5351, 5353, 5683, 10001, 10074, 11211, 27015, 27960, 32414, 33848, 37810,
                                    47808 };
    for (size_t i = 0; i < sizeof amp / sizeof amp[0]; i++) {
        ds_pkt p = pkt(DS_PROTO_UDP, 1);
        p.sport = amp[i];
        p.dport = 41234;
        assert_int_equal(ds_class_of(&p), DS_CLASS_BACKSCATTER);
        assert_int_equal(ds_service_of(&p), DS_SERVICE(17, 41234));   /* keyed by destination port, as ever */
        p.dport = 1024;
        assert_int_equal(ds_class_of(&p), DS_CLASS_BACKSCATTER);
        p.dport = 1023;   /* to a service port: a probe sent from a fixed source port (nmap -g 53) */
        assert_int_equal(ds_class_of(&p), DS_CLASS_SCAN);
    }
    ds_pkt p = pkt(DS_PROTO_UDP, 1);
    p.sport = 1900;   /* SSDP to SSDP: a probe */
    p.dport = 1900;
    assert_int_equal(ds_class_of(&p), DS_CLASS_SCAN);
    p.sport = 80;     /* not an amplifier */
    p.dport = 50000;
    assert_int_equal(ds_class_of(&p), DS_CLASS_SCAN);
    p.sport = 54;
    assert_int_equal(ds_class_of(&p), DS_CLASS_SCAN);
    p.sport = 53;     /* to 53/udp itself: a query */
    p.dport = 53;
    assert_int_equal(ds_class_of(&p), DS_CLASS_SCAN);
}

/* A DNS response from 53 is a reflector's answer whatever port the forged query named: StopDDoS's
 * amp.dns.RRSIG.fragmented answers 22/udp.  A probe from port 53 (nmap -g 53) carries a query, or
 * another protocol's probe, or nothing. */
static void test_dns_response_to_service_port(void **state)
{
    (void)state;
    uint8_t resp[12] = { 0x3b, 0x96, 0x81, 0x80, 0, 1, 0, 7, 0, 0, 0, 0 };   /* QR, RD, RA; 1 question, 7 answers */
    uint8_t query[12] = { 0x3b, 0x96, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0 };
    ds_pkt p = pkt(DS_PROTO_UDP, 1);
    p.sport = 53;
    p.dport = 22;
    assert_int_equal(ds_class_of(&p), DS_CLASS_SCAN);   /* no payload: a probe */
    p.payload = resp;
    p.payload_len = sizeof resp;
    assert_int_equal(ds_class_of(&p), DS_CLASS_BACKSCATTER);
    p.payload_len = 11;   /* too short for a DNS header */
    assert_int_equal(ds_class_of(&p), DS_CLASS_SCAN);
    p.payload = query;
    p.payload_len = sizeof query;
    assert_int_equal(ds_class_of(&p), DS_CLASS_SCAN);
    resp[2] = 0x80 | (2 << 3);   /* opcode 2 (status): not an answer to a forged query */
    p.payload = resp;
    p.payload_len = sizeof resp;
    assert_int_equal(ds_class_of(&p), DS_CLASS_SCAN);
    resp[2] = 0x81;
    p.dport = 53;   /* 53 to 53: a resolver talking to a resolver, not a reflection */
    assert_int_equal(ds_class_of(&p), DS_CLASS_SCAN);
    p.sport = 5353;   /* mDNS answers to a service port stay as they were (only 53 is checked) */
    p.dport = 80;
    assert_int_equal(ds_class_of(&p), DS_CLASS_SCAN);
}

static void test_icmp_classes(void **state)
{
    (void)state;
    static const uint8_t back[] = { 0, 3, 4, 5, 11, 12, 14, 16, 18 };
    int expect[256];
    for (int t = 0; t < 256; t++)
        expect[t] = DS_CLASS_OTHER;
    expect[8] = DS_CLASS_SCAN;
    for (size_t i = 0; i < sizeof back; i++)
        expect[back[i]] = DS_CLASS_BACKSCATTER;
    for (int t = 0; t < 256; t++)
        assert_int_equal(icmp_class(DS_PROTO_ICMP, (uint8_t)t), expect[t]);

    for (int t = 0; t < 256; t++)
        expect[t] = DS_CLASS_OTHER;
    expect[128] = DS_CLASS_SCAN;
    expect[129] = expect[1] = expect[2] = expect[3] = expect[4] = DS_CLASS_BACKSCATTER;
    for (int t = 0; t < 256; t++)
        assert_int_equal(icmp_class(DS_PROTO_ICMP6, (uint8_t)t), expect[t]);

    ds_pkt p = pkt(DS_PROTO_ICMP, 1);
    p.icmp_type = 8;
    p.dport = 999;   /* ignored for ICMP */
    assert_int_equal(ds_service_of(&p), DS_SERVICE(1, 8));
    p = pkt(DS_PROTO_ICMP6, 1);
    p.icmp_type = 128;
    assert_int_equal(ds_service_of(&p), DS_SERVICE(58, 128));
}

static void test_class_names(void **state)
{
    (void)state;
    assert_string_equal(ds_class_name(DS_CLASS_SCAN), "scan");
    assert_string_equal(ds_class_name(DS_CLASS_BACKSCATTER), "backscatter");
    assert_string_equal(ds_class_name(DS_CLASS_OTHER), "other");
    assert_string_equal(ds_class_name((ds_class)7), "?");
    for (int c = 0; c < DS_CLASS__COUNT; c++) {
        ds_class out = DS_CLASS__COUNT;
        assert_int_equal(ds_class_parse(ds_class_name((ds_class)c), &out), 0);
        assert_int_equal(out, c);
    }
    ds_class out;
    assert_int_equal(ds_class_parse("Backscatter", &out), 0);
    assert_int_equal(out, DS_CLASS_BACKSCATTER);
    assert_int_equal(ds_class_parse("", &out), -1);
    assert_int_equal(ds_class_parse("scans", &out), -1);
    assert_int_equal(ds_class_parse("sca", &out), -1);
    assert_int_equal(ds_class_parse("?", &out), -1);
}

static void test_service_round_trip(void **state)
{
    (void)state;
    static const struct { ds_service s; const char *text; } cases[] = {
        { DS_SERVICE(6, 23), "23/tcp" },       { DS_SERVICE(6, 0), "0/tcp" },
        { DS_SERVICE(6, 65535), "65535/tcp" }, { DS_SERVICE(17, 53), "53/udp" },
        { DS_SERVICE(1, 8), "8/icmp" },        { DS_SERVICE(1, 255), "255/icmp" },
        { DS_SERVICE(58, 128), "128/icmp6" },  { DS_SERVICE(47, 0), "47/ip" },
        { DS_SERVICE(0, 0), "0/ip" },          { DS_SERVICE(255, 0), "255/ip" },
        { DS_SERVICE(132, 0), "132/ip" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char buf[DS_SERVICE_STRLEN];
        assert_string_equal(ds_service_format(cases[i].s, buf, sizeof buf), cases[i].text);
        ds_service back = 0xffffffffu;
        assert_int_equal(ds_service_parse(cases[i].text, &back), 0);
        assert_int_equal(back, cases[i].s);
    }
    /* The widest key fits DS_SERVICE_STRLEN. */
    char buf[DS_SERVICE_STRLEN];
    assert_true(strlen(ds_service_format(DS_SERVICE(58, 255), buf, sizeof buf)) < DS_SERVICE_STRLEN);
    /* A short buffer is truncated, not overrun. */
    char small[4];
    assert_string_equal(ds_service_format(DS_SERVICE(6, 8080), small, sizeof small), "808");
}

static void test_service_parse_forms(void **state)
{
    (void)state;
    ds_service s;
    assert_int_equal(ds_service_parse("23/TCP", &s), 0);
    assert_int_equal(s, DS_SERVICE(6, 23));
    assert_int_equal(ds_service_parse("53/Udp", &s), 0);
    assert_int_equal(s, DS_SERVICE(17, 53));
    assert_int_equal(ds_service_parse("3/ICMP", &s), 0);
    assert_int_equal(s, DS_SERVICE(1, 3));
    assert_int_equal(ds_service_parse("129/ICMP6", &s), 0);
    assert_int_equal(s, DS_SERVICE(58, 129));
    assert_int_equal(ds_service_parse("047/ip", &s), 0);
    assert_int_equal(s, DS_SERVICE(47, 0));
}

static void test_service_parse_bad(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "", "/tcp", "23", "23/", "tcp", "23/tcpx", "23/tc", "65536/tcp", "99999/udp",
        "100000/tcp", "1234567/tcp", "256/icmp", "300/icmp6", "256/ip", "6/ip", "17/ip",
        "1/ip", "58/ip", "-1/tcp", "+23/tcp", " 23/tcp", "23 /tcp", "23/ tcp", "23/tcp ",
        "0x17/tcp", "23/sctp", "23//tcp", "23/tcp/udp",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ds_service s = 0x12345678u;
        if (ds_service_parse(bad[i], &s) != -1)
            fail_msg("\"%s\" should not parse", bad[i]);
        assert_int_equal(s, 0x12345678u);   /* untouched on failure */
    }
    ds_service s;
    assert_int_equal(ds_service_parse(NULL, &s), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tcp_classes),
        cmocka_unit_test(test_udp_and_other),
        cmocka_unit_test(test_udp_amplification_replies),
        cmocka_unit_test(test_dns_response_to_service_port),
        cmocka_unit_test(test_icmp_classes),
        cmocka_unit_test(test_class_names),
        cmocka_unit_test(test_service_round_trip),
        cmocka_unit_test(test_service_parse_forms),
        cmocka_unit_test(test_service_parse_bad),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
