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
"$DS" collector --help >/dev/null 2>&1 || skip "$DS has no collector command"
write_conf
build_xxh
TOKYO=$("$DS" token new tokyo --tokens tokens 2>/dev/null)
"$DS" synth -c darkscope.conf -o - --days 1 --start 2023-07-01 --rate 3000 --seed 7 -q | zstd -q -c > t1.zst
"$DS" synth -c darkscope.conf -o - --days 1 --start 2023-07-09 --rate 3000 --seed 9 -q | zstd -q -c > t9.zst
"$DS" synth -c darkscope.conf -o - --days 1 --start 2023-07-10 --rate 3000 --seed 10 -q | zstd -q -c > t10.zst
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

# upload FILE SEQ [curl args...]: prints "CODE SECONDS BODY" (AUTH: the Authorization value)
upload() {
    local file=$1 seq=$2
    shift 2
    rm -f resp
    curl -sS -o resp -w '%{http_code} %{time_total}' --max-time 20 -H "Authorization: ${AUTH:-Bearer $TOKYO}" \
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
python3 -c 'import json; c=json.load(open("idle.json"))["closed_at"]; print("idle connections closed %.1f to %.1f s after connect (--header-timeout 4)" % (min(c), max(c)))'


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

# ---- 2. plain HTTP on loopback only; TLS 1.2+ only; the key file its owner's only
rc=0; "$DS" collector --listen 0.0.0.0:0 --tokens tokens 2> plain.err || rc=$?
[ "$rc" != 0 ] && grep -q 'insecure-plain-http' plain.err && grep -q 'clear text' plain.err \
    || fail "plain HTTP on 0.0.0.0 was not refused ($rc): $(cat plain.err)"
rc=0; "$DS" collector --listen :0 --tokens tokens 2> plain.err || rc=$?
[ "$rc" != 0 ] && grep -q 'insecure-plain-http' plain.err || fail "plain HTTP on :PORT was not refused: $(cat plain.err)"
# --insecure-plain-http on every address: in a namespace of our own (only its loopback exists)
NS=ds-hard-$$
if ip netns add "$NS" 2>/dev/null; then
    trap '[ -z "${CPID:-}" ] || kill "$CPID" 2>/dev/null; ip netns del '"$NS"' 2>/dev/null || true; rm -rf "$T"' EXIT
    ip netns exec "$NS" ip link set lo up
    rm -f port
    ip netns exec "$NS" "$DS" collector --listen 0.0.0.0:0 --insecure-plain-http --tokens tokens --port-file port \
        --spool "$T/ns-spool" --db "$T/ns.db" >>coll.log 2>&1 &
    CPID=$!
    for _ in $(seq 100); do [ -s port ] && break; sleep 0.1; done
    [ -s port ] || { tail coll.log; fail "--insecure-plain-http did not start on 0.0.0.0"; }
    ip netns exec "$NS" curl -sS "http://127.0.0.1:$(cat port)/v1/health" | grep -q '"ok"' || fail "health in the namespace"
    stop_collector
    ip netns del "$NS"
else
    echo "no network namespace (not root?): --insecure-plain-http on 0.0.0.0 not tested"
fi
if command -v openssl >/dev/null; then
    openssl req -x509 -newkey rsa:2048 -nodes -keyout key.pem -out cert.pem -days 2 -subj /CN=127.0.0.1 \
        -addext subjectAltName=IP:127.0.0.1 >/dev/null 2>&1 || fail "openssl req"
    for mode in 644 640 604; do
        chmod "$mode" key.pem
        rc=0; "$DS" collector --listen 127.0.0.1:0 --tokens tokens --tls-cert cert.pem --tls-key key.pem 2> key.err || rc=$?
        [ "$rc" != 0 ] && grep -q 'readable by its owner only' key.err || fail "a key file of mode $mode was accepted: $(cat key.err)"
    done
    chmod 600 key.pem
    start_collector --tls-cert cert.pem --tls-key key.pem
    tls() { echo | timeout 10 openssl s_client -connect "127.0.0.1:$PORT" -CAfile cert.pem "$@" 2>&1; }
    # the client is told it may use TLS 1.0/1.1 (SECLEVEL=0); the collector must refuse them
    for v in -tls1 -tls1_1; do
        out=$(tls "$v" -cipher 'DEFAULT:@SECLEVEL=0' || true)
        echo "$out" | grep -q 'no protocols available' && { echo "this openssl cannot offer $v: not tested"; continue; }
        # a failed handshake prints "New, (NONE), Cipher is (NONE)"; a good one "New, TLSv1, Cipher is ..."
        echo "$out" | grep -q 'Cipher is (NONE)' || fail "the collector accepted $v: $(echo "$out" | grep -E '^New|Protocol')"
    done
    tls -tls1_2 | grep -qE '^New, TLSv1.2, Cipher is [A-Z]' || fail "TLS 1.2 refused"
    tls -tls1_3 | grep -qE '^New, TLSv1.3, Cipher is [A-Z]' || fail "TLS 1.3 refused"
    URL=https://127.0.0.1:$PORT
    r=$(upload t4.zst 4 --cacert cert.pem); expect "$r" 200 committed
    stop_collector
    echo "part 2 passed (TLS 1.0 and 1.1 refused, 1.2 and 1.3 served)"
else
    echo "openssl not installed: TLS versions not tested"
fi

# ---- 3. one collector per spool and per store: a second one deletes nothing and is refused
start_collector
curl -sS -o slow.out --limit-rate 50k -H "Authorization: Bearer $TOKYO" -H "X-Darkscope-Sensor: tokyo" \
    -H "X-Darkscope-Segment: 5" -H "X-Darkscope-Hash: $(./xxh t9.zst)" -H "Content-Type: application/octet-stream" \
    --data-binary @t9.zst "$URL/v1/segments" &
SLOW=$!
for _ in $(seq 50); do ls "$T"/incoming/*.part >/dev/null 2>&1 && break; sleep 0.1; done
ls "$T"/incoming/*.part >/dev/null 2>&1 || fail "no upload in progress"
rc=0; "$DS" collector --listen 127.0.0.1:0 --tokens tokens 2> second.err || rc=$?
[ "$rc" != 0 ] && grep -q "spool $T/incoming is in use by another collector (pid $CPID" second.err \
    || fail "a second collector on the spool: rc $rc: $(cat second.err)"
rc=0; "$DS" collector --listen 127.0.0.1:0 --tokens tokens --spool "$T/other-spool" 2> second.err || rc=$?
[ "$rc" != 0 ] && grep -q "store $T/store.db is in use by another collector (pid $CPID" second.err \
    || fail "a second collector on the store: rc $rc: $(cat second.err)"
ls "$T"/incoming/*.part >/dev/null 2>&1 || fail "the second collector deleted the first one's upload in progress"
wait $SLOW || fail "the slow upload failed"
grep -q '"committed"' slow.out || fail "the upload in progress: $(cat slow.out)"
echo "part 3 passed"

# ---- 4. decompression bombs: refused quickly, and the collector keeps serving
head -c 1G /dev/zero | zstd -q -1 -c > bomb.zst
head -c 256M /dev/zero | gzip -1 -c > bomb.gz
echo "bombs: zstd $(stat -c %s bomb.zst) bytes -> 1 GiB, gzip $(stat -c %s bomb.gz) bytes -> 256 MiB"
r=$(upload bomb.zst 6); expect "$r" 413 'max-ratio'; within "$r" 2
r=$(upload bomb.gz 6); expect "$r" 413 'max-ratio'; within "$r" 2
echo "bombs refused in $(echo "$r" | cut -d' ' -f2) s (gzip)"
ls "$T"/incoming/*.part "$T"/incoming/*.pcap.zst >/dev/null 2>&1 && fail "a refused bomb left a file in the spool"
r=$(upload t6.zst 6); expect "$r" 200 committed
# POST /v1/payloads grows its buffer as the body arrives: 10 requests claiming 60 MB each, sending 10 bytes
vm() { awk '/^VmSize/ {print $2}' /proc/"$CPID"/status; }
before=$(vm)
python3 - "$PORT" "$TOKYO" <<'PY' &
import socket, sys, time
port, tok = int(sys.argv[1]), sys.argv[2]
socks = []
for i in range(10):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(("POST /v1/payloads HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nX-Darkscope-Sensor: tokyo\r\n"
               "X-Darkscope-Segment: %d\r\nX-Darkscope-Hash: %s\r\nContent-Length: 60000000\r\n\r\n0123456789"
               % (tok, 100 + i, "0" * 32)).encode())
    socks.append(s)
time.sleep(2.5)
PY
PYC=$!
sleep 2
after=$(vm)
wait $PYC
[ $((after - before)) -lt 200000 ] || fail "10 payload requests claiming 60 MB each grew the collector by $((after - before)) KiB"
stop_collector
start_collector --max-decompressed 200K   # t10 is 330 KB decompressed, 120 KB compressed
r=$(upload t10.zst 12); expect "$r" 413 '(--max-decompressed); refused, nothing stored'
stop_collector
echo "part 4 passed"

# ---- 5. HTTP details
start_collector --archive "$T/archive"
# Transfer-Encoding with Content-Length: 400, and the connection is closed (RFC 9112 section 6.1)
python3 - "$PORT" "$TOKYO" "$(./xxh t7.zst)" <<'PY' > te.out || fail "Transfer-Encoding with Content-Length: $(cat te.out)"
import socket, sys
port, tok, h = int(sys.argv[1]), sys.argv[2], sys.argv[3]
s = socket.create_connection(("127.0.0.1", port))
s.settimeout(5)
s.sendall(("POST /v1/segments HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nX-Darkscope-Sensor: tokyo\r\n"
           "X-Darkscope-Segment: 7\r\nX-Darkscope-Hash: %s\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
           "5\r\nhello\r\n0\r\n\r\n" % (tok, h)).encode())
data = b""
while True:
    d = s.recv(65536)
    if not d:
        break
    data += d
text = data.decode(errors="replace")
print(text)
assert text.startswith("HTTP/1.1 400"), text
assert "Transfer-Encoding" in text and "RFC 9112" in text, text
assert "connection: close" in text.lower(), text
PY
r=$(upload t7.zst 7 -H 'Transfer-Encoding: chunked'); expect "$r" 411 'Transfer-Encoding'
# the auth scheme in any case (RFC 9110 section 11.1)
r=$(AUTH="bearer $TOKYO" upload t7.zst 7); expect "$r" 200 committed
r=$(AUTH="BEARER  $TOKYO" upload t8.zst 8); expect "$r" 200 committed
r=$(AUTH="Basic dG9reW86eA==" upload t10.zst 9); expect "$r" 401 'Bearer'
r=$(AUTH="Bearer" upload t10.zst 9); expect "$r" 401 'Bearer'
r=$(AUTH="Bearerdst_0" upload t10.zst 9); expect "$r" 401 'Bearer'
# no filesystem path in an answer (the log keeps it)
printf 'this is not a capture at all\n%.0s' {1..50} | zstd -q -c > junk.zst
r=$(upload junk.zst 10); expect "$r" 400 'is not a pcap or pcapng file'
[[ $r == *"$T"* ]] && fail "an answer names a path: $r"
[[ $r == *"tokyo-00000000000000000010.pcap.zst"* ]] || fail "the answer does not name the segment: $r"
grep -q "$T/incoming/tokyo-00000000000000000010.pcap.zst.*is not a pcap" coll.log || fail "the log line lost the path"
echo "part 5 passed"

# ---- 6. sensor names that could be paths are refused before any file is made
rm -f resp code
before=$(find "$T" | sort | md5sum)
for name in . .. ... '../tokyo' 'a/b' '.%2e'; do
    out=$(curl -sS -w ' %{http_code}' -H "Authorization: Bearer $TOKYO" -H "X-Darkscope-Sensor: $name" \
        -H "X-Darkscope-Segment: 11" -H "X-Darkscope-Hash: $(./xxh t1.zst)" --data-binary @t1.zst "$URL/v1/segments")
    [ "${out##* }" = 400 ] && [[ $out == *X-Darkscope-Sensor* ]] || fail "sensor name '$name': $out"
done
[ "$(find "$T" | sort | md5sum)" = "$before" ] || fail "a refused sensor name made a file"
stop_collector
grep -E 'ERROR: AddressSanitizer|runtime error:|LeakSanitizer' coll.log && fail "sanitizer report in the collector's log"
echo "collector_hardening: all checks passed"
