/* coverage.h (report): which days the report's sensors observed, as the report states it.
 *
 * report/coverage.c fills ds_report.coverage from analysis/coverage.h: the covered address-days
 * that every rate divides by (this period's and the previous period's), each sensor's covered
 * days, the outages overlapping the period wherever they began, the covered share of each day
 * (the figures shade what is below 1), and whether changes must compare rates.
 * report/coverage_text.c says it, in English and Japanese.
 */
#ifndef DS_REPORT_COVERAGE_H
#define DS_REPORT_COVERAGE_H
#include <stddef.h>
#include <stdint.h>

#include "report/fmt.h"
#include "report/i18n.h"
#include "report/model.h"

/* Fills r->coverage.  Needs r->o, r->days, r->prev and r->cur.addresses.  DS_ENOTFOUND, with
 * ds_report_no_data_text as the message, when no sensor of the report observed any hour of the
 * period. */
ds_rc ds_report_coverage_load(ds_store *st, ds_report *r, ds_err *err);
void ds_report_coverage_free(ds_report_coverage *c);

/* ---- coverage_text.c: the words ---------------------------------------------------------- */

/* "No data for Q3 2023: the store covers 1 April 2023 – 30 June 2023." / 「2023年第3四半期の
 * データはありません。ストアが保持する期間は…」; "the store holds no data" when it holds none. */
char *ds_report_no_data_text(ds_lang lang, const ds_period *p, int64_t data_first, int64_t data_last, char *buf,
                             size_t len);

/* The coverage sub-section of the overview: one sentence when every sensor observed every hour,
 * else a sentence, a table of each sensor's covered days, and every outage with its dates and
 * duration.  *ntables numbers the table. */
ds_rc ds_report_coverage_section(const ds_report *r, const ds_rdoc *doc, int *ntables, ds_err *err);

/* Appended to the overview when changes compare rates: why, in one sentence. */
void ds_report_rate_basis_text(const ds_report *r, ds_out *s);

/* Caption note of a daily figure with days not fully covered ("" when every day is). */
const char *ds_report_shading_note(const ds_report *r);

/* 1 when some day of the period is not fully covered. */
int ds_report_has_uncovered_days(const ds_report *r);

#endif
