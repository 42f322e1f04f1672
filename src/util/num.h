/* num.h: the one parser of numbers given on the command line and in the configuration.
 *
 * strtol and friends accept blanks, signs ("-1" as a huge unsigned), and saturate on overflow
 * (99999999999999999999 became LONG_MAX, which `--limit` took as "all"); atoi has undefined
 * behaviour on overflow and takes "abc" as 0.  These take digits only, detect overflow, check
 * the range, and say which of those went wrong.
 */
#ifndef DS_UTIL_NUM_H
#define DS_UTIL_NUM_H
#include <stdint.h>

#include "util/result.h"

/* Decimal digits only (no blanks, no sign), min <= value <= max.  DS_EINVAL with a message
 * naming s and the range: "'x' is not a whole number", "'99999999999999999999' is out of range
 * (0 to 1000000000)". */
ds_rc ds_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out, ds_err *err);

/* As ds_parse_u64, with an optional binary suffix K, M, G or T (x 1024^n, either case, then an
 * optional "iB" or "B": 64M, 64MiB, 64MB are 64 x 2^20).  The range applies to the bytes. */
ds_rc ds_parse_size(const char *s, uint64_t min, uint64_t max, uint64_t *out, ds_err *err);

/* A finite decimal number (digits, one optional '.', an optional exponent; no sign but a
 * leading '-' when min < 0; no blanks, no "inf"/"nan", no hex), min <= value <= max. */
ds_rc ds_parse_double(const char *s, double min, double max, double *out, ds_err *err);

#endif
