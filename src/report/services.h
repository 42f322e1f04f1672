/* services.h: TCP/UDP service names from a services(5)-format file.
 *
 * The default is Wireshark's copy of IANA's Service Name and Transport Protocol Port Number
 * Registry (Debian's libwireshark-data: /usr/share/wireshark/services), which names what the
 * registry names: 5900/tcp rfb, 8443/tcp pcsync-https, 1521/tcp ncube-lm, 2323/tcp 3d-nfsd.
 * Debian's /etc/services (netbase) is the fallback when that file is not installed; it lists
 * only the well-known ports and a few others.  docs/names.md has the details.
 */
#ifndef DS_REPORT_SERVICES_H
#define DS_REPORT_SERVICES_H
#include <stddef.h>

#include "core/classify.h"
#include "util/result.h"

/* The files tried, in order, when DARKSCOPE_SERVICES is not set; a colon-separated list. */
#define DS_SERVICES_DEFAULT "/usr/share/wireshark/services:/etc/services"
#define DS_SERVICES_NAME_MAX 63   /* longest service name kept */

/* Writes the first path that exists among $DARKSCOPE_SERVICES (a colon-separated list, for
 * tests and other systems) or DS_SERVICES_DEFAULT.  DS_ENOTFOUND names every path tried and the
 * packages that provide them; DS_EINVAL when a path does not fit in out. */
ds_rc ds_services_path(char *out, size_t outlen, ds_err *err);

/* Called once per tcp or udp entry, in file order (the first entry of a port is the one
 * getservbyport would give); name is not NUL-terminated. */
typedef ds_rc (*ds_services_fn)(void *ctx, ds_service key, const char *name, size_t len, ds_err *err);

/* Parses buf (len bytes of the file at path): `name port/proto[/proto...] [aliases] [# comment]`.
 * The merged protocol list (`80/tcp/udp/sctp`) is Wireshark's extension; only tcp and udp are
 * used.  Malformed lines are skipped, as the C library does.  DS_EFORMAT when no entry is
 * found at all; otherwise what fn returns. */
ds_rc ds_services_parse(const char *path, const char *buf, size_t len, ds_services_fn fn, void *ctx, ds_err *err);

#endif
