# darkscope store copy FROM TO (issue #23): a SQLite store copied into ClickHouse (one server and
# a 2-shard cluster, clickhouse.bash) and back into new SQLite files answers every query as the
# original did, byte for byte: top (every dimension, filters), events, report --format json,
# stats.  Refused with a clear error and nothing written: a target that holds files, a target
# keeping another timezone, FROM and TO the same, a source that does not exist.
source "$(dirname "$0")/lib.bash"
source "$ROOT/tests/e2e/clickhouse.bash"
ch_start_cluster ds two
write_conf Asia/Tokyo
ONE=clickhouse://127.0.0.1:$CH_HTTP/one
CL=$CH_CLUSTER_URL

$DS synth -q -o a.pcap --days 14 --rate 4000 --seed 7
$DS synth -q -o b.pcap --days 5 --rate 3000 --seed 8 --start 2023-07-20
files=(a.pcap b.pcap)
for f in "$ROOT"/../shared/corpus/realism/*.pcap*; do [ -f "$f" ] && files+=("$f"); done
for f in "${files[@]}"; do $DS ingest -q -c darkscope.conf "$f" 2>/dev/null || true; done

$DS store copy "$T/store.db" "$ONE" > c1.out || fail "copy SQLite -> ClickHouse: $(cat c1.out)"
grep -q "^copied ${#files[@]} files" c1.out || fail "copy SQLite -> ClickHouse: $(cat c1.out)"
$DS store init --db "$CL" > /dev/null || fail "store init on the cluster"
$DS store copy "$T/store.db" "$CL" > c2.out || fail "copy SQLite -> cluster: $(cat c2.out)"
$DS store copy "$ONE" "$T/back.db" > c3.out || fail "copy ClickHouse -> SQLite: $(cat c3.out)"
$DS store copy "$CL" "$T/back2.db" > c4.out || fail "copy cluster -> SQLite: $(cat c4.out)"
grep -q "sensor-months of month rollups built" c3.out || fail "the SQLite copy built no month rollups: $(cat c3.out)"
echo "copied ${#files[@]} files: SQLite -> ClickHouse, -> cluster, ClickHouse -> SQLite, cluster -> SQLite"

same=0
compare() { # COMMAND...: every copy answers as the original
    local a=0 b t
    $DS "$@" -c darkscope.conf > orig.out 2>&1 || a=$?
    for t in "$ONE" "$CL" "$T/back.db" "$T/back2.db"; do
        b=0
        $DS "$@" -c darkscope.conf --db "$t" > copy.out 2>&1 || b=$?
        [ "$a" = "$b" ] || fail "$* on $t: exit $b, the original $a: $(head -3 copy.out)"
        cmp -s orig.out copy.out || { diff orig.out copy.out | head -20 >&2; fail "$* on $t differs from the original"; }
        same=$((same + 1))
    done
}
P=(--from 2023-07-01 --to 2023-07-31)
for dim in ports countries asns sources; do compare top "$dim" "${P[@]}" -n 30 --format json; done
compare top ports "${P[@]}"
compare top ports "${P[@]}" --sensor tokyo --class backscatter --format json
compare top countries "${P[@]}" --port 23/tcp --format json
compare top ports --format json
compare stats
compare stats --format json
compare events "${P[@]}" --format json
compare report "${P[@]}" --format json
echo "differential: $same comparisons byte-identical"

# ---- refusals
st=0; $DS store copy "$T/store.db" "$ONE" > /dev/null 2> e || st=$?
[ "$st" != 0 ] && grep -q "the target holds ${#files[@]} files already" e || fail "a non-empty target: $(cat e)"
$DS store init --db "${ONE%/*}/tz" > /dev/null
chq "INSERT INTO tz.meta VALUES ('timezone', 'UTC', 1)"
st=0; $DS store copy "$T/store.db" "${ONE%/*}/tz" > /dev/null 2> e || st=$?
[ "$st" != 0 ] && grep -q "the source counts days in timezone Asia/Tokyo, the target in UTC" e || fail "timezone: $(cat e)"
[ "$(chq "SELECT count() FROM tz.files")" = 0 ] || fail "a refused copy wrote files"
st=0; $DS store copy "$T/store.db" "$T/store.db" 2> e || st=$?
[ "$st" = 2 ] && grep -q "the same store" e || fail "FROM = TO: $(cat e)"
st=0; $DS store copy "$T/nosuch.db" "$T/new.db" 2> e || st=$?
[ "$st" != 0 ] || fail "a missing source was copied"
st=0; $DS store copy "$T/store.db" 2> e || st=$?
[ "$st" = 2 ] && grep -q "give FROM and TO" e || fail "copy without TO: $(cat e)"
echo "refusals: clear errors"
echo "PASS store_copy ($same comparisons)"
