#!/usr/bin/env bash
# sensor_netns.sh: `darkscope sensor` and `darkscope collector` end to end, inside two network
# namespaces this test creates.
#
# ns A (scanners: hping3, nmap, zmap, masscan when installed) routes 198.51.100.0/24 over a veth to
# ns B, where the sensor captures and uploads to the real `darkscope collector` on B's loopback
# (token from `darkscope token new`).  Checks:
#  1. exactly once: the packets in the collector's store (`darkscope stats` on it: every record it
#     counted, classified or not) equal the packets A sent (tcpdump on A's veth is the ground
#     truth), although the collector is killed (SIGKILL, mid-upload when there is one) and
#     restarted, stopped (SIGTERM) and restarted again, and the sensor is stopped and restarted
#     once; nothing is left in the sensor's spool; the collector's health has the kernel drops;
#  2. --respond syn: `curl http://198.51.100.7/` from A gets its GET line recorded (pay-*.jsonl,
#     uploaded to POST /v1/payloads when the collector has it, else kept in the sensor's spool),
#     and everything the sensor sent to A is a SYN-ACK, even while A also sends UDP, ICMP, RST
#     and ACK probes; per-source rate limiting holds.
# Skips (exit 77) when not root, when `ip netns` fails, or when a tool is missing.
source "$(dirname "$0")/lib.bash"
[ "$(id -u)" -eq 0 ] || skip "sensor_netns: needs root for network namespaces"
[ -x "$DS" ] || skip "sensor_netns: $DS not built"
"$DS" sensor --help >/dev/null 2>&1 || skip "sensor_netns: $DS has no sensor command"
"$DS" collector --help >/dev/null 2>&1 || skip "sensor_netns: $DS has no collector command"
need hping3; need tcpdump; need python3; need curl; need nmap
NA=dsA$$ NB=dsB$$
netns_start sensor_netns
BMAC=$(B cat /sys/class/net/vB/address)

PORT=18$((RANDOM % 900 + 100))
cat > "$T/collector.conf" <<EOC
[store]
path = $T/coll/store.db
[report]
timezone = UTC
[sensor.t1]
darknet = 198.51.100.0/24
EOC
sed "s|/coll/|/coll2/|" "$T/collector.conf" > "$T/collector2.conf"   # part 2: a fresh store
mkdir -p "$T/coll" "$T/coll2"
CONF=$T/collector.conf
"$DS" token new t1 --tokens "$T/coll/tokens" > "$T/token" || fail "darkscope token new"
COLL_PID=
coll_start() {
    ip netns exec $NB "$DS" collector -c "$CONF" --listen 127.0.0.1:$PORT --tokens "$T/coll/tokens" \
        2>>"$T/coll.log" &
    COLL_PID=$!; PIDS+=($COLL_PID)
    for _ in $(seq 50); do B curl -s -o /dev/null "http://127.0.0.1:$PORT/v1/health" && return 0; sleep 0.1; done
    fail "the collector did not start: $(tail -5 "$T/coll.log")"
}
coll_stop() { kill "-${1:-TERM}" "$COLL_PID"; wait "$COLL_PID" 2>/dev/null || true; }
coll_kill_mid_upload() { # SIGKILL, while an upload is in progress if one comes within 3 s
    for _ in $(seq 60); do ls "$T"/coll/incoming/*.part >/dev/null 2>&1 && break; sleep 0.05; done
    coll_stop KILL
}
SENSOR_PID=
sensor_start() { # spool, extra args...
    local spool=$1; shift
    ip netns exec $NB "$DS" sensor -i vB --darknet 198.51.100.0/24 --name t1 --spool "$spool" --collector http://127.0.0.1:$PORT \
        --token "$T/token" --rotate 2 --drain 20 "$@" 2>>"$T/sensor.log" &
    SENSOR_PID=$!; PIDS+=($SENSOR_PID); sleep 1
}
sensor_stop() { kill -TERM "$SENSOR_PID"; wait "$SENSOR_PID" || fail "sensor exited with $?: $(tail -5 "$T/sensor.log")"; }
pkts() { tcpdump -nr "$1" 2>/dev/null | wc -l; }
stored() { # FIELD: t1's value in `darkscope stats` of the collector's store; "all": every record counted
    "$DS" stats -c "$T/collector.conf" --format json | python3 -c '
import json, sys
rows = [r for r in json.load(sys.stdin) if r["sensor"] == "t1"]
f = sys.argv[1]
keys = ["packets", "outside", "non_ip", "truncated", "fragments", "malformed", "unknown_link", "bad_timestamp"] if f == "all" else [f]
print(sum(r[k] for r in rows for k in keys))' "$1"
}

# ---- 1. exact counts across collector and sensor restarts ----
ip netns exec $NA tcpdump -i vA -Q out -nn -w "$T/sent.pcap" 'dst net 198.51.100.0/24' 2>"$T/tcpdump-sent.log" &
TD=$!; PIDS+=($TD)
sleep 1
coll_start
sensor_start "$T/spool"
A hping3 -q -S -p 80 -c 300 -i u2000 198.51.100.10 >/dev/null 2>&1 || true
A hping3 -q --udp -p 53 -c 200 -i u2000 --rand-dest 198.51.100.x -I vA >/dev/null 2>&1 || true
A nmap -n -Pn -sS --max-retries 0 -p 20-120 198.51.100.20-24 >/dev/null 2>&1 || true
if command -v masscan >/dev/null; then
    A timeout 20 masscan 198.51.100.0/26 -p 22,23,445 --rate 2000 --router-mac "$BMAC" --adapter-ip 192.0.2.1 -e vA --wait 0 >/dev/null 2>&1 || true
fi
if command -v zmap >/dev/null; then
    # -b /dev/null: zmap's default blacklist holds 198.51.100.0/24 (TEST-NET-2) and would send nothing.
    # --seed, -T 1: Debian 12's zmap 2.1.1 aborts at start on some random address permutations of
    # a small target range, "constraint_lookup_index: Assertion `index < con->root->count' failed"
    # (zmap/zmap#310; fixed upstream in 2024 by zmap/zmap#786), and then sends nothing: 2 runs of
    # 42 here, which failed this test in CI.  The permutation comes from the seed, so a seed that
    # works (1-40 all did, and 7 in 30 runs of 30) makes every run the same.
    A timeout 20 zmap -q -p 23 -i vA -S 192.0.2.1 -G "$BMAC" -B 1M -c 0 -b /dev/null -o /dev/null --seed=7 -T 1 \
        198.51.100.128/26 >"$T/zmap.log" 2>&1 || echo "zmap failed: $(tail -3 "$T/zmap.log")"
fi
coll_kill_mid_upload                        # collector crash (1): SIGKILL
A hping3 -q -S -p 443 -c 300 -i u2000 198.51.100.30 >/dev/null 2>&1 || true
sleep 3                                     # segments pile up in the spool
coll_start                                  # collector back
A hping3 -q -1 -c 100 -i u2000 198.51.100.40 >/dev/null 2>&1 || true
sleep 2
sensor_stop                                 # sensor restart (SIGTERM: finish, drain)
coll_stop TERM                              # collector down (2) while the sensor is down
sensor_start "$T/spool"
A hping3 -q -S -p 22 -c 300 -i u2000 198.51.100.50 >/dev/null 2>&1 || true
sleep 3
coll_start                                  # collector back
sleep 4
sensor_stop
kill -INT $TD; wait $TD 2>/dev/null || true
grep -q "^0 packets dropped by kernel" "$T/tcpdump-sent.log" || fail "the ground-truth capture dropped packets"
sent=$(pkts "$T/sent.pcap")
all=$(stored all)
classified=$(stored packets)
left=$(ls "$T/spool" | grep -c '^seg-.*\.pcap\.zst$' || true)
dups=$(grep -c 'duplicate' "$T/coll.log" || true)
segs=$(grep -c -- '-> 200 committed' "$T/coll.log" || true)
echo "sent $sent packets; the collector's store counts $all ($classified classified) from $segs segments; $dups duplicate answers; $left left in the spool"
[ "$sent" -gt 1000 ] || fail "scanners sent only $sent packets"
by_zmap=$(tcpdump -nr "$T/sent.pcap" 'tcp dst port 23 and dst net 198.51.100.128/26' 2>/dev/null | wc -l)
by_masscan=$(tcpdump -nr "$T/sent.pcap" 'dst net 198.51.100.0/26 and tcp dst port 445' 2>/dev/null | wc -l)
echo "of which zmap $by_zmap, masscan $by_masscan (port 445 only)"
! command -v zmap >/dev/null || [ "$by_zmap" -ge 64 ] || fail "zmap sent $by_zmap of 64 probes"
! command -v masscan >/dev/null || [ "$by_masscan" -ge 64 ] || fail "masscan sent $by_masscan of 64 port-445 probes"
[ "$left" -eq 0 ] || fail "$left segments still in the spool"
[ "$all" -eq "$sent" ] || fail "the collector's store counts $all packets, A sent $sent"
[ "$classified" -eq "$sent" ] || fail "the collector classified $classified of $sent packets"
"$DS" collector --health -c "$T/collector.conf" --format json | python3 -c '
import json, sys
r = {x["sensor"]: x for x in json.load(sys.stdin)}["t1"]
assert r["kernel_drops"] == 0, r
assert r["segments"] >= 3, r' || fail "collector health: $("$DS" collector --health -c "$T/collector.conf")"
grep -E 'ERROR: AddressSanitizer|runtime error:|LeakSanitizer' "$T/coll.log" && fail "sanitizer report in the collector's log"

# ---- 2. --respond syn (a new spool, and a collector on a fresh store) ----
coll_stop TERM
CONF=$T/collector2.conf
coll_start
ip netns exec $NA tcpdump -i vA -Q in -nn -w "$T/answers.pcap" ip 2>/dev/null &
TD=$!; PIDS+=($TD)
sleep 1
sensor_start "$T/spool2" --respond syn --drain 5
A curl -s --max-time 3 http://198.51.100.7/ >/dev/null 2>&1 || true
A hping3 -q --udp -p 53 -c 20 -i u10000 198.51.100.8 >/dev/null 2>&1 || true
A hping3 -q -1 -c 20 -i u10000 198.51.100.8 >/dev/null 2>&1 || true
A hping3 -q -R -p 80 -c 20 -i u10000 198.51.100.8 >/dev/null 2>&1 || true
A hping3 -q -A -p 80 -c 20 -i u10000 198.51.100.8 >/dev/null 2>&1 || true
A hping3 -q -S -p 8080 -c 200 -i u1000 198.51.100.9 >/dev/null 2>&1 || true   # 200 SYNs in ~0.2 s
sleep 2.5
sensor_stop
coll_stop TERM
kill -INT $TD; wait $TD 2>/dev/null || true
answers=$(pkts "$T/answers.pcap")
other=$(tcpdump -nr "$T/answers.pcap" 'not (tcp and tcp[13] == 0x12)' 2>/dev/null | wc -l)
to8080=$(tcpdump -nr "$T/answers.pcap" 'tcp src port 8080' 2>/dev/null | wc -l)
echo "sensor sent $answers packets to A: $other not SYN-ACK; $to8080 SYN-ACKs for 200 SYNs at 1000/s"
[ "$answers" -ge 1 ] || fail "no SYN-ACK reached A"
[ "$other" -eq 0 ] || { tcpdump -nr "$T/answers.pcap" 'not (tcp and tcp[13] == 0x12)' | head; fail "the sensor sent something else than SYN-ACKs"; }
[ "$to8080" -le 15 ] || fail "per-source rate limit failed: $to8080 SYN-ACKs"
# The payload file goes to POST /v1/payloads; a collector without that endpoint answers 404 and the
# sensor keeps the file in its spool (uploader.c), so look there first, then in the collector's dir.
pay=$(ls "$T"/spool2/pay-*.jsonl 2>/dev/null; find "$T/coll2" -name '*.jsonl' 2>/dev/null)
if [ -z "$pay" ]; then   # taken by the collector: it is in the store
    "$DS" payloads -c "$CONF" --format json -n 0 > "$T/payloads.json" 2>&1 ||
        fail "no payload file in the spool, and \`darkscope payloads\` failed: $(tail -3 "$T/payloads.json")"
    grep -q 'GET / HTTP/1.1' "$T/payloads.json" || fail "the GET line is not in the collector's store: $(head -c 600 "$T/payloads.json")"
    echo "payloads: in the collector's store (POST /v1/payloads): $(grep -c 'GET / HTTP/1.1' "$T/payloads.json") GET line(s)"
    echo "sensor_netns: ok"; exit 0
fi
echo "payload files: $pay"
python3 - $pay <<'PYEOF' || fail "GET line not recorded"
import base64, json, sys
rows = [json.loads(l) for f in sys.argv[1:] for l in open(f)]
got = [base64.b64decode(r["payload_b64"]) for r in rows]
assert any(g.startswith(b"GET / HTTP/1.1\r\n") for g in got), got
assert all(r["dst"] == "198.51.100.7" and r["dport"] == 80 for r in rows), rows
print("recorded first payloads:", [g.split(b"\r\n")[0].decode() for g in got])
PYEOF
echo "sensor_netns: ok"
