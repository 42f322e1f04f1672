/* result.h: the one result type every layer returns, and the error detail that goes with it.
 *
 * Like curl's CURLcode: a function returns a ds_rc and, on failure, fills a ds_err with one
 * human sentence (naming the file and, where there is one, the byte offset).  Callers pass
 * both up unchanged; only the CLI prints them.
 */
#ifndef DS_RESULT_H
#define DS_RESULT_H
#include <stdint.h>

typedef enum ds_rc {
    DS_OK = 0,
    DS_EOF,        /* clean end of input */
    DS_ENOMEM,     /* allocation failed or a hard size maximum was reached */
    DS_EIO,        /* the OS refused a read/write/open (errno text in the message) */
    DS_EFORMAT,    /* the input is not what it claims to be / a field is impossible */
    DS_ETRUNC,     /* the input ends inside a record; everything before it is good */
    DS_EINVAL,     /* bad argument, option or configuration value */
    DS_EEXIST,     /* already there (a file already ingested) */
    DS_ENOTFOUND,  /* asked-for thing does not exist */
    DS_ESTORE,     /* storage backend failure */
    DS_EBUSY,      /* store locked by someone else for too long */
} ds_rc;

typedef struct ds_err {
    char msg[512];
    uint64_t offset;   /* byte offset in the input where the problem is */
    int has_offset;
} ds_err;

const char *ds_rc_name(ds_rc rc);
/* Set the message (printf-style).  Returns rc so that `return ds_fail(err, DS_EINVAL, ...)` reads well. */
ds_rc ds_fail(ds_err *err, ds_rc rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Same, recording the byte offset too. */
ds_rc ds_fail_at(ds_err *err, ds_rc rc, uint64_t offset, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void ds_err_clear(ds_err *err);

#endif
