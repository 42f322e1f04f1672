/* config.h: darkscope.conf (INI, parsed with inih).
 *
 *   [store]            path = darkscope.db
 *   [geo]              country = data/geo/country     asn = data/geo/asn
 *   [report]           timezone = UTC                 (IANA name, e.g. Asia/Tokyo)
 *   [sensor.NAME]      darknet = 198.51.100.0/24, 203.0.113.0/24
 *                      darknet6 = 2001:db8::/64
 *                      outage = 2023-08-01..2023-08-11, 2023-09-02T10:00Z..2023-09-02T14:00Z
 *                               (declared down: analysis/coverage.h)
 *   [detect]           research_lists = PATH[, PATH...]   (MISP warninglist JSON files, type cidr)
 *                      research_asns = 398324, AS6939, ...  (networks of known research scanners)
 *                      scan_min_addresses = 25   scan_timeout = 480   (core/scan.h)
 *                      sensor_silence = 3600   (seconds without an upload or a packet: a sensor_silent event)
 */
#ifndef DS_CONFIG_H
#define DS_CONFIG_H
#include <stddef.h>
#include <stdint.h>

#include "core/darknet.h"
#include "util/result.h"

#define DS_MAX_SENSORS 1024
#define DS_MAX_RESEARCH_LISTS 16
#define DS_MAX_RESEARCH_ASNS 1024

/* Known benign (research) scanners: lists are read by analysis/research.c. */
typedef struct ds_research_conf {
    char lists[DS_MAX_RESEARCH_LISTS][1024];
    size_t nlists;
    uint32_t asns[DS_MAX_RESEARCH_ASNS];
    size_t nasns;
} ds_research_conf;

/* A declared outage: "FROM..TO" as written (util/timeutil.h ds_span_parse), checked at load and
 * converted where the timezone is known (analysis/coverage.c). */
typedef struct ds_outage_decl {
    char span[96];
} ds_outage_decl;

typedef struct ds_sensor_conf {
    char name[64];
    ds_prefix *prefixes;      /* IPv4 and IPv6 prefixes, in file order */
    size_t nprefixes;
    ds_outage_decl *outages;  /* [sensor.NAME] outage = FROM..TO[, FROM..TO...] */
    size_t noutages;
} ds_sensor_conf;

typedef struct ds_config {
    char store_path[1024];    /* [store] path (SQLite) or url (clickhouse://HOST:PORT/DB) */
    char store_user[64];      /* [store] user: a ClickHouse store's user */
    char store_password_file[512];   /* [store] password_file: a file holding its password */
    char store_secure[8];     /* [store] secure: true/false, TLS to the ClickHouse server */
    char store_ca_file[512];  /* [store] ca_file: the CA certificates (PEM) that sign its certificate */
    char store_cluster[64];   /* [store] cluster: a ClickHouse cluster's name (<remote_servers>) */
    char store_shards[512];   /* [store] shards: HOST:PORT,... the HTTP interface of each shard */
    uint32_t store_ttl_raw_days;     /* [store] ttl_raw_days (ttl_days): a ClickHouse store's per-source rows
                                        and chunks kept that many days (0: all) */
    uint32_t store_ttl_rollup_days;  /* [store] ttl_rollup_days (ttl_days): its rollup rows (0: all) */
    char geo_country[1024];
    char geo_asn[1024];
    char timezone[128];
    ds_research_conf research;
    ds_sensor_conf *sensors;
    size_t nsensors;
    char source[1024];        /* file the config came from, "" for defaults */
    uint32_t scan_min_addresses;   /* [detect] scan_min_addresses: distinct darknet addresses a scan reaches (25) */
    uint32_t scan_timeout_s;       /* [detect] scan_timeout: seconds without a packet that end a scan (480) */
    uint32_t sensor_silence_s;     /* [detect] sensor_silence: seconds a sensor may be silent (3600) */
} ds_config;

void ds_config_init(ds_config *c);               /* defaults */
/* The store location ds_store_open takes: store_path, with ?user=..&password_file=..&secure=..
 * &ca_file=..&cluster=..&shards=.. added for a clickhouse:// URL when [store] user,
 * password_file, secure, ca_file, cluster or shards are set (once; not when the URL has options
 * of its own). */
ds_rc ds_config_store_location(ds_config *c, ds_err *err);
ds_rc ds_config_load(ds_config *c, const char *path, ds_err *err);   /* merge a file */
/* Add a sensor, or add prefixes to an existing one, from "CIDR[, CIDR...]". */
ds_rc ds_config_add_darknet(ds_config *c, const char *sensor, const char *cidrs, ds_err *err);
/* Forget the prefixes of sensor NAME (its other settings stay): for prefixes given on a command
 * line that replace the configured ones.  No-op for an unknown sensor. */
void ds_config_clear_darknets(ds_config *c, const char *sensor);
void ds_config_free(ds_config *c);

#endif
