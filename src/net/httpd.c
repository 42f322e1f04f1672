/* httpd.c: listening socket, TLS files and libmicrohttpd's log, for the collector and serve
 * (httpd.h). */
#include "net/httpd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/num.h"

ds_rc ds_httpd_read_pem(const char *path, int private_key, char **out, ds_err *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    FILE *f = NULL;
    char *buf = NULL;
    ds_rc rc = DS_OK;
    struct stat st;
    if (fd < 0)
        return ds_fail(err, DS_EIO, "%s: %s", path, strerror(errno));
    if (fstat(fd, &st) != 0) {
        rc = ds_fail(err, DS_EIO, "%s: %s", path, strerror(errno));
        goto out;
    }
    if (private_key && (st.st_mode & 044)) {
        rc = ds_fail(err, DS_EINVAL, "TLS key %s may be read by %s (mode %03o): the key must be readable by its "
                     "owner only (chmod 600 %s)", path, (st.st_mode & 004) ? "every user" : "its group",
                     (unsigned)(st.st_mode & 0777), path);
        goto out;
    }
    if (!(f = fdopen(fd, "rb"))) {
        rc = ds_fail(err, DS_ENOMEM, "out of memory");
        goto out;
    }
    fd = -1;
    if (!(buf = malloc(1 << 20))) {
        rc = ds_fail(err, DS_ENOMEM, "out of memory");
        goto out;
    }
    size_t n = fread(buf, 1, (1 << 20) - 1, f);
    if (ferror(f) || n == 0 || !feof(f)) {
        rc = ds_fail(err, DS_EFORMAT, "%s: not a PEM file of at most 1 MiB", path);
        goto out;
    }
    buf[n] = 0;
    *out = buf;
    buf = NULL;
out:
    if (buf) {
        memset(buf, 0, 1 << 20);
        free(buf);
    }
    if (f)
        fclose(f);
    if (fd >= 0)
        close(fd);
    return rc;
}

int ds_httpd_is_loopback(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET)
        return (ntohl(((const struct sockaddr_in *)(const void *)sa)->sin_addr.s_addr) >> 24) == 127;
    if (sa->sa_family == AF_INET6) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
        return IN6_IS_ADDR_LOOPBACK(a) || (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
    }
    return 0;
}

/* Bound here, not by libmicrohttpd, so that port 0 can be asked back. */
ds_rc ds_httpd_bind(const ds_httpd_listen *l, int *lfd, unsigned *lport, ds_err *err)
{
    char host[256] = "", port[16];
    const char *a = l->addr, *colon;
    if (a[0] == '[') {
        const char *close_br = strchr(a, ']');
        if (!close_br || close_br[1] != ':' || (size_t)(close_br - a - 1) >= sizeof host)
            return ds_fail(err, DS_EINVAL, "--listen %s: expected [IPV6]:PORT", a);
        memcpy(host, a + 1, (size_t)(close_br - a - 1));
        host[close_br - a - 1] = 0;
        colon = close_br + 1;
    } else {
        if (!(colon = strrchr(a, ':')) || (size_t)(colon - a) >= sizeof host)
            return ds_fail(err, DS_EINVAL, "--listen %s: expected HOST:PORT", a);
        memcpy(host, a, (size_t)(colon - a));
        host[colon - a] = 0;
    }
    uint64_t pv;
    ds_err perr = { 0 };
    if (ds_parse_u64(colon + 1, 0, 65535, &pv, &perr) != DS_OK)
        return ds_fail(err, DS_EINVAL, "--listen %s: the port must be 0 to 65535", a);
    snprintf(port, sizeof port, "%u", (unsigned)pv);
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                              .ai_flags = AI_PASSIVE | AI_NUMERICSERV }, *ai = NULL;
    int g = getaddrinfo(host[0] ? host : "0.0.0.0", port, &hints, &ai);
    if (g != 0)
        return ds_fail(err, DS_EINVAL, "--listen %s: %s", a, gai_strerror(g));
    ds_rc rc = DS_OK;
    int fd = -1, one = 1;
    if (!l->tls && !l->insecure_plain_http && !ds_httpd_is_loopback(ai->ai_addr)) {
        rc = ds_fail(err, DS_EINVAL, "--listen %s: plain HTTP would carry %s in clear text "
                     "on a non-loopback address; give --tls-cert and --tls-key, or --insecure-plain-http if this "
                     "network is trusted (a VPN, a private link)", a, l->secret);
        goto out;
    }
    fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, SOMAXCONN) != 0) {
        rc = ds_fail(err, DS_EIO, "--listen %s: %s", a, strerror(errno));
        goto out;
    }
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
        *lport = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                                 : ((struct sockaddr_in *)&ss)->sin_port);
    *lfd = fd;
    fd = -1;
out:
    if (fd >= 0)
        close(fd);
    freeaddrinfo(ai);
    return rc;
}

/* libmicrohttpd's messages: refused connections over a limit, TLS handshake failures. */
static pthread_mutex_t mhd_log_mu = PTHREAD_MUTEX_INITIALIZER;
void ds_httpd_log(void *cls, const char *fmt, va_list ap)
{
    static time_t sec;
    static unsigned n;
    static unsigned long dropped;
    time_t now = time(NULL);
    char line[512];
    const char *who = cls ? cls : "darkscope";
    vsnprintf(line, sizeof line, fmt, ap);
    size_t len = strlen(line);
    while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
        line[--len] = 0;
    pthread_mutex_lock(&mhd_log_mu);
    if (now != sec) {
        if (dropped)
            fprintf(stderr, "%s: libmicrohttpd: %lu more messages not shown\n", who, dropped);
        sec = now;
        n = 0;
        dropped = 0;
    }
    if (n++ < 5)
        fprintf(stderr, "%s: libmicrohttpd: %s\n", who, line);
    else
        dropped++;
    pthread_mutex_unlock(&mhd_log_mu);
}

void ds_httpd_free_pem(char *pem)
{
    if (!pem)
        return;
    memset(pem, 0, strlen(pem));
    free(pem);
}
