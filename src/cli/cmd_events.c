/* cmd_events.c: `darkscope events`: notable phenomena over a period. */
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "analysis/events.h"
#include "cli/cli.h"
#include "report/event_text.h"
#include "report/tables_json.h"
#include "util/textfmt.h"
#include "util/timeutil.h"

static void usage(FILE *f)
{
    char types[512];
    fprintf(f,
        "usage: darkscope events [OPTIONS]\n\n"
        "List notable phenomena with their evidence and a sentence in English and Japanese.\n"
        "Each detector, its thresholds and their sources are in docs/detection.md.\n\n"
        "options:\n"
        "      --from DAY         first day, YYYY-MM-DD (default: first day with data)\n"
        "      --to DAY           last day, inclusive (default: last day with data)\n"
        "      --type T           one of: %s (default: all)\n"
        "      --sensor NAME      one sensor only\n"
        "      --exclude research leave out the research scanners of [detect] (research_scanner\n"
        "                         events still list them)\n"
        "      --lang L           en (default) | ja: the summary the table prints (JSON has both)\n"
        "      --format F         table (default) | json\n"
        "  -c, --config FILE    --db PATH    as for ingest\n"
        "  -h, --help\n", ds_event_types_format(types, sizeof types));
}

static void print_table(const ds_events *e, const ds_event_words *w)
{
    ds_out o;
    ds_out_init(&o, 0);
    printf("%-6s %-8s %-20s %-20s %-9s %-2s %8s %10s  %s\n", "type", "tool", "start", "end", "service", "cc", "sources",
           "packets", "summary");
    for (size_t i = 0; i < e->n; i++) {
        const ds_event *v = &e->ev[i];
        char a[32], b[32], svc[32] = "-", pk[32], src[32];
        if (v->has_service)
            ds_service_format(v->service, svc, sizeof svc);
        printf("%-6s %-8s %-20s %-20s %-9s %-2s %8s %10s  %s\n", v->type, v->tool[0] ? v->tool : "-",
               ds_fmt_time_utc(v->start_ns, a, sizeof a), ds_fmt_time_utc(v->end_ns, b, sizeof b), svc,
               v->country[0] ? v->country : "-", ds_fmt_count(v->sources, src, sizeof src),
               ds_fmt_count(v->packets, pk, sizeof pk), ds_event_sentence_z(v, w, w->lang, &o));
    }
    printf("%zu event%s\n", e->n, e->n == 1 ? "" : "s");
    ds_out_free(&o);
}

static int events_run(int argc, char **argv)
{
    static const struct option opts[] = {
        { "config", required_argument, NULL, 'c' }, { "db", required_argument, NULL, 'D' },
        { "from", required_argument, NULL, 'f' }, { "to", required_argument, NULL, 't' },
        { "type", required_argument, NULL, 'T' }, { "sensor", required_argument, NULL, 's' },
        { "exclude", required_argument, NULL, 'x' }, { "lang", required_argument, NULL, 'l' },
        { "format", required_argument, NULL, 'F' }, { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
    };
    const char *config = NULL, *db = NULL, *from = NULL, *to = NULL, *sensor = NULL, *format = "table";
    ds_event_query q = { 0 };
    int c, status = 2, ja = 0, exclude_research = 0;
    ds_config cfg;
    ds_store *st = NULL;
    ds_geo *geo = NULL;
    ds_names *names = NULL;
    ds_u64set excluded = { 0 };
    ds_events ev = { 0 };
    ds_err err = { 0 };

    ds_config_init(&cfg);
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c': config = optarg; break;
        case 'D': db = optarg; break;
        case 'f': from = optarg; break;
        case 't': to = optarg; break;
        case 'T':
            if (!ds_event_type_known(optarg)) {
                char known[512];
                fprintf(stderr, "darkscope events: --type %s: this build detects %s\n", optarg,
                        ds_event_types_format(known, sizeof known));
                goto out;
            }
            q.type = optarg;
            break;
        case 's': sensor = optarg; break;
        case 'x':
            if (strcmp(optarg, "research") != 0) {
                fprintf(stderr, "darkscope events: --exclude %s: the only exclusion is 'research'\n", optarg);
                goto out;
            }
            exclude_research = 1;
            break;
        case 'l':
            if (strcmp(optarg, "en") && strcmp(optarg, "ja")) {
                fprintf(stderr, "darkscope events: --lang %s: use en or ja\n", optarg);
                goto out;
            }
            ja = !strcmp(optarg, "ja");
            break;
        case 'F': format = optarg; break;
        case 'h': usage(stdout); status = 0; goto out;
        default: usage(stderr); goto out;
        }
    }
    if (optind != argc) {
        usage(stderr);
        goto out;
    }
    if (strcmp(format, "table") && strcmp(format, "json")) {
        fprintf(stderr, "darkscope events: --format %s: use table or json\n", format);
        goto out;
    }
    if (cli_parse_days("events", from, to, &q.from, &q.to) != 0)
        goto out;
    status = 1;
    if (cli_query_open(&cfg, config, db, &st, NULL, 0) != 0)
        goto out;
    int prc = cli_query_scope(st, "events", cfg.store_path, from != NULL, to != NULL, sensor, &q.from, &q.to,
                              &q.sensor_id);
    if (prc != 0) {
        status = prc;
        goto out;
    }
    q.sensor_silence_s = cfg.sensor_silence_s;
    q.cfg = &cfg;
    /* research scanners: listed as research_scanner events whenever lists are configured, and
     * left out of every other event with --exclude research */
    int have_lists = cfg.research.nlists || cfg.research.nasns;
    if (q.type && !strcmp(q.type, "research_scanner") && !have_lists) {
        fprintf(stderr, "darkscope events: --type research_scanner needs [detect] research_lists or research_asns "
                        "in the config\n");
        goto out;
    }
    if (exclude_research || have_lists) {
        if (cli_research_sources(&cfg, st, q.from, q.to, &excluded) != 0)
            goto out;
        q.research = &excluded;
        if (exclude_research)
            q.exclude = &excluded;
    }
    if (cli_open_geo(&cfg, &geo) != 0)
        goto out;
    if (ds_events_run(st, geo, &q, &ev, &err) != DS_OK) {
        cli_error(NULL, &err);
        goto out;
    }
    /* countries by name, as the report writes them; without the names tables, by code */
    if (ds_names_open(&names, &err) != DS_OK)
        fprintf(stderr, "darkscope events: %s; countries are shown by code\n", err.msg);
    ds_event_words words = { .lang = ja ? DS_LANG_JA : DS_LANG_EN, .names = names, .geo = geo };
    if (!strcmp(format, "json"))
        ds_json_events(stdout, &ev, &words);
    else
        print_table(&ev, &words);
    status = 0;
out:
    ds_names_free(names);
    ds_events_free(&ev);
    ds_u64set_free(&excluded);
    ds_geo_close(geo);
    ds_store_close(st);
    ds_config_free(&cfg);
    return status;
}

const ds_command ds_cmd_events = { "events", "list notable phenomena (tools, scans, backscatter, spikes...) with evidence",
                                   events_run };
