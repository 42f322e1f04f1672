/* cmd_synth.c: `darkscope synth`, write a synthetic darknet capture (see src/synth/synth.h).
 *
 * Sensors come from --sensor NAME=CIDR[,CIDR] (repeatable), else from the config's
 * [sensor.NAME] darknet= lines, else the two documentation networks tokyo=198.51.100.0/24 and
 * osaka=203.0.113.0/24.  When the config's [geo] country data opens, sources are drawn to match
 * a realistic country mix; without it they are uniform over public IPv4 space.  Notable
 * phenomena (spikes, a surge, new services, daily and weekly cycles, payload tools) are planted
 * unless --no-phenomena; --truth says where.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "geo/geo.h"
#include "synth/synth.h"
#include "util/timeutil.h"
#include "util/progress.h"

static void usage(FILE *f)
{
    fprintf(f,
        "usage: darkscope synth -o FILE|- [options]\n"
        "Write a synthetic darknet capture (classic pcap, records in time order).\n"
        "\n"
        "  -o, --output FILE        pcap file to write, - for standard output (required)\n"
        "      --days N             days to generate (default 92)\n"
        "      --start YYYY-MM-DD   first day, UTC (default 2023-07-01)\n"
        "      --rate N             packets per sensor per day, approximate (default 18500)\n"
        "      --sensor NAME=CIDR[,CIDR]\n"
        "                           a sensor and its dark prefixes (repeatable; IPv6 prefixes are\n"
        "                           its darknet6).  Default: [sensor.*] from the config, else\n"
        "                           tokyo=198.51.100.0/24 and osaka=203.0.113.0/24\n"
        "      --seed N             random seed; same seed, same bytes (default 1)\n"
        "      --link ether|raw     link type of the file (default ether)\n"
        "      --nsec               nanosecond timestamps (default microseconds)\n"
        "      --truth FILE.json    also write what was planted (totals, ports, countries,\n"
        "                           backscatter bursts, scanners, phenomena)\n"
        "      --no-phenomena       do not plant the notable phenomena (spikes, a surge, new\n"
        "                           services, single-source floods, a weekly cycle, SIP scanners,\n"
        "                           Slammer, Nachi); the diurnal botnet stays, on 4899/tcp from CN\n"
        "  -c, --config FILE        configuration file ([sensor.*] and [geo] are used)\n"
        "  -q, --quiet              no summary line\n"
        "  -h, --help               this help\n");
}

/* ds_geo adapter for the generator's country callback.  With ASN data loaded, an address that no
 * AS announces is refused too: real scanners, bots and DDoS victims sit in routed space, and
 * without this a tenth of the synthetic sources showed up as "AS0". */
typedef struct geo_ctx {
    const ds_geo *geo;
    int routed_only;
} geo_ctx;

static int geo_country(void *ctx, uint32_t addr, char cc[3])
{
    const geo_ctx *g = ctx;
    ds_ip ip;
    ds_geo_info info;
    ds_ip_set4(&ip, addr);
    ds_geo_lookup(g->geo, &ip, &info);
    if (!info.cc[0] || (info.cc[0] == 'Z' && info.cc[1] == 'Z'))
        return 1;
    if (g->routed_only && info.asn == 0)
        return 1;
    cc[0] = info.cc[0];
    cc[1] = info.cc[1];
    cc[2] = '\0';
    return 0;
}

/* YYYY-MM-DD -> the UTC midnight that starts it; the reason in why when it is no such day */
static int parse_date(const char *s, int64_t *out, char *why, size_t whylen)
{
    int32_t day;
    if (ds_day_parse(s, &day) != 0) {
        ds_day_explain(s, why, whylen);
        return -1;
    }
    *out = (int64_t)day * 86400;
    return 0;
}

enum { OPT_DAYS = 256, OPT_START, OPT_RATE, OPT_SENSOR, OPT_SEED, OPT_LINK, OPT_NSEC, OPT_TRUTH, OPT_NO_PHEN };

static int synth_main(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "output", required_argument, NULL, 'o' },
        { "days", required_argument, NULL, OPT_DAYS },
        { "start", required_argument, NULL, OPT_START },
        { "rate", required_argument, NULL, OPT_RATE },
        { "sensor", required_argument, NULL, OPT_SENSOR },
        { "seed", required_argument, NULL, OPT_SEED },
        { "link", required_argument, NULL, OPT_LINK },
        { "nsec", no_argument, NULL, OPT_NSEC },
        { "truth", required_argument, NULL, OPT_TRUTH },
        { "no-phenomena", no_argument, NULL, OPT_NO_PHEN },
        { "config", required_argument, NULL, 'c' },
        { "quiet", no_argument, NULL, 'q' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    ds_synth_params p;
    ds_synth_stats st;
    ds_config cfg, own;
    ds_err err;
    ds_geo *geo = NULL;
    FILE *out = NULL, *truth = NULL;
    const char *out_path = NULL, *truth_path = NULL, *config_path = NULL;
    int status = 2, quiet = 0, have_cfg = 0, c;
    uint64_t v;

    ds_synth_defaults(&p);
    ds_err_clear(&err);
    ds_config_init(&own);
    optind = 1;
    opterr = 1;
    while ((c = getopt_long(argc, argv, "o:c:qh", longopts, NULL)) != -1) {
        switch (c) {
        case 'o': out_path = optarg; break;
        case 'c': config_path = optarg; break;
        case 'q': quiet = 1; break;
        case 'h': usage(stdout); status = 0; goto out;
        case OPT_DAYS:
            if (cli_u64("synth", "--days", optarg, 1, 36500, &v) != 0)
                goto out;
            p.days = (uint32_t)v;
            break;
        case OPT_START:
            char why[96];
            if (parse_date(optarg, &p.start, why, sizeof why)) {
                fprintf(stderr, "darkscope synth: --start %s: %s\n", optarg, why);
                goto out;
            }
            break;
        case OPT_RATE: {
            double r;
            if (cli_double("synth", "--rate (packets per sensor per day)", optarg, 1, 1e8, &r) != 0)
                goto out;
            p.rate = r;
            break;
        }
        case OPT_SENSOR: {
            const char *eq = strchr(optarg, '=');
            char name[64];
            if (!eq || eq == optarg || (size_t)(eq - optarg) >= sizeof name || !eq[1]) {
                fprintf(stderr, "darkscope synth: --sensor wants NAME=CIDR[,CIDR], not '%s'\n", optarg);
                goto out;
            }
            memcpy(name, optarg, (size_t)(eq - optarg));
            name[eq - optarg] = '\0';
            if (ds_config_add_darknet(&own, name, eq + 1, &err) != DS_OK) {
                cli_error("synth", &err);
                goto out;
            }
            break;
        }
        case OPT_SEED:
            if (cli_u64("synth", "--seed", optarg, 0, UINT64_MAX, &v) != 0)
                goto out;
            p.seed = v;
            break;
        case OPT_LINK:
            if (strcmp(optarg, "ether") == 0 || strcmp(optarg, "ethernet") == 0)
                p.linktype = DS_SYNTH_LINK_ETHER;
            else if (strcmp(optarg, "raw") == 0)
                p.linktype = DS_SYNTH_LINK_RAW;
            else {
                fprintf(stderr, "darkscope synth: --link wants ether or raw, not '%s'\n", optarg);
                goto out;
            }
            break;
        case OPT_NSEC: p.nsec = 1; break;
        case OPT_TRUTH: truth_path = optarg; break;
        case OPT_NO_PHEN: p.phenomena = 0; break;
        default: usage(stderr); goto out;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "darkscope synth: unexpected argument '%s'\n", argv[optind]);
        usage(stderr);
        goto out;
    }
    if (!out_path) {
        fprintf(stderr, "darkscope synth: -o FILE (or -o - for standard output) is required\n");
        usage(stderr);
        goto out;
    }

    status = 1;
    if (cli_load_config(&cfg, config_path, NULL, NULL, 0) != 0)
        goto out;
    have_cfg = 1;
    if (own.nsensors == 0 && cfg.nsensors == 0) {
        if (ds_config_add_darknet(&own, "tokyo", "198.51.100.0/24", &err) != DS_OK ||
            ds_config_add_darknet(&own, "osaka", "203.0.113.0/24", &err) != DS_OK) {
            cli_error("synth", &err);
            goto out;
        }
    }
    if (own.nsensors) {
        p.sensors = own.sensors;
        p.nsensors = own.nsensors;
    } else {
        p.sensors = cfg.sensors;
        p.nsensors = cfg.nsensors;
    }

    geo_ctx gctx = { NULL, 0 };
    if (cfg.geo_country[0]) {
        ds_err gerr;
        ds_err_clear(&gerr);
        struct stat ast;
        const char *asn = cfg.geo_asn[0] && stat(cfg.geo_asn, &ast) == 0 ? cfg.geo_asn : NULL;
        if (ds_geo_open(&geo, cfg.geo_country, asn, &gerr) == DS_OK) {
            gctx.geo = geo;
            gctx.routed_only = asn != NULL;
            p.country_of = geo_country;
            p.country_ctx = &gctx;
        } else if (!quiet) {
            fprintf(stderr, "darkscope synth: no country data (%s); sources are uniform over public IPv4\n",
                    gerr.msg);
        }
    }

    if (strcmp(out_path, "-") == 0) {
        out = stdout;
    } else if (!(out = fopen(out_path, "wb"))) {
        fprintf(stderr, "darkscope: %s: %s\n", out_path, strerror(errno));
        goto out;
    }
    if (truth_path && !(truth = fopen(truth_path, "w"))) {
        fprintf(stderr, "darkscope: %s: %s\n", truth_path, strerror(errno));
        goto out;
    }

    double t0 = ds_now();
    if (ds_synth_run(&p, out, strcmp(out_path, "-") ? out_path : "standard output", truth, &st, &err) != DS_OK) {
        cli_error("synth", &err);
        goto out;
    }
    if (out != stdout) {
        FILE *f = out;
        out = NULL;
        if (fclose(f) != 0) {
            fprintf(stderr, "darkscope: %s: %s\n", out_path, strerror(errno));
            goto out;
        }
    }
    if (truth) {
        FILE *f = truth;
        truth = NULL;
        if (fclose(f) != 0) {
            fprintf(stderr, "darkscope: %s: %s\n", truth_path, strerror(errno));
            goto out;
        }
    }
    double dt = ds_now() - t0;
    if (!quiet)
        fprintf(stderr, "darkscope synth: %llu packets, %llu bytes (%.1f per record), %llu sources, "
                        "%zu sensors, %u days, %u phenomena -> %s in %.2f s (%.2f M packets/s)%s\n",
                (unsigned long long)st.packets, (unsigned long long)st.bytes,
                st.packets ? (double)(st.bytes - 24) / (double)st.packets : 0.0,
                (unsigned long long)st.distinct_sources, p.nsensors, p.days, st.nphen, out_path, dt,
                dt > 0 ? (double)st.packets / dt / 1e6 : 0.0,
                p.country_of ? ", country mix from geo data" : "");
    status = 0;
out:
    if (out && out != stdout)
        fclose(out);
    if (truth)
        fclose(truth);
    if (geo)
        ds_geo_close(geo);
    if (have_cfg)
        ds_config_free(&cfg);
    ds_config_free(&own);
    return status;
}

const ds_command ds_cmd_synth = {
    "synth",
    "write a synthetic darknet capture (pcap) for demos, tests and benchmarks",
    synth_main,
};
