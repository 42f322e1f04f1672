/* ch_int.h: what the ClickHouse backend's files share (internal to src/store).
 *
 *   ch_http.c          the HTTP interface (libcurl): one query, its answer buffered, errors
 *                      named; SQL string quoting; RowBinary encoding and decoding
 *   store_clickhouse.c open (URL, version, schema), meta, sensors, the reader
 *   ch_writer.c        begin .. commit: a file's rows tagged with its id, visible once its files row is in
 *   ch_query.c         `top` answered by SQL (store/query.h)
 *   ch_chunks.c        the chunks table: scan, chunks_lacking, and its rebuild with one mark per chunk
 *   ch_months.c        month rollups (kinds 40-43) in rollup_months, exact by a signature of their files
 *   ch_rollup.c        the rollup tables (per day, sensor, class and key: sum and uniqExact states)
 *   ch_dump.c          the files and their rows as stored, for `store copy`
 *   ch_ledger.c        the collector's ledger: segments and sensors' health
 *   ch_payloads.c      first payloads: a batch's rows visible once its payload_files row is in
 *   ch_lease.c         the collector role: a lease renewed by a thread, so one collector per store
 *
 * docs/clickhouse.md describes the schema and what is pushed down.
 */
#ifndef DS_CH_INT_H
#define DS_CH_INT_H
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"
#include "util/result.h"

/* A growing byte buffer: answers, and RowBinary bodies. */
typedef struct ch_buf {
    uint8_t *p;
    size_t n, cap;
    int oom;                   /* an append ran out of memory: the buffer is incomplete */
} ch_buf;

void ch_buf_free(ch_buf *b);
void ch_buf_add(ch_buf *b, const void *p, size_t n);
void ch_buf_printf(ch_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* SQL string literal of s ('...' with \\ and \' escaped, bytes below 0x20 as \xHH) */
void ch_buf_quote(ch_buf *b, const char *s);
/* RowBinary: little-endian integers, and String as a LEB128 length then the bytes */
void ch_rb_u8(ch_buf *b, uint8_t v);
void ch_rb_u16(ch_buf *b, uint16_t v);
void ch_rb_u32(ch_buf *b, uint32_t v);
void ch_rb_u64(ch_buf *b, uint64_t v);
void ch_rb_str(ch_buf *b, const void *p, size_t n);

/* Reading RowBinary: each get fails (returns -1, sets r->bad) past the end. */
typedef struct ch_rd { const uint8_t *p; size_t n, off; int bad; } ch_rd;
int ch_get_u8(ch_rd *r, uint8_t *v);
int ch_get_u16(ch_rd *r, uint16_t *v);
int ch_get_u32(ch_rd *r, uint32_t *v);
int ch_get_u64(ch_rd *r, uint64_t *v);
int ch_get_str(ch_rd *r, const uint8_t **p, size_t *n);
/* FixedString(n): n bytes as they are */
int ch_get_fixed(ch_rd *r, uint8_t *out, size_t n);

#define CH_MAX_SHARDS 16

typedef struct ch_shard { char host[128]; unsigned port; } ch_shard;

typedef struct ch_conn {
    char host[256];
    unsigned port;
    char db[64];
    char user[64];
    char password[256];
    /* TLS (?secure=1): https to the server's <https_port>, its certificate verified against the
     * system's CAs or ca_file (libcurl's CURLOPT_CAINFO), and the host name against it */
    int secure;
    char ca_file[512];
    char where[300];           /* "clickhouse://HOST:PORT/DB", for messages */
    void *curl;                /* CURL *, made on first use */
    int use_db;                /* 1: queries run in db (?database=); 0 before it exists */
    char version[64];          /* SELECT version() */
    int major, minor;
    /* A cluster (?cluster=NAME&shards=HOST:PORT,...): the per-file tables are Distributed tables
     * over NAME_local tables on every shard; the small ones (meta, sensors, files, inflight) live
     * on this server only.  cluster[0] == 0: one server. */
    char cluster[64];
    ch_shard shard[CH_MAX_SHARDS];   /* the HTTP interface of each shard, in the URL's order */
    unsigned nshards;
} ch_conn;

/* Parse clickhouse://[USER@]HOST[:PORT]/DB[?user=U&password_file=PATH&secure=1&ca_file=PATH
 * &cluster=NAME&shards=H:P,H:P] into c (port 8123 when none, 8443 with secure=1); the password is
 * read from the file, ca_file checked readable. */
ds_rc ch_parse_url(ch_conn *c, const char *url, ds_err *err);
/* Runs sql.  body (may be NULL): data sent after it, as INSERT ... FORMAT RowBinary wants (the SQL
 * then travels in the URL).  out (may be NULL): the answer.  A refused connection, a non-200
 * answer (with ClickHouse's message) are DS_ESTORE errors naming the server. */
ds_rc ch_exec(ch_conn *c, const char *sql, const ch_buf *body, ch_buf *out, ds_err *err);
/* ch_exec of a printf-formatted statement without body */
ds_rc ch_execf(ch_conn *c, ch_buf *out, ds_err *err, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void ch_conn_close(ch_conn *c);
/* A connection to shard i of c's cluster (its own libcurl handle; ch_conn_close it). */
void ch_conn_shard(const ch_conn *c, unsigned i, ch_conn *out);
/* The same server and database as c, with a libcurl handle of its own (for another thread). */
void ch_conn_copy(const ch_conn *c, ch_conn *out);

typedef struct ch_lease ch_lease;   /* ch_lease.c */

/* The store handle (store_clickhouse.c). */
typedef struct ch_store {
    ds_store base;
    ch_conn c;
    char url[1024];
    void *tx;                  /* the write in progress (ch_writer.c), or NULL */
    int payloads_cleaned;      /* ch_payloads.c looked for dead batches once on this handle */
    ch_lease *lease;           /* the collector role, when this handle took it (ch_lease.c) */
} ch_store;

/* The files whose rows count: committed (a files row), and not superseded by a committed file (a
 * superseded row written before its new file's files row: ch_writer.c).  So the new file's files
 * row makes its rows visible and the old file's invisible at once. */
#define CH_LIVE_FILES "(SELECT id FROM files WHERE id NOT IN (SELECT old FROM superseded WHERE new IN (SELECT id FROM files)))"
/* Rows of live files only.  GLOBAL IN: on a cluster the subquery runs once, on this server (which
 * alone has `files`), and its ids travel to the shards (ClickHouse docs, "Distributed
 * subqueries"); on one server it is a plain IN. */
#define CH_COMMITTED "file_id GLOBAL IN " CH_LIVE_FILES

/* ch_writer.c: the writer's steps (store.h), which store.c's put_file runs */
ds_rc ch_begin(ds_store *s, const ds_file_meta *f, int64_t *file_id, ds_err *err);
ds_rc ch_put_chunk(ds_store *s, int64_t file_id, int64_t sensor_id, int32_t day, int kind, const uint8_t *data,
                   size_t nrec, size_t recsize, ds_err *err);
ds_rc ch_put_chunk_zstd(ds_store *s, int64_t file_id, int64_t sensor_id, int32_t day, int kind,
                        const uint8_t *frame, size_t framelen, size_t nrec, ds_err *err);
ds_rc ch_put_counts(ds_store *s, int64_t file_id, int64_t sensor_id, const ds_agg_counts *c, ds_err *err);
ds_rc ch_put_coverage(ds_store *s, const ds_coverage_row *row, ds_err *err);
ds_rc ch_commit(ds_store *s, ds_err *err);
void ch_rollback(ds_store *s);
void ch_tx_drop(ch_store *s);
ds_rc ch_file_check(ds_store *s, const ds_file_meta *f, uint64_t *packets, ds_err *err);
ds_rc ch_file_priors(ds_store *s, const ds_file_meta *f, ds_file_prior *prior, size_t max, size_t *n, ds_err *err);
ds_rc ch_supersede(ds_store *s, int64_t file_id, const ds_file_prior *old, ds_err *err);
/* Rows of inserts that never committed, by a process of this host that is gone or older than a
 * day: deleted (ALTER TABLE ... DELETE).  Run by put_file before it writes. */
ds_rc ch_cleanup(ch_store *s, ds_err *err);
/* How many writes are in progress: inflight rows without their files row whose process is alive
 * (ch_cleanup would not delete them). */
ds_rc ch_live_writes(ch_store *s, size_t *n, ds_err *err);
/* Deletes the rows of the file ids listed ("1,2,3") from a per-file table (on every shard). */
ds_rc ch_delete_rows(ch_conn *c, const char *table, const char *ids, ds_err *err);
/* A new id (file or payload batch): microseconds since the epoch x 1024 + 10 random bits, unique
 * and increasing with the time it was taken. */
int64_t ch_new_id(void);
/* h as 32 lowercase hex digits (for unhex('...')) */
void ch_hex16(const uint8_t h[16], char out[33]);
ds_rc ch_sensor_upsert(ch_store *s, const ds_sensor_info *info, int64_t *id, ds_err *err);
ds_rc ch_meta_set(ds_store *base, const char *key, const char *val, ds_err *err);

/* ch_dump.c: ds_store_dump_ops (store copy) */
ds_rc ch_dump_files(ds_store *s, ds_stored_file **rows, size_t *n, ds_err *err);
ds_rc ch_dump_chunks(ds_store *s, int64_t file_id, ds_dump_chunk_fn fn, void *ctx, ds_err *err);
ds_rc ch_dump_counts(ds_store *s, int64_t file_id, ds_dump_counts_fn fn, void *ctx, ds_err *err);
/* one counts.v array (RowBinary) into c; -1 when cut short or of another length */
ds_rc ch_counts_get(ch_rd *r, ds_agg_counts *c);

/* ch_ledger.c, ch_payloads.c: ds_store_ledger_ops, ds_store_payload_ops.  CH_LEDGER_TABLES are
 * the CREATE statements of their tables (on the store's server only, also in a cluster), made at
 * open when missing: stores made before them gain them then. */
extern const char *const CH_LEDGER_TABLES[];
extern const size_t CH_NLEDGER_TABLES;
extern const ds_store_ledger_ops ch_ledger_ops;
extern const ds_store_payload_ops ch_payload_ops;

/* ch_lease.c: the collector role, a lease in collector_lease (ds_store_ledger_ops' role_*).
 * role_release is also run by close. */
ds_rc ch_role_take(ds_store *s, const char *role, ds_err *err);
ds_rc ch_role_check(ds_store *s, ds_err *err);
void ch_role_release(ds_store *s);

/* ch_rollup.c: the rollup tables rollup_service, rollup_country, rollup_asn, rollup_all (per
 * day, sensor, class, key and file: sumState(packets), uniqExactState(src)) and rollup_files
 * (one row per file that has its rollups).  create: the tables (CREATE TABLE IF NOT EXISTS; on a
 * cluster T_local on every shard and a Distributed T).  build: the rollups of the files listed
 * ("1,2,3") from their srcsvc rows of days [from, to] (from > to: they have none), by the server
 * (each shard from its own rows), then their rollup_files rows.  delete: the rollup and rollup_files rows of the files listed (mutations).
 * ready: *yes = 1 when every live file has its rollups (the queries may read them).  migrate:
 * builds the rollups of every live file that lacks them (a store written before them);
 * *built counts the files. */
enum { CH_NROLLUP = 4 };
extern const char *const CH_ROLLUP_TABLE[CH_NROLLUP];   /* service, country, asn, all */
ds_rc ch_rollup_create(ch_conn *c, ds_err *err);
ds_rc ch_rollup_build(ch_conn *c, const char *ids, int32_t from, int32_t to, ds_err *err);
ds_rc ch_rollup_delete(ch_conn *c, const char *ids, ds_err *err);
ds_rc ch_rollup_ready(ch_conn *c, int *yes, ds_err *err);
ds_rc ch_rollup_migrate(ch_conn *c, size_t *built, ds_err *err);
/* TTLs: raw_days on chunks and srcsvc, rollup_days on the rollup tables (0: left as they are);
 * DS_EINVAL naming the version on a server older than 19.6 (no table TTL). */
ds_rc ch_ttl_set(ch_conn *c, unsigned raw_days, unsigned rollup_days, ds_err *err);

/* ch_chunks.c: the reader's scan and chunks_lacking (store.h); migrate: rebuilds a chunks table
 * made before CH_CHUNKS_GRANULARITY (on every shard), *rebuilt counting the tables; refused while
 * a write is in progress. */
#define CH_CHUNKS_GRANULARITY "1"
ds_rc ch_scan(ds_store *base, int kind, int64_t sensor_id, int32_t from, int32_t to, ds_scan_fn fn, void *ctx,
              ds_err *err);
ds_rc ch_chunks_lacking(ds_store *base, int have, int need, int64_t sensor_id, int32_t from, int32_t to,
                        ds_sensor_day **rows, size_t *n, ds_err *err);
ds_rc ch_chunks_migrate(ch_store *s, unsigned *rebuilt, ds_err *err);

/* ch_months.c: ds_store_month_ops; CH_MONTHS_TABLE its table's CREATE (the store's server only,
 * made at open when missing); months_scan: what scan answers for kinds 40-43, the month rows whose
 * signature is still their days' (from, to: first days of months). */
extern const char CH_MONTHS_TABLE[];
extern const ds_store_month_ops ch_month_ops;
ds_rc ch_months_scan(ch_store *s, int kind, int64_t sensor_id, int32_t from, int32_t to, ds_scan_fn fn, void *ctx,
                     ds_err *err);

/* ch_query.c */
extern const ds_store_query_ops ch_query_ops;

#endif
