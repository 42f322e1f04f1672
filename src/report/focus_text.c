/* focus_text.c: a focus section of the report (`--focus 1521/tcp`, `--focus JP`), in English and
 * Japanese: a sentence with the focus's packets, rate, share, sources and rank; its daily figures;
 * its source ports, top sources, first payloads and (for a region) organisations
 * (docs/report.md).  Split from i18n.c for size; the rules are i18n.c's.
 */
#include "report/outline_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "report/coverage.h"
#include "util/timeutil.h"

#define TOP_SERIES 5        /* lines in the daily figures, as TSUBAME draws its top 5 */

static const char *M(const ds_walk *w, ds_msg m) { return ds_msg_text(w->lang, m); }

/* ---- focus sections ---------------------------------------------------------------------- */

static ds_rc focus_sources_table(ds_walk *w, const ds_report_focus *f, const char *id, const char *title)
{
    static const ds_msg cols[] = { DS_MSG_COL_RANK, DS_MSG_COL_ADDRESS, DS_MSG_COL_COUNTRY, DS_MSG_COL_ASN,
                                   DS_MSG_COL_ORG, DS_MSG_COL_PACKETS, DS_MSG_COL_DAYS_SEEN,
                                   DS_MSG_COL_FIRST_SEEN, DS_MSG_COL_LAST_SEEN };
    static const unsigned char num[] = { 1, 0, 0, 1, 0, 1, 1, 0, 0 };
    const char *head[sizeof cols / sizeof cols[0]];
    for (size_t c = 0; c < sizeof cols / sizeof cols[0]; c++)
        head[c] = M(w, cols[c]);
    ds_walk_tab tb = { 0 };
    ds_out_init(&tb.text, 0);
    for (size_t i = 0; i < f->ntop_sources; i++) {
        const ds_report_source *src = &f->top_sources[i];
        char b[DS_FMT_NUM_LEN], cc[160];
        ds_walk_tab_cell(&tb, ds_fmt_text(b, sizeof b, "%zu", i + 1));
        ds_walk_tab_cell(&tb, src->addr);
        if (!src->cc[0]) {
            ds_walk_tab_cell(&tb, DS_FMT_NA);
        } else {
            char code[3] = { src->cc[0], src->cc[1], 0 };
            const char *name = w->r->names ? ds_names_country(w->r->names, code, w->lang) : NULL;
            ds_walk_key_long(w, DS_REPORT_REGION, code, name, cc, sizeof cc);
            ds_walk_tab_cell(&tb, cc);
        }
        ds_walk_tab_cell(&tb, src->asn ? ds_fmt_text(b, sizeof b, "AS%u", (unsigned)src->asn) : DS_FMT_NA);
        ds_walk_tab_cell(&tb, src->org ? src->org : DS_FMT_NA);
        ds_walk_tab_cell(&tb, ds_fmt_count(src->packets, b, sizeof b));
        ds_walk_tab_cell(&tb, ds_fmt_count(src->days, b, sizeof b));
        /* first/last seen are UTC instants: the UTC date, whatever the report timezone */
        ds_walk_tab_cell(&tb, src->first_ns ? ds_fmt_day_iso((int32_t)(src->first_ns / 86400000000000ULL), b, sizeof b) : DS_FMT_NA);
        ds_walk_tab_cell(&tb, src->last_ns ? ds_fmt_day_iso((int32_t)(src->last_ns / 86400000000000ULL), b, sizeof b) : DS_FMT_NA);
    }
    ds_rc rc = ds_walk_tab_emit(w, &tb, id, title, head, num, sizeof cols / sizeof cols[0]);
    ds_walk_tab_free(&tb);
    return rc;
}

static ds_rc focus_orgs_table(ds_walk *w, const ds_report_focus *f, const char *id, const char *title)
{
    static const ds_msg cols[] = { DS_MSG_COL_RANK, DS_MSG_COL_ASN, DS_MSG_COL_ORG, DS_MSG_COL_PACKETS, DS_MSG_COL_SOURCES };
    static const unsigned char num[] = { 1, 1, 0, 1, 1 };
    const char *head[sizeof cols / sizeof cols[0]];
    for (size_t c = 0; c < sizeof cols / sizeof cols[0]; c++)
        head[c] = M(w, cols[c]);
    ds_walk_tab tb = { 0 };
    ds_out_init(&tb.text, 0);
    for (size_t i = 0; i < f->norgs; i++) {
        const ds_report_orgrow *o = &f->orgs[i];
        char b[DS_FMT_NUM_LEN];
        ds_walk_tab_cell(&tb, ds_fmt_text(b, sizeof b, "%zu", i + 1));
        ds_walk_tab_cell(&tb, o->asn ? ds_fmt_text(b, sizeof b, "AS%u", (unsigned)o->asn) : DS_FMT_NA);
        ds_walk_tab_cell(&tb, o->org ? o->org : o->asn ? DS_FMT_NA : M(w, DS_MSG_UNKNOWN));
        ds_walk_tab_cell(&tb, ds_fmt_count(o->packets, b, sizeof b));
        ds_walk_tab_cell(&tb, ds_fmt_count(o->sources, b, sizeof b));
    }
    ds_rc rc = ds_walk_tab_emit(w, &tb, id, title, head, num, sizeof cols / sizeof cols[0]);
    ds_walk_tab_free(&tb);
    return rc;
}

/* Packets by source port: a tool with a fixed source port (the NPA's 1521/tcp case: 99% from
 * port 6000) shows as one row with most of the share. */
static ds_rc focus_sports_table(ds_walk *w, const ds_report_focus *f, const char *id, const char *title)
{
    static const ds_msg cols[] = { DS_MSG_COL_RANK, DS_MSG_COL_SPORT, DS_MSG_COL_PACKETS, DS_MSG_COL_SHARE };
    static const unsigned char num[] = { 1, 0, 1, 1 };
    const char *head[sizeof cols / sizeof cols[0]];
    for (size_t c = 0; c < sizeof cols / sizeof cols[0]; c++)
        head[c] = M(w, cols[c]);
    ds_walk_tab tb = { 0 };
    ds_out_init(&tb.text, 0);
    for (size_t i = 0; i < f->nsports; i++) {
        const ds_report_sport *p = &f->sports[i];
        char b[DS_FMT_NUM_LEN];
        ds_walk_tab_cell(&tb, ds_fmt_text(b, sizeof b, "%zu", i + 1));
        ds_walk_tab_cell(&tb, p->port >= 0 ? ds_fmt_text(b, sizeof b, "%d", p->port) : M(w, DS_MSG_SPORT_VARIOUS));
        ds_walk_tab_cell(&tb, ds_fmt_count(p->packets, b, sizeof b));
        ds_walk_tab_cell(&tb, ds_fmt_pct(p->share * 100.0, 1, b, sizeof b));
    }
    ds_rc rc = ds_walk_tab_emit(w, &tb, id, title, head, num, sizeof cols / sizeof cols[0]);
    ds_walk_tab_free(&tb);
    return rc;
}

/* The first payloads scanners sent a focus service (sensor --respond syn), most common first.
 * Its words are here rather than in msgs[]: only this table uses them. */
static const char *const PAYLOAD_WORDS[][2] = {
    { "First payloads (reactive sensors)", "最初のペイロード（応答型センサー）" },
    { "Payloads", "件数" },
    { "Length (bytes)", "長さ（バイト）" },
    { "Excerpt", "内容（抜粋）" },
    { "What scanners sent once a sensor answered their SYN (darkscope sensor --respond syn), identical payloads "
      "counted together. Excerpt: the first 64 bytes, printable ASCII as it is and any other byte as '.'.",
      "センサーがSYNに応答した後にスキャナが送ってきた最初のペイロード（darkscope sensor --respond syn）を、"
      "同一内容ごとに集計したものです。内容は先頭64バイトで、印字可能なASCII以外のバイトは「.」で示します。" },
};
enum { PW_HEADING, PW_COUNT, PW_LEN, PW_EXCERPT, PW_NOTE };
static const char *PW(const ds_walk *w, int k) { return PAYLOAD_WORDS[k][w->ja ? 1 : 0]; }

/* "2023-07-01 09:00" in UTC, as the column heads say (the sources table's dates are UTC too). */
static const char *utc_minute(uint64_t ts_ns, char *buf, size_t len)
{
    time_t t = (time_t)(ts_ns / 1000000000ULL);
    struct tm tm;
    if (!ts_ns || !gmtime_r(&t, &tm) || !strftime(buf, len, "%Y-%m-%d %H:%M", &tm))
        return DS_FMT_NA;
    return buf;
}

static ds_rc focus_payloads_table(ds_walk *w, const ds_report_focus *f, const char *id, const char *title)
{
    const char *head[] = { M(w, DS_MSG_COL_RANK), PW(w, PW_COUNT), M(w, DS_MSG_COL_SOURCES), PW(w, PW_LEN),
                           M(w, DS_MSG_COL_FIRST_SEEN), M(w, DS_MSG_COL_LAST_SEEN), PW(w, PW_EXCERPT) };
    static const unsigned char num[] = { 1, 1, 1, 1, 0, 0, 0 };
    ds_walk_tab tb = { 0 };
    ds_out_init(&tb.text, 0);
    for (size_t i = 0; i < f->npayloads; i++) {
        const ds_report_payload *p = &f->payloads[i];
        char b[DS_FMT_NUM_LEN], t[32];
        ds_walk_tab_cell(&tb, ds_fmt_text(b, sizeof b, "%zu", i + 1));
        ds_walk_tab_cell(&tb, ds_fmt_count(p->count, b, sizeof b));
        ds_walk_tab_cell(&tb, ds_fmt_count(p->sources, b, sizeof b));
        ds_walk_tab_cell(&tb, ds_fmt_count(p->len, b, sizeof b));
        ds_walk_tab_cell(&tb, utc_minute(p->first_ns, t, sizeof t));
        ds_walk_tab_cell(&tb, utc_minute(p->last_ns, t, sizeof t));
        ds_walk_tab_cell(&tb, p->excerpt);
    }
    ds_rc rc = ds_walk_tab_emit(w, &tb, id, title, head, num, sizeof num);
    ds_walk_tab_free(&tb);
    return rc;
}

ds_rc ds_report_focus_section(ds_walk *w, size_t idx)
{
    const ds_report *r = w->r;
    const ds_report_focus *f = &r->focus[idx];
    int svc = f->dim == DS_REPORT_SERVICE;
    size_t days = (size_t)r->days;
    char who[160], head[256], id[64], title[256], pk[DS_FMT_COUNT_LEN], src[DS_FMT_COUNT_LEN];
    char rate[DS_FMT_NUM_LEN], share[DS_FMT_NUM_LEN];
    char (*pl)[96] = NULL;
    const char **pp = NULL;
    ds_out s, alt;
    ds_rc rc = DS_OK;
    ds_out_init(&s, 0);
    ds_out_init(&alt, 0);
    ds_walk_key_long(w, f->dim, f->label, f->name, who, sizeof who);
    w->nsections++;
    ds_fmt_text(head, sizeof head, w->ja ? "%d. %s：%s" : "%d. %s: %s", w->nsections,
                M(w, svc ? DS_MSG_FOCUS_SERVICE : DS_MSG_FOCUS_REGION), who);
    ds_fmt_text(id, sizeof id, "focus-%zu", idx + 1);
    ds_walk_heading(w, 2, id, head);

    ds_fmt_count(f->packets, pk, sizeof pk);
    ds_fmt_count(f->sources, src, sizeof src);
    ds_fmt_fixed(f->per_ip_per_day, 2, rate, sizeof rate);
    ds_fmt_pct(f->share * 100.0, 1, share, sizeof share);
    if (w->ja) {
        ds_out_printf(&s, "%s%sのパケットは%s件（1IPアドレス・1日あたり%s件）で全体の%sを占め、", who, svc ? "宛て" : "から", pk, rate,
                      share);
        if (f->rank > 0)
            ds_out_printf(&s, "%sで第%d位でした。", M(w, svc ? DS_MSG_SERVICES : DS_MSG_REGIONS), f->rank);
        else
            ds_out_printf(&s, "%sのランキングでは%sでした。", M(w, svc ? DS_MSG_SERVICES : DS_MSG_REGIONS), M(w, DS_MSG_OUT_OF_RANKING));
        ds_out_printf(&s, "送信元は%sユニークアドレスでした。", src);
    } else {
        ds_out_printf(&s, "%s %s %s packets (%s per address per day), %s of all packets, from %s unique sources; ", who,
                      svc ? "received" : "sent", pk, rate, share, src);
        if (f->rank > 0)
            ds_out_printf(&s, "it ranks %d%s among %s.", f->rank, ds_walk_ordinal(f->rank),
                          svc ? "destination services" : "source regions");
        else
            ds_out_printf(&s, "it is %s among %s.", M(w, DS_MSG_OUT_OF_RANKING), svc ? "destination services" : "source regions");
    }
    if ((rc = ds_walk_para(w, DS_PARA_TEXT, &s)) != DS_OK)
        goto out;

    if (days && f->daily) {
        const char *lab[1] = { f->label };
        ds_fmt_text(id, sizeof id, "focus%zu-daily", idx + 1);
        if (w->ja)
            ds_fmt_text(title, sizeof title, "%s%sの日別パケット数", who, svc ? "宛て" : "から");
        else
            ds_fmt_text(title, sizeof title, "Daily packets %s %s", svc ? "to" : "from", who);
        if ((rc = ds_walk_line_figure(w, id, title, M(w, DS_MSG_Y_PACKETS), lab, f->daily, 1, title)) != DS_OK)
            goto out;
    }
    if (days && f->daily_sources) {
        const char *lab[1] = { f->label };
        ds_fmt_text(id, sizeof id, "focus%zu-sources", idx + 1);
        if (w->ja)
            ds_fmt_text(title, sizeof title, "%s%sの日別ユニーク送信元数", who, svc ? "宛て" : "");
        else
            ds_fmt_text(title, sizeof title, "Daily unique sources %s %s", svc ? "to" : "in", who);
        if ((rc = ds_walk_line_figure(w, id, title, M(w, DS_MSG_Y_SOURCES), lab, f->daily_sources, 1, title)) != DS_OK)
            goto out;
    }
    size_t np = f->split.nparts < DS_WALK_MAX_FIG_SERIES ? f->split.nparts : DS_WALK_MAX_FIG_SERIES;
    if (days && np && f->split_daily && f->split.part_keys) {
        ds_report_dim other = svc ? DS_REPORT_REGION : DS_REPORT_SERVICE;
        pl = calloc(np, sizeof *pl);
        pp = calloc(np, sizeof *pp);
        if (!pl || !pp) {
            rc = ds_walk_oom(w);
            goto out;
        }
        for (size_t p = 0; p < np; p++) {
            ds_walk_key_short(w, other, f->split.part_keys[p], pl[p], sizeof pl[p]);
            pp[p] = pl[p];
        }
        ds_fmt_text(id, sizeof id, "focus%zu-split", idx + 1);
        if (w->ja)
            ds_fmt_text(title, sizeof title, "%s%sの日別パケット数（%s、上位%zu）", who, svc ? "宛て" : "から",
                        M(w, svc ? DS_MSG_REGIONS : DS_MSG_SERVICES), np);
        else
            ds_fmt_text(title, sizeof title, "Daily packets %s %s by %s, top %zu", svc ? "to" : "from", who,
                        svc ? "source region" : "destination service", np);
        ds_walk_alt_list(w, &alt, title, pp, np);
        if (alt.failed) {
            rc = ds_walk_oom(w);
            goto out;
        }
        if ((rc = ds_walk_line_figure(w, id, title, M(w, DS_MSG_Y_PACKETS), pp, f->split_daily, np, alt.p)) != DS_OK)
            goto out;
    }
    if (f->nsports) {
        ds_walk_heading(w, 3, NULL, M(w, DS_MSG_SOURCE_PORTS));
        ds_fmt_text(id, sizeof id, "tab-focus%zu-sports", idx + 1);
        if (w->ja)
            ds_fmt_text(title, sizeof title, "%s%sのパケットの送信元ポート上位%zu", who, svc ? "宛て" : "から", f->nsports);
        else
            ds_fmt_text(title, sizeof title, "Top %zu source ports of packets %s %s", f->nsports, svc ? "to" : "from", who);
        if ((rc = focus_sports_table(w, f, id, title)) != DS_OK)
            goto out;
    }
    if (f->ntop_sources) {
        ds_walk_heading(w, 3, NULL, M(w, DS_MSG_TOP_SOURCES));
        ds_fmt_text(id, sizeof id, "tab-focus%zu-sources", idx + 1);
        if (w->ja)
            ds_fmt_text(title, sizeof title, "%s%sの送信元アドレス上位%zu", who, svc ? "宛て" : "", f->ntop_sources);
        else
            ds_fmt_text(title, sizeof title, "Top %zu sources %s %s", f->ntop_sources, svc ? "to" : "in", who);
        if ((rc = focus_sources_table(w, f, id, title)) != DS_OK)
            goto out;
    }
    if (svc && f->npayloads) {
        ds_walk_heading(w, 3, NULL, PW(w, PW_HEADING));
        ds_out_free(&s);   /* empty again, same limit */
        ds_out_puts(&s, PW(w, PW_NOTE));
        if ((rc = ds_walk_para(w, DS_PARA_NOTE, &s)) != DS_OK)
            goto out;
        ds_fmt_text(id, sizeof id, "tab-focus%zu-payloads", idx + 1);
        if (w->ja)
            ds_fmt_text(title, sizeof title, "%s宛ての最初のペイロード上位%zu", who, f->npayloads);
        else
            ds_fmt_text(title, sizeof title, "Top %zu first payloads sent to %s", f->npayloads, who);
        if ((rc = focus_payloads_table(w, f, id, title)) != DS_OK)
            goto out;
    }
    if (!svc && f->norgs) {
        ds_walk_heading(w, 3, NULL, M(w, DS_MSG_TOP_ORGS));
        ds_fmt_text(id, sizeof id, "tab-focus%zu-orgs", idx + 1);
        if (w->ja)
            ds_fmt_text(title, sizeof title, "%sの送信元組織（AS）上位%zu", who, f->norgs);
        else
            ds_fmt_text(title, sizeof title, "Top %zu source organisations (AS) in %s", f->norgs, who);
        rc = focus_orgs_table(w, f, id, title);
    }
out:
    free(pl);
    free(pp);
    ds_out_free(&s);
    ds_out_free(&alt);
    return rc;
}

