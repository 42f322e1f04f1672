/* base64.c: see base64.h. */
#include "util/base64.h"

static const char ALPHABET[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t ds_base64_encode(const uint8_t *in, size_t n, char *out)
{
    char *w = out;
    for (size_t i = 0; i < n; i += 3) {
        size_t left = n - i;
        uint32_t v = (uint32_t)in[i] << 16 | (left > 1 ? (uint32_t)in[i + 1] << 8 : 0) | (left > 2 ? in[i + 2] : 0);
        *w++ = ALPHABET[v >> 18 & 63];
        *w++ = ALPHABET[v >> 12 & 63];
        *w++ = left > 1 ? ALPHABET[v >> 6 & 63] : '=';
        *w++ = left > 2 ? ALPHABET[v & 63] : '=';
    }
    return (size_t)(w - out);
}

void ds_base64_fwrite(FILE *f, const uint8_t *in, size_t n)
{
    char buf[256];   /* 192 bytes a round: whole groups, so padding only ever ends the last one */
    for (size_t i = 0; i < n; i += 192) {
        size_t chunk = n - i < 192 ? n - i : 192;
        fwrite(buf, 1, ds_base64_encode(in + i, chunk, buf), f);
    }
}

static int value_of(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? c - 'A' : c >= 'a' && c <= 'z' ? c - 'a' + 26 : c >= '0' && c <= '9' ? c - '0' + 52
         : c == '+' ? 62 : c == '/' ? 63 : -1;
}

long ds_base64_decode(const char *s, size_t len, uint8_t *out, size_t out_cap)
{
    size_t o = 0;
    if (len % 4 || len / 4 * 3 > out_cap)
        return -1;
    for (size_t i = 0; i < len; i += 4) {
        int v[4], pad = 0;
        for (int k = 0; k < 4; k++) {
            unsigned char ch = (unsigned char)s[i + k];
            if (ch == '=' && i + 4 == len && k >= 2 && (k == 3 || s[i + 3] == '=')) {
                v[k] = 0;
                pad++;
            } else if ((v[k] = value_of(ch)) < 0) {
                return -1;
            }
        }
        uint32_t w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 | (uint32_t)v[3];
        out[o++] = (uint8_t)(w >> 16);
        if (pad < 2)
            out[o++] = (uint8_t)(w >> 8);
        if (pad < 1)
            out[o++] = (uint8_t)w;
    }
    return (long)o;
}
