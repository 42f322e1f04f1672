/* serve_cache.c: answers of `darkscope serve` kept until the store changes (serve_int.h).
 *
 * Why: the API is read-only and the store changes only when something ingests into it, while
 * the answers that cost (a quarter's `top` counts the exact distinct sources of every row) are
 * asked again and again: every analyst who opens the dashboard asks for the same overview.
 *
 * When an answer is stale: the store's files (the database, its WAL and the chunk file) are
 * stat()ed on every lookup; any change of size or mtime from the stamp an answer was computed
 * under drops every answer.  A commit always writes the WAL or the database, so no answer
 * outlives the data it was computed from.  Answers that depend on the clock (coverage's
 * silent_s, sensors' lag) are not cached: the caller decides (ds_serve_cacheable).
 *
 * Bounds: at most CACHE_ENTRIES answers and CACHE_BYTES bytes; the least recently used goes first.
 *
 * Beside the answers, the events of the last EVENTS_MEMO (from, to, sensor, type) queries, kept
 * and dropped with them: the source view asks for its period's events to list those naming the
 * source, and a quarter's events take a quarter of a second to find, once per period instead of
 * once per source (the presets' are found ahead, with their events answers).
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <pthread.h>

#include "net/serve_int.h"

#define CACHE_ENTRIES 128
#define CACHE_BYTES ((size_t)64 << 20)
#define EVENTS_MEMO 8

typedef ds_serve_stamp stamp;

typedef struct entry {
    char *key;
    char *body;
    size_t len;
    unsigned long long used;     /* the lookup counter when last used */
} entry;

typedef struct memo {
    int32_t from, to;
    int64_t sensor_id;
    char type[24];             /* "" every type */
    ds_events ev;
    unsigned long long used;
} memo;

struct ds_serve_cache {
    pthread_mutex_t mu;
    char path[4096];
    stamp st;
    entry e[CACHE_ENTRIES];
    size_t n, bytes;
    memo m[EVENTS_MEMO];
    size_t nm;
    unsigned long long clock;
    unsigned long long hits, misses;
};

ds_serve_stamp ds_serve_stamp_take(const char *db)
{
    static const char *const suffix[3] = { "", "-wal", "-chunks" };
    stamp s;
    memset(&s, 0, sizeof s);
    char p[4200];
    for (int i = 0; i < 3; i++) {
        struct stat st;
        snprintf(p, sizeof p, "%s%s", db, suffix[i]);
        if (stat(p, &st) == 0) {
            s.v[2 * i] = (long long)st.st_size;
            s.v[2 * i + 1] = (long long)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec;
        } else {
            s.v[2 * i] = s.v[2 * i + 1] = -1;
        }
    }
    return s;
}

static void drop_all(ds_serve_cache *c)
{
    for (size_t i = 0; i < c->n; i++) {
        free(c->e[i].key);
        free(c->e[i].body);
    }
    c->n = 0;
    c->bytes = 0;
    for (size_t i = 0; i < c->nm; i++)
        ds_events_free(&c->m[i].ev);
    c->nm = 0;
}

ds_serve_cache *ds_serve_cache_new(const char *store_path)
{
    ds_serve_cache *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    pthread_mutex_init(&c->mu, NULL);
    snprintf(c->path, sizeof c->path, "%s", store_path);
    c->st = ds_serve_stamp_take(c->path);
    return c;
}

void ds_serve_cache_free(ds_serve_cache *c)
{
    if (!c)
        return;
    drop_all(c);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

/* Under c->mu: drop everything when the store's files changed. */
static void check_stamp(ds_serve_cache *c)
{
    stamp now = ds_serve_stamp_take(c->path);
    if (memcmp(&now, &c->st, sizeof now) != 0) {
        drop_all(c);
        c->st = now;
    }
}

char *ds_serve_cache_get(ds_serve_cache *c, const char *key, size_t *len)
{
    char *copy = NULL;
    if (!c)
        return NULL;
    pthread_mutex_lock(&c->mu);
    check_stamp(c);
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->e[i].key, key) == 0) {
            if ((copy = malloc(c->e[i].len ? c->e[i].len : 1))) {
                memcpy(copy, c->e[i].body, c->e[i].len);
                *len = c->e[i].len;
                c->e[i].used = ++c->clock;
            }
            break;
        }
    if (copy)
        c->hits++;
    else
        c->misses++;
    pthread_mutex_unlock(&c->mu);
    return copy;
}

void ds_serve_cache_put(ds_serve_cache *c, const char *key, const char *body, size_t len, const ds_serve_stamp *before)
{
    if (!c || len > CACHE_BYTES / 4)
        return;
    char *k = strdup(key), *b = malloc(len ? len : 1);
    if (!k || !b) {
        free(k);
        free(b);
        return;
    }
    memcpy(b, body, len);
    pthread_mutex_lock(&c->mu);
    check_stamp(c);
    if (memcmp(&c->st, before, sizeof *before) != 0) {   /* the store changed while it was computed */
        pthread_mutex_unlock(&c->mu);
        free(k);
        free(b);
        return;
    }
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->e[i].key, key) == 0) {   /* two threads computed it: keep one */
            pthread_mutex_unlock(&c->mu);
            free(k);
            free(b);
            return;
        }
    while (c->n && (c->n == CACHE_ENTRIES || c->bytes + len > CACHE_BYTES)) {
        size_t old = 0;
        for (size_t i = 1; i < c->n; i++)
            if (c->e[i].used < c->e[old].used)
                old = i;
        c->bytes -= c->e[old].len;
        free(c->e[old].key);
        free(c->e[old].body);
        c->e[old] = c->e[--c->n];
    }
    c->e[c->n++] = (entry){ k, b, len, ++c->clock };
    c->bytes += len;
    pthread_mutex_unlock(&c->mu);
}

ds_serve_stamp ds_serve_cache_stamp(const ds_serve_cache *c)
{
    return ds_serve_stamp_take(c->path);
}

/* ---- events ----------------------------------------------------------------------------------- */

/* A query the memo keeps: no excluded sources (the caller's set, not part of the key). */
static int memo_key_ok(const ds_event_query *q)
{
    return !q->exclude && (!q->type || strlen(q->type) < sizeof ((memo *)0)->type);
}

static int memo_is(const memo *m, const ds_event_query *q)
{
    return m->from == q->from && m->to == q->to && m->sensor_id == q->sensor_id &&
           !strcmp(m->type, q->type ? q->type : "");
}

int ds_serve_events_get(ds_serve_cache *c, const ds_event_query *q, ds_events *out)
{
    int hit = 0;
    memset(out, 0, sizeof *out);
    if (!c || !memo_key_ok(q))
        return 0;
    pthread_mutex_lock(&c->mu);
    check_stamp(c);
    for (size_t i = 0; i < c->nm && !hit; i++)
        if (memo_is(&c->m[i], q)) {
            ds_err err;
            hit = ds_events_copy(&c->m[i].ev, out, &err) == DS_OK;
            c->m[i].used = ++c->clock;
        }
    pthread_mutex_unlock(&c->mu);
    return hit;
}

void ds_serve_events_put(ds_serve_cache *c, const ds_event_query *q, const ds_events *ev, const ds_serve_stamp *before)
{
    ds_events copy;
    ds_err err;
    if (!c || !memo_key_ok(q) || ds_events_copy(ev, &copy, &err) != DS_OK)
        return;
    pthread_mutex_lock(&c->mu);
    check_stamp(c);
    int keep = !memcmp(&c->st, before, sizeof *before);   /* not when the store changed meanwhile */
    for (size_t i = 0; i < c->nm && keep; i++)
        keep = !memo_is(&c->m[i], q);                      /* two threads found them: keep one */
    if (keep) {
        size_t at = c->nm;
        if (c->nm == EVENTS_MEMO) {   /* the least recently used goes */
            at = 0;
            for (size_t i = 1; i < c->nm; i++)
                if (c->m[i].used < c->m[at].used)
                    at = i;
            ds_events_free(&c->m[at].ev);
        } else {
            c->nm++;
        }
        c->m[at] = (memo){ .from = q->from, .to = q->to, .sensor_id = q->sensor_id, .ev = copy, .used = ++c->clock };
        snprintf(c->m[at].type, sizeof c->m[at].type, "%s", q->type ? q->type : "");
        copy = (ds_events){ 0 };
    }
    pthread_mutex_unlock(&c->mu);
    ds_events_free(&copy);
}
