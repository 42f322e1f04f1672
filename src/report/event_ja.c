/* event_ja.c: events in Japanese, one function per type, from their facts only.
 *
 * Written as JPCERT/CC's TSUBAME reports and the NPA's @police reports write: ports as 23/TCP,
 * countries by their short names (韓国, ロシア: names.c), counts with what they count
 * (「1日あたりの送信元数」, never a bare 「1日あたり19件」), no sign after a word that already says
 * the direction, full-width brackets.  Every number comes from the event (analysis/events.h).
 */
#include "report/event_int.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/dos.h"
#include "core/scan.h"
#include "util/timeutil.h"

static const char *day(int32_t d, char *buf, size_t len)
{
    return ds_fmt_day(d, 1, buf, len);
}

/* 「2023年7月24日に」「2023年7月5日から2023年8月3日にかけて」 */
static void when_days(const ds_event *v, ds_out *o)
{
    char a[DS_FMT_DAY_LEN], b[DS_FMT_DAY_LEN];
    int32_t d0 = ds_ev_day(v->start_ns), d1 = ds_ev_day(v->end_ns);
    if (d0 == d1)
        ds_out_printf(o, "%sに", day(d0, a, sizeof a));
    else
        ds_out_printf(o, "%sから%sにかけて", day(d0, a, sizeof a), day(d1, b, sizeof b));
}

/* 「2023年7月6日16:21から18:12（UTC、111分間）」 */
static void when_span(const ds_event *v, ds_out *o)
{
    char a[48], b[48], d[32];
    int64_t t0 = (int64_t)(v->start_ns / 1000000000ULL), t1 = (int64_t)(v->end_ns / 1000000000ULL);
    if (t0 / 60 == t1 / 60) {
        ds_out_printf(o, "%s（UTC、%s）", ds_ev_time(t0, 1, 0, a, sizeof a), ds_ev_dur((double)(t1 - t0), 1, d, sizeof d));
        return;
    }
    ds_out_printf(o, "%sから%s（UTC、%s間）", ds_ev_time(t0, 1, 0, a, sizeof a), ds_ev_time(t1, 1, t0, b, sizeof b),
                  ds_ev_dur((double)(t1 - t0), 1, d, sizeof d));
}

/* 「1521/TCP宛てのパケット」「韓国からのパケット」 */
static void what(const ds_event *v, const ds_event_words *w, ds_out *o)
{
    char svc[DS_SERVICE_STRLEN];
    if (ds_event_fact(v, "of_country"))
        ds_out_printf(o, "%sからのパケット", ds_ev_country(w, v->country));
    else if (ds_event_fact(v, "of_country_and_service"))   /* 「ロシアからの8888/TCP宛てのパケット」 */
        ds_out_printf(o, "%sからの%s宛てのパケット", ds_ev_country(w, v->country), ds_ev_service(v->service, svc, sizeof svc));
    else
        ds_out_printf(o, "%s宛てのパケット", ds_ev_service(v->service, svc, sizeof svc));
}

/* 「送信元の94%は中国、99%が送信元ポート6000からでした。」 */
static void drivers(const ds_event *v, const ds_event_words *w, ds_out *o)
{
    char svc[DS_SERVICE_STRLEN], lead[160] = "";
    if (ds_event_fact(v, "of_country")) {
        double s = ds_ev_num(v, "service_share");
        if (v->has_service && isfinite(s))
            snprintf(lead, sizeof lead, "その%.0f%%は%s宛て", 100 * s, ds_ev_service(v->service, svc, sizeof svc));
    } else if (v->country[0]) {
        double s = ds_ev_num(v, "country_share");
        if (isfinite(s))
            snprintf(lead, sizeof lead, "送信元の%.0f%%は%s", 100 * s, ds_ev_country(w, v->country));
    }
    const ds_event_evidence *sp = ds_event_fact(v, "sport_share");
    int port = sp && sp->value >= DS_EV_SPORT_SHARE;
    if (lead[0] && port)
        ds_out_printf(o, "%s、%.0f%%が送信元ポート%sからでした。", lead, 100 * sp->value, sp->text);
    else if (lead[0])
        ds_out_printf(o, "%sでした。", lead);
    else if (port)
        ds_out_printf(o, "その%.0f%%が送信元ポート%sからでした。", 100 * sp->value, sp->text);
}

/* 送信元数の系列で見つけた国の増加 (docs/detection.md): 判定に使った数値 */
static void sources_rise(const ds_event *v, ds_out *o)
{
    const ds_event_evidence *sp = ds_event_fact(v, "sources_peak");
    double sb = ds_ev_num(v, "sources_per_day_baseline"), sz = ds_ev_num(v, "sources_robust_z");
    char n[32], b[32], dd[DS_FMT_DAY_LEN] = "";
    int32_t d;
    if (!sp || !isfinite(sb) || !isfinite(sz) || llround(sb) <= 0)
        return;
    if (!ds_day_parse(sp->text, &d))
        day(d, dd, sizeof dd);
    ds_out_printf(o, "1日あたりの送信元数は%sに最多の%s件で、平常時（1日あたり%s件）の%.1f倍でした（ロバストz値 %.1f）。", dd,
                  ds_ev_int(sp->value, n, sizeof n), ds_ev_int(sb, b, sizeof b), sp->value / sb, sz);
}

static void series_text(const ds_event *v, const ds_event_words *w, ds_out *o)
{
    char npk[32], nmed[32], ntot[32], nsrc[32], pk_day[DS_FMT_DAY_LEN] = "", s1[32], s0[32];
    const ds_event_evidence *peak = ds_event_fact(v, "packets_peak");
    double base = ds_ev_num(v, "packets_per_day_baseline");
    int32_t pd;
    if (peak && !ds_day_parse(peak->text, &pd))
        day(pd, pk_day, sizeof pk_day);
    ds_ev_int(peak ? peak->value : 0, npk, sizeof npk);
    ds_ev_int(base, nmed, sizeof nmed);
    ds_ev_int((double)v->packets, ntot, sizeof ntot);
    ds_ev_int((double)v->sources, nsrc, sizeof nsrc);
    char rat[160];
    if (isfinite(base) && llround(base) > 0)
        ds_fmt_text(rat, sizeof rat, "平常時（1日あたり%sパケット）の%.1f倍", nmed, peak ? peak->value / base : 0);
    else
        ds_fmt_text(rat, sizeof rat, "平常時は1日あたり1パケット未満");
    char srcday[160] = "";
    double spd = ds_ev_num(v, "sources_per_day"), spb = ds_ev_num(v, "sources_per_day_before");
    if (isfinite(spd) && isfinite(spb))
        ds_fmt_text(srcday, sizeof srcday, "（1日あたりの送信元数は%s件、前週は%s件）", ds_ev_int(spd, s1, sizeof s1),
                    ds_ev_int(spb, s0, sizeof s0));
    when_days(v, o);
    ds_out_puts(o, "、");
    if (!strcmp(v->type, "single_source") && v->ntop) {
        const ds_event_source *s = &v->top[0];
        char spk[32];
        double share = ds_ev_num(v, "top_source_share_of_excess");
        what(v, w, o);
        ds_out_printf(o, "が増加しました。増加分の%.0f%%は1台のホスト", 100 * (isfinite(share) ? (share > 1 ? 1 : share) : 0));
        ds_ev_source(w, s->addr, s->cc, s->asn, o);
        ds_out_printf(o, "からの%sパケットで、最多は%sの%sパケット（%s）でした。", ds_ev_int((double)s->packets, spk, sizeof spk),
                      pk_day, npk, rat);
    } else if (!strcmp(v->type, "new_service")) {
        double quiet = ds_ev_num(v, "quiet_days_before"), rank = ds_ev_num(v, "rank");
        if (isfinite(quiet))
            ds_out_printf(o, "それ以前の%.0f日間には1パケットも観測されていなかった", quiet);
        what(v, w, o);
        ds_out_printf(o, "を新たに観測しました。%s件の送信元から%sパケット%sで、", nsrc, ntot, srcday);
        if (isfinite(rank) && rank > 0)
            ds_out_printf(o, "期間中の順位は%.0f位、", rank);
        ds_out_printf(o, "最多は%sの%sパケットでした。", pk_day, npk);
        drivers(v, w, o);
    } else {
        int surge = !strcmp(v->type, "surge");
        what(v, w, o);
        ds_out_printf(o, "が%sしました。%s件の送信元から%sパケット%sで、最多は%sの%sパケットと、%sでした。",
                      surge ? "急増" : "増加", nsrc, ntot, srcday, pk_day, npk, rat);
        sources_rise(v, o);
        double rp = ds_ev_num(v, "rank"), rq = ds_ev_num(v, "rank_previous");
        if (surge && isfinite(rp) && rp > 0 && rq != rp) {
            if (!isfinite(rq) || rq <= 0)
                ds_out_printf(o, "期間中の順位は%.0f位で、前期には観測されていませんでした。", rp);
            else if (rq > 1000)
                ds_out_printf(o, "前期の1,000位圏外から%.0f位に上昇しました。", rp);
            else
                ds_out_printf(o, "前期の%.0f位から%.0f位に上昇しました。", rq, rp);
        }
        drivers(v, w, o);
    }
    if (ds_event_fact(v, "first_seen_after_outage"))
        ds_out_puts(o, "観測の停止明けに初めて確認されたもので、停止中に始まっていた可能性があります。");
}

static const char *const WEEKDAY[7] = { "日曜日", "月曜日", "火曜日", "水曜日", "木曜日", "金曜日", "土曜日" };

/* 週周期を見つけた検定: 7日の自己相関、またはフリードマンの順位検定 (weekly_rule.h) */
static void weekly_test(const ds_event *v, double acf, ds_out *o)
{
    double p = ds_ev_num(v, "weekday_rank_p");
    if (ds_event_fact(v, "by_rank_test") && p < 0.0001)
        ds_out_puts(o, "曜日ごとの順位の差は偶然では説明できない大きさでした（フリードマン検定、p < 0.0001）。");
    else if (ds_event_fact(v, "by_rank_test"))
        ds_out_printf(o, "曜日ごとの順位の差は偶然では説明できない大きさでした（フリードマン検定、p = %.4f）。", p);
    else
        ds_out_printf(o, "7日の自己相関は%.2fでした。", acf);
}

static void periodic_text(const ds_event *v, const ds_event_words *w, ds_out *o)
{
    char a[DS_FMT_DAY_LEN], b[DS_FMT_DAY_LEN], pk[32];
    double acf = ds_ev_num(v, "autocorrelation"), ratio = ds_ev_num(v, "peak_to_mean");
    ds_out_printf(o, "%sから%sにかけて、", day(ds_ev_day(v->start_ns), a, sizeof a), day(ds_ev_day(v->end_ns), b, sizeof b));
    what(v, w, o);
    ds_out_printf(o, "（%sパケット）は", ds_ev_int((double)v->packets, pk, sizeof pk));
    if (ds_event_fact(v, "working_week")) {
        ds_out_printf(o, "平日に多く週末に少ない週周期で推移しました。月曜日から金曜日の量は週末の%.1f倍で、%.0f週のうち%.0f%%の週で"
                         "土曜日と日曜日が最も少なく、",
                      ds_ev_num(v, "weekdays_to_weekend"), ds_ev_num(v, "weeks_counted"), 100 * ds_ev_num(v, "weeks_weekend_quietest"));
        weekly_test(v, acf, o);
    } else if (!strcmp(v->type, "periodic_weekly")) {
        int d = (int)ds_ev_num(v, "peak_weekday");
        const char *wd = d >= 0 && d < 7 ? WEEKDAY[d] : "?";
        ds_out_printf(o, "%sを頂点とする7日周期で推移しました。%sの量は週平均の%.1f倍で、%.0f週のうち%.0f%%の週でこの曜日が"
                         "最多となり、",
                      wd, wd, ratio, ds_ev_num(v, "weeks"), 100 * ds_ev_num(v, "weeks_peaking_there"));
        weekly_test(v, acf, o);
    } else {
        const ds_event_evidence *h = ds_event_fact(v, "peak_hour_local");
        double utc = ds_ev_num(v, "peak_hour_utc");
        int local = h ? (int)h->value : 0;
        const char *tz = h && h->text[0] ? h->text : "UTC";
        char utc_s[48] = "";
        if (strcmp(tz, "UTC") && isfinite(utc))
            snprintf(utc_s, sizeof utc_s, "、協定世界時%02d時", (int)utc);
        ds_out_printf(o, "%02d時（%s%s）を頂点とする24時間周期で推移しました。この時間帯の量は1日平均の%.1f倍で、%.0f日のうち"
                         "%.0f%%の日で前後2時間以内が最多となり、24時間の自己相関は%.2fでした。",
                      local, tz, utc_s, ratio, ds_ev_num(v, "days"), 100 * ds_ev_num(v, "days_peaking_there"), acf);
    }
}

/* 「中国 12件、ブラジル 3件ほか2か国・地域」/「中国 14%、...」 (of = hosts counted) */
static void by_country(const ds_event *v, const ds_event_words *w, double of, ds_out *o)
{
    size_t shown = 0;
    for (size_t i = 0; i < v->nevidence; i++) {
        const ds_event_evidence *x = &v->evidence[i];
        if (strcmp(x->name, "hosts_in_country"))
            continue;
        ds_out_printf(o, "%s%s ", shown ? "、" : "", ds_ev_country(w, x->text));
        if (of > 0)
            ds_out_printf(o, "%.0f%%", 100 * x->value / of);
        else
            ds_out_printf(o, "%.0f件", x->value);
        shown++;
    }
    double all = ds_ev_num(v, "countries");
    if (isfinite(all) && all > (double)shown)
        ds_out_printf(o, "ほか%.0fか国・地域", all - (double)shown);
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
        day(d, pd, sizeof pd);
    ds_out_printf(o, "%sから%sにかけて、Miraiの特徴（シーケンス番号＝宛先アドレス）を持つSYNパケットを%s%s%s宛てに送信する"
                     "ホストを%s台観測しました（%sパケット）。1日あたりの感染ホスト数は%s～%s台（最多は%s）で、"
                     "送信元の国・地域別では",
                  day(ds_ev_day(v->start_ns), a, sizeof a), day(ds_ev_day(v->end_ns), b, sizeof b), s1, s2[0] ? "・" : "",
                  s2, ds_ev_int((double)v->sources, hosts, sizeof hosts), ds_ev_int((double)v->packets, pk, sizeof pk),
                  ds_ev_int(ds_ev_num(v, "hosts_per_day_min"), lo, sizeof lo), ds_ev_int(mx ? mx->value : 0, hi, sizeof hi), pd);
    by_country(v, w, ds_ev_num(v, "hosts_counted"), o);
    ds_out_puts(o, "でした。");
}

static const char *const ATTACK_JA[DS_ATK__COUNT] = {
    "SYNフラッド攻撃", "SYNフラッド攻撃（閉じたポート）またはTCPフラッド攻撃", "ICMP Echo（ping）フラッド攻撃",
    "UDPフラッド攻撃", "TCPフラッド攻撃（ICMPエラー）", "その他のICMP応答を伴うフラッド攻撃",
};

/* The words before a victim's or reflectors' service: 「、送信元ポート80/TCP」, but ICMP has no
 * ports (「、8/ICMP」, not 「送信元ポート8/ICMP」). */
static const char *port_lead(const ds_event *v, const char *svc, const char *port_words)
{
    if (!svc[0])
        return "";
    uint8_t proto = DS_SERVICE_PROTO(v->service);
    return proto == DS_PROTO_TCP || proto == DS_PROTO_UDP ? port_words : "、";
}

static void backscatter_text(const ds_event *v, const ds_event_words *w, ds_out *o)
{
    char pk[32], svc[DS_SERVICE_STRLEN] = "";
    int k = (int)ds_ev_num(v, "inferred_attack");
    if (k < 0 || k >= DS_ATK__COUNT)
        k = DS_ATK_ICMP_OTHER;
    if (v->has_service)
        ds_ev_service(v->service, svc, sizeof svc);
    if (v->ntop)
        ds_ev_source(w, v->top[0].addr, v->top[0].cc, v->top[0].asn, o);
    ds_out_puts(o, "からのバックスキャッタを");
    when_span(v, o);
    double peak = ds_ev_num(v, "peak_packets_per_60s");
    char pkm[32];
    ds_out_printf(o, "に%sパケット観測しました（60秒あたり最大%sパケット%s%s）。%sを受けていたと推定されます。",
                  ds_ev_int((double)v->packets, pk, sizeof pk), ds_ev_int(isfinite(peak) ? peak : 0, pkm, sizeof pkm),
                  port_lead(v, svc, "、送信元ポート"), svc, ATTACK_JA[k]);
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
        ds_out_printf(o, "ダークネットのアドレス%s%s%sを狙ったフラッド攻撃を", target, svc[0] ? "の" : "", svc);
        when_span(v, o);
        char pkm[32];
        const ds_event_evidence *kind[4];
        size_t nk = 0;
        for (size_t i = 0; i < v->nevidence && nk < 4; i++)
            if (!strcmp(v->evidence[i].name, "packets_of_kind"))
                kind[nk++] = &v->evidence[i];
        ds_out_printf(o, "に観測しました。約%s件の送信元から", src);
        if (nk == 1)   /* 「SYNの8,000パケット」 */
            ds_out_printf(o, "%sの", strcmp(kind[0]->text, "other") ? kind[0]->text : "ACK・FIN等");
        ds_out_printf(o, "%sパケット（", pk);
        for (size_t i = 0; nk > 1 && i < nk; i++) {   /* 「SYN 12,000、ACK・FIN等 3,000、」 */
            char c[32];
            ds_out_printf(o, "%s %s、", strcmp(kind[i]->text, "other") ? kind[i]->text : "ACK・FIN等",
                          ds_ev_int(kind[i]->value, c, sizeof c));
        }
        ds_out_printf(o, "毎秒%sパケット、60秒あたり最大%sパケット）でした。", ds_ev_rate(ds_ev_num(v, "rate_pps"), rate, sizeof rate),
                      ds_ev_int(isfinite(peak) ? peak : 0, pkm, sizeof pkm));
        if (v->sources && v->packets <= 2 * v->sources)
            ds_out_puts(o, "送信元の多くは1パケットのみで、偽装されたランダムな送信元アドレスと見られます。");
        return;
    }
    ds_out_printf(o, "ダークネットのアドレス%sが、リフレクション攻撃の偽装された被害者として使われました。", target);
    when_span(v, o);
    ds_out_printf(o, "に約%s台のホストが%sパケット（", src, pk);
    size_t n = 0;
    for (size_t i = 0; i < v->nevidence; i++)
        if (!strcmp(v->evidence[i].name, "packets_of_kind")) {
            char c[32];
            ds_out_printf(o, "%s%s %s", n++ ? "、" : "", v->evidence[i].text, ds_ev_int(v->evidence[i].value, c, sizeof c));
        }
    char pkm[32];
    ds_out_printf(o, "）で応答しました（60秒あたり最大%sパケット%s%s）。", ds_ev_int(isfinite(peak) ? peak : 0, pkm, sizeof pkm),
                  port_lead(v, svc, "、主に送信元ポート"), svc);
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
    ds_out_printf(o, "調査目的のスキャン：AS%.0f%s%sの既知の調査用送信元%s件から、%sから%sにかけて%sパケット（全体の%.1f%%）を"
                     "観測しました。宛先サービスは%.0f種類で",
                  isfinite(asn) ? asn : 0, org && *org ? " " : "", org && *org ? org : "",
                  ds_ev_int((double)v->sources, ns, sizeof ns), day(ds_ev_day(v->start_ns), a, sizeof a),
                  day(ds_ev_day(v->end_ns), b, sizeof b), ds_ev_int((double)v->packets, pk, sizeof pk),
                  100 * ds_ev_num(v, "share_of_all_packets"), nsvc);
    if (m && svc[0])
        ds_out_printf(o, "、その%.1f%%が%s宛てでした。", 100 * m->value, svc);
    else
        ds_out_puts(o, "した。");
    ds_out_puts(o, "このような調査は実施者が公表しており、集計から除外することもできます。");
}

static const char *tool_kind(const char *tool)
{
    if (!strcmp(tool, "nmap"))
        return "ポートスキャン";
    if (!strcmp(tool, "slammer") || !strcmp(tool, "nachi"))
        return "ワームの感染活動";
    if (!strcmp(tool, "sipvicious") || !strcmp(tool, "sip-other"))
        return "SIPスキャン";
    return "スキャン";
}

static void tool_text(const ds_event *v, const ds_event_words *w, ds_out *o)
{
    const char *title = !strcmp(v->tool, "sip-other") ? "SIPスキャナ" : ds_ev_tool_title(v->tool);
    char pk[32], a[DS_FMT_DAY_LEN], b[DS_FMT_DAY_LEN], svc[DS_SERVICE_STRLEN] = "";
    const ds_event_evidence *m = ds_event_fact(v, "main_service_share");
    ds_service s;
    if (m && !ds_service_parse(m->text, &s))
        ds_ev_service(s, svc, sizeof svc);
    double days = ds_ev_num(v, "days_active"), nsvc = ds_ev_num(v, "services");
    day(ds_ev_day(v->start_ns), a, sizeof a);
    day(ds_ev_day(v->end_ns), b, sizeof b);
    ds_ev_int((double)v->packets, pk, sizeof pk);
    if (v->sources <= 1 && v->ntop) {
        ds_ev_source(w, v->top[0].addr, v->top[0].cc, v->top[0].asn, o);
        if (!strcmp(a, b))   /* one day: 「2010年7月4日に」 */
            ds_out_printf(o, "から%sによる%sを観測しました。%sに%sパケット", title, tool_kind(v->tool), a, pk);
        else
            ds_out_printf(o, "から%sによる%sを観測しました。%sから%sまでの%.0f日間に%sパケット", title, tool_kind(v->tool), a,
                          b, days, pk);
        if (m)
            ds_out_printf(o, "で、その%.1f%%が%s宛て", 100 * m->value, svc);
        char ns[32];
        ds_out_printf(o, "でした（宛先サービス%s種類）。", ds_ev_int(nsvc, ns, sizeof ns));
        return;
    }
    char hosts[32];
    when_days(v, o);   /* one day: 「2026年12月7日に」, not 「…から（同じ日）にかけて」 */
    ds_out_printf(o, "、%sによる%s宛ての%sを%s件の送信元から観測しました（%sパケット", title, svc[0] ? svc : "多数のサービス",
                  tool_kind(v->tool), ds_ev_int((double)v->sources, hosts, sizeof hosts), pk);
    if (m)
        ds_out_printf(o, "、その%.1f%%が%s宛て", 100 * m->value, svc);
    ds_out_puts(o, "）。送信元の国・地域別では");
    by_country(v, w, 0, o);
    if (v->ntop) {
        char tpk[32];
        ds_out_puts(o, "で、最多の送信元は");
        ds_ev_source(w, v->top[0].addr, v->top[0].cc, v->top[0].asn, o);
        ds_out_printf(o, "の%sパケットでした。", ds_ev_int((double)v->top[0].packets, tpk, sizeof tpk));
    } else {
        ds_out_puts(o, "でした。");
    }
}

static void scan_text(const ds_event *v, const ds_event_words *w, ds_out *o)
{
    char svc[DS_SERVICE_STRLEN], a[32], mon[32], pk[32], t0[48], d[32], r[32];
    const ds_event_evidence *ad = ds_event_fact(v, "addresses");
    int estimated = ad && !strncmp(ad->text, "estimated", 9);
    double sweeps = ds_ev_num(v, "sweeps"), spk = ds_ev_num(v, "sweep_packets"), st = ds_ev_num(v, "sweep_start"), dur = ds_ev_num(v, "duration_s");
    if (!isfinite(spk))
        spk = (double)v->packets;
    if (!isfinite(st))
        st = (double)(v->start_ns / 1000000000ULL);
    if (!isfinite(dur))
        dur = 0;
    if (v->ntop)
        ds_ev_source(w, v->top[0].addr, v->top[0].cc, v->top[0].asn, o);
    ds_out_printf(o, "から%sへの%sスキャンを観測しました。", ds_ev_service(v->service, svc, sizeof svc),
                  sweeps > 1 ? "繰り返しの" : "");
    if (sweeps > 1) {
        char f[DS_FMT_DAY_LEN], l[DS_FMT_DAY_LEN], ev[32], tp[32];
        ds_out_printf(o, "%sから%sまでに%.0f回（中央値で%sおき、計%sパケット）観測しました。最大の回では、",
                      day(ds_ev_day(v->start_ns), f, sizeof f), day(ds_ev_day(v->end_ns), l, sizeof l), sweeps,
                      ds_ev_dur(ds_ev_num(v, "sweep_interval_median_s"), 1, ev, sizeof ev), ds_ev_int((double)v->packets, tp, sizeof tp));
    }
    ds_ev_dur(dur, 1, d, sizeof d);
    ds_out_printf(o, "%s（UTC）から%s%sの間に、監視対象%sアドレスのうち%sアドレス（%.1f%%%s）へ%sパケット（毎秒%sパケット）が届きました。",
                  ds_ev_time((int64_t)st, 1, 0, t0, sizeof t0), dur >= 1 ? "約" : "", d,
                  ds_ev_int(ds_ev_num(v, "monitored_addresses"), mon, sizeof mon), ds_ev_int(ad ? ad->value : 0, a, sizeof a),
                  100 * ds_ev_num(v, "share_of_monitored"), estimated ? "、推定値" : "", ds_ev_int(spk, pk, sizeof pk),
                  ds_ev_rate(ds_ev_num(v, "rate_pps"), r, sizeof r));
    double inet = ds_ev_num(v, "internet_rate_pps");
    if (isfinite(inet)) {
        char i[32], lo[32], hi[32], c[32];
        double cover = ds_ev_num(v, "ipv4_cover_s");
        ds_out_printf(o, "宛先は一様ランダムに選ばれているとみられ、インターネット全体では毎秒約%sアドレス（95%%信頼区間%s～%s）、"
                         "IPv4全体を%s%sで走査する速度と推定されます。",
                      ds_ev_si(inet, 1, i, sizeof i), ds_ev_si(ds_ev_num(v, "internet_rate_pps_low"), 1, lo, sizeof lo),
                      ds_ev_si(ds_ev_num(v, "internet_rate_pps_high"), 1, hi, sizeof hi), cover >= 1 ? "約" : "",
                      ds_ev_dur(cover, 1, c, sizeof c));
    } else if (ds_event_fact(v, "internet_rate_rejected")) {
        ds_out_puts(o, "宛先は一様ランダムに見えますが、この速度でインターネット全体を走査するには100Gbit/sの回線でも足りないため、"
                       "IPv4全体ではなくダークネット周辺の範囲を走査したものとみられ、インターネット全体の走査速度は推定していません。");
    } else if (ds_ev_num(v, "target_order") == DS_SCAN_ORDER_NOT_RANDOM) {
        ds_out_puts(o, "宛先の順序が一様ランダムではないため、インターネット全体の走査速度は推定していません。");
    }
    if (v->tool[0])
        ds_out_printf(o, "ツールは%sです。", ds_ev_tool_title(v->tool));
}

static void vertical_text(const ds_event *v, const ds_event_words *w, ds_out *o)
{
    char np[32], pk[32], a[DS_FMT_DAY_LEN], b[DS_FMT_DAY_LEN];
    double ports = ds_ev_num(v, "ports"), addrs = ds_ev_num(v, "addresses"), days = ds_ev_num(v, "days");
    if (v->ntop)
        ds_ev_source(w, v->top[0].addr, v->top[0].cc, v->top[0].asn, o);
    ds_out_printf(o, "から、ダークネットの%.0fアドレスの%sポートを調べる垂直スキャン（1台のホストの多数のポートへのスキャン）を", addrs,
                  ds_ev_int(ports, np, sizeof np));
    if (days > 1)
        ds_out_printf(o, "%sから%sまでの%.0f日間に", day(ds_ev_day(v->start_ns), a, sizeof a), day(ds_ev_day(v->end_ns), b, sizeof b),
                      days);
    else
        ds_out_printf(o, "%sに", day(ds_ev_day(v->start_ns), a, sizeof a));
    ds_out_printf(o, "観測しました（%sパケット）。", ds_ev_int((double)v->packets, pk, sizeof pk));
    static const char *const top[] = { "top_port_1", "top_port_2", "top_port_3", "top_port_4", "top_port_5" };
    const ds_event_evidence *t = ds_event_fact(v, top[0]);
    if (t && t->value > ds_ev_num(v, "fewest_port_packets")) {
        ds_out_puts(o, "多かったポートは");
        for (size_t i = 0; i < 5 && (t = ds_event_fact(v, top[i])); i++) {
            char svc[DS_SERVICE_STRLEN];
            ds_service s;
            ds_out_printf(o, "%s%s", i ? "、" : "", ds_service_parse(t->text, &s) ? t->text : ds_ev_service(s, svc, sizeof svc));
        }
        ds_out_puts(o, "です。");
    }
    if (v->tool[0])
        ds_out_printf(o, "ツールは%sです。", ds_ev_tool_title(v->tool));
}

static void silent_text(const ds_event *v, const ds_event_words *w, ds_out *o)
{
    (void)w;
    const char *sensor = ds_event_str(v, "sensor");
    char d[32], th[32], t0[48], t1[48];
    int64_t s0 = (int64_t)(v->start_ns / 1000000000ULL), s1 = (int64_t)(v->end_ns / 1000000000ULL);
    int source = (int)ds_ev_num(v, "source");
    ds_ev_dur_exact(s1 - s0, 1, d, sizeof d);
    ds_ev_dur_exact((int64_t)ds_ev_num(v, "threshold_s"), 1, th, sizeof th);
    ds_ev_time(s0, 1, 0, t0, sizeof t0);
    ds_ev_time(s1, 1, 0, t1, sizeof t1);
    sensor = sensor ? sensor : "?";
    if (source == 1) {
        if (ds_ev_num(v, "ongoing") > 0) {
            ds_out_printf(o, "センサー%sは%s前から沈黙しています。最後のセグメント（%.0f）がコレクターに届いたのは%s（UTC）で、"
                             "それ以降届いていません（閾値%s）。",
                          sensor, d, ds_ev_num(v, "last_segment"), t0, th);
            return;
        }
        ds_out_printf(o, "センサー%sが%sにわたり沈黙しました。%sから%s（UTC）まで、コレクターにセグメントが届いていません"
                         "（閾値%s、直前のセグメント%.0f、直後のセグメント%.0f）。",
                      sensor, d, t0, t1, th, ds_ev_num(v, "last_segment"), ds_ev_num(v, "next_segment"));
        const char *cause = ds_event_str(v, "cause");
        if (cause && !strcmp(cause, "upload")) {
            ds_out_puts(o, "センサーはその間も記録を続けていました（後から届いたセグメントがこの間を含んでいます）。"
                           "アップロード経路またはコレクターの停止で、データの欠落はありません。");
        } else if (cause && !strcmp(cause, "sensor")) {
            char u[32];
            ds_out_printf(o, "そのうち%sの間、センサーはパケットを記録していません（後から届いたセグメントにも含まれていません）。"
                             "センサーまたはキャプチャーの停止で、この間のデータは欠落しています。",
                          ds_ev_dur_exact((int64_t)ds_ev_num(v, "uncaptured_s"), 1, u, sizeof u));
        } else {
            ds_out_puts(o, "センサーとアップロード経路のどちらが停止していたかは不明です（セグメントの記録時刻がないか、"
                           "アップロード時刻と対応しません）。");
        }
        return;
    }
    if (source == 2) {
        ds_out_printf(o, "センサー%sで少なくとも%sにわたりパケットが記録されていません（%sから%s、UTC%s、1時間単位の集計、閾値%s）。",
                      sensor, d, t0, t1, ds_ev_num(v, "until_end_of_data") > 0 ? "、他のセンサーは記録を継続" : "", th);
        return;
    }
    int kind = (int)ds_ev_num(v, "kind");
    ds_out_printf(o, "センサー%sは%sにわたり停止していました（%sから%s、UTC%s）。", sensor, d, t0, t1,
                  ds_ev_num(v, "until_end_of_data") > 0 ? "、データの終わりまで継続" : "");
    if (kind == 1) {
        char usual[32];
        ds_out_printf(o, "通常は1時間あたり%sパケット以上を受信するところ、%.0f時間にわたりパケットがありません",
                      ds_ev_int(ds_ev_num(v, "usual_packets_per_hour"), usual, sizeof usual), ds_ev_num(v, "empty_hours"));
    } else if (kind == 2) {
        ds_out_puts(o, "設定で停止と宣言されています");
    } else {
        ds_out_puts(o, "その間を記録したキャプチャーがなく、前後にはデータがあります");
    }
    ds_out_printf(o, "（閾値%s）。%sこの間の数値は少ないのではなく欠落しています。", th,
                  ds_ev_num(v, "began_before_period") > 0 ? "この停止は期間の開始前に始まっています。" : "");
}

/* A type this file does not know (a newer store): its name and packets. */
static void other_text(const ds_event *v, const ds_event_words *w, ds_out *o)
{
    (void)w;
    char pk[32];
    ds_out_printf(o, "種類%sの事象：%sパケット。", v->type, ds_ev_int((double)v->packets, pk, sizeof pk));
}

const ds_ev_text ds_ev_text_ja[] = {
    { "surge", series_text },          { "spike", series_text },       { "new_service", series_text },
    { "single_source", series_text },  { "periodic_daily", periodic_text }, { "periodic_weekly", periodic_text },
    { "mirai", mirai_text },           { "backscatter", backscatter_text }, { "flood", flood_text },
    { "reflection", flood_text },      { "research_scanner", research_text }, { "tool", tool_text },
    { "scan", scan_text },             { "vertical_scan", vertical_text }, { "sensor_silent", silent_text },
    { NULL, other_text },
};

void ds_event_heading_ja(const ds_event *v, const ds_event_words *w, ds_out *o)
{
    char svc[DS_SERVICE_STRLEN];
    const char *t = v->type;
    if (!strcmp(t, "surge") || !strcmp(t, "spike") || !strcmp(t, "new_service") || !strcmp(t, "single_source") ||
        !strcmp(t, "periodic_daily") || !strcmp(t, "periodic_weekly")) {
        if (ds_event_fact(v, "of_country"))
            ds_out_printf(o, "%sからのパケット", ds_ev_country(w, v->country));
        else
            ds_out_printf(o, "%s宛てパケット", ds_ev_service(v->service, svc, sizeof svc));
        ds_out_puts(o, !strcmp(t, "surge")            ? "の急増"
                       : !strcmp(t, "spike")          ? "の一時的な増加"
                       : !strcmp(t, "new_service")    ? "の新規観測"
                       : !strcmp(t, "single_source")  ? "の単一ホストによる増加"
                       : !strcmp(t, "periodic_daily") ? "の24時間周期"
                                                      : "の週周期");
    } else if (!strcmp(t, "mirai")) {
        ds_out_puts(o, "Mirai感染ホスト");
    } else if (!strcmp(t, "backscatter")) {
        ds_out_printf(o, "%sへのDDoS攻撃", v->ntop ? v->top[0].addr : "");
    } else if (!strcmp(t, "flood")) {
        ds_out_puts(o, "ダークネットを狙ったフラッド攻撃");
    } else if (!strcmp(t, "reflection")) {
        ds_out_puts(o, "ダークネットを偽装被害者とするリフレクション攻撃");
    } else if (!strcmp(t, "research_scanner")) {
        ds_out_puts(o, "調査目的のスキャン");
    } else if (!strcmp(t, "tool")) {
        ds_out_printf(o, "スキャンツール：%s", ds_ev_tool_title(v->tool));
    } else if (!strcmp(t, "scan")) {
        ds_out_printf(o, "%sへのスキャン", v->has_service ? ds_ev_service(v->service, svc, sizeof svc) : "");
    } else if (!strcmp(t, "vertical_scan")) {
        ds_out_puts(o, "垂直スキャン");
    } else if (!strcmp(t, "sensor_silent")) {
        ds_out_puts(o, "センサーの停止");
    } else {
        ds_out_puts(o, t);
    }
}
