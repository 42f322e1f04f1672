/* cli.h: the subcommand table.  Each subcommand lives in its own file src/cli/cmd_NAME.c and
 * exports one ds_command; main.c lists them.  A subcommand returns the process exit status:
 * 0 success, 1 failure (error already printed), 2 usage error. */
#ifndef DS_CLI_H
#define DS_CLI_H

#include "util/config.h"
#include "util/result.h"

typedef struct ds_command {
    const char *name;
    const char *summary;
    int (*run)(int argc, char **argv);   /* argv[0] is the subcommand name */
} ds_command;

extern const ds_command ds_cmd_ingest, ds_cmd_top, ds_cmd_stats, ds_cmd_synth, ds_cmd_report, ds_cmd_events;

/* Print "darkscope: MESSAGE" (with ": offset N" when err has one) to stderr. */
void cli_error(const char *what, const ds_err *err);
/* Load configuration as every subcommand does: -c FILE, else ./darkscope.conf, else
 * $DARKSCOPE_CONFIG, else built-in defaults; then apply --db / --darknet overrides (NULL = none).
 * Prints the error and returns non-zero on failure. */
int cli_load_config(ds_config *cfg, const char *config_path, const char *db_override,
                    const char *const *darknets, int ndarknets);

#endif

#ifndef DS_CLI_HELPERS
#define DS_CLI_HELPERS
#include <stdint.h>
#include <stdio.h>

#include "geo/geo.h"

/* Open geo data named by the config.  Paths still at their defaults that don't exist give a
 * warning and a geo that answers ZZ/0; a configured path that fails is an error. */
int cli_open_geo(const ds_config *cfg, ds_geo **out);
/* Open the store of cfg for reading and switch to the timezone it counts days in (the
 * configuration's when the store has none yet).  Prints the error and returns non-zero. */
struct ds_store;
int cli_open_store(const ds_config *cfg, struct ds_store **out, char *tz, size_t tzlen);
/* --from and --to as given (NULL: not given, the day is left as it is): local days as
 * YYYY-MM-DD.  Prints "darkscope CMD: --from/--to take a date as YYYY-MM-DD (got 'X')" and
 * returns non-zero on the first that is not one. */
int cli_parse_days(const char *cmd, const char *from, const char *to, int32_t *dfrom, int32_t *dto);
/* The set-up every query subcommand (top, events, stats, report, payloads) shares: load the
 * configuration (cli_load_config), then open its store (cli_open_store).  tz may be NULL when the
 * caller does not print the timezone.  Prints the error and returns non-zero. */
int cli_query_open(ds_config *cfg, const char *config_path, const char *db_override, struct ds_store **out,
                   char *tz, size_t tzlen);
/* The period and sensor of a query: the days not given (have_from/have_to 0) from the store
 * (cli_period), and the id of `sensor` when one is named (cli_sensor_id).  Returns 0, or the exit
 * status (1 or 2) after printing the error. */
int cli_query_scope(struct ds_store *st, const char *cmd, const char *store_path, int have_from, int have_to,
                    const char *sensor, int32_t *from, int32_t *to, int64_t *sensor_id);
/* A number option through util/num.h: prints "darkscope CMD: OPT: 'S' is out of range (MIN to
 * MAX)" (or "is not a whole number", ...) and returns non-zero when s is not one in range. */
#define CLI_MAX_ROWS 1000000000u   /* --limit: more rows than any table has; 0 is "all" */
int cli_u64(const char *cmd, const char *opt, const char *s, uint64_t min, uint64_t max, uint64_t *out);
int cli_size(const char *cmd, const char *opt, const char *s, uint64_t min, uint64_t max, uint64_t *out);
int cli_double(const char *cmd, const char *opt, const char *s, double min, double max, double *out);
/* JSON strings and local times: ds_json_fputs and ds_fmt_time_local (util/textfmt.h) */
void cli_csv_field(FILE *f, const char *s);
/* Fill in --from/--to not given from the store's first and last day with data.  Prints the error
 * and returns 1 (no data, store error) or 2 (--to before --from), else 0. */
int cli_period(struct ds_store *st, const char *cmd, const char *store_path, int have_from, int have_to,
               int32_t *from, int32_t *to);
/* The id of the sensor called name; prints the error and returns non-zero when there is none. */
int cli_sensor_id(struct ds_store *st, const char *cmd, const char *name, int64_t *id);
/* --exclude research: the source keys of [detect]'s research scanners seen in [from, to].
 * Prints the error and returns non-zero (nothing configured, a bad list, a store error). */
struct ds_u64set;
int cli_research_sources(const ds_config *cfg, struct ds_store *st, int32_t from, int32_t to,
                         struct ds_u64set *set);
#endif
