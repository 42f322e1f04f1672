# Scan events and payload tools (issue #4 items 2 and 7).  On a synthetic capture whose --truth
# names every planted ZMap/Masscan sweep (each reaches every dark address on one port), each sweep
# is a `scan` event with the right source and service; the planted payload tools (SQL Slammer,
# Nachi, SIPVicious, other SIP scanners) are attributed, and `top --where tool=` finds them.  A
# hand-made pcap checks the start time, the address threshold and the [detect] settings.
source "$(dirname "$0")/lib.bash"
write_conf
$DS synth -q -o a.pcap --days 10 --seed 21 --truth truth.json
$DS ingest -q -j2 a.pcap
$DS events --type scan --format json > scans.json
$DS events --type tool --format json > tools.json
for t in slammer nachi sipvicious sip-other; do
    $DS top sources --where tool=$t --limit 0 --format json > top_$t.json
done
python3 - <<'PY' || fail "scan events or payload tools disagree with the planted truth"
import json, collections
truth = json.load(open("truth.json"))
ev = json.load(open("scans.json"))
assert ev and all(e["type"] == "scan" for e in ev)
# a scanner's sweeps of one service are one event, with their count (issue #20)
keys = collections.Counter((e["top_sources"][0]["address"], e["service"]) for e in ev)
assert max(keys.values()) == 1, keys.most_common(3)
got = {(e["top_sources"][0]["address"], e["service"]): e["evidence"]["sweeps"] for e in ev}
want = collections.Counter()
for s in truth["scanners"]:
    if s["packets"] > 0 and s.get("sweeps"):
        want[(s["src"], "%d/tcp" % s["port"])] += s["sweeps"]
assert want, "the capture has no sweeps"
for k, n in want.items():
    assert got.get(k) == n, (k, got.get(k), n)
    e = [e for e in ev if (e["top_sources"][0]["address"], e["service"]) == k][0]
    assert (n > 1) == ("sweep_interval_median_s" in e["evidence"]), e["evidence"]
    assert e["packets"] == sum(s["packets"] for s in truth["scanners"] if s["src"] == k[0]), e
for e in ev:
    for k in ("type", "start", "end", "service", "country", "sources", "packets", "top_sources", "evidence", "summary"):
        assert k in e, (k, e)
    x = e["evidence"]
    assert x["addresses"]["value"] >= 25 and x["threshold_addresses"] == 25 and x["timeout_s"] == 480, x
    assert e["start"] <= e["end"] and "スキャン" in e["summary"]["ja"]
    assert e["summary"]["en"].startswith("Repeated scans of" if x["sweeps"] > 1 else "Scan of"), e["summary"]
    assert x["addresses"]["value"] <= x["packets"], x
    if (e["top_sources"][0]["address"], e["service"]) in want:   # a planted sweep: every dark address
        assert x["addresses"]["value"] == 512, x
        share = x["share_of_monitored"]
        assert (share["value"] if isinstance(share, dict) else share) == 1, x
        # ZMap and Masscan pick targets at random: the Internet-wide rate, with its interval
        assert x["target_order"]["of"] == "uniformly random", x
        r = x["internet_rate_pps"]["value"]
        assert 0 < x["internet_rate_pps_low"]["value"] < r < x["internet_rate_pps_high"]["value"], x
        assert x["tool"]["of"] in ("zmap", "masscan"), x
        assert "95% interval" in e["summary"]["en"] and "95%信頼区間" in e["summary"]["ja"], e["summary"]
# payload tools: the synth names other SIP scanners by User-Agent; darkscope calls them sip-other
name = {"vaxsip": "sip-other", "sipcli": "sip-other", "sundayddr": "sip-other", "pplsip": "sip-other"}
planted = collections.defaultdict(set)
for p in truth.get("phenomena", []):
    if p["type"] == "tool":
        planted[name.get(p["tool"], p["tool"])] |= set(p["sources"])
tools = json.load(open("tools.json"))
for t in ("slammer", "nachi", "sipvicious", "sip-other"):
    top = {r["key"] for r in json.load(open("top_%s.json" % t))}
    assert top == planted[t], (t, top, planted[t])
    evs = {x["address"] for e in tools if e["tool"] == t for x in e.get("all_sources", e["top_sources"])}
    assert evs == planted[t], (t, evs, planted[t])
PY
# a hand-made capture: one source, 30 SYNs to 30 addresses of 198.51.100.0/24 on 8443/tcp, 2 s apart
python3 - <<'PY'
import struct
out = open("hand.pcap", "wb")
out.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
t0 = 1700000000
for i in range(30):
    ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 40, i, 0, 64, 6, 0, bytes([192, 0, 2, 50]), bytes([198, 51, 100, 10 + i]))
    tcp = struct.pack(">HHIIBBHHH", 40000 + i, 8443, 1000 + i, 0, 0x50, 0x02, 1024, 0, 0)
    frame = b"\x00" * 12 + b"\x08\x00" + ip + tcp
    out.write(struct.pack("<IIII", t0 + 2 * i, 0, len(frame), len(frame)) + frame)
out.close()
PY
mv store.db old.db; rm -f store.db-*
$DS ingest -q hand.pcap
$DS events --type scan --format json | python3 -c '
import json, sys
ev = json.load(sys.stdin)
assert len(ev) == 1, ev
e = ev[0]
assert e["service"] == "8443/tcp" and e["top_sources"][0]["address"] == "192.0.2.50", e
assert e["start"] == "2023-11-14T22:13:20Z" and e["end"] == "2023-11-14T22:14:18Z", e
assert e["evidence"]["addresses"]["value"] == 30 and e["evidence"]["monitored_addresses"] == 256, e
# addresses .10 to .39 in order: a sequential sweep, so no Internet-wide rate (issue #20)
assert e["evidence"]["target_order"]["of"] == "not uniformly random", e
assert "internet_rate_pps" not in e["evidence"] and "ipv4_cover_s" not in e["evidence"], e
assert "no Internet-wide rate" in e["summary"]["en"] and "推定していません" in e["summary"]["ja"], e
' || fail "hand-made scan not found as expected"
# the same 30 SYNs to the same addresses in a shuffled order: extrapolated, with its interval
python3 - <<'PY'
import random, struct
order = list(range(30))
random.Random(7).shuffle(order)
out = open("hand_rand.pcap", "wb")
out.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
t0 = 1700000000
for i, k in enumerate(order):
    ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 40, i, 0, 64, 6, 0, bytes([192, 0, 2, 51]), bytes([198, 51, 100, 10 + k]))
    tcp = struct.pack(">HHIIBBHHH", 40000 + i, 8443, 1000 + i, 0, 0x50, 0x02, 1024, 0, 0)
    frame = b"\x00" * 12 + b"\x08\x00" + ip + tcp
    out.write(struct.pack("<IIII", t0 + 2 * i, 0, len(frame), len(frame)) + frame)
out.close()
PY
$DS ingest -q hand_rand.pcap
$DS events --type scan --format json | python3 -c '
import json, sys
ev = [e for e in json.load(sys.stdin) if e["top_sources"][0]["address"] == "192.0.2.51"]
assert len(ev) == 1, ev
x = ev[0]["evidence"]
assert x["target_order"]["of"] == "uniformly random", x
# 30 probes in 58 s to 256 of 2^32 addresses: 30/58 x 2^24 a second; the Poisson 95% interval of 30 is 20.24 to 42.83
assert abs(x["internet_rate_pps"]["value"] - 30 / 58 * 2**24) < 1e3, x
assert abs(x["internet_rate_pps_low"]["value"] / x["internet_rate_pps"]["value"] - 20.24 / 30) < 0.01, x
assert abs(x["internet_rate_pps_high"]["value"] / x["internet_rate_pps"]["value"] - 42.83 / 30) < 0.01, x
' || fail "random-order hand-made scan not extrapolated as expected"
# 256 SYNs shuffled over the whole /24 in 0.26 s (Masscan told to scan the telescope, as
# tools_netns.sh does): random order, but 4.3 G probes/s Internet-wide is faster than any sender,
# so no Internet-wide rate, and the rejected one is named (issue #20)
python3 - <<'PY'
import random, struct
order = list(range(256))
random.Random(9).shuffle(order)
out = open("hand_fast.pcap", "wb")
out.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
t0 = 1700000000
for i, k in enumerate(order):
    ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 40, i, 0, 64, 6, 0, bytes([192, 0, 2, 52]), bytes([198, 51, 100, k]))
    tcp = struct.pack(">HHIIBBHHH", 40000 + i, 3389, 1000 + i, 0, 0x50, 0x02, 1024, 0, 0)
    frame = b"\x00" * 12 + b"\x08\x00" + ip + tcp
    out.write(struct.pack("<IIII", t0 + 100, i * 1000, len(frame), len(frame)) + frame)
out.close()
PY
$DS ingest -q hand_fast.pcap
$DS events --type scan --format json | python3 -c '
import json, sys
ev = [e for e in json.load(sys.stdin) if e["top_sources"][0]["address"] == "192.0.2.52"]
assert len(ev) == 1, ev
x = ev[0]["evidence"]
assert x["target_order"]["of"] == "uniformly random" and x["addresses"]["value"] == 256, x
assert "internet_rate_pps" not in x and "ipv4_cover_s" not in x, x
assert abs(x["internet_rate_rejected"]["value"] / (256 * 2**24) - 1) < 1e-4, x
' || fail "a scan faster than any sender was extrapolated to the Internet"
# the threshold is configurable: 40 addresses, and the 30-address scan is no longer one
printf '[detect]\nscan_min_addresses = 40\nscan_timeout = 600\n' >> darkscope.conf
rm -f store.db*
$DS ingest -q hand.pcap
[ "$($DS events --type scan --format json)" = "[]" ] || fail "scan_min_addresses not applied"
printf '[detect]\nscan_timeout = soon\n' >> darkscope.conf
set +e; $DS ingest -q hand.pcap 2> err.txt; rc=$?; set -e
[ $rc -ne 0 ] && grep -q "scan_timeout" err.txt || fail "a bad scan_timeout was accepted"
echo "scans: ok"
