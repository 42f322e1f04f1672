/* cmd_payloads.c: `darkscope payloads`: the first payloads scanners sent to a reactive sensor.
 *
 * `darkscope sensor --respond syn` answers a scanner's SYN, records the first data segment that
 * comes back, and the collector stores it (POST /v1/payloads, store.h's payloads_put).  This
 * lists them for a service and period, as `tcpdump -X` would show them: time (ISO 8601 in the
 * store's timezone), source, destination, service, length, a printable excerpt (bytes outside
 * 0x20..0x7e as '.') and the hex.  --top groups identical payloads (same service, same bytes)
 * with their count, distinct sources and first/last arrival: the few requests a botnet repeats
 * stand out at once.  Days are the store's days, as for `top`; the period is [FROM 00:00, TO+1
 * 00:00) local time.  --exclude research leaves out payloads from the research scanners of
 * [detect] research_lists / research_asns, as `report --exclude research` does: sources the store
 * attributes to a listed prefix or ASN in the period, and any address in a listed prefix.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "analysis/payloads_exclude.h"
#include "analysis/research.h"
#include "cli/cli.h"
#include "util/textfmt.h"
#include "core/classify.h"
#include "report/payloads_json.h"
#include "store/store.h"
#include "util/base64.h"
#include "util/timeutil.h"

#define EXCERPT_TABLE 40      /* bytes of a payload shown in a table row */
#define HEX_TABLE 16

static void usage(FILE *f)
{
    fprintf(f,
        "usage: darkscope payloads [OPTIONS]\n\n"
        "List the first payloads scanners sent to sensors running `--respond syn` (stored by the\n"
        "collector), oldest first, or with --top the most common ones.\n\n"
        "options:\n"
        "      --service S      one destination service, e.g. 80/tcp\n"
        "      --sensor NAME    one sensor only\n"
        "      --source ADDR    one source address (IPv4 or IPv6)\n"
        "      --from DAY       first day, YYYY-MM-DD, in the store's timezone (default: all)\n"
        "      --to DAY         last day, inclusive (default: all)\n"
        "  -n, --limit N        rows (default 100; 0 = all)\n"
        "      --top            group identical payloads: count, sources, first and last seen\n"
        "      --exclude research  leave out research scanners ([detect] research_lists/_asns)\n"
        "      --format F       table | json (default table)\n"
        "  -c, --config FILE    --db PATH    as for ingest\n"
        "  -h, --help\n");
}

static void print_hex(FILE *f, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%02x", p[i]);
}

static void print_table(const ds_payload_query *q, const ds_payload_row *rows, size_t n, uint64_t total)
{
    char t1[40], t2[40], svc[DS_SERVICE_STRLEN], ex[EXCERPT_TABLE + 1];
    int aw = 15;   /* address columns: as wide as the widest address, at least an IPv4 one */
    for (size_t i = 0; i < n; i++) {
        int a = (int)strlen(rows[i].src), b = (int)strlen(rows[i].dst);
        aw = a > aw ? a : aw;
        aw = b > aw ? b : aw;
    }
    if (q->top)
        printf("%4s  %-9s %8s %8s  %-25s  %-25s %6s  %-*s  %s\n", "rank", "service", "count", "sources", "first seen",
               "last seen", "len", EXCERPT_TABLE, "excerpt", "hex");
    else
        printf("%-25s  %-10s %-*s %5s  %-*s %-9s %6s  %-*s  %s\n", "time", "sensor", aw, "source", "sport", aw,
               "destination", "service", "len", EXCERPT_TABLE, "excerpt", "hex");
    for (size_t i = 0; i < n; i++) {
        const ds_payload_row *r = &rows[i];
        ds_service_format(DS_SERVICE(r->proto, r->dport), svc, sizeof svc);
        ds_payload_excerpt(r->data, r->data_len, EXCERPT_TABLE, ex);
        if (q->top)
            printf("%4zu  %-9s %8llu %8llu  %-25s  %-25s %6u  %-*s  ", i + 1, svc, (unsigned long long)r->count,
                   (unsigned long long)r->sources, ds_payload_iso_time(r->first_ns, t1, sizeof t1), ds_payload_iso_time(r->last_ns, t2, sizeof t2),
                   r->len, EXCERPT_TABLE, ex);
        else
            printf("%-25s  %-10s %-*s %5u  %-*s %-9s %6u  %-*s  ", ds_payload_iso_time(r->first_ns, t1, sizeof t1), r->sensor, aw,
                   r->src, r->sport, aw, r->dst, svc, r->len, EXCERPT_TABLE, ex);
        print_hex(stdout, r->data, r->data_len < HEX_TABLE ? r->data_len : HEX_TABLE);
        printf("%s\n", r->data_len > HEX_TABLE ? "..." : "");
    }
    if (q->top)
        printf("%llu distinct payload%s%s\n", (unsigned long long)total, total == 1 ? "" : "s",
               total > n ? " (raise --limit, or --limit 0, to see all)" : "");
    else
        printf("%llu payload%s%s\n", (unsigned long long)total, total == 1 ? "" : "s",
               total > n ? " (raise --limit, or --limit 0, to see all)" : "");
}

int ds_cmd_payloads_run(int argc, char **argv);
int ds_cmd_payloads_run(int argc, char **argv)
{
    static const struct option opts[] = {
        { "config", required_argument, NULL, 'c' }, { "db", required_argument, NULL, 'D' },
        { "from", required_argument, NULL, 'f' }, { "to", required_argument, NULL, 't' },
        { "sensor", required_argument, NULL, 's' }, { "source", required_argument, NULL, 'a' }, { "service", required_argument, NULL, 'S' },
        { "limit", required_argument, NULL, 'n' }, { "top", no_argument, NULL, 'T' },
        { "format", required_argument, NULL, 'F' }, { "exclude", required_argument, NULL, 'x' },
        { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
    };
    const char *config = NULL, *db = NULL, *from = NULL, *to = NULL, *format = "table";
    char source[DS_PAYLOAD_ADDRLEN];
    ds_payload_query q = { .limit = 100 };
    ds_payload_row *rows = NULL;
    size_t n = 0;
    uint64_t total = 0;
    int c, status = 2, exclude_research = 0;
    ds_config cfg;
    ds_research *research = NULL;
    ds_u64set excluded = { 0 };
    ds_store *st = NULL;
    ds_err err = { 0 };

    ds_config_init(&cfg);
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:n:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c': config = optarg; break;
        case 'D': db = optarg; break;
        case 'f': from = optarg; break;
        case 't': to = optarg; break;
        case 's': q.sensor = optarg; break;
        case 'a':
            if (ds_payload_addr_canon(optarg, source) != 0) {
                fprintf(stderr, "darkscope payloads: --source %s: not an IPv4 or IPv6 address\n", optarg);
                goto out;
            }
            q.source = source;
            break;
        case 'S': {
            ds_service s;
            if (ds_service_parse(optarg, &s) != 0) {
                fprintf(stderr, "darkscope payloads: --service %s: use PORT/tcp, e.g. 80/tcp\n", optarg);
                goto out;
            }
            q.have_service = 1;
            q.service = s;
            break;
        }
        case 'n': {
            uint64_t v;
            if (cli_u64("payloads", "--limit", optarg, 0, CLI_MAX_ROWS, &v) != 0)
                goto out;
            q.limit = (size_t)v;
            break;
        }
        case 'T': q.top = 1; break;
        case 'F': format = optarg; break;
        case 'x':
            if (strcmp(optarg, "research") != 0) {
                fprintf(stderr, "darkscope payloads: --exclude %s: the only exclusion is 'research'\n", optarg);
                goto out;
            }
            exclude_research = 1;
            break;
        case 'h': usage(stdout); status = 0; goto out;
        default: usage(stderr); goto out;
        }
    }
    if (optind != argc) {
        usage(stderr);
        goto out;
    }
    if (strcmp(format, "table") && strcmp(format, "json")) {
        fprintf(stderr, "darkscope payloads: --format %s: use table or json\n", format);
        goto out;
    }
    int32_t dfrom = 0, dto = 0;
    if (cli_parse_days("payloads", from, to, &dfrom, &dto) != 0)
        goto out;
    if (from && to && dto < dfrom) {
        fprintf(stderr, "darkscope payloads: --to is before --from\n");
        goto out;
    }
    status = 1;
    if (cli_query_open(&cfg, config, db, &st, NULL, 0) != 0)   /* also makes the store's timezone ours */
        goto out;
    if (from) {
        int64_t t = ds_day_start(dfrom);
        q.from_ns = t > 0 ? (uint64_t)t * 1000000000ull : 0;
    }
    if (to) {
        int64_t t = ds_day_start(dto + 1);
        q.to_ns = t > 0 ? (uint64_t)t * 1000000000ull : 1;   /* 1: a period before 1970 holds nothing */
    }
    if (!ds_store_keeps(st, DS_KEEPS_PAYLOADS)) {
        fprintf(stderr, "darkscope payloads: the %s store keeps no payloads\n", st->ops->name);
        goto out;
    }
    if (exclude_research) {
        /* the sources of the period (all the store holds when not given) that the lists or the
         * ASNs name; a store without traffic yet has none, and the prefixes still apply */
        int32_t first = 0, last = 0;
        ds_rc rc = ds_research_load(&research, &cfg.research, &err);
        if (rc == DS_OK && (rc = ds_store_day_span(st, &first, &last, &err)) == DS_ENOTFOUND)
            rc = DS_OK;   /* an empty (zeroed) set has nothing */
        else if (rc == DS_OK)
            rc = ds_research_sources(research, st, from ? dfrom : first, to ? dto : last, &excluded, &err);
        if (rc != DS_OK) {
            cli_error(NULL, &err);
            goto out;
        }
    }
    if (ds_payloads_query_excluding(st, &q, exclude_research ? &excluded : NULL, research, &rows, &n, &total, &err) !=
        DS_OK) {
        cli_error(NULL, &err);
        goto out;
    }
    if (strcmp(format, "json") == 0)
        ds_json_payloads(stdout, &q, rows, n);
    else
        print_table(&q, rows, n, total);
    status = 0;
out:
    ds_payload_rows_free(rows, n);
    ds_research_free(research);
    ds_u64set_free(&excluded);
    ds_store_close(st);
    ds_config_free(&cfg);
    return status;
}

const ds_command ds_cmd_payloads = { "payloads", "list the first payloads scanners sent (sensor --respond syn)",
                                     ds_cmd_payloads_run };
