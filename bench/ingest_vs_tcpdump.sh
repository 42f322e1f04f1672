#!/usr/bin/env bash
# bench/ingest_vs_tcpdump.sh [PACKETS]: the ingest speed bar, side by side with tcpdump.
#
# Bar: `darkscope ingest --threads 1` of a ~16 M-packet (~1.3 GB) pcap already in the page cache,
# full classification and store commit included, takes at most 0.5 x the wall time of
# `tcpdump -r FILE -w /dev/null` on the same file; --threads 2 comes close to halving -j1's time
# (counted as met at <= 0.60 x -j1).
#
# How: the capture is generated once with `darkscope synth --rate ceil(PACKETS/184)` (2 sensors x
# 92 days, seed 2023) and cached in $BENCH_DIR (default /tmp/darkscope-bench).  It is read into the
# page cache, one untimed ingest warms the compiled geo cache and checks the file, then
# BENCH_RUNS rounds (default 3) each run tcpdump, darkscope -j1 and darkscope -j2 once, in that
# order, every darkscope run into a fresh (deleted) store.  Reported: best and median wall time,
# the lowest user+sys CPU seconds, peak RSS, and for darkscope the "read X, commit Y" split of
# its best run as printed in its summary line.  Ratios are of best wall times (and of CPU).
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"

N=${1:-16000000}
RUNS=${BENCH_RUNS:-3}
need tcpdump
build_darkscope

f=$W/bench-$N.pcap
if [ ! -s "$f" ]; then
    rate=$(( (N + 183) / 184 ))   # packets per sensor per day: 2 sensors x 92 days
    echo "generating $f (~$N packets, synth --rate $rate --seed 2023)"
    "$DS" synth -q -o "$f.tmp" --rate "$rate" --seed 2023
    mv "$f.tmp" "$f"
fi
bench_store ingest "$(printf '[sensor.tokyo]\ndarknet = 198.51.100.0/24\n[sensor.osaka]\ndarknet = 203.0.113.0/24')"

machine_line
echo "file: $f, $(( $(stat -L -c %s "$f") / 1000000 )) MB"
warm_cache "$f"

# Untimed: builds the geo cache if needed and shows the file reads cleanly.
fresh_store
run_once warmup "$DS" ingest -c "$conf" -j 1 "$f"
echo "warm-up ingest: $(grep -o '[0-9,]* records' "$RES/warmup.err" | head -n 1)"

ds_run() { # NAME THREADS: one darkscope ingest into a fresh store, then note its read/commit split
    fresh_store
    run_once "$1" "$DS" ingest -c "$conf" -j "$2" "$f"
    local split
    split=$(sed -n 's/.*(read \([0-9.]*\), commit \([0-9.]*\)).*/\1 \2/p' "$RES/$1.err" | tail -n 1)
    echo "${split:-? ?}" >> "$RES/$1.split"
}
for r in $(seq "$RUNS"); do
    if [ -t 2 ]; then printf '\rround %d/%d' "$r" "$RUNS" >&2; fi
    run_once tcpdump tcpdump "${TCPDUMP_Z[@]}" -r "$f" -w /dev/null
    ds_run j1 1
    ds_run j2 2
done
if [ -t 2 ]; then printf '\r%20s\r' '' >&2; fi
fresh_store

split_of_best() { # NAME -> "read X s, commit Y s" of the run with the best wall time
    paste -d' ' "$RES/$1.tsv" "$RES/$1.split" | sort -n -k1,1 | head -n 1 |
        awk '{printf "read %s s, commit %s s", $5, $6}'
}
row() { # LABEL NAME [SPLIT]
    printf '%-32s %8s s %8s s %8s s %6s MiB  %s\n' "$1" "$(best_wall "$2")" "$(median_wall "$2")" \
        "$(best_cpu "$2")" "$(max_rss_mb "$2")" "${3:-}"
}
echo
printf '%-32s %10s %10s %10s %9s   %s\n' "best of $RUNS" "best wall" "median" "cpu u+s" "peak RSS" "darkscope's own split"
row "tcpdump -r FILE -w /dev/null" tcpdump
row "darkscope ingest --threads 1" j1 "$(split_of_best j1)"
row "darkscope ingest --threads 2" j2 "$(split_of_best j2)"
echo
r1=$(ratio3 "$(best_wall j1)" "$(best_wall tcpdump)")
r2=$(ratio "$(best_wall j2)" "$(best_wall tcpdump)")
r21=$(ratio3 "$(best_wall j2)" "$(best_wall j1)")
printf 'ratio -j1 / tcpdump   wall %5s x   cpu %5s x   bar <= 0.50 x wall: %s\n' \
    "$r1" "$(ratio "$(best_cpu j1)" "$(best_cpu tcpdump)")" "$(verdict "$r1" '<=' 0.50)"
printf 'ratio -j2 / tcpdump   wall %5s x   cpu %5s x\n' \
    "$r2" "$(ratio "$(best_cpu j2)" "$(best_cpu tcpdump)")"
printf 'ratio -j2 / -j1       wall %5s x   cpu %5s x   bar ~0.5 (<= 0.60) x wall: %s\n' \
    "$r21" "$(ratio "$(best_cpu j2)" "$(best_cpu j1)")" "$(verdict "$r21" '<=' 0.60)"
