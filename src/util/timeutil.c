#include "util/timeutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

ds_rc ds_tz_use(const char *name, ds_err *err)
{
    if (!name || !*name)
        name = "UTC";
    if (strcmp(name, "UTC") != 0 && strcmp(name, "GMT") != 0) {
        char path[512];
        const char *dir = getenv("TZDIR");
        snprintf(path, sizeof path, "%s/%s", dir && *dir ? dir : "/usr/share/zoneinfo", name);
        /* Test fix: access() alone let through directories ("Asia") and the tables next to the
         * zone files ("zone.tab"), for which glibc silently falls back to UTC.  A zone file
         * starts with the magic "TZif" (RFC 8536, section 3.1). */
        char magic[4] = { 0 };
        FILE *zf = strstr(name, "..") ? NULL : fopen(path, "rb");
        size_t got = zf ? fread(magic, 1, sizeof magic, zf) : 0;
        if (zf)
            fclose(zf);
        if (got != sizeof magic || memcmp(magic, "TZif", 4) != 0)
            return ds_fail(err, DS_EINVAL, "unknown timezone '%s' (use an IANA name such as Asia/Tokyo or UTC)", name);
    }
    setenv("TZ", strcmp(name, "UTC") == 0 ? "UTC0" : name, 1);
    tzset();
    return DS_OK;
}

long ds_tz_offset(int64_t sec)
{
    time_t t = (time_t)sec;
    struct tm tm;
    if (!localtime_r(&t, &tm))
        return 0;
    return tm.tm_gmtoff;
}

static int64_t floordiv(int64_t a, int64_t b)
{
    return a / b - (a % b != 0 && ((a < 0) != (b < 0)));
}

int32_t ds_day_of(int64_t sec)
{
    return (int32_t)floordiv(sec + ds_tz_offset(sec), 86400);
}

/* The first transition instant in (a, b] at which the offset is no longer `off`, b + 1 if none
 * (bisection: assumes at most one change of offset in (a, b], which holds for every zone in the
 * tz database over the 40 hours searched below). */
static int64_t next_change(int64_t a, int64_t b, long off)
{
    if (ds_tz_offset(b) == off)
        return b + 1;
    while (b - a > 1) {            /* invariant: offset(a) == off, offset(b) != off */
        int64_t m = a + (b - a) / 2;
        if (ds_tz_offset(m) == off)
            a = m;
        else
            b = m;
    }
    return b;
}

/* Local time L = s + offset(s) is piecewise linear in s with slope 1, jumping at the zone's
 * transitions.  Walk forward from a second certainly before the day (no zone is 26 h from UTC):
 * with the offset held, local time reaches midnight at L0 - off; if the offset changes first, the
 * day starts at the change when the jump lands in it or after (midnight skipped), else the walk
 * continues from the change with the new offset. */
int64_t ds_day_start(int32_t day)
{
    const int64_t L0 = (int64_t)day * 86400;
    int64_t s = L0 - 26 * 3600;
    for (int i = 0; i < 8; i++) {
        long off = ds_tz_offset(s);
        if (s + off >= L0)
            return s;
        int64_t mid = L0 - off;    /* local midnight if the offset holds until then */
        int64_t t = next_change(s, mid, off);
        if (t > mid)
            return mid;
        s = t;
    }
    return L0 - ds_tz_offset(L0);  /* not reached: a day holds at most a few transitions */
}

uint64_t ds_day_start_ns(int32_t day)
{
    int64_t s = ds_day_start(day);
    return s > 0 ? (uint64_t)s * 1000000000ULL : 0;
}

/* Howard Hinnant's days_from_civil / civil_from_days algorithms (public domain description). */
int32_t ds_days_from_civil(int y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return (int32_t)(era * 146097 + (int)doe - 719468);
}

void ds_civil_from_days(int32_t z, int *y, unsigned *m, unsigned *d)
{
    z += 719468;
    const int32_t era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = (unsigned)(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int)yoe + era * 400 + (*m <= 2);
}

int ds_month_days(int y, unsigned m)
{
    static const unsigned char len[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m < 1 || m > 12 ? 0 : len[m - 1] + (m == 2 && leap);
}

void ds_month_span(int32_t day, int32_t *first, int32_t *last)
{
    int y;
    unsigned m, d;
    ds_civil_from_days(day, &y, &m, &d);
    *first = day - (int32_t)(d - 1);
    *last = *first + ds_month_days(y, m) - 1;
}

int ds_day_parse(const char *s, int32_t *day)
{
    int y;
    unsigned m, d;
    char tail;
    if (!s || sscanf(s, "%4d-%2u-%2u%c", &y, &m, &d, &tail) != 3 || strlen(s) != 10)
        return -1;
    /* Test fix: sscanf also skips blanks and takes signs (" 2023-1-01", "2023-+1-01"); only
     * YYYY-MM-DD digits are a date. */
    for (int i = 0; i < 10; i++)
        if (i == 4 || i == 7 ? s[i] != '-' : (s[i] < '0' || s[i] > '9'))
            return -1;
    if (y < 1970 || y > 9999 || m < 1 || m > 12 || d < 1 || d > 31)
        return -1;
    int32_t z = ds_days_from_civil(y, m, d);
    int y2;
    unsigned m2, d2;
    ds_civil_from_days(z, &y2, &m2, &d2);
    if (y2 != y || m2 != m || d2 != d)   /* e.g. 2023-02-30 */
        return -1;
    *day = z;
    return 0;
}

int ds_day_explain(const char *s, char *buf, size_t len)
{
    static const char *const MONTHS[12] = { "January", "February", "March", "April", "May", "June", "July",
                                            "August", "September", "October", "November", "December" };
    int32_t day;
    snprintf(buf, len, "not a date (YYYY-MM-DD)");
    if (!s || strlen(s) != 10 || ds_day_parse(s, &day) == 0)
        return 0;
    for (int i = 0; i < 10; i++)
        if (i == 4 || i == 7 ? s[i] != '-' : (s[i] < '0' || s[i] > '9'))
            return 0;
    int y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
    unsigned m = (unsigned)((s[5] - '0') * 10 + (s[6] - '0')), d = (unsigned)((s[8] - '0') * 10 + (s[9] - '0'));
    if (y < 1970) {
        snprintf(buf, len, "year %04d is outside 1970..9999", y);
    } else if (m < 1 || m > 12) {
        snprintf(buf, len, "no such month: %02u (01..12)", m);
    } else {
        /* the month's length: the day before the first of the next month */
        int32_t next = m == 12 ? ds_days_from_civil(y + 1, 1, 1) : ds_days_from_civil(y, m + 1, 1);
        int32_t ndays = next - ds_days_from_civil(y, m, 1);
        if (m == 2)
            snprintf(buf, len, "no such date: February has %d days in %04d", (int)ndays, y);
        else if (d == 0)
            snprintf(buf, len, "no such date: days start at 01");
        else
            snprintf(buf, len, "no such date: %s has %d days", MONTHS[m - 1], (int)ndays);
    }
    return 1;
}

char *ds_day_format(int32_t day, char buf[11])
{
    int y;
    unsigned m, d;
    ds_civil_from_days(day, &y, &m, &d);
    snprintf(buf, 11, "%04u-%02u-%02u", (unsigned)y % 10000u, m % 100u, d % 100u);
    return buf;
}

/* Digits of s[0..n) as a number, or -1 when any is not a digit. */
static int digits(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

int ds_time_parse(const char *s, int64_t *sec)
{
    int32_t day;
    char date[11];
    int h = 0, m = 0, sc = 0, local = 1;
    long off = 0;
    if (!s || strlen(s) < 10)
        return -1;
    memcpy(date, s, 10);
    date[10] = '\0';
    if (ds_day_parse(date, &day) != 0)
        return -1;
    const char *p = s + 10;
    if (*p == 'T' || *p == ' ') {
        if ((h = digits(p + 1, 2)) < 0 || p[3] != ':' || (m = digits(p + 4, 2)) < 0 || h > 23 || m > 59)
            return -1;
        p += 6;
        if (*p == ':') {
            if ((sc = digits(p + 1, 2)) < 0 || sc > 60)
                return -1;
            p += 3;
        }
    }
    if (*p == 'Z') {
        local = 0;
        p++;
    } else if (*p == '+' || *p == '-') {
        /* "+HH:MM": each read only after the one before it matched, so never past the NUL */
        int oh, om;
        if ((oh = digits(p + 1, 2)) < 0 || p[3] != ':' || (om = digits(p + 4, 2)) < 0 || oh > 23 || om > 59)
            return -1;
        off = (oh * 3600L + om * 60L) * (*p == '-' ? -1 : 1);
        local = 0;
        p += 6;
    }
    if (*p)
        return -1;
    int64_t t = (int64_t)day * 86400 + h * 3600 + m * 60 + sc;   /* as if UTC */
    if (local) {
        /* the local wall time t: the offset in force then (tried twice, as around a DST change
         * the offset at t - offset(t) can differ from offset(t)); a time skipped by DST moves on */
        long o1 = ds_tz_offset(t);
        long o2 = ds_tz_offset(t - o1);
        t -= o2;
    } else {
        t -= off;
    }
    *sec = t;
    return 0;
}

int ds_span_parse(const char *s, int64_t *from, int64_t *to)
{
    const char *dots = s ? strstr(s, "..") : NULL;
    char a[64];
    if (!dots || (size_t)(dots - s) >= sizeof a)
        return -1;
    memcpy(a, s, (size_t)(dots - s));
    a[dots - s] = '\0';
    if (ds_time_parse(a, from) != 0 || ds_time_parse(dots + 2, to) != 0 || *to <= *from)
        return -1;
    return 0;
}

uint64_t ds_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}
