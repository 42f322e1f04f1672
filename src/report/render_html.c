/* render_html.c: a report as one self-contained HTML5 file.
 *
 * The content and its order come from the outline in i18n.c; this file is only the markup
 * backend.  The document must open offline and years later, and print well, as the PDF/HTML
 * reports of JPCERT/CC and the NPA do:
 *   - no external resource at all: CSS inline, figures as SVG data: URIs (RFC 2397, base64 of
 *     RFC 4648), system fonts only (Japanese fallbacks "Hiragino Sans", "Noto Sans CJK JP",
 *     "IPAGothic", "Yu Gothic"); the SVGs from cairo carry their glyphs as outlines, so the
 *     figures do not depend on the reader's fonts either;
 *   - <html lang> set to the report language so browsers pick Japanese glyph variants;
 *   - tables with right-aligned, tabular numbers, wrapped for horizontal scrolling on screens;
 *   - print CSS: A4, black text, no page break inside a table or a figure, headings kept with
 *     what follows them.
 * Every text goes through ds_out_html (HTML 5 escaping, invalid UTF-8 replaced), attributes are
 * always double-quoted, and ids are ASCII made by the outline.
 */
#include "report/render.h"

#include <string.h>

#include "report/i18n.h"

static const char html_css[] =
    ":root{--ink:#1b1f24;--muted:#57606a;--line:#d0d7de;--head:#eef2f6;--band:#f8fafc;--accent:#1f4e79}\n"
    "*{box-sizing:border-box}\n"
    "html{-webkit-text-size-adjust:100%}\n"
    "body{margin:0;background:#fff;color:var(--ink);font-size:15px;line-height:1.7;"
    "font-family:system-ui,-apple-system,\"Segoe UI\",\"Helvetica Neue\",Arial,\"Hiragino Sans\","
    "\"Hiragino Kaku Gothic ProN\",\"Noto Sans CJK JP\",\"Noto Sans JP\",\"IPAPGothic\",\"IPAexGothic\",\"IPAGothic\",\"Yu Gothic\","
    "Meiryo,sans-serif}\n"
    ":lang(ja) body,body:lang(ja){font-family:\"Hiragino Sans\",\"Hiragino Kaku Gothic ProN\",\"Noto Sans CJK JP\","
    "\"Noto Sans JP\",\"IPAPGothic\",\"IPAexGothic\",\"IPAGothic\",\"Yu Gothic\",Meiryo,system-ui,sans-serif;line-break:strict}\n"
    "main{max-width:1120px;margin:0 auto;padding:32px 40px 64px}\n"
    "h1{font-size:1.75em;line-height:1.35;color:var(--accent);border-bottom:3px solid var(--accent);"
    "padding-bottom:.35em;margin:0 0 .6em}\n"
    "h2{font-size:1.3em;line-height:1.4;border-left:6px solid var(--accent);padding:.1em 0 .1em .55em;"
    "margin:2.4em 0 .8em}\n"
    "h3{font-size:1.08em;margin:1.8em 0 .5em}\n"
    "p{margin:.6em 0}\n"
    "p.note{color:var(--muted);font-size:.9em;border-bottom:1px solid var(--line);padding-bottom:.8em}\n"
    ".table-wrap{overflow-x:auto;margin:1.2em 0 1.6em}\n"
    "table{border-collapse:collapse;font-size:.8em;min-width:60%}\n"
    "caption{caption-side:top;text-align:left;font-weight:700;padding:0 0 .4em}\n"
    "th,td{border:1px solid var(--line);padding:.28em .45em;vertical-align:top}\n"
    "th{background:var(--head);font-weight:700;text-align:center;white-space:normal;min-width:3em}\n"
    "td{white-space:nowrap}\n"
    "td.text{white-space:normal;min-width:11em}\n"
    "td.num{text-align:right;font-variant-numeric:tabular-nums}\n"
    "tbody tr:nth-child(even){background:var(--band)}\n"
    "figure{margin:1.6em 0;text-align:center}\n"
    "figure img{max-width:100%;height:auto;border:1px solid var(--line);background:#fff}\n"
    "figcaption{font-size:.92em;font-weight:700;margin-top:.5em}\n"
    "dl.methods{font-size:.93em}\n"
    "dl.methods dt{font-weight:700;margin-top:.7em}\n"
    "dl.methods dd{margin:.1em 0 0 1.6em}\n"
    "@media (max-width:700px){main{padding:16px}}\n"
    "@media print{\n"
    "@page{size:A4;margin:15mm 12mm}\n"
    "body{font-size:9.5pt;color:#000;background:#fff}\n"
    "main{max-width:none;padding:0}\n"
    "h1,h2{color:#000;border-color:#000}\n"
    "h2{break-before:auto}\n"
    "h1,h2,h3,caption{break-after:avoid;page-break-after:avoid}\n"
    "p.note{color:#000}\n"
    ".table-wrap{overflow:visible}\n"
    "table,figure,.table-wrap,dl.methods dd{break-inside:avoid;page-break-inside:avoid}\n"
    "table{font-size:8pt}\n"
    "th,td{border-color:#777}\n"
    "th{background:#e6e6e6;-webkit-print-color-adjust:exact;print-color-adjust:exact}\n"
    "tbody tr:nth-child(even){background:none}\n"
    "figure img{border:none;max-height:120mm}\n"
    "}\n";

typedef struct html_ctx { ds_out *o; } html_ctx;

/* Characters (not bytes) of a UTF-8 text: a Japanese cell is three times its byte count. */
static size_t utf8_chars(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

static void html_begin(void *ctx, ds_lang lang, const char *title)
{
    ds_out *o = ((html_ctx *)ctx)->o;
    ds_out_printf(o, "<!DOCTYPE html>\n<html lang=\"%s\">\n<head>\n<meta charset=\"utf-8\">\n",
                  lang == DS_LANG_JA ? "ja" : "en");
    ds_out_puts(o, "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                   "<meta name=\"generator\" content=\"darkscope\">\n<title>");
    ds_out_html(o, title);
    ds_out_puts(o, "</title>\n<style>\n");
    ds_out_puts(o, html_css);
    ds_out_puts(o, "</style>\n</head>\n<body>\n<main>\n");
}

static void html_heading(void *ctx, int level, const char *id, const char *text)
{
    ds_out *o = ((html_ctx *)ctx)->o;
    if (level < 1)
        level = 1;
    if (level > 6)
        level = 6;
    ds_out_printf(o, "<h%d", level);
    if (id && *id) {
        ds_out_puts(o, " id=\"");
        ds_out_html(o, id);
        ds_out_puts(o, "\"");
    }
    ds_out_puts(o, ">");
    ds_out_html(o, text);
    ds_out_printf(o, "</h%d>\n", level);
}

static void html_para(void *ctx, ds_rdoc_para kind, const char *text)
{
    ds_out *o = ((html_ctx *)ctx)->o;
    ds_out_puts(o, kind == DS_PARA_NOTE ? "<p class=\"note\">" : "<p>");
    ds_out_html(o, text);
    ds_out_puts(o, "</p>\n");
}

static void html_deflist(void *ctx, const char *const *terms, const char *const *defs, size_t n)
{
    ds_out *o = ((html_ctx *)ctx)->o;
    ds_out_puts(o, "<dl class=\"methods\">\n");
    for (size_t i = 0; i < n; i++) {
        ds_out_puts(o, "<dt>");
        ds_out_html(o, terms[i]);
        ds_out_puts(o, "</dt><dd>");
        ds_out_html(o, defs[i]);
        ds_out_puts(o, "</dd>\n");
    }
    ds_out_puts(o, "</dl>\n");
}

static void html_table(void *ctx, const ds_rdoc_table *t)
{
    ds_out *o = ((html_ctx *)ctx)->o;
    ds_out_puts(o, "<div class=\"table-wrap\">\n<table");
    if (t->id && *t->id) {
        ds_out_puts(o, " id=\"");
        ds_out_html(o, t->id);
        ds_out_puts(o, "\"");
    }
    ds_out_puts(o, ">\n<caption>");
    ds_out_html(o, t->caption);
    ds_out_puts(o, "</caption>\n<thead><tr>");
    for (size_t c = 0; c < t->ncols; c++) {
        ds_out_puts(o, "<th scope=\"col\">");
        ds_out_html(o, t->head[c]);
        ds_out_puts(o, "</th>");
    }
    ds_out_puts(o, "</tr></thead>\n<tbody>\n");
    for (size_t r = 0; r < t->nrows; r++) {
        ds_out_puts(o, "<tr>");
        for (size_t c = 0; c < t->ncols; c++) {
            const char *cell = t->cells[r * t->ncols + c];
            /* long free text (organisation names) may wrap; numbers and keys never do */
            ds_out_puts(o, t->numeric[c] ? "<td class=\"num\">" : utf8_chars(cell) > 20 ? "<td class=\"text\">" : "<td>");
            ds_out_html(o, cell);
            ds_out_puts(o, "</td>");
        }
        ds_out_puts(o, "</tr>\n");
    }
    ds_out_puts(o, "</tbody>\n</table>\n</div>\n");
}

static ds_rc html_figure(void *ctx, const ds_rdoc_figure *f, ds_err *err)
{
    ds_out *o = ((html_ctx *)ctx)->o;
    ds_out_puts(o, "<figure id=\"fig-");
    ds_out_html(o, f->name);
    ds_out_puts(o, "\">\n<img src=\"data:image/svg+xml;base64,");
    ds_out_base64(o, f->svg, f->len);
    ds_out_puts(o, "\" alt=\"");
    ds_out_html(o, f->alt);
    ds_out_puts(o, "\"");
    if (f->width > 0 && f->height > 0)   /* points to CSS pixels (96 per inch) */
        ds_out_printf(o, " width=\"%d\" height=\"%d\"", (f->width * 4 + 2) / 3, (f->height * 4 + 2) / 3);
    ds_out_puts(o, ">\n<figcaption>");
    ds_out_html(o, f->caption);
    ds_out_puts(o, "</figcaption>\n</figure>\n");
    return DS_OK;
}

static void html_end(void *ctx)
{
    ds_out_puts(((html_ctx *)ctx)->o, "</main>\n</body>\n</html>\n");
}

ds_rc ds_report_render_html(const ds_report *r, ds_out *o, ds_err *err)
{
    html_ctx hc = { o };
    ds_rdoc doc = { .ctx = &hc, .begin = html_begin, .heading = html_heading, .para = html_para,
                    .deflist = html_deflist, .table = html_table, .figure = html_figure, .end = html_end };
    ds_rc rc = ds_report_outline(r, &doc, err);
    if (rc != DS_OK)
        return rc;
    if (o->failed)
        return ds_fail(err, DS_ENOMEM, "HTML report: the document exceeds its %zu-byte limit or memory ran out",
                       o->max ? o->max : DS_OUT_DEFAULT_MAX);
    return DS_OK;
}
