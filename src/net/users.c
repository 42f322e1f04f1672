/* users.c: see users.h.
 *
 * crypt_r's struct crypt_data is 32 KiB: it is allocated, not put on a request thread's stack.
 * A name that is not in the file is checked against a fixed hash all the same, so that the time
 * of an answer does not tell which names exist.
 */
#include "net/users.h"

#include <crypt.h>
#include <errno.h>
#include <nettle/memops.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util/atomic_file.h"
#include "util/name.h"
#include "util/grow.h"

#define MAX_FILE_BYTES (4u << 20)

/* A yescrypt hash of a random password nobody knows: what an unknown name is checked against. */
static const char DECOY[] = "$y$j9T$Q0ZgkZ1Y3zQ6r1oGVv7i4.$0Xc6N1XyYtJr6YbV3T2LqS4k2f2m8GkQk7Pq9Jv2rC8";

void ds_users_free(ds_users *u)
{
    free(u->v);
    memset(u, 0, sizeof *u);
}

static ds_user *find(const ds_users *u, const char *name)
{
    for (size_t i = 0; i < u->n; i++)
        if (strcmp(u->v[i].name, name) == 0)
            return &u->v[i];
    return NULL;
}

static ds_user *append(ds_users *u)
{
    return ds_grow_push((void **)&u->v, &u->n, &u->cap, sizeof *u->v, 8);
}

/* crypt(3)'s alphabet: '$', '.', '/', letters, digits (and yescrypt's none else). */
static int hash_ok(const char *h, size_t n)
{
    if (n < 4 || n >= DS_USER_HASH_MAX || h[0] != '$')
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!(h[i] == '$' || h[i] == '.' || h[i] == '/' || (h[i] >= '0' && h[i] <= '9') ||
              ((h[i] | 0x20) >= 'a' && (h[i] | 0x20) <= 'z')))
            return 0;
    return 1;
}

/* One line (no newline): blank, comment, or NAME HASH.  0 ok, -1 bad, -2 out of memory. */
static int parse_line(ds_users *u, char *p)
{
    char *save = NULL;
    p += strspn(p, " \t\r");
    if (!*p || *p == '#')
        return 0;
    char *name = strtok_r(p, " \t\r", &save), *hash = strtok_r(NULL, " \t\r", &save);
    if (!name || !hash || strtok_r(NULL, " \t\r", &save) || strlen(name) >= sizeof u->v[0].name ||
        !ds_sensor_name_ok(name) || find(u, name) || !hash_ok(hash, strlen(hash)))
        return -1;
    ds_user *e = append(u);
    if (!e)
        return -2;
    snprintf(e->name, sizeof e->name, "%s", name);
    snprintf(e->hash, sizeof e->hash, "%s", hash);
    return 0;
}

ds_rc ds_users_load(ds_users *u, const char *path, int missing_ok, ds_err *err)
{
    ds_rc rc = DS_OK;
    char *line = NULL;
    size_t cap = 0;
    u->n = 0;
    FILE *f = fopen(path, "re");
    if (!f) {
        if (errno == ENOENT && missing_ok)
            return DS_OK;
        return ds_fail(err, errno == ENOENT ? DS_ENOTFOUND : DS_EIO, "users file %s: %s", path, strerror(errno));
    }
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > (off_t)MAX_FILE_BYTES) {
        rc = ds_fail(err, DS_EFORMAT, "users file %s: not a regular file of at most %u bytes", path, MAX_FILE_BYTES);
        goto out;
    }
    u->mode = (unsigned)(st.st_mode & 07777);
    ssize_t len;
    for (int n = 1; (len = getline(&line, &cap, f)) >= 0; n++) {
        if (len && line[len - 1] == '\n')
            line[--len] = 0;
        int r = strlen(line) == (size_t)len ? parse_line(u, line) : -1;   /* a NUL inside: not text */
        if (r == -2) {
            rc = ds_fail(err, DS_ENOMEM, "out of memory");
            goto out;
        }
        if (r != 0) {
            rc = ds_fail(err, DS_EFORMAT, "users file %s:%d: expected NAME HASH (a crypt(3) hash such as $y$... made "
                         "by `darkscope user add`) with a unique name", path, n);
            goto out;
        }
    }
    if (ferror(f))
        rc = ds_fail(err, DS_EIO, "users file %s: %s", path, strerror(errno));
out:
    if (rc != DS_OK)
        u->n = 0;
    free(line);
    fclose(f);
    return rc;
}

ds_rc ds_users_save(const ds_users *u, const char *path, ds_err *err)
{
    ds_afile af;
    FILE *f = NULL;
    ds_rc rc = ds_afile_open(&af, path, 0600, DS_AFILE_EXACT_MODE, err);
    if (rc != DS_OK || (rc = ds_afile_stream(&af, &f, err)) != DS_OK) {
        ds_afile_abort(&af);
        return rc;
    }
    fprintf(f, "# darkscope serve users: NAME crypt(3)-HASH.  Made by `darkscope user`.\n");
    for (size_t i = 0; i < u->n; i++)
        fprintf(f, "%s %s\n", u->v[i].name, u->v[i].hash);
    return ds_afile_commit(&af, err);
}

ds_rc ds_users_set(ds_users *u, const char *name, const char *password, const char *method, int replace, ds_err *err)
{
    char salt[CRYPT_GENSALT_OUTPUT_SIZE];
    ds_rc rc;
    if ((rc = ds_sensor_name_check(name, err)) != DS_OK)
        return rc;
    size_t n = strlen(password);
    if (n == 0)
        return ds_fail(err, DS_EINVAL, "user %s: the password is empty", name);
    if (n > DS_USER_PASSWORD_MAX)
        return ds_fail(err, DS_EINVAL, "user %s: the password is longer than %d bytes", name, DS_USER_PASSWORD_MAX);
    if (strcmp(method, "$y$") != 0 && strcmp(method, "$6$") != 0)
        return ds_fail(err, DS_EINVAL, "hash method %s: use $y$ (yescrypt) or $6$ (SHA-512)", method);
    ds_user *e = find(u, name);
    if (e && !replace)
        return ds_fail(err, DS_EEXIST, "user %s exists (--replace changes its password)", name);
    /* rbytes NULL: libxcrypt takes the salt's random bytes from the kernel (getrandom) */
    if (!crypt_gensalt_rn(method, 0, NULL, 0, salt, sizeof salt))
        return ds_fail(err, DS_EIO, "crypt_gensalt %s: %s", method, strerror(errno));
    struct crypt_data *cd = calloc(1, sizeof *cd);
    if (!cd)
        return ds_fail(err, DS_ENOMEM, "out of memory");
    const char *h = crypt_r(password, salt, cd);
    if (!h || h[0] != '$' || !hash_ok(h, strlen(h))) {   /* "*0": libxcrypt's failure token */
        rc = ds_fail(err, DS_EIO, "crypt %s: %s", method, strerror(errno));
        goto out;
    }
    if (!e && !(e = append(u))) {
        rc = ds_fail(err, DS_ENOMEM, "out of memory");
        goto out;
    }
    snprintf(e->name, sizeof e->name, "%s", name);
    snprintf(e->hash, sizeof e->hash, "%s", h);
out:
    explicit_bzero(cd, sizeof *cd);
    free(cd);
    return rc;
}

int ds_users_remove(ds_users *u, const char *name)
{
    ds_user *e = find(u, name);
    if (!e)
        return 0;
    size_t i = (size_t)(e - u->v);
    memmove(&u->v[i], &u->v[i + 1], (u->n - i - 1) * sizeof *e);
    u->n--;
    return 1;
}

int ds_users_check(const ds_users *u, const char *name, const char *password)
{
    const ds_user *e = find(u, name);
    const char *want = e ? e->hash : DECOY;
    struct crypt_data *cd = calloc(1, sizeof *cd);
    int ok = 0;
    if (!cd)
        return 0;
    const char *h = crypt_r(password, want, cd);
    size_t n = strlen(want);
    ok = e && h && strlen(h) == n && memeql_sec(h, want, n);
    explicit_bzero(cd, sizeof *cd);
    free(cd);
    return ok;
}
