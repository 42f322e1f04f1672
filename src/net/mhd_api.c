/* mhd_api.c: the libmicrohttpd table (see mhd_api.h). */
#define DS_MHD_API_IMPL
#include "net/mhd_api.h"

#include <string.h>

#include "util/dynlib.h"

#ifndef DS_SONAME_MHD
#define DS_SONAME_MHD "libmicrohttpd.so.12"   /* the Makefile passes the soname built against */
#endif

ds_mhd_api ds_mhd;

static const char *const names[] = {
#define X(f) #f,
    DS_MHD_FUNCS(X)
#undef X
};
static void *addr[sizeof names / sizeof names[0]];
static const char *const sonames[] = { DS_SONAME_MHD, NULL };

static void bind_table(void *const *a)
{
    size_t i = 0;
#define X(f) memcpy(&ds_mhd.f, &a[i++], sizeof ds_mhd.f);
    DS_MHD_FUNCS(X)
#undef X
}

static ds_dynlib lib = DS_DYNLIB_INIT("the collector and serve", sonames, "libmicrohttpd12", names,
                                      sizeof names / sizeof names[0], addr, bind_table);

ds_rc ds_mhd_load(ds_err *err)
{
    return ds_dynlib_load(&lib, err);
}
