/* cmd_ingest.c: `darkscope ingest FILE...` */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "util/textfmt.h"
#include "ingest/ingest.h"
#include "ingest/tsguard.h"
#include "util/num.h"
#include "util/timeutil.h"
#include "util/progress.h"

static void usage(FILE *f)
{
    fprintf(f,
        "usage: darkscope ingest [OPTIONS] FILE...\n\n"
        "Read captures (pcap or pcapng; plain, gzip or zstd; - for stdin), classify every packet by\n"
        "destination service, traffic class and source country/ASN, and add the aggregates to the store.\n"
        "Each file is one transaction: a bad file changes nothing.  A file already ingested (same bytes)\n"
        "is skipped unless --force (a file named by path, before it is decoded); skipping is not an\n"
        "error (exit status 0), and the skipped files are summed up in one line at the end.  A capture\n"
        "cut short (a sensor killed mid-write) is committed up to its last whole record, with a\n"
        "warning; when the whole file arrives later, it replaces the short one's counts (\"supersedes\").\n\n"
        "options:\n"
        "  -c, --config FILE    configuration (default ./darkscope.conf, then $DARKSCOPE_CONFIG)\n"
        "      --db PATH        store (overrides [store] path)\n"
        "      --darknet [NAME=]CIDR[,CIDR]  monitored prefixes without a config file (sensor NAME,\n"
        "                       default \"default\"); repeatable\n"
        "      --sensor NAME    the capture is from sensor NAME: only its darknet counts, the rest is\n"
        "                       outside (a sensor with no prefixes takes every IP packet)\n"
        "      --covers FROM..TO  the span this capture covers (one file; times as YYYY-MM-DD or\n"
        "                       YYYY-MM-DDTHH:MM[:SS], local, or with Z or +HH:MM): hours in it with no\n"
        "                       packet were observed, hours outside it were not (docs/store.md, Coverage)\n"
        "  -j, --threads N      worker threads (default 1)\n"
        "      --force          ingest files whose content is already stored (they count again)\n"
        "      --strict         refuse a capture cut short instead of committing its whole records\n"
        "      --no-detect      count only: no tool fingerprints, payload tools, DoS or scan\n"
        "                       detection (the counts are the same; events find less)\n"
        "  -q, --quiet          no per-file summary\n"
        "  -h, --help\n\n"
        "A record timed before 1990, more than a day after now, or a short run of records a day or more\n"
        "away from their neighbours is not classified (bad_timestamp in `darkscope stats`), with a\n"
        "warning.  DS_NOW=SECONDS (since the epoch) sets \"now\" for this check.\n");
}

int ds_cmd_ingest_run(int argc, char **argv);
int ds_cmd_ingest_run(int argc, char **argv)
{
    static const struct option opts[] = {
        { "config", required_argument, NULL, 'c' }, { "db", required_argument, NULL, 'D' },
        { "darknet", required_argument, NULL, 'N' }, { "sensor", required_argument, NULL, 's' },
        { "threads", required_argument, NULL, 'j' }, { "force", no_argument, NULL, 'F' },
        { "no-detect", no_argument, NULL, 'X' }, { "covers", required_argument, NULL, 'C' },
        { "strict", no_argument, NULL, 'S' },
        { "quiet", no_argument, NULL, 'q' }, { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
    };
    const char *config = NULL, *db = NULL, *sensor = NULL, *covers = NULL;
    const char **darknets = calloc((size_t)argc + 1, sizeof *darknets);
    int ndarknets = 0, threads = 1, force = 0, strict = 0, no_detect = 0, quiet = 0, c, status = 1;
    int skipped = 0;
    ds_config cfg;
    ds_geo *geo = NULL;
    ds_ingest *in = NULL;
    ds_err err = { 0 };
    char skip_msg[sizeof err.msg] = "";

    ds_config_init(&cfg);
    if (!darknets)
        return 1;
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:j:qh", opts, NULL)) != -1) {
        switch (c) {
        case 'c': config = optarg; break;
        case 'D': db = optarg; break;
        case 'N': darknets[ndarknets++] = optarg; break;
        case 's': sensor = optarg; break;
        case 'j': {
            uint64_t v;
            if (cli_u64("ingest", "--threads", optarg, 1, 64, &v) != 0) {
                status = 2;
                goto out;
            }
            threads = (int)v;
            break;
        }
        case 'F': force = 1; break;
        case 'S': strict = 1; break;
        case 'X': no_detect = 1; break;
        case 'C': covers = optarg; break;
        case 'q': quiet = 1; break;
        case 'h': usage(stdout); status = 0; goto out;
        default: usage(stderr); status = 2; goto out;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "darkscope ingest: name at least one capture file (or - for stdin)\n");
        usage(stderr);
        status = 2;
        goto out;
    }
    int64_t now_s = 0;   /* "now" of the timestamp check: the clock, unless DS_NOW fixes it (tests) */
    const char *env_now = getenv("DS_NOW");
    if (env_now && *env_now) {
        uint64_t v;
        ds_err nerr = { 0 };
        if (ds_parse_u64(env_now, 1, INT64_MAX, &v, &nerr) != DS_OK) {
            fprintf(stderr, "darkscope ingest: DS_NOW=%s: expected seconds since the epoch, e.g. DS_NOW=1767225600\n",
                    env_now);
            status = 2;
            goto out;
        }
        now_s = (int64_t)v;
    }
    if (cli_load_config(&cfg, config, db, darknets, ndarknets) != 0)
        goto out;
    if (ds_tz_use(cfg.timezone, &err) != DS_OK) {
        cli_error(NULL, &err);
        goto out;
    }
    int64_t cover_from = 0, cover_to = 0;
    if (covers && (argc - optind != 1 || ds_span_parse(covers, &cover_from, &cover_to) != 0 ||
                   cover_from < (int64_t)DS_TSGUARD_MIN_S ||   /* the timestamp check's bounds, in seconds */
                   cover_to > (int64_t)time(NULL) + (int64_t)DS_TSGUARD_AHEAD_S)) {
        fprintf(stderr, argc - optind != 1 ? "darkscope ingest: --covers names the span of one capture; give one file\n"
                                           : "darkscope ingest: --covers '%s': write FROM..TO with FROM before TO, each "
                                             "YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS] with an optional Z or +HH:MM, "
                                             "between 1990 and tomorrow\n",
                covers);
        status = 2;
        goto out;
    }
    if (cli_open_geo(&cfg, &geo) != 0)
        goto out;
    ds_ingest_opts o = { .cfg = &cfg, .geo = geo, .sensor = sensor, .threads = threads, .force = force, .strict = strict,
                         .no_detect = no_detect, .now_s = now_s, .progress = !quiet, .store_path = cfg.store_path };
    /* not an option: a store without rollups is what darkscope wrote before them, which only the
     * tests of the readers' fallback (tests/e2e/rollup_diff.sh) need to make */
    const char *nr = getenv("DS_INGEST_NO_ROLLUP");
    o.no_rollup = nr && *nr && strcmp(nr, "0") != 0;
    if (ds_ingest_new(&in, &o, &err) != DS_OK) {
        cli_error(NULL, &err);
        goto out;
    }
    status = 0;
    for (int i = optind; i < argc; i++) {
        const char *path = argv[i];
        ds_ingest_result r;
        ds_err_clear(&err);
        if (covers)   /* [from, to): the last nanosecond observed is one before `to` */
            ds_ingest_set_cover(in, DS_COVSRC_DECLARED, (uint64_t)cover_from * 1000000000ULL,
                                (uint64_t)cover_to * 1000000000ULL - 1);
        ds_rc rc = ds_ingest_file(in, path, &r, &err);
        if (r.warning[0])
            fprintf(stderr, "darkscope: warning: %s\n", r.warning);
        if (rc == DS_EEXIST) {   /* already stored: skipped, not an error (summed up below) */
            if (!skipped++)
                snprintf(skip_msg, sizeof skip_msg, "%s", err.msg);
            continue;
        }
        if (rc != DS_OK) {
            cli_error(path, &err);
            status = 1;
            continue;
        }
        if (r.notice[0])
            fprintf(stderr, "darkscope: %s\n", r.notice);
        if (!quiet) {
            char a[32], b[32], d[32], e[32];
            fprintf(stderr, "%s: %s records: %s packets to darknets, %s outside, %s other (non-IP, truncated, "
                            "fragments, malformed, bad timestamps); %.2f s (read %.2f, commit %.2f), %.2f M records/s\n",
                    path, ds_fmt_count(r.records, a, sizeof a), ds_fmt_count(r.packets, b, sizeof b),
                    ds_fmt_count(r.outside, d, sizeof d), ds_fmt_count(r.other, e, sizeof e), r.seconds, r.read_seconds, r.commit_seconds,
                    r.seconds > 0 ? (double)r.records / r.seconds / 1e6 : 0.0);
        }
    }
    /* one line, however many: re-running `ingest` over a whole spool should not bury the new files' lines */
    if (skipped == 1)
        fprintf(stderr, "darkscope: skipped %s\n", skip_msg);
    else if (skipped > 1)
        fprintf(stderr, "darkscope: skipped %d files already in the store (same bytes); --force counts them again\n",
                skipped);
    /* the closed months' month rollups (store/rollup_months.h): a failure costs only speed */
    {
        size_t built = 0;
        double t0 = ds_now();
        ds_err_clear(&err);
        if (ds_ingest_months(in, &built, &err) != DS_OK)
            fprintf(stderr, "darkscope: warning: month rollups not built (queries read the days instead): %s\n", err.msg);
        if (built && !quiet)
            fprintf(stderr, "month rollups: %zu sensor-month%s built in %.2f s\n", built, built == 1 ? "" : "s",
                    ds_now() - t0);
    }
out:
    ds_ingest_free(in);
    ds_geo_close(geo);
    ds_config_free(&cfg);
    free(darknets);
    return status;
}

const ds_command ds_cmd_ingest = { "ingest", "read captures into the store (pcap, pcapng, gzip, zstd, stdin)",
                                   ds_cmd_ingest_run };
