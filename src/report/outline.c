/* outline.c: the helpers every part of the report's outline uses to emit text, tables and
 * figures (outline_int.h): the numbering of tables and figures lives here, so sections written
 * in different files still number them through the document.
 */
#include "report/outline_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/coverage.h"

ds_rc ds_walk_oom(ds_walk *w) { return ds_fail(w->err, DS_ENOMEM, "out of memory writing the report text"); }

/* Hands a finished text to the backend; a failed buffer is an error. */
ds_rc ds_walk_para(ds_walk *w, ds_rdoc_para kind, ds_out *s)
{
    if (s->failed)
        return ds_walk_oom(w);
    if (s->len)
        w->doc->para(w->doc->ctx, kind, s->p);
    return DS_OK;
}

void ds_walk_heading(ds_walk *w, int level, const char *id, const char *text) { w->doc->heading(w->doc->ctx, level, id, text); }


/* Cell texts in one arena; offsets, since the arena moves as it grows. */

void ds_walk_tab_cell(ds_walk_tab *t, const char *s)
{
    if (t->failed)
        return;
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 64;
        size_t *off = realloc(t->off, cap * sizeof *off);
        if (!off) {
            t->failed = 1;
            return;
        }
        t->off = off;
        t->cap = cap;
    }
    t->off[t->n++] = t->text.len;
    ds_out_putn(&t->text, s ? s : "", strlen(s ? s : "") + 1);   /* with its NUL */
}

void ds_walk_tab_free(ds_walk_tab *t)
{
    ds_out_free(&t->text);
    free(t->off);
}

/* Emits a table whose cells are all in t (nrows * ncols of them). */
ds_rc ds_walk_tab_emit(ds_walk *w, ds_walk_tab *t, const char *id, const char *title, const char *const *head,
                      const unsigned char *numeric, size_t ncols)
{
    ds_rc rc = DS_OK;
    const char **cells = NULL;
    char caption[256];
    if (t->failed || t->text.failed || (ncols && t->n % ncols)) {
        rc = ds_walk_oom(w);
        goto out;
    }
    cells = malloc((t->n ? t->n : 1) * sizeof *cells);
    if (!cells) {
        rc = ds_walk_oom(w);
        goto out;
    }
    for (size_t i = 0; i < t->n; i++)
        cells[i] = t->text.p + t->off[i];
    w->ntables++;
    ds_fmt_text(caption, sizeof caption, w->ja ? "%s%d %s" : "%s %d. %s", ds_msg_text(w->lang, DS_MSG_TABLE), w->ntables, title);
    ds_rdoc_table dt = { .id = id, .caption = caption, .ncols = ncols, .nrows = ncols ? t->n / ncols : 0,
                         .head = head, .numeric = numeric, .cells = cells };
    w->doc->table(w->doc->ctx, &dt);
out:
    free(cells);
    return rc;
}


ds_rc ds_walk_figure(ds_walk *w, ds_chart_out *co, const char *name, const char *title, const char *alt)
{
    char caption[640];
    w->nfigures++;
    ds_fmt_text(caption, sizeof caption, w->ja ? "%s%d %s" : "%s %d. %s", ds_msg_text(w->lang, DS_MSG_FIGURE), w->nfigures, title);
    ds_rdoc_figure f = { .name = name, .caption = caption, .alt = alt, .svg = co->data, .len = co->len,
                         .width = co->width, .height = co->height };
    ds_rc rc = w->doc->figure(w->doc->ctx, &f, w->err);
    ds_chart_out_free(co);
    return rc;
}

/* Line chart of n daily series (values[i * days ..]) with the given labels; days the sensors did
 * not observe whole are shaded, and the caption says so. */
ds_rc ds_walk_line_figure(ds_walk *w, const char *name, const char *title, const char *y_label, const char *const *labels,
                         const double *values, size_t n, const char *alt)
{
    const ds_report *r = w->r;
    ds_chart_series series[DS_WALK_MAX_FIG_SERIES];
    ds_chart_out co = { 0 };
    size_t days = (size_t)r->days;
    if (n > DS_WALK_MAX_FIG_SERIES)
        n = DS_WALK_MAX_FIG_SERIES;
    for (size_t i = 0; i < n; i++)
        series[i] = (ds_chart_series){ labels[i], values + i * days, days };
    int shade = ds_report_has_uncovered_days(r);
    ds_line_chart lc = { .title = NULL, .y_label = y_label, .first_day = r->o.period.from, .ndays = days,
                         .series = series, .nseries = n, .ja = w->ja, .covered = shade ? r->coverage.day_frac : NULL };
    ds_rc rc = ds_chart_line(&lc, DS_CHART_SVG, &co, w->err);
    if (rc != DS_OK)
        return rc;
    char caption[512];
    ds_fmt_text(caption, sizeof caption, "%s%s%s", title, shade ? (w->ja ? "　" : ". ") : "", ds_report_shading_note(r));
    return ds_walk_figure(w, &co, name, caption, alt);
}

/* "1st", "2nd", "3rd", "11th", "21st" */
const char *ds_walk_ordinal(int n)
{
    int t = n % 100;
    if (t >= 11 && t <= 13)
        return "th";
    switch (n % 10) {
    case 1: return "st";
    case 2: return "nd";
    case 3: return "rd";
    default: return "th";
    }
}

void ds_walk_key_label(ds_report_dim dim, uint32_t key, char *buf, size_t len)
{
    if (dim == DS_REPORT_SERVICE) {
        ds_service_label((ds_service)key, buf, len);
    } else {
        ds_fmt_text(buf, len, "%c%c", (char)(key >> 8 & 0xff), (char)(key & 0xff));
    }
}

/* The name of a key (IANA service name, country name in the report language), or NULL: from
 * the ranking rows first (the model filled them), else from the names tables when given. */
const char *ds_walk_key_name(const ds_walk *w, ds_report_dim dim, uint32_t key)
{
    const ds_report_table *t = dim == DS_REPORT_SERVICE ? &w->r->services : &w->r->regions;
    for (size_t i = 0; i < t->n; i++)
        if (t->rows[i].key == key && t->rows[i].name)
            return t->rows[i].name;
    if (!w->r->names)
        return NULL;
    if (dim == DS_REPORT_SERVICE)
        return ds_names_service(w->r->names, (ds_service)key);
    char cc[2] = { (char)(key >> 8 & 0xff), (char)(key & 0xff) };
    return ds_names_country(w->r->names, cc, w->lang);
}

/* A key as a figure shows it: "23/TCP" for a service, the country name (or code) for a region. */
void ds_walk_key_short(const ds_walk *w, ds_report_dim dim, uint32_t key, char *buf, size_t len)
{
    if (dim == DS_REPORT_REGION) {
        const char *name = ds_walk_key_name(w, dim, key);
        if (name && *name) {
            ds_fmt_text(buf, len, "%s", name);
            return;
        }
    }
    ds_walk_key_label(dim, key, buf, len);
}

/* "23/TCP (telnet)" / "23/TCP（telnet）", "China (CN)" / "中国（CN）"; the bare label without a name. */
void ds_walk_key_long(const ds_walk *w, ds_report_dim dim, const char *label, const char *name, char *buf, size_t len)
{
    if (!name || !*name || !strcmp(name, label))
        ds_fmt_text(buf, len, "%s", label);
    else if (dim == DS_REPORT_SERVICE)
        ds_fmt_text(buf, len, w->ja ? "%s（%s）" : "%s (%s)", label, name);
    else
        ds_fmt_text(buf, len, w->ja ? "%s（%s）" : "%s (%s)", name, label);
}

/* Alt text: "<what>: a, b, c." */
void ds_walk_alt_list(ds_walk *w, ds_out *alt, const char *what, const char *const *items, size_t n)
{
    ds_out_puts(alt, what);
    ds_out_puts(alt, w->ja ? "：" : ": ");
    for (size_t i = 0; i < n; i++) {
        if (i)
            ds_out_puts(alt, w->ja ? "、" : ", ");
        ds_out_puts(alt, items[i]);
    }
    ds_out_puts(alt, w->ja ? "。" : ".");
}
