#!/usr/bin/env bash
# tunnels.sh: issue #20's tunnels (docs/decoding.md, "Tunnels and encapsulations").
#  1. A real mirrored attack: Suricata-verify's bug-5437 capture, 60 ERSPAN type II (GRE 0x88BE)
#     packets carrying a Mirai variant's JAWS DVR exploit (GET /shell?...wget .../arm) from
#     41.108.52.138 to port 80 of three hosts, and those hosts' answers.  With the three hosts as
#     the darknet, `top ports` shows 80/tcp (28 packets, one source), `top sources` the attacker,
#     and `stats` counts the 28 in gre and erspan; the 32 answers go to no darknet (outside in the
#     '-' row, also counted there in gre and erspan).  A darknet holding only the outer destination
#     gets the 60 GRE packets as 47/ip: GRE aimed at dark space whose inner packets are for no
#     darknet is the darknet's own traffic (a Mirai GRE flood).  -j2 gives the same counts
#     (threads own packets by their inner source).
#  2. Captures of the robustness corpus (tcpdump's and Zeek's test suites) with each tunnel: the
#     inner services and the counters.
source "$(dirname "$0")/lib.bash"
need python3
R=${DS_REALISM:-$ROOT/../shared/corpus/realism}
C=${DS_CORPUS:-$ROOT/../shared/corpus/robustness}
GRE=$R/suricataverify_bug-5437-02_mirai-jaws-gre.pcap
[ -f "$GRE" ] || skip "no realism corpus at $R"

# "sensor key=value ..." per stats row: the counts and the encapsulations that are not 0
stats_rows() {
    "$DS" stats "$@" --format json | python3 -c '
import json, sys
for r in json.load(sys.stdin):
    kv = ["%s=%d" % (k, r[k]) for k in ("packets", "outside", "non_ip", "truncated", "fragments", "malformed") if r[k]]
    kv += ["%s=%d" % (k, v) for k, v in r["encap"].items() if v]
    print(r["sensor"], " ".join(kv))'
}

# ---- 1. the Mirai JAWS exploit in ERSPAN
write_conf_sensors UTC victims=126.203.57.64/32,40.110.35.23/32,196.25.212.207/32 spare=192.0.2.0/24
"$DS" ingest -q "$GRE" 2>/dev/null
ports=$("$DS" top ports --format json | json_rows)
[ "$ports" = "80/tcp 28 1" ] || fail "top ports: $ports (want 80/tcp, 28 packets, 1 source)"
src=$("$DS" top sources --format json | python3 -c 'import json,sys; print(" ".join("%s:%d" % (r["key"], r["packets"]) for r in json.load(sys.stdin)))')
[ "$src" = "41.108.52.138:28" ] || fail "top sources: $src"
got=$(stats_rows)
want="victims packets=28 gre=28 erspan=28
- outside=32 gre=32 erspan=32"
[ "$got" = "$want" ] || fail "stats: $got (want $want)"
"$DS" stats | grep -q "^victims .* 28 .* 28 " || fail "stats table: no encapsulation row for victims: $("$DS" stats)"
rm -f store.db*
"$DS" ingest -q -j2 "$GRE" 2>/dev/null
[ "$(stats_rows)" = "$want" ] || fail "-j2 stats: $(stats_rows)"
[ "$("$DS" top ports --format json | json_rows)" = "80/tcp 28 1" ] || fail "-j2 top ports"
# the tunnel's endpoint in dark space, its inner packets for no darknet: GRE sent to a dark address
# is the darknet's traffic (a Mirai GRE flood's inner destination is random), counted as it came
# on the wire, 47/ip, not decapsulated
write_conf_sensors UTC collector=0.235.239.74/32
rm -f store.db*
"$DS" ingest -q "$GRE" 2>/dev/null
got=$(stats_rows)
[ "$got" = "collector packets=60" ] || fail "outer destination dark: $got"
[ "$("$DS" top ports --format json | json_rows | cut -d' ' -f1,2)" = "47/ip 60" ] || fail "outer destination dark: $("$DS" top ports)"
echo "mirai-jaws-gre: 80/tcp 28 packets from 41.108.52.138, gre/erspan counted"

# ---- 2. the robustness corpus (IPv4 and IPv6 everywhere dark)
[ -d "$C" ] || { echo "no robustness corpus at $C: part 2 skipped"; exit 0; }
write_conf_sensors UTC all4=0.0.0.0/0 all6=::/0
check() { # file "top ports of the file" "encapsulations (summed over rows)"
    local f=$C/$1
    [ -f "$f" ] || { echo "  $1: absent, skipped"; return 0; }
    rm -f store.db*
    "$DS" ingest -q "$f" 2>/dev/null
    local p e
    p=$({ "$DS" top ports --format json 2>/dev/null || echo '[]'; } | python3 -c 'import json,sys; print(" ".join("%s:%d" % (r["key"], r["packets"]) for r in json.load(sys.stdin)))')
    e=$("$DS" stats --format json | python3 -c '
import json, sys
t = {}
for r in json.load(sys.stdin):
    for k, v in r["encap"].items(): t[k] = t.get(k, 0) + v
print(" ".join("%s=%d" % (k, v) for k, v in t.items() if v))')
    [ "$p" = "$2" ] || fail "$1: top ports $p (want $2)"
    [ "$e" = "$3" ] || fail "$1: encapsulations $e (want $3)"
    echo "  $1: $p; $e"
}
check tcpdump/erspan-type-ii-2.pcap "1985/udp:16" "gre=16 erspan=16"
check tcpdump/erspan-type-iii-ft-0.pcap "8/icmp:9" "vlan=9 gre=9 erspan=9"
check tcpdump/erspan-type-iii-ft-7.pcap "" "gre=58 erspan=58"                      # frame type 7: non-IP
check tcpdump/erspan-type-i-1.pcap "0/icmp:1 8/icmp:1" "vlan=2 gre=2 erspan=2"
check tcpdump/vxlan.pcap "0/icmp:4 8/icmp:4 4789/udp:2" "vxlan=8"                  # 2 carry ARP
check tcpdump/vxlan_port_8472.pcap "8472/udp:10" ""                                 # not the IANA port
check tcpdump/geneve.pcap "22/tcp:17 51225/tcp:16 0/icmp:3 8/icmp:3" "geneve=39"
check tcpdump/wccp_redirect_gre.pcap "47/ip:1" ""                                   # WCCP: not decapsulated
check zeek/tunnels__gre-within-gre.pcap "0/icmp:312 8/icmp:312 520/udp:4" "gre=628"
check zeek/tunnels__vxlan-triple-v2.pcap "53/udp:1" "vxlan=1"
check zeek/tunnels__geneve-vxlan-dns-truncated.pcap "53/udp:1 36872/udp:1" "vxlan=2 geneve=2"
check zeek/tunnels__6in4.pcap "13000/udp:1" "ipip=1"
check zeek/tunnels__4in6.pcap "80/tcp:1" "ipip=1"
check zeek/tunnels__ping6-in-ipv4.pcap "128/icmp6:5 129/icmp6:5" "ipip=10"
check zeek/tunnels__gre-pptp.pcap "47/ip:2" "vlan=2 ipip=2"                        # PPTP (GRE v1) inside IP in IP
check zeek/mpls-in-vlan.pcap "80/tcp:2 32828/tcp:1" "vlan=3 mpls=2"
check tcpdump/pppoes.pcap "" "pppoe=2"
echo "tunnels: ok"
