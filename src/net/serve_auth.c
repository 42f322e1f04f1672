/* serve_auth.c: who may read the API of `darkscope serve` (serve_int.h).
 *
 * Two kinds of reader, each optional, both allowed at once:
 *   - a bearer token (RFC 6750 section 2.1) of --tokens FILE (net/tokens.h), salted SHA-256,
 *     cheap to check on every request;
 *   - a name and password over HTTP Basic (RFC 7617) of --users FILE (net/users.h), a crypt(3)
 *     hash (yescrypt: tens of milliseconds and megabytes by design).  A dashboard asks a dozen
 *     answers a view, so a credential that passed is remembered for AUTH_TTL_S seconds: as a
 *     SHA-256 of a per-process random key and the header (never the password), compared in
 *     constant time, and forgotten whenever the users file is re-read.
 * Both files are re-read when their mtime moves (`darkscope token|user` while serve runs) and
 * on SIGHUP; a file that fails to load keeps what was loaded before, and says so.
 */
#include <nettle/memops.h>
#include <nettle/sha2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>

#include "net/serve_int.h"
#include "util/base64.h"

#define AUTH_TTL_S 300

static int same_mtime(const struct timespec *a, const struct timespec *b)
{
    return a->tv_sec == b->tv_sec && a->tv_nsec == b->tv_nsec;
}

ds_rc ds_serve_auth_init(ds_serve_auth *a, const char *tokens_path, const char *users_path, ds_err *err)
{
    memset(a, 0, sizeof *a);
    pthread_mutex_init(&a->mu, NULL);
    a->tokens_path = tokens_path;
    a->users_path = users_path;
    if (getrandom(a->key, sizeof a->key, 0) != (ssize_t)sizeof a->key)
        return ds_fail(err, DS_EIO, "getrandom: no random bytes for the login cache");
    return ds_serve_auth_reload(a, err);
}

void ds_serve_auth_free(ds_serve_auth *a)
{
    ds_tokens_free(&a->tokens);
    ds_users_free(&a->users);
    explicit_bzero(a->key, sizeof a->key);
    pthread_mutex_destroy(&a->mu);
}

/* Under a->mu.  which: 1 tokens, 2 users, 3 both; force: whatever the mtime. */
static ds_rc reload_locked(ds_serve_auth *a, int which, int force, ds_err *err)
{
    struct stat st;
    if ((which & 1) && a->tokens_path && stat(a->tokens_path, &st) == 0 && (force || !same_mtime(&st.st_mtim, &a->tokens_mtime))) {
        ds_tokens fresh = { 0 };
        a->tokens_mtime = st.st_mtim;
        ds_rc rc = ds_tokens_load(&fresh, a->tokens_path, 0, err);
        if (rc != DS_OK) {
            ds_tokens_free(&fresh);
            return rc;
        }
        ds_tokens_free(&a->tokens);
        a->tokens = fresh;
    } else if ((which & 1) && a->tokens_path && force) {   /* stat failed: say why */
        ds_tokens tmp = { 0 };
        ds_rc rc = ds_tokens_load(&tmp, a->tokens_path, 0, err);
        ds_tokens_free(&tmp);
        return rc;
    }
    if ((which & 2) && a->users_path && stat(a->users_path, &st) == 0 && (force || !same_mtime(&st.st_mtim, &a->users_mtime))) {
        ds_users fresh = { 0 };
        a->users_mtime = st.st_mtim;
        ds_rc rc = ds_users_load(&fresh, a->users_path, 0, err);
        if (rc != DS_OK) {
            ds_users_free(&fresh);
            return rc;
        }
        ds_users_free(&a->users);
        a->users = fresh;
        memset(a->passed, 0, sizeof a->passed);   /* a changed or removed password stops working */
    } else if ((which & 2) && a->users_path && force) {
        ds_users tmp = { 0 };
        ds_rc rc = ds_users_load(&tmp, a->users_path, 0, err);
        ds_users_free(&tmp);
        return rc;
    }
    return DS_OK;
}

ds_rc ds_serve_auth_reload(ds_serve_auth *a, ds_err *err)
{
    pthread_mutex_lock(&a->mu);
    ds_rc rc = reload_locked(a, 3, 1, err);
    pthread_mutex_unlock(&a->mu);
    return rc;
}

static void refresh(ds_serve_auth *a, int which)
{
    ds_err err = { 0 };
    if (reload_locked(a, which, 0, &err) != DS_OK)
        fprintf(stderr, "darkscope serve: %s (keeping what was loaded before)\n", err.msg);
}

static void header_digest(const ds_serve_auth *a, const char *h, uint8_t out[32])
{
    struct sha256_ctx c;
    sha256_init(&c);
    sha256_update(&c, sizeof a->key, a->key);
    sha256_update(&c, strlen(h), (const uint8_t *)h);
    sha256_digest(&c, 32, out);
}

/* "Basic base64(NAME:PASSWORD)" (the scheme checked by the caller). */
static int basic_ok(ds_serve_auth *a, const char *b64, const char *header)
{
    uint8_t dig[32], raw[DS_USER_PASSWORD_MAX + 80];
    time_t now = time(NULL);
    int ok = 0;
    size_t n = strlen(b64);
    while (n && b64[n - 1] == ' ')
        n--;
    header_digest(a, header, dig);
    pthread_mutex_lock(&a->mu);
    refresh(a, 2);
    for (size_t i = 0; i < DS_SERVE_AUTH_CACHE; i++)
        if (a->passed[i].until > now && memeql_sec(a->passed[i].digest, dig, sizeof dig))
            ok = 1;
    pthread_mutex_unlock(&a->mu);
    if (ok)
        return 1;
    long len = ds_base64_decode(b64, n, raw, sizeof raw - 1);
    if (len <= 0)
        return 0;
    raw[len] = 0;
    char *colon = memchr(raw, ':', (size_t)len);
    if (!colon || strlen((char *)raw) != (size_t)len)   /* no user-id, or a NUL inside */
        goto out;
    *colon = 0;
    /* the check runs unlocked (it takes long): on a copy of the entry it needs */
    pthread_mutex_lock(&a->mu);
    ds_users one = { 0 };
    ds_user entry;
    for (size_t i = 0; i < a->users.n; i++)
        if (!strcmp(a->users.v[i].name, (char *)raw)) {
            entry = a->users.v[i];
            one.v = &entry;
            one.n = 1;
        }
    pthread_mutex_unlock(&a->mu);
    ok = ds_users_check(&one, (char *)raw, colon + 1);
    if (ok) {
        pthread_mutex_lock(&a->mu);
        size_t slot = 0;
        for (size_t i = 1; i < DS_SERVE_AUTH_CACHE; i++)   /* the slot that expires first */
            if (a->passed[i].until < a->passed[slot].until)
                slot = i;
        memcpy(a->passed[slot].digest, dig, sizeof dig);
        a->passed[slot].until = now + AUTH_TTL_S;
        pthread_mutex_unlock(&a->mu);
    }
out:
    explicit_bzero(raw, sizeof raw);
    return ok;
}

int ds_serve_auth_check(ds_serve_auth *a, const char *header)
{
    if (!header)
        return 0;
    /* the scheme in any case (RFC 9110 section 11.1), one space, the credentials */
    if (a->tokens_path && strncasecmp(header, "Bearer ", 7) == 0) {
        const char *tok = header + 7;
        while (*tok == ' ')
            tok++;
        pthread_mutex_lock(&a->mu);
        refresh(a, 1);
        int who = ds_tokens_find(&a->tokens, tok);
        pthread_mutex_unlock(&a->mu);
        return who >= 0;
    }
    if (a->users_path && strncasecmp(header, "Basic ", 6) == 0) {
        const char *b = header + 6;
        while (*b == ' ')
            b++;
        return basic_ok(a, b, header);
    }
    return 0;
}
