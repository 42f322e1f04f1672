/* ch_writer.c: writing a file into the ClickHouse store, without transactions (issue #23).
 *
 * ClickHouse has no multi-statement transactions; an INSERT is atomic per block only.  So a
 * file's rows are made visible all at once by a marker instead:
 *
 *   begin    clean up what crashed inserts left (ch_cleanup); refuse a hash already in `files`
 *            (unless forced); take a file id (microseconds since the epoch x 1024 + 10 random
 *            bits: unique, and increasing with the time of ingest as SQLite's row ids are); write
 *            an `inflight` row (id, hash, host, pid, start) that claims the hash.
 *   put_*    rows go to per-table RowBinary buffers, every row tagged with the file id; a buffer
 *            past CH_FLUSH_BYTES is sent at once (its rows stay invisible: see below).
 *   commit   the buffers are sent; the server builds the file's rollup rows from its srcsvc rows
 *            and marks them (ch_rollup.c: rollup_* and rollup_files); then the claim is checked again: a `files` row of the same
 *            hash, or an earlier claim of it by an ingest still alive, and this file gives up
 *            (DS_EEXIST), so two racing ingests never both count it; then the `files` row is
 *            written, last, in one INSERT.  That INSERT is the commit.
 *   readers  see a row only when its file_id is in `files` (CH_COMMITTED in every query).
 *   supersede  a file continuing one cut short writes (old, new) to `superseded` before its
 *            files row: from that row on, old's rows stop counting (CH_LIVE_FILES).
 *
 * A crash (kill -9, a lost server) between begin and the files row leaves rows no reader sees;
 * the next writer deletes them (ALTER TABLE ... DELETE, a mutation) once their inflight row
 * names a process of this host that is gone, or is older than CH_STALE_S.
 *
 * The engine's put_file is store.c's default over these steps (store.h): the begin .. commit
 * here are not a transaction, but the steps give the same promise.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zstd.h>

#include "core/records.h"
#include "store/ch_int.h"

#define CH_FLUSH_BYTES (32u << 20)
#define CH_STALE_S 86400
#define CH_ZSTD_LEVEL 3

enum { T_CHUNKS, T_SRCSVC, T_COUNTS, T_COVERAGE, T__N };
static const char *const TABLE[T__N] = { "chunks", "srcsvc", "counts", "coverage" };

/* The write in progress of one handle (a ch_store has at most one). */
typedef struct ch_tx {
    int64_t id;
    ds_file_meta f;
    char path[512];
    uint64_t packets;
    ch_buf rows[T__N];
    int64_t superseding;       /* the file cut short this one supersedes (its superseded row is in), or 0 */
    int32_t day_min, day_max;  /* the days of its SRCSVC chunks (day_min > day_max: none yet), for its rollups */
    ZSTD_CCtx *zc;
    uint8_t *raw;
    size_t rawcap;
} ch_tx;

static ch_tx *tx_of(ch_store *s) { return (ch_tx *)s->tx; }
static ds_rc need_tx(ch_store *s, int64_t file_id, ds_err *err);

void ch_hex16(const uint8_t h[16], char out[33])
{
    for (int i = 0; i < 16; i++)
        snprintf(out + 2 * i, 3, "%02x", h[i]);
}

static void host_name(char *buf, size_t len)
{
    if (gethostname(buf, len) != 0)
        snprintf(buf, len, "?");
    buf[len - 1] = 0;
}

int64_t ch_new_id(void)
{
    struct timespec ts;
    uint16_t rnd = 0;
    clock_gettime(CLOCK_REALTIME, &ts);
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd < 0 || read(fd, &rnd, sizeof rnd) != (ssize_t)sizeof rnd)
        rnd = (uint16_t)(getpid() ^ ts.tv_nsec);
    if (fd >= 0)
        close(fd);
    int64_t us = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
    return us * 1024 + (rnd & 1023);
}

static void tx_free(ch_store *s)
{
    ch_tx *t = tx_of(s);
    if (!t)
        return;
    for (int i = 0; i < T__N; i++)
        ch_buf_free(&t->rows[i]);
    ZSTD_freeCCtx(t->zc);
    free(t->raw);
    free(t);
    s->tx = NULL;
}

void ch_tx_drop(ch_store *s) { tx_free(s); }

static ds_rc flush(ch_store *s, int table, ds_err *err)
{
    ch_tx *t = tx_of(s);
    ch_buf *b = &t->rows[table];
    char sql[64];
    if (b->oom)
        return ds_fail(err, DS_ENOMEM, "out of memory buffering rows for ClickHouse");
    if (!b->n)
        return DS_OK;
    snprintf(sql, sizeof sql, "INSERT INTO %s FORMAT RowBinary", TABLE[table]);
    ds_rc rc = ch_exec(&s->c, sql, b, NULL, err);
    b->n = 0;
    return rc;
}

/* ---- cleanup of crashed inserts ---- */

/* ALTER TABLE t DELETE WHERE file_id IN (ids): a mutation of the table, or, in a cluster, of
 * t_local on every shard (a Distributed table takes no mutations). */
ds_rc ch_delete_rows(ch_conn *c, const char *table, const char *ids, ds_err *err)
{
    if (!c->cluster[0])
        return ch_execf(c, NULL, err, "ALTER TABLE %s DELETE WHERE file_id IN (%s)", table, ids);
    ds_rc rc = DS_OK;
    for (unsigned k = 0; k < c->nshards && rc == DS_OK; k++) {
        ch_conn sh;
        ch_conn_shard(c, k, &sh);
        rc = ch_execf(&sh, NULL, err, "ALTER TABLE %s_local DELETE WHERE file_id IN (%s)", table, ids);
        ch_conn_close(&sh);
    }
    return rc;
}

static int gone(const char *host, const char *me, uint32_t pid, int64_t started, int64_t now)
{
    if (now - started > CH_STALE_S)
        return 1;
    if (strcmp(host, me) != 0)
        return 0;   /* another machine's: only its age tells */
    return kill((pid_t)pid, 0) != 0 && errno == ESRCH;
}

/* The writes that never committed: the ids of those whose process is gone (or that are older
 * than CH_STALE_S) into ids, "1,2,3", *ndead of them; *nlive counts the others. */
static ds_rc inflight_scan(ch_store *s, ch_buf *ids, size_t *ndead, size_t *nlive, ds_err *err)
{
    ch_buf out = { 0 };
    char me[256];
    int64_t now = (int64_t)time(NULL);
    host_name(me, sizeof me);
    ds_rc rc = ch_execf(&s->c, &out, err, "SELECT id, host, pid, started FROM inflight WHERE id NOT IN (SELECT id FROM"
                        " files) FORMAT RowBinary");
    ch_rd r = { out.p, out.n, 0, 0 };
    size_t n = 0;
    *nlive = 0;
    while (rc == DS_OK && r.off < r.n) {
        uint64_t id, started;
        uint32_t pid;
        const uint8_t *h;
        size_t hl;
        char host[256];
        if (ch_get_u64(&r, &id) || ch_get_str(&r, &h, &hl) || ch_get_u32(&r, &pid) || ch_get_u64(&r, &started)) {
            rc = ds_fail(err, DS_ESTORE, "store %s: the inflight answer is cut short", s->c.where);
            break;
        }
        snprintf(host, sizeof host, "%.*s", (int)hl, (const char *)h);
        if (gone(host, me, pid, (int64_t)started, now))
            ch_buf_printf(ids, "%s%lld", n++ ? "," : "", (long long)id);
        else
            (*nlive)++;
    }
    *ndead = n;
    ch_buf_free(&out);
    return rc;
}

ds_rc ch_live_writes(ch_store *s, size_t *n, ds_err *err)
{
    ch_buf ids = { 0 };
    size_t dead;
    ds_rc rc = inflight_scan(s, &ids, &dead, n, err);
    ch_buf_free(&ids);
    return rc;
}

ds_rc ch_cleanup(ch_store *s, ds_err *err)
{
    ch_buf ids = { 0 };
    size_t n = 0, live;
    ds_rc rc = inflight_scan(s, &ids, &n, &live, err);
    for (int i = 0; rc == DS_OK && n && i < T__N; i++)
        rc = ch_delete_rows(&s->c, TABLE[i], (char *)ids.p, err);
    if (rc == DS_OK && n)
        rc = ch_rollup_delete(&s->c, (char *)ids.p, err);
    if (rc == DS_OK && n)
        rc = ch_execf(&s->c, NULL, err, "ALTER TABLE superseded DELETE WHERE new IN (%s)", (char *)ids.p);
    if (rc == DS_OK && n)
        rc = ch_execf(&s->c, NULL, err, "ALTER TABLE inflight DELETE WHERE id IN (%s)", (char *)ids.p);
    if (rc == DS_OK && ids.oom)
        rc = ds_fail(err, DS_ENOMEM, "out of memory");
    ch_buf_free(&ids);
    return rc;
}

/* ---- duplicates ---- */

/* The path and ingest time of a committed file that superseded file `old`, or "" */
static ds_rc superseded_by(ch_store *s, uint64_t old, char *path, size_t plen, char *when, size_t wlen, ds_err *err)
{
    ch_buf out = { 0 };
    ds_rc rc = ch_execf(&s->c, &out, err, "SELECT path, toString(toDateTime(ingested_at, 'UTC')) FROM files WHERE id IN"
                        " (SELECT new FROM superseded WHERE old = %llu) ORDER BY id LIMIT 1 FORMAT RowBinary",
                        (unsigned long long)old);
    ch_rd r = { out.p, out.n, 0, 0 };
    const uint8_t *p, *w;
    size_t pl, wl;
    path[0] = when[0] = 0;
    if (rc == DS_OK && out.n) {
        if (ch_get_str(&r, &p, &pl) || ch_get_str(&r, &w, &wl))
            rc = ds_fail(err, DS_ESTORE, "store %s: the files answer is cut short", s->c.where);
        else {
            snprintf(path, plen, "%.*s", (int)pl, (const char *)p);
            snprintf(when, wlen, "%.*s", (int)wl, (const char *)w);
        }
    }
    ch_buf_free(&out);
    return rc;
}

/* As the SQLite store's (store_files.c): a file not superseded first, the message naming the file
 * that superseded it if one did. */
static ds_rc dup_check(ch_store *s, const ds_file_meta *f, uint64_t *packets, ds_err *err)
{
    ch_buf out = { 0 };
    char hx[33];
    ch_hex16(f->hash, hx);
    ds_rc rc = ch_execf(&s->c, &out, err, "SELECT id, path, toString(toDateTime(ingested_at, 'UTC')), packets,"
                        " id IN (SELECT old FROM superseded WHERE new IN (SELECT id FROM files)) AS sup FROM files"
                        " WHERE hash = unhex('%s') ORDER BY sup, id LIMIT 1 FORMAT RowBinary", hx);
    ch_rd r = { out.p, out.n, 0, 0 };
    const uint8_t *p, *w;
    size_t pl, wl;
    uint64_t id, pk;
    uint8_t sup;
    if (rc == DS_OK && out.n) {
        char by[512], bywhen[32];
        if (ch_get_u64(&r, &id) || ch_get_str(&r, &p, &pl) || ch_get_str(&r, &w, &wl) || ch_get_u64(&r, &pk) ||
            ch_get_u8(&r, &sup))
            rc = ds_fail(err, DS_ESTORE, "store %s: the files answer is cut short", s->c.where);
        else if (sup && (rc = superseded_by(s, id, by, sizeof by, bywhen, sizeof bywhen, err)) != DS_OK)
            ;
        else {
            if (packets)
                *packets = sup ? 0 : pk;   /* a superseded file's counts are gone */
            if (sup && by[0])
                rc = ds_fail(err, DS_EEXIST, "%s: already ingested (same content as %.*s, ingested %.*s UTC, a capture "
                             "cut short whose records %s holds, ingested %s UTC); use --force to count it again",
                             f->path, (int)pl, (const char *)p, (int)wl, (const char *)w, by, bywhen);
            else
                rc = ds_fail(err, DS_EEXIST, "%s: already ingested (same content as %.*s, ingested %.*s UTC); use "
                             "--force to count it again", f->path, (int)pl, (const char *)p, (int)wl, (const char *)w);
        }
    }
    ch_buf_free(&out);
    return rc;
}

/* ---- re-sent files (docs/store.md, "Re-sent files"; docs/clickhouse.md) ---- */

#define CH_NOT_SUPERSEDED "id NOT IN (SELECT old FROM superseded WHERE new IN (SELECT id FROM files))"

/* The SQLite store's question (store_files.c, ds_sqfiles_priors) over `files`. */
ds_rc ch_file_priors(ds_store *base, const ds_file_meta *f, ds_file_prior *prior, size_t max, size_t *n,
                     ds_err *err)
{
    ch_store *s = (ch_store *)base;
    ch_buf out = { 0 };
    char hx[33];
    *n = 0;
    if (!f->have_prefix || max == 0)
        return DS_OK;
    ch_hex16(f->prefix_hash, hx);
    unsigned long long len = (unsigned long long)f->bytes;
    ds_rc rc = ch_execf(&s->c, &out, err, "SELECT id, bytes, hash, path, toString(toDateTime(ingested_at, 'UTC')) FROM"
                        " files WHERE (have_prefix = 1 AND prefix_hash = unhex('%s') AND (bytes = %llu OR (bytes < %llu AND"
                        " truncated = 1 AND " CH_NOT_SUPERSEDED "))) OR (truncated = 1 AND " CH_NOT_SUPERSEDED " AND"
                        " bytes > 0 AND bytes < 65536 AND bytes < %llu) ORDER BY bytes DESC, id LIMIT %zu FORMAT RowBinary",
                        hx, len, len, len, max);
    ch_rd r = { out.p, out.n, 0, 0 };
    while (rc == DS_OK && r.off < r.n && *n < max) {
        uint64_t id, bytes;
        const uint8_t *p, *w;
        size_t pl, wl;
        ds_file_prior *x = &prior[*n];
        memset(x, 0, sizeof *x);
        if (ch_get_u64(&r, &id) || ch_get_u64(&r, &bytes) || r.n - r.off < 16 ||
            (memcpy(x->hash, r.p + r.off, 16), r.off += 16, 0) || ch_get_str(&r, &p, &pl) || ch_get_str(&r, &w, &wl)) {
            rc = ds_fail(err, DS_ESTORE, "store %s: the files answer is cut short", s->c.where);
            break;
        }
        x->id = (int64_t)id;
        x->bytes = bytes;
        snprintf(x->path, sizeof x->path, "%.*s", (int)pl, (const char *)p);
        snprintf(x->ingested, sizeof x->ingested, "%.*s", (int)wl, (const char *)w);
        (*n)++;
    }
    ch_buf_free(&out);
    return rc;
}

/* Inside file_id's write: old still stored as file_priors saw it (same hash, cut short, not
 * superseded by a committed file), then a superseded row (old, file_id), which counts from the
 * instant file_id's files row is written (CH_LIVE_FILES): old's rows stop counting and file_id's
 * start at once.  A write that dies before then leaves the row without effect (ch_cleanup
 * deletes it).  old's rows are deleted after the commit (ch_commit). */
ds_rc ch_supersede(ds_store *base, int64_t file_id, const ds_file_prior *old, ds_err *err)
{
    ch_store *s = (ch_store *)base;
    ch_tx *t = tx_of(s);
    ch_buf out = { 0 }, body = { 0 };
    char hx[33];
    ds_rc rc = need_tx(s, file_id, err);
    if (rc != DS_OK)
        return rc;
    ch_hex16(old->hash, hx);
    rc = ch_execf(&s->c, &out, err, "SELECT count() FROM files WHERE id = %lld AND hash = unhex('%s') AND truncated = 1"
                  " AND " CH_NOT_SUPERSEDED " FORMAT TSV", (long long)old->id, hx);
    if (rc == DS_OK && atoi((char *)out.p) == 0)
        rc = DS_ENOTFOUND;
    ch_buf_free(&out);
    if (rc != DS_OK)
        return rc;
    ch_rb_u64(&body, (uint64_t)old->id);
    ch_rb_u64(&body, (uint64_t)file_id);
    rc = body.oom ? ds_fail(err, DS_ENOMEM, "out of memory")
                  : ch_exec(&s->c, "INSERT INTO superseded FORMAT RowBinary", &body, NULL, err);
    ch_buf_free(&body);
    if (rc == DS_OK)
        t->superseding = old->id;
    return rc;
}

ds_rc ch_file_check(ds_store *base, const ds_file_meta *f, uint64_t *packets, ds_err *err)
{
    if (packets)
        *packets = 0;
    return f->force ? DS_OK : dup_check((ch_store *)base, f, packets, err);
}

/* An earlier claim of the same hash by an ingest still alive (not committed: dup_check sees those). */
static ds_rc race_check(ch_store *s, const ch_tx *t, ds_err *err)
{
    ch_buf out = { 0 };
    char hx[33], me[256];
    ch_hex16(t->f.hash, hx);
    host_name(me, sizeof me);
    int64_t now = (int64_t)time(NULL);
    ds_rc rc = ch_execf(&s->c, &out, err, "SELECT id, host, pid, started FROM inflight WHERE hash = unhex('%s') AND"
                        " id < %lld AND id NOT IN (SELECT id FROM files) FORMAT RowBinary", hx, (long long)t->id);
    ch_rd r = { out.p, out.n, 0, 0 };
    while (rc == DS_OK && r.off < r.n) {
        uint64_t id, started;
        uint32_t pid;
        const uint8_t *h;
        size_t hl;
        char host[256];
        if (ch_get_u64(&r, &id) || ch_get_str(&r, &h, &hl) || ch_get_u32(&r, &pid) || ch_get_u64(&r, &started)) {
            rc = ds_fail(err, DS_ESTORE, "store %s: the inflight answer is cut short", s->c.where);
            break;
        }
        snprintf(host, sizeof host, "%.*s", (int)hl, (const char *)h);
        if (!gone(host, me, pid, (int64_t)started, now))
            rc = ds_fail(err, DS_EEXIST, "%s: another ingest of the same content (process %u on %s) is writing it; "
                         "not counted twice", t->f.path, pid, host);
    }
    ch_buf_free(&out);
    return rc;
}

/* ---- the steps ---- */

ds_rc ch_begin(ds_store *base, const ds_file_meta *f, int64_t *file_id, ds_err *err)
{
    ch_store *s = (ch_store *)base;
    ch_buf body = { 0 };
    char me[256];
    ds_rc rc;
    tx_free(s);
    if ((rc = ch_cleanup(s, err)) != DS_OK)
        return rc;
    if (!f->force && (rc = dup_check(s, f, NULL, err)) != DS_OK)
        return rc;
    ch_tx *t = calloc(1, sizeof *t);
    if (!t)
        return ds_fail(err, DS_ENOMEM, "out of memory");
    s->tx = t;
    t->id = ch_new_id();
    t->f = *f;
    t->day_min = 1;
    t->day_max = 0;
    snprintf(t->path, sizeof t->path, "%s", f->path ? f->path : "-");
    t->f.path = t->path;
    host_name(me, sizeof me);
    ch_rb_u64(&body, (uint64_t)t->id);
    ch_buf_add(&body, f->hash, 16);
    ch_rb_str(&body, me, strlen(me));
    ch_rb_u32(&body, (uint32_t)getpid());
    ch_rb_u64(&body, (uint64_t)time(NULL));
    rc = body.oom ? ds_fail(err, DS_ENOMEM, "out of memory")
                  : ch_exec(&s->c, "INSERT INTO inflight FORMAT RowBinary", &body, NULL, err);
    ch_buf_free(&body);
    if (rc != DS_OK) {
        tx_free(s);
        return rc;
    }
    *file_id = t->id;
    return DS_OK;
}

static ds_rc need_tx(ch_store *s, int64_t file_id, ds_err *err)
{
    if (!tx_of(s) || tx_of(s)->id != file_id)
        return ds_fail(err, DS_EINVAL, "store %s: a row for file %lld outside its write", s->c.where,
                       (long long)file_id);
    return DS_OK;
}

static ds_rc day_ok(ch_store *s, int32_t day, ds_err *err)
{
    if (day < 0 || day > 65535)   /* ClickHouse's Date: 1970-01-01 .. 2149-06-06 */
        return ds_fail(err, DS_EINVAL, "store %s: day %d is outside what a ClickHouse Date holds", s->c.where, day);
    return DS_OK;
}

ds_rc ch_put_chunk_zstd(ds_store *base, int64_t file_id, int64_t sensor_id, int32_t day, int kind,
                        const uint8_t *frame, size_t framelen, size_t nrec, ds_err *err)
{
    ch_store *s = (ch_store *)base;
    size_t recsize = ds_rec_size(kind);
    ds_rc rc;
    if ((rc = need_tx(s, file_id, err)) != DS_OK || (rc = day_ok(s, day, err)) != DS_OK)
        return rc;
    if (!recsize)
        return ds_fail(err, DS_EINVAL, "store: unknown chunk kind %d", kind);
    if (!nrec)
        return DS_OK;
    ch_tx *t = tx_of(s);
    if (nrec > SIZE_MAX / recsize || ZSTD_getFrameContentSize(frame, framelen) != (unsigned long long)nrec * recsize)
        return ds_fail(err, DS_EINVAL, "store: a compressed chunk of kind %d does not hold %zu records", kind, nrec);
    ch_buf *b = &t->rows[T_CHUNKS];
    ch_rb_u64(b, (uint64_t)file_id);
    ch_rb_u64(b, (uint64_t)sensor_id);
    ch_rb_u16(b, (uint16_t)day);
    ch_rb_u8(b, (uint8_t)kind);
    ch_rb_u64(b, nrec);
    ch_rb_str(b, frame, framelen);
    if (kind == DS_CHUNK_SRCSVC) {   /* the per-source daily rows ch_query.c asks */
        size_t len = nrec * recsize;
        if (t->day_min > t->day_max)
            t->day_min = t->day_max = day;
        else if (day < t->day_min)
            t->day_min = day;
        else if (day > t->day_max)
            t->day_max = day;
        if (len > t->rawcap) {
            uint8_t *p = realloc(t->raw, len);
            if (!p)
                return ds_fail(err, DS_ENOMEM, "out of memory");
            t->raw = p;
            t->rawcap = len;
        }
        size_t got = ZSTD_decompress(t->raw, len, frame, framelen);
        if (ZSTD_isError(got) || got != len)
            return ds_fail(err, DS_EINVAL, "store: a compressed chunk of kind %d does not hold %zu records", kind, nrec);
        ch_buf *v = &t->rows[T_SRCSVC];
        for (size_t i = 0; i < nrec; i++) {
            ds_rec_srcsvc r;
            ds_rec_srcsvc_get(t->raw + i * recsize, &r);
            ch_rb_u64(v, (uint64_t)file_id);
            ch_rb_u64(v, (uint64_t)sensor_id);
            ch_rb_u16(v, (uint16_t)day);
            ch_rb_u64(v, r.src);
            ch_rb_u32(v, r.service);
            ch_rb_u32(v, r.asn);
            ch_rb_u16(v, ds_cc_pack(r.cc));
            ch_rb_u8(v, r.cls);
            ch_rb_u64(v, r.packets);
            ch_rb_u8(v, r.tools);
            ch_rb_u8(v, r.one_sport);
            ch_rb_u16(v, r.sport);
        }
        if (v->n > CH_FLUSH_BYTES && (rc = flush(s, T_SRCSVC, err)) != DS_OK)
            return rc;
    }
    if (b->n > CH_FLUSH_BYTES)
        return flush(s, T_CHUNKS, err);
    return b->oom ? ds_fail(err, DS_ENOMEM, "out of memory buffering rows for ClickHouse") : DS_OK;
}

ds_rc ch_put_chunk(ds_store *base, int64_t file_id, int64_t sensor_id, int32_t day, int kind, const uint8_t *data,
                   size_t nrec, size_t recsize, ds_err *err)
{
    ch_store *s = (ch_store *)base;
    ds_rc rc = need_tx(s, file_id, err);
    if (rc != DS_OK)
        return rc;
    if (!recsize || recsize != ds_rec_size(kind))
        return ds_fail(err, DS_EINVAL, "store: unknown chunk kind %d (record size %zu)", kind, recsize);
    if (!nrec)
        return DS_OK;
    ch_tx *t = tx_of(s);
    size_t raw = nrec * recsize, bound = ZSTD_compressBound(raw);
    uint8_t *z = malloc(bound);
    if (!z || (!t->zc && !(t->zc = ZSTD_createCCtx()))) {
        free(z);
        return ds_fail(err, DS_ENOMEM, "store: out of memory compressing a chunk");
    }
    size_t zlen = ZSTD_compressCCtx(t->zc, z, bound, data, raw, CH_ZSTD_LEVEL);
    rc = ZSTD_isError(zlen) ? ds_fail(err, DS_ESTORE, "store: zstd: %s", ZSTD_getErrorName(zlen))
                            : ch_put_chunk_zstd(base, file_id, sensor_id, day, kind, z, zlen, nrec, err);
    free(z);
    return rc;
}

ds_rc ch_put_counts(ds_store *base, int64_t file_id, int64_t sensor_id, const ds_agg_counts *c, ds_err *err)
{
    ch_store *s = (ch_store *)base;
    ds_rc rc = need_tx(s, file_id, err);
    if (rc != DS_OK)
        return rc;
    ch_tx *t = tx_of(s);
    ch_buf *b = &t->rows[T_COUNTS];
    t->packets += c->packets;
    ch_rb_u64(b, (uint64_t)file_id);
    ch_rb_u64(b, (uint64_t)sensor_id);
    ch_rb_u8(b, 2 + DS_PKT__COUNT + 2 + DS_ENC__COUNT);   /* the array's length (LEB128, < 128) */
    ch_rb_u64(b, c->packets);
    ch_rb_u64(b, c->outside);
    for (int o = 0; o < DS_PKT__COUNT; o++)
        ch_rb_u64(b, c->outcome[o]);
    ch_rb_u64(b, c->first_ns);
    ch_rb_u64(b, c->last_ns);
    for (int e = 0; e < DS_ENC__COUNT; e++)
        ch_rb_u64(b, c->encap[e]);
    return b->oom ? ds_fail(err, DS_ENOMEM, "out of memory") : DS_OK;
}

ds_rc ch_put_coverage(ds_store *base, const ds_coverage_row *row, ds_err *err)
{
    ch_store *s = (ch_store *)base;
    ds_rc rc = need_tx(s, row->file_id, err);
    if (rc != DS_OK)
        return rc;
    if (row->last_ns < row->first_ns)
        return ds_fail(err, DS_EINVAL, "store %s: coverage span %llu..%llu cannot be stored", s->c.where,
                       (unsigned long long)row->first_ns, (unsigned long long)row->last_ns);
    ch_buf *b = &tx_of(s)->rows[T_COVERAGE];
    size_t nh = row->hours ? row->nhours : 0;
    ch_rb_u64(b, (uint64_t)row->file_id);
    ch_rb_u64(b, (uint64_t)row->sensor_id);
    ch_rb_u8(b, (uint8_t)row->source);
    ch_rb_u64(b, row->first_ns);
    ch_rb_u64(b, row->last_ns);
    ch_rb_u64(b, (uint64_t)row->hour0);
    ch_rb_u8(b, row->hours != NULL);
    uint8_t x[10];
    size_t k = 0;
    uint64_t v = nh;
    do {
        x[k] = (uint8_t)(v & 0x7f);
        v >>= 7;
        if (v)
            x[k] |= 0x80;
        k++;
    } while (v);
    ch_buf_add(b, x, k);
    for (size_t i = 0; i < nh; i++)
        ch_rb_u32(b, row->hours[i]);
    return b->oom ? ds_fail(err, DS_ENOMEM, "out of memory") : DS_OK;
}

ds_rc ch_commit(ds_store *base, ds_err *err)
{
    ch_store *s = (ch_store *)base;
    ch_tx *t = tx_of(s);
    ch_buf body = { 0 };
    ds_rc rc = DS_OK;
    if (!t)
        return ds_fail(err, DS_EINVAL, "store %s: commit without a write", s->c.where);
    for (int i = 0; i < T__N && rc == DS_OK; i++)
        rc = flush(s, i, err);
    if (rc == DS_OK) {   /* the file's rollups, built by the server from its srcsvc rows (ch_rollup.c) */
        char id[24];
        snprintf(id, sizeof id, "%lld", (long long)t->id);
        rc = ch_rollup_build(&s->c, id, t->day_min, t->day_max, err);
    }
    if (rc == DS_OK && !t->f.force && (rc = dup_check(s, &t->f, NULL, err)) == DS_OK)
        rc = race_check(s, t, err);
    /* fault injection for tests/e2e/clickhouse.sh: die as a kill -9 would, every row of the file
     * sent but its files row not */
    const char *fault = getenv("DS_CH_FAULT");
    if (rc == DS_OK && fault && strcmp(fault, "before_files_row") == 0)
        raise(SIGKILL);
    if (rc == DS_OK) {   /* the commit: one row */
        ch_rb_u64(&body, (uint64_t)t->id);
        ch_buf_add(&body, t->f.hash, 16);
        ch_rb_str(&body, t->path, strlen(t->path));
        ch_rb_u64(&body, t->f.bytes);
        ch_rb_u64(&body, t->f.records);
        ch_rb_u8(&body, (uint8_t)(t->f.truncated != 0));
        ch_rb_u64(&body, (uint64_t)time(NULL));
        if (t->f.have_prefix)
            ch_buf_add(&body, t->f.prefix_hash, 16);
        else
            ch_buf_add(&body, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 16);
        ch_rb_u8(&body, (uint8_t)(t->f.have_prefix != 0));
        ch_rb_u64(&body, t->packets);
        rc = body.oom ? ds_fail(err, DS_ENOMEM, "out of memory")
                      : ch_exec(&s->c, "INSERT INTO files FORMAT RowBinary", &body, NULL, err);
    }
    /* committed: the rows of the file it superseded no longer count; delete them (mutations, in
     * the background).  A failure here leaves them invisible, so it is not the commit's. */
    if (rc == DS_OK && t->superseding) {
        char id[24];
        ds_err quiet = { 0 };
        snprintf(id, sizeof id, "%lld", (long long)t->superseding);
        int i = 0;
        for (; i < T__N; i++)
            if (ch_delete_rows(&s->c, TABLE[i], id, &quiet) != DS_OK)
                break;
        if (i == T__N)
            ch_rollup_delete(&s->c, id, &quiet);
    }
    ch_buf_free(&body);
    tx_free(s);   /* on failure the rows sent stay invisible; the next writer deletes them */
    return rc;
}

void ch_rollback(ds_store *base)
{
    tx_free((ch_store *)base);
}
