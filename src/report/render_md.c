/* render_md.c: a report as GitHub-flavoured Markdown with its figures as SVG files beside it.
 *
 * The content and its order come from the outline in i18n.c; this file is only the markup
 * backend.  Tables are GFM pipe tables (number columns aligned right with "---:"), cells and
 * paragraphs are escaped with ds_out_md so that a hostile organisation name stays text.  Each
 * figure is written atomically (ds_out_write_file: temporary file, fsync, rename) as
 * FIG_DIR/FIG_PREFIX-NAME.svg and linked relatively as FIG_PREFIX-NAME.svg, percent-encoded
 * (RFC 3986 unreserved characters kept) so that any prefix makes a valid link destination.
 * The prefix names files, so it may not contain a '/' or be "." or "..": it cannot write
 * outside fig_dir.
 */
#include "report/render.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "report/i18n.h"

typedef struct md_ctx {
    ds_out *o;
    const char *fig_dir, *fig_prefix;
} md_ctx;

static void md_begin(void *ctx, ds_lang lang, const char *title) { (void)ctx, (void)lang, (void)title; }

static void md_heading(void *ctx, int level, const char *id, const char *text)
{
    ds_out *o = ((md_ctx *)ctx)->o;
    if (level < 1)
        level = 1;
    if (level > 6)
        level = 6;
    ds_out_printf(o, "%.*s ", level, "######");
    ds_out_md(o, text);
    ds_out_puts(o, "\n\n");
}

static void md_para(void *ctx, ds_rdoc_para kind, const char *text)
{
    ds_out *o = ((md_ctx *)ctx)->o;
    if (kind == DS_PARA_NOTE)
        ds_out_puts(o, "> ");
    ds_out_md(o, text);
    ds_out_puts(o, "\n\n");
}

static void md_deflist(void *ctx, const char *const *terms, const char *const *defs, size_t n)
{
    ds_out *o = ((md_ctx *)ctx)->o;
    for (size_t i = 0; i < n; i++) {
        ds_out_puts(o, "- **");
        ds_out_md(o, terms[i]);
        ds_out_puts(o, "**: ");
        ds_out_md(o, defs[i]);
        ds_out_puts(o, "\n");
    }
    ds_out_puts(o, "\n");
}

static void md_table(void *ctx, const ds_rdoc_table *t)
{
    ds_out *o = ((md_ctx *)ctx)->o;
    ds_out_puts(o, "**");
    ds_out_md(o, t->caption);
    ds_out_puts(o, "**\n\n|");
    for (size_t c = 0; c < t->ncols; c++) {
        ds_out_puts(o, " ");
        ds_out_md(o, t->head[c]);
        ds_out_puts(o, " |");
    }
    ds_out_puts(o, "\n|");
    for (size_t c = 0; c < t->ncols; c++)
        ds_out_puts(o, t->numeric[c] ? " ---: |" : " :--- |");
    ds_out_puts(o, "\n");
    for (size_t r = 0; r < t->nrows; r++) {
        ds_out_puts(o, "|");
        for (size_t c = 0; c < t->ncols; c++) {
            ds_out_puts(o, " ");
            ds_out_md(o, t->cells[r * t->ncols + c]);
            ds_out_puts(o, " |");
        }
        ds_out_puts(o, "\n");
    }
    ds_out_puts(o, "\n");
}

/* A path component as a link destination: RFC 3986 unreserved characters as they are, every
 * other byte (spaces, parentheses, UTF-8) percent-encoded. */
static void md_link_path(ds_out *o, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' ||
            *p == '.' || *p == '_' || *p == '~') {
            ds_out_putn(o, (const char *)p, 1);
        } else {
            char e[3] = { '%', hex[*p >> 4], hex[*p & 15] };
            ds_out_putn(o, e, 3);
        }
    }
}

static ds_rc md_figure(void *ctx, const ds_rdoc_figure *f, ds_err *err)
{
    md_ctx *m = ctx;
    ds_out *o = m->o;
    char path[PATH_MAX], file[NAME_MAX + 1];
    ds_out svg;
    int n = snprintf(file, sizeof file, "%s-%s.svg", m->fig_prefix, f->name);
    if (n < 0 || (size_t)n >= sizeof file)
        return ds_fail(err, DS_EINVAL, "figure file name '%s-%s.svg' is too long", m->fig_prefix, f->name);
    n = snprintf(path, sizeof path, "%s/%s", m->fig_dir, file);
    if (n < 0 || (size_t)n >= sizeof path)
        return ds_fail(err, DS_EINVAL, "figure path '%s/%s' is too long", m->fig_dir, file);
    /* a read-only view of the chart's bytes: ds_out_write_file only reads p and len */
    svg = (ds_out){ .p = (char *)f->svg, .len = f->len, .cap = f->len, .max = f->len ? f->len : 1, .failed = 0 };
    ds_rc rc = ds_out_write_file(&svg, path, err);
    if (rc != DS_OK)
        return rc;
    ds_out_puts(o, "![");
    ds_out_md(o, f->alt);
    ds_out_puts(o, "](");
    md_link_path(o, file);
    ds_out_puts(o, ")\n\n*");
    ds_out_md(o, f->caption);
    ds_out_puts(o, "*\n\n");
    return DS_OK;
}

static void md_end(void *ctx) { (void)ctx; }

/* mkdir -p: every missing component of dir, mode 0755. */
static ds_rc make_dirs(const char *dir, ds_err *err)
{
    char path[PATH_MAX];
    struct stat st;
    size_t len = strlen(dir);
    if (len == 0 || len >= sizeof path)
        return ds_fail(err, DS_EINVAL, "figure directory '%s' is empty or too long", dir);
    memcpy(path, dir, len + 1);
    for (size_t i = 1; i <= len; i++) {
        if (path[i] != '/' && path[i] != '\0')
            continue;
        char saved = path[i];
        path[i] = '\0';
        if (mkdir(path, 0755) != 0 && errno != EEXIST)
            return ds_fail(err, DS_EIO, "cannot create figure directory '%s': %s", path, strerror(errno));
        path[i] = saved;
    }
    if (stat(dir, &st) != 0)
        return ds_fail(err, DS_EIO, "figure directory '%s': %s", dir, strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return ds_fail(err, DS_EINVAL, "figure directory '%s' exists and is not a directory", dir);
    return DS_OK;
}

ds_rc ds_report_render_md(const ds_report *r, ds_out *o, const char *fig_dir, const char *fig_prefix, ds_err *err)
{
    if (!fig_dir || !*fig_dir)
        fig_dir = ".";
    if (!fig_prefix || !*fig_prefix || strchr(fig_prefix, '/') || !strcmp(fig_prefix, ".") || !strcmp(fig_prefix, ".."))
        return ds_fail(err, DS_EINVAL, "figure file prefix '%s' must be a plain file name (no '/')",
                       fig_prefix ? fig_prefix : "");
    ds_rc rc = make_dirs(fig_dir, err);
    if (rc != DS_OK)
        return rc;
    md_ctx mc = { .o = o, .fig_dir = fig_dir, .fig_prefix = fig_prefix };
    ds_rdoc doc = { .ctx = &mc, .begin = md_begin, .heading = md_heading, .para = md_para,
                    .deflist = md_deflist, .table = md_table, .figure = md_figure, .end = md_end };
    if ((rc = ds_report_outline(r, &doc, err)) != DS_OK)
        return rc;
    if (o->failed)
        return ds_fail(err, DS_ENOMEM, "Markdown report: the document exceeds its %zu-byte limit or memory ran out",
                       o->max ? o->max : DS_OUT_DEFAULT_MAX);
    return DS_OK;
}
