/* synth_truth.c: the truth file (--truth): what was planted, as JSON: totals, ports, countries,
 * backscatter bursts, scanners and the phenomena that sent packets, in order of their first
 * packet.  Tests and the phenomena scorer compare the detectors' findings with it.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "synth/synth_int.h"

/* ------------------------------------------------------------------------------------------ */
/* Truth */

static const char *const bs_names[] = { "tcp-synack", "tcp-rstack", "icmp-echoreply", "icmp-unreach" };

static void iso_time(uint64_t ns, char *buf, size_t len)
{
    time_t t = (time_t)(ns / NS_PER_SEC);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}
static void ip4_str(uint32_t a, char *buf)
{
    ds_ip ip;
    ds_ip_set4(&ip, a);
    ds_ip_format(&ip, buf, DS_IP_STRLEN);
}
static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

typedef struct portcount { uint32_t key; uint64_t n; } portcount;
static int cmp_portcount(const void *a, const void *b)
{
    const portcount *x = a, *y = b;
    if (x->n != y->n)
        return x->n > y->n ? -1 : 1;
    return x->key < y->key ? -1 : x->key > y->key;
}

/* The phenomena that sent packets, in order of their first packet, as ds_synth_phenomenon. */
static int cmp_out(const void *a, const void *b)
{
    const ds_synth_phenomenon *x = *(const ds_synth_phenomenon *const *)a, *y = *(const ds_synth_phenomenon *const *)b;
    if (x->start_ns != y->start_ns)
        return x->start_ns < y->start_ns ? -1 : 1;
    return x->type - y->type;
}
ds_rc ds_synth_collect_phenomena(gen *g)
{
    size_t cap = g->nph + 1, n = 0;
    ds_synth_phenomenon *v = calloc(cap, sizeof *v), **order = calloc(cap, sizeof *order);
    const phen **src = calloc(cap, sizeof *src);
    ds_rc rc = DS_ENOMEM;
    if (!v || !order || !src) {
        ds_fail(g->err, DS_ENOMEM, "synth: out of memory listing phenomena");
        goto out;
    }
    if (g->st.by_cat[DS_SYNTH_CAT_DIURNAL]) {
        ds_synth_phenomenon *x = &v[n++];
        x->type = DS_SYNTH_PH_PERIODIC_DAILY;
        x->proto = 6;
        x->port = g->dn_port;
        if (g->p->country_of)
            memcpy(x->cc, g->dn_cc, 3);
        x->start_ns = g->dn_first;
        x->end_ns = g->dn_last;
        x->packets = g->st.by_cat[DS_SYNTH_CAT_DIURNAL];
        for (size_t i = 0; i < g->nbots; i++)
            x->hosts += g->bots[i].emitted;
        x->peak_hour_utc = ((g->dn_peak_local - g->dn_offset) % 24 + 24) % 24;
        x->utc_offset = g->dn_offset;
        x->factor = 1 / 0.03;                        /* peak over trough of the activity curve */
    }
    for (size_t i = 0; i < g->nph; i++) {
        const phen *ph = &g->ph[i];
        if (!ph->packets)
            continue;
        ds_synth_phenomenon *x = &v[n];
        src[n++] = ph;
        static const int types[] = {
            [PH_SPIKE_CC] = DS_SYNTH_PH_SPIKE, [PH_SPIKE_SVC] = DS_SYNTH_PH_SPIKE, [PH_SURGE] = DS_SYNTH_PH_SURGE,
            [PH_NEW_SERVICE] = DS_SYNTH_PH_NEW_SERVICE, [PH_SINGLE] = DS_SYNTH_PH_SINGLE_SOURCE,
            [PH_WEEKLY] = DS_SYNTH_PH_PERIODIC_WEEKLY, [PH_TOOL] = DS_SYNTH_PH_TOOL,
        };
        x->type = types[ph->type];
        x->tool = ph->tool;
        x->by_country = ph->type == PH_SPIKE_CC;
        x->proto = ph->proto;
        x->port = ph->port;
        if (ph->cc && g->p->country_of)
            memcpy(x->cc, g->cc_code[ph->cc], 3);
        x->sport = ph->sport;
        x->start_ns = ph->first_ts;
        x->end_ns = ph->last_ts;
        x->packets = ph->packets;
        x->factor = ph->factor;
        for (uint32_t k = 0; k < ph->nsrc; k++) {
            const source *s = &g->psrc[ph->first_src + k];
            if (s->emitted && !x->hosts++)
                x->source = s->addr;
        }
        if (ph->type == PH_SURGE) {
            x->country_share = (double)ph->cc_packets / (double)ph->packets;
            x->sport_share = (double)ph->sport_packets / (double)ph->packets;
        }
        x->peak_weekday = ph->weekday;
        x->weekdays = ph->weekdays;
    }
    for (size_t i = 0; i < n; i++)
        order[i] = &v[i];
    qsort(order, n, sizeof *order, cmp_out);
    g->out_ph = calloc(n + 1, sizeof *g->out_ph);
    g->out_src = calloc(n + 1, sizeof *g->out_src);
    if (!g->out_ph || !g->out_src) {
        ds_fail(g->err, DS_ENOMEM, "synth: out of memory listing phenomena");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        size_t at = (size_t)(order[i] - v);
        g->out_ph[i] = v[at];
        g->out_src[i] = src[at];
        if (i < DS_SYNTH_MAX_PHEN)
            g->st.phen[i] = v[at];
    }
    g->nout = n;
    g->st.nphen = (uint32_t)n;
    rc = DS_OK;
out:
    free(v);
    free(order);
    free(src);
    return rc;
}

static void svc_str(uint8_t proto, uint16_t port, char *buf, size_t len)
{
    snprintf(buf, len, "%u/%s", port, proto == 6 ? "tcp" : proto == 17 ? "udp" : "icmp");
}

static void write_phenomena(gen *g, FILE *f)
{
    static const char *const wdays[] = { "Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday" };
    char a[DS_IP_STRLEN], t0[32], t1[32], sv[24];
    fprintf(f, "  \"phenomena\": [");
    for (size_t i = 0; i < g->nout; i++) {
        const ds_synth_phenomenon *x = &g->out_ph[i];
        iso_time(x->start_ns, t0, sizeof t0);
        iso_time(x->end_ns, t1, sizeof t1);
        fprintf(f, "%s\n    {\"type\": \"%s\", \"service\": ", i ? "," : "", ds_synth_phenomenon_name(x->type));
        if (x->proto) {
            svc_str(x->proto, x->port, sv, sizeof sv);
            fprintf(f, "\"%s\"", sv);
        } else {
            fputs("null", f);
        }
        fputs(", \"country\": ", f);
        if (x->cc[0])
            fprintf(f, "\"%s\"", x->cc);
        else
            fputs("null", f);
        fprintf(f, ", \"start\": \"%s\", \"end\": \"%s\", \"packets\": %llu, \"hosts\": %u", t0, t1,
                (unsigned long long)x->packets, x->hosts);
        switch (x->type) {
        case DS_SYNTH_PH_SPIKE:
            fprintf(f, ", \"dimension\": \"%s\", \"factor\": %.1f", x->by_country ? "country" : "service", x->factor);
            break;
        case DS_SYNTH_PH_SURGE:
            fprintf(f, ", \"sport\": %u, \"factor\": %.1f, \"country_share\": ", x->sport, x->factor);
            if (x->cc[0])
                fprintf(f, "%.4f", x->country_share);
            else
                fputs("null", f);
            fprintf(f, ", \"sport_share\": %.4f", x->sport_share);
            break;
        case DS_SYNTH_PH_NEW_SERVICE:
            fprintf(f, ", \"factor\": %.1f", x->factor);
            break;
        case DS_SYNTH_PH_SINGLE_SOURCE:
            ip4_str(x->source, a);
            fprintf(f, ", \"source\": \"%s\", \"factor\": %.1f", a, x->factor);
            break;
        case DS_SYNTH_PH_PERIODIC_DAILY:
            fprintf(f, ", \"peak_hour_utc\": %d, \"utc_offset\": %d, \"peak_hour_local\": %d, \"factor\": %.1f",
                    x->peak_hour_utc, x->utc_offset, ((x->peak_hour_utc + x->utc_offset) % 24 + 24) % 24, x->factor);
            break;
        case DS_SYNTH_PH_PERIODIC_WEEKLY:
            fprintf(f, ", \"peak_weekday\": \"%s\", \"pattern\": \"%s\", \"factor\": %.1f",
                    wdays[x->peak_weekday % 7], x->weekdays ? "weekdays" : "one_day", x->factor);
            break;
        default: { /* tool */
            const phen *ph = g->out_src[i];
            fprintf(f, ", \"tool\": \"%s\"", ds_synth_tool_name(x->tool));
            if (x->tool >= DS_SYNTH_TOOL_SIPVICIOUS && x->tool <= DS_SYNTH_TOOL_VAXSIP)
                fprintf(f, ", \"user_agent\": \"%s\"", ds_synth_sip_agents[x->tool - DS_SYNTH_TOOL_SIPVICIOUS]);
            fputs(", \"sources\": [", f);
            int first = 1;
            for (uint32_t k = 0; ph && k < ph->nsrc; k++) {
                const source *s = &g->psrc[ph->first_src + k];
                if (!s->emitted)
                    continue;
                ip4_str(s->addr, a);
                fprintf(f, "%s\"%s\"", first ? "" : ", ", a);
                first = 0;
            }
            fputc(']', f);
            break;
        }
        }
        fputc('}', f);
    }
    fprintf(f, "\n  ],\n");
}

ds_rc ds_synth_write_truth(gen *g, FILE *f)
{
    const ds_synth_params *p = g->p;
    char a[DS_IP_STRLEN], t0[32], t1[32];
    portcount *pc = malloc((2 * 65536 + 1) * sizeof *pc);
    if (!pc)
        return ds_fail(g->err, DS_ENOMEM, "synth: out of memory for the truth file");
    iso_time(day_ns(g, 0), t0, sizeof t0);
    fprintf(f, "{\n  \"generator\": \"darkscope synth\",\n  \"seed\": %llu,\n  \"start\": \"%s\",\n"
               "  \"days\": %u,\n  \"rate\": %.0f,\n  \"linktype\": \"%s\",\n  \"sensors\": [",
            (unsigned long long)p->seed, t0, p->days, p->rate,
            p->linktype == DS_SYNTH_LINK_ETHER ? "ether" : "raw");
    for (size_t s = 0; s < p->nsensors; s++) {
        fprintf(f, "%s\n    {\"name\": ", s ? "," : "");
        json_str(f, p->sensors[s].name);
        fprintf(f, ", \"prefixes\": [");
        for (size_t i = 0; i < p->sensors[s].nprefixes; i++) {
            const ds_prefix *px = &p->sensors[s].prefixes[i];
            fprintf(f, "%s\"%s/%u\"", i ? ", " : "", ds_ip_format(&px->addr, a, sizeof a), px->len);
        }
        fprintf(f, "]}");
    }
    fprintf(f, "\n  ],\n  \"totals\": {\n    \"packets\": %llu,\n    \"bytes\": %llu,\n"
               "    \"syn_dport23\": %llu,\n    \"distinct_sources\": %llu,\n    \"by_category\": {",
            (unsigned long long)g->st.packets, (unsigned long long)g->st.bytes,
            (unsigned long long)g->st.syn_dport23, (unsigned long long)g->st.distinct_sources);
    for (int c = 0; c < DS_SYNTH_CAT__COUNT; c++)
        fprintf(f, "%s\n      \"%s\": %llu", c ? "," : "", ds_synth_cat_name(c), (unsigned long long)g->st.by_cat[c]);
    fprintf(f, "\n    }\n  },\n");

    /* per_port: scan packets (TCP SYN, UDP, ICMP echo request) to the darknets, by service */
    size_t n = 0;
    uint64_t tail = 0;
    for (uint32_t port = 0; port < 65536; port++) {
        if (g->tcp_port[port])
            pc[n++] = (portcount){ 6u << 16 | port, g->tcp_port[port] };
        if (g->udp_port[port])
            pc[n++] = (portcount){ 17u << 16 | port, g->udp_port[port] };
    }
    if (g->icmp_echo)
        pc[n++] = (portcount){ 1u << 16 | 8, g->icmp_echo };
    qsort(pc, n, sizeof *pc, cmp_portcount);
    fprintf(f, "  \"per_port_note\": \"scan packets (TCP SYN, UDP, ICMP echo request) to the darknets by "
               "destination service; the top 200, the rest summed in other_ports\",\n  \"per_port\": {");
    for (size_t i = 0; i < n; i++) {
        if (i >= 200) {
            tail += pc[i].n;
            continue;
        }
        uint8_t proto = (uint8_t)(pc[i].key >> 16);
        fprintf(f, "%s\n    \"%u/%s\": %llu", i ? "," : "", pc[i].key & 0xffff,
                proto == 6 ? "tcp" : proto == 17 ? "udp" : "icmp", (unsigned long long)pc[i].n);
    }
    fprintf(f, "\n  },\n  \"other_ports\": %llu,\n  \"distinct_ports\": %zu,\n", (unsigned long long)tail, n);

    if (p->country_of) {
        n = 0;
        for (unsigned c = 0; c < g->ncc; c++)
            if (g->cc_count[c])
                pc[n++] = (portcount){ c, g->cc_count[c] };
        qsort(pc, n, sizeof *pc, cmp_portcount);
        fprintf(f, "  \"per_country\": {");
        for (size_t i = 0; i < n; i++)
            fprintf(f, "%s\n    \"%s\": %llu", i ? "," : "", g->cc_code[pc[i].key], (unsigned long long)pc[i].n);
        fprintf(f, "\n  },\n");
    }

    fprintf(f, "  \"backscatter\": [");
    int first = 1;
    for (size_t i = 0; i < g->nev; i++) {
        const event *e = &g->ev[i];
        if (e->type != EV_BURST)
            continue;
        iso_time(e->start, t0, sizeof t0);
        iso_time(e->start + e->dur, t1, sizeof t1);
        ip4_str(e->src, a);
        fprintf(f, "%s\n    {\"victim\": \"%s\", \"cc\": \"%s\", \"kind\": \"%s\", \"port\": %u, "
                   "\"start\": \"%s\", \"end\": \"%s\", \"packets\": %llu}",
                first ? "" : ",", a, g->cc_code[e->cc], bs_names[e->variant], e->port, t0, t1,
                (unsigned long long)e->emitted);
        first = 0;
    }
    fprintf(f, "\n  ],\n  \"scanners\": [");
    for (size_t i = 0; i < g->nsc; i++) {
        const scanner *s = &g->sc[i];
        ip4_str(s->addr, a);
        uint64_t pk = 0;
        for (size_t j = 0; j < g->nev; j++)
            if (g->ev[j].scanner == (int)i)
                pk += g->ev[j].emitted;
        if (s->type == EV_NMAP)
            fprintf(f, "%s\n    {\"tool\": \"nmap\", \"src\": \"%s\", \"cc\": \"%s\", \"window\": 1024, "
                       "\"scans\": %u, \"packets\": %llu}",
                    i ? "," : "", a, g->cc_code[s->cc], s->runs, (unsigned long long)pk);
        else
            fprintf(f, "%s\n    {\"tool\": \"%s\", \"src\": \"%s\", \"cc\": \"%s\", \"port\": %u, "
                       "\"ip_id\": \"%s\", \"daily\": %s, \"sweeps\": %u, \"packets\": %llu}",
                    i ? "," : "", s->type == EV_ZMAP ? "zmap" : "masscan", a, g->cc_code[s->cc], s->port,
                    s->type == EV_ZMAP ? "54321" : "dst^dport^seq", s->daily ? "true" : "false", s->runs,
                    (unsigned long long)pk);
    }
    int peak = ((g->dn_peak_local - g->dn_offset) % 24 + 24) % 24;
    fprintf(f, "\n  ],\n");
    write_phenomena(g, f);
    fprintf(f, "  \"mirai\": {\"sources\": %llu, \"packets\": %llu, \"ports\": \"23/tcp 90%%, 2323/tcp 10%%\"},\n"
               "  \"diurnal\": {\"sources\": %zu, \"port\": \"%u/tcp\", \"cc\": \"%s\", \"peak_hour_utc\": %d, "
               "\"packets\": %llu}\n}\n",
            (unsigned long long)g->st.mirai_sources, (unsigned long long)g->st.by_cat[DS_SYNTH_CAT_MIRAI],
            g->nbots, g->dn_port, p->country_of ? g->dn_cc : "ZZ", peak,
            (unsigned long long)g->st.by_cat[DS_SYNTH_CAT_DIURNAL]);
    free(pc);
    if (ferror(f))
        return ds_fail(g->err, DS_EIO, "synth: writing the truth file failed");
    return DS_OK;
}
