/* cmd_user.c: `darkscope user add|remove|list`: the readers of `darkscope serve --users FILE`
 * who log in with a name and a password (net/users.h).
 *
 * The password is read from the terminal, twice and not echoed (termios), or else as the first
 * line of standard input (`printf '%s\n' "$PW" | darkscope user add alice --users FILE`), never
 * from the command line, where ps(1) and the shell's history would show it.  Only its crypt(3)
 * hash is written, yescrypt unless --method sha512.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "cli/cli.h"
#include "net/users.h"

static void usage(FILE *f)
{
    fprintf(f,
        "usage: darkscope user add NAME --users FILE [--replace] [--method yescrypt|sha512]\n"
        "       darkscope user remove NAME --users FILE\n"
        "       darkscope user list --users FILE\n\n"
        "Readers of `darkscope serve --users FILE` who log in with a name and a password (HTTP Basic,\n"
        "over TLS or on loopback only).  `add` reads the password from the terminal (twice, not\n"
        "echoed) or else the first line of standard input, and stores only its crypt(3) hash with a\n"
        "random salt in FILE (written mode 0600).  NAME is 1-63 of A-Z a-z 0-9 . _ -, not only dots.\n"
        "A running serve notices the changed file by itself.\n\n"
        "options:\n"
        "      --users FILE     the users file\n"
        "      --replace        add: change the password of a user that exists\n"
        "      --method M       add: yescrypt ($y$, the default) or sha512 ($6$)\n"
        "  -h, --help\n");
}

/* One line of fd 0 into buf (the newline, and a CR before it, dropped): 0, -1 at EOF or when the
 * line is too long. */
static int read_line(char *buf, size_t len)
{
    if (!fgets(buf, (int)len, stdin))
        return -1;
    size_t n = strlen(buf);
    if (n && buf[n - 1] == '\n')
        buf[--n] = 0;
    else if (n == len - 1)
        return -1;   /* no newline in len - 1 bytes: too long */
    if (n && buf[n - 1] == '\r')
        buf[--n] = 0;
    return 0;
}

/* Prompt on stderr with echo off (when stdin is a terminal). */
static int read_secret(const char *prompt, char *buf, size_t len)
{
    struct termios old, quiet;
    int tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &old) == 0;
    if (tty) {
        fprintf(stderr, "%s", prompt);
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    }
    int r = read_line(buf, len);
    if (tty) {
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
        fprintf(stderr, "\n");
    }
    return r;
}

int ds_cmd_user_run(int argc, char **argv);
int ds_cmd_user_run(int argc, char **argv)
{
    static const struct option opts[] = {
        { "users", required_argument, NULL, 'u' }, { "replace", no_argument, NULL, 'R' },
        { "method", required_argument, NULL, 'm' }, { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
    };
    const char *path = NULL, *method = "$y$";
    int c, replace = 0, status = 2;
    ds_users u = { 0 };
    ds_err err = { 0 };
    char pw[DS_USER_PASSWORD_MAX + 2] = "", again[DS_USER_PASSWORD_MAX + 2] = "";

    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'u': path = optarg; break;
        case 'R': replace = 1; break;
        case 'm':
            if (strcmp(optarg, "yescrypt") == 0)
                method = "$y$";
            else if (strcmp(optarg, "sha512") == 0)
                method = "$6$";
            else {
                fprintf(stderr, "darkscope user: --method %s: use yescrypt or sha512\n", optarg);
                goto out;
            }
            break;
        case 'h': usage(stdout); status = 0; goto out;
        default: usage(stderr); goto out;
        }
    }
    const char *verb = optind < argc ? argv[optind] : NULL;
    const char *name = optind + 1 < argc ? argv[optind + 1] : NULL;
    int want_name = verb && (strcmp(verb, "add") == 0 || strcmp(verb, "remove") == 0);
    if (!verb || !path || (want_name ? (!name || optind + 2 != argc) : (strcmp(verb, "list") != 0 || optind + 1 != argc))) {
        usage(stderr);
        goto out;
    }
    status = 1;
    if (ds_users_load(&u, path, strcmp(verb, "add") == 0, &err) != DS_OK) {
        cli_error(NULL, &err);
        goto out;
    }
    if (strcmp(verb, "list") == 0) {
        for (size_t i = 0; i < u.n; i++)
            printf("%s\n", u.v[i].name);
        status = 0;
        goto out;
    }
    if (strcmp(verb, "remove") == 0) {
        if (!ds_users_remove(&u, name)) {
            fprintf(stderr, "darkscope user: %s: no user %s\n", path, name);
            goto out;
        }
    } else {
        int tty = isatty(STDIN_FILENO);
        if (read_secret("Password: ", pw, sizeof pw) != 0) {
            fprintf(stderr, "darkscope user: no password read (a line of at most %d bytes on standard input)\n",
                    DS_USER_PASSWORD_MAX);
            goto out;
        }
        if (tty && (read_secret("Again: ", again, sizeof again) != 0 || strcmp(pw, again) != 0)) {
            fprintf(stderr, "darkscope user: the passwords differ\n");
            goto out;
        }
        if (ds_users_set(&u, name, pw, method, replace, &err) != DS_OK) {
            cli_error(NULL, &err);
            goto out;
        }
    }
    if (ds_users_save(&u, path, &err) != DS_OK) {
        cli_error(NULL, &err);
        goto out;
    }
    fprintf(stderr, "darkscope user: %s %s in %s\n", name, strcmp(verb, "add") == 0 ? "stored (its password hashed)" : "removed",
            path);
    status = 0;
out:
    explicit_bzero(pw, sizeof pw);
    explicit_bzero(again, sizeof again);
    ds_users_free(&u);
    return status;
}

const ds_command ds_cmd_user = { "user", "add or remove the dashboard's users (serve --users)", ds_cmd_user_run };
