#!/usr/bin/env bash
# bench/detect_cost.sh: what phenomenon detection costs on top of ingest (issue #4's bar).
#
# Bar: detecting the notable phenomena of a quarter costs at most 20% on top of ingest time.
# Detection has two parts: work at ingest (tool fingerprints, payload tools, the DDoS backscatter
# and scan detectors, which see every packet) and `darkscope events` over the quarter afterwards
# (queries over the stored aggregates).  So the cost is
#     (ingest with detection - ingest --no-detect + events over the quarter) / ingest --no-detect
# where `--no-detect` turns off every per-packet detector and leaves the counting exactly as it is.
# The peer here is darkscope's own plain ingest, run side by side in the same rounds.
#
# How: `darkscope synth --start 2023-04-01 --days 183 --seed 2023` (2023Q2 + 2023Q3, two /24
# sensors, ~6.8 M packets, the demo's workload with its planted phenomena) is cached in $BENCH_DIR.
# BENCH_RUNS rounds (default 3) each run: ingest --no-detect into a fresh store, ingest into a
# fresh store, then events over 2023Q3 (the previous quarter is its baseline) on that store.
# Reported: best and median wall times and CPU, and the cost ratio from best wall times.
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"

RUNS=${BENCH_RUNS:-3}
build_darkscope

f=$W/detect-2023q2q3.pcap
if [ ! -s "$f" ]; then
    echo "generating $f (synth --start 2023-04-01 --days 183 --seed 2023)"
    "$DS" synth -q -o "$f.tmp" --start 2023-04-01 --days 183 --seed 2023
    mv "$f.tmp" "$f"
fi
sensors=$(printf '[sensor.tokyo]\ndarknet = 198.51.100.0/24\n[sensor.osaka]\ndarknet = 203.0.113.0/24')
bench_store detect-plain "$sensors"
plain_conf=$conf; plain_fresh() { rm -f "$W"/detect-plain.db*; }
bench_store detect "$sensors"

machine_line
echo "file: $f, $(( $(stat -L -c %s "$f") / 1000000 )) MB"
warm_cache "$f"
fresh_store
run_once warmup "$DS" ingest -c "$conf" -j 1 "$f"
echo "warm-up ingest: $(grep -o '[0-9,]* records' "$RES/warmup.err" | head -n 1)"

for r in $(seq "$RUNS"); do
    if [ -t 2 ]; then printf '\rround %d/%d' "$r" "$RUNS" >&2; fi
    plain_fresh
    run_once plain "$DS" ingest -c "$plain_conf" -j 1 --no-detect "$f"
    fresh_store
    run_once detect "$DS" ingest -c "$conf" -j 1 "$f"
    run_once events "$DS" events -c "$conf" --from 2023-07-01 --to 2023-09-30 --format json
done
if [ -t 2 ]; then printf '\r%20s\r' '' >&2; fi
nevents=$("$DS" events -c "$conf" --from 2023-07-01 --to 2023-09-30 --format json |
          python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
plain_fresh
fresh_store

row() { printf '%-40s %8s s %8s s %8s s\n' "$1" "$(best_wall "$2")" "$(median_wall "$2")" "$(best_cpu "$2")"; }
echo
printf '%-40s %10s %10s %10s\n' "best of $RUNS" "best wall" "median" "cpu u+s"
row "darkscope ingest -j1 --no-detect" plain
row "darkscope ingest -j1 (detection on)" detect
row "darkscope events, 2023Q3 ($nevents events)" events
echo
cost=$(awk -v p="$(best_wall plain)" -v d="$(best_wall detect)" -v e="$(best_wall events)" \
       'BEGIN {printf "%.2f", (d - p + e) / p}')
at_ingest=$(awk -v p="$(best_wall plain)" -v d="$(best_wall detect)" 'BEGIN {printf "%.2f", (d - p) / p}')
queries=$(ratio "$(best_wall events)" "$(best_wall plain)")
printf 'detection cost / plain ingest   %5s x  (at ingest %s x, events %s x)   bar <= 0.20 x: %s\n' \
    "$cost" "$at_ingest" "$queries" "$(verdict "$cost" '<=' 0.20)"
