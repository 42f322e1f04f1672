/* services.c: read service names from a services(5)-format file (see services.h).
 *
 * Why Wireshark's file first: IANA's registry (RFC 6335 defines its procedures) is what
 * TSUBAME and the other observatories name ports from, and Debian's /etc/services deliberately
 * keeps only a small subset of it, so the ports darknets see most beyond the classic ones
 * (5900, 8443, 1521, 2323/tcp) came out unnamed.  Wireshark ships the registry, converted to
 * services(5) syntax with protocols merged on one line ("rfb 5900/tcp/udp"), and Debian
 * packages it as libwireshark-data.  The file is parsed here, not with getservbyport(), which
 * reads only /etc/services, is not thread-safe and may go through NSS.
 */
#include "report/services.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

ds_rc ds_services_path(char *out, size_t outlen, ds_err *err)
{
    const char *env = getenv("DARKSCOPE_SERVICES");
    const char *list = env && env[0] ? env : DS_SERVICES_DEFAULT;
    for (const char *p = list; *p; ) {
        const char *colon = strchr(p, ':');
        size_t len = colon ? (size_t)(colon - p) : strlen(p);
        if (len > 0) {
            if (len >= outlen)
                return ds_fail(err, DS_EINVAL, "service-name file %.*s: path longer than %zu bytes", (int)len, p,
                               outlen - 1);
            memcpy(out, p, len);
            out[len] = '\0';
            struct stat st;
            if (stat(out, &st) == 0)
                return DS_OK;   /* exists: any error reading it is reported by the caller */
        }
        if (!colon)
            break;
        p = colon + 1;
    }
    return ds_fail(err, DS_ENOTFOUND,
                   "no service-name file: tried %s (install Debian's libwireshark-data, IANA's registry, "
                   "or netbase, /etc/services; or set DARKSCOPE_SERVICES)", list);
}

/* The protocols of `port/proto[/proto...]` at [p, e): bit 0 tcp, bit 1 udp; -1 when the list
 * is malformed (an empty element).  Names compare case-sensitively, as the C library does. */
static int proto_mask(const char *p, const char *e)
{
    int mask = 0;
    while (p <= e) {
        const char *slash = memchr(p, '/', (size_t)(e - p));
        const char *pe = slash ? slash : e;
        size_t len = (size_t)(pe - p);
        if (len == 0)
            return -1;
        if (len == 3 && memcmp(p, "tcp", 3) == 0)
            mask |= 1;
        else if (len == 3 && memcmp(p, "udp", 3) == 0)
            mask |= 2;
        if (!slash)
            break;
        p = slash + 1;
    }
    return mask;
}

/* One line, comment already cut.  Returns the protocol mask (0: skip) and fills port and name. */
static int parse_line(const char *p, const char *e, uint32_t *port_out, const char **name, size_t *name_len)
{
    while (p < e && is_space(*p))
        p++;
    const char *nm = p;
    while (p < e && !is_space(*p))
        p++;
    size_t nlen = (size_t)(p - nm);
    if (nlen == 0 || nlen > DS_SERVICES_NAME_MAX)
        return 0;
    for (size_t i = 0; i < nlen; i++)
        if ((unsigned char)nm[i] <= 0x20 || (unsigned char)nm[i] >= 0x7f)
            return 0;
    while (p < e && is_space(*p))
        p++;
    uint32_t port = 0;
    size_t digits = 0;
    while (p < e && *p >= '0' && *p <= '9' && digits < 6) {
        port = port * 10 + (uint32_t)(*p - '0');
        p++;
        digits++;
    }
    if (digits == 0 || digits > 5 || port > 65535 || p >= e || *p != '/')
        return 0;
    p++;
    const char *proto = p;
    while (p < e && !is_space(*p))
        p++;
    int mask = proto_mask(proto, p);
    if (mask <= 0)
        return 0;   /* sctp, ddp, ... only, or malformed: no such key in darkscope */
    *port_out = port;
    *name = nm;
    *name_len = nlen;
    return mask;
}

ds_rc ds_services_parse(const char *path, const char *buf, size_t len, ds_services_fn fn, void *ctx, ds_err *err)
{
    size_t found = 0;
    const char *p = buf, *end = buf + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *eol = nl ? nl : end;
        const char *hash = memchr(p, '#', (size_t)(eol - p));
        uint32_t port;
        const char *name;
        size_t name_len;
        /* Malformed lines are skipped: a hand-edited services file with junk in it must not
         * stop a report. */
        int mask = parse_line(p, hash ? hash : eol, &port, &name, &name_len);
        for (int bit = 0; bit < 2; bit++) {
            if (!(mask & (1 << bit)))
                continue;
            ds_rc rc = fn(ctx, DS_SERVICE(bit == 0 ? DS_PROTO_TCP : DS_PROTO_UDP, port), name, name_len, err);
            if (rc != DS_OK)
                return rc;
            found++;
        }
        p = nl ? nl + 1 : end;
    }
    if (found == 0)
        return ds_fail(err, DS_EFORMAT, "%s: no `name port/tcp` or `name port/udp` entries found", path);
    return DS_OK;
}
