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
 * /overview, /series, /span and /source/ADDR have no CLI twin (/overview is made of `top`s and
 * a series); their fields are in docs/api.md.
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
#include "net/serve_int.h"
#include "report/tables_json.h"
#include "util/num.h"
#include "util/textfmt.h"
#include "util/timeutil.h"

#define MAX_ROWS 1000000000u   /* limit: as the CLI's --limit */
#define MAX_LIST 64            /* values in one list parameter (the filter's DS_FILTER_MAX) */

typedef struct req {
    const ds_serve_ctx *c;
    ds_store *st;
    const ds_serve_args *a;
    char *msg;
    size_t msglen;
} req;

/* A 400: "PARAM: what is wrong". */
static unsigned bad(req *r, const char *param, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static unsigned bad(req *r, const char *param, const char *fmt, ...)
{
    char what[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    snprintf(r->msg, r->msglen, "%s: %s", param, what);
    return 400;
}

static unsigned failed(req *r, const ds_err *err)
{
    snprintf(r->msg, r->msglen, "%s", err->msg[0] ? err->msg : "query failed");
    return 500;
}

/* The value of key, or NULL. */
static const char *arg(const req *r, const char *key)
{
    for (size_t i = 0; i < r->a->n; i++)
        if (strcmp(r->a->v[i].key, key) == 0)
            return r->a->v[i].val;
    return NULL;
}

/* Every parameter is one of `known` (NULL-terminated) and given once: 0, else the 400. */
static unsigned check_known(req *r, const char *const *known)
{
    for (size_t i = 0; i < r->a->n; i++) {
        const char *k = r->a->v[i].key;
        size_t j = 0;
        while (known[j] && strcmp(known[j], k) != 0)
            j++;
        if (!known[j]) {
            char list[256] = "";
            for (j = 0; known[j]; j++)
                snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", j ? ", " : "", known[j]);
            return bad(r, k, "unknown parameter (this endpoint takes: %s)", list[0] ? list : "none");
        }
        for (size_t p = 0; p < i; p++)
            if (strcmp(r->a->v[p].key, k) == 0)
                return bad(r, k, "given twice; give one comma-separated list");
    }
    return 0;
}

/* ---- the filter every table and series takes ---------------------------------------------- */

typedef struct filt {
    int32_t from, to;
    int64_t sensor_id;
    int cls;
    ds_service ports[MAX_LIST]; size_t nports;
    uint16_t countries[MAX_LIST]; size_t ncountries;
    uint32_t asns[MAX_LIST]; size_t nasns;
    unsigned tools;
} filt;

/* The comma-separated items of list, each passed to fn; 0 or the 400. */
typedef int (*item_fn)(filt *f, const char *item, char *why, size_t whylen);

static int item_service(filt *f, const char *v, char *why, size_t n)
{
    if (f->nports == MAX_LIST || ds_service_parse(v, &f->ports[f->nports]) != 0) {
        snprintf(why, n, "use PORT/tcp, PORT/udp, TYPE/icmp, TYPE/icmp6 or N/ip");
        return -1;
    }
    f->nports++;
    return 0;
}

static int item_country(filt *f, const char *v, char *why, size_t n)
{
    if (f->ncountries == MAX_LIST || strlen(v) != 2 || !((v[0] | 0x20) >= 'a' && (v[0] | 0x20) <= 'z') ||
        !((v[1] | 0x20) >= 'a' && (v[1] | 0x20) <= 'z')) {
        snprintf(why, n, "use a two-letter ISO 3166 code such as CN");
        return -1;
    }
    char cc[2] = { (char)(v[0] & ~0x20), (char)(v[1] & ~0x20) };
    f->countries[f->ncountries++] = ds_cc_pack(cc);
    return 0;
}

static int item_asn(filt *f, const char *v, char *why, size_t n)
{
    uint64_t a;
    ds_err err = { 0 };
    const char *p = strncasecmp(v, "AS", 2) == 0 ? v + 2 : v;
    if (f->nasns == MAX_LIST || ds_parse_u64(p, 0, UINT32_MAX, &a, &err) != DS_OK) {
        snprintf(why, n, "use a number such as 4134 or AS4134");
        return -1;
    }
    f->asns[f->nasns++] = (uint32_t)a;
    return 0;
}

static int item_tool(filt *f, const char *v, char *why, size_t n)
{
    unsigned t = ds_tool_parse(v);
    if (!t) {
        char tools[160];
        snprintf(why, n, "use one of %s", ds_tools_format(0xffu, tools, sizeof tools));
        return -1;
    }
    f->tools |= t;
    return 0;
}

static unsigned parse_list(req *r, filt *f, const char *key, item_fn fn)
{
    const char *v = arg(r, key);
    char item[64], why[200];
    if (!v)
        return 0;
    for (const char *p = v;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (len == 0 || len >= sizeof item)
            return bad(r, key, "'%s': %s", v, "an empty or overlong item in the list");
        memcpy(item, p, len);
        item[len] = 0;
        if (fn(f, item, why, sizeof why) != 0)
            return bad(r, key, "'%s': %s", item, why);
        if (!comma)
            break;
        p = comma + 1;
    }
    return 0;
}

static unsigned parse_day(req *r, const char *key, int32_t *day, int *given)
{
    const char *v = arg(r, key);
    char why[96];
    *given = v != NULL;
    if (!v)
        return 0;
    if (ds_day_parse(v, day) != 0)
        return bad(r, key, "'%s': %s", v, ds_day_explain(v, why, sizeof why) ? why : "use a date as YYYY-MM-DD");
    return 0;
}

/* from and to as given (have_from, have_to in f): checked before the store is read. */
static unsigned parse_days(req *r, filt *f, int *have_from, int *have_to)
{
    unsigned e;
    if ((e = parse_day(r, "from", &f->from, have_from)) || (e = parse_day(r, "to", &f->to, have_to)))
        return e;
    if (*have_from && *have_to && f->to < f->from)
        return bad(r, "to", "is before from");
    return 0;
}

/* The days not given from the store (its first and last day with data), and the sensor's id. */
static unsigned resolve_scope(req *r, filt *f, int have_from, int have_to)
{
    ds_err err = { 0 };
    if (!have_from || !have_to) {
        int32_t first, last;
        ds_rc rc = ds_store_day_span(r->st, &first, &last, &err);
        if (rc == DS_ENOTFOUND) {
            snprintf(r->msg, r->msglen, "the store holds no data yet");
            return 404;
        }
        if (rc != DS_OK)
            return failed(r, &err);
        if (!have_from)
            f->from = first;
        if (!have_to)
            f->to = last;
    }
    if (f->to < f->from)
        return bad(r, have_to ? "to" : "from", "%s the store's %s day with data",
                   have_to ? "is before" : "is after", have_to ? "first" : "last");
    if (f->to - f->from > 3660)
        return bad(r, "to", "more than ten years after from");
    const char *sensor = arg(r, "sensor");
    f->sensor_id = 0;
    if (sensor) {
        ds_sensor_info *sensors = NULL;
        size_t n = 0;
        if (ds_store_sensors(r->st, &sensors, &n, &err) != DS_OK)
            return failed(r, &err);
        for (size_t i = 0; i < n; i++)
            if (strcmp(sensors[i].name, sensor) == 0)
                f->sensor_id = sensors[i].id;
        free(sensors);
        if (!f->sensor_id)
            return bad(r, "sensor", "'%s': %s", sensor, "no such sensor in the store");
    }
    return 0;
}

/* from, to (default: the store's first and last day) and sensor. */
static unsigned parse_scope(req *r, filt *f)
{
    int have_from, have_to;
    unsigned e = parse_days(r, f, &have_from, &have_to);
    return e ? e : resolve_scope(r, f, have_from, have_to);
}

static unsigned parse_filter(req *r, filt *f)
{
    unsigned e;
    memset(f, 0, sizeof *f);
    f->cls = -1;
    int have_from, have_to;
    if ((e = parse_days(r, f, &have_from, &have_to)))
        return e;
    const char *cls = arg(r, "class");
    if (cls) {
        ds_class k;
        if (ds_class_parse(cls, &k) != 0)
            return bad(r, "class", "'%s': %s", cls, "use scan, backscatter or other");
        f->cls = (int)k;
    }
    if ((e = parse_list(r, f, "service", item_service)) || (e = parse_list(r, f, "country", item_country)) ||
        (e = parse_list(r, f, "asn", item_asn)) || (e = parse_list(r, f, "tool", item_tool)))
        return e;
    return resolve_scope(r, f, have_from, have_to);
}

#define FILTER_PARAMS "from", "to", "sensor", "class", "service", "country", "asn", "tool"

/* ---- /top ---------------------------------------------------------------------------------- */

static const char *const DIMS[] = { "ports", "countries", "asns", "sources" };

static void top_query(const filt *f, ds_top_query *q)
{
    q->from = f->from;
    q->to = f->to;
    q->sensor_id = f->sensor_id;
    q->cls = f->cls;
    memcpy(q->ports, f->ports, f->nports * sizeof f->ports[0]);
    q->nports = f->nports;
    memcpy(q->countries, f->countries, f->ncountries * sizeof f->countries[0]);
    q->ncountries = f->ncountries;
    memcpy(q->asns, f->asns, f->nasns * sizeof f->asns[0]);
    q->nasns = f->nasns;
    q->tools = f->tools;
}

/* As `darkscope top`: the rates divide by the covered address-days of the period. */
static unsigned run_top(req *r, ds_top_query *q, FILE *out)
{
    ds_top_result res = { 0 };
    ds_err err = { 0 };
    unsigned code = 200;
    if (ds_rate_addr_days(r->st, r->c->cfg, q->sensor_id, q->from, q->to, &q->addr_days, &err) != DS_OK)
        return failed(r, &err);
    q->have_addr_days = 1;
    if (ds_top_run(r->st, q, &res, &err) != DS_OK)
        code = failed(r, &err);
    else
        ds_json_top(out, q, &res, r->c->geo);
    ds_top_result_free(&res);
    return code;
}

static unsigned ep_top(req *r, FILE *out)
{
    static const char *const known[] = { "dim", "limit", FILTER_PARAMS, NULL };
    filt f = { .cls = -1 };
    ds_top_query q = { .limit = 10 };
    unsigned e;
    if ((e = check_known(r, known)))
        return e;
    const char *dim = arg(r, "dim");
    int d = -1;
    for (int i = 0; dim && i < 4; i++)
        if (strcmp(dim, DIMS[i]) == 0)
            d = i;
    if (d < 0)
        return bad(r, "dim", "'%s': %s", dim ? dim : "", "choose ports, countries, asns or sources");
    const char *limit = arg(r, "limit");
    if (limit) {
        uint64_t v;
        ds_err err = { 0 };
        if (ds_parse_u64(limit, 0, MAX_ROWS, &v, &err) != DS_OK)
            return bad(r, "limit", "'%s': %s", limit, err.msg);
        q.limit = (size_t)v;
    }
    if ((e = parse_filter(r, &f)))
        return e;
    q.dim = (ds_top_dim)d;
    top_query(&f, &q);
    return run_top(r, &q, out);
}

/* ---- /series ------------------------------------------------------------------------------- */

static void cube_filter(const filt *f, ds_filter *cf)
{
    ds_filter_init(cf);
    cf->sensor_id = f->sensor_id;
    cf->cls = f->cls;
    memcpy(cf->ports, f->ports, f->nports * sizeof f->ports[0]);
    cf->nports = f->nports;
    memcpy(cf->countries, f->countries, f->ncountries * sizeof f->countries[0]);
    cf->ncountries = f->ncountries;
    memcpy(cf->asns, f->asns, f->nasns * sizeof f->asns[0]);
    cf->nasns = f->nasns;
    cf->tools = f->tools;
}

/* Daily packets and distinct sources, from the records `top` counts: a day's packets over the
 * series add up to top's total for the same filter. */
static unsigned series_day(req *r, const filt *f, const ds_filter *cf, FILE *out)
{
    ds_cube_query cq = { .from = f->from, .to = f->to, .filter = *cf, .a = DS_CUBE_DAY, .b = DS_CUBE_NONE,
                         .sources = 1 };
    ds_cube cube = { 0 };
    ds_err err = { 0 };
    char d0[11], d1[11];
    if (ds_cube_run(r->st, &cq, &cube, &err) != DS_OK) {
        ds_cube_free(&cube);
        return failed(r, &err);
    }
    fprintf(out, "{\"step\": \"day\", \"from\": \"%s\", \"to\": \"%s\", \"total_packets\": %llu, "
                 "\"total_sources\": %llu, \"points\": [", ds_day_format(f->from, d0), ds_day_format(f->to, d1),
            (unsigned long long)cube.total_packets, (unsigned long long)cube.total_sources);
    for (int32_t d = f->from; d <= f->to; d++) {
        const ds_cube_cell *c = ds_cube_get(&cube, (uint32_t)d, 0);
        fprintf(out, "%s\n  {\"t\": \"%s\", \"packets\": %llu, \"sources\": %llu}", d > f->from ? "," : "",
                ds_day_format(d, d0), c ? (unsigned long long)c->packets : 0ull,
                c ? (unsigned long long)c->sources : 0ull);
    }
    fprintf(out, "\n]}\n");
    ds_cube_free(&cube);
    return 200;
}

/* Hourly packets as the sensors received them (analysis/coverage.h: every packet of the sensor,
 * before classification), null for an hour no selected sensor observed. */
static unsigned series_hour(req *r, const filt *f, FILE *out)
{
    ds_coverage *cov = NULL;
    ds_err err = { 0 };
    char d0[11], d1[11];
    if (ds_coverage_load(r->st, r->c->cfg, f->from, f->to, &cov, &err) != DS_OK)
        return failed(r, &err);
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
    if ((e = check_known(r, known)))
        return e;
    const char *step = arg(r, "step");
    int hourly = step && !strcmp(step, "hour");
    if (step && strcmp(step, "day") && !hourly)
        return bad(r, "step", "'%s': %s", step, "use day or hour");
    if (hourly && (arg(r, "class") || arg(r, "service") || arg(r, "country") || arg(r, "asn") || arg(r, "tool")))
        return bad(r, "step", "'%s': %s", step, "hourly counts are of every packet a sensor received: only "
                   "from, to and sensor apply (use step=day with class, service, country, asn or tool)");
    if ((e = parse_filter(r, &f)))
        return e;
    if (hourly) {
        if (f.to - f.from > 92)
            return bad(r, "step", "'%s': %s", step, "at most 93 days of hours (use step=day)");
        return series_hour(r, &f, out);
    }
    cube_filter(&f, &cf);
    return series_day(r, &f, &cf, out);
}

/* ---- /events ------------------------------------------------------------------------------- */

/* As `darkscope events`: research scanners listed when [detect] names lists. */
static unsigned events_run(req *r, ds_event_query *q, ds_events *ev, ds_u64set *research)
{
    ds_err err = { 0 };
    const ds_config *cfg = r->c->cfg;
    q->sensor_silence_s = cfg->sensor_silence_s;
    q->cfg = cfg;
    if (cfg->research.nlists || cfg->research.nasns) {
        ds_research *rs = NULL;
        ds_rc rc = ds_research_load(&rs, &cfg->research, &err);
        if (rc == DS_OK)
            rc = ds_research_sources(rs, r->st, q->from, q->to, research, &err);
        ds_research_free(rs);
        if (rc != DS_OK)
            return failed(r, &err);
        q->research = research;
    }
    if (ds_events_run(r->st, r->c->geo, q, ev, &err) != DS_OK)
        return failed(r, &err);
    return 200;
}

static unsigned ep_events(req *r, FILE *out)
{
    static const char *const known[] = { "from", "to", "sensor", "type", NULL };
    filt f = { .cls = -1 };
    ds_event_query q = { 0 };
    ds_events ev = { 0 };
    ds_u64set research = { 0 };
    unsigned e;
    if ((e = check_known(r, known)))
        return e;
    const char *type = arg(r, "type");
    if (type && !ds_event_type_known(type)) {
        char known_types[512];
        return bad(r, "type", "'%s': this build detects %s", type, ds_event_types_format(known_types, sizeof known_types));
    }
    if (type && !strcmp(type, "research_scanner") && !r->c->cfg->research.nlists && !r->c->cfg->research.nasns)
        return bad(r, "type", "'%s': %s", type, "needs [detect] research_lists or research_asns in the config");
    if ((e = parse_scope(r, &f)))
        return e;
    q.from = f.from;
    q.to = f.to;
    q.sensor_id = f.sensor_id;
    q.type = type;
    if ((e = events_run(r, &q, &ev, &research)) == 200) {
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
    if ((e = check_known(r, known)))
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
        failed(r, &err);
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
    if ((e = check_known(r, known)))
        return e;
    if (ds_collector_print_health(r->st, out, 1, &err) != DS_OK)
        return failed(r, &err);
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
    if ((e = check_known(r, known)))
        return e;
    ds_rc rc = ds_store_day_span(r->st, &first, &last, &err);
    if (rc == DS_ENOTFOUND) {
        snprintf(r->msg, r->msglen, "the store holds no data yet");
        return 404;
    }
    if (rc != DS_OK)
        return failed(r, &err);
    fprintf(out, "{\"first\": \"%s\", \"last\": \"%s\"}\n", ds_day_format(first, a), ds_day_format(last, b));
    return 200;
}

/* The overview of a period in one answer: top services and regions (20 rows), the same of the
 * period of equal length just before (100 rows: the previous ranks), and the daily series.  One
 * request, so the server caches and precomputes it whole (serve.c). */
static unsigned ep_overview(req *r, FILE *out)
{
    static const char *const known[] = { "from", "to", "sensor", NULL };
    filt f = { .cls = -1 }, p;
    ds_filter cf;
    unsigned e;
    char d0[11], d1[11];
    if ((e = check_known(r, known)) || (e = parse_scope(r, &f)))
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
        ds_top_query q = { .dim = parts[i].dim, .cls = -1, .limit = parts[i].limit };
        top_query(parts[i].prev ? &p : &f, &q);
        fprintf(out, ",\n\"%s\": ", parts[i].name);
        if ((e = run_top(r, &q, out)) != 200)
            return e;
    }
    fprintf(out, ",\n\"series\": ");
    cube_filter(&f, &cf);
    if ((e = series_day(r, &f, &cf, out)) != 200)
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

/* ---- /source/ADDR -------------------------------------------------------------------------- */

static int event_mentions(const ds_event *v, const char *addr)
{
    for (size_t k = 0; k < v->ntop; k++)
        if (!strcmp(v->top[k].addr, addr))
            return 1;
    for (size_t k = 0; k < v->nall; k++)
        if (!strcmp(v->all[k].addr, addr))
            return 1;
    return 0;
}

/* One source over the period: its row as `top sources` ranks it, the services it sent to, its
 * daily packets and the events that name it. */
static unsigned ep_source(req *r, const char *addr_text, FILE *out)
{
    static const char *const known[] = { "from", "to", "sensor", "events", NULL };
    filt f = { .cls = -1 };
    ds_ip ip;
    ds_u64set only = { 0 }, research = { 0 };
    ds_events ev = { 0 };
    unsigned e;
    char addr[64], d0[11], d1[11];
    if ((e = check_known(r, known)))
        return e;
    if (strlen(addr_text) >= sizeof addr || ds_ip_parse(addr_text, &ip) != 0)
        return bad(r, "source", "'%s': %s", addr_text, "not an IPv4 or IPv6 address");
    snprintf(addr, sizeof addr, "%s", addr_text);
    const char *with_events = arg(r, "events");
    if (with_events && strcmp(with_events, "0") && strcmp(with_events, "1"))
        return bad(r, "events", "'%s': %s", with_events, "use 0 or 1");
    if ((e = parse_scope(r, &f)))
        return e;
    uint64_t key = ds_src_key(&ip);
    if (ds_u64set_init(&only, 4) != 0 || ds_u64set_add(&only, key) < 0) {
        snprintf(r->msg, r->msglen, "out of memory");
        e = 500;
        goto out;
    }
    fprintf(out, "{\"address\": ");
    ds_json_fputs(out, addr);
    fprintf(out, ", \"from\": \"%s\", \"to\": \"%s\", \"source\": ", ds_day_format(f.from, d0), ds_day_format(f.to, d1));
    ds_top_query q = { .dim = DS_TOP_SOURCES, .cls = -1, .limit = 1, .only = &only };
    top_query(&f, &q);
    if ((e = run_top(r, &q, out)) != 200)
        goto out;
    fprintf(out, ", \"services\": ");
    ds_top_query qs = { .dim = DS_TOP_PORTS, .cls = -1, .limit = 0, .only = &only };
    top_query(&f, &qs);
    if ((e = run_top(r, &qs, out)) != 200)
        goto out;
    ds_filter cf;
    cube_filter(&f, &cf);
    cf.one_source = 1;
    cf.source = key;
    fprintf(out, ", \"days\": ");
    if ((e = series_day(r, &f, &cf, out)) != 200)
        goto out;
    fprintf(out, ", \"events\": ");
    if (!with_events || !strcmp(with_events, "1")) {
        ds_event_query eq = { .from = f.from, .to = f.to, .sensor_id = f.sensor_id };
        if ((e = events_run(r, &eq, &ev, &research)) != 200)
            goto out;
        size_t k = 0;
        for (size_t i = 0; i < ev.n; i++)   /* keep the events that name it, in order */
            if (event_mentions(&ev.ev[i], addr)) {
                ds_event tmp = ev.ev[k];
                ev.ev[k++] = ev.ev[i];
                ev.ev[i] = tmp;
            }
        ds_events mine = { ev.ev, k, k };
        ds_event_words words = { .lang = DS_LANG_EN, .names = r->c->names, .geo = r->c->geo };
        ds_json_events(out, &mine, &words);
    } else {
        fprintf(out, "null\n");
    }
    fprintf(out, "}\n");
    e = 200;
out:
    ds_events_free(&ev);
    ds_u64set_free(&only);
    ds_u64set_free(&research);
    return e;
}

int ds_serve_cacheable(const char *path)
{
    return strcmp(path, "coverage") != 0 && strcmp(path, "sensors") != 0;   /* silent_s, lag_s: now - ... */
}

/* ---- dispatch ------------------------------------------------------------------------------ */

unsigned ds_serve_api(const ds_serve_ctx *c, ds_store *st, const char *path, const ds_serve_args *a, FILE *out,
                      char *msg, size_t msglen)
{
    req r = { c, st, a, msg, msglen };
    msg[0] = 0;
    if (!strcmp(path, "top"))
        return ep_top(&r, out);
    if (!strcmp(path, "series"))
        return ep_series(&r, out);
    if (!strcmp(path, "events"))
        return ep_events(&r, out);
    if (!strcmp(path, "coverage"))
        return ep_coverage(&r, out);
    if (!strcmp(path, "sensors"))
        return ep_sensors(&r, out);
    if (!strcmp(path, "span"))
        return ep_span(&r, out);
    if (!strcmp(path, "overview"))
        return ep_overview(&r, out);
    if (!strncmp(path, "source/", 7) && path[7])
        return ep_source(&r, path + 7, out);
    snprintf(msg, msglen, "no such endpoint: /api/v1/%s (overview, top, series, events, coverage, sensors, span, source/ADDR)", path);
    return 404;
}
