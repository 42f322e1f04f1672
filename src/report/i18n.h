/* i18n.h: everything a report says, in English and Japanese, and the outline both document
 * renderers walk.
 *
 * The words (headings, column names, units, captions, sentences) live in one place, i18n.c,
 * so the HTML and the Markdown report cannot drift apart in wording or in numbers: the outline
 * (ds_report_outline) decides what is said, in which order, with which numbers formatted how,
 * and hands plain, unescaped text to a small markup backend (ds_rdoc).  A backend only knows
 * markup and escaping: render_html.c writes HTML, render_md.c GitHub-flavoured Markdown.
 *
 * The Japanese follows the wording of the publications the report imitates (JPCERT/CC's
 * TSUBAME report, the NPA @police monthly report, NICTER's yearly statistics): "概要",
 * "宛先ポート別", "前期順位", "件/IP・日", "前期比", "新規", ...
 */
#ifndef DS_REPORT_I18N_H
#define DS_REPORT_I18N_H
#include <stddef.h>

#include "report/fmt.h"
#include "report/model.h"

/* UI strings: one entry per message, both languages. */
typedef enum ds_msg {
    DS_MSG_REPORT_TITLE,        /* "Darknet Observation Report" */
    DS_MSG_OVERVIEW,            /* section headings */
    DS_MSG_SERVICES,
    DS_MSG_REGIONS,
    DS_MSG_FOCUS_SERVICE,
    DS_MSG_FOCUS_REGION,
    DS_MSG_METHODS,
    DS_MSG_COL_RANK,            /* table columns */
    DS_MSG_COL_PREV_RANK,
    DS_MSG_COL_PORT,
    DS_MSG_COL_SERVICE,
    DS_MSG_COL_IOT,
    DS_MSG_COL_REGION,
    DS_MSG_COL_CODE,
    DS_MSG_COL_PACKETS,
    DS_MSG_COL_PER_IP_DAY,
    DS_MSG_COL_SHARE,
    DS_MSG_COL_CHANGE,
    DS_MSG_COL_CHANGE_PCT,
    DS_MSG_COL_INC_RANK,
    DS_MSG_COL_DEC_RANK,
    DS_MSG_COL_SOURCES,
    DS_MSG_COL_ADDRESS,
    DS_MSG_COL_COUNTRY,
    DS_MSG_COL_ASN,
    DS_MSG_COL_ORG,
    DS_MSG_COL_DAYS_SEEN,
    DS_MSG_COL_FIRST_SEEN,
    DS_MSG_COL_LAST_SEEN,
    DS_MSG_NEW,                 /* previous rank of an entry absent from the previous period */
    DS_MSG_OUT_OF_RANKING,      /* "圏外" */
    DS_MSG_OTHER,               /* the rest of a share or mix chart */
    DS_MSG_UNKNOWN,
    DS_MSG_TABLE,               /* "Table" / "表" */
    DS_MSG_FIGURE,              /* "Figure" / "図" */
    DS_MSG_Y_PER_IP,            /* y axis labels */
    DS_MSG_Y_PACKETS,
    DS_MSG_Y_SOURCES,
    DS_MSG_IOT_SERVICES,        /* share chart bar labels */
    DS_MSG_OTHER_SERVICES,
    DS_MSG_TOP_SOURCES,         /* focus sub-headings */
    DS_MSG_TOP_ORGS,
    DS_MSG_SOURCE_PORTS,
    DS_MSG_COL_SPORT,
    DS_MSG_SPORT_VARIOUS,
    DS_MSG_PHENOMENA,
    DS_MSG_NO_PHENOMENA,
    DS_MSG__COUNT
} ds_msg;

/* Never NULL: a message missing in Japanese falls back to English, and an out-of-range id to "". */
const char *ds_msg_text(ds_lang lang, ds_msg m);

/* ---- the outline and its markup backend -------------------------------------------------- */

/* A table of plain-text cells (the backend escapes them). */
typedef struct ds_rdoc_table {
    const char *id;                 /* anchor, "tab-services" */
    const char *caption;            /* "表1 宛先ポート別 上位10" */
    size_t ncols, nrows;
    const char *const *head;        /* [ncols] */
    const unsigned char *numeric;   /* [ncols]: 1 = a number column, right-aligned */
    const char *const *cells;       /* [nrows * ncols], row-major */
} ds_rdoc_table;

/* A rendered SVG figure. */
typedef struct ds_rdoc_figure {
    const char *name;               /* "services-daily": file name part and anchor */
    const char *caption;            /* "図1 ..." */
    const char *alt;                /* what the figure shows, for screen readers and text browsers */
    const unsigned char *svg; size_t len;
    int width, height;              /* points */
} ds_rdoc_figure;

typedef enum ds_rdoc_para { DS_PARA_TEXT, DS_PARA_NOTE } ds_rdoc_para;

/* Markup backend.  Text arguments are UTF-8, unescaped, never NULL.  Output errors are sticky
 * in the backend's ds_out; only figure (which may write a file) and end return a ds_rc. */
typedef struct ds_rdoc {
    void *ctx;
    void (*begin)(void *ctx, ds_lang lang, const char *title);
    void (*heading)(void *ctx, int level, const char *id, const char *text);   /* level 1..3 */
    void (*para)(void *ctx, ds_rdoc_para kind, const char *text);
    /* A list of (term, definition) pairs: the methods note. */
    void (*deflist)(void *ctx, const char *const *terms, const char *const *defs, size_t n);
    void (*table)(void *ctx, const ds_rdoc_table *t);
    ds_rc (*figure)(void *ctx, const ds_rdoc_figure *f, ds_err *err);
    void (*end)(void *ctx);
} ds_rdoc;

/* Walks the report: title, generation note, overview, services, regions, focus sections,
 * methods.  Draws every figure as SVG (chart.h); a chart error is returned unchanged.  Returns
 * DS_ENOMEM when building a text failed (the texts are bounded by the report's sizes). */
ds_rc ds_report_outline(const ds_report *r, const ds_rdoc *doc, ds_err *err);

#endif
