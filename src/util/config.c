/* config.c: load darkscope.conf with inih.
 *
 * inih hands us (section, name, value) triples; we keep the few settings darkscope knows and
 * reject anything else by name, because a misspelt key that is silently ignored is how a sensor
 * ends up counted against the wrong darknet.
 */
#include "util/config.h"
#include "util/name.h"
#include "util/timeutil.h"

#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ds_config_init(ds_config *c)
{
    memset(c, 0, sizeof *c);
    snprintf(c->store_path, sizeof c->store_path, "darkscope.db");
    snprintf(c->geo_country, sizeof c->geo_country, "data/geo/country");
    snprintf(c->geo_asn, sizeof c->geo_asn, "data/geo/asn");
    snprintf(c->timezone, sizeof c->timezone, "UTC");
    c->scan_min_addresses = 25;   /* DS_SCAN_MIN_ADDRESSES, DS_SCAN_TIMEOUT_S in core/scan.h */
    c->scan_timeout_s = 480;
    c->sensor_silence_s = 3600;   /* the default of analysis/detect_silence.c too */
}

void ds_config_free(ds_config *c)
{
    for (size_t i = 0; i < c->nsensors; i++) {
        free(c->sensors[i].prefixes);
        free(c->sensors[i].outages);
    }
    free(c->sensors);
    c->sensors = NULL;
    c->nsensors = 0;
}

static ds_sensor_conf *sensor_get(ds_config *c, const char *name, ds_err *err)
{
    for (size_t i = 0; i < c->nsensors; i++)
        if (strcmp(c->sensors[i].name, name) == 0)
            return &c->sensors[i];
    if (ds_sensor_name_check(name, err) != DS_OK)   /* "." and ".." too: util/name.h */
        return NULL;
    size_t len = strlen(name);
    if (c->nsensors >= DS_MAX_SENSORS) {
        ds_fail(err, DS_EINVAL, "too many sensors (at most %d)", DS_MAX_SENSORS);
        return NULL;
    }
    ds_sensor_conf *n = realloc(c->sensors, (c->nsensors + 1) * sizeof *n);
    if (!n) {
        ds_fail(err, DS_ENOMEM, "out of memory");
        return NULL;
    }
    c->sensors = n;
    ds_sensor_conf *s = &c->sensors[c->nsensors++];
    memset(s, 0, sizeof *s);
    memcpy(s->name, name, len + 1);
    return s;
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
        s[--n] = '\0';
    return s;
}

ds_rc ds_config_add_darknet(ds_config *c, const char *sensor, const char *cidrs, ds_err *err)
{
    ds_rc rc = DS_OK;
    char *copy = strdup(cidrs);
    if (!copy)
        return ds_fail(err, DS_ENOMEM, "out of memory");
    ds_sensor_conf *s = sensor_get(c, sensor, err);
    if (!s) {
        rc = DS_EINVAL;
        goto out;
    }
    char *save = NULL;
    for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char *t = trim(tok);
        if (!*t)
            continue;
        ds_prefix p;
        if (ds_prefix_parse(t, &p) != 0) {
            char why[160];
            ds_prefix_explain(t, why, sizeof why);
            rc = ds_fail(err, DS_EINVAL, "sensor '%s': '%s' is not a network prefix like 198.51.100.0/24: %s",
                         sensor, t, why);
            goto out;
        }
        ds_prefix *n = realloc(s->prefixes, (s->nprefixes + 1) * sizeof *n);
        if (!n) {
            rc = ds_fail(err, DS_ENOMEM, "out of memory");
            goto out;
        }
        s->prefixes = n;
        s->prefixes[s->nprefixes++] = p;
    }
out:
    free(copy);
    return rc;
}

void ds_config_clear_darknets(ds_config *c, const char *sensor)
{
    for (size_t i = 0; i < c->nsensors; i++) {
        if (strcmp(c->sensors[i].name, sensor) == 0) {
            free(c->sensors[i].prefixes);
            c->sensors[i].prefixes = NULL;
            c->sensors[i].nprefixes = 0;
        }
    }
}

struct load_ctx {
    ds_config *c;
    ds_err *err;
    ds_rc rc;
    const char *path;
    FILE *f;
    int line;          /* line the reader handed to inih last */
    int long_line;     /* first line that did not fit inih's buffer, 0 if none */
    int max_line;      /* longest line inih takes, without its newline */
    int err_line;      /* line of the first error found by on_kv */
    size_t section_len;   /* length of the name in the last "[section]" line read */
    int section_line;
};

/* Test fix: inih (Debian builds it with INI_MAX_LINE 200 and no realloc) splits a longer line
 * into pieces and parses each piece as a line of its own: a long darknet list then failed with
 * a message about half a prefix, and a piece that starts with a blank was taken as a
 * continuation of the previous key (a long store path silently became its own tail).  This
 * reader counts lines and stops at the first one that does not fit, so it can be reported. */
static char *read_line(char *str, int num, void *user)
{
    struct load_ctx *lc = user;
    if (!fgets(str, num, lc->f))
        return NULL;
    lc->line++;
    lc->max_line = num - 1;
    size_t n = strlen(str);
    if (n + 1 == (size_t)num && str[n - 1] != '\n' && !feof(lc->f)) {
        int ch = getc(lc->f);
        if (ch != EOF && ch != '\n') {
            lc->long_line = lc->line;
            return NULL;
        }
    }
    /* Test fix: inih also cuts section names to 49 characters without a word, so two sensors
     * whose long names share a beginning became one.  Remember the name's real length. */
    const char *p = str;
    while (*p == ' ' || *p == '\t')
        p++;
    const char *close = *p == '[' ? strchr(p, ']') : NULL;
    if (close) {
        lc->section_len = (size_t)(close - p - 1);
        lc->section_line = lc->line;
    }
    return str;
}

static int copy_value(char *dst, size_t dstlen, const char *v, struct load_ctx *lc, const char *key)
{
    if (strlen(v) >= dstlen) {
        lc->rc = ds_fail(lc->err, DS_EINVAL, "%s:%d: value of '%s' is too long", lc->path, lc->line, key);
        return 0;
    }
    memcpy(dst, v, strlen(v) + 1);
    return 1;
}

/* "a.json, b.json": each path trimmed; a value may be given on several lines (they add up). */
static int add_research_lists(ds_research_conf *r, const char *v, struct load_ctx *lc)
{
    while (*v) {
        while (*v == ' ' || *v == '\t' || *v == ',')
            v++;
        const char *e = v;
        while (*e && *e != ',')
            e++;
        const char *t = e;
        while (t > v && (t[-1] == ' ' || t[-1] == '\t'))
            t--;
        if (t > v) {
            if (r->nlists == DS_MAX_RESEARCH_LISTS) {
                lc->rc = ds_fail(lc->err, DS_EINVAL, "%s:%d: more than %d research_lists", lc->path, lc->line,
                                 DS_MAX_RESEARCH_LISTS);
                return 0;
            }
            if ((size_t)(t - v) >= sizeof r->lists[0]) {
                lc->rc = ds_fail(lc->err, DS_EINVAL, "%s:%d: a research_lists path is too long", lc->path, lc->line);
                return 0;
            }
            memcpy(r->lists[r->nlists], v, (size_t)(t - v));
            r->lists[r->nlists++][t - v] = 0;
        }
        v = e;
    }
    return 1;
}

/* "398324, AS6939": numbers with an optional AS prefix. */
static int add_research_asns(ds_research_conf *r, const char *v, struct load_ctx *lc)
{
    while (*v) {
        while (*v == ' ' || *v == '\t' || *v == ',')
            v++;
        if (!*v)
            break;
        const char *p = (v[0] == 'A' || v[0] == 'a') && (v[1] == 'S' || v[1] == 's') ? v + 2 : v;
        char *end;
        unsigned long a = p[0] >= '0' && p[0] <= '9' ? strtoul(p, &end, 10) : 0;
        if (p[0] < '0' || p[0] > '9' || a > UINT32_MAX || (*end && *end != ',' && *end != ' ' && *end != '\t')) {
            lc->rc = ds_fail(lc->err, DS_EINVAL, "%s:%d: research_asns: '%.20s' is not an AS number", lc->path,
                             lc->line, v);
            return 0;
        }
        if (r->nasns == DS_MAX_RESEARCH_ASNS) {
            lc->rc = ds_fail(lc->err, DS_EINVAL, "%s:%d: more than %d research_asns", lc->path, lc->line,
                             DS_MAX_RESEARCH_ASNS);
            return 0;
        }
        r->asns[r->nasns++] = (uint32_t)a;
        v = end;
    }
    return 1;
}

/* A whole number from 1 to max (scan_min_addresses, scan_timeout). */
static int set_count(uint32_t *dst, const char *v, uint32_t max, struct load_ctx *lc, const char *key)
{
    char *end;
    unsigned long n = v[0] >= '0' && v[0] <= '9' ? strtoul(v, &end, 10) : 0;
    if (v[0] < '0' || v[0] > '9' || *end || n < 1 || n > max) {
        lc->rc = ds_fail(lc->err, DS_EINVAL, "%s:%d: %s: '%.20s' is not a whole number from 1 to %u", lc->path,
                         lc->line, key, v, (unsigned)max);
        return 0;
    }
    *dst = (uint32_t)n;
    return 1;
}

/* [sensor.NAME] outage = FROM..TO[, FROM..TO...]: spans the sensor was down. */
static int add_outages(ds_config *c, const char *sensor, const char *value, struct load_ctx *lc)
{
    ds_sensor_conf *sc = sensor_get(c, sensor, lc->err);
    char buf[4096];
    if (!sc) {
        char inner[sizeof lc->err->msg];
        snprintf(inner, sizeof inner, "%s", lc->err->msg);
        lc->rc = ds_fail(lc->err, DS_EINVAL, "%s:%d: %s", lc->path, lc->line, inner);
        return 0;
    }
    snprintf(buf, sizeof buf, "%s", value);
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char *t = trim(tok);
        int64_t a, b;
        if (strlen(t) >= sizeof sc->outages[0].span || ds_span_parse(t, &a, &b) != 0) {
            lc->rc = ds_fail(lc->err, DS_EINVAL, "%s:%d: [sensor.%s] outage '%s': write FROM..TO with FROM before TO, "
                             "each YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS] with an optional Z or +HH:MM",
                             lc->path, lc->line, sensor, t);
            return 0;
        }
        ds_outage_decl *n = realloc(sc->outages, (sc->noutages + 1) * sizeof *n);
        if (!n) {
            lc->rc = ds_fail(lc->err, DS_ENOMEM, "out of memory");
            return 0;
        }
        sc->outages = n;
        snprintf(sc->outages[sc->noutages++].span, sizeof n->span, "%s", t);
    }
    return 1;
}

static int on_kv(void *user, const char *section, const char *name, const char *value)
{
    struct load_ctx *lc = user;
    ds_config *c = lc->c;
    if (lc->rc != DS_OK)   /* test fix: inih goes on after an error; keep the first one's message */
        return 0;
    lc->err_line = lc->line;   /* kept only when this call fails */
    if (strlen(section) < lc->section_len) {
        lc->err_line = lc->section_line;
        lc->rc = ds_fail(lc->err, DS_EINVAL, "%s:%d: section name [%s...] is too long (at most %zu characters)",
                         lc->path, lc->section_line, section, strlen(section));
        return 0;
    }
    if (strcmp(section, "store") == 0 && strcmp(name, "path") == 0)
        return copy_value(c->store_path, sizeof c->store_path, value, lc, "store.path");
    if (strcmp(section, "store") == 0 && strcmp(name, "url") == 0) {
        if (strncmp(value, "clickhouse://", 13) != 0) {
            lc->rc = ds_fail(lc->err, DS_EINVAL, "%s:%d: [store] url must be clickhouse://HOST:PORT/DATABASE (a SQLite "
                             "store is [store] path)", lc->path, lc->line);
            return 0;
        }
        return copy_value(c->store_path, sizeof c->store_path, value, lc, "store.url");
    }
    if (strcmp(section, "store") == 0 && strcmp(name, "user") == 0)
        return copy_value(c->store_user, sizeof c->store_user, value, lc, "store.user");
    if (strcmp(section, "store") == 0 && strcmp(name, "password_file") == 0)
        return copy_value(c->store_password_file, sizeof c->store_password_file, value, lc, "store.password_file");
    if (strcmp(section, "store") == 0 && strcmp(name, "secure") == 0) {
        static const char *const ok[] = { "true", "false", "yes", "no", "1", "0" };
        for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
            if (strcmp(value, ok[i]) == 0)
                return copy_value(c->store_secure, sizeof c->store_secure, value, lc, "store.secure");
        lc->rc = ds_fail(lc->err, DS_EINVAL, "%s:%d: [store] secure = %s: write true (TLS to the server's https_port) "
                         "or false", lc->path, lc->line, value);
        return 0;
    }
    if (strcmp(section, "store") == 0 && strcmp(name, "ca_file") == 0)
        return copy_value(c->store_ca_file, sizeof c->store_ca_file, value, lc, "store.ca_file");
    if (strcmp(section, "store") == 0 && strcmp(name, "cluster") == 0)
        return copy_value(c->store_cluster, sizeof c->store_cluster, value, lc, "store.cluster");
    if (strcmp(section, "store") == 0 && strcmp(name, "shards") == 0)
        return copy_value(c->store_shards, sizeof c->store_shards, value, lc, "store.shards");
    /* ttl_days sets both; ttl_raw_days and ttl_rollup_days one each (the last line read wins) */
    if (strcmp(section, "store") == 0 && strcmp(name, "ttl_days") == 0) {
        if (!set_count(&c->store_ttl_raw_days, value, 100u * 366u, lc, "store.ttl_days"))
            return 0;
        c->store_ttl_rollup_days = c->store_ttl_raw_days;
        return 1;
    }
    if (strcmp(section, "store") == 0 && strcmp(name, "ttl_raw_days") == 0)
        return set_count(&c->store_ttl_raw_days, value, 100u * 366u, lc, "store.ttl_raw_days");
    if (strcmp(section, "store") == 0 && strcmp(name, "ttl_rollup_days") == 0)
        return set_count(&c->store_ttl_rollup_days, value, 100u * 366u, lc, "store.ttl_rollup_days");
    if (strcmp(section, "geo") == 0 && strcmp(name, "country") == 0)
        return copy_value(c->geo_country, sizeof c->geo_country, value, lc, "geo.country");
    if (strcmp(section, "geo") == 0 && strcmp(name, "asn") == 0)
        return copy_value(c->geo_asn, sizeof c->geo_asn, value, lc, "geo.asn");
    if (strcmp(section, "report") == 0 && strcmp(name, "timezone") == 0)
        return copy_value(c->timezone, sizeof c->timezone, value, lc, "report.timezone");
    if (strcmp(section, "detect") == 0 && strcmp(name, "research_lists") == 0)
        return add_research_lists(&c->research, value, lc);
    if (strcmp(section, "detect") == 0 && strcmp(name, "research_asns") == 0)
        return add_research_asns(&c->research, value, lc);
    if (strcmp(section, "detect") == 0 && strcmp(name, "scan_min_addresses") == 0)
        return set_count(&c->scan_min_addresses, value, 1u << 24, lc, "scan_min_addresses");
    if (strcmp(section, "detect") == 0 && strcmp(name, "scan_timeout") == 0)
        return set_count(&c->scan_timeout_s, value, 30u * 86400u, lc, "scan_timeout");
    if (strcmp(section, "detect") == 0 && strcmp(name, "sensor_silence") == 0)
        return set_count(&c->sensor_silence_s, value, 365u * 86400u, lc, "sensor_silence");
    if (strncmp(section, "sensor.", 7) == 0 && (strcmp(name, "darknet") == 0 || strcmp(name, "darknet6") == 0)) {
        ds_rc rc = ds_config_add_darknet(c, section + 7, value, lc->err);
        if (rc != DS_OK) {
            char inner[sizeof lc->err->msg];
            snprintf(inner, sizeof inner, "%s", lc->err->msg);
            lc->rc = ds_fail(lc->err, rc, "%s:%d: %s", lc->path, lc->line, inner);
            return 0;
        }
        return 1;
    }
    if (strncmp(section, "sensor.", 7) == 0 && strcmp(name, "outage") == 0)
        return add_outages(c, section + 7, value, lc);
    lc->rc = ds_fail(lc->err, DS_EINVAL, "%s:%d: unknown setting [%s] %s", lc->path, lc->line, section, name);
    return 0;
}

ds_rc ds_config_store_location(ds_config *c, ds_err *err)
{
    const struct { const char *key, *val; } opt[] = {
        { "user", c->store_user }, { "password_file", c->store_password_file },
        { "secure", c->store_secure }, { "ca_file", c->store_ca_file },
        { "cluster", c->store_cluster }, { "shards", c->store_shards },
    };
    if (strncmp(c->store_path, "clickhouse://", 13) != 0 || strchr(c->store_path, '?'))
        return DS_OK;
    size_t len = strlen(c->store_path), at = len;
    int k = 0;
    for (size_t i = 0; i < sizeof opt / sizeof opt[0]; i++) {
        if (!opt[i].val[0])
            continue;
        if (strchr(opt[i].val, '&'))   /* it would end the option in the URL */
            return ds_fail(err, DS_EINVAL, "[store] %s = %s: a value with & cannot be passed on (rename the file)",
                           opt[i].key, opt[i].val);
        int n = snprintf(c->store_path + at, sizeof c->store_path - at, "%c%s=%s", k++ ? '&' : '?', opt[i].key,
                         opt[i].val);
        if (n < 0 || (size_t)n >= sizeof c->store_path - at) {
            c->store_path[len] = 0;
            return ds_fail(err, DS_EINVAL, "[store] url with its user, password_file, secure, ca_file, cluster and "
                           "shards is longer than %zu characters", sizeof c->store_path - 1);
        }
        at += (size_t)n;
    }
    return DS_OK;
}

ds_rc ds_config_load(ds_config *c, const char *path, ds_err *err)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return ds_fail(err, DS_EIO, "%s: cannot open config: %m", path);
    struct load_ctx lc = { c, err, DS_OK, path, f, 0, 0, 0, 0, 0, 0 };
    int line = ini_parse_stream(read_line, &lc, on_kv, &lc);
    fclose(f);
    /* report whichever problem comes first in the file: inih's `line` is its first error of
     * any kind, so a smaller number than ours is a syntax error */
    if (line > 0 && ((lc.rc != DS_OK && line < lc.err_line) || (lc.long_line && line < lc.long_line)))
        return ds_fail(err, DS_EINVAL, "%s:%d: syntax error", path, line);
    if (lc.rc != DS_OK)
        return lc.rc;
    if (lc.long_line)
        return ds_fail(err, DS_EINVAL, "%s:%d: line is longer than %d characters (a long darknet list can "
                       "go over several 'darknet =' lines)", path, lc.long_line, lc.max_line);
    if (line > 0)
        return ds_fail(err, DS_EINVAL, "%s:%d: syntax error", path, line);
    if (line < 0)
        return ds_fail(err, DS_EIO, "%s: cannot read config", path);
    snprintf(c->source, sizeof c->source, "%s", path);
    return ds_config_store_location(c, err);
}
