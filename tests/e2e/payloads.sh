#!/usr/bin/env bash
# First payloads (issue #5, `darkscope sensor --respond syn`), on loopback only: the real collector
# (127.0.0.1, an ephemeral port) takes pay-<seq>.jsonl files as the sensor's uploader sends them
# (POST /v1/payloads, NDJSON, token and hash headers), built here with python3 and sent with
# curl(1): a batch with HTTP GETs and a binary payload is committed, its retry is "duplicate" and
# doubles nothing, malformed batches are refused with 400 naming the line and store nothing, bad
# tokens and hashes are refused.  Then `darkscope payloads` (table, JSON, --top, --service,
# --sensor, --from/--to) shows what was stored byte for byte, and `darkscope report --focus 80/tcp`
# lists the most common payload (JSON, Markdown in English and Japanese, HTML).  --exclude research
# leaves a listed scanner's payloads out of both (rows, --top counts, the report's table).  Last, the sensor's
# own uploader sends a spooled pay-N.jsonl through the same endpoint (no capture interface needed:
# `sensor --read`).
source "$(dirname "$0")/lib.bash"
need curl
need cc
need python3
"$DS" payloads --help >/dev/null 2>&1 || skip "$DS has no payloads command"
write_conf
# with DS a sanitizer build: fontconfig's process-lifetime caches are not leaks (as report_sanitize.sh)
printf 'leak:libfontconfig.so\n' > lsan.supp
export LSAN_OPTIONS=suppressions=$T/lsan.supp G_SLICE=always-malloc

build_xxh

TOKYO=$("$DS" token new tokyo --tokens tokens)
OSAKA=$("$DS" token new osaka --tokens tokens)

# traffic for the report's period, so that 2023-07-01 is a day of the store
"$DS" synth -c darkscope.conf -o day.pcap --days 1 --start 2023-07-01 --rate 2000 --seed 11 -q
"$DS" ingest -q --sensor tokyo day.pcap

# ---- payload files, in the sensor's format (record_payload in src/net/responder.c)
python3 - <<'EOF'
import base64, json
S = 10**9
T = 1688205600 * S                # 2023-07-01 10:00:00 UTC
GET = b"GET / HTTP/1.1\r\nHost: 198.51.100.7\r\nUser-Agent: Mozilla/5.0 zgrab/0.x\r\n\r\n"
BIN = bytes([0x16, 0x03, 0x01, 0x00, 0x00, 0xff, 0x7f, 0x80, 0x0a]) + bytes(range(256))
def line(ts, src, sport, dst, dport, data, **extra):
    d = {"ts_ns": ts, "src": src, "sport": sport, "dst": dst, "dport": dport, "seq": 123456789,
         "len": len(data), "payload_b64": base64.b64encode(data).decode()}
    d.update(extra)
    return json.dumps(d, separators=(",", ":")) + "\n"
good = [
    line(T + 1 * S, "192.0.2.1", 40001, "198.51.100.7", 80, GET),
    line(T + 2 * S, "192.0.2.2", 40002, "198.51.100.8", 80, GET),
    line(T + 3 * S, "192.0.2.3", 40003, "198.51.100.9", 80, BIN),
    line(T + 4 * S, "192.0.2.1", 40004, "198.51.100.7", 80, GET),
    line(T + 5 * S, "192.0.2.4", 40005, "198.51.100.10", 23, b"\xff\xfb\x01root\r\n"),
]
open("pay-1.jsonl", "w").write("".join(good))
open("bin.hex", "w").write(BIN.hex())
open("osaka.jsonl", "w").write(line(T + 6 * S, "2001:db8::1", 40006, "203.0.113.5", 80, GET, future="ignored"))
# malformed: each a copy of the good file with line 3 (or the last) broken
def broken(i, text):
    lines = list(good)
    lines[i] = text
    return "".join(lines)
bad = {
    "json":    broken(2, '{"ts_ns":1,\n'),
    "missing": broken(2, line(T, "192.0.2.9", 1, "198.51.100.1", 80, GET).replace('"sport":1,', "")),
    "addr":    broken(2, line(T, "192.0.2.999", 1, "198.51.100.1", 80, GET)),
    "port":    broken(2, line(T, "192.0.2.9", 70000, "198.51.100.1", 80, GET)),
    "b64":     broken(2, line(T, "192.0.2.9", 1, "198.51.100.1", 80, GET).replace('"payload_b64":"', '"payload_b64":"!')),
    "pad":     broken(2, line(T, "192.0.2.9", 1, "198.51.100.1", 80, b"ab").replace("YWI=", "YWI")),
    "twice":   broken(2, line(T, "192.0.2.9", 1, "198.51.100.1", 80, GET).replace('"seq":', '"sport":2,"seq":')),
    "len":     broken(2, line(T, "192.0.2.9", 1, "198.51.100.1", 80, GET).replace('"len":%d' % len(GET), '"len":3')),
    "neg":     broken(2, line(T, "192.0.2.9", 1, "198.51.100.1", 80, GET).replace('"ts_ns":%d' % T, '"ts_ns":-1')),
    "array":   broken(2, "[1,2]\n"),
    "huge":    broken(2, line(T, "192.0.2.9", 1, "198.51.100.1", 80, b"x" * 65536)),
    "trail":   broken(2, line(T, "192.0.2.9", 1, "198.51.100.1", 80, GET).rstrip("\n") + " x\n"),
}
for k, v in bad.items():
    open("bad-%s.jsonl" % k, "w").write(v)
EOF

start_collector() {
    rm -f port
    "$DS" collector --listen 127.0.0.1:0 --tokens tokens --port-file port --max-segment 4M "$@" >>coll.log 2>&1 &
    CPID=$!
    for _ in $(seq 100); do [ -s port ] && break; sleep 0.1; done
    [ -s port ] || { cat coll.log; fail "the collector did not start"; }
    URL=http://127.0.0.1:$(cat port)
}
stop_collector() {
    kill "$CPID" 2>/dev/null || true
    local rc=0
    wait "$CPID" 2>/dev/null || rc=$?
    CPID=
    [ "$rc" = 0 ] || { tail -n 30 coll.log >&2; fail "the collector exited with $rc"; }
}
trap '[ -z "${CPID:-}" ] || kill "$CPID" 2>/dev/null; rm -rf "$T"' EXIT

# post FILE SENSOR SEQ TOKEN [HASH] [curl args...]: prints "CODE BODY"
post() {
    local file=$1 sensor=$2 seq=$3 tok=$4 hash=${5:-}
    shift 4; [ $# -gt 0 ] && shift
    [ -n "$hash" ] || hash=$(./xxh "$file")
    rm -f resp
    curl -sS -o resp -w '%{http_code}' -H "Authorization: Bearer $tok" -H "X-Darkscope-Sensor: $sensor" \
        -H "X-Darkscope-Segment: $seq" -H "X-Darkscope-Hash: $hash" -H "Content-Type: ${CT:-application/x-ndjson}" \
        -H 'Expect: 100-continue' "$@" --data-binary @"$file" "$URL/v1/payloads" > code || true
    echo "$(cat code) $(cat resp 2>/dev/null)"
}
expect() { # "CODE BODY" code [body-substring]
    local got=$1 code=$2 sub=${3:-}
    [ "${got%% *}" = "$code" ] || fail "expected $code, got: $got"
    [ -z "$sub" ] || [[ $got == *"$sub"* ]] || fail "expected '$sub' in: $got"
}
stored() { "$DS" payloads --limit 0 --format json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'; }

start_collector

# ---- commit, retry, another sensor
expect "$(post pay-1.jsonl tokyo 1 "$TOKYO")" 200 '"status":"committed","sensor":"tokyo","segment":1,"payloads":5'
[ "$(stored)" = 5 ] || fail "after the first batch: $(stored) payloads stored"
expect "$(post pay-1.jsonl tokyo 1 "$TOKYO")" 200 '"status":"duplicate"'
expect "$(post pay-1.jsonl tokyo 1 "$TOKYO")" 200 '"status":"duplicate"'
[ "$(stored)" = 5 ] || fail "a retried batch was stored again: $(stored) payloads"
expect "$(post osaka.jsonl osaka 1 "$OSAKA")" 200 '"status":"committed","sensor":"osaka","segment":1,"payloads":1'
[ "$(stored)" = 6 ] || fail "osaka's batch: $(stored) payloads"

# ---- malformed batches: 400 naming the line, nothing stored
for k in json missing addr port b64 pad twice len neg array huge trail; do
    got=$(post "bad-$k.jsonl" tokyo 2 "$TOKYO")
    expect "$got" 400 'line 3'
    [[ $got == *'nothing stored'* ]] || fail "$k: $got"
done
expect "$(post bad-missing.jsonl tokyo 2 "$TOKYO")" 400 'member sport missing'
expect "$(post bad-addr.jsonl tokyo 2 "$TOKYO")" 400 'not an IPv4 or IPv6 address'
expect "$(post bad-twice.jsonl tokyo 2 "$TOKYO")" 400 'member given twice'
expect "$(post bad-huge.jsonl tokyo 2 "$TOKYO")" 400 'more than 65535 bytes'
[ "$(stored)" = 6 ] || fail "a malformed batch stored something: $(stored) payloads"

# ---- refusals as for segments
expect "$(post pay-1.jsonl tokyo 3 dst_0000)" 401 'bad token'
expect "$(post pay-1.jsonl osaka 3 "$TOKYO")" 403 'another sensor'
expect "$(post pay-1.jsonl tokyo 3 "$TOKYO" "$(./xxh osaka.jsonl)")" 400 'does not match'
expect "$(CT=text/plain post pay-1.jsonl tokyo 3 "$TOKYO")" 400 'application/x-ndjson'
head -c 5000000 /dev/zero > huge.jsonl
expect "$(post huge.jsonl tokyo 3 "$TOKYO")" 413 'over the limit'
expect "$(post pay-1.jsonl tokyo x "$TOKYO")" 400 'X-Darkscope-Segment'
rm -f resp; expect "$(curl -sS -o resp -w '%{http_code}' "$URL/v1/payloads"; echo " $(cat resp)")" 405
[ "$(stored)" = 6 ] || fail "a refused upload stored something: $(stored) payloads"
grep -q 'sensor=tokyo payload-file=1 .* 200 committed payloads=5' coll.log || fail "no log line for the commit: $(cat coll.log)"
grep -q 'sensor=tokyo payload-file=2 .* 400 .*line 3' coll.log || fail "no log line for the malformed batch"

# ---- darkscope payloads
"$DS" payloads --service 80/tcp > table.txt
grep -q '^2023-07-01T10:00:01+00:00  tokyo *192\.0\.2\.1 *40001 *198\.51\.100\.7 *80/tcp *73  GET / HTTP/1\.1\.\.Host: ' table.txt ||
    fail "table row: $(cat table.txt)"
grep -q '474554202f20485454502f312e310d0a\.\.\.$' table.txt || fail "hex column: $(cat table.txt)"
grep -q '\.\.\.\.\.\.\.\.\.\.\.\.\.\.' table.txt || fail "binary payload not shown as dots: $(cat table.txt)"
grep -q '2001:db8::1' table.txt || fail "IPv6 source missing: $(cat table.txt)"
grep -q '^5 payloads$' table.txt || fail "table footer: $(tail -n 1 table.txt)"
grep -q '23/tcp' table.txt && fail "--service 80/tcp showed 23/tcp"
"$DS" payloads --format json > all.json
python3 - <<'EOF' || fail "payloads JSON: $(cat all.json)"
import base64, json
rows = json.load(open("all.json"))
assert len(rows) == 6, len(rows)
assert [r["ts_ns"] for r in rows] == sorted(r["ts_ns"] for r in rows)
binrow = [r for r in rows if r["source"] == "192.0.2.3"][0]
want = bytes.fromhex(open("bin.hex").read())
assert base64.b64decode(binrow["payload_b64"]) == want, "binary payload differs"
assert binrow["hex"] == want.hex() and binrow["len"] == len(want) and binrow["kept"] == len(want)
assert binrow["service"] == "80/tcp" and binrow["sport"] == 40003 and binrow["tcp_seq"] == 123456789
assert binrow["time"] == "2023-07-01T10:00:03+00:00", binrow["time"]
telnet = [r for r in rows if r["service"] == "23/tcp"][0]
assert telnet["excerpt"] == "...root..", telnet["excerpt"]
assert {r["sensor"] for r in rows} == {"tokyo", "osaka"}
EOF
"$DS" payloads --top --format json > top.json
python3 - <<'EOF' || fail "payloads --top: $(cat top.json)"
import json
rows = json.load(open("top.json"))
assert len(rows) == 3, rows
get = rows[0]
assert get["service"] == "80/tcp" and get["count"] == 4 and get["sources"] == 3, get
assert get["excerpt"].startswith("GET / HTTP/1.1..Host: "), get
assert get["first_seen"] == "2023-07-01T10:00:01+00:00" and get["last_seen"] == "2023-07-01T10:00:06+00:00", get
assert [r["count"] for r in rows] == [4, 1, 1]
EOF
"$DS" payloads --top --service 80/tcp --sensor tokyo | grep -q '^   1  80/tcp *3 *2  2023-07-01T10:00:01+00:00' ||
    fail "top table: $("$DS" payloads --top --service 80/tcp --sensor tokyo)"
[ "$("$DS" payloads --sensor osaka --format json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" = 1 ] ||
    fail "--sensor osaka"
[ "$("$DS" payloads --from 2023-07-02 --format json)" = "[]" ] || fail "--from 2023-07-02 is not empty"
[ "$("$DS" payloads --to 2023-06-30 --format json)" = "[]" ] || fail "--to 2023-06-30 is not empty"
[ "$("$DS" payloads --from 2023-07-01 --to 2023-07-01 --limit 2 | tail -n 1)" = "6 payloads (raise --limit, or --limit 0, to see all)" ] ||
    fail "--limit footer: $("$DS" payloads --limit 2 | tail -n 1)"
# the store's timezone: the same instants in Asia/Tokyo (a copy of the store, its day zone changed)
python3 - "$T/store.db" <<'EOF'
import sqlite3, sys
d = sqlite3.connect("tokyo.db")
sqlite3.connect(sys.argv[1]).backup(d)   # the WAL too: the collector is running
d.execute("INSERT OR REPLACE INTO meta VALUES('timezone', 'Asia/Tokyo')")
d.commit()
EOF
"$DS" payloads --db tokyo.db --sensor osaka | grep -q '^2023-07-01T19:00:06+09:00 ' || fail "Asia/Tokyo: $("$DS" payloads --db tokyo.db --sensor osaka)"
[ "$("$DS" payloads --db tokyo.db --from 2023-07-02 --format json)" = "[]" ] || fail "Asia/Tokyo: --from 2023-07-02"
set +e
"$DS" payloads --service 80/nope >/dev/null 2>err; rc=$?
set -e
[ "$rc" = 2 ] && grep -q 'use PORT/tcp' err || fail "bad --service: rc $rc $(cat err)"

# ---- report focus
"$DS" report --period 2023-07-01..2023-07-01 --compare none --focus 80/tcp --focus 23/tcp --format json > rep.json
python3 - <<'EOF' || fail "report focus payloads: $(python3 -c 'import json; print([f.get("payloads") for f in json.load(open("rep.json"))["focus"]])')"
import json
r = json.load(open("rep.json"))
f = {x["key"]: x for x in r["focus"]}
p = f["80/tcp"]["payloads"]
assert len(p) == 2 and p[0]["count"] == 4 and p[0]["sources"] == 3, p
assert p[0]["excerpt"].startswith("GET / HTTP/1.1..Host: 198.51.100.7"), p
assert p[0]["hex"].startswith("474554202f"), p
assert f["23/tcp"]["payloads"][0]["excerpt"] == "...root..", f["23/tcp"]
EOF
"$DS" report --period 2023-07-01..2023-07-01 --focus 80/tcp --format md -o en.md
grep -q 'First payloads' en.md && grep -q 'GET / HTTP/1.1..Host' en.md || fail "Markdown report: no payload table"
"$DS" report --period 2023-07-01..2023-07-01 --focus 80/tcp --lang ja --format md -o ja.md
grep -q '最初のペイロード' ja.md || fail "Japanese report: no payload table"
"$DS" report --period 2023-07-01..2023-07-01 --focus 80/tcp -o r.html
grep -q 'GET / HTTP/1.1..Host' r.html || fail "HTML report: no payload table"
# a period without payloads: no section, an empty list
"$DS" report --period 2023-07-01..2023-07-01 --focus 443/tcp --format json |
    python3 -c 'import json,sys; assert json.load(sys.stdin)["focus"][0]["payloads"] == []' || fail "443/tcp payloads"

# ---- --exclude research (issue #4 item 3, issue #5 item 2): 192.0.2.1 sent two of the four GETs and
# is listed; its SYN is in the store (a capture of it ingested), so the report's exclusion set, made
# from the sources the store saw, holds it.  192.0.2.4 (the telnet payload) is listed too but never
# captured: `payloads` matches the lists' prefixes against the address as well.
python3 - <<'EOF'
import json, struct
T = 1688205601                    # 2023-07-01 10:00:01 UTC, the first GET
def csum(b):
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xffff); s += s >> 16
    return ~s & 0xffff
ip = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, 0, 40, 1, 0, 64, 6, 0, bytes([192, 0, 2, 1]), bytes([198, 51, 100, 7])))
ip[10:12] = struct.pack("!H", csum(bytes(ip)))
tcp = struct.pack("!HHIIBBHHH", 40001, 80, 123456788, 0, 0x50, 0x02, 1024, 0, 0)
frame = b"\x02" * 6 + b"\x04" * 6 + b"\x08\x00" + bytes(ip) + tcp
with open("research.pcap", "wb") as f:
    f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
    f.write(struct.pack("<IIII", T, 0, len(frame), len(frame)) + frame)
json.dump({"name": "test research scanners", "type": "cidr", "list": ["192.0.2.1/32", "192.0.2.4/32"]},
          open("research.json", "w"))
EOF
"$DS" ingest -q --sensor tokyo research.pcap
{ cat darkscope.conf; printf '[detect]\nresearch_lists = %s/research.json\n' "$T"; } > research.conf
set +e
"$DS" payloads --exclude research >/dev/null 2>err; rc=$?
"$DS" payloads --exclude scanners >/dev/null 2>err2; rc2=$?
set -e
[ "$rc" = 1 ] && grep -q 'research_lists' err || fail "--exclude research without lists: rc $rc $(cat err)"
[ "$rc2" = 2 ] && grep -q "the only exclusion is 'research'" err2 || fail "--exclude scanners: rc $rc2 $(cat err2)"
"$DS" payloads -c research.conf --format json > inc.json
"$DS" payloads -c research.conf --exclude research --format json > exc.json
"$DS" payloads -c research.conf --exclude research --top --format json > exctop.json
"$DS" payloads -c research.conf --exclude research --top --limit 1 > exctop1.txt
"$DS" payloads -c research.conf --exclude research --service 80/tcp --from 2023-07-01 --to 2023-07-01 > exc.txt
python3 - <<'EOF' || fail "payloads --exclude research: $(cat exc.json exctop.json)"
import json
inc, exc, top = (json.load(open(f)) for f in ("inc.json", "exc.json", "exctop.json"))
assert len(inc) == 6, len(inc)
assert sorted(r["source"] for r in exc) == ["192.0.2.2", "192.0.2.3", "2001:db8::1"], exc
assert [r["ts_ns"] for r in exc] == sorted(r["ts_ns"] for r in exc)
get = top[0]
assert get["service"] == "80/tcp" and get["count"] == 2 and get["sources"] == 2, get
assert get["first_seen"] == "2023-07-01T10:00:02+00:00" and get["example_source"] == "192.0.2.2", get
assert [r["count"] for r in top] == [2, 1] and all(r["service"] == "80/tcp" for r in top), top
EOF
grep -q '^2 distinct payloads (raise --limit' exctop1.txt || fail "--top --limit 1 footer: $(cat exctop1.txt)"
grep -q '192\.0\.2\.1 ' exc.txt && fail "192.0.2.1 in the excluded table: $(cat exc.txt)"
grep -q '^3 payloads$' exc.txt || fail "excluded table footer: $(tail -n 1 exc.txt)"
"$DS" report -c research.conf --period 2023-07-01..2023-07-01 --compare none --focus 80/tcp --exclude research --format json > repx.json
"$DS" report -c research.conf --period 2023-07-01..2023-07-01 --compare none --focus 80/tcp --format json > repi.json
python3 - <<'EOF' || fail "report --exclude research payloads: $(python3 -c 'import json; print(json.load(open("repx.json"))["focus"][0]["payloads"])')"
import json
x = json.load(open("repx.json"))["focus"][0]["payloads"]
i = json.load(open("repi.json"))["focus"][0]["payloads"]
assert i[0]["count"] == 4 and i[0]["sources"] == 3, i
assert x[0]["count"] == 2 and x[0]["sources"] == 2 and len(x) == 2, x
EOF

# ---- darkscope serve: /api/v1/payloads gives the CLI's bytes (report/payloads_json.c, one
# writer), and a source's detail lists its first payloads (`payloads --source`)
if "$DS" serve --help >/dev/null 2>&1; then
    rm -f sport
    "$DS" serve -c research.conf --listen 127.0.0.1:0 --port-file sport >serve.log 2>&1 &
    SERVE=$!
    for _ in $(seq 100); do [ -s sport ] && break; sleep 0.1; done
    [ -s sport ] || fail "serve did not start: $(cat serve.log)"
    SURL=http://127.0.0.1:$(cat sport)
    api_same() { # api-path cli-args...
        local p=$1; shift
        local code; code=$(curl -sS -o body -w '%{http_code}' "$SURL$p")
        [ "$code" = 200 ] || { kill "$SERVE"; fail "$p: HTTP $code: $(cat body)"; }
        "$DS" payloads -c research.conf "$@" > cli.out
        cmp -s body cli.out || { diff body cli.out | head -5; kill "$SERVE"; fail "$p differs from darkscope payloads $*"; }
    }
    api_same "/api/v1/payloads" --format json
    api_same "/api/v1/payloads?top=1&service=80/tcp&limit=1" --top --service 80/tcp --limit 1 --format json
    api_same "/api/v1/payloads?sensor=osaka&from=2023-07-01&to=2023-07-01" --sensor osaka --from 2023-07-01 --to 2023-07-01 --format json
    api_same "/api/v1/payloads?exclude=research&top=1" --exclude research --top --format json
    api_same "/api/v1/payloads?source=192.0.2.1&limit=0" --source 192.0.2.1 --limit 0 --format json
    api_same "/api/v1/payloads?source=2001:DB8:0::1" --source 2001:db8::1 --format json
    "$DS" payloads --source 192.0.2.1 --format json | python3 -c '
import json, sys
r = json.load(sys.stdin)
assert len(r) == 2 and all(x["source"] == "192.0.2.1" for x in r), r' || fail "payloads --source 192.0.2.1"
    [ "$("$DS" payloads --source 192.0.2.99 --format json)" = "[]" ] || fail "--source of an address that sent nothing"
    rc=0; "$DS" payloads --source 192.0.2.300 >/dev/null 2>err || rc=$?
    [ "$rc" = 2 ] && grep -q -- '--source 192.0.2.300' err || fail "--source 192.0.2.300: rc $rc $(cat err)"
    for bad in "top=yes:top: 'yes'" "source=x:source: 'x'" "service=80/xyz:service: '80/xyz'" "exclude=tor:exclude: 'tor'" \
               "from=2023-02-30:from: '2023-02-30'" "limit=-3:limit: '-3'" "port=80:port: unknown parameter"; do
        code=$(curl -sS -o body -w '%{http_code}' "$SURL/api/v1/payloads?${bad%%:*}")
        [ "$code" = 400 ] && grep -q "\"error\": \"${bad#*:}" body || { kill "$SERVE"; fail "payloads?${bad%%:*}: HTTP $code $(cat body)"; }
    done
    code=$(curl -sS -o body -w '%{http_code}' "$SURL/api/v1/source/192.0.2.1?from=2023-07-01&to=2023-07-01")
    [ "$code" = 200 ] || { kill "$SERVE"; fail "source/192.0.2.1: HTTP $code $(cat body)"; }
    "$DS" payloads -c research.conf --source 192.0.2.1 --from 2023-07-01 --to 2023-07-01 --limit 20 --format json > cli.out
    python3 -c '
import json, sys
assert json.load(open("body"))["payloads"] == json.load(open("cli.out")), "source payloads"' || { kill "$SERVE"; fail "source/ADDR payloads differ from payloads --source"; }
    kill "$SERVE"
    wait "$SERVE" || fail "serve exited with $?: $(tail -n 20 serve.log)"
fi

# ---- the sensor's own uploader (src/net/uploader.c) sends a spooled pay-N.jsonl, deletes it on
# the 200, and a copy sent again (an answer lost before the delete) is a duplicate
"$DS" synth -c darkscope.conf -o small.pcap --days 1 --start 2023-07-02 --rate 50 --seed 3 -q
echo "$TOKYO" > tokyo.token
mkdir spool
for round in committed duplicate; do
    cp pay-1.jsonl spool/pay-9.jsonl
    "$DS" sensor --read small.pcap --name tokyo --spool spool --collector "$URL" --token tokyo.token --drain 10 2> sensor.log ||
        fail "sensor: $(cat sensor.log)"
    grep -q "pay-9.jsonl .*: $round" sensor.log || fail "sensor upload, expected $round: $(cat sensor.log)"
    [ -e spool/pay-9.jsonl ] && fail "the sensor kept pay-9.jsonl after the 200"
    [ "$(stored)" = 11 ] || fail "after the sensor's upload ($round): $(stored) payloads"
done

stop_collector
grep -E 'ERROR: AddressSanitizer|runtime error:|LeakSanitizer' coll.log && fail "sanitizer report in the collector's log"
echo "payloads: all checks passed"
