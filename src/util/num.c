/* num.c: bounded number parsing (see num.h). */
#include "util/num.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static ds_rc out_of_range(const char *s, uint64_t min, uint64_t max, ds_err *err)
{
    return ds_fail(err, DS_EINVAL, "'%s' is out of range (%llu to %llu)", s, (unsigned long long)min,
                   (unsigned long long)max);
}

/* Digits at s..: the value in *v, the first non-digit in *end; 1 when it overflowed 64 bits. */
static int digits_u64(const char *s, uint64_t *v, const char **end)
{
    uint64_t x = 0;
    int over = 0;
    for (; *s >= '0' && *s <= '9'; s++) {
        unsigned d = (unsigned)(*s - '0');
        if (x > (UINT64_MAX - d) / 10)
            over = 1;
        else
            x = x * 10 + d;
    }
    *v = x;
    *end = s;
    return over;
}

ds_rc ds_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out, ds_err *err)
{
    uint64_t v;
    const char *end;
    if (!s || !(*s >= '0' && *s <= '9'))
        return ds_fail(err, DS_EINVAL, "'%s' is not a whole number", s ? s : "");
    int over = digits_u64(s, &v, &end);
    if (*end)
        return ds_fail(err, DS_EINVAL, "'%s' is not a whole number", s);
    if (over || v < min || v > max)
        return out_of_range(s, min, max, err);
    *out = v;
    return DS_OK;
}

ds_rc ds_parse_size(const char *s, uint64_t min, uint64_t max, uint64_t *out, ds_err *err)
{
    uint64_t v;
    const char *end;
    if (!s || !(*s >= '0' && *s <= '9'))
        return ds_fail(err, DS_EINVAL, "'%s' is not a size (a whole number, optionally with K, M, G or T)",
                       s ? s : "");
    int over = digits_u64(s, &v, &end);
    unsigned shift = 0;
    switch (*end) {
    case 'k': case 'K': shift = 10; break;
    case 'm': case 'M': shift = 20; break;
    case 'g': case 'G': shift = 30; break;
    case 't': case 'T': shift = 40; break;
    default: break;
    }
    if (shift) {
        end++;
        if (end[0] == 'i' && end[1] == 'B')
            end += 2;
        else if (end[0] == 'B')
            end++;
    }
    if (*end)
        return ds_fail(err, DS_EINVAL, "'%s' is not a size (a whole number, optionally with K, M, G or T)", s);
    if (over || v > (UINT64_MAX >> shift) || (v << shift) < min || (v << shift) > max)
        return out_of_range(s, min, max, err);
    *out = v << shift;
    return DS_OK;
}

ds_rc ds_parse_double(const char *s, double min, double max, double *out, ds_err *err)
{
    const char *p = s;
    if (p && *p == '-' && min < 0)
        p++;
    /* strtod takes blanks, signs, hex, inf and nan: let it see only [0-9.eE+-] after a digit */
    if (!p || !((*p >= '0' && *p <= '9') || (*p == '.' && p[1] >= '0' && p[1] <= '9')) ||
        strspn(p, "0123456789.eE+-") != strlen(p))
        return ds_fail(err, DS_EINVAL, "'%s' is not a number", s ? s : "");
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (*end)
        return ds_fail(err, DS_EINVAL, "'%s' is not a number", s);
    if (errno == ERANGE || !isfinite(v) || v < min || v > max)
        return ds_fail(err, DS_EINVAL, "'%s' is out of range (%g to %g)", s, min, max);
    *out = v;
    return DS_OK;
}
