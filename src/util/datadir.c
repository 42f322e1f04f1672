/* datadir.c: locate the files darkscope ships in data/.
 *
 * The tables are read at run time (not compiled in) so that an analyst can correct or extend
 * them without rebuilding, and so that their sources sit next to the data.  The search order
 * (see datadir.h) puts an explicit override first, then the repository layout relative to the
 * running binary (read from /proc/self/exe, so it does not depend on the working directory),
 * then the conventional install prefixes.  The error lists every candidate, because "file not
 * found" without the places looked is the first thing a user would have to ask about.
 */
#include "util/datadir.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef PATH_MAX
#define PATH_MAX 4096
#endif

#define MAX_CANDIDATES 5

static int is_readable_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, R_OK) == 0;
}

/* A name is relative, non-empty, and never climbs out of the data folder. */
static int name_is_safe(const char *name)
{
    if (!name || !name[0] || name[0] == '/')
        return 0;
    for (const char *p = name; *p; ) {
        const char *slash = strchr(p, '/');
        size_t len = slash ? (size_t)(slash - p) : strlen(p);
        if (len == 2 && p[0] == '.' && p[1] == '.')
            return 0;
        if (!slash)
            break;
        p = slash + 1;
    }
    return 1;
}

ds_rc ds_data_path(const char *name, char *out, size_t outlen, ds_err *err)
{
    if (!name_is_safe(name))
        return ds_fail(err, DS_EINVAL, "data file name \"%s\" must be a relative path without \"..\"",
                       name ? name : "(null)");
    if (!out || outlen == 0)
        return ds_fail(err, DS_EINVAL, "no buffer for the path of data file %s", name);

    /* A candidate longer than PATH_MAX could not be opened anyway; it is dropped. */
    char cand[MAX_CANDIDATES][PATH_MAX + 16];
    int ncand = 0;
#define ADD_CANDIDATE(...)                                                                    \
    do {                                                                                      \
        int w_ = snprintf(cand[ncand], sizeof cand[ncand], __VA_ARGS__);                      \
        if (w_ > 0 && (size_t)w_ < PATH_MAX)                                                  \
            ncand++;                                                                          \
    } while (0)

    const char *env = getenv("DARKSCOPE_DATA_DIR");
    if (env && env[0])
        ADD_CANDIDATE("%s/%s", env, name);

    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = '\0';   /* exe now names the binary's directory */
            ADD_CANDIDATE("%s/../data/%s", exe, name);
            ADD_CANDIDATE("%s/../../data/%s", exe, name);
        }
    }
    ADD_CANDIDATE("/usr/local/share/darkscope/%s", name);
    ADD_CANDIDATE("/usr/share/darkscope/%s", name);
#undef ADD_CANDIDATE

    for (int i = 0; i < ncand; i++) {
        if (!is_readable_file(cand[i]))
            continue;
        size_t len = strlen(cand[i]);
        if (len >= outlen)
            return ds_fail(err, DS_EINVAL, "path of data file %s is %zu bytes, longer than the %zu-byte buffer",
                           name, len, outlen - 1);
        memcpy(out, cand[i], len + 1);
        return DS_OK;
    }

    /* List every place looked, shortening if the message buffer runs out. */
    char tried[sizeof err->msg];
    size_t used = 0;
    tried[0] = '\0';
    for (int i = 0; i < ncand && used < sizeof tried; i++) {
        int w = snprintf(tried + used, sizeof tried - used, "%s%s", i ? ", " : "", cand[i]);
        if (w < 0)
            break;
        used += (size_t)w;
    }
    return ds_fail(err, DS_ENOTFOUND,
                   "data file %s not found (set DARKSCOPE_DATA_DIR to the repository's data/ folder); tried: %s",
                   name, tried);
}
