#!/usr/bin/env bash
# bench/ingest_vs_tcpdump.sh [PACKETS]: the ingest speed bar of issue #2, side by side.
#   darkscope ingest --threads 1 (and 2) of a ~16 M-packet pcap already in the page cache, full
#   classification and store commit included, against `tcpdump -r FILE -w /dev/null`.
# Prints wall times (best of 3) and ratios; bar: threads 1 <= 0.5 x tcpdump.  Also peak memory
# and the `top` query time on the resulting store.
set -euo pipefail
cd "$(dirname "$0")/.."
DS=$PWD/build/darkscope
N=${1:-16000000}
W=${BENCH_DIR:-/tmp/darkscope-bench}
mkdir -p "$W"
f=$W/bench-$N.pcap
rate=$(( N / 184 ))   # 2 sensors x 92 days
[ -s "$f" ] || { echo "generating $f ($N packets)"; $DS synth -q -o "$f" --rate $rate --seed 2023; }
cat > "$W/bench.conf" <<EOC
[store]
path = $W/bench.db
[geo]
country = $PWD/data/geo/country
asn = $PWD/data/geo/asn
[sensor.tokyo]
darknet = 198.51.100.0/24
[sensor.osaka]
darknet = 203.0.113.0/24
EOC
cat "$f" > /dev/null   # into the page cache
best() { # command... -> best wall seconds of 3
    local b=999999
    for _ in 1 2 3; do
        rm -f "$W"/bench.db*
        local t0 t1; t0=$(date +%s.%N); "$@" >/dev/null 2>&1; t1=$(date +%s.%N)
        b=$(echo "$t1 - $t0" | bc -l | awk -v b="$b" '{print ($1 < b) ? $1 : b}')
    done
    echo "$b"
}
size=$(stat -c %s "$f")
echo "file: $f, $((size / 1000000)) MB"
$DS ingest -q -c "$W/bench.conf" --force "$f" 2>/dev/null || true   # warm the geo cache
td=$(best tcpdump -r "$f" -w /dev/null)
d1=$(best "$DS" ingest -q -c "$W/bench.conf" -j 1 "$f")
d2=$(best "$DS" ingest -q -c "$W/bench.conf" -j 2 "$f")
rm -f "$W"/bench.db*
mem=$( { /usr/bin/time -f %M "$DS" ingest -q -c "$W/bench.conf" -j 1 "$f" >/dev/null; } 2>&1 | tail -n 1)
t0=$(date +%s.%N); "$DS" top ports -c "$W/bench.conf" >/dev/null; t1=$(date +%s.%N)
topt=$(echo "$t1 - $t0" | bc -l)
printf 'tcpdump -r -w /dev/null        %7.3f s\n' "$td"
printf 'darkscope ingest --threads 1   %7.3f s   ratio %.2f x tcpdump (bar: <= 0.50)\n' "$d1" "$(echo "$d1 / $td" | bc -l)"
printf 'darkscope ingest --threads 2   %7.3f s   ratio %.2f x tcpdump, %.2f x threads 1\n' "$d2" "$(echo "$d2 / $td" | bc -l)" "$(echo "$d2 / $d1" | bc -l)"
printf 'peak memory (threads 1)        %7d MB\n' $((mem / 1024))
printf 'darkscope top ports            %7.3f s   (bar: <= 0.1 s)\n' "$topt"
