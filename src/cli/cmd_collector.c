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
#include "util/atomic_file.h"
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
        "      --spool DIR      uploads in progress (default: incoming/ beside the store; needed with a\n"
        "                       ClickHouse store)\n"
        "      --archive DIR    keep committed segments as DIR/SENSOR/YYYYMMDD/SEQ-HASH.pcap.zst\n"
        "      --retention DAYS delete archived segments older than DAYS (default: keep)\n"
        "  -j, --threads N      ingest worker threads per segment (default 1)\n"
        "      --port-file FILE write the port bound (for --listen HOST:0)\n"
        "      --health         print each sensor's last upload, lag, kernel drops and spool depth; exit\n"
        "      --format F       with --health: table | json\n"
        "  -c, --config FILE    --db PATH    as for ingest (the sensors, the store, the timezone)\n"
        "  -h, --help\n");
}

/* The port for scripts and tests (--port-file): written whole (util/atomic_file.h), without
 * fsync, as a crash makes it stale anyway. */
static int write_port_file(const char *path, unsigned port)
{
    char text[16];
    ds_err err = { 0 };
    int n = snprintf(text, sizeof text, "%u\n", port);
    if (ds_afile_write_file(path, text, (size_t)n, 0644, DS_AFILE_NOSYNC, &err) != DS_OK) {
        fprintf(stderr, "darkscope collector: --port-file: %s\n", err.msg);
        return -1;
    }
    return 0;
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
            if (cli_size("collector", "--max-decompressed", optarg, 1, UINT64_MAX, &o.max_decompressed) != 0)
                goto out;
            break;
        case 'W':
            if (cli_size("collector", "--min-rate", optarg, 1, 1ull << 30, &o.min_rate) != 0)
                goto out;
            break;
        case 'R': case 'M': case 'A': case 'T': {
            static const struct { int opt; const char *name; uint64_t lo, hi; } lim[] = {
                { 'R', "--max-ratio", 2, 1000000 }, { 'M', "--max-connections", 4, 100000 },
                { 'A', "--max-per-address", 1, 100000 }, { 'T', "--header-timeout", 1, 3600 },
            };
            size_t k = 0;
            uint64_t v;
            while (lim[k].opt != c)
                k++;
            if (cli_u64("collector", lim[k].name, optarg, lim[k].lo, lim[k].hi, &v) != 0)
                goto out;
            unsigned *dst = c == 'R' ? &o.max_ratio : c == 'M' ? &o.max_connections
                          : c == 'A' ? &o.max_per_address : &o.header_timeout;
            *dst = (unsigned)v;
            break;
        }
        case 'F': format = optarg; break;
        case 'm':
            if (cli_size("collector", "--max-segment", optarg, 1, UINT64_MAX, &o.max_segment) != 0)
                goto out;
            break;
        case 'r': {
            uint64_t v;
            if (cli_u64("collector", "--retention", optarg, 1, 36500, &v) != 0)
                goto out;
            o.retention_days = (int)v;
            break;
        }
        case 'j': {
            uint64_t v;
            if (cli_u64("collector", "--threads", optarg, 1, 64, &v) != 0)
                goto out;
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
    if (port_file && write_port_file(port_file, ds_collector_port(col)) != 0)
        goto out;
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
