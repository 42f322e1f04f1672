#!/usr/bin/env bash
# bench/cluster_month.sh [SCALE]: issue #23's bar "the source-heavy month's report on the cluster
# <= 5 s": bench/gen_sources.c's month (30 daily files, 300,000 / SCALE sources a day, half
# returning; the files bench/scale.sh and bench/ingest_shapes.sh use, cached in $BENCH_DIR)
# ingested `-j 2` into a SQLite store and into a 2-shard ClickHouse cluster of its own (two
# servers on loopback, tests/e2e/clickhouse.bash), then BENCH_RUNS rounds (default 3) of `report
# --period 2023-07 --format html` (the published form), `events`, `top ports` and `top sources` on
# both, whole processes, wall seconds; `top ports` on the cluster both from its rollup tables and from its
# per-source rows (DS_NO_ROLLUP=1, the path before the rollups).  The JSON report, events and
# `top ports` (both paths) and `top sources` must be byte-identical.
# Needs clickhouse-server; SCALE 1 (the full month) takes about ten minutes.  Not in all.sh.
set -euo pipefail
BENCH_ROOT=$(cd "$(dirname "$0")/.." && pwd)
W=${BENCH_DIR:-/tmp/darkscope-bench}
SCALE=${1:-1}
RUNS=${BENCH_RUNS:-3}
case $SCALE in ''|*[!0-9]*|0) echo "SCALE must be a positive integer (got '$SCALE')" >&2; exit 2 ;; esac
export DS_ROOT=$BENCH_ROOT
# shellcheck source=tests/e2e/lib.bash
source "$BENCH_ROOT/tests/e2e/lib.bash"
# shellcheck source=tests/e2e/clickhouse.bash
source "$ROOT/tests/e2e/clickhouse.bash"
[ -x "$DS" ] || fail "build darkscope first (make)"
mkdir -p "$W"
n=$(( 300000 / SCALE )); base=$W/month-$n.pcap
if [ ! -s "${base%.pcap}-30.pcap" ]; then
    [ -x "$W/gen_sources" ] || cc -O2 -std=c11 -Wall -Wextra -o "$W/gen_sources" "$BENCH_ROOT/bench/gen_sources.c"
    "$W/gen_sources" "$base" "$n" 1 30 50 2>/dev/null
fi
files=("${base%.pcap}"-[0-3][0-9].pcap)
[ "${#files[@]}" = 30 ] || fail "want 30 daily files, found ${#files[@]}"
ch_start_cluster ds two
write_conf_sensors UTC tokyo=198.51.100.0/24
URL=$CH_CLUSTER_URL
"$DS" store init --db "$URL" > /dev/null || fail "store init"
now() { date +%s.%N; }
secs() { echo "$2 - $1" | bc; }
echo "ClickHouse $CH_VERSION, 2 shards; $n sources a day; load average $(cut -d' ' -f1-3 /proc/loadavg)"
t0=$(now); "$DS" ingest -q -j 2 "${files[@]}"; t1=$(now); "$DS" ingest -q -j 2 --db "$URL" "${files[@]}"; t2=$(now)
echo "ingest: SQLite $(secs "$t0" "$t1") s, cluster $(secs "$t1" "$t2") s"
"$DS" report --period 2023-07 --format json -o ra.json > /dev/null 2>&1
"$DS" report --period 2023-07 --db "$URL" --format json -o rb.json > /dev/null 2>&1
cmp -s ra.json rb.json || fail "report --format json differs"
"$DS" events --format json > ea.json; "$DS" events --db "$URL" --format json > eb.json
cmp -s ea.json eb.json || fail "events differ"
"$DS" top ports --format json > ta.json; "$DS" top ports --db "$URL" --format json > tb.json
cmp -s ta.json tb.json || fail "top ports differs"
DS_NO_ROLLUP=1 "$DS" top ports --db "$URL" --format json > tc.json
cmp -s ta.json tc.json || fail "top ports from the cluster's per-source rows differs"
"$DS" top sources --format json > sa.json; "$DS" top sources --db "$URL" --format json > sb.json
cmp -s sa.json sb.json || fail "top sources differs"
echo "report (json), events, top ports, top sources: identical on SQLite and the cluster"
for r in $(seq "$RUNS"); do
    for what in "report --period 2023-07 --format html -o r.html" "events" "top ports" "top sources"; do
        # shellcheck disable=SC2086
        t0=$(now); "$DS" $what > /dev/null 2>&1; t1=$(now); "$DS" $what --db "$URL" > /dev/null 2>&1; t2=$(now)
        printf 'round %s  %-12s SQLite %6.2f s   cluster %6.2f s\n' "$r" "${what%% --*}" "$(secs "$t0" "$t1")" "$(secs "$t1" "$t2")"
    done
    t0=$(now); DS_NO_ROLLUP=1 "$DS" top ports --db "$URL" > /dev/null 2>&1; t1=$(now)
    printf 'round %s  %-12s                   cluster %6.2f s (per-source rows, DS_NO_ROLLUP=1)\n' "$r" "top ports" \
        "$(secs "$t0" "$t1")"
done
echo "bar (issue #23): the cluster's month report <= 5 s"
