/* geo.c: ds_geo_open (choose input files, use or rebuild the cache), ds_geo_lookup, ds_geo_asn_org.
 *
 * Open: each of the two paths names a file or a directory.  From a directory we take one file
 * per address family (a data set usually ships the same data several ways: -ipv4/-ipv6 files,
 * a combined IPv4+IPv6 MMDB, *-num.csv twins).  Preference: MMDB, then address-text CSV, then
 * integer CSV; at equal rank a file that covers both families, then the lower name.  The chosen
 * files, with their sizes and mtimes, form a "sources" description.  The compiled table is
 * cached under $DARKSCOPE_CACHE_DIR, $XDG_CACHE_HOME/darkscope or ~/.cache/darkscope, keyed by
 * the two real paths; a cache whose description differs (a file touched, added or replaced) or
 * that fails validation is rebuilt and replaced atomically (temp file + rename).  A warm open
 * is a directory scan, a few stats, an mmap and a validation pass.
 *
 * Lookup: IPv4 (and IPv6 ::/96 and ::ffff:0:0/96, which MMDB files also answer from the IPv4
 * tree) takes index[top 16 bits] .. index[top 16 bits + 1] as the candidate slice of the sorted
 * starts and binary-searches it for the last start <= address; IPv6 does the same on the top
 * 16 bits of the address and 128-bit starts.  The table partitions the whole space, so there
 * is always an answer: pair 0 is ZZ / AS0.  Special-purpose addresses (special.c) are answered
 * ZZ / AS0 before the table is searched.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

#include "geo/geo_int.h"
#include "util/atomic_file.h"

#define GEO_MAX_SOURCES 8

typedef struct geo_src {
    char path[PATH_MAX];
    int role;
    unsigned fams;
    int is_mmdb;
    struct stat st;
} geo_src;

typedef struct geo_cand {
    char name[256];
    unsigned fams;
    int rank;                 /* 0 MMDB, 1 CSV, 2 integer CSV */
    int is_mmdb;
} geo_cand;

static int has_suffix(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

static unsigned name_fams(const char *name)
{
    if (strstr(name, "ipv6"))
        return GEO_FAM_BIT(GEO_V6);
    if (strstr(name, "ipv4"))
        return GEO_FAM_BIT(GEO_V4);
    return GEO_FAM_BOTH;
}

static int cand_better(const geo_cand *a, const geo_cand *b)
{
    if (a->rank != b->rank)
        return a->rank < b->rank;
    int ab = a->fams == GEO_FAM_BOTH, bb = b->fams == GEO_FAM_BOTH;
    if (ab != bb)
        return ab;
    return strcmp(a->name, b->name) < 0;
}

static ds_rc add_src(geo_src *srcs, size_t *n, int role, const char *path, unsigned fams,
                     int is_mmdb, ds_err *err)
{
    if (*n == GEO_MAX_SOURCES)
        return ds_fail(err, DS_EINVAL, "geo: too many input files");
    geo_src *s = &srcs[*n];
    memset(s, 0, sizeof *s);
    if (!realpath(path, s->path) || stat(s->path, &s->st) != 0)
        return ds_fail(err, DS_EIO, "%s: %s", path, strerror(errno));
    s->role = role;
    s->fams = fams;
    s->is_mmdb = is_mmdb;
    (*n)++;
    return DS_OK;
}

static ds_rc resolve_dir(const char *dir, int role, geo_src *srcs, size_t *n, ds_err *err)
{
    ds_rc rc = DS_OK;
    DIR *d = opendir(dir);
    geo_cand best[GEO_NFAMS];
    int have[GEO_NFAMS] = { 0, 0 };
    char path[PATH_MAX];
    if (!d)
        return ds_fail(err, DS_EIO, "%s: %s", dir, strerror(errno));
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        geo_cand c;
        memset(&c, 0, sizeof c);
        if (de->d_name[0] == '.' || strlen(de->d_name) >= sizeof c.name)
            continue;
        int mmdb = has_suffix(de->d_name, ".mmdb"), csv = has_suffix(de->d_name, ".csv");
        if (!mmdb && !csv)
            continue;
        snprintf(c.name, sizeof c.name, "%s", de->d_name);
        c.is_mmdb = mmdb;
        c.rank = mmdb ? 0 : strstr(de->d_name, "-num") ? 2 : 1;
        c.fams = name_fams(de->d_name);
        if (mmdb && c.fams == GEO_FAM_BOTH) {
            if (snprintf(path, sizeof path, "%s/%s", dir, de->d_name) >= (int)sizeof path)
                continue;
            if (geo_mmdb_ip_version(path) == 4)
                c.fams = GEO_FAM_BIT(GEO_V4);
        }
        for (int f = 0; f < GEO_NFAMS; f++) {
            if ((c.fams & GEO_FAM_BIT(f)) && (!have[f] || cand_better(&c, &best[f]))) {
                best[f] = c;
                have[f] = 1;
            }
        }
    }
    closedir(d);
    if (!have[GEO_V4] && !have[GEO_V6])
        return ds_fail(err, DS_EFORMAT, "%s: directory holds no .mmdb or .csv file", dir);
    for (int f = 0; f < GEO_NFAMS && rc == DS_OK; f++) {
        if (!have[f])
            continue;
        unsigned fams = GEO_FAM_BIT(f);
        if (f == GEO_V4 && have[GEO_V6] && strcmp(best[GEO_V4].name, best[GEO_V6].name) == 0) {
            fams = GEO_FAM_BOTH;            /* one file serves both families: load it once */
            have[GEO_V6] = 0;
        }
        if (snprintf(path, sizeof path, "%s/%s", dir, best[f].name) >= (int)sizeof path)
            return ds_fail(err, DS_EINVAL, "%s: path too long", dir);
        rc = add_src(srcs, n, role, path, fams, best[f].is_mmdb, err);
    }
    return rc;
}

static ds_rc resolve(const char *path, int role, geo_src *srcs, size_t *n, ds_err *err)
{
    struct stat st;
    if (!path || !*path)
        return DS_OK;
    if (stat(path, &st) != 0)
        return ds_fail(err, DS_EIO, "%s: %s", path, strerror(errno));
    if (S_ISDIR(st.st_mode))
        return resolve_dir(path, role, srcs, n, err);
    /* /dev/zero, a FIFO, a socket: read as an empty CSV they gave every source ZZ, silently */
    if (!S_ISREG(st.st_mode))
        return ds_fail(err, DS_EINVAL, "[geo] %s = %s: %s, not a file or a folder (give an MMDB or an "
                       "@ip-location-db CSV, or a folder of them: docs/geo.md)",
                       role == GEO_ROLE_COUNTRY ? "country" : "asn", path,
                       S_ISCHR(st.st_mode) ? "a character device" : S_ISBLK(st.st_mode) ? "a block device"
                       : S_ISFIFO(st.st_mode) ? "a FIFO" : S_ISSOCK(st.st_mode) ? "a socket" : "a special file");
    int is_mmdb = has_suffix(path, ".mmdb") || (!has_suffix(path, ".csv") &&
                                                 geo_mmdb_ip_version(path) != 0);
    return add_src(srcs, n, role, path, GEO_FAM_BOTH, is_mmdb, err);
}

/* The sources description: everything that, if changed, makes a cached table stale. */
static char *describe(const geo_src *srcs, size_t n, size_t *len)
{
    size_t cap = 128 + n * (PATH_MAX + 128), off = 0;
    char *d = malloc(cap);
    if (!d)
        return NULL;
    off += (size_t)snprintf(d + off, cap - off, "darkscope geo table v%u\n", GEO_IMAGE_VERSION);
    for (size_t i = 0; i < n; i++) {
        const geo_src *s = &srcs[i];
        off += (size_t)snprintf(d + off, cap - off, "%s %u %s %lld %lld.%09ld %llu %s\n",
                                s->role == GEO_ROLE_COUNTRY ? "country" : "asn", s->fams,
                                s->is_mmdb ? "mmdb" : "csv", (long long)s->st.st_size,
                                (long long)s->st.st_mtim.tv_sec, (long)s->st.st_mtim.tv_nsec,
                                (unsigned long long)s->st.st_ino, s->path);
    }
    *len = off;
    return d;
}

/* Make dir and its parents (mode 0700 for the ones we create). */
static int mkdirs(char *dir)
{
    for (char *p = dir + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        int r = mkdir(dir, 0700);
        *p = '/';
        if (r != 0 && errno != EEXIST)
            return -1;
    }
    return mkdir(dir, 0700) != 0 && errno != EEXIST ? -1 : 0;
}

/* Cache file path for this pair of inputs, or "" when there is no usable cache directory. */
static void cache_path(const char *country, const char *asn, char *out, size_t outlen)
{
    char dir[PATH_MAX], rc[PATH_MAX] = "", ra[PATH_MAX] = "";
    const char *env;
    int w;
    out[0] = '\0';
    if ((env = getenv("DARKSCOPE_CACHE_DIR")) && *env)
        w = snprintf(dir, sizeof dir, "%s", env);
    else if ((env = getenv("XDG_CACHE_HOME")) && *env)
        w = snprintf(dir, sizeof dir, "%s/darkscope", env);
    else if ((env = getenv("HOME")) && *env)
        w = snprintf(dir, sizeof dir, "%s/.cache/darkscope", env);
    else
        return;
    if (w < 0 || (size_t)w >= sizeof dir || mkdirs(dir) != 0 || access(dir, W_OK | X_OK) != 0)
        return;
    if (country && *country && !realpath(country, rc))
        return;
    if (asn && *asn && !realpath(asn, ra))
        return;
    XXH3_state_t *st = XXH3_createState();
    if (!st)
        return;
    XXH3_64bits_reset(st);
    XXH3_64bits_update(st, rc, strlen(rc) + 1);
    XXH3_64bits_update(st, ra, strlen(ra) + 1);
    unsigned long long key = (unsigned long long)XXH3_64bits_digest(st);
    XXH3_freeState(st);
    w = snprintf(out, outlen, "%s/geo-%016llx.tbl", dir, key);
    if (w < 0 || (size_t)w >= outlen)
        out[0] = '\0';
}

#define GEO_CACHE_RENEW_S 3600

/* Map and validate a cache file; DS_OK only if it is usable as is. */
static ds_rc cache_load(ds_geo *g, const char *path, const char *desc, size_t desc_len,
                        ds_err *err)
{
    struct stat st;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return ds_fail(err, DS_ENOTFOUND, "%s: %s", path, strerror(errno));
    if (fstat(fd, &st) != 0 || st.st_size <= 0) {
        close(fd);
        return ds_fail(err, DS_EFORMAT, "%s: empty cache file", path);
    }
    size_t len = (size_t)st.st_size;
    void *m = mmap(NULL, len, PROT_READ, MAP_SHARED | MAP_POPULATE, fd, 0);
    /* in use: renew its time so it is the last to be pruned (cache_prune); at most hourly, so
     * that a command does not rewrite the file's inode on every open.  Best effort. */
    if (m != MAP_FAILED && time(NULL) - st.st_mtim.tv_sec > GEO_CACHE_RENEW_S)
        futimens(fd, NULL);
    close(fd);
    if (m == MAP_FAILED)
        return ds_fail(err, DS_EIO, "%s: cannot map: %s", path, strerror(errno));
    ds_rc rc = geo_image_attach(g, m, len, desc, desc_len, err);
    if (rc != DS_OK) {
        munmap(m, len);
        return rc;
    }
    g->mem = m;
    g->mem_len = len;
    g->mapped = 1;
    return DS_OK;
}

/* The cache keeps the GEO_CACHE_KEEP tables used last.  A table is named after the paths of its
 * inputs, so every new data folder (a fresh clone, a test's temporary copy) makes another 10-20 MB
 * file: unpruned, a developer's ~/.cache/darkscope held 80 of them (900 MB) after a day of test
 * runs.  A table in use has its time renewed on every open (cache_load), so pruning by time drops
 * the ones no configuration has opened for longest. */
#define GEO_CACHE_KEEP 8
/* A table is written to .geo-*.tbl.tmp.XXXXXX and renamed (cache_store).  A command killed while
 * writing leaves that file behind, 10-20 MB that nothing would ever remove; writing one takes
 * well under a second, so one untouched for this long is taken as abandoned. */
#define GEO_TMP_STALE_S 600

typedef struct cached { char name[64]; struct timespec mtime; } cached;

static int cached_newer_first(const void *a, const void *b)
{
    const cached *x = a, *y = b;
    if (x->mtime.tv_sec != y->mtime.tv_sec)
        return x->mtime.tv_sec > y->mtime.tv_sec ? -1 : 1;
    if (x->mtime.tv_nsec != y->mtime.tv_nsec)
        return x->mtime.tv_nsec > y->mtime.tv_nsec ? -1 : 1;
    return strcmp(x->name, y->name);
}

/* cache_store's temporary file: ".geo-*.tbl.tmp.XXXXXX" (util/atomic_file.h), or the
 * "geo-*.tbl.tmp.PID" that versions before it left. */
static int is_cache_tmp(const char *name)
{
    if (strncmp(name, ".geo-", 5) == 0 && ds_afile_is_temp(name))
        return 1;
    const char *t = strstr(name, ".tbl.tmp.");
    if (strncmp(name, "geo-", 4) != 0 || !t || !t[9])
        return 0;
    for (const char *d = t + 9; *d; d++)
        if (*d < '0' || *d > '9')
            return 0;
    return 1;
}

/* Remove all but the GEO_CACHE_KEEP newest geo-*.tbl files of the cache directory of `path`
 * (never `path` itself), and temporary files abandoned by a killed writer (GEO_TMP_STALE_S);
 * other files there are left alone.  Best effort, like the cache. */
static void cache_prune(const char *path)
{
    char dir[PATH_MAX];
    const char *slash = strrchr(path, '/');
    if (!slash || (size_t)(slash - path) >= sizeof dir)
        return;
    memcpy(dir, path, (size_t)(slash - path));
    dir[slash - path] = '\0';
    DIR *d = opendir(dir);
    if (!d)
        return;
    cached *c = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        size_t len = strlen(de->d_name);
        struct stat st;
        if (is_cache_tmp(de->d_name)) {
            if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
                time(NULL) - st.st_mtim.tv_sec > GEO_TMP_STALE_S)
                unlinkat(dirfd(d), de->d_name, 0);
            continue;
        }
        if (len < 8 || len >= sizeof c->name || strncmp(de->d_name, "geo-", 4) != 0 ||
            strcmp(de->d_name + len - 4, ".tbl") != 0 || strcmp(de->d_name, slash + 1) == 0 ||
            fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode))
            continue;
        if (n == cap) {
            cached *nc = realloc(c, (cap = cap ? cap * 2 : 16) * sizeof *nc);
            if (!nc)
                break;
            c = nc;
        }
        memcpy(c[n].name, de->d_name, len + 1);
        c[n++].mtime = st.st_mtim;
    }
    if (n >= GEO_CACHE_KEEP) {   /* the table just written is one of the KEEP */
        qsort(c, n, sizeof *c, cached_newer_first);
        for (size_t i = GEO_CACHE_KEEP - 1; i < n; i++)
            unlinkat(dirfd(d), c[i].name, 0);
    }
    free(c);
    closedir(d);
}

/* Best effort: a cache that cannot be written only costs the next open a rebuild.  No fsync: a
 * table torn by a crash fails cache_load's hash check and is rebuilt. */
static void cache_store(const char *path, const uint8_t *img, size_t len)
{
    ds_err err;
    if (ds_afile_write_file(path, img, len, 0644, DS_AFILE_NOSYNC, &err) == DS_OK)
        cache_prune(path);
}

ds_rc ds_geo_open(ds_geo **out, const char *country_path, const char *asn_path, ds_err *err)
{
    ds_rc rc = DS_OK;
    geo_src srcs[GEO_MAX_SOURCES];
    size_t nsrcs = 0, desc_len = 0, img_len = 0;
    char *desc = NULL;
    char cpath[PATH_MAX] = "";
    uint8_t *img = NULL;
    geo_sink sink;
    memset(&sink, 0, sizeof sink);
    *out = NULL;
    ds_geo *g = calloc(1, sizeof *g);
    if (!g)
        return ds_fail(err, DS_ENOMEM, "geo: out of memory");

    rc = resolve(country_path, GEO_ROLE_COUNTRY, srcs, &nsrcs, err);
    if (rc == DS_OK)
        rc = resolve(asn_path, GEO_ROLE_ASN, srcs, &nsrcs, err);
    if (rc != DS_OK)
        goto out;
    desc = describe(srcs, nsrcs, &desc_len);
    if (!desc) {
        rc = ds_fail(err, DS_ENOMEM, "geo: out of memory");
        goto out;
    }
    if (nsrcs > 0) {
        cache_path(country_path, asn_path, cpath, sizeof cpath);
        if (cpath[0] && cache_load(g, cpath, desc, desc_len, NULL) == DS_OK)
            goto out;                       /* warm */
    }
    for (size_t i = 0; i < nsrcs && rc == DS_OK; i++) {
        const geo_src *s = &srcs[i];
        rc = s->is_mmdb ? geo_load_mmdb(&sink, s->role, s->path, s->fams, err)
                        : geo_load_csv(&sink, s->role, s->path, s->fams, err);
    }
    if (rc == DS_OK)
        rc = geo_image_build(&sink, desc, desc_len, &img, &img_len, err);
    if (rc == DS_OK)
        rc = geo_image_attach(g, img, img_len, desc, desc_len, err);
    if (rc != DS_OK)
        goto out;
    if (cpath[0])
        cache_store(cpath, img, img_len);
    g->mem = img;
    g->mem_len = img_len;
    img = NULL;
out:
    geo_sink_free(&sink);
    free(desc);
    free(img);
    if (rc != DS_OK) {
        ds_geo_close(g);
        return rc;
    }
    *out = g;
    return DS_OK;
}

static inline uint64_t load_be64(const uint8_t *b)
{
    uint64_t v;
    memcpy(&v, b, 8);
    return __builtin_bswap64(v);
}

/* The table's answer, and the special-purpose check before it (special.c). */
static void lookup(const ds_geo *g, const ds_ip *ip, ds_geo_info *out, int special)
{
    uint32_t pair;
    if (!g) {
        memcpy(out->cc, "ZZ", 3);
        out->asn = 0;
        return;
    }
    uint32_t a = ds_ip_v4(ip);
    int v4 = !ip->v6;
    uint64_t hi = 0, lo = 0;
    if (!v4) {
        hi = load_be64(ip->b);
        lo = load_be64(ip->b + 8);
        if (hi == 0 && ((lo >> 32) == 0 || (lo >> 32) == 0xffff)) {
            v4 = 1;                          /* ::/96 and ::ffff:0:0/96 */
            a = (uint32_t)lo;
        }
    }
    if (special && (v4 ? ds_geo_special4(a) : ds_geo_special6(hi, lo))) {
        memcpy(out->cc, "ZZ", 3);            /* special-purpose: no country, whatever the data says */
        out->asn = 0;
        return;
    }
    if (v4) {
        uint32_t l = g->v4_index[a >> 16], h = g->v4_index[(a >> 16) + 1];
        while (l < h) {                      /* last start <= a in [l, h] */
            uint32_t mid = (l + h + 1) >> 1;
            if (g->v4_start[mid] <= a)
                l = mid;
            else
                h = mid - 1;
        }
        pair = g->v4_val[l];
    } else {
        uint32_t l = g->v6_index[hi >> 48], h = g->v6_index[(hi >> 48) + 1];
        while (l < h) {
            uint32_t mid = (l + h + 1) >> 1;
            uint64_t sh = g->v6_start[2 * (size_t)mid], sl = g->v6_start[2 * (size_t)mid + 1];
            if (sh < hi || (sh == hi && sl <= lo))
                l = mid;
            else
                h = mid - 1;
        }
        pair = g->v6_val[l];
    }
    const geo_pair *p = &g->pairs[pair];
    out->cc[0] = p->cc[0];
    out->cc[1] = p->cc[1];
    out->cc[2] = '\0';
    out->asn = p->asn;
}

void ds_geo_lookup(const ds_geo *g, const ds_ip *ip, ds_geo_info *out)
{
    lookup(g, ip, out, 1);
}

void geo_table_lookup(const ds_geo *g, const ds_ip *ip, ds_geo_info *out)
{
    lookup(g, ip, out, 0);
}

const char *ds_geo_asn_org(const ds_geo *g, uint32_t asn)
{
    if (!g || asn == 0)
        return "";
    size_t l = 0, h = g->norgs;
    while (l < h) {
        size_t mid = l + (h - l) / 2;
        if (g->orgs[mid].asn < asn)
            l = mid + 1;
        else
            h = mid;
    }
    if (l < g->norgs && g->orgs[l].asn == asn)
        return g->strings + g->orgs[l].name_off;
    return "";
}

void ds_geo_close(ds_geo *g)
{
    if (!g)
        return;
    if (g->mapped)
        munmap(g->mem, g->mem_len);
    else
        free(g->mem);
    free(g);
}
