/* serve_drill.c: the drill-downs of /api/v1/ (docs/api.md): one source (/source/ADDR), grouped
 * counts of any two dimensions (/cube, the report's building block: a service's source ports, a
 * region's services per day) and first payloads (/payloads, `darkscope payloads --format json`).
 *
 * /cube answers from analysis/cube.h, the queries the report's figures are made of, so its
 * packets add up to `top`'s for the same filter; /payloads writes report/payloads_json.h's JSON,
 * the CLI's, byte for byte for the same options.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/cube.h"
#include "analysis/payloads_exclude.h"
#include "analysis/research.h"
#include "core/classify.h"
#include "core/ip.h"
#include "core/records.h"
#include "net/serve_req.h"
#include "report/payloads_json.h"
#include "report/tables_json.h"
#include "util/textfmt.h"
#include "util/timeutil.h"

#define SOURCE_PAYLOADS 20     /* first payloads in /source/ADDR (payloads=N) */
#define PAYLOADS_DEFAULT 100   /* rows of /payloads, as the CLI's -n */
#define CUBE_MAX_CELLS 200000u /* cells in one /cube answer (day x ASN over a year can be millions) */

/* ---- /payloads ----------------------------------------------------------------------------- */

/* The period [from 00:00, to+1 00:00) local time, as `payloads --from --to`. */
static void payload_days(ds_payload_query *q, int32_t from, int32_t to)
{
    int64_t t = ds_day_start(from);
    q->from_ns = t > 0 ? (uint64_t)t * 1000000000ull : 0;
    t = ds_day_start(to + 1);
    q->to_ns = t > 0 ? (uint64_t)t * 1000000000ull : 1;   /* 1: a period before 1970 holds nothing */
}

/* The payloads of q as `darkscope payloads [--exclude research] --format json` prints them;
 * from, to as given (0: all the store holds) for the research sources' period. */
static unsigned payloads_write(req *r, const ds_payload_query *q, int exclude_research, FILE *out)
{
    ds_payload_row *rows = NULL;
    ds_research *research = NULL;
    ds_u64set excluded = { 0 };
    size_t n = 0;
    uint64_t total = 0;
    ds_err err = { 0 };
    ds_rc rc = DS_OK;
    unsigned code = 200;
    if (exclude_research) {   /* as cmd_payloads.c: the period's sources the lists or ASNs name */
        int32_t first = 0, last = 0;
        rc = ds_research_load(&research, &r->c->cfg->research, &err);
        if (rc == DS_OK && (rc = ds_store_day_span(r->st, &first, &last, &err)) == DS_ENOTFOUND)
            rc = DS_OK;
        else if (rc == DS_OK)
            rc = ds_research_sources(research, r->st, first, last, &excluded, &err);
    }
    if (rc == DS_OK)
        rc = ds_payloads_query_excluding(r->st, q, exclude_research ? &excluded : NULL, research, &rows, &n, &total, &err);
    if (rc != DS_OK)
        code = sv_failed(r, &err);
    else
        ds_json_payloads(out, q, rows, n);
    ds_payload_rows_free(rows, n);
    ds_research_free(research);
    ds_u64set_free(&excluded);
    return code;
}

unsigned sv_ep_payloads(req *r, FILE *out)
{
    static const char *const known[] = { "from", "to", "sensor", "service", "source", "limit", "top", "exclude", NULL };
    ds_payload_query q = { .limit = PAYLOADS_DEFAULT };
    char canon[DS_PAYLOAD_ADDRLEN], why[96];
    int32_t from = 0, to = 0;
    uint64_t limit = PAYLOADS_DEFAULT;
    int top = 0;
    unsigned e;
    if ((e = sv_check_known(r, known)) || (e = sv_parse_u64(r, "limit", MAX_ROWS, &limit)) ||
        (e = sv_parse_bool(r, "top", &top)))
        return e;
    q.limit = (size_t)limit;
    q.top = top;
    const char *v;
    if ((v = sv_arg(r, "from")) && ds_day_parse(v, &from) != 0)
        return sv_bad(r, "from", "'%s': %s", v, ds_day_explain(v, why, sizeof why) ? why : "use a date as YYYY-MM-DD");
    if ((v = sv_arg(r, "to")) && ds_day_parse(v, &to) != 0)
        return sv_bad(r, "to", "'%s': %s", v, ds_day_explain(v, why, sizeof why) ? why : "use a date as YYYY-MM-DD");
    if (sv_arg(r, "from") && sv_arg(r, "to") && to < from)
        return sv_bad(r, "to", "is before from");
    if ((v = sv_arg(r, "service"))) {
        ds_service s;
        if (ds_service_parse(v, &s) != 0)
            return sv_bad(r, "service", "'%s': %s", v, "one service: PORT/tcp, PORT/udp, TYPE/icmp, TYPE/icmp6 or N/ip");
        q.have_service = 1;
        q.service = s;
    }
    if ((v = sv_arg(r, "source"))) {
        if (ds_payload_addr_canon(v, canon) != 0)
            return sv_bad(r, "source", "'%s': %s", v, "not an IPv4 or IPv6 address");
        q.source = canon;
    }
    const char *exclude = sv_arg(r, "exclude");
    if (exclude && strcmp(exclude, "research") != 0)
        return sv_bad(r, "exclude", "'%s': %s", exclude, "the only exclusion is research");
    q.sensor = sv_arg(r, "sensor");
    if (!ds_store_keeps(r->st, DS_KEEPS_PAYLOADS)) {
        snprintf(r->msg, r->msglen, "the %s store keeps no payloads", r->st->ops->name);
        return 404;
    }
    if (sv_arg(r, "from") || sv_arg(r, "to")) {
        ds_payload_query p = { 0 };
        payload_days(&p, from, to);
        if (sv_arg(r, "from"))
            q.from_ns = p.from_ns;
        if (sv_arg(r, "to"))
            q.to_ns = p.to_ns;
    }
    return payloads_write(r, &q, exclude != NULL, out);
}

/* ---- /cube --------------------------------------------------------------------------------- */

static const struct { const char *name; ds_cube_dim dim; } CUBE_DIMS[] = {
    { "day", DS_CUBE_DAY }, { "service", DS_CUBE_SERVICE }, { "country", DS_CUBE_COUNTRY },
    { "asn", DS_CUBE_ASN }, { "sport", DS_CUBE_SPORT },
};

static void cube_key(FILE *out, ds_cube_dim d, uint32_t k)
{
    char b[DS_SERVICE_STRLEN > 11 ? DS_SERVICE_STRLEN : 11];
    switch (d) {
    case DS_CUBE_DAY: fprintf(out, "\"%s\"", ds_day_format((int32_t)k, b)); break;
    case DS_CUBE_SERVICE: fprintf(out, "\"%s\"", ds_service_format((ds_service)k, b, sizeof b)); break;
    case DS_CUBE_COUNTRY: {
        char cc[3];
        ds_cc_unpack((uint16_t)k, cc);
        ds_json_fputs(out, cc);
        break;
    }
    case DS_CUBE_SPORT:
        if (k == DS_SPORT_VARIOUS)
            fprintf(out, "\"various\"");
        else
            fprintf(out, "%u", k);
        break;
    default: fprintf(out, "%u", k); break;
    }
}

static const char *cube_name(ds_cube_dim d)
{
    for (size_t i = 0; i < sizeof CUBE_DIMS / sizeof CUBE_DIMS[0]; i++)
        if (CUBE_DIMS[i].dim == d)
            return CUBE_DIMS[i].name;
    return "?";
}

/* by=A[,B]: one or two different dimensions. */
static unsigned parse_by(req *r, ds_cube_dim *a, ds_cube_dim *b)
{
    const char *v = sv_arg(r, "by");
    ds_cube_dim d[2] = { DS_CUBE_NONE, DS_CUBE_NONE };
    size_t n = 0;
    if (!v)
        return sv_bad(r, "by", "missing: one or two of day, service, country, asn, sport (by=day,service)");
    for (const char *p = v;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p), i;
        for (i = 0; i < sizeof CUBE_DIMS / sizeof CUBE_DIMS[0]; i++)
            if (strlen(CUBE_DIMS[i].name) == len && !strncmp(CUBE_DIMS[i].name, p, len))
                break;
        if (i == sizeof CUBE_DIMS / sizeof CUBE_DIMS[0])
            return sv_bad(r, "by", "'%s': %s", v, "use one or two of day, service, country, asn, sport");
        if (n == 2)
            return sv_bad(r, "by", "'%s': %s", v, "at most two dimensions");
        if (n == 1 && d[0] == CUBE_DIMS[i].dim)
            return sv_bad(r, "by", "'%s': %s", v, "the same dimension twice");
        d[n++] = CUBE_DIMS[i].dim;
        if (!comma)
            break;
        p = comma + 1;
    }
    *a = d[0];
    *b = d[1];
    return 0;
}

/* Cells by packets, most first, then by (a, b): the order `limit` keeps. */
static int cmp_cell(const void *x, const void *y)
{
    const ds_cube_cell *p = x, *q = y;
    if (p->packets != q->packets)
        return p->packets > q->packets ? -1 : 1;
    if (p->a != q->a)
        return p->a < q->a ? -1 : 1;
    return p->b < q->b ? -1 : p->b > q->b;
}

unsigned sv_ep_cube(req *r, FILE *out)
{
    static const char *const known[] = { "by", "sources", "limit", FILTER_PARAMS, NULL };
    filt f = { .cls = -1 };
    ds_cube_query cq = { 0 };
    ds_cube cube = { 0 };
    ds_err err = { 0 };
    uint64_t limit = 0;
    int sources = 0;
    unsigned e;
    char d0[11], d1[11];
    if ((e = sv_check_known(r, known)) || (e = parse_by(r, &cq.a, &cq.b)) || (e = sv_parse_bool(r, "sources", &sources)) ||
        (e = sv_parse_u64(r, "limit", MAX_ROWS, &limit)) || (e = sv_parse_filter(r, &f)))
        return e;
    cq.from = f.from;
    cq.to = f.to;
    sv_cube_filter(&f, &cq.filter);
    cq.sources = sources;
    cq.total_sources = sources;
    if (ds_cube_run(r->st, &cq, &cube, &err) != DS_OK) {
        ds_cube_free(&cube);
        return sv_failed(r, &err);
    }
    size_t n = cube.n;
    if (limit) {
        if (cube.n)   /* cells NULL when none: no qsort(NULL, 0) (UBSan, test_serve_api) */
            qsort(cube.cells, cube.n, sizeof cube.cells[0], cmp_cell);
        n = limit < n ? (size_t)limit : n;
    }
    if (n > CUBE_MAX_CELLS) {
        ds_cube_free(&cube);
        return sv_bad(r, "by", "%zu cells, over the %u one answer holds: narrow the filter or the period, or give limit",
                      cube.n, CUBE_MAX_CELLS);
    }
    fprintf(out, "{\"by\": [\"%s\"", cube_name(cq.a));
    if (cq.b != DS_CUBE_NONE)
        fprintf(out, ", \"%s\"", cube_name(cq.b));
    fprintf(out, "], \"from\": \"%s\", \"to\": \"%s\", \"total_packets\": %llu, \"total_sources\": ",
            ds_day_format(f.from, d0), ds_day_format(f.to, d1), (unsigned long long)cube.total_packets);
    if (sources)
        fprintf(out, "%llu", (unsigned long long)cube.total_sources);
    else
        fprintf(out, "null");
    fprintf(out, ", \"cells_total\": %zu, \"cells\": [", cube.n);
    for (size_t i = 0; i < n; i++) {
        const ds_cube_cell *c = &cube.cells[i];
        fprintf(out, "%s\n  {\"%s\": ", i ? "," : "", cube_name(cq.a));
        cube_key(out, cq.a, c->a);
        if (cq.b != DS_CUBE_NONE) {
            fprintf(out, ", \"%s\": ", cube_name(cq.b));
            cube_key(out, cq.b, c->b);
        }
        fprintf(out, ", \"packets\": %llu", (unsigned long long)c->packets);
        if (sources)
            fprintf(out, ", \"sources\": %llu", (unsigned long long)c->sources);
        fprintf(out, "}");
    }
    fprintf(out, "%s]}\n", n ? "\n" : "");
    ds_cube_free(&cube);
    return 200;
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

/* The period's events, found on a thread of their own while the request's thread counts the
 * source's row, services and days: the detectors' threads leave a core idle for part of their
 * run (the costliest detector alone at the end), and over a quarter the three counts are a third
 * of the source's page.  The thread reads on a handle of its own (reopened from the request's:
 * the same kept view, serve_views.c), and writes only its job. */
typedef struct ev_job {
    req r;                      /* the request, on the job's handle, with a message of its own */
    ds_event_query q;
    ds_events ev;
    ds_u64set research;
    unsigned code;
    char msg[256];
    pthread_t th;
    int started;                /* th runs: join before reading ev or code */
} ev_job;

static void *ev_main(void *arg)
{
    ev_job *j = arg;
    j->code = sv_events_run(&j->r, &j->q, &j->ev, &j->research);
    return NULL;
}

/* Start finding q's events on a thread; NULL when no thread or handle could be had (the caller
 * then finds them itself, after the counts). */
static ev_job *ev_start(const req *r, const ds_event_query *q)
{
    ev_job *j = calloc(1, sizeof *j);
    ds_store *h = NULL;
    ds_err err = { 0 };
    if (!j || ds_store_reopen(r->st, &h, &err) != DS_OK) {
        free(j);
        return NULL;
    }
    j->r = *r;
    j->r.st = h;
    j->r.view = r->view ? h : NULL;   /* the kept view, as sv_events_run takes it */
    j->r.msg = j->msg;
    j->r.msglen = sizeof j->msg;
    j->q = *q;
    if (pthread_create(&j->th, NULL, ev_main, j) != 0) {
        ds_store_close(h);
        free(j);
        return NULL;
    }
    j->started = 1;
    return j;
}

/* Wait for the job (if it runs) and free it with what it holds. */
static void ev_free(ev_job *j)
{
    if (!j)
        return;
    if (j->started)
        pthread_join(j->th, NULL);
    ds_store_close(j->r.st);
    ds_events_free(&j->ev);
    ds_u64set_free(&j->research);
    free(j);
}

/* One source over the period: its row as `top sources` ranks it, the services it sent to, its
 * daily packets, the events that name it and its first payloads. */
unsigned sv_ep_source(req *r, const char *addr_text, FILE *out)
{
    static const char *const known[] = { "from", "to", "sensor", "events", "payloads", NULL };
    filt f = { .cls = -1 };
    ds_ip ip;
    ds_u64set only = { 0 }, research = { 0 };
    ds_events ev = { 0 };
    ev_job *job = NULL;
    unsigned e;
    char addr[64], d0[11], d1[11];
    if ((e = sv_check_known(r, known)))
        return e;
    const char *arg_sensor = sv_arg(r, "sensor");
    if (strlen(addr_text) >= sizeof addr || ds_ip_parse(addr_text, &ip) != 0)
        return sv_bad(r, "source", "'%s': %s", addr_text, "not an IPv4 or IPv6 address");
    snprintf(addr, sizeof addr, "%s", addr_text);
    int with_events = 1;
    uint64_t npayloads = SOURCE_PAYLOADS;
    if ((e = sv_parse_bool(r, "events", &with_events)) || (e = sv_parse_u64(r, "payloads", MAX_ROWS, &npayloads)))
        return e;
    if ((e = sv_parse_scope(r, &f)))
        return e;
    uint64_t key = ds_src_key(&ip);
    ds_event_query eq = { .from = f.from, .to = f.to, .sensor_id = f.sensor_id };
    if (with_events)
        job = ev_start(r, &eq);
    if (ds_u64set_init(&only, 4) != 0 || ds_u64set_add(&only, key) < 0) {
        snprintf(r->msg, r->msglen, "out of memory");
        e = 500;
        goto out;
    }
    fprintf(out, "{\"address\": ");
    ds_json_fputs(out, addr);
    fprintf(out, ", \"from\": \"%s\", \"to\": \"%s\", \"source\": ", ds_day_format(f.from, d0), ds_day_format(f.to, d1));
    ds_top_query q = { .dim = DS_TOP_SOURCES, .cls = -1, .limit = 1, .only = &only };
    sv_top_query(&f, &q);
    if ((e = sv_run_top(r, &q, out)) != 200)
        goto out;
    fprintf(out, ", \"services\": ");
    ds_top_query qs = { .dim = DS_TOP_PORTS, .cls = -1, .limit = 0, .only = &only };
    sv_top_query(&f, &qs);
    if ((e = sv_run_top(r, &qs, out)) != 200)
        goto out;
    ds_filter cf;
    sv_cube_filter(&f, &cf);
    cf.one_source = 1;
    cf.source = key;
    fprintf(out, ", \"days\": ");
    if ((e = sv_series_day(r, &f, &cf, out)) != 200)
        goto out;
    fprintf(out, ", \"events\": ");
    if (with_events) {
        if (job) {   /* found on the job's thread meanwhile */
            pthread_join(job->th, NULL);
            job->started = 0;
            if ((e = job->code) != 200) {
                snprintf(r->msg, r->msglen, "%s", job->msg);
                goto out;
            }
            ev = job->ev;
            job->ev = (ds_events){ 0 };
        } else if ((e = sv_events_run(r, &eq, &ev, &research)) != 200) {
            goto out;
        }
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
    fprintf(out, ", \"payloads\": ");
    if (ds_store_keeps(r->st, DS_KEEPS_PAYLOADS) && npayloads) {
        char canon[DS_PAYLOAD_ADDRLEN];
        ds_payload_query pq = { .limit = (size_t)npayloads };
        if (ds_payload_addr_canon(addr, canon) != 0) {   /* ds_ip_parse took it: cannot happen */
            e = sv_bad(r, "source", "'%s': %s", addr, "not an IPv4 or IPv6 address");
            goto out;
        }
        pq.source = canon;
        if (f.sensor_id)
            pq.sensor = arg_sensor;
        payload_days(&pq, f.from, f.to);
        if ((e = payloads_write(r, &pq, 0, out)) != 200)
            goto out;
    } else {
        fprintf(out, "null\n");
    }
    fprintf(out, "}\n");
    e = 200;
out:
    ev_free(job);
    ds_events_free(&ev);
    ds_u64set_free(&only);
    ds_u64set_free(&research);
    return e;
}

