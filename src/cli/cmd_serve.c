/* cmd_serve.c: `darkscope serve`: the web dashboard (src/net/serve*.c, docs/api.md).
 *
 * As `darkscope collector`: the server runs in libmicrohttpd's threads, and this thread waits for
 * signals, blocked before the server starts so that only this thread sees them: SIGTERM/SIGINT
 * stop (requests in progress finish), SIGHUP re-reads the tokens and users files.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "net/serve.h"
#include "store/store.h"
#include "util/atomic_file.h"

static void usage(FILE *f)
{
    fprintf(f,
        "usage: darkscope serve --listen ADDR [OPTIONS]\n\n"
        "Serve the web dashboard: a read-only JSON API (/api/v1/top, series, events, coverage, sensors,\n"
        "source/ADDR; docs/api.md) and the single-page app that reads it (http://ADDR/).  Every file the\n"
        "browser loads is compiled into darkscope; nothing is fetched from elsewhere.\n\n"
        "options:\n"
        "      --listen ADDR    HOST:PORT, [IPV6]:PORT or :PORT (all IPv4 addresses); port 0 = any free one;\n"
        "                       without TLS, a loopback address only (see --insecure-plain-http)\n"
        "      --tokens FILE    readers' tokens (darkscope token new NAME --tokens FILE): every API request\n"
        "                       then needs Authorization: Bearer TOKEN; re-read when it changes and on\n"
        "                       SIGHUP.\n"
        "      --users FILE     readers' names and password hashes (darkscope user add NAME --users FILE):\n"
        "                       every API request then needs Authorization: Basic (the browser asks);\n"
        "                       over TLS or on loopback only, whatever --insecure-plain-http says.\n"
        "                       Either or both; without them the API is open to whoever reaches ADDR.\n"
        "      --tls-cert FILE  --tls-key FILE   serve HTTPS (TLS 1.2 and 1.3 only), as the collector\n"
        "      --insecure-plain-http\n"
        "                       allow plain HTTP on a non-loopback address (tokens and data in clear text;\n"
        "                       only on a trusted network)\n"
        "  -j, --threads N      requests answered at once, each with its own store handle (default 2)\n"
        "      --port-file FILE write the port bound (for --listen HOST:0)\n"
        "  -v, --verbose        one line per API request on stderr, with its server time\n"
        "      --no-cache       compute every answer (by default answers are kept until the store\n"
        "                       changes: the files of an ingest or a collector's commit; the\n"
        "                       decompressed chunks of the last periods asked about are kept either\n"
        "                       way, within --view-memory)\n"
        "      --view-memory MIB  memory for those chunks (default 2048; 0: keep none, read the store\n"
        "                       for every request, as DS_SERVE_NO_VIEWS=1 in the environment)\n"
        "  -c, --config FILE    --db PATH    as for ingest (the store, the timezone, [detect])\n"
        "  -h, --help\n");
}

static int write_port_file(const char *path, unsigned port)
{
    char text[16];
    ds_err err = { 0 };
    int n = snprintf(text, sizeof text, "%u\n", port);
    if (ds_afile_write_file(path, text, (size_t)n, 0644, DS_AFILE_NOSYNC, &err) != DS_OK) {
        fprintf(stderr, "darkscope serve: --port-file: %s\n", err.msg);
        return -1;
    }
    return 0;
}

static int serve_run(int argc, char **argv)
{
    static const struct option opts[] = {
        { "config", required_argument, NULL, 'c' }, { "db", required_argument, NULL, 'D' },
        { "listen", required_argument, NULL, 'l' }, { "tokens", required_argument, NULL, 't' },
        { "users", required_argument, NULL, 'U' },
        { "tls-cert", required_argument, NULL, 'C' }, { "tls-key", required_argument, NULL, 'K' },
        { "insecure-plain-http", no_argument, NULL, 'I' }, { "threads", required_argument, NULL, 'j' },
        { "port-file", required_argument, NULL, 'P' }, { "verbose", no_argument, NULL, 'v' },
        { "no-cache", no_argument, NULL, 'N' }, { "view-memory", required_argument, NULL, 'M' },
        { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
    };
    const char *config = NULL, *db = NULL, *port_file = NULL;
    ds_serve_opts o = { 0 };
    int c, status = 2;
    ds_config cfg;
    ds_store *st = NULL;
    ds_geo *geo = NULL;
    ds_names *names = NULL;
    ds_serve *srv = NULL;
    ds_err err = { 0 };
    sigset_t sigs;

    ds_config_init(&cfg);
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:j:vh", opts, NULL)) != -1) {
        switch (c) {
        case 'c': config = optarg; break;
        case 'D': db = optarg; break;
        case 'l': o.listen = optarg; break;
        case 't': o.tokens_path = optarg; break;
        case 'U': o.users_path = optarg; break;
        case 'C': o.tls_cert = optarg; break;
        case 'K': o.tls_key = optarg; break;
        case 'I': o.insecure_plain_http = 1; break;
        case 'P': port_file = optarg; break;
        case 'v': o.log_requests = 1; break;
        case 'N': o.no_cache = 1; break;
        case 'M': {
            uint64_t v;
            if (cli_u64("serve", "--view-memory", optarg, 0, 1u << 20, &v) != 0)
                goto out;
            o.view_mib = v;
            o.no_views = v == 0;
            break;
        }
        case 'j': {
            uint64_t v;
            if (cli_u64("serve", "--threads", optarg, 1, 64, &v) != 0)
                goto out;
            o.threads = (unsigned)v;
            break;
        }
        case 'h': usage(stdout); status = 0; goto out;
        default: usage(stderr); goto out;
        }
    }
    if (optind != argc) {
        usage(stderr);
        goto out;
    }
    if (!o.listen) {
        fprintf(stderr, "darkscope serve: --listen ADDR is required (127.0.0.1:8080, say)\n");
        goto out;
    }
    status = 1;
    /* the store's timezone for the process (days, local times), as every query command */
    if (cli_query_open(&cfg, config, db, &st, NULL, 0) != 0 || cli_open_geo(&cfg, &geo) != 0)
        goto out;
    ds_store_close(st);   /* serve opens its own handles, one per request thread */
    st = NULL;
    if (ds_names_open(&names, &err) != DS_OK) {
        fprintf(stderr, "darkscope serve: %s; event summaries name countries by code\n", err.msg);
        ds_err_clear(&err);
    }
    o.cfg = &cfg;
    o.geo = geo;
    o.names = names;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);
    if (ds_serve_start(&srv, &o, &err) != DS_OK) {
        cli_error(NULL, &err);
        goto out;
    }
    fprintf(stderr, "darkscope serve: listening on %s://%s (port %u); store %s; API %s\n",
            o.tls_cert ? "https" : "http", o.listen, ds_serve_port(srv), cfg.store_path,
            o.tokens_path && o.users_path ? "needs a bearer token or a user's password"
            : o.tokens_path ? "needs a bearer token" : o.users_path ? "needs a user's password" : "open (no --tokens or --users)");
    if (port_file && write_port_file(port_file, ds_serve_port(srv)) != 0)
        goto out;
    for (;;) {
        int sig = sigwaitinfo(&sigs, NULL);
        if (sig == SIGINT || sig == SIGTERM) {
            fprintf(stderr, "darkscope serve: %s: stopping\n", strsignal(sig));
            break;
        }
        if (sig == SIGHUP) {
            ds_err_clear(&err);
            if (ds_serve_reload_tokens(srv, &err) != DS_OK)
                fprintf(stderr, "darkscope serve: SIGHUP: %s (keeping what was loaded before)\n", err.msg);
            else
                fprintf(stderr, "darkscope serve: SIGHUP: tokens and users re-read\n");
        }
    }
    status = 0;
out:
    ds_serve_stop(srv);
    ds_names_free(names);
    ds_geo_close(geo);
    ds_store_close(st);
    ds_config_free(&cfg);
    return status;
}

const ds_command ds_cmd_serve = { "serve", "the web dashboard: a read-only JSON API and the app that reads it",
                                  serve_run };
