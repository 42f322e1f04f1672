/* event_en.c: events in English, one function per type, from their facts only.
 *
 * The style is that of a CSIRT's quarterly report: what happened, when (UTC), how much, from
 * whom, and the evidence that makes it believable, in one paragraph.  Every number comes from the
 * event (analysis/events.h); what a fact means is in docs/detection.md.
 */
#include "report/event_int.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/dos.h"
#include "core/scan.h"
#include "util/timeutil.h"

static const char *plural(double n)
{
    return llround(n) == 1 ? "" : "s";
}

/* "On 24 July 2023" / "From 5 July 2023 to 3 August 2023" */
static void when_days(const ds_event *v, ds_out *o)
{
    char a[DS_FMT_DAY_LEN], b[DS_FMT_DAY_LEN];
    int32_t d0 = ds_ev_day(v->start_ns), d1 = ds_ev_day(v->end_ns);
    if (d0 == d1)
        ds_out_printf(o, "On %s", ds_fmt_day(d0, 0, a, sizeof a));
    else
        ds_out_printf(o, "From %s to %s", ds_fmt_day(d0, 0, a, sizeof a), ds_fmt_day(d1, 0, b, sizeof b));
}

/* "between 2023-07-06 16:21 and 18:12 UTC (111 min)" */
static void when_span(const ds_event *v, ds_out *o)
{
    char a[48], b[48], d[32];
    int64_t t0 = (int64_t)(v->start_ns / 1000000000ULL), t1 = (int64_t)(v->end_ns / 1000000000ULL);
    if (t0 / 60 == t1 / 60) {
        ds_out_printf(o, "at %s UTC (%s)", ds_ev_time(t0, 0, 0, a, sizeof a), ds_ev_dur((double)(t1 - t0), 0, d, sizeof d));
        return;
    }
    ds_out_printf(o, "between %s and %s UTC (%s)", ds_ev_time(t0, 0, 0, a, sizeof a), ds_ev_time(t1, 0, t0, b, sizeof b),
                  ds_ev_dur((double)(t1 - t0), 0, d, sizeof d));
}

/* "packets to 1521/TCP" / "packets from South Korea" */
static void what(const ds_event *v, const ds_event_words *w, ds_out *o)
{
    char svc[DS_SERVICE_STRLEN];
    if (ds_event_fact(v, "of_country"))
        ds_out_printf(o, "packets from %s", ds_ev_country_en(w, v->country));
    else if (ds_event_fact(v, "of_country_and_service"))   /* a (service, country) pair's own cycle */
        ds_out_printf(o, "packets to %s from %s", ds_ev_service(v->service, svc, sizeof svc), ds_ev_country_en(w, v->country));
    else
        ds_out_printf(o, "packets to %s", ds_ev_service(v->service, svc, sizeof svc));
}

/* "; 94% came from China, 99% from source port 6000" */
static void drivers(const ds_event *v, const ds_event_words *w, ds_out *o)
{
    char svc[DS_SERVICE_STRLEN];
    int lead = 0;
    if (ds_event_fact(v, "of_country")) {
        double s = ds_ev_num(v, "service_share");
        if (v->has_service && isfinite(s)) {
            ds_out_printf(o, "; %.0f%% went to %s", 100 * s, ds_ev_service(v->service, svc, sizeof svc));
            lead = 1;
        }
    } else if (v->country[0]) {
        double s = ds_ev_num(v, "country_share");
        if (isfinite(s)) {
            ds_out_printf(o, "; %.0f%% came from %s", 100 * s, ds_ev_country_en(w, v->country));
            lead = 1;
        }
    }
    const ds_event_evidence *sp = ds_event_fact(v, "sport_share");
    if (sp && sp->value >= DS_EV_SPORT_SHARE)
        ds_out_printf(o, "%s %.0f%% from source port %s", lead ? "," : ";", 100 * sp->value, sp->text);
}

/* A country's rise found in its distinct sources a day, not in its packets (docs/detection.md):
 * the numbers it passed the rule with. */
static void sources_rise(const ds_event *v, ds_out *o)
{
    const ds_event_evidence *sp = ds_event_fact(v, "sources_peak");
    double sb = ds_ev_num(v, "sources_per_day_baseline"), sz = ds_ev_num(v, "sources_robust_z");
    char n[32], b[32], day[DS_FMT_DAY_LEN] = "";
    int32_t d;
    if (!sp || !isfinite(sb) || !isfinite(sz) || llround(sb) <= 0)
        return;
    if (!ds_day_parse(sp->text, &d))
        ds_fmt_day(d, 0, day, sizeof day);
    ds_out_printf(o, "; the distinct sources a day peaked at %s on %s, %.1f times their baseline of %s (robust z %.1f)",
                  ds_ev_int(sp->value, n, sizeof n), day, sp->value / sb, ds_ev_int(sb, b, sizeof b), sz);
}

static void series_text(const ds_event *v, const ds_event_words *w, ds_out *o)
{
    char npk[32], nmed[32], ntot[32], nsrc[32], pk_day[DS_FMT_DAY_LEN] = "", s1[32], s0[32];
    const ds_event_evidence *peak = ds_event_fact(v, "packets_peak");
    double base = ds_ev_num(v, "packets_per_day_baseline"), z = ds_ev_num(v, "robust_z");
    int32_t pd;
    if (peak && !ds_day_parse(peak->text, &pd))
        ds_fmt_day(pd, 0, pk_day, sizeof pk_day);
    ds_ev_int(peak ? peak->value : 0, npk, sizeof npk);
    ds_ev_int(base, nmed, sizeof nmed);
    ds_ev_int((double)v->packets, ntot, sizeof ntot);
    ds_ev_int((double)v->sources, nsrc, sizeof nsrc);
    /* "N times the baseline of M a day", or no ratio when the baseline is nothing */
    char rat[128];
    if (isfinite(base) && llround(base) > 0)
        ds_fmt_text(rat, sizeof rat, "%.1f times the baseline of %s a day", peak ? peak->value / base : 0, nmed);
    else
        ds_fmt_text(rat, sizeof rat, "from a baseline of less than one packet a day");
    char srcday[128] = "";
    double spd = ds_ev_num(v, "sources_per_day"), spb = ds_ev_num(v, "sources_per_day_before");
    if (isfinite(spd) && isfinite(spb))
        ds_fmt_text(srcday, sizeof srcday, " (%s sources a day, against %s in the week before)", ds_ev_int(spd, s1, sizeof s1),
                    ds_ev_int(spb, s0, sizeof s0));
    when_days(v, o);
    ds_out_puts(o, ", ");
    if (!strcmp(v->type, "single_source") && v->ntop) {
        const ds_event_source *s = &v->top[0];
        char spk[32];
        double share = ds_ev_num(v, "top_source_share_of_excess");
        ds_out_puts(o, "one host, ");
        ds_ev_source(w, s->addr, s->cc, s->asn, o);
        ds_out_printf(o, ", sent %s ", ds_ev_int((double)s->packets, spk, sizeof spk));
        what(v, w, o);
        ds_out_printf(o, ", %.0f%% of the rise over the baseline of %s a day; the peak was %s on %s (%s).",
                      100 * (isfinite(share) ? (share > 1 ? 1 : share) : 0), nmed, npk, pk_day, rat);
    } else if (!strcmp(v->type, "new_service")) {
        what(v, w, o);
        double quiet = ds_ev_num(v, "quiet_days_before"), rank = ds_ev_num(v, "rank");
        ds_out_printf(o, " appeared: %s packet%s from %s source%s%s", ntot, plural((double)v->packets), nsrc,
                      plural((double)v->sources), srcday);
        if (isfinite(rank) && rank > 0)
            ds_out_printf(o, ", ranked %.0f in the period", rank);
        if (isfinite(quiet))
            ds_out_printf(o, ", with not one packet in the %.0f days before", quiet);
        ds_out_printf(o, "; the peak was %s on %s", npk, pk_day);
        drivers(v, w, o);
        ds_out_puts(o, ".");
    } else {
        int surge = !strcmp(v->type, "surge");
        what(v, w, o);
        ds_out_printf(o, " %s: %s packet%s from %s source%s%s, peaking at %s on %s, %s", surge ? "surged" : "spiked", ntot,
                      plural((double)v->packets), nsrc, plural((double)v->sources), srcday, npk, pk_day, rat);
        if (isfinite(z) && isfinite(base) && llround(base) > 0)
            ds_out_printf(o, " (robust z %.1f)", z);
        sources_rise(v, o);
        double rp = ds_ev_num(v, "rank"), rq = ds_ev_num(v, "rank_previous");
        if (surge && isfinite(rp) && rp > 0 && rq != rp) {
            if (!isfinite(rq) || rq <= 0)
                ds_out_printf(o, "; it ranked %.0f, unranked in the previous period", rp);
            else if (rq > 1000)
                ds_out_printf(o, "; it ranked %.0f, up from below the top 1,000 in the previous period", rp);
            else
                ds_out_printf(o, "; it rose from rank %.0f to %.0f against the previous period", rq, rp);
        }
        drivers(v, w, o);
        ds_out_puts(o, ".");
    }
    if (ds_event_fact(v, "first_seen_after_outage"))
        ds_out_puts(o, " It was first seen the day after an outage, and may have begun during it.");
}

static const char *const WEEKDAY[7] = { "Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday" };

/* The test that found a weekly cycle: the autocorrelation, or Friedman's rank test (weekly_rule.h). */
static void weekly_test(const ds_event *v, double acf, ds_out *o)
{
    double p = ds_ev_num(v, "weekday_rank_p");
    if (ds_event_fact(v, "by_rank_test") && p < 0.0001)
        ds_out_puts(o, "the weekdays' ranks differed more than chance explains (Friedman's test, p < 0.0001).");
    else if (ds_event_fact(v, "by_rank_test"))
        ds_out_printf(o, "the weekdays' ranks differed more than chance explains (Friedman's test, p = %.4f).", p);
    else
        ds_out_printf(o, "the autocorrelation at 7 days was %.2f.", acf);
}

static void periodic_text(const ds_event *v, const ds_event_words *w, ds_out *o)
{
    char a[DS_FMT_DAY_LEN], b[DS_FMT_DAY_LEN], pk[32];
    double acf = ds_ev_num(v, "autocorrelation"), ratio = ds_ev_num(v, "peak_to_mean");
    ds_out_printf(o, "From %s to %s, ", ds_fmt_day(ds_ev_day(v->start_ns), 0, a, sizeof a),
                  ds_fmt_day(ds_ev_day(v->end_ns), 0, b, sizeof b));
    what(v, w, o);
    ds_out_printf(o, " (%s) ", ds_ev_int((double)v->packets, pk, sizeof pk));
    if (ds_event_fact(v, "working_week")) {
        double weeks = ds_ev_num(v, "weeks_counted");
        ds_out_printf(o, "followed a working-week cycle: Monday to Friday were %.1f times the weekend, Saturday and "
                         "Sunday were the two quietest days in %.0f%% of %.0f weeks, and ",
                      ds_ev_num(v, "weekdays_to_weekend"), 100 * ds_ev_num(v, "weeks_weekend_quietest"), weeks);
        weekly_test(v, acf, o);
    } else if (!strcmp(v->type, "periodic_weekly")) {
        int d = (int)ds_ev_num(v, "peak_weekday");
        const char *day = d >= 0 && d < 7 ? WEEKDAY[d] : "?";
        ds_out_printf(o, "followed a 7-day cycle peaking on %ss: the %s level was %.1f times the week's mean, %.0f%% of "
                         "%.0f weeks peaked that day, and ",
                      day, day, ratio, 100 * ds_ev_num(v, "weeks_peaking_there"), ds_ev_num(v, "weeks"));
        weekly_test(v, acf, o);
    } else {
        const ds_event_evidence *h = ds_event_fact(v, "peak_hour_local");
        double utc = ds_ev_num(v, "peak_hour_utc");
        int local = h ? (int)h->value : 0;
        const char *tz = h && h->text[0] ? h->text : "UTC";
        char utc_s[24] = "";
        if (strcmp(tz, "UTC") && isfinite(utc))
            snprintf(utc_s, sizeof utc_s, "; %02d:00 UTC", (int)utc);
        ds_out_printf(o, "followed a 24-hour cycle peaking at %02d:00 (%s%s): that hour was %.1f times the daily mean, "
                         "%.0f%% of %.0f days peaked within two hours of it, and the autocorrelation at 24 hours was "
                         "%.2f.",
                      local, tz, utc_s, ratio, 100 * ds_ev_num(v, "days_peaking_there"), ds_ev_num(v, "days"), acf);
    }
}

/* "by country: China 12, Brazil 3 and 2 more countries" / "China 14%, ..." (of = hosts counted) */
static void by_country(const ds_event *v, const ds_event_words *w, double of, ds_out *o)
{
    size_t shown = 0;
    for (size_t i = 0; i < v->nevidence; i++) {
        const ds_event_evidence *x = &v->evidence[i];
        if (strcmp(x->name, "hosts_in_country"))
            continue;
        ds_out_printf(o, "%s%s ", shown ? ", " : "", ds_ev_country(w, x->text));
        if (of > 0)
            ds_out_printf(o, "%.0f%%", 100 * x->value / of);
        else
            ds_out_printf(o, "%.0f", x->value);
        shown++;
    }
    double all = ds_ev_num(v, "countries");
    if (isfinite(all) && all > (double)shown)
        ds_out_printf(o, " and %.0f more countr%s", all - (double)shown, all - (double)shown == 1 ? "y" : "ies");
}

static void mirai_text(const ds_event *v, const ds_event_words *w, ds_out *o)
{
    char hosts[32], pk[32], lo[32], hi[32], a[DS_FMT_DAY_LEN], b[DS_FMT_DAY_LEN], pd[DS_FMT_DAY_LEN] = "",
        s1[DS_SERVICE_STRLEN] = "", s2[DS_SERVICE_STRLEN] = "";
    const ds_event_evidence *m1 = ds_event_fact(v, "main_service_share"), *m2 = ds_event_fact(v, "second_service_share"),
                            *mx = ds_event_fact(v, "hosts_per_day_max");
    ds_service s;
    if (m1 && !ds_service_parse(m1->text, &s))
        ds_ev_service(s, s1, sizeof s1);
    if (m2 && !ds_service_parse(m2->text, &s))
        ds_ev_service(s, s2, sizeof s2);
    int32_t d;
    if (mx && !ds_day_parse(mx->text, &d))
        ds_fmt_day(d, 0, pd, sizeof pd);
    ds_out_printf(o, "From %s to %s, %s host%s sent SYNs with Mirai's fingerprint (sequence number = destination "
                     "address) to %s%s%s, %s packet%s; %s to %s infected hosts were seen a day (most on %s); by country: ",
                  ds_fmt_day(ds_ev_day(v->start_ns), 0, a, sizeof a), ds_fmt_day(ds_ev_day(v->end_ns), 0, b, sizeof b),
                  ds_ev_int((double)v->sources, hosts, sizeof hosts), plural((double)v->sources), s1, s2[0] ? " and " : "",
                  s2, ds_ev_int((double)v->packets, pk, sizeof pk), plural((double)v->packets),
                  ds_ev_int(ds_ev_num(v, "hosts_per_day_min"), lo, sizeof lo), ds_ev_int(mx ? mx->value : 0, hi, sizeof hi), pd);
    by_country(v, w, ds_ev_num(v, "hosts_counted"), o);
    ds_out_puts(o, ".");
}

static const char *const ATTACK_WORDS[DS_ATK__COUNT] = {
    "SYN-ACK", "RST", "ICMP echo reply", "ICMP port unreachable (UDP)", "ICMP port unreachable (TCP)", "other ICMP",
};

static void backscatter_text(const ds_event *v, const ds_event_words *w, ds_out *o)
{
    char pk[32], svc[DS_SERVICE_STRLEN] = "";
    int k = (int)ds_ev_num(v, "inferred_attack");
    if (k < 0 || k >= DS_ATK__COUNT)
        k = DS_ATK_ICMP_OTHER;
    if (v->has_service)
        ds_ev_service(v->service, svc, sizeof svc);
    ds_out_puts(o, "Backscatter from ");
    if (v->ntop)
        ds_ev_source(w, v->top[0].addr, v->top[0].cc, v->top[0].asn, o);
    ds_out_printf(o, ": %s inferred from %s packet%s (%s%s%s) ", ds_attack_kind_name((ds_attack_kind)k),
                  ds_ev_int((double)v->packets, pk, sizeof pk), plural((double)v->packets), ATTACK_WORDS[k],
                  svc[0] ? ", " : "", svc);
    when_span(v, o);
    double peak = ds_ev_num(v, "peak_packets_per_60s");
    ds_out_printf(o, ", at most %s in 60 s.", ds_ev_int(isfinite(peak) ? peak : 0, pk, sizeof pk));
}

static void flood_text(const ds_event *v, const ds_event_words *w, ds_out *o)
{
    char pk[32], src[32], rate[32], svc[DS_SERVICE_STRLEN] = "";
    int refl = !strcmp(v->type, "reflection");
    const char *target = v->ntop ? v->top[0].addr : "?";
    double peak = ds_ev_num(v, "peak_packets_per_60s");
    ds_ev_int((double)v->packets, pk, sizeof pk);
    ds_ev_int((double)v->sources, src, sizeof src);
    if (v->has_service)
        ds_ev_service(v->service, svc, sizeof svc);
    if (!refl) {
        const ds_event_evidence *kind[4];
        size_t nk = 0;
        for (size_t i = 0; i < v->nevidence && nk < 4; i++)
            if (!strcmp(v->evidence[i].name, "packets_of_kind"))
                kind[nk++] = &v->evidence[i];
        ds_out_printf(o, "A flood aimed at the darknet address %s%s%s: %s ", target, svc[0] ? ", " : "", svc, pk);
        if (nk == 1)   /* one kind: "8,000 SYN packets", "8,000 ACK, FIN or other packets" */
            ds_out_printf(o, "%s ", strcmp(kind[0]->text, "other") ? kind[0]->text : "ACK, FIN or other");
        ds_out_printf(o, "packet%s", plural((double)v->packets));
        for (size_t i = 0; nk > 1 && i < nk; i++) {   /* several: "(12,000 SYN, 3,000 ACK, FIN or other)" */
            char c[32];
            ds_out_printf(o, "%s%s %s%s", i ? ", " : " (", ds_ev_int(kind[i]->value, c, sizeof c),
                          strcmp(kind[i]->text, "other") ? kind[i]->text : "ACK, FIN or other", i + 1 == nk ? ")" : "");
        }
        ds_out_printf(o, " from about %s source%s ", src, plural((double)v->sources));
        when_span(v, o);
        char pkm[32];
        ds_out_printf(o, ", %s packets a second, at most %s in 60 s.", ds_ev_rate(ds_ev_num(v, "rate_pps"), rate, sizeof rate),
                      ds_ev_int(isfinite(peak) ? peak : 0, pkm, sizeof pkm));
        if (v->sources && v->packets <= 2 * v->sources)   /* one or two packets a source: random spoofed sources */
            ds_out_puts(o, " Most sources sent one packet each, as from spoofed, random addresses.");
        return;
    }
    ds_out_printf(o, "The darknet address %s was used as the spoofed victim of a reflection attack: about %s host%s "
                     "answered it with %s packet%s (",
                  target, src, plural((double)v->sources), pk, plural((double)v->packets));
    size_t n = 0;
    for (size_t i = 0; i < v->nevidence; i++)
        if (!strcmp(v->evidence[i].name, "packets_of_kind")) {
            char c[32];
            ds_out_printf(o, "%s%s %s", n++ ? ", " : "", ds_ev_int(v->evidence[i].value, c, sizeof c), v->evidence[i].text);
        }
    if (svc[0])
        ds_out_printf(o, "%smostly from %s", n ? "; " : "", svc);
    ds_out_puts(o, ") ");
    when_span(v, o);
    ds_out_printf(o, ", at most %s in 60 s.", ds_ev_int(isfinite(peak) ? peak : 0, pk, sizeof pk));
}

static void research_text(const ds_event *v, const ds_event_words *w, ds_out *o)
{
    char pk[32], ns[32], a[DS_FMT_DAY_LEN], b[DS_FMT_DAY_LEN], svc[DS_SERVICE_STRLEN] = "";
    double asn = ds_ev_num(v, "asn"), nsvc = ds_ev_num(v, "services");
    const ds_event_evidence *m = ds_event_fact(v, "main_service_share");
    ds_service s;
    if (m && !ds_service_parse(m->text, &s))
        ds_ev_service(s, svc, sizeof svc);
    const char *org = w->geo && asn > 0 ? ds_geo_asn_org(w->geo, (uint32_t)asn) : NULL;
    ds_out_printf(o, "Research scanning from AS%.0f%s%s: %s listed source%s sent %s packet%s (%.1f%% of all packets) "
                     "from %s to %s, to %.0f service%s",
                  isfinite(asn) ? asn : 0, org && *org ? " " : "", org && *org ? org : "",
                  ds_ev_int((double)v->sources, ns, sizeof ns), plural((double)v->sources),
                  ds_ev_int((double)v->packets, pk, sizeof pk), plural((double)v->packets),
                  100 * ds_ev_num(v, "share_of_all_packets"), ds_fmt_day(ds_ev_day(v->start_ns), 0, a, sizeof a),
                  ds_fmt_day(ds_ev_day(v->end_ns), 0, b, sizeof b), nsvc, plural(nsvc));
    if (m && svc[0])
        ds_out_printf(o, ", %.1f%% of them to %s", 100 * m->value, svc);
    ds_out_puts(o, ". Such projects announce themselves; the report can leave them out.");
}

static void tool_text(const ds_event *v, const ds_event_words *w, ds_out *o)
{
    const char *title = ds_ev_tool_title(v->tool);
    const char *kind = !strcmp(v->tool, "nmap") ? "port scan"
                       : (!strcmp(v->tool, "slammer") || !strcmp(v->tool, "nachi")) ? "worm traffic"
                       : !strcmp(v->tool, "sip-other") ? "probes"
                       : !strcmp(v->tool, "sipvicious") ? "SIP scan" : "scan";
    char pk[32], a[DS_FMT_DAY_LEN], b[DS_FMT_DAY_LEN], svc[DS_SERVICE_STRLEN] = "many services";
    const ds_event_evidence *m = ds_event_fact(v, "main_service_share");
    ds_service s;
    if (m && !ds_service_parse(m->text, &s))
        ds_ev_service(s, svc, sizeof svc);
    double days = ds_ev_num(v, "days_active"), nsvc = ds_ev_num(v, "services");
    ds_fmt_day(ds_ev_day(v->start_ns), 0, a, sizeof a);
    ds_fmt_day(ds_ev_day(v->end_ns), 0, b, sizeof b);
    ds_ev_int((double)v->packets, pk, sizeof pk);
    if (v->sources <= 1 && v->ntop) {
        ds_out_printf(o, "%s %s from ", title, kind);
        ds_ev_source(w, v->top[0].addr, v->top[0].cc, v->top[0].asn, o);
        if (!strcmp(a, b))   /* one day: "on 4 July 2010", not "on 1 day from 4 July 2010 to 4 July 2010" */
            ds_out_printf(o, ": %s packet%s on %s", pk, plural((double)v->packets), a);
        else
            ds_out_printf(o, ": %s packet%s on %.0f day%s from %s to %s", pk, plural((double)v->packets), days, plural(days), a, b);
        if (m)
            ds_out_printf(o, ", %.1f%% of them to %s", 100 * m->value, svc);
        char ns[32];
        ds_out_printf(o, " (%s service%s).", ds_ev_int(nsvc, ns, sizeof ns), plural(nsvc));
        return;
    }
    char hosts[32];
    ds_out_printf(o, "%s %s of %s from %s sources ", title, kind, svc, ds_ev_int((double)v->sources, hosts, sizeof hosts));
    if (!strcmp(a, b))   /* one day: "on 7 December 2026", not "from 7 December 2026 to 7 December 2026" */
        ds_out_printf(o, "on %s", a);
    else
        ds_out_printf(o, "from %s to %s", a, b);
    ds_out_printf(o, ": %s packet%s", pk, plural((double)v->packets));
    if (m)
        ds_out_printf(o, ", %.1f%% of them to %s", 100 * m->value, svc);
    ds_out_puts(o, "; by country: ");
    by_country(v, w, 0, o);
    if (v->ntop) {
        char tpk[32];
        ds_out_puts(o, ". The largest source, ");
        ds_ev_source(w, v->top[0].addr, v->top[0].cc, v->top[0].asn, o);
        ds_out_printf(o, ", sent %s packet%s", ds_ev_int((double)v->top[0].packets, tpk, sizeof tpk),
                      plural((double)v->top[0].packets));
    }
    ds_out_puts(o, ".");
}

static void scan_text(const ds_event *v, const ds_event_words *w, ds_out *o)
{
    char svc[DS_SERVICE_STRLEN], a[32], mon[32], pk[32], t0[48], t1[48], d[32], r[32];
    const ds_event_evidence *ad = ds_event_fact(v, "addresses");
    int estimated = ad && !strncmp(ad->text, "estimated", 9);
    double sweeps = ds_ev_num(v, "sweeps"), spk = ds_ev_num(v, "sweep_packets"), st = ds_ev_num(v, "sweep_start"), dur = ds_ev_num(v, "duration_s");
    if (!isfinite(spk))
        spk = (double)v->packets;
    if (!isfinite(st))
        st = (double)(v->start_ns / 1000000000ULL);
    if (!isfinite(dur))
        dur = 0;
    ds_ev_service(v->service, svc, sizeof svc);
    ds_out_printf(o, "%s of %s from ", sweeps > 1 ? "Repeated scans" : "Scan", svc);
    if (v->ntop)
        ds_ev_source(w, v->top[0].addr, v->top[0].cc, v->top[0].asn, o);
    ds_out_puts(o, ": ");
    if (sweeps > 1) {
        char f[DS_FMT_DAY_LEN], l[DS_FMT_DAY_LEN], ev[32], tp[32];
        ds_out_printf(o, "%.0f sweeps from %s to %s, one every %s (median), %s packets in all; the largest: ", sweeps,
                      ds_fmt_day(ds_ev_day(v->start_ns), 0, f, sizeof f), ds_fmt_day(ds_ev_day(v->end_ns), 0, l, sizeof l),
                      ds_ev_dur(ds_ev_num(v, "sweep_interval_median_s"), 0, ev, sizeof ev),
                      ds_ev_int((double)v->packets, tp, sizeof tp));
    }
    ds_out_printf(o, "%s of %s monitored addresses (%.1f%%%s), %s packet%s in %s from %s to %s UTC (%s packets a second).",
                  ds_ev_int(ad ? ad->value : 0, a, sizeof a), ds_ev_int(ds_ev_num(v, "monitored_addresses"), mon, sizeof mon),
                  100 * ds_ev_num(v, "share_of_monitored"), estimated ? ", estimated" : "", ds_ev_int(spk, pk, sizeof pk),
                  plural(spk), ds_ev_dur(dur, 0, d, sizeof d), ds_ev_time((int64_t)st, 0, 0, t0, sizeof t0),
                  ds_ev_time((int64_t)(st + dur), 0, (int64_t)st, t1, sizeof t1), ds_ev_rate(ds_ev_num(v, "rate_pps"), r, sizeof r));
    double inet = ds_ev_num(v, "internet_rate_pps");
    if (isfinite(inet)) {
        char i[32], lo[32], hi[32], c[32];
        ds_out_printf(o, " Its targets look uniformly random, so it probed about %s addresses a second Internet-wide "
                         "(95%% interval %s to %s), all of IPv4 in about %s.",
                      ds_ev_si(inet, 0, i, sizeof i), ds_ev_si(ds_ev_num(v, "internet_rate_pps_low"), 0, lo, sizeof lo),
                      ds_ev_si(ds_ev_num(v, "internet_rate_pps_high"), 0, hi, sizeof hi),
                      ds_ev_dur(ds_ev_num(v, "ipv4_cover_s"), 0, c, sizeof c));
    } else if (ds_event_fact(v, "internet_rate_rejected")) {
        ds_out_puts(o, " Its targets look uniformly random, but at its rate it would have probed the whole Internet "
                       "faster than a 100 Gbit/s link can send: it scanned a range around the darknet, not all of "
                       "IPv4, so no Internet-wide rate is inferred.");
    } else if (ds_ev_num(v, "target_order") == DS_SCAN_ORDER_NOT_RANDOM) {
        ds_out_puts(o, " Its targets were not in a uniformly random order, so no Internet-wide rate is inferred.");
    }
    if (v->tool[0])
        ds_out_printf(o, " Tool: %s.", ds_ev_tool_title(v->tool));
}

static void vertical_text(const ds_event *v, const ds_event_words *w, ds_out *o)
{
    char np[32], pk[32], t0[48], t1[48], a[DS_FMT_DAY_LEN], b[DS_FMT_DAY_LEN];
    double ports = ds_ev_num(v, "ports"), addrs = ds_ev_num(v, "addresses"), days = ds_ev_num(v, "days");
    ds_out_puts(o, "Vertical scan from ");
    if (v->ntop)
        ds_ev_source(w, v->top[0].addr, v->top[0].cc, v->top[0].asn, o);
    ds_out_printf(o, ": %s port%s of %.0f dark address%s, %s packet%s ", ds_ev_int(ports, np, sizeof np), plural(ports), addrs,
                  llround(addrs) == 1 ? "" : "es", ds_ev_int((double)v->packets, pk, sizeof pk), plural((double)v->packets));
    int64_t s0 = (int64_t)(v->start_ns / 1000000000ULL), s1 = (int64_t)(v->end_ns / 1000000000ULL);
    if (!(days > 1) && s0 / 60 == s1 / 60)
        ds_out_printf(o, "at %s UTC, within a minute.", ds_ev_time(s0, 0, 0, t0, sizeof t0));
    else if (!(days > 1))
        ds_out_printf(o, "from %s to %s UTC.", ds_ev_time(s0, 0, 0, t0, sizeof t0), ds_ev_time(s1, 0, s0, t1, sizeof t1));
    else
        ds_out_printf(o, "on %.0f days from %s to %s.", days, ds_fmt_day(ds_ev_day(v->start_ns), 0, a, sizeof a),
                      ds_fmt_day(ds_ev_day(v->end_ns), 0, b, sizeof b));
    /* the most probed ports, unless every port had as many packets */
    static const char *const top[] = { "top_port_1", "top_port_2", "top_port_3", "top_port_4", "top_port_5" };
    const ds_event_evidence *t = ds_event_fact(v, top[0]);
    if (t && t->value > ds_ev_num(v, "fewest_port_packets")) {
        ds_out_puts(o, " Most probed: ");
        for (size_t i = 0; i < 5 && (t = ds_event_fact(v, top[i])); i++) {
            char svc[DS_SERVICE_STRLEN];
            ds_service s;
            ds_out_printf(o, "%s%s", i ? ", " : "", ds_service_parse(t->text, &s) ? t->text : ds_ev_service(s, svc, sizeof svc));
        }
        ds_out_puts(o, ".");
    }
    if (v->tool[0])
        ds_out_printf(o, " Tool: %s.", ds_ev_tool_title(v->tool));
}

static void silent_text(const ds_event *v, const ds_event_words *w, ds_out *o)
{
    (void)w;
    const char *sensor = ds_event_str(v, "sensor");
    char d[32], th[32], t0[48], t1[48];
    int64_t s0 = (int64_t)(v->start_ns / 1000000000ULL), s1 = (int64_t)(v->end_ns / 1000000000ULL);
    int source = (int)ds_ev_num(v, "source");
    ds_ev_dur_exact(s1 - s0, 0, d, sizeof d);
    ds_ev_dur_exact((int64_t)ds_ev_num(v, "threshold_s"), 0, th, sizeof th);
    ds_ev_time(s0, 0, 0, t0, sizeof t0);
    ds_ev_time(s1, 0, 0, t1, sizeof t1);
    sensor = sensor ? sensor : "?";
    if (source == 1) {   /* the collector's ledger */
        if (ds_ev_num(v, "ongoing") > 0) {
            ds_out_printf(o, "Sensor %s has been silent for %s: its last segment (%.0f) reached the collector at %s UTC and "
                             "none since (threshold %s).",
                          sensor, d, ds_ev_num(v, "last_segment"), t0, th);
            return;
        }
        ds_out_printf(o, "Sensor %s was silent for %s: no segment reached the collector between %s and %s UTC (threshold "
                         "%s; segment %.0f before, %.0f after).",
                      sensor, d, t0, t1, th, ds_ev_num(v, "last_segment"), ds_ev_num(v, "next_segment"));
        const char *cause = ds_event_str(v, "cause");
        if (cause && !strcmp(cause, "upload")) {
            ds_out_puts(o, " The sensor kept capturing (the segments uploaded after the gap cover it): the upload path or "
                           "the collector was down, and no data was lost.");
        } else if (cause && !strcmp(cause, "sensor")) {
            char u[32];
            ds_out_printf(o, " The sensor captured nothing for %s of it (no segment uploaded later covers that time): the "
                             "sensor or its capture was down, and those packets are missing.",
                          ds_ev_dur_exact((int64_t)ds_ev_num(v, "uncaptured_s"), 0, u, sizeof u));
        } else {
            ds_out_puts(o, " Whether the sensor or the upload path was down is not known (the segments' capture times are "
                           "missing or do not line up with their uploads).");
        }
        return;
    }
    if (source == 2) {   /* hourly packet counts */
        ds_out_printf(o, "Sensor %s captured no packets for at least %s, between %s and %s UTC%s (hourly counts; threshold "
                         "%s).",
                      sensor, d, t0, t1, ds_ev_num(v, "until_end_of_data") > 0 ? ", while other sensors still did" : "", th);
        return;
    }
    int kind = (int)ds_ev_num(v, "kind");
    ds_out_printf(o, "Sensor %s was down for %s, from %s to %s UTC%s: ", sensor, d, t0, t1,
                  ds_ev_num(v, "until_end_of_data") > 0 ? " and still at the end of the data" : "");
    if (kind == 1) {
        char usual[32];
        ds_out_printf(o, "no packet arrived in %.0f hours, where it usually receives %s or more an hour", ds_ev_num(v, "empty_hours"),
                      ds_ev_int(ds_ev_num(v, "usual_packets_per_hour"), usual, sizeof usual));
    } else if (kind == 2) {
        ds_out_puts(o, "declared down in the configuration");
    } else {
        ds_out_puts(o, "no capture covers that time, while the store has data around it");
    }
    ds_out_printf(o, " (threshold %s).%s Its counts of that time are missing, not low.", th,
                  ds_ev_num(v, "began_before_period") > 0 ? " The outage began before the period." : "");
}

/* A type this file does not know (a newer store): its name and packets. */
static void other_text(const ds_event *v, const ds_event_words *w, ds_out *o)
{
    (void)w;
    char pk[32];
    ds_out_printf(o, "An event of type %s: %s packets.", v->type, ds_ev_int((double)v->packets, pk, sizeof pk));
}

const ds_ev_text ds_ev_text_en[] = {
    { "surge", series_text },          { "spike", series_text },       { "new_service", series_text },
    { "single_source", series_text },  { "periodic_daily", periodic_text }, { "periodic_weekly", periodic_text },
    { "mirai", mirai_text },           { "backscatter", backscatter_text }, { "flood", flood_text },
    { "reflection", flood_text },      { "research_scanner", research_text }, { "tool", tool_text },
    { "scan", scan_text },             { "vertical_scan", vertical_text }, { "sensor_silent", silent_text },
    { NULL, other_text },
};

void ds_event_heading_en(const ds_event *v, const ds_event_words *w, ds_out *o)
{
    static const struct { const char *type, *head; } H[] = {
        { "surge", "Surge of packets" },  { "spike", "Spike of packets" },  { "new_service", "New traffic" },
        { "single_source", "One host's burst of packets" }, { "periodic_daily", "Daily cycle of packets" },
        { "periodic_weekly", "Weekly cycle of packets" }, { "mirai", "Mirai-infected hosts" },
        { "backscatter", "DDoS attack on" }, { "flood", "Flood at the darknet" },
        { "reflection", "Reflection attack spoofing the darknet" }, { "research_scanner", "Research scanning" },
        { "tool", "Scanning tool:" }, { "scan", "Scans of" }, { "vertical_scan", "Vertical scan" },
        { "sensor_silent", "Sensor outage" },
    };
    const char *head = v->type;
    char svc[DS_SERVICE_STRLEN];
    int keyed = 0;
    for (size_t i = 0; i < sizeof H / sizeof H[0]; i++)
        if (!strcmp(H[i].type, v->type)) {
            head = H[i].head;
            keyed = i < 6;
        }
    ds_out_puts(o, head);
    if (keyed && ds_event_fact(v, "of_country"))
        ds_out_printf(o, " from %s", ds_ev_country_en(w, v->country));
    else if (keyed)
        ds_out_printf(o, " to %s", ds_ev_service(v->service, svc, sizeof svc));
    else if (!strcmp(v->type, "tool"))
        ds_out_printf(o, " %s", ds_ev_tool_title(v->tool));
    else if (!strcmp(v->type, "backscatter") && v->ntop)
        ds_out_printf(o, " %s", v->top[0].addr);
    else if (!strcmp(v->type, "scan") && v->has_service)
        ds_out_printf(o, " %s", ds_ev_service(v->service, svc, sizeof svc));
}
