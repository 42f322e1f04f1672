#!/usr/bin/env bash
# The collector on a ClickHouse store (issue #23), against a server of the test's own
# (clickhouse.bash: loopback, a temporary directory; skipped when clickhouse-server is not
# installed).  Two collectors run side by side on loopback, one on a SQLite store and one on the
# ClickHouse store, and every upload goes to both (curl(1), as collector.sh and payloads.sh send
# them):
#   segments   committed, retried ("duplicate"), a conflict (409), four concurrent uploads of one
#              segment (one committed), a lost ledger row (deleted on the server) recovered as
#              "duplicate", a second ledger row of one segment (two collectors racing) counted
#              once: then `stats`, `top` (ports, countries, sources), `events` and
#              `collector --health` (but the times) give the same bytes on both stores
#   payloads   batches committed, retried ("duplicate", nothing doubled), a malformed one refused;
#              `payloads` (table and JSON) byte-identical on both for 14 option sets; payload
#              rows of a batch without its payload_files row (a put cut off) are not seen, nor a
#              second committed batch of the same file (two uploads racing)
#   refusals   a ClickHouse store without --spool: a clear error
source "$(dirname "$0")/lib.bash"
source "$ROOT/tests/e2e/clickhouse.bash"
need curl
need zstd
need cc
need python3
"$DS" collector --help >/dev/null 2>&1 || skip "$DS has no collector command"
ch_start ds
write_conf
sed "s|^path = .*|url = $CH_URL|" darkscope.conf > ch.conf
echo "ClickHouse $CH_VERSION on 127.0.0.1:$CH_HTTP"
build_xxh

TOKYO=$("$DS" token new tokyo --tokens tokens)
OSAKA=$("$DS" token new osaka --tokens tokens)

mkseg() { # out day rate seed
    "$DS" synth -c darkscope.conf -o - --days 1 --start "$2" --rate "$3" --seed "${4:-7}" -q | zstd -q -c > "$1"
}
mkseg t1.zst 2023-07-01 3000
mkseg t2.zst 2023-07-02 3000
mkseg t3.zst 2023-07-03 3000
mkseg t4.zst 2023-07-04 3000 9
mkseg o1.zst 2023-07-01 2000 8
mkseg o2.zst 2023-07-03 2000 8

CPIDS=()
stop_all() { local p; for p in "${CPIDS[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap 'stop_all; ch_stop; rm -rf "$T"' EXIT
start_collector() { # NAME extra-args...: sets URL_NAME
    local name=$1; shift
    rm -f "port.$name"
    "$DS" collector --listen 127.0.0.1:0 --tokens tokens --port-file "port.$name" --max-segment 4M "$@" \
        >>"coll.$name.log" 2>&1 &
    CPIDS+=($!)
    for _ in $(seq 150); do [ -s "port.$name" ] && break; sleep 0.1; done
    [ -s "port.$name" ] || { cat "coll.$name.log"; fail "the $name collector did not start"; }
    printf -v "URL_$name" 'http://127.0.0.1:%s' "$(cat "port.$name")"
}

# ---- a ClickHouse store has no directory to put the spool beside
"$DS" collector -c ch.conf --listen 127.0.0.1:0 --tokens tokens > nospool.out 2>&1 && fail "a collector without --spool on ClickHouse"
grep -q 'is not a file: give the spool directory (--spool DIR)' nospool.out || fail "no --spool: $(cat nospool.out)"

start_collector sq
start_collector ch -c ch.conf --spool "$T/chspool"

# send URL PATH FILE SENSOR SEQ TOKEN [curl args...]: prints "CODE BODY"
send() {
    local url=$1 path=$2 file=$3 sensor=$4 seq=$5 tok=$6 ct=application/vnd.tcpdump.pcap out
    shift 6
    [ "$path" = payloads ] && ct=application/x-ndjson
    out=$(mktemp resp.XXXXXX)
    local code
    code=$(curl -sS -o "$out" -w '%{http_code}' -H "Authorization: Bearer $tok" -H "X-Darkscope-Sensor: $sensor" \
        -H "X-Darkscope-Segment: $seq" -H "X-Darkscope-Hash: $(./xxh "$file")" -H "X-Darkscope-Kernel-Drops: $seq" \
        -H "X-Darkscope-Spool-Bytes: 4096" -H "Content-Type: $ct" -H 'Expect: 100-continue' "$@" \
        --data-binary @"$file" "$url/v1/$path" || true)
    echo "$code $(cat "$out")"
    rm -f "$out"
}
# both PATH FILE SENSOR SEQ TOKEN CODE [body-substring]: the same upload to both collectors, the same answer
both() {
    local path=$1 file=$2 sensor=$3 seq=$4 tok=$5 code=$6 sub=${7:-} a b
    a=$(send "$URL_sq" "$path" "$file" "$sensor" "$seq" "$tok")
    b=$(send "$URL_ch" "$path" "$file" "$sensor" "$seq" "$tok")
    [ "${a%% *}" = "$code" ] || fail "SQLite collector: expected $code, got: $a"
    [ "${b%% *}" = "$code" ] || fail "ClickHouse collector: expected $code, got: $b"
    [ -z "$sub" ] || [[ $a == *"$sub"* && $b == *"$sub"* ]] || fail "expected '$sub' in: $a / $b"
    # the same answer but the store's name where an error message carries it
    [ "$a" = "$b" ] || [[ $code != 200 ]] || fail "the collectors answer differently: $a / $b"
}

# ---- segments
both segments t1.zst tokyo 1 "$TOKYO" 200 '"status":"committed"'
both segments t1.zst tokyo 1 "$TOKYO" 200 '"status":"duplicate"'
both segments t2.zst tokyo 1 "$TOKYO" 409 'committed with hash'
both segments o1.zst osaka 1 "$OSAKA" 200 '"status":"committed"'
both segments t2.zst tokyo 2 "$TOKYO" 200 '"status":"committed"'
both segments o2.zst osaka 2 "$OSAKA" 200 '"status":"committed"'

# the ledger row of tokyo 2 lost (a crash between the ingest's commit and the ledger): the retry
# is recognised by the ingest (same content) and answered "duplicate" on both
python3 - "$T/store.db" <<'EOF'
import sqlite3, sys
d = sqlite3.connect(sys.argv[1])
(p,) = d.execute("SELECT packets FROM collector_segments WHERE sensor='tokyo' AND seq=2").fetchone()
d.execute("DELETE FROM collector_segments WHERE sensor='tokyo' AND seq=2")
d.execute("UPDATE collector_health SET segments=segments-1, packets=packets-? WHERE name='tokyo'", (p,))
d.commit()
EOF
chq "ALTER TABLE ds.collector_segments DELETE WHERE sensor = 'tokyo' AND seq = 2"
for _ in $(seq 100); do
    [ "$(chq "SELECT count() FROM ds.collector_segments WHERE sensor = 'tokyo' AND seq = 2")" = 0 ] && break
    sleep 0.1
done
[ "$(chq "SELECT count() FROM ds.collector_segments WHERE sensor = 'tokyo' AND seq = 2")" = 0 ] ||
    fail "the mutation deleting tokyo 2's ledger row did not finish"
both segments t2.zst tokyo 2 "$TOKYO" 200 '"status":"duplicate"'
both segments t2.zst tokyo 2 "$TOKYO" 200 '"status":"duplicate"'

# the same segment four times at once, to each collector: committed exactly once by each
for name in sq ch; do
    url=URL_$name
    pids=()
    for i in 1 2 3 4; do send "${!url}" segments t3.zst tokyo 3 "$TOKYO" > "par.$name.$i" & pids+=($!); done
    wait "${pids[@]}"
    nc=$(cat par."$name".* | grep -c '"committed"' || true)
    nd=$(cat par."$name".* | grep -c '"duplicate"' || true)
    [ "$nc" = 1 ] && [ "$nd" = 3 ] || fail "$name: concurrent duplicates: $nc committed, $nd duplicate: $(cat par."$name".*)"
done
both segments t4.zst tokyo 4 "$TOKYO" 200 '"status":"committed"'

# two collectors racing past the ledger's check (two rows of one segment, the later one with
# other counts): the first recorded counts, once
chq "INSERT INTO ds.collector_segments SELECT sensor, seq, hash, packets + 1000, bytes, committed_at + 1, first_ns,
    last_ns, counted, upload_at + 1, ver + 1 FROM ds.collector_segments WHERE sensor = 'tokyo' AND seq = 1"

same=0
# the collectors committed a moment apart: the times since an upload (stats' silent_s, the health
# table's clock times and ages) are masked where MASK=1
mask() { if [ "${MASK:-0}" = 1 ]; then sed -E 's/"silent_s": [0-9]+/"silent_s": N/; s/[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}/TIME/g; s/ [0-9]+(s|m|h[0-9]*m?|d[0-9]*h?) / AGE /g'; else cat; fi; }
compare() { # COMMAND...: the same bytes and exit status from both stores
    local a=0 b=0
    "$DS" "$@" > sq.raw 2>&1 || a=$?
    "$DS" "$@" -c ch.conf > ch.raw 2>&1 || b=$?
    mask < sq.raw > sq.out
    mask < ch.raw > ch.out
    [ "$a" = "$b" ] || fail "$*: SQLite exit $a, ClickHouse exit $b: $(head -3 ch.out)"
    cmp -s sq.out ch.out || { diff sq.out ch.out | head -20 >&2; fail "$*: the stores answer differently"; }
    same=$((same + 1))
}
MASK=1 compare stats --format json
MASK=1 compare stats
compare top ports --from 2023-07-01 --to 2023-07-04 -n 0 --format json
compare top countries --from 2023-07-01 --to 2023-07-04 --format json
compare top sources --from 2023-07-01 --to 2023-07-04 -n 20 --format json
compare top ports --from 2023-07-01 --to 2023-07-04 --sensor osaka --format json
compare events --from 2023-07-01 --to 2023-07-04 --format json
# health: the same but the times (the two collectors committed a moment apart)
health() { "$DS" collector --health --format json "$@" | python3 -c '
import json, sys
rows = json.load(sys.stdin)
for r in rows:
    for k in list(r):
        if k in ("last_seen", "last_upload", "lag_s") or k.endswith("_age_s") or k.endswith("_time"):
            del r[k]
print(json.dumps(rows, sort_keys=True))'; }
hs=$(health); hc=$(health -c ch.conf)
[ "$hs" = "$hc" ] || fail "collector --health differs: SQLite $hs, ClickHouse $hc"
echo "$hc" | python3 -c '
import json, sys
rows = {r["sensor"]: r for r in json.load(sys.stdin)}
t = rows["tokyo"]
assert t["segments"] == 4 and t["last_segment"] == 4 and t["kernel_drops"] == 4 and t["spool_bytes"] == 4096, t
assert rows["osaka"]["segments"] == 2, rows' || fail "health on ClickHouse: $hc"
same=$((same + 1))
"$DS" collector --health -c ch.conf | grep -q '^tokyo ' || fail "health table on ClickHouse"
# every segment once in the ClickHouse ledger (and the racing row)
[ "$(chq "SELECT count() FROM ds.collector_segments")" = 7 ] || fail "ledger rows: $(chq "SELECT sensor, seq FROM ds.collector_segments")"

# ---- payloads (payloads.sh's batches)
python3 - <<'EOF'
import base64, json
S = 10**9
T = 1688205600 * S                # 2023-07-01 10:00:00 UTC
GET = b"GET / HTTP/1.1\r\nHost: 198.51.100.7\r\nUser-Agent: Mozilla/5.0 zgrab/0.x\r\n\r\n"
BIN = bytes([0x16, 0x03, 0x01, 0x00, 0x00, 0xff, 0x7f, 0x80, 0x0a]) + bytes(range(256))
def line(ts, src, sport, dst, dport, data):
    d = {"ts_ns": ts, "src": src, "sport": sport, "dst": dst, "dport": dport, "seq": 123456789,
         "len": len(data), "payload_b64": base64.b64encode(data).decode()}
    return json.dumps(d, separators=(",", ":")) + "\n"
open("pay-1.jsonl", "w").write("".join([
    line(T + 1 * S, "192.0.2.1", 40001, "198.51.100.7", 80, GET),
    line(T + 2 * S, "192.0.2.2", 40002, "198.51.100.8", 80, GET),
    line(T + 3 * S, "192.0.2.3", 40003, "198.51.100.9", 80, BIN),
    line(T + 4 * S, "192.0.2.1", 40004, "198.51.100.7", 80, GET),
    line(T + 5 * S, "192.0.2.4", 40005, "198.51.100.10", 23, b"\xff\xfb\x01root\r\n"),
    line(T + 5 * S, "192.0.2.10", 40005, "198.51.100.10", 23, b""),
]))
open("pay-2.jsonl", "w").write("".join([
    line(T + 5 * S, "192.0.2.4", 40005, "198.51.100.10", 23, b"\xff\xfb\x01root\r\n"),   # same instant as one of pay-1
    line(T + 86400 * S, "192.0.2.2", 40009, "198.51.100.8", 80, GET),
    line(T + 86401 * S, "192.0.2.20", 50000, "198.51.100.9", 8080, GET),
]))
open("osaka.jsonl", "w").write(line(T + 6 * S, "2001:db8::1", 40006, "203.0.113.5", 80, GET))
open("bad.jsonl", "w").write(line(T, "192.0.2.9", 1, "198.51.100.1", 80, GET) + '{"ts_ns":1,\n')
EOF
both payloads pay-1.jsonl tokyo 1 "$TOKYO" 200 '"status":"committed","sensor":"tokyo","segment":1,"payloads":6'
both payloads pay-1.jsonl tokyo 1 "$TOKYO" 200 '"status":"duplicate"'
both payloads osaka.jsonl osaka 1 "$OSAKA" 200 '"status":"committed"'
both payloads pay-2.jsonl tokyo 2 "$TOKYO" 200 '"status":"committed"'
both payloads bad.jsonl tokyo 3 "$TOKYO" 400 'nothing stored'
both payloads pay-2.jsonl tokyo 2 "$TOKYO" 200 '"status":"duplicate"'
# rows of a batch whose payload_files row never came (a put cut off): nobody sees them
chq "INSERT INTO ds.payloads VALUES (42, 'tokyo', 9, 1688205601000000000, '192.0.2.1', 1, '198.51.100.7', 80, 6, 0, 3, unhex('00112233445566778899aabbccddeeff'))"
# two uploads of one payload file racing past the duplicate check (a second batch and its
# payload_files row): only the first batch committed counts
chq "INSERT INTO ds.payloads SELECT batch + 1, sensor, file_seq, ts_ns, src, sport, dst, dport, proto, tcp_seq, len, hash
    FROM ds.payloads WHERE sensor = 'tokyo' AND file_seq = 1"
chq "INSERT INTO ds.payload_files SELECT sensor, seq, hash, batch + 1, rows, committed_at FROM ds.payload_files
    WHERE sensor = 'tokyo' AND seq = 1"
for opts in "" "--top" "--service 80/tcp" "--service 23/tcp --top" "--sensor osaka" "--sensor tokyo --top" \
    "--from 2023-07-02" "--to 2023-07-01" "--from 2023-07-01 --to 2023-07-01 --limit 2" "--limit 0" \
    "--top --limit 2" "--source 192.0.2.1" "--source 2001:db8::1" "--source 192.0.2.99"; do
    # shellcheck disable=SC2086
    compare payloads --format json $opts
    # shellcheck disable=SC2086
    compare payloads $opts
done
n=$("$DS" payloads --limit 0 --format json -c ch.conf | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
[ "$n" = 10 ] || fail "ClickHouse: $n payloads stored, want 10"
"$DS" payloads --top --format json -c ch.conf | python3 -c '
import json, sys
r = json.load(sys.stdin)
assert r[0]["count"] == 5 and r[0]["sources"] == 3 and r[0]["service"] == "80/tcp", r[0]' || fail "ClickHouse --top"
compare report --from 2023-07-01 --to 2023-07-04 --focus 80/tcp --format json

stop_all
for name in sq ch; do
    grep -E 'ERROR: AddressSanitizer|runtime error:|LeakSanitizer' "coll.$name.log" && fail "sanitizer report in the $name collector's log"
done
echo "clickhouse_collector: $same comparisons byte-identical; all checks passed"
