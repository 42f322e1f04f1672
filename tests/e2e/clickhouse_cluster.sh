# The ClickHouse store on a 2-shard cluster (issue #23): two servers of the test's own
# (clickhouse.bash, ch_start_cluster: loopback, one <remote_servers> cluster `two`), the store's
# per-file tables Distributed over NAME_local tables on both shards (srcsvc by sipHash64(src)),
# meta/sensors/files/inflight, the collector's ledger and the payloads on shard 1 (docs/clickhouse.md,
# "A cluster").
#   init          store init creates the local tables on both shards and the Distributed ones;
#                 store info names the cluster; [store] cluster / shards make the same URL
#   differential  the same captures into SQLite and into the cluster: byte-identical `top` (every
#                 dimension, filters; from the rollup tables and, DS_NO_ROLLUP=1, the per-source
#                 rows), `events`, `report --format json`, `stats`; rows on both shards, each
#                 shard's rollups built from its own per-source rows
#   migrate       the rollups emptied (a store from before them): the per-source rows answer;
#                 `store migrate` builds them on both shards, the same answers
#   months        month rollups (ch_months.c) built by ingest, on shard 1 only; rows of a stale
#                 signature ignored; rows of the current one read (damaged: top fails); none: the
#                 rollup tables answer; a late file: rebuilt; the same answers throughout
#   granularity   a chunks table from before one mark per chunk (index_granularity 8192) on both
#                 shards: `store migrate` rebuilds it, the same answers
#   duplicates    the same bytes refused
#   kill          an ingest killed before its files row leaves nothing visible; the next ingest
#                 deletes its rows (rollups too) on both shards and counts the file once
#   layouts       a cluster store opened as one server, an unknown cluster, the wrong shard count,
#                 shards= without cluster=: clear errors
source "$(dirname "$0")/lib.bash"
source "$ROOT/tests/e2e/clickhouse.bash"
ch_start_cluster ds two
write_conf
URL=$CH_CLUSTER_URL
# the same store through [store] url + cluster + shards
sed "s|^path = .*|url = clickhouse://127.0.0.1:$CH_HTTP/ds\ncluster = two\nshards = 127.0.0.1:$CH_HTTP,127.0.0.1:$CH_HTTP2|" \
    darkscope.conf > ch.conf
echo "ClickHouse $CH_VERSION, shards on 127.0.0.1:$CH_HTTP and 127.0.0.1:$CH_HTTP2"

# ---- init
$DS store init -c ch.conf > init.out || fail "store init: $(cat init.out)"
grep -q "ClickHouse $CH_VERSION, schema 2, cluster two (2 shards)" init.out || fail "store init: $(cat init.out)"
for q in chq chq2; do
    n=$($q "SELECT count() FROM system.tables WHERE database = 'ds' AND name LIKE '%_local'")
    [ "$n" = 8 ] || fail "$q: $n local tables, not 8 (4 per-file tables, 4 rollups)"
done
[ "$(chq "SELECT count() FROM system.tables WHERE database = 'ds' AND engine = 'Distributed'")" = 8 ] ||
    fail "shard 1 has not the 8 Distributed tables"
[ "$(chq2 "SELECT count() FROM system.tables WHERE database = 'ds' AND name IN ('files', 'rollup_files')")" = 0 ] ||
    fail "shard 2 has a files or rollup_files table: the commit must be in one place"
# the collector's ledger and the payloads: small tables, on the URL's server only
LEDGER="'collector_segments', 'collector_health', 'payload_files', 'payload_data', 'payloads'"
[ "$(chq "SELECT count() FROM system.tables WHERE database = 'ds' AND name IN ($LEDGER) AND engine LIKE '%MergeTree'")" = 5 ] ||
    fail "shard 1 lacks the ledger and payload tables"
[ "$(chq2 "SELECT count() FROM system.tables WHERE database = 'ds' AND name IN ($LEDGER)")" = 0 ] ||
    fail "shard 2 has ledger or payload tables"
$DS store migrate --db "$URL" > /dev/null || fail "store migrate on the cluster"
$DS store info --db "$URL" | grep -q "cluster two (2 shards)" || fail "store info does not name the cluster"

# ---- the captures, into both stores
$DS synth -q -o a.pcap --days 14 --rate 4000 --seed 7
$DS synth -q -o b.pcap --days 5 --rate 3000 --seed 8 --start 2023-07-20
files=(a.pcap b.pcap)
REAL=$ROOT/../shared/corpus/realism
for f in "$REAL"/*.pcap*; do [ -f "$f" ] && files+=("$f"); done
for f in "${files[@]}"; do
    a=0; b=0
    $DS ingest -q "$f" 2> sq.err || a=$?
    $DS ingest -q -c ch.conf "$f" 2> ch.err || b=$?
    [ "$a" = "$b" ] || fail "ingest $f: SQLite exit $a, cluster exit $b: $(cat ch.err)"
done
echo "ingested ${#files[@]} captures into both stores"
s1=$(chq "SELECT count() FROM ds.srcsvc_local"); s2=$(chq2 "SELECT count() FROM ds.srcsvc_local")
[ "$s1" -gt 0 ] && [ "$s2" -gt 0 ] || fail "per-source rows not on both shards ($s1, $s2)"
[ "$(chq "SELECT count() FROM ds.srcsvc_local WHERE sipHash64(src) % 2 != 0")" = 0 ] ||
    fail "shard 1 holds sources of shard 2: not sharded by sipHash64(src)"
[ "$(chq2 "SELECT count() FROM ds.srcsvc_local WHERE sipHash64(src) % 2 != 1")" = 0 ] ||
    fail "shard 2 holds sources of shard 1"
# the per-file tables by file (a file's chunks on one shard: which one is the hash's)
for t in chunks counts coverage; do
    [ "$(chq "SELECT count() FROM ds.${t}_local WHERE sipHash64(file_id) % 2 != 0")" = 0 ] &&
        [ "$(chq2 "SELECT count() FROM ds.${t}_local WHERE sipHash64(file_id) % 2 != 1")" = 0 ] ||
        fail "$t: rows on the shard their sipHash64(file_id) does not name"
done
c1=$(chq "SELECT count() FROM ds.chunks_local"); c2=$(chq2 "SELECT count() FROM ds.chunks_local")
# each shard's rollups come from its own per-source rows (srcsvc is sharded by source)
for q in chq chq2; do
    [ "$($q "SELECT sum(packets) FROM ds.srcsvc_local")" = "$($q "SELECT sumMerge(packets) FROM ds.rollup_all_local")" ] ||
        fail "$q: the rollups do not sum the shard's own per-source rows"
    [ "$($q "SELECT uniqExact(src) FROM ds.srcsvc_local")" = "$($q "SELECT uniqExactMerge(sources) FROM ds.rollup_all_local")" ] ||
        fail "$q: the rollups do not count the shard's own sources"
done
[ "$(chq "SELECT count() FROM ds.rollup_files")" = "$(chq "SELECT count() FROM ds.files")" ] ||
    fail "not every file has its rollups"
echo "rows on both shards: srcsvc $s1 + $s2, chunks $c1 + $c2"

same=0
compare() { # COMMAND...: the same bytes and exit status from both stores
    local a=0 b=0
    $DS "$@" > sq.out 2>&1 || a=$?
    $DS "$@" -c ch.conf > ch.out 2>&1 || b=$?
    [ "$a" = "$b" ] || fail "$*: SQLite exit $a, cluster exit $b: $(head -3 ch.out)"
    cmp -s sq.out ch.out || { diff sq.out ch.out | head -20 >&2; fail "$*: the stores answer differently"; }
    same=$((same + 1))
    if [ "$1" = top ]; then   # the cluster's other paths: the per-source rows, the rollup tables (ch_query.c)
        DS_NO_ROLLUP=1 $DS "$@" -c ch.conf > ch.out 2>&1 || b=$?
        cmp -s sq.out ch.out || { diff sq.out ch.out | head -20 >&2; fail "$* (DS_NO_ROLLUP=1): the stores answer differently"; }
        DS_ROLLUP_DAYS=1 $DS "$@" -c ch.conf > ch.out 2>&1 || b=$?
        cmp -s sq.out ch.out || { diff sq.out ch.out | head -20 >&2; fail "$* (DS_ROLLUP_DAYS=1): the stores answer differently"; }
    fi
}
P=(--from 2023-07-01 --to 2023-07-31)
for fmt in table json; do
    for dim in ports countries asns sources; do compare top "$dim" "${P[@]}" -n 30 --format "$fmt"; done
done
compare top ports "${P[@]}" -n 0 --format json
compare top ports "${P[@]}" --sensor tokyo --format json
compare top ports "${P[@]}" --class backscatter --format json
compare top countries "${P[@]}" --where port=23/tcp --format json
compare top ports "${P[@]}" --where country=CN --format json
compare top asns "${P[@]}" --where port=445/tcp --format json
compare top sources --from 2023-07-20 --to 2023-07-24 --where port=23/tcp --format json
compare top sources "${P[@]}" -n 0 --format json   # pushed down: GROUP BY src over the Distributed srcsvc
compare top sources "${P[@]}" --sensor osaka --class backscatter -n 20 --format json
compare top ports "${P[@]}" --where port=23/tcp --where port=445/tcp --class scan --format json
compare top countries "${P[@]}" --where country=CN --where country=US --sensor osaka
compare top ports --format json
compare stats
compare stats --format json
compare events "${P[@]}"
compare events "${P[@]}" --format json
compare report "${P[@]}" --format json
echo "differential: $same comparisons byte-identical"
# ---- migrate: the rollups emptied as in a store from before them, then built by store migrate
chq "TRUNCATE TABLE ds.rollup_files"
for q in chq chq2; do for t in service country asn all; do $q "TRUNCATE TABLE ds.rollup_${t}_local"; done; done
compare top ports "${P[@]}" --format json
$DS store migrate -c ch.conf > mig.out || fail "store migrate: $(cat mig.out)"
grep -q "rollups built for $(chq "SELECT count() FROM ds.files") files" mig.out || fail "store migrate: $(cat mig.out)"
[ "$(chq2 "SELECT count() FROM ds.rollup_service_local")" -gt 0 ] || fail "store migrate built nothing on shard 2"
for dim in ports countries asns; do compare top "$dim" "${P[@]}" -n 30 --format json; done
compare top asns "${P[@]}" --class scan --sensor tokyo
echo "migrate: rollups built on both shards, the same answers"
UNIT=${DS_UNIT_DIR:-$(dirname "$DS")/tests}/test_ch_diff
if [ -x "$UNIT" ]; then
    DS_SQ_STORE=$T/store.db DS_CH_STORE=$URL "$UNIT" > unit.out 2>&1 || { cat unit.out; fail "test_ch_diff on the cluster"; }
    echo "cubes and top with source sets: the same (test_ch_diff)"
else
    echo "note: $UNIT not built (make unit-bins): cube comparison not run"
fi

# ---- months: built by ingest for the closed months, on the URL's server only
nm=$(chq "SELECT count() FROM ds.rollup_months")
[ "$nm" -gt 0 ] && [ $((nm % 4)) = 0 ] || fail "ingest built no month rollups (or not four a month): $nm rows"
[ "$(chq2 "SELECT count() FROM system.tables WHERE database = 'ds' AND name LIKE 'rollup_months%'")" = 0 ] ||
    fail "shard 2 has a rollup_months table"
MONTHQ=(ports countries asns)
# rows of another signature (a file committed or superseded since): never read, even damaged and newer
chq "INSERT INTO ds.rollup_months SELECT sensor_id, month, toUInt8(40), n, sig + 1, nrec, data, ver + 1 FROM ds.rollup_months WHERE kind = 43"
for dim in "${MONTHQ[@]}"; do compare top "$dim" "${P[@]}" -n 30 --format json; done
compare report "${P[@]}" --format json
# rows of the current signature are what top reads: damaged ones (another dimension's bytes) fail
chq "INSERT INTO ds.rollup_months SELECT sensor_id, month, toUInt8(40), n, sig, nrec, data, ver + 2 FROM ds.rollup_months WHERE kind = 43 AND sig IN (SELECT sig FROM ds.rollup_months WHERE kind = 40)"
st=0; $DS top ports "${P[@]}" -c ch.conf > e 2>&1 || st=$?
[ "$st" != 0 ] || fail "top ports did not read the month rollups (damaged ones went unnoticed)"
DS_ROLLUP_DAYS=1 $DS top ports "${P[@]}" -c ch.conf > /dev/null || fail "DS_ROLLUP_DAYS=1 still reads the month rollups"
# none: the rollup tables answer; a late file (both stores): its month built again
chq "TRUNCATE TABLE ds.rollup_months"
for dim in "${MONTHQ[@]}"; do compare top "$dim" "${P[@]}" --format json; done
$DS synth -q -o late.pcap --days 1 --rate 2000 --seed 10 --start 2023-07-27
$DS ingest -q late.pcap && $DS ingest -q -c ch.conf late.pcap || fail "ingest of a late file"
[ "$(chq "SELECT count() FROM ds.rollup_months")" -gt 0 ] || fail "the late file's ingest built no month rollups"
for dim in "${MONTHQ[@]}"; do compare top "$dim" "${P[@]}" -n 30 --format json; done
compare top ports --format json
compare report "${P[@]}" --format json
echo "months: built on shard 1, stale rows ignored, current ones read, rebuilt after a late file"

# ---- granularity: chunks tables as a store before one mark per chunk had them, then store migrate
for q in chq chq2; do
    $q "CREATE TABLE ds.chunks_old AS ds.chunks_local ENGINE = MergeTree PARTITION BY toYYYYMM(day) ORDER BY (kind, day, sensor_id, file_id) SETTINGS index_granularity = 8192"
    $q "INSERT INTO ds.chunks_old SELECT * FROM ds.chunks_local"
    $q "RENAME TABLE ds.chunks_local TO ds.chunks_new, ds.chunks_old TO ds.chunks_local"
    $q "DROP TABLE ds.chunks_new"
done
compare events "${P[@]}" --format json
$DS store migrate -c ch.conf > mig.out || fail "store migrate: $(cat mig.out)"
grep -q "chunks table rebuilt with one mark per chunk on 2 servers" mig.out || fail "store migrate: $(cat mig.out)"
for q in chq chq2; do
    $q "SELECT engine_full FROM system.tables WHERE database = 'ds' AND name = 'chunks_local'" | grep -q "index_granularity = 1$" ||
        fail "$q: chunks_local not rebuilt"
    [ "$($q "SELECT count() FROM system.tables WHERE database = 'ds' AND name LIKE 'chunks_local_%'")" = 0 ] ||
        fail "$q: store migrate left a table behind"
done
$DS store migrate -c ch.conf > mig.out || fail "store migrate again: $(cat mig.out)"
grep -q "chunks table" mig.out && fail "store migrate rebuilt the chunks table twice: $(cat mig.out)"
compare events "${P[@]}" --format json
compare report "${P[@]}" --format json
compare top sources "${P[@]}" --format json
echo "granularity: store migrate rebuilt both shards' chunks tables, the same answers"

# ---- duplicates
$DS ingest -c ch.conf a.pcap 2> e || true
grep -q "skipped a.pcap: already ingested" e || fail "duplicate not refused on the cluster: $(cat e)"

# ---- kill: every row sent to both shards, no files row
$DS synth -q -o k.pcap --days 3 --rate 3000 --seed 9 --start 2023-07-08
before=$($DS top ports -c ch.conf "${P[@]}" --format json)
before_stats=$($DS stats -c ch.conf --format json)
st=$( (DS_CH_FAULT=before_files_row "$DS" ingest -q -c ch.conf k.pcap 2>/dev/null; echo $?) 2>/dev/null)
[ "$st" -ge 128 ] || fail "the fault did not kill the ingest (exit $st)"
orphans() { echo $(( $(chq "SELECT count() FROM ds.srcsvc_local WHERE file_id NOT IN (SELECT id FROM ds.files)") + \
    $(chq2 "SELECT count() FROM ds.srcsvc_local WHERE file_id NOT IN ($(chq "SELECT arrayStringConcat(groupArray(toString(id)), ',') FROM ds.files"))") )); }
[ "$(orphans)" -gt 0 ] || fail "the killed ingest left no rows"
[ "$(chq "SELECT count() FROM ds.rollup_all WHERE file_id GLOBAL NOT IN (SELECT id FROM ds.files)")" -gt 0 ] ||
    fail "the killed ingest left no rollup rows"
[ "$($DS top ports -c ch.conf "${P[@]}" --format json)" = "$before" ] || fail "rows of a killed ingest are visible in top"
[ "$($DS stats -c ch.conf --format json)" = "$before_stats" ] || fail "rows of a killed ingest are visible in stats"
$DS ingest -q -c ch.conf k.pcap || fail "re-ingest after the kill failed"
$DS ingest -q k.pcap || fail "ingest into SQLite failed"
for _ in $(seq 100); do [ "$(orphans)" = 0 ] && break; sleep 0.1; done
[ "$(orphans)" = 0 ] || fail "the killed ingest's rows were not deleted on both shards"
rorphans() { echo $(( $(chq "SELECT count() FROM ds.rollup_all_local WHERE file_id NOT IN (SELECT id FROM ds.files)") + \
    $(chq2 "SELECT count() FROM ds.rollup_all_local WHERE file_id NOT IN ($(chq "SELECT arrayStringConcat(groupArray(toString(id)), ',') FROM ds.files"))") )); }
for _ in $(seq 100); do [ "$(rorphans)" = 0 ] && break; sleep 0.1; done
[ "$(rorphans)" = 0 ] || fail "the killed ingest's rollup rows were not deleted on both shards"
compare top ports "${P[@]}" --format json
compare stats --format json
compare report "${P[@]}" --format json
echo "kill: nothing visible, cleaned up on both shards, re-ingested once"

# ---- layouts
st=0; $DS stats --db "clickhouse://127.0.0.1:$CH_HTTP/ds" 2> e || st=$?
[ "$st" != 0 ] && grep -q "made on cluster two/2" e || fail "cluster store opened as one server: $(cat e)"
st=0; $DS stats --db "clickhouse://127.0.0.1:$CH_HTTP/ds?cluster=three&shards=127.0.0.1:$CH_HTTP" 2> e || st=$?
[ "$st" != 0 ] && grep -q 'knows no cluster "three"' e || fail "unknown cluster: $(cat e)"
st=0; $DS stats --db "clickhouse://127.0.0.1:$CH_HTTP/ds?cluster=two&shards=127.0.0.1:$CH_HTTP" 2> e || st=$?
[ "$st" != 0 ] && grep -q "cluster two has 2 shards .* lists 1" e || fail "wrong shard count: $(cat e)"
st=0; $DS stats --db "clickhouse://127.0.0.1:$CH_HTTP/ds?shards=127.0.0.1:$CH_HTTP" 2> e || st=$?
[ "$st" != 0 ] && grep -q "shards= without cluster=" e || fail "shards without cluster: $(cat e)"
st=0; $DS stats --db "clickhouse://127.0.0.1:$CH_HTTP/ds?cluster=two&shards=127.0.0.1" 2> e || st=$?
[ "$st" != 0 ] && grep -q 'shard "127.0.0.1" is not HOST:PORT' e || fail "a shard without port: $(cat e)"
$DS store init --db "clickhouse://127.0.0.1:$CH_HTTP/one" > /dev/null || fail "store init of a one-server store"
st=0; $DS stats --db "clickhouse://127.0.0.1:$CH_HTTP/one?cluster=two&shards=127.0.0.1:$CH_HTTP,127.0.0.1:$CH_HTTP2" 2> e || st=$?
[ "$st" != 0 ] && grep -q "made on one server" e || fail "one-server store opened as a cluster: $(cat e)"
echo "layouts: clear errors"
echo "PASS clickhouse_cluster ($same comparisons)"
