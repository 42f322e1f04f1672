/* cairo_api.h: cairo, pango and glib, loaded on first use (util/dynlib.h explains why and how).
 *
 * Only report charts draw, so only they should pay for the 40 shared objects these libraries
 * bring.  chart.c includes this instead of the libraries' headers and calls ds_cairo_load() before
 * its first call (ink_open); the #defines at the end send its calls through the table.
 * cairo_api.c defines DS_CAIRO_API_IMPL to see the table without them.  The list is every
 * function chart.c calls: one it calls without listing it fails the link.
 */
#ifndef DS_CAIRO_API_H
#define DS_CAIRO_API_H

#include <cairo.h>
#include <cairo-svg.h>
#include <pango/pangocairo.h>

#include "util/result.h"

#define DS_CAIRO_FUNCS(X) \
    X(cairo_arc) X(cairo_clip) X(cairo_close_path) \
    X(cairo_create) X(cairo_destroy) X(cairo_fill) \
    X(cairo_fill_preserve) X(cairo_font_options_create) X(cairo_font_options_destroy) \
    X(cairo_font_options_set_hint_metrics) X(cairo_font_options_set_hint_style) X(cairo_image_surface_create) \
    X(cairo_line_to) X(cairo_move_to) X(cairo_new_path) \
    X(cairo_paint) X(cairo_rectangle) X(cairo_restore) \
    X(cairo_rotate) X(cairo_save) X(cairo_scale) \
    X(cairo_set_dash) X(cairo_set_line_cap) X(cairo_set_line_join) \
    X(cairo_set_line_width) X(cairo_set_source_rgb) X(cairo_set_source_rgba) \
    X(cairo_status) X(cairo_status_to_string) X(cairo_stroke) \
    X(cairo_surface_destroy) X(cairo_surface_finish) X(cairo_surface_flush) \
    X(cairo_surface_status) X(cairo_surface_write_to_png_stream) X(cairo_svg_surface_create_for_stream) \
    X(cairo_svg_surface_restrict_to_version) X(cairo_svg_surface_set_document_unit) X(cairo_translate) \
    X(g_free) X(g_object_unref) X(g_utf8_make_valid) \
    X(g_utf8_validate) X(pango_cairo_context_set_font_options) X(pango_cairo_context_set_resolution) \
    X(pango_cairo_font_map_get_default) X(pango_cairo_show_layout) X(pango_context_set_language) \
    X(pango_context_set_round_glyph_positions) X(pango_font_description_free) X(pango_font_description_from_string) \
    X(pango_font_map_create_context) X(pango_language_from_string) X(pango_layout_get_extents) \
    X(pango_layout_get_line_count) X(pango_layout_new) X(pango_layout_set_alignment) \
    X(pango_layout_set_ellipsize) X(pango_layout_set_font_description) X(pango_layout_set_height) \
    X(pango_layout_set_text) X(pango_layout_set_width) X(pango_layout_set_wrap)

typedef struct ds_cairo_api {
#define X(f) __typeof__(f) *f;
    DS_CAIRO_FUNCS(X)
#undef X
} ds_cairo_api;

extern ds_cairo_api ds_cairo;

/* Load the libraries once; DS_ENOTFOUND with the library and package named when one is missing. */
ds_rc ds_cairo_load(ds_err *err);

#ifndef DS_CAIRO_API_IMPL
#define cairo_arc ds_cairo.cairo_arc
#define cairo_clip ds_cairo.cairo_clip
#define cairo_close_path ds_cairo.cairo_close_path
#define cairo_create ds_cairo.cairo_create
#define cairo_destroy ds_cairo.cairo_destroy
#define cairo_fill ds_cairo.cairo_fill
#define cairo_fill_preserve ds_cairo.cairo_fill_preserve
#define cairo_font_options_create ds_cairo.cairo_font_options_create
#define cairo_font_options_destroy ds_cairo.cairo_font_options_destroy
#define cairo_font_options_set_hint_metrics ds_cairo.cairo_font_options_set_hint_metrics
#define cairo_font_options_set_hint_style ds_cairo.cairo_font_options_set_hint_style
#define cairo_image_surface_create ds_cairo.cairo_image_surface_create
#define cairo_line_to ds_cairo.cairo_line_to
#define cairo_move_to ds_cairo.cairo_move_to
#define cairo_new_path ds_cairo.cairo_new_path
#define cairo_paint ds_cairo.cairo_paint
#define cairo_rectangle ds_cairo.cairo_rectangle
#define cairo_restore ds_cairo.cairo_restore
#define cairo_rotate ds_cairo.cairo_rotate
#define cairo_save ds_cairo.cairo_save
#define cairo_scale ds_cairo.cairo_scale
#define cairo_set_dash ds_cairo.cairo_set_dash
#define cairo_set_line_cap ds_cairo.cairo_set_line_cap
#define cairo_set_line_join ds_cairo.cairo_set_line_join
#define cairo_set_line_width ds_cairo.cairo_set_line_width
#define cairo_set_source_rgb ds_cairo.cairo_set_source_rgb
#define cairo_set_source_rgba ds_cairo.cairo_set_source_rgba
#define cairo_status ds_cairo.cairo_status
#define cairo_status_to_string ds_cairo.cairo_status_to_string
#define cairo_stroke ds_cairo.cairo_stroke
#define cairo_surface_destroy ds_cairo.cairo_surface_destroy
#define cairo_surface_finish ds_cairo.cairo_surface_finish
#define cairo_surface_flush ds_cairo.cairo_surface_flush
#define cairo_surface_status ds_cairo.cairo_surface_status
#define cairo_surface_write_to_png_stream ds_cairo.cairo_surface_write_to_png_stream
#define cairo_svg_surface_create_for_stream ds_cairo.cairo_svg_surface_create_for_stream
#define cairo_svg_surface_restrict_to_version ds_cairo.cairo_svg_surface_restrict_to_version
#define cairo_svg_surface_set_document_unit ds_cairo.cairo_svg_surface_set_document_unit
#define cairo_translate ds_cairo.cairo_translate
#define g_free ds_cairo.g_free
#define g_object_unref ds_cairo.g_object_unref
#define g_utf8_make_valid ds_cairo.g_utf8_make_valid
#define g_utf8_validate ds_cairo.g_utf8_validate
#define pango_cairo_context_set_font_options ds_cairo.pango_cairo_context_set_font_options
#define pango_cairo_context_set_resolution ds_cairo.pango_cairo_context_set_resolution
#define pango_cairo_font_map_get_default ds_cairo.pango_cairo_font_map_get_default
#define pango_cairo_show_layout ds_cairo.pango_cairo_show_layout
#define pango_context_set_language ds_cairo.pango_context_set_language
#define pango_context_set_round_glyph_positions ds_cairo.pango_context_set_round_glyph_positions
#define pango_font_description_free ds_cairo.pango_font_description_free
#define pango_font_description_from_string ds_cairo.pango_font_description_from_string
#define pango_font_map_create_context ds_cairo.pango_font_map_create_context
#define pango_language_from_string ds_cairo.pango_language_from_string
#define pango_layout_get_extents ds_cairo.pango_layout_get_extents
#define pango_layout_get_line_count ds_cairo.pango_layout_get_line_count
#define pango_layout_new ds_cairo.pango_layout_new
#define pango_layout_set_alignment ds_cairo.pango_layout_set_alignment
#define pango_layout_set_ellipsize ds_cairo.pango_layout_set_ellipsize
#define pango_layout_set_font_description ds_cairo.pango_layout_set_font_description
#define pango_layout_set_height ds_cairo.pango_layout_set_height
#define pango_layout_set_text ds_cairo.pango_layout_set_text
#define pango_layout_set_width ds_cairo.pango_layout_set_width
#define pango_layout_set_wrap ds_cairo.pango_layout_set_wrap
#endif

#endif
