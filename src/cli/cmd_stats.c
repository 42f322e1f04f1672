/* cmd_stats.c: `darkscope stats`: what the store holds, per sensor. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "net/collector.h"
#include "util/textfmt.h"
#include "store/store.h"
#include "util/timeutil.h"

static void usage(FILE *f)
{
    fprintf(f,
        "usage: darkscope stats [OPTIONS]\n\n"
        "Per sensor: packets classified, packets to no darknet (outside), non-IP, truncated, fragments,\n"
        "malformed, unknown link types, files ingested, and the period covered.  The row '-' holds what\n"
        "could not be attributed to one sensor: packets to no darknet (outside) and non-IP frames, when\n"
        "several sensors are configured and --sensor was not given at ingest.\n\n"
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
    size_t n = 0;
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
    if (cli_load_config(&cfg, config, db, NULL, 0) != 0)
        goto out;
    char tz[128];
    if (cli_open_store(&cfg, &st, tz, sizeof tz) != 0)
        goto out;
    if (st->ops->sensor_stats(st, &rows, &n, &err) != DS_OK) {
        cli_error(NULL, &err);
        goto out;
    }
    int json = strcmp(format, "json") == 0;
    if (json)
        printf("[");
    else
        printf("%-12s %14s %12s %10s %10s %10s %10s %8s %6s  %-19s  %-19s\n", "sensor", "packets", "outside", "non-ip",
               "truncated", "fragments", "malformed", "unk-link", "files", "first packet", "last packet");
    for (size_t i = 0; i < n; i++) {
        const ds_sensor_stats *r = &rows[i];
        char f[32], l[32];
        cli_time(r->c.first_ns, f, sizeof f);
        cli_time(r->c.last_ns, l, sizeof l);
        if (json) {
            printf("%s\n  {\"sensor\": ", i ? "," : "");
            cli_json_string(stdout, r->sensor_id ? r->name : "-");
            printf(", \"packets\": %llu, \"outside\": %llu, \"non_ip\": %llu, \"truncated\": %llu, \"fragments\": %llu,"
                   " \"malformed\": %llu, \"unknown_link\": %llu, \"files\": %llu, \"first\": \"%s\", \"last\": \"%s\","
                   " \"timezone\": \"%s\"}",
                   (unsigned long long)r->c.packets, (unsigned long long)r->c.outside,
                   (unsigned long long)r->c.outcome[DS_PKT_NON_IP], (unsigned long long)r->c.outcome[DS_PKT_TRUNCATED],
                   (unsigned long long)r->c.outcome[DS_PKT_FRAGMENT], (unsigned long long)r->c.outcome[DS_PKT_MALFORMED],
                   (unsigned long long)r->c.outcome[DS_PKT_UNKNOWN_LINK], (unsigned long long)r->files, f, l, tz);
        } else {
            char a[32], b[32];
            printf("%-12s %14s %12s %10llu %10llu %10llu %10llu %8llu %6llu  %-19s  %-19s\n", r->sensor_id ? r->name : "-",
                   ds_fmt_count(r->c.packets, a, sizeof a), ds_fmt_count(r->c.outside, b, sizeof b),
                   (unsigned long long)r->c.outcome[DS_PKT_NON_IP], (unsigned long long)r->c.outcome[DS_PKT_TRUNCATED],
                   (unsigned long long)r->c.outcome[DS_PKT_FRAGMENT], (unsigned long long)r->c.outcome[DS_PKT_MALFORMED],
                   (unsigned long long)r->c.outcome[DS_PKT_UNKNOWN_LINK], (unsigned long long)r->files, f, l);
        }
    }
    if (json)
        printf("%s]\n", n ? "\n" : "");
    else
        printf("(times in %s)\n", tz);
    /* live sensors: last upload, lag, kernel drops, spool depth (nothing when none uploaded) */
    if (!json && ds_collector_print_health(st, stdout, 0, &err) != DS_OK) {
        cli_error(NULL, &err);
        goto out;
    }
    status = 0;
out:
    free(rows);
    ds_store_close(st);
    ds_config_free(&cfg);
    return status;
}

const ds_command ds_cmd_stats = { "stats", "per-sensor counts: packets, outside, non-IP, truncated, fragments",
                                  ds_cmd_stats_run };
