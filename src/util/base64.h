/* base64.h: RFC 4648 section 4 base64 (the standard alphabet, with padding).
 *
 * darkscope writes base64 in three places (the sensor's first-payload files, `payloads --format
 * json`, the report's SVG data: URIs) and reads it in one (the collector's payload upload).  One
 * encoder and one strict decoder serve them all.
 */
#ifndef DS_BASE64_H
#define DS_BASE64_H
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Characters that n bytes encode to (4 per started group of 3); the caller checks n against
 * overflow when n is not bounded already. */
static inline size_t ds_base64_len(size_t n) { return n / 3 * 4 + (n % 3 ? 4 : 0); }

/* Encode n bytes into out (ds_base64_len(n) characters, no NUL); returns that length. */
size_t ds_base64_encode(const uint8_t *in, size_t n, char *out);

/* Encode n bytes onto f. */
void ds_base64_fwrite(FILE *f, const uint8_t *in, size_t n);

/* Decode strictly: a length that is a multiple of 4, '=' only as the last one or two characters,
 * nothing outside the alphabet.  Writes at most len / 4 * 3 bytes to out (checked against
 * out_cap).  Returns the bytes written, or -1 when s is not such base64 or does not fit. */
long ds_base64_decode(const char *s, size_t len, uint8_t *out, size_t out_cap);

#endif
