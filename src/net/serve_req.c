/* serve_req.c: what every endpoint of serve_api.c and serve_drill.c shares (serve_req.h): the
 * request's parameters checked, the filter parsed, and the queries the CLI runs (top, the daily
 * series, events) written as the CLI writes them. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "analysis/cube.h"
#include "analysis/rates.h"
#include "analysis/research.h"
#include "core/fingerprint.h"
#include "core/records.h"
#include "net/serve_req.h"
#include "report/tables_json.h"
#include "util/num.h"
#include "util/timeutil.h"



/* A 400: "PARAM: what is wrong". */
unsigned sv_bad(req *r, const char *param, const char *fmt, ...)
{
    char what[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    snprintf(r->msg, r->msglen, "%s: %s", param, what);
    return 400;
}

unsigned sv_failed(req *r, const ds_err *err)
{
    snprintf(r->msg, r->msglen, "%s", err->msg[0] ? err->msg : "query failed");
    return 500;
}

/* The value of key, or NULL. */
const char *sv_arg(const req *r, const char *key)
{
    for (size_t i = 0; i < r->a->n; i++)
        if (strcmp(r->a->v[i].key, key) == 0)
            return r->a->v[i].val;
    return NULL;
}

/* Every parameter is one of `known` (NULL-terminated) and given once: 0, else the 400. */
unsigned sv_check_known(req *r, const char *const *known)
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
            return sv_bad(r, k, "unknown parameter (this endpoint takes: %s)", list[0] ? list : "none");
        }
        for (size_t p = 0; p < i; p++)
            if (strcmp(r->a->v[p].key, k) == 0)
                return sv_bad(r, k, "given twice; give one comma-separated list");
    }
    return 0;
}

/* ---- the filter every table and series takes ---------------------------------------------- */


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

static unsigned sv_parse_list(req *r, filt *f, const char *key, item_fn fn)
{
    const char *v = sv_arg(r, key);
    char item[64], why[200];
    if (!v)
        return 0;
    for (const char *p = v;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (len == 0 || len >= sizeof item)
            return sv_bad(r, key, "'%s': %s", v, "an empty or overlong item in the list");
        memcpy(item, p, len);
        item[len] = 0;
        if (fn(f, item, why, sizeof why) != 0)
            return sv_bad(r, key, "'%s': %s", item, why);
        if (!comma)
            break;
        p = comma + 1;
    }
    return 0;
}

static unsigned sv_parse_day(req *r, const char *key, int32_t *day, int *given)
{
    const char *v = sv_arg(r, key);
    char why[96];
    *given = v != NULL;
    if (!v)
        return 0;
    if (ds_day_parse(v, day) != 0)
        return sv_bad(r, key, "'%s': %s", v, ds_day_explain(v, why, sizeof why) ? why : "use a date as YYYY-MM-DD");
    return 0;
}

/* from and to as given (have_from, have_to in f): checked before the store is read. */
static unsigned sv_parse_days(req *r, filt *f, int *have_from, int *have_to)
{
    unsigned e;
    if ((e = sv_parse_day(r, "from", &f->from, have_from)) || (e = sv_parse_day(r, "to", &f->to, have_to)))
        return e;
    if (*have_from && *have_to && f->to < f->from)
        return sv_bad(r, "to", "is before from");
    return 0;
}

/* The days not given from the store (its first and last day with data), and the sensor's id. */
static unsigned sv_resolve_scope(req *r, filt *f, int have_from, int have_to)
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
            return sv_failed(r, &err);
        if (!have_from)
            f->from = first;
        if (!have_to)
            f->to = last;
    }
    if (f->to < f->from)
        return sv_bad(r, have_to ? "to" : "from", "%s the store's %s day with data",
                   have_to ? "is before" : "is after", have_to ? "first" : "last");
    if (f->to - f->from > 3660)
        return sv_bad(r, "to", "more than ten years after from");
    const char *sensor = sv_arg(r, "sensor");
    f->sensor_id = 0;
    if (sensor) {
        ds_sensor_info *sensors = NULL;
        size_t n = 0;
        if (ds_store_sensors(r->st, &sensors, &n, &err) != DS_OK)
            return sv_failed(r, &err);
        for (size_t i = 0; i < n; i++)
            if (strcmp(sensors[i].name, sensor) == 0)
                f->sensor_id = sensors[i].id;
        free(sensors);
        if (!f->sensor_id)
            return sv_bad(r, "sensor", "'%s': %s", sensor, "no such sensor in the store");
    }
    return 0;
}

/* Once the request's period is known: its reads go to the kept view of the period
 * (serve_views.c), which holds its chunks decompressed, when the server keeps one. */
static unsigned use_view(req *r, const filt *f)
{
    if (!r->view && (r->view = ds_serve_views_get(r->c->views, r->st, f->from, f->to))) {
        r->view_from = f->from;
        r->view_to = f->to;
        r->st = r->view;
    }
    return 0;
}

/* from, to (default: the store's first and last day) and sensor. */
unsigned sv_parse_scope(req *r, filt *f)
{
    int have_from, have_to;
    unsigned e = sv_parse_days(r, f, &have_from, &have_to);
    if (!e)
        e = sv_resolve_scope(r, f, have_from, have_to);
    return e ? e : use_view(r, f);
}

unsigned sv_parse_filter(req *r, filt *f)
{
    unsigned e;
    memset(f, 0, sizeof *f);
    f->cls = -1;
    int have_from, have_to;
    if ((e = sv_parse_days(r, f, &have_from, &have_to)))
        return e;
    const char *cls = sv_arg(r, "class");
    if (cls) {
        ds_class k;
        if (ds_class_parse(cls, &k) != 0)
            return sv_bad(r, "class", "'%s': %s", cls, "use scan, backscatter or other");
        f->cls = (int)k;
    }
    if ((e = sv_parse_list(r, f, "service", item_service)) || (e = sv_parse_list(r, f, "country", item_country)) ||
        (e = sv_parse_list(r, f, "asn", item_asn)) || (e = sv_parse_list(r, f, "tool", item_tool)))
        return e;
    e = sv_resolve_scope(r, f, have_from, have_to);
    return e ? e : use_view(r, f);
}


void sv_top_query(const filt *f, ds_top_query *q)
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
unsigned sv_top(req *r, ds_top_query *q, ds_top_result *res)
{
    ds_err err = { 0 };
    if (ds_rate_addr_days(r->st, r->c->cfg, q->sensor_id, q->from, q->to, &q->addr_days, &err) != DS_OK)
        return sv_failed(r, &err);
    q->have_addr_days = 1;
    if (ds_top_run(r->st, q, res, &err) != DS_OK)
        return sv_failed(r, &err);
    return 200;
}

unsigned sv_run_top(req *r, ds_top_query *q, FILE *out)
{
    ds_top_result res = { 0 };
    unsigned code = sv_top(r, q, &res);
    if (code == 200)
        ds_json_top(out, q, &res, r->c->geo);
    ds_top_result_free(&res);
    return code;
}

void sv_cube_filter(const filt *f, ds_filter *cf)
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
unsigned sv_series_day(req *r, const filt *f, const ds_filter *cf, FILE *out)
{
    ds_cube_query cq = { .from = f->from, .to = f->to, .filter = *cf, .a = DS_CUBE_DAY, .b = DS_CUBE_NONE,
                         .sources = 1, .total_sources = 1 };   /* both asked for (cube.h since 3769f5c) */
    ds_cube cube = { 0 };
    ds_err err = { 0 };
    char d0[11], d1[11];
    if (ds_cube_run(r->st, &cq, &cube, &err) != DS_OK) {
        ds_cube_free(&cube);
        return sv_failed(r, &err);
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

/* As `darkscope events`: research scanners listed when [detect] names lists. */
unsigned sv_events_run(req *r, ds_event_query *q, ds_events *ev, ds_u64set *research)
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
            return sv_failed(r, &err);
        q->research = research;
    }
    if (ds_serve_events_get(r->c->cache, q, ev))   /* found for this period already (serve_cache.c) */
        return 200;
    if (r->view && q->from == r->view_from && q->to == r->view_to)
        q->view = r->view;   /* the kept view of the period holds every chunk a detector reads */
    ds_serve_stamp before = r->c->cache ? ds_serve_cache_stamp(r->c->cache) : (ds_serve_stamp){ { 0 } };
    if (ds_events_run(r->st, r->c->geo, q, ev, &err) != DS_OK)
        return sv_failed(r, &err);
    ds_serve_events_put(r->c->cache, q, ev, &before);
    return 200;
}


unsigned sv_parse_u64(req *r, const char *key, uint64_t max, uint64_t *v)
{
    const char *s = sv_arg(r, key);
    ds_err err = { 0 };
    if (s && ds_parse_u64(s, 0, max, v, &err) != DS_OK)
        return sv_bad(r, key, "'%s': %s", s, err.msg);
    return 0;
}

unsigned sv_parse_bool(req *r, const char *key, int *v)
{
    const char *s = sv_arg(r, key);
    if (!s)
        return 0;
    if (strcmp(s, "0") && strcmp(s, "1"))
        return sv_bad(r, key, "'%s': %s", s, "use 0 or 1");
    *v = s[0] == '1';
    return 0;
}
