# Output order is a function of the store's content only (issue #22, item 4): the same captures
# ingested in different orders (A B C, C B A), with --threads 1 and 2, and one capture split
# into two files (at 30% and at 60% of its records, the pieces ingested in different orders)
# give byte-identical `top` (every table, --limit 0), `events`, `stats` and `report` JSON; the
# same payload batches uploaded in either order give identical `payloads` lists and --top tables.
# The order contracts themselves are listed in docs/store.md ("Order contracts").
source "$(dirname "$0")/lib.bash"
need curl
need python3
write_conf
# pcap_split IN FRACTION OUT1 OUT2: the first FRACTION of IN's records, and the rest (classic pcap)
pcap_split() {
    python3 - "$@" <<'EOF'
import sys
src, frac, o1, o2 = sys.argv[1], float(sys.argv[2]), sys.argv[3], sys.argv[4]
d = open(src, "rb").read()
order = "little" if d[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else "big"
recs, off = [], 24
while off < len(d):
    end = off + 16 + int.from_bytes(d[off + 8:off + 12], order)
    recs.append(d[off:end])
    off = end
cut = int(len(recs) * frac)
open(o1, "wb").write(d[:24] + b"".join(recs[:cut]))
open(o2, "wb").write(d[:24] + b"".join(recs[cut:]))
EOF
}
# two overlapping captures with the planted phenomena, and a third, plainer one, two days later
$DS synth -q -o a.pcap --days 10 --start 2023-07-01 --rate 5000 --seed 31
$DS synth -q -o b.pcap --days 10 --start 2023-07-01 --rate 5000 --seed 32
$DS synth -q -o c.pcap --days 8 --start 2023-07-03 --rate 3000 --seed 33 --no-phenomena
pcap_split a.pcap 0.3 a1.pcap a2.pcap
pcap_split a.pcap 0.6 a3.pcap a4.pcap

# dump NAME [all]: the queries' output into out-NAME/ (with "all", events, stats and the report too)
dump() {
    local o=out-$1 t
    mkdir -p "$o"
    for t in ports countries asns sources; do
        $DS top $t --format json --limit 0 > "$o/top-$t.json"
        $DS top $t --format json --limit 0 --sensor osaka --class scan > "$o/top-$t-osaka.json"
    done
    $DS top sources --where tool=mirai --format json --limit 0 > "$o/top-mirai.json"
    $DS top ports --where country=CN --format csv --limit 0 > "$o/top-ports-cn.csv"
    [ "${2:-}" = all ] || return 0
    $DS events --format json > "$o/events.json"
    $DS events --from 2023-07-05 --to 2023-07-08 --format json > "$o/events-week.json"
    $DS stats --format json > "$o/stats.json"
    $DS report --period 2023-07 --format json --top 20 --focus 23/tcp --focus CN > "$o/report.json"
}
same() { # REF OTHER [SKIP...]: every file of out-REF (but SKIP) is in out-OTHER, byte for byte
    local f n=0 ref=$1 other=$2
    shift 2
    for f in out-$ref/*; do
        case " $* " in *" ${f##*/} "*) continue ;; esac
        cmp -s "$f" "out-$other/${f##*/}" || { echo "FAIL: $other: ${f##*/} differs from $ref's" >&2;
            diff <(head -c 3000 "$f") <(head -c 3000 "out-$other/${f##*/}") | head -n 20 >&2 || true;
            fail "$other: ${f##*/} differs from $ref's"; }
        n=$((n + 1))
    done
    echo "ok: $other = $ref ($n outputs)"
}
fresh() { rm -f "$T"/store.db*; }

fresh; $DS ingest -q a.pcap b.pcap c.pcap; dump abc all
python3 -c 'import json,sys; e=json.load(open("out-abc/events.json")); sys.exit(len(e) < 20)' ||
    fail "too few events to test their order"
fresh; $DS ingest -q c.pcap b.pcap a.pcap; dump cba all
same abc cba
fresh; $DS ingest -q -j 2 b.pcap c.pcap a.pcap; dump bca-j2 all
same abc bca-j2
fresh; for f in c.pcap a.pcap b.pcap; do $DS ingest -q -j 2 $f; done; dump cab-j2-apart all
same abc cab-j2-apart
# a capture split in two: the pieces in either order give the same everything; split at another
# point, the same tables (events and the report may differ: a scan or a flood cut by a file
# boundary is measured per file, and `stats` counts files)
fresh; $DS ingest -q a1.pcap a2.pcap b.pcap c.pcap; dump split30 all
fresh; $DS ingest -q c.pcap a2.pcap b.pcap a1.pcap; dump split30r all
same split30 split30r
fresh; $DS ingest -q -j 2 a4.pcap c.pcap a3.pcap b.pcap; dump split60
same split60 abc
# tools are attributed per (file, sensor, day): the 30% cut leaves one Mirai host's osaka day of
# 4 July with only a UDP first fragment in a2.pcap (counted as 53/udp since first fragments are
# decoded), which alone matches no fingerprint; the 60% cut and the whole file keep it with the
# host's Mirai SYNs.  Every other table is the same.
same split60 split30 top-mirai.json

# ---- payloads: two batches, with ties (same arrival, same content to two ports), either order
build_xxh
python3 - <<'EOF'
import base64, json
S, T = 10**9, 1688205600 * 10**9
GET = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"
def line(ts, src, sport, dst, dport, data):
    return json.dumps({"ts_ns": ts, "src": src, "sport": sport, "dst": dst, "dport": dport, "seq": 7,
                       "len": len(data), "payload_b64": base64.b64encode(data).decode()}) + "\n"
one = [line(T + S, "192.0.2.9", 40001, "198.51.100.7", 80, GET),
       line(T + 2 * S, "192.0.2.5", 40002, "198.51.100.8", 8080, GET),
       line(T + 3 * S, "192.0.2.7", 40003, "198.51.100.9", 23, b"root\r\n")]
two = [line(T + S, "192.0.2.1", 40001, "198.51.100.7", 80, GET),
       line(T + 2 * S, "192.0.2.6", 40002, "198.51.100.8", 8080, GET),
       line(T + 3 * S, "192.0.2.8", 40003, "198.51.100.9", 23, b"root\r\n")]
open("p1.jsonl", "w").write("".join(one))
open("p2.jsonl", "w").write("".join(two))
EOF
TOK=$($DS token new tokyo --tokens tokens)
trap '[ -z "${CPID:-}" ] || kill "$CPID" 2>/dev/null; rm -rf "$T"' EXIT
post() { # FILE SEQ
    local code
    code=$(curl -sS -o resp -w '%{http_code}' -H "Authorization: Bearer $TOK" -H "X-Darkscope-Sensor: tokyo" \
        -H "X-Darkscope-Segment: $2" -H "X-Darkscope-Hash: $(./xxh "$1")" -H "Content-Type: application/x-ndjson" \
        --data-binary @"$1" "http://127.0.0.1:$(cat port)/v1/payloads") || true
    [ "$code" = 200 ] || fail "posting $1: HTTP $code $(cat resp 2>/dev/null)"
}
payload_run() { # NAME FILE FILE
    local name=$1
    fresh; rm -f port
    $DS collector --listen 127.0.0.1:0 --tokens tokens --port-file port >>coll.log 2>&1 &
    CPID=$!
    for _ in $(seq 100); do [ -s port ] && break; sleep 0.1; done
    [ -s port ] || { cat coll.log; fail "the collector did not start"; }
    post "$2" 1; post "$3" 2
    kill "$CPID"; wait "$CPID" 2>/dev/null || true; CPID=
    mkdir -p "out-$name"
    $DS payloads --limit 0 --format json > "out-$name/payloads.json"
    $DS payloads --top --limit 0 --format json > "out-$name/payloads-top.json"
    $DS payloads --limit 0 > "out-$name/payloads.txt"
}
payload_run pay12 p1.jsonl p2.jsonl
payload_run pay21 p2.jsonl p1.jsonl
python3 -c 'import json,sys; sys.exit(len(json.load(open("out-pay12/payloads.json"))) != 6)' ||
    fail "want 6 payloads stored"
same pay12 pay21
echo "order ok"
