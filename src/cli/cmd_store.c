/* cmd_store.c: `darkscope store init|migrate|info|copy`: make a store, bring its schema up to this
 * release's, say what it is, or copy one into another (store/copy.h).
 *
 * init and migrate open the store creating what is missing (a SQLite file and its tables; a
 * ClickHouse database and its tables, CREATE ... IF NOT EXISTS: docs/clickhouse.md), so both are
 * safe to run again, and bring the stored data up to this release (ds_store_migrate: on SQLite the
 * DETECT and CROSS chunks of files ingested before them, store/sqlite_derive.c; on ClickHouse the
 * rollups, TTLs and the chunks table's rebuild, store/ch_chunks.c); info prints the backend, the schema version and, for ClickHouse, the
 * server's version as recorded in the store's meta. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "store/copy.h"
#include "store/store.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: darkscope store init|migrate|info [-c FILE] [--db PATH|URL]\n"
               "       darkscope store copy FROM TO\n"
               "Create a store, bring its schema up to this release's, describe it, or copy it.\n\n"
               "  init      create the store (SQLite file, or ClickHouse database and tables)\n"
               "  migrate   add what this release needs to an existing store (safe to repeat): on\n"
               "            SQLite, the detector inputs and cross chunks of files ingested before\n"
               "            them; on ClickHouse, the rollups of files written before them, and the\n"
               "            chunks table rebuilt with one mark per chunk (stop ingests and the\n"
               "            collector first: refused while a write is in progress)\n"
               "  init and migrate set a ClickHouse store's [store] ttl_raw_days / ttl_rollup_days\n"
               "            (ttl_days: both; ClickHouse 19.6 or later)\n"
               "  info      the store's backend, schema version and, for ClickHouse, server version\n"
               "  copy      every file of store FROM into store TO, which must be empty (a new SQLite\n"
               "            file, or a ClickHouse database; each a path or clickhouse:// URL, with\n"
               "            ?user=..&password_file=..&secure=1&ca_file=..&cluster=..&shards=.. as\n"
               "            needed) and keep the\n"
               "            same timezone; exact: every query answers the same afterwards\n\n"
               "  -c, --config FILE  configuration ([store] path, or [store] url/user/password_file,\n"
               "                     secure/ca_file for TLS, and cluster/shards for a cluster)\n"
               "      --db PATH|URL  a SQLite file, or clickhouse://HOST:PORT/DATABASE\n"
               "                     [?secure=1&ca_file=PATH&cluster=NAME&shards=HOST:PORT,...]\n");
}

static int copy(const char *from, const char *to)
{
    ds_store *a = NULL, *b = NULL;
    ds_err err = { 0 };
    ds_copy_stats st;
    int status = 1;
    if (strcmp(from, to) == 0) {
        fprintf(stderr, "darkscope store copy: FROM and TO are the same store (%s)\n", from);
        return 2;
    }
    if (ds_store_open(&a, from, 0, &err) != DS_OK || ds_store_open(&b, to, 1, &err) != DS_OK ||
        ds_store_copy(a, b, &st, &err) != DS_OK) {
        cli_error(NULL, &err);
        goto out;
    }
    printf("copied %zu file%s (%zu chunks, %zu coverage rows) from %s to %s", st.files, st.files == 1 ? "" : "s",
           st.chunks, st.coverage, from, to);
    if (st.months)
        printf("; %zu sensor-months of month rollups built", st.months);
    printf("\n");
    if (st.superseded)
        printf("not copied: %zu superseded file%s (their records are in the files that superseded them)\n",
               st.superseded, st.superseded == 1 ? "" : "s");
    status = 0;
out:
    ds_store_close(a);
    ds_store_close(b);
    return status;
}

static int run(int argc, char **argv)
{
    static const struct option opts[] = {
        { "config", required_argument, NULL, 'c' }, { "db", required_argument, NULL, 'D' },
        { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
    };
    const char *config = NULL, *db = NULL;
    int c;
    ds_config cfg;
    ds_store *st = NULL;
    ds_err err = { 0 };
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c': config = optarg; break;
        case 'D': db = optarg; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind < argc && strcmp(argv[optind], "copy") == 0) {
        if (optind + 3 != argc) {
            fprintf(stderr, "darkscope store copy: give FROM and TO (a SQLite path or a clickhouse:// URL each)\n");
            return 2;
        }
        return copy(argv[optind + 1], argv[optind + 2]);
    }
    if (optind + 1 != argc) {
        usage(stderr);
        return 2;
    }
    const char *what = argv[optind];
    int create = strcmp(what, "init") == 0 || strcmp(what, "migrate") == 0;
    if (!create && strcmp(what, "info") != 0) {
        fprintf(stderr, "darkscope store: unknown action \"%s\" (init, migrate, info, copy FROM TO)\n", what);
        return 2;
    }
    if (cli_load_config(&cfg, config, db, NULL, 0) != 0)
        return 1;
    int status = 1;
    if (ds_store_open(&st, cfg.store_path, create, &err) != DS_OK) {
        cli_error(NULL, &err);
        goto out;
    }
    char ver[64] = "", chv[64] = "", cl[96] = "", clw[128] = "", note[160] = "";
    ds_err quiet = { 0 };
    if (create) {   /* the data's part of the migration (SQLite: the derived chunks older files lack;
                     * ClickHouse: rollups of older files, TTLs) */
        ds_migrate_opts mo = { cfg.store_ttl_raw_days, cfg.store_ttl_rollup_days };
        if (ds_store_migrate(st, &mo, note, sizeof note, &err) != DS_OK) {
            cli_error(NULL, &err);
            goto out;
        }
    }
    if (ds_store_meta_get(st, "schema_version", ver, sizeof ver, &quiet) != DS_OK)
        snprintf(ver, sizeof ver, "-");
    if (ds_store_meta_get(st, "clickhouse_version", chv, sizeof chv, &quiet) != DS_OK)
        chv[0] = 0;
    if (ds_store_meta_get(st, "cluster", cl, sizeof cl, &quiet) == DS_OK && strchr(cl, '/'))   /* NAME/SHARDS */
        snprintf(clw, sizeof clw, ", cluster %.*s (%s shards)", (int)strcspn(cl, "/"), cl, strchr(cl, '/') + 1);
    printf("store %s: %s%s%s, schema %s%s%s\n", cfg.store_path, st->ops->name, chv[0] ? " " : "", chv, ver, clw,
           strcmp(what, "info") ? " (ready)" : "");
    if (note[0])
        printf("store %s: %s\n", cfg.store_path, note);
    status = 0;
out:
    ds_store_close(st);
    ds_config_free(&cfg);
    return status;
}

const ds_command ds_cmd_store = { "store", "create a store, bring its schema up to date, or copy it (init, migrate, info, copy)", run };
