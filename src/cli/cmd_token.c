/* cmd_token.c: `darkscope token new|revoke|list`: the collector's sensor tokens.
 *
 * `new` prints the token once, on stdout, and keeps only its salted hash (net/tokens.h): a lost
 * token cannot be shown again, only replaced (--replace).  The running collector notices the
 * changed file by itself.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "net/tokens.h"

static void usage(FILE *f)
{
    fprintf(f,
        "usage: darkscope token new NAME --tokens FILE [--replace]\n"
        "       darkscope token revoke NAME --tokens FILE\n"
        "       darkscope token list --tokens FILE\n\n"
        "Sensor tokens for `darkscope collector` (or readers' tokens for `darkscope serve`, NAME a reader).  `new` prints a new token for sensor NAME (give it to\n"
        "that sensor in the file its `darkscope sensor --token FILE` reads) and stores only a salted\n"
        "SHA-256 of it in FILE (written mode 0600).  NAME is 1-63 of A-Z a-z 0-9 . _ -, not only dots.\n"
        "It is not checked against a configuration: the collector takes uploads only from sensors that\n"
        "also have a [sensor.NAME] section in its config, and warns at start about tokens without one.\n\n"
        "options:\n"
        "      --tokens FILE    the collector's tokens file\n"
        "      --replace        new: replace the token NAME has (the old one stops working)\n"
        "  -h, --help\n");
}

int ds_cmd_token_run(int argc, char **argv);
int ds_cmd_token_run(int argc, char **argv)
{
    static const struct option opts[] = {
        { "tokens", required_argument, NULL, 't' }, { "replace", no_argument, NULL, 'R' },
        { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
    };
    const char *path = NULL;
    int c, replace = 0, status = 2;
    ds_tokens t = { 0 };
    ds_err err = { 0 };
    char token[DS_TOKEN_LEN + 1] = "";

    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 't': path = optarg; break;
        case 'R': replace = 1; break;
        case 'h': usage(stdout); status = 0; goto out;
        default: usage(stderr); goto out;
        }
    }
    const char *verb = optind < argc ? argv[optind] : NULL;
    const char *name = optind + 1 < argc ? argv[optind + 1] : NULL;
    int want_name = verb && (strcmp(verb, "new") == 0 || strcmp(verb, "revoke") == 0);
    if (!verb || !path || (want_name ? (!name || optind + 2 != argc) : (strcmp(verb, "list") != 0 || optind + 1 != argc))) {
        usage(stderr);
        goto out;
    }
    status = 1;
    if (ds_tokens_load(&t, path, strcmp(verb, "new") == 0, &err) != DS_OK) {
        cli_error(NULL, &err);
        goto out;
    }
    if (strcmp(verb, "list") == 0) {
        for (size_t i = 0; i < t.n; i++)
            printf("%s\n", t.v[i].name);
        status = 0;
        goto out;
    }
    if (strcmp(verb, "revoke") == 0) {
        if (!ds_tokens_remove(&t, name)) {
            fprintf(stderr, "darkscope token: %s: no token for sensor %s\n", path, name);
            goto out;
        }
    } else {
        if (ds_token_generate(token, sizeof token, &err) != DS_OK ||
            ds_tokens_set(&t, name, token, replace, &err) != DS_OK) {
            cli_error(NULL, &err);
            goto out;
        }
    }
    if (ds_tokens_save(&t, path, &err) != DS_OK) {
        cli_error(NULL, &err);
        goto out;
    }
    if (token[0]) {
        printf("%s\n", token);
        fprintf(stderr, "darkscope token: sensor %s: token stored (hashed) in %s; it is shown only now\n", name, path);
    } else {
        fprintf(stderr, "darkscope token: sensor %s: token revoked\n", name);
    }
    status = 0;
out:
    memset(token, 0, sizeof token);
    ds_tokens_free(&t);
    return status;
}

const ds_command ds_cmd_token = { "token", "issue or revoke sensor tokens for the collector", ds_cmd_token_run };
