/* fuzz_decode.c: libFuzzer target for ds_decode() and the classifier.
 *
 * The first input byte picks a link type from the list the decoder supports (plus one it
 * does not), the rest is the frame.  The frame is copied into a buffer of exactly its length
 * so that AddressSanitizer sees any read past caplen.  After decoding we check the invariants
 * callers rely on (payload inside the frame, DS_HAVE_L4 only with DS_HAVE_IP, a valid
 * outcome, ds_peek_ipv4_src agreeing with the decoded IPv4 source, a TCP timestamp or a first
 * fragment only on a decoded transport header), touch every payload byte, classify, and run the
 * tool fingerprints (Masscan's UDP cookie parses DNS and SNMP payloads).  Seeds (fuzz/seeds/fuzz_decode/): single frames of the corpora behind their link-type
 * byte, most of them tunnels (GRE, ERSPAN, VXLAN, GENEVE, IP in IP, MPLS, PPPoE).
 *
 * Build: clang -std=c11 -D_GNU_SOURCE -Isrc -fsanitize=fuzzer,address,undefined \
 *          fuzz/fuzz_decode.c src/core/{decode,link_*,ipv4,ipv6,tcp,udp,icmp,icmp6,gre,erspan,vxlan,geneve,ipip,classify,ip}.c
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/classify.h"
#include "core/fingerprint.h"
#include "core/packet.h"

static const int linktypes[] = {
    1, 113, 276, 0, 108, 101, 12, 14, 228, 229, 9, 50, 104, 105, 127, 117, 239, 226, 147,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int lt = linktypes[data[0] % (sizeof linktypes / sizeof linktypes[0])];
    size_t n = size - 1;
    uint8_t *frame = malloc(n ? n : 1);
    if (!frame)
        return 0;
    memcpy(frame, data + 1, n);

    ds_pkt p;
    ds_outcome o = ds_decode(lt, n ? frame : NULL, (uint32_t)n, (uint32_t)n, &p);
    if ((unsigned)o >= DS_PKT__COUNT)
        abort();
    if ((p.have & (DS_HAVE_L4 | DS_HAVE_INNER)) && !(p.have & DS_HAVE_IP))
        abort();
    if (o == DS_PKT_OK && !(p.have & DS_HAVE_IP))
        abort();
    if ((p.have & (DS_HAVE_TCPTS | DS_HAVE_FRAG)) && !(p.have & DS_HAVE_L4))
        abort();
    /* tunnels: bounded, and each one entered is named in encap */
    if (p.tunnels > DS_MAX_TUNNELS ||
        (p.tunnels && !(p.encap & (DS_ENC_GRE | DS_ENC_VXLAN | DS_ENC_GENEVE | DS_ENC_IPIP))) ||
        ((p.encap & DS_ENC_ERSPAN) && !(p.encap & DS_ENC_GRE)))
        abort();
    if (p.payload_len) {
        if (p.payload < frame || p.payload_len > n || (size_t)(p.payload - frame) > n - p.payload_len)
            abort();
    }
    /* ingest's owner test must name the source the decoder finds (when it finds an IPv4 one) */
    uint32_t peek;
    if (ds_peek_ipv4_src(lt, n ? frame : NULL, (uint32_t)n, &peek) && (p.have & DS_HAVE_IP) && !p.src.v6 &&
        peek != ds_ip_v4(&p.src))
        abort();
    volatile unsigned sum = 0;
    for (uint32_t i = 0; i < p.payload_len; i++)
        sum += p.payload[i];
    (void)sum;
    (void)ds_outcome_name(o);
    if (o == DS_PKT_OK) {
        char buf[DS_SERVICE_STRLEN];
        ds_service s = ds_service_of(&p);
        ds_service back;
        ds_service_format(s, buf, sizeof buf);
        if (ds_service_parse(buf, &back) != 0 || back != s)
            abort();   /* every key the decoder produces must print and parse back */
        (void)ds_class_name(ds_class_of(&p));
        unsigned app, hit = ds_fingerprint(&p, &app);
        if (hit & DS_TOOL__ALL & ~app)
            abort();   /* a header fingerprint matched a packet it does not apply to */
    }
    free(frame);
    return 0;
}
