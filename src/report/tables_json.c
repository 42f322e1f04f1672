/* tables_json.c: the JSON of `darkscope top|events|stats --format json`, for the CLI and the
 * API of `darkscope serve` alike (tables_json.h). */
#include <math.h>
#include <string.h>
#include <time.h>

#include "report/tables_json.h"
#include "util/textfmt.h"
#include "util/timeutil.h"

void ds_json_top(FILE *f, const ds_top_query *q, const ds_top_result *r, const ds_geo *geo)
{
    fprintf(f, "[");
    for (size_t i = 0; i < r->n; i++) {
        const ds_top_row *row = &r->rows[i];
        char key[64];
        ds_top_key_format(q->dim, row, key, sizeof key);
        fprintf(f, "%s\n  {\"rank\": %zu, \"key\": ", i ? "," : "", i + 1);
        ds_json_fputs(f, key);
        fprintf(f, ", \"packets\": %llu, \"share\": %.6f, \"per_ip_per_day\": %.6f, \"sources\": %llu",
               (unsigned long long)row->packets, row->share, row->per_ip_per_day, (unsigned long long)row->sources);
        if (q->dim == DS_TOP_ASNS) {
            fprintf(f, ", \"org\": ");
            ds_json_fputs(f, ds_geo_asn_org(geo, (uint32_t)row->key));
        }
        if (q->dim == DS_TOP_COUNTRIES && row->key == ds_cc_pack("ZZ"))
            fprintf(f, ", \"label\": \"%s\"", DS_TOP_ZZ_LABEL);
        if (q->dim == DS_TOP_SOURCES) {
            char fs[32], ls[32];
            fprintf(f, ", \"country\": \"%s\", \"asn\": %u, \"org\": ", row->cc, row->asn);
            ds_json_fputs(f, ds_geo_asn_org(geo, row->asn));
            fprintf(f, ", \"days\": %u, \"first_seen\": \"%s\", \"last_seen\": \"%s\"", row->days,
                   ds_fmt_time_local(row->first_ns, fs, sizeof fs), ds_fmt_time_local(row->last_ns, ls, sizeof ls));
        }
        fprintf(f, "}");
    }
    fprintf(f, "%s]\n", r->n ? "\n" : "");
}

const char *ds_event_sentence_z(const ds_event *v, const ds_event_words *words, ds_lang lang, ds_out *o)
{
    ds_event_words w = *words;
    w.lang = lang;
    o->len = 0;
    ds_event_sentence(v, &w, o);
    ds_out_putn(o, "", 1);
    return o->failed || !o->p ? "" : o->p;
}

void ds_json_events(FILE *f, const ds_events *e, const ds_event_words *w)
{
    ds_out o;
    ds_out_init(&o, 0);
    fprintf(f, "[");
    for (size_t i = 0; i < e->n; i++) {
        const ds_event *v = &e->ev[i];
        char a[32], b[32], svc[32];
        fprintf(f, "%s\n  {\"type\": \"%s\"", i ? "," : "", v->type);
        if (v->tool[0])
            fprintf(f, ", \"tool\": \"%s\"", v->tool);
        fprintf(f, ", \"start\": \"%s\", \"end\": \"%s\"", ds_fmt_time_utc(v->start_ns, a, sizeof a), ds_fmt_time_utc(v->end_ns, b, sizeof b));
        if (v->has_service)
            fprintf(f, ", \"service\": \"%s\"", ds_service_format(v->service, svc, sizeof svc));
        else
            fprintf(f, ", \"service\": null");
        if (v->country[0])
            fprintf(f, ", \"country\": \"%s\"", v->country);
        else
            fprintf(f, ", \"country\": null");
        fprintf(f, ", \"sources\": %llu, \"packets\": %llu, \"top_sources\": [", (unsigned long long)v->sources,
               (unsigned long long)v->packets);
        for (size_t k = 0; k < v->ntop; k++)
            fprintf(f, "%s{\"address\": \"%s\", \"country\": \"%s\", \"asn\": %u, \"packets\": %llu}", k ? ", " : "",
                   v->top[k].addr, v->top[k].cc, (unsigned)v->top[k].asn, (unsigned long long)v->top[k].packets);
        fprintf(f, "]");
        if (v->nall) {   /* every source of a grouped event */
            fprintf(f, ", \"all_sources\": [");
            for (size_t k = 0; k < v->nall; k++)
                fprintf(f, "%s{\"address\": \"%s\", \"country\": \"%s\", \"asn\": %u, \"packets\": %llu}", k ? ", " : "",
                       v->all[k].addr, v->all[k].cc, (unsigned)v->all[k].asn, (unsigned long long)v->all[k].packets);
            fprintf(f, "]");
        }
        fprintf(f, ", \"evidence\": {");
        for (size_t k = 0; k < v->nevidence; k++) {
            const ds_event_evidence *x = &v->evidence[k];
            /* a name can repeat (hosts_in_country for several countries): index the repeats */
            size_t rep = 0;
            for (size_t j = 0; j < k; j++)
                rep += !strcmp(v->evidence[j].name, x->name);
            if (rep)
                fprintf(f, "%s\"%s_%zu\": ", k ? ", " : "", x->name, rep + 1);
            else
                fprintf(f, "%s\"%s\": ", k ? ", " : "", x->name);
            /* JSON has no infinity or NaN (RFC 8259, section 6): such a number is null */
            char num[32];
            if (isfinite(x->value))
                snprintf(num, sizeof num, "%.6g", x->value);
            else
                snprintf(num, sizeof num, "null");
            if (x->text[0]) {
                fprintf(f, "{\"value\": %s, \"of\": ", num);
                ds_json_fputs(f, x->text);
                fprintf(f, "}");
            } else {
                fprintf(f, "%s", num);
            }
        }
        fprintf(f, "}");
        if (v->series.n) {   /* the daily series behind it: what a report draws */
            char d0[11];
            fprintf(f, ", \"series\": {\"what\": \"%s\", \"from\": \"%s\", \"values\": [", v->series.what,
                   ds_day_format(v->series.day0, d0));
            for (size_t k = 0; k < v->series.n; k++)
                if (isfinite(v->series.v[k]))
                    fprintf(f, "%s%.17g", k ? ", " : "", v->series.v[k]);
                else
                    fprintf(f, "%snull", k ? ", " : "");
            fprintf(f, "]}");
        }
        fprintf(f, ", \"summary\": {\"en\": ");
        ds_json_fputs(f, ds_event_sentence_z(v, w, DS_LANG_EN, &o));
        fprintf(f, ", \"ja\": ");
        ds_json_fputs(f, ds_event_sentence_z(v, w, DS_LANG_JA, &o));
        fprintf(f, "}}");
    }
    fprintf(f, "%s]\n", e->n ? "\n" : "");
    ds_out_free(&o);
}

static const char *outage_kind(int kind)
{
    return kind == DS_HOUR_DECLARED ? "declared" : kind == DS_HOUR_OUTAGE ? "inferred" : "no_data";
}

int64_t ds_sensor_silent_for(const ds_sensor_health *h, size_t nh, const char *name, uint32_t threshold, int64_t now)
{
    for (size_t i = 0; i < nh; i++)
        if (h[i].last_upload > 0 && !strcmp(h[i].name, name))
            return now - h[i].last_upload > (int64_t)threshold ? now - h[i].last_upload : 0;
    return -1;
}

/* JSON: the sensor's coverage fields ("covered_days", "days", "outages"), after its counts. */
static void coverage_json(FILE *f, const ds_coverage *cov, const ds_outage *o, size_t no, int64_t sensor_id)
{
    if (!cov || !sensor_id) {
        fprintf(f, ", \"covered_days\": null, \"days\": null, \"outages\": []");
        return;
    }
    fprintf(f, ", \"covered_days\": %.4f, \"days\": %d, \"outages\": [",
           ds_coverage_days(cov, sensor_id, cov->from, cov->to), (int)(cov->to - cov->from + 1));
    int k = 0;
    for (size_t i = 0; i < no; i++) {
        char a[32], t[32];
        if (o[i].sensor_id != sensor_id)
            continue;
        fprintf(f, "%s{\"from\": \"%s\", \"to\": \"%s\", \"hours\": %lld, \"kind\": \"%s\", \"open\": %s}", k++ ? ", " : "",
               ds_fmt_time_local((uint64_t)o[i].from * 1000000000ULL, a, sizeof a),
               ds_fmt_time_local((uint64_t)o[i].to * 1000000000ULL, t, sizeof t), (long long)((o[i].to - o[i].from) / 3600),
               outage_kind(o[i].kind), o[i].open_end ? "true" : "false");
    }
    fprintf(f, "]");
}

void ds_json_stats(FILE *f, const ds_stats_view *v)
{
    fprintf(f, "[");
    for (size_t i = 0; i < v->n; i++) {
        const ds_sensor_stats *r = &v->rows[i];
        char fs[32], ls[32];
        ds_fmt_time_local(r->c.first_ns, fs, sizeof fs);
        ds_fmt_time_local(r->c.last_ns, ls, sizeof ls);
        fprintf(f, "%s\n  {\"sensor\": ", i ? "," : "");
        ds_json_fputs(f, r->sensor_id ? r->name : "-");
        fprintf(f, ", \"packets\": %llu, \"outside\": %llu, \"non_ip\": %llu, \"truncated\": %llu, \"fragments\": %llu,"
               " \"malformed\": %llu, \"unknown_link\": %llu, \"bad_timestamp\": %llu, \"files\": %llu,"
               " \"first\": \"%s\", \"last\": \"%s\", \"timezone\": \"%s\"",
               (unsigned long long)r->c.packets, (unsigned long long)r->c.outside,
               (unsigned long long)r->c.outcome[DS_PKT_NON_IP], (unsigned long long)r->c.outcome[DS_PKT_TRUNCATED],
               (unsigned long long)r->c.outcome[DS_PKT_FRAGMENT], (unsigned long long)r->c.outcome[DS_PKT_MALFORMED],
               (unsigned long long)r->c.outcome[DS_PKT_UNKNOWN_LINK],
               (unsigned long long)r->c.outcome[DS_PKT_BAD_TIMESTAMP], (unsigned long long)r->files, fs, ls, v->tz);
        fprintf(f, ", \"encap\": {");
        for (int e = 0; e < DS_ENC__COUNT; e++)
            fprintf(f, "%s\"%s\": %llu", e ? ", " : "", ds_encap_name(e), (unsigned long long)r->c.encap[e]);
        fprintf(f, "}");
        coverage_json(f, v->cov, v->outages, v->noutages, r->sensor_id);
        int64_t silent = r->sensor_id ? ds_sensor_silent_for(v->health, v->nhealth, r->name, v->silence_s, v->now) : -1;
        if (silent < 0)
            fprintf(f, ", \"silent_s\": null}");
        else
            fprintf(f, ", \"silent_s\": %lld}", (long long)silent);
    }
    fprintf(f, "%s]\n", v->n ? "\n" : "");
}
