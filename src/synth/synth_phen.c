/* synth_phen.c: planning the notable phenomena (spikes, a surge, new services, single-source
 * floods, daily and weekly cycles, payload tools) on their own random stream, so that the
 * background is the same with or without them, with magnitudes relative to the planned
 * population's expected volumes and windows that do not overlap (claims).  Their packets are
 * generated per day in synth_day.c.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "synth/synth_int.h"

/* ------------------------------------------------------------------------------------------ */
/* Phenomena: planning
 *
 * Each phenomenon imitates a sentence from an observatory report (docs/synth.md lists them).
 * Magnitudes are relative to what the population would send anyway (its expected packets per
 * day, by country and by service, summed over the planned sources), so they hold at any --rate.
 * The plan has its own random stream, so the background traffic is the same with and without
 * phenomena.  Claims keep two phenomena off one service (or one country) at the same time, so
 * each is found where the truth says it is. */

static uint32_t cc_pool_count(gen *g, const char *cc)
{
    if (!g->p->country_of || !g->pool)
        return 0;
    unsigned i = ds_synth_cc_intern(g, cc);
    return i ? g->pool_start[i + 1] - g->pool_start[i] : 0;
}

/* The diurnal botnet's port, country, UTC offset and local peak hour (before ds_synth_build_tables). */
void ds_synth_choose_diurnal(gen *g)
{
    const ds_synth_params *p = g->p;
    g->dn_port = 4899;
    memcpy(g->dn_cc, "CN", 3);
    g->dn_offset = 8;
    g->dn_peak_local = 21;
    if (p->phenomena) {
        /* Remote-administration services that botnets of home PCs scan; the places: South
         * America half the time (the 4899/tcp reports), else Asia, Europe, Mexico. */
        static const uint16_t ports[] = { 4899, 4899, 4899, 5938, 5900, 3389, 7070 };
        static const struct { const char *cc; int utc_offset; } places[] = {
            { "BR", -3 }, { "AR", -3 }, { "CL", -4 }, { "CO", -5 }, { "PE", -5 }, { "VE", -4 }, { "EC", -5 },
            { "CN", 8 }, { "VN", 7 }, { "ID", 7 }, { "IN", 5 }, { "RU", 3 }, { "TR", 3 }, { "MX", -6 },
        };
        rng r;
        rng_seed(&r, p->seed, 0x646975726eull);                   /* "diurn" */
        g->dn_port = ports[rng_below(&r, sizeof ports / sizeof ports[0])];
        for (int tries = 0; tries < 16; tries++) {
            uint32_t i = rng_below(&r, 2) ? rng_below(&r, 7) : 7 + rng_below(&r, 7);
            if (p->country_of && cc_pool_count(g, places[i].cc) < 16)
                continue;
            memcpy(g->dn_cc, places[i].cc, 3);
            g->dn_offset = places[i].utc_offset;
            break;
        }
        g->dn_peak_local = 19 + (int)rng_below(&r, 5);
    }
    if (p->diurnal_port)
        g->dn_port = p->diurnal_port;
    if (p->diurnal_cc[0]) {
        memcpy(g->dn_cc, p->diurnal_cc, 2);
        g->dn_cc[2] = '\0';
        g->dn_offset = p->diurnal_utc_offset;
    }
    if (p->diurnal_peak_hour >= 0)
        g->dn_peak_local = p->diurnal_peak_hour % 24;
}

/* Expected packets per day of the planned population and events, by country and by service. */
static void expected_volumes(gen *g)
{
    double days = g->p->days;
    for (size_t i = 0; i < g->nsrc; i++) {
        const source *s = &g->src[i];
        double per = s->count / days;
        g->exp_cc[s->cc] += per;
        g->exp_total += per;
        if (s->cat == DS_SYNTH_CAT_SCAN) {
            g->exp_mix[s->svc[0]] += 0.8 * per;
            g->exp_mix[s->svc[1]] += 0.1 * per;
            g->exp_mix[s->svc[2]] += 0.1 * per;
        } else if (s->cat == DS_SYNTH_CAT_MIRAI) {
            g->exp_mirai += per;
        } else {
            g->exp_random_tcp += per / 65535.0;
        }
    }
    for (size_t i = 0; i < g->nbots; i++)
        g->exp_cc[g->bots[i].cc] += g->diurnal_per_day / (double)g->nbots;
    g->exp_total += g->diurnal_per_day;
    for (size_t i = 0; i < g->nev; i++) {
        g->exp_cc[g->ev[i].cc] += g->ev[i].npk / days;
        g->exp_total += g->ev[i].npk / days;
    }
}

static double usual_svc(const gen *g, uint8_t proto, uint16_t port)
{
    double v = 0;
    for (size_t i = 0; i < N_PORT_MIX; i++)
        if (ds_synth_port_mix[i].proto == proto && (proto == 1 || ds_synth_port_mix[i].port == port))
            v += g->exp_mix[i];
    if (proto == 6) {
        v += g->exp_random_tcp;
        if (port == g->dn_port)
            v += g->diurnal_per_day;
        if (port == 23 || port == 2323)
            v += g->exp_mirai * (port == 23 ? 0.9 : 0.1);
        for (size_t i = 0; i < g->nev; i++)
            if ((g->ev[i].type == EV_ZMAP || g->ev[i].type == EV_MASSCAN) && g->ev[i].port == port)
                v += g->ev[i].npk / (double)g->p->days;
    }
    return v;
}

/* Is the port used by anything in the model other than a phenomenon (either protocol)? */
static int port_in_model(const gen *g, uint16_t port)
{
    for (size_t i = 0; i < N_PORT_MIX; i++)
        if (ds_synth_port_mix[i].proto != 1 && ds_synth_port_mix[i].port == port)
            return 1;
    for (size_t i = 0; i < sizeof ds_synth_sweep_ports / sizeof ds_synth_sweep_ports[0]; i++)
        if (ds_synth_sweep_ports[i] == port)
            return 1;
    for (size_t i = 0; i < sizeof ds_synth_nmap_top / sizeof ds_synth_nmap_top[0]; i++)
        if (ds_synth_nmap_top[i] == port)
            return 1;
    static const uint16_t fixed[] = { 22, 80, 443, 445, 3389, 53, 5060, 1434 };   /* IPv6, fragments, tools */
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        if (fixed[i] == port)
            return 1;
    return port == g->dn_port;
}

static ds_rc push_claim(gen *g, uint8_t proto, uint16_t port, uint8_t cc, uint32_t d0, uint32_t d1, int exclusive)
{
    if (g->nclaims == g->capclaims) {
        size_t cap = g->capclaims ? g->capclaims * 2 : 64;
        claim *nc = realloc(g->claims, cap * sizeof *nc);
        if (!nc)
            return ds_fail(g->err, DS_ENOMEM, "synth: out of memory planning phenomena");
        g->claims = nc;
        g->capclaims = cap;
    }
    g->claims[g->nclaims++] = (claim){ d0, d1, port, proto, cc, (uint8_t)exclusive };
    return DS_OK;
}
/* Two weeks' margin either side: a detector's baseline should not hold another phenomenon. */
static int overlaps(const claim *c, uint32_t d0, uint32_t d1) { return d0 < c->d1 + 14 && c->d0 < d1 + 14; }
static int svc_taken(const gen *g, uint8_t proto, uint16_t port, uint32_t d0, uint32_t d1, int exclusive)
{
    if (proto != 1 && g->port_banned[port])
        return 1;
    for (size_t i = 0; i < g->nclaims; i++) {
        const claim *c = &g->claims[i];
        if (c->proto == proto && (proto == 1 || c->port == port) && (exclusive || c->exclusive || overlaps(c, d0, d1)))
            return 1;
    }
    return 0;
}
static int cc_taken(const gen *g, uint8_t cc, uint32_t d0, uint32_t d1)
{
    for (size_t i = 0; i < g->nclaims; i++)
        if (g->claims[i].proto == 0 && g->claims[i].cc == cc && overlaps(&g->claims[i], d0, d1))
            return 1;
    return 0;
}

static phen *new_phen(gen *g, rng *r, uint8_t type)
{
    if (g->nph == g->capph) {
        size_t cap = g->capph ? g->capph * 2 : 32;
        phen *np = realloc(g->ph, cap * sizeof *np);
        if (!np)
            return NULL;
        g->ph = np;
        g->capph = cap;
    }
    phen *ph = &g->ph[g->nph++];
    memset(ph, 0, sizeof *ph);
    ph->type = type;
    ph->seed = rng_next(r);
    ph->first_src = (uint32_t)g->npsrc;
    ph->first_ts = UINT64_MAX;
    return ph;
}
static source *new_psrc(gen *g, phen *ph)
{
    if (g->npsrc == g->cappsrc) {
        size_t cap = g->cappsrc ? g->cappsrc * 2 : 1024;
        source *ns = realloc(g->psrc, cap * sizeof *ns);
        if (!ns)
            return NULL;
        g->psrc = ns;
        g->cappsrc = cap;
    }
    source *s = &g->psrc[g->npsrc++];
    memset(s, 0, sizeof *s);
    ph->nsrc++;
    return s;
}
/* A source address no population source uses: "a new source" must be new. */
static uint32_t fresh_source(gen *g, rng *r, const cc_weight *t, size_t n, uint8_t *cc)
{
    uint32_t a = 0;
    for (int tries = 0; tries < 8; tries++) {
        a = ds_synth_draw_source(g, r, t, n, cc);
        size_t i = 0;
        while (i < g->nsrc && g->src[i].addr != a)
            i++;
        if (i == g->nsrc)
            break;
    }
    return a;
}

/* Per 92 days, lo..hi drawn from the seed, scaled to the run; at least one in 60 days or more. */
static uint32_t phen_count(rng *r, uint32_t lo, uint32_t hi, uint32_t days, uint32_t min_days)
{
    uint32_t per92 = lo + rng_below(r, hi - lo + 1);
    if (days < 14 + min_days)
        return 0;
    uint32_t n = (uint32_t)((double)per92 * days / 92.0 + 0.5);
    return n == 0 && days >= 60 ? 1 : n;
}

#define CCW(x) x, sizeof x / sizeof x[0]

/* Many hosts of country cc (or of table t when cc is 0), each a port-mix scanner profile. */
static ds_rc add_hosts(gen *g, rng *r, phen *ph, uint32_t n, uint8_t cc, const cc_weight *t, size_t nt)
{
    cc_weight one[1] = { { "ZZ", 1 } };
    if (cc) {
        one[0].cc = g->cc_code[cc];
        t = one;
        nt = 1;
    }
    for (uint32_t i = 0; i < n; i++) {
        source *s = new_psrc(g, ph);
        if (!s)
            return ds_fail(g->err, DS_ENOMEM, "synth: out of memory planning phenomena");
        s->addr = ds_synth_draw_source(g, r, t, nt, &s->cc);
        s->cat = DS_SYNTH_CAT_SCAN;
        ds_synth_scanner_profile(r, s);
    }
    return DS_OK;
}

/* Start day (>= 14) and window for a phenomenon of dur_days days starting at a random hour. */
static void place(gen *g, rng *r, phen *ph, uint32_t dur_days, uint32_t *d0, uint32_t *d1)
{
    uint32_t days = g->p->days;
    *d0 = 14 + rng_below(r, days - 14 - dur_days + 1);
    *d1 = *d0 + dur_days;
    ph->start = day_ns(g, *d0) + (uint64_t)rng_below(r, 86400) * NS_PER_SEC;
    ph->end = ph->start + (uint64_t)dur_days * NS_PER_DAY;
    if (ph->end > day_ns(g, days))
        ph->end = day_ns(g, days);
}

static const svc surge_svcs[] = {   /* databases, admin panels, clusters: low-ranked in the port mix */
    { 6, 1521, 1 }, { 6, 5984, 1 }, { 6, 27017, 1 }, { 6, 9000, 1 }, { 6, 2222, 1 }, { 6, 6443, 1 },
    { 6, 8088, 1 }, { 6, 10250, 1 }, { 6, 9090, 1 }, { 6, 5601, 1 }, { 6, 7001, 1 }, { 6, 8983, 1 },
    { 6, 50070, 1 }, { 6, 11434, 1 }, { 6, 2181, 1 }, { 6, 9042, 1 }, { 6, 5672, 1 }, { 6, 15672, 1 },
};
static const svc new_svcs[] = {     /* IoT and exploit targets not in the port mix */
    { 6, 37777, 1 }, { 6, 34567, 1 }, { 6, 9527, 1 }, { 6, 8291, 1 }, { 6, 8728, 1 }, { 6, 32764, 1 },
    { 6, 61616, 1 }, { 6, 4786, 1 }, { 6, 5985, 1 }, { 6, 9530, 1 }, { 6, 4567, 1 }, { 6, 10443, 1 },
    { 17, 37810, 1 }, { 17, 3702, 1 }, { 17, 10001, 1 }, { 17, 47808, 1 },
};
static const svc weekly_svcs[] = {  /* office-hours services */
    { 6, 445, 1 }, { 6, 3389, 1 }, { 6, 1433, 1 }, { 6, 3306, 1 }, { 6, 5432, 1 }, { 6, 6379, 1 },
    { 6, 9200, 1 }, { 6, 5900, 1 }, { 6, 21, 1 }, { 6, 2375, 1 }, { 6, 8000, 1 }, { 6, 8888, 1 },
};
static const char *const surge_ccs[] = { "CN", "CN", "CN", "US", "RU", "BR", "IN", "KR", "NL", "VN", "TW", "DE" };
static const char *const weekly_ccs[] = { "US", "CN", "RU", "DE", "NL", "GB", "FR", "JP", "KR", "IN", "BR",
                                          "SG", "HK", "UA", "TR" };

/* A country from names (with pool data, unclaimed in d0..d1); 0 without country data or none free. */
static uint8_t pick_cc(gen *g, rng *r, const char *const *names, size_t n, uint32_t d0, uint32_t d1)
{
    if (!g->p->country_of)
        return 0;
    for (int tries = 0; tries < 32; tries++) {
        const char *cc = names[rng_below(r, (uint32_t)n)];
        if (cc_pool_count(g, cc) < 16)
            continue;
        uint8_t i = (uint8_t)ds_synth_cc_intern(g, cc);
        if (i && !cc_taken(g, i, d0, d1))
            return i;
    }
    return 0;
}
/* A service from t that is free in d0..d1 (exclusive: never used by another phenomenon). */
static const svc *pick_svc_from(gen *g, rng *r, const svc *t, size_t n, uint32_t d0, uint32_t d1, int exclusive)
{
    uint32_t at = rng_below(r, (uint32_t)n);
    for (size_t k = 0; k < n; k++) {
        const svc *v = &t[(at + k) % n];
        if (!svc_taken(g, v->proto, v->port, d0, d1, exclusive))
            return v;
    }
    return NULL;
}
/* A mid-ranked TCP or UDP service of the port mix: rank lo..hi (1 = most packets expected) among
 * its entries, free in d0..d1, not the SIP tools' 5060/udp nor the diurnal botnet's port. */
static const svc *pick_mid_svc(gen *g, rng *r, uint32_t lo, uint32_t hi, uint32_t d0, uint32_t d1)
{
    const svc *ranked[N_PORT_MIX];
    double vol[N_PORT_MIX];
    uint32_t n = 0;
    for (size_t i = 0; i < N_PORT_MIX; i++) {
        const svc *v = &ds_synth_port_mix[i];
        double u = v->proto == 1 ? 0 : usual_svc(g, v->proto, v->port);
        uint32_t k = n++;
        for (; k > 0 && vol[k - 1] < u; k--) {       /* insertion sort, largest first */
            ranked[k] = ranked[k - 1];
            vol[k] = vol[k - 1];
        }
        ranked[k] = v;
        vol[k] = u;
    }
    if (hi > n)
        hi = n;
    if (lo < 1 || lo > hi)
        return NULL;
    uint32_t span = hi - lo + 1, at = rng_below(r, span);
    for (uint32_t k = 0; k < span; k++) {
        const svc *v = ranked[lo - 1 + (at + k) % span];
        if (v->proto != 1 && !(v->proto == 17 && v->port == 5060) && v->port != g->dn_port &&
            !svc_taken(g, v->proto, v->port, d0, d1, 0))
            return v;
    }
    return NULL;
}

static double clampd(double v, double lo, double hi) { return v < lo ? lo : v > hi ? hi : v; }

static ds_rc plan_tools(gen *g, rng *r)
{
    const ds_synth_params *p = g->p;
    uint32_t days = p->days;
    double usual_sip = usual_svc(g, 17, 5060), daily = g->exp_total;
    static const struct { uint8_t tool; uint32_t lo, hi, span_lo, span_hi; } kinds[] = {
        { DS_SYNTH_TOOL_SIPVICIOUS, 3, 6, 1, 5 }, { DS_SYNTH_TOOL_SIPCLI, 1, 3, 1, 4 },
        { DS_SYNTH_TOOL_SLAMMER, 3, 8, 10, 92 }, { DS_SYNTH_TOOL_NACHI, 2, 5, 5, 40 },
    };
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        uint8_t tool = kinds[k].tool;
        if (tool == DS_SYNTH_TOOL_SIPCLI && rng_below(r, 2))
            tool = DS_SYNTH_TOOL_VAXSIP;
        uint32_t per92 = kinds[k].lo + rng_below(r, kinds[k].hi - kinds[k].lo + 1);
        uint32_t n = (uint32_t)((double)per92 * days / 92.0 + 0.5);
        if (n == 0)
            n = 1;
        phen *ph = new_phen(g, r, PH_TOOL);
        if (!ph)
            return ds_fail(g->err, DS_ENOMEM, "synth: out of memory planning phenomena");
        ph->tool = tool;
        ph->proto = tool == DS_SYNTH_TOOL_NACHI ? 1 : 17;
        ph->port = tool == DS_SYNTH_TOOL_NACHI ? 8 : tool == DS_SYNTH_TOOL_SLAMMER ? 1434 : 5060;
        ph->start = day_ns(g, 0);
        ph->end = day_ns(g, days);
        for (uint32_t i = 0; i < n; i++) {
            source *s = new_psrc(g, ph);
            if (!s)
                return ds_fail(g->err, DS_ENOMEM, "synth: out of memory planning phenomena");
            s->addr = fresh_source(g, r, CCW(ds_synth_cc_general), &s->cc);
            uint32_t span = kinds[k].span_lo + rng_below(r, kinds[k].span_hi - kinds[k].span_lo + 1);
            if (span > days)
                span = days;
            s->span = (uint16_t)span;
            s->first_day = (uint16_t)rng_below(r, days - span + 1);
            if (tool == DS_SYNTH_TOOL_SLAMMER && i == 0) {
                /* Slammer is endemic: one host runs from the first day to the last, so that
                 * 1434/udp is part of the baseline, never a "new service" */
                s->first_day = 0;
                s->span = (uint16_t)(days > 65535 ? 65535 : days);
            }
            s->ttl = (uint8_t)(128 - 6 - rng_below(r, 18));           /* Windows hosts, PBX boxes */
            double per_day;
            switch (tool) {
            case DS_SYNTH_TOOL_SLAMMER:
                /* the worm's one socket: one ephemeral source port for the host's life */
                s->sport = (uint16_t)(1025 + rng_below(r, 3975));
                per_day = daily * (0.0002 + 0.0006 * rng_unit(r));
                break;
            case DS_SYNTH_TOOL_NACHI:
                s->sport = (uint16_t)rng_u32(r);                      /* ICMP identifier */
                per_day = daily * (0.0005 + 0.0015 * rng_unit(r));
                break;
            default:
                /* svmap / svwar bind 5060 locally; the others use an ephemeral port */
                s->sport = tool == DS_SYNTH_TOOL_SIPVICIOUS ? 5060 : (uint16_t)(32768 + rng_below(r, 28232));
                s->ttl = (uint8_t)(64 - 6 - rng_below(r, 18));
                s->svc[0] = rng_below(r, 10) < 7 ? PL_SIP_OPTIONS : PL_SIP_REGISTER;
                per_day = usual_sip * (0.2 + 0.4 * rng_unit(r));
                break;
            }
            s->count = (uint32_t)(per_day < 1 ? 1 : per_day);
        }
    }
    return DS_OK;
}

ds_rc ds_synth_plan_phenomena(gen *g)
{
    const ds_synth_params *p = g->p;
    uint32_t days = p->days;
    rng r;
    rng_seed(&r, p->seed, 0x7068656eull);                        /* "phen" */
    expected_volumes(g);
    double daily = g->exp_total;
    ds_rc rc;
    uint8_t dncc = p->country_of ? (uint8_t)ds_synth_cc_intern(g, g->dn_cc) : 0;
    if ((rc = push_claim(g, 6, g->dn_port, 0, 0, days, 1)) != DS_OK ||
        (dncc && (rc = push_claim(g, 0, 0, dncc, 0, days, 0)) != DS_OK) ||
        (rc = push_claim(g, 17, 5060, 0, 0, days, 1)) != DS_OK ||
        (rc = push_claim(g, 17, 1434, 0, 0, days, 1)) != DS_OK ||
        (rc = push_claim(g, 1, 8, 0, 0, days, 1)) != DS_OK)
        return rc;
    if ((rc = plan_tools(g, &r)) != DS_OK)
        return rc;
#define NEW_PHEN(type)                                                                  \
    phen *ph = new_phen(g, &r, type);                                                   \
    if (!ph)                                                                            \
        return ds_fail(g->err, DS_ENOMEM, "synth: out of memory planning phenomena")

    /* surge: "1521/tcp rose from 74th to 13th place; 92 % of the packets came from China and 99 %
     * had source port 6000; the number of source hosts surged in late July" */
    uint32_t n = phen_count(&r, 1, 1, days, 28);
    for (uint32_t i = 0; i < n; i++) {
        uint32_t dur = 14 + rng_below(&r, 22), d0, d1;
        if (dur > days - 14)
            dur = days - 14;
        NEW_PHEN(PH_SURGE);
        place(g, &r, ph, dur, &d0, &d1);
        const svc *v = pick_svc_from(g, &r, surge_svcs, sizeof surge_svcs / sizeof surge_svcs[0], d0, d1, 1);
        if (!v) {
            g->nph--;
            continue;
        }
        static const uint16_t sports[] = { 6000, 6000, 6000, 6001, 6003, 6005 };
        static const uint16_t wins[] = { 16384, 65535, 8192, 29200 };
        ph->proto = 6;
        ph->port = v->port;
        ph->cc = pick_cc(g, &r, surge_ccs, sizeof surge_ccs / sizeof surge_ccs[0], d0, d1);
        ph->sport = sports[rng_below(&r, 6)];
        ph->per_day = daily * (0.015 + 0.025 * rng_unit(&r));
        ph->factor = ph->per_day / (usual_svc(g, 6, v->port) > 1 ? usual_svc(g, 6, v->port) : 1);
        ph->cc_share = ph->cc ? 0.92 + 0.05 * rng_unit(&r) : 1;
        ph->sport_share = 0.993 + 0.006 * rng_unit(&r);
        ph->ramp_days = 3 + rng_below(&r, 5);
        uint32_t hosts = (uint32_t)clampd(50 + rng_below(&r, 350), 4, ph->per_day * dur / 3 + 4);
        uint32_t hosts_cc = ph->cc ? (uint32_t)(hosts * ph->cc_share + 0.5) : hosts;
        if (ph->cc && hosts_cc >= hosts)
            hosts_cc = hosts - 1;
        uint16_t win = wins[rng_below(&r, 4)];
        uint8_t base = rng_below(&r, 2) ? 128 : 64;
        if ((rc = add_hosts(g, &r, ph, hosts_cc, ph->cc, CCW(ds_synth_cc_general))) != DS_OK ||
            (rc = add_hosts(g, &r, ph, hosts - hosts_cc, 0, CCW(ds_synth_cc_general))) != DS_OK)
            return rc;
        ph->nsrc_cc = hosts_cc;
        for (uint32_t k = 0; k < ph->nsrc; k++) {      /* one bot, one stack: bare SYNs, no options */
            source *s = &g->psrc[ph->first_src + k];
            s->os = OS_BARE;
            s->win = win;
            s->ttl = (uint8_t)(base - 6 - rng_below(&r, 18));
        }
        if ((rc = push_claim(g, 6, v->port, 0, d0, d1, 1)) != DS_OK ||
            (ph->cc && (rc = push_claim(g, 0, 0, ph->cc, d0, d1, 0)) != DS_OK))
            return rc;
    }

    /* periodic_weekly: one country's scanning of one service on working days, or on one day.  Each
     * runs from its third week to the end of the run, so any quarter of the run shows the cycle;
     * a longer run has several at once, on other services and from other countries. */
    n = phen_count(&r, 1, 1, days, 28);
    for (uint32_t i = 0; i < n; i++) {
        uint32_t d0 = 14 + rng_below(&r, 7), d1 = days;
        NEW_PHEN(PH_WEEKLY);
        ph->start = day_ns(g, d0);
        ph->end = day_ns(g, d1);
        const svc *v = pick_svc_from(g, &r, weekly_svcs, sizeof weekly_svcs / sizeof weekly_svcs[0], d0, d1, 0);
        ph->cc = pick_cc(g, &r, weekly_ccs, sizeof weekly_ccs / sizeof weekly_ccs[0], d0, d1);
        if (!v || (p->country_of && !ph->cc)) {
            g->nph--;
            continue;
        }
        ph->proto = v->proto;
        ph->port = v->port;
        ph->weekdays = (uint8_t)rng_below(&r, 2);
        ph->weekday = (uint8_t)(ph->weekdays ? 1 + rng_below(&r, 5) : rng_below(&r, 7));
        ph->low = 0.05 + 0.1 * rng_unit(&r);
        ph->factor = 1 / ph->low;
        ph->per_day = usual_svc(g, v->proto, v->port) * (0.6 + 0.9 * rng_unit(&r));
        if (ph->per_day < 10)
            ph->per_day = 10;
        if ((rc = add_hosts(g, &r, ph, 20 + rng_below(&r, 100), ph->cc, CCW(ds_synth_cc_general))) != DS_OK ||
            (rc = push_claim(g, v->proto, v->port, 0, d0, d1, 0)) != DS_OK ||
            (ph->cc && (rc = push_claim(g, 0, 0, ph->cc, d0, d1, 0)) != DS_OK))
            return rc;
    }

    /* new_service: "scans of 37215/tcp appeared on ..." - a port nothing else ever uses */
    n = phen_count(&r, 1, 2, days, 7);
    for (uint32_t i = 0; i < n; i++) {
        uint32_t d0, d1, dur = 7 + rng_below(&r, 34);
        if (dur > days - 14)
            dur = days - 14;
        NEW_PHEN(PH_NEW_SERVICE);
        place(g, &r, ph, dur, &d0, &d1);
        if (rng_below(&r, 2)) {                       /* half stay to the end of the run */
            ph->end = day_ns(g, days);
            d1 = days;
        }
        const svc *v = NULL;
        for (int tries = 0; tries < 8 && (!v || port_in_model(g, v->port)); tries++)
            v = pick_svc_from(g, &r, new_svcs, sizeof new_svcs / sizeof new_svcs[0], 0, days, 1);
        if (!v || port_in_model(g, v->port)) {
            g->nph--;
            continue;
        }
        ph->proto = v->proto;
        ph->port = v->port;
        ph->per_day = daily * (0.003 + 0.009 * rng_unit(&r));
        ph->factor = ph->per_day;                     /* from nothing: packets per day */
        g->port_banned[v->port] = 1;
        if ((rc = add_hosts(g, &r, ph, 40 + rng_below(&r, 260), 0, CCW(ds_synth_cc_mirai))) != DS_OK ||
            (rc = push_claim(g, v->proto, v->port, 0, 0, days, 1)) != DS_OK)
            return rc;
    }

    /* spike (service): "scans of 5555/tcp jumped tenfold for two days" */
    n = phen_count(&r, 1, 2, days, 4);
    for (uint32_t i = 0; i < n; i++) {
        uint32_t d0, d1;
        NEW_PHEN(PH_SPIKE_SVC);
        place(g, &r, ph, 1 + rng_below(&r, 4), &d0, &d1);
        const svc *v = pick_mid_svc(g, &r, 10, 30, d0, d1);
        if (!v) {
            g->nph--;
            continue;
        }
        ph->proto = v->proto;
        ph->port = v->port;
        ph->factor = 5 + 15 * rng_unit(&r);
        ph->per_day = (ph->factor - 1) * usual_svc(g, v->proto, v->port);
        uint32_t hosts = (uint32_t)clampd(ph->per_day * (d1 - d0) / (5 + 15 * rng_unit(&r)), 50, 3000);
        if ((rc = add_hosts(g, &r, ph, hosts, 0, CCW(ds_synth_cc_general))) != DS_OK ||
            (rc = push_claim(g, v->proto, v->port, 0, d0, d1, 0)) != DS_OK)
            return rc;
    }

    /* single_source: one new host sends enough to multiply a service's day five times or more */
    n = phen_count(&r, 1, 2, days, 3);
    for (uint32_t i = 0; i < n; i++) {
        uint32_t d0, d1;
        NEW_PHEN(PH_SINGLE);
        place(g, &r, ph, 3, &d0, &d1);
        ph->end = ph->start + (uint64_t)((1 + 2 * rng_unit(&r)) * (double)NS_PER_DAY);
        if (ph->end > day_ns(g, days))
            ph->end = day_ns(g, days);
        const svc *v = pick_mid_svc(g, &r, 12, 34, d0, d1);
        if (!v) {
            g->nph--;
            continue;
        }
        ph->proto = v->proto;
        ph->port = v->port;
        ph->factor = 5 + 7 * rng_unit(&r);
        ph->per_day = (ph->factor - 1) * usual_svc(g, v->proto, v->port);
        source *s = new_psrc(g, ph);
        if (!s)
            return ds_fail(g->err, DS_ENOMEM, "synth: out of memory planning phenomena");
        s->addr = fresh_source(g, &r, CCW(ds_synth_cc_general), &s->cc);
        ds_synth_scanner_profile(&r, s);
        ph->cc = s->cc;
        if ((rc = push_claim(g, v->proto, v->port, 0, d0, d1, 0)) != DS_OK)
            return rc;
    }

    /* spike (country): "packets from Bulgaria rose for a few days" - not a top-5 country */
    n = p->country_of ? phen_count(&r, 1, 2, days, 5) : 0;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t d0, d1;
        NEW_PHEN(PH_SPIKE_CC);
        place(g, &r, ph, 2 + rng_below(&r, 4), &d0, &d1);
        uint8_t order[256];
        unsigned no = 0;
        for (unsigned c = 1; c < g->ncc && c < 256; c++)
            if (g->exp_cc[c] > 0)
                order[no++] = (uint8_t)c;
        for (unsigned a = 1; a < no; a++)            /* by expected volume, largest first */
            for (unsigned b = a; b > 0 && g->exp_cc[order[b]] > g->exp_cc[order[b - 1]]; b--) {
                uint8_t t = order[b];
                order[b] = order[b - 1];
                order[b - 1] = t;
            }
        uint8_t cc = 0;
        /* ranks 8..25: a margin below the top 5, whose order the planted traffic can shift */
        for (int tries = 0; tries < 32 && !cc && no > 7; tries++) {
            uint8_t c = order[7 + rng_below(&r, (no < 25 ? no : 25) - 7)];
            if (g->exp_cc[c] >= 0.002 * daily && g->pool_start[c + 1] - g->pool_start[c] >= 16 &&
                !cc_taken(g, c, d0, d1))
                cc = c;
        }
        if (!cc) {
            g->nph--;
            continue;
        }
        ph->cc = cc;
        ph->factor = 4 + 6 * rng_unit(&r);
        ph->per_day = (ph->factor - 1) * g->exp_cc[cc];
        uint32_t hosts = (uint32_t)clampd(ph->per_day * (d1 - d0) / (10 + 30 * rng_unit(&r)), 30, 3000);
        if ((rc = add_hosts(g, &r, ph, hosts, cc, CCW(ds_synth_cc_general))) != DS_OK ||
            (rc = push_claim(g, 0, 0, cc, d0, d1, 0)) != DS_OK)
            return rc;
    }
#undef NEW_PHEN
    return DS_OK;
}
