/* testdir.h: one temporary directory per test, for the unit tests that write files.
 *
 * The tests that need files each made a directory under /tmp and removed it with their own copy
 * of an nftw(3) callback; this is the one copy.  Static functions in a header, because every
 * tests/unit/test_X.c is a program of its own.
 */
#ifndef DS_TESTDIR_H
#define DS_TESTDIR_H
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

/* Make the directory /tmp/NAME.XXXXXX (mkdtemp) in dir, len bytes; 0, or -1 when it fails. */
static inline int testdir_make(char *dir, size_t len, const char *name)
{
    int n = snprintf(dir, len, "/tmp/%s.XXXXXX", name);
    if (n < 0 || (size_t)n >= len)
        return -1;
    return mkdtemp(dir) ? 0 : -1;
}

static inline int testdir_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* Remove dir and everything below it; 0, or nftw's error. */
static inline int testdir_remove(const char *dir)
{
    return nftw(dir, testdir_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

#endif
