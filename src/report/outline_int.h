/* outline_int.h: what the files of the report's outline share (i18n.c walks the report,
 * phenomena.c writes its "Notable phenomena" section): the walk's state, and the helpers that
 * number tables and figures and hand text, tables and figures to the markup backend (ds_rdoc).
 * Not for callers outside report/.
 */
#ifndef DS_REPORT_OUTLINE_INT_H
#define DS_REPORT_OUTLINE_INT_H
#include "report/chart.h"
#include "report/i18n.h"

#define DS_WALK_MAX_FIG_SERIES 16   /* more parts than this would not be readable in one figure */

typedef struct ds_walk {
    const ds_report *r;
    const ds_rdoc *doc;
    ds_lang lang;
    int ja;
    int ntables, nfigures, nsections;
    ds_err *err;
} ds_walk;

ds_rc ds_walk_oom(ds_walk *w);
/* Hands a finished text to the backend; a failed buffer is an error. */
ds_rc ds_walk_para(ds_walk *w, ds_rdoc_para kind, ds_out *s);
void ds_walk_heading(ds_walk *w, int level, const char *id, const char *text);

/* A table's cell texts in one arena; offsets, since the arena moves as it grows. */
typedef struct ds_walk_tab {
    ds_out text;
    size_t *off;
    size_t n, cap;
    int failed;
} ds_walk_tab;
void ds_walk_tab_cell(ds_walk_tab *t, const char *s);
void ds_walk_tab_free(ds_walk_tab *t);
/* Emits a table whose cells are all in t (nrows * ncols of them), numbered "Table N." / "表N". */
ds_rc ds_walk_tab_emit(ds_walk *w, ds_walk_tab *t, const char *id, const char *title, const char *const *head,
                       const unsigned char *numeric, size_t ncols);
/* Emits a rendered chart as the next figure (and frees co). */
ds_rc ds_walk_figure(ds_walk *w, ds_chart_out *co, const char *name, const char *title, const char *alt);
/* Line chart of n daily series (values[i * days ..]) over the report's period with the given
 * labels; days the sensors did not observe whole are shaded, and the caption says so. */
ds_rc ds_walk_line_figure(ds_walk *w, const char *name, const char *title, const char *y_label,
                          const char *const *labels, const double *values, size_t n, const char *alt);

/* "st", "nd", "rd", "th" for 1st, 2nd, 3rd, 11th, 21st */
const char *ds_walk_ordinal(int n);
/* A key's label: "23/TCP" for a service, the code for a region. */
void ds_walk_key_label(ds_report_dim dim, uint32_t key, char *buf, size_t len);
/* The name of a key (IANA service name, country name in the report language), or NULL: from the
 * ranking rows first (the model filled them), else from the names tables when given. */
const char *ds_walk_key_name(const ds_walk *w, ds_report_dim dim, uint32_t key);
/* A key as a figure shows it: "23/TCP" for a service, the country name (or code) for a region. */
void ds_walk_key_short(const ds_walk *w, ds_report_dim dim, uint32_t key, char *buf, size_t len);
/* "23/TCP (telnet)" / "23/TCP（telnet）", "China (CN)" / "中国（CN）"; the bare label without a name. */
void ds_walk_key_long(const ds_walk *w, ds_report_dim dim, const char *label, const char *name, char *buf, size_t len);
/* Alt text: "<what>: a, b, c." */
void ds_walk_alt_list(ds_walk *w, ds_out *alt, const char *what, const char *const *items, size_t n);

/* focus_text.c: one focus section (--focus), numbered after the others. */
ds_rc ds_report_focus_section(ds_walk *w, size_t idx);

/* phenomena.c: section "Notable phenomena" (docs/report.md#phenomena). */
ds_rc ds_report_phenomena_section(ds_walk *w);

#endif
