/* httpd.h: what darkscope's two HTTP servers share: `darkscope collector` (collector*.c) and
 * `darkscope serve` (serve*.c), both on libmicrohttpd (mhd_api.h).
 *
 * The rule both keep: bearer tokens must not cross a network in clear text, so plain HTTP is
 * served on a loopback address only (127.0.0.0/8, ::1, ::ffff:127.0.0.0/104) unless the operator
 * says the network is trusted (--insecure-plain-http).  TLS is 1.2 or 1.3 only (RFC 8996
 * deprecates 1.0 and 1.1), and the key file must be readable by its owner only.
 */
#ifndef DS_NET_HTTPD_H
#define DS_NET_HTTPD_H
#include <stdarg.h>
#include <sys/socket.h>

#include "util/result.h"

/* GnuTLS priority string: its defaults, with protocol versions TLS 1.3 and 1.2 only */
#define DS_HTTPD_TLS_PRIORITIES "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"

/* A PEM file of at most 1 MiB into *out (malloc'ed).  private_key: the TLS key, which only its
 * owner may read (checked on the open file, so it is the file read). */
ds_rc ds_httpd_read_pem(const char *path, int private_key, char **out, ds_err *err);
/* Free a PEM read by ds_httpd_read_pem, zeroing it first (a key). */
void ds_httpd_free_pem(char *pem);
int ds_httpd_is_loopback(const struct sockaddr *sa);

typedef struct ds_httpd_listen {
    const char *addr;        /* "HOST:PORT", "[V6]:PORT" or ":PORT" (all IPv4); port 0 = any */
    int tls;                 /* TLS will be served on it */
    int insecure_plain_http; /* plain HTTP allowed on a non-loopback address */
    const char *secret;      /* what plain HTTP would expose, for the refusal: "the sensors' bearer tokens" */
} ds_httpd_listen;

/* Bind and listen; *fd the socket, *port the port bound (for port 0).  Refuses plain HTTP on a
 * non-loopback address unless insecure_plain_http. */
ds_rc ds_httpd_bind(const ds_httpd_listen *l, int *fd, unsigned *port, ds_err *err);

/* libmicrohttpd's MHD_OPTION_EXTERNAL_LOGGER: its messages prefixed with cls (a const char *,
 * "darkscope collector"), at most 5 a second, so a flood of connections cannot flood the journal. */
void ds_httpd_log(void *cls, const char *fmt, va_list ap);

#endif
