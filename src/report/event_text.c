/* event_text.c: the helpers both languages' event sentences use, and the dispatch to them.
 *
 * Numbers, times and durations are written here once, so that English and Japanese agree on
 * what is rounded how; each language file only orders the facts into sentences.
 */
#include "report/event_int.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "util/timeutil.h"

const char *ds_ev_country(const ds_event_words *w, const char *cc)
{
    if (!cc || !cc[0])
        return "";
    return w->names ? ds_names_country(w->names, cc, w->lang) : cc;
}

const char *ds_ev_country_en(const ds_event_words *w, const char *cc)
{
    /* names that take the article in running text (the tables print them bare) */
    static const struct { const char *bare, *with; } THE[] = {
        { "United States", "the United States" }, { "United Kingdom", "the United Kingdom" },
        { "United Arab Emirates", "the United Arab Emirates" }, { "Netherlands", "the Netherlands" },
        { "Philippines", "the Philippines" }, { "Czech Republic", "the Czech Republic" },
        { "Dominican Republic", "the Dominican Republic" }, { "Central African Republic", "the Central African Republic" },
        { "Bahamas", "the Bahamas" }, { "Gambia", "the Gambia" }, { "Maldives", "the Maldives" },
        { "Seychelles", "the Seychelles" }, { "Comoros", "the Comoros" }, { "Marshall Islands", "the Marshall Islands" },
        { "Solomon Islands", "the Solomon Islands" }, { "Cayman Islands", "the Cayman Islands" },
        { "Virgin Islands, British", "the British Virgin Islands" }, { "Virgin Islands, U.S.", "the U.S. Virgin Islands" },
        { "Russian Federation", "the Russian Federation" }, { "Holy See (Vatican City State)", "the Holy See" },
    };
    const char *n = ds_ev_country(w, cc);
    for (size_t i = 0; i < sizeof THE / sizeof THE[0]; i++)
        if (!strcmp(THE[i].bare, n))
            return THE[i].with;
    return n;
}

char *ds_ev_service(ds_service s, char *buf, size_t len)
{
    return ds_service_label(s, buf, len);
}

void ds_ev_source(const ds_event_words *w, const char *addr, const char *cc, uint32_t asn, ds_out *o)
{
    int ja = w->lang == DS_LANG_JA;
    if (!strcmp(cc, "ZZ") && !asn) {   /* geo/special.c: private, reserved, documentation... */
        ds_out_printf(o, ja ? "%s（プライベート/予約済みアドレス）" : "%s (a private or reserved address)", addr);
        return;
    }
    const char *org = w->geo && asn ? ds_geo_asn_org(w->geo, asn) : NULL;
    ds_out_printf(o, ja ? "%s（%s" : "%s (%s", addr, ds_ev_country(w, cc));
    if (asn)
        ds_out_printf(o, ja ? "、AS%u" : ", AS%u", (unsigned)asn);
    if (asn && org && *org)
        ds_out_printf(o, " %s", org);
    ds_out_puts(o, ja ? "）" : ")");
}

char *ds_ev_time(int64_t t, int ja, int64_t same_day_of, char *buf, size_t len)
{
    time_t tt = (time_t)t, t0 = (time_t)same_day_of;
    struct tm tm, tm0;
    gmtime_r(&tt, &tm);
    gmtime_r(&t0, &tm0);
    if (same_day_of && tm.tm_year == tm0.tm_year && tm.tm_yday == tm0.tm_yday)
        snprintf(buf, len, "%02d:%02d", tm.tm_hour, tm.tm_min);
    else if (ja)
        snprintf(buf, len, "%d年%d月%d日%02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min);
    else
        strftime(buf, len, "%Y-%m-%d %H:%M", &tm);
    return buf;
}

int32_t ds_ev_day(uint64_t ns)
{
    return ds_day_of((int64_t)(ns / 1000000000ULL));
}

char *ds_ev_dur(double s, int ja, char *buf, size_t len)
{
    static const char *const en[] = { " s", " min", " h", " day" }, *const jp[] = { "秒", "分", "時間", "日" };
    static const double div[] = { 1, 60, 3600, 86400 };
    if (!(s >= 1))
        return ds_fmt_text(buf, len, "%s", ja ? "1秒未満" : "under a second");
    int u = s < 90 ? 0 : s < 5400 ? 1 : s < 2 * 86400 ? 2 : 3;
    double v = s / div[u];
    char num[32];
    snprintf(num, sizeof num, u == 0 || v >= 10 ? "%.0f" : "%.1f", v);
    size_t n = strlen(num);
    if (n > 2 && !strcmp(num + n - 2, ".0"))
        num[n - 2] = '\0';
    snprintf(buf, len, "%s%s%s", num, ja ? jp[u] : en[u], !ja && u == 3 && strcmp(num, "1") ? "s" : "");
    return buf;
}

char *ds_ev_dur_exact(int64_t s, int ja, char *buf, size_t len)
{
    if (s < 0)
        s = 0;
    long long d = s / 86400, h = s % 86400 / 3600, m = s % 3600 / 60;
    if (d)
        return ds_fmt_text(buf, len, ja ? "%lld日%lld時間" : "%lld d %02lld h", d, h);
    if (h)
        return ds_fmt_text(buf, len, ja ? "%lld時間%02lld分" : "%lld h %02lld min", h, m);
    if (m)
        return ds_fmt_text(buf, len, ja ? "%lld分" : "%lld min", m);
    return ds_fmt_text(buf, len, ja ? "%lld秒" : "%lld s", (long long)s);
}

char *ds_ev_si(double v, int ja, char *buf, size_t len)
{
    if (ja) {   /* 万 and 億, as Japanese reports write large numbers: "2,070億", "12万", "1.5万" */
        const char *unit = v >= 1e8 ? "億" : v >= 1e4 ? "万" : "";
        double x = v >= 1e8 ? v / 1e8 : v >= 1e4 ? v / 1e4 : v;
        char n[32];
        if (x >= 10)
            ds_fmt_count((uint64_t)(x + 0.5), n, sizeof n);
        else
            snprintf(n, sizeof n, unit[0] ? "%.1f" : "%.2f", x);
        snprintf(buf, len, "%s%s", n, unit);
        return buf;
    }
    static const char *const unit[] = { "", " k", " M", " G", " T" };
    int u = 0;
    while (v >= 1000 && u < 4) {
        v /= 1000;
        u++;
    }
    snprintf(buf, len, v >= 100 ? "%.0f%s" : v >= 10 ? "%.0f%s" : "%.1f%s", v, unit[u]);
    return buf;
}

char *ds_ev_rate(double v, char *buf, size_t len)
{
    if (!(v >= 0))
        v = 0;
    if (v >= 100)
        return ds_fmt_count((uint64_t)(v + 0.5), buf, len);
    snprintf(buf, len, v >= 10 ? "%.0f" : v >= 1 ? "%.1f" : "%.2f", v);
    return buf;
}

double ds_ev_num(const ds_event *v, const char *name)
{
    return ds_event_num(v, name, NAN);
}

const char *ds_ev_int(double x, char *buf, size_t len)
{
    return ds_fmt_count(isfinite(x) && x > 0 ? (uint64_t)llround(x) : 0, buf, len);
}

const char *ds_ev_tool_title(const char *tool)
{
    static const struct { const char *name, *title; } T[] = {
        { "mirai", "Mirai" }, { "zmap", "ZMap" }, { "masscan", "Masscan" }, { "nmap", "Nmap" },
        { "sipvicious", "SIPVicious" }, { "sip-other", "SIP scanner" }, { "slammer", "SQL Slammer" },
        { "nachi", "Nachi/Welchia" },
    };
    size_t n = strcspn(tool, ",");
    for (size_t i = 0; i < sizeof T / sizeof T[0]; i++)
        if (strlen(T[i].name) == n && !strncmp(T[i].name, tool, n))
            return T[i].title;
    return tool;
}

void ds_event_sentence(const ds_event *v, const ds_event_words *w, ds_out *o)
{
    const ds_ev_text *t = w->lang == DS_LANG_JA ? ds_ev_text_ja : ds_ev_text_en;
    while (t->type && strcmp(t->type, v->type))
        t++;
    t->fn(v, w, o);
}

void ds_event_heading(const ds_event *v, const ds_event_words *w, ds_out *o)
{
    if (w->lang == DS_LANG_JA)
        ds_event_heading_ja(v, w, o);
    else
        ds_event_heading_en(v, w, o);
}

void ds_event_subject(const ds_event *v, const ds_event_words *w, ds_out *o)
{
    char svc[DS_SERVICE_STRLEN];
    int ja = w->lang == DS_LANG_JA;
    int of_country = ds_event_fact(v, "of_country") != NULL;
    if (of_country || !v->has_service) {
        ds_out_puts(o, v->country[0] ? ds_ev_country(w, v->country) : "—");
        if (of_country && v->has_service)
            ds_out_printf(o, ja ? "（%s）" : " (%s)", ds_ev_service(v->service, svc, sizeof svc));
        return;
    }
    ds_out_puts(o, ds_ev_service(v->service, svc, sizeof svc));
    if (v->country[0])
        ds_out_printf(o, ja ? "（%s）" : " (%s)", ds_ev_country(w, v->country));
}
