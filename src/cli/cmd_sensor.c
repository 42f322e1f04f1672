/* cmd_sensor.c: `darkscope sensor`: capture darknet traffic live, spool it as zstd pcap segments,
 * and ship them to a collector.  The work is in src/net (sensor.c: capture and spool; uploader.c:
 * HTTP client; responder.c: --respond syn).  This file parses options, wires the two threads
 * (capture in the main thread, upload in its own), and turns SIGTERM/SIGINT into a clean stop:
 * finish the segment, try to upload for --drain seconds, exit.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "net/responder.h"
#include "net/sensor.h"
#include "net/uploader.h"
#include "util/name.h"

static volatile sig_atomic_t g_stop;
static ds_capture *volatile g_capture;

static void on_signal(int sig)
{
    (void)sig;
    g_stop = 1;
    if (g_capture)
        ds_capture_break(g_capture);
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: darkscope sensor --interface IF --darknet CIDR [--darknet CIDR...] --name NAME --spool DIR\n"
            "                        [--collector URL --token FILE] [OPTIONS]\n\n"
            "Capture traffic to the darknet prefixes on IF, write rotating zstd-compressed pcap segments to\n"
            "DIR, and upload finished segments to the collector (POST URL/v1/segments).  A segment is deleted\n"
            "only after the collector confirmed it; the spool survives collector downtime and restarts.\n\n"
            "  -i, --interface IF     capture interface (live; needs CAP_NET_RAW)\n"
            "      --read FILE        capture from a pcap file instead (testing, replays)\n"
            "  -d, --darknet CIDR     darknet prefix (repeat, or a comma list); replaces the prefixes of\n"
            "                         [sensor.NAME] in the configuration, which are the default\n"
            "  -n, --name NAME        sensor name, as the collector knows it (1-63 of A-Z a-z 0-9 . _ -,\n"
            "                         not only dots)\n"
            "  -s, --spool DIR        spool directory (one sensor process per directory)\n"
            "      --collector URL    collector base URL (http:// or https://); none: spool only\n"
            "      --token FILE       file holding the bearer token\n"
            "      --cacert FILE      CA bundle for https\n"
            "      --rotate SECONDS   finish segments at multiples of this wall-clock period (60), packets\n"
            "                         or not: a quiet interval is uploaded as a segment without packets,\n"
            "                         so the collector knows the sensor was capturing\n"
            "      --rotate-bytes N   ... or at N compressed bytes (64M)\n"
            "      --spool-max N      spool cap; beyond it packets are counted, not written (10G)\n"
            "      --flush-ms MS      flush the open segment this often; a crash loses at most this (1000)\n"
            "      --snaplen N        bytes kept per packet (262144)\n"
            "      --buffer-mib N     kernel capture buffer (64)\n"
            "      --zstd-level N     1..19 (1)\n"
            "      --zstd-threads N   compress in N zstd worker threads (0: in the capture thread)\n"
            "      --drain SECONDS    on SIGTERM, keep uploading this long before exiting (10)\n"
            "      --respond syn      answer TCP SYNs to darknet addresses with a SYN-ACK and record the\n"
            "                         first payload (reactive telescope; see docs); only SYNs a Linux host\n"
            "                         would answer (checksums, addresses, flags...); needs --snaplen >= 1600\n"
            "      --syn-rate-source R  SYN-ACKs per second per source (10)\n"
            "      --syn-rate-total R   SYN-ACKs per second overall (1000)\n"
            "  -c, --config FILE      configuration file\n");
}

static int read_token(const char *path, char *out, size_t len)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "darkscope sensor: --token %s: %s\n", path, strerror(errno));
        return 1;
    }
    size_t n = fread(out, 1, len - 1, f);
    fclose(f);
    out[n] = '\0';
    char *p = out;
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
        p++;
    memmove(out, p, strlen(p) + 1);
    n = strlen(out);
    while (n && (out[n - 1] == ' ' || out[n - 1] == '\t' || out[n - 1] == '\n' || out[n - 1] == '\r'))
        out[--n] = '\0';
    if (!n || strpbrk(out, "\r\n")) {
        fprintf(stderr, "darkscope sensor: --token %s: the file must hold one non-empty line\n", path);
        return 1;
    }
    return 0;
}

static int run(int argc, char **argv)
{
    enum { O_READ = 256, O_COLLECTOR, O_TOKEN, O_CACERT, O_ROTATE, O_ROTATE_BYTES, O_SPOOL_MAX, O_FLUSH, O_SNAPLEN,
           O_BUFFER, O_ZLEVEL, O_ZTHREADS, O_DRAIN, O_RESPOND, O_RATE_SRC, O_RATE_TOTAL };
    static const struct option longopts[] = {
        { "interface", required_argument, 0, 'i' }, { "darknet", required_argument, 0, 'd' },
        { "name", required_argument, 0, 'n' },      { "spool", required_argument, 0, 's' },
        { "config", required_argument, 0, 'c' },    { "read", required_argument, 0, O_READ },
        { "collector", required_argument, 0, O_COLLECTOR }, { "token", required_argument, 0, O_TOKEN },
        { "cacert", required_argument, 0, O_CACERT }, { "rotate", required_argument, 0, O_ROTATE },
        { "rotate-bytes", required_argument, 0, O_ROTATE_BYTES }, { "spool-max", required_argument, 0, O_SPOOL_MAX },
        { "flush-ms", required_argument, 0, O_FLUSH }, { "snaplen", required_argument, 0, O_SNAPLEN },
        { "buffer-mib", required_argument, 0, O_BUFFER }, { "zstd-level", required_argument, 0, O_ZLEVEL },
        { "zstd-threads", required_argument, 0, O_ZTHREADS }, { "drain", required_argument, 0, O_DRAIN },
        { "respond", required_argument, 0, O_RESPOND }, { "syn-rate-source", required_argument, 0, O_RATE_SRC },
        { "syn-rate-total", required_argument, 0, O_RATE_TOTAL }, { "help", no_argument, 0, 'h' },
        { 0, 0, 0, 0 }
    };
    const char *iface = NULL, *read_file = NULL, *name = NULL, *spool_dir = NULL, *config = NULL;
    const char *collector = NULL, *token_file = NULL, *cacert = NULL;
    const char *darknets[256];
    int ndarknets = 0, respond = 0, buffer_mib = 64, status = 1;
    double drain = 10;
    char token[4096] = "";
    ds_spool_opts so;
    ds_responder_opts ro;
    ds_spool_opts_default(&so);
    ds_responder_opts_default(&ro);
    ds_config cfg;
    ds_config_init(&cfg);
    ds_err err = { 0 };
    ds_spool *spool = NULL;
    ds_capture *cap = NULL;
    ds_responder *resp = NULL;
    ds_uploader *up = NULL;
    const ds_sensor_conf *sc = NULL;
    optind = 1;
    int ch;
    uint64_t uv;
    double dv;
    while ((ch = getopt_long(argc, argv, "i:d:n:s:c:h", longopts, NULL)) != -1) {
        switch (ch) {
        case 'i': iface = optarg; break;
        case 'd':
            if (ndarknets == (int)(sizeof darknets / sizeof darknets[0])) {
                fprintf(stderr, "darkscope sensor: too many --darknet options\n");
                return 2;
            }
            darknets[ndarknets++] = optarg;
            break;
        case 'n': name = optarg; break;
        case 's': spool_dir = optarg; break;
        case 'c': config = optarg; break;
        case O_READ: read_file = optarg; break;
        case O_COLLECTOR: collector = optarg; break;
        case O_TOKEN: token_file = optarg; break;
        case O_CACERT: cacert = optarg; break;
        /* numbers through util/num.h: each refused with its range, none wrapped or saturated */
        case O_ROTATE:
            if (cli_double("sensor", "--rotate", optarg, 0.001, 86400, &dv) != 0)
                return 2;
            so.rotate_ns = (uint64_t)(dv * 1e9);
            break;
        case O_ROTATE_BYTES:
            if (cli_size("sensor", "--rotate-bytes", optarg, 1, UINT64_MAX, &so.rotate_bytes) != 0)
                return 2;
            break;
        case O_SPOOL_MAX:
            if (cli_size("sensor", "--spool-max", optarg, 1, UINT64_MAX, &so.max_bytes) != 0)
                return 2;
            break;
        case O_FLUSH:
            if (cli_u64("sensor", "--flush-ms", optarg, 1, 3600000, &uv) != 0)
                return 2;
            so.flush_ns = uv * 1000000ULL;
            break;
        case O_SNAPLEN:
            if (cli_u64("sensor", "--snaplen", optarg, 64, 262144, &uv) != 0)
                return 2;
            so.snaplen = (uint32_t)uv;
            break;
        case O_BUFFER:
            if (cli_u64("sensor", "--buffer-mib", optarg, 1, 65536, &uv) != 0)
                return 2;
            buffer_mib = (int)uv;
            break;
        case O_ZLEVEL:
            if (cli_u64("sensor", "--zstd-level", optarg, 1, 19, &uv) != 0)
                return 2;
            so.zstd_level = (int)uv;
            break;
        case O_ZTHREADS:
            if (cli_u64("sensor", "--zstd-threads", optarg, 0, 256, &uv) != 0)
                return 2;
            so.zstd_workers = (int)uv;
            break;
        case O_DRAIN:
            if (cli_double("sensor", "--drain", optarg, 0, 86400, &drain) != 0)
                return 2;
            break;
        case O_RESPOND:
            if (strcmp(optarg, "syn") != 0) {
                fprintf(stderr, "darkscope sensor: --respond %s: only \"syn\" is supported\n", optarg);
                return 2;
            }
            respond = 1;
            break;
        case O_RATE_SRC:
            if (cli_double("sensor", "--syn-rate-source", optarg, 0.001, 1e9, &dv) != 0)
                return 2;
            ro.source_rate = ro.source_burst = dv;
            break;
        case O_RATE_TOTAL:
            if (cli_double("sensor", "--syn-rate-total", optarg, 0.001, 1e9, &dv) != 0)
                return 2;
            ro.total_rate = ro.total_burst = dv;
            break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind < argc || !name || !spool_dir || (!iface == !read_file) || (collector && !token_file) ||
        so.rotate_ns < 1000000 || !so.rotate_bytes || !so.max_bytes || !so.flush_ns || so.snaplen < 64 ||
        so.snaplen > 262144 || so.zstd_level < 1 || so.zstd_level > 19 || so.zstd_workers < 0 || buffer_mib < 1 ||
        ro.source_rate <= 0 || ro.total_rate <= 0 || drain < 0) {
        fprintf(stderr, "darkscope sensor: need --name, --spool, one of --interface/--read, --token with "
                        "--collector, and sane numbers (see --help)\n");
        return 2;
    }
    if (ds_sensor_name_check(name, &err) != DS_OK) {   /* "." or "..": util/name.h */
        fprintf(stderr, "darkscope sensor: --name: %s\n", err.msg);
        return 2;
    }
    if (respond && read_file) {
        fprintf(stderr, "darkscope sensor: --respond needs a live --interface\n");
        return 2;
    }
    if (respond && so.snaplen < 1600) {   /* the judge verifies checksums over whole segments */
        fprintf(stderr, "darkscope sensor: --respond syn needs --snaplen 1600 or more (got %" PRIu32 "): a SYN or a "
                        "first payload is answered or recorded only when its checksum can be verified over the "
                        "whole segment\n", so.snaplen);
        return 2;
    }
    /* prefixes: --darknet, which replace those of [sensor.NAME] in the configuration (they were
     * added to them, and with --respond the responder then refused the prefix it found twice) */
    if (cli_load_config(&cfg, config, NULL, NULL, 0) != 0)
        goto out;
    if (ndarknets)
        ds_config_clear_darknets(&cfg, name);
    for (int i = 0; i < ndarknets; i++) {
        if (ds_config_add_darknet(&cfg, name, darknets[i], &err) != DS_OK) {
            cli_error(NULL, &err);
            status = 2;
            goto out;
        }
    }
    for (size_t i = 0; i < cfg.nsensors; i++)
        if (!strcmp(cfg.sensors[i].name, name))
            sc = &cfg.sensors[i];
    if (!sc || !sc->nprefixes) {
        fprintf(stderr, "darkscope sensor: no darknet prefixes for sensor %s (give --darknet CIDR)\n", name);
        status = 2;
        goto out;
    }
    if (token_file && read_token(token_file, token, sizeof token))
        goto out;

    so.dir = spool_dir;
    so.continuous = read_file == NULL;   /* live: every interval ends as a segment, packets or not */
    if (ds_spool_open(&spool, &so, &err) != DS_OK) {
        cli_error(NULL, &err);
        goto out;
    }
    if (respond) {
        ro.darknets = sc->prefixes;
        ro.ndarknets = sc->nprefixes;
        if (ds_responder_open(&resp, &ro, &err) != DS_OK) {
            cli_error(NULL, &err);
            goto out;
        }
    }
    ds_sensor_opts co = { .iface = iface, .read_file = read_file, .darknets = sc->prefixes,
                          .ndarknets = sc->nprefixes, .snaplen = so.snaplen, .buffer_mib = buffer_mib,
                          .responder = resp };
    int linktype = 0;
    if (ds_capture_open(&cap, &co, &linktype, &err) != DS_OK) {
        cli_error(NULL, &err);
        goto out;
    }
    ds_spool_set_linktype(spool, linktype, so.snaplen);
    if (collector) {
        ds_uploader_opts uo = { .spool_dir = spool_dir, .collector = collector, .sensor = name, .token = token,
                                .cacert = cacert, .max_backoff_s = 60 };
        if (ds_uploader_start(&up, &uo, spool, &err) != DS_OK) {
            cli_error(NULL, &err);
            goto out;
        }
        ds_spool_on_finish(spool, ds_uploader_wake, up);
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;   /* no SA_RESTART: the capture's poll() returns at once */
    sigemptyset(&sa.sa_mask);
    g_stop = 0;
    g_capture = cap;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    fprintf(stderr, "darkscope sensor: %s: capturing on %s (%zu prefixes) into %s%s%s%s\n", name,
            iface ? iface : read_file, sc->nprefixes, spool_dir, collector ? ", uploading to " : "",
            collector ? collector : "", resp ? ", answering SYNs" : "");
    ds_rc rc = ds_capture_run(cap, spool, &g_stop, &err);
    g_capture = NULL;
    if (rc != DS_OK)
        cli_error(NULL, &err);
    uint64_t written = ds_spool_packets_total(spool), full_drops = ds_spool_drops_total(spool);
    if (ds_spool_finish(spool, &err) != DS_OK && rc == DS_OK) {
        cli_error(NULL, &err);
        rc = DS_EIO;
    }
    ds_uploader_stats us = { 0 };
    if (up) {   /* before the spool is freed: a drained upload calls ds_spool_released() on it */
        ds_uploader_wake(up);
        ds_uploader_stop(up, drain, &us);
        up = NULL;
    }
    ds_spool_close(spool, NULL);
    spool = NULL;
    fprintf(stderr, "darkscope sensor: %s: stopped; %" PRIu64 " packets written, %" PRIu64
                    " not written (spool full); uploaded %" PRIu64 " segments (%" PRIu64 " duplicates), %" PRIu64
                    " failed tries\n", name, written, full_drops, us.segments_sent, us.duplicates, us.failures);
    if (resp) {
        ds_responder_stats rs;
        ds_responder_get_stats(resp, &rs);
        fprintf(stderr, "darkscope sensor: responder: %" PRIu64 " SYNs, %" PRIu64 " SYN-ACKs sent, %" PRIu64
                        " rate-limited, %" PRIu64 " refused as a real stack would, %" PRIu64 " payloads recorded\n",
                rs.syns_seen, rs.synacks_sent, rs.rate_limited, rs.refused, rs.payloads_recorded);
        if (rs.refused) {   /* why, one reason a line: "refused: 12 bad TCP checksum" */
            for (int v = 0; v < DS_SYN__COUNT; v++)
                if (rs.refused_by[v])
                    fprintf(stderr, "darkscope sensor: responder: refused: %" PRIu64 " %s\n", rs.refused_by[v],
                            ds_syn_verdict_name((ds_syn_verdict)v));
        }
    }
    status = rc == DS_OK ? 0 : 1;
out:
    g_capture = NULL;
    ds_uploader_stop(up, 0, NULL);
    ds_capture_close(cap);
    ds_spool_close(spool, NULL);
    ds_responder_close(resp);
    ds_config_free(&cfg);
    return status;
}

const ds_command ds_cmd_sensor = { "sensor", "capture darknet traffic live and ship it to a collector", run };
