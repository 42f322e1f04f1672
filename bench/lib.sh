# shellcheck shell=bash
# bench/lib.sh: helpers shared by the bench/*.sh scripts (sourced, not run).
#
# Every benchmark here measures darkscope against a peer tool run side by side on the same
# machine, the same file and the same page-cache state, and prints a ratio.  Absolute times on a
# shared 2-core VM move by 20-50% from minute to minute; a ratio of two runs taken moments apart
# moves much less.  So the scripts interleave the contenders round by round (A B C, A B C, ...)
# rather than running all of A then all of B, keep the best wall time (the run least disturbed
# by other jobs), and also report user+sys CPU seconds, which other jobs disturb less than wall
# time.  Each run goes through /usr/bin/time (GNU time) for CPU seconds and peak RSS; wall time
# is taken with date +%s%N around it for millisecond resolution.
#
# Environment: BENCH_DIR (default /tmp/darkscope-bench) caches generated inputs between runs;
# BENCH_NO_BUILD=1 skips the `make` before measuring.

set -euo pipefail

BENCH_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# tcpdump -w run as root drops to its own user and chowns the file it writes: `-w /dev/null` left
# /dev/null owned by tcpdump.  -Z root keeps it root's (an empty array when not root).
TCPDUMP_Z=()
[ "$(id -u)" -ne 0 ] || TCPDUMP_Z=(-Z root)
DS=${DS:-$BENCH_ROOT/build/darkscope}
W=${BENCH_DIR:-/tmp/darkscope-bench}
RES=$W/results.$$
mkdir -p "$W" "$RES"
trap 'rm -rf "$RES"' EXIT

die() { echo "bench: $*" >&2; exit 1; }

need() { # tool... : fail with a clear message when a peer or helper is missing
    local t
    for t in "$@"; do command -v "$t" >/dev/null 2>&1 || die "$t is not installed (apt-get install ${t##*/})"; done
}

build_darkscope() { # the binary changes under us while others work: always measure a fresh build
    if [ "${BENCH_NO_BUILD:-0}" != 1 ]; then
        make -s -C "$BENCH_ROOT" >/dev/null || die "make failed"
    fi
    [ -x "$DS" ] || die "$DS not built (run make)"
}

bench_store() { # NAME SENSOR_LINES: write $W/NAME.conf (store $W/NAME.db, the default geo data,
                #   the sensors given), set conf and db, and define fresh_store
    conf=$W/$1.conf
    db=$W/$1.db
    {
        printf '[store]\npath = %s\n[geo]\ncountry = %s/data/geo/country\nasn = %s/data/geo/asn\n' \
            "$db" "$BENCH_ROOT" "$BENCH_ROOT"
        printf '%s\n' "$2"
    } > "$conf"
    fresh_store() { rm -f "$db" "$db"-journal "$db"-wal "$db"-shm "$db"-chunks; }
}

store_mb() { # DB: megabytes of a store, the database and its chunk file together
    local n=0 f
    for f in "$1" "$1"-chunks; do
        if [ -e "$f" ]; then n=$(( n + $(stat -L -c %s "$f") )); fi
    done
    echo $(( n / 1000000 ))
}

machine_line() { # one line: when, where, what was measured
    local cpu rev
    cpu=$(awk -F': *' '/^model name/ {print $2; exit}' /proc/cpuinfo)
    rev=$(git -C "$BENCH_ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
    git -C "$BENCH_ROOT" diff --quiet -- src 2>/dev/null || rev="$rev+dirty"
    echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')   machine: $(nproc) x ${cpu:-unknown CPU}, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo)"
    echo "darkscope: $rev   load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
}

warm_cache() { # FILE: read it into the page cache and say how much of it is there
    cat "$1" > /dev/null
    if command -v fincore >/dev/null 2>&1; then
        local res
        res=$(fincore -nb -o RES,SIZE "$1" 2>/dev/null | awk '{printf "%.0f%%", 100 * $1 / ($2 ? $2 : 1)}')
        echo "page cache: ${res:-?} of $(basename "$1") resident"
    fi
}

# run_once NAME CMD...: run CMD once with stdout discarded, stderr kept in $RES/NAME.err, and
# append "wall user sys maxrss_kb" to $RES/NAME.tsv.  A failing run stops the benchmark: a
# crash must never be reported as a fast time.
run_once() {
    local name=$1; shift
    local t0 t1 rc=0
    t0=$(date +%s%N)
    /usr/bin/time -f '%U %S %M' -o "$RES/$name.time" "$@" >/dev/null 2>"$RES/$name.err" || rc=$?
    t1=$(date +%s%N)
    if [ "$rc" != 0 ]; then
        echo "bench: '$*' failed (exit $rc):" >&2
        tail -n 5 "$RES/$name.err" >&2
        exit 1
    fi
    local usr sys rss
    read -r usr sys rss < <(tail -n 1 "$RES/$name.time")
    echo "$(( (t1 - t0) / 1000000 )) $usr $sys $rss" |
        awk '{printf "%.3f %.2f %.2f %d\n", $1 / 1000, $2, $3, $4}' >> "$RES/$name.tsv"
}

# Summaries of $RES/NAME.tsv.
best_wall()   { awk 'NR == 1 || $1 < b {b = $1} END {printf "%.3f", b}' "$RES/$1.tsv"; }
median_wall() { sort -n -k1,1 "$RES/$1.tsv" | awk '{w[NR] = $1} END {printf "%.3f", (NR % 2) ? w[(NR + 1) / 2] : (w[NR / 2] + w[NR / 2 + 1]) / 2}'; }
best_cpu()    { awk 'NR == 1 || $2 + $3 < b {b = $2 + $3} END {printf "%.2f", b}' "$RES/$1.tsv"; }
max_rss_mb()  { awk '$4 > m {m = $4} END {printf "%.0f", m / 1024}' "$RES/$1.tsv"; }
ratio()       { awk -v a="$1" -v b="$2" 'BEGIN {if (b > 0) printf "%.2f", a / b; else printf "n/a"}'; }
# A ratio judged against a bar: three decimals, so that 0.604 is not shown (and judged) as 0.60.
ratio3()      { awk -v a="$1" -v b="$2" 'BEGIN {if (b > 0) printf "%.3f", a / b; else printf "n/a"}'; }
verdict()     { # VALUE OP LIMIT -> "met" or "MISSED"
    awk -v v="$1" -v l="$3" -v op="$2" 'BEGIN {ok = (op == "<=") ? (v <= l) : (v >= l); print ok ? "met" : "MISSED"}'
}
