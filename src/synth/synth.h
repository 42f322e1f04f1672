/* synth.h: a synthetic darknet traffic generator (the workload behind the demo, tests, benchmarks).
 *
 * ds_synth_run() writes a classic pcap file, records in time order, of what a network telescope
 * on the given sensors' address space would capture: heavy-tailed scanning sources with a
 * realistic port mix, Mirai bots, ZMap / Masscan sweeps, Nmap SYN scans, DDoS backscatter
 * bursts, a diurnal botnet and a little noise (ARP, fragments, IPv6, stray addresses, odd TCP
 * flags).  Each tool's packets carry the header fields that tool really sets (see docs/synth.md
 * for the sources), so that fingerprinting detectors have something true to find.
 *
 * On top of that it plants the "notable phenomena" that observatory reports describe (JPCERT
 * TSUBAME, NICTER, @police): a country's traffic spiking for a few days, a service spiking, a
 * low-ranked service surging into the top 20 from one country and one source port, a new service
 * appearing, one source flooding a service, daily and weekly cycles, and payload-identified tools
 * (SIPVicious and other SIP scanners, SQL Slammer, Nachi).  What and when is drawn from the seed,
 * so a detector cannot be tuned to one layout; the truth file and ds_synth_stats say what was
 * planted.
 *
 * Everything is a pure function of the parameters: the same params and seed give a byte-identical
 * file.  Generation runs one day at a time (generate, radix-sort by time, serialise) so memory is
 * bounded by one day's packets, with no allocation per packet.
 */
#ifndef DS_SYNTH_H
#define DS_SYNTH_H
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "util/config.h"
#include "util/result.h"

/* Country of an IPv4 address (host order) as ISO 3166 alpha-2 in cc; return 0 when known, non-zero
 * when not.  Called only while sources are drawn (a few lookups per source), never per packet. */
typedef int (*ds_synth_country_fn)(void *ctx, uint32_t addr, char cc[3]);

enum { DS_SYNTH_LINK_ETHER = 1, DS_SYNTH_LINK_RAW = 101 };   /* pcap LINKTYPE_* values */

typedef struct ds_synth_params {
    /* ---- the run ---- */
    uint64_t seed;                /* 1 */
    int64_t start;                /* first day, UTC epoch seconds: 2023-07-01 = 1688169600 */
    uint32_t days;                /* 92 */
    double rate;                  /* target packets per sensor per day: 18500 */
    int linktype;                 /* DS_SYNTH_LINK_ETHER; RAW drops the ARP noise */
    int nsec;                     /* 0: microsecond pcap; 1: nanosecond pcap */
    const ds_sensor_conf *sensors;/* required; IPv4 prefixes are the darknet, IPv6 ones darknet6 */
    size_t nsensors;
    ds_synth_country_fn country_of;   /* NULL: sources uniform over public IPv4 space */
    void *country_ctx;

    /* ---- population traffic: shares of what is left after events and noise ---- */
    double share_mirai;           /* 0.42  Mirai-style telnet SYN scanning */
    double share_scan;            /* 0.45  scanners following the port mix */
    double share_random_port;     /* 0.08  scanners hitting random ports (the long tail) */
    double share_diurnal;         /* 0.05  the diurnal botnet */
    double pareto_alpha;          /* 0.9   tail index of packets per source */
    double pareto_min;            /* 2     smallest per-source packet count (Pareto x_m) */
    double pareto_cap_frac;       /* 0.01  largest source sends at most this share of the run */

    /* ---- noise: fractions of the total ---- */
    double frac_outside;          /* 0.005 packets to addresses next to, not in, the darknets */
    double frac_arp;              /* 0.002 ARP who-has for dark addresses (Ethernet only) */
    double frac_fragment;         /* 0.002 IPv4 UDP fragments */
    double frac_ipv6;             /* 0.002 IPv6 to darknet6 (only if a sensor has one) */
    double frac_other_flags;      /* 0.003 TCP ACK-only / FIN packets ("other") */

    /* ---- events, counts per 92 days (scaled to the run; at least one burst) ---- */
    uint32_t zmap_scanners;       /* 5   sources sweeping every dark address on one port */
    uint32_t masscan_scanners;    /* 5 */
    double sweep_daily_frac;      /* 0.5  share of sweepers that repeat daily (research scanners) */
    double sweep_other_prob;      /* 0.08 chance per day that a non-daily sweeper sweeps */
    uint32_t nmap_hosts;          /* 4   hosts running Nmap SYN scans */
    uint32_t nmap_scans;          /* 12  scans over the run, spread over the hosts */
    uint32_t backscatter_bursts;  /* 12 */
    uint32_t diurnal_bots;        /* 300 sources in the diurnal botnet */
    /* The diurnal botnet's service, country and peak.  0 / "" / -1 = automatic: with phenomena on
     * the seed picks them (South America half the time, as in the 4899/tcp reports), with
     * phenomena off they are 4899/tcp (Radmin), CN at UTC+8, peak 21:00 local. */
    uint16_t diurnal_port;        /* 0: automatic; else TCP port */
    char diurnal_cc[3];           /* "": automatic (country and UTC offset); used with country_of */
    int diurnal_peak_hour;        /* -1: automatic; else local hour 0..23 */
    int diurnal_utc_offset;       /* hours; used only when diurnal_cc is given */

    /* ---- notable phenomena (docs/synth.md "Phenomena") ---- */
    int phenomena;                /* 1: plant them (counts per 92 days, none before day 14) */
} ds_synth_params;

/* Fill every field with the defaults above; sensors stays NULL. */
void ds_synth_defaults(ds_synth_params *p);

/* What was written, by traffic category. */
enum {
    DS_SYNTH_CAT_MIRAI, DS_SYNTH_CAT_SCAN, DS_SYNTH_CAT_RANDOM_PORT, DS_SYNTH_CAT_DIURNAL,
    DS_SYNTH_CAT_ZMAP, DS_SYNTH_CAT_MASSCAN, DS_SYNTH_CAT_NMAP, DS_SYNTH_CAT_BACKSCATTER,
    DS_SYNTH_CAT_OUTSIDE, DS_SYNTH_CAT_ARP, DS_SYNTH_CAT_FRAGMENT, DS_SYNTH_CAT_IPV6,
    DS_SYNTH_CAT_OTHER_FLAGS,
    /* planted phenomena */
    DS_SYNTH_CAT_SPIKE, DS_SYNTH_CAT_SURGE, DS_SYNTH_CAT_NEW_SERVICE, DS_SYNTH_CAT_SINGLE_SOURCE,
    DS_SYNTH_CAT_WEEKLY, DS_SYNTH_CAT_TOOL_PAYLOAD,
    DS_SYNTH_CAT__COUNT
};
const char *ds_synth_cat_name(int cat);

/* Planted phenomena, as the truth file's "phenomena" array names them. */
enum {
    DS_SYNTH_PH_SPIKE, DS_SYNTH_PH_SURGE, DS_SYNTH_PH_NEW_SERVICE, DS_SYNTH_PH_SINGLE_SOURCE,
    DS_SYNTH_PH_PERIODIC_DAILY, DS_SYNTH_PH_PERIODIC_WEEKLY, DS_SYNTH_PH_TOOL, DS_SYNTH_PH__COUNT
};
enum { DS_SYNTH_TOOL_NONE, DS_SYNTH_TOOL_SIPVICIOUS, DS_SYNTH_TOOL_SIPCLI, DS_SYNTH_TOOL_VAXSIP,
       DS_SYNTH_TOOL_SLAMMER, DS_SYNTH_TOOL_NACHI, DS_SYNTH_TOOL__COUNT };
const char *ds_synth_phenomenon_name(int type);   /* "spike", "surge", ... */
/* "sipvicious", "sip-other" (sipcli and VaxSIPUserAgent), "slammer", "nachi": the names of
 * data/payload-tools.tsv */
const char *ds_synth_tool_name(int tool);

typedef struct ds_synth_phenomenon {
    int type;                     /* DS_SYNTH_PH_* */
    int tool;                     /* DS_SYNTH_TOOL_* for type tool, else 0 */
    int by_country;               /* spike: 1 = one country's volume, 0 = one service's */
    uint8_t proto;                /* service: 6 TCP, 17 UDP, 1 ICMP echo; 0 = none */
    uint16_t port;
    char cc[3];                   /* source country; "" = none (mixed, or no country data) */
    uint16_t sport;               /* surge: the fixed source port */
    uint32_t source;              /* single_source: the source; tool: its first source (host order) */
    uint32_t hosts;               /* distinct sources that sent the phenomenon's packets */
    uint64_t start_ns, end_ns;    /* first and last packet, ns since the epoch */
    uint64_t packets;
    double factor;                /* magnitude, see docs/synth.md */
    double country_share;         /* surge: share of its packets from cc (measured) */
    double sport_share;           /* surge: share of its packets from sport (measured) */
    int peak_hour_utc, utc_offset;/* periodic_daily */
    int peak_weekday;             /* periodic_weekly: 0 Sunday .. 6 Saturday */
    int weekdays;                 /* periodic_weekly: 1 Monday-Friday with a peak day, 0 one day */
} ds_synth_phenomenon;
#define DS_SYNTH_MAX_PHEN 128

typedef struct ds_synth_stats {
    uint64_t packets;             /* records written */
    uint64_t bytes;               /* file bytes written, headers included */
    uint64_t by_cat[DS_SYNTH_CAT__COUNT];
    uint64_t syn_dport23;         /* IPv4 TCP with SYN set and dport 23 (what tcpdump would count) */
    uint64_t distinct_sources;    /* distinct IPv4 source addresses of IP packets */
    uint64_t mirai_sources;
    uint64_t bursts;              /* backscatter bursts planted */
    uint32_t nphen;               /* phenomena that sent packets (the truth lists them all) */
    ds_synth_phenomenon phen[DS_SYNTH_MAX_PHEN];   /* the first DS_SYNTH_MAX_PHEN of them */
} ds_synth_stats;

/* Generate.  out receives the pcap (out_name names it in errors); truth, when not NULL, receives
 * the JSON description of what was planted.  stats may be NULL. */
ds_rc ds_synth_run(const ds_synth_params *p, FILE *out, const char *out_name, FILE *truth,
                   ds_synth_stats *stats, ds_err *err);

#endif
