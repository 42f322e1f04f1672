/* collector_health.c: each sensor's health as the collector recorded it (the ledger's
 * collector_health rows): last upload, lag, kernel drops, spool depth, for `darkscope stats` and
 * `darkscope collector --health`.  Read-only; it runs in the CLI's process, not the server's.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "net/collector.h"

static void fmt_time(int64_t t, char *buf, size_t len)
{
    struct tm tm;
    time_t tt = (time_t)t;
    if (t <= 0 || !localtime_r(&tt, &tm) || !strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm))
        snprintf(buf, len, "-");
}

/* 93784 -> "1d02h", 3723 -> "1h02m", 75 -> "1m15s"; negative (clock skew) -> "0s" */
static void fmt_age(int64_t s, char *buf, size_t len)
{
    if (s < 0)
        s = 0;
    if (s >= 86400)
        snprintf(buf, len, "%lldd%02lldh", (long long)(s / 86400), (long long)(s % 86400 / 3600));
    else if (s >= 3600)
        snprintf(buf, len, "%lldh%02lldm", (long long)(s / 3600), (long long)(s % 3600 / 60));
    else if (s >= 60)
        snprintf(buf, len, "%lldm%02llds", (long long)(s / 60), (long long)(s % 60));
    else
        snprintf(buf, len, "%llds", (long long)s);
}

ds_rc ds_collector_print_health(ds_store *st, FILE *f, int json, ds_err *err)
{
    ds_sensor_health *h = NULL;
    ds_sensor_stats *stats = NULL;
    size_t nh = 0, ns = 0;
    ds_rc rc = DS_OK;
    if (!ds_store_keeps(st, DS_KEEPS_LEDGER))
        goto out;
    if ((rc = ds_store_sensor_health(st, &h, &nh, err)) != DS_OK)
        goto out;
    if (nh && (rc = ds_store_sensor_stats(st, &stats, &ns, err)) != DS_OK)
        goto out;
    int64_t now = (int64_t)time(NULL);
    if (json)
        fprintf(f, "[");
    else if (nh)
        fprintf(f, "\n%-12s %-19s %9s %9s %14s %9s %12s %14s\n", "sensor", "last upload", "ago", "segments",
                "packets", "lag", "kernel-drops", "spool-bytes");
    for (size_t i = 0; i < nh; i++) {
        const ds_sensor_health *r = &h[i];
        /* lag: now - newest packet, the sensor's word or what the store holds, whichever is newer */
        uint64_t last_ns = r->last_ns;
        for (size_t k = 0; k < ns; k++)
            if (stats[k].sensor_id && strcmp(stats[k].name, r->name) == 0 && stats[k].c.last_ns > last_ns)
                last_ns = stats[k].c.last_ns;
        int64_t lag = last_ns ? now - (int64_t)(last_ns / 1000000000u) : -1;
        char when[32], ago[32], lagbuf[32], drops[32], spool[32];
        fmt_time(r->last_upload, when, sizeof when);
        if (r->last_upload)
            fmt_age(now - r->last_upload, ago, sizeof ago);
        else
            snprintf(ago, sizeof ago, "-");
        if (lag >= 0)
            fmt_age(lag, lagbuf, sizeof lagbuf);
        else
            snprintf(lagbuf, sizeof lagbuf, "-");
        snprintf(drops, sizeof drops, (r->have & DS_HEALTH_HAVE_DROPS) ? "%llu" : "-", (unsigned long long)r->kernel_drops);
        snprintf(spool, sizeof spool, (r->have & DS_HEALTH_HAVE_SPOOL) ? "%llu" : "-", (unsigned long long)r->spool_bytes);
        if (json) {
            fprintf(f, "%s\n  {\"sensor\": \"%s\", \"last_upload\": %lld, \"last_seen\": %lld, \"last_segment\": %llu,"
                       " \"segments\": %llu, \"packets\": %llu, \"lag_s\": %lld, \"kernel_drops\": %s, \"spool_bytes\": %s}",
                    i ? "," : "", r->name, (long long)r->last_upload, (long long)r->last_seen,
                    (unsigned long long)r->last_segment, (unsigned long long)r->segments, (unsigned long long)r->packets,
                    (long long)lag, (r->have & DS_HEALTH_HAVE_DROPS) ? drops : "null",
                    (r->have & DS_HEALTH_HAVE_SPOOL) ? spool : "null");
        } else {
            fprintf(f, "%-12s %-19s %9s %9llu %14llu %9s %12s %14s\n", r->name, when, ago,
                    (unsigned long long)r->segments, (unsigned long long)r->packets, lagbuf, drops, spool);
        }
    }
    if (json)
        fprintf(f, "%s]\n", nh ? "\n" : "");
out:
    free(h);
    free(stats);
    return rc;
}
