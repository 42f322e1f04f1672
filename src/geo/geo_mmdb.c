/* geo_mmdb.c: loads a MaxMind DB file into a geo_sink by walking its whole search tree.
 *
 * Spec: MaxMind DB File Format 2.0 (https://maxmind.github.io/MaxMind-DB/).  The search tree is
 * a binary trie over the address bits; each node has two records, each pointing to another
 * node, to "no data", or into the data section.  We use libmaxminddb's documented
 * MMDB_read_node() to read nodes and MMDB_get_value() to decode data entries, so the file's
 * bytes are only ever interpreted by libmaxminddb's bounds-checked code.
 *
 * Walking depth-first, left (0) before right (1), visits the leaves in address order, so each
 * data record yields one prefix range and the ranges come out sorted and disjoint; adjacent
 * ranges with the same value are coalesced on the fly.  Distinct data entries are few (about
 * 250 countries, ~80k ASNs) against ~10^6 leaves, so decoded values are memoised by data offset.
 *
 * IPv6 trees: IPv4 lives under ::/96.  We find that node (following 96 zero bits) and walk it as
 * the IPv4 table.  In the IPv6 walk any record pointing to that node is skipped: at ::/96 it is
 * the IPv4 data just taken, elsewhere it is an alias (MaxMind aliases ::ffff:0:0/96, 2001::/32
 * and 2002::/16 to it).  ds_geo_lookup answers ::/96 and ::ffff:0:0/96 from the IPv4 table.
 *
 * Data layouts: country from `country_code` (ip-location-db) or `country.iso_code` (GeoLite2 /
 * GeoIP2 Country and City); ASN from `autonomous_system_number` and
 * `autonomous_system_organization` (both layouts use these names).
 *
 * A corrupt tree with shared subtrees could make a walk exponential, so the walk gives up with
 * DS_EFORMAT after visiting more than twice the node count.
 */
#include <errno.h>
#include <maxminddb.h>
#include <string.h>

#include "geo/geo_int.h"

#define NO_NODE UINT64_MAX

typedef struct mmdb_walk {
    geo_sink *s;
    MMDB_s *db;
    const char *path;
    int role;
    geo_map memo;             /* data offset -> decoded value */
    uint64_t visits, max_visits;
    int have_pending;         /* range being coalesced */
    int pending_fam;
    geo_u128 pending_start, pending_end;
    uint32_t pending_val;
} mmdb_walk;

static ds_rc mmdb_err(ds_err *err, const char *path, int status, const char *what)
{
    ds_rc rc = (status == MMDB_FILE_OPEN_ERROR || status == MMDB_IO_ERROR) ? DS_EIO : DS_EFORMAT;
    if (status == MMDB_IO_ERROR || status == MMDB_FILE_OPEN_ERROR)
        return ds_fail(err, rc, "%s: %s: %s (%s)", path, what, MMDB_strerror(status),
                       strerror(errno));
    return ds_fail(err, rc, "%s: %s: %s", path, what, MMDB_strerror(status));
}

/* Fetch a value at path, tolerating "not there" (returns 0 with has_data == false). */
static int get_value(MMDB_entry_s *entry, MMDB_entry_data_s *out, const char *const *path)
{
    int status = MMDB_aget_value(entry, out, path);
    if (status == MMDB_LOOKUP_PATH_DOES_NOT_MATCH_DATA_ERROR ||
        status == MMDB_INVALID_LOOKUP_PATH_ERROR) {
        out->has_data = false;
        return MMDB_SUCCESS;
    }
    return status;
}

static ds_rc decode_value(mmdb_walk *w, MMDB_entry_s *entry, uint32_t *val, ds_err *err)
{
    int inserted;
    uint32_t *slot = geo_map_put(&w->memo, entry->offset, &inserted);
    if (!slot)
        return ds_fail(err, DS_ENOMEM, "%s: out of memory", w->path);
    if (!inserted) {
        *val = *slot;
        return DS_OK;
    }
    MMDB_entry_data_s d;
    int status;
    *val = 0;
    if (w->role == GEO_ROLE_COUNTRY) {
        static const char *const flat[] = { "country_code", NULL };
        static const char *const nested[] = { "country", "iso_code", NULL };
        status = get_value(entry, &d, flat);
        if (status == MMDB_SUCCESS && !d.has_data)
            status = get_value(entry, &d, nested);
        if (status != MMDB_SUCCESS)
            return mmdb_err(err, w->path, status, "cannot decode a country record");
        if (d.has_data && d.type == MMDB_DATA_TYPE_UTF8_STRING && d.data_size == 2) {
            char c0 = d.utf8_string[0], c1 = d.utf8_string[1];
            if (c0 >= 'a' && c0 <= 'z')
                c0 = (char)(c0 - 'a' + 'A');
            if (c1 >= 'a' && c1 <= 'z')
                c1 = (char)(c1 - 'a' + 'A');
            *val = (c0 == 'Z' && c1 == 'Z') ? 0 : geo_cc_pack(c0, c1);
        }
    } else {
        static const char *const num[] = { "autonomous_system_number", NULL };
        static const char *const org[] = { "autonomous_system_organization", NULL };
        status = get_value(entry, &d, num);
        if (status != MMDB_SUCCESS)
            return mmdb_err(err, w->path, status, "cannot decode an ASN record");
        if (d.has_data) {
            if (d.type == MMDB_DATA_TYPE_UINT32)
                *val = d.uint32;
            else if (d.type == MMDB_DATA_TYPE_UINT16)
                *val = d.uint16;
            else if (d.type == MMDB_DATA_TYPE_INT32 && d.int32 >= 0)
                *val = (uint32_t)d.int32;
            else if (d.type == MMDB_DATA_TYPE_UINT64 && d.uint64 <= UINT32_MAX)
                *val = (uint32_t)d.uint64;
        }
        if (*val) {
            status = get_value(entry, &d, org);
            if (status != MMDB_SUCCESS)
                return mmdb_err(err, w->path, status, "cannot decode an ASN record");
            int has_org = d.has_data && d.type == MMDB_DATA_TYPE_UTF8_STRING;
            ds_rc rc = geo_org_set(w->s, *val, has_org ? d.utf8_string : "",
                                   has_org ? d.data_size : 0, err);
            if (rc != DS_OK)
                return rc;
        }
    }
    *slot = *val;
    return DS_OK;
}

static ds_rc flush_pending(mmdb_walk *w, ds_err *err)
{
    if (!w->have_pending)
        return DS_OK;
    w->have_pending = 0;
    return geo_sink_add(w->s, w->role, w->pending_fam, w->pending_start, w->pending_end,
                        w->pending_val, err);
}

static ds_rc emit(mmdb_walk *w, int fam, geo_u128 start, geo_u128 end, uint32_t val, ds_err *err)
{
    if (val == 0)
        return DS_OK;
    if (w->have_pending && w->pending_fam == fam && w->pending_val == val &&
        w->pending_end + 1 == start) {
        w->pending_end = end;
        return DS_OK;
    }
    ds_rc rc = flush_pending(w, err);
    if (rc != DS_OK)
        return rc;
    w->have_pending = 1;
    w->pending_fam = fam;
    w->pending_start = start;
    w->pending_end = end;
    w->pending_val = val;
    return DS_OK;
}

/* A record still to handle during the walk: a node to descend into or data to emit. */
typedef struct walk_item {
    geo_u128 base;           /* address prefix of the record (host bits zero) */
    MMDB_entry_s entry;      /* for data records */
    uint64_t node;           /* for node records */
    int depth;               /* prefix length of the record */
    uint8_t type;
} walk_item;

static ds_rc handle_data(mmdb_walk *w, const walk_item *it, int bits, int fam, ds_err *err)
{
    int host_bits = bits - it->depth;
    geo_u128 span = host_bits >= 128 ? ~(geo_u128)0 : (((geo_u128)1 << host_bits) - 1);
    uint32_t val = 0;
    MMDB_entry_s entry = it->entry;
    ds_rc rc = decode_value(w, &entry, &val, err);
    if (rc != DS_OK)
        return rc;
    return emit(w, fam, it->base, it->base | span, val, err);
}

/* Walk the subtree under node `root`, which sits `root_depth` bits into a tree `bits` deep.
 * Addresses are the low bits of the path (so an IPv4 subtree at depth 96 yields 32-bit
 * values).  Records pointing to skip_node are not followed. */
static ds_rc walk_tree(mmdb_walk *w, uint64_t root, int root_depth, int bits, int fam,
                       uint64_t skip_node, ds_err *err)
{
    walk_item stack[2 * 130];
    size_t sp = 0;
    uint32_t node_count = w->db->metadata.node_count;
    memset(&stack[0], 0, sizeof stack[0]);
    stack[0].node = root;
    stack[0].depth = root_depth;
    stack[0].type = MMDB_RECORD_TYPE_SEARCH_NODE;
    sp = 1;
    while (sp) {
        walk_item it = stack[--sp];
        ds_rc rc;
        if (it.type == MMDB_RECORD_TYPE_DATA) {
            rc = handle_data(w, &it, bits, fam, err);
            if (rc != DS_OK)
                return rc;
            continue;
        }
        if (it.type != MMDB_RECORD_TYPE_SEARCH_NODE)
            continue;                                   /* empty: a gap */
        if (++w->visits > w->max_visits)
            return ds_fail(err, DS_EFORMAT, "%s: search tree revisits nodes (corrupt file)",
                           w->path);
        if (it.depth >= bits || it.node >= node_count)
            return ds_fail(err, DS_EFORMAT, "%s: bad search tree record at depth %d", w->path,
                           it.depth);
        MMDB_search_node_s sn;
        int status = MMDB_read_node(w->db, (uint32_t)it.node, &sn);
        if (status != MMDB_SUCCESS)
            return mmdb_err(err, w->path, status, "cannot read search tree node");
        int host_bits = bits - (it.depth + 1);
        /* Right is pushed first so that left is handled first: address order. */
        for (int side = 1; side >= 0; side--) {
            walk_item c;
            memset(&c, 0, sizeof c);
            c.type = side ? sn.right_record_type : sn.left_record_type;
            c.node = side ? sn.right_record : sn.left_record;
            c.entry = side ? sn.right_record_entry : sn.left_record_entry;
            c.base = it.base | ((geo_u128)side << host_bits);
            c.depth = it.depth + 1;
            if (c.type == MMDB_RECORD_TYPE_INVALID)
                return ds_fail(err, DS_EFORMAT, "%s: invalid record in search tree node %llu",
                               w->path, (unsigned long long)it.node);
            if (c.type == MMDB_RECORD_TYPE_EMPTY ||
                (c.type == MMDB_RECORD_TYPE_SEARCH_NODE && c.node == skip_node))
                continue;
            if (sp == sizeof stack / sizeof stack[0])
                return ds_fail(err, DS_EFORMAT, "%s: search tree too deep", w->path);
            stack[sp++] = c;
        }
    }
    return DS_OK;
}

int geo_mmdb_ip_version(const char *path)
{
    MMDB_s db;
    if (MMDB_open(path, MMDB_MODE_MMAP, &db) != MMDB_SUCCESS)
        return 0;
    int v = db.metadata.ip_version;
    MMDB_close(&db);
    return v;
}

ds_rc geo_load_mmdb(geo_sink *s, int role, const char *path, unsigned fams, ds_err *err)
{
    ds_rc rc = DS_OK;
    MMDB_s db;
    mmdb_walk w;
    memset(&w, 0, sizeof w);
    int status = MMDB_open(path, MMDB_MODE_MMAP, &db);
    if (status != MMDB_SUCCESS)
        return mmdb_err(err, path, status, "cannot open as MaxMind DB");
    w.s = s;
    w.db = &db;
    w.path = path;
    w.role = role;
    w.max_visits = 2 * (uint64_t)db.metadata.node_count + 64;

    int v6tree = db.metadata.ip_version == 6;
    if (!v6tree && db.metadata.ip_version != 4) {
        rc = ds_fail(err, DS_EFORMAT, "%s: MaxMind DB ip_version %u is neither 4 nor 6", path,
                     (unsigned)db.metadata.ip_version);
        goto out;
    }
    if (!v6tree) {
        if (fams & GEO_FAM_BIT(GEO_V4))
            rc = walk_tree(&w, 0, 0, 32, GEO_V4, NO_NODE, err);
        goto out;
    }

    /* IPv6 tree: locate ::/96, the IPv4 subtree. */
    uint64_t v4node = 0, skip = NO_NODE;
    int depth = 0;
    walk_item leaf;
    memset(&leaf, 0, sizeof leaf);
    leaf.type = MMDB_RECORD_TYPE_SEARCH_NODE;
    while (depth < 96) {
        MMDB_search_node_s sn;
        if (v4node >= db.metadata.node_count) {
            rc = ds_fail(err, DS_EFORMAT, "%s: bad search tree record on the ::/96 path", path);
            goto out;
        }
        status = MMDB_read_node(&db, (uint32_t)v4node, &sn);
        if (status != MMDB_SUCCESS) {
            rc = mmdb_err(err, path, status, "cannot read search tree node");
            goto out;
        }
        depth++;
        if (sn.left_record_type != MMDB_RECORD_TYPE_SEARCH_NODE) {
            leaf.type = sn.left_record_type;
            leaf.entry = sn.left_record_entry;
            break;
        }
        v4node = sn.left_record;
    }
    if (fams & GEO_FAM_BIT(GEO_V4)) {
        if (leaf.type == MMDB_RECORD_TYPE_SEARCH_NODE) {
            rc = walk_tree(&w, v4node, 96, 128, GEO_V4, NO_NODE, err);
        } else if (leaf.type == MMDB_RECORD_TYPE_DATA) {
            leaf.depth = 96;              /* the whole IPv4 space */
            rc = handle_data(&w, &leaf, 128, GEO_V4, err);
        }
        if (rc == DS_OK)
            rc = flush_pending(&w, err);
        if (rc != DS_OK)
            goto out;
    }
    if (leaf.type == MMDB_RECORD_TYPE_SEARCH_NODE)
        skip = v4node;
    if (fams & GEO_FAM_BIT(GEO_V6))
        rc = walk_tree(&w, 0, 0, 128, GEO_V6, skip, err);
out:
    if (rc == DS_OK)
        rc = flush_pending(&w, err);
    geo_map_free(&w.memo);
    MMDB_close(&db);
    return rc;
}
