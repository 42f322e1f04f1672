/* synth_day.c: one day's packets.  Each active source's share of its packets, the diurnal
 * botnet, the events overlapping the day (an event packet is a pure function of its seed and
 * index, so an event crossing midnight is replayed and each packet lands in one day), the noise,
 * the phenomena (a phenomenon's day is a pure function of its seed and the day); then a stable
 * LSD radix sort by timestamp.  Packets are 48-byte spkt records, serialised by synth_wire.c.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "synth/synth_int.h"

/* ------------------------------------------------------------------------------------------ */
/* Day building */

static inline spkt *emit(gen *g)
{
    if (g->nday == g->capday) {
        size_t cap = g->capday * 2;
        spkt *nd = realloc(g->day, cap * sizeof *nd);
        spkt *nt = nd ? realloc(g->tmp, cap * sizeof *nt) : NULL;
        if (nd)
            g->day = nd;
        if (!nd || !nt)
            return NULL;
        g->tmp = nt;
        g->capday = cap;
    }
    spkt *s = &g->day[g->nday++];
    memset(s, 0, sizeof *s);
    return s;
}

void ds_synth_build_tables(gen *g)
{
    const double pi = 3.14159265358979323846;
    int peak = ((g->dn_peak_local - g->dn_offset) % 24 + 24) % 24;
    for (int m = 0; m < 1440; m++) {
        /* background: mild (±20%) swell peaking 14:00 UTC, when Asia's evening meets Europe's day */
        double mild = (1.0 + 0.2 * cos(2 * pi * (m - 14 * 60) / 1440.0)) / 1.2;
        /* the diurnal botnet: devices on at local evening, near silent at local dawn */
        double c = (1.0 + cos(2 * pi * (m - peak * 60) / 1440.0)) / 2.0;
        double strong = 0.03 + 0.97 * c * c;
        g->mild[m] = (uint32_t)(mild * 4294967295.0);
        g->strong[m] = (uint32_t)(strong * 4294967295.0);
    }
}
static inline uint64_t time_in_day(rng *r, const uint32_t *table)
{
    for (;;) {
        uint64_t x = rng_next(r);
        uint32_t m = (uint32_t)(((x >> 32) * 1440) >> 32);
        if ((uint32_t)x < table[m])
            return m * 60ull * NS_PER_SEC + rng_next(r) % (60ull * NS_PER_SEC);
    }
}

static void fill_probe(spkt *k, const source *s, rng *r, uint8_t proto, uint16_t port);

static void fill_scan(gen *g, spkt *k, const source *s, rng *r, uint64_t ts)
{
    k->ts = ts;
    k->src = s->addr;
    k->dst = random_dark(g, r);
    k->cat = s->cat;
    k->cc = s->cc;
    k->ttl = s->ttl;
    k->ipid = (uint16_t)rng_u32(r);
    if (s->cat == DS_SYNTH_CAT_MIRAI) {
        /* scanner.c: dport 2323 for every tenth probe, seq = daddr, per-bot sport and window */
        k->kind = W_TCP;
        k->tcpflags = 0x02;
        k->dport = rng_below(r, 10) == 0 ? 2323 : 23;
        k->sport = s->sport;
        k->win = s->win;
        k->seq = k->dst;
        k->opt = OPT_NONE;
        return;
    }
    uint8_t proto = 6;
    uint16_t port;
    if (s->cat == DS_SYNTH_CAT_RANDOM_PORT) {
        do port = (uint16_t)(1 + rng_below(r, 65535)); while (g->port_banned[port]);
    } else {
        uint32_t x = rng_below(r, 10);
        const svc *v = &ds_synth_port_mix[s->svc[x < 8 ? 0 : x < 9 ? 1 : 2]];
        proto = v->proto;
        port = v->port;
    }
    fill_probe(k, s, r, proto, port);
}

/* The probe a scanner with s's OS profile sends to one service (proto 1: ICMP echo request). */
static void fill_probe(spkt *k, const source *s, rng *r, uint8_t proto, uint16_t port)
{
    k->dport = port;
    if (proto == 6) {
        k->kind = W_TCP;
        k->tcpflags = 0x02;
        k->seq = rng_u32(r);
        k->win = s->win;
        k->opt = s->os == OS_LINUX ? OPT_LINUX : s->os == OS_WINDOWS ? OPT_WIN
                                               : (s->win == 1024 ? OPT_MSS : OPT_NONE);
        k->sport = s->os == OS_LINUX ? (uint16_t)(32768 + rng_below(r, 28232))
                   : s->os == OS_WINDOWS ? (uint16_t)(49152 + rng_below(r, 16384))
                                         : s->sport;
    } else if (proto == 17) {
        k->kind = W_UDP;
        k->sport = s->os == OS_BARE ? s->sport : (uint16_t)(32768 + rng_below(r, 28232));
        k->aux = rng_u32(r);
    } else {
        k->kind = W_ICMP_ECHO;
        k->tcpflags = 8;                                     /* ICMP type: echo request */
        k->opt = s->os == OS_LINUX ? 56 : s->os == OS_WINDOWS ? 32 : 0;
        k->aux = (uint32_t)s->sport << 16 | rng_below(r, 65536);
    }
}

ds_rc ds_synth_gen_population(gen *g, uint32_t d, rng *r)
{
    uint64_t base = day_ns(g, d);
    for (size_t i = 0; i < g->nsrc; i++) {
        source *s = &g->src[i];
        if (d < s->first_day || d >= (uint32_t)s->first_day + s->span)
            continue;
        uint64_t k = d - s->first_day;
        uint32_t n = (uint32_t)((uint64_t)s->count * (k + 1) / s->span - (uint64_t)s->count * k / s->span);
        for (uint32_t j = 0; j < n; j++) {
            spkt *pk = emit(g);
            if (!pk)
                return ds_fail(g->err, DS_ENOMEM, "synth: out of memory for day %u", d);
            fill_scan(g, pk, s, r, base + time_in_day(r, g->mild));
        }
        if (n)
            s->emitted = 1;
    }
    /* the diurnal botnet */
    uint32_t nb = (uint32_t)g->diurnal_per_day + (rng_unit(r) < g->diurnal_per_day - floor(g->diurnal_per_day));
    for (uint32_t j = 0; j < nb && g->nbots; j++) {
        source *b = &g->bots[rng_below(r, (uint32_t)g->nbots)];
        spkt *pk = emit(g);
        if (!pk)
            return ds_fail(g->err, DS_ENOMEM, "synth: out of memory for day %u", d);
        pk->ts = base + time_in_day(r, g->strong);
        if (pk->ts < g->dn_first || !g->dn_first)
            g->dn_first = pk->ts;
        if (pk->ts > g->dn_last)
            g->dn_last = pk->ts;
        pk->src = b->addr;
        pk->dst = random_dark(g, r);
        pk->cat = DS_SYNTH_CAT_DIURNAL;
        pk->cc = b->cc;
        pk->ttl = b->ttl;
        pk->ipid = (uint16_t)rng_u32(r);
        pk->kind = W_TCP;
        pk->tcpflags = 0x02;
        pk->dport = g->dn_port;
        pk->sport = (uint16_t)(49152 + rng_below(r, 16384));
        pk->seq = rng_u32(r);
        pk->win = b->win;
        pk->opt = OPT_WIN;
        b->emitted = 1;
    }
    return DS_OK;
}

ds_rc ds_synth_gen_noise(gen *g, uint32_t d, rng *r)
{
    uint64_t base = day_ns(g, d);
    for (int cat = DS_SYNTH_CAT_OUTSIDE; cat <= DS_SYNTH_CAT_OTHER_FLAGS; cat++) {
        double want = g->noise_per_day[cat];
        uint32_t n = (uint32_t)want + (rng_unit(r) < want - floor(want));
        for (uint32_t j = 0; j < n; j++) {
            if (!g->nsrc)
                break;
            const source *s = &g->src[rng_below(r, (uint32_t)g->nsrc)];
            spkt *k = emit(g);
            if (!k)
                return ds_fail(g->err, DS_ENOMEM, "synth: out of memory for day %u", d);
            uint64_t ts = base + time_in_day(r, g->mild);
            switch (cat) {
            case DS_SYNTH_CAT_OUTSIDE:
                fill_scan(g, k, s, r, ts);
                k->dst = ds_synth_random_outside(g, r);
                if (s->cat == DS_SYNTH_CAT_MIRAI)
                    k->seq = k->dst;
                break;
            case DS_SYNTH_CAT_ARP:
                k->ts = ts;
                k->kind = W_ARP;
                k->dst = random_dark(g, r);
                k->src = g->r4[0].start - 2;                         /* the upstream router */
                break;
            case DS_SYNTH_CAT_FRAGMENT:
                fill_scan(g, k, s, r, ts);
                k->kind = W_FRAG;
                k->opt = (uint8_t)rng_below(r, 2);                 /* 0 first fragment, 1 later */
                k->dport = 53;
                k->sport = (uint16_t)(1024 + rng_below(r, 64512));
                break;
            case DS_SYNTH_CAT_IPV6:
                k->ts = ts;
                k->kind = rng_below(r, 2) ? W_V6_TCP : W_V6_ICMP;
                k->aux = rng_below(r, (uint32_t)g->n6);
                k->src = rng_u32(r);
                k->dst = rng_u32(r);
                k->seq = rng_u32(r);
                k->ack = rng_u32(r);
                static const uint16_t v6ports[] = { 22, 80, 443, 445, 3389 };
                k->dport = v6ports[rng_below(r, 5)];
                k->sport = (uint16_t)(32768 + rng_below(r, 28232));
                k->ttl = (uint8_t)(64 - 6 - rng_below(r, 18));
                k->win = 64800;
                k->cc = 0;
                break;
            default: /* other flags: ACK-only or FIN, stray ends of connections */
                fill_scan(g, k, s, r, ts);
                k->kind = W_TCP;
                k->tcpflags = rng_below(r, 2) ? 0x10 : 0x01;
                k->ack = rng_u32(r);
                k->seq = rng_u32(r);
                k->opt = OPT_NONE;
                if (!k->dport)
                    k->dport = 80;
                break;
            }
            k->cat = (uint8_t)cat;
        }
    }
    return DS_OK;
}

ds_rc ds_synth_gen_events(gen *g, uint32_t d)
{
    uint64_t lo = day_ns(g, d), hi = lo + NS_PER_DAY;
    for (size_t i = 0; i < g->nev; i++) {
        event *e = &g->ev[i];
        if (e->start >= hi || e->start + e->dur <= lo)
            continue;
        for (uint32_t j = 0; j < e->npk; j++) {
            uint64_t h = mix64(e->seed ^ (j * 0x9e3779b97f4a7c15ull));
            uint64_t ts = e->start + h % e->dur;
            if (ts < lo || ts >= hi)
                continue;
            uint64_t h2 = mix64(h), h3 = mix64(h2);
            spkt *k = emit(g);
            if (!k)
                return ds_fail(g->err, DS_ENOMEM, "synth: out of memory for day %u", d);
            k->ts = ts;
            k->src = e->src;
            k->cc = e->cc;
            e->emitted++;
            switch (e->type) {
            case EV_ZMAP:
                k->cat = DS_SYNTH_CAT_ZMAP;
                k->kind = W_TCP;
                k->tcpflags = 0x02;
                k->dst = g->sweep_sampled ? dark_addr(g, h2 % g->v4total) : dark_addr(g, j);
                k->dport = e->port;
                k->sport = (uint16_t)(32768 + hash_below(h2, 28232));  /* zmap's default range */
                k->seq = (uint32_t)h3;                                /* validation bytes */
                k->ipid = 54321;
                k->ttl = 255;
                k->win = 65535;
                k->opt = e->variant ? OPT_WIN : OPT_MSS;
                break;
            case EV_MASSCAN:
                k->cat = DS_SYNTH_CAT_MASSCAN;
                k->kind = W_TCP;
                k->tcpflags = 0x02;
                k->dst = g->sweep_sampled ? dark_addr(g, h2 % g->v4total) : dark_addr(g, j);
                k->dport = e->port;
                k->sport = e->sport;
                /* syn-cookie: a keyed hash of the 4-tuple; IP ID = ip_them ^ port_them ^ seqno */
                k->seq = (uint32_t)mix64(e->seed ^ ((uint64_t)k->dst << 16 | k->dport) ^ ((uint64_t)k->src << 32));
                k->ipid = (uint16_t)((k->dst ^ k->dport ^ k->seq) & 0xffff);
                k->ttl = 255;
                k->win = 1024;
                k->opt = e->variant ? OPT_NONE : OPT_MSS;
                break;
            case EV_NMAP: {
                uint32_t nports = e->victim_port_or_nports, pi = j % nports, ai = j / nports;
                k->cat = DS_SYNTH_CAT_NMAP;
                k->kind = W_TCP;
                k->tcpflags = 0x02;
                k->dst = dark_addr(g, (e->addr_base + (uint64_t)ai * 7) % g->v4total);
                k->dport = pi < sizeof ds_synth_nmap_top / sizeof ds_synth_nmap_top[0]
                               ? ds_synth_nmap_top[pi]
                               : (uint16_t)(1 + hash_below(mix64(e->seed + pi), 65535));
                for (uint64_t x = e->seed + pi; g->port_banned[k->dport];)
                    k->dport = (uint16_t)(1 + hash_below(x = mix64(x), 65535));
                k->sport = e->sport;
                k->seq = (uint32_t)h3;
                k->ipid = (uint16_t)(h3 >> 32);
                k->ttl = (uint8_t)(37 + hash_below(h2, 23));
                k->win = 1024;
                k->opt = OPT_MSS;
                break;
            }
            default: /* backscatter */
                k->cat = DS_SYNTH_CAT_BACKSCATTER;
                k->dst = dark_addr(g, h2 % g->v4total);
                k->ttl = e->ttl;
                k->ipid = (uint16_t)(h3 >> 48);
                switch (e->variant) {
                case BS_SYNACK:
                case BS_RSTACK:
                    k->kind = W_TCP;
                    k->sport = e->port;
                    k->dport = (uint16_t)(1024 + hash_below(h3, 64512));
                    for (uint64_t x = h3; g->port_banned[k->dport];)
                        k->dport = (uint16_t)(1024 + hash_below(x = mix64(x), 64512));
                    k->ack = (uint32_t)h3 + 1;
                    if (e->variant == BS_SYNACK) {
                        k->tcpflags = 0x12;
                        k->seq = (uint32_t)(h2 >> 32);
                        k->win = 65160;
                        k->opt = OPT_MSS;
                    } else {
                        k->tcpflags = 0x14;
                        k->win = 0;
                        k->opt = OPT_NONE;
                    }
                    break;
                case BS_ECHOREPLY:
                    k->kind = W_ICMP_ECHO;
                    k->tcpflags = 0;                                  /* ICMP type: echo reply */
                    k->opt = 56;
                    k->aux = (uint32_t)h3;
                    break;
                default:
                    k->kind = W_ICMP_UNREACH;
                    k->aux = e->src;                                  /* quoted dst: the victim */
                    k->dport = e->port;
                    k->sport = (uint16_t)(1024 + hash_below(h3, 64512));
                    k->seq = (uint32_t)h3;                            /* quoted IP ID / payload */
                    break;
                }
                break;
            }
        }
    }
    return DS_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* Phenomena: one day's packets.  A phenomenon's day is a pure function of (its seed, the day). */

static inline int weekday_of(uint64_t ns) { return (int)((ns / NS_PER_DAY + 4) % 7); }   /* 0 Sunday */

/* Bresenham: is packet j one of the share q (0 <= q <= 1) spread evenly over the packets?  Of the
 * first n packets, exactly floor(n q) are. */
static inline int in_share(uint64_t j, double q)
{
    return floor((double)(j + 1) * q) > floor((double)j * q);
}

static inline void fill_head(gen *g, spkt *k, const source *s, rng *r, uint64_t ts)
{
    k->ts = ts;
    k->src = s->addr;
    k->dst = random_dark(g, r);
    k->cc = s->cc;
    k->ttl = s->ttl;
    k->ipid = (uint16_t)rng_u32(r);
}

static inline void note(phen *ph, source *s, uint64_t ts)
{
    s->emitted = 1;
    ph->packets++;
    if (ts < ph->first_ts)
        ph->first_ts = ts;
    if (ts > ph->last_ts)
        ph->last_ts = ts;
}

static ds_rc gen_tool_day(gen *g, phen *ph, uint32_t d, rng *r)
{
    uint64_t lo = day_ns(g, d);
    for (uint32_t i = 0; i < ph->nsrc; i++) {
        source *s = &g->psrc[ph->first_src + i];
        if (d < s->first_day || d >= (uint32_t)s->first_day + s->span)
            continue;
        double want = s->count * (0.8 + 0.4 * rng_unit(r));
        uint32_t n = (uint32_t)want + (rng_unit(r) < want - floor(want));
        for (uint32_t j = 0; j < n; j++) {
            spkt *k = emit(g);
            if (!k)
                return ds_fail(g->err, DS_ENOMEM, "synth: out of memory for day %u", d);
            fill_head(g, k, s, r, lo + time_in_day(r, g->mild));
            k->cat = DS_SYNTH_CAT_TOOL_PAYLOAD;
            k->sport = s->sport;
            if (ph->tool == DS_SYNTH_TOOL_NACHI) {
                k->kind = W_ICMP_ECHO;
                k->tcpflags = 8;
                k->opt = 64;                                 /* 64 bytes of 0xAA: IP total length 92 */
                k->payload = PL_NACHI;
                k->aux = (uint32_t)s->sport << 16 | (uint16_t)(k->ts / NS_PER_SEC);
            } else {
                k->kind = W_UDP;
                k->dport = ph->port;
                k->aux = rng_u32(r);
                k->seq = rng_u32(r);
                if (ph->tool == DS_SYNTH_TOOL_SLAMMER) {
                    k->payload = PL_SLAMMER;
                } else {
                    k->payload = s->svc[0];                  /* OPTIONS or REGISTER */
                    k->opt = (uint8_t)(ph->tool - DS_SYNTH_TOOL_SIPVICIOUS);   /* User-Agent */
                }
            }
            note(ph, s, k->ts);
        }
    }
    return DS_OK;
}

static const uint8_t ph_cat[] = {
    [PH_SPIKE_CC] = DS_SYNTH_CAT_SPIKE, [PH_SPIKE_SVC] = DS_SYNTH_CAT_SPIKE, [PH_SURGE] = DS_SYNTH_CAT_SURGE,
    [PH_NEW_SERVICE] = DS_SYNTH_CAT_NEW_SERVICE, [PH_SINGLE] = DS_SYNTH_CAT_SINGLE_SOURCE,
    [PH_WEEKLY] = DS_SYNTH_CAT_WEEKLY, [PH_TOOL] = DS_SYNTH_CAT_TOOL_PAYLOAD,
};

ds_rc ds_synth_gen_phenomena(gen *g, uint32_t d)
{
    uint64_t lo = day_ns(g, d), hi = lo + NS_PER_DAY;
    for (size_t i = 0; i < g->nph; i++) {
        phen *ph = &g->ph[i];
        if (ph->start >= hi || ph->end <= lo || !ph->nsrc)
            continue;
        rng r;
        rng_seed(&r, ph->seed, d);
        if (ph->type == PH_TOOL) {
            ds_rc rc = gen_tool_day(g, ph, d, &r);
            if (rc != DS_OK)
                return rc;
            continue;
        }
        uint64_t a = ph->start > lo ? ph->start : lo, b = ph->end < hi ? ph->end : hi;
        double level = 1;
        uint32_t n_cc = ph->nsrc_cc, n_other = ph->nsrc - ph->nsrc_cc;
        if (ph->type == PH_SURGE) {
            /* the volume is there from the first day; the hosts join over ramp_days */
            uint32_t since = d - (uint32_t)((ph->start - day_ns(g, 0)) / NS_PER_DAY);
            double frac = (since + 1.0) / ph->ramp_days;
            if (frac < 1) {
                n_cc = (uint32_t)(n_cc * frac);
                n_other = (uint32_t)(n_other * frac);
            }
            n_cc += !n_cc && ph->nsrc_cc;
            n_other += !n_other && ph->nsrc > ph->nsrc_cc;
            level = since == 0 ? 0.5 : 1;
        } else if (ph->type == PH_WEEKLY) {
            int wd = weekday_of(lo);
            if (ph->weekdays)
                level = wd == ph->weekday ? 1 : (wd >= 1 && wd <= 5) ? 0.625 : ph->low;
            else
                level = wd == ph->weekday ? 1 : ph->low;
        }
        double want = ph->per_day * level * (double)(b - a) / (double)NS_PER_DAY * (0.85 + 0.3 * rng_unit(&r));
        uint32_t n = (uint32_t)want + (rng_unit(&r) < want - floor(want));
        for (uint32_t j = 0; j < n; j++) {
            spkt *k = emit(g);
            if (!k)
                return ds_fail(g->err, DS_ENOMEM, "synth: out of memory for day %u", d);
            uint64_t ts = a + rng_next(&r) % (b - a);
            source *s;
            if (ph->type == PH_SURGE) {
                /* counted over the whole surge (ph->packets so far), so the shares hold exactly */
                int other = n_other && (!n_cc || in_share(ph->packets, 1 - ph->cc_share));
                s = &g->psrc[ph->first_src + (other ? ph->nsrc_cc + rng_below(&r, n_other) : rng_below(&r, n_cc))];
                fill_head(g, k, s, &r, ts);
                fill_probe(k, s, &r, ph->proto, ph->port);
                if (!in_share(ph->packets, 1 - ph->sport_share))
                    k->sport = ph->sport;
                ph->cc_packets += s->cc == ph->cc;
                ph->sport_packets += k->sport == ph->sport;
            } else {
                s = &g->psrc[ph->first_src + rng_below(&r, ph->nsrc)];
                if (ph->type == PH_SPIKE_CC) {
                    fill_scan(g, k, s, &r, ts);
                } else {
                    fill_head(g, k, s, &r, ts);
                    fill_probe(k, s, &r, ph->proto, ph->port);
                }
            }
            k->cat = ph_cat[ph->type];
            note(ph, s, ts);
        }
    }
    return DS_OK;
}

/* Stable LSD radix sort on the ns offset within the day (< 2^47: three 16-bit digits). */
void ds_synth_sort_day(gen *g, uint64_t base)
{
    size_t *cnt = g->radix;
    spkt *a = g->day, *b = g->tmp;
    for (int pass = 0; pass < 3; pass++) {
        int sh = pass * 16;
        memset(cnt, 0, 65536 * sizeof *cnt);
        for (size_t i = 0; i < g->nday; i++)
            cnt[((a[i].ts - base) >> sh) & 0xffff]++;
        size_t sum = 0;
        for (size_t i = 0; i < 65536; i++) {
            size_t c = cnt[i];
            cnt[i] = sum;
            sum += c;
        }
        for (size_t i = 0; i < g->nday; i++)
            b[cnt[((a[i].ts - base) >> sh) & 0xffff]++] = a[i];
        spkt *t = a;
        a = b;
        b = t;
    }
    /* three passes: the sorted data is in the buffer that started as tmp */
    g->tmp = g->day;
    g->day = a;
}
