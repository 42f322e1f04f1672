#include "core/ip.h"

#include <arpa/inet.h>

int ds_ip_parse(const char *s, ds_ip *out)
{
    memset(out, 0, sizeof *out);
    if (inet_pton(AF_INET, s, out->b) == 1)
        return 0;
    if (inet_pton(AF_INET6, s, out->b) == 1) {
        out->v6 = 1;
        return 0;
    }
    return -1;
}

char *ds_ip_format(const ds_ip *ip, char *buf, size_t len)
{
    if (!inet_ntop(ip->v6 ? AF_INET6 : AF_INET, ip->b, buf, (socklen_t)len) && len)
        buf[0] = '\0';
    return buf;
}
