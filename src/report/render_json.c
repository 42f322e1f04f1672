/* render_json.c: the report as JSON data (schema: docs/report-json.md).
 *
 * Same content as the HTML, as numbers: a consumer (a dashboard, a diff between two quarters, a
 * test against known truth) should never have to parse a table.  Absent values are null, never
 * 0 or "-": previous_rank is null for a key absent from the previous period, change_pct is null
 * where the @police tables print a dash.  per_ip_per_day is rounded to 2 decimals as the tables
 * print it; per_ip_per_day_exact keeps every digit.
 */
#include "report/event_text.h"
#include "report/render.h"

#include <math.h>
#include <string.h>
#include <time.h>

#include "core/records.h"

static void num_or_null(ds_out *o, double v, int decimals)
{
    if (isfinite(v))
        ds_out_printf(o, "%.*f", decimals, v);
    else
        ds_out_puts(o, "null");
}

static void rank_or_null(ds_out *o, int rank)
{
    if (rank > 0)
        ds_out_printf(o, "%d", rank);
    else
        ds_out_puts(o, "null");
}

static void str_or_null(ds_out *o, const char *s)
{
    if (s)
        ds_out_json_str(o, s);
    else
        ds_out_puts(o, "null");
}

static const char *kind_name(ds_period_kind k)
{
    switch (k) {
    case DS_PERIOD_YEAR: return "year";
    case DS_PERIOD_QUARTER: return "quarter";
    case DS_PERIOD_MONTH: return "month";
    case DS_PERIOD_RANGE: break;
    }
    return "range";
}

static void period_obj(ds_out *o, const ds_period *p, int ja, const char *tz)
{
    char from[DS_FMT_DAY_LEN], to[DS_FMT_DAY_LEN], label[DS_PERIOD_LABEL_LEN];
    ds_out_printf(o, "{\"label\": ");
    ds_out_json_str(o, ds_period_label(p, ja, label, sizeof label));
    ds_out_printf(o, ", \"kind\": \"%s\", \"from\": \"%s\", \"to\": \"%s\", \"days\": %d", kind_name(p->kind),
                  ds_fmt_day_iso(p->from, from, sizeof from), ds_fmt_day_iso(p->to, to, sizeof to), ds_period_days(p));
    if (tz) {
        ds_out_puts(o, ", \"timezone\": ");
        ds_out_json_str(o, tz);
    }
    ds_out_puts(o, "}");
}

static void series(ds_out *o, const ds_report *r, const double *v)
{
    char day[DS_FMT_DAY_LEN];
    ds_out_puts(o, "[");
    for (int32_t i = 0; i < r->days; i++)
        ds_out_printf(o, "%s{\"date\": \"%s\", \"packets\": %.0f}", i ? ", " : "",
                      ds_fmt_day_iso(ds_report_day(r, (size_t)i), day, sizeof day), v ? v[i] : 0.0);
    ds_out_puts(o, "]");
}

static void row_obj(ds_out *o, const ds_report *r, const ds_report_row *w, int service)
{
    ds_out_printf(o, "{\"rank\": %d, \"key\": ", w->rank);
    ds_out_json_str(o, w->text);
    ds_out_puts(o, ", \"label\": ");
    ds_out_json_str(o, w->label);
    ds_out_puts(o, ", \"name\": ");
    str_or_null(o, w->name);
    if (service) {
        ds_out_puts(o, ", \"iot\": ");
        str_or_null(o, w->iot);
    }
    ds_out_printf(o, ", \"packets\": %llu, \"per_ip_per_day\": %.2f, \"per_ip_per_day_exact\": %.9g, \"share\": %.6f"
                     ", \"sources\": %llu",
                  (unsigned long long)w->packets, w->per_ip_per_day, w->per_ip_per_day, w->share,
                  (unsigned long long)w->sources);
    ds_out_puts(o, ", \"previous_rank\": ");
    rank_or_null(o, w->previous_rank);
    if (r->o.compare)
        ds_out_printf(o, ", \"previous_packets\": %llu, \"previous_per_ip_per_day\": %.2f",
                      (unsigned long long)w->previous_packets, w->previous_per_ip_per_day);
    else
        ds_out_puts(o, ", \"previous_packets\": null, \"previous_per_ip_per_day\": null");
    ds_out_puts(o, ", \"change\": ");
    num_or_null(o, w->change, 0);
    ds_out_puts(o, ", \"change_pct\": ");
    num_or_null(o, w->change_pct, 2);
    ds_out_puts(o, ", \"increase_rank\": ");
    rank_or_null(o, w->increase_rank);
    ds_out_puts(o, ", \"decrease_rank\": ");
    rank_or_null(o, w->decrease_rank);
    ds_out_puts(o, ", \"daily\": ");
    series(o, r, w->daily);
    ds_out_puts(o, "}");
}

static void table(ds_out *o, const ds_report *r, const ds_report_table *t, int service)
{
    ds_out_puts(o, "[");
    for (size_t i = 0; i < t->n; i++) {
        ds_out_puts(o, i ? ",\n    " : "\n    ");
        row_obj(o, r, &t->rows[i], service);
    }
    ds_out_puts(o, t->n ? "\n  ]" : "]");
}

static void key_text(ds_out *o, int service, uint32_t key)
{
    char buf[32];
    if (service) {
        ds_service_format((ds_service)key, buf, sizeof buf);
    } else {
        ds_cc_unpack((uint16_t)key, buf);
    }
    ds_out_json_str(o, buf);
}

static void mix_obj(ds_out *o, const ds_report_mix *m, int rows_are_services)
{
    ds_out_puts(o, "{\"rows\": [");
    for (size_t k = 0; k < m->nrows; k++) {
        ds_out_puts(o, k ? ", " : "");
        key_text(o, rows_are_services, m->row_keys[k]);
    }
    ds_out_puts(o, "], \"parts\": [");
    for (size_t p = 0; p < m->nparts; p++) {
        ds_out_puts(o, p ? ", " : "");
        key_text(o, !rows_are_services, m->part_keys[p]);
    }
    ds_out_puts(o, "], \"packets\": [");
    for (size_t k = 0; k < m->nrows; k++) {
        ds_out_puts(o, k ? ", [" : "[");
        for (size_t p = 0; p < m->nparts; p++)
            ds_out_printf(o, "%s%.0f", p ? ", " : "", m->values[k * m->nparts + p]);
        ds_out_puts(o, "]");
    }
    ds_out_puts(o, "], \"row_totals\": [");
    for (size_t k = 0; k < m->nrows; k++)
        ds_out_printf(o, "%s%.0f", k ? ", " : "", m->row_totals[k]);
    ds_out_puts(o, "]}");
}

static void focus_obj(ds_out *o, const ds_report *r, const ds_report_focus *f)
{
    int service = f->dim == DS_REPORT_SERVICE;
    char a[DS_FMT_DAY_LEN], b[DS_FMT_DAY_LEN];
    ds_out_printf(o, "{\"type\": \"%s\", \"key\": ", service ? "service" : "region");
    ds_out_json_str(o, f->text);
    ds_out_puts(o, ", \"name\": ");
    str_or_null(o, f->name);
    ds_out_printf(o, ", \"packets\": %llu, \"sources\": %llu, \"per_ip_per_day\": %.2f, \"share\": %.6f, \"rank\": ",
                  (unsigned long long)f->packets, (unsigned long long)f->sources, f->per_ip_per_day, f->share);
    rank_or_null(o, f->rank);
    ds_out_puts(o, ", \"daily\": ");
    series(o, r, f->daily);
    ds_out_puts(o, ", \"daily_sources\": [");
    for (int32_t i = 0; i < r->days; i++)
        ds_out_printf(o, "%s{\"date\": \"%s\", \"sources\": %.0f}", i ? ", " : "",
                      ds_fmt_day_iso(ds_report_day(r, (size_t)i), a, sizeof a), f->daily_sources[i]);
    ds_out_printf(o, "], \"split_by\": \"%s\", \"split\": [", service ? "region" : "service");
    for (size_t p = 0; p < f->split.nparts; p++) {
        ds_out_puts(o, p ? ", {\"key\": " : "{\"key\": ");
        key_text(o, !service, f->split.part_keys[p]);
        ds_out_printf(o, ", \"packets\": %.0f, \"daily\": ", f->split.values[p]);
        series(o, r, f->split_daily + p * (size_t)r->days);
        ds_out_puts(o, "}");
    }
    ds_out_puts(o, "], \"source_ports\": [");
    for (size_t i = 0; i < f->nsports; i++) {
        ds_out_puts(o, i ? ", {\"port\": " : "{\"port\": ");
        if (f->sports[i].port >= 0)
            ds_out_printf(o, "%d", f->sports[i].port);
        else
            ds_out_puts(o, "null");
        ds_out_printf(o, ", \"packets\": %llu, \"share\": %.6f}", (unsigned long long)f->sports[i].packets,
                      f->sports[i].share);
    }
    ds_out_puts(o, "], \"top_sources\": [");
    for (size_t i = 0; i < f->ntop_sources; i++) {
        const ds_report_source *s = &f->top_sources[i];
        ds_out_puts(o, i ? ", {\"address\": " : "{\"address\": ");
        ds_out_json_str(o, s->addr);
        ds_out_puts(o, ", \"country\": ");
        ds_out_json_str(o, s->cc);
        ds_out_printf(o, ", \"asn\": %u, \"org\": ", s->asn);
        str_or_null(o, s->org);
        ds_out_printf(o, ", \"packets\": %llu, \"days\": %u, \"first_seen\": \"%s\", \"last_seen\": \"%s\"}",
                      (unsigned long long)s->packets, s->days,
                      ds_fmt_day_iso((int32_t)(s->first_ns / 86400000000000ULL), a, sizeof a),
                      ds_fmt_day_iso((int32_t)(s->last_ns / 86400000000000ULL), b, sizeof b));
    }
    ds_out_puts(o, "]");
    if (!service) {
        ds_out_puts(o, ", \"organisations\": [");
        for (size_t i = 0; i < f->norgs; i++) {
            ds_out_printf(o, "%s{\"asn\": %u, \"org\": ", i ? ", " : "", f->orgs[i].asn);
            str_or_null(o, f->orgs[i].org);
            ds_out_printf(o, ", \"packets\": %llu, \"sources\": %llu}", (unsigned long long)f->orgs[i].packets,
                          (unsigned long long)f->orgs[i].sources);
        }
        ds_out_puts(o, "]");
    }
    if (service) {   /* first payloads (sensor --respond syn); [] when none were recorded */
        ds_out_puts(o, ", \"payloads\": [");
        for (size_t i = 0; i < f->npayloads; i++) {
            const ds_report_payload *p = &f->payloads[i];
            ds_out_printf(o, "%s{\"count\": %llu, \"sources\": %llu, \"first_ns\": %llu, \"last_ns\": %llu, \"len\": %u,"
                          " \"kept\": %zu, \"excerpt\": ", i ? ", " : "", (unsigned long long)p->count,
                          (unsigned long long)p->sources, (unsigned long long)p->first_ns, (unsigned long long)p->last_ns,
                          p->len, p->kept);
            ds_out_json_str(o, p->excerpt);
            ds_out_puts(o, ", \"hex\": ");
            ds_out_json_str(o, p->hex);
            ds_out_puts(o, "}");
        }
        ds_out_puts(o, "]");
    }
    ds_out_puts(o, "}");
}

static void totals_obj(ds_out *o, const ds_report_totals *t)
{
    ds_out_printf(o, "{\"packets\": %llu, \"per_ip_per_day\": %.2f, \"per_ip_per_day_exact\": %.9g, \"per_ip\": %.2f"
                     ", \"sources\": %llu, \"sensors\": %llu, \"addresses\": %llu, \"address_days\": %.4f}",
                  (unsigned long long)t->packets, t->per_ip_per_day, t->per_ip_per_day, t->per_ip,
                  (unsigned long long)t->sources, (unsigned long long)t->sensors, (unsigned long long)t->addresses,
                  t->addr_days);
}

static void utc_or_null(ds_out *o, int64_t t)
{
    char b[32];
    time_t tt = (time_t)t;
    struct tm tm;
    if (!t || !gmtime_r(&tt, &tm)) {
        ds_out_puts(o, "null");
        return;
    }
    strftime(b, sizeof b, "%Y-%m-%dT%H:%M:%SZ", &tm);
    ds_out_printf(o, "\"%s\"", b);
}

/* "coverage": each sensor's covered days, every outage overlapping the period, the daily shares. */
static void coverage_obj(ds_out *o, const ds_report *r)
{
    const ds_report_coverage *c = &r->coverage;
    char day[DS_FMT_DAY_LEN];
    int32_t pdays = ds_period_days(&r->prev);
    ds_out_printf(o, "{\"known\": %s, \"address_days\": %.4f, \"share\": %.6f", c->known ? "true" : "false",
                  c->addr_days, c->share);
    if (r->o.compare)
        ds_out_printf(o, ", \"previous_address_days\": %.4f, \"previous_share\": %.6f", c->prev_addr_days, c->prev_share);
    else
        ds_out_puts(o, ", \"previous_address_days\": null, \"previous_share\": null");
    ds_out_puts(o, ", \"data_from\": ");
    utc_or_null(o, c->data_first);
    ds_out_puts(o, ", \"data_to\": ");
    utc_or_null(o, c->data_last);
    ds_out_puts(o, ",\n    \"sensors\": [");
    for (size_t i = 0; i < c->nsensors; i++) {
        const ds_report_cov_sensor *x = &c->sensors[i];
        ds_out_printf(o, "%s{\"name\": ", i ? ", " : "");
        ds_out_json_str(o, x->name);
        ds_out_printf(o, ", \"addresses\": %llu, \"covered_days\": %.4f, \"days\": %d, \"share\": %.6f",
                      (unsigned long long)x->addresses, x->covered_days, (int)r->days,
                      r->days > 0 ? x->covered_days / r->days : 0.0);
        if (r->o.compare)
            ds_out_printf(o, ", \"previous_covered_days\": %.4f, \"previous_days\": %d", x->prev_covered_days, (int)pdays);
        else
            ds_out_puts(o, ", \"previous_covered_days\": null, \"previous_days\": null");
        ds_out_puts(o, "}");
    }
    ds_out_puts(o, "],\n    \"outages\": [");
    for (size_t i = 0; i < c->noutages; i++) {
        const ds_outage *x = &c->outages[i];
        ds_out_printf(o, "%s{\"sensor\": ", i ? ", " : "");
        ds_out_json_str(o, x->sensor);
        ds_out_puts(o, ", \"from\": ");
        utc_or_null(o, x->from);
        ds_out_puts(o, ", \"to\": ");
        utc_or_null(o, x->to);
        ds_out_printf(o, ", \"hours\": %lld, \"kind\": \"%s\", \"open\": %s}", (long long)((x->to - x->from) / 3600),
                      x->kind == DS_HOUR_DECLARED ? "declared" : x->kind == DS_HOUR_OUTAGE ? "inferred" : "no_data",
                      x->open_end ? "true" : "false");
    }
    ds_out_puts(o, "],\n    \"daily\": [");
    for (int32_t i = 0; i < r->days; i++)
        ds_out_printf(o, "%s{\"date\": \"%s\", \"share\": %.6f}", i ? ", " : "",
                      ds_fmt_day_iso(ds_report_day(r, (size_t)i), day, sizeof day),
                      c->day_frac ? c->day_frac[i] : 1.0);
    ds_out_puts(o, "]}");
}

ds_rc ds_report_render_json(const ds_report *r, ds_out *o, ds_err *err)
{
    int ja = r->o.lang == DS_LANG_JA;
    ds_out_puts(o, "{\n  \"schema\": \"darkscope-report/1\",\n  \"language\": ");
    ds_out_json_str(o, ja ? "ja" : "en");
    ds_out_puts(o, ",\n  \"period\": ");
    period_obj(o, &r->o.period, ja, r->o.timezone ? r->o.timezone : "UTC");
    ds_out_puts(o, ",\n  \"previous_period\": ");
    if (r->o.compare)
        period_obj(o, &r->prev, ja, NULL);
    else
        ds_out_puts(o, "null");
    ds_out_puts(o, ",\n  \"excluded\": ");
    str_or_null(o, r->o.exclude_label);
    ds_out_puts(o, ",\n  \"totals\": ");
    totals_obj(o, &r->cur);
    ds_out_puts(o, ",\n  \"previous_totals\": ");
    if (r->o.compare)
        totals_obj(o, &r->previous);
    else
        ds_out_puts(o, "null");
    ds_out_puts(o, ",\n  \"change\": ");
    num_or_null(o, r->change, 0);
    ds_out_puts(o, ", \"change_pct\": ");
    num_or_null(o, r->change_pct, 2);
    ds_out_puts(o, ", \"sources_change_pct\": ");
    num_or_null(o, r->sources_change_pct, 2);
    ds_out_puts(o, ", \"change_basis\": ");
    ds_out_puts(o, !r->o.compare ? "null" : r->coverage.rate_based ? "\"rates\"" : "\"packets\"");
    ds_out_puts(o, ",\n  \"coverage\": ");
    coverage_obj(o, r);
    ds_out_printf(o, ",\n  \"service_keys\": %llu, \"region_keys\": %llu", (unsigned long long)r->services.keys,
                  (unsigned long long)r->regions.keys);
    ds_out_puts(o, ",\n  \"services\": ");
    table(o, r, &r->services, 1);
    ds_out_puts(o, ",\n  \"regions\": ");
    table(o, r, &r->regions, 0);
    ds_out_puts(o, ",\n  \"services_of_regions\": ");
    mix_obj(o, &r->services_of_regions, 0);
    ds_out_puts(o, ",\n  \"regions_of_services\": ");
    mix_obj(o, &r->regions_of_services, 1);
    ds_out_printf(o, ",\n  \"iot\": {\"top\": %d, \"iot_services_in_top\": %zu, \"packets\": %llu, \"top_packets\": %llu"
                     ", \"share\": %.6f}",
                  DS_REPORT_IOT_TOP, r->iot_in_top30, (unsigned long long)r->iot_packets,
                  (unsigned long long)r->top30_packets, r->iot_share);
    ds_out_puts(o, ",\n  \"events\": [");
    for (size_t i = 0; i < r->events.n; i++) {
        const ds_event *v = &r->events.ev[i];
        ds_out text;
        char a[DS_FMT_DAY_LEN + 16], b[DS_FMT_DAY_LEN + 16], svc[32];
        time_t t0 = (time_t)(v->start_ns / 1000000000ULL), t1 = (time_t)(v->end_ns / 1000000000ULL);
        struct tm tm0, tm1;
        gmtime_r(&t0, &tm0);
        gmtime_r(&t1, &tm1);
        strftime(a, sizeof a, "%Y-%m-%dT%H:%M:%SZ", &tm0);
        strftime(b, sizeof b, "%Y-%m-%dT%H:%M:%SZ", &tm1);
        ds_out_printf(o, "%s{\"type\": \"%s\", \"tool\": ", i ? ",\n    " : "\n    ", v->type);
        str_or_null(o, v->tool[0] ? v->tool : NULL);
        ds_out_printf(o, ", \"start\": \"%s\", \"end\": \"%s\", \"service\": ", a, b);
        str_or_null(o, v->has_service ? ds_service_format(v->service, svc, sizeof svc) : NULL);
        ds_out_puts(o, ", \"country\": ");
        str_or_null(o, v->country[0] ? v->country : NULL);
        ds_out_printf(o, ", \"sources\": %llu, \"packets\": %llu, \"summary\": ", (unsigned long long)v->sources,
                      (unsigned long long)v->packets);
        ds_event_words words = { .lang = ja ? DS_LANG_JA : DS_LANG_EN, .names = r->names, .geo = r->geo };
        ds_out_init(&text, 0);
        ds_event_sentence(v, &words, &text);
        ds_out_putn(&text, "", 1);
        ds_out_json_str(o, text.failed || !text.p ? "" : text.p);
        ds_out_free(&text);
        ds_out_puts(o, ", \"facts\": {");
        for (size_t k = 0; k < v->nevidence; k++) {
            const ds_event_evidence *x = &v->evidence[k];
            size_t rep = 0;   /* a name can repeat (hosts_in_country): index the repeats, as `events` does */
            for (size_t j = 0; j < k; j++)
                rep += !strcmp(v->evidence[j].name, x->name);
            if (rep)
                ds_out_printf(o, "%s\"%s_%zu\": ", k ? ", " : "", x->name, rep + 1);
            else
                ds_out_printf(o, "%s\"%s\": ", k ? ", " : "", x->name);
            if (x->text[0]) {
                ds_out_printf(o, "{\"value\": %.6g, \"of\": ", isfinite(x->value) ? x->value : 0);
                ds_out_json_str(o, x->text);
                ds_out_puts(o, "}");
            } else {
                ds_out_printf(o, "%.6g", isfinite(x->value) ? x->value : 0);
            }
        }
        ds_out_puts(o, "}}");
    }
    ds_out_puts(o, r->events.n ? "\n  ]" : "]");
    ds_out_puts(o, ",\n  \"focus\": [");
    for (size_t i = 0; i < r->nfocus; i++) {
        ds_out_puts(o, i ? ",\n    " : "\n    ");
        focus_obj(o, r, &r->focus[i]);
    }
    ds_out_puts(o, r->nfocus ? "\n  ]\n}\n" : "]\n}\n");
    if (o->failed)
        return ds_fail(err, DS_ENOMEM, "the JSON report is larger than the output limit (or memory ran out)");
    return DS_OK;
}
