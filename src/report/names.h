/* names.h: human names for the keys a report prints: countries (English and Japanese), IANA
 * service names, ICMP type names, and the IoT device classes that scans of a service aim at.
 *
 * Everything is loaded once by ds_names_open from files already on the system or shipped in
 * data/ (see docs/names.md); lookups afterwards are read-only, allocation-free and thread-safe.
 */
#ifndef DS_REPORT_NAMES_H
#define DS_REPORT_NAMES_H
#include "core/classify.h"
#include "util/result.h"

typedef struct ds_names ds_names;
typedef enum ds_lang { DS_LANG_EN, DS_LANG_JA } ds_lang;

/* Loads, each overridable by an environment variable (for tests and non-Debian systems):
 *   $DARKSCOPE_ISO_CODES_DIR/iso_3166-1.json            (default /usr/share/iso-codes/json)
 *   $DARKSCOPE_LOCALE_DIR/ja/LC_MESSAGES/iso_3166-1.mo  (default /usr/share/locale)
 *   $DARKSCOPE_SERVICES   (default /usr/share/wireshark/services, else /etc/services: services.h)
 *   data/iot-ports.tsv and data/icmp-types.tsv           (found by ds_data_path)
 * A missing or malformed file is an error naming the file (and byte offset); nothing is
 * silently left out. */
ds_rc ds_names_open(ds_names **out, ds_err *err);
void ds_names_free(ds_names *n);

/* ZZ's name: geo answers ZZ for special-purpose sources (private, reserved, documentation, ...:
 * RFC 6890) whatever its data says, and for addresses its data does not cover (docs/geo.md). */
#define DS_NAMES_ZZ_EN "Private/reserved or unknown"
#define DS_NAMES_ZZ_JA "プライベート/予約済みアドレス・不明"

/* "Japan" / "日本"; "ZZ" -> DS_NAMES_ZZ_EN / _JA; a code the tables lack -> the code itself
 * ("EU"); not two ASCII letters -> "??".  Lower-case codes are accepted.  Never NULL; the
 * string lives as long as n. */
const char *ds_names_country(const ds_names *n, const char cc[2], ds_lang lang);

/* IANA service name from the services database ("telnet" for 23/tcp, "https" for 443/tcp),
 * ICMP/ICMPv6 type name from data/icmp-types.tsv ("echo request" for 8/icmp); NULL when none. */
const char *ds_names_service(const ds_names *n, ds_service svc);

/* IoT device class from data/iot-ports.tsv; NULL when the service is not IoT-targeted. */
const char *ds_names_iot(const ds_names *n, ds_service svc, ds_lang lang);
int ds_names_is_iot(const ds_names *n, ds_service svc);

#endif
