#!/usr/bin/env bash
# bench/top_month.sh [SCALE]: `top ports|countries|asns` over the source-heavy month, from the
# rollups against the SRCSVC path (DS_NO_ROLLUP=1), and what the rollups cost at ingest
# (issue #22 item 2; bar: top ports over the month <= 0.5 s, tables identical).
#
# Input: bench/gen_sources.c's month (30 daily files, 300,000 distinct sources a day / SCALE,
# half of them back the next day, 2-3 SYNs each to 198.51.100.0/24), cached in $BENCH_DIR.
# Two stores are filled with it: one by this darkscope, one with DS_INGEST_NO_ROLLUP=1 (as
# darkscope wrote before rollups); ingest time (best of BENCH_INGEST_RUNS, default 1) and store
# size are compared.  Then BENCH_RUNS rounds (default 5), interleaved: each round runs every query
# on both paths, against the store with rollups.  Every query's JSON (--limit 0) must be
# byte-identical on both paths, or the script stops (exit 1).
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"

SCALE=${1:-1}
RUNS=${BENCH_RUNS:-5}
IRUNS=${BENCH_INGEST_RUNS:-1}
case $SCALE in ''|*[!0-9]*|0) die "SCALE must be a positive integer (got '$SCALE')" ;; esac
need cc
build_darkscope
export DARKSCOPE_DATA_DIR=${DARKSCOPE_DATA_DIR:-$BENCH_ROOT/data}

src=$BENCH_ROOT/bench/gen_sources.c
if [ ! -x "$W/gen_sources" ] || [ "$src" -nt "$W/gen_sources" ]; then
    cc -O2 -std=c11 -Wall -Wextra -o "$W/gen_sources" "$src" || die "cannot build gen_sources"
fi
n=$(( 300000 / SCALE ))
base=$W/month-$n
[ -s "$base-30.pcap" ] || "$W/gen_sources" "$base.pcap" "$n" 1 30 50 >/dev/null || die "gen_sources failed"
files=("$base"-[0-3][0-9].pcap)
[ "${#files[@]}" -eq 30 ] || die "expected 30 daily files of $base"
for f in "${files[@]}"; do cat "$f" > /dev/null; done

machine_line
sensor='[report]
timezone = UTC
[sensor.tokyo]
darknet = 198.51.100.0/24'
bench_store rollup_new "$sensor"; conf_new=$conf; db_new=$db
bench_store rollup_old "$sensor"; conf_old=$conf; db_old=$db
for i in $(seq "$IRUNS"); do
    rm -f "$db_new" "$db_new"-*; run_once ingest_new "$DS" ingest -q -c "$conf_new" "${files[@]}"
    rm -f "$db_old" "$db_old"-*; run_once ingest_old env DS_INGEST_NO_ROLLUP=1 "$DS" ingest -q -c "$conf_old" "${files[@]}"
done
mb_new=$(store_mb "$db_new"); mb_old=$(store_mb "$db_old")

dims="ports countries asns"
for d in $dims; do
    "$DS" top "$d" -c "$conf_new" --limit 0 --format json > "$RES/new-$d.json"
    DS_NO_ROLLUP=1 "$DS" top "$d" -c "$conf_new" --limit 0 --format json > "$RES/old-$d.json"
    cmp -s "$RES/new-$d.json" "$RES/old-$d.json" || die "top $d: the rollups give another table than SRCSVC"
done
for r in $(seq "$RUNS"); do
    for d in $dims; do
        run_once "old_$d" env DS_NO_ROLLUP=1 "$DS" top "$d" -c "$conf_new"
        run_once "new_$d" "$DS" top "$d" -c "$conf_new"
    done
done

echo "source-heavy month, $n sources a day x 30 days; tables identical on both paths (--limit 0, json)"
printf '%-16s %12s %12s %8s %10s %10s\n' "" "SRCSVC s" "rollups s" "ratio" "RSS MB old" "RSS MB new"
for d in $dims; do
    o=$(best_wall "old_$d"); nw=$(best_wall "new_$d")
    printf '%-16s %12s %12s %8s %10s %10s\n' "top $d" "$o" "$nw" "$(ratio "$o" "$nw")" "$(max_rss_mb "old_$d")" "$(max_rss_mb "new_$d")"
done
p=$(best_wall new_ports)
echo "bar: top ports over the month <= 0.5 s at full size: $p s ($(verdict "$p" '<=' 0.5); SCALE $SCALE)"
io=$(best_wall ingest_old); inw=$(best_wall ingest_new)
echo "ingest: without rollups $io s, with $inw s (x$(ratio "$inw" "$io")); CPU $(best_cpu ingest_old) s vs $(best_cpu ingest_new) s"
echo "store: without rollups $mb_old MB, with $mb_new MB (x$(ratio "$mb_new" "$mb_old"))"
