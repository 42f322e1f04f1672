/* cmd_collector.c: `darkscope collector`: the collection center sensors upload segments to.
 *
 * The server runs in libmicrohttpd's threads and its own worker and guard threads
 * (src/net/collector*.c); this thread only waits for signals: SIGTERM/SIGINT stop (requests in
 * progress get 30 s to finish), SIGHUP re-reads the tokens file,
 * and once an hour the archive's retention is applied.  The signals are blocked before the
 * server starts, so its threads inherit the mask and only this thread sees them.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "net/collector.h"
#include "store/store.h"
#include "util/timeutil.h"

static void usage(FILE *f)
{
    fprintf(f,
        "usage: darkscope collector --listen ADDR --tokens FILE [OPTIONS]\n"
        "       darkscope collector --health [-c FILE | --db PATH] [--format json]\n\n"
        "Receive capture segments that sensors upload (POST /v1/segments, HTTP or HTTPS) and commit each\n"
        "exactly once, through the same pipeline as `darkscope ingest --sensor NAME`.  A segment sent again\n"
        "(same sensor, sequence and hash) is answered \"duplicate\"; see docs/collector.md for the protocol.\n\n"
        "options:\n"
        "      --listen ADDR    HOST:PORT, [IPV6]:PORT or :PORT (all IPv4 addresses); port 0 = any free one;\n"
        "                       without TLS, a loopback address only (see --insecure-plain-http)\n"
        "      --tokens FILE    sensor tokens (darkscope token new NAME --tokens FILE); re-read when it\n"
        "                       changes and on SIGHUP\n"
        "      --tls-cert FILE  --tls-key FILE   serve HTTPS (TLS 1.2 and 1.3 only) with this PEM certificate\n"
        "                       and key; the key file must be readable by its owner only (chmod 600)\n"
        "      --insecure-plain-http\n"
        "                       allow plain HTTP on a non-loopback address (without TLS the bearer tokens\n"
        "                       cross the network in clear text; only on a trusted network)\n"
        "      --max-segment N  largest upload in bytes, K/M/G suffixes (default 256M)\n"
        "      --max-decompressed N\n"
        "                       largest decompressed segment (default 4G); over it: 413\n"
        "      --max-ratio R    largest decompressed/compressed size ratio (default 200); over it: 413\n"
        "      --max-connections N  connections in all (default 1000)\n"
        "      --max-per-address N  connections from one client address (default 16)\n"
        "      --header-timeout S   seconds from connect to complete request headers, TLS\n"
        "                       handshake included (default 10)\n"
        "      --min-rate N     slowest upload accepted, bytes/s over every 10 s, K/M suffixes (default 4K)\n"
        "      --spool DIR      uploads in progress (default: incoming/ beside the store)\n"
        "      --archive DIR    keep committed segments as DIR/SENSOR/YYYYMMDD/SEQ-HASH.pcap.zst\n"
        "      --retention DAYS delete archived segments older than DAYS (default: keep)\n"
        "  -j, --threads N      ingest worker threads per segment (default 1)\n"
        "      --port-file FILE write the port bound (for --listen HOST:0)\n"
        "      --health         print each sensor's last upload, lag, kernel drops and spool depth; exit\n"
        "      --format F       with --health: table | json\n"
        "  -c, --config FILE    --db PATH    as for ingest (the sensors, the store, the timezone)\n"
        "  -h, --help\n");
}

/* "256M" -> bytes; 0 on success */
static int parse_size(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *s == '-')
        return -1;
    unsigned shift = 0;
    if (*end == 'K' || *end == 'k')
        shift = 10;
    else if (*end == 'M' || *end == 'm')
        shift = 20;
    else if (*end == 'G' || *end == 'g')
        shift = 30;
    if (shift)
        end++;
    if (*end || v == 0 || v > (UINT64_MAX >> shift))
        return -1;
    *out = (uint64_t)v << shift;
    return 0;
}

static int write_port_file(const char *path, unsigned port)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return -1;
    fprintf(f, "%u\n", port);
    if (fclose(f) != 0)
        return -1;
    return rename(tmp, path);
}

static int show_health(const ds_config *cfg, int json)
{
    ds_store *st = NULL;
    ds_err err = { 0 };
    char tz[128];
    int status = 1;
    if (cli_open_store(cfg, &st, tz, sizeof tz) != 0)
        return 1;
    if (ds_collector_print_health(st, stdout, json, &err) != DS_OK)
        cli_error(NULL, &err);
    else
        status = 0;
    ds_store_close(st);
    return status;
}

int ds_cmd_collector_run(int argc, char **argv);
int ds_cmd_collector_run(int argc, char **argv)
{
    static const struct option opts[] = {
        { "config", required_argument, NULL, 'c' }, { "db", required_argument, NULL, 'D' },
        { "listen", required_argument, NULL, 'l' }, { "tokens", required_argument, NULL, 't' },
        { "tls-cert", required_argument, NULL, 'C' }, { "tls-key", required_argument, NULL, 'K' },
        { "max-segment", required_argument, NULL, 'm' }, { "spool", required_argument, NULL, 'S' },
        { "archive", required_argument, NULL, 'a' }, { "retention", required_argument, NULL, 'r' },
        { "threads", required_argument, NULL, 'j' }, { "port-file", required_argument, NULL, 'P' },
        { "health", no_argument, NULL, 'H' }, { "format", required_argument, NULL, 'F' },
        { "insecure-plain-http", no_argument, NULL, 'I' }, { "max-decompressed", required_argument, NULL, 'Z' },
        { "max-ratio", required_argument, NULL, 'R' }, { "max-connections", required_argument, NULL, 'M' },
        { "max-per-address", required_argument, NULL, 'A' }, { "header-timeout", required_argument, NULL, 'T' },
        { "min-rate", required_argument, NULL, 'W' },
        { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
    };
    const char *config = NULL, *db = NULL, *port_file = NULL, *format = "table";
    ds_collector_opts o = { .max_segment = DS_COLLECTOR_MAX_SEGMENT_DEFAULT, .threads = 1 };
    int c, status = 2, health = 0;
    ds_config cfg;
    ds_geo *geo = NULL;
    ds_collector *col = NULL;
    ds_err err = { 0 };
    sigset_t sigs;

    ds_config_init(&cfg);
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:j:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c': config = optarg; break;
        case 'D': db = optarg; break;
        case 'l': o.listen = optarg; break;
        case 't': o.tokens_path = optarg; break;
        case 'C': o.tls_cert = optarg; break;
        case 'K': o.tls_key = optarg; break;
        case 'S': o.spool_dir = optarg; break;
        case 'a': o.archive_dir = optarg; break;
        case 'P': port_file = optarg; break;
        case 'H': health = 1; break;
        case 'I': o.insecure_plain_http = 1; break;
        case 'Z':
            if (parse_size(optarg, &o.max_decompressed) != 0) {
                fprintf(stderr, "darkscope collector: --max-decompressed takes a size such as 4G\n");
                goto out;
            }
            break;
        case 'W':
            if (parse_size(optarg, &o.min_rate) != 0 || o.min_rate > (1ull << 30)) {
                fprintf(stderr, "darkscope collector: --min-rate takes bytes per second such as 4K (at most 1G)\n");
                goto out;
            }
            break;
        case 'R': case 'M': case 'A': case 'T': {
            static const struct { int opt; const char *name; long lo, hi; } lim[] = {
                { 'R', "--max-ratio", 2, 1000000 }, { 'M', "--max-connections", 4, 100000 },
                { 'A', "--max-per-address", 1, 100000 }, { 'T', "--header-timeout", 1, 3600 },
            };
            size_t k = 0;
            while (lim[k].opt != c)
                k++;
            char *end;
            errno = 0;
            long v = strtol(optarg, &end, 10);
            if (errno || end == optarg || *end || v < lim[k].lo || v > lim[k].hi) {
                fprintf(stderr, "darkscope collector: %s takes %ld to %ld, not %s\n", lim[k].name, lim[k].lo,
                        lim[k].hi, optarg);
                goto out;
            }
            unsigned *dst = c == 'R' ? &o.max_ratio : c == 'M' ? &o.max_connections
                          : c == 'A' ? &o.max_per_address : &o.header_timeout;
            *dst = (unsigned)v;
            break;
        }
        case 'F': format = optarg; break;
        case 'm':
            if (parse_size(optarg, &o.max_segment) != 0) {
                fprintf(stderr, "darkscope collector: --max-segment takes a size such as 256M\n");
                goto out;
            }
            break;
        case 'r': {
            char *end;
            long v = strtol(optarg, &end, 10);
            if (*end || v < 1 || v > 36500) {
                fprintf(stderr, "darkscope collector: --retention takes 1 to 36500 days\n");
                goto out;
            }
            o.retention_days = (int)v;
            break;
        }
        case 'j': {
            char *end;
            long v = strtol(optarg, &end, 10);
            if (*end || v < 1 || v > 64) {
                fprintf(stderr, "darkscope collector: --threads takes 1 to 64\n");
                goto out;
            }
            o.threads = (int)v;
            break;
        }
        case 'h': usage(stdout); status = 0; goto out;
        default: usage(stderr); goto out;
        }
    }
    if (optind != argc || (strcmp(format, "table") && strcmp(format, "json"))) {
        usage(stderr);
        goto out;
    }
    if (!health && (!o.listen || !o.tokens_path)) {
        fprintf(stderr, "darkscope collector: --listen ADDR and --tokens FILE are required\n");
        goto out;
    }
    if (o.retention_days && !o.archive_dir) {
        fprintf(stderr, "darkscope collector: --retention applies to --archive DIR\n");
        goto out;
    }
    status = 1;
    if (cli_load_config(&cfg, config, db, NULL, 0) != 0)
        goto out;
    if (health) {
        status = show_health(&cfg, strcmp(format, "json") == 0);
        goto out;
    }
    if (ds_tz_use(cfg.timezone, &err) != DS_OK) {
        cli_error(NULL, &err);
        goto out;
    }
    if (cli_open_geo(&cfg, &geo) != 0)
        goto out;
    o.cfg = &cfg;
    o.geo = geo;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);
    if (ds_collector_start(&col, &o, &err) != DS_OK) {
        cli_error(NULL, &err);
        goto out;
    }
    fprintf(stderr, "darkscope collector: listening on %s://%s (port %u); store %s; %zu sensors configured\n",
            o.tls_cert ? "https" : "http", o.listen, ds_collector_port(col), cfg.store_path, cfg.nsensors);
    if (port_file && write_port_file(port_file, ds_collector_port(col)) != 0) {
        fprintf(stderr, "darkscope collector: --port-file %s: %s\n", port_file, strerror(errno));
        goto out;
    }
    for (;;) {
        struct timespec hour = { 3600, 0 };
        int sig = sigtimedwait(&sigs, NULL, &hour);
        if (sig == SIGINT || sig == SIGTERM) {
            fprintf(stderr, "darkscope collector: %s: finishing the uploads in progress\n", strsignal(sig));
            break;
        }
        if (sig == SIGHUP) {
            ds_err_clear(&err);
            if (ds_collector_reload_tokens(col, &err) != DS_OK)
                fprintf(stderr, "darkscope collector: SIGHUP: %s (keeping the tokens loaded before)\n", err.msg);
            else
                fprintf(stderr, "darkscope collector: SIGHUP: tokens re-read\n");
        } else if (sig < 0 && errno == EAGAIN) {
            ds_collector_housekeep(col);
        }
    }
    status = 0;
out:
    ds_collector_stop(col);
    ds_geo_close(geo);
    ds_config_free(&cfg);
    return status;
}

const ds_command ds_cmd_collector = { "collector", "receive segments from sensors over HTTP(S) and ingest each once",
                                      ds_cmd_collector_run };
