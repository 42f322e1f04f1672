/* capture.c: the sensor's capture loop: libpcap (live or a file) into the spool (sensor.c).
 *
 * A live capture uses pcap_create with a large kernel ring (TPACKET_V3 on Linux), immediate mode
 * off so the kernel hands over whole blocks, nanosecond timestamps, and the BPF filter "dst net P
 * or ..." so only darknet traffic crosses into user space.  The handle is non-blocking and the
 * loop poll()s its descriptor with a timeout, so that ds_spool_tick() runs a few times a second
 * whether packets come or not: rotation follows the clock (issue #21, docs/sensor.md "Quiet
 * intervals").  Each packet goes to the spool, then to the SYN responder when there is one.
 */
#include "net/sensor.h"
#include "net/responder.h"

#include <errno.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ds_capture {
    pcap_t *p;
    int offline;
    int pollfd;                   /* live: the pcap descriptor to poll (non-blocking); -1: none */
    ds_spool *spool;
    struct ds_responder *resp;
    ds_rc rc;
    ds_err *err;
};

ds_rc ds_sensor_bpf(const ds_prefix *p, size_t n, char *buf, size_t len, ds_err *err)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        char pf[64];
        ds_prefix_format(&p[i], pf, sizeof pf);
        int w = snprintf(buf + used, len - used, "%sdst net %s", i ? " or " : "", pf);
        if (w < 0 || (size_t)w >= len - used)
            return ds_fail(err, DS_EINVAL, "too many darknet prefixes for the BPF filter");
        used += (size_t)w;
    }
    if (!n)
        return ds_fail(err, DS_EINVAL, "no darknet prefix given (--darknet CIDR)");
    return DS_OK;
}

ds_rc ds_capture_open(ds_capture **out, const ds_sensor_opts *o, int *linktype, ds_err *err)
{
    char ebuf[PCAP_ERRBUF_SIZE] = "", filter[16384];
    struct bpf_program prog;
    ds_rc rc = DS_OK;
    *out = NULL;
    ds_capture *c = calloc(1, sizeof *c);
    if (!c)
        return ds_fail(err, DS_ENOMEM, "out of memory");
    c->resp = o->responder;
    c->pollfd = -1;
    if ((rc = ds_sensor_bpf(o->darknets, o->ndarknets, filter, sizeof filter, err)) != DS_OK)
        goto out;
    if (o->read_file) {
        c->offline = 1;
        c->p = pcap_open_offline_with_tstamp_precision(o->read_file, PCAP_TSTAMP_PRECISION_NANO, ebuf);
        if (!c->p) {
            rc = ds_fail(err, DS_EIO, "%s: %s", o->read_file, ebuf);
            goto out;
        }
    } else {
        c->p = pcap_create(o->iface, ebuf);
        if (!c->p) {
            rc = ds_fail(err, DS_EIO, "%s: %s", o->iface, ebuf);
            goto out;
        }
        pcap_set_snaplen(c->p, (int)(o->snaplen ? o->snaplen : 262144));
        pcap_set_promisc(c->p, 1);
        pcap_set_timeout(c->p, 100);
        pcap_set_immediate_mode(c->p, 0);
        pcap_set_buffer_size(c->p, (o->buffer_mib > 0 ? o->buffer_mib : 64) << 20);
        pcap_set_tstamp_precision(c->p, PCAP_TSTAMP_PRECISION_NANO);
        int a = pcap_activate(c->p);
        if (a < 0) {
            rc = ds_fail(err, DS_EIO, "%s: cannot start capture: %s", o->iface, pcap_geterr(c->p));
            goto out;
        }
        if (a > 0)
            fprintf(stderr, "darkscope sensor: %s: warning: %s\n", o->iface, pcap_statustostr(a));
        /* Rotation must follow the clock even when nothing arrives.  A blocking pcap_dispatch on
         * a TPACKET_V3 ring waits for a block to fill or time out, and the kernel retires only a
         * block that holds packets (libpcap sets poll_timeout -1 for TPACKET_V3 with a timeout):
         * with no traffic it never returns.  So the handle is non-blocking and the loop poll()s
         * its selectable descriptor with our own timeout (pcap_get_selectable_fd(3PCAP)); the
         * 100 ms pcap timeout above is still the kernel's block retire timeout, the most a packet
         * waits in a partly filled block. */
        c->pollfd = pcap_get_selectable_fd(c->p);
        if (c->pollfd >= 0 && pcap_setnonblock(c->p, 1, ebuf) != 0) {
            rc = ds_fail(err, DS_EIO, "%s: cannot make the capture non-blocking: %s", o->iface, ebuf);
            goto out;
        }
        if (o->responder)   /* do not capture our own SYN-ACKs */
            pcap_setdirection(c->p, PCAP_D_IN);
    }
    if (pcap_compile(c->p, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) != 0) {
        rc = ds_fail(err, DS_EINVAL, "BPF filter \"%s\": %s", filter, pcap_geterr(c->p));
        goto out;
    }
    int set = pcap_setfilter(c->p, &prog);
    pcap_freecode(&prog);
    if (set != 0) {
        rc = ds_fail(err, DS_EIO, "cannot install BPF filter: %s", pcap_geterr(c->p));
        goto out;
    }
    *linktype = pcap_datalink(c->p);
    if (o->responder && !c->offline)
        rc = ds_responder_attach(o->responder, c->p, *linktype, err);
out:
    if (rc != DS_OK) {
        ds_capture_close(c);
        return rc;
    }
    *out = c;
    return DS_OK;
}

static void on_packet(u_char *user, const struct pcap_pkthdr *h, const u_char *data)
{
    ds_capture *c = (ds_capture *)user;
    if (c->rc != DS_OK)
        return;
    /* pcap with nanosecond precision puts nanoseconds in tv_usec */
    uint64_t ts = (uint64_t)h->ts.tv_sec * 1000000000ULL + (uint64_t)h->ts.tv_usec;
    c->rc = ds_spool_write(c->spool, ts, data, h->caplen, h->len, c->err);
    if (c->resp)
        ds_responder_packet(c->resp, c->spool, ts, data, h->caplen);
}

ds_rc ds_capture_run(ds_capture *c, ds_spool *s, volatile sig_atomic_t *stop, ds_err *err)
{
    c->spool = s;
    c->err = err;
    c->rc = DS_OK;
    uint64_t next_tick = 0;
    while (!*stop && c->rc == DS_OK) {
        int n = pcap_dispatch(c->p, 4096, on_packet, (u_char *)c);
        if (n == PCAP_ERROR) {
            c->rc = ds_fail(err, DS_EIO, "capture failed: %s", pcap_geterr(c->p));
            break;
        }
        if (n == PCAP_ERROR_BREAK)   /* pcap_breakloop() from the signal handler */
            n = 0;
        if (n == 0 && c->pollfd >= 0 && !*stop) {
            /* nothing ready: sleep until packets come or the next tick is due */
            uint64_t t = ds_now_ns();
            int ms = next_tick > t ? (int)((next_tick - t) / 1000000u) + 1 : 0;
            struct pollfd pfd = { .fd = c->pollfd, .events = POLLIN };
            if (ms > 0 && poll(&pfd, 1, ms) < 0 && errno != EINTR) {
                c->rc = ds_fail(err, DS_EIO, "capture failed: poll: %s", strerror(errno));
                break;
            }
        }
        uint64_t now = ds_now_ns();
        if (now >= next_tick || (c->offline && n == 0)) {
            next_tick = now + 200000000ULL;
            struct pcap_stat st;
            if (!c->offline && pcap_stats(c->p, &st) == 0)
                ds_spool_set_drops(s, st.ps_drop, st.ps_ifdrop);
            if (c->rc == DS_OK)
                c->rc = ds_spool_tick(s, now, err);
            if (c->resp)
                ds_responder_tick(c->resp, s, now);
        }
        if (c->offline && n == 0)
            break;
    }
    if (!c->offline) {
        struct pcap_stat st;
        if (pcap_stats(c->p, &st) == 0)
            ds_spool_set_drops(s, st.ps_drop, st.ps_ifdrop);
    }
    if (c->rc == DS_OK)
        c->rc = ds_spool_rotate(s, err);
    if (c->resp)
        ds_responder_flush(c->resp);
    return c->rc;
}

void ds_capture_break(ds_capture *c)
{
    if (c && c->p)
        pcap_breakloop(c->p);
}

void ds_capture_close(ds_capture *c)
{
    if (!c)
        return;
    if (c->p)
        pcap_close(c->p);
    free(c);
}
