/* render.h: a built report (model.h) as HTML, Markdown or JSON.
 *
 * Renderers only read the model: the three formats cannot disagree on a number.  HTML is one
 * self-contained file (figures embedded as SVG data URIs, CSS inline, print styles) that opens
 * offline; Markdown writes its figures as SVG files beside it; JSON carries the same content as
 * data (schema in docs/report-json.md).
 */
#ifndef DS_REPORT_RENDER_H
#define DS_REPORT_RENDER_H
#include "report/fmt.h"
#include "report/model.h"

ds_rc ds_report_render_json(const ds_report *r, ds_out *o, ds_err *err);
ds_rc ds_report_render_html(const ds_report *r, ds_out *o, ds_err *err);
/* fig_dir: directory the figure files go to (created if missing); fig_prefix: file name prefix
 * for them ("report-2023Q3"); links in the Markdown are fig_prefix-NAME.svg relative to the
 * Markdown file, which the caller writes into fig_dir. */
ds_rc ds_report_render_md(const ds_report *r, ds_out *o, const char *fig_dir, const char *fig_prefix, ds_err *err);

#endif
