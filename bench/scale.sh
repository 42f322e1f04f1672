#!/usr/bin/env bash
# bench/scale.sh [SCALE]: a month's queries on a source-heavy month, against the issue's bars
# (issue #22, item 5), and the same questions asked of ClickHouse on the raw packets.
#
# The month: bench/gen_sources.c, 30 daily files (2023-07-01..30), 300,000 / SCALE distinct
# sources a day, half of them back the next day (RETURN_PERCENT 50), 2-3 TCP SYNs each to
# 198.51.100.0/24: every packet is a source, the shape that makes per-source state the cost.
# SCALE (default 4: about 5 minutes with the inputs cached, half as much again the first time)
# divides the sources; SCALE=1 is the full month, 22.5 M packets.
#
# darkscope: the month is ingested once (-j 2, timed once, for the record) into
# $BENCH_DIR/scale-N.db, then BENCH_RUNS rounds (default 3) each run, through /usr/bin/time for
# peak RSS, `top ports`, `top sources`, `top countries` (each --from/--to the month, --limit 10),
# `events` over the month, and `report --period 2023-07` (HTML, the published form), interleaved
# with the peer's queries.  Best wall time and the largest peak RSS are reported.
#
# Peer: when clickhouse-server is installed (Debian 12: apt-get install clickhouse-server
# clickhouse-client, 18.16.1), the script starts its own server on 127.0.0.1 (a free port, a
# temporary config and data directory under $BENCH_DIR, removed afterwards; it never touches a
# system server), loads the same raw packets (bench/pcap_rows.c: ts, src, dst, sport, dport, proto
# of every IPv4 packet) into a MergeTree table ordered by time, merges its parts (OPTIMIZE ...
# FINAL), and times, as whole clickhouse-client processes (as darkscope's are whole processes):
#   top ports:   SELECT dport, count(), uniqExact(src) FROM packets GROUP BY dport
#                ORDER BY count() DESC, dport LIMIT 10
#   top sources: SELECT src, count() FROM packets GROUP BY src ORDER BY count() DESC, src LIMIT 10
# and prints darkscope / ClickHouse for each.  ClickHouse has no geo data, detectors or reports
# here: `top countries`, `events` and `report` are judged against the bars only.  Without
# clickhouse-server the peer's lines say so and the bars are still judged.
#
# Bars (issue #22): month report <= 3 s and <= 1 GB peak RSS; top ports <= 0.5 s; events <= 1 s.
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"

SCALE=${1:-4}
RUNS=${BENCH_RUNS:-3}
case $SCALE in ''|*[!0-9]*|0) die "SCALE must be a positive integer (got '$SCALE')" ;; esac
case $RUNS in ''|*[!0-9]*|0) die "BENCH_RUNS must be a positive integer (got '$RUNS')" ;; esac
need cc
[ -x /usr/bin/time ] || die "/usr/bin/time is not installed (apt-get install time)"
build_darkscope

gen() { # NAME: build bench/NAME.c into $W/NAME when missing or older than its source
    local src=$BENCH_ROOT/bench/$1.c
    if [ ! -x "$W/$1" ] || [ "$src" -nt "$W/$1" ]; then
        cc -O2 -std=c11 -Wall -Wextra -o "$W/$1" "$src" || die "cannot build $1"
    fi
}
gen gen_sources
gen pcap_rows

n=$(( 300000 / SCALE ))
base=$W/month-$n.pcap          # the same files as bench/ingest_shapes.sh's month at this size
if [ ! -s "${base%.pcap}-30.pcap" ] || [ "$W/gen_sources" -nt "${base%.pcap}-30.pcap" ]; then
    echo "generating ${base%.pcap}-01..30.pcap ($n sources a day, half returning)"
    "$W/gen_sources" "$base" "$n" 1 30 50 2>/dev/null
fi
files=("${base%.pcap}"-[0-3][0-9].pcap)
[ "${#files[@]}" = 30 ] || die "want 30 daily files from gen_sources, found ${#files[@]}"

bench_store "scale-$n" '[sensor.tokyo]
darknet = 198.51.100.0/24'

machine_line
echo "month: 30 files, $(( $(cat "${files[@]}" | wc -c) / 1000000 )) MB, $n sources a day (SCALE $SCALE)"

# ---- darkscope: ingest once (the store is rebuilt each run of the script: the binary changes)
fresh_store
run_once ingest "$DS" ingest -q -c "$conf" -j 2 "${files[@]}"
packets=$("$DS" stats -c "$conf" --format json |
          python3 -c 'import json,sys; print(sum(r["packets"] for r in json.load(sys.stdin)))')
echo "ingest -j 2: $(best_wall ingest) s wall, $(max_rss_mb ingest) MB peak; $packets packets; store $(store_mb "$db") MB"

P=(-c "$conf" --from 2023-07-01 --to 2023-07-30)
q_ports=("$DS" top ports "${P[@]}" --limit 10)
q_sources=("$DS" top sources "${P[@]}" --limit 10)
q_countries=("$DS" top countries "${P[@]}" --limit 10)
q_events=("$DS" events "${P[@]}")
q_report=("$DS" report -c "$conf" --period 2023-07 --format html -o "$W/scale-report.html")

# ---- ClickHouse, when installed: our own server, our own directory, stopped on exit
CH=
CHDIR=$W/clickhouse.$$
CHPID=
ch_stop() {
    if [ -n "$CHPID" ]; then
        kill "$CHPID" 2>/dev/null || true
        for _ in $(seq 100); do kill -0 "$CHPID" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$CHPID" 2>/dev/null || true
        CHPID=
    fi
    rm -rf "$CHDIR"
}
trap 'ch_stop; rm -rf "$RES"' EXIT
chq() { clickhouse-client --host 127.0.0.1 --port "$CHPORT" "$@"; }
if command -v clickhouse-server >/dev/null 2>&1 || [ -x /usr/sbin/clickhouse-server ]; then
    need clickhouse-client python3
    CHBIN=$(command -v clickhouse-server || echo /usr/sbin/clickhouse-server)
    CHPORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    mkdir -p "$CHDIR"
    users=/etc/clickhouse-server/users.xml
    [ -r "$users" ] || die "$users not found (the clickhouse-server package's users file)"
    cp "$users" "$CHDIR/users.xml"
    cat > "$CHDIR/config.xml" <<EOF
<?xml version="1.0"?>
<yandex>
    <logger><level>warning</level><log>$CHDIR/server.log</log><errorlog>$CHDIR/server.err.log</errorlog>
            <size>10M</size><count>1</count></logger>
    <tcp_port>$CHPORT</tcp_port>
    <listen_host>127.0.0.1</listen_host>
    <path>$CHDIR/data/</path>
    <tmp_path>$CHDIR/tmp/</tmp_path>
    <user_files_path>$CHDIR/user_files/</user_files_path>
    <format_schema_path>$CHDIR/format_schemas/</format_schema_path>
    <users_config>users.xml</users_config>
    <default_profile>default</default_profile>
    <default_database>default</default_database>
    <mark_cache_size>268435456</mark_cache_size>
    <max_concurrent_queries>10</max_concurrent_queries>
</yandex>
EOF
    "$CHBIN" --config-file="$CHDIR/config.xml" > "$CHDIR/stdout" 2>&1 &
    CHPID=$!
    for _ in $(seq 150); do chq -q 'SELECT 1' >/dev/null 2>&1 && break; sleep 0.2; done
    chq -q 'SELECT 1' >/dev/null 2>&1 || { tail -n 20 "$CHDIR/server.err.log" "$CHDIR/stdout" >&2; die "clickhouse-server did not start"; }
    CH=$(chq -q 'SELECT version()')
    chq -q 'CREATE TABLE packets (ts DateTime, src UInt32, dst UInt32, sport UInt16, dport UInt16, proto UInt8)
             ENGINE = MergeTree() PARTITION BY toYYYYMM(ts) ORDER BY ts'
    t0=$(date +%s%N)
    "$W/pcap_rows" "${files[@]}" 2>"$RES/pcap_rows.err" | chq -q 'INSERT INTO packets FORMAT TabSeparated' ||
        die "loading ClickHouse failed: $(cat "$RES/pcap_rows.err")"
    chq -q 'OPTIMIZE TABLE packets FINAL'
    t1=$(date +%s%N)
    rows=$(chq -q 'SELECT count() FROM packets')
    chbytes=$(chq -q "SELECT sum(bytes) FROM system.parts WHERE table = 'packets' AND active")
    echo "ClickHouse $CH (own server on 127.0.0.1:$CHPORT): $rows rows loaded and merged in" \
         "$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f", (b - a) / 1e9}') s, $(( chbytes / 1000000 )) MB on disk"
    [ "$rows" = "$packets" ] || echo "note: ClickHouse holds $rows rows, darkscope counted $packets packets"
else
    echo "ClickHouse: clickhouse-server is not installed; no peer (apt-get install clickhouse-server clickhouse-client)"
fi
CHC=(clickhouse-client --host 127.0.0.1 --port "${CHPORT:-0}" --time -q)   # --time: the server's seconds on stderr
ch_ports=("${CHC[@]}" 'SELECT dport, count(), uniqExact(src) FROM packets GROUP BY dport ORDER BY count() DESC, dport LIMIT 10')
ch_sources=("${CHC[@]}" 'SELECT src, count() FROM packets GROUP BY src ORDER BY count() DESC, src LIMIT 10')

# ---- untimed once each (geo data and files into the page cache), then interleaved rounds
queries="ports sources countries events report"
for q in $queries; do
    declare -n cmd=q_$q
    "${cmd[@]}" > /dev/null 2>&1
done
if [ -n "$CH" ]; then "${ch_ports[@]}" > /dev/null 2>&1; "${ch_sources[@]}" > /dev/null 2>&1; fi
for _ in $(seq "$RUNS"); do
    for q in $queries; do
        declare -n cmd=q_$q
        run_once "ds_$q" "${cmd[@]}"
        if [ -n "$CH" ] && { [ "$q" = ports ] || [ "$q" = sources ]; }; then
            declare -n cmd=ch_$q
            run_once "ch_$q" "${cmd[@]}"
            tail -n 1 "$RES/ch_$q.err" >> "$RES/ch_$q.server"   # the query's own time, from --time
        fi
    done
done

echo
printf '%-28s %9s %9s %9s   %s\n' query "wall s" "CPU s" "peak MB" "bar"
row() { # NAME LABEL BAR_S [BAR_MB]
    local w v="" m
    w=$(best_wall "$1")
    m=$(max_rss_mb "$1")
    if [ -n "${3:-}" ]; then v="<= $3 s: $(verdict "$w" "<=" "$3")"; fi
    if [ -n "${4:-}" ]; then v="$v; <= $4 MB: $(verdict "$m" "<=" "$4")"; fi
    printf '%-28s %9s %9s %9s   %s\n' "$2" "$w" "$(best_cpu "$1")" "$m" "$v"
}
row ds_ports "darkscope top ports" 0.5
row ds_sources "darkscope top sources"
row ds_countries "darkscope top countries"
row ds_events "darkscope events" 1
row ds_report "darkscope report (month)" 3 1000
if [ -n "$CH" ]; then
    row ch_ports "ClickHouse top ports"
    row ch_sources "ClickHouse top sources"
    for q in ports sources; do
        echo "  (ClickHouse top $q inside the server, best: $(sort -n "$RES/ch_$q.server" | head -n 1) s; the rest of its wall is the client process)"
    done
    echo
    echo "darkscope / ClickHouse, best wall: top ports $(ratio "$(best_wall ds_ports)" "$(best_wall ch_ports)") x," \
         "top sources $(ratio "$(best_wall ds_sources)" "$(best_wall ch_sources)") x"
else
    echo "(no ClickHouse: no ratios)"
fi
