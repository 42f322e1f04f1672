/* cmd_stats.c: `darkscope stats`: what the store holds, per sensor.
 *
 * Below the counts, for stores a collector feeds: each live sensor's health (last upload, lag,
 * kernel drops, spool depth; net/collector.c prints it) and a line for each sensor silent longer
 * than [detect] sensor_silence, so a missing sensor is seen where the counts are read
 * (`darkscope events --type sensor_silent` lists every silence with its evidence). */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "analysis/coverage.h"
#include "cli/cli.h"
#include "net/collector.h"
#include "report/tables_json.h"
#include "util/textfmt.h"
#include "store/store.h"
#include "util/timeutil.h"

/* "12 d 4 h" */
static char *span_text(int64_t sec, char *buf, size_t len)
{
    if (sec >= 86400)
        snprintf(buf, len, "%lld d %lld h", (long long)(sec / 86400), (long long)(sec % 86400 / 3600));
    else
        snprintf(buf, len, "%lld h", (long long)(sec / 3600));
    return buf;
}

/* Table: per sensor, the packets carried in each encapsulation (docs/decoding.md, "Tunnels and
 * encapsulations"); nothing when no packet of the store was. */
static void encap_table(const ds_sensor_stats *rows, size_t n)
{
    int any = 0;
    for (size_t i = 0; i < n; i++)
        for (int e = 0; e < DS_ENC__COUNT; e++)
            any |= rows[i].c.encap[e] != 0;
    if (!any)
        return;
    printf("\npackets carried in an encapsulation (decapsulated: counted by the packet inside)\n%-12s", "sensor");
    for (int e = 0; e < DS_ENC__COUNT; e++)
        printf(" %10s", ds_encap_name(e));
    printf("\n");
    for (size_t i = 0; i < n; i++) {
        printf("%-12s", rows[i].sensor_id ? rows[i].name : "-");
        for (int e = 0; e < DS_ENC__COUNT; e++)
            printf(" %10llu", (unsigned long long)rows[i].c.encap[e]);
        printf("\n");
    }
}

/* Table: covered days per sensor, then one line per outage. */
static void coverage_table(const ds_coverage *cov, const ds_outage *o, size_t no)
{
    char a[16], b[16];
    if (!cov) {
        printf("coverage: none (no capture observed anything yet)\n");
        return;
    }
    printf("\ncoverage %s .. %s (%d days)\n%-12s %12s %8s %10s %12s %8s\n", ds_day_format(cov->from, a),
           ds_day_format(cov->to, b), (int)(cov->to - cov->from + 1), "sensor", "covered days", "share", "quiet/h",
           "median/day", "outages");
    for (size_t i = 0; i < cov->n; i++) {
        const ds_cov_sensor *s = &cov->s[i];
        double d = ds_coverage_days(cov, s->id, cov->from, cov->to), all = (double)(cov->to - cov->from + 1);
        size_t k = 0;
        for (size_t j = 0; j < no; j++)
            k += o[j].sensor_id == s->id;
        printf("%-12s %12.2f %7.1f%% %10.0f %12.0f %8zu\n", s->name, d, all > 0 ? 100.0 * d / all : 0.0, s->usual,
               s->usual_day, k);
    }
    for (size_t j = 0; j < no; j++) {
        char f[32], t[32], len[32];
        printf("OUTAGE: sensor %s %s .. %s%s (%s, %s)\n", o[j].sensor, ds_fmt_time_local((uint64_t)o[j].from * 1000000000ULL, f, sizeof f),
               ds_fmt_time_local((uint64_t)o[j].to * 1000000000ULL, t, sizeof t), o[j].open_end ? " and on" : "",
               span_text(o[j].to - o[j].from, len, sizeof len),
               o[j].kind == DS_HOUR_DECLARED ? "declared in the configuration"
               : o[j].kind == DS_HOUR_OUTAGE ? "inferred: no packet in hours where many are usual"
                                             : "no capture covers it");
    }
}

static void usage(FILE *f)
{
    fprintf(f,
        "usage: darkscope stats [OPTIONS]\n\n"
        "Per sensor: packets classified, packets to no darknet (outside), non-IP, truncated, fragments,\n"
        "malformed, unknown link types, records with impossible timestamps (bad-time: before 1990, more\n"
        "than a day after the ingest, or a spike away from their neighbours; not classified), files\n"
        "ingested, and the period covered (bad timestamps left out).  Then each sensor's coverage: the\n"
        "days it was observing (covered days), its quiet hourly and median daily packets (the rates\n"
        "outages are inferred from), and every outage: declared\n"
        "([sensor.NAME] outage), inferred (no packet in hours where many are usual) or a gap no\n"
        "capture covers (docs/store.md, \"Coverage\").  The row '-' holds what\n"        "could not be attributed to one sensor: packets to no darknet (outside) and non-IP frames, when\n"
        "several sensors are configured and --sensor was not given at ingest.\n\n"
        "When packets arrived in tunnels or tags (VLAN, MPLS, PPPoE, GRE, ERSPAN, VXLAN, GENEVE, IP in IP),\n"
        "a second table counts, per sensor, the packets carried in each (JSON: \"encap\"); such packets\n"
        "are counted above by the packet inside.\n\n"
        "For a store a collector feeds, each sensor's last upload, lag, kernel drops and spool depth\n"
        "follow, and a line for every sensor that uploaded nothing for longer than [detect]\n"
        "sensor_silence seconds (3600); JSON gives it as \"silent_s\" (null: not a collector's sensor).\n\n"
        "options:\n"
        "      --format F       table | json (default table)\n"
        "  -c, --config FILE    --db PATH    as for ingest\n"
        "  -h, --help\n");
}

int ds_cmd_stats_run(int argc, char **argv);
int ds_cmd_stats_run(int argc, char **argv)
{
    static const struct option opts[] = {
        { "config", required_argument, NULL, 'c' }, { "db", required_argument, NULL, 'D' },
        { "format", required_argument, NULL, 'F' }, { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
    };
    const char *config = NULL, *db = NULL, *format = "table";
    int c, status = 2;
    ds_config cfg;
    ds_store *st = NULL;
    ds_sensor_stats *rows = NULL;
    ds_sensor_health *health = NULL;
    ds_coverage *cov = NULL;
    ds_outage *outages = NULL;
    size_t n = 0, nhealth = 0, noutages = 0;
    ds_err err = { 0 };

    ds_config_init(&cfg);
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c': config = optarg; break;
        case 'D': db = optarg; break;
        case 'F': format = optarg; break;
        case 'h': usage(stdout); status = 0; goto out;
        default: usage(stderr); goto out;
        }
    }
    if (optind != argc || (strcmp(format, "table") && strcmp(format, "json"))) {
        usage(stderr);
        goto out;
    }
    status = 1;
    char tz[128];
    if (cli_query_open(&cfg, config, db, &st, tz, sizeof tz) != 0)
        goto out;
    if (ds_store_sensor_stats(st, &rows, &n, &err) != DS_OK) {
        cli_error(NULL, &err);
        goto out;
    }
    if (ds_store_keeps(st, DS_KEEPS_LEDGER) && ds_store_sensor_health(st, &health, &nhealth, &err) != DS_OK) {
        cli_error(NULL, &err);
        goto out;
    }
    if (ds_coverage_load_all(st, &cfg, &cov, &err) != DS_OK ||
        (cov && ds_coverage_outages(cov, &outages, &noutages, &err) != DS_OK)) {
        cli_error(NULL, &err);
        goto out;
    }
    int64_t now = (int64_t)time(NULL);
    int json = strcmp(format, "json") == 0;
    if (json) {
        ds_stats_view v = { rows, n, cov, outages, noutages, health, nhealth, cfg.sensor_silence_s, now, tz };
        ds_json_stats(stdout, &v);
        status = 0;
        goto out;
    }
    printf("%-12s %14s %12s %10s %10s %10s %10s %8s %8s %6s  %-19s  %-19s\n", "sensor", "packets", "outside",
           "non-ip", "truncated", "fragments", "malformed", "unk-link", "bad-time", "files", "first packet",
           "last packet");
    for (size_t i = 0; i < n; i++) {
        const ds_sensor_stats *r = &rows[i];
        char f[32], l[32];
        ds_fmt_time_local(r->c.first_ns, f, sizeof f);
        ds_fmt_time_local(r->c.last_ns, l, sizeof l);
        char a[32], b[32];
        printf("%-12s %14s %12s %10llu %10llu %10llu %10llu %8llu %8llu %6llu  %-19s  %-19s\n",
               r->sensor_id ? r->name : "-",
               ds_fmt_count(r->c.packets, a, sizeof a), ds_fmt_count(r->c.outside, b, sizeof b),
               (unsigned long long)r->c.outcome[DS_PKT_NON_IP], (unsigned long long)r->c.outcome[DS_PKT_TRUNCATED],
               (unsigned long long)r->c.outcome[DS_PKT_FRAGMENT], (unsigned long long)r->c.outcome[DS_PKT_MALFORMED],
               (unsigned long long)r->c.outcome[DS_PKT_UNKNOWN_LINK],
               (unsigned long long)r->c.outcome[DS_PKT_BAD_TIMESTAMP], (unsigned long long)r->files, f, l);
    }
    printf("(times in %s)\n", tz);
    encap_table(rows, n);
    coverage_table(cov, outages, noutages);
    /* live sensors: last upload, lag, kernel drops, spool depth (nothing when none uploaded) */
    if (ds_collector_print_health(st, stdout, 0, &err) != DS_OK) {
        cli_error(NULL, &err);
        goto out;
    }
    for (size_t i = 0; i < nhealth; i++) {
        int64_t silent = ds_sensor_silent_for(health, nhealth, health[i].name, cfg.sensor_silence_s, now);
        char when[32];
        if (silent > 0)
            printf("SILENT: sensor %s uploaded nothing for %lld h %02lld min (since %s; [detect] sensor_silence = %u s)\n",
                   health[i].name, (long long)(silent / 3600), (long long)(silent % 3600 / 60),
                   ds_fmt_time_local((uint64_t)health[i].last_upload * 1000000000ULL, when, sizeof when),
                   (unsigned)cfg.sensor_silence_s);
    }
    status = 0;
out:
    free(rows);
    free(health);
    free(outages);
    ds_coverage_free(cov);
    ds_store_close(st);
    ds_config_free(&cfg);
    return status;
}

const ds_command ds_cmd_stats = { "stats", "per-sensor counts: packets, outside, non-IP, truncated, fragments",
                                  ds_cmd_stats_run };
