/* users.h: the readers of `darkscope serve` who log in with a name and a password (HTTP Basic,
 * RFC 7617), and their file, written by `darkscope user add|remove|list`.
 *
 * The file keeps a crypt(3) hash of each password, never the password, one reader a line:
 *
 *     NAME $y$j9T$SALT$HASH            yescrypt (libxcrypt's default and strongest), or
 *     NAME $6$SALT$HASH                SHA-512-crypt, as /etc/shadow keeps them
 *
 * hashed with a fresh random salt (crypt_gensalt_rn) and checked with crypt_r, the output
 * compared in constant time.  Lines starting with '#' and blank lines are ignored.  Written whole,
 * atomically, mode 0600, as the tokens file (tokens.h).  Names follow the tokens' rule
 * (util/name.h: 1 to 63 of [A-Za-z0-9._-]), so a name never holds Basic's ':'.
 */
#ifndef DS_NET_USERS_H
#define DS_NET_USERS_H
#include <stddef.h>

#include "util/result.h"

#define DS_USER_HASH_MAX 256        /* a crypt(3) string (yescrypt's is 73 bytes) */
#define DS_USER_PASSWORD_MAX 1024   /* bytes of a password */

typedef struct ds_user { char name[64]; char hash[DS_USER_HASH_MAX]; } ds_user;

typedef struct ds_users {
    ds_user *v;
    size_t n, cap;
    unsigned mode;                  /* the file's permission bits when loaded */
} ds_users;

/* Read path into u (emptied first).  missing_ok: a file that does not exist has no users. */
ds_rc ds_users_load(ds_users *u, const char *path, int missing_ok, ds_err *err);
/* Write u to path atomically, mode 0600. */
ds_rc ds_users_save(const ds_users *u, const char *path, ds_err *err);
void ds_users_free(ds_users *u);

/* Hash password (1 to DS_USER_PASSWORD_MAX bytes, no NUL) for name with a new salt: the
 * method's prefix "$y$" (yescrypt) or "$6$" (SHA-512).  replace: a user that has one gets this
 * one instead; otherwise DS_EEXIST.  An empty password is DS_EINVAL. */
ds_rc ds_users_set(ds_users *u, const char *name, const char *password, const char *method, int replace, ds_err *err);
/* Remove name: 1 when it was there. */
int ds_users_remove(ds_users *u, const char *name);
/* 1 when password is name's, else 0 (an unknown name costs a hash too). */
int ds_users_check(const ds_users *u, const char *name, const char *password);

#endif
