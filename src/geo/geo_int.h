/* geo_int.h: what the geo loaders, the table compiler and the cache share (not a public API).
 *
 * Pipeline at open:  loaders (geo_csv.c, geo_mmdb.c) append inclusive ranges [start, end] -> value
 * to a geo_sink, one range list per (role, family); geo_table.c turns each list into a partition
 * of the whole address space (overlaps resolved, gaps = unknown), merges the country and ASN
 * partitions into one table of (start, pair) with pair = (country, ASN), and serialises that
 * into one flat "image".  The same image is what the cache file holds, so a fresh build and a
 * warm mmap'd cache are attached to a ds_geo by the same validating code (geo_image_attach).
 *
 * Keys are held as unsigned __int128 while building (IPv4 in the low 32 bits), so one range
 * compiler serves both families; the attached tables use u32 (IPv4) and 2 x u64 (IPv6) keys.
 */
#ifndef DS_GEO_INT_H
#define DS_GEO_INT_H
#include <stddef.h>
#include <stdint.h>

#include "geo/geo.h"

typedef unsigned __int128 geo_u128;

enum { GEO_ROLE_COUNTRY = 0, GEO_ROLE_ASN = 1, GEO_NROLES = 2 };
enum { GEO_V4 = 0, GEO_V6 = 1, GEO_NFAMS = 2 };
#define GEO_FAM_BIT(f) (1u << (f))
#define GEO_FAM_BOTH (GEO_FAM_BIT(GEO_V4) | GEO_FAM_BIT(GEO_V6))

static inline geo_u128 geo_fam_max(int fam)
{
    return fam == GEO_V4 ? (geo_u128)UINT32_MAX : ~(geo_u128)0;
}

/* Country values are (c0 << 8 | c1) of upper-case ASCII; 0 = unknown.  ASN values are the ASN. */
static inline uint32_t geo_cc_pack(char c0, char c1)
{
    return (uint32_t)(uint8_t)c0 << 8 | (uint8_t)c1;
}

/* ---- u64 -> u32 open-addressing hash map (build time only) ---- */
typedef struct geo_map {
    uint64_t *keys;
    uint32_t *vals;
    uint8_t *used;
    size_t cap, n;      /* cap is a power of two */
} geo_map;
/* Returns a pointer to the value slot for key, inserting it with *inserted = 1 if absent;
 * NULL when out of memory. */
uint32_t *geo_map_put(geo_map *m, uint64_t key, int *inserted);
const uint32_t *geo_map_get(const geo_map *m, uint64_t key);
void geo_map_free(geo_map *m);

/* ---- what loaders feed ---- */
typedef struct geo_range {
    geo_u128 start, end;  /* inclusive */
    uint32_t val;
    uint32_t seq;         /* input order, for "later wins" */
} geo_range;

typedef struct geo_ranges {
    geo_range *v;
    size_t n, cap;
} geo_ranges;

/* ASN -> organisation name, first name seen for an ASN wins. */
typedef struct geo_orgs {
    geo_map by_asn;       /* asn -> offset into blob */
    char *blob;           /* NUL-terminated names; offset 0 is "" */
    size_t len, cap;
} geo_orgs;

typedef struct geo_sink {
    geo_ranges fam[GEO_NROLES][GEO_NFAMS];
    geo_orgs orgs;
    uint32_t seq;
} geo_sink;

ds_rc geo_sink_add(geo_sink *s, int role, int fam, geo_u128 start, geo_u128 end, uint32_t val,
                   ds_err *err);
ds_rc geo_org_set(geo_sink *s, uint32_t asn, const char *name, size_t len, ds_err *err);
void geo_sink_free(geo_sink *s);

/* Loaders.  fams: which families (GEO_FAM_BIT) to take from the file. */
ds_rc geo_load_csv(geo_sink *s, int role, const char *path, unsigned fams, ds_err *err);
ds_rc geo_load_mmdb(geo_sink *s, int role, const char *path, unsigned fams, ds_err *err);
/* IP version from an MMDB's metadata (4 or 6), 0 when the file cannot be opened as MMDB. */
int geo_mmdb_ip_version(const char *path);

/* ---- the compiled image (also the cache file format) ---- */
#define GEO_IMAGE_MAGIC "DSGEOTB\n"
#define GEO_IMAGE_VERSION 1u
#define GEO_IMAGE_BYTE_ORDER 0x01020304u
#define GEO_INDEX_N 65537u  /* first-level index on the top 16 bits, plus a sentinel */

typedef struct geo_image_header {
    char magic[8];
    uint32_t version;
    uint32_t byte_order;
    uint64_t total_size;      /* whole image, header included */
    uint64_t payload_hash;    /* XXH3-64 of bytes [sizeof header, total_size) */
    uint64_t sources_off, sources_len;   /* description of the inputs; compared on open */
    uint64_t v4_n, v4_index_off, v4_start_off, v4_val_off;
    uint64_t v6_n, v6_index_off, v6_start_off, v6_val_off;
    uint64_t npairs, pairs_off;
    uint64_t norgs, orgs_off;
    uint64_t strings_len, strings_off;
} geo_image_header;

typedef struct geo_pair {
    uint32_t asn;
    char cc[2];               /* "ZZ" = unknown */
    uint16_t pad;
} geo_pair;

typedef struct geo_org {
    uint32_t asn;
    uint32_t name_off;        /* into the strings section */
} geo_org;

struct ds_geo {
    const uint32_t *v4_index, *v4_start, *v4_val;
    size_t v4_n;
    const uint32_t *v6_index, *v6_val;
    const uint64_t *v6_start;  /* two per entry: high 64 bits, low 64 bits */
    size_t v6_n;
    const geo_pair *pairs;
    size_t npairs;
    const geo_org *orgs;
    size_t norgs;
    const char *strings;
    size_t strings_len;
    void *mem;                 /* the image: malloc'd or mmap'd */
    size_t mem_len;
    int mapped;
};

/* Compile the sink into an image (malloc'd; *out owned by caller). */
ds_rc geo_image_build(geo_sink *s, const char *sources, size_t sources_len, uint8_t **out,
                      size_t *out_len, ds_err *err);
/* Check an image (bounds, ordering, hash, and that it describes `sources`) and point g's tables
 * into it.  Returns DS_OK or DS_EFORMAT; never reads outside [img, img + len). */
/* What the table says of an address, without ds_geo_lookup's special-purpose override: for the
 * tests of the table against its inputs. */
void geo_table_lookup(const ds_geo *g, const ds_ip *ip, ds_geo_info *out);

ds_rc geo_image_attach(ds_geo *g, const uint8_t *img, size_t len, const char *sources,
                       size_t sources_len, ds_err *err);

#endif
