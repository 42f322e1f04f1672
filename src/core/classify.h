/* classify.h: destination service key and traffic class of a decoded packet. */
#ifndef DS_CLASSIFY_H
#define DS_CLASSIFY_H
#include <stddef.h>
#include <stdint.h>

#include "core/packet.h"

/* A service is (protocol, port-or-type) packed into 32 bits: proto << 16 | value.
 * Keys print as `23/tcp`, `53/udp`, `8/icmp`, `128/icmp6`, and `47/ip` for other IP protocols
 * (value = 0 there; the protocol number is printed). */
typedef uint32_t ds_service;
#define DS_SERVICE(proto, value) ((ds_service)(((uint32_t)(proto) << 16) | (uint16_t)(value)))
#define DS_SERVICE_PROTO(s) ((uint8_t)((s) >> 16))
#define DS_SERVICE_VALUE(s) ((uint16_t)(s))
#define DS_SERVICE_STRLEN 16

typedef enum ds_class {
    DS_CLASS_SCAN = 0,        /* TCP SYN w/o ACK, UDP (not an amplifier's reply), ICMP(v6) echo request */
    DS_CLASS_BACKSCATTER = 1, /* replies to spoofed traffic: SYN-ACK, RST, RST-ACK, ICMP replies/errors, UDP amplifier replies */
    DS_CLASS_OTHER = 2,
    DS_CLASS__COUNT
} ds_class;

ds_service ds_service_of(const ds_pkt *p);   /* p must be DS_PKT_OK with DS_HAVE_L4 or an other protocol */
ds_class ds_class_of(const ds_pkt *p);
/* 1 when UDP from sport to dport is an amplification service's answer (a reply from 53, 123,
 * 161, 1900, 11211... to an unprivileged port): backscatter, see classify.c. */
int ds_udp_amp_reply(uint16_t sport, uint16_t dport);
const char *ds_class_name(ds_class c);
int ds_class_parse(const char *s, ds_class *out);                /* 0 on success */
char *ds_service_format(ds_service s, char *buf, size_t len);     /* "23/tcp" */
char *ds_service_label(ds_service s, char *buf, size_t len);      /* "23/TCP", as published reports print it */
int ds_service_parse(const char *s, ds_service *out);            /* accepts 23/tcp, 23/TCP, 8/icmp...; 0 on success */

#endif
