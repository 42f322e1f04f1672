/* agg.c: aggregation tables for one worker thread: the state's life and the per-packet path.
 *
 * The aggregator is three files (agg_int.h lists what each holds): this one, agg_day.c (day
 * slabs and retiring them into records) and agg_emit.c (record groups, finish, merge, emit).
 *
 * Design.  Every classified packet updates:
 *
 *   sources  (sensor, day, address) -> packets, first/last seen, classes, country, ASN, and the
 *            destinations reached: an open-addressing hash table (linear probing, power-of-two
 *            probe array grown at 50% load).  Entries are one 64-byte cache line each, in a dense
 *            array; the probe array holds (hash high bits | index) so most misses never touch an
 *            entry.  Country and ASN are looked up once, when a source is first seen that day.
 *   srcsvc   (source index, service, class) -> packets, and the source port when all agreed: not
 *            a table but a per-day log (core/svclog.h).  A packet appends a 16-byte item (through
 *            a small combining cache that folds repeats of a recent key), and the counts are made
 *            when the day retires: radix sort on the key, then one pass folding equal keys.
 *   hourly   (UTC hour, local day, sensor, dimension, class, service or country) -> packets: a
 *            log per (hour, local day) of the same kind, two items a packet (service and
 *            country), reduced into HOURLY records when the hour retires.
 *
 * Why srcsvc is a log.  Backscatter goes to random destination ports, so nearly every
 * backscatter packet is a (source, class, service) of its own.  As a hash table that was one
 * cache miss per packet into a table of a day's packets (37% of ds_agg_packet on
 * bench/gen_backscatter.c's mix), and a table to walk and clear at every retirement.  The log
 * writes sequentially, and sorting it costs a few sequential passes per item once a day.  A log
 * that fills its array is reduced in place (partial reduction) and only grows when that frees
 * less than half, so its memory follows the day's distinct keys, not its packets.  Folding keeps
 * packets exact and the source port only when every packet had the same one, which does not
 * depend on the order of the packets: the records are those the hash table wrote (in another
 * order within a source: by service, then class).  The hourly table had the same problem on that
 * mix (one (hour, service) a packet, 7.7% of the ingest at full size) and is a log for the same
 * reason.
 *
 * Destinations: an entry holds the map bit of its first destination; a 512-bit map is taken from
 * a side pool only when a second, different destination arrives.  About 40% of a darknet's
 * source-days reach one address, and keeping the 64-byte map out of the entry halves the memory
 * every packet touches.
 *
 * Only a live window is kept.  Captures arrive in time order, so when the clock passes into a
 * new hour, hourly logs older than the previous hour are retired, and when it passes into a
 * new day, sources (and their srcsvc logs) older than the previous day are retired: encoded
 * once into append-only record buffers per (sensor, day), and dropped from the tables.  The
 * tables therefore hold at most two hours and two days, stay in cache for ordinary telescopes,
 * and bound memory by a day's distinct sources, not a file's.  A packet older than the window
 * still counts: it simply opens a new entry (in a slab of its own day), and its record is merged
 * with the earlier one by the readers, which already sum packets and take set unions across
 * chunks.
 *
 * Day slabs.  The sources table and the srcsvc log are kept per local day (a dayslab, for every
 * sensor): a srcsvc key holds the source's index in its own day's slab, so retiring a day encodes
 * that slab and empties it in place, and the day kept is never walked nor re-keyed.  (With one
 * table for the whole window, each retirement walked the whole srcsvc capacity four times and
 * re-inserted the surviving day's entries under new keys: 17% of an ingest of backscatter to
 * random ports.)  Retired slabs keep their arrays for the next day.
 *
 * The destination map: when the sensor monitors at most 512 IPv4 addresses, bit i is address
 * i of the sensor, so the distinct-destination count is exact; otherwise bit = hash(dst) mod 512
 * and the count is a linear-counting estimate.  Maps merge by OR.
 *
 * Closing.  Once a (sensor, day) can receive nothing more (its sources and its hours are all
 * retired, i.e. it is two days behind the clock), its record buffers are compressed into zstd
 * frames and the raw buffers are reused for the next day.  The file's records then sit in memory
 * compressed, the same few raw buffers stay warm in cache instead of a file's worth of fresh pages
 * being faulted in, and with --threads N the compression runs in the N threads, not at commit.
 * A packet that arrives after its day was closed opens a second group for that day.
 *
 * Detectors fed from here: backscatter packets go to the DoS vectors (core/dos.h), scan-class
 * packets to the scan flows (core/scan.h); both write their records into the group of the day
 * the attack or scan started.  Packets with a payload to a (protocol, port) of the payload-tool
 * table (core/payload.h) are matched against it, and the hits join the header fingerprints in
 * the source's tool bits.
 */
#include "core/agg_int.h"
#include "core/payload.h"

#include <stdlib.h>
#include <string.h>

ds_agg *ds_agg_new(const ds_agg_conf *conf)
{
    ds_agg *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    a->conf = *conf;
    a->exact_dst = calloc(conf->nsensors + 1, 1);
    a->counts = calloc(conf->nsensors + 1, sizeof *a->counts);
    a->dos = ds_dos_new(conf->telescope_v4);
    a->floods = ds_floods_new();
    a->scans = ds_scans_new(conf->scan_min_addresses, conf->scan_timeout_s, conf->sensor_v4, conf->nsensors);
    if (!a->exact_dst || !a->counts || !a->dos || !a->floods || !a->scans) {
        ds_agg_free(a);
        return NULL;
    }
    if (conf->exact_dst)
        memcpy(a->exact_dst, conf->exact_dst, conf->nsensors);
    a->conf.exact_dst = a->exact_dst;
    a->hour_min = UINT32_MAX;
    a->day_min = INT32_MAX;
    a->day_max = INT32_MIN;
    return a;
}

void ds_agg_free(ds_agg *a)
{
    if (!a)
        return;
    free(a->exact_dst);
    free(a->counts);
    for (size_t i = 0; i < a->nslabs; i++)
        agg_slab_free(&a->slabs[i]);
    free(a->slabs);
    free(a->scratch);
    for (size_t i = 0; i < a->nhl; i++)
        ds_svclog_free(&a->hl[i].log);
    free(a->hl);
    for (size_t g = 0; g < a->ngroups; g++) {
        for (int k = 0; k < DS_CHUNK__END; k++) {
            free(a->groups[g].kind[k].p);
            free(a->groups[g].z[k]);
        }
        agg_rollup_free(&a->groups[g]);
    }
    ds_rollup_batch_free(a->rb);
    ds_detin_work_free(a->detin);
    ds_cross_work_free(a->cross);
    free(a->ruscratch);
    for (size_t i = 0; i < a->nspare; i++)
        free(a->spare[i].p);
    ZSTD_freeCCtx(a->zc);
    ds_dos_free(a->dos);
    ds_floods_free(a->floods);
    ds_scans_free(a->scans);
    free(a->groups);
    free(a->gkey);
    free(a->gid);
    free(a);
}

size_t ds_agg_memory(const ds_agg *a)
{
    size_t n = a->capscratch + a->nslabs * sizeof *a->slabs + a->nhl * sizeof *a->hl + a->capgroups * sizeof *a->groups +
               ds_scans_memory(a->scans);
    for (size_t i = 0; i < a->nhl; i++)
        n += ds_svclog_memory(&a->hl[i].log);
    for (size_t g = 0; g < a->ngroups; g++) {
        for (int k = 0; k < DS_CHUNK__END; k++)
            n += a->groups[g].kind[k].cap + a->groups[g].zlen[k];
        for (size_t i = 0; i < a->groups[g].nru; i++)
            for (int d = 0; d < DS_ROLLUP__COUNT; d++)
                n += a->groups[g].ru[i].len[d];
    }
    n += a->capruscratch;
    for (size_t i = 0; i < a->nspare; i++)
        n += a->spare[i].cap;
    for (size_t i = 0; i < a->nslabs; i++) {
        const dayslab *d = &a->slabs[i];
        n += d->capsrc * (sizeof *d->src + sizeof *d->tcnt) + d->capmaps * sizeof *d->maps +
             d->capslot * sizeof *d->slot + ds_svclog_memory(&d->log);
    }
    return n;
}

/* ---- per packet -------------------------------------------------------------------------- */

/* Index of (sensor, day, ip) in d (the slab of day), inserting a fresh entry when absent; -1 on
 * allocation failure. */
static long src_find(dayslab *d, int sensor, int32_t day, const ds_ip *ip, int *created)
{
    uint64_t h = agg_src_hash(sensor, day, ip);
    uint64_t tag = h >> 32 << 32;
    size_t mask = d->capslot - 1, j = (size_t)h & mask;
    *created = 0;
    for (;;) {
        uint64_t s = d->slot[j];
        if (!s)
            break;
        if ((s & 0xffffffff00000000ULL) == tag) {
            size_t idx = (size_t)(uint32_t)s - 1;
            const src_ent *e = &d->src[idx];
            if (e->sensor == (uint16_t)sensor && ds_ip_eq(&e->ip, ip))
                return (long)idx;
        }
        j = (j + 1) & mask;
    }
    if (d->nsrc >= 0xfffffffeu)
        return -1;
    if (d->nsrc == d->capsrc) {   /* realloc would not keep the alignment */
        src_ent *n = aligned_alloc(64, d->capsrc * 2 * sizeof *n);
        ds_tool_counts *tc = n ? realloc(d->tcnt, d->capsrc * 2 * sizeof *tc) : NULL;
        if (!tc) {
            free(n);
            return -1;
        }
        d->tcnt = tc;
        memcpy(n, d->src, d->nsrc * sizeof *n);
        free(d->src);
        d->src = n;
        d->capsrc *= 2;
    }
    size_t idx = d->nsrc++;
    src_ent *e = &d->src[idx];
    memset(e, 0, sizeof *e);
    e->ip = *ip;
    e->sensor = (uint16_t)sensor;
    e->day = day;
    e->cc[0] = 'Z';
    e->cc[1] = 'Z';
    d->slot[j] = tag | (uint64_t)(idx + 1);
    *created = 1;
    if (d->nsrc * 2 > d->capslot && agg_slot_grow(d) != 0)
        return -1;
    return (long)idx;
}


/* Give e a destination map holding its first destination. */
static int map_new(dayslab *a, src_ent *e)
{
    if (a->nmaps == a->capmaps) {
        size_t cap = a->capmaps ? a->capmaps * 2 : 256;
        dstmap *n = realloc(a->maps, cap * sizeof *n);
        if (!n)
            return -1;
        a->maps = n;
        a->capmaps = cap;
    }
    dstmap *m = &a->maps[a->nmaps];
    memset(m, 0, sizeof *m);
    uint32_t first = (uint32_t)e->dst1 - 1;
    m->bits[first >> 3] |= (uint8_t)(1u << (first & 7));
    e->map = (uint32_t)++a->nmaps;
    return 0;
}

/* First and last seen, where 0 means "none yet" (as in the store): a packet stamped 0 itself (a
 * capture without a clock) therefore moves neither, in every order the packets may come in;
 * treating it as a time made the span depend on the order, and --threads 2 disagree with 1. */
static inline void counts_touch(ds_agg_counts *c, uint64_t ts)
{
    if (!ts)
        return;
    if (!c->first_ns || ts < c->first_ns)
        c->first_ns = ts;
    if (ts > c->last_ns)
        c->last_ns = ts;
}

ds_rc ds_agg_packet(ds_agg *a, int sensor, int32_t day, uint32_t dst_index, const ds_pkt *p,
                    ds_service svc, ds_class cls)
{
    uint32_t idx, hour = (uint32_t)(p->ts_ns / 3600000000000ULL);
    dayslab *d;
    src_ent *e;

    /* the clock moved on: retire what can no longer change (see the design note) */
    if (hour > a->hour_max) {
        a->hour_max = hour;
        if (agg_retire_hours(a, hour - 1) != 0 || ds_dos_expire(a->dos, p->ts_ns, agg_attack_out, a) != 0 ||
            ds_floods_expire(a->floods, p->ts_ns, agg_flood_out, a) != 0)
            return DS_ENOMEM;
    }
    if (day > a->day_max) {
        a->day_max = day;
        /* hours of days before day - 1 have all been retired above (the clock is past them) */
        if (agg_retire_days(a, day - 1) != 0 || agg_close_groups(a, day - 1) != 0)
            return DS_ENOMEM;
    }

    if (a->have_last && (d = &a->slabs[a->last_slab])->day == day &&
        (e = &d->src[a->last_idx])->sensor == (uint16_t)sensor && ds_ip_eq(&e->ip, &p->src)) {
        idx = a->last_idx;
    } else {
        int created;
        long si = agg_slab_of(a, day);
        if (si < 0)
            return DS_ENOMEM;
        d = &a->slabs[si];
        long i = src_find(d, sensor, day, &p->src, &created);
        if (i < 0)
            return DS_ENOMEM;
        idx = (uint32_t)i;
        e = &d->src[idx];
        if (created) {
            if (a->conf.geo)
                a->conf.geo(a->conf.geo_ctx, &p->src, e->cc, &e->asn);
            if (day < a->day_min)
                a->day_min = day;
        }
        a->last_slab = (size_t)si;
        a->last_idx = idx;
        a->have_last = 1;
    }
    e->packets++;
    if (p->ts_ns && (!e->first_ns || p->ts_ns < e->first_ns))   /* 0: no time (see counts_touch) */
        e->first_ns = p->ts_ns;
    if (p->ts_ns > e->last_ns)
        e->last_ns = p->ts_ns;
    e->class_mask |= (uint8_t)(1u << cls);
    if (!a->conf.no_detect) {
        unsigned applicable, hit = ds_fingerprint(p, &applicable) | ds_payload_tools(a->conf.payload, p, e->tool_hit);
        if (e->tool_hit & TOOL_COUNTED) {
            ds_tool_count(&d->tcnt[idx], hit, applicable);
        } else if (hit & TOOL_COUNTED) {   /* the first match: start counting, with the packets before */
            ds_tool_counts *c = &d->tcnt[idx];
            /* a saturated count stands for "too many to attribute" (at most 2^31 - 1 matches follow) */
            c->syn = e->pre_syn == UINT16_MAX ? INT32_MAX : e->pre_syn;
            c->zapp = c->syn + (e->pre_other == UINT8_MAX ? INT32_MAX : e->pre_other);
            c->nmapp = c->syn;   /* Nmap's other probes count only as they match: none came before */
            c->zmap = c->masscan = c->nmap = c->nmap_os = 0;
            ds_tool_count(c, hit, applicable);
        } else if (applicable) {
            /* before the first match a SYN counts for every header fingerprint, anything else
             * for ZMap's only (a DNS or SNMP query that did not match Masscan's is then not
             * counted against Masscan: a 2-match false attribution still needs two matches close
             * together near the end of the source's day, docs/detection.md) */
            if ((applicable & DS_TOOL__ALL) == DS_TOOL__ALL)
                e->pre_syn = (uint16_t)(e->pre_syn + (e->pre_syn != UINT16_MAX));
            else
                e->pre_other = (uint8_t)(e->pre_other + (e->pre_other != UINT8_MAX));
        }
        e->tool_hit |= (uint8_t)hit;
    }
    uint32_t bit = a->exact_dst[sensor] ? dst_index : (uint32_t)ds_mix64(ds_src_key(&p->dst));
    bit &= DS_DSTMAP_BYTES * 8 - 1;
    if (e->map) {
        d->maps[e->map - 1].bits[bit >> 3] |= (uint8_t)(1u << (bit & 7));
    } else if (!e->dst1) {
        e->dst1 = (uint16_t)(bit + 1);
    } else if (e->dst1 != bit + 1) {   /* a second destination: take a map */
        if (map_new(d, e) != 0)
            return DS_ENOMEM;
        d->maps[e->map - 1].bits[bit >> 3] |= (uint8_t)(1u << (bit & 7));
    }

    int sport = (p->have & DS_HAVE_L4) && (p->proto == DS_PROTO_TCP || p->proto == DS_PROTO_UDP) ? p->sport : -1;
    if (ds_svclog_add(&d->log, ds_svc_key(idx, svc, cls), sport) != 0)
        return DS_ENOMEM;
    hourlog *h = a->last_hl < a->nhl ? &a->hl[a->last_hl] : NULL;
    if (!h || !h->live || h->hour != hour || h->day != day) {
        long hi = agg_hourlog_of(a, hour, day);
        if (hi < 0)
            return DS_ENOMEM;
        a->last_hl = (size_t)hi;
        h = &a->hl[hi];
    }
    if (ds_svclog_add(&h->log, hr_key(sensor, DS_HOURLY_SERVICE, cls, svc), -1) != 0 ||
        ds_svclog_add(&h->log, hr_key(sensor, DS_HOURLY_COUNTRY, cls, ds_cc_pack(e->cc)), -1) != 0)
        return DS_ENOMEM;
    if (hour < a->hour_min)
        a->hour_min = hour;
    if (!a->conf.no_detect && ds_floods_packet(a->floods, sensor, day, cls, p, agg_flood_out, a) != 0)
        return DS_ENOMEM;
    if (a->conf.no_detect) {
        /* counting only */
    } else if (cls == DS_CLASS_BACKSCATTER) {
        if (ds_dos_packet(a->dos, sensor, day, p, agg_attack_out, a) != 0)
            return DS_ENOMEM;
    } else if (cls == DS_CLASS_SCAN) {
        /* IPv4 destinations by their index in the sensor (the map's bit on a small sensor; the
         * scan's target-order test bins by it), IPv6 ones by a hash */
        int exact = a->exact_dst[sensor];
        uint32_t dkey = p->dst.v6 ? (uint32_t)ds_mix64(ds_src_key(&p->dst)) : dst_index;
        if (ds_scans_packet(a->scans, sensor, day, dkey, exact, p, svc, agg_scan_out, a) != 0)
            return DS_ENOMEM;
    }
    ds_agg_counts *c = &a->counts[sensor + 1];
    c->packets++;
    counts_touch(c, p->ts_ns);
    return DS_OK;
}

void ds_agg_other(ds_agg *a, int sensor, ds_outcome o, int outside, uint64_t ts_ns)
{
    if (sensor < -1 || sensor >= (int)a->conf.nsensors)
        sensor = -1;
    ds_agg_counts *c = &a->counts[sensor + 1];
    if (outside)
        c->outside++;
    else if ((unsigned)o < DS_PKT__COUNT)
        c->outcome[o]++;
    if (o != DS_PKT_BAD_TIMESTAMP)   /* its time is impossible: it moves no span */
        counts_touch(c, ts_ns);
}

void ds_agg_encap(ds_agg *a, int sensor, unsigned encap)
{
    if (sensor < -1 || sensor >= (int)a->conf.nsensors)
        sensor = -1;
    ds_agg_counts *c = &a->counts[sensor + 1];
    for (int i = 0; i < DS_ENC__COUNT; i++)
        c->encap[i] += (encap >> i) & 1;
}

const ds_agg_counts *ds_agg_counts_of(const ds_agg *a, int s)
{
    if (s < -1 || s >= (int)a->conf.nsensors)
        return NULL;
    return &a->counts[s + 1];
}

void ds_agg_counts_add(ds_agg_counts *t, const ds_agg_counts *f)
{
    t->packets += f->packets;
    t->outside += f->outside;
    for (int o = 0; o < DS_PKT__COUNT; o++)
        t->outcome[o] += f->outcome[o];
    for (int i = 0; i < DS_ENC__COUNT; i++)
        t->encap[i] += f->encap[i];
    if (f->first_ns)
        counts_touch(t, f->first_ns);
    if (f->last_ns)
        counts_touch(t, f->last_ns);
}

