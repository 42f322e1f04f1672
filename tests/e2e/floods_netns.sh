#!/usr/bin/env bash
# floods_netns.sh: issue #20's spoofed flood made by hping3 (--rand-source -S -p 25565, 20,000 SYNs
# at 100 us intervals) inside two network namespaces this test creates (A sends over a veth, B
# captures with tcpdump; nothing leaves them), ingested into a /24 darknet: one `flood` event at
# the target and port, with the packets tcpdump saw and sources within 10% of them, and no spike;
# then an ACK flood (-A --rand-source -p 443, 8,000 packets at 198.51.100.20: class "other"), one
# flood event too, its packets all of kind "other".
# Skips (exit 77) when not root, when `ip netns` fails, or when hping3/tcpdump are missing.
source "$(dirname "$0")/lib.bash"
[ "$(id -u)" -eq 0 ] || skip "floods_netns: needs root for network namespaces"
need hping3; need tcpdump; need python3
NA=dsfA$$ NB=dsfB$$
ip netns add $NA 2>/dev/null || skip "floods_netns: ip netns add failed (no CAP_SYS_ADMIN?)"
ip netns add $NB || { ip netns del $NA; skip "floods_netns: ip netns add failed"; }
TCPD=
cleanup() {
    set +e
    [ -n "$TCPD" ] && kill "$TCPD" 2>/dev/null
    wait 2>/dev/null
    ip netns del $NA 2>/dev/null; ip netns del $NB 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT
netns_veth_pair
B tcpdump -i vB -U -w "$T/flood.pcap" 'dst net 198.51.100.0/24' 2> "$T/tcpdump.txt" &
TCPD=$!
sleep 1
A hping3 --rand-source -S -p 25565 -c 20000 -i u100 198.51.100.10 > "$T/hping.txt" 2>&1 || true
sleep 2   # more than nothing for a while: the next flood is another vector anyway (another address)
A hping3 --rand-source -A -p 443 -c 8000 -i u100 198.51.100.20 > "$T/hping-ack.txt" 2>&1 || true
sleep 1
kill "$TCPD"; wait "$TCPD" 2>/dev/null || true; TCPD=
seen=$(tcpdump -nr "$T/flood.pcap" 'tcp[tcpflags] & tcp-syn != 0 and dst host 198.51.100.10' 2>/dev/null | wc -l)
[ "$seen" -ge 5000 ] || fail "tcpdump saw only $seen SYNs: $(cat "$T/hping.txt" | tail -2)"
acks=$(tcpdump -nr "$T/flood.pcap" 'dst host 198.51.100.20' 2>/dev/null | wc -l)
[ "$acks" -ge 2000 ] || fail "tcpdump saw only $acks ACKs: $(tail -2 "$T/hping-ack.txt")"
write_conf_sensors UTC t1=198.51.100.0/24
"$DS" ingest -q -j 2 "$T/flood.pcap"
"$DS" events --format json > ev.json
SEEN=$seen ACKS=$acks python3 - <<'PY' || fail "hping3's flood is not one flood event: $(python3 -c 'import json; [print(e["type"], e["summary"]["en"]) for e in json.load(open("ev.json"))]')"
import json, os
ev = json.load(open("ev.json"))
seen = int(os.environ["SEEN"])
fl = [e for e in ev if e["type"] == "flood" and e["top_sources"][0]["address"] == "198.51.100.10"]
assert len(fl) == 1, len(fl)
f = fl[0]
ack = [e for e in ev if e["type"] == "flood" and e["top_sources"][0]["address"] == "198.51.100.20"]
assert len(ack) == 1 and ack[0]["service"] == "443/tcp", ack
assert ack[0]["packets"] == int(os.environ["ACKS"]), (ack[0]["packets"], os.environ["ACKS"])
assert ack[0]["evidence"]["packets_of_kind"]["of"] == "other", ack[0]["evidence"]
assert len([e for e in ev if e["type"] == "flood"]) == 2, [e["summary"]["en"] for e in ev]
assert f["service"] == "25565/tcp" and f["top_sources"][0]["address"] == "198.51.100.10", f
assert f["packets"] == seen, (f["packets"], seen)
assert abs(f["sources"] - seen) <= 0.1 * seen, (f["sources"], seen)
assert not [e for e in ev if e["type"] in ("spike", "surge", "new_service", "single_source")]
print("flood of %d SYNs from about %d sources, %s" % (f["packets"], f["sources"], f["summary"]["en"][:120]))
PY
echo "floods_netns: ok"
