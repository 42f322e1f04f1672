#!/usr/bin/env bash
# sensor_netns.sh: `darkscope sensor` end to end, inside two network namespaces this test creates.
#
# ns A (scanners: hping3, nmap, zmap, masscan when installed) routes 198.51.100.0/24 over a veth to
# ns B, where the sensor captures and uploads to a stub collector on B's loopback.  Checks:
#  1. exactly once: the packets in the segments the collector stored equal the packets A sent
#     (tcpdump on A's veth is the ground truth), although the collector is killed and restarted
#     twice, drops the connection after committing every 3rd segment, and the sensor is stopped
#     and restarted once;
#  2. --respond syn: `curl http://198.51.100.7/` from A gets its GET line recorded (pay-*.jsonl,
#     uploaded to /v1/payloads), and everything the sensor sent to A is a SYN-ACK, even while A
#     also sends UDP, ICMP, RST and ACK probes; per-source rate limiting holds.
# Skips (exit 77) when not root, when `ip netns` fails, or when a tool is missing.
source "$(dirname "$0")/lib.bash"
[ "$(id -u)" -eq 0 ] || skip "sensor_netns: needs root for network namespaces"
[ -x "$DS" ] || skip "sensor_netns: $DS not built"
"$DS" sensor --help >/dev/null 2>&1 || skip "sensor_netns: $DS has no sensor command"
need hping3; need tcpdump; need zstd; need python3; need curl; need nmap
NA=dsA$$ NB=dsB$$
ip netns add $NA 2>/dev/null || skip "sensor_netns: ip netns add failed (no CAP_SYS_ADMIN?)"
ip netns add $NB || { ip netns del $NA; skip "sensor_netns: ip netns add failed"; }
PIDS=()
cleanup() {
    set +e
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
    wait 2>/dev/null
    ip netns del $NA 2>/dev/null; ip netns del $NB 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT
A() { ip netns exec $NA "$@"; }
B() { ip netns exec $NB "$@"; }
ip link add vA netns $NA type veth peer name vB netns $NB
for ns in $NA $NB; do
    ip netns exec $ns sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
    ip netns exec $ns ip link set lo up
done
A ip addr add 192.0.2.1/30 dev vA; A ip link set vA up
B ip addr add 192.0.2.2/30 dev vB; B ip link set vB up
A ip route add 198.51.100.0/24 via 192.0.2.2
B sysctl -qw net.ipv4.ip_forward=0
BMAC=$(B cat /sys/class/net/vB/address)

PORT=18$((RANDOM % 900 + 100))
echo -n "t0ken-$$" > "$T/token"
cat > "$T/stub.py" <<'PYEOF'
#!/usr/bin/env python3
"""A loopback stand-in for the darkscope collector, for tests/e2e/sensor_netns.sh.

Speaks the sensor upload protocol: POST /v1/segments and /v1/payloads with X-Darkscope-Sensor,
X-Darkscope-Segment and X-Darkscope-Hash.  Stores each body as OUT/<sensor>-<seq>.<kind>; answers
200 {"status":"committed"} the first time, {"status":"duplicate"} for the same hash again, 409 for
another hash, 401 for a wrong token.  With --flaky N every Nth commit is stored and then the
connection is dropped without an answer, as if the collector crashed after committing: the
sensor must retry and get "duplicate".  Appends one line per request to OUT/requests.log.
"""
import argparse, http.server, json, os, socket, sys

ap = argparse.ArgumentParser()
ap.add_argument("--port", type=int, required=True)
ap.add_argument("--out", required=True)
ap.add_argument("--token", required=True)
ap.add_argument("--flaky", type=int, default=0)
args = ap.parse_args()
os.makedirs(args.out, exist_ok=True)
commits = 0


class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def answer(self, code, obj):
        body = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        global commits
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n)
        kind = {"/v1/segments": "pcap.zst", "/v1/payloads": "jsonl"}.get(self.path)
        sensor = self.headers.get("X-Darkscope-Sensor", "")
        seq = self.headers.get("X-Darkscope-Segment", "")
        h = self.headers.get("X-Darkscope-Hash", "")
        with open(os.path.join(args.out, "requests.log"), "a") as log:
            log.write("%s %s %s %s %d drops=%s spool=%s\n" % (self.path, sensor, seq, h, len(body),
                      self.headers.get("X-Darkscope-Kernel-Drops"), self.headers.get("X-Darkscope-Spool-Bytes")))
        if kind is None:
            return self.answer(404, {"error": "no such endpoint"})
        if self.headers.get("Authorization", "") != "Bearer " + args.token:
            return self.answer(401, {"error": "bad token"})
        if not sensor or not seq.isdigit() or len(h) != 32:
            return self.answer(400, {"error": "missing headers"})
        path = os.path.join(args.out, "%s-%s.%s" % (sensor, seq, kind))
        if os.path.exists(path):
            with open(path + ".hash") as f:
                same = f.read() == h
            return self.answer(200 if same else 409, {"status": "duplicate" if same else "conflict"})
        with open(path + ".tmp", "wb") as f:
            f.write(body)
        with open(path + ".hash", "w") as f:
            f.write(h)
        os.rename(path + ".tmp", path)
        commits += 1
        if args.flaky and commits % args.flaky == 0:
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)   # committed, but the sensor never hears so
            return
        return self.answer(200, {"status": "committed", "segment": int(seq)})


srv = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), H)
print("stub collector on", args.port, file=sys.stderr, flush=True)
srv.serve_forever()
PYEOF
STUB_PID=
stub_start() { ip netns exec $NB python3 "$T/stub.py" --port $PORT --out "$T/got" --token "t0ken-$$" --flaky "${1:-0}" 2>>"$T/stub.log" &
               STUB_PID=$!; PIDS+=($STUB_PID); sleep 0.5; }
stub_stop() { kill "$STUB_PID"; wait "$STUB_PID" 2>/dev/null || true; }
SENSOR_PID=
sensor_start() { # spool, extra args...
    local spool=$1; shift
    ip netns exec $NB "$DS" sensor -i vB --darknet 198.51.100.0/24 --name t1 --spool "$spool" --collector http://127.0.0.1:$PORT \
        --token "$T/token" --rotate 2 --drain 20 "$@" 2>>"$T/sensor.log" &
    SENSOR_PID=$!; PIDS+=($SENSOR_PID); sleep 1
}
sensor_stop() { kill -TERM "$SENSOR_PID"; wait "$SENSOR_PID" || fail "sensor exited with $?: $(tail -5 "$T/sensor.log")"; }
pkts() { tcpdump -nr "$1" 2>/dev/null | wc -l; }
stored_packets() { # packets in every stored segment
    local n=0 f
    for f in "$T"/got/t1-*.pcap.zst; do [ -e "$f" ] || continue
        n=$((n + $(zstd -dcq "$f" | tcpdump -nr - 2>/dev/null | wc -l))); done
    echo $n
}

# ---- 1. exact counts across collector and sensor restarts ----
ip netns exec $NA tcpdump -i vA -Q out -nn -w "$T/sent.pcap" 'dst net 198.51.100.0/24' 2>"$T/tcpdump-sent.log" &
TD=$!; PIDS+=($TD)
sleep 1
stub_start 3
sensor_start "$T/spool"
A hping3 -q -S -p 80 -c 300 -i u2000 198.51.100.10 >/dev/null 2>&1 || true
A hping3 -q --udp -p 53 -c 200 -i u2000 --rand-dest 198.51.100.x -I vA >/dev/null 2>&1 || true
A nmap -n -Pn -sS --max-retries 0 -p 20-120 198.51.100.20-24 >/dev/null 2>&1 || true
if command -v masscan >/dev/null; then
    A timeout 20 masscan 198.51.100.0/26 -p 22,23,445 --rate 2000 --router-mac "$BMAC" --adapter-ip 192.0.2.1 -e vA --wait 0 >/dev/null 2>&1 || true
fi
if command -v zmap >/dev/null; then
    A timeout 20 zmap -q -p 23 -i vA -S 192.0.2.1 -G "$BMAC" -B 1M -c 0 -o /dev/null 198.51.100.128/26 >/dev/null 2>&1 || true
fi
stub_stop                                   # collector down (1)
A hping3 -q -S -p 443 -c 300 -i u2000 198.51.100.30 >/dev/null 2>&1 || true
sleep 3                                     # segments pile up in the spool
stub_start 3                                # collector back
A hping3 -q -1 -c 100 -i u2000 198.51.100.40 >/dev/null 2>&1 || true
sleep 2
sensor_stop                                 # sensor restart (SIGTERM: finish, drain)
stub_stop                                   # collector down (2) while the sensor is down
sensor_start "$T/spool"
A hping3 -q -S -p 22 -c 300 -i u2000 198.51.100.50 >/dev/null 2>&1 || true
sleep 3
stub_start 0                                # collector back
sleep 4
sensor_stop
stub_stop
kill -INT $TD; wait $TD 2>/dev/null || true
grep -q "^0 packets dropped by kernel" "$T/tcpdump-sent.log" || fail "the ground-truth capture dropped packets"
sent=$(pkts "$T/sent.pcap")
stored=$(stored_packets)
left=$(ls "$T/spool" | grep -c '^seg-.*\.pcap\.zst$' || true)
dups=$(grep -c '"duplicate"\|duplicate' "$T/sensor.log" || true)
segs=$(ls "$T"/got/t1-*.pcap.zst | wc -l)
echo "sent $sent packets; the collector stored $stored in $segs segments; $dups duplicate answers; $left left in the spool"
[ "$sent" -gt 1000 ] || fail "scanners sent only $sent packets"
[ "$left" -eq 0 ] || fail "$left segments still in the spool"
[ "$dups" -ge 1 ] || fail "the stub's dropped answers should have caused duplicate re-uploads"
[ "$stored" -eq "$sent" ] || fail "stored $stored packets, sent $sent"
grep -q "drops=0 " "$T/got/requests.log" || fail "no kernel drop header"

# ---- 2. --respond syn ----
rm -rf "$T/got"; stub_start 0
ip netns exec $NA tcpdump -i vA -Q in -nn -w "$T/answers.pcap" ip 2>/dev/null &
TD=$!; PIDS+=($TD)
sleep 1
sensor_start "$T/spool2" --respond syn
A curl -s --max-time 3 http://198.51.100.7/ >/dev/null 2>&1 || true
A hping3 -q --udp -p 53 -c 20 -i u10000 198.51.100.8 >/dev/null 2>&1 || true
A hping3 -q -1 -c 20 -i u10000 198.51.100.8 >/dev/null 2>&1 || true
A hping3 -q -R -p 80 -c 20 -i u10000 198.51.100.8 >/dev/null 2>&1 || true
A hping3 -q -A -p 80 -c 20 -i u10000 198.51.100.8 >/dev/null 2>&1 || true
A hping3 -q -S -p 8080 -c 200 -i u1000 198.51.100.9 >/dev/null 2>&1 || true   # 200 SYNs in ~0.2 s
sleep 2.5
sensor_stop
stub_stop
kill -INT $TD; wait $TD 2>/dev/null || true
answers=$(pkts "$T/answers.pcap")
other=$(tcpdump -nr "$T/answers.pcap" 'not (tcp and tcp[13] == 0x12)' 2>/dev/null | wc -l)
to8080=$(tcpdump -nr "$T/answers.pcap" 'tcp src port 8080' 2>/dev/null | wc -l)
echo "sensor sent $answers packets to A: $other not SYN-ACK; $to8080 SYN-ACKs for 200 SYNs at 1000/s"
[ "$answers" -ge 1 ] || fail "no SYN-ACK reached A"
[ "$other" -eq 0 ] || { tcpdump -nr "$T/answers.pcap" 'not (tcp and tcp[13] == 0x12)' | head; fail "the sensor sent something else than SYN-ACKs"; }
[ "$to8080" -le 15 ] || fail "per-source rate limit failed: $to8080 SYN-ACKs"
ls "$T"/got/t1-*.jsonl >/dev/null 2>&1 || fail "no payload file reached the collector: $(tail -5 "$T/sensor.log")"
python3 - "$T"/got/t1-*.jsonl <<'PYEOF' || fail "GET line not recorded"
import base64, json, sys
rows = [json.loads(l) for f in sys.argv[1:] for l in open(f)]
got = [base64.b64decode(r["payload_b64"]) for r in rows]
assert any(g.startswith(b"GET / HTTP/1.1\r\n") for g in got), got
assert all(r["dst"] == "198.51.100.7" and r["dport"] == 80 for r in rows), rows
print("recorded first payloads:", [g.split(b"\r\n")[0].decode() for g in got])
PYEOF
echo "sensor_netns: ok"
