/* payloads_json.c: `darkscope payloads --format json`, for the CLI and the API of
 * `darkscope serve` alike (payloads_json.h). */
#include <string.h>
#include <time.h>

#include "core/classify.h"
#include "report/payloads_json.h"
#include "util/base64.h"
#include "util/textfmt.h"

char *ds_payload_iso_time(uint64_t ts_ns, char *buf, size_t len)
{
    time_t t = (time_t)(ts_ns / 1000000000ull);
    struct tm tm;
    char off[8];
    if (!localtime_r(&t, &tm) || !strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm) || !strftime(off, sizeof off, "%z", &tm)) {
        snprintf(buf, len, "-");
        return buf;
    }
    size_t n = strlen(buf);
    if (strlen(off) == 5)
        snprintf(buf + n, len - n, "%.3s:%.2s", off, off + 3);
    return buf;
}

char *ds_payload_excerpt(const uint8_t *p, size_t n, size_t max, char *buf)
{
    size_t k = n < max ? n : max;
    for (size_t i = 0; i < k; i++)
        buf[i] = p[i] >= 0x20 && p[i] < 0x7f ? (char)p[i] : '.';
    buf[k] = 0;
    return buf;
}

static void hex(FILE *f, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%02x", p[i]);
}

void ds_json_payloads(FILE *f, const ds_payload_query *q, const ds_payload_row *rows, size_t n)
{
    char t1[40], t2[40], svc[DS_SERVICE_STRLEN], ex[DS_PAYLOAD_EXCERPT_JSON + 1];
    fprintf(f, "[");
    for (size_t i = 0; i < n; i++) {
        const ds_payload_row *r = &rows[i];
        ds_service_format(DS_SERVICE(r->proto, r->dport), svc, sizeof svc);
        if (q->top)
            fprintf(f, "%s\n  {\"rank\": %zu, \"service\": \"%s\", \"count\": %llu, \"sources\": %llu, \"first_seen\": \"%s\","
                    " \"last_seen\": \"%s\", \"first_ns\": %llu, \"last_ns\": %llu, \"example_source\": ",
                    i ? "," : "", i + 1, svc, (unsigned long long)r->count, (unsigned long long)r->sources,
                    ds_payload_iso_time(r->first_ns, t1, sizeof t1), ds_payload_iso_time(r->last_ns, t2, sizeof t2),
                    (unsigned long long)r->first_ns, (unsigned long long)r->last_ns);
        else {
            fprintf(f, "%s\n  {\"time\": \"%s\", \"ts_ns\": %llu, \"sensor\": ", i ? "," : "",
                    ds_payload_iso_time(r->first_ns, t1, sizeof t1), (unsigned long long)r->first_ns);
            ds_json_fputs(f, r->sensor);
            fprintf(f, ", \"source\": ");
        }
        ds_json_fputs(f, r->src);
        if (!q->top) {
            fprintf(f, ", \"sport\": %u, \"destination\": ", r->sport);
            ds_json_fputs(f, r->dst);
            fprintf(f, ", \"service\": \"%s\", \"tcp_seq\": %u", svc, r->tcp_seq);
        }
        fprintf(f, ", \"len\": %u, \"kept\": %zu, \"excerpt\": ", r->len, r->data_len);
        ds_json_fputs(f, ds_payload_excerpt(r->data, r->data_len, DS_PAYLOAD_EXCERPT_JSON, ex));
        fprintf(f, ", \"hex\": \"");
        hex(f, r->data, r->data_len);
        fprintf(f, "\", \"payload_b64\": \"");
        ds_base64_fwrite(f, r->data, r->data_len);
        fprintf(f, "\", \"xxh128\": \"");
        hex(f, r->hash, 16);
        fprintf(f, "\"}");
    }
    fprintf(f, "%s]\n", n ? "\n" : "");
}
