/* synth_plan.c: the model's tables and the plan of the background.  Source-country weights and
 * the scanners' port mix (the shapes published darknet reports show), then the events with
 * exact packet counts (ZMap / Masscan sweeps, Nmap SYN scans, DDoS backscatter bursts) and the
 * population of sources whose packet counts follow a truncated Pareto law.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "synth/synth_int.h"

/* ------------------------------------------------------------------------------------------ */
/* Tables */
/* Source-country weights.  The shapes follow what published darknet reports show year after
 * year: NICTER Observation Reports 2022/2023 (top source countries of darknet packets), CAIDA UCSD
 * telescope studies, and Shadowserver / GreyNoise scanner summaries.  CN and US lead general
 * scanning; Mirai-family infections sit in countries with many exposed consumer routers and DVRs
 * (BR, VN, CN, IN, TW, IR, EG ...), as in Antonakakis et al., "Understanding the Mirai Botnet"
 * (USENIX Security 2017); research sweepers are mostly hosted in US and European clouds.  The
 * numbers are rounded shares, a shape to test against, not measurements.  "rest" = any other. */
const cc_weight ds_synth_cc_general[] = {
    { "CN", 15 }, { "US", 14 }, { "RU", 6 }, { "BR", 6 }, { "IN", 5 }, { "KR", 4 }, { "TW", 3.5 },
    { "VN", 3.5 }, { "NL", 3.5 }, { "DE", 3 }, { "GB", 3 }, { "JP", 2 }, { "FR", 2 }, { "HK", 2 },
    { "SG", 2 }, { "ID", 2 }, { "IR", 1.5 }, { "TR", 1.5 }, { "UA", 1 }, { "TH", 1 }, { "MX", 1 },
    { "EG", 1 }, { "BG", 1 }, { "rest", 13.5 },
};
const cc_weight ds_synth_cc_mirai[] = {
    { "BR", 14 }, { "VN", 10 }, { "CN", 10 }, { "IN", 9 }, { "TW", 6 }, { "RU", 6 }, { "KR", 5 },
    { "IR", 5 }, { "EG", 4 }, { "TR", 4 }, { "ID", 4 }, { "US", 4 }, { "MX", 3 }, { "AR", 3 },
    { "TH", 3 }, { "CO", 2 }, { "UA", 2 }, { "PK", 2 }, { "rest", 4 },
};
const cc_weight ds_synth_cc_research[] = {
    { "US", 40 }, { "NL", 15 }, { "DE", 10 }, { "GB", 10 }, { "SG", 5 }, { "FR", 5 }, { "JP", 5 },
    { "CN", 5 }, { "RU", 5 },
};

/* Scan port mix of the non-Mirai scanners (relative weights).  23/tcp still appears here: plenty
 * of telnet scanning is not Mirai-fingerprinted.  proto 1 = ICMP echo request. */
const svc ds_synth_port_mix[] = {
    { 6, 23, 8 }, { 6, 2323, 1 }, { 6, 22, 10 }, { 6, 80, 8 }, { 6, 443, 6 }, { 6, 8080, 5 },
    { 6, 8443, 2.5 }, { 6, 445, 6 }, { 6, 3389, 5 }, { 6, 1433, 2.5 }, { 6, 3306, 2 },
    { 6, 6379, 2 }, { 6, 5555, 3 }, { 6, 37215, 2 }, { 6, 52869, 1.5 }, { 6, 60001, 1 },
    { 6, 7547, 2 }, { 6, 81, 1.5 }, { 6, 8000, 1.5 }, { 6, 9200, 1 }, { 6, 5900, 1.5 },
    { 6, 21, 1.5 }, { 6, 25, 1 }, { 6, 8888, 1 }, { 6, 5432, 1 }, { 6, 2375, 0.8 }, { 6, 8081, 1 },
    { 17, 5060, 2.5 }, { 17, 53, 2 }, { 17, 123, 1.5 }, { 17, 1900, 1.5 }, { 17, 161, 1.5 },
    { 17, 5353, 1 }, { 17, 11211, 0.5 }, { 1, 0, 4 },
};

const uint16_t ds_synth_sweep_ports[] = { 80, 443, 22, 8080, 3389, 445, 21, 25, 7547, 2323, 6379,
                                        9200, 5900, 8443, 1433, 23, 3306, 5432 };
/* Nmap's most frequently open TCP ports, in its order, head of the "top ports" list. */
const uint16_t ds_synth_nmap_top[] = {
    80, 23, 443, 21, 22, 25, 3389, 110, 445, 139, 143, 53, 135, 3306, 8080, 1723, 111, 995, 993,
    5900, 1025, 587, 8888, 199, 1720, 465, 548, 113, 81, 6001, 10000, 514, 5060, 179, 1026, 2000,
    8443, 8000, 32768, 554, 26, 1433, 49152, 2001, 515, 8008, 49154, 1027, 5666, 646, 5000, 5631,
    631, 49153, 8081, 2049, 88, 79, 5800, 106, 2121, 1110, 49155, 6000, 513, 990, 5357, 427, 49156,
    543, 544, 5101, 144, 7, 389,
};

/* ------------------------------------------------------------------------------------------ */
/* Planning */

static ds_rc push_event(gen *g, const event *e)
{
    if (g->nev == g->capev) {
        size_t cap = g->capev ? g->capev * 2 : 256;
        event *ne = realloc(g->ev, cap * sizeof *ne);
        if (!ne)
            return ds_fail(g->err, DS_ENOMEM, "synth: out of memory for %zu events", cap);
        g->ev = ne;
        g->capev = cap;
    }
    g->ev[g->nev++] = *e;
    return DS_OK;
}


static uint32_t scaled_count(uint32_t per92, uint32_t days, int at_least_one)
{
    double v = (double)per92 * days / 92.0;
    uint32_t n = (uint32_t)(v + 0.5);
    return (at_least_one && per92 && n == 0) ? 1 : n;
}

ds_rc ds_synth_plan_events(gen *g, rng *r, uint64_t *event_packets)
{
    const ds_synth_params *p = g->p;
    uint64_t end = day_ns(g, p->days);
    /* A sweep reaches every dark address; when the darknet is large next to the daily budget
     * (a /16 at a few thousand packets a day) it is sampled down to 2% of a day's packets, as if
     * the telescope sampled, so that the --rate the user asked for still holds. */
    double daily = p->rate * (double)p->nsensors;
    double cover = daily * 0.02 < 64 ? 64 : daily * 0.02;
    uint32_t sweep_npk = (double)g->v4total > cover ? (uint32_t)cover : (uint32_t)g->v4total;
    g->sweep_sampled = sweep_npk < g->v4total;
    uint32_t nsweepers = p->zmap_scanners + p->masscan_scanners;
    g->sc = calloc(nsweepers + p->nmap_hosts + 1, sizeof *g->sc);
    if (!g->sc)
        return ds_fail(g->err, DS_ENOMEM, "synth: out of memory for scanners");
    *event_packets = 0;

    /* ZMap / Masscan sweepers */
    for (uint32_t i = 0; i < nsweepers; i++) {
        scanner *s = &g->sc[g->nsc];
        s->type = i < p->zmap_scanners ? EV_ZMAP : EV_MASSCAN;
        s->addr = ds_synth_draw_source(g, r, ds_synth_cc_research,
                                       sizeof ds_synth_cc_research / sizeof ds_synth_cc_research[0], &s->cc);
        s->port = ds_synth_sweep_ports[rng_below(r, sizeof ds_synth_sweep_ports / sizeof ds_synth_sweep_ports[0])];
        s->variant = (uint8_t)rng_below(r, 2);
        s->sport = (uint16_t)(40000 + rng_below(r, 20000));   /* masscan: one source port per run */
        s->daily = rng_unit(r) < p->sweep_daily_frac;
        s->ttl = 255;
        uint32_t hour = rng_below(r, 24);
        for (uint32_t d = 0; d < p->days; d++) {
            int go = s->daily ? 1 : rng_unit(r) < p->sweep_other_prob;
            if (!go)
                continue;
            event e = { 0 };
            e.type = s->type;
            e.variant = s->variant;
            e.src = s->addr;
            e.cc = s->cc;
            e.port = s->port;
            e.sport = s->sport;
            e.ttl = 255;
            e.npk = sweep_npk;
            e.dur = (uint64_t)(rng_logu(r, 600, 7200) * NS_PER_SEC);
            uint64_t at = s->daily ? hour * 3600ull + rng_below(r, 1800) : rng_below(r, 86400);
            e.start = day_ns(g, d) + at * NS_PER_SEC;
            if (e.start + e.dur > end)
                e.start = end - e.dur;
            e.seed = rng_next(r);
            e.scanner = (int)g->nsc;
            ds_rc rc = push_event(g, &e);
            if (rc != DS_OK)
                return rc;
            *event_packets += e.npk;
            s->runs++;
        }
        g->nsc++;
    }

    /* Nmap hosts: a few addresses, many ports, minutes */
    size_t nmap_first = g->nsc;
    for (uint32_t i = 0; i < p->nmap_hosts; i++) {
        scanner *s = &g->sc[g->nsc++];
        s->type = EV_NMAP;
        s->addr = ds_synth_draw_source(g, r, ds_synth_cc_general,
                                       sizeof ds_synth_cc_general / sizeof ds_synth_cc_general[0], &s->cc);
    }
    uint32_t nscans = p->nmap_hosts ? scaled_count(p->nmap_scans, p->days, 1) : 0;
    for (uint32_t i = 0; i < nscans; i++) {
        size_t h = nmap_first + rng_below(r, p->nmap_hosts);
        event e = { 0 };
        e.type = EV_NMAP;
        e.src = g->sc[h].addr;
        e.cc = g->sc[h].cc;
        e.scanner = (int)h;
        e.naddr = 1 + rng_below(r, 4);
        if (e.naddr > g->v4total)
            e.naddr = (uint32_t)g->v4total;
        e.addr_base = (uint32_t)(rng_next(r) % g->v4total);
        e.victim_port_or_nports = rng_unit(r) < 0.6 ? 1000 : 100 + rng_below(r, 400);
        e.npk = e.naddr * e.victim_port_or_nports;
        e.sport = (uint16_t)(33000 + rng_below(r, 30000));
        e.dur = (uint64_t)(rng_logu(r, 60, 1800) * NS_PER_SEC);
        e.start = day_ns(g, 0) + (rng_next(r) % (end - day_ns(g, 0) - e.dur));
        e.seed = rng_next(r);
        ds_rc rc = push_event(g, &e);
        if (rc != DS_OK)
            return rc;
        *event_packets += e.npk;
        g->sc[h].runs++;
    }

    /* Backscatter bursts: a victim's replies to spoofed traffic that named our addresses */
    uint32_t nbursts = scaled_count(p->backscatter_bursts, p->days, 1);
    double scale = daily / (2 * 18500.0);
    for (uint32_t i = 0; i < nbursts; i++) {
        event e = { 0 };
        e.type = EV_BURST;
        e.variant = (uint8_t)(i % BS__COUNT);
        e.src = ds_synth_draw_source(g, r, ds_synth_cc_general,
                                     sizeof ds_synth_cc_general / sizeof ds_synth_cc_general[0], &e.cc);
        static const uint16_t tcp_victim_ports[] = { 80, 443, 80, 443, 22, 25, 53, 8080 };
        e.port = e.variant == BS_UNREACH ? (rng_below(r, 3) ? 53 : 80)
                 : e.variant == BS_ECHOREPLY ? 0 : tcp_victim_ports[rng_below(r, 8)];
        static const uint8_t ttls[] = { 64, 128, 255 };
        e.ttl = (uint8_t)(ttls[rng_below(r, 3)] - 8 - rng_below(r, 14));
        double npk = rng_logu(r, 300, 30000) * (scale < 0.05 ? 0.05 : scale);
        e.npk = (uint32_t)(npk < 20 ? 20 : npk);
        e.dur = (uint64_t)(rng_logu(r, 300, 6 * 3600) * NS_PER_SEC);
        if (e.dur > end - day_ns(g, 0))
            e.dur = end - day_ns(g, 0);
        e.start = day_ns(g, 0) + (end - day_ns(g, 0) > e.dur ? rng_next(r) % (end - day_ns(g, 0) - e.dur) : 0);
        e.seed = rng_next(r);
        e.scanner = -1;
        ds_rc rc = push_event(g, &e);
        if (rc != DS_OK)
            return rc;
        *event_packets += e.npk;
        g->st.bursts++;
    }
    return DS_OK;
}

static ds_rc push_source(gen *g, const source *s)
{
    if (g->nsrc == g->capsrc) {
        size_t cap = g->capsrc ? g->capsrc * 2 : 4096;
        source *ns = realloc(g->src, cap * sizeof *ns);
        if (!ns)
            return ds_fail(g->err, DS_ENOMEM, "synth: out of memory for %zu sources", cap);
        g->src = ns;
        g->capsrc = cap;
    }
    g->src[g->nsrc++] = *s;
    return DS_OK;
}

static uint8_t pick_svc(rng *r)
{
    double total = 0;
    for (size_t i = 0; i < N_PORT_MIX; i++)
        total += ds_synth_port_mix[i].w;
    double x = rng_unit(r) * total;
    size_t i = 0;
    while (i + 1 < N_PORT_MIX && x >= ds_synth_port_mix[i].w) {
        x -= ds_synth_port_mix[i].w;
        i++;
    }
    return (uint8_t)i;
}

/* A port-mix scanner's OS profile (window, TTL, options follow from it) and its three services. */
void ds_synth_scanner_profile(rng *r, source *s)
{
    uint32_t os = rng_below(r, 10);
    s->os = os < 3 ? OS_LINUX : os < 6 ? OS_WINDOWS : OS_BARE;
    static const uint16_t lwin[] = { 64240, 29200, 65535 }, wwin[] = { 64240, 8192, 65535 },
                          bwin[] = { 1024, 65535, 14600, 5840, 2048 };
    s->win = s->os == OS_LINUX ? lwin[rng_below(r, 3)] : s->os == OS_WINDOWS ? wwin[rng_below(r, 3)]
                                                                             : bwin[rng_below(r, 5)];
    uint8_t base = s->os == OS_WINDOWS ? 128 : (s->os == OS_BARE && rng_below(r, 2)) ? 255 : 64;
    s->ttl = (uint8_t)(base - 6 - rng_below(r, 18));
    s->sport = (uint16_t)rng_u32(r);
    s->svc[0] = pick_svc(r);
    s->svc[1] = pick_svc(r);
    s->svc[2] = pick_svc(r);
}

/* Sources of one category until their Pareto-distributed counts fill the budget. */
ds_rc ds_synth_plan_population(gen *g, rng *r, int cat, double budget, double cap)
{
    const ds_synth_params *p = g->p;
    double used = 0;
    double per_day_max = 400.0 * (p->rate / 18500.0) + 50.0;
    while (used < budget) {
        source s = { 0 };
        double u = 1.0 - rng_unit(r);                        /* (0,1] */
        double c = floor(p->pareto_min * pow(u, -1.0 / p->pareto_alpha));
        if (c > cap)
            c = cap;
        if (c > budget - used)
            c = ceil(budget - used);
        if (c < 1)
            c = 1;
        s.count = (uint32_t)c;
        uint32_t span = 1;
        while (span < 60 && rng_u32(r) < 0x80000000u)        /* geometric, mean 2 days */
            span++;
        span += (uint32_t)(c / per_day_max);
        if (span > p->days)
            span = p->days;
        s.span = (uint16_t)span;
        s.first_day = (uint16_t)rng_below(r, p->days - span + 1);
        s.cat = (uint8_t)cat;
        if (cat == DS_SYNTH_CAT_MIRAI) {
            s.addr = ds_synth_draw_source(g, r, ds_synth_cc_mirai,
                                          sizeof ds_synth_cc_mirai / sizeof ds_synth_cc_mirai[0], &s.cc);
            s.os = OS_BARE;
            do s.sport = (uint16_t)rng_u32(r); while (s.sport < 1024);   /* scanner_init() */
            s.win = (uint16_t)rng_u32(r);
            s.ttl = (uint8_t)(64 - 6 - rng_below(r, 18));
        } else {
            s.addr = ds_synth_draw_source(g, r, ds_synth_cc_general,
                                          sizeof ds_synth_cc_general / sizeof ds_synth_cc_general[0], &s.cc);
            ds_synth_scanner_profile(r, &s);
        }
        ds_rc rc = push_source(g, &s);
        if (rc != DS_OK)
            return rc;
        used += c;
    }
    return DS_OK;
}
