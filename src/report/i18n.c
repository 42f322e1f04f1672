/* i18n.c: what a report says, in English and Japanese, and in which order (see i18n.h).
 *
 * The outline is the content of JPCERT/CC's quarterly TSUBAME report, the NPA @police monthly
 * report and NICTER's yearly statistics, in one document:
 *   title and generation note; overview sentences stating the numbers as an analyst would
 *   (packets, packets per address per day, per address per year for a yearly report, change
 *   against the previous period, unique sources); the destination-service and source-region
 *   rankings (rank, previous rank or "new", packets, 件/IP・日, share, change absolute and
 *   relative, increase and decrease ranks) each with its daily top-5 series, share and mix
 *   figures; the IoT share of the top 30 services; the focus sections; the methods note.
 *
 * Every number is formatted by fmt.h, so both renderers print "1,234", "12.35", "+12.3%" and the
 * em dash for "no comparison" identically.  Texts are built in plain UTF-8 and escaped by the
 * backend only, so no string can be escaped twice or not at all.  Sentences are whole per
 * language (Japanese word order is not English word order), never glued from fragments of
 * the string table; the table holds labels only.
 *
 * Memory: per-table cell texts go into one ds_out arena, figures are drawn one at a time and
 * freed after the backend has used them, so the peak is one figure plus one table.
 */
#include "report/i18n.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "report/chart.h"
#include "report/outline_int.h"
#include "report/coverage.h"
#include "util/timeutil.h"

/* ---- the string table ------------------------------------------------------------------- */

static const char *const msgs[DS_MSG__COUNT][2] = {
    [DS_MSG_REPORT_TITLE] = { "Darknet Observation Report", "ダークネット観測レポート" },
    [DS_MSG_OVERVIEW] = { "Overview", "概要" },
    [DS_MSG_SERVICES] = { "Destination services", "宛先ポート別" },
    [DS_MSG_REGIONS] = { "Source regions", "送信元地域別" },
    [DS_MSG_FOCUS_SERVICE] = { "Focus service", "注目ポート" },
    [DS_MSG_FOCUS_REGION] = { "Focus region", "注目地域" },
    [DS_MSG_METHODS] = { "How to read this report", "本レポートの見方" },
    [DS_MSG_COL_RANK] = { "Rank", "順位" },
    [DS_MSG_COL_PREV_RANK] = { "Prev.", "前期順位" },
    [DS_MSG_COL_PORT] = { "Port", "宛先ポート" },
    [DS_MSG_COL_SERVICE] = { "Service", "サービス" },
    [DS_MSG_COL_IOT] = { "IoT devices", "IoT機器" },
    [DS_MSG_COL_REGION] = { "Region", "国・地域" },
    [DS_MSG_COL_CODE] = { "Code", "コード" },
    [DS_MSG_COL_PACKETS] = { "Packets", "パケット数" },
    [DS_MSG_COL_PER_IP_DAY] = { "Packets/IP/day", "件/IP・日" },
    [DS_MSG_COL_SHARE] = { "Share", "割合" },
    [DS_MSG_COL_CHANGE] = { "Change", "増減数" },
    [DS_MSG_COL_CHANGE_PCT] = { "Change (%)", "前期比" },
    [DS_MSG_COL_INC_RANK] = { "Incr. rank", "増加順位" },
    [DS_MSG_COL_DEC_RANK] = { "Decr. rank", "減少順位" },
    [DS_MSG_COL_SOURCES] = { "Sources", "送信元数" },
    [DS_MSG_COL_ADDRESS] = { "Source address", "送信元アドレス" },
    [DS_MSG_COL_COUNTRY] = { "Country", "国・地域" },
    [DS_MSG_COL_ASN] = { "ASN", "AS番号" },
    [DS_MSG_COL_ORG] = { "Organisation", "組織" },
    [DS_MSG_COL_DAYS_SEEN] = { "Days seen", "観測日数" },
    [DS_MSG_COL_FIRST_SEEN] = { "First seen (UTC)", "初観測日 (UTC)" },
    [DS_MSG_COL_LAST_SEEN] = { "Last seen (UTC)", "最終観測日 (UTC)" },
    [DS_MSG_NEW] = { "new", "新規" },
    [DS_MSG_OUT_OF_RANKING] = { "not ranked", "圏外" },
    [DS_MSG_OTHER] = { "Other", "その他" },
    [DS_MSG_UNKNOWN] = { "Unknown", "不明" },
    [DS_MSG_TABLE] = { "Table", "表" },
    [DS_MSG_FIGURE] = { "Figure", "図" },
    [DS_MSG_Y_PER_IP] = { "Packets per address", "パケット数/IP" },
    [DS_MSG_Y_PACKETS] = { "Packets", "パケット数" },
    [DS_MSG_Y_SOURCES] = { "Unique sources", "ユニーク送信元数" },
    [DS_MSG_IOT_SERVICES] = { "IoT-targeted services", "IoT機器を狙うポート" },
    [DS_MSG_OTHER_SERVICES] = { "Other services", "その他のポート" },
    [DS_MSG_TOP_SOURCES] = { "Top sources", "送信元上位" },
    [DS_MSG_TOP_ORGS] = { "Top organisations", "送信元組織上位" },
    [DS_MSG_SOURCE_PORTS] = { "Source ports", "送信元ポート別" },
    [DS_MSG_COL_SPORT] = { "Source port", "送信元ポート" },
    [DS_MSG_SPORT_VARIOUS] = { "several ports, or none (ICMP)", "複数のポート、またはポートなし（ICMP）" },
    [DS_MSG_PHENOMENA] = { "Notable phenomena", "注目された現象" },
    [DS_MSG_NO_PHENOMENA] = { "No notable phenomena were detected in this period.",
                              "この期間に注目すべき現象は検出されませんでした。" },
};

const char *ds_msg_text(ds_lang lang, ds_msg m)
{
    if ((unsigned)m >= DS_MSG__COUNT)
        return "";
    const char *s = msgs[m][lang == DS_LANG_JA ? 1 : 0];
    if (!s)
        s = msgs[m][0];
    return s ? s : "";
}

/* ---- the walk ---------------------------------------------------------------------------- */

#define TOP_SERIES 5        /* lines in the daily figures, as TSUBAME draws its top 5 */


static const char *M(const ds_walk *w, ds_msg m) { return ds_msg_text(w->lang, m); }

/* Short period name for sentences: "Q3 2023" / "2023年第3四半期" (without the months in
 * parentheses that ds_period_label adds in Japanese), else the full label. */
static char *period_name(const ds_period *p, int ja, char *buf, size_t len)
{
    if (p->kind == DS_PERIOD_QUARTER)
        return ja ? ds_fmt_text(buf, len, "%d年第%d四半期", p->year, p->num)
                  : ds_fmt_text(buf, len, "Q%d %d", p->num, p->year);
    return ds_period_label(p, ja, buf, len);
}

/* A relative change already in percent as "+12.3%" / "-4.0%" / "±0.0%" (fmt.h's rounding and sign rules). */
static char *signed_pct(double pct, char *buf, size_t len) { return ds_fmt_change_pct(100.0 + pct, 100.0, 1, buf, len); }

/* Per-address rate in prose: one decimal from 10 up ("74.1"), two below ("0.35"). */
static char *rate_text(double v, char *buf, size_t len) { return ds_fmt_fixed(v, fabs(v) >= 10 ? 1 : 2, buf, len); }

/* ---- tables ------------------------------------------------------------------------------ */

static const char *rank_text(int rank, char *buf, size_t len)
{
    if (rank <= 0)
        return DS_FMT_NA;
    return ds_fmt_text(buf, len, "%d", rank);
}

/* The ranking of one dimension (TSUBAME and @police columns). */
static ds_rc ranking_table(ds_walk *w, ds_report_dim dim, const ds_report_table *t, const char *id, const char *title)
{
    const ds_report *r = w->r;
    int svc = dim == DS_REPORT_SERVICE;
    const char *head[16];
    unsigned char num[16];
    size_t nc = 0;
#define COL(m, isnum) (head[nc] = M(w, (m)), num[nc] = (isnum), nc++)
    COL(DS_MSG_COL_RANK, 1);
    if (r->o.compare)
        COL(DS_MSG_COL_PREV_RANK, 1);
    if (svc) {
        COL(DS_MSG_COL_PORT, 0);
        COL(DS_MSG_COL_SERVICE, 0);
        COL(DS_MSG_COL_IOT, 0);
    } else {
        COL(DS_MSG_COL_REGION, 0);
        COL(DS_MSG_COL_CODE, 0);
    }
    COL(DS_MSG_COL_PACKETS, 1);
    COL(DS_MSG_COL_PER_IP_DAY, 1);
    COL(DS_MSG_COL_SHARE, 1);
    COL(DS_MSG_COL_SOURCES, 1);
    if (r->o.compare) {
        COL(DS_MSG_COL_CHANGE, 1);
        COL(DS_MSG_COL_CHANGE_PCT, 1);
        COL(DS_MSG_COL_INC_RANK, 1);
        COL(DS_MSG_COL_DEC_RANK, 1);
    }
#undef COL
    ds_walk_tab tb = { 0 };
    ds_out_init(&tb.text, 0);
    for (size_t i = 0; i < t->n; i++) {
        const ds_report_row *row = &t->rows[i];
        char b[DS_FMT_NUM_LEN];
        ds_walk_tab_cell(&tb, rank_text(row->rank, b, sizeof b));
        if (r->o.compare)
            ds_walk_tab_cell(&tb, row->previous_rank > 0 ? rank_text(row->previous_rank, b, sizeof b) : M(w, DS_MSG_NEW));
        if (svc) {
            ds_walk_tab_cell(&tb, row->label);
            ds_walk_tab_cell(&tb, row->name ? row->name : "");
            ds_walk_tab_cell(&tb, row->iot ? row->iot : "");
        } else {
            ds_walk_tab_cell(&tb, row->name ? row->name : row->label);
            ds_walk_tab_cell(&tb, row->label);
        }
        ds_walk_tab_cell(&tb, ds_fmt_count(row->packets, b, sizeof b));
        ds_walk_tab_cell(&tb, ds_fmt_fixed(row->per_ip_per_day, 2, b, sizeof b));
        ds_walk_tab_cell(&tb, ds_fmt_pct(row->share * 100.0, 1, b, sizeof b));
        ds_walk_tab_cell(&tb, ds_fmt_count(row->sources, b, sizeof b));
        if (r->o.compare) {
            double cur = (double)row->packets, prev = (double)row->previous_packets;
            ds_walk_tab_cell(&tb, isnan(row->change) ? DS_FMT_NA : ds_fmt_change(cur, prev, DS_REPORT_MIN_PREV, 0, b, sizeof b));
            ds_walk_tab_cell(&tb, isnan(row->change_pct) ? DS_FMT_NA : ds_fmt_change_pct(cur, prev, DS_REPORT_MIN_PREV, b, sizeof b));
            ds_walk_tab_cell(&tb, rank_text(row->increase_rank, b, sizeof b));
            ds_walk_tab_cell(&tb, rank_text(row->decrease_rank, b, sizeof b));
        }
    }
    ds_rc rc = ds_walk_tab_emit(w, &tb, id, title, head, num, nc);
    ds_walk_tab_free(&tb);
    return rc;
}

/* ---- figures ----------------------------------------------------------------------------- */

/* Passes a drawn chart to the backend as the next figure, then frees it. */
/* Daily series of the top rows of a ranking, per monitored address when addresses are known. */
static ds_rc daily_top_figure(ds_walk *w, ds_report_dim dim, const ds_report_table *t, const char *name)
{
    const ds_report *r = w->r;
    size_t n = t->n < TOP_SERIES ? t->n : TOP_SERIES, days = (size_t)r->days;
    char labels[TOP_SERIES][96];
    const char *lp[TOP_SERIES];
    double scale = r->cur.addresses ? 1.0 / (double)r->cur.addresses : 1.0;
    double *v = NULL;
    ds_out alt, title;
    ds_rc rc = DS_OK;
    ds_out_init(&alt, 0);
    ds_out_init(&title, 0);
    if (!n || days == 0)
        goto out;
    if (!(v = calloc(n * days, sizeof *v))) {
        rc = ds_walk_oom(w);
        goto out;
    }
    /* With coverage known, a day's value is per address observing that day (its covered
     * address-days), so an outage does not bend the lines; a day nobody observed has none. */
    int by_cover = r->cur.addresses && r->coverage.known && r->coverage.day_frac && ds_report_has_uncovered_days(r);
    for (size_t i = 0; i < n; i++) {
        ds_walk_key_short(w, dim, t->rows[i].key, labels[i], sizeof labels[i]);
        lp[i] = labels[i];
        for (size_t d = 0; d < days; d++) {
            double x = t->rows[i].daily ? t->rows[i].daily[d] : 0.0, f = by_cover ? r->coverage.day_frac[d] : 1.0;
            v[i * days + d] = !by_cover ? x * scale : f > 0 ? x * scale / f : NAN;
        }
    }
    const char *per = !r->cur.addresses ? ""
                      : by_cover       ? (w->ja ? "観測できた1IPアドレスあたりの" : "per observing address")
                                       : (w->ja ? "1IPアドレスあたりの" : "per address");
    if (w->ja)
        ds_out_printf(&title, "%s 日別%sパケット数（上位%zu）", M(w, dim == DS_REPORT_SERVICE ? DS_MSG_SERVICES : DS_MSG_REGIONS),
                      per, n);
    else
        ds_out_printf(&title, "Daily packets %s, top %zu %s", per, n, dim == DS_REPORT_SERVICE ? "services" : "source regions");
    ds_walk_alt_list(w, &alt, title.p ? title.p : "", lp, n);
    if (alt.failed || title.failed) {
        rc = ds_walk_oom(w);
        goto out;
    }
    rc = ds_walk_line_figure(w, name, title.p, M(w, r->cur.addresses ? DS_MSG_Y_PER_IP : DS_MSG_Y_PACKETS), lp, v, n, alt.p);
out:
    free(v);
    ds_out_free(&alt);
    ds_out_free(&title);
    return rc;
}

/* Share of every top row among all packets, the rest as "other". */
static ds_rc share_figure(ds_walk *w, ds_report_dim dim, const ds_report_table *t, const char *name)
{
    const ds_report *r = w->r;
    size_t n = t->n;
    char (*labels)[96] = NULL;
    const char **lp = NULL;
    double *v = NULL;
    double sum = 0;
    ds_out alt, title;
    ds_chart_out co = { 0 };
    ds_rc rc = DS_OK;
    ds_out_init(&alt, 0);
    ds_out_init(&title, 0);
    if (!n || !r->cur.packets)
        goto out;
    if (n > DS_CHART_MAX_ROWS - 1)
        n = DS_CHART_MAX_ROWS - 1;
    labels = calloc(n, sizeof *labels);
    lp = calloc(n, sizeof *lp);
    v = calloc(n, sizeof *v);
    if (!labels || !lp || !v) {
        rc = ds_walk_oom(w);
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        const ds_report_row *row = &t->rows[i];
        if (dim == DS_REPORT_SERVICE && row->name && *row->name)
            ds_fmt_text(labels[i], sizeof labels[i], "%s %s", row->label, row->name);
        else
            ds_walk_key_short(w, dim, row->key, labels[i], sizeof labels[i]);
        lp[i] = labels[i];
        v[i] = (double)row->packets;
        sum += v[i];
    }
    double total = (double)r->cur.packets;
    if (sum > total)   /* a hand-made or inconsistent model: never let the chart refuse it */
        total = sum;
    if (w->ja)
        ds_out_printf(&title, "%s パケット数の割合（上位%zu）", M(w, dim == DS_REPORT_SERVICE ? DS_MSG_SERVICES : DS_MSG_REGIONS), n);
    else
        ds_out_printf(&title, "Share of all packets, top %zu %s", n, dim == DS_REPORT_SERVICE ? "services" : "source regions");
    ds_walk_alt_list(w, &alt, title.p ? title.p : "", lp, n);
    if (alt.failed || title.failed) {
        rc = ds_walk_oom(w);
        goto out;
    }
    ds_share_chart sc = { .title = NULL, .labels = lp, .values = v, .n = n, .total = total, .other_label = M(w, DS_MSG_OTHER) };
    if ((rc = ds_chart_share(&sc, DS_CHART_SVG, &co, w->err)) != DS_OK)
        goto out;
    rc = ds_walk_figure(w, &co, name, title.p, alt.p);
out:
    ds_chart_out_free(&co);
    free(labels);
    free(lp);
    free(v);
    ds_out_free(&alt);
    ds_out_free(&title);
    return rc;
}

/* One 100%-stacked bar per top row of dimension rows_dim, split by the other dimension. */
static ds_rc mix_figure(ds_walk *w, ds_report_dim rows_dim, const ds_report_mix *m, const char *name)
{
    ds_report_dim parts_dim = rows_dim == DS_REPORT_SERVICE ? DS_REPORT_REGION : DS_REPORT_SERVICE;
    size_t nr = m->nrows < DS_CHART_MAX_ROWS ? m->nrows : DS_CHART_MAX_ROWS;
    size_t np = m->nparts < DS_CHART_MAX_PARTS ? m->nparts : DS_CHART_MAX_PARTS;
    char (*rl)[96] = NULL, (*pl)[96] = NULL;
    const char **rp = NULL, **pp = NULL;
    double *vals = NULL;
    ds_out alt, title;
    ds_chart_out co = { 0 };
    ds_rc rc = DS_OK;
    ds_out_init(&alt, 0);
    ds_out_init(&title, 0);
    if (!nr || !np || !m->values || !m->row_keys || !m->part_keys)
        goto out;
    rl = calloc(nr, sizeof *rl);
    pl = calloc(np, sizeof *pl);
    rp = calloc(nr, sizeof *rp);
    pp = calloc(np, sizeof *pp);
    vals = calloc(nr * np, sizeof *vals);
    if (!rl || !pl || !rp || !pp || !vals) {
        rc = ds_walk_oom(w);
        goto out;
    }
    for (size_t i = 0; i < nr; i++) {
        ds_walk_key_short(w, rows_dim, m->row_keys[i], rl[i], sizeof rl[i]);
        rp[i] = rl[i];
        for (size_t p = 0; p < np; p++)
            vals[i * np + p] = m->values[i * m->nparts + p];
    }
    for (size_t p = 0; p < np; p++) {
        ds_walk_key_short(w, parts_dim, m->part_keys[p], pl[p], sizeof pl[p]);
        pp[p] = pl[p];
    }
    if (rows_dim == DS_REPORT_SERVICE)
        ds_out_puts(&title, w->ja ? "上位の宛先ポートの送信元地域別内訳" : "Source regions of the top services");
    else
        ds_out_puts(&title, w->ja ? "上位の送信元地域の宛先ポート別内訳" : "Destination services of the top source regions");
    ds_walk_alt_list(w, &alt, title.p ? title.p : "", rp, nr);
    if (alt.failed || title.failed) {
        rc = ds_walk_oom(w);
        goto out;
    }
    ds_mix_chart mc = { .title = NULL, .rows = rp, .nrows = nr, .parts = pp, .nparts = np, .values = vals,
                        .row_totals = m->row_totals, .other_label = M(w, DS_MSG_OTHER) };
    if ((rc = ds_chart_mix(&mc, DS_CHART_SVG, &co, w->err)) != DS_OK)
        goto out;
    rc = ds_walk_figure(w, &co, name, title.p, alt.p);
out:
    ds_chart_out_free(&co);
    free(rl);
    free(pl);
    free(rp);
    free(pp);
    free(vals);
    ds_out_free(&alt);
    ds_out_free(&title);
    return rc;
}

/* ---- sentences --------------------------------------------------------------------------- */

/* "12.3% more than in Q2 2023" / "前期比12.3%増加": sign decided on the rounded value. */
static void change_phrase_en(ds_out *s, double pct, const char *what_more, const char *what_fewer, const char *prev)
{
    char b[DS_FMT_NUM_LEN];
    ds_fmt_pct(fabs(pct), 1, b, sizeof b);
    if (fabs(pct) < 0.05)
        ds_out_printf(s, "about the same as in %s", prev);
    else
        ds_out_printf(s, "%s %s than in %s", b, pct > 0 ? what_more : what_fewer, prev);
}

static void change_phrase_ja(ds_out *s, double pct)
{
    char b[DS_FMT_NUM_LEN];
    ds_fmt_pct(fabs(pct), 1, b, sizeof b);
    if (fabs(pct) < 0.05)
        ds_out_puts(s, "前期とほぼ同じでした");
    else
        ds_out_printf(s, "前期比%s%sしました", b, pct > 0 ? "増加" : "減少");
}

static ds_rc generation_note(ds_walk *w)
{
    const ds_report *r = w->r;
    char from[DS_FMT_DAY_LEN], to[DS_FMT_DAY_LEN], pfrom[DS_FMT_DAY_LEN], pto[DS_FMT_DAY_LEN];
    char pn[DS_PERIOD_LABEL_LEN], sensors[DS_FMT_COUNT_LEN], addrs[DS_FMT_COUNT_LEN];
    ds_out s;
    ds_out_init(&s, 0);
    ds_fmt_day(r->o.period.from, w->ja, from, sizeof from);
    ds_fmt_day(r->o.period.to, w->ja, to, sizeof to);
    ds_fmt_day(r->prev.from, w->ja, pfrom, sizeof pfrom);
    ds_fmt_day(r->prev.to, w->ja, pto, sizeof pto);
    period_name(&r->prev, w->ja, pn, sizeof pn);
    ds_fmt_count(r->cur.sensors, sensors, sizeof sensors);
    ds_fmt_count(r->cur.addresses, addrs, sizeof addrs);
    const char *tz = r->o.timezone && *r->o.timezone ? r->o.timezone : NULL;
    if (w->ja) {
        ds_out_printf(&s, "対象期間: %s～%s（%d日間", from, to, (int)r->days);
        if (tz)
            ds_out_printf(&s, "、%s", tz);
        ds_out_printf(&s, "）。センサー: %s台（監視IPv4アドレス%s個）", sensors, addrs);
        if (r->o.sensor_id)
            ds_out_printf(&s, "、センサー#%lld のみ", (long long)r->o.sensor_id);
        ds_out_puts(&s, "。");
        if (r->o.exclude_label && *r->o.exclude_label)
            ds_out_printf(&s, "除外した送信元: %s。", r->o.exclude_label);
        if (r->o.compare)
            ds_out_printf(&s, "比較対象（前期）: %s（%s～%s）。", pn, pfrom, pto);
    } else {
        ds_out_printf(&s, "Period: %s – %s (%d days", from, to, (int)r->days);
        if (tz)
            ds_out_printf(&s, ", dates in %s", tz);
        ds_out_printf(&s, "). Sensors: %s with %s monitored IPv4 addresses", sensors, addrs);
        if (r->o.sensor_id)
            ds_out_printf(&s, " (sensor #%lld only)", (long long)r->o.sensor_id);
        ds_out_puts(&s, ".");
        if (r->o.exclude_label && *r->o.exclude_label)
            ds_out_printf(&s, " Excluded sources: %s.", r->o.exclude_label);
        if (r->o.compare)
            ds_out_printf(&s, " Previous period: %s (%s – %s).", pn, pfrom, pto);
    }
    ds_rc rc = ds_walk_para(w, DS_PARA_NOTE, &s);
    ds_out_free(&s);
    return rc;
}

static ds_rc overview(ds_walk *w)
{
    const ds_report *r = w->r;
    char pn[DS_PERIOD_LABEL_LEN], prevn[DS_PERIOD_LABEL_LEN];
    char pk[DS_FMT_COUNT_LEN], ppk[DS_FMT_COUNT_LEN], src[DS_FMT_COUNT_LEN], addrs[DS_FMT_COUNT_LEN];
    char sens[DS_FMT_COUNT_LEN], rate[DS_FMT_NUM_LEN], year[DS_FMT_NUM_LEN];
    int yearly = r->o.period.kind == DS_PERIOD_YEAR;
    int pct_ok = r->o.compare && isfinite(r->change_pct);
    int src_ok = r->o.compare && isfinite(r->sources_change_pct);
    ds_out s;
    ds_rc rc;
    ds_out_init(&s, 0);
    period_name(&r->o.period, w->ja, pn, sizeof pn);
    period_name(&r->prev, w->ja, prevn, sizeof prevn);
    ds_fmt_count(r->cur.packets, pk, sizeof pk);
    ds_fmt_count(r->previous.packets, ppk, sizeof ppk);
    ds_fmt_count(r->cur.sources, src, sizeof src);
    ds_fmt_count(r->cur.addresses, addrs, sizeof addrs);
    ds_fmt_count(r->cur.sensors, sens, sizeof sens);
    rate_text(r->cur.per_ip_per_day, rate, sizeof rate);
    ds_fmt_fixed(r->cur.per_ip, 0, year, sizeof year);

    if (w->ja) {
        ds_out_printf(&s, "%sに観測したパケットは%s件（1IPアドレス・1日あたり%s件", pn, pk, rate);
        if (yearly)
            ds_out_printf(&s, "、1IPアドレスあたり年間%s件", year);
        ds_out_puts(&s, "）");
        if (pct_ok) {
            ds_out_puts(&s, "で、");
            change_phrase_ja(&s, r->change_pct);
            ds_out_printf(&s, "（前期 %s件）。", ppk);
        } else if (r->o.compare) {
            ds_out_puts(&s, "でした。前期（");
            ds_out_printf(&s, "%s）には比較できる観測がありませんでした。", prevn);
        } else {
            ds_out_puts(&s, "でした。");
        }
        ds_out_printf(&s, "送信元は%sユニークアドレスでした", src);
        if (src_ok) {
            char b[DS_FMT_NUM_LEN];
            ds_out_printf(&s, "（前期比%s）", signed_pct(r->sources_change_pct, b, sizeof b));
        }
        ds_out_printf(&s, "。観測には%sセンサー（監視IPv4アドレス%s個）を用いました。", sens, addrs);
    } else {
        if (r->cur.sensors == 1)
            ds_out_printf(&s, "In %s the sensor (%s addresses) received %s packets, %s packets per address per day", pn, addrs, pk, rate);
        else
            ds_out_printf(&s, "In %s the %s sensors (%s addresses) received %s packets, %s packets per address per day", pn, sens,
                          addrs, pk, rate);
        if (yearly)
            ds_out_printf(&s, " or %s per address over the year", year);
        if (pct_ok) {
            ds_out_puts(&s, ", ");
            change_phrase_en(&s, r->change_pct, "more", "fewer", prevn);
            ds_out_printf(&s, " (%s packets)", ppk);
        }
        ds_out_printf(&s, ", from %s unique sources", src);
        if (src_ok) {
            ds_out_puts(&s, " (");
            change_phrase_en(&s, r->sources_change_pct, "more", "fewer", prevn);
            ds_out_puts(&s, ")");
        }
        ds_out_puts(&s, ".");
        if (r->o.compare && !pct_ok)
            ds_out_printf(&s, " There were no packets in %s to compare with.", prevn);
    }
    ds_report_rate_basis_text(r, &s);
    if ((rc = ds_walk_para(w, DS_PARA_TEXT, &s)) != DS_OK)
        goto out;

    /* the leaders of both rankings */
    ds_out_free(&s);   /* empty again, same limit */
    if (r->services.n && r->regions.n) {
        const ds_report_row *a = &r->services.rows[0], *b = &r->regions.rows[0];
        char ka[160], kb[160], sa[DS_FMT_NUM_LEN], sb[DS_FMT_NUM_LEN];
        ds_walk_key_long(w, DS_REPORT_SERVICE, a->label, a->name, ka, sizeof ka);
        ds_walk_key_long(w, DS_REPORT_REGION, b->label, b->name, kb, sizeof kb);
        ds_fmt_pct(a->share * 100.0, 1, sa, sizeof sa);
        ds_fmt_pct(b->share * 100.0, 1, sb, sizeof sb);
        if (w->ja)
            ds_out_printf(&s, "宛先ポート別では%sが全体の%sで最も多く、送信元地域別では%sが%sで最多でした。", ka, sa, kb, sb);
        else
            ds_out_printf(&s, "The most targeted service was %s with %s of all packets; the largest source region was %s with %s.",
                          ka, sa, kb, sb);
    } else if (!r->cur.packets) {
        ds_out_puts(&s, w->ja ? "この期間にはパケットを観測しませんでした。" : "No packets were observed in this period.");
    }
    rc = ds_walk_para(w, DS_PARA_TEXT, &s);
out:
    ds_out_free(&s);
    return rc;
}

/* Entries new to the top N and the largest increase among the shown rows. */
static ds_rc ranking_notes(ds_walk *w, const ds_report_table *t, ds_report_dim dim)
{
    const ds_report *r = w->r;
    char prevn[DS_PERIOD_LABEL_LEN];
    ds_out s;
    ds_rc rc;
    ds_out_init(&s, 0);
    period_name(&r->prev, w->ja, prevn, sizeof prevn);
    if (!r->o.compare || !t->n)
        goto done;
    /* "new in the top N": absent before, or ranked below the N the report lists */
    size_t top = r->o.top ? r->o.top : t->n, nnew = 0;
    for (size_t i = 0; i < t->n; i++) {
        const ds_report_row *row = &t->rows[i];
        if (row->previous_rank > 0 && (size_t)row->previous_rank <= top)
            continue;
        char k[160];
        ds_walk_key_long(w, dim, row->label, row->name, k, sizeof k);
        if (!nnew++) {
            if (w->ja)
                ds_out_printf(&s, "前期の上位%zu位圏外から新たに上位%zu位に入ったのは", top, top);
            else
                ds_out_printf(&s, "New in the top %zu compared with %s: ", top, prevn);
        } else {
            ds_out_puts(&s, w->ja ? "、" : ", ");
        }
        ds_out_puts(&s, k);
    }
    if (nnew)
        ds_out_puts(&s, w->ja ? "です。" : ".");
    /* the largest increase and decrease among the listed rows (the best increase / decrease rank) */
    for (int up = 1; up >= 0; up--) {
        const ds_report_row *best = NULL;
        for (size_t i = 0; i < t->n; i++) {
            int rank = up ? t->rows[i].increase_rank : t->rows[i].decrease_rank;
            int best_rank = best ? (up ? best->increase_rank : best->decrease_rank) : 0;
            if (rank > 0 && (!best || rank < best_rank))
                best = &t->rows[i];
        }
        if (!best)
            continue;
        char k[160], ch[DS_FMT_NUM_LEN], pct[DS_FMT_NUM_LEN];
        ds_walk_key_long(w, dim, best->label, best->name, k, sizeof k);
        ds_fmt_change((double)best->packets, (double)best->previous_packets, DS_REPORT_MIN_PREV, 0, ch, sizeof ch);
        if (!strcmp(ch, DS_FMT_NA)) {   /* nothing before: the whole count is the increase */
            char c2[DS_FMT_COUNT_LEN];
            ds_fmt_text(ch, sizeof ch, "+%s", ds_fmt_count(best->packets, c2, sizeof c2));
        }
        if (isnan(best->change_pct))
            ds_fmt_text(pct, sizeof pct, "%s", M(w, DS_MSG_NEW));
        else
            ds_fmt_change_pct((double)best->packets, (double)best->previous_packets, DS_REPORT_MIN_PREV, pct, sizeof pct);
        if (s.len && !w->ja)
            ds_out_puts(&s, " ");
        if (w->ja) {
            /* the verb says the direction: no sign after it (「26,459件（30.2%）減少しました」) */
            const char *c = ch[0] == '+' || ch[0] == '-' ? ch + 1 : ch, *pc = pct[0] == '+' || pct[0] == '-' ? pct + 1 : pct;
            if (isnan(best->change_pct))
                ds_out_printf(&s, "上位%zu位のうち前期から最も%sしたのは%sで、%s件%sしました（前期は観測なし）。", top,
                              up ? "増加" : "減少", k, c, up ? "増加" : "減少");
            else
                ds_out_printf(&s, "上位%zu位のうち前期から最も%sしたのは%sで、%s件（%s）%sしました。", top, up ? "増加" : "減少",
                              k, c, pc, up ? "増加" : "減少");
        } else {
            ds_out_printf(&s, "Among the top %zu the largest %s was %s: %s packets (%s).", top, up ? "increase" : "decrease", k, ch,
                          pct);
        }
    }
done:
    rc = ds_walk_para(w, DS_PARA_TEXT, &s);
    ds_out_free(&s);
    return rc;
}

static ds_rc iot_part(ds_walk *w)
{
    const ds_report *r = w->r;
    ds_chart_out co = { 0 };
    ds_out s, alt;
    ds_rc rc = DS_OK;
    ds_out_init(&s, 0);
    ds_out_init(&alt, 0);
    if (!r->top30_packets || (!r->names && !r->iot_in_top30))
        goto out;   /* without the IoT table nothing can be said */
    uint64_t top = r->services.keys < DS_REPORT_IOT_TOP ? r->services.keys : DS_REPORT_IOT_TOP;
    if (!top)
        top = DS_REPORT_IOT_TOP;
    double iot = (double)r->iot_packets, all = (double)r->top30_packets;
    if (iot > all)
        all = iot;
    char pct[DS_FMT_NUM_LEN];
    ds_fmt_pct(r->iot_share * 100.0, 1, pct, sizeof pct);
    if (w->ja)
        ds_out_printf(&s, "上位%lluポートのうち%zuポートはIoT機器を狙ったもので、上位%lluポート宛てパケットの%sを占めました。",
                      (unsigned long long)top, r->iot_in_top30, (unsigned long long)top, pct);
    else
        ds_out_printf(&s, "%zu of the top %llu services %s IoT devices; %s received %s of the packets to the top %llu.",
                      r->iot_in_top30, (unsigned long long)top, r->iot_in_top30 == 1 ? "targets" : "target",
                      r->iot_in_top30 == 1 ? "it" : "they", pct, (unsigned long long)top);
    if ((rc = ds_walk_para(w, DS_PARA_TEXT, &s)) != DS_OK)
        goto out;
    const char *labels[1] = { M(w, DS_MSG_IOT_SERVICES) };
    char title[160];
    if (w->ja)
        ds_fmt_text(title, sizeof title, "上位%lluポート宛てパケットに占めるIoT機器を狙うポートの割合", (unsigned long long)top);
    else
        ds_fmt_text(title, sizeof title, "Share of IoT-targeted services among the packets to the top %llu services",
                    (unsigned long long)top);
    ds_out_printf(&alt, "%s: %s", title, pct);
    if (alt.failed) {
        rc = ds_walk_oom(w);
        goto out;
    }
    ds_share_chart sc = { .title = NULL, .labels = labels, .values = &iot, .n = 1, .total = all,
                          .other_label = M(w, DS_MSG_OTHER_SERVICES) };
    if ((rc = ds_chart_share(&sc, DS_CHART_SVG, &co, w->err)) != DS_OK)
        goto out;
    rc = ds_walk_figure(w, &co, "iot-share", title, alt.p);
out:
    ds_chart_out_free(&co);
    ds_out_free(&s);
    ds_out_free(&alt);
    return rc;
}

static ds_rc ranking_section(ds_walk *w, ds_report_dim dim)
{
    const ds_report *r = w->r;
    int svc = dim == DS_REPORT_SERVICE;
    const ds_report_table *t = svc ? &r->services : &r->regions;
    const char *base = svc ? "services" : "regions";
    char id[64], head[128], title[160], keys[DS_FMT_COUNT_LEN];
    ds_out s;
    ds_rc rc;
    ds_out_init(&s, 0);
    w->nsections++;
    ds_fmt_text(head, sizeof head, "%d. %s", w->nsections, M(w, svc ? DS_MSG_SERVICES : DS_MSG_REGIONS));
    ds_walk_heading(w, 2, base, head);
    ds_fmt_count(t->keys, keys, sizeof keys);
    if (w->ja)
        ds_out_printf(&s, "観測した%s%sのうち、パケット数の上位%zu件を表%dに示します。", keys,
                      svc ? "種類の宛先ポート" : "の送信元地域", t->n, w->ntables + 1);
    else
        ds_out_printf(&s, "Table %d lists the top %zu of the %s %s observed, by packets.", w->ntables + 1, t->n, keys,
                      svc ? "destination services" : "source regions");
    if ((rc = ds_walk_para(w, DS_PARA_TEXT, &s)) != DS_OK)
        goto out;
    if (w->ja)
        ds_fmt_text(title, sizeof title, "%s 上位%zu", M(w, svc ? DS_MSG_SERVICES : DS_MSG_REGIONS), t->n);
    else
        ds_fmt_text(title, sizeof title, "Top %zu %s", t->n, svc ? "destination services" : "source regions");
    ds_fmt_text(id, sizeof id, "tab-%s", base);
    if ((rc = ranking_table(w, dim, t, id, title)) != DS_OK || (rc = ranking_notes(w, t, dim)) != DS_OK)
        goto out;
    ds_fmt_text(id, sizeof id, "%s-daily", base);
    if ((rc = daily_top_figure(w, dim, t, id)) != DS_OK)
        goto out;
    ds_fmt_text(id, sizeof id, "%s-share", base);
    if ((rc = share_figure(w, dim, t, id)) != DS_OK)
        goto out;
    ds_fmt_text(id, sizeof id, "%s-mix", base);
    if ((rc = mix_figure(w, dim, svc ? &r->regions_of_services : &r->services_of_regions, id)) != DS_OK)
        goto out;
    if (svc)
        rc = iot_part(w);
out:
    ds_out_free(&s);
    return rc;
}

/* ---- methods ----------------------------------------------------------------------------- */

static ds_rc methods(ds_walk *w)
{
    const ds_report *r = w->r;
    enum { MAXDEF = 16 };   /* 11 definitions at most (yearly report with comparison) */
    const char *terms[MAXDEF];
    ds_out defs[MAXDEF];
    const char *dp[MAXDEF];
    size_t n = 0;
    char head[128], prevn[DS_PERIOD_LABEL_LEN], pfrom[DS_FMT_DAY_LEN], pto[DS_FMT_DAY_LEN];
    ds_rc rc = DS_OK;
    int ja = w->ja;
    for (size_t i = 0; i < MAXDEF; i++)
        ds_out_init(&defs[i], 0);
    w->nsections++;
    ds_fmt_text(head, sizeof head, "%d. %s", w->nsections, M(w, DS_MSG_METHODS));
    ds_walk_heading(w, 2, "methods", head);
    period_name(&r->prev, ja, prevn, sizeof prevn);
    ds_fmt_day(r->prev.from, ja, pfrom, sizeof pfrom);
    ds_fmt_day(r->prev.to, ja, pto, sizeof pto);
    const char *tz = r->o.timezone && *r->o.timezone ? r->o.timezone : "UTC";

    terms[n] = M(w, DS_MSG_COL_PER_IP_DAY);
    ds_out_puts(&defs[n++], ja ? "パケット数 ÷ 観測できたアドレス・日数（監視しているIPv4アドレス数 × 各日のうちセンサーが観測していた割合の合計）。"
                                 "センサーの規模や期間の長さ、センサーの停止があっても比較できるよう、1IPアドレス・1日あたりに正規化した値です。"
                               : "Packets ÷ covered address-days (monitored IPv4 addresses × the share of each day the sensors "
                                 "were observing): the count normalised per darknet address and day, so that periods and "
                                 "sensors of different size compare and an outage does not lower the rate.");
    if (r->o.period.kind == DS_PERIOD_YEAR) {
        terms[n] = ja ? "1IPアドレスあたり年間" : "Packets per address per year";
        ds_out_puts(&defs[n++], ja ? "1IPアドレス・1日あたりのパケット数 × 年間の日数（観測できなかった日も同じ割合で届いたとした値）。"
                                   : "Packets per address per day × the days of the year: the year's count per address at "
                                     "the rate observed, uncovered days included.");
    }
    terms[n] = M(w, DS_MSG_COL_SHARE);
    ds_out_puts(&defs[n++], ja ? "期間内の全パケット数に占める割合。" : "Fraction of all packets in the period.");
    terms[n] = M(w, DS_MSG_COL_PORT);
    ds_out_puts(&defs[n++], ja ? "TCP・UDPは宛先ポート番号、ICMPはタイプで分類します。サービス名はIANAの登録名、IoT機器はそのポートへの探索が"
                                 "主に狙う機器の種類です。"
                               : "TCP and UDP by destination port, ICMP by type. Service names are the IANA registered names; "
                                 "IoT devices name the kind of device that scans of the port mostly aim at.");
    terms[n] = M(w, DS_MSG_COL_REGION);
    ds_out_puts(&defs[n++], ja ? "送信元IPアドレスから地理情報データベースで判定した国・地域。送信元アドレスは詐称されている場合があります。"
                               : "Country or region of the source address from the geolocation database. Source addresses "
                                 "may be spoofed.");
    terms[n] = M(w, DS_MSG_COL_SOURCES);
    ds_out_puts(&defs[n++], ja ? "期間内に観測した異なる送信元IPアドレスの数。" : "Distinct source addresses seen in the period.");
    if (r->o.compare) {
        terms[n] = ja ? "前期" : "Previous period";
        ds_out_printf(&defs[n++],
                      ja ? "四半期レポートでは前四半期、月次では前月、年次では前年、日付範囲では直前の同じ日数の期間。本レポートでは%s（%s～%s）。"
                         : "The previous quarter, month or year; for a range of days the same number of days immediately "
                           "before. Here %s (%s – %s).",
                      prevn, pfrom, pto);
        terms[n] = M(w, DS_MSG_COL_PREV_RANK);
        ds_out_printf(&defs[n++],
                      ja ? "前期の同じランキングでの順位。前期に観測がなかったものは「%s」。"
                         : "Rank in the same ranking of the previous period; \"%s\" when not observed then.",
                      M(w, DS_MSG_NEW));
        terms[n] = ja ? "増減数・前期比" : "Change";
        if (ja && DS_REPORT_MIN_PREV <= 1)
            ds_out_printf(&defs[n++], "今期と前期のパケット数の差と増減率。前期が0件のときは「%s」と表記します。", DS_FMT_NA);
        else if (ja)
            ds_out_printf(&defs[n++], "今期と前期のパケット数の差と増減率。前期の値が%d件未満のときは「%s」と表記します。",
                          DS_REPORT_MIN_PREV, DS_FMT_NA);
        else if (DS_REPORT_MIN_PREV <= 1)
            ds_out_printf(&defs[n++],
                          "Difference in packets from the previous period, absolute and relative; \"%s\" when the "
                          "previous value was zero.", DS_FMT_NA);
        else
            ds_out_printf(&defs[n++],
                          "Difference in packets from the previous period, absolute and relative; \"%s\" when the "
                          "previous value was below %d packets.", DS_FMT_NA, DS_REPORT_MIN_PREV);
        if (r->coverage.rate_based)
            ds_out_puts(&defs[n - 1],
                        ja ? "今期と前期で観測できた時間の割合が異なるため、前期のパケット数に（今期の観測アドレス・日数 ÷ "
                             "前期の観測アドレス・日数）を掛けてから比較しています（1IPアドレス・1日あたりの値の比較と同じです）。"
                           : " Coverage differed between the periods, so the previous packets are first multiplied by "
                             "this period's covered address-days over the previous period's: the change is that of "
                             "packets per covered address-day, stated in this period's packets.");
        terms[n] = ja ? "増加順位・減少順位" : "Increase / decrease rank";
        ds_out_printf(&defs[n++],
                      ja ? "いずれかの期間に観測された全ての項目の中での、パケット数の増加数（減少数）の順位。増加（減少）していないものは「%s」。"
                         : "Rank by the absolute increase (decrease) in packets among every entry seen in either period; "
                           "\"%s\" when the entry did not increase (decrease).",
                      DS_FMT_NA);
    }
    terms[n] = ja ? "日付" : "Dates";
    ds_out_printf(&defs[n++],
                  ja ? "日別の集計は%sの暦日によります。送信元の初観測日・最終観測日はUTCの日付です。"
                     : "Daily figures are calendar days in %s; first and last seen dates of sources are UTC dates.",
                  tz);
    for (size_t i = 0; i < n; i++) {
        if (defs[i].failed || !defs[i].p) {
            rc = ds_walk_oom(w);
            goto out;
        }
        dp[i] = defs[i].p;
    }
    w->doc->deflist(w->doc->ctx, terms, dp, n);
out:
    for (size_t i = 0; i < MAXDEF; i++)
        ds_out_free(&defs[i]);
    return rc;
}

/* ---- entry ------------------------------------------------------------------------------- */

ds_rc ds_report_outline(const ds_report *r, const ds_rdoc *doc, ds_err *err)
{
    ds_walk w = { .r = r, .doc = doc, .lang = r->o.lang == DS_LANG_JA ? DS_LANG_JA : DS_LANG_EN, .err = err };
    char pl[DS_PERIOD_LABEL_LEN], title[DS_PERIOD_LABEL_LEN + 128], head[128];
    ds_rc rc;
    w.ja = w.lang == DS_LANG_JA;
    if (r->days < 0 || (r->days > 0 && (size_t)r->days > DS_CHART_MAX_DAYS))
        return ds_fail(err, DS_EINVAL, "report period of %d days is outside 0..%d days", (int)r->days, DS_CHART_MAX_DAYS);
    ds_period_label(&r->o.period, w.ja, pl, sizeof pl);
    ds_fmt_text(title, sizeof title, w.ja ? "%s %s" : "%s — %s", M(&w, DS_MSG_REPORT_TITLE), pl);
    doc->begin(doc->ctx, w.lang, title);
    ds_walk_heading(&w, 1, "top", title);
    if ((rc = generation_note(&w)) != DS_OK)
        return rc;
    w.nsections++;
    ds_fmt_text(head, sizeof head, "%d. %s", w.nsections, M(&w, DS_MSG_OVERVIEW));
    ds_walk_heading(&w, 2, "overview", head);
    if ((rc = overview(&w)) != DS_OK || (rc = ds_report_coverage_section(r, doc, &w.ntables, err)) != DS_OK ||
        (rc = ranking_section(&w, DS_REPORT_SERVICE)) != DS_OK ||
        (rc = ranking_section(&w, DS_REPORT_REGION)) != DS_OK || (rc = ds_report_phenomena_section(&w)) != DS_OK)
        return rc;
    for (size_t i = 0; i < r->nfocus; i++)
        if ((rc = ds_report_focus_section(&w, i)) != DS_OK)
            return rc;
    if ((rc = methods(&w)) != DS_OK)
        return rc;
    doc->end(doc->ctx);
    return DS_OK;
}
