/* synth_space.c: the generator's address space.  The sensors' dark IPv4 ranges, sorted and
 * indexed so that the idx-th dark address is a binary search away (dark_addr in synth_int.h);
 * public source addresses (outside RFC 6890 special space and every darknet), neighbours of the
 * darknets, and, with a country callback, a pool of public addresses by country from which
 * sources are drawn to follow a country-weight table.
 */
#include <stdlib.h>
#include <string.h>

#include "core/ip.h"
#include "synth/synth_int.h"

/* Non-public IPv4 space that no real scanner source lives in (RFC 6890 and friends). */
static const struct { uint32_t net; uint8_t len; } reserved4[] = {
    { 0x00000000u, 8 }, { 0x0a000000u, 8 }, { 0x64400000u, 10 }, { 0x7f000000u, 8 },
    { 0xa9fe0000u, 16 }, { 0xac100000u, 12 }, { 0xc0000000u, 24 }, { 0xc0000200u, 24 },
    { 0xc0a80000u, 16 }, { 0xc6120000u, 15 }, { 0xc6336400u, 24 }, { 0xcb007100u, 24 },
    { 0xe0000000u, 3 },
};

/* ------------------------------------------------------------------------------------------ */
/* Address space */

static int in_range(uint32_t a, uint32_t net, uint8_t len)
{
    uint32_t mask = len ? ~0u << (32 - len) : 0;
    return (a & mask) == net;
}
static int is_dark4(const gen *g, uint32_t a)
{
    size_t lo = 0, hi = g->n4;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (a < g->r4[mid].start)
            hi = mid;
        else if (a - g->r4[mid].start >= g->r4[mid].size)
            lo = mid + 1;
        else
            return 1;
    }
    return 0;
}
static int excluded4(const gen *g, uint32_t a)
{
    for (size_t i = 0; i < sizeof reserved4 / sizeof reserved4[0]; i++)
        if (in_range(a, reserved4[i].net, reserved4[i].len))
            return 1;
    return is_dark4(g, a);
}
static uint32_t random_public(const gen *g, rng *r)
{
    for (;;) {
        uint32_t a = rng_u32(r);
        if (!excluded4(g, a))
            return a;
    }
}
/* An address next to a darknet but outside every one (route leaks, typos, neighbours). */
uint32_t ds_synth_random_outside(const gen *g, rng *r)
{
    for (int tries = 0; tries < 16; tries++) {
        const range4 *rg = &g->r4[rng_below(r, (uint32_t)g->n4)];
        uint32_t off = 1 + rng_below(r, 256);
        uint32_t a = (rng_u32(r) & 1) ? rg->start - off : rg->start + rg->size - 1 + off;
        if (!is_dark4(g, a) && a > 0x01000000u && a < 0xe0000000u)
            return a;
    }
    for (;;) {
        uint32_t a = rng_u32(r);
        if (!is_dark4(g, a) && a > 0x01000000u && a < 0xe0000000u)
            return a;
    }
}

static int cmp_range4(const void *a, const void *b)
{
    const range4 *x = a, *y = b;
    return x->start < y->start ? -1 : x->start > y->start;
}

ds_rc ds_synth_build_space(gen *g)
{
    const ds_synth_params *p = g->p;
    size_t total = 0;
    for (size_t s = 0; s < p->nsensors; s++)
        total += p->sensors[s].nprefixes;
    g->r4 = calloc(total + 1, sizeof *g->r4);
    g->r6 = calloc(total + 1, sizeof *g->r6);
    if (!g->r4 || !g->r6)
        return ds_fail(g->err, DS_ENOMEM, "synth: out of memory for %zu darknet prefixes", total);
    for (size_t s = 0; s < p->nsensors; s++) {
        for (size_t i = 0; i < p->sensors[s].nprefixes; i++) {
            const ds_prefix *px = &p->sensors[s].prefixes[i];
            if (px->addr.v6) {
                memcpy(g->r6[g->n6].net, px->addr.b, 16);
                g->r6[g->n6++].len = px->len;
            } else {
                uint32_t size = px->len == 0 ? 0xffffffffu : (uint32_t)(1ull << (32 - px->len));
                if (px->len < 8)
                    return ds_fail(g->err, DS_EINVAL, "synth: sensor %s: prefix /%u is too large "
                                   "to be a darknet", p->sensors[s].name, px->len);
                g->r4[g->n4].start = ds_ip_v4(&px->addr);
                g->r4[g->n4++].size = size;
            }
        }
    }
    if (g->n4 == 0)
        return ds_fail(g->err, DS_EINVAL, "synth: no IPv4 darknet prefix configured (give --sensor NAME=CIDR)");
    qsort(g->r4, g->n4, sizeof *g->r4, cmp_range4);
    for (size_t i = 0; i < g->n4; i++) {
        if (i && g->r4[i].start - g->r4[i - 1].start < g->r4[i - 1].size)
            return ds_fail(g->err, DS_EINVAL, "synth: darknet prefixes overlap");
        g->r4[i].before = g->v4total;
        g->v4total += g->r4[i].size;
    }
    return DS_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* Countries */

unsigned ds_synth_cc_intern(gen *g, const char cc[3])
{
    unsigned a = (unsigned)(cc[0] - 'A'), b = (unsigned)(cc[1] - 'A');
    if (a >= 26 || b >= 26)
        return 0;
    uint8_t *slot = &g->cc_index[a * 26 + b];
    if (!*slot) {
        if (g->ncc >= 255)
            return 0;
        *slot = (uint8_t)g->ncc;
        memcpy(g->cc_code[g->ncc], cc, 2);
        g->cc_code[g->ncc++][2] = '\0';
    }
    return *slot;
}
static unsigned cc_lookup(gen *g, uint32_t a)
{
    char cc[3] = "ZZ";
    if (!g->p->country_of || g->p->country_of(g->p->country_ctx, a, cc) != 0)
        return 0;
    return ds_synth_cc_intern(g, cc);
}

/* Sample the public space through the callback once, so that later draws can propose addresses
 * near known addresses of the wanted country instead of blind draws (a blind rejection sampler
 * needs ~25 lookups per accepted VN or TW address; this needs one or two). */
#define POOL_SIZE (1u << 17)
ds_rc ds_synth_build_pool(gen *g, rng *r)
{
    uint32_t *raw = malloc(POOL_SIZE * sizeof *raw);
    uint8_t *rawcc = malloc(POOL_SIZE);
    uint32_t count[257] = { 0 };
    ds_rc rc = DS_ENOMEM;
    g->pool = malloc(POOL_SIZE * sizeof *g->pool);
    if (!raw || !rawcc || !g->pool) {
        ds_fail(g->err, DS_ENOMEM, "synth: out of memory for the country sample");
        goto out;
    }
    for (uint32_t i = 0; i < POOL_SIZE; i++) {
        raw[i] = random_public(g, r);
        rawcc[i] = (uint8_t)cc_lookup(g, raw[i]);
        count[rawcc[i]]++;
    }
    g->pool_start[0] = 0;
    for (unsigned c = 0; c < 256; c++)
        g->pool_start[c + 1] = g->pool_start[c] + count[c];
    uint32_t fill[256];
    memcpy(fill, g->pool_start, sizeof fill);
    for (uint32_t i = 0; i < POOL_SIZE; i++)
        g->pool[fill[rawcc[i]]++] = raw[i];
    rc = DS_OK;
out:
    free(raw);
    free(rawcc);
    return rc;
}

static int table_has(gen *g, const cc_weight *t, size_t n, unsigned idx)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(t[i].cc, "rest") && ds_synth_cc_intern(g, t[i].cc) == idx)
            return 1;
    return 0;
}

/* Draw a source address whose country follows table t; *cc gets its country index. */
uint32_t ds_synth_draw_source(gen *g, rng *r, const cc_weight *t, size_t n, uint8_t *cc)
{
    *cc = 0;
    if (!g->p->country_of || !g->pool) {
        return random_public(g, r);
    }
    double total = 0;
    for (size_t i = 0; i < n; i++)
        total += t[i].w;
    for (int tries = 0; tries < 64; tries++) {
        double x = rng_unit(r) * total;
        size_t e = 0;
        while (e + 1 < n && x >= t[e].w) {
            x -= t[e].w;
            e++;
        }
        int rest = strcmp(t[e].cc, "rest") == 0;
        unsigned want = rest ? 0 : ds_synth_cc_intern(g, t[e].cc);
        uint32_t seed;
        if (rest) {
            /* any sampled address whose country is not named in the table */
            uint32_t known = POOL_SIZE - g->pool_start[1];
            if (!known)
                continue;
            seed = g->pool[g->pool_start[1] + rng_below(r, known)];
        } else {
            uint32_t lo = g->pool_start[want], cnt = g->pool_start[want + 1] - lo;
            if (!cnt)
                continue;
            seed = g->pool[lo + rng_below(r, cnt)];
        }
        uint32_t cand = (seed & ~0xfffu) | rng_below(r, 4096);
        if (excluded4(g, cand))
            continue;
        unsigned got = cc_lookup(g, cand);
        if (rest ? (got == 0 || table_has(g, t, n, got)) : got != want)
            continue;
        *cc = (uint8_t)got;
        return cand;
    }
    uint32_t a = random_public(g, r);
    *cc = (uint8_t)cc_lookup(g, a);
    return a;
}
