#!/usr/bin/env bash
# sensor_respond.sh: `darkscope sensor --respond syn` answers only the SYNs a Linux host would
# answer (issue #21), inside two network namespaces made here.
#
# ns A sends crafted Ethernet frames (python3, AF_PACKET) over a veth to the sensor in ns B: one
# valid SYN and one SYN for each thing a real stack drops (bad IPv4 or TCP checksum, TTL 0, port 0,
# SYN+FIN, SYN+RST, the /24's broadcast and network addresses, an Ethernet broadcast frame, a frame
# from a multicast MAC, a multicast or loopback source, a fragment).  Each goes to its own
# destination port.  tcpdump on A's veth must see exactly one answer, a SYN-ACK from the valid
# SYN's port, with good checksums, TTL 64 and IP ID 0; the sensor's stop line must count the
# refusals by reason.
# Skips (exit 77) when not root, when `ip netns` fails, or when a tool is missing.
source "$(dirname "$0")/lib.bash"
[ "$(id -u)" -eq 0 ] || skip "sensor_respond: needs root for network namespaces"
[ -x "$DS" ] || skip "sensor_respond: $DS not built"
need tcpdump; need python3
NA=dsrA$$ NB=dsrB$$
netns_start sensor_respond
AMAC=$(A cat /sys/class/net/vA/address)
BMAC=$(B cat /sys/class/net/vB/address)

ip netns exec $NB "$DS" sensor -i vB --darknet 198.51.100.0/24 --respond syn --name t1 --spool "$T/spool" \
    --rotate 60 2>>"$T/sensor.log" &
SENSOR_PID=$!; PIDS+=($SENSOR_PID)
ip netns exec $NA tcpdump -i vA -Q in -nn -U -w "$T/answers.pcap" ip 2>"$T/tcpdump.log" &
TD=$!; PIDS+=($TD)
sleep 1.5
kill -0 $SENSOR_PID 2>/dev/null || fail "the sensor did not start: $(tail -3 "$T/sensor.log")"

A python3 - "$AMAC" "$BMAC" <<'EOF' || fail "could not send the crafted frames"
import socket, struct, sys
amac, bmac = (bytes.fromhex(m.replace(":", "")) for m in sys.argv[1:3])
def csum(b):
    if len(b) % 2: b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
def frame(dport, src="192.0.2.1", dst="198.51.100.7", sport=40000, flags=0x02, ttl=64, frag=0x4000,
          bad_ip=False, bad_tcp=False, dmac=None, smac=None):
    s, d = socket.inet_aton(src), socket.inet_aton(dst)
    tcp = struct.pack("!HHIIBBHHH", sport, dport, 1000, 0, 6 << 4, flags, 64240, 0, 0) + b"\x02\x04\x05\xb4"
    c = csum(s + d + struct.pack("!BBH", 0, 6, len(tcp)) + tcp) ^ (0x0101 if bad_tcp else 0)
    tcp = tcp[:16] + struct.pack("!H", c) + tcp[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 1, frag, ttl, 6, 0, s, d)
    c = csum(ip) ^ (0x0101 if bad_ip else 0)
    ip = ip[:10] + struct.pack("!H", c) + ip[12:]
    return (dmac or bmac) + (smac or amac) + b"\x08\x00" + ip + tcp
frames = [
    frame(1001),                                       # the valid SYN: the only one answered
    frame(1002, bad_ip=True), frame(1003, bad_tcp=True), frame(1004, ttl=0), frame(1005, sport=0),
    frame(1006, flags=0x03), frame(1007, flags=0x06), frame(1008, dst="198.51.100.255"),
    frame(1009, dst="198.51.100.0"), frame(1010, dmac=b"\xff" * 6), frame(1011, smac=b"\x03\0\0\0\0\x01"),
    frame(1012, src="224.0.0.5"), frame(1013, src="127.0.0.1"), frame(1014, frag=0x2000),
    frame(0, sport=40001),
]
sk = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
sk.bind(("vA", 0))
for f in frames:
    sk.send(f)
EOF
sleep 1.5
kill -TERM $SENSOR_PID
wait $SENSOR_PID || fail "sensor exited with $?: $(tail -5 "$T/sensor.log")"
kill -INT $TD; wait $TD 2>/dev/null || true
python3 - "$T/answers.pcap" <<'EOF' || fail "the sensor's answers (see above)"
import struct, sys
f = open(sys.argv[1], "rb"); g = f.read(24)
magic = struct.unpack("<I", g[:4])[0]
assert magic in (0xa1b2c3d4, 0xa1b23c4d), hex(magic)
def csum(b):
    if len(b) % 2: b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return s
answers = []
while True:
    h = f.read(16)
    if len(h) < 16: break
    _, _, incl, _ = struct.unpack("<IIII", h)
    p = f.read(incl)
    if p[12:14] != b"\x08\x00": continue
    ip = p[14:]; ihl = (ip[0] & 15) * 4; total = struct.unpack("!H", ip[2:4])[0]
    if ip[9] != 6: continue
    t = ip[ihl:total]
    sport, dport = struct.unpack("!HH", t[:4])
    answers.append(sport)
    assert t[13] == 0x12, ("not a SYN-ACK", sport, hex(t[13]))
    assert csum(ip[:ihl]) == 0xffff, "bad IPv4 checksum in the answer"
    assert csum(ip[12:20] + struct.pack("!BBH", 0, 6, len(t)) + t) == 0xffff, "bad TCP checksum in the answer"
    assert ip[8] == 64 and ip[4:6] == b"\0\0", ("TTL, IP ID", ip[8], ip[4:6])
print("SYN-ACKs from ports", answers)
assert answers == [1001], answers
EOF
grep 'responder:' "$T/sensor.log"
grep -q 'refused as a real stack would' "$T/sensor.log" || fail "no responder line in the sensor's log"
for why in "bad IPv4 checksum" "bad TCP checksum" "TTL 0" "port 0" "SYN with RST or FIN" \
           "broadcast or multicast destination" "link-layer broadcast or multicast" "impossible source" "fragment"; do
    grep -q "refused: [0-9]* $why\$" "$T/sensor.log" || fail "no refusal for '$why' in the sensor's log"
done
echo "sensor_respond: ok"
