/* coverage_text.c: what a report says about coverage, in English and Japanese (see coverage.h).
 *
 * Kept out of i18n.c (which holds the rest of the report's words) only for size; the rules are
 * the same: whole sentences per language, numbers from fmt.h, plain text that the backend
 * escapes.  Outage times are UTC hours (coverage is kept per UTC hour), stated as such; the
 * period's days are days in the report timezone.
 */
#include "report/coverage.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/timeutil.h"

static int64_t floor_div(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

/* "10 August 2023 14:00" / "2023年8月10日 14:00" (UTC) */
static char *utc_time(int64_t t, int ja, char *buf, size_t len)
{
    char day[DS_FMT_DAY_LEN];
    int64_t d = floor_div(t, 86400), s = t - d * 86400;
    ds_fmt_day((int32_t)d, ja, day, sizeof day);
    return ds_fmt_text(buf, len, "%s %02d:%02d", day, (int)(s / 3600), (int)(s / 60 % 60));
}

/* "9 d 18 h" / "9日18時間" from hours */
static char *duration(int64_t hours, int ja, char *buf, size_t len)
{
    int64_t d = hours / 24, h = hours % 24;
    if (ja)
        return d ? (h ? ds_fmt_text(buf, len, "%lld日%lld時間", (long long)d, (long long)h)
                      : ds_fmt_text(buf, len, "%lld日", (long long)d))
                 : ds_fmt_text(buf, len, "%lld時間", (long long)h);
    return d ? (h ? ds_fmt_text(buf, len, "%lld d %lld h", (long long)d, (long long)h)
                  : ds_fmt_text(buf, len, "%lld d", (long long)d))
             : ds_fmt_text(buf, len, "%lld h", (long long)h);
}

/* The local days of the store's data, from its first covered hour to the end of its last. */
static void data_days(int64_t first, int64_t last, int32_t *a, int32_t *b)
{
    *a = ds_day_of(first);
    *b = ds_day_of(last > first ? last - 1 : first);
}

char *ds_report_no_data_text(ds_lang lang, const ds_period *p, int64_t data_first, int64_t data_last, char *buf,
                             size_t len)
{
    int ja = lang == DS_LANG_JA;
    char pl[DS_PERIOD_LABEL_LEN], a[DS_FMT_DAY_LEN], b[DS_FMT_DAY_LEN];
    ds_period_label(p, ja, pl, sizeof pl);
    if (!data_first && !data_last)
        return ds_fmt_text(buf, len, ja ? "%sのデータはありません。ストアにはまだデータがありません。"
                                        : "No data for %s: the store holds no data yet.", pl);
    int32_t da, db;
    data_days(data_first, data_last, &da, &db);
    ds_fmt_day(da, ja, a, sizeof a);
    ds_fmt_day(db, ja, b, sizeof b);
    return ds_fmt_text(buf, len, ja ? "%sのデータはありません。ストアが保持しているのは%s～%sの観測です。"
                                    : "No data for %s: the store covers %s – %s.", pl, a, b);
}

int ds_report_has_uncovered_days(const ds_report *r)
{
    for (int32_t i = 0; r->coverage.day_frac && i < r->days; i++)
        if (r->coverage.day_frac[i] < 1.0 - 1e-9)
            return 1;
    return 0;
}

const char *ds_report_shading_note(const ds_report *r)
{
    if (!ds_report_has_uncovered_days(r))
        return "";
    return r->o.lang == DS_LANG_JA
               ? "灰色の帯は、センサーが終日は観測できていなかった日を示します（観測できなかった時間が長いほど濃い）。"
               : "Grey bands mark days the sensors were not observing for the whole day (darker: less of the day "
                 "covered).";
}

void ds_report_rate_basis_text(const ds_report *r, ds_out *s)
{
    const ds_report_coverage *c = &r->coverage;
    int ja = r->o.lang == DS_LANG_JA;
    char pn[DS_PERIOD_LABEL_LEN], a[DS_FMT_NUM_LEN], b[DS_FMT_NUM_LEN], d[64];
    if (!r->o.compare || !c->rate_based)
        return;
    ds_period_label(&r->prev, ja, pn, sizeof pn);
    ds_fmt_pct(c->share * 100.0, 1, a, sizeof a);
    ds_fmt_pct(c->prev_share * 100.0, 1, b, sizeof b);
    int32_t pdays = ds_period_days(&r->prev);
    if (ja) {
        ds_out_printf(s, "今期と前期（%s）では観測できた時間が異なるため（監視アドレス・日数のうち観測できた割合は今期%s、前期%s", pn, a, b);
        for (size_t i = 0; i < c->nsensors; i++) {
            const ds_report_cov_sensor *x = &c->sensors[i];
            int64_t h = llround((r->days - x->covered_days) * 24), ph = llround((pdays - x->prev_covered_days) * 24);
            if (h > 0)
                ds_out_printf(s, "。%sは今期%s欠測", x->name, duration(h, 1, d, sizeof d));
            if (ph > 0 && h > 0)
                ds_out_printf(s, "、前期%s欠測", duration(ph, 1, d, sizeof d));
            else if (ph > 0)
                ds_out_printf(s, "。%sは前期%s欠測", x->name, duration(ph, 1, d, sizeof d));
        }
        ds_out_puts(s, "）、前期との比較は観測できたアドレス・日あたりのパケット数で行っています。");
        return;
    }
    ds_out_printf(s, " Coverage differed between the periods (%s of the address-days observed in this period, %s in %s",
                  a, b, pn);
    for (size_t i = 0; i < c->nsensors; i++) {
        const ds_report_cov_sensor *x = &c->sensors[i];
        int64_t h = llround((r->days - x->covered_days) * 24), ph = llround((pdays - x->prev_covered_days) * 24);
        if (h > 0)
            ds_out_printf(s, "; %s missed %s of this period", x->name, duration(h, 0, d, sizeof d));
        if (ph > 0 && h > 0)
            ds_out_printf(s, " and %s of %s", duration(ph, 0, d, sizeof d), pn);
        else if (ph > 0)
            ds_out_printf(s, "; %s missed %s of %s", x->name, duration(ph, 0, d, sizeof d), pn);
    }
    ds_out_puts(s, "), so changes compare packets per covered address-day.");
}

/* The outage sentence. */
static void outage_text(const ds_report *r, const ds_outage *o, ds_out *s)
{
    int ja = r->o.lang == DS_LANG_JA;
    char a[64], b[64], d[64];
    utc_time(o->from, ja, a, sizeof a);
    utc_time(o->to, ja, b, sizeof b);
    duration((o->to - o->from) / 3600, ja, d, sizeof d);
    static const char *const why[4][2] = {
        [DS_HOUR_NODATA] = { "no capture covers these hours", "この時間を含む観測ファイルがありません" },
        [DS_HOUR_OUTAGE] = { "inferred: no packet arrived in hours where many are usual",
                             "推定：通常は多数のパケットが届く時間に1件も届きませんでした" },
        [DS_HOUR_DECLARED] = { "declared in the configuration", "設定で停止と宣言された期間" },
        [DS_HOUR_COVERED] = { "", "" },
    };
    const char *w = why[o->kind >= 0 && o->kind < 4 ? o->kind : 0][ja];
    if (ja) {
        if (o->open_end)
            ds_out_printf(s, "%s：%s（UTC）以降、ストアのデータの終わりまで観測がありません（%s、%s）", o->sensor, a, d, w);
        else
            ds_out_printf(s, "%s：%s～%s（UTC）の%s観測できませんでした（%s）", o->sensor, a, b, d, w);
        if (ds_day_of(o->from) < r->o.period.from)
            ds_out_puts(s, "。この欠測は対象期間の開始前から続いていました");
        ds_out_puts(s, "。");
    } else {
        if (o->open_end)
            ds_out_printf(s, "%s: no data from %s UTC to the end of the store's data (%s; %s)", o->sensor, a, d, w);
        else
            ds_out_printf(s, "%s: down from %s to %s UTC (%s; %s)", o->sensor, a, b, d, w);
        if (ds_day_of(o->from) < r->o.period.from)
            ds_out_puts(s, "; the outage began before the period");
        ds_out_puts(s, ".");
    }
}

ds_rc ds_report_coverage_section(const ds_report *r, const ds_rdoc *doc, int *ntables, ds_err *err)
{
    const ds_report_coverage *c = &r->coverage;
    int ja = r->o.lang == DS_LANG_JA;
    ds_out s, cells;
    ds_rc rc = DS_OK;
    size_t *off = NULL;
    const char **cp = NULL;
    if (!c->known)
        return DS_OK;   /* nothing to say: the store keeps no coverage */
    ds_out_init(&s, 0);
    ds_out_init(&cells, 0);
    doc->heading(doc->ctx, 3, "coverage", ja ? "観測状況" : "Coverage");
    int all = c->noutages == 0;
    for (size_t i = 0; i < c->nsensors; i++)
        all &= c->sensors[i].covered_days >= r->days - 1e-9;
    char n[DS_FMT_COUNT_LEN];
    ds_fmt_count(c->nsensors, n, sizeof n);
    if (all) {
        if (ja)
            ds_out_printf(&s, "%sセンサーすべてが、対象期間のすべての時間に観測していました。", n);
        else if (c->nsensors == 1)
            ds_out_puts(&s, "The sensor observed every hour of the period.");
        else
            ds_out_printf(&s, "All %s sensors observed every hour of the period.", n);
        if (!s.failed && s.len)
            doc->para(doc->ctx, DS_PARA_TEXT, s.p);
        goto out;
    }
    char sh[DS_FMT_NUM_LEN];
    ds_fmt_pct(c->share * 100.0, 1, sh, sizeof sh);
    if (ja)
        ds_out_printf(&s, "対象期間のうち、センサーが観測できていたのは監視アドレス・日数の%sです。1IPアドレス・1日あたりの値は、"
                          "観測できたアドレス・日数で割っています。", sh);
    else
        ds_out_printf(&s, "The sensors observed %s of the period's address-days. Rates per address per day divide by "
                          "the address-days covered, so an outage does not lower them.", sh);
    /* the store's data ends (or begins) inside the period */
    int32_t da, db;
    data_days(c->data_first, c->data_last, &da, &db);
    if (da > r->o.period.from || db < r->o.period.to) {
        char a[DS_FMT_DAY_LEN], b[DS_FMT_DAY_LEN];
        ds_fmt_day(da, ja, a, sizeof a);
        ds_fmt_day(db, ja, b, sizeof b);
        ds_out_printf(&s, ja ? "ストアのデータは%s～%sのもので、対象期間の一部しか含みません。"
                             : " The store's data runs from %s to %s, only part of the period.", a, b);
    }
    if (s.failed) {
        rc = ds_fail(err, DS_ENOMEM, "out of memory writing the report text");
        goto out;
    }
    doc->para(doc->ctx, DS_PARA_TEXT, s.p);

    /* each sensor's covered days */
    enum { NCOL = 5 };
    size_t ncell = c->nsensors * NCOL;
    off = malloc((ncell ? ncell : 1) * sizeof *off);
    cp = malloc((ncell ? ncell : 1) * sizeof *cp);
    if (!off || !cp) {
        rc = ds_fail(err, DS_ENOMEM, "out of memory writing the report text");
        goto out;
    }
    for (size_t i = 0, k = 0; i < c->nsensors; i++) {
        const ds_report_cov_sensor *x = &c->sensors[i];
        char v[4][DS_FMT_NUM_LEN];
        ds_fmt_count(x->addresses, v[0], sizeof v[0]);
        ds_fmt_fixed(x->covered_days, 2, v[1], sizeof v[1]);
        ds_fmt_count((uint64_t)r->days, v[2], sizeof v[2]);
        ds_fmt_pct(r->days > 0 ? x->covered_days * 100.0 / r->days : 0.0, 1, v[3], sizeof v[3]);
        const char *row[NCOL] = { x->name, v[0], v[1], v[2], v[3] };
        for (size_t j = 0; j < NCOL; j++, k++) {
            off[k] = cells.len;
            ds_out_putn(&cells, row[j], strlen(row[j]) + 1);
        }
    }
    if (cells.failed) {
        rc = ds_fail(err, DS_ENOMEM, "out of memory writing the report text");
        goto out;
    }
    for (size_t k = 0; k < ncell; k++)
        cp[k] = cells.p + off[k];
    static const char *const head_en[NCOL] = { "Sensor", "IPv4 addresses", "Covered days", "Days", "Share" };
    static const char *const head_ja[NCOL] = { "センサー", "監視IPv4アドレス", "観測日数", "日数", "割合" };
    static const unsigned char numeric[NCOL] = { 0, 1, 1, 1, 1 };
    char caption[160];
    (*ntables)++;
    ds_fmt_text(caption, sizeof caption, ja ? "%s%d センサー別の観測日数" : "%s %d. Days each sensor observed",
                ds_msg_text(r->o.lang, DS_MSG_TABLE), *ntables);
    ds_rdoc_table t = { .id = "tab-coverage", .caption = caption, .ncols = NCOL, .nrows = c->nsensors,
                        .head = ja ? head_ja : head_en, .numeric = numeric, .cells = cp };
    doc->table(doc->ctx, &t);

    /* every outage overlapping the period, wherever it began */
    for (size_t i = 0; i < c->noutages; i++) {
        ds_out_free(&s);
        outage_text(r, &c->outages[i], &s);
        if (s.failed) {
            rc = ds_fail(err, DS_ENOMEM, "out of memory writing the report text");
            goto out;
        }
        doc->para(doc->ctx, DS_PARA_TEXT, s.p);
    }
out:
    free(off);
    free(cp);
    ds_out_free(&s);
    ds_out_free(&cells);
    return rc;
}
