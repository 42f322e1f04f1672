/* tokens.c: the collector's sensor tokens file (format in tokens.h).
 *
 * Why a salted SHA-256 and not a password hash (bcrypt, Argon2): a token is 256 random bits,
 * not something a person chose, so there is no dictionary to slow down; one hash per check is
 * enough and keeps a check at microseconds.  The salt makes equal tokens hash differently and
 * rules out precomputed tables.
 *
 * Why nettle for SHA-256: libmicrohttpd's TLS is GnuTLS, which is built on nettle, so nettle is
 * already loaded by every collector; OpenSSL's libcrypto or libgcrypt would add a second crypto
 * library for one hash.  Digests are compared with nettle's memeql_sec (constant time), and a
 * check hashes against every entry whatever the first one says, so the time does not tell
 * whether a name exists either.
 *
 * Randomness: getrandom(2), which blocks only until the kernel's pool is first seeded.
 */
#include "net/tokens.h"
#include "util/atomic_file.h"
#include "util/grow.h"

#include <errno.h>
#include <fcntl.h>
#include <nettle/memops.h>
#include <nettle/sha2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_FILE_BYTES (4u << 20)

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Exactly 2*n hex digits in [s, s+len) -> out[n]; 0 on success. */
static int unhex(const char *s, size_t len, uint8_t *out, size_t n)
{
    if (len != 2 * n)
        return -1;
    for (size_t i = 0; i < n; i++) {
        int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return 0;
}

static void tohex(const uint8_t *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = 0;
}

static ds_rc random_bytes(uint8_t *buf, size_t n, ds_err *err)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = getrandom(buf + got, n - got, 0);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return ds_fail(err, DS_EIO, "getrandom: %s", strerror(errno));
        }
        got += (size_t)r;
    }
    return DS_OK;
}

static void token_digest(const uint8_t salt[DS_TOKEN_SALT], const char *token, uint8_t out[DS_TOKEN_DIGEST])
{
    struct sha256_ctx c;
    sha256_init(&c);
    sha256_update(&c, DS_TOKEN_SALT, salt);
    sha256_update(&c, strlen(token), (const uint8_t *)token);
    sha256_digest(&c, DS_TOKEN_DIGEST, out);
}

void ds_tokens_free(ds_tokens *t)
{
    if (!t)
        return;
    /* the digests are not secrets, but there is no reason to leave them in freed memory */
    if (t->v)
        memset(t->v, 0, t->cap * sizeof *t->v);
    free(t->v);
    memset(t, 0, sizeof *t);
}

static ds_token_entry *find(const ds_tokens *t, const char *name)
{
    for (size_t i = 0; i < t->n; i++)
        if (strcmp(t->v[i].name, name) == 0)
            return &t->v[i];
    return NULL;
}

static ds_token_entry *append(ds_tokens *t)
{
    return ds_grow_push((void **)&t->v, &t->n, &t->cap, sizeof *t->v, 8);
}

/* One line [p, end) (no newline): blank, comment, or NAME SALT DIGEST.  0 ok, -1 bad. */
static int parse_line(ds_tokens *t, const char *p, const char *end, int *added)
{
    const char *field[3];
    size_t flen[3];
    int nf = 0;
    *added = 0;
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\r'))
        p++;
    if (p == end || *p == '#')
        return 0;
    while (p < end) {
        if (nf == 3)
            return -1;
        field[nf] = p;
        while (p < end && *p != ' ' && *p != '\t' && *p != '\r')
            p++;
        flen[nf] = (size_t)(p - field[nf]);
        nf++;
        while (p < end && (*p == ' ' || *p == '\t' || *p == '\r'))
            p++;
    }
    if (nf != 3 || flen[0] >= sizeof t->v[0].name)
        return -1;
    char name[64];
    memcpy(name, field[0], flen[0]);
    name[flen[0]] = 0;
    if (!ds_sensor_name_ok(name) || find(t, name))
        return -1;
    ds_token_entry e;
    memcpy(e.name, name, sizeof name);
    if (unhex(field[1], flen[1], e.salt, sizeof e.salt) != 0 || unhex(field[2], flen[2], e.digest, sizeof e.digest) != 0)
        return -1;
    ds_token_entry *slot = append(t);
    if (!slot)
        return -2;
    *slot = e;
    *added = 1;
    return 0;
}

ds_rc ds_tokens_load(ds_tokens *t, const char *path, int missing_ok, ds_err *err)
{
    ds_rc rc = DS_OK;
    char *buf = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    t->n = 0;
    if (fd < 0) {
        if (errno == ENOENT && missing_ok)
            return DS_OK;
        return ds_fail(err, errno == ENOENT ? DS_ENOTFOUND : DS_EIO, "tokens file %s: %s", path, strerror(errno));
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        rc = ds_fail(err, DS_EIO, "tokens file %s: %s", path, strerror(errno));
        goto out;
    }
    if (!S_ISREG(st.st_mode) || st.st_size < 0 || (uint64_t)st.st_size > MAX_FILE_BYTES) {
        rc = ds_fail(err, DS_EFORMAT, "tokens file %s: not a regular file of at most %u bytes", path, MAX_FILE_BYTES);
        goto out;
    }
    t->mode = (unsigned)(st.st_mode & 07777);
    size_t size = (size_t)st.st_size, got = 0;
    if (!(buf = malloc(size + 1))) {
        rc = ds_fail(err, DS_ENOMEM, "out of memory");
        goto out;
    }
    while (got < size) {
        ssize_t r = read(fd, buf + got, size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            rc = ds_fail(err, DS_EIO, "tokens file %s: %s", path, strerror(errno));
            goto out;
        }
        if (r == 0)
            break;
        got += (size_t)r;
    }
    const char *p = buf, *end = buf + got;
    for (int line = 1; p < end; line++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *eol = nl ? nl : end;
        int added;
        int r = parse_line(t, p, eol, &added);
        if (r == -2) {
            rc = ds_fail(err, DS_ENOMEM, "out of memory");
            goto out;
        }
        if (r != 0) {
            rc = ds_fail_at(err, DS_EFORMAT, (uint64_t)(p - buf),
                            "tokens file %s:%d: expected NAME SALT_HEX(32) SHA256_HEX(64) with a unique sensor name", path,
                            line);
            goto out;
        }
        p = nl ? nl + 1 : end;
    }
out:
    if (rc != DS_OK)
        t->n = 0;
    free(buf);
    close(fd);
    return rc;
}

ds_rc ds_tokens_save(const ds_tokens *t, const char *path, ds_err *err)
{
    ds_afile af;
    FILE *f = NULL;
    ds_rc rc = ds_afile_open(&af, path, 0600, DS_AFILE_EXACT_MODE, err);
    if (rc != DS_OK || (rc = ds_afile_stream(&af, &f, err)) != DS_OK) {
        ds_afile_abort(&af);
        return rc;
    }
    fprintf(f, "# darkscope sensor tokens: NAME SALT SHA-256(salt || token).  Made by `darkscope token`.\n");
    for (size_t i = 0; i < t->n; i++) {
        char salt[2 * DS_TOKEN_SALT + 1], dig[2 * DS_TOKEN_DIGEST + 1];
        tohex(t->v[i].salt, DS_TOKEN_SALT, salt);
        tohex(t->v[i].digest, DS_TOKEN_DIGEST, dig);
        fprintf(f, "%s %s %s\n", t->v[i].name, salt, dig);
    }
    return ds_afile_commit(&af, err);   /* checks the stream's errors, fsync, rename, fsync(dir) */
}

ds_rc ds_token_generate(char *out, size_t outlen, ds_err *err)
{
    uint8_t raw[DS_TOKEN_BYTES];
    if (outlen < DS_TOKEN_LEN + 1)
        return ds_fail(err, DS_EINVAL, "token buffer too small");
    ds_rc rc = random_bytes(raw, sizeof raw, err);
    if (rc != DS_OK)
        return rc;
    memcpy(out, DS_TOKEN_PREFIX, 4);
    tohex(raw, sizeof raw, out + 4);
    memset(raw, 0, sizeof raw);
    return DS_OK;
}

ds_rc ds_tokens_set(ds_tokens *t, const char *name, const char *token, int replace, ds_err *err)
{
    if (ds_sensor_name_check(name, err) != DS_OK)
        return DS_EINVAL;
    ds_token_entry fresh = { 0 }, *e = find(t, name);
    if (e && !replace)
        return ds_fail(err, DS_EEXIST, "sensor %s already has a token (use --replace to issue a new one)", name);
    snprintf(fresh.name, sizeof fresh.name, "%s", name);
    ds_rc rc = random_bytes(fresh.salt, sizeof fresh.salt, err);
    if (rc != DS_OK)
        return rc;
    token_digest(fresh.salt, token, fresh.digest);
    if (!e && !(e = append(t)))
        return ds_fail(err, DS_ENOMEM, "out of memory");
    *e = fresh;
    return DS_OK;
}

int ds_tokens_remove(ds_tokens *t, const char *name)
{
    ds_token_entry *e = find(t, name);
    if (!e)
        return 0;
    size_t i = (size_t)(e - t->v);
    memmove(&t->v[i], &t->v[i + 1], (t->n - i - 1) * sizeof *t->v);
    t->n--;
    return 1;
}

ds_token_verdict ds_tokens_check(const ds_tokens *t, const char *name, const char *token)
{
    /* Well-formed tokens only: fixed length keeps the hashing time independent of the input. */
    size_t len = strnlen(token, DS_TOKEN_LEN + 1);
    if (len != DS_TOKEN_LEN || memcmp(token, DS_TOKEN_PREFIX, 4) != 0)
        return DS_TOKEN_BAD;
    int own = 0, other = 0;
    for (size_t i = 0; i < t->n; i++) {
        uint8_t d[DS_TOKEN_DIGEST];
        token_digest(t->v[i].salt, token, d);
        int eq = memeql_sec(d, t->v[i].digest, sizeof d);
        if (strcmp(t->v[i].name, name) == 0)
            own |= eq;
        else
            other |= eq;
    }
    return own ? DS_TOKEN_OK : other ? DS_TOKEN_OTHER : DS_TOKEN_BAD;
}

int ds_tokens_find(const ds_tokens *t, const char *token)
{
    size_t len = strnlen(token, DS_TOKEN_LEN + 1);
    int found = -1;
    if (len != DS_TOKEN_LEN || memcmp(token, DS_TOKEN_PREFIX, 4) != 0)
        return -1;
    for (size_t i = 0; i < t->n; i++) {   /* every entry hashed: the time says nothing of which */
        uint8_t d[DS_TOKEN_DIGEST];
        token_digest(t->v[i].salt, token, d);
        if (memeql_sec(d, t->v[i].digest, sizeof d) && found < 0)
            found = (int)i;
    }
    return found;
}
