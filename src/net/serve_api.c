/* serve_api.c: the endpoints of /api/v1/ (docs/api.md), over the analysis the CLI runs.
 *
 * Each endpoint validates every parameter before it touches the store, and refuses what it does
 * not know: an unknown parameter, one given twice, a value out of shape are a 400 naming the
 * parameter, never a silently ignored filter (a dashboard that ignores a filter shows wrong
 * numbers that look right).  Lists are comma-separated (service=23/tcp,2323/tcp), one field's
 * values OR'ed and different fields AND'ed, as `darkscope top --where` does.
 *
 * The JSON is the CLI's own (report/tables_json.h): /top is `darkscope top DIM --format json`,
 * /events is `darkscope events --format json`, /coverage is `darkscope stats --format json`,
 * /sensors is `darkscope collector --health --format json`, byte for byte, for the same filters.
 * /payloads is `darkscope payloads --format json` (report/payloads_json.h).  /overview,
 * /series, /span, /cube and /source/ADDR have no CLI twin (/overview is made of `top`s and a
 * series); their fields are in docs/api.md.
 *
 * The parameter checks and the filter every endpoint shares are serve_req.c's; the drill-downs
 * (/source/ADDR, /cube, /payloads) are serve_drill.c's.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "analysis/coverage.h"
#include "analysis/cube.h"
#include "analysis/events.h"
#include "analysis/rates.h"
#include "analysis/research.h"
#include "analysis/top.h"
#include "core/fingerprint.h"
#include "core/records.h"
#include "net/collector.h"
#include "net/serve_req.h"
#include "report/model.h"
#include "report/names.h"
#include "report/tables_json.h"
#include "util/num.h"
#include "util/textfmt.h"
#include "util/timeutil.h"

#define OVERVIEW_IOT_TOP DS_REPORT_IOT_TOP   /* the report's (report/model.h): NICTER's top 30 */

/* ---- /top ---------------------------------------------------------------------------------- */

static const char *const DIMS[] = { "ports", "countries", "asns", "sources" };

static unsigned ep_top(req *r, FILE *out)
{
    static const char *const known[] = { "dim", "limit", FILTER_PARAMS, NULL };
    filt f = { .cls = -1 };
    ds_top_query q = { .limit = 10 };
    unsigned e;
    if ((e = sv_check_known(r, known)))
        return e;
    const char *dim = sv_arg(r, "dim");
    int d = -1;
    for (int i = 0; dim && i < 4; i++)
        if (strcmp(dim, DIMS[i]) == 0)
            d = i;
    if (d < 0)
        return sv_bad(r, "dim", "'%s': %s", dim ? dim : "", "choose ports, countries, asns or sources");
    const char *limit = sv_arg(r, "limit");
    if (limit) {
        uint64_t v;
        ds_err err = { 0 };
        if (ds_parse_u64(limit, 0, MAX_ROWS, &v, &err) != DS_OK)
            return sv_bad(r, "limit", "'%s': %s", limit, err.msg);
        q.limit = (size_t)v;
    }
    if ((e = sv_parse_filter(r, &f)))
        return e;
    q.dim = (ds_top_dim)d;
    sv_top_query(&f, &q);
    return sv_run_top(r, &q, out);
}

/* ---- /series ------------------------------------------------------------------------------- */

/* Hourly packets as the sensors received them (analysis/coverage.h: every packet of the sensor,
 * before classification), null for an hour no selected sensor observed. */
static unsigned series_hour(req *r, const filt *f, FILE *out)
{
    ds_coverage *cov = NULL;
    ds_err err = { 0 };
    char d0[11], d1[11];
    if (ds_coverage_load(r->st, r->c->cfg, f->from, f->to, &cov, &err) != DS_OK)
        return sv_failed(r, &err);
    int64_t h_from = ds_day_start(f->from) / 3600, h_to = (ds_day_start(f->to + 1) - 1) / 3600;
    fprintf(out, "{\"step\": \"hour\", \"from\": \"%s\", \"to\": \"%s\", \"points\": [", ds_day_format(f->from, d0),
            ds_day_format(f->to, d1));
    for (int64_t h = h_from; h <= h_to; h++) {
        uint64_t sum = 0;
        int seen = 0;
        for (size_t i = 0; cov && i < cov->n; i++) {
            const ds_cov_sensor *s = &cov->s[i];
            if (f->sensor_id && s->id != f->sensor_id)
                continue;
            if (h < cov->h0 || h >= cov->h0 + (int64_t)cov->nhours || s->state[h - cov->h0] != DS_HOUR_COVERED)
                continue;
            seen = 1;
            sum += s->packets[h - cov->h0];
        }
        char t[32];
        fprintf(out, "%s\n  {\"t\": \"%s\", \"packets\": ", h > h_from ? "," : "",
                ds_fmt_time_utc((uint64_t)h * 3600 * 1000000000ull, t, sizeof t));
        if (seen)
            fprintf(out, "%llu}", (unsigned long long)sum);
        else
            fprintf(out, "null}");
    }
    fprintf(out, "\n]}\n");
    ds_coverage_free(cov);
    return 200;
}

static unsigned ep_series(req *r, FILE *out)
{
    static const char *const known[] = { "step", FILTER_PARAMS, NULL };
    filt f = { .cls = -1 };
    ds_filter cf;
    unsigned e;
    if ((e = sv_check_known(r, known)))
        return e;
    const char *step = sv_arg(r, "step");
    int hourly = step && !strcmp(step, "hour");
    if (step && strcmp(step, "day") && !hourly)
        return sv_bad(r, "step", "'%s': %s", step, "use day or hour");
    if (hourly && (sv_arg(r, "class") || sv_arg(r, "service") || sv_arg(r, "country") || sv_arg(r, "asn") || sv_arg(r, "tool")))
        return sv_bad(r, "step", "'%s': %s", step, "hourly counts are of every packet a sensor received: only "
                   "from, to and sensor apply (use step=day with class, service, country, asn or tool)");
    if ((e = sv_parse_filter(r, &f)))
        return e;
    if (hourly) {
        if (f.to - f.from > 92)
            return sv_bad(r, "step", "'%s': %s", step, "at most 93 days of hours (use step=day)");
        return series_hour(r, &f, out);
    }
    sv_cube_filter(&f, &cf);
    return sv_series_day(r, &f, &cf, out);
}

/* ---- /events ------------------------------------------------------------------------------- */

static unsigned ep_events(req *r, FILE *out)
{
    static const char *const known[] = { "from", "to", "sensor", "type", NULL };
    filt f = { .cls = -1 };
    ds_event_query q = { 0 };
    ds_events ev = { 0 };
    ds_u64set research = { 0 };
    unsigned e;
    if ((e = sv_check_known(r, known)))
        return e;
    const char *type = sv_arg(r, "type");
    if (type && !ds_event_type_known(type)) {
        char known_types[512];
        return sv_bad(r, "type", "'%s': this build detects %s", type, ds_event_types_format(known_types, sizeof known_types));
    }
    if (type && !strcmp(type, "research_scanner") && !r->c->cfg->research.nlists && !r->c->cfg->research.nasns)
        return sv_bad(r, "type", "'%s': %s", type, "needs [detect] research_lists or research_asns in the config");
    if ((e = sv_parse_scope(r, &f)))
        return e;
    q.from = f.from;
    q.to = f.to;
    q.sensor_id = f.sensor_id;
    q.type = type;
    if ((e = sv_events_run(r, &q, &ev, &research)) == 200) {
        ds_event_words words = { .lang = DS_LANG_EN, .names = r->c->names, .geo = r->c->geo };
        ds_json_events(out, &ev, &words);
    }
    ds_events_free(&ev);
    ds_u64set_free(&research);
    return e;
}

/* ---- /coverage, /sensors ------------------------------------------------------------------- */

static unsigned ep_coverage(req *r, FILE *out)
{
    static const char *const known[] = { NULL };
    ds_sensor_stats *rows = NULL;
    ds_sensor_health *health = NULL;
    ds_coverage *cov = NULL;
    ds_outage *outages = NULL;
    size_t n = 0, nhealth = 0, noutages = 0;
    ds_err err = { 0 };
    char tz[128] = "";
    unsigned e;
    if ((e = sv_check_known(r, known)))
        return e;
    if (ds_store_meta_get(r->st, "timezone", tz, sizeof tz, &err) != DS_OK) {
        ds_err_clear(&err);
        snprintf(tz, sizeof tz, "%s", r->c->cfg->timezone);
    }
    e = 500;
    if (ds_store_sensor_stats(r->st, &rows, &n, &err) != DS_OK ||
        (ds_store_keeps(r->st, DS_KEEPS_LEDGER) && ds_store_sensor_health(r->st, &health, &nhealth, &err) != DS_OK) ||
        ds_coverage_load_all(r->st, r->c->cfg, &cov, &err) != DS_OK ||
        (cov && ds_coverage_outages(cov, &outages, &noutages, &err) != DS_OK)) {
        sv_failed(r, &err);
        goto out;
    }
    ds_stats_view v = { rows, n, cov, outages, noutages, health, nhealth, r->c->cfg->sensor_silence_s,
                        (int64_t)time(NULL), tz };
    ds_json_stats(out, &v);
    e = 200;
out:
    free(rows);
    free(health);
    free(outages);
    ds_coverage_free(cov);
    return e;
}

static unsigned ep_sensors(req *r, FILE *out)
{
    static const char *const known[] = { NULL };
    ds_err err = { 0 };
    unsigned e;
    if ((e = sv_check_known(r, known)))
        return e;
    if (ds_collector_print_health(r->st, out, 1, &err) != DS_OK)
        return sv_failed(r, &err);
    return 200;
}

/* ---- /span, /overview ----------------------------------------------------------------------- */

static unsigned ep_span(req *r, FILE *out)
{
    static const char *const known[] = { NULL };
    int32_t first, last;
    ds_err err = { 0 };
    char a[11], b[11];
    unsigned e;
    if ((e = sv_check_known(r, known)))
        return e;
    ds_rc rc = ds_store_day_span(r->st, &first, &last, &err);
    if (rc == DS_ENOTFOUND) {
        snprintf(r->msg, r->msglen, "the store holds no data yet");
        return 404;
    }
    if (rc != DS_OK)
        return sv_failed(r, &err);
    fprintf(out, "{\"first\": \"%s\", \"last\": \"%s\"}\n", ds_day_format(first, a), ds_day_format(last, b));
    return 200;
}

/* The report's IoT share (report/model.c, NICTER's figure): of the packets to the top 30
 * services, the part to services data/iot-ports.tsv names IoT-targeted. */
static void iot_json(FILE *out, const ds_names *names, const ds_top_result *res)
{
    uint64_t top = 0, iot = 0;
    size_t n = res->n < OVERVIEW_IOT_TOP ? res->n : OVERVIEW_IOT_TOP, k = 0;
    char svc[DS_SERVICE_STRLEN];
    if (!names) {
        fprintf(out, "null");
        return;
    }
    fprintf(out, "{\"top\": %d, \"services\": [", OVERVIEW_IOT_TOP);
    for (size_t i = 0; i < n; i++) {
        top += res->rows[i].packets;
        if (ds_names_is_iot(names, (ds_service)res->rows[i].key)) {
            iot += res->rows[i].packets;
            fprintf(out, "%s\"%s\"", k++ ? ", " : "", ds_service_format((ds_service)res->rows[i].key, svc, sizeof svc));
        }
    }
    fprintf(out, "], \"iot_services_in_top\": %zu, \"packets\": %llu, \"top_packets\": %llu, \"share\": %.6f}", k,
            (unsigned long long)iot, (unsigned long long)top, top ? (double)iot / (double)top : 0.0);
}

/* The overview of a period in one answer: top services and regions (20 rows), the same of the
 * period of equal length just before (100 rows: the previous ranks), the IoT share and the
 * daily series.  One request, so the server caches and precomputes it whole (serve.c). */
static unsigned ep_overview(req *r, FILE *out)
{
    static const char *const known[] = { "from", "to", "sensor", NULL };
    filt f = { .cls = -1 }, p;
    ds_filter cf;
    unsigned e;
    char d0[11], d1[11];
    if ((e = sv_check_known(r, known)) || (e = sv_parse_scope(r, &f)))
        return e;
    p = f;
    p.to = f.from - 1;
    p.from = f.from - (f.to - f.from + 1);
    static const struct { const char *name; int prev; ds_top_dim dim; size_t limit; } parts[] = {
        { "ports", 0, DS_TOP_PORTS, 20 }, { "countries", 0, DS_TOP_COUNTRIES, 20 },
        { "previous_ports", 1, DS_TOP_PORTS, 100 }, { "previous_countries", 1, DS_TOP_COUNTRIES, 100 },
    };
    fprintf(out, "{\"from\": \"%s\", \"to\": \"%s\", ", ds_day_format(f.from, d0), ds_day_format(f.to, d1));
    fprintf(out, "\"previous\": {\"from\": \"%s\", \"to\": \"%s\"}", ds_day_format(p.from, d0), ds_day_format(p.to, d1));
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        int ports = i == 0;   /* the IoT share's top 30 too: the rows do not depend on the limit */
        ds_top_query q = { .dim = parts[i].dim, .cls = -1, .limit = ports ? OVERVIEW_IOT_TOP : parts[i].limit };
        ds_top_result res = { 0 };
        sv_top_query(parts[i].prev ? &p : &f, &q);
        if ((e = sv_top(r, &q, &res)) != 200) {
            ds_top_result_free(&res);
            return e;
        }
        if (ports) {
            fprintf(out, ",\n\"iot\": ");
            iot_json(out, r->c->names, &res);
            res.n = res.n < parts[i].limit ? res.n : parts[i].limit;
        }
        fprintf(out, ",\n\"%s\": ", parts[i].name);
        ds_json_top(out, &q, &res, r->c->geo);
        ds_top_result_free(&res);
    }
    fprintf(out, ",\n\"series\": ");
    sv_cube_filter(&f, &cf);
    if ((e = sv_series_day(r, &f, &cf, out)) != 200)
        return e;
    fprintf(out, "}\n");
    return 200;
}

int ds_serve_presets(ds_store *st, ds_serve_period *out, ds_err *err)
{
    int32_t first, last;
    int y, m;
    char d[11], b[32];
    ds_rc rc = ds_store_day_span(st, &first, &last, err);
    if (rc != DS_OK)
        return -1;
    ds_day_format(last, d);
    if (sscanf(d, "%4d-%2d", &y, &m) != 2 || y < 1 || y > 9999 || m < 1 || m > 12)
        return -1;
    static const char *const names[4] = { "day", "week", "month", "quarter" };
    for (int i = 0; i < 4; i++) {
        snprintf(out[i].preset, sizeof out[i].preset, "%s", names[i]);
        out[i].to = last;
    }
    out[0].from = last;
    out[1].from = last - 6;
    snprintf(b, sizeof b, "%04d-%02d-01", y, m);
    if (ds_day_parse(b, &out[2].from) != 0)
        return -1;
    snprintf(b, sizeof b, "%04d-%02d-01", y, (m - 1) / 3 * 3 + 1);
    if (ds_day_parse(b, &out[3].from) != 0)
        return -1;
    return 4;
}

int ds_serve_cacheable(const char *path)
{
    return strcmp(path, "coverage") != 0 && strcmp(path, "sensors") != 0;   /* silent_s, lag_s: now - ... */
}

/* ---- dispatch ------------------------------------------------------------------------------ */

/* The endpoint of path. */
static unsigned dispatch(req *r, const char *path, FILE *out)
{
    if (!strcmp(path, "top"))
        return ep_top(r, out);
    if (!strcmp(path, "series"))
        return ep_series(r, out);
    if (!strcmp(path, "events"))
        return ep_events(r, out);
    if (!strcmp(path, "coverage"))
        return ep_coverage(r, out);
    if (!strcmp(path, "sensors"))
        return ep_sensors(r, out);
    if (!strcmp(path, "span"))
        return ep_span(r, out);
    if (!strcmp(path, "overview"))
        return ep_overview(r, out);
    if (!strcmp(path, "cube"))
        return sv_ep_cube(r, out);
    if (!strcmp(path, "payloads"))
        return sv_ep_payloads(r, out);
    if (!strncmp(path, "source/", 7) && path[7])
        return sv_ep_source(r, path + 7, out);
    snprintf(r->msg, r->msglen, "no such endpoint: /api/v1/%s (overview, top, series, cube, events, coverage, sensors, span, "
             "source/ADDR, payloads)", path);
    return 404;
}

unsigned ds_serve_api(const ds_serve_ctx *c, ds_store *st, const char *path, const ds_serve_args *a, FILE *out,
                      char *msg, size_t msglen)
{
    req r = { .c = c, .st = st, .a = a, .msg = msg, .msglen = msglen };
    msg[0] = 0;
    unsigned code = dispatch(&r, path, out);
    ds_serve_views_done(c->views, r.view, r.view_from, r.view_to);   /* the kept view, given back */
    return code;
}
