#!/usr/bin/env bash
# sensor_quiet.sh: a live sensor that goes quiet ships its last packets by the clock, and its quiet
# intervals as segments without packets (issue #21), inside two network namespaces made here.
#
# ns A sends packets over a veth to 198.51.100.0/24; in ns B `darkscope sensor --rotate 2` captures
# and uploads to `darkscope collector` on B's loopback.  Checks:
#  1. after A stops sending, the collector's store counts every packet A sent (tcpdump on A's veth)
#     within rotate + 15 s, while the sensor is still running: a segment is finished when its
#     interval ends by the wall clock, not when the next packet comes;
#  2. the quiet time after them reaches the store as coverage: segments without packets are
#     committed, their spans (X-Darkscope-First-Ns/-Last-Ns, the store's coverage rows, source 2)
#     meet one another and reach the last few seconds, and the collector does not log a warning
#     for each of them;
#  3. the sensor runs with `-c CONF --darknet 198.51.100.0/24 --respond syn`, CONF's [sensor.t1]
#     naming the same prefix: the command-line prefixes replace the configured ones (it used to
#     exit with "lists overlapping darknet prefixes");
#  4. SIGTERM still stops it cleanly.
# Skips (exit 77) when not root, when `ip netns` fails, or when a tool is missing.
source "$(dirname "$0")/lib.bash"
[ "$(id -u)" -eq 0 ] || skip "sensor_quiet: needs root for network namespaces"
[ -x "$DS" ] || skip "sensor_quiet: $DS not built"
need hping3; need tcpdump; need python3; need curl
NA=dsqA$$ NB=dsqB$$
netns_start sensor_quiet

ROTATE=2
N=2000
PORT=19$((RANDOM % 900 + 100))
mkdir -p "$T/coll"
cat > "$T/conf" <<EOC
[store]
path = $T/coll/store.db
[report]
timezone = UTC
[sensor.t1]
darknet = 198.51.100.0/24
EOC
"$DS" token new t1 --tokens "$T/coll/tokens" > "$T/token" || fail "darkscope token new"
ip netns exec $NB "$DS" collector -c "$T/conf" --listen 127.0.0.1:$PORT --tokens "$T/coll/tokens" 2>>"$T/coll.log" &
PIDS+=($!)
for _ in $(seq 50); do B curl -s -o /dev/null "http://127.0.0.1:$PORT/v1/health" && break; sleep 0.1; done
B curl -s -o /dev/null "http://127.0.0.1:$PORT/v1/health" || fail "the collector did not start: $(tail -5 "$T/coll.log")"

# 3: the configuration names the same prefix as --darknet, and --respond syn builds its darknet from them
ip netns exec $NB "$DS" sensor -c "$T/conf" -i vB --darknet 198.51.100.0/24 --respond syn --name t1 --spool "$T/spool" \
    --collector http://127.0.0.1:$PORT --token "$T/token" --rotate $ROTATE --drain 10 2>>"$T/sensor.log" &
SENSOR_PID=$!; PIDS+=($SENSOR_PID)
sleep 1
kill -0 $SENSOR_PID 2>/dev/null || fail "the sensor did not start: $(tail -3 "$T/sensor.log")"
grep -q 'capturing on vB' "$T/sensor.log" || fail "the sensor did not say it captures: $(tail -3 "$T/sensor.log")"

stored() { # every record the collector's store counted for t1
    "$DS" stats -c "$T/conf" --format json 2>/dev/null | python3 -c '
import json, sys
keys = ["packets", "outside", "non_ip", "truncated", "fragments", "malformed", "unknown_link", "bad_timestamp"]
print(sum(r[k] for r in json.load(sys.stdin) if r["sensor"] == "t1" for k in keys))' 2>/dev/null || echo 0
}

# 1: N packets, then silence
A hping3 -q -1 -c 1 192.0.2.2 >/dev/null 2>&1 || fail "the veth pair does not work"   # and ARP is resolved
ip netns exec $NA tcpdump -i vA -Q out -nn -U -w "$T/sent.pcap" 'dst net 198.51.100.0/24' 2>"$T/tcpdump.log" &
TD=$!; PIDS+=($TD)
sleep 1
A hping3 -q --udp -p 53 -c $N -i u300 --rand-dest 198.51.100.x -I vA >/dev/null 2>&1 || true
t0=$(date +%s.%N)
sleep 0.3
kill -INT $TD; wait $TD 2>/dev/null || true
grep -q "^0 packets dropped by kernel" "$T/tcpdump.log" || fail "the ground-truth capture dropped packets"
sent=$(tcpdump -nr "$T/sent.pcap" 2>/dev/null | wc -l)
[ "$sent" -ge $((N * 9 / 10)) ] || fail "A sent only $sent of $N packets"
bar=$((ROTATE + 15))
got=0
while :; do
    got=$(stored)
    el=$(python3 -c "import time; print(f'{time.time() - $t0:.1f}')")
    [ "$got" -ge "$sent" ] && break
    python3 -c "import sys; sys.exit(0 if $el < $bar else 1)" || break
    sleep 0.5
done
echo "A sent $sent packets; the collector's store counts $got of them ${el} s after the last (bar: $bar s)"
[ "$got" -eq "$sent" ] || fail "after ${el} s of silence the store counts $got of $sent packets (bar $bar s)"
kill -0 $SENSOR_PID 2>/dev/null || fail "the sensor is not running any more: $(tail -3 "$T/sensor.log")"

# 2: the quiet intervals that follow reach the store as covered spans without packets
sleep $((ROTATE * 3 + 1))
kill -0 $SENSOR_PID 2>/dev/null || fail "the sensor stopped during the quiet time"
python3 - "$T/coll/store.db" "$(date +%s)" $ROTATE <<'EOF' || fail "coverage of the quiet time: see above"
import sqlite3, sys
db, now, rotate = sqlite3.connect(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
segs = db.execute("SELECT seq, packets, first_ns, last_ns FROM collector_segments WHERE sensor = 't1' ORDER BY seq").fetchall()
empty = [s for s in segs if s[1] == 0]
cov = db.execute("SELECT first_ns, last_ns FROM coverage WHERE source = 2 ORDER BY first_ns").fetchall()
print(f"{len(segs)} segments committed, {len(empty)} without packets; {len(cov)} segment coverage rows")
assert len(empty) >= 3, "quiet intervals were not shipped as segments"
assert all(f > 0 and l >= f for _, _, f, l in segs), "a segment without a capture span"
assert len(cov) == len(segs), (len(cov), len(segs))
gaps = [b[0] - a[1] for a, b in zip(cov, cov[1:])]
assert max(gaps) < 500_000_000, f"the spans do not meet: largest gap {max(gaps) / 1e9:.3f} s"
assert cov[-1][1] / 1e9 > now - 2 * rotate - 2, f"the newest span ends {now - cov[-1][1] / 1e9:.1f} s ago"
for f, l in cov:
    assert l - f <= (rotate + 1) * 10**9, f"a span of {(l - f) / 1e9:.1f} s with --rotate {rotate}"
print(f"spans meet (largest gap {max(gaps) / 1e6:.1f} ms); the newest ends {now - cov[-1][1] / 1e9:.1f} s ago")
EOF
! grep -q 'holds no packets' "$T/coll.log" || fail "the collector warns about each segment without packets"

# 4: a clean stop
kill -TERM $SENSOR_PID
wait $SENSOR_PID || fail "sensor exited with $?: $(tail -5 "$T/sensor.log")"
grep -E 'ERROR: AddressSanitizer|runtime error:|LeakSanitizer' "$T/sensor.log" "$T/coll.log" && fail "sanitizer report"
echo "sensor_quiet: ok"
