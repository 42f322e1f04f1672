/* tokens.h: the tokens files of the collector (one token per sensor) and of `darkscope serve`
 * (one per reader of the dashboard); the same format and the same `darkscope token` command.
 *
 * A token is "dst_" and 64 hex digits (32 bytes from getrandom()).  The file keeps only a salted
 * hash of each token, one sensor a line:
 *
 *     NAME SALT_HEX SHA256_HEX        SHA-256(salt || token), salt 16 random bytes
 *
 * Lines starting with '#' and blank lines are ignored.  The file is written whole, atomically
 * (temp file, fsync, rename), mode 0600.
 */
#ifndef DS_NET_TOKENS_H
#define DS_NET_TOKENS_H
#include <stddef.h>
#include <stdint.h>

#include "util/name.h"
#include "util/result.h"

#define DS_TOKEN_PREFIX "dst_"
#define DS_TOKEN_BYTES 32
#define DS_TOKEN_LEN (4 + 2 * DS_TOKEN_BYTES)   /* without the NUL */
#define DS_TOKEN_SALT 16
#define DS_TOKEN_DIGEST 32

typedef struct ds_token_entry {
    char name[64];
    uint8_t salt[DS_TOKEN_SALT];
    uint8_t digest[DS_TOKEN_DIGEST];
} ds_token_entry;

typedef struct ds_tokens {
    ds_token_entry *v;
    size_t n, cap;
    unsigned mode;         /* the file's permission bits when loaded (warn when group/other may read) */
} ds_tokens;

typedef enum ds_token_verdict {
    DS_TOKEN_OK = 0,       /* the token is NAME's */
    DS_TOKEN_BAD,          /* no sensor has this token (or NAME is unknown and no one has it) */
    DS_TOKEN_OTHER,        /* the token is another sensor's */
} ds_token_verdict;

/* Sensor names: ds_sensor_name_ok() and ds_sensor_name_check() of util/name.h (1 to 63 of
 * [A-Za-z0-9._-], not only dots), the same rule as the configuration's. */

/* Read path into t (emptied first).  missing_ok: a file that does not exist gives no tokens. */
ds_rc ds_tokens_load(ds_tokens *t, const char *path, int missing_ok, ds_err *err);
/* Write t to path atomically, mode 0600. */
ds_rc ds_tokens_save(const ds_tokens *t, const char *path, ds_err *err);
void ds_tokens_free(ds_tokens *t);

/* A new random token, NUL-terminated, into out[DS_TOKEN_LEN + 1]. */
ds_rc ds_token_generate(char *out, size_t outlen, ds_err *err);
/* Store token's hash for name (new salt).  replace: a sensor that has one gets this one
 * instead; otherwise DS_EEXIST. */
ds_rc ds_tokens_set(ds_tokens *t, const char *name, const char *token, int replace, ds_err *err);
/* Remove name's token: 1 when there was one. */
int ds_tokens_remove(ds_tokens *t, const char *name);
/* Is token name's?  Digests are compared in constant time. */
ds_token_verdict ds_tokens_check(const ds_tokens *t, const char *name, const char *token);
/* Whose is token?  The index of the entry it matches, or -1 (`darkscope serve`: any named
 * reader's token will do).  Digests are compared in constant time, every entry hashed. */
int ds_tokens_find(const ds_tokens *t, const char *token);

#endif
