#!/usr/bin/env bash
# vertical.sh: `vertical_scan` events (issue #20: nmap aimed at one host made no event).
#  1. A hand-made pcap: one source SYNs 300 ports of one dark address (an event naming it, 300
#     ports, 1 address), a second 150 ports of 8 addresses (too many addresses: none), and 300
#     sources one port each over the /24 (horizontal: none).
#  2. Chris Sanders' nmap SYN scan of scanme.nmap.org (../shared/corpus/realism): one event naming
#     172.16.0.8, attributed to Nmap (skipped without the corpus).
source "$(dirname "$0")/lib.bash"
need python3
write_conf
PYTHONPATH="$ROOT/tests/e2e" python3 - v.pcap <<'PY'
import sys
from synpcap import T0, syn, write_pcap
pk = []
for i in range(300):       # vertical: 300 ports of one address
    pk.append((T0 + 60 + i * 0.05, syn("192.0.2.7", "198.51.100.9", 40000, 1 + i * 3, 1000 + i)))
for i in range(150):       # many ports, but over 8 addresses: not vertical
    pk.append((T0 + 600 + i * 0.05, syn("192.0.2.8", "198.51.100.%d" % (20 + i % 8), 40001, 1000 + i, 7 + i)))
for i in range(300):       # horizontal: 300 sources, one port each
    pk.append((T0 + 3600 + i, syn("10.%d.%d.1" % (i // 200, i % 200), "198.51.100.%d" % (1 + i % 250), 5555, 22, i)))
write_pcap(sys.argv[1], pk)
PY
$DS ingest -q v.pcap
$DS events --from 2023-07-01 --to 2023-07-01 --type vertical_scan --format json > v.json
python3 - v.json <<'PY' || fail "vertical_scan on the hand-made pcap: $(cat v.json)"
import json, sys
ev = json.load(open(sys.argv[1]))
assert len(ev) == 1, ev
e = ev[0]; x = e["evidence"]
val = lambda k: x[k]["value"] if isinstance(x[k], dict) else x[k]
assert e["type"] == "vertical_scan" and e["top_sources"][0]["address"] == "192.0.2.7", e
assert val("ports") == 300 and val("addresses") == 1 and e["packets"] == 300 and val("days") == 1, x
assert e["start"].startswith("2023-07-01T00:01:00") and e["start"] <= e["end"], e
assert "300 ports of 1 dark address," in e["summary"]["en"] and "垂直スキャン" in e["summary"]["ja"], e["summary"]
PY

R=${DS_REALISM:-$ROOT/../shared/corpus/realism}
NMAP=$R/chrissanders_synscan.pcapng
if [ -f "$NMAP" ]; then
    rm -f "$T"/store.db*
    write_conf_sensors UTC scanme=64.13.134.52/32
    export DARKSCOPE_CONFIG=$T/darkscope.conf
    "$DS" ingest -q "$NMAP"
    "$DS" events --from 2010-07-04 --to 2010-07-04 --type vertical_scan --format json > n.json
    python3 - n.json <<'PY' || fail "vertical_scan on the nmap capture: $(cat n.json)"
import json, sys
ev = json.load(open(sys.argv[1]))
assert len(ev) == 1, ev
e = ev[0]; x = e["evidence"]
val = lambda k: x[k]["value"] if isinstance(x[k], dict) else x[k]
assert e["top_sources"][0]["address"] == "172.16.0.8" and e.get("tool") == "nmap", e
assert val("ports") >= 900 and val("addresses") == 1 and e["packets"] == 1994, x
print(e["summary"]["en"]); print(e["summary"]["ja"])
PY
else
    echo "vertical: no realism corpus at $R, the nmap capture is skipped"
fi
echo "vertical: ok"
