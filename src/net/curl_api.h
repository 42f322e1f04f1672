/* curl_api.h: libcurl, loaded on first use (util/dynlib.h explains why and how).
 *
 * The one file that calls libcurl (uploader.c) includes this after <curl/curl.h> and calls
 * ds_curl_load() before its first curl call; the #defines at the end send its calls through the
 * table.  curl_api.c defines DS_CURL_API_IMPL to see the table without them.
 */
#ifndef DS_CURL_API_H
#define DS_CURL_API_H

#include <curl/curl.h>

#include "util/result.h"

#define DS_CURL_FUNCS(X) \
    X(curl_easy_init) X(curl_easy_cleanup) X(curl_easy_reset) X(curl_easy_setopt) X(curl_easy_perform) \
    X(curl_easy_getinfo) X(curl_easy_strerror) X(curl_slist_append) X(curl_slist_free_all)

typedef struct ds_curl_api {
#define X(f) __typeof__(f) *f;
    DS_CURL_FUNCS(X)
#undef X
} ds_curl_api;

extern ds_curl_api ds_curl;

/* Load libcurl once; DS_ENOTFOUND with the library and package named when it is missing. */
ds_rc ds_curl_load(ds_err *err);

#ifndef DS_CURL_API_IMPL
/* curl's own type-checking wrappers (gcc) would call the functions directly */
#undef curl_easy_setopt
#undef curl_easy_getinfo
#define curl_easy_init ds_curl.curl_easy_init
#define curl_easy_cleanup ds_curl.curl_easy_cleanup
#define curl_easy_reset ds_curl.curl_easy_reset
#define curl_easy_setopt ds_curl.curl_easy_setopt
#define curl_easy_perform ds_curl.curl_easy_perform
#define curl_easy_getinfo ds_curl.curl_easy_getinfo
#define curl_easy_strerror ds_curl.curl_easy_strerror
#define curl_slist_append ds_curl.curl_slist_append
#define curl_slist_free_all ds_curl.curl_slist_free_all
#endif

#endif
