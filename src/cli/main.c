/* main.c: `darkscope COMMAND [ARGS]`, git-style.  Each command is one file in src/cli/. */
#include <malloc.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

#ifndef DS_VERSION
#define DS_VERSION "0.1.0"
#endif

extern const ds_command ds_cmd_collector, ds_cmd_token, ds_cmd_sensor, ds_cmd_payloads;   /* src/cli/cmd_collector.c, cmd_token.c (issue #5) */
static const ds_command *const COMMANDS[] = { &ds_cmd_ingest, &ds_cmd_top, &ds_cmd_stats, &ds_cmd_synth,
                                               &ds_cmd_report, &ds_cmd_events,
                                               &ds_cmd_collector, &ds_cmd_token, &ds_cmd_sensor, &ds_cmd_payloads };
#define NCOMMANDS (sizeof COMMANDS / sizeof COMMANDS[0])

static void usage(FILE *f)
{
    fprintf(f, "usage: darkscope COMMAND [OPTIONS] [ARGS]\n\n"
               "darkscope: an Internet darknet observatory (network telescope).\n\ncommands:\n");
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(f, "  %-8s %s\n", COMMANDS[i]->name, COMMANDS[i]->summary);
    fprintf(f, "\n`darkscope COMMAND --help` describes a command.  Configuration: -c FILE, else ./darkscope.conf,\n"
               "else $DARKSCOPE_CONFIG (see docs/configuration.md).\n");
}

int main(int argc, char **argv)
{
    /* Ingest: keep large blocks (aggregation tables, record buffers) in their own mappings:
     * glibc's adaptive threshold otherwise moves them onto the heap after the first free, where
     * every doubling realloc copies the buffer into fresh pages instead of remapping it.  Queries
     * are better off with the default, which reuses freed heap memory as their tables grow. */
    if (argc > 1 && strcmp(argv[1], "ingest") == 0)
        mallopt(M_MMAP_THRESHOLD, 256 * 1024);
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        if (argc > 2 && strcmp(cmd, "help") == 0) {
            for (size_t i = 0; i < NCOMMANDS; i++)
                if (strcmp(argv[2], COMMANDS[i]->name) == 0) {
                    char *av[] = { argv[2], (char *)"--help", NULL };
                    return COMMANDS[i]->run(2, av);
                }
        }
        usage(stdout);
        return 0;
    }
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
        printf("darkscope %s\n", DS_VERSION);
        return 0;
    }
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (strcmp(cmd, COMMANDS[i]->name) == 0)
            return COMMANDS[i]->run(argc - 1, argv + 1);
    fprintf(stderr, "darkscope: '%s' is not a command (see darkscope --help)\n", cmd);
    return 2;
}
