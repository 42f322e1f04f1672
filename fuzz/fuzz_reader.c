/* fuzz_reader.c: libFuzzer target for the capture reader.
 *
 * Each input is read twice: from a memfd (a regular file, so the mmap path; gzip/zstd inputs
 * go to the stream path by magic) and, when it fits in a pipe, from a pipe (the stream path
 * with its buffer refills).  Every byte of every record is summed so ASan sees any read past
 * the data, and the two paths must agree exactly (record count, fields, bytes, and how the
 * input ended): a difference aborts, which turns the fuzzer into a differential tester.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "capture/reader.h"

typedef struct outcome {
    ds_rc open_rc, end_rc;
    uint64_t records, digest, last_offset;
} outcome;

static void run(const char *path, outcome *o)
{
    ds_reader *r;
    ds_err err;
    memset(o, 0, sizeof *o);
    o->open_rc = ds_reader_open(&r, path, &err);
    if (o->open_rc != DS_OK)
        return;
    ds_record rec;
    ds_rc rc;
    uint64_t h = 1469598103934665603ull;
    while ((rc = ds_reader_next(r, &rec, &err)) == DS_OK) {
        uint64_t s = 0;
        for (uint32_t i = 0; i < rec.caplen; i++)
            s += rec.data[i];
        h = (h ^ s ^ rec.ts_ns ^ ((uint64_t)rec.caplen << 32 | rec.wirelen) ^ (uint64_t)rec.linktype ^ rec.offset) *
            1099511628211ull;
        o->records++;
        o->last_offset = rec.offset;
    }
    o->end_rc = rc;
    o->digest = h;
    uint8_t hash[16];
    ds_reader_hash(r, hash);
    (void)ds_reader_consumed(r);
    ds_reader_close(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[64];
    outcome a, b;

    int mfd = memfd_create("fuzz_reader", MFD_CLOEXEC);
    if (mfd < 0)
        return 0;
    if (size && write(mfd, data, size) != (ssize_t)size) {
        close(mfd);
        return 0;
    }
    snprintf(path, sizeof path, "/proc/self/fd/%d", mfd);
    run(path, &a);
    close(mfd);

    int p[2];
    if (size > 65536 || pipe(p) != 0)
        return 0;
    if (size && write(p[1], data, size) != (ssize_t)size) {
        close(p[0]);
        close(p[1]);
        return 0;
    }
    close(p[1]);
    snprintf(path, sizeof path, "/proc/self/fd/%d", p[0]);
    run(path, &b);
    close(p[0]);

    /* Same bytes, same answer, whichever path read them.  (An empty input is refused by
     * both, with the same code.) */
    if (a.open_rc != b.open_rc || a.end_rc != b.end_rc || a.records != b.records || a.digest != b.digest) {
        fprintf(stderr, "mmap and stream paths differ: open %d/%d end %d/%d records %llu/%llu\n", a.open_rc,
                b.open_rc, a.end_rc, b.end_rc, (unsigned long long)a.records, (unsigned long long)b.records);
        abort();
    }
    return 0;
}
