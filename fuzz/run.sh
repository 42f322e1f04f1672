#!/usr/bin/env bash
# fuzz/run.sh SECONDS [TARGET...]: run libFuzzer targets from build-fuzz/ for SECONDS each.
# Seeds: a few synthetic captures made by darkscope synth, plus ../shared/corpus when present;
# a target with a fuzz/seeds/TARGET/ directory (fuzz_payload_ndjson: NDJSON) uses that instead.
# Findings (crash-*, leak-*) are written to build-fuzz/findings/.
set -u
cd "$(dirname "$0")/.."
secs=${1:-60}; shift || true
targets=("$@")
# (the executables only: the compiler leaves fuzz_*.d dependency files beside them)
[ ${#targets[@]} -eq 0 ] && for f in build-fuzz/fuzz_*; do [ -f "$f" ] && [ -x "$f" ] && targets+=("$(basename "$f")"); done
mkdir -p build-fuzz/findings build-fuzz/seeds
if [ ! -f build-fuzz/seeds/.done ]; then
    if [ -x build/darkscope ]; then
        build/darkscope synth -q -o build-fuzz/seeds/synth.pcap --days 1 --rate 40 --seed 7 || true
        build/darkscope synth -q -o build-fuzz/seeds/synth-raw.pcap --days 1 --rate 40 --seed 8 --link raw --nsec || true
    fi
    corpus=${DS_CORPUS:-../shared/corpus/robustness}
    if [ -d "$corpus" ]; then
        find "$corpus" -type f -size -64k | sort | awk 'NR % 8 == 0' | head -n 120 | while read -r f; do
            cp "$f" "build-fuzz/seeds/$(echo "$f" | md5sum | cut -c1-12)"
        done
    fi
    touch build-fuzz/seeds/.done
fi
rc=0
for t in "${targets[@]}"; do
    work=build-fuzz/corpus-$t
    mkdir -p "$work"
    # a target with seeds of its own (fuzz/seeds/TARGET/, not captures) uses them instead, and
    # fuzz/TARGET.dict when there is one
    seeds=build-fuzz/seeds; [ -d "fuzz/seeds/$t" ] && seeds=fuzz/seeds/$t
    dict=(); [ -f "fuzz/$t.dict" ] && dict=(-dict="fuzz/$t.dict")
    ./build-fuzz/"$t" -max_total_time="$secs" -max_len=70000 -timeout=10 -rss_limit_mb=2048 "${dict[@]}" \
        -artifact_prefix=build-fuzz/findings/ -print_final_stats=1 "$work" "$seeds" || rc=1
done
exit $rc
