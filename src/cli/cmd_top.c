/* cmd_top.c: `darkscope top ports|countries|asns|sources`
 *
 * ASN and source tables name organisations, so they need the geo tables; opening them (mapping
 * and validating a compiled table of some 16 MB) takes about as long as the query itself, so it
 * runs in a thread of its own while the query runs.  What is printed, and when it fails, is the
 * same as opening them first: a geo error is reported instead of any query result. */
#include <getopt.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "analysis/rates.h"
#include "analysis/top.h"
#include "cli/cli.h"
#include "report/tables_json.h"
#include "util/textfmt.h"
#include "core/fingerprint.h"
#include "core/records.h"
#include "util/num.h"
#include "util/timeutil.h"

static void usage(FILE *f)
{
    char tools[160];
    fprintf(f,
        "usage: darkscope top ports|countries|asns|sources [OPTIONS]\n\n"
        "Rank destination services, source countries, source ASNs or sources over a period.  Every\n"
        "packet counts toward its destination service (as the published reports count) unless --class\n"
        "narrows it.  per_ip_per_day = packets / covered address-days: the monitored IPv4 addresses of\n"
        "the sensors (or of --sensor) times the share of each day they were observing, so an outage\n"
        "does not lower the rate (see `darkscope stats` for coverage and outages).\n\n"
        "options:\n"
        "      --from DAY       first day, YYYY-MM-DD, in the store's timezone (default: first day with data)\n"
        "      --to DAY         last day, inclusive (default: last day with data)\n"
        "      --sensor NAME    one sensor only\n"
        "      --class C        scan | backscatter | other\n"
        "      --where F=V      country=CN, port=23/tcp, asn=4134, tool=NAME;\n"
        "                       repeatable (same field: any of; different fields: all of)\n"
        "                       tools: %s\n"
        "  -n, --limit N        rows (default 10; 0 = all)\n"
        "      --format F       table | json | csv (default table)\n"
        "  -c, --config FILE    --db PATH    as for ingest\n"
        "  -h, --help\n", ds_tools_format(0xffu, tools, sizeof tools));
}

static const char *DIM_NAMES[] = { "ports", "countries", "asns", "sources" };

static int parse_where(ds_top_query *q, const char *w)
{
    const char *eq = strchr(w, '=');
    if (!eq || !eq[1]) {
        fprintf(stderr, "darkscope top: --where %s: expected FIELD=VALUE (country=CN, port=23/tcp, asn=4134)\n", w);
        return -1;
    }
    size_t fl = (size_t)(eq - w);
    const char *v = eq + 1;
    if ((fl == 7 && strncmp(w, "country", 7) == 0) || (fl == 2 && strncmp(w, "cc", 2) == 0)) {
        if (strlen(v) != 2 || q->ncountries == DS_TOP_MAX_FILTERS) {
            fprintf(stderr, "darkscope top: --where country=%s: use a two-letter ISO 3166 code such as CN\n", v);
            return -1;
        }
        char cc[2] = { (char)(v[0] & ~0x20), (char)(v[1] & ~0x20) };
        q->countries[q->ncountries++] = ds_cc_pack(cc);
        return 0;
    }
    if ((fl == 4 && strncmp(w, "port", 4) == 0) || (fl == 7 && strncmp(w, "service", 7) == 0)) {
        ds_service s;
        if (ds_service_parse(v, &s) != 0 || q->nports == DS_TOP_MAX_FILTERS) {
            fprintf(stderr, "darkscope top: --where port=%s: use PORT/tcp, PORT/udp, TYPE/icmp, TYPE/icmp6 or N/ip\n", v);
            return -1;
        }
        q->ports[q->nports++] = s;
        return 0;
    }
    if (fl == 3 && strncmp(w, "asn", 3) == 0) {
        const char *p = strncasecmp(v, "AS", 2) == 0 ? v + 2 : v;
        uint64_t a;
        ds_err err = { 0 };
        if (ds_parse_u64(p, 0, UINT32_MAX, &a, &err) != DS_OK || q->nasns == DS_TOP_MAX_FILTERS) {
            fprintf(stderr, "darkscope top: --where asn=%s: use a number such as 4134 or AS4134%s%s\n", v,
                    err.msg[0] ? ": " : "", err.msg);
            return -1;
        }
        q->asns[q->nasns++] = (uint32_t)a;
        return 0;
    }
    if (fl == 4 && strncmp(w, "tool", 4) == 0) {
        unsigned t = ds_tool_parse(v);
        if (!t) {
            char tools[160];
            fprintf(stderr, "darkscope top: --where tool=%s: use one of %s\n", v, ds_tools_format(0xffu, tools, sizeof tools));
            return -1;
        }
        q->tools |= t;
        return 0;
    }
    fprintf(stderr, "darkscope top: --where %.*s: unknown field (country, port, asn, tool)\n", (int)fl, w);
    return -1;
}

/* Organisation for the table: "-" for ASN 0 (an address in no announced prefix) or an ASN the
 * data does not name. */
static const char *org_text(const ds_geo *geo, uint32_t asn)
{
    const char *o = asn ? ds_geo_asn_org(geo, asn) : "";
    return o && *o ? o : "-";
}

static void print_table(const ds_top_query *q, const ds_top_result *r, const ds_geo *geo)
{
    const char *kh = q->dim == DS_TOP_PORTS ? "service" : q->dim == DS_TOP_COUNTRIES ? "country"
                   : q->dim == DS_TOP_ASNS ? "asn" : "source";
    if (q->dim == DS_TOP_SOURCES)
        printf("%4s  %-39s %14s %7s %12s %4s %4s %8s  %-19s  %-19s  %s\n", "rank", kh, "packets", "share",
               "per_ip/day", "days", "cc", "asn", "first seen", "last seen", "organisation");
    else
        printf("%4s  %-10s %14s %7s %12s %10s%s\n", "rank", kh, "packets", "share", "per_ip/day", "sources",
               q->dim == DS_TOP_ASNS ? "  organisation" : "");
    for (size_t i = 0; i < r->n; i++) {
        const ds_top_row *row = &r->rows[i];
        char key[64], pk[32], sk[32];
        ds_top_key_format(q->dim, row, key, sizeof key);
        ds_fmt_count(row->packets, pk, sizeof pk);
        ds_fmt_count(row->sources, sk, sizeof sk);
        if (q->dim == DS_TOP_SOURCES) {
            char f[32], l[32];
            printf("%4zu  %-39s %14s %6.2f%% %12.4f %4u %4s %8u  %-19s  %-19s  %s\n", i + 1, key, pk, 100 * row->share,
                   row->per_ip_per_day, row->days, row->cc, row->asn, ds_fmt_time_local(row->first_ns, f, sizeof f),
                   ds_fmt_time_local(row->last_ns, l, sizeof l), org_text(geo, row->asn));
        } else {
            printf("%4zu  %-10s %14s %6.2f%% %12.4f %10s%s%s\n", i + 1, key, pk, 100 * row->share, row->per_ip_per_day,
                   sk, q->dim == DS_TOP_ASNS ? "  " : "", q->dim == DS_TOP_ASNS ? org_text(geo, (uint32_t)row->key) : "");
        }
    }
    for (size_t i = 0; q->dim == DS_TOP_COUNTRIES && i < r->n; i++)
        if (r->rows[i].key == ds_cc_pack("ZZ")) {
            printf("ZZ: %s (special-purpose source addresses, RFC 6890, or no geo data)\n", DS_TOP_ZZ_LABEL);
            break;
        }
    char tp[32], ts[32], d1[11], d2[11];
    printf("total %s packets from %s sources, %s .. %s (%d days), %llu monitored IPv4 addresses, "
           "%.1f covered address-days\n",
           ds_fmt_count(r->total_packets, tp, sizeof tp), ds_fmt_count(r->total_sources, ts, sizeof ts),
           ds_day_format(q->from, d1), ds_day_format(q->to, d2), r->days, (unsigned long long)r->addresses,
           r->addr_days);
}

static void print_csv(const ds_top_query *q, const ds_top_result *r, const ds_geo *geo)
{
    printf("rank,key,packets,share,per_ip_per_day,sources%s\n",
           q->dim == DS_TOP_SOURCES ? ",country,asn,org,days,first_seen,last_seen" : q->dim == DS_TOP_ASNS ? ",org" : "");
    for (size_t i = 0; i < r->n; i++) {
        const ds_top_row *row = &r->rows[i];
        char key[64];
        ds_top_key_format(q->dim, row, key, sizeof key);
        printf("%zu,", i + 1);
        cli_csv_field(stdout, key);
        printf(",%llu,%.6f,%.6f,%llu", (unsigned long long)row->packets, row->share, row->per_ip_per_day,
               (unsigned long long)row->sources);
        if (q->dim == DS_TOP_ASNS) {
            printf(",");
            cli_csv_field(stdout, ds_geo_asn_org(geo, (uint32_t)row->key));
        }
        if (q->dim == DS_TOP_SOURCES) {
            char f[32], l[32];
            printf(",%s,%u,", row->cc, row->asn);
            cli_csv_field(stdout, ds_geo_asn_org(geo, row->asn));
            printf(",%u,%s,%s", row->days, ds_fmt_time_local(row->first_ns, f, sizeof f), ds_fmt_time_local(row->last_ns, l, sizeof l));
        }
        printf("\n");
    }
}

typedef struct geo_job { const ds_config *cfg; ds_geo *geo; int status; } geo_job;

static void *geo_open_main(void *arg)
{
    geo_job *j = arg;
    j->status = cli_open_geo(j->cfg, &j->geo);
    return NULL;
}

int ds_cmd_top_run(int argc, char **argv);
int ds_cmd_top_run(int argc, char **argv)
{
    static const struct option opts[] = {
        { "config", required_argument, NULL, 'c' }, { "db", required_argument, NULL, 'D' },
        { "from", required_argument, NULL, 'f' }, { "to", required_argument, NULL, 't' },
        { "sensor", required_argument, NULL, 's' }, { "class", required_argument, NULL, 'C' },
        { "where", required_argument, NULL, 'w' }, { "limit", required_argument, NULL, 'n' },
        { "format", required_argument, NULL, 'F' }, { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
    };
    const char *config = NULL, *db = NULL, *from = NULL, *to = NULL, *sensor = NULL, *format = "table";
    ds_top_query q = { .cls = -1, .limit = 10 };
    int c, status = 2;
    ds_config cfg;
    ds_store *st = NULL;
    ds_geo *geo = NULL;
    ds_top_result res = { 0 };
    ds_err err = { 0 };
    geo_job gj = { 0 };
    pthread_t geo_thread;
    int geo_started = 0;

    ds_config_init(&cfg);
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:n:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c': config = optarg; break;
        case 'D': db = optarg; break;
        case 'f': from = optarg; break;
        case 't': to = optarg; break;
        case 's': sensor = optarg; break;
        case 'C': {
            ds_class k;
            if (ds_class_parse(optarg, &k) != 0) {
                fprintf(stderr, "darkscope top: --class %s: use scan, backscatter or other\n", optarg);
                goto out;
            }
            q.cls = (int)k;
            break;
        }
        case 'w':
            if (parse_where(&q, optarg) != 0)
                goto out;
            break;
        case 'n': {
            uint64_t v;
            if (cli_u64("top", "--limit", optarg, 0, CLI_MAX_ROWS, &v) != 0)
                goto out;
            q.limit = (size_t)v;
            break;
        }
        case 'F': format = optarg; break;
        case 'h': usage(stdout); status = 0; goto out;
        default: usage(stderr); goto out;
        }
    }
    if (optind != argc - 1) {
        usage(stderr);
        goto out;
    }
    int dim = -1;
    for (int i = 0; i < 4; i++)
        if (strcmp(argv[optind], DIM_NAMES[i]) == 0)
            dim = i;
    if (dim < 0) {
        fprintf(stderr, "darkscope top: '%s': choose ports, countries, asns or sources\n", argv[optind]);
        goto out;
    }
    q.dim = (ds_top_dim)dim;
    if (strcmp(format, "table") && strcmp(format, "json") && strcmp(format, "csv")) {
        fprintf(stderr, "darkscope top: --format %s: use table, json or csv\n", format);
        goto out;
    }
    if (cli_parse_days("top", from, to, &q.from, &q.to) != 0)
        goto out;
    status = 1;
    if (cli_query_open(&cfg, config, db, &st, NULL, 0) != 0)
        goto out;
    int prc = cli_query_scope(st, "top", cfg.store_path, from != NULL, to != NULL, sensor, &q.from, &q.to,
                              &q.sensor_id);
    if (prc != 0) {
        status = prc;
        goto out;
    }
    /* the rates' denominator: a small read of the coverage rows, before the scan */
    if (ds_rate_addr_days(st, &cfg, q.sensor_id, q.from, q.to, &q.addr_days, &err) != DS_OK) {
        cli_error(NULL, &err);
        goto out;
    }
    q.have_addr_days = 1;
    if (q.dim == DS_TOP_ASNS || q.dim == DS_TOP_SOURCES) {
        gj.cfg = &cfg;
        geo_started = pthread_create(&geo_thread, NULL, geo_open_main, &gj) == 0;
        if (!geo_started)
            geo_open_main(&gj);   /* no thread: open it here, as before */
    }
    ds_rc trc = ds_top_run(st, &q, &res, &err);
    if (geo_started) {
        pthread_join(geo_thread, NULL);
        geo_started = 0;
    }
    geo = gj.geo;
    if (gj.status != 0)
        goto out;
    if (trc != DS_OK) {
        cli_error(NULL, &err);
        goto out;
    }
    if (strcmp(format, "json") == 0)
        ds_json_top(stdout, &q, &res, geo);
    else if (strcmp(format, "csv") == 0)
        print_csv(&q, &res, geo);
    else
        print_table(&q, &res, geo);
    status = 0;
out:
    ds_top_result_free(&res);
    ds_geo_close(geo);
    ds_store_close(st);
    ds_config_free(&cfg);
    return status;
}

const ds_command ds_cmd_top = { "top", "rank services, countries, ASNs or sources over a period", ds_cmd_top_run };
