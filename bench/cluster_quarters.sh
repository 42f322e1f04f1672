#!/usr/bin/env bash
# bench/cluster_quarters.sh: issue #23's bar on the demo's two quarters (`darkscope synth --start
# 2023-04-01 --days 183`, 2 sensors, ~6.8 M packets, cached in $BENCH_DIR as bench/serve.sh's):
# ingested into a SQLite store and into a 2-shard ClickHouse cluster (two servers of its own on
# loopback, tests/e2e/clickhouse.bash), `top` (four dimensions, whole span and 2023Q3), `report
# --format json` (2023Q2, 2023Q3), `events` and `stats` must be byte-identical; prints the
# ingest and report times of both.  Needs clickhouse-server; about 3 minutes.  Not in all.sh.
set -euo pipefail
BENCH_ROOT=$(cd "$(dirname "$0")/.." && pwd)
W=${BENCH_DIR:-/tmp/darkscope-bench}
q=$W/quarters.pcap
export DS_ROOT=$BENCH_ROOT
# shellcheck source=tests/e2e/lib.bash
source "$BENCH_ROOT/tests/e2e/lib.bash"
# shellcheck source=tests/e2e/clickhouse.bash
source "$ROOT/tests/e2e/clickhouse.bash"
[ -x "$DS" ] || fail "build darkscope first (make)"
mkdir -p "$W"
[ -s "$q" ] || "$DS" synth -q -o "$q" --start 2023-04-01 --days 183
ch_start_cluster ds two
write_conf_sensors UTC tokyo=198.51.100.0/24 osaka=203.0.113.0/24
URL=$CH_CLUSTER_URL
"$DS" store init --db "$URL" > /dev/null || fail "store init"
now() { date +%s.%N; }
secs() { echo "$2 - $1" | bc; }
t0=$(now); "$DS" ingest -q "$q"; t1=$(now); "$DS" ingest -q --db "$URL" "$q"; t2=$(now)
echo "ClickHouse $CH_VERSION, 2 shards; $(du -m "$q" | cut -f1) MB of pcap"
echo "ingest: SQLite $(secs "$t0" "$t1") s, cluster $(secs "$t1" "$t2") s"
n=0
for d in ports countries asns sources; do
    for r in "" "--from 2023-07-01 --to 2023-09-30"; do
        # shellcheck disable=SC2086
        "$DS" top "$d" $r --format json > a.json
        # shellcheck disable=SC2086
        "$DS" top "$d" $r --db "$URL" --format json > b.json
        cmp -s a.json b.json || fail "top $d $r differs"
        n=$((n + 1))
    done
done
for p in 2023Q2 2023Q3; do
    t0=$(now); "$DS" report --period "$p" --format json -o ra.json > /dev/null 2>&1; t1=$(now)
    "$DS" report --period "$p" --db "$URL" --format json -o rb.json > /dev/null 2>&1; t2=$(now)
    cmp -s ra.json rb.json || fail "report $p differs"
    n=$((n + 1))
    echo "report $p: SQLite $(secs "$t0" "$t1") s, cluster $(secs "$t1" "$t2") s"
done
"$DS" events --format json > ea.json; "$DS" events --db "$URL" --format json > eb.json
cmp -s ea.json eb.json || fail "events differ"
"$DS" stats --format json > sa.json; "$DS" stats --db "$URL" --format json > sb.json
cmp -s sa.json sb.json || fail "stats differ"
n=$((n + 2))
echo "two quarters: SQLite and the 2-shard cluster agree byte for byte on $n outputs"
