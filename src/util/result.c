#include "util/result.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *ds_rc_name(ds_rc rc)
{
    switch (rc) {
    case DS_OK: return "ok";
    case DS_EOF: return "end of input";
    case DS_ENOMEM: return "out of memory";
    case DS_EIO: return "I/O error";
    case DS_EFORMAT: return "bad format";
    case DS_ETRUNC: return "truncated";
    case DS_EINVAL: return "invalid argument";
    case DS_EEXIST: return "already exists";
    case DS_ENOTFOUND: return "not found";
    case DS_ESTORE: return "store error";
    case DS_EBUSY: return "busy";
    }
    return "unknown error";
}

void ds_err_clear(ds_err *err)
{
    if (!err)
        return;
    err->msg[0] = '\0';
    err->offset = 0;
    err->has_offset = 0;
}

ds_rc ds_fail(ds_err *err, ds_rc rc, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        err->has_offset = 0;
    }
    return rc;
}

ds_rc ds_fail_at(ds_err *err, ds_rc rc, uint64_t offset, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        err->offset = offset;
        err->has_offset = 1;
    }
    return rc;
}
