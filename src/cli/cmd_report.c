/* cmd_report.c: `darkscope report`: a periodic observation report from the store. */
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "analysis/cube.h"
#include "cli/cli.h"
#include "report/model.h"
#include "report/render.h"

static void usage(FILE *f)
{
    fprintf(f,
        "usage: darkscope report --period P [OPTIONS]\n\n"
        "Write a periodic observation report (the TSUBAME / @police / NICTER kind): overview, top\n"
        "destination services and source regions with the previous period's rank, per-address-per-day\n"
        "rates, changes, daily series, figures, and focus sections.\n\n"
        "options:\n"
        "      --period P        2023Q3, 2023-07, 2023, or 2023-07-01..2023-08-15 (days in the store's timezone)\n"
        "      --compare C       previous (default: the previous period of equal length) | none\n"
        "      --lang L          en (default) | ja\n"
        "      --format F        html | md | json (default: from -o's extension: .html/.htm, .md/.markdown,\n"
        "                        .json; another extension needs --format; without -o, html)\n"
        "      --top N           rows per table (default 10, at most 64)\n"
        "      --focus X         a focus section on a service (1521/tcp) or a region (JP); repeatable\n"
        "      --exclude research  leave out sources in the research-scanner lists ([detect] in the config)\n"
        "      --sensor NAME     one sensor only\n"
        "  -o, --output FILE     write here (default: standard output; Markdown figures go beside FILE,\n"
        "                        or into the current directory).  A file is replaced atomically (its\n"
        "                        mode kept); a symbolic link is followed; a device or FIFO is written\n"
        "                        through, as with >\n"
        "  -c, --config FILE    --db PATH    as for ingest\n"
        "  -h, --help\n");
}

/* The format an output file's extension names (case-insensitive), NULL for another or none. */
#define KNOWN_EXTENSIONS ".html, .htm (html), .md, .markdown (md), .json (json)"
static const char *ext_format(const char *path)
{
    const char *slash = path ? strrchr(path, '/') : NULL;
    const char *dot = path ? strrchr(slash ? slash + 1 : path, '.') : NULL;
    if (!dot)
        return NULL;
    if (!strcasecmp(dot, ".html") || !strcasecmp(dot, ".htm"))
        return "html";
    if (!strcasecmp(dot, ".md") || !strcasecmp(dot, ".markdown"))
        return "md";
    if (!strcasecmp(dot, ".json"))
        return "json";
    return NULL;
}

/* Markdown figures: directory of the output file and its base name without extension; for
 * standard output or a device or FIFO (-o /dev/null), the current directory and "report", so
 * that no /dev/null-services-daily.svg is made. */
static void fig_place(const char *out, char *dir, size_t dlen, char *prefix, size_t plen)
{
    struct stat st;
    if (!out || (stat(out, &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode))) {
        snprintf(dir, dlen, ".");
        snprintf(prefix, plen, "report");
        return;
    }
    char a[4096], b[4096];
    snprintf(a, sizeof a, "%s", out);
    snprintf(b, sizeof b, "%s", out);
    snprintf(dir, dlen, "%s", dirname(a));
    snprintf(prefix, plen, "%s", basename(b));
    char *dot = strrchr(prefix, '.');
    if (dot && dot != prefix)
        *dot = 0;
}

static int report_run(int argc, char **argv)
{
    static const struct option opts[] = {
        { "config", required_argument, NULL, 'c' }, { "db", required_argument, NULL, 'D' },
        { "period", required_argument, NULL, 'p' }, { "compare", required_argument, NULL, 'C' },
        { "lang", required_argument, NULL, 'l' }, { "format", required_argument, NULL, 'F' },
        { "top", required_argument, NULL, 'n' }, { "focus", required_argument, NULL, 'f' },
        { "exclude", required_argument, NULL, 'x' }, { "sensor", required_argument, NULL, 's' },
        { "output", required_argument, NULL, 'o' }, { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
    };
    const char *config = NULL, *db = NULL, *period = NULL, *format = NULL, *output = NULL, *sensor = NULL;
    ds_report_opts ro = { .compare = 1, .lang = DS_LANG_EN, .top = 10 };
    int c, status = 2, exclude_research = 0;
    ds_config cfg;
    ds_store *st = NULL;
    ds_geo *geo = NULL;
    ds_names *names = NULL;
    ds_u64set excluded = { 0 };
    ds_report rep;
    int have_report = 0;
    ds_out out;
    ds_err err = { 0 };
    char tz[128] = "UTC";

    ds_config_init(&cfg);
    ds_out_init(&out, 0);
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:o:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c': config = optarg; break;
        case 'D': db = optarg; break;
        case 'p': period = optarg; break;
        case 'C':
            if (!strcmp(optarg, "previous")) {
                ro.compare = 1;
            } else if (!strcmp(optarg, "none")) {
                ro.compare = 0;
            } else {
                fprintf(stderr, "darkscope report: --compare %s: use previous or none\n", optarg);
                goto out;
            }
            break;
        case 'l':
            if (!strcmp(optarg, "en")) {
                ro.lang = DS_LANG_EN;
            } else if (!strcmp(optarg, "ja")) {
                ro.lang = DS_LANG_JA;
            } else {
                fprintf(stderr, "darkscope report: --lang %s: use en or ja\n", optarg);
                goto out;
            }
            break;
        case 'F': format = optarg; break;
        case 'n': {
            uint64_t v;
            if (cli_u64("report", "--top", optarg, 1, DS_FILTER_MAX, &v) != 0)
                goto out;
            ro.top = (size_t)v;
            break;
        }
        case 'f':
            if (ro.nfocus == DS_REPORT_MAX_FOCUS) {
                fprintf(stderr, "darkscope report: at most %d --focus sections\n", DS_REPORT_MAX_FOCUS);
                goto out;
            }
            if (ds_report_focus_parse(optarg, &ro.focus[ro.nfocus].dim, &ro.focus[ro.nfocus].key, &err) != DS_OK) {
                cli_error(NULL, &err);
                goto out;
            }
            ro.nfocus++;
            break;
        case 'x':
            if (strcmp(optarg, "research") != 0) {
                fprintf(stderr, "darkscope report: --exclude %s: the only exclusion is 'research'\n", optarg);
                goto out;
            }
            exclude_research = 1;
            break;
        case 's': sensor = optarg; break;
        case 'o': output = optarg; break;
        case 'h': usage(stdout); status = 0; goto out;
        default: usage(stderr); goto out;
        }
    }
    if (optind != argc) {
        fprintf(stderr, "darkscope report: unexpected argument '%s'\n", argv[optind]);
        usage(stderr);
        goto out;
    }
    if (!period) {
        fprintf(stderr, "darkscope report: --period is required (2023Q3, 2023-07, 2023 or FROM..TO)\n");
        goto out;
    }
    if (ds_period_parse(period, &ro.period, &err) != DS_OK) {
        cli_error(NULL, &err);
        goto out;
    }
    /* An output file names its format by its extension; one that names none (q3.pdf, q3) is
     * refused rather than given HTML it does not expect, unless --format says what to write. */
    if (!format && output && !ext_format(output)) {
        fprintf(stderr, "darkscope report: -o %s: cannot tell the format from the file name; use an "
                        "extension darkscope writes (" KNOWN_EXTENSIONS ") or give --format html|md|json\n", output);
        goto out;
    }
    if (!format)
        format = output ? ext_format(output) : "html";
    if (strcmp(format, "html") && strcmp(format, "md") && strcmp(format, "json")) {
        fprintf(stderr, "darkscope report: --format %s: use html, md or json\n", format);
        goto out;
    }

    status = 1;
    if (cli_query_open(&cfg, config, db, &st, tz, sizeof tz) != 0)
        goto out;
    ro.timezone = tz;
    ro.cfg = &cfg;
    ro.sensor_silence_s = cfg.sensor_silence_s;
    if (sensor && cli_sensor_id(st, "report", sensor, &ro.sensor_id) != 0)
        goto out;
    if (cli_open_geo(&cfg, &geo) != 0)
        goto out;
    if (ds_names_open(&names, &err) != DS_OK) {
        cli_error(NULL, &err);
        goto out;
    }
    if (exclude_research || cfg.research.nlists || cfg.research.nasns) {
        ds_period prev;
        ds_period_previous(&ro.period, &prev);
        /* the previous period too: both sides of a comparison exclude alike */
        if (cli_research_sources(&cfg, st, ro.compare ? prev.from : ro.period.from, ro.period.to, &excluded) != 0)
            goto out;
        ro.research = &excluded;   /* listed as research_scanner events whenever configured */
        if (exclude_research) {
            ro.exclude = &excluded;
            ro.exclude_label = ro.lang == DS_LANG_JA ? "調査目的のスキャン" : "research scanners";
        }
    }
    if (ds_report_build(st, geo, names, &ro, &rep, &err) != DS_OK) {
        cli_error(NULL, &err);
        goto out;
    }
    have_report = 1;
    ds_rc rc;
    if (!strcmp(format, "json")) {
        rc = ds_report_render_json(&rep, &out, &err);
    } else if (!strcmp(format, "html")) {
        rc = ds_report_render_html(&rep, &out, &err);
    } else {
        char dir[4096], prefix[1024];
        fig_place(output, dir, sizeof dir, prefix, sizeof prefix);
        rc = ds_report_render_md(&rep, &out, dir, prefix, &err);
    }
    if (rc == DS_OK && output)
        rc = ds_out_write_file(&out, output, &err);
    if (rc != DS_OK) {
        cli_error(NULL, &err);
        goto out;
    }
    if (!output) {
        if (fwrite(out.p, 1, out.len, stdout) != out.len || fflush(stdout) != 0) {
            fprintf(stderr, "darkscope report: writing to standard output: %s\n", strerror(errno));
            goto out;
        }
    } else {
        fprintf(stderr, "darkscope report: wrote %s\n", output);
    }
    status = 0;
out:
    if (have_report)
        ds_report_free(&rep);
    ds_out_free(&out);
    ds_u64set_free(&excluded);
    ds_names_free(names);
    ds_geo_close(geo);
    ds_store_close(st);
    ds_config_free(&cfg);
    return status;
}

const ds_command ds_cmd_report = { "report", "write a periodic observation report (html, md, json; en, ja)",
                                   report_run };
