/* synth.c: the synthetic darknet traffic model (see synth.h and docs/synth.md).
 *
 * Plan first, then generate one day at a time:
 *  1. events with exact packet counts: ZMap / Masscan sweeps (every dark address once, on one port,
 *     within minutes), Nmap SYN scans, DDoS backscatter bursts;
 *  2. the population: what is left of the budget (rate x sensors x days) is shared among sources
 *     whose packet counts follow a truncated Pareto law, so a few sources send a lot and most send a
 *     handful over a few days.  Mirai bots, port-mix scanners, random-port scanners;
 *  3. the notable phenomena (spikes, a surge, new services, single-source floods, a weekly cycle,
 *     payload tools), on their own random stream so the background stays the same with or
 *     without them; magnitudes relative to the planned population's expected volumes;
 *  4. per day: each active source's share of its packets, the diurnal botnet, the events that
 *     overlap the day, the noise, the phenomena; then a stable LSD radix sort by timestamp and
 *     serialisation.
 * An event packet i is a pure function of (event seed, i), so an event crossing midnight is
 * simply replayed for both days and each packet lands in exactly one of them; a phenomenon's
 * day is a pure function of (its seed, the day).
 *
 * This file holds the parameters, the names and the run; the stages live in synth_space.c,
 * synth_plan.c, synth_phen.c, synth_day.c, synth_wire.c and synth_truth.c (see synth_int.h).
 *
 * Header fields follow each tool's source: Mirai's scanner.c (seq = destination address, ports
 * 23/2323 at 9:1, TTL 64, fixed per-bot source port and window, no options, random IP ID), ZMap's
 * tcp_synscan module (IP ID 54321 before 4.1, window 65535, TTL 255, MSS or Windows-style options),
 * Masscan's templ-pkt.c (window 1024, TTL 255, IP ID = dst ^ dport ^ seq with a SYN-cookie seq),
 * Nmap's raw SYN probe (window 1024, MSS 1460 only, TTL 37..59, random IP ID); SIP scanners'
 * requests (RFC 3261, SIPVicious's User-Agent), Slammer's 376-byte 1434/udp datagram (its head
 * and length, not its code) and Nachi's 92-byte 0xAA ping.  Frames follow RFC 791 (IPv4),
 * RFC 793 (TCP), RFC 768 (UDP), RFC 792 (ICMP), RFC 826 (ARP), RFC 8200 / RFC 4443 (IPv6 /
 * ICMPv6), and the libpcap classic file format.
 */
#include "synth/synth.h"

#include <stdlib.h>
#include <string.h>

#include "synth/synth_int.h"

/* ------------------------------------------------------------------------------------------ */

static const char *const cat_names[DS_SYNTH_CAT__COUNT] = {
    "mirai", "scan", "random_port", "diurnal", "zmap", "masscan", "nmap", "backscatter",
    "outside", "arp", "fragment", "ipv6", "other_flags",
    "spike", "surge", "new_service", "single_source", "weekly", "tool_payload",
};
const char *ds_synth_cat_name(int cat)
{
    return cat >= 0 && cat < DS_SYNTH_CAT__COUNT ? cat_names[cat] : "?";
}
static const char *const ph_names[DS_SYNTH_PH__COUNT] = {
    "spike", "surge", "new_service", "single_source", "periodic_daily", "periodic_weekly", "tool",
};
const char *ds_synth_phenomenon_name(int type)
{
    return type >= 0 && type < DS_SYNTH_PH__COUNT ? ph_names[type] : "?";
}
/* as data/payload-tools.tsv names them: sipcli and VaxSIPUserAgent are both "sip-other" */
static const char *const tool_names[DS_SYNTH_TOOL__COUNT] = {
    "", "sipvicious", "sip-other", "sip-other", "slammer", "nachi",
};
const char *ds_synth_tool_name(int tool)
{
    return tool >= 0 && tool < DS_SYNTH_TOOL__COUNT ? tool_names[tool] : "?";
}

void ds_synth_defaults(ds_synth_params *p)
{
    memset(p, 0, sizeof *p);
    p->seed = 1;
    p->start = 1688169600;            /* 2023-07-01T00:00:00Z */
    p->days = 92;
    p->rate = 18500;
    p->linktype = DS_SYNTH_LINK_ETHER;
    p->share_mirai = 0.42;
    p->share_scan = 0.45;
    p->share_random_port = 0.08;
    p->share_diurnal = 0.05;
    p->pareto_alpha = 0.9;
    p->pareto_min = 2;
    p->pareto_cap_frac = 0.01;
    p->frac_outside = 0.005;
    p->frac_arp = 0.002;
    p->frac_fragment = 0.002;
    p->frac_ipv6 = 0.002;
    p->frac_other_flags = 0.003;
    p->zmap_scanners = 5;
    p->masscan_scanners = 5;
    p->sweep_daily_frac = 0.5;
    p->sweep_other_prob = 0.08;
    p->nmap_hosts = 4;
    p->nmap_scans = 12;
    p->backscatter_bursts = 12;
    p->diurnal_bots = 300;
    p->diurnal_port = 0;              /* automatic, see synth.h */
    p->diurnal_peak_hour = -1;
    p->diurnal_utc_offset = 8;
    p->phenomena = 1;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}
static uint64_t count_unique(uint32_t *v, size_t n)
{
    if (!n)
        return 0;
    qsort(v, n, sizeof *v, cmp_u32);
    uint64_t u = 1;
    for (size_t i = 1; i < n; i++)
        u += v[i] != v[i - 1];
    return u;
}

static ds_rc finish_counts(gen *g)
{
    size_t cap = g->nsrc + g->nbots + g->nev + g->npsrc + 1;
    uint32_t *v = malloc(cap * sizeof *v);
    size_t n = 0, nm = 0;
    if (!v)
        return ds_fail(g->err, DS_ENOMEM, "synth: out of memory counting sources");
    for (size_t i = 0; i < g->nsrc; i++)
        if (g->src[i].emitted && g->src[i].cat == DS_SYNTH_CAT_MIRAI)
            v[nm++] = g->src[i].addr;
    g->st.mirai_sources = count_unique(v, nm);
    for (size_t i = 0; i < g->nsrc; i++)
        if (g->src[i].emitted)
            v[n++] = g->src[i].addr;
    for (size_t i = 0; i < g->nbots; i++)
        if (g->bots[i].emitted)
            v[n++] = g->bots[i].addr;
    for (size_t i = 0; i < g->nev; i++)
        if (g->ev[i].emitted)
            v[n++] = g->ev[i].src;
    for (size_t i = 0; i < g->npsrc; i++)
        if (g->psrc[i].emitted)
            v[n++] = g->psrc[i].addr;
    g->st.distinct_sources = count_unique(v, n);
    free(v);
    return DS_OK;
}

ds_rc ds_synth_run(const ds_synth_params *p, FILE *out, const char *out_name, FILE *truth,
                   ds_synth_stats *stats, ds_err *err)
{
    ds_rc rc = DS_ENOMEM;
    gen *g = calloc(1, sizeof *g);
    rng r;
    if (!g)
        return ds_fail(err, DS_ENOMEM, "synth: out of memory");
    g->p = p;
    g->err = err;
    g->out = out;
    g->out_name = out_name ? out_name : "output";
    if (p->days == 0 || p->days > 36500 || !(p->rate > 0) || p->rate > 1e9 || !(p->pareto_alpha > 0) ||
        !(p->pareto_min >= 1)) {
        rc = ds_fail(err, DS_EINVAL, "synth: days must be 1..36500, rate, pareto_alpha > 0, pareto_min >= 1");
        goto out;
    }
    if (p->linktype != DS_SYNTH_LINK_ETHER && p->linktype != DS_SYNTH_LINK_RAW) {
        rc = ds_fail(err, DS_EINVAL, "synth: link type %d is not ether (1) or raw (101)", p->linktype);
        goto out;
    }
    if ((rc = ds_synth_build_space(g)) != DS_OK)
        goto out;
    rc = DS_ENOMEM;
    g->capday = 1024;
    g->day = malloc(g->capday * sizeof *g->day);
    g->tmp = malloc(g->capday * sizeof *g->tmp);
    g->buf = malloc(OUT_BUF);
    g->spare = malloc(OUT_BUF);
    g->bcap = OUT_BUF;
    g->tcp_port = calloc(65536, sizeof *g->tcp_port);
    g->udp_port = calloc(65536, sizeof *g->udp_port);
    if (!g->day || !g->tmp || !g->buf || !g->spare || !g->tcp_port || !g->udp_port) {
        ds_fail(err, DS_ENOMEM, "synth: out of memory for buffers");
        goto out;
    }
    memcpy(g->cc_code[0], "ZZ", 3);
    g->ncc = 1;

    /* plan */
    rng_seed(&r, p->seed, 0x706c616eull);                    /* "plan" */
    if (p->country_of && (rc = ds_synth_build_pool(g, &r)) != DS_OK)
        goto out;
    ds_synth_choose_diurnal(g);
    ds_synth_build_tables(g);
    uint64_t event_packets;
    if ((rc = ds_synth_plan_events(g, &r, &event_packets)) != DS_OK)
        goto out;
    double total = p->rate * (double)p->nsensors * p->days;
    double fr[DS_SYNTH_CAT__COUNT] = { 0 };
    fr[DS_SYNTH_CAT_OUTSIDE] = p->frac_outside;
    fr[DS_SYNTH_CAT_ARP] = p->linktype == DS_SYNTH_LINK_ETHER ? p->frac_arp : 0;
    fr[DS_SYNTH_CAT_FRAGMENT] = p->frac_fragment;
    fr[DS_SYNTH_CAT_IPV6] = g->n6 ? p->frac_ipv6 : 0;
    fr[DS_SYNTH_CAT_OTHER_FLAGS] = p->frac_other_flags;
    double noise = 0;
    for (int c = 0; c < DS_SYNTH_CAT__COUNT; c++) {
        g->noise_per_day[c] = fr[c] * total / p->days;
        noise += fr[c] * total;
    }
    double pop = total - (double)event_packets - noise;
    if (pop < 0.1 * total)
        pop = 0.1 * total;
    double shares = p->share_mirai + p->share_scan + p->share_random_port + p->share_diurnal;
    if (!(shares > 0)) {
        rc = ds_fail(err, DS_EINVAL, "synth: the population shares add up to zero");
        goto out;
    }
    double cap = p->pareto_cap_frac * total;
    if (cap < 50)
        cap = 50;
    static const int pop_cats[] = { DS_SYNTH_CAT_MIRAI, DS_SYNTH_CAT_SCAN, DS_SYNTH_CAT_RANDOM_PORT };
    const double pop_share[] = { p->share_mirai, p->share_scan, p->share_random_port };
    for (int i = 0; i < 3; i++)
        if (pop_share[i] > 0 && (rc = ds_synth_plan_population(g, &r, pop_cats[i], pop * pop_share[i] / shares,
                                                               cap)) != DS_OK)
            goto out;
    g->diurnal_per_day = pop * p->share_diurnal / shares / p->days;
    if (p->share_diurnal > 0 && p->diurnal_bots) {
        g->bots = calloc(p->diurnal_bots, sizeof *g->bots);
        if (!g->bots) {
            rc = ds_fail(err, DS_ENOMEM, "synth: out of memory for the diurnal botnet");
            goto out;
        }
        cc_weight one[1] = { { g->dn_cc, 1 } };
        for (uint32_t i = 0; i < p->diurnal_bots; i++) {
            source *b = &g->bots[g->nbots++];
            b->addr = ds_synth_draw_source(g, &r, one, 1, &b->cc);
            b->win = 64240;
            b->ttl = (uint8_t)(128 - 8 - rng_below(&r, 14));
            b->cat = DS_SYNTH_CAT_DIURNAL;
        }
    }

    if (p->phenomena && (rc = ds_synth_plan_phenomena(g)) != DS_OK)
        goto out;

    /* generate */
    pthread_mutex_init(&g->mu, NULL);
    pthread_cond_init(&g->cv, NULL);
    if (pthread_create(&g->writer, NULL, ds_synth_writer_main, g) != 0) {
        rc = ds_fail(err, DS_ENOMEM, "synth: cannot start the writer thread");
        pthread_cond_destroy(&g->cv);
        pthread_mutex_destroy(&g->mu);
        goto out;
    }
    g->writer_on = 1;
    ds_synth_write_header(g);
    for (uint32_t d = 0; d < p->days; d++) {
        rng dr;
        rng_seed(&dr, p->seed, 0x646179000000ull + d);       /* "day" + d */
        g->nday = 0;
        if ((rc = ds_synth_gen_population(g, d, &dr)) != DS_OK || (rc = ds_synth_gen_events(g, d)) != DS_OK ||
            (rc = ds_synth_gen_noise(g, d, &dr)) != DS_OK || (rc = ds_synth_gen_phenomena(g, d)) != DS_OK)
            goto out;
        ds_synth_sort_day(g, day_ns(g, d));
        if ((rc = ds_synth_write_day(g)) != DS_OK)
            goto out;
    }
    if ((rc = ds_synth_flush_out(g)) != DS_OK || (rc = ds_synth_writer_idle(g)) != DS_OK)
        goto out;
    if (fflush(out) != 0) {
        rc = ds_fail(err, DS_EIO, "%s: write failed", g->out_name);
        goto out;
    }
    if ((rc = finish_counts(g)) != DS_OK || (rc = ds_synth_collect_phenomena(g)) != DS_OK)
        goto out;
    if (truth && (rc = ds_synth_write_truth(g, truth)) != DS_OK)
        goto out;
    if (stats)
        *stats = g->st;
    rc = DS_OK;
out:
    if (g->writer_on) {
        pthread_mutex_lock(&g->mu);
        g->stop = 1;
        pthread_cond_broadcast(&g->cv);
        pthread_mutex_unlock(&g->mu);
        pthread_join(g->writer, NULL);
        pthread_cond_destroy(&g->cv);
        pthread_mutex_destroy(&g->mu);
    }
    free(g->spare);
    free(g->r4);
    free(g->r6);
    free(g->pool);
    free(g->src);
    free(g->bots);
    free(g->ev);
    free(g->sc);
    free(g->day);
    free(g->tmp);
    free(g->buf);
    free(g->tcp_port);
    free(g->udp_port);
    free(g->ph);
    free(g->psrc);
    free(g->claims);
    free(g->out_ph);
    free(g->out_src);
    free(g);
    return rc;
}
