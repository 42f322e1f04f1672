/* fuzz_payload_ndjson.c: libFuzzer target for ds_payload_ndjson_parse(), the parser of a sensor's
 * pay-<seq>.jsonl that the collector runs on every POST /v1/payloads body (src/net/collector.c).
 *
 * The input is the body.  It is copied into a buffer of exactly its length, so AddressSanitizer
 * sees any read past the end (the collector's body has no terminating NUL either).  Then:
 *   - a refusal must be DS_EFORMAT (or DS_ENOMEM) with a message "line N: ... at byte M" whose
 *     offset M lies inside the input;
 *   - accepted rows must keep the contract of ds_payload (store.h): data inside the arena,
 *     data_len <= DS_PAYLOAD_MAX, len >= data_len, ts_ns <= INT64_MAX, addresses that are
 *     NUL-terminated, canonical text (inet_pton then inet_ntop gives them back unchanged);
 *   - round trip: the rows written out again in the sensor's own format (as record_payload in
 *     src/net/responder.c writes them) must parse to the very same rows.
 * Any violation aborts, which libFuzzer reports as a crash.
 *
 * Build: make fuzz-build (build-fuzz/fuzz_payload_ndjson); run: fuzz/run.sh 60 fuzz_payload_ndjson
 * (seeds in fuzz/seeds/fuzz_payload_ndjson/, dictionary fuzz/fuzz_payload_ndjson.dict).
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/payload_ndjson.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_addr(const char *a)
{
    uint8_t bin[16];
    char back[DS_PAYLOAD_ADDRLEN];
    if (!memchr(a, 0, DS_PAYLOAD_ADDRLEN))
        abort();
    int af = strchr(a, ':') ? AF_INET6 : AF_INET;
    if (inet_pton(af, a, bin) != 1 || !inet_ntop(af, bin, back, sizeof back) || strcmp(a, back) != 0)
        abort();   /* not canonical: the store would keep two spellings of one address */
}

static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* The rows as NDJSON, one line each, in a malloc'ed buffer (*len bytes). */
static char *write_rows(const ds_payload_file *f, size_t *len)
{
    size_t cap = 1, used = 0;
    for (size_t i = 0; i < f->n; i++)
        cap += 256 + (f->rows[i].data_len + 2) / 3 * 4;
    char *out = malloc(cap);
    if (!out)
        abort();
    for (size_t i = 0; i < f->n; i++) {
        const ds_payload *p = &f->rows[i];
        int w = snprintf(out + used, cap - used,
                         "{\"ts_ns\":%" PRIu64 ",\"src\":\"%s\",\"sport\":%u,\"dst\":\"%s\",\"dport\":%u,\"seq\":%" PRIu32
                         ",\"len\":%" PRIu32 ",\"payload_b64\":\"",
                         p->ts_ns, p->src, (unsigned)p->sport, p->dst, (unsigned)p->dport, p->tcp_seq, p->len);
        if (w < 0 || (size_t)w >= cap - used)
            abort();
        used += (size_t)w;
        for (size_t k = 0; k < p->data_len; k += 3) {
            uint32_t v = (uint32_t)p->data[k] << 16;
            size_t left = p->data_len - k;
            if (left > 1)
                v |= (uint32_t)p->data[k + 1] << 8;
            if (left > 2)
                v |= p->data[k + 2];
            out[used++] = B64[v >> 18 & 63];
            out[used++] = B64[v >> 12 & 63];
            out[used++] = left > 1 ? B64[v >> 6 & 63] : '=';
            out[used++] = left > 2 ? B64[v & 63] : '=';
        }
        out[used++] = '"';
        out[used++] = '}';
        out[used++] = '\n';
    }
    *len = used;
    return out;
}

static int same_row(const ds_payload *a, const ds_payload *b)
{
    return a->ts_ns == b->ts_ns && strcmp(a->src, b->src) == 0 && strcmp(a->dst, b->dst) == 0 &&
           a->sport == b->sport && a->dport == b->dport && a->proto == b->proto && a->tcp_seq == b->tcp_seq &&
           a->len == b->len && a->data_len == b->data_len &&
           (a->data_len == 0 || memcmp(a->data, b->data, a->data_len) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *body = malloc(size ? size : 1);
    if (!body)
        return 0;
    if (size)
        memcpy(body, data, size);
    ds_payload_file f, again;
    ds_err err = { 0 };
    ds_rc rc = ds_payload_ndjson_parse(size ? body : NULL, size, &f, &err);
    if (rc != DS_OK) {
        if (rc == DS_ENOMEM)
            goto out;
        if (rc != DS_EFORMAT || f.rows || f.n || f.arena || strncmp(err.msg, "line ", 5) != 0 ||
            !strstr(err.msg, " at byte ") || !err.has_offset || err.offset > size)
            abort();
        goto out;
    }
    if (f.n && !f.rows)
        abort();
    for (size_t i = 0; i < f.n; i++) {
        const ds_payload *p = &f.rows[i];
        if (p->data_len > DS_PAYLOAD_MAX || p->len < p->data_len || p->ts_ns > INT64_MAX || p->proto != 6)
            abort();
        if (p->data_len && (p->data < f.arena || (size_t)(p->data - f.arena) > size ||
                            p->data_len > size - (size_t)(p->data - f.arena)))
            abort();
        volatile unsigned sum = 0;
        for (size_t k = 0; k < p->data_len; k++)
            sum += p->data[k];
        (void)sum;
        check_addr(p->src);
        check_addr(p->dst);
    }
    size_t len2;
    char *text = write_rows(&f, &len2);
    if (ds_payload_ndjson_parse(text, len2, &again, &err) != DS_OK) {
        fprintf(stderr, "round trip refused: %s\n", err.msg);
        abort();
    }
    if (again.n != f.n)
        abort();
    for (size_t i = 0; i < f.n; i++)
        if (!same_row(&f.rows[i], &again.rows[i]))
            abort();
    ds_payload_file_free(&again);
    free(text);
    ds_payload_file_free(&f);
out:
    free(body);
    return 0;
}
