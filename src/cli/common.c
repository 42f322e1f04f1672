/* common.c: what every subcommand shares: configuration loading, error printing, geo, and
 * output formatting. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "analysis/research.h"
#include "cli/cli.h"
#include "store/store.h"
#include "util/num.h"
#include "util/timeutil.h"

void cli_error(const char *what, const ds_err *err)
{
    if (err && err->msg[0]) {
        if (err->has_offset && !strstr(err->msg, "offset"))
            fprintf(stderr, "darkscope: %s (at byte offset %llu)\n", err->msg, (unsigned long long)err->offset);
        else
            fprintf(stderr, "darkscope: %s\n", err->msg);
    } else {
        fprintf(stderr, "darkscope: %s\n", what ? what : "failed");
    }
}

int cli_load_config(ds_config *cfg, const char *config_path, const char *db_override,
                    const char *const *darknets, int ndarknets)
{
    ds_err err = { 0 };
    ds_config_init(cfg);
    const char *path = config_path;
    if (!path && access("darkscope.conf", F_OK) == 0)
        path = "darkscope.conf";
    if (!path && getenv("DARKSCOPE_CONFIG") && *getenv("DARKSCOPE_CONFIG"))
        path = getenv("DARKSCOPE_CONFIG");
    if (path && ds_config_load(cfg, path, &err) != DS_OK) {
        cli_error(NULL, &err);
        return 1;
    }
    if (db_override) {
        if (strlen(db_override) >= sizeof cfg->store_path) {
            fprintf(stderr, "darkscope: --db path too long\n");
            return 1;
        }
        snprintf(cfg->store_path, sizeof cfg->store_path, "%s", db_override);
        if (ds_config_store_location(cfg, &err) != DS_OK) {   /* [store] user / password_file apply to --db URL too */
            cli_error(NULL, &err);
            return 1;
        }
    }
    for (int i = 0; i < ndarknets; i++) {
        /* "--darknet NAME=CIDR" names the sensor; a bare CIDR goes to sensor "default" */
        const char *eq = strchr(darknets[i], '=');
        char name[64] = "default";
        const char *cidrs = darknets[i];
        if (eq) {
            size_t n = (size_t)(eq - darknets[i]);
            if (n == 0 || n >= sizeof name) {
                fprintf(stderr, "darkscope: --darknet %s: bad sensor name\n", darknets[i]);
                return 1;
            }
            memcpy(name, darknets[i], n);
            name[n] = '\0';
            cidrs = eq + 1;
        }
        if (ds_config_add_darknet(cfg, name, cidrs, &err) != DS_OK) {
            cli_error(NULL, &err);
            return 1;
        }
    }
    return 0;
}

int cli_parse_days(const char *cmd, const char *from, const char *to, int32_t *dfrom, int32_t *dto)
{
    const char *bad = from && ds_day_parse(from, dfrom) != 0 ? from : to && ds_day_parse(to, dto) != 0 ? to : NULL;
    char why[96];
    if (bad && ds_day_explain(bad, why, sizeof why))   /* date-shaped: say what is wrong with it */
        fprintf(stderr, "darkscope %s: %s %s: %s\n", cmd, bad == from ? "--from" : "--to", bad, why);
    else if (bad)
        fprintf(stderr, "darkscope %s: --from/--to take a date as YYYY-MM-DD (got '%s')\n", cmd, bad);
    return bad != NULL;
}

static int num_done(const char *cmd, const char *opt, ds_rc rc, const ds_err *err)
{
    if (rc != DS_OK)
        fprintf(stderr, "darkscope %s: %s: %s\n", cmd, opt, err->msg);
    return rc != DS_OK;
}

int cli_u64(const char *cmd, const char *opt, const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
    ds_err err = { 0 };
    return num_done(cmd, opt, ds_parse_u64(s, min, max, out, &err), &err);
}

int cli_size(const char *cmd, const char *opt, const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
    ds_err err = { 0 };
    return num_done(cmd, opt, ds_parse_size(s, min, max, out, &err), &err);
}

int cli_double(const char *cmd, const char *opt, const char *s, double min, double max, double *out)
{
    ds_err err = { 0 };
    return num_done(cmd, opt, ds_parse_double(s, min, max, out, &err), &err);
}

int cli_open_store(const ds_config *cfg, ds_store **out, char *tz, size_t tzlen)
{
    ds_err err = { 0 };
    *out = NULL;
    if (ds_store_open(out, cfg->store_path, 0, &err) != DS_OK) {
        cli_error(NULL, &err);
        return 1;
    }
    if (ds_store_meta_get(*out, "timezone", tz, tzlen, &err) != DS_OK)
        snprintf(tz, tzlen, "%s", cfg->timezone);
    if (ds_tz_use(tz, &err) != DS_OK) {
        cli_error(NULL, &err);
        ds_store_close(*out);
        *out = NULL;
        return 1;
    }
    return 0;
}

int cli_query_open(ds_config *cfg, const char *config_path, const char *db_override, ds_store **out, char *tz,
                   size_t tzlen)
{
    char own[128];
    *out = NULL;
    if (cli_load_config(cfg, config_path, db_override, NULL, 0) != 0)
        return 1;
    return cli_open_store(cfg, out, tz ? tz : own, tz ? tzlen : sizeof own);
}

int cli_query_scope(ds_store *st, const char *cmd, const char *store_path, int have_from, int have_to,
                    const char *sensor, int32_t *from, int32_t *to, int64_t *sensor_id)
{
    int prc = cli_period(st, cmd, store_path, have_from, have_to, from, to);
    if (prc != 0)
        return prc;
    if (sensor && cli_sensor_id(st, cmd, sensor, sensor_id) != 0)
        return 1;
    return 0;
}

int cli_open_geo(const ds_config *cfg, ds_geo **out)
{
    ds_err err = { 0 };
    ds_config def;
    ds_config_init(&def);
    const char *country = cfg->geo_country, *asn = cfg->geo_asn;
    struct stat st;
    int missing_default = 0;
    if (*country && stat(country, &st) != 0 && strcmp(country, def.geo_country) == 0) {
        country = "";
        missing_default = 1;
    }
    if (*asn && stat(asn, &st) != 0 && strcmp(asn, def.geo_asn) == 0) {
        asn = "";
        missing_default = 1;
    }
    if (missing_default)
        fprintf(stderr, "darkscope: warning: no geo data at %s / %s: sources will be country ZZ, ASN 0 "
                        "(run `make geo`, or set [geo] country / asn)\n", def.geo_country, def.geo_asn);
    if (ds_geo_open(out, country, asn, &err) != DS_OK) {
        cli_error(NULL, &err);
        return 1;
    }
    return 0;
}

void cli_csv_field(FILE *f, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (const char *p = s; *p; p++) {
        if (*p == '"')
            fputc('"', f);
        fputc(*p, f);
    }
    fputc('"', f);
}

int cli_period(ds_store *st, const char *cmd, const char *store_path, int have_from, int have_to, int32_t *from,
               int32_t *to)
{
    ds_err err = { 0 };
    int32_t first, last;
    ds_rc rc = ds_store_day_span(st, &first, &last, &err);
    if (rc == DS_ENOTFOUND) {
        fprintf(stderr, "darkscope %s: the store %s holds no data yet\n", cmd, store_path);
        return 1;
    } else if (rc != DS_OK) {
        cli_error(NULL, &err);
        return 1;
    }
    if (!have_from)
        *from = first;
    if (!have_to)
        *to = last;
    if (*to < *from) {
        fprintf(stderr, "darkscope %s: --to is before --from\n", cmd);
        return 2;
    }
    return 0;
}

int cli_sensor_id(ds_store *st, const char *cmd, const char *name, int64_t *id)
{
    ds_err err = { 0 };
    ds_sensor_info *sensors = NULL;
    size_t n = 0;
    *id = 0;
    if (ds_store_sensors(st, &sensors, &n, &err) != DS_OK) {
        cli_error(NULL, &err);
        return 1;
    }
    for (size_t i = 0; i < n; i++)
        if (strcmp(sensors[i].name, name) == 0)
            *id = sensors[i].id;
    free(sensors);
    if (!*id) {
        fprintf(stderr, "darkscope %s: --sensor %s: no such sensor in the store\n", cmd, name);
        return 1;
    }
    return 0;
}

int cli_research_sources(const ds_config *cfg, ds_store *st, int32_t from, int32_t to, ds_u64set *set)
{
    ds_err err = { 0 };
    ds_research *rs = NULL;
    ds_rc rc = ds_research_load(&rs, &cfg->research, &err);
    if (rc == DS_OK)
        rc = ds_research_sources(rs, st, from, to, set, &err);
    ds_research_free(rs);
    if (rc != DS_OK) {
        cli_error(NULL, &err);
        return 1;
    }
    return 0;
}
