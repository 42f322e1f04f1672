#!/usr/bin/env bash
# bench/memory_1m_sources.sh [SOURCES]: the memory bar, peak RSS with 1 M distinct sources a day.
#
# Bar: peak RSS of `darkscope ingest` <= 1 GB (1024 MiB) for a day with 1 M distinct sources.
#
# How: `darkscope synth` models a realistic telescope (few sources, many packets each: its 16 M-
# packet quarter has ~0.3 M sources in 92 days), so the capture comes from bench/gen_sources.c:
# SOURCES (default 1,000,000) distinct random public IPv4 sources, each sending 2-3 TCP SYNs to
# random addresses of 198.51.100.0/24 within 2023-07-01 (~2.5 M packets, ~175 MB), cached in
# $BENCH_DIR.  Peak RSS (/usr/bin/time %M) is taken for darkscope ingest -j1 and -j2 (each into a
# fresh store, largest of BENCH_RUNS runs, default 2) and, for context, for
# `tcpdump -r FILE -w /dev/null`, which keeps no per-source state.  The store is then queried to
# check that it really counted SOURCES distinct sources.
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"

SOURCES=${1:-1000000}
RUNS=${BENCH_RUNS:-2}
need tcpdump cc
build_darkscope

gen=$W/gen_sources
if [ ! -x "$gen" ] || [ "$BENCH_ROOT/bench/gen_sources.c" -nt "$gen" ]; then
    cc -O2 -std=c11 -Wall -Wextra -o "$gen" "$BENCH_ROOT/bench/gen_sources.c" || die "cannot build gen_sources"
fi
f=$W/sources-$SOURCES.pcap
if [ ! -s "$f" ] || [ "$gen" -nt "$f" ]; then
    "$gen" "$f.tmp" "$SOURCES" 1
    mv "$f.tmp" "$f"
fi
bench_store memory "$(printf '[sensor.tokyo]\ndarknet = 198.51.100.0/24')"

machine_line
echo "file: $f, $(( $(stat -L -c %s "$f") / 1000000 )) MB, $SOURCES distinct sources in one day"
warm_cache "$f"

for _ in $(seq "$RUNS"); do
    run_once tcpdump tcpdump "${TCPDUMP_Z[@]}" -r "$f" -w /dev/null
    fresh_store; run_once j1 "$DS" ingest -c "$conf" -j 1 "$f"
    fresh_store; run_once j2 "$DS" ingest -c "$conf" -j 2 "$f"
done

# The last store holds the file once: check the distinct-source count it reports.
counted=$("$DS" top sources -c "$conf" --format csv -n 0 2>/dev/null | tail -n +2 | wc -l)
summary=$("$DS" top ports -c "$conf" 2>/dev/null | grep '^total' || true)
db_mb=$(store_mb "$db")
fresh_store

echo
printf '%-32s %9s %10s %10s\n' "" "peak RSS" "best wall" "cpu u+s"
for x in "tcpdump -r FILE -w /dev/null:tcpdump" "darkscope ingest --threads 1:j1" "darkscope ingest --threads 2:j2"; do
    printf '%-32s %6s MiB %8s s %8s s\n' "${x%%:*}" "$(max_rss_mb "${x##*:}")" "$(best_wall "${x##*:}")" "$(best_cpu "${x##*:}")"
done
echo
echo "store: $db_mb MB; top sources lists $counted sources; ${summary:-no total line}"
[ "$counted" = "$SOURCES" ] || echo "WARNING: expected $SOURCES distinct sources in the store, found $counted"
for j in 1 2; do
    m=$(max_rss_mb j$j)
    printf 'peak RSS -j%d: %s MiB = %s x tcpdump   bar <= 1 GiB (1024 MiB): %s\n' "$j" "$m" \
        "$(ratio "$m" "$(max_rss_mb tcpdump)")" "$(verdict "$m" '<=' 1024)"
done
