#!/usr/bin/env bash
# bench/ingest_shapes.sh [SCALE]: ingest speed across three shapes of traffic, each as a ratio to
# tcpdump reading the same files (issue #22: speed tuned to one shape does not hold on others).
#
# Shapes (each generated once and cached in $BENCH_DIR, default /tmp/darkscope-bench):
#   synth      `darkscope synth --rate 86957 --seed 2023`: 2 sensors x 92 days, ~16 M packets, few
#              services, a few scanners sending most packets (bench/ingest_vs_tcpdump.sh's file)
#   month      bench/gen_sources.c: 30 daily files, 300,000 distinct sources a day (half of them
#              back the next day), 2-3 SYNs each to 198.51.100.0/24: every packet is a new source
#   backscat   bench/gen_backscatter.c: 2 sensors x 92 days, ~16.2 M packets from 102,000 sources,
#              backscatter to random ephemeral ports (~55 k distinct destination ports), 20
#              floods, scanners, Mirai
# SCALE (default 1) divides every packet and source count, for a quick run: SCALE=8 takes about a
# minute with the inputs cached.
#
# How: each input is read into the page cache and ingested once untimed (geo cache, and a check
# that it reads).  Then BENCH_RUNS rounds (default 3), each running, per shape, tcpdump
# (`tcpdump -r FILE -w /dev/null`; the month's 30 files in one process with `-V LIST`),
# `darkscope ingest --threads 1` and `ingest --threads 1 --no-detect`, each into a fresh store.
# Reported per shape: best wall times, CPU, and ratios of best walls to tcpdump's.
#
# Before and after: DS_OLD=/path/to/older/darkscope adds its `ingest --threads 1` to every round,
# and afterwards checks that both binaries wrote the same tables: `top ports|countries|sources|asns
# --limit 0 --format json`, `top ports --class backscatter`, `events --format json` and `stats`
# of a store each binary filled with the same files must be byte-identical.  A difference stops
# the script (exit 1).  BENCH_SHAPES="month backscat" runs only some shapes.
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"

SCALE=${1:-1}
RUNS=${BENCH_RUNS:-3}
SHAPES=${BENCH_SHAPES:-synth month backscat}
OLD=${DS_OLD:-}
case $SCALE in ''|*[!0-9]*|0) die "SCALE must be a positive integer (got '$SCALE')" ;; esac
need tcpdump cc
build_darkscope
if [ -n "$OLD" ]; then   # a copy kept outside a checkout finds its data files through this
    [ -x "$OLD" ] || die "DS_OLD=$OLD is not an executable"
    export DARKSCOPE_DATA_DIR=${DARKSCOPE_DATA_DIR:-$BENCH_ROOT/data}
fi

gen() { # NAME: build bench/NAME.c into $W/NAME when missing or older than its source
    local src=$BENCH_ROOT/bench/$1.c
    if [ ! -x "$W/$1" ] || [ "$src" -nt "$W/$1" ]; then
        cc -O2 -std=c11 -Wall -Wextra -o "$W/$1" "$src" || die "cannot build $1"
    fi
}
gen gen_sources
gen gen_backscatter

two='[sensor.tokyo]
darknet = 198.51.100.0/24
[sensor.osaka]
darknet = 203.0.113.0/24'
declare -A FILES CONF
for s in $SHAPES; do
    case $s in
    synth)
        n=$(( 16000000 / SCALE )); f=$W/bench-$n.pcap
        if [ ! -s "$f" ]; then
            echo "generating $f (synth --rate $(( (n + 183) / 184 )) --seed 2023)"
            "$DS" synth -q -o "$f.tmp" --rate $(( (n + 183) / 184 )) --seed 2023
            mv "$f.tmp" "$f"
        fi
        FILES[$s]=$f; CONF[$s]=$two ;;
    month)
        n=$(( 300000 / SCALE )); base=$W/month-$n.pcap
        if [ ! -s "${base%.pcap}-30.pcap" ] || [ "$W/gen_sources" -nt "${base%.pcap}-30.pcap" ]; then
            echo "generating ${base%.pcap}-01..30.pcap ($n sources a day, half returning)"
            "$W/gen_sources" "$base" "$n" 1 30 50 2>/dev/null
        fi
        FILES[$s]=$(printf '%s ' "${base%.pcap}"-[0-3][0-9].pcap)
        CONF[$s]='[sensor.tokyo]
darknet = 198.51.100.0/24' ;;
    backscat)
        n=$(( 16200000 / SCALE )); f=$W/backscat-$n.pcap
        if [ ! -s "$f" ] || [ "$W/gen_backscatter" -nt "$f" ]; then
            echo "generating $f"
            "$W/gen_backscatter" "$f.tmp" "$n" $(( 102000 / SCALE )) 92 1
            mv "$f.tmp" "$f"
        fi
        FILES[$s]=$f; CONF[$s]=$two ;;
    *) die "unknown shape '$s' (synth, month, backscat)" ;;
    esac
done

machine_line
[ -z "$OLD" ] || echo "before/after: DS_OLD=$OLD"
for s in $SHAPES; do
    # shellcheck disable=SC2086
    printf '%-9s %s file(s), %s MB\n' "$s" "$(echo ${FILES[$s]} | wc -w)" \
        "$(( $(cat ${FILES[$s]} | wc -c) / 1000000 ))"
    # shellcheck disable=SC2086
    printf '%s\n' ${FILES[$s]} > "$W/shape-$s.list"
done

ingest() { # RUNNAME BINARY SHAPE [ARGS...]: one ingest of SHAPE's files into a fresh store
    local name=$1 bin=$2 s=$3; shift 3
    bench_store "shape-$s" "${CONF[$s]}"
    fresh_store
    # shellcheck disable=SC2086
    run_once "$name" "$bin" ingest -c "$conf" -j 1 "$@" ${FILES[$s]}
}
for s in $SHAPES; do   # untimed: page cache, geo cache, the files read cleanly
    # shellcheck disable=SC2086
    cat ${FILES[$s]} > /dev/null
    ingest "warm-$s" "$DS" "$s"
done
for r in $(seq "$RUNS"); do
    if [ -t 2 ]; then printf '\rround %d/%d' "$r" "$RUNS" >&2; fi
    for s in $SHAPES; do
        run_once "$s-tcpdump" tcpdump "${TCPDUMP_Z[@]}" -V "$W/shape-$s.list" -w /dev/null
        ingest "$s-j1" "$DS" "$s"
        ingest "$s-nodetect" "$DS" "$s" --no-detect
        [ -z "$OLD" ] || ingest "$s-old" "$OLD" "$s"
    done
done
if [ -t 2 ]; then printf '\r%20s\r' '' >&2; fi

echo
printf '%-9s %-34s %9s %9s %9s %12s %9s\n' shape "best of $RUNS" "best wall" median "cpu u+s" "M pkts/s" "x tcpdump"
for s in $SHAPES; do
    pk=$(grep -o '[0-9,]* records' "$RES/warm-$s.err" 2>/dev/null | tr -d , | awk '{n += $1} END {print n + 0}')
    t=$(best_wall "$s-tcpdump")
    for x in "tcpdump -r FILE -w /dev/null:tcpdump" "darkscope ingest --threads 1:j1" \
             "ingest --threads 1 --no-detect:nodetect" ${OLD:+"DS_OLD ingest --threads 1:old"}; do
        k=${x##*:}
        w=$(best_wall "$s-$k")
        printf '%-9s %-34s %7s s %7s s %7s s %12s %9s\n' "$s" "${x%%:*}" "$w" "$(median_wall "$s-$k")" \
            "$(best_cpu "$s-$k")" "$(awk -v p="$pk" -v w="$w" 'BEGIN {printf "%.2f", p / w / 1e6}')" \
            "$(ratio "$w" "$t")"
    done
done

[ -n "$OLD" ] || exit 0
echo
diffs=0
for s in $SHAPES; do
    for b in new old; do
        bin=$DS; [ $b = new ] || bin=$OLD
        bench_store "diff-$s-$b" "${CONF[$s]}"
        fresh_store
        # shellcheck disable=SC2086
        "$bin" ingest -q -c "$conf" -j 1 ${FILES[$s]} 2>/dev/null || die "$bin ingest failed on $s"
        {
            for q in ports countries sources asns; do "$DS" top "$q" -c "$conf" --limit 0 --format json; done
            "$DS" top ports -c "$conf" --class backscatter --limit 0 --format json
            "$DS" events -c "$conf" --format json
            "$DS" stats -c "$conf"
        } > "$W/diff-$s-$b.out" 2>&1
        fresh_store
    done
    if cmp -s "$W/diff-$s-new.out" "$W/diff-$s-old.out"; then
        echo "tables $s: identical to DS_OLD's ($(wc -c < "$W/diff-$s-new.out") bytes of top, events and stats)"
    else
        echo "tables $s: DIFFER from DS_OLD's: diff $W/diff-$s-old.out $W/diff-$s-new.out"
        diffs=1
    fi
done
exit "$diffs"
