/* geo_csv.c: loads @ip-location-db CSV range files into a geo_sink.
 *
 * Formats (https://github.com/sapics/ip-location-db, README "CSV Format"; quoting per RFC 4180):
 *   country:  ip_range_start,ip_range_end,country_code[,more columns ignored]
 *   asn:      ip_range_start,ip_range_end,autonomous_system_number[,autonomous_system_organization]
 * Ranges are inclusive.  start/end are either address text (1.0.0.0, 2001:200::) or integers
 * (the *-num.csv variants; IPv6 integers need 128 bits).  An integer's family comes from the
 * file name ("ipv4"/"ipv6") or, without such a hint, from its size (> 2^32 - 1 means IPv6).
 * A field may be quoted, with "" standing for one quote, and then may hold commas
 * ("Cloudflare, Inc.").  A first line whose start field is not an address is a header and is
 * skipped; any later bad line is an error naming the file, line and byte offset.
 *
 * The file is mmap'd and scanned once; every read checks the remaining length first, and
 * quoted fields are unescaped into a bounded scratch buffer.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "geo/geo_int.h"

#define CSV_MAX_FIELDS 4
#define CSV_FIELD_MAX 4096

typedef struct csv_field {
    const char *p;
    size_t len;
} csv_field;

/* Split [p, e) into at most CSV_MAX_FIELDS fields (the rest of the line is ignored).  Quoted
 * fields are unescaped into scratch (CSV_MAX_FIELDS * CSV_FIELD_MAX bytes).  Returns the number
 * of fields, or -1 for a quoting error or an over-long quoted field. */
static int csv_split(const char *p, const char *e, csv_field *f, char *scratch)
{
    int n = 0;
    for (;;) {
        if (n == CSV_MAX_FIELDS)
            return n;
        while (p < e && *p == ' ')
            p++;
        if (p < e && *p == '"') {
            char *out = scratch + (size_t)n * CSV_FIELD_MAX;
            size_t len = 0;
            p++;
            for (;;) {
                if (p == e)
                    return -1;                 /* unterminated quote */
                if (*p == '"') {
                    if ((size_t)(e - p) >= 2 && p[1] == '"') {
                        p += 2;
                    } else {
                        p++;
                        break;
                    }
                    if (len == CSV_FIELD_MAX)
                        return -1;
                    out[len++] = '"';
                    continue;
                }
                if (len == CSV_FIELD_MAX)
                    return -1;
                out[len++] = *p++;
            }
            while (p < e && *p == ' ')
                p++;
            if (p < e && *p != ',')
                return -1;                     /* junk after the closing quote */
            f[n].p = out;
            f[n].len = len;
        } else {
            const char *q = memchr(p, ',', (size_t)(e - p));
            const char *end = q ? q : e;
            f[n].p = p;
            f[n].len = (size_t)(end - p);
            while (f[n].len && f[n].p[f[n].len - 1] == ' ')
                f[n].len--;
            p = end;
        }
        n++;
        if (p == e)
            return n;
        p++;                                   /* the comma */
    }
}

static int parse_dec128(const char *p, size_t len, geo_u128 *out)
{
    geo_u128 v = 0, max = ~(geo_u128)0;
    if (len == 0 || len > 39)
        return -1;
    for (size_t i = 0; i < len; i++) {
        unsigned d = (unsigned)(p[i] - '0');
        if (d > 9 || v > (max - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

static int parse_ipv4(const char *p, size_t len, geo_u128 *out)
{
    uint32_t v = 0;
    size_t i = 0;
    for (int part = 0; part < 4; part++) {
        uint32_t octet = 0;
        size_t digits = 0;
        while (i < len && p[i] >= '0' && p[i] <= '9' && digits < 4) {
            octet = octet * 10 + (uint32_t)(p[i] - '0');
            i++;
            digits++;
        }
        if (digits == 0 || digits > 3 || octet > 255)
            return -1;
        v = v << 8 | octet;
        if (part < 3) {
            if (i == len || p[i] != '.')
                return -1;
            i++;
        }
    }
    if (i != len)
        return -1;
    *out = v;
    return 0;
}

static int parse_ipv6(const char *p, size_t len, geo_u128 *out)
{
    char buf[64];
    uint8_t b[16];
    if (len >= sizeof buf)
        return -1;
    memcpy(buf, p, len);
    buf[len] = '\0';
    if (inet_pton(AF_INET6, buf, b) != 1)
        return -1;
    geo_u128 v = 0;
    for (int i = 0; i < 16; i++)
        v = v << 8 | b[i];
    *out = v;
    return 0;
}

/* One address field: text of either family, or an integer.  fam_hint: GEO_V4/GEO_V6 or -1. */
static int parse_addr(const char *p, size_t len, int fam_hint, int *fam, geo_u128 *out)
{
    if (len && memchr(p, ':', len)) {
        *fam = GEO_V6;
        return parse_ipv6(p, len, out);
    }
    if (len && memchr(p, '.', len)) {
        *fam = GEO_V4;
        return parse_ipv4(p, len, out);
    }
    if (parse_dec128(p, len, out) != 0)
        return -1;
    *fam = fam_hint >= 0 ? fam_hint : (*out > UINT32_MAX ? GEO_V6 : GEO_V4);
    return *fam == GEO_V4 && *out > UINT32_MAX ? -1 : 0;
}

static int fam_hint_of(const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    if (strstr(base, "ipv6"))
        return GEO_V6;
    if (strstr(base, "ipv4"))
        return GEO_V4;
    return -1;
}

static int parse_cc(const char *p, size_t len, uint32_t *val)
{
    if (len == 0 || (len == 1 && p[0] == '-')) {
        *val = 0;
        return 0;
    }
    if (len != 2)
        return -1;
    char c[2];
    for (int i = 0; i < 2; i++) {
        char x = p[i];
        if (x >= 'a' && x <= 'z')
            x = (char)(x - 'a' + 'A');
        if (!((x >= 'A' && x <= 'Z') || (x >= '0' && x <= '9')))
            return -1;
        c[i] = x;
    }
    *val = (c[0] == 'Z' && c[1] == 'Z') ? 0 : geo_cc_pack(c[0], c[1]);
    return 0;
}

static int parse_asn(const char *p, size_t len, uint32_t *val)
{
    geo_u128 v;
    if (len >= 2 && (p[0] == 'A' || p[0] == 'a') && (p[1] == 'S' || p[1] == 's')) {
        p += 2;
        len -= 2;
    }
    if (parse_dec128(p, len, &v) != 0 || v > UINT32_MAX)
        return -1;
    *val = (uint32_t)v;
    return 0;
}

ds_rc geo_load_csv(geo_sink *s, int role, const char *path, unsigned fams, ds_err *err)
{
    ds_rc rc = DS_OK;
    int fd = -1;
    void *map = MAP_FAILED;
    size_t size = 0;
    char *scratch = NULL;
    struct stat st;

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) != 0) {
        rc = ds_fail(err, DS_EIO, "%s: cannot read: %s", path, strerror(errno));
        goto out;
    }
    size = (size_t)st.st_size;
    if (size == 0) {
        rc = ds_fail(err, DS_EFORMAT, "%s: empty file: not an MMDB or a CSV of address ranges (docs/geo.md)", path);
        goto out;
    }
    map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (map == MAP_FAILED) {
        rc = ds_fail(err, DS_EIO, "%s: cannot map: %s", path, strerror(errno));
        goto out;
    }
    madvise(map, size, MADV_SEQUENTIAL);
    scratch = malloc((size_t)CSV_MAX_FIELDS * CSV_FIELD_MAX);
    if (!scratch) {
        rc = ds_fail(err, DS_ENOMEM, "%s: out of memory", path);
        goto out;
    }

    const char *base = map, *p = base, *end = base + size;
    int hint = fam_hint_of(path);
    size_t lineno = 0;
    int seen_data = 0;
    size_t ranges = 0;   /* rows read, of either family */
    uint32_t last_asn = 0;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        const char *line = p;
        p = nl ? nl + 1 : end;
        lineno++;
        if (le > line && le[-1] == '\r')
            le--;
        if (le == line || line[0] == '#')
            continue;

        csv_field f[CSV_MAX_FIELDS];
        int nf = csv_split(line, le, f, scratch);
        geo_u128 a, b;
        int fa, fb;
        const char *why = NULL;
        if (nf < 0) {
            why = "bad quoting";
        } else if (nf < 3) {
            why = "fewer than 3 fields";
        } else if (parse_addr(f[0].p, f[0].len, hint, &fa, &a) != 0) {
            if (!seen_data) {          /* a header line */
                seen_data = 1;
                continue;
            }
            why = "range start is not an address";
        } else if (parse_addr(f[1].p, f[1].len, hint, &fb, &b) != 0) {
            why = "range end is not an address";
        } else if (fa != fb) {
            why = "range start and end are of different address families";
        } else if (b < a) {
            why = "range end is below its start";
        }
        seen_data = 1;
        uint32_t val = 0;
        if (!why && role == GEO_ROLE_COUNTRY && parse_cc(f[2].p, f[2].len, &val) != 0)
            why = "country is not a 2-letter code";
        if (!why && role == GEO_ROLE_ASN && parse_asn(f[2].p, f[2].len, &val) != 0)
            why = "ASN is not a 32-bit number";
        if (why) {
            rc = ds_fail_at(err, DS_EFORMAT, (uint64_t)(line - base), "%s:%zu: %s", path, lineno,
                            why);
            goto out;
        }
        ranges++;
        if (!(fams & GEO_FAM_BIT(fa)))
            continue;
        rc = geo_sink_add(s, role, fa, a, b, val, err);
        if (rc == DS_OK && role == GEO_ROLE_ASN && val != last_asn)   /* runs share an ASN */
            rc = geo_org_set(s, val, nf > 3 ? f[3].p : "", nf > 3 ? f[3].len : 0, err);
        last_asn = val;
        if (rc != DS_OK)
            goto out;
    }
    if (ranges == 0)
        rc = ds_fail(err, DS_EFORMAT, "%s: no address ranges (only a header, comments or blank lines): not a "
                     "CSV of START,END,%s (docs/geo.md)", path, role == GEO_ROLE_COUNTRY ? "COUNTRY" : "ASN");
out:
    free(scratch);
    if (map != MAP_FAILED)
        munmap(map, size);
    if (fd >= 0)
        close(fd);
    return rc;
}
