/* curl_api.c: the libcurl table (see curl_api.h). */
#define DS_CURL_API_IMPL
#include "net/curl_api.h"

#include <string.h>

#include "util/dynlib.h"

#ifndef DS_SONAME_CURL
#define DS_SONAME_CURL "libcurl.so.4"   /* the Makefile passes the soname of the libcurl built against */
#endif

ds_curl_api ds_curl;

static const char *const names[] = {
#define X(f) #f,
    DS_CURL_FUNCS(X)
#undef X
};
static void *addr[sizeof names / sizeof names[0]];
static const char *const sonames[] = { DS_SONAME_CURL, NULL };

static void bind_table(void *const *a)
{
    size_t i = 0;
#define X(f) memcpy(&ds_curl.f, &a[i++], sizeof ds_curl.f);
    DS_CURL_FUNCS(X)
#undef X
}

static ds_dynlib lib = DS_DYNLIB_INIT("sensor uploads", sonames, "libcurl4", names,
                                      sizeof names / sizeof names[0], addr, bind_table);

ds_rc ds_curl_load(ds_err *err)
{
    return ds_dynlib_load(&lib, err);
}
