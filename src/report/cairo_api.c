/* cairo_api.c: the cairo/pango/glib table (see cairo_api.h). */
#define DS_CAIRO_API_IMPL
#include "report/cairo_api.h"

#include <string.h>

#include "util/dynlib.h"

/* The Makefile passes the sonames of the libraries built against. */
#ifndef DS_SONAME_PANGOCAIRO
#define DS_SONAME_PANGOCAIRO "libpangocairo-1.0.so.0"
#endif
#ifndef DS_SONAME_PANGO
#define DS_SONAME_PANGO "libpango-1.0.so.0"
#endif
#ifndef DS_SONAME_CAIRO
#define DS_SONAME_CAIRO "libcairo.so.2"
#endif
#ifndef DS_SONAME_GOBJECT
#define DS_SONAME_GOBJECT "libgobject-2.0.so.0"
#endif
#ifndef DS_SONAME_GLIB
#define DS_SONAME_GLIB "libglib-2.0.so.0"
#endif

ds_cairo_api ds_cairo;

static const char *const names[] = {
#define X(f) #f,
    DS_CAIRO_FUNCS(X)
#undef X
};
static void *addr[sizeof names / sizeof names[0]];
static const char *const sonames[] = { DS_SONAME_PANGOCAIRO, DS_SONAME_PANGO, DS_SONAME_CAIRO, DS_SONAME_GOBJECT,
                                       DS_SONAME_GLIB, NULL };

static void bind_table(void *const *a)
{
    size_t i = 0;
#define X(f) memcpy(&ds_cairo.f, &a[i++], sizeof ds_cairo.f);
    DS_CAIRO_FUNCS(X)
#undef X
}

static ds_dynlib lib = DS_DYNLIB_INIT("report charts", sonames, "libpangocairo-1.0-0", names,
                                      sizeof names / sizeof names[0], addr, bind_table);

ds_rc ds_cairo_load(ds_err *err)
{
    return ds_dynlib_load(&lib, err);
}
