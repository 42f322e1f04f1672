#!/usr/bin/env bash
# darkscope collector under abuse (issue #21), on loopback only (127.0.0.0/8: several client
# addresses without a namespace).  Each part is a regression test for a way one client could stop
# or abuse the collector:
#   1. 200 idle connections from several addresses, 200 from one address (the per-address limit
#      refuses most), a slowloris header, a stalled body: a sensor's upload is still answered
#      within 2 s, and the guard closes the idle and slow connections on time;
#   2. plain HTTP only on loopback (unless --insecure-plain-http); TLS 1.2+ only; a key file
#      others may read is refused;
#   3. a second collector on the same spool (or store) is refused, naming the holder's pid;
#   4. zstd and gzip bombs are refused (413) quickly and the collector keeps serving;
#   5. Transfer-Encoding refused (also with Content-Length), "bearer" in any case, no filesystem
#      path in an answer;
#   6. sensor names "." / ".." / dot-only refused before any path is built (with --archive).
# Sockets are opened with python3 (source addresses 127.0.0.N).
source "$(dirname "$0")/lib.bash"
need curl
need zstd
need python3
need cc
DS=${DS_COLLECTOR_BIN:-$DS}
"$DS" collector --help >/dev/null 2>&1 || skip "$DS has no collector command"
write_conf
build_xxh
TOKYO=$("$DS" token new tokyo --tokens tokens 2>/dev/null)
"$DS" synth -c darkscope.conf -o - --days 1 --start 2023-07-01 --rate 3000 --seed 7 -q | zstd -q -c > t1.zst
for i in 2 3 4 5 6 7 8; do
    "$DS" synth -c darkscope.conf -o - --days 1 --start 2023-07-0$i --rate 500 --seed $i -q | zstd -q -c > "t$i.zst"
done

CPID=
start_collector() { # extra args...
    rm -f port
    "$DS" collector --listen 127.0.0.1:0 --tokens tokens --port-file port "$@" >>coll.log 2>&1 &
    CPID=$!
    for _ in $(seq 100); do [ -s port ] && break; sleep 0.1; done
    [ -s port ] || { tail coll.log; fail "the collector did not start"; }
    PORT=$(cat port)
    URL=http://127.0.0.1:$PORT
}
stop_collector() {
    kill "$CPID" 2>/dev/null || true
    local rc=0
    wait "$CPID" 2>/dev/null || rc=$?
    CPID=
    [ "$rc" = 0 ] || { tail -n 30 coll.log >&2; fail "the collector exited with $rc"; }
}
trap '[ -z "${CPID:-}" ] || kill "$CPID" 2>/dev/null; rm -rf "$T"' EXIT

# upload FILE SEQ [curl args...]: prints "CODE SECONDS BODY"
upload() {
    local file=$1 seq=$2
    shift 2
    rm -f resp
    curl -sS -o resp -w '%{http_code} %{time_total}' --max-time 20 -H "Authorization: Bearer $TOKYO" \
        -H "X-Darkscope-Sensor: tokyo" -H "X-Darkscope-Segment: $seq" -H "X-Darkscope-Hash: $(./xxh "$file")" \
        -H 'Content-Type: application/vnd.tcpdump.pcap' "$@" --data-binary @"$file" "$URL/v1/segments" > code || true
    echo "$(cat code) $(cat resp 2>/dev/null)"
}
expect() { # "CODE ... BODY" code [body-substring]
    local got=$1 code=$2 sub=${3:-}
    [ "${got%% *}" = "$code" ] || fail "expected $code, got: $got"
    [ -z "$sub" ] || [[ $got == *"$sub"* ]] || fail "expected '$sub' in: $got"
}
within() { # "CODE SECONDS ..." max-seconds
    python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) <= float(sys.argv[2]) else 1)" "$(echo "$1" | cut -d' ' -f2)" "$2" \
        || fail "answered in $(echo "$1" | cut -d' ' -f2) s, over $2 s: $1"
}

# The socket-level client: idle / slowloris / slow-body connections from given source addresses.
cat > hold.py <<'PY'
import socket, sys, time, json
# hold.py PORT MODE SPEC HOLD_S: SPEC = "127.0.0.2:20,127.0.0.3:20" (address:count)
# MODE idle: connect, send nothing; trickle: one header byte a second; slowbody: headers, then one
# body byte a second.  Prints JSON: connected, open_after (open when HOLD_S is over), closed_at (the
# seconds after connect at which the server closed each one that it closed).
port, mode, spec, hold = int(sys.argv[1]), sys.argv[2], sys.argv[3], float(sys.argv[4])
extra = sys.argv[5] if len(sys.argv) > 5 else ""
socks, t0 = [], time.monotonic()
for part in spec.split(","):
    addr, n = part.split(":")
    for _ in range(int(n)):
        s = socket.socket()
        s.bind((addr, 0))
        try:
            s.connect(("127.0.0.1", port))
        except OSError:
            s.close()
            continue
        s.setblocking(False)
        socks.append(s)
head = ("POST /v1/segments HTTP/1.1\r\nHost: x\r\n" + extra.replace("|", "\r\n") + "Content-Length: 100000\r\n\r\n").encode()
if mode == "slowbody":
    for s in socks:
        s.setblocking(True); s.sendall(head); s.setblocking(False)
open_ = {id(s): s for s in socks}
closed_at, i = [], 0
while time.monotonic() - t0 < hold and open_:
    time.sleep(0.2)
    i += 1
    for k, s in list(open_.items()):
        try:
            d = s.recv(4096)
            if d == b"" or mode != "idle" and d:
                closed_at.append(round(time.monotonic() - t0, 1)); del open_[k]; continue
        except BlockingIOError:
            pass
        except OSError:
            closed_at.append(round(time.monotonic() - t0, 1)); del open_[k]; continue
        if i % 5 == 0 and mode in ("trickle", "slowbody"):
            try:
                s.send(b"X" if mode == "slowbody" else head[:1])
                if mode == "trickle":
                    pass
            except OSError:
                closed_at.append(round(time.monotonic() - t0, 1)); del open_[k]
print(json.dumps({"connected": len(socks), "open_after": len(open_), "closed_at": closed_at}))
PY

# ---- 1. connections that do nothing cannot hold the collector
start_collector --max-per-address 20 --header-timeout 4 --min-rate 1K
SPEC=$(for i in $(seq 2 11); do printf '127.0.0.%d:20,' "$i"; done); SPEC=${SPEC%,}
python3 hold.py "$PORT" idle "$SPEC" 7 > idle.json &
HOLD=$!
sleep 1.5
h=$(curl -sS "$URL/v1/health")
conns=$(echo "$h" | python3 -c 'import json,sys; print(json.load(sys.stdin)["connections"])')
[ "$conns" -ge 200 ] || fail "200 idle connections from 10 addresses: the collector holds $conns ($h)"
r=$(upload t1.zst 1); expect "$r" 200 committed; within "$r" 2
echo "with $conns idle connections open: upload answered in $(echo "$r" | cut -d' ' -f2) s"
wait $HOLD
python3 - idle.json <<'PY' || fail "idle connections: $(cat idle.json)"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["connected"] == 200 and r["open_after"] == 0, r
# --header-timeout 4, checked twice a second
assert min(r["closed_at"]) >= 3.5 and max(r["closed_at"]) <= 6.0, r
PY
grep -q 'without complete request headers 4 s after accept' coll.log || fail "no log line for the header timeout"

# 200 from one address: the per-address limit (20) refuses the rest; others are served
python3 hold.py "$PORT" idle 127.0.0.12:200 2 > one.json &
HOLD=$!
sleep 1
r=$(upload t2.zst 2); expect "$r" 200 committed; within "$r" 2
wait $HOLD
python3 - one.json <<'PY' || fail "200 from one address: $(cat one.json)"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["connected"] == 200 and 200 - r["open_after"] >= 180 and r["open_after"] <= 20, r
PY
echo "200 connections from one address: $(python3 -c 'import json; print(json.load(open("one.json"))["open_after"])') kept (--max-per-address 20)"

# slowloris: one header byte a second is closed at the header deadline, not when it stops
python3 hold.py "$PORT" trickle 127.0.0.13:5 8 > trickle.json
python3 - trickle.json <<'PY' || fail "trickled headers: $(cat trickle.json)"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["open_after"] == 0 and max(r["closed_at"]) <= 6.0, r
PY
# a stalled body: headers complete (a valid token), then a byte a second: under --min-rate 1K
python3 hold.py "$PORT" slowbody 127.0.0.14:3 14 "Authorization: Bearer $TOKYO|X-Darkscope-Sensor: tokyo|X-Darkscope-Segment: 99|X-Darkscope-Hash: 00000000000000000000000000000000|" > slow.json
python3 - slow.json <<'PY' || fail "slow body: $(cat slow.json)"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["open_after"] == 0 and max(r["closed_at"]) <= 12.5, r
PY
grep -q 'slower than 1024 bytes/s over 10 s' coll.log || fail "no log line for the slow body"
ls "$T"/incoming/*.part >/dev/null 2>&1 && fail "a closed slow upload left its .part file"
r=$(upload t3.zst 3); expect "$r" 200 committed; within "$r" 2
stop_collector
echo "part 1 passed"
