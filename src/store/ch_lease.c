/* ch_lease.c: the collector role on a ClickHouse store, a lease taken without transactions.
 *
 * On SQLite a collector flocks a file beside the store (net/collector_spool.c); a ClickHouse
 * store has no directory, and collectors on other machines could not see one.  So the role is a
 * lease kept in the table collector_lease (MergeTree, append only; on the store's own server,
 * also in a cluster), one row per step, every time the server's now():
 *
 *   kind 0  claim    (role, seq N, holder, expires = now() + CLAIM_S): "I want term N"
 *   kind 1  hold     the claim won; written again every lease/3 s with expires = now() + lease
 *   kind 2  release  a clean stop: term N is over
 *
 * The state of a role is its largest seq N: held (a hold row, its latest expires still ahead and,
 * when the holder is a process of this host, that process alive), being taken (claims only, one
 * still ahead), or free (released, expired, no rows).  To take a free role:
 *
 *   1. claim N+1, inserted only if N is still the largest seq (INSERT ... SELECT ... WHERE);
 *   2. read back the claims of N+1: only ours -> 3; others too -> nobody takes term N+1 (it
 *      stays "being taken" until its claims expire), back off a random while and start again;
 *   3. hold: insert the hold row, only while N+1 is the largest seq and our claim unexpired;
 *   4. read the state: we hold it only if it names us.
 *
 * Why at most one claimant reaches 3: an INSERT into one server is visible to every SELECT that
 * starts after it returns.  Of two claimants A and B of one term, say A read back first: B's
 * claim was inserted either before that read (A sees it and gives up) or after it, and then B's
 * read-back, later still, sees A's.  Two can both give up; never both go on.  Others see the term
 * as being taken until its claims expire, so nobody claims the next term while the winner is
 * between 2 and 3.
 *
 * The holder renews every lease/3 s (a thread with its own connection), only while its hold has
 * not expired and its term is still the last.  It loses the role when a renewal finds another
 * term, or when it could not renew for a whole lease by its own monotonic clock; then role_check
 * fails and the collector answers 503 to every upload (sensors keep their segments and retry
 * elsewhere or later).  A holder stopped cleanly releases at once; one killed on this host is
 * seen as gone by its pid; one killed elsewhere holds the role until its lease runs out.
 *
 * Limits (docs/clickhouse.md, "The collector role"): times are the server's, so the collectors'
 * clocks do not matter; a step (one HTTP request) that takes longer than CLAIM_S, or a holder
 * frozen longer than its lease, can leave two collectors believing they hold it until the old
 * one's next renewal (lease/3 s): the writes themselves stay exactly once (ch_writer.c,
 * ch_ledger.c), only the health merge may lose a report, as with two collectors before.
 */
#include "store/ch_int.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#define CH_LEASE_S 30u        /* a hold lasts this long unless renewed */
#define CH_CLAIM_S 10u        /* a claim (steps 1 to 3) lasts this long */
#define CH_TAKE_WAIT_S 30u    /* how long role_take waits for a role being taken by others */

struct ch_lease {
    ch_conn c;                 /* its own connection (libcurl handle): the renewal thread's */
    char role[32];
    char holder[96];           /* host:pid:random, unique to this take */
    char host[64];
    uint64_t seq;              /* our term */
    unsigned lease_s;
    pthread_t thread;
    int running;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int stop;
    atomic_int lost;           /* 1: another collector has the role, or we could not renew */
    char why[400];             /* why, under mu */
    struct timespec renewed;   /* CLOCK_MONOTONIC of the last confirmed hold */
};

typedef struct lease_state {
    uint64_t seq;              /* the largest term; 0: no rows */
    uint32_t now;              /* the server's time */
    uint32_t claim_exp;        /* the latest claim expiry of the term */
    unsigned held;             /* hold rows of the term */
    uint32_t since, hold_exp;  /* its first hold, its latest expiry */
    unsigned released;
    uint32_t pid;
    char holder[96], host[64];
} lease_state;

static unsigned lease_seconds(void)
{
    const char *e = getenv("DS_CH_LEASE");   /* tests only: a short lease (2 to 3600 s) */
    char *end;
    unsigned long v = e ? strtoul(e, &end, 10) : 0;
    return e && *e && !*end && v >= 2 && v <= 3600 ? (unsigned)v : CH_LEASE_S;
}

static double mono_since(const struct timespec *t)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - t->tv_sec) + (double)(now.tv_nsec - t->tv_nsec) / 1e9;
}

static void nap_ms(unsigned ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* "YYYY-MM-DD HH:MM:SS UTC" of server seconds */
static void utc(uint32_t t, char out[32])
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (!gmtime_r(&tt, &tm) || !strftime(out, 32, "%Y-%m-%d %H:%M:%S UTC", &tm))
        snprintf(out, 32, "%u", t);
}

/* next TSV field of *p (ClickHouse escapes \t \n \\ in strings; host names have none) */
static char *field(char **p)
{
    char *f = *p, *t = strchr(f, '\t');
    if (t) {
        *t = 0;
        *p = t + 1;
    } else {
        f[strcspn(f, "\n")] = 0;
        *p = f + strlen(f);
    }
    return f;
}

static ds_rc read_state(ch_lease *l, lease_state *st, ds_err *err)
{
    ch_buf out = { 0 };
    memset(st, 0, sizeof *st);
    ds_rc rc = ch_execf(&l->c, &out, err,
        "SELECT seq, toUInt32(now()), toUInt32(maxIf(expires, kind = 0)), countIf(kind = 1),"
        " toUInt32(minIf(at, kind = 1)), toUInt32(maxIf(expires, kind = 1)), countIf(kind = 2),"
        " anyIf(pid, kind = 1), anyIf(holder, kind = 1), anyIf(host, kind = 1)"
        " FROM collector_lease WHERE role = '%s' AND seq = (SELECT max(seq) FROM collector_lease WHERE role = '%s')"
        " GROUP BY seq FORMAT TabSeparated", l->role, l->role);
    if (rc != DS_OK)
        return rc;
    if (out.n == 0) {   /* no rows: never taken; the server's time is not needed then */
        ch_buf_free(&out);
        return DS_OK;
    }
    char *p = (char *)out.p, *f[10];
    for (int i = 0; i < 10; i++)
        f[i] = field(&p);
    unsigned long long v[8];
    for (int i = 0; i < 8; i++) {
        char *end;
        v[i] = strtoull(f[i], &end, 10);
        if (!*f[i] || *end) {
            rc = ds_fail(err, DS_ESTORE, "store %s: collector_lease answered \"%.80s\"", l->c.where, (char *)out.p);
            break;
        }
    }
    if (rc == DS_OK) {
        st->seq = v[0];
        st->now = (uint32_t)v[1];
        st->claim_exp = (uint32_t)v[2];
        st->held = (unsigned)v[3];
        st->since = (uint32_t)v[4];
        st->hold_exp = (uint32_t)v[5];
        st->released = (unsigned)v[6];
        st->pid = (uint32_t)v[7];
        snprintf(st->holder, sizeof st->holder, "%s", f[8]);
        snprintf(st->host, sizeof st->host, "%s", f[9]);
    }
    ch_buf_free(&out);
    return rc;
}

enum { FREE, HELD, TAKING };

static int judge(const ch_lease *l, const lease_state *st)
{
    if (st->seq == 0 || st->released)
        return FREE;
    if (st->held) {
        if (st->hold_exp <= st->now)
            return FREE;   /* expired: its holder stopped renewing */
        if (strcmp(st->host, l->host) == 0 && st->pid != (uint32_t)getpid() && kill((pid_t)st->pid, 0) != 0 &&
            errno == ESRCH)
            return FREE;   /* a process of this host that is gone */
        return HELD;
    }
    return st->claim_exp > st->now ? TAKING : FREE;
}

static ds_rc held_by(const ch_lease *l, const lease_state *st, ds_err *err)
{
    char since[32], until[32];
    utc(st->since, since);
    utc(st->hold_exp, until);
    return ds_fail(err, DS_EBUSY, "store %s: the %s role is held by %s pid %u since %s (its lease runs to %s and is "
                   "renewed while it runs): one %s per store; a holder that died on another host is replaced "
                   "once its lease ends", l->c.where, l->role, st->host, st->pid, since, until, l->role);
}

/* steps 1 to 4 for term seq; 1: we hold it, 0: not this time, -1: error */
static int try_term(ch_lease *l, uint64_t seq, ds_err *err)
{
    ch_buf out = { 0 };
    ds_rc rc = ch_execf(&l->c, NULL, err,
        "INSERT INTO collector_lease (role, seq, kind, holder, host, pid, expires) SELECT '%s', %llu, 0, '%s', '%s',"
        " %u, now() + %u FROM system.one WHERE (SELECT max(seq) FROM collector_lease WHERE role = '%s') = %llu",
        l->role, (unsigned long long)seq, l->holder, l->host, (unsigned)getpid(), CH_CLAIM_S, l->role,
        (unsigned long long)(seq - 1));
    if (rc == DS_OK)
        rc = ch_execf(&l->c, &out, err, "SELECT uniqExact(holder), countIf(holder = '%s') FROM collector_lease"
                      " WHERE role = '%s' AND seq = %llu AND kind = 0 FORMAT TabSeparated", l->holder, l->role,
                      (unsigned long long)seq);
    if (rc != DS_OK)
        return -1;
    unsigned claimants = 0, ours = 0;
    int ok = sscanf((char *)out.p, "%u\t%u", &claimants, &ours) == 2;
    ch_buf_free(&out);
    if (!ok) {
        ds_fail(err, DS_ESTORE, "store %s: collector_lease's claims could not be read", l->c.where);
        return -1;
    }
    if (claimants != 1 || ours == 0)
        return 0;   /* another claimant (or the term moved on before our claim went in) */
    rc = ch_execf(&l->c, NULL, err,
        "INSERT INTO collector_lease (role, seq, kind, holder, host, pid, expires) SELECT '%s', %llu, 1, '%s', '%s',"
        " %u, now() + %u FROM system.one WHERE (SELECT max(seq) FROM collector_lease WHERE role = '%s') = %llu"
        " AND now() < (SELECT maxIf(expires, holder = '%s') FROM collector_lease WHERE role = '%s' AND seq = %llu"
        " AND kind = 0)", l->role, (unsigned long long)seq, l->holder, l->host, (unsigned)getpid(), l->lease_s,
        l->role, (unsigned long long)seq, l->holder, l->role, (unsigned long long)seq);
    lease_state st;
    if (rc != DS_OK || read_state(l, &st, err) != DS_OK)
        return -1;
    return st.seq == seq && st.held && strcmp(st.holder, l->holder) == 0 && judge(l, &st) == HELD;
}

/* the role is lost: why (after "store URL: "), said once on stderr, and role_check's error from now on */
static void lose(ch_lease *l, const char *why)
{
    pthread_mutex_lock(&l->mu);
    if (!atomic_load(&l->lost)) {
        snprintf(l->why, sizeof l->why, "store %s: %s", l->c.where, why);
        atomic_store(&l->lost, 1);
        fprintf(stderr, "darkscope: %s: refusing uploads from now on (restart this %s once the other one is "
                "stopped)\n", l->why, l->role);
    }
    pthread_mutex_unlock(&l->mu);
}

/* one renewal: 0 renewed, -1 not now (the server), 1 lost */
static int renew(ch_lease *l)
{
    ds_err err = { 0 };
    lease_state st;
    ds_rc rc = ch_execf(&l->c, NULL, &err,
        "INSERT INTO collector_lease (role, seq, kind, holder, host, pid, expires) SELECT '%s', %llu, 1, '%s', '%s',"
        " %u, now() + %u FROM system.one WHERE (SELECT max(seq) FROM collector_lease WHERE role = '%s') = %llu"
        " AND now() < (SELECT maxIf(expires, kind = 1 AND holder = '%s') FROM collector_lease WHERE role = '%s'"
        " AND seq = %llu)", l->role, (unsigned long long)l->seq, l->holder, l->host, (unsigned)getpid(), l->lease_s,
        l->role, (unsigned long long)l->seq, l->holder, l->role, (unsigned long long)l->seq);
    if (rc != DS_OK || read_state(l, &st, &err) != DS_OK)
        return -1;
    char why[300];
    if (st.seq != l->seq || strcmp(st.holder, l->holder) != 0) {
        snprintf(why, sizeof why, "the %s role was taken over by %s pid %u", l->role, st.host[0] ? st.host : "?",
                 st.pid);
        lose(l, why);
        return 1;
    }
    if (st.hold_exp <= st.now) {
        snprintf(why, sizeof why, "the %s role's lease ran out before it was renewed", l->role);
        lose(l, why);
        return 1;
    }
    return 0;
}

static void *renewer(void *arg)
{
    ch_lease *l = arg;
    unsigned every = l->lease_s / 3 ? l->lease_s / 3 : 1;
    pthread_mutex_lock(&l->mu);
    while (!l->stop && !atomic_load(&l->lost)) {
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_sec += every;
        while (!l->stop && pthread_cond_timedwait(&l->cv, &l->mu, &until) == 0) {
        }
        if (l->stop)
            break;
        pthread_mutex_unlock(&l->mu);
        struct timespec before;   /* the server's expiry counts from a moment after this */
        clock_gettime(CLOCK_MONOTONIC, &before);
        int r = renew(l);
        pthread_mutex_lock(&l->mu);
        if (r == 0)
            l->renewed = before;
    }
    pthread_mutex_unlock(&l->mu);
    return NULL;
}

static void lease_free(ch_lease *l)
{
    if (!l)
        return;
    ch_conn_close(&l->c);
    pthread_mutex_destroy(&l->mu);
    pthread_cond_destroy(&l->cv);
    free(l);
}

ds_rc ch_role_take(ds_store *base, const char *role, ds_err *err)
{
    ch_store *s = (ch_store *)base;
    ds_rc rc = DS_OK;
    if (s->lease)
        return ds_fail(err, DS_EINVAL, "store %s: the %s role is already taken by this handle", s->c.where, role);
    if (!*role || strlen(role) >= sizeof s->lease->role || strspn(role, "abcdefghijklmnopqrstuvwxyz_") != strlen(role))
        return ds_fail(err, DS_EINVAL, "store %s: role \"%s\" is not a name of [a-z_]", s->c.where, role);
    ch_lease *l = calloc(1, sizeof *l);
    if (!l)
        return ds_fail(err, DS_ENOMEM, "out of memory");
    pthread_mutex_init(&l->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&l->cv, &ca);
    pthread_condattr_destroy(&ca);
    ch_conn_copy(&s->c, &l->c);
    snprintf(l->role, sizeof l->role, "%s", role);
    if (gethostname(l->host, sizeof l->host) != 0)
        snprintf(l->host, sizeof l->host, "?");
    l->host[sizeof l->host - 1] = 0;
    for (char *p = l->host; *p; p++)   /* it goes into SQL string literals unquoted */
        if (*p == '\'' || *p == '\\' || (unsigned char)*p < 0x20)
            *p = '_';
    snprintf(l->holder, sizeof l->holder, "%s:%u:%llx", l->host, (unsigned)getpid(), (unsigned long long)ch_new_id());
    l->lease_s = lease_seconds();
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        lease_state st;
        if ((rc = read_state(l, &st, err)) != DS_OK)
            goto out;
        int j = judge(l, &st);
        if (j == HELD) {
            rc = held_by(l, &st, err);
            goto out;
        }
        if (mono_since(&t0) > CH_TAKE_WAIT_S) {
            rc = ds_fail(err, DS_EBUSY, "store %s: the %s role could not be taken in %u s: other %ss are taking it "
                         "at the same time (one %s per store)", l->c.where, role, CH_TAKE_WAIT_S, role, role);
            goto out;
        }
        if (j == FREE) {
            clock_gettime(CLOCK_MONOTONIC, &l->renewed);   /* before the hold's now() */
            int r = try_term(l, st.seq + 1, err);
            if (r < 0) {
                rc = DS_ESTORE;
                goto out;
            }
            if (r == 1) {
                l->seq = st.seq + 1;
                break;
            }
        }
        /* being taken, or we collided: back off a random while (ch_new_id's low bits are random) */
        nap_ms(200 + (unsigned)((uint64_t)ch_new_id() % 800));
    }
    if (pthread_create(&l->thread, NULL, renewer, l) != 0) {
        rc = ds_fail(err, DS_ENOMEM, "store %s: cannot start the lease's renewal thread", s->c.where);
        goto out;   /* our hold expires unrenewed */
    }
    l->running = 1;
    s->lease = l;
    l = NULL;
out:
    lease_free(l);
    return rc;
}

ds_rc ch_role_check(ds_store *base, ds_err *err)
{
    ch_store *s = (ch_store *)base;
    ch_lease *l = s->lease;
    if (!l)
        return DS_OK;
    pthread_mutex_lock(&l->mu);
    double since = mono_since(&l->renewed);
    pthread_mutex_unlock(&l->mu);
    if (!atomic_load(&l->lost) && since >= l->lease_s) {
        char why[300];
        snprintf(why, sizeof why, "the %s role was not renewed for %.0f s (the server does not answer): its lease "
                 "of %u s ran out", l->role, since, l->lease_s);
        lose(l, why);
    }
    if (atomic_load(&l->lost)) {
        pthread_mutex_lock(&l->mu);
        ds_fail(err, DS_EBUSY, "%s", l->why);
        pthread_mutex_unlock(&l->mu);
        return DS_EBUSY;
    }
    return DS_OK;
}

void ch_role_release(ds_store *base)
{
    ch_store *s = (ch_store *)base;
    ch_lease *l = s->lease;
    if (!l)
        return;
    pthread_mutex_lock(&l->mu);
    l->stop = 1;
    pthread_cond_signal(&l->cv);
    pthread_mutex_unlock(&l->mu);
    if (l->running)
        pthread_join(l->thread, NULL);
    if (!atomic_load(&l->lost)) {   /* a clean stop: the next collector need not wait for the lease */
        ds_err err = { 0 };
        if (ch_execf(&l->c, NULL, &err,
                     "INSERT INTO collector_lease (role, seq, kind, holder, host, pid, expires) SELECT '%s', %llu, 2,"
                     " '%s', '%s', %u, now() FROM system.one", l->role, (unsigned long long)l->seq, l->holder, l->host,
                     (unsigned)getpid()) != DS_OK)
            fprintf(stderr, "darkscope: %s (the %s role is free again once its lease ends)\n", err.msg, l->role);
    }
    s->lease = NULL;
    lease_free(l);
}
