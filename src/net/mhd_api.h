/* mhd_api.h: libmicrohttpd, loaded on first use (util/dynlib.h explains why and how).
 *
 * The collector (collector*.c, through collector_int.h) and serve (serve*.c) include this instead of <microhttpd.h> and calls ds_mhd_load()
 * before its first MHD call; the #defines at the end send its calls through the table.
 * mhd_api.c defines DS_MHD_API_IMPL to see the table without them.
 */
#ifndef DS_MHD_API_H
#define DS_MHD_API_H

#include <stdarg.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <microhttpd.h>

#include "util/result.h"

#define DS_MHD_FUNCS(X) \
    X(MHD_start_daemon) X(MHD_stop_daemon) X(MHD_is_feature_supported) X(MHD_queue_response) \
    X(MHD_create_response_from_buffer) X(MHD_add_response_header) X(MHD_destroy_response) \
    X(MHD_lookup_connection_value) X(MHD_get_connection_info) X(MHD_suspend_connection) \
    X(MHD_resume_connection) X(MHD_quiesce_daemon) X(MHD_get_connection_values)

typedef struct ds_mhd_api {
#define X(f) __typeof__(f) *f;
    DS_MHD_FUNCS(X)
#undef X
} ds_mhd_api;

extern ds_mhd_api ds_mhd;

/* Load libmicrohttpd once; DS_ENOTFOUND with the library and package named when it is missing. */
ds_rc ds_mhd_load(ds_err *err);

#ifndef DS_MHD_API_IMPL
#define MHD_start_daemon ds_mhd.MHD_start_daemon
#define MHD_stop_daemon ds_mhd.MHD_stop_daemon
#define MHD_is_feature_supported ds_mhd.MHD_is_feature_supported
#define MHD_queue_response ds_mhd.MHD_queue_response
#define MHD_create_response_from_buffer ds_mhd.MHD_create_response_from_buffer
#define MHD_add_response_header ds_mhd.MHD_add_response_header
#define MHD_destroy_response ds_mhd.MHD_destroy_response
#define MHD_lookup_connection_value ds_mhd.MHD_lookup_connection_value
#define MHD_get_connection_info ds_mhd.MHD_get_connection_info
#define MHD_suspend_connection ds_mhd.MHD_suspend_connection
#define MHD_resume_connection ds_mhd.MHD_resume_connection
#define MHD_quiesce_daemon ds_mhd.MHD_quiesce_daemon
#define MHD_get_connection_values ds_mhd.MHD_get_connection_values
#endif

#endif
